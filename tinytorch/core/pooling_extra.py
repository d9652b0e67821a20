"""Module 09 (given code) -- pooling with indices, unpooling, 1-D and adaptive max pooling.

``pooling.py`` computes max pooling's values. PyTorch can also return *where* each max came
from: ``max_pool2d(x, 2, return_indices=True)`` gives, for every output, the flat index
``h * W + w`` of its winner inside its (H, W) plane. With those indices, pooling is a
*gather* and unpooling (``MaxUnpool2d``, SegNet's decoder) is the matching *scatter*:

    gather:   out[n, c, k] = x[n, c, idx[n, c, k]]       backward: scatter-add dout to idx
    scatter:  out[n, c, idx[n, c, k]] = x[n, c, k]        backward: gather dout at idx

so both ops here are those two Functions plus the code that finds the indices. Ties go to the
first maximum in row-major window order, as in PyTorch, and the gradient follows the index
(exactly PyTorch's rule).

1-D pooling runs the 2-D code on a height-1 image (N, C, 1, L). Adaptive max pooling uses
PyTorch's bins: output cell i covers rows floor(i H / Ho) .. ceil((i + 1) H / Ho) - 1.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.autograd import Function
from tinytorch.core.module import Module
from tinytorch.core.pooling import (_offsets, _pool_geometry, adaptive_avg_pool2d, avg_pool2d,
                                    max_pool2d)
from tinytorch.core.tensor import Tensor
from tinytorch.core.windows import _as_image, _pad_array, _pair, _unbatch, _window

__all__ = ["max_pool2d_with_indices", "max_unpool2d", "max_pool1d", "avg_pool1d",
           "adaptive_max_pool2d", "adaptive_max_pool1d", "adaptive_avg_pool1d",
           "MaxUnpool2d", "MaxPool1d", "AvgPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool1d",
           "AdaptiveAvgPool1d"]


class GatherPlaneFn(Function):
    """out (N, C, *out_hw) = x (N, C, H, W) at flat plane indices ``idx`` (N, C, *out_hw)."""

    @staticmethod
    def forward(ctx, x, idx):
        n, c, h, w = x.shape
        flat = idx.reshape(n, c, -1)
        ctx.conf = (x.shape, flat)
        return np.take_along_axis(x.reshape(n, c, h * w), flat, axis=2).reshape(idx.shape)

    @staticmethod
    def backward(ctx, grad):
        (n, c, h, w), flat = ctx.conf
        return _scatter_add(grad.reshape(n, c, -1), flat, h * w).reshape(n, c, h, w), None


class ScatterPlaneFn(Function):
    """out (N, C, H, W): zeros, with x's values written at flat plane indices ``idx``."""

    @staticmethod
    def forward(ctx, x, idx, out_hw):
        n, c = x.shape[:2]
        flat = idx.reshape(n, c, -1)
        out = np.zeros((n, c, out_hw[0] * out_hw[1]), dtype=x.dtype)
        np.put_along_axis(out, flat, x.reshape(n, c, -1), axis=2)
        ctx.conf = (x.shape, flat)
        return out.reshape(n, c, *out_hw)

    @staticmethod
    def backward(ctx, grad):
        x_shape, flat = ctx.conf
        n, c = x_shape[:2]
        return np.take_along_axis(grad.reshape(n, c, -1), flat, axis=2).reshape(x_shape), \
            None, None


def _scatter_add(values, flat, size):
    """(N, C, K) values added into (N, C, size) at ``flat``: one bincount over all planes."""
    n, c, k = values.shape
    plane = np.arange(n * c).reshape(n, c, 1) * size
    out = np.bincount((flat + plane).ravel(), weights=values.ravel().astype(np.float64),
                      minlength=n * c * size)
    return out.astype(values.dtype).reshape(n, c, size)


# --------------------------------------------------------------------------- max pool indices


