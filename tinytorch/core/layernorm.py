"""Module 13 -- layer normalization: normalize every token over its own features.

BatchNorm (module 09) normalizes each *channel* with statistics taken over the batch; a
transformer instead normalizes each *token* over its feature vector, with no dependence on the
other samples of the batch (so training and evaluation compute the same thing, and a batch of
one or a sequence of any length is fine):

    LayerNorm:  y = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias
    RMSNorm:    y = x / sqrt(mean(x^2) + eps) * weight           (no centring, no bias)

The statistics are taken over the last ``len(normalized_shape)`` axes of ``x``. Both ops are
fused: one Function whose backward is three reductions over the normalized features, instead
of the dozen small recorded ops the composition ``(x - x.mean()) / (x.var() + eps).sqrt()``
would leave in the graph (and the memory of each of their saved inputs).

Shapes: x (*, *normalized_shape) -> y of the same shape; weight and bias (*normalized_shape).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from tinytorch.core.autograd import Function
from tinytorch.core.blas_sums import col_sum as _col_sum
from tinytorch.core.blas_sums import row_mean as _row_mean
from tinytorch.core.module import Module, Parameter
from tinytorch.core.tensor import Tensor

__all__ = ["layer_norm", "rms_norm", "LayerNorm", "RMSNorm"]


def _as_shape(normalized_shape) -> tuple:
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(int(n) for n in normalized_shape)


def _add_into(a, b):
    """a + b, written into ``a`` when the result has a's dtype (``a`` is a scratch array)."""
    return np.add(a, b, out=a) if np.result_type(a, b) == a.dtype else a + b


def _sub_into(a, b):
    return np.subtract(a, b, out=a) if np.result_type(a, b) == a.dtype else a - b


def _mul_into(a, b):
    return np.multiply(a, b, out=a) if np.result_type(a, b) == a.dtype else a * b


