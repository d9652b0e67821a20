"""Module 12 -- attention: every position looks at every other and takes a weighted average.

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d) + mask) V

Three versions of the same function, one answer (the tests prove they agree):

* :func:`attention_loops` -- the course version: explicit loops over query and key positions,
  so the O(L * S) cost is visible in the code and felt in the lab. NumPy only, no autograd.
* :class:`SDPAFn` -- the fused quadratic op: batched matmuls, one stable softmax, and a
  hand-written backward that reuses the saved attention weights. Memory O(L * S) per head.
* ``FlashAttentionFn`` (``flash_attention.py``) -- tiled with an online softmax: the same
  result with memory O(L + S) per head, forward and backward.

:func:`scaled_dot_product_attention` is PyTorch's ``F.scaled_dot_product_attention`` (boolean
mask: True = *may attend*) and picks the fused or the tiled op by size (see
``TILED_MIN_SCORES``). :func:`attention_weights` and :func:`capture_attention` give the
weights for heatmaps (``attention_viz.plot_attention``).
"""

from __future__ import annotations

import contextlib
import functools
import math

import numpy as np

from tinytorch.core import creation
from tinytorch.core.autograd import Function
from tinytorch.core.blas_sums import row_sums
from tinytorch.core.flash_attention import FlashAttentionFn
from tinytorch.core.tensor import Tensor

__all__ = ["scaled_dot_product_attention", "attention_loops", "attention_weights",
           "capture_attention", "TILED_MIN_SCORES"]

# F.scaled_dot_product_attention switches from the fused op to the tiled one when a head's
# score matrix has at least this many entries (L * S). Measured on a 2-core CPU, one thread,
# float32, causal (2, 4, L, 32) fwd+bwd, both ops alternated in one process (CPU time, a loaded
# machine, 64 x 512 tiles): L = 64 fused 1.35 ms vs tiled 1.95; L = 128 2.7 vs 3.0; L = 192
# 5.7 vs 4.9; L = 256 10.7 vs 8.3, where the tiled op also needs half the memory; L = 512 40
# vs 25; L = 1024 209 vs 101 (and a traced peak of 11 MB instead of 69 MB). The module-12 lab
# re-measures the crossover on your machine.
TILED_MIN_SCORES = 256 * 256


