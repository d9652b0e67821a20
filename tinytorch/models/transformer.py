"""Module 13 -- transformers: attention and an MLP, wrapped in residuals and layer norms.

A transformer block keeps a *residual stream* ``x`` of shape (B, T, d_model) and lets two
sub-layers add to it:

    pre-norm (GPT-2, most modern models):   x = x + attn(ln1(x));   x = x + mlp(ln2(x))
    post-norm (the 2017 paper, BERT):       x = ln1(x + attn(x));   x = ln2(x + mlp(x))

Attention moves information *between* positions; the MLP transforms each position on its own.
Pre-norm leaves the stream itself un-normalized, so the gradient reaches the first layer
through the additions untouched: deep pre-norm stacks train without warm-up tricks.

This file holds the blocks: :class:`MLP`, :class:`CausalSelfAttention`, :class:`GPTBlock`
(pre-norm, for decoders), and PyTorch's :class:`TransformerEncoderLayer` /
:class:`TransformerEncoder` (both norm placements, PyTorch's state_dict keys). The GPT model
that stacks them is in ``gpt.py``.
"""

from __future__ import annotations

import copy

import numpy as np

from tinytorch.core.activations import gelu, relu
from tinytorch.core.attention import scaled_dot_product_attention
from tinytorch.core.layernorm import LayerNorm
from tinytorch.core.layers import Dropout, Linear, ModuleList
from tinytorch.core.module import Module
from tinytorch.core.multihead_attention import MultiheadAttention
from tinytorch.core.tensor import Tensor

__all__ = ["MLP", "CausalSelfAttention", "GPTBlock", "TransformerEncoderLayer",
           "TransformerEncoder"]


class MLP(Module):
    """The position-wise feed-forward network: Linear -> GELU -> Linear -> dropout.

    Each token's vector is expanded to ``hidden`` features (4 * d_model by convention), passed
    through a nonlinearity and projected back, independently of every other token.
    ``approximate="tanh"`` is GPT-2's GELU (the exact one needs erf, several times slower
    here). Shapes: (*, d_model) -> (*, d_model). Keys: ``fc.weight/bias``, ``proj.weight/bias``.
    """

    def __init__(self, d_model: int, hidden: int | None = None, dropout: float = 0.0,
                 bias: bool = True, approximate: str = "none"):
        super().__init__()
        hidden = 4 * d_model if hidden is None else hidden
        self.fc = Linear(d_model, hidden, bias=bias)
        self.proj = Linear(hidden, d_model, bias=bias)
        self.dropout = Dropout(dropout)
        self.approximate = approximate

    def forward(self, x) -> Tensor:
        # BEGIN SOLUTION
        return self.dropout(self.proj(gelu(self.fc(x), self.approximate)))
        # END SOLUTION


class CausalSelfAttention(Module):
    """Multi-head self-attention where position t sees positions 0..t only.

    One fused Linear makes queries, keys and values at once (one matmul of width 3 * d_model
    instead of three), the heads are split off the feature axis, and the engine's fused
    ``scaled_dot_product_attention(is_causal=True)`` does the masked softmax.
    Shapes: (B, T, d_model) -> (B, T, d_model). Keys: ``qkv.*``, ``proj.*``.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        if d_model % n_heads != 0:
            raise ValueError(f"CausalSelfAttention: d_model={d_model} must be divisible by "
                             f"n_heads={n_heads} (each head gets d_model / n_heads features)")
        self.d_model, self.n_heads = d_model, n_heads
        self.qkv = Linear(d_model, 3 * d_model, bias=bias)
        self.proj = Linear(d_model, d_model, bias=bias)
        self.attn_dropout = dropout
        self.resid_dropout = Dropout(dropout)

    def forward(self, x) -> Tensor:
        B, T, C = x.shape
        H = self.n_heads
        # BEGIN SOLUTION
        qkv = self.qkv(x).reshape(B, T, 3, H, C // H)  # (B, T, 3, H, hs)
        qkv = qkv.permute(2, 0, 3, 1, 4)  # (3, B, H, T, hs)
        q, k, v = qkv[0], qkv[1], qkv[2]  # each (B, H, T, hs)
        p = self.attn_dropout if self.training else 0.0
        y = scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)  # (B, H, T, hs)
        y = y.permute(0, 2, 1, 3).reshape(B, T, C)  # heads side by side again
        return self.resid_dropout(self.proj(y))
        # END SOLUTION


class GPTBlock(Module):
    """A pre-norm decoder block: ``x + attn(ln1(x))``, then ``x + mlp(ln2(x))``.

    Shapes: (B, T, d_model) -> (B, T, d_model). Keys: ``ln1``, ``attn``, ``ln2``, ``mlp``.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0):
        super().__init__()
        self.ln1 = LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads, dropout)
        self.ln2 = LayerNorm(d_model)
        self.mlp = MLP(d_model, 4 * d_model, dropout, approximate="tanh")  # GPT-2's GELU

    def forward(self, x) -> Tensor:
        # BEGIN SOLUTION
        x = x + self.attn(self.ln1(x))  # the residual stream: each sub-layer adds to it
        x = x + self.mlp(self.ln2(x))
        return x
        # END SOLUTION


