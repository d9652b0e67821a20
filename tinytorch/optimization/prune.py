"""Module 16 -- pruning with masks: ``tt.nn.utils.prune``, PyTorch's API and mechanism.

Pruning a weight does not delete numbers from it; it *reparameterizes* it. After
``prune.l1_unstructured(fc, "weight", amount=0.5)`` the layer holds

* ``fc.weight_orig`` -- a Parameter, the original weight (this is what the optimizer trains);
* ``fc.weight_mask`` -- a buffer of 0s and 1s, same shape (saved in ``state_dict``);
* ``fc.weight``      -- a plain Tensor ``weight_orig * weight_mask``, recomputed by a forward
  pre-hook before every call, so the pruned entries stay zero however long you keep training,
  and the gradient reaching ``weight_orig`` is zero where the mask is zero.

Pruning again composes with the mask already there (PyTorch's ``PruningContainer``): a second
``amount=0.5`` removes half of the *remaining* entries (unstructured) or channels
(structured), so 0.5 then 0.5 leaves a quarter. ``prune.remove(fc, "weight")`` makes the
pruning permanent: ``weight`` becomes a Parameter again holding the masked values, and
``weight_orig``/``weight_mask`` and the hook go away.

``amount``: a float in [0, 1] is a fraction, rounded with Python's ``round`` (half to even,
as PyTorch); an int is a count. On ties in magnitude the lowest flat index is pruned first
(PyTorch leaves the order of ties to its top-k kernel; our choice is reproducible).

Masks are computed on NumPy arrays (importance scores, no gradient); only ``weight = orig *
mask`` is a recorded op, so autograd carries the mask into the gradient for free.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np

from tinytorch.core.module import Module, Parameter
from tinytorch.core.tensor import Tensor

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured",
           "L1Unstructured", "RandomStructured", "LnStructured", "CustomFromMask", "identity",
           "random_unstructured", "l1_unstructured", "random_structured", "ln_structured",
           "global_unstructured", "custom_from_mask", "remove", "is_pruned"]


def _array(t) -> np.ndarray:
    return t._data if isinstance(t, Tensor) else np.asarray(t)


def _pre_hooks(module) -> dict:
    """The module's forward pre-hooks, ``{id: (hook, with_kwargs)}`` (empty if none)."""
    return module.__dict__.get("_forward_pre_hooks", {})


def _rand(shape) -> np.ndarray:
    from tinytorch.core.creation import _rng  # tinytorch's default generator (tt.manual_seed)

    return _rng(None).random(shape)


# --------------------------------------------------------------------------- amount checks


def _validate_pruning_amount_init(amount) -> None:
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount!r}. Must be int (a count) or float "
                        "(a fraction in [0, 1]).")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a "
                         "non-negative integer")


def _compute_nparams_toprune(amount, tensor_size: int) -> int:
    """How many entries (or channels) to prune: an int is a count, a float a fraction."""
    if isinstance(amount, numbers.Integral):
        return int(amount)
    return round(amount * tensor_size)  # Python's round: half to even, as PyTorch


def _validate_pruning_amount(nparams_toprune: int, tensor_size: int) -> None:
    if nparams_toprune > tensor_size:
        raise ValueError(f"amount={nparams_toprune} should be smaller than the number of "
                         f"parameters to prune={tensor_size}")


def _validate_structured(t: np.ndarray, dim: int) -> int:
    if t.ndim <= 1:
        raise ValueError("Structured pruning can only be applied to multidimensional tensors. "
                         f"Found tensor of shape {t.shape} with {t.ndim} dims")
    if not -t.ndim <= dim < t.ndim:
        raise IndexError(f"Invalid index {dim} for tensor of size {t.shape}")
    return dim % t.ndim


# --------------------------------------------------------------------------- the methods


