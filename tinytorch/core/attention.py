"""Module 12 -- attention: every position looks at every other and takes a weighted average.

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d) + mask) V

``scaled_dot_product_attention`` is the engine's fused op: batched matmuls, one stable
softmax, and a hand-written backward that reuses the attention weights instead of recording
a dozen small ops. Its memory is O(L * S) per head: the attention matrix is the quadratic wall
the module's lab measures.
"""

from __future__ import annotations

import math

import numpy as np

from tinytorch.core import creation
from tinytorch.core.autograd import Function
from tinytorch.core.tensor import Tensor

__all__ = ["scaled_dot_product_attention"]


def _masked_softmax(scores: np.ndarray) -> np.ndarray:
    """Softmax over the last axis where -inf marks masked keys; a fully masked row gives 0s
    (as PyTorch 2.x's CPU kernel does: a row of NaN would poison the rest of the batch)."""
    m = np.max(scores, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    e = np.exp(scores - m)
    s = np.sum(e, axis=-1, keepdims=True)
    return e / np.where(s == 0, 1, s)


class SDPAFn(Function):
    """Fused attention. Inputs q (..., L, E), k (..., S, E), v (..., S, Ev) -> (..., L, Ev)."""

    @staticmethod
    def forward(ctx, q, k, v, mask, scale, drop_keep):
        # BEGIN SOLUTION 12
        scores = np.matmul(q, np.swapaxes(k, -1, -2)) * scale  # (..., L, S)
        if mask is not None:
            if mask.dtype == np.bool_:
                scores = np.where(mask, scores, -np.inf)
            else:
                scores = scores + mask
        p = _masked_softmax(scores).astype(q.dtype, copy=False)
        pd = p if drop_keep is None else p * drop_keep
        ctx.save_for_backward(q, k, v, p, pd, drop_keep)
        ctx.scale = scale
        return np.matmul(pd, v)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 12
        q, k, v, p, pd, drop_keep = ctx.saved_tensors
        need = ctx.needs_input_grad
        dv = np.matmul(np.swapaxes(pd, -1, -2), grad) if need[2] else None
        dp = np.matmul(grad, np.swapaxes(v, -1, -2))  # (..., L, S)
        if drop_keep is not None:
            dp = dp * drop_keep
        dscores = p * (dp - np.sum(dp * p, axis=-1, keepdims=True))  # d/d(scaled scores + mask)
        ds = dscores * ctx.scale  # d/d(q k^T)
        dq = np.matmul(ds, k) if need[0] else None
        dk = np.matmul(np.swapaxes(ds, -1, -2), q) if need[1] else None
        dmask = dscores if need[3] else None  # (not ds / scale: scale may be 0)
        return dq, dk, dv, dmask, None, None
        # END SOLUTION


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None) -> Tensor:
    """PyTorch's ``F.scaled_dot_product_attention``: same arguments, shapes and semantics.

    Args:
        query: (..., L, E); key: (..., S, E); value: (..., S, Ev). Typically
            (batch, heads, seq, head_dim). Batch dims broadcast.
        attn_mask: broadcastable to (..., L, S). Bool: True means "may attend". Float: added
            to the scores (use -inf to block).
        dropout_p: dropout on the attention weights (always applied when > 0, as in PyTorch:
            pass 0.0 in eval mode).
        is_causal: position i attends to keys 0..i only (top-left aligned lower triangle).
        scale: defaults to 1 / sqrt(E).
    Returns:
        (..., L, Ev).
    """
    q, k, v = (x if isinstance(x, Tensor) else Tensor(x) for x in (query, key, value))
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError("scaled_dot_product_attention: query, key and value need at least 2 dims")
    for name, x in (("query", q), ("key", k), ("value", v)):
        if x.dtype.kind != "f":  # softmax weights cast to int would all become 0
            raise TypeError(f"scaled_dot_product_attention: {name} must be a floating point "
                            f"tensor, got {x.dtype}; call .float() first")
    try:
        np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(
            f"scaled_dot_product_attention: the batch dimensions of query {tuple(q.shape)}, "
            f"key {tuple(k.shape)} and value {tuple(v.shape)} do not broadcast (all but the "
            "last two dims must be equal or 1)"
        ) from None
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"scaled_dot_product_attention: query {tuple(q.shape)} and key {tuple(k.shape)} must "
            f"share the last (embedding) dimension: {q.shape[-1]} vs {k.shape[-1]}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"scaled_dot_product_attention: key {tuple(k.shape)} and value {tuple(v.shape)} must "
            f"have the same sequence length: {k.shape[-2]} vs {v.shape[-2]}"
        )
    L, S = q.shape[-2], k.shape[-2]
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: pass either attn_mask or is_causal, not both")
    mask = None
    if is_causal:
        mask = Tensor._wrap(np.tril(np.ones((L, S), dtype=bool)), None)
    elif attn_mask is not None:
        mask = attn_mask if isinstance(attn_mask, Tensor) else Tensor(attn_mask)
        try:
            np.broadcast_shapes(mask.shape, q.shape[:-2] + (L, S))
        except ValueError:
            raise ValueError(
                f"scaled_dot_product_attention: attn_mask of shape {tuple(mask.shape)} does not "
                f"broadcast to the scores' shape {q.shape[:-2] + (L, S)}"
            ) from None
        if mask.dtype != np.bool_ and mask.dtype.kind != "f":
            raise TypeError("scaled_dot_product_attention: attn_mask must be bool or float")
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    keep = None
    if dropout_p > 0.0:
        if not 0.0 <= dropout_p < 1.0:
            raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1), got {dropout_p}")
        shape = np.broadcast_shapes(q.shape[:-2], k.shape[:-2]) + (L, S)
        keep = (creation.default_generator.rng.random(shape) >= dropout_p).astype(q.dtype) / (1 - dropout_p)
    return SDPAFn.apply(q, k, v, mask, float(scale), keep)
