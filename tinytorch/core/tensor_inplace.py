"""In-place tensor methods (``add_``, ``mul_``, ``zero_``, ``clamp_``, ``normal_`` ...), as
PyTorch: the trailing underscore means "change this tensor, return it".

Two cases, both with PyTorch's rules:

* **No graph is being recorded** (under ``tt.no_grad()``, or nothing involved requires grad):
  the new values are written into the tensor's memory, so every view of it (``p.data``,
  ``p.detach()``, a slice) sees them, and the write is counted (``t._version``): a node that
  saved these values for backward now refuses to use them (an error naming the op, at
  ``backward()``), instead of silently computing a wrong gradient.
* **A graph is being recorded** and the tensor is part of it: a leaf that requires grad (a
  weight) may not be changed (PyTorch's rule: update weights under ``tt.no_grad()``). Any
  other tensor takes the result in its memory and the op's node as its ``grad_fn``; the op
  itself works on a copy of the old values, and the write is counted as above, so a node that
  saved the old values (``y = x.exp(); y.add_(1)``: exp saved y) raises at ``backward()``.

Each method is a small function of the tensor; ``tensor.py`` binds them as methods.
"""

from __future__ import annotations

import weakref

import numpy as np

from tinytorch.core import autograd as _autograd
from tinytorch.core import tensor_ops as ops

__all__ = ["inplace", "add_", "sub_", "mul_", "div_", "pow_", "neg_", "abs_", "exp_", "log_",
           "sqrt_", "clamp_", "clamp_min_", "clamp_max_", "zero_", "fill_", "copy_", "normal_",
           "uniform_", "relu_", "sigmoid_", "tanh_", "addcmul_", "addcdiv_", "lerp_",
           "masked_fill_", "version"]


def _Tensor():
    return _autograd._tensor_class()


def version(t) -> int:
    """``t._version``: how many in-place writes the tensor's memory has had."""
    return _autograd.version_of(t._data)


def inplace(self, compute, op: str, *others):
    """Make ``self`` hold ``compute(self)``, in place, with PyTorch's autograd rules.

    ``compute`` builds the new value out of place from the tensor it is given (a Tensor of
    ``self``'s shape). ``others`` are the other operands, only to see whether they need grad.
    """
    Tensor = _Tensor()
    recording = _autograd.is_grad_enabled() and (
        self.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in others))
    if recording:
        view = getattr(self, "_view_base", None)
        if view is not None and np.may_share_memory(self._data, view[0]._data):
            return _inplace_view(self, view, compute, op)
        if self.requires_grad and self.grad_fn is None:
            raise RuntimeError(
                f"{op}: a leaf tensor that requires grad (a weight) cannot be changed in place "
                "while gradients are recorded; do it under tt.no_grad() (p.data works too)")
        # the op's input is a private copy of the old values (what it saves stays valid); the
        # tensor then takes the result in its own memory (views see it) and the op's grad_fn
        old = Tensor._wrap(self._data.copy(), self.grad_fn)
        old.requires_grad = self.requires_grad
        res = compute(old)
        _check_result(self, res, op)
        _write(self, res, op)
        self.grad_fn, self.requires_grad = res.grad_fn, res.requires_grad
        if "_views" in self.__dict__:
            _refresh_views(self)
        return self
    with _autograd.no_grad():
        res = compute(self)
    _check_result(self, res, op)
    _write(self, res, op)
    return self


def register_view(base, view, index) -> None:
    """Remember that ``view`` is ``base[index]`` (a basic index, sharing memory).

    An in-place write into the view is then recorded on ``base`` (:func:`_inplace_view`), and
    one into ``base`` gives the view a new grad_fn (:func:`_refresh_views`), as PyTorch does.
    """
    _register(base, view, lambda b: ops.GetItem.apply(b, index),
              lambda b, r: b.__setitem__(index, r))


def register_whole_view(base, view, make, unmake) -> None:
    """Remember that ``view`` is ``make(base)`` (reshape, permute), when it shares memory:
    a view of every element, so a write into it is ``base.copy_(unmake(new view values))``."""
    if not _autograd._grad_enabled or view._data.base is None:
        return
    if base.grad_fn is None:  # a weight's w.T (every Linear): only refuse writes, cheaply
        view._view_base = (base, None, None)
    elif np.may_share_memory(view._data, base._data):
        _register(base, view, make, lambda b, r: b.copy_(unmake(r)))


