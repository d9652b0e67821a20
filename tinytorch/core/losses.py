"""Module 04 -- losses: one number that says how wrong the model is.

Regression: ``mse_loss`` (squared error) and ``l1_loss`` (absolute error) are plain
compositions of tensor ops: no fusion needed, autograd differentiates them.

Classification needs care, because real logits get large:

* ``cross_entropy`` is fused (log-softmax and negative log-likelihood in one op with one
  backward). Composed from ``softmax`` then ``log`` it would take ``log`` of an underflowed 0
  for a confidently wrong logit (loss ``inf``, gradient ``nan``); fused, it uses
  ``log_softmax(x) = (x - m) - log(sum(exp(x - m)))`` with ``m`` the row max, which never
  overflows, and its gradient is the famous ``softmax(x) - onehot(y)``.
* ``binary_cross_entropy_with_logits`` is fused for the same reason: written on logits ``z`` as
  ``max(z, 0) - z*y + log(1 + exp(-|z|))`` it is finite for any ``z``.
* ``binary_cross_entropy`` on probabilities clamps its logs at -100, as PyTorch does, so a
  probability of exactly 0 or 1 gives a large finite loss and a finite gradient.

Every function matches ``torch.nn.functional`` (names, signatures, defaults, reductions,
``weight``/``ignore_index``/``label_smoothing``/``pos_weight``), and the ``nn`` loss modules at
the end of the file (``nn.CrossEntropyLoss()`` ...) wrap them as PyTorch's do.
"""

from __future__ import annotations

import warnings

import numpy as np

