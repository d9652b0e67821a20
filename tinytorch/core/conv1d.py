"""Module 09 (given code) -- 1-D convolution, for sequences: audio, text, time series.

A 1-D convolution over (N, C, L) is a 2-D convolution over a height-1 image (N, C, 1, L) with
a (O, C/groups, 1, k) kernel: nothing new to derive, so :func:`conv1d` reshapes, calls
``conv2d`` (im2col + matmul, ``conv.py``) and reshapes back. Autograd carries the gradients
through the reshapes.

Shapes are PyTorch's: input (N, C_in, L) or (C_in, L); weight (C_out, C_in / groups, k);
output (N, C_out, Lo) with Lo = floor((L + 2 p - d (k - 1) - 1) / s) + 1.
"""

from __future__ import annotations

import math

import numpy as np

from tinytorch.core import init
from tinytorch.core.conv import conv2d
from tinytorch.core.module import Module, Parameter
from tinytorch.core.padding import pad
from tinytorch.core.tensor import Tensor
from tinytorch.core.windows import _pair

__all__ = ["conv1d", "Conv1d"]


def _one(value, name, op, minimum=1) -> int:
    """``3`` or ``(3,)`` -> 3, checked as conv2d checks its pairs."""
    if isinstance(value, (tuple, list)) and len(value) != 1:
        raise ValueError(f"{op}: {name} must be an int or a 1-tuple, got {value!r}")
    return _pair(value, name, op, minimum)[0]


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-D convolution, PyTorch's ``F.conv1d``.

    Args:
        input: (N, C_in, L) or (C_in, L).
        weight: (C_out, C_in / groups, k).
        bias: (C_out,) or None.
        stride, dilation: int or 1-tuple.
        padding: int, 1-tuple, ``'valid'`` or ``'same'`` (stride 1 only).
        groups: independent channel groups (as conv2d).
    """
    op = "conv1d"
    x = input if isinstance(input, Tensor) else Tensor(input)
    w = weight if isinstance(weight, Tensor) else Tensor(weight)
    if x.ndim not in (2, 3):
        raise ValueError(f"{op}: expected a 3-D input (N, C, L) or a 2-D unbatched input (C, L), "
                         f"got shape {tuple(x.shape)}")
    if w.ndim != 3:
        raise ValueError(f"{op}: weight must be 3-D (out_channels, in_channels/groups, k), got "
                         f"shape {tuple(w.shape)}")
    s, d = _one(stride, "stride", op), _one(dilation, "dilation", op)
    p = padding if isinstance(padding, str) else (0, _one(padding, "padding", op, 0))
    out = conv2d(x.unsqueeze(-2), w.unsqueeze(-2), bias, (1, s), p, (1, d), groups)
    return out.squeeze(-2)  # (N, C_out, 1, Lo) -> (N, C_out, Lo)


class Conv1d(Module):
    """1-D convolution layer, ``torch.nn.Conv1d``: weight (out_channels, in_channels / groups,
    kernel_size), bias (out_channels,), initialised as PyTorch does.

    ``padding_mode``: 'zeros' (default), 'reflect', 'replicate' or 'circular'.
    Shapes: (N, C_in, L) -> (N, C_out, Lo).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__()
        op = "Conv1d"
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{op}: in_channels={in_channels} and out_channels={out_channels} "
                             f"must both be divisible by groups={groups}")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{op}: padding_mode must be 'zeros', 'reflect', 'replicate' or "
                             f"'circular', got {padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = (_one(kernel_size, "kernel_size", op),)
        self.stride = (_one(stride, "stride", op),)
        self.dilation = (_one(dilation, "dilation", op),)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{op}: padding must be an int, 'valid' or 'same', got "
                                 f"{padding!r}")
            if padding == "same" and self.stride != (1,):
                raise ValueError(f"{op}: padding='same' is not supported for strided "
                                 "convolutions")
            self.padding = padding
        else:
            self.padding = (_one(padding, "padding", op, 0),)
        self.groups, self.padding_mode = groups, padding_mode
        dt = np.dtype(dtype or np.float32)
        self.weight = Parameter(np.empty((out_channels, in_channels // groups)
                                         + self.kernel_size, dtype=dt))
        if bias:
            self.bias = Parameter(np.empty((out_channels,), dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default, as Conv2d: kaiming_uniform_(a=sqrt(5)), bias U(+-1/sqrt(fan_in))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * self.kernel_size[0]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _pads(self) -> tuple[int, int]:
        if self.padding == "valid":
            return (0, 0)
        if self.padding == "same":
            total = self.dilation[0] * (self.kernel_size[0] - 1)
            return (total // 2, total - total // 2)
        return (self.padding[0], self.padding[0])

    def forward(self, input) -> Tensor:
        if self.padding_mode != "zeros":
            input = pad(input, self._pads(), mode=self.padding_mode)
            return conv1d(input, self.weight, self.bias, self.stride, 0, self.dilation,
                          self.groups)
        return conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,):
            s += f", padding={self.padding}"  # 'same' prints as same, as in torch
        if self.dilation != (1,):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s