def _register(base, view, make, put) -> None:
    view._view_base = (base, make, put)
    if base.requires_grad and base.grad_fn is not None:  # a leaf's views only need the
        # base (to refuse writes, _inplace_view): it never takes a new grad_fn in place
        views = base.__dict__.setdefault("_views", [])
        views.append(weakref.ref(view))
        if len(views) >= base.__dict__.get("_views_cap", 16):
            # drop the views that are gone (loops index one tensor often); the cap doubles
            # with the live ones, so a forward that keeps many views alive stays linear
            views[:] = [r for r in views if r() is not None]
            base._views_cap = max(16, 2 * len(views))


def _refresh_views(base) -> None:
    """After ``base`` took a new grad_fn from an in-place write, so do its live views: their
    values changed with it, and a gradient through the old grad_fn would be silently wrong."""
    for ref in base.__dict__.get("_views", ()):
        v = ref()
        if v is None or v is base:
            continue
        vb = v.__dict__.get("_view_base")
        if vb is None or vb[0] is not base or not np.may_share_memory(v._data, base._data):
            continue
        new = vb[1](base)
        v.grad_fn, v.requires_grad = new.grad_fn, new.requires_grad
        _refresh_views(v)


def _inplace_view(self, view, compute, op):
    """An in-place op on ``self``, a view ``base[index]`` (basic index) of a recorded tensor.

    The write changes ``base``, so it is recorded on ``base``, as PyTorch: ``base[index] =
    compute(old view)`` (IndexPut: ``base`` takes its grad_fn), and ``self`` becomes
    ``base[index]`` of the new ``base``. Recording it on ``self`` alone would leave ``base``
    with the old grad_fn over new values: a silently wrong gradient.
    """
    Tensor = _Tensor()
    base, make, put = view
    if base.requires_grad and base.grad_fn is None:
        raise RuntimeError(
            f"{op}: a view of a leaf tensor that requires grad (a weight) cannot be changed in "
            "place while gradients are recorded; do it under tt.no_grad()")
    old = Tensor._wrap(self._data.copy(), self.grad_fn)
    old.requires_grad = self.requires_grad
    res = compute(old)
    _check_result(self, res, op)
    put(base, res)  # recorded on base (and on its own base, if base is a view too)
    new = make(base)
    self.grad_fn, self.requires_grad = new.grad_fn, new.requires_grad
    return self


def _write(self, res, op):
    """Store ``res``'s values in ``self``'s memory and count the write."""
    try:
        np.copyto(self._data, res._data, casting="same_kind")
    except TypeError:
        raise TypeError(f"{op}: the result has dtype {res._data.dtype}, which cannot be stored in "
                        f"this {self._data.dtype} tensor in place; convert first "
                        f"(t = t.float()) or use the out-of-place form") from None
    except ValueError as e:  # read-only memory: an expand()ed view
        raise RuntimeError(f"{op}: cannot write into this tensor in place ({e}); it is a "
                           "broadcast view (expand); .clone() it first") from None
    _autograd.note_inplace(self._data, op)


def _check_result(self, res, op):
    if res._data.shape != self._data.shape:
        raise RuntimeError(f"{op}: output with shape {list(self._data.shape)} doesn't match the "
                           f"broadcast shape {list(res._data.shape)}: an in-place op cannot "
                           "change the tensor's shape; use the out-of-place form")


def _as_operand(x):
    return x if isinstance(x, _Tensor()) or np.isscalar(x) else _Tensor()(x)


def _scaled(other, alpha):
    return other if alpha == 1 else other * alpha


def add_(self, other, *, alpha=1):
    """self += alpha * other."""
    other = _as_operand(other)
    return inplace(self, lambda t: t + _scaled(other, alpha), "add_", other)


def sub_(self, other, *, alpha=1):
    """self -= alpha * other."""
    other = _as_operand(other)
    return inplace(self, lambda t: t - _scaled(other, alpha), "sub_", other)


def mul_(self, other):
    other = _as_operand(other)
    return inplace(self, lambda t: t * other, "mul_", other)


def div_(self, other, *, rounding_mode=None):
    other = _as_operand(other)
    return inplace(self, lambda t: t.div(other, rounding_mode=rounding_mode), "div_", other)


