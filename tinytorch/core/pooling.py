"""Module 09 -- pooling: shrink feature maps so later layers see larger regions.

Pooling uses strided views: for each of the kh*kw offsets inside a window,
``x[..., i::s, j::s]`` is an (N, C, Ho, Wo) view of the pixel at that offset in every window
(:func:`~tinytorch.core.windows._window`), so a max or mean over windows is kh*kw whole-array
NumPy operations. :func:`max_pool2d_naive` is the course path: explicit loops over windows.
Adaptive average pooling is two small matmuls.

Shapes follow PyTorch: (N, C, H, W) -> (N, C, Ho, Wo).
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.autograd import Function
from tinytorch.core.module import Module
from tinytorch.core.tensor import Tensor
from tinytorch.core.windows import (_as_image, _pad_array, _pair, _unbatch, _window,
                                    conv_output_size)

__all__ = ["max_pool2d", "max_pool2d_naive", "avg_pool2d", "adaptive_avg_pool2d",
           "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]


def _pool_geometry(x_shape, kernel_size, stride, padding, dilation, ceil_mode, op):
    """Kernel, stride, padding, dilation, output size and the extra bottom/right padding
    a ``ceil_mode`` window needs; validates them as PyTorch does."""
    kernel = _pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else _pair(stride, "stride", op)
    padding = _pair(padding, "padding", op, minimum=0)
    dilation = _pair(dilation, "dilation", op)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding} should be at most half of kernel_size "
                         f"{kernel}")
    h, w = x_shape[-2:]
    ho = conv_output_size(h, kernel[0], stride[0], padding[0], padding[0], dilation[0], ceil_mode)
    wo = conv_output_size(w, kernel[1], stride[1], padding[1], padding[1], dilation[1], ceil_mode)
    if ho < 1 or wo < 1:
        raise ValueError(
            f"{op}: the window ({kernel[0]}x{kernel[1]}, dilation {dilation}) does not fit in the "
            f"input of shape {tuple(x_shape)} with padding {padding}: the output would be "
            f"{ho}x{wo}. Use a smaller kernel or a larger input."
        )
    # ceil_mode: the last window may hang over the bottom/right edge; pad the overhang
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    extra_h = max(0, (ho - 1) * stride[0] + span[0] - (h + 2 * padding[0]))
    extra_w = max(0, (wo - 1) * stride[1] + span[1] - (w + 2 * padding[1]))
    pads = (padding[0], padding[0] + extra_h, padding[1], padding[1] + extra_w)
    return kernel, stride, dilation, pads, (ho, wo)


def _offsets(kernel):
    """Kernel offsets (i, j) in row-major order: the order PyTorch scans a window in."""
    return [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]


def _non_overlapping(kernel, stride, dilation) -> bool:
    """True when every input pixel lies in at most one window (e.g. 2x2 pooling, stride 2)."""
    return all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))


class MaxPool2dFn(Function):
    """Max over each window. x (N, C, H, W) -> (N, C, Ho, Wo).

    Forward: ``y = max`` of the kh*kw strided views, one ``np.maximum`` per kernel offset.
    Backward: the gradient of a window goes to its maximum; as in PyTorch, a tie goes to the
    first maximum in row-major order. Recomputed from the saved input and output, one mask
    per offset, so nothing per window is stored.
    """

    @staticmethod
    def forward(ctx, x, kernel, stride, dilation, pads, out_hw):
        xp = _pad_array(x, pads, -np.inf)  # padding never wins a max
        # BEGIN SOLUTION
        offsets = _offsets(kernel)
        y = _window(xp, *offsets[0], out_hw, stride, dilation).copy()
        for i, j in offsets[1:]:
            np.maximum(y, _window(xp, i, j, out_hw, stride, dilation), out=y)
        # END SOLUTION
        ctx.save_for_backward(xp, y)
        ctx.conf = (x.shape, kernel, stride, dilation, pads, out_hw)
        return y

    @staticmethod
    def backward(ctx, grad):
        x_shape, kernel, stride, dilation, pads, out_hw = ctx.conf
        xp, y = ctx.saved_tensors
        overlap = not _non_overlapping(kernel, stride, dilation)
        # BEGIN SOLUTION
        dxp = np.zeros(xp.shape, dtype=grad.dtype)
        free = None  # windows whose maximum has not been claimed by an earlier offset
        hit = np.empty(y.shape, dtype=bool)  # reused for every offset: no temporaries
        for i, j in _offsets(kernel):
            np.equal(_window(xp, i, j, out_hw, stride, dilation), y, out=hit)
            if free is None:
                free = ~hit
            else:
                hit &= free
                np.greater(free, hit, out=free)  # free and not hit (booleans)
            target = _window(dxp, i, j, out_hw, stride, dilation)
            if overlap:  # a pixel may be the max of several windows: accumulate
                target += grad * hit
            else:  # each pixel belongs to one window: write directly
                np.multiply(grad, hit, out=target)
        # END SOLUTION
        top, _, left, _ = pads
        h, w = x_shape[-2:]
        return dxp[..., top:top + h, left:left + w], None, None, None, None, None


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False) -> Tensor:
    """Max over kh x kw windows, PyTorch's ``F.max_pool2d``.

    Args:
        input: (N, C, H, W) or (C, H, W).
        kernel_size: window size, int or (kh, kw).
        stride: step between windows; defaults to ``kernel_size`` (non-overlapping windows).
        padding: implicit -inf padding on each side (at most half the kernel).
        dilation: spacing between the pixels of a window.
        ceil_mode: round the output size up (a last, partial window).
    Returns:
        (N, C, Ho, Wo), Ho = floor((H + 2 p - d (k - 1) - 1) / s) + 1.
    """
    op = "max_pool2d"
    if return_indices:  # a gather at the argmax positions (pooling_extra.py)
        from tinytorch.core.pooling_extra import max_pool2d_with_indices

        return max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    x, unbatched = _as_image(input, op)
    kernel, stride, dilation, pads, out_hw = _pool_geometry(
        x.shape, kernel_size, stride, padding, dilation, ceil_mode, op)
    out = MaxPool2dFn.apply(x, kernel, stride, dilation, pads, out_hw)
    return _unbatch(out, unbatched)


def max_pool2d_naive(input, kernel_size, stride=None, padding=0) -> Tensor:
    """Max pooling with explicit loops over images, channels and windows (no autograd).

    The course path beside :class:`MaxPool2dFn`: each output is the ``max`` of one window of
    the (-inf padded) input.
    """
    x = input._data if isinstance(input, Tensor) else np.asarray(input)
    (kh, kw) = _pair(kernel_size, "kernel_size", "max_pool2d_naive")
    (sh, sw) = (kh, kw) if stride is None else _pair(stride, "stride", "max_pool2d_naive")
    (ph, pw) = _pair(padding, "padding", "max_pool2d_naive", 0)
    n_img, c, h, w = x.shape
    ho = conv_output_size(h, kh, sh, ph, ph)
    wo = conv_output_size(w, kw, sw, pw, pw)
    xp = _pad_array(x, (ph, ph, pw, pw), -np.inf)
    out = np.empty((n_img, c, ho, wo), dtype=x.dtype)
    # BEGIN SOLUTION
    for n in range(n_img):
        for ch in range(c):
            for y in range(ho):
                for xx in range(wo):
                    out[n, ch, y, xx] = np.max(xp[n, ch, y * sh:y * sh + kh, xx * sw:xx * sw + kw])
    # END SOLUTION
    return Tensor(out)


class AvgPool2dFn(Function):
    """Mean over each window. x (N, C, H, W) -> (N, C, Ho, Wo).

    ``divisor`` is a number, or an (Ho, Wo) array when windows differ in how many pixels they
    count (``count_include_pad=False`` or a ``ceil_mode`` window past the edge).
    """

    @staticmethod
    def forward(ctx, x, kernel, stride, pads, out_hw, divisor):
        xp = _pad_array(x, pads, 0.0)  # zeros add nothing to a sum
        # BEGIN SOLUTION
        offsets = _offsets(kernel)
        total = _window(xp, *offsets[0], out_hw, stride).astype(x.dtype, copy=True)
        for i, j in offsets[1:]:
            total += _window(xp, i, j, out_hw, stride)
        y = total / np.asarray(divisor, dtype=x.dtype)
        # END SOLUTION
        ctx.conf = (x.shape, xp.shape, kernel, stride, pads, out_hw, divisor)
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x_shape, xp_shape, kernel, stride, pads, out_hw, divisor = ctx.conf
        # BEGIN SOLUTION
        share = grad / np.asarray(divisor, dtype=grad.dtype)  # each pixel got 1/divisor of it
        dxp = np.zeros(xp_shape, dtype=grad.dtype)
        for i, j in _offsets(kernel):
            _window(dxp, i, j, out_hw, stride)[...] += share
        # END SOLUTION
        top, _, left, _ = pads
        h, w = x_shape[-2:]
        return dxp[..., top:top + h, left:left + w], None, None, None, None, None


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None) -> Tensor:
    """Mean over kh x kw windows, PyTorch's ``F.avg_pool2d``.

    Args:
        input: (N, C, H, W) or (C, H, W).
        kernel_size, stride, padding, ceil_mode: as :func:`max_pool2d` (padding is zeros).
        count_include_pad: divide by the full window size, padding included (PyTorch's
            default); if False divide by the number of real pixels in the window.
        divisor_override: divide every window sum by this number instead.
    Returns:
        (N, C, Ho, Wo).
    """
    op = "avg_pool2d"
    x, unbatched = _as_image(input, op)
    kernel, stride, _, pads, out_hw = _pool_geometry(
        x.shape, kernel_size, stride, padding, 1, ceil_mode, op)
    h, w = x.shape[-2:]
    if divisor_override is not None:
        if divisor_override == 0:
            raise ValueError(f"{op}: divisor_override must be non-zero")
        divisor = float(divisor_override)
    elif count_include_pad and pads[1] == pads[0] and pads[3] == pads[2]:
        divisor = float(kernel[0] * kernel[1])  # every window counts all its pixels
    else:
        # Count, per window, the pixels that count: real pixels, plus the symmetric padding
        # if count_include_pad; never the ceil_mode overhang. A sum-pool of a 0/1 map.
        ph, pw = pads[0], pads[2]
        counted = np.zeros((h + pads[0] + pads[1], w + pads[2] + pads[3]))
        if count_include_pad:
            counted[:h + 2 * ph, :w + 2 * pw] = 1.0
        else:
            counted[ph:ph + h, pw:pw + w] = 1.0
        divisor = sum(_window(counted, i, j, out_hw, stride) for i, j in _offsets(kernel))
    out = AvgPool2dFn.apply(x, kernel, stride, pads, out_hw, divisor)
    return _unbatch(out, unbatched)


def _adaptive_matrix(size: int, out: int, dtype) -> np.ndarray:
    """(out, size) averaging matrix of adaptive pooling along one axis.

    Bin k covers [floor(k * size / out), ceil((k + 1) * size / out)), PyTorch's rule; row k
    holds 1 / (bin length) on that range. Bins may overlap when ``size`` is not a multiple.
    """
    m = np.zeros((out, size), dtype=dtype)
    for k in range(out):  # a loop over output bins (a handful), not over pixels
        start = (k * size) // out
        end = -((-(k + 1) * size) // out)
        m[k, start:end] = 1.0 / (end - start)
    return m


class AdaptiveAvgPool2dFn(Function):
    """Adaptive average pooling as two small matmuls: ``y = A_h @ x @ A_w^T``.

    The mean over a rectangle is separable (average the rows, then the columns), so with the
    averaging matrices A_h (Ho, H) and A_w (Wo, W) the whole op is linear and its backward is
    ``dx = A_h^T @ dy @ A_w``.
    """

    @staticmethod
    def forward(ctx, x, out_hw):
        h, w = x.shape[-2:]
        a_h = _adaptive_matrix(h, out_hw[0], x.dtype)
        a_w = _adaptive_matrix(w, out_hw[1], x.dtype)
        ctx.save_for_backward(a_h, a_w)
        # BEGIN SOLUTION
        return np.matmul(np.matmul(a_h, x), a_w.T)  # (Ho, H) @ (N, C, H, W) @ (W, Wo)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        a_h, a_w = ctx.saved_tensors
        # BEGIN SOLUTION
        return np.matmul(np.matmul(a_h.T, grad), a_w), None
        # END SOLUTION


def adaptive_avg_pool2d(input, output_size) -> Tensor:
    """Average-pool to a fixed output size whatever the input size, ``F.adaptive_avg_pool2d``.

    Args:
        input: (N, C, H, W) or (C, H, W).
        output_size: int or (Ho, Wo); None in the pair keeps that input dimension.
    Returns:
        (N, C, Ho, Wo). ``output_size=1`` is global average pooling (ResNet's head).
    """
    op = "adaptive_avg_pool2d"
    x, unbatched = _as_image(input, op)
    h, w = x.shape[-2:]
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise ValueError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
        output_size = (h if output_size[0] is None else output_size[0],
                       w if output_size[1] is None else output_size[1])
    out_hw = _pair(output_size, "output_size", op)
    out = AdaptiveAvgPool2dFn.apply(x, out_hw)
    return _unbatch(out, unbatched)


# --------------------------------------------------------------------------- modules


class MaxPool2d(Module):
    """Max pooling layer, ``torch.nn.MaxPool2d``: (N, C, H, W) -> (N, C, Ho, Wo).

    Args: kernel_size, stride (default: kernel_size), padding, dilation, ceil_mode.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride or kernel_size, padding
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, input) -> Tensor:
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Average pooling layer, ``torch.nn.AvgPool2d``: (N, C, H, W) -> (N, C, Ho, Wo).

    Args: kernel_size, stride (default: kernel_size), padding, ceil_mode, count_include_pad
    (default True), divisor_override.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride or kernel_size, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input) -> Tensor:
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average-pool to ``output_size`` whatever the input size, ``torch.nn.AdaptiveAvgPool2d``."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input) -> Tensor:
        return adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