class LayerNormFn(Function):
    """y = xhat * weight + bias, xhat = (x - mean) * rstd, statistics over the last axes.

    Inputs: x (*, N...) viewed as (M, N), weight and bias (N...) or None, eps, and the number
    of normalized axes ``k``. Saves xhat and rstd (M, 1) for the backward.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, eps, k):
        shape = x.shape
        n = math.prod(shape[x.ndim - k:])
        x2 = x.reshape(-1, n)  # (M, N): one row per token
        # BEGIN SOLUTION
        mean = _row_mean(x2)  # x2.mean(axis=1, keepdims=True), summed by BLAS
        xc = x2 - mean
        var = _row_mean(xc * xc)  # biased, two-pass: no cancellation
        rstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        xhat = np.multiply(xc, rstd, out=xc) if xc.dtype == x.dtype else xc * rstd  # in place
        y = xhat if weight is None else xhat * weight.reshape(n)
        if bias is not None:
            y = y + bias.reshape(n) if y is xhat else _add_into(y, bias.reshape(n))
        # END SOLUTION
        ctx.save_for_backward(xhat, rstd, weight)
        ctx.nshape = shape[x.ndim - k:]
        return y.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        xhat, rstd, weight = ctx.saved_tensors
        shape = grad.shape
        n = xhat.shape[1]
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        g = grad.reshape(-1, n)
        # BEGIN SOLUTION
        gx = np.multiply(g, xhat) if need_w or need_x else None  # (M, N), reused below
        dw = _col_sum(gx).reshape(ctx.nshape) if need_w else None
        db = _col_sum(g).reshape(ctx.nshape) if need_b else None
        dx = None
        if need_x:
            # mean and var move with every x of the row:
            #   dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),  dxhat = g * w
            # Both means are matrix-vector products with w: mean(dxhat * xhat) = (g xhat) @ w
            # / N reuses the array dw was summed from, mean(dxhat) = g @ w / N. Computed in
            # place in ``gx`` and ``dxhat``: three (M, N) arrays instead of seven.
            if weight is None:
                dxhat, proj, mean_dxhat = g, _row_mean(gx), _row_mean(g)
            else:
                w = weight.reshape(n)
                dxhat = g * w
                proj = (gx @ w).reshape(-1, 1) / n  # mean(dxhat * xhat)
                mean_dxhat = (g @ w).reshape(-1, 1) / n
            buf = np.multiply(xhat, proj, out=gx) if gx.dtype == np.result_type(xhat, proj) \
                else xhat * proj
            dx = dxhat - mean_dxhat if dxhat is g else _sub_into(dxhat, mean_dxhat)
            dx = _sub_into(dx, buf)
            dx = (_mul_into(dx, rstd)).reshape(shape)
        # END SOLUTION
        return dx, dw, db, None, None


class RMSNormFn(Function):
    """y = x * rrms * weight, rrms = 1 / sqrt(mean(x^2) + eps) over the last axes."""

    @staticmethod
    def forward(ctx, x, weight, eps, k):
        shape = x.shape
        n = int(np.prod(shape[x.ndim - k:], dtype=np.int64))
        x2 = x.reshape(-1, n)
        # BEGIN SOLUTION
        rrms = (1.0 / np.sqrt(np.mean(x2 * x2, axis=1, keepdims=True) + eps)).astype(
            x.dtype, copy=False)
        xhat = x2 * rrms
        y = xhat if weight is None else xhat * weight.reshape(n)
        # END SOLUTION
        ctx.save_for_backward(xhat, rrms, weight)
        ctx.nshape = shape[x.ndim - k:]
        return y.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        xhat, rrms, weight = ctx.saved_tensors
        shape = grad.shape
        n = xhat.shape[1]
        need_x, need_w = ctx.needs_input_grad[:2]
        g = grad.reshape(-1, n)
        # BEGIN SOLUTION
        dw = (g * xhat).sum(axis=0).reshape(ctx.nshape) if need_w else None
        dx = None
        if need_x:
            # no mean to subtract: dx = rrms * (dxhat - xhat * mean(dxhat * xhat))
            dxhat = g if weight is None else g * weight.reshape(n)
            dx = (rrms * (dxhat - xhat * (dxhat * xhat).mean(axis=1, keepdims=True))).reshape(shape)
        # END SOLUTION
        return dx, dw, None, None


def _check(op, input, shape, params):
    # the checks read the arrays' own shapes (tuples): this runs once per norm per step
    if not isinstance(input, Tensor):
        input = Tensor(input)
    x = input._data
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {input.dtype}; "
                        f"call .float() first")
    k = len(shape)
    if k == 0 or x.ndim < k or x.shape[x.ndim - k:] != shape:
        raise ValueError(f"{op}: normalized_shape {list(shape)} must match the last {k} "
                         f"dimension(s) of the input, got input of shape {tuple(input.shape)}")
    for name, p in params:
        if p is not None and (p._data if isinstance(p, Tensor) else np.asarray(p)).shape != shape:
            raise ValueError(f"{op}: {name} of shape {tuple(p.shape)} must have the "
                             f"normalized_shape {list(shape)}")
    return input, k


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """PyTorch's ``F.layer_norm``: normalize over the last ``len(normalized_shape)`` axes.

    Args:
        input: (*, *normalized_shape), floating point.
        normalized_shape: int or tuple, the trailing shape that is normalized.
        weight, bias: (*normalized_shape) or None.
        eps: added to the (biased) variance.
    """
    shape = _as_shape(normalized_shape)
    input, k = _check("layer_norm", input, shape, (("weight", weight), ("bias", bias)))
    return LayerNormFn.apply(input, weight, bias, float(eps), k)


def rms_norm(input, normalized_shape, weight=None, eps: float | None = None) -> Tensor:
    """PyTorch's ``F.rms_norm``: ``x / sqrt(mean(x^2) + eps) * weight`` over the last axes.

    ``eps=None`` uses the machine epsilon of the input's dtype (``torch.finfo(dtype).eps``:
    1.19e-7 for float32, 2.2e-16 for float64), as PyTorch does.
    """
    shape = _as_shape(normalized_shape)
    input, k = _check("rms_norm", input, shape, (("weight", weight),))
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    return RMSNormFn.apply(input, weight, float(eps), k)


class LayerNorm(Module):
    """``torch.nn.LayerNorm``: per-token normalization with a learned scale and shift.

    Args:
        normalized_shape: int or tuple, the trailing shape normalized (usually d_model).
        eps: added to the variance.
        elementwise_affine: learn ``weight`` (ones) and ``bias`` (zeros).
        bias: learn the shift (only with elementwise_affine).
    state_dict keys (PyTorch's): ``weight``, ``bias``.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        dtype = np.dtype(dtype or np.float32)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            self.weight._data[...] = 1
        if self.bias is not None:
            self.bias._data[...] = 0

    def forward(self, input) -> Tensor:
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """``torch.nn.RMSNorm``: scale each token to unit root-mean-square (no centring, no bias).

    Args:
        normalized_shape: int or tuple.
        eps: None means the input dtype's machine epsilon (PyTorch's default).
        elementwise_affine: learn ``weight`` (ones).
    state_dict keys: ``weight``.
    """

    def __init__(self, normalized_shape, eps: float | None = None,
                 elementwise_affine: bool = True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape,
                                            dtype=np.dtype(dtype or np.float32)))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            self.weight._data[...] = 1

    def forward(self, input) -> Tensor:
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
