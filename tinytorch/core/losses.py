"""Module 04 -- losses: one number that says how wrong the model is.

``cross_entropy`` is fused (log-softmax and negative log-likelihood in one op with one
backward): composed from separate ops it would be slower and, for confident wrong logits,
would take ``log`` of an underflowed 0. Its gradient is the famous ``softmax(x) - onehot(y)``.
``mse_loss`` and ``l1_loss`` are plain compositions of tensor ops: no fusion needed.
"""

from __future__ import annotations

import warnings

import numpy as np

from tinytorch.core.autograd import Function
from tinytorch.core.tensor import Tensor

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits"]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction, name):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _log_softmax_rows(x):
    shifted = x - np.max(x, axis=1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


class CrossEntropyFn(Function):
    """Cross-entropy on rows of logits ``x`` (M, C) against class ids ``t`` (M,).

    For each row: ``loss = -sum_c a_c log p_c`` where ``p = softmax(x)`` and the coefficients
    ``a`` put weight ``(1 - eps) w[t]`` on the target class and ``eps / C * w_c`` on every
    class (label smoothing ``eps``, class weights ``w``). Then dloss/dx = p * sum(a) - a.
    Rows whose target is ``ignore_index`` contribute nothing; ``mean`` divides by the total
    weight of the rows that count (their number, without class weights), as PyTorch does.
    """

    @staticmethod
    def forward(ctx, x, t, weight, ignore_index, smoothing, reduction, probs):
        # BEGIN SOLUTION
        m, c = x.shape
        logp = _log_softmax_rows(x)
        w = np.ones(c, dtype=x.dtype) if weight is None else weight.astype(x.dtype)
        if probs:  # t holds class probabilities (M, C)
            valid = np.ones(m, dtype=bool)
            a = ((1 - smoothing) * t + smoothing / c) * w
            denom = m
        else:
            valid = t != ignore_index
            safe_t = np.where(valid, t, 0)
            a = np.broadcast_to((smoothing / c) * w, (m, c)).copy()
            a[np.arange(m), safe_t] += (1 - smoothing) * w[safe_t]
            a *= valid[:, None]
            denom = np.sum(w[safe_t] * valid)
        per_row = -np.sum(a * logp, axis=1)
        ctx.save_for_backward(logp, a)
        ctx.reduction, ctx.denom = reduction, denom
        if reduction == "none":
            return per_row.astype(x.dtype, copy=False)
        total = np.sum(per_row)
        if reduction == "sum":
            return np.asarray(total, dtype=x.dtype)
        with np.errstate(invalid="ignore", divide="ignore"):  # every row ignored: 0/0 = nan
            return np.asarray(total / denom, dtype=x.dtype)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        logp, a = ctx.saved_tensors
        d = np.exp(logp) * np.sum(a, axis=1, keepdims=True) - a
        if ctx.reduction == "none":
            d = d * grad[:, None]
        elif ctx.reduction == "sum":
            d = d * grad
        else:
            d = d * (grad / ctx.denom)
        return d, None, None, None, None, None, None
        # END SOLUTION


def cross_entropy(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy between logits and integer class targets (or class probabilities).

    Shapes (as ``torch.nn.functional.cross_entropy``):
        input: (N, C) logits, or (N, C, d1, d2, ...) for per-position classes, or (C,).
        target: (N,) / (N, d1, ...) int class ids in [0, C), or the input's shape of
            probabilities.
        returns: a scalar, or the target's shape with ``reduction='none'``.
    """
    _check_reduction(reduction, "cross_entropy")
    if not isinstance(input, Tensor):
        input = Tensor(input)
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if input.data.dtype.kind != "f":
        raise TypeError(f"cross_entropy: input must hold float logits, got {input.dtype}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    x = input
    if x.ndim == 1:
        x = x.reshape(1, -1)
        t = t.reshape(1, *t.shape[1:]) if t.dtype.kind == "f" else t.reshape(1)
    if x.ndim < 2:
        raise ValueError(f"cross_entropy: input needs shape (N, C), got {tuple(input.shape)}")
    n, c = x.shape[0], x.shape[1]
    probs = t.dtype.kind == "f"
    if probs:
        if t.shape != x.shape:
            raise ValueError(
                f"cross_entropy: probability targets must have the input's shape "
                f"{tuple(input.shape)}, got {tuple(t.shape)}"
            )
    else:
        if t.dtype.kind not in "iu":
            raise TypeError(f"cross_entropy: target must be integer class ids, got {t.dtype}")
        expected = (n,) + x.shape[2:]
        if t.shape != expected:
            raise ValueError(
                f"cross_entropy: input of shape {tuple(input.shape)} (N, C, ...) needs a target "
                f"of shape {expected}, got {tuple(t.shape)}"
            )
        bad = (t != ignore_index) & ((t < 0) | (t >= c))
        if bad.any():
            raise IndexError(
                f"cross_entropy: target {int(t[bad].flat[0])} is out of range for {c} classes "
                f"(valid ids are 0..{c - 1}, or ignore_index={ignore_index})"
            )
    w = None
    if weight is not None:
        w = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
        if w.shape != (c,):
            raise ValueError(f"cross_entropy: weight must have shape ({c},), got {w.shape}")
    # move classes last and flatten positions: (N, C, d...) -> (N*d..., C)
    spatial = x.shape[2:]
    if spatial:
        perm = (0,) + tuple(range(2, x.ndim)) + (1,)
        x = x.permute(*perm)
        if probs:
            t = np.transpose(t, perm)
    rows = x.reshape(-1, c)
    t_rows = t.reshape(-1, c) if probs else t.reshape(-1)
    out = CrossEntropyFn.apply(rows, t_rows, w, ignore_index, float(label_smoothing), reduction, probs)
    if reduction == "none":
        out = out.reshape((n,) + spatial) if input.ndim > 1 else out.reshape(())
    return out


def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` (N, C) at integer ``target`` (N,).

    Composed from indexing, so its gradient comes from GetItem: -1/denom at each target.
    """
    _check_reduction(reduction, "nll_loss")
    if not isinstance(input, Tensor):
        input = Tensor(input)
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if input.ndim != 2 or t.shape != (input.shape[0],):
        raise ValueError(
            f"nll_loss: needs input (N, C) and target (N,), got {tuple(input.shape)} and {t.shape}"
        )
    c = input.shape[1]
    valid = t != ignore_index
    if ((t < 0) | (t >= c))[valid].any():
        raise IndexError(f"nll_loss: target out of range for {c} classes")
    safe_t = np.where(valid, t, 0)
    w = np.ones(c, dtype=input.data.dtype) if weight is None else np.asarray(
        weight.data if isinstance(weight, Tensor) else weight, dtype=input.data.dtype)
    coef = w[safe_t] * valid
    picked = input[np.arange(len(t)), safe_t]
    losses = -picked * Tensor(coef)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / float(coef.sum())


def _reduce(x: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return x.mean()
    if reduction == "sum":
        return x.sum()
    return x


def _warn_broadcast(input, target, name):
    if tuple(input.shape) != tuple(np.shape(target.data if isinstance(target, Tensor) else target)):
        warnings.warn(
            f"{name}: input shape {tuple(input.shape)} and target shape "
            f"{tuple(np.shape(target.data if isinstance(target, Tensor) else target))} differ and "
            "will broadcast, which is rarely intended (e.g. (N, 1) vs (N,)); reshape one of them.",
            UserWarning, stacklevel=3,
        )


def mse_loss(input, target, reduction: str = "mean") -> Tensor:
    """Mean squared error, ``mean((input - target)^2)``."""
    _check_reduction(reduction, "mse_loss")
    if not isinstance(input, Tensor):
        input = Tensor(input)
    _warn_broadcast(input, target, "mse_loss")
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input, target, reduction: str = "mean") -> Tensor:
    """Mean absolute error, ``mean(|input - target|)``."""
    _check_reduction(reduction, "l1_loss")
    if not isinstance(input, Tensor):
        input = Tensor(input)
    _warn_broadcast(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction)


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean") -> Tensor:
    """BCE on probabilities in [0, 1]. Logs are clamped at -100, as PyTorch does, so a
    probability of exactly 0 or 1 gives a large finite loss, not inf."""
    _check_reduction(reduction, "binary_cross_entropy")
    if not isinstance(input, Tensor):
        input = Tensor(input)
    if not isinstance(target, Tensor):
        target = Tensor(target)
    if input.shape != target.shape:
        raise ValueError(
            f"binary_cross_entropy: input {tuple(input.shape)} and target {tuple(target.shape)} "
            "must have the same shape"
        )
    d = input.data
    if ((d < 0) | (d > 1)).any():
        raise ValueError("binary_cross_entropy: input must be probabilities in [0, 1]; for logits "
                         "use binary_cross_entropy_with_logits")
    log_p = input.log().clip(min=-100.0)
    log_1mp = (1 - input).log().clip(min=-100.0)
    loss = -(target * log_p + (1 - target) * log_1mp)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


class BCEWithLogitsFn(Function):
    """BCE on logits z: loss = max(z, 0) - z*y + log(1 + exp(-|z|)), never overflows;
    d/dz = sigmoid(z) - y (times pos_weight terms when given)."""

    @staticmethod
    def forward(ctx, z, y, pos_weight):
        # BEGIN SOLUTION
        log1p_e = np.log1p(np.exp(-np.abs(z)))
        if pos_weight is None:
            out = np.maximum(z, 0) - z * y + log1p_e
        else:
            # -[pw * y * log s(z) + (1 - y) log(1 - s(z))], with log s(z) = -(max(-z,0) + log1p_e)
            log_sig = -(np.maximum(-z, 0) + log1p_e)
            log_1msig = -(np.maximum(z, 0) + log1p_e)
            out = -(pos_weight * y * log_sig + (1 - y) * log_1msig)
        ctx.save_for_backward(z, y, pos_weight)
        return out.astype(z.dtype, copy=False)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        z, y, pw = ctx.saved_tensors
        e = np.exp(-np.abs(z))
        s = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
        if pw is None:
            d = s - y
        else:
            d = -(pw * y * (1 - s) - (1 - y) * s)
        gy = None
        if ctx.needs_input_grad[1]:
            softplus_pos = np.maximum(z, 0) + np.log1p(e)   # -log(1 - sigmoid(z))
            softplus_neg = np.maximum(-z, 0) + np.log1p(e)  # -log(sigmoid(z))
            gy = grad * ((-z) if pw is None else (pw * softplus_neg - softplus_pos))
        return grad * d, gy, None
        # END SOLUTION


def binary_cross_entropy_with_logits(input, target, weight=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """Sigmoid + BCE fused on logits: stable for logits of any size."""
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    if not isinstance(input, Tensor):
        input = Tensor(input)
    if not isinstance(target, Tensor):
        target = Tensor(target)
    if input.shape != target.shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits: input {tuple(input.shape)} and target "
            f"{tuple(target.shape)} must have the same shape"
        )
    pw = None
    if pos_weight is not None:
        pw = np.asarray(pos_weight.data if isinstance(pos_weight, Tensor) else pos_weight,
                        dtype=input.data.dtype)
    loss = BCEWithLogitsFn.apply(input, target, pw)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)