def _activation_fn(activation):
    if callable(activation):
        return activation
    if activation == "relu":
        return relu
    if activation == "gelu":
        return gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


class TransformerEncoderLayer(Module):
    """``torch.nn.TransformerEncoderLayer``: self-attention and a feed-forward network, each
    wrapped in a residual and a LayerNorm (post-norm by default, as in the 2017 paper).

    Args (PyTorch's): d_model, nhead, dim_feedforward=2048, dropout=0.1,
        activation ("relu", "gelu" or a callable such as ``F.gelu`` or ``nn.GELU()``),
        layer_norm_eps=1e-5, batch_first=False, norm_first=False (True: pre-norm), bias=True.

    Shapes: src (S, B, E), or (B, S, E) with batch_first, or unbatched (S, E) -> same shape.
    Masks follow nn.MultiheadAttention: ``src_mask`` (S, S) or (B * nhead, S, S), boolean True
    = may NOT attend, or float (added); ``src_key_padding_mask`` (B, S), True = padding.

    state_dict keys (PyTorch's): ``self_attn.in_proj_weight``, ``self_attn.in_proj_bias``,
    ``self_attn.out_proj.{weight,bias}``, ``linear1.*``, ``linear2.*``, ``norm1.*``, ``norm2.*``.
    Unlike PyTorch's inference fast path, outputs at padded positions are not zeroed.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation="relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation_fn(activation)  # a Module (nn.GELU()) registers itself
        self.batch_first = batch_first

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, src, src_mask=None, src_key_padding_mask=None,
                is_causal: bool = False) -> Tensor:
        x = src if isinstance(src, Tensor) else Tensor(src)
        # BEGIN SOLUTION
        if self.norm_first:  # pre-norm: the residual stream itself is never normalized
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:  # post-norm: normalize after each residual addition
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x
        # END SOLUTION


def _is_causal_mask(mask, size: int) -> bool:
    """True when ``mask`` is exactly the (size, size) causal mask (float -inf above the
    diagonal, or bool True above it), as PyTorch's ``_detect_is_causal_mask``."""
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.shape != (size, size):
        return False
    upper = np.triu(np.ones((size, size), dtype=bool), 1)
    if m.dtype == np.bool_:
        return bool(np.array_equal(m, upper))
    return bool(np.array_equal(m, np.where(upper, -np.inf, 0.0).astype(m.dtype)))


class TransformerEncoder(Module):
    """``torch.nn.TransformerEncoder``: ``num_layers`` independent copies of
    ``encoder_layer`` (deep copies: no weights shared), then an optional final ``norm``.

    state_dict keys: ``layers.{i}.*`` (and ``norm.*``). Forward as the layer's, with
    ``mask`` for ``src_mask``; ``is_causal=None`` detects a causal ``mask``.
    ``enable_nested_tensor`` and ``mask_check`` are accepted and ignored: PyTorch's
    nested-tensor fast path (inference only) also returns zeros at padded positions, where
    this stack returns what the layers computed.
    """

    def __init__(self, encoder_layer, num_layers: int, norm=None,
                 enable_nested_tensor: bool = True, mask_check: bool = True):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None) -> Tensor:
        x = src if isinstance(src, Tensor) else Tensor(src)
        seq_dim = 1 if (x.ndim == 3 and self.layers and self.layers[0].batch_first) else 0
        if is_causal is None:
            is_causal = mask is not None and _is_causal_mask(mask, x.shape[seq_dim])
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=is_causal)
        if self.norm is not None:
            x = self.norm(x)
        return x
