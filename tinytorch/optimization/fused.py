"""Module 18 -- operator fusion: one op with its own backward instead of a chain of small ones.

Written as a composition of Tensor ops, GELU (tanh approximation) is nine recorded ops::

    0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x*x*x)))

Each op reads its inputs from memory, writes a fresh array, and (under autograd) keeps what its
backward needs: nine temporaries in the forward, as many again in the backward, and a graph of
nine nodes to walk. The arithmetic is trivial; the cost is **memory traffic** and the Python
overhead per op. A *fused* op does the whole formula in one Function: it computes in place into
one scratch array, saves two arrays (``x`` and ``tanh(...)``), and has one hand-derived backward.

The same for softmax + cross-entropy: composed, it is max, subtract, exp, sum, log, subtract,
pick, mean (each with its own saved arrays); fused, the forward keeps the softmax ``p`` and the
backward is one line, ``(p - onehot(target)) / N`` -- which is also why it is numerically
safe: no ``log(softmax)`` of a tiny probability is ever taken.

``fused_gelu`` / ``FusedGELU`` compute exactly ``F.gelu(x, approximate="tanh")`` /
``nn.GELU(approximate="tanh")``; ``fused_softmax_cross_entropy`` is ``F.cross_entropy`` for
(N, C) logits and (N,) class ids. The ``*_composed`` functions are the unfused twins the lab
measures them against.
"""

from __future__ import annotations

import math

import numpy as np

from tinytorch.core.autograd import Function
from tinytorch.core.module import Module
from tinytorch.core.tensor import Tensor

__all__ = ["FusedGELUFn", "fused_gelu", "FusedGELU", "gelu_composed",
           "FusedSoftmaxCrossEntropyFn", "fused_softmax_cross_entropy",
           "softmax_cross_entropy_composed"]

_C = math.sqrt(2.0 / math.pi)  # sqrt(2/pi)
_A = 0.044715  # GPT-2's cubic coefficient


def _as_tensor(x, name: str) -> Tensor:
    x = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
    if x._data.dtype.kind != "f":
        raise TypeError(f"{name}: needs a floating point tensor, got {x.dtype}; "
                        f"call .float() first")
    return x


class FusedGELUFn(Function):
    """y = 0.5 x (1 + t), t = tanh(c (x + a x^3)), c = sqrt(2/pi), a = 0.044715.

    Forward: one scratch array for ``t`` and one for ``y``, every step in place (``out=``);
    backward: two. Saves ``x`` and ``t``. Backward, from the product and chain rules::

        dy/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2)
    """

    @staticmethod
    def forward(ctx, x):
        # BEGIN SOLUTION
        t = x * x  # the one scratch array: becomes c (x + a x^3) = c x (1 + a x^2), then t
        t *= _A
        t += 1.0
        t *= x
        t *= _C
        np.tanh(t, out=t)
        y = t + 1.0  # the output array
        y *= x
        y *= 0.5
        # END SOLUTION
        ctx.save_for_backward(x, t)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        # BEGIN SOLUTION
        d = t * t  # two scratch arrays, d and s, every step in place
        np.subtract(1.0, d, out=d)  # 1 - t^2: the derivative of tanh
        d *= x
        s = x * x
        s *= 3.0 * _A
        s += 1.0
        s *= 0.5 * _C  # c (1 + 3 a x^2) / 2: the inner argument's derivative, halved
        d *= s  # 0.5 x (1 - t^2) c (1 + 3 a x^2)
        np.add(t, 1.0, out=s)
        s *= 0.5
        d += s  # + 0.5 (1 + t)
        d *= grad
        return d
        # END SOLUTION


def fused_gelu(x) -> Tensor:
    """GELU with the tanh approximation as one fused op: ``F.gelu(x, approximate="tanh")``.

    Shapes: any -> the same shape and dtype.
    """
    x = _as_tensor(x, "fused_gelu")
    if x.dim() == 0:  # the in-place steps need an array: NumPy turns 0-d results into scalars
        return FusedGELUFn.apply(x.reshape(1)).reshape(())
    return FusedGELUFn.apply(x)