from tinytorch.core.autograd import Function
from tinytorch.core.module import Module
from tinytorch.core.tensor import Tensor

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "MSELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss",
           "BCELoss", "BCEWithLogitsLoss"]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction, name):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _array(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _reduce(x: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return x.mean()
    if reduction == "sum":
        return x.sum()
    return x


def _classes_last(x, t, name):
    """(N, C, d1, ...) logits -> rows (N*d1*..., C); class ids (N, d1, ...) -> (N*d1*...,).

    Also accepts a single sample: input (C,) with a 0-d target. Returns the rows, the flat
    targets and the shape of the per-sample losses (for ``reduction='none'``).
    """
    if x.ndim == 1:
        if t.shape != ():
            raise ValueError(f"{name}: an input of shape {tuple(x.shape)} (C,) is one sample and "
                             f"needs a 0-d target (one class id), got shape {tuple(t.shape)}")
        return x.reshape(1, -1), t.reshape(1), ()
    expected = (x.shape[0],) + tuple(x.shape[2:])
    if t.shape != expected:
        raise ValueError(
            f"{name}: input of shape {tuple(x.shape)} (N, C, ...) needs a target of shape "
            f"{expected}, got {tuple(t.shape)} (one class id per sample and position; an "
            "(N, 1) column of ids becomes (N,) with t.reshape(-1))"
        )
    return _rows(x), t.reshape(-1), expected


def _check_class_ids(t, c, ignore_index, name):
    if t.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class ids, got {t.dtype} "
                        "(for class probabilities pass a float target of the input's shape)")
    bad = (t != ignore_index) & ((t < 0) | (t >= c))
    if bad.any():
        raise IndexError(f"{name}: target {int(t[bad].flat[0])} is out of range for {c} classes "
                         f"(valid ids are 0..{c - 1}, or ignore_index={ignore_index})")


def _class_weight(weight, c, dtype, name):
    if weight is None:
        return np.ones(c, dtype=dtype)
    w = _array(weight)
    if w.shape != (c,):
        raise ValueError(f"{name}: weight must have one entry per class, shape ({c},), "
                         f"got {tuple(w.shape)}")
    return w.astype(dtype, copy=False)


# --------------------------------------------------------------------------- cross-entropy


def _log_softmax_rows(x: np.ndarray) -> np.ndarray:
    """log(softmax(x)) along axis 1, stable for logits of any size.

    Subtracting the row max ``m`` changes nothing mathematically (it cancels between the
    numerator and the sum) but makes the largest exponent ``exp(0) = 1``: no overflow, and the
    sum is at least 1, so its log is finite.
    """
    # BEGIN SOLUTION
    shifted = x - np.max(x, axis=1, keepdims=True)
    shifted -= np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return shifted
    # END SOLUTION


class CrossEntropyFn(Function):
    """Fused softmax cross-entropy on rows of logits ``x`` (M, C).

    ``t`` is (M,) class ids or (M, C) class probabilities, ``w`` (C,) the class weights,
    ``smoothing`` the label smoothing ``eps``. Per row, with ``p = softmax(x)``::

        class ids:      loss = -(1 - eps) w[t] log p[t] - eps/C * sum_c w_c log p_c
        probabilities:  loss = -sum_c a_c log p_c,  a_c = ((1 - eps) t_c + eps/C) w_c

    (class ids are the special case ``a = (1 - eps) w[t] onehot(t) + eps/C w``). Rows whose
    target is ``ignore_index`` count for nothing. ``mean`` divides by the total weight of the
    rows that count, ``sum(w[t])`` (their number when there are no class weights), as PyTorch
    does; for probabilities, by the number of rows.

    Gradient: ``d log p_c / dx_k = [c == k] - p_k`` gives ``dloss/dx = p * sum(a) - a``, for
    plain labels the famous ``softmax(x) - onehot(t)``; soft labels get
    ``dloss/dt_c = -(1 - eps) w_c log p_c``. Class ids never build the dense ``a``: one
    (M, C) array (``log p``) is all the op computes and keeps.
    """

    @staticmethod
    def forward(ctx, x, t, w, smoothing, reduction, ignore_index):
        m, c = x.shape
        a = safe_t = wt = valid = None
        if t.dtype.kind == "f":  # soft labels: every class has a coefficient
            a = ((1 - smoothing) * t + smoothing / c) * w  # (M, C)
            denom = m
        else:
            valid = (t != ignore_index).astype(x.dtype)  # (M,) 1 for the rows that count
            safe_t = np.where(t != ignore_index, t, 0)  # ignored rows point at class 0
            wt = w[safe_t] * valid  # (M,) weight of each row's target, 0 if ignored
            denom = float(wt.sum())
        # BEGIN SOLUTION
        logp = _log_softmax_rows(x)  # (M, C)
        if a is not None:
            per_row = -np.sum(a * logp, axis=1)  # (M,)
        else:
            per_row = -(1 - smoothing) * wt * logp[np.arange(m), safe_t]  # pick the targets
            if smoothing:  # eps/C of every class's weighted log-probability
                per_row -= (smoothing / c) * valid * (logp @ w)
        if reduction == "none":
            out = per_row
        elif reduction == "sum":
            out = np.sum(per_row)
        else:
            with np.errstate(invalid="ignore", divide="ignore"):  # every row ignored: 0/0 = nan
                out = np.sum(per_row) / denom
        # END SOLUTION
        ctx.save_for_backward(logp, a, w, safe_t, wt, valid)
        ctx.smoothing, ctx.reduction, ctx.denom = smoothing, reduction, denom
        return np.asarray(out, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        logp, a, w, safe_t, wt, valid = ctx.saved_tensors
        eps = ctx.smoothing
        gx = np.exp(logp)  # softmax(x); updated in place below (one (M, C) allocation)
        if a is not None:
            gx *= np.sum(a, axis=1, keepdims=True)
            gx -= a
        else:  # the same formula with a = (1 - eps) w[t] onehot(t) + eps/C w, never built
            m, c = logp.shape
            gx *= ((1 - eps) * wt + (eps / c) * w.sum() * valid)[:, None]
            if eps:
                gx -= (eps / c) * valid[:, None] * w
            gx[np.arange(m), safe_t] -= (1 - eps) * wt
        if ctx.reduction == "none":
            scale = grad[:, None]
        elif ctx.reduction == "sum":
            scale = grad
        else:  # every row ignored: PyTorch's gradient is 0 (not 0 * inf = nan)
            scale = grad / ctx.denom if ctx.denom else 0.0 * grad
        gx *= scale
        gt = -(1 - eps) * w * logp * scale if ctx.needs_input_grad[1] else None
        return gx, gt, None, None, None, None
        # END SOLUTION


def cross_entropy(input, target, weight=None, size_average=None, ignore_index: int = -100,
                  reduce=None, reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy between logits and class ids (or class probabilities).

    Shapes (as ``torch.nn.functional.cross_entropy``):
        input: (N, C) logits, (N, C, d1, d2, ...) for a class per position, or (C,).
        target: (N,) / (N, d1, ...) integer class ids in [0, C) (or ``ignore_index``), or
            float class probabilities of the input's shape.
        weight: (C,) a weight per class, or None.
        returns: a scalar, or the per-sample losses (N,) / (N, d1, ...) with ``reduction='none'``.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction, "cross_entropy")
    input = _float_input(input, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if input.ndim == 0:
        raise ValueError("cross_entropy: input needs shape (C,), (N, C) or (N, C, d1, ...), "
                         "got a 0-d tensor")
    t = _array(target)
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    w = _class_weight(weight, c, input._data.dtype, "cross_entropy")
    if t.dtype.kind == "f":  # class probabilities
        if t.shape != input.shape:
            raise ValueError(f"cross_entropy: probability targets must have the input's shape "
                             f"{tuple(input.shape)}, got {tuple(t.shape)}")
        # the target takes the same permute/reshape as the input, as a Tensor, so that soft
        # labels which require grad receive their gradient
        target = target if isinstance(target, Tensor) else Tensor(t)
        rows, t_rows = _rows(input), _rows(target.to(input.dtype))
        out_shape = (input.shape[0],) + tuple(input.shape[2:]) if input.ndim > 1 else ()
    else:
        _check_class_ids(t, c, ignore_index, "cross_entropy")
        rows, t_rows, out_shape = _classes_last(input, t, "cross_entropy")
    out = CrossEntropyFn.apply(rows, t_rows, w, float(label_smoothing), reduction, ignore_index)
    return out.reshape(out_shape) if reduction == "none" else out


def _rows(x: Tensor) -> Tensor:
    """(C,) -> (1, C); (N, C) stays; (N, C, d1, ...) -> (N*d1*..., C) with classes last."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    c = x.shape[1]
    if x.ndim > 2:
        x = x.permute(0, *range(2, x.ndim), 1)
    return x.reshape(-1, c)


# --------------------------------------------------------------------------- negative log-likelihood


def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100,
             reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: ``-input[n, target[n]]`` (times the class weight), reduced.

    ``input`` holds log-probabilities (the output of ``log_softmax``): ``nll_loss(log_softmax(x))``
    equals ``cross_entropy(x)``. Shapes as :func:`cross_entropy` with class ids. ``mean``
    divides by the total weight ``sum(weight[target])`` of the samples not ignored.

    Composed from indexing, so its gradient comes from GetItem: ``-w[t] / denom`` at each
    target position, 0 elsewhere.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction, "nll_loss")
    input = _float_input(input, "nll_loss")
    if input.ndim == 0:
        raise ValueError("nll_loss: input needs shape (C,), (N, C) or (N, C, d1, ...), got ()")
    t = _array(target)
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    _check_class_ids(t, c, ignore_index, "nll_loss")
    w = _class_weight(weight, c, input._data.dtype, "nll_loss")
    rows, t_rows, out_shape = _classes_last(input, t, "nll_loss")
    valid = t_rows != ignore_index
    safe_t = np.where(valid, t_rows, 0)
    coef = w[safe_t] * valid  # (M,): 0 for ignored samples
    # BEGIN SOLUTION
    picked = rows[np.arange(len(safe_t)), safe_t]  # (M,) log-probability of each target
    losses = -picked * Tensor(coef)
    if reduction == "none":
        return losses.reshape(out_shape)
    if reduction == "sum":
        return losses.sum()
    total_weight = float(coef.sum())
    if total_weight == 0.0:  # every sample ignored: nan, as PyTorch (with a zero gradient)
        return losses.sum() + float("nan")
    return losses.sum() / total_weight
    # END SOLUTION


# --------------------------------------------------------------------------- regression


def _warn_broadcast(input, target, name):
    ts = tuple(np.shape(_array(target)))
    if tuple(input.shape) != ts:
        warnings.warn(
            f"{name}: input shape {tuple(input.shape)} and target shape {ts} differ and will "
            "broadcast, which is rarely intended (e.g. (N, 1) vs (N,)); reshape one of them.",
            UserWarning, stacklevel=3,
        )


def _weighted_reduce(loss, weight, reduction, input, name) -> Tensor:
    """Reduce per-element regression losses; with a ``weight`` of the input's shape the
    ``mean`` is the weighted mean ``sum(w * loss) / sum(w)``, as PyTorch's."""
    if weight is None:
        return _reduce(loss, reduction)
    if tuple(np.shape(_array(weight))) != tuple(input.shape):
        raise ValueError(f"{name}: weight of shape {tuple(np.shape(_array(weight)))} must have "
                         f"the input's shape {tuple(input.shape)} (one weight per element)")
    if not isinstance(weight, Tensor):
        weight = Tensor(weight)
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
             weight=None) -> Tensor:
    """Mean squared error: ``mean((input - target)^2)`` (or its sum, or per element).

    Shapes: input and target of the same shape (they broadcast, with a warning);
    ``weight`` (optional) multiplies each squared error before the reduction.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction, "mse_loss")
    input = _float_input(input, "mse_loss")
    _warn_broadcast(input, target, "mse_loss")
    # BEGIN SOLUTION
    diff = input - target
    loss = diff * diff
    # END SOLUTION
    return _weighted_reduce(loss, weight, reduction, input, "mse_loss")


def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
            weight=None) -> Tensor:
    """Mean absolute error: ``mean(|input - target|)``. Its gradient is ``sign(input - target)``
    (0 where they are equal, as PyTorch), so large errors do not dominate as with MSE."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "l1_loss")
    input = _float_input(input, "l1_loss")
    _warn_broadcast(input, target, "l1_loss")
    # BEGIN SOLUTION
    loss = (input - target).abs()
    # END SOLUTION
    return _weighted_reduce(loss, weight, reduction, input, "l1_loss")


# --------------------------------------------------------------------------- binary cross-entropy


class BCEFn(Function):
    """Elementwise ``-(y log p + (1 - y) log(1 - p))`` with both logs clamped at -100.

    The clamp keeps ``p = 0`` or ``1`` finite (log 0 = -inf). The gradient is PyTorch's:
    ``dloss/dp = (p - y) / max(p (1 - p), 1e-12)`` (finite at 0 and 1) and
    ``dloss/dy = log(1 - p) - log(p)``.
    """

    @staticmethod
    def forward(ctx, p, y):
        ctx.save_for_backward(p, y)
        # BEGIN SOLUTION
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped just below
            log_p = np.maximum(np.log(p), -100.0)
            log_1mp = np.maximum(np.log1p(-p), -100.0)
        return (-(y * log_p + (1 - y) * log_1mp)).astype(p.dtype, copy=False)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        p, y = ctx.saved_tensors
        gp = grad * (p - y) / np.maximum(p * (1 - p), 1e-12)
        gy = None
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                gy = grad * (np.log1p(-p) - np.log(p))
        return gp, gy
        # END SOLUTION


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on probabilities ``input`` in [0, 1] against targets in [0, 1].

    Shapes: input and target of the same shape; ``weight`` broadcasts against them.
    For logits, use :func:`binary_cross_entropy_with_logits` (stabler and faster).
    """
    reduction = _legacy_reduction(size_average, reduce, reduction, "binary_cross_entropy")
    input = _float_input(input, "binary_cross_entropy")
    if not isinstance(target, Tensor):
        target = Tensor(target)
    if input.shape != target.shape:
        raise ValueError(
            f"binary_cross_entropy: target of shape {tuple(target.shape)} differs from the input "
            f"shape {tuple(input.shape)}; they must be the same (reshape one of them)"
        )
    d = input._data
    if ((d < 0) | (d > 1)).any():
        raise ValueError("binary_cross_entropy: input must be probabilities in [0, 1]; for logits "
                         "use binary_cross_entropy_with_logits")
    loss = BCEFn.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


class BCEWithLogitsFn(Function):
    """BCE on logits ``z``, fused with the sigmoid so it never overflows.

    With ``softplus(u) = log(1 + exp(u)) = max(u, 0) + log(1 + exp(-|u|))``,
    ``-log sigmoid(z) = softplus(-z)`` and ``-log(1 - sigmoid(z)) = softplus(z)``, so
    ``loss = pw * y * softplus(-z) + (1 - y) * softplus(z)`` (``pw`` = pos_weight, default 1),
    which is ``max(z, 0) - z*y + log(1 + exp(-|z|))`` when ``pw = 1``.
    ``dloss/dz = (1 - y) sigmoid(z) - pw * y * (1 - sigmoid(z))``: ``sigmoid(z) - y`` for pw = 1.
    """

    @staticmethod
    def forward(ctx, z, y, pos_weight):
        ctx.save_for_backward(z, y, pos_weight)
        # BEGIN SOLUTION
        log1p_e = np.log1p(np.exp(-np.abs(z)))  # exp of a non-positive number: no overflow
        softplus_pos = np.maximum(z, 0) + log1p_e  # -log(1 - sigmoid(z))
        if pos_weight is None:
            out = softplus_pos - z * y
        else:
            softplus_neg = np.maximum(-z, 0) + log1p_e  # -log(sigmoid(z))
            out = pos_weight * y * softplus_neg + (1 - y) * softplus_pos
        return out.astype(z.dtype, copy=False)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        z, y, pw = ctx.saved_tensors
        e = np.exp(-np.abs(z))
        s = np.where(z >= 0, 1 / (1 + e), e / (1 + e))  # sigmoid(z), stable
        d = s - y if pw is None else (1 - y) * s - pw * y * (1 - s)
        gy = None
        if ctx.needs_input_grad[1]:
            if pw is None:
                gy = grad * -z
            else:
                log1p_e = np.log1p(e)
                gy = grad * (pw * (np.maximum(-z, 0) + log1p_e) - (np.maximum(z, 0) + log1p_e))
        return grad * d, gy, None
        # END SOLUTION


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction: str = "mean", pos_weight=None) -> Tensor:
    """Sigmoid + binary cross-entropy on logits, fused: stable for logits of any size.

    Shapes: input (logits) and target (in [0, 1]) of the same shape; ``weight`` broadcasts
    against them; ``pos_weight`` (C,) weighs the positive term of each class (the last
    dimension), e.g. ``negatives / positives`` to balance a rare class.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction,
                                  "binary_cross_entropy_with_logits")
    input = _float_input(input, "binary_cross_entropy_with_logits")
    if not isinstance(target, Tensor):
        target = Tensor(target)
    if input.shape != target.shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits: target of shape {tuple(target.shape)} differs "
            f"from the input shape {tuple(input.shape)}; they must be the same"
        )
    pw = None
    if pos_weight is not None:
        pw = np.asarray(_array(pos_weight), dtype=input._data.dtype)
        try:
            np.broadcast_shapes(pw.shape, input.shape)
        except ValueError:
            raise ValueError(
                f"binary_cross_entropy_with_logits: pos_weight of shape {tuple(pw.shape)} does "
                f"not broadcast against the input shape {tuple(input.shape)}; give one weight "
                "per class (the last dimension)"
            ) from None
    loss = BCEWithLogitsFn.apply(input, target, pw)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# --------------------------------------------------------------------------- helpers


