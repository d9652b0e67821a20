"""Module 14 -- FLOPs from real shapes, counted the way PyTorch's ``FlopCounterMode`` does.

A FLOP here is one floating-point multiply or add; a multiply-accumulate is 2. Only the ops
that dominate a network's arithmetic are counted -- matrix products, convolutions and
attention -- with the formulas of ``torch/utils/flop_counter.py``, so a count printed here
equals PyTorch's for the same model and shapes:

* ``(.., M, K) @ (.., K, N)``: ``2 * batch * M * N * K`` (``batch`` is the product of the
  broadcast leading dims; ``nn.Linear`` (one op, ``LinearFn``, as PyTorch's ``addmm``) on
  ``(B, in)`` is ``2 * B * out * in``; the bias add is not counted);
* ``conv2d`` with weight ``(C_out, C_in / groups, kh, kw)``: ``2 * N * C_out * H_out * W_out *
  (C_in / groups) * kh * kw`` -- one multiply-add per weight per output pixel;
* attention ``(B.., L, d) x (B.., S, d) x (B.., S, dv)``: the two batched products
  ``2 * B * L * S * d + 2 * B * L * S * dv`` (a causal mask is not discounted);
* ``einsum``: what PyTorch's einsum runs, contracting the operands left to right in pairs (its
  order without ``opt_einsum``); a pair that sums over a shared letter is a batched matmul,
  ``2 *`` the product of the sizes of every letter it keeps or sums; a pair that sums over
  nothing (an outer or elementwise product) is a multiply, not counted.

Backward: each input that needs a gradient costs one more product of the same size
(``dA = dY @ B^T`` and ``dB = A^T @ dY`` are each as large as ``A @ B``), which is why a
training step is about three forwards. PyTorch counts a grouped convolution's weight gradient
``groups`` times (its formula sees the full ``C_in``); we follow it so totals agree.

Elementwise ops, norms and softmax are not counted by default (PyTorch does not either): they
are memory-bound, not arithmetic-bound. :data:`EXTRA_FLOP_FORMULAS` has per-element
conventions for them; pass it as ``FlopCounterMode(custom_mapping=EXTRA_FLOP_FORMULAS)``.
"""

from __future__ import annotations

import math

import numpy as np

from tinytorch.core.attention import SDPAFn
from tinytorch.core.conv import Conv2dFn
from tinytorch.core.conv_transpose import ConvTranspose2dFn
from tinytorch.core.flash_attention import FlashAttentionFn
from tinytorch.core.layers import LinearFn
from tinytorch.core.ops_matmul import Einsum
from tinytorch.core.tensor_ops import MatMul

__all__ = ["matmul_flops", "conv2d_flops", "conv_transpose2d_flops", "attention_flops",
           "einsum_flops",
           "FORWARD_FLOPS", "BACKWARD_FLOPS", "EXTRA_FLOP_FORMULAS", "op_name"]


def matmul_flops(a_shape, b_shape) -> int:
    """FLOPs of ``A @ B`` with NumPy's matmul rules: ``2 * batch * M * N * K``.

    A 1-D operand is a single row (``A``) or column (``B``); leading dims broadcast, and
    every one of the ``batch`` products is counted. Example: ``(32, 64) @ (64, 10)`` is
    ``2 * 32 * 10 * 64 = 40,960``.
    """
    a_shape, b_shape = tuple(a_shape), tuple(b_shape)
    if len(a_shape) == 1:
        a_shape = (1,) + a_shape
    if len(b_shape) == 1:
        b_shape = b_shape + (1,)
    # BEGIN SOLUTION
    m, k = a_shape[-2:]
    n = b_shape[-1]
    batch = math.prod(np.broadcast_shapes(a_shape[:-2], b_shape[:-2]))
    return 2 * batch * m * n * k
    # END SOLUTION


