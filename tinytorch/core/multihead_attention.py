"""Module 12 -- multi-head attention: several attention "heads" side by side, each in its own
slice of the embedding.

    head_i = Attention(X_q W_q^i, X_k W_k^i, X_v W_v^i)          (one head: E / H dims)
    MHA(X_q, X_k, X_v) = concat(head_1 .. head_H) W_o

The shapes are the whole trick (nanoGPT's notation: B batch, L queries, S keys, H heads,
D = E / H head dim)::

    query (B, L, E) --in-proj--> (B, L, E) --view--> (B, L, H, D) --permute--> (B, H, L, D)
    attention over the last two dims, every (batch, head) pair at once  ->    (B, H, L, D)
    permute back (B, L, H, D) --reshape--> (B, L, E) --out_proj--> (B, L, E)

The parameter count is that of one big head (4 E^2 + 4 E): splitting costs nothing, and each
head learns its own notion of "relevant".

:class:`MultiheadAttention` is PyTorch's ``nn.MultiheadAttention``: same constructor, same
parameter names and state_dict keys (``in_proj_weight``, ``in_proj_bias``, ``out_proj.weight``,
``out_proj.bias``; ``q/k/v_proj_weight`` when ``kdim``/``vdim`` differ), same init, same forward
and **the same mask convention as PyTorch's MHA: a boolean True means "masked OUT"** -- the
opposite of ``F.scaled_dot_product_attention``, where True means "may attend". The guide of
module 12 makes that trap a lesson.
"""

from __future__ import annotations

import math

import numpy as np

from tinytorch.core import init
from tinytorch.core.activations import softmax
from tinytorch.core.attention import _record, scaled_dot_product_attention
from tinytorch.core.layers import Linear, dropout
from tinytorch.core.module import Module, Parameter
from tinytorch.core.tensor import Tensor
from tinytorch.core.tensor_functions import cat, where

__all__ = ["MultiheadAttention"]


def _array(x):
    if x is None:
        return None
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _check_mask_dtype(mask, name):
    if mask is not None and mask.dtype != np.bool_ and mask.dtype.kind != "f":
        raise TypeError(f"MultiheadAttention: only bool and floating types of {name} are "
                        f"supported, got {mask.dtype}")


