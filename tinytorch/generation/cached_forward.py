"""Module 17 -- a GPT's forward pass over new tokens only, with a :class:`KVCache`.

    ids (B, T) of the NEW tokens, at positions n .. n + T - 1 (n = positions already cached)
      -> token + position embeddings (positions n .. n + T - 1, not 0 .. T - 1)
      -> per block: x + attn(ln1(x)) with cached keys/values, then x + mlp(ln2(x))
      -> ln_f -> lm_head -> logits (B, T, vocab)

It uses the model's own layers (the same Linear, LayerNorm, MLP objects, the same weights),
so with and without the cache the model computes the same function; only the attention step
differs: its T queries attend over all n + T cached keys. Query i sits at position n + i and
may see keys 0 .. n + i, a causal mask aligned to the *bottom right* of the (T, n + T) score
matrix (``is_causal=True`` in ``F.scaled_dot_product_attention`` aligns it top-left, which is
right only when n = 0).

Runs under ``no_grad``: the cache stores plain arrays, so a graph through it would miss
every earlier step's keys and values; a forward with a cache is for generation only.

One new token is a (1, d_model) row: each op's arithmetic is then smaller than the engine's
bookkeeping around it (a Tensor, a node, a module call, the shape checks), so the step keeps
the residual stream as a NumPy array and runs the model's own LayerNorm and Linear layers
through their ops' NumPy forwards -- the same calls, so the same bits, with the same weights.
A layer with hooks, a layer of another type (a quantized or LoRA Linear, an RMSNorm), or a
running profiler or anomaly check makes that layer an ordinary module call instead.
"""

from __future__ import annotations

import math

import numpy as np

from tinytorch.core import autograd as _ag
from tinytorch.core.activations import gelu as F_gelu
from tinytorch.core.attention import _record
from tinytorch.core.autograd import Node, no_grad
from tinytorch.core.layernorm import LayerNorm, LayerNormFn
from tinytorch.core.layers import Linear, LinearFn, _fits_linear_fn
from tinytorch.core.tensor import Tensor

__all__ = ["forward_with_cache", "greedy_with_cache", "cached_self_attention",
           "cached_attention", "cached_causal_mask"]


def _plain(module) -> bool:
    """True when calling ``module`` would run exactly its forward: no hooks on it, and no
    profiler (or FLOP counter) or anomaly check that must see every op."""
    d = module.__dict__
    return not (d.get("_forward_hooks") or d.get("_forward_pre_hooks")) \
        and _ag._active_profiler is None and _ag._anomaly is None


def _linear(layer, x: np.ndarray) -> np.ndarray:
    """``layer(x)`` for rows ``x`` (N, in) -> (N, out), as an array.

    A plain :class:`Linear` runs its op's forward directly (what ``F.linear`` would record as
    one ``LinearFn`` node, without the node); any other layer is called as a module."""
    w = layer.weight._data if type(layer) is Linear and _plain(layer) else None
    b = None if layer.bias is None else layer.bias._data
    if w is None or x.ndim != 2 or x.shape[1] != w.shape[1] or not _fits_linear_fn(x, w, b):
        return layer(Tensor._wrap(x, None))._data
    return LinearFn.forward(Node(), x, w, b)


def _norm(ln, x: np.ndarray) -> np.ndarray:
    """``ln(x)`` for rows ``x`` (N, C), as an array: a plain :class:`LayerNorm` over C runs
    its op's forward directly (what ``layer_norm`` would after its checks); anything else is
    called as a module."""
    if type(ln) is not LayerNorm or not _plain(ln) or x.dtype.kind != "f" or \
            ln.normalized_shape != x.shape[1:]:
        return ln(Tensor._wrap(x, None))._data
    w, b = ln.weight, ln.bias
    return LayerNormFn.forward(Node(), x, None if w is None else w._data,
                               None if b is None else b._data, float(ln.eps), 1)