def _masked_softmax(scores: np.ndarray) -> np.ndarray:
    """Softmax over the last axis where -inf marks masked keys; a fully masked row gives 0s
    (as PyTorch 2.x's CPU kernel does: a row of NaN would poison the rest of the batch).
    Works in place: ``scores`` is overwritten with the result (an (L, S) array per head is the
    biggest thing attention allocates; a second and third copy would only cost time)."""
    m = np.max(scores, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    return _normalize_rows(np.exp(np.subtract(scores, m, out=scores), out=scores))


def _normalize_rows(e: np.ndarray) -> np.ndarray:
    """``e`` divided by its row sums, in place; a row of zeros (every key masked) stays 0."""
    s = row_sums(e)
    return np.divide(e, np.where(s == 0, 1, s), out=e)


def _small_softmax(scores: np.ndarray, mask) -> np.ndarray:
    """The same softmax when every score is small (``_all_small``): exp cannot
    overflow, so no row max is subtracted (the max along a 64-key row is the slowest pass of
    the fused op), and a bool mask zeroes blocked keys after exp instead of writing -inf
    before it. In place in ``scores``; a fully masked row gives 0s, as above."""
    e = np.exp(scores, out=scores)
    if mask is not None:
        np.multiply(e, mask, out=e)  # True = may attend: a 0/1 factor
    return _normalize_rows(e)


def _all_small(scores: np.ndarray, mask) -> bool:
    """True when ``_small_softmax`` gives the same weights as ``_masked_softmax``: every score
    within +-(log(max float) / 2 - log(S)) (40 for float32 at S = 64), so neither exp nor a
    row's sum of S of them overflows and exp stays a normal number; and ``mask`` None or bool,
    broadcasting to the scores without enlarging them. Two flat reductions over the scores
    (a NaN or inf fails the comparison and takes the usual path)."""
    if mask is not None and (mask.dtype != np.bool_ or
                             np.broadcast_shapes(mask.shape, scores.shape) != scores.shape):
        return False
    if scores.size == 0 or scores.dtype.kind != "f":
        return False
    limit = np.log(np.finfo(scores.dtype).max) / 2 - np.log(scores.shape[-1])
    return bool(scores.max() <= limit and scores.min() >= -limit)


class SDPAFn(Function):
    """Fused attention. Inputs q (..., L, E), k (..., S, E), v (..., S, Ev) -> (..., L, Ev)."""

    @staticmethod
    def forward(ctx, q, k, v, mask, scale, drop_keep):
        # BEGIN SOLUTION 12
        scores = np.matmul(q, np.swapaxes(k, -1, -2))  # (..., L, S): the one big array
        scores *= scores.dtype.type(scale)  # in place, as every step below
        if _all_small(scores, mask):
            p = _small_softmax(scores, mask)  # exp cannot overflow: no max, mask after exp
        else:
            if mask is not None:
                if mask.dtype == np.bool_:
                    scores = np.where(mask, scores, -np.inf)
                else:
                    scores = scores + mask
            p = _masked_softmax(scores)
        p = p.astype(q.dtype, copy=False)
        pd = p if drop_keep is None else p * drop_keep
        out = np.matmul(pd, v)
        ctx.save_for_backward(q, k, v, p, pd, drop_keep, out)  # out: for rowsum(P * dP)
        ctx.scale = scale
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 12
        q, k, v, p, pd, drop_keep, out = ctx.saved_tensors
        need = ctx.needs_input_grad
        dv = np.matmul(np.swapaxes(pd, -1, -2), grad) if need[2] else None
        dp = np.matmul(grad, np.swapaxes(v, -1, -2))  # (..., L, S)
        if drop_keep is not None:
            dp *= drop_keep
        # softmax backward: dS = P * (dP - rowsum(P * dP)), and rowsum(P * dP) equals
        # rowsum(dO * O) (O = P V), which is (..., L, Ev) work instead of (..., L, S)
        rowsum = row_sums(grad * out)
        dscores = np.multiply(p, np.subtract(dp, rowsum, out=dp), out=dp)  # d/d(scores + mask)
        sc = dscores.dtype.type(ctx.scale)  # d/d(q k^T) = dscores * scale: applied to the
        dq = np.matmul(dscores, k) * sc if need[0] else None  # (L, E) results, not the (L, S)
        dk = np.matmul(np.swapaxes(dscores, -1, -2), q) * sc if need[1] else None
        dmask = dscores if need[3] else None  # (not ds / scale: scale may be 0)
        return dq, dk, dv, dmask, None, None
        # END SOLUTION


def _array(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def attention_loops(query, key, value, mask=None, scale: float | None = None,
                    is_causal: bool = False, return_weights: bool = False):
    """Attention written as the loops it is: the course version (no autograd).

    For every query position i and every key position j, one dot product: L * S of them.
    That double loop *is* the O(n^2) of attention; the vectorised ops do the same work, only
    inside NumPy.

    Args:
        query (..., L, E), key (..., S, E), value (..., S, Ev): arrays or Tensors; leading
            (batch, head) dims are carried along by NumPy, the loops run over positions.
        mask: F.sdpa's convention, broadcastable to (..., L, S): bool True = may attend;
            float = added to the scores.
        scale: defaults to 1 / sqrt(E).
        is_causal: query i sees keys 0..i (top-left aligned, as F.sdpa).
        return_weights: also return the (..., L, S) attention weights.
    Returns:
        output Tensor (..., L, Ev), and the weights Tensor if asked. A query that may attend
        to nothing gets weights 0 and output 0 (as the fused op and PyTorch's CPU kernel).
    """
    q, k, v = _array(query), _array(key), _array(value)
    L, S = q.shape[-2], k.shape[-2]
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    dtype = np.result_type(q.dtype, k.dtype, v.dtype)
    m = None if mask is None else np.broadcast_to(_array(mask), batch + (L, S))
    scores = np.empty(batch + (L, S), dtype=dtype)
    weights = np.zeros(batch + (L, S), dtype=dtype)
    out = np.zeros(batch + (L, v.shape[-1]), dtype=dtype)
    # BEGIN SOLUTION
    for i in range(L):  # 1. scores: one dot product per (query, key) pair -- L * S of them
        for j in range(S):
            scores[..., i, j] = np.sum(q[..., i, :] * k[..., j, :], axis=-1) * scale
    if m is not None:  # 2. mask: a blocked pair gets -inf, so softmax gives it weight 0
        scores = np.where(m, scores, -np.inf) if m.dtype == np.bool_ else scores + m
    if is_causal:
        for i in range(L):
            scores[..., i, i + 1:] = -np.inf  # query i must not see keys after position i
    for i in range(L):  # 3. softmax of each row, minus its max so exp cannot overflow
        row = scores[..., i, :]
        top = np.max(row, axis=-1, keepdims=True)
        e = np.exp(row - np.where(np.isfinite(top), top, 0))
        total = np.sum(e, axis=-1, keepdims=True)
        weights[..., i, :] = e / np.where(total == 0, 1, total)  # nothing visible: all 0
    for i in range(L):  # 4. output i = weighted sum of the values
        for j in range(S):
            out[..., i, :] += weights[..., i, j, None] * v[..., j, :]
    # END SOLUTION
    out = Tensor._wrap(out, None)
    return (out, Tensor._wrap(weights, None)) if return_weights else out


def attention_weights(query, key, attn_mask=None, is_causal: bool = False,
                      scale: float | None = None) -> np.ndarray:
    """softmax(Q K^T * scale + mask): the (..., L, S) weights as a NumPy array (no autograd),
    for plots. Masks in F.sdpa's convention (bool True = may attend)."""
    q, k = _array(query), _array(key)
    L, S = q.shape[-2], k.shape[-2]
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = np.matmul(q, np.swapaxes(k, -1, -2)) * scale
    if is_causal:
        scores = np.where(np.tril(np.ones((L, S), dtype=bool)), scores, -np.inf)
    if attn_mask is not None:
        m = _array(attn_mask)
        scores = np.where(m, scores, -np.inf) if m.dtype == np.bool_ else scores + m
    return _masked_softmax(scores)


_recorders: list[list] = []


@contextlib.contextmanager
def capture_attention():
    """Record the attention weights of every attention call inside the block, any model::

        with capture_attention() as maps:
            model(tokens)
        plot_attention(maps[0][0], "out/layer0")   # (H, L, S) of the first batch item

    Yields a list that fills with one (..., L, S) NumPy array per call (MultiheadAttention
    and F.scaled_dot_product_attention, in call order). Costs an extra O(L * S) per call, so
    it is for inspection, not training.
    """
    maps: list = []
    _recorders.append(maps)
    try:
        yield maps
    finally:
        _recorders.remove(maps)


def _record(weights_fn) -> None:
    if _recorders:
        w = weights_fn()
        for maps in _recorders:
            maps.append(w)


@functools.lru_cache(maxsize=16)
def _causal_mask(L: int, S: int) -> np.ndarray:
    """The (L, S) lower triangle, True = may attend; read-only and cached (a training loop
    asks for the same one every step)."""
    m = np.tril(np.ones((L, S), dtype=bool))
    m.flags.writeable = False
    return m


def _repeat_kv_heads(x: Tensor, groups: int) -> Tensor:
    """(..., Hkv, S, E) -> (..., Hkv * groups, S, E), each head repeated ``groups`` times in
    place (torch.repeat_interleave on dim -3), by expand + reshape so gradients flow."""
    shape = tuple(x.shape)
    y = x.unsqueeze(-3).expand(*shape[:-2], groups, *shape[-2:])
    return y.reshape(*shape[:-3], shape[-3] * groups, *shape[-2:])



def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """PyTorch's ``F.scaled_dot_product_attention``: same arguments, shapes and semantics.

    Args:
        query: (..., L, E); key: (..., S, E); value: (..., S, Ev). Typically
            (batch, heads, seq, head_dim). Batch dims broadcast.
        attn_mask: broadcastable to (..., L, S). Bool: True means "may attend" (the opposite
            of nn.MultiheadAttention's masks!). Float: added to the scores (use -inf to block).
        dropout_p: dropout on the attention weights (always applied when > 0, as in PyTorch:
            pass 0.0 in eval mode).
        is_causal: position i attends to keys 0..i (top-left aligned lower triangle).
        scale: defaults to 1 / sqrt(E).
        enable_gqa: grouped-query attention: key/value may have fewer heads (dim -3) than
            query, a divisor of it; each key/value head serves query_heads / kv_heads queries.
    Returns:
        (..., L, Ev).

    Two kernels, one answer: below ``TILED_MIN_SCORES`` score entries per head the fused
    quadratic op (fastest for short sequences); from there on the tiled online-softmax op,
    whose memory grows linearly with the sequence (forward and backward). A float mask that
    requires grad always takes the fused op (its gradient is an (L, S) matrix anyway).
    """
    q, k, v = (x if isinstance(x, Tensor) else Tensor(x) for x in (query, key, value))
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError("scaled_dot_product_attention: query, key and value need at least 2 dims")
    for name, x in (("query", q), ("key", k), ("value", v)):
        if x.dtype.kind != "f":  # softmax weights cast to int would all become 0
            raise TypeError(f"scaled_dot_product_attention: {name} must be a floating point "
                            f"tensor, got {x.dtype}; call .float() first")
    if enable_gqa and q.ndim >= 3 and k.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        hq, hkv = q.shape[-3], k.shape[-3]
        if hkv == 0 or hq % hkv or v.shape[-3] != hkv:
            raise ValueError(f"scaled_dot_product_attention: with enable_gqa the query heads "
                             f"({hq}) must be a multiple of the key/value heads ({hkv}, "
                             f"{v.shape[-3]})")
        k, v = _repeat_kv_heads(k, hq // hkv), _repeat_kv_heads(v, hq // hkv)
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
    if attn_mask is not None:
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
    if dropout_p > 0.0 and not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1), got {dropout_p}")
    _record(lambda: attention_weights(q, k, mask, is_causal, scale))
    tiled = L * S >= TILED_MIN_SCORES and not (mask is not None and mask.requires_grad)
    if tiled:
        drop = None
        if dropout_p > 0.0:  # one seed; each tile's mask is regenerated from it in backward
            drop = (dropout_p, int(creation.default_generator.rng.integers(2**62)))
        return FlashAttentionFn.apply(q, k, v, mask, float(scale), bool(is_causal),
                                      dropout=drop)
    if is_causal:
        mask = Tensor._wrap(_causal_mask(L, S), None)
    keep = None
    if dropout_p > 0.0:
        shape = np.broadcast_shapes(q.shape[:-2], k.shape[:-2]) + (L, S)
        keep = (creation.default_generator.rng.random(shape) >= dropout_p).astype(q.dtype) / (1 - dropout_p)
    return SDPAFn.apply(q, k, v, mask, float(scale), keep)