def _float_input(input, name) -> Tensor:
    if not isinstance(input, Tensor):
        input = Tensor(input)
    if input._data.dtype.kind != "f":
        raise TypeError(f"{name}: input must be a floating point tensor, got {input.dtype}; "
                        "call .float() first")
    return input


def _legacy_reduction(size_average, reduce, reduction, name) -> str:
    """PyTorch's deprecated ``size_average``/``reduce`` flags, mapped onto ``reduction``."""
    if size_average is not None or reduce is not None:
        warnings.warn(f"{name}: size_average and reduce are deprecated, please use "
                      "reduction='mean'|'sum'|'none' instead.", UserWarning, stacklevel=3)
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
    _check_reduction(reduction, name)
    return reduction


# --------------------------------------------------------------------------- nn modules


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        self.reduction = _legacy_reduction(size_average, reduce, reduction, type(self).__name__)


class _WeightedLoss(_Loss):
    """A loss with a per-class ``weight``, kept as a buffer (saved in state_dict, as PyTorch)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_tensor(weight))


def _as_tensor(x):
    return x if x is None or isinstance(x, Tensor) else Tensor(x)


class MSELoss(_Loss):
    """``nn.MSELoss()(input, target)``: mean squared error; see :func:`mse_loss`."""

    def forward(self, input, target) -> Tensor:
        return mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """``nn.L1Loss()(input, target)``: mean absolute error; see :func:`l1_loss`."""

    def forward(self, input, target) -> Tensor:
        return l1_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """``nn.CrossEntropyLoss()(logits, target)``; see :func:`cross_entropy`."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, size_average, reduce, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], "
                             f"got {label_smoothing}")
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target) -> Tensor:
        return cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                             reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """``nn.NLLLoss()(log_probs, target)``; see :func:`nll_loss`."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target) -> Tensor:
        return nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                        reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """``nn.BCELoss()(probs, target)``; see :func:`binary_cross_entropy`."""

    def forward(self, input, target) -> Tensor:
        return binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """``nn.BCEWithLogitsLoss()(logits, target)``; see :func:`binary_cross_entropy_with_logits`.

    ``weight`` and ``pos_weight`` are buffers (in state_dict when given), as in PyTorch.
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean",
                 pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_tensor(weight))
        self.register_buffer("pos_weight", _as_tensor(pos_weight))

    def forward(self, input, target) -> Tensor:
        return binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                reduction=self.reduction,
                                                pos_weight=self.pos_weight)