class FusedGELU(Module):
    """``nn.GELU(approximate="tanh")`` computed by :func:`fused_gelu` (no parameters)."""

    approximate = "tanh"

    def forward(self, x):
        return fused_gelu(x)

    def extra_repr(self):
        return "approximate='tanh', fused"


def gelu_composed(x) -> Tensor:
    """The same GELU as nine separate Tensor ops, each recorded by autograd (the baseline)."""
    x = _as_tensor(x, "gelu_composed")
    inner = (x + _A * (x * x * x)) * _C
    return 0.5 * x * (1.0 + inner.tanh())


class FusedSoftmaxCrossEntropyFn(Function):
    """loss = reduce_n( logsumexp(x_n) - x_n[t_n] ) on logits x (N, C), class ids t (N,).

    Forward saves the softmax ``p = exp(x - logsumexp(x))`` (N, C). Backward, since
    ``d logsumexp(x) / dx = p`` and ``d x[t] / dx = onehot(t)``::

        dloss/dx = (p - onehot(t)) / N      (reduction 'mean'; no / N for 'sum')
    """

    @staticmethod
    def forward(ctx, x, t, reduction):
        n = x.shape[0]
        shifted = x - x.max(axis=1, keepdims=True)  # (N, C), <= 0: exp cannot overflow
        p = np.exp(shifted)
        s = p.sum(axis=1, keepdims=True)  # (N, 1)
        p /= s  # softmax, in place
        per_row = np.log(s[:, 0]) - shifted[np.arange(n), t]  # (N,) logsumexp - target logit
        out = per_row.sum() if reduction == "sum" else per_row.mean()
        ctx.save_for_backward(p, t)
        ctx.reduction = reduction
        return np.asarray(out, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        p, t = ctx.saved_tensors
        n = p.shape[0]
        # BEGIN SOLUTION
        g = p.copy()  # softmax
        g[np.arange(n), t] -= 1.0  # minus onehot(target)
        g *= grad / n if ctx.reduction == "mean" else grad
        return g, None, None
        # END SOLUTION


def _check_targets(logits: Tensor, target, name: str) -> np.ndarray:
    if logits.ndim != 2:
        raise ValueError(f"{name}: logits must be (N, C), got shape {tuple(logits.shape)}; "
                         f"flatten extra axes into N first")
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu" or t.shape != (logits.shape[0],):
        raise ValueError(f"{name}: target must be (N,) = ({logits.shape[0]},) integer class "
                         f"ids, got shape {t.shape} dtype {t.dtype}")
    c = logits.shape[1]
    if t.size and (t.min() < 0 or t.max() >= c):
        raise IndexError(f"{name}: class ids must be in [0, {c}), got min {t.min()} "
                         f"max {t.max()}")
    return t.astype(np.int64, copy=False)


def fused_softmax_cross_entropy(logits, target, reduction: str = "mean") -> Tensor:
    """``F.cross_entropy(logits, target)`` as one fused op with its own backward.

    Shapes: logits (N, C) float, target (N,) integer class ids in [0, C) -> a scalar.
    ``reduction``: ``'mean'`` (default) or ``'sum'``.
    """
    if reduction not in ("mean", "sum"):
        raise ValueError(f"fused_softmax_cross_entropy: reduction must be 'mean' or 'sum', "
                         f"got {reduction!r}")
    logits = _as_tensor(logits, "fused_softmax_cross_entropy")
    t = _check_targets(logits, target, "fused_softmax_cross_entropy")
    return FusedSoftmaxCrossEntropyFn.apply(logits, t, reduction)


def softmax_cross_entropy_composed(logits, target, reduction: str = "mean") -> Tensor:
    """The same loss from separate Tensor ops (max, subtract, exp, sum, log, pick, mean)."""
    logits = _as_tensor(logits, "softmax_cross_entropy_composed")
    t = _check_targets(logits, target, "softmax_cross_entropy_composed")
    n, c = logits.shape
    shifted = logits - logits._data.max(axis=1, keepdims=True)  # a constant shift: no gradient
    logp = shifted - shifted.exp().sum(dim=1, keepdim=True).log()  # log-softmax (N, C)
    onehot = Tensor(np.eye(c, dtype=logits._data.dtype)[t])
    total = -(logp * onehot).sum()
    return total if reduction == "sum" else total / n
