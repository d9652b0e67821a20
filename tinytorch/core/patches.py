"""Module 09 (given code) -- images as patches: ``F.unfold``/``F.fold`` and pixel shuffling.

``unfold`` is im2col (``im2col.py``) handed to the user: every kh x kw window of every channel
becomes a column, (N, C, H, W) -> (N, C*kh*kw, L) with L the number of windows. A convolution
is then ``weight.view(O, -1) @ unfold(x)``; a vision transformer's patch embedding is unfold
with stride = kernel. ``fold`` is its adjoint, col2im: columns are added back into an image
(overlapping windows sum), so the two are each other's backward.

``pixel_shuffle`` (Shi et al., 2016, the super-resolution example of PyTorch) moves channels
into space: (N, C r^2, H, W) -> (N, C, H r, W r); ``pixel_unshuffle`` undoes it. Both are a
reshape and a permutation, whose gradients autograd already has.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.autograd import Function
from tinytorch.core.im2col import BATCH_SECOND, _inverse, col2im, im2col, to_layout
from tinytorch.core.module import Module
from tinytorch.core.tensor import Tensor
from tinytorch.core.windows import _pair, conv_output_size

__all__ = ["unfold", "fold", "pixel_shuffle", "pixel_unshuffle", "Unfold", "Fold",
           "PixelShuffle", "PixelUnshuffle"]


def _geometry(kernel_size, dilation, padding, stride, op):
    return (_pair(kernel_size, "kernel_size", op), _pair(dilation, "dilation", op),
            _pair(padding, "padding", op, minimum=0), _pair(stride, "stride", op))


class UnfoldFn(Function):
    """x (N, C, H, W) -> (N, C*kh*kw, L): im2col forward, col2im backward."""

    @staticmethod
    def forward(ctx, x, kernel, dilation, padding, stride, out_hw):
        n = x.shape[0]
        pads = (padding[0], padding[0], padding[1], padding[1])
        xw = to_layout(x, pads, BATCH_SECOND)  # (C, N, Hp, Wp)
        cols = im2col(xw, BATCH_SECOND, kernel, out_hw, stride, dilation)  # (C*k, N*L)
        ctx.conf = (x.shape, xw.shape, kernel, dilation, pads, stride, out_hw)
        return np.ascontiguousarray(cols.reshape(cols.shape[0], n, -1).transpose(1, 0, 2))

    @staticmethod
    def backward(ctx, grad):
        x_shape, padded, kernel, dilation, pads, stride, out_hw = ctx.conf
        h, w = x_shape[2:]
        dcols = np.ascontiguousarray(grad.transpose(1, 0, 2)).reshape(grad.shape[1], -1)
        dxw = col2im(dcols, padded, BATCH_SECOND, kernel, out_hw, stride, dilation)
        dx = dxw.transpose(_inverse(BATCH_SECOND))[:, :, pads[0]:pads[0] + h, pads[2]:pads[2] + w]
        return dx, None, None, None, None, None


class FoldFn(Function):
    """cols (N, C*kh*kw, L) -> (N, C, H, W): col2im forward, im2col backward."""

    @staticmethod
    def forward(ctx, cols, out_size, kernel, dilation, padding, stride, out_hw):
        n, ck, _ = cols.shape
        c = ck // (kernel[0] * kernel[1])
        pads = (padding[0], padding[0], padding[1], padding[1])
        h, w = out_size
        padded_nchw = (n, c, h + 2 * padding[0], w + 2 * padding[1])
        padded = tuple(padded_nchw[a] for a in BATCH_SECOND)
        flat = np.ascontiguousarray(cols.transpose(1, 0, 2)).reshape(ck, -1)
        xw = col2im(flat, padded, BATCH_SECOND, kernel, out_hw, stride, dilation)
        ctx.conf = (kernel, dilation, pads, stride, out_hw, n)
        out = xw.transpose(_inverse(BATCH_SECOND))[:, :, pads[0]:pads[0] + h, pads[2]:pads[2] + w]
        return np.ascontiguousarray(out)

    @staticmethod
    def backward(ctx, grad):
        kernel, dilation, pads, stride, out_hw, n = ctx.conf
        cols = im2col(to_layout(grad, pads, BATCH_SECOND), BATCH_SECOND, kernel, out_hw, stride,
                      dilation)
        return cols.reshape(cols.shape[0], n, -1).transpose(1, 0, 2), *(None,) * 6


def unfold(input, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sliding windows as columns: (N, C, H, W) or (C, H, W) -> (N, C*kh*kw, L)."""
    op = "unfold"
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 3-D or 4-D input, got shape {tuple(x.shape)}")
    if x.ndim == 3:
        return unfold(x.unsqueeze(0), kernel_size, dilation, padding, stride).squeeze(0)
    kernel, dilation, padding, stride = _geometry(kernel_size, dilation, padding, stride, op)
    out_hw = tuple(conv_output_size(s, k, st, p, p, d) for s, k, st, p, d in
                   zip(x.shape[2:], kernel, stride, padding, dilation))
    if min(out_hw) < 1:
        raise ValueError(f"{op}: the {kernel} window does not fit in the input {tuple(x.shape)}"
                         f" with padding {padding}")
    return UnfoldFn.apply(x, kernel, dilation, padding, stride, out_hw)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Columns back into an image, summing overlaps: (N, C*kh*kw, L) -> (N, C, H, W)."""
    op = "fold"
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim == 2:
        return fold(x.unsqueeze(0), output_size, kernel_size, dilation, padding, stride).squeeze(0)
    kernel, dilation, padding, stride = _geometry(kernel_size, dilation, padding, stride, op)
    size = _pair(output_size, "output_size", op)
    out_hw = tuple(conv_output_size(s, k, st, p, p, d) for s, k, st, p, d in
                   zip(size, kernel, stride, padding, dilation))
    if x.ndim != 3 or x.shape[1] % (kernel[0] * kernel[1]) or x.shape[2] != out_hw[0] * out_hw[1]:
        raise ValueError(f"{op}: expected input (N, C*{kernel[0]}*{kernel[1]}, "
                         f"{out_hw[0] * out_hw[1]}) for output_size {size}, got "
                         f"{tuple(x.shape)}")
    return FoldFn.apply(x, size, kernel, dilation, padding, stride, out_hw)


def pixel_shuffle(input, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r): channel groups become r x r pixel blocks."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    r = int(upscale_factor)
    *lead, c, h, w = x.shape
    if c % (r * r):
        raise ValueError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible "
                         f"by the square of upscale_factor, but input.size(-3)={c} is not "
                         f"divisible by {r * r}")
    k = len(lead)
    y = x.reshape(*lead, c // (r * r), r, r, h, w)
    y = y.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)  # (*, C, H, r, W, r)
    return y.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r^2, H, W): the inverse of :func:`pixel_shuffle`."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    r = int(downscale_factor)
    *lead, c, hr, wr = x.shape
    if hr % r or wr % r:
        raise ValueError(f"pixel_unshuffle expects height and width divisible by "
                         f"downscale_factor {r}, got {hr}x{wr}")
    k = len(lead)
    y = x.reshape(*lead, c, hr // r, r, wr // r, r)
    y = y.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)  # (*, C, r, r, H, W)
    return y.reshape(*lead, c * r * r, hr // r, wr // r)


class Unfold(Module):
    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = (kernel_size, dilation,
                                                                      padding, stride)

    def forward(self, input) -> Tensor:
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size = output_size
        self.kernel_size, self.dilation, self.padding, self.stride = (kernel_size, dilation,
                                                                      padding, stride)

    def forward(self, input) -> Tensor:
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                    self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")


class PixelShuffle(Module):
    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input) -> Tensor:
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input) -> Tensor:
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