class MultiheadAttention(Module):
    """PyTorch's ``nn.MultiheadAttention``.

    Args:
        embed_dim: total model width E (split over the heads).
        num_heads: H; E must be divisible by H (each head gets D = E // H dims).
        dropout: dropout on the attention weights while training (0.0 = none).
        bias: add biases to the input and output projections.
        add_bias_kv: append a learned key and value (one extra "position") to key and value.
        add_zero_attn: append a zero key and value; not supported (raises).
        kdim, vdim: feature sizes of key and value if they differ from E (cross-attention
            from another width): then separate ``q/k/v_proj_weight`` replace ``in_proj_weight``.
        batch_first: inputs and outputs are (B, L, E) instead of PyTorch's default (L, B, E).

    Shapes (batch_first=False; swap the first two dims for batch_first=True):
        query (L, B, E), key (S, B, kdim), value (S, B, vdim); unbatched: (L, E), (S, kdim),
        (S, vdim).  key_padding_mask (B, S) or (S,); attn_mask (L, S) or (B * H, L, S).
        Returns output (L, B, E) and, when ``need_weights``, weights (B, L, S) averaged over
        heads or (B, H, L, S) with ``average_attn_weights=False`` (no B dim when unbatched).

    Masks: boolean True = this key is masked out (not attended); float masks are added to the
    scores. Both masks may be given; they are combined.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        if embed_dim % num_heads != 0:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by "
                             f"num_heads ({num_heads}); each head gets embed_dim // num_heads dims")
        if add_zero_attn:
            raise NotImplementedError("MultiheadAttention: add_zero_attn=True is not supported "
                                      "in tinytorch; leave it False")
        dtype = np.dtype(dtype or np.float32)
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        self.add_zero_attn = add_zero_attn
        E = embed_dim
        if self._qkv_same_embed_dim:
            # one (3E, E) matrix: rows [0:E] make queries, [E:2E] keys, [2E:3E] values
            self.in_proj_weight = Parameter(np.empty((3 * E, E), dtype=dtype))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(np.empty((E, E), dtype=dtype))
            self.k_proj_weight = Parameter(np.empty((E, self.kdim), dtype=dtype))
            self.v_proj_weight = Parameter(np.empty((E, self.vdim), dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty((3 * E,), dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, E), dtype=dtype))
            self.bias_v = Parameter(np.empty((1, 1, E), dtype=dtype))
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's init: Xavier-uniform projections, zero biases, Xavier-normal bias_k/v
        (out_proj.weight keeps Linear's default init, as in PyTorch)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    # ------------------------------------------------------------------ helpers

    def _projections(self, query, key, value):
        """Input projections: (B, L, E), (B, S, kdim), (B, S, vdim) -> three (B, *, E)."""
        E = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            wq, wk, wv = w[:E], w[E:2 * E], w[2 * E:]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        q = query @ wq.T
        k = key @ wk.T
        v = value @ wv.T
        if b is not None:
            q, k, v = q + bq, k + bk, v + bv
        return q, k, v

    def _check_shapes(self, query, key, value, batched):
        E = self.embed_dim
        if query.shape[-1] != E:
            raise ValueError(f"MultiheadAttention: query of shape {tuple(query.shape)} must end "
                             f"in embed_dim={E}")
        if key.shape[-1] != self.kdim or value.shape[-1] != self.vdim:
            raise ValueError(f"MultiheadAttention: key {tuple(key.shape)} and value "
                             f"{tuple(value.shape)} must end in kdim={self.kdim} and "
                             f"vdim={self.vdim}")
        want = 3 if batched else 2
        if key.ndim != want or value.ndim != want:
            raise ValueError(f"MultiheadAttention: query is {query.ndim}-D, so key and value must "
                             f"be {want}-D too; got key {tuple(key.shape)}, value "
                             f"{tuple(value.shape)}")

    def _merge_masks(self, attn_mask, key_padding_mask, B, L, S, batched):
        """One mask broadcastable to (B, H, L, S) in F.sdpa's convention (bool True = attend,
        float = added), or None. MHA's bool masks are flipped here: True = masked out."""
        H = self.num_heads
        am = _array(attn_mask)
        kpm = _array(key_padding_mask)
        _check_mask_dtype(am, "attn_mask")
        _check_mask_dtype(kpm, "key_padding_mask")
        if am is not None:
            if am.ndim == 2:
                if am.shape != (L, S):
                    raise ValueError(f"MultiheadAttention: the shape of the 2D attn_mask is "
                                     f"{am.shape}, but should be {(L, S)}")
            elif am.ndim == 3:
                if am.shape != (B * H, L, S):
                    raise ValueError(f"MultiheadAttention: the shape of the 3D attn_mask is "
                                     f"{am.shape}, but should be {(B * H, L, S)} "
                                     "(batch * num_heads, L, S)")
                am = am.reshape(B, H, L, S)
            else:
                raise ValueError(f"MultiheadAttention: attn_mask must be 2-D (L, S) or 3-D "
                                 f"(batch * num_heads, L, S), got {am.ndim}-D")
        if kpm is not None:
            want = (B, S) if batched else (S,)
            if kpm.shape != want:
                raise ValueError(f"MultiheadAttention: key_padding_mask of shape {kpm.shape} "
                                 f"should be {want} (batch, key length)")
            kpm = kpm.reshape(B, 1, 1, S)
        if self.bias_k is not None:  # the appended key is never masked
            if am is not None:
                am = np.concatenate([am, np.zeros(am.shape[:-1] + (1,), am.dtype)], axis=-1)
            if kpm is not None:
                kpm = np.concatenate([kpm, np.zeros(kpm.shape[:-1] + (1,), kpm.dtype)], axis=-1)
        masks = [m for m in (am, kpm) if m is not None]
        if not masks:
            return None
        if all(m.dtype == np.bool_ for m in masks):
            allowed = ~masks[0]
            for m in masks[1:]:
                allowed = allowed & ~m
            return allowed  # bool, sdpa's convention: True = may attend
        dtype = np.result_type(*[m.dtype for m in masks if m.dtype != np.bool_])
        total = 0
        for m in masks:
            total = total + (np.where(m, -np.inf, 0.0).astype(dtype) if m.dtype == np.bool_ else m)
        return total

    # ------------------------------------------------------------------ forward

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        """Attend from ``query`` to ``key``/``value``; returns ``(output, weights or None)``.

        ``is_causal=True`` without ``attn_mask`` applies the causal mask (PyTorch raises
        there and asks for the mask; tinytorch builds it). With an ``attn_mask`` it is, as in
        PyTorch, a hint that the mask is causal.
        """
        query, key, value = (x if isinstance(x, Tensor) else Tensor(x) for x in (query, key, value))
        batched = query.ndim == 3
        if query.ndim not in (2, 3):
            raise ValueError(f"MultiheadAttention: query must be 2-D (unbatched) or 3-D, got "
                             f"shape {tuple(query.shape)}")
        self._check_shapes(query, key, value, batched)
        # BEGIN SOLUTION
        # work batch-first: (B, L, E)
        if not batched:
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
        elif not self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        B, L, _ = query.shape
        S = key.shape[1]
        if key.shape[0] != B or value.shape[0] != B or value.shape[1] != S:
            raise ValueError(f"MultiheadAttention: key {tuple(key.shape)} and value "
                             f"{tuple(value.shape)} (batch-first) must share batch {B} and "
                             "sequence length")
        H, D = self.num_heads, self.head_dim
        q, k, v = self._projections(query, key, value)  # (B, L, E), (B, S, E), (B, S, E)
        if self.bias_k is not None:  # one extra learned key/value position
            k = cat([k, self.bias_k.expand(B, 1, self.embed_dim)], dim=1)
            v = cat([v, self.bias_v.expand(B, 1, self.embed_dim)], dim=1)
        Sk = k.shape[1]
        q = q.reshape(B, L, H, D).permute(0, 2, 1, 3)  # (B, H, L, D)
        k = k.reshape(B, Sk, H, D).permute(0, 2, 1, 3)  # (B, H, S, D)
        v = v.reshape(B, Sk, H, D).permute(0, 2, 1, 3)  # (B, H, S, D)
        causal = is_causal and attn_mask is None
        if causal and key_padding_mask is None and not need_weights and self.bias_k is None:
            mask = None  # the tiled kernel applies the causal mask itself: linear memory
        else:
            if causal:  # True = masked out, MHA's convention
                attn_mask = ~np.tril(np.ones((L, S), dtype=bool))
            elif is_causal and key_padding_mask is None and not need_weights:
                attn_mask, causal = None, True  # PyTorch: the hint replaces the mask
            mask = self._merge_masks(attn_mask, key_padding_mask, B, L, S, batched)
            if mask is not None:
                causal = False
        p_drop = self.dropout if self.training else 0.0
        weights = None
        if need_weights:
            # the explicit path: the weights are a returned (and differentiable) result
            scores = (q * (1.0 / math.sqrt(D))) @ k.transpose(-2, -1)  # (B, H, L, S)
            if mask is not None:
                if mask.dtype == np.bool_:
                    scores = where(Tensor(mask), scores, Tensor(np.array(-np.inf, scores.dtype)))
                else:
                    scores = scores + Tensor(mask.astype(scores.dtype, copy=False))
            weights = softmax(scores, dim=-1)
            attn = dropout(weights, p_drop, training=p_drop > 0)
            out = attn @ v  # (B, H, L, D)
            _record(lambda: attn.numpy().copy())  # capture_attention(): (B, H, L, S)
            if average_attn_weights:
                weights = attn.mean(dim=1)  # (B, L, S)
            else:
                weights = attn
            if not batched:
                weights = weights.squeeze(0)
        else:
            out = scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p_drop,
                                               is_causal=causal)
        out = out.permute(0, 2, 1, 3).reshape(B, L, self.embed_dim)  # concat heads
        out = self.out_proj(out)
        # END SOLUTION
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        return out, weights

    def extra_repr(self) -> str:
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, "
                f"batch_first={self.batch_first}")