class BasePruningMethod:
    """A pruning rule: ``compute_mask`` says which entries survive; the rest is shared.

    An instance is also the forward pre-hook that re-applies its mask: ``method(module,
    inputs)`` sets ``module.<name> = <name>_orig * <name>_mask`` before every forward.
    Subclasses set ``PRUNING_TYPE`` ("unstructured", "structured" or "global") and define
    ``_mask(t, default_mask)`` on NumPy arrays.
    """

    PRUNING_TYPE = "unstructured"
    _tensor_name: str | None = None

    def __call__(self, module, inputs):
        """The forward pre-hook: recompute the pruned weight from the trained original."""
        # BEGIN SOLUTION
        setattr(module, self._tensor_name, self.apply_mask(module))
        # END SOLUTION

    def _mask(self, t: np.ndarray, default_mask: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define _mask(t, default_mask)")

    def compute_mask(self, t, default_mask) -> Tensor:
        """The mask for importance scores ``t`` on top of ``default_mask`` (Tensors or arrays,
        same shape); a Tensor of 0s and 1s in ``t``'s dtype."""
        t, default_mask = _array(t), _array(default_mask)
        return Tensor(self._mask(t, default_mask).astype(default_mask.dtype))

    def apply_mask(self, module) -> Tensor:
        """``<name>_orig * <name>_mask``: a recorded product, so the gradient reaching
        ``<name>_orig`` is the upstream gradient times the mask."""
        if self._tensor_name is None:
            raise RuntimeError(f"Module {type(module).__name__} has to be pruned first")
        mask = getattr(module, self._tensor_name + "_mask")
        orig = getattr(module, self._tensor_name + "_orig")
        # BEGIN SOLUTION
        return orig * mask
        # END SOLUTION

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with this method (on top of any pruning already there)."""
        method = cls(*args, **kwargs)
        method._tensor_name = name
        old, old_key = None, None
        for k, (hook, _) in list(_pre_hooks(module).items()):
            if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
                old, old_key = hook, k
        if old is not None:  # pruned before: compose, as PyTorch's PruningContainer does
            del _pre_hooks(module)[old_key]
            if isinstance(old, PruningContainer):
                old.add_pruning_method(method)
                method = old
            else:
                container = PruningContainer(old)
                container.add_pruning_method(method)
                method = container

        orig = getattr(module, name)
        if orig is None:
            raise ValueError(f"cannot prune {name!r} of {type(module).__name__}: it is None")
        scores = _array(orig) if importance_scores is None else _array(importance_scores)
        if scores.shape != tuple(orig.shape):
            raise ValueError(f"importance_scores should have the same shape as parameter {name} "
                             f"of {type(module).__name__}, got {scores.shape} vs "
                             f"{tuple(orig.shape)}")
        first = not isinstance(method, PruningContainer)
        if first:  # move the Parameter to <name>_orig; <name> becomes a computed Tensor
            if not isinstance(orig, Parameter):
                raise TypeError(f"{name!r} of {type(module).__name__} is not a Parameter "
                                f"(got {type(orig).__name__}); only parameters can be pruned")
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = np.ones(orig.shape, dtype=orig._data.dtype)
        else:
            default_mask = getattr(module, name + "_mask")._data.copy()
        try:
            mask = method._mask(scores, default_mask).astype(default_mask.dtype)
            if (name + "_mask") in module._buffers:
                module._buffers[name + "_mask"] = Tensor(mask)
            else:
                module.register_buffer(name + "_mask", Tensor(mask))
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if first:  # roll back: the layer is as it was
                module.__dict__.pop(name, None)
                module._buffers.pop(name + "_mask", None)
                module.register_parameter(name, module._parameters.pop(name + "_orig"))
            raise
        return method

    def prune(self, t, default_mask=None, importance_scores=None) -> Tensor:
        """``t * mask``: the pruned version of a tensor, without touching any module."""
        arr = _array(t)
        scores = arr if importance_scores is None else _array(importance_scores)
        default = np.ones_like(arr) if default_mask is None else _array(default_mask)
        return Tensor(arr * self._mask(scores, default).astype(arr.dtype))

    def remove(self, module) -> None:
        """Make the pruning permanent: ``<name>`` is a Parameter again, holding the masked
        values; ``<name>_orig``, ``<name>_mask`` go away (the hook is removed by the caller)."""
        name = self._tensor_name
        if name is None:
            raise RuntimeError(f"Module {type(module).__name__} has to be pruned before pruning "
                               "can be removed")
        weight = self.apply_mask(module)
        module.__dict__.pop(name, None)
        orig = module._parameters[name + "_orig"]
        orig._data = weight._data  # the same Parameter object: optimizers keep tracking it
        del module._parameters[name + "_orig"]
        del module._buffers[name + "_mask"]
        setattr(module, name, orig)


class PruningContainer(BasePruningMethod):
    """Pruning methods applied in turn to one tensor; the newest acts on what survived.

    Unstructured: the new method sees only the entries still 1 in the mask (so ``amount`` is
    a fraction of the remaining ones). Structured: only the channels not already all zero.
    Global (``CustomFromMask``): the whole tensor.
    """

    def __init__(self, *methods):
        self._pruning_methods: tuple = ()
        if len(methods) == 1:
            self._tensor_name = methods[0]._tensor_name
        for m in methods:
            self.add_pruning_method(m)

    def add_pruning_method(self, method) -> None:
        if not isinstance(method, BasePruningMethod):
            raise TypeError(f"{type(method).__name__} is not a BasePruningMethod subclass")
        if self._tensor_name is not None and method._tensor_name != self._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named "
                             f"{self._tensor_name!r} to this PruningContainer; found "
                             f"{method._tensor_name!r}")
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def _mask(self, t, default_mask):
        method = self._pruning_methods[-1]
        new_mask = default_mask.astype(t.dtype, copy=True)
        if method.PRUNING_TYPE == "unstructured":
            slc = default_mask == 1  # only the entries still alive
        elif method.PRUNING_TYPE == "structured":
            dim = _validate_structured(t, method.dim)
            others = tuple(d for d in range(t.ndim) if d != dim)
            keep = default_mask.sum(axis=others) != 0  # channels not already pruned away
            slc = tuple(keep if d == dim else slice(None) for d in range(t.ndim))
        elif method.PRUNING_TYPE == "global":
            slc = tuple(slice(None) for _ in range(t.ndim))
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE!r}")
        new_mask[slc] = method._mask(t[slc], default_mask[slc])
        return new_mask


class Identity(BasePruningMethod):
    """Prunes nothing: installs the reparameterization with a mask of ones."""

    def _mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


class RandomUnstructured(BasePruningMethod):
    """Prune ``amount`` entries chosen uniformly at random (tinytorch's generator)."""

    def __init__(self, amount):
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def _mask(self, t, default_mask):
        k = _compute_nparams_toprune(self.amount, t.size)
        _validate_pruning_amount(k, t.size)
        mask = default_mask.copy()
        if k:
            # the k largest of uniform draws are a uniform random subset of size k
            drop = np.argsort(-_rand(t.shape).reshape(-1), kind="stable")[:k]
            mask.reshape(-1)[drop] = 0
        return mask

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Prune the ``amount`` entries of smallest absolute value (magnitude pruning)."""

    def __init__(self, amount):
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def _mask(self, t, default_mask):
        k = _compute_nparams_toprune(self.amount, t.size)
        _validate_pruning_amount(k, t.size)
        mask = default_mask.copy()
        # BEGIN SOLUTION
        if k:
            # flat indices of the k smallest |t| (stable: on ties the lowest index goes first)
            drop = np.argsort(np.abs(t).reshape(-1), kind="stable")[:k]
            mask.reshape(-1)[drop] = 0
        # END SOLUTION
        return mask

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class RandomStructured(BasePruningMethod):
    """Prune ``amount`` whole channels along ``dim``, chosen at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        _validate_pruning_amount_init(amount)
        self.amount, self.dim = amount, dim

    def _mask(self, t, default_mask):
        dim = _validate_structured(t, self.dim)
        n = t.shape[dim]
        k = _compute_nparams_toprune(self.amount, n)
        _validate_pruning_amount(k, n)
        if k == 0:
            return default_mask
        drop = np.argsort(-_rand((n,)), kind="stable")[:k]
        keep = np.ones(n, dtype=bool)
        keep[drop] = False
        shape = [1] * t.ndim
        shape[dim] = n
        return default_mask * keep.reshape(shape).astype(default_mask.dtype)

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prune the ``amount`` channels along ``dim`` of smallest L``n`` norm (``n`` = 1, 2,
    ``float('inf')``, ...), e.g. whole output neurons of a Linear with ``dim=0``."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1):
        _validate_pruning_amount_init(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def _mask(self, t, default_mask):
        dim = _validate_structured(t, self.dim)
        channels = t.shape[dim]
        k = _compute_nparams_toprune(self.amount, channels)
        _validate_pruning_amount(k, channels)
        if k == 0:
            return default_mask
        flat = np.moveaxis(np.abs(t.astype(np.float64)), dim, 0).reshape(channels, -1)
        if self.n == float("inf"):
            norm = flat.max(axis=1)
        elif self.n == float("-inf"):
            norm = flat.min(axis=1)
        elif self.n == 0:
            norm = (flat != 0).sum(axis=1).astype(np.float64)
        else:
            norm = (flat ** self.n).sum(axis=1) ** (1.0 / self.n)
        keep = np.zeros(channels, dtype=bool)
        keep[np.argsort(-norm, kind="stable")[:channels - k]] = True  # the largest norms stay
        shape = [1] * t.ndim
        shape[dim] = channels
        return default_mask * keep.reshape(shape).astype(default_mask.dtype)

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prune with a mask you give (multiplied into any mask already there)."""

    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = _array(mask)

    def _mask(self, t, default_mask):
        if default_mask.shape != self.mask.shape:
            raise ValueError(f"mask of shape {self.mask.shape} does not fit a tensor of shape "
                             f"{default_mask.shape}")
        return default_mask * self.mask.astype(default_mask.dtype)

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


# --------------------------------------------------------------------------- functional API


def identity(module, name):
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    """Prune ``amount`` random entries of ``module.<name>``; returns the module."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Prune the ``amount`` entries of ``module.<name>`` of smallest magnitude."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Prune the ``amount`` channels along ``dim`` of smallest L``n`` norm."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs) -> None:
    """Prune across several tensors at once: the smallest ``amount`` of *all* of them.

    ``parameters``: (module, name) pairs; ``pruning_method``: an unstructured method class
    such as ``prune.L1Unstructured``; ``amount`` and other options as keywords. A layer whose
    weights are small loses more than one whose weights are large -- what per-layer pruning
    with one amount cannot do.
    """
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = list(parameters)
    importance_scores = {} if importance_scores is None else importance_scores
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    scores = np.concatenate([
        _array(importance_scores.get((m, n), getattr(m, n))).reshape(-1) for m, n in parameters])
    default = np.concatenate([
        (_array(getattr(m, n + "_mask")) if hasattr(m, n + "_mask")
         else np.ones(getattr(m, n).shape, dtype=scores.dtype)).reshape(-1)
        for m, n in parameters]).astype(scores.dtype)
    method = pruning_method(**kwargs)
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(f'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f"Found method {pruning_method} of type {method.PRUNING_TYPE}")
    method._tensor_name = "temp"
    container = PruningContainer(method)
    final = container._mask(scores, default)
    start = 0
    for m, n in parameters:
        shape = tuple(getattr(m, n).shape)
        size = int(np.prod(shape, dtype=np.int64))
        custom_from_mask(m, n, mask=final[start:start + size].reshape(shape))
        start += size


def remove(module, name):
    """Make the pruning of ``module.<name>`` permanent and drop its mask and hook."""
    hooks = _pre_hooks(module)
    for k, (hook, _) in list(hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del hooks[k]
            return module
    raise ValueError(f"Parameter {name!r} of module {type(module).__name__} has to be pruned "
                     "before pruning can be removed")


def is_pruned(module: Module) -> bool:
    """True if ``module`` or any of its submodules carries a pruning hook."""
    for _, sub in module.named_modules():
        for hook, _ in _pre_hooks(sub).values():
            if isinstance(hook, BasePruningMethod):
                return True
    return False
