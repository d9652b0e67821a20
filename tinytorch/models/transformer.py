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
from tinytorch.core.tensor import Tensor

__all__ = ["MLP", "CausalSelfAttention", "GPTBlock"]


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