def conv2d_flops(x_shape, w_shape, out_shape) -> int:
    """FLOPs of a 2-D convolution: ``2 * N * C_out * H_out * W_out * (C_in/groups) * kh * kw``.

    ``w_shape`` is ``(C_out, C_in / groups, kh, kw)`` (its second dim already is the channels
    one output sees); ``out_shape`` is ``(N, C_out, H_out, W_out)``: stride, padding and
    dilation only act through the output's size. The bias add is not counted.
    """
    # BEGIN SOLUTION
    _, cin_per_group, kh, kw = w_shape
    return 2 * math.prod(out_shape) * cin_per_group * kh * kw
    # END SOLUTION


def conv_transpose2d_flops(x_shape, w_shape) -> int:
    """FLOPs of a transposed convolution (weight ``(C_in, C_out/groups, kh, kw)``): one
    multiply-add per weight per *input* pixel,
    ``2 * N * H * W * C_in * (C_out/groups) * kh * kw``."""
    n, _, h, w = x_shape
    return 2 * n * h * w * math.prod(w_shape)


def attention_flops(q_shape, k_shape, v_shape) -> int:
    """FLOPs of ``softmax(Q K^T) V``: the two batched products (softmax not counted)."""
    *qb, L, d = q_shape
    *kb, S, _ = k_shape
    dv = v_shape[-1]
    batch = math.prod(np.broadcast_shapes(tuple(qb), tuple(kb), tuple(v_shape[:-2])))
    return 2 * batch * L * S * d + 2 * batch * L * S * dv


def einsum_flops(subs, out: str, shapes, needs=None) -> int:
    """FLOPs of ``einsum(",".join(subs) + "->" + out)`` on operands of ``shapes``, as PyTorch
    counts them; with ``needs`` (which operands need a gradient), the backward's instead.

    The operands are contracted left to right. At each pair, a letter that neither the output
    nor a later operand needs, and that only one side has, is summed away first (a sum, not
    counted); the letters both sides share and nothing later needs are the contraction ``K``.
    With a ``K`` the pair is a batched matmul over every letter kept or summed: ``2 * prod``
    of their sizes (``"bij,bjk->bik"``: ``2 * b * i * k * j``). Without one it is an
    elementwise or outer product, which PyTorch's counter does not count. Backward: each side
    that needs a gradient (an intermediate does when any operand in it does) costs one more
    product of the same size, as for ``matmul``.
    """
    sizes = {}
    for sub, shape in zip(subs, shapes):
        sizes.update(zip(sub, shape))
    needs = list(needs) if needs is not None else None
    left, left_needs, total = subs[0], (needs[0] if needs else False), 0
    for k in range(1, len(subs)):
        right = subs[k]
        later = set(out).union(*map(set, subs[k + 1:]))
        keep = set(left).union(right) & later
        contracted = (set(left) & set(right)) - later
        if contracted:
            flops = 2 * math.prod(sizes[c] for c in keep | contracted)
            if needs is None:
                total += flops
            else:
                total += flops * (bool(left_needs) + bool(needs[k]))
        left = "".join(c for c in dict.fromkeys(left + right) if c in keep)
        left_needs = bool(left_needs) or (bool(needs[k]) if needs else False)
    return total


# --------------------------------------------------------------------------- per-op formulas
# Forward: f(args, out_shape) where args are the op's positional arguments with every array
# replaced by its shape. Backward: f(args, out_shape, needs_input_grad).


def _matmul_bwd(args, out_shape, needs):
    return matmul_flops(args[0], args[1]) * (bool(needs[0]) + bool(needs[1]))


def _linear_fwd(args, out_shape):
    return matmul_flops(args[0], args[1][::-1])  # (*, in) @ (in, out): the weight transposed


def _linear_bwd(args, out_shape, needs):
    return _linear_fwd(args, out_shape) * (bool(needs[0]) + bool(needs[1]))  # bias: a sum


def _conv_bwd(args, out_shape, needs):
    fwd = conv2d_flops(args[0], args[1], out_shape)
    return fwd * bool(needs[0]) + fwd * args[6] * bool(needs[1])  # args[6]: groups