def pow_(self, exponent):
    exponent = _as_operand(exponent)
    return inplace(self, lambda t: t ** exponent, "pow_", exponent)


def neg_(self):
    return inplace(self, lambda t: -t, "neg_")


def abs_(self):
    return inplace(self, lambda t: t.abs(), "abs_")


def exp_(self):
    return inplace(self, lambda t: t.exp(), "exp_")


def log_(self):
    return inplace(self, lambda t: t.log(), "log_")


def sqrt_(self):
    return inplace(self, lambda t: t.sqrt(), "sqrt_")


def relu_(self):
    return inplace(self, lambda t: t.relu(), "relu_")


def sigmoid_(self):
    return inplace(self, lambda t: t.sigmoid(), "sigmoid_")


def tanh_(self):
    return inplace(self, lambda t: t.tanh(), "tanh_")


def clamp_(self, min=None, max=None):
    return inplace(self, lambda t: t.clamp(min, max), "clamp_", min, max)


def clamp_min_(self, min):
    return inplace(self, lambda t: t.clamp(min, None), "clamp_min_", min)


def clamp_max_(self, max):
    return inplace(self, lambda t: t.clamp(None, max), "clamp_max_", max)


def addcmul_(self, tensor1, tensor2, *, value=1):
    """self += value * tensor1 * tensor2 (hand-written Adam steps use it)."""
    return inplace(self, lambda t: t + value * tensor1 * tensor2, "addcmul_", tensor1, tensor2)


def addcdiv_(self, tensor1, tensor2, *, value=1):
    """self += value * tensor1 / tensor2."""
    return inplace(self, lambda t: t + value * tensor1 / tensor2, "addcdiv_", tensor1, tensor2)


def lerp_(self, end, weight):
    """self += weight * (end - self): the exponential moving average of weights."""
    end = _as_operand(end)
    return inplace(self, lambda t: t + weight * (end - t), "lerp_", end, weight)


def masked_fill_(self, mask, value):
    return inplace(self, lambda t: t.masked_fill(mask, value), "masked_fill_", value)


def _constant(self, values, op):
    """Overwrite with values that do not depend on the old ones (fill, copy, random)."""
    Tensor = _Tensor()
    values = values if isinstance(values, Tensor) else Tensor._wrap(np.asarray(values), None)

    def compute(t):
        if t.requires_grad or values.requires_grad:
            # recorded: the old values get a zero gradient, ``values`` the incoming one
            keep = np.ones(t._data.shape, dtype=bool)
            out = ops.Where.apply(keep, values, t)
            return out if out._data.dtype == t._data.dtype else out.to(t._data.dtype)
        out = np.broadcast_to(values._data, t._data.shape).astype(t._data.dtype)
        return Tensor._wrap(out, None)

    return inplace(self, compute, op, values)


def zero_(self):
    return _constant(self, np.zeros((), self._data.dtype), "zero_")


def fill_(self, value):
    if isinstance(value, _Tensor()) and value._data.ndim != 0:
        raise RuntimeError(f"fill_: only supports a 0-dim value tensor, got shape "
                           f"{tuple(value._data.shape)}")
    return _constant(self, value if isinstance(value, _Tensor())
                     else np.asarray(value).astype(self._data.dtype, copy=False), "fill_")


def copy_(self, src, non_blocking: bool = False):
    """Copy ``src`` (a Tensor or array that broadcasts to this shape) into this tensor."""
    Tensor = _Tensor()
    src = src if isinstance(src, Tensor) else Tensor._wrap(np.asarray(src), None)
    try:
        np.broadcast_shapes(src._data.shape, self._data.shape)
    except ValueError:
        raise RuntimeError(f"copy_: source shape {tuple(src._data.shape)} does not broadcast to "
                           f"{tuple(self._data.shape)}") from None
    return _constant(self, src, "copy_")


def _rng(generator):
    from tinytorch.core.creation import default_generator  # creation imports tensor.py

    return (generator or default_generator).rng


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    values = _rng(generator).normal(mean, std, self._data.shape)
    return _constant(self, values.astype(self._data.dtype), "normal_")


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    values = _rng(generator).uniform(a, b, self._data.shape)
    return _constant(self, values.astype(self._data.dtype), "uniform_")