def cached_causal_mask(past: int, new: int) -> np.ndarray | None:
    """Which of ``past + new`` keys each of ``new`` queries may see: a bool (new, past + new)
    array, True = may attend (F.sdpa's convention); query i (position past + i) sees keys
    0 .. past + i. ``None`` when every query may see every key (a single new token)."""
    # BEGIN SOLUTION
    if new == 1:
        return None  # the newest token sees the whole past and itself
    return np.arange(past + new)[None, :] <= (past + np.arange(new))[:, None]
    # END SOLUTION


def cached_attention(q: np.ndarray, keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """softmax(q K^T / sqrt(d) + mask) V for T new queries over the cached prefix.

    Args:
        q: (B, H, T, hs), the queries of the T newest positions (past .. past + T - 1).
        keys, values: (B, H, past + T, hs), everything cached, the new positions included.
    Returns:
        (B, H, T, hs). Work: B * H * T * (past + T) scores -- for one new token, a row of
        past + 1, where the uncached forward recomputes the whole (past + 1)^2 / 2 triangle.
    """
    T, S = q.shape[-2], keys.shape[-2]
    # yours: ``weights`` (B, H, T, S), the softmax over keys of the scaled, masked scores
    # BEGIN SOLUTION
    scores = np.matmul(q, np.swapaxes(keys, -1, -2)) * (1.0 / math.sqrt(q.shape[-1]))
    mask = cached_causal_mask(S - T, T)  # (T, S), or None for one token
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    scores = scores - scores.max(axis=-1, keepdims=True)  # every row sees its own key: finite
    weights = np.exp(scores)
    weights /= weights.sum(axis=-1, keepdims=True)
    # END SOLUTION
    weights = weights.astype(q.dtype, copy=False)
    _record(lambda: weights)  # capture_attention() sees cached steps too
    return np.matmul(weights, values)


def cached_self_attention(attn, x, cache, layer: int):
    """A :class:`~tinytorch.models.CausalSelfAttention` step over new positions only.

    Args:
        attn: the block's attention module (its ``qkv``, ``proj`` and ``n_heads`` are used).
        x: (B, T, d_model), the normalized residual stream at the T new positions, or the
            same rows flattened to (B * T, d_model) (B is the cache's batch size); a Tensor,
            or a NumPy array (as :func:`forward_with_cache` passes it).
        cache: the :class:`KVCache`; layer ``layer``'s keys and values are extended by T.
    Returns:
        x's shape and kind (Tensor or array), equal to what the full causal attention gives
        at those positions.

    The head split and the attention itself run on plain arrays: one new token makes a
    handful of tiny ops, where the engine's per-op bookkeeping would cost more than the
    arithmetic (the linear layers stay the model's own; see :func:`_linear`).
    """
    a = x._data if isinstance(x, Tensor) else x
    B, C, H = cache.batch_size, a.shape[-1], attn.n_heads
    T = a.shape[0] // B if a.ndim == 2 else a.shape[1]
    rows = a if a.ndim == 2 else a.reshape(B * T, C)
    # the linear layers get 2-D (B * T, C) rows: the same products, two fewer engine ops each
    qkv = _linear(attn.qkv, rows).reshape(B, T, 3, H, C // H)
    qkv = qkv.transpose(2, 0, 3, 1, 4)  # (3, B, H, T, hs)
    q, k, v = qkv[0], qkv[1], qkv[2]  # each (B, H, T, hs)
    # yours: store k, v in the cache and attend over everything it holds -> y (B, H, T, hs)
    # BEGIN SOLUTION
    keys, values = cache.update(layer, k, v)  # (B, H, past + T, hs)
    y = cached_attention(q, keys, values)  # (B, H, T, hs)
    # END SOLUTION
    y = np.ascontiguousarray(y.transpose(0, 2, 1, 3)).reshape(B * T, C)
    out = _linear(attn.proj, y)  # heads joined, projected (resid_dropout: off at inference)
    if a.ndim != 2:
        out = out.reshape(B, T, C)
    return Tensor._wrap(out, None) if isinstance(x, Tensor) else out


@no_grad()
def forward_with_cache(model, idx, cache, gelu=None) -> Tensor:
    """Logits (B, T, vocab) for T new tokens ``idx`` (B, T), extending ``cache``.

    The first call takes the whole prompt (the prefill: its keys and values fill positions
    0 .. T - 1); each later call takes the token(s) sampled since. ``model`` is a
    :class:`~tinytorch.models.GPT` (in eval mode: dropout is not applied here either way).
    ``gelu``: another implementation of the MLPs' tanh GELU (module 18's fused kernel, say),
    called on the MLP's hidden layer instead of its own; None keeps the model's.
    """
    ids = idx._data if isinstance(idx, Tensor) else np.asarray(idx)
    if ids.ndim != 2 or ids.dtype.kind not in "iu":
        raise ValueError(f"forward_with_cache: expected integer token ids of shape (B, T), got "
                         f"{ids.dtype} of shape {tuple(ids.shape)}")
    if ids.shape[0] != cache.batch_size:
        raise ValueError(f"forward_with_cache: {ids.shape[0]} sequences, but the cache was "
                         f"made for batch_size={cache.batch_size}")
    if cache.n_layers != len(model.blocks):
        raise ValueError(f"forward_with_cache: the cache has {cache.n_layers} layers, the model "
                         f"{len(model.blocks)}")
    past, T = cache.get_seq_length(0), ids.shape[1]
    if past + T > model.max_seq_len:
        raise ValueError(f"forward_with_cache: positions {past}..{past + T - 1} are past the "
                         f"model's max_seq_len={model.max_seq_len} (its position table has "
                         f"{model.max_seq_len} rows); start a new sequence with cache.reset()")
    pos = np.arange(past, past + T, dtype=np.int64)  # where the new tokens sit
    B = ids.shape[0]
    # (B * T, C) rows rather than (B, T, C): every Linear skips two reshapes. Embedding rows
    # are read from the tables directly (a lookup is an index; no graph is recorded here).
    # The residual stream x stays an array (see the module docstring).
    x = model.tok_emb.weight._data[ids.reshape(-1)] + model.pos_emb.weight._data[np.tile(pos, B)]
    for i, block in enumerate(model.blocks):  # GPTBlock.forward, attention from the cache
        x = x + cached_self_attention(block.attn, _norm(block.ln1, x), cache, i)
        mlp = block.mlp  # MLP.forward without its dropout (off at inference)
        h = Tensor._wrap(_linear(mlp.fc, _norm(block.ln2, x)), None)
        h = gelu(h) if gelu is not None else F_gelu(h, mlp.approximate)
        x = x + _linear(mlp.proj, h._data)
    logits = _linear(model.lm_head, _norm(model.ln_f, x))
    return Tensor._wrap(logits.reshape(B, T, -1), None)


def greedy_with_cache(model, ids: np.ndarray, n: int, gelu=None) -> np.ndarray:
    """Greedy generation with a fresh cache: ``ids`` (B, T) -> (B, T + n) token ids.

    The loop ``GPT.generate(..., temperature=0, use_cache=True)`` runs, written out so a
    caller can swap the MLPs' GELU (``gelu``, see :func:`forward_with_cache`): the
    milestones time module 18's fused kernel with it.
    """
    from tinytorch.generation.kv_cache import KVCache

    cache = KVCache.for_model(model, ids.shape[0], ids.shape[1] + n - 1)
    out, new = ids, ids
    for _ in range(n):
        logits = forward_with_cache(model, new, cache, gelu=gelu).numpy()[:, -1]
        new = logits.argmax(-1)[:, None].astype(np.int64)
        out = np.concatenate([out, new], axis=1)
    return out