def _conv_t_bwd(args, out_shape, needs):
    fwd = conv_transpose2d_flops(args[0], args[1])
    return fwd * bool(needs[0]) + fwd * args[7] * bool(needs[1])  # args[7]: groups


def _attention_bwd(args, out_shape, needs):
    # PyTorch's CPU path: dV = W^T dO; dW = dO V^T (for Q or K); dQ = dS K; dK = dS^T Q
    q, k, v = args[0], args[1], args[2]
    *qb, L, d = q
    S, dv = k[-2], v[-1]
    batch = math.prod(np.broadcast_shapes(tuple(qb), tuple(k[:-2]), tuple(v[:-2])))
    flops = 2 * batch * L * S * dv * (bool(needs[2]) + bool(needs[0] or needs[1]))
    return flops + 2 * batch * L * S * d * (bool(needs[0]) + bool(needs[1]))


def _einsum_fwd(args, out_shape, subs=(), out=""):
    return einsum_flops(subs, out, args)


def _einsum_bwd(args, out_shape, needs, subs=(), out=""):
    return einsum_flops(subs, out, args, needs)


# Formulas that need the op's keyword arguments (forward) or the same names saved on its node
# (backward) besides the shapes: the counter passes them by name.
_einsum_fwd.keywords = _einsum_bwd.keywords = ("subs", "out")

FORWARD_FLOPS = {
    MatMul: lambda args, out: matmul_flops(args[0], args[1]),
    LinearFn: _linear_fwd,
    Einsum: _einsum_fwd,
    Conv2dFn: lambda args, out: conv2d_flops(args[0], args[1], out),
    ConvTranspose2dFn: lambda args, out: conv_transpose2d_flops(args[0], args[1]),
    SDPAFn: lambda args, out: attention_flops(args[0], args[1], args[2]),
    FlashAttentionFn: lambda args, out: attention_flops(args[0], args[1], args[2]),
}

BACKWARD_FLOPS = {
    MatMul: _matmul_bwd,
    LinearFn: _linear_bwd,
    Einsum: _einsum_bwd,
    Conv2dFn: _conv_bwd,
    ConvTranspose2dFn: _conv_t_bwd,
    SDPAFn: _attention_bwd,
    FlashAttentionFn: _attention_bwd,
}


def _per_element(k):
    return lambda args, out: k * math.prod(out)


def _extra_formulas() -> dict:
    """Per-element conventions for memory-bound ops (PyTorch counts none of these)."""
    from tinytorch.core.activations import GELUFn, LogSoftmaxFn, SoftmaxFn
    from tinytorch.core.layernorm import LayerNormFn, RMSNormFn
    from tinytorch.core.normalization import BatchNormFn

    return {
        # (x - mean) * rstd * gamma + beta, with the mean and variance sums: ~7 per element
        LayerNormFn: _per_element(7), BatchNormFn: _per_element(7),
        RMSNormFn: _per_element(4),  # square, sum, scale, gamma
        SoftmaxFn: _per_element(4), LogSoftmaxFn: _per_element(4),  # max, sub, exp, sum/div
        GELUFn: _per_element(8),  # the tanh approximation's polynomial
    }


EXTRA_FLOP_FORMULAS = _extra_formulas()


def op_name(cls) -> str:
    """The name an op's events carry: ``Conv2dFn`` -> ``"Conv2d"``, ``MatMul`` -> ``"MatMul"``."""
    name = cls.__name__
    return name[:-2] if name.endswith("Fn") else name


def shapes_of(values) -> tuple:
    """``values`` with every array (or Tensor) replaced by its shape tuple."""
    out = []
    for a in values:
        if isinstance(a, np.ndarray):
            out.append(a.shape)
        elif hasattr(a, "_data") and isinstance(getattr(a, "_data", None), np.ndarray):
            out.append(a._data.shape)
        else:
            out.append(a)
    return tuple(out)