def _max_indices(x: np.ndarray, kernel, stride, dilation, pads, out_hw) -> np.ndarray:
    """Flat plane index of the first maximum of every window (padding never wins)."""
    h, w = x.shape[-2:]
    xp = _pad_array(x, pads, value=-np.inf)
    top, _, left, _ = pads
    rows = np.arange(out_hw[0]).reshape(-1, 1) * stride[0] - top
    cols = np.arange(out_hw[1]).reshape(1, -1) * stride[1] - left
    best = idx = None
    for i, j in _offsets(kernel):  # row-major: a later tie never replaces an earlier max
        v = _window(xp, i, j, out_hw, stride, dilation)
        here = (rows + i * dilation[0]) * w + (cols + j * dilation[1])
        if best is None:
            best, idx = v.copy(), np.broadcast_to(here, v.shape).copy()
        else:
            better = (v > best) | (np.isnan(v) & ~np.isnan(best))  # NaN wins, as in PyTorch
            best = np.where(better, v, best)
            idx = np.where(better, here, idx)
    return idx.astype(np.int64)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False):
    """(values, indices) of 2-D max pooling; indices are int64 flat positions h * W + w."""
    op = "max_pool2d"
    x, unbatched = _as_image(input, op)
    kernel, stride, dilation, pads, out_hw = _pool_geometry(
        x.shape, kernel_size, stride, padding, dilation, ceil_mode, op)
    idx = _max_indices(x._data, kernel, stride, dilation, pads, out_hw)
    out = GatherPlaneFn.apply(x, idx)
    indices = Tensor(idx)
    return _unbatch(out, unbatched), _unbatch(indices, unbatched)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max pooling: each value goes back to the position its index
    names; every other position is 0. Output (N, C, Ho, Wo) with
    Ho = (H - 1) * stride - 2 * padding + kernel_size, unless ``output_size`` says otherwise.
    """
    op = "max_unpool2d"
    x, unbatched = _as_image(input, op)
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if unbatched:
        idx = idx.reshape((1,) + idx.shape)
    if idx.shape != tuple(x.shape):
        raise ValueError(f"{op}: indices of shape {idx.shape} must match the input "
                         f"{tuple(x.shape)} (pass the indices max_pool2d returned with it)")
    kernel = _pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None else _pair(stride, "stride", op)
    padding = _pair(padding, "padding", op, minimum=0)
    h, w = x.shape[-2:]
    out_hw = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip((h, w), stride, padding, kernel))
    if output_size is not None:  # PyTorch's rule: within a stride of the default size
        size = tuple(int(v) for v in tuple(output_size)[-2:])
        for d, (want, default, s) in enumerate(zip(size, out_hw, stride)):
            if not default - s < want < default + s:
                raise ValueError(f'invalid output_size "{size}" (dim {d} must be between '
                                 f"{default - s} and {default + s})")
        out_hw = size
    size = out_hw[0] * out_hw[1]
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        raise ValueError(f"{op}: found an invalid max index {int(idx.max())} (output volumes "
                         f"are of size {out_hw[0]}x{out_hw[1]})")
    out = ScatterPlaneFn.apply(x, idx.astype(np.int64), out_hw)
    return _unbatch(out, unbatched)


# --------------------------------------------------------------------------- 1-D pooling


def _as_signal(input, op):
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim not in (2, 3):
        raise ValueError(f"{op}: expected a 3-D input (N, C, L) or a 2-D unbatched input (C, L), "
                         f"got shape {tuple(x.shape)}")
    return x.unsqueeze(-2)  # (N, C, 1, L) or (C, 1, L)


def _one(value):
    return value[0] if isinstance(value, (tuple, list)) else value


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over windows of a (N, C, L) signal, PyTorch's ``F.max_pool1d``."""
    x = _as_signal(input, "max_pool1d")
    args = ((1, _one(kernel_size)), None if stride is None else (1, _one(stride)),
            (0, _one(padding)), (1, _one(dilation)), ceil_mode)
    if return_indices:
        out, idx = max_pool2d_with_indices(x, *args)
        return out.squeeze(-2), idx.squeeze(-2)  # a height-1 plane: h * W + w is w
    return max_pool2d(x, *args).squeeze(-2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean over windows of a (N, C, L) signal, PyTorch's ``F.avg_pool1d``."""
    x = _as_signal(input, "avg_pool1d")
    out = avg_pool2d(x, (1, _one(kernel_size)), None if stride is None else (1, _one(stride)),
                     (0, _one(padding)), ceil_mode, count_include_pad)
    return out.squeeze(-2)


# --------------------------------------------------------------------------- adaptive max


def _adaptive_bins(size: int, out: int):
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def _adaptive_max_indices(x: np.ndarray, out_hw) -> np.ndarray:
    n, c, h, w = x.shape
    idx = np.empty((n, c) + tuple(out_hw), dtype=np.int64)
    for i, (r0, r1) in enumerate(_adaptive_bins(h, out_hw[0])):
        for j, (c0, c1) in enumerate(_adaptive_bins(w, out_hw[1])):
            cell = x[:, :, r0:r1, c0:c1].reshape(n, c, -1)
            k = np.argmax(cell, axis=2)  # first maximum, as PyTorch
            k = np.where(np.isnan(cell).any(axis=2), np.argmax(np.isnan(cell), axis=2), k)
            idx[:, :, i, j] = (r0 + k // (c1 - c0)) * w + c0 + k % (c1 - c0)
    return idx


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max-pool to a fixed output size whatever the input size, ``F.adaptive_max_pool2d``."""
    op = "adaptive_max_pool2d"
    x, unbatched = _as_image(input, op)
    h, w = x.shape[-2:]
    if isinstance(output_size, (tuple, list)):
        output_size = (h if output_size[0] is None else output_size[0],
                       w if output_size[1] is None else output_size[1])
    out_hw = _pair(output_size, "output_size", op)
    idx = _adaptive_max_indices(x._data, out_hw)
    out = _unbatch(GatherPlaneFn.apply(x, idx), unbatched)
    if return_indices:
        return out, _unbatch(Tensor(idx), unbatched)
    return out


def adaptive_max_pool1d(input, output_size, return_indices=False):
    x = _as_signal(input, "adaptive_max_pool1d")
    res = adaptive_max_pool2d(x, (1, _one(output_size)), return_indices)
    if return_indices:
        return res[0].squeeze(-2), res[1].squeeze(-2)
    return res.squeeze(-2)


def adaptive_avg_pool1d(input, output_size):
    x = _as_signal(input, "adaptive_avg_pool1d")
    return adaptive_avg_pool2d(x, (1, _one(output_size))).squeeze(-2)


# --------------------------------------------------------------------------- modules


class MaxUnpool2d(Module):
    """``torch.nn.MaxUnpool2d``: ``unpool(x, indices, output_size=None)``."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = _pair(kernel_size, "kernel_size", "MaxUnpool2d")
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride",
                                                                    "MaxUnpool2d")
        self.padding = _pair(padding, "padding", "MaxUnpool2d", 0)

    def forward(self, input, indices, output_size=None):
        return max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding,
                            output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool1d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool1d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size = (_one(kernel_size),)
        self.stride = (_one(stride if stride is not None else kernel_size),)
        self.padding = (_one(padding),)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        return avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveMaxPool2d(Module):
    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        return adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    def forward(self, input):
        return adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveAvgPool1d(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"
