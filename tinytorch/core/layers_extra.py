"""Module 03 (given code) -- more layers and parameter utilities, PyTorch's names.

* ``Unflatten``: the inverse of ``Flatten``, one axis split into several
  ((N, 64) -> (N, 4, 4, 4) at the top of a decoder);
* ``Bilinear``: y_o = x1^T A_o x2 + b_o, a learned interaction between two inputs;
* ``parameters_to_vector`` / ``vector_to_parameters``: all weights of a model as one flat
  vector and back (for second-order methods, evolution strategies, weight averaging).

Compositions of ops whose gradients autograd already has: no new backward to derive.
"""

from __future__ import annotations

import math

import numpy as np

from tinytorch.core import init
from tinytorch.core.module import Module, Parameter
from tinytorch.core.tensor import Tensor
from tinytorch.core.tensor_functions import cat

__all__ = ["Unflatten", "Bilinear", "bilinear", "parameters_to_vector", "vector_to_parameters",
           "DataParallel"]


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size`` (one entry may be -1)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if isinstance(dim, str):
            raise NotImplementedError("Unflatten: named dimensions are not supported")
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input) -> Tensor:
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


def bilinear(input1, input2, weight, bias=None) -> Tensor:
    """y[..., o] = sum_ij x1[..., i] W[o, i, j] x2[..., j] + b[o].

    Shapes: x1 (..., in1), x2 (..., in2), W (out, in1, in2), b (out,) -> (..., out).
    Written as one matmul and a reduction: t = x1 @ W' with W' (in1, out * in2), then
    y = sum_j t[..., o, j] * x2[..., j].
    """
    out_f, in1, in2 = weight.shape
    if input1.shape[-1] != in1 or input2.shape[-1] != in2:
        raise ValueError(f"bilinear: inputs of shapes {tuple(input1.shape)} and "
                         f"{tuple(input2.shape)} do not match a weight of shape "
                         f"{tuple(weight.shape)} (out, in1, in2)")
    w = weight.permute(1, 0, 2).reshape(in1, out_f * in2)  # (in1, out * in2)
    t = (input1 @ w).reshape(*input1.shape[:-1], out_f, in2)  # (..., out, in2)
    y = (t * input2.unsqueeze(-2)).sum(-1)  # (..., out)
    return y if bias is None else y + bias


class Bilinear(Module):
    """``torch.nn.Bilinear``: weight (out, in1, in2) and bias (out,), both U(-1/sqrt(in1),
    1/sqrt(in1)) as PyTorch initialises them."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        dt = np.dtype(dtype or np.float32)
        self.weight = Parameter(np.empty((out_features, in1_features, in2_features), dtype=dt))
        if bias:
            self.bias = Parameter(np.empty((out_features,), dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2) -> Tensor:
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class DataParallel(Module):
    """``torch.nn.DataParallel`` on a CPU-only build: one device, so it just calls ``module``.

    Kept for programs that wrap their model when several GPUs are present; the wrapped model is
    ``self.module`` and the state_dict keys carry the ``module.`` prefix, as in PyTorch.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        self.module, self.dim = module, dim
        self.device_ids, self.output_device = [], None

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def parameters_to_vector(parameters) -> Tensor:
    """Every parameter flattened and concatenated, in order: one (P,) Tensor (differentiable,
    as in PyTorch)."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters) -> None:
    """Copy consecutive slices of ``vec`` into the parameters (in place, no graph)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    flat = vec._data.reshape(-1)
    offset = 0
    for p in parameters:
        n = p._data.size
        if offset + n > flat.size:
            raise ValueError(f"vector_to_parameters: the vector has {flat.size} values, fewer "
                             "than the parameters hold")
        p._data[...] = flat[offset:offset + n].reshape(p._data.shape)
        offset += n
