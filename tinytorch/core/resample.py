"""Module 09 (given code) -- resizing feature maps: ``F.interpolate`` and ``nn.Upsample``.

Nearest and (bi)linear resizing are *separable* and *linear*: each output row is a fixed
weighted sum of input rows, and the same for columns. So a resize is two small matrices,
``A_h`` (Ho, H) and ``A_w`` (Wo, W), and

    out = A_h @ x @ A_w^T          (over the last two axes, for every image and channel)
    dx  = A_h^T @ dout @ A_w       (the backward is the transposed map)

Each row of ``A`` holds the weights of one output pixel, computed with PyTorch's source-index
rules (so values match it exactly):

* nearest:        src = min(floor(dst * scale), in - 1)
* nearest-exact:  src = min(floor((dst + 0.5) * scale), in - 1)
* linear, align_corners=False:  src = max((dst + 0.5) * scale - 0.5, 0)
* linear, align_corners=True:   src = dst * (in - 1) / (out - 1)

with ``scale = in / out``, or ``1 / scale_factor`` when a scale factor was given (PyTorch
uses the factor itself unless ``recompute_scale_factor=True``). A linear output pixel mixes
the two inputs around ``src`` with weights 1 - frac and frac.
"""

from __future__ import annotations

import math

import numpy as np

from tinytorch.core.autograd import Function
from tinytorch.core.module import Module
from tinytorch.core.tensor import Tensor

__all__ = ["interpolate", "upsample", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]

_MODES = {"nearest": 1, "nearest-exact": 1, "linear": 1, "bilinear": 2}


def _matrix(n_in: int, n_out: int, mode: str, align_corners: bool, scale_factor) -> np.ndarray:
    """The (n_out, n_in) resampling matrix of one axis (float64)."""
    a = np.zeros((n_out, n_in))
    dst = np.arange(n_out)
    if mode in ("nearest", "nearest-exact"):
        # in float32, as PyTorch computes it: the floor of a product near an integer depends
        # on the precision (float64 would pick a different pixel for some scales)
        scale = np.float32(1.0 / scale_factor) if scale_factor else \
            np.float32(n_in) / np.float32(n_out)
        off = np.float32(0.5 if mode == "nearest-exact" else 0.0)
        src = np.floor((dst.astype(np.float32) + off) * scale).astype(np.int64)
        src = np.minimum(src, n_in - 1)
        a[dst, src] = 1.0
        return a
    if align_corners:
        scale = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        src = dst * scale
    else:
        scale = 1.0 / scale_factor if scale_factor else n_in / n_out
        src = np.maximum((dst + 0.5) * scale - 0.5, 0.0)
    i0 = np.floor(src).astype(np.int64)
    i0 = np.minimum(i0, n_in - 1)
    i1 = np.where(i0 < n_in - 1, i0 + 1, i0)
    frac = src - i0
    np.add.at(a, (dst, i0), 1.0 - frac)
    np.add.at(a, (dst, i1), frac)
    return a


class ResampleFn(Function):
    """out = A_h @ x @ A_w^T over the last two axes (``a_h`` None for 1-D signals)."""

    @staticmethod
    def forward(ctx, x, a_h, a_w):
        a_w = a_w.astype(x.dtype)
        out = x @ a_w.T  # (..., H, Wo)
        if a_h is not None:
            a_h = a_h.astype(x.dtype)
            out = a_h @ out  # (..., Ho, Wo)
        ctx.mats = (a_h, a_w)
        return out

    @staticmethod
    def backward(ctx, grad):
        a_h, a_w = ctx.mats
        g = grad @ a_w
        if a_h is not None:
            g = a_h.T @ g
        return g, None, None


def _sizes(x, size, scale_factor, k, op):
    spatial = x.shape[-k:]
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: pass exactly one of size and scale_factor")
    if size is not None:
        size = [size] * k if isinstance(size, (int, np.integer)) else list(size)
        if len(size) != k:
            raise ValueError(f"{op}: size {size} must have {k} entries for an input of shape "
                             f"{tuple(x.shape)}")
        return [int(s) for s in size], [None] * k
    scales = [scale_factor] * k if not isinstance(scale_factor, (tuple, list)) \
        else list(scale_factor)
    if len(scales) != k:
        raise ValueError(f"{op}: scale_factor {scale_factor} must have {k} entries for an input "
                         f"of shape {tuple(x.shape)}")
    return [int(math.floor(n * float(s))) for n, s in zip(spatial, scales)], \
        [float(s) for s in scales]


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False) -> Tensor:
    """Resize (N, C, L) or (N, C, H, W) to ``size`` or by ``scale_factor``, PyTorch's rules.

    Modes: 'nearest', 'nearest-exact' (3-D or 4-D input), 'linear' (3-D), 'bilinear' (4-D).
    ``align_corners`` (linear modes only): True maps the corner pixels of input and output onto
    each other; False (the default) maps pixel *areas*, as PyTorch does.
    """
    op = "interpolate"
    x = input if isinstance(input, Tensor) else Tensor(input)
    if mode not in _MODES:
        raise NotImplementedError(f"{op}: mode {mode!r} is not supported; use one of "
                                  f"{sorted(_MODES)}")
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not supported")
    k = x.ndim - 2
    if k not in (1, 2) or (mode == "linear" and k != 1) or (mode == "bilinear" and k != 2):
        raise ValueError(f"{op}: mode {mode!r} needs a "
                         f"{'3' if mode == 'linear' else '4' if mode == 'bilinear' else '3-D or 4'}"
                         f"-D input, got shape {tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {x.dtype}")
    if mode.startswith("nearest"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
        align_corners = False
    align_corners = bool(align_corners)
    out_size, scales = _sizes(x, size, scale_factor, k, op)
    if recompute_scale_factor:
        scales = [None] * k
    if min(out_size) < 1:
        raise ValueError(f"{op}: the output size {out_size} must be positive")
    mats = [_matrix(n, m, mode, align_corners, s)
            for n, m, s in zip(x.shape[-k:], out_size, scales)]
    a_h, a_w = (None, mats[0]) if k == 1 else mats
    return ResampleFn.apply(x, a_h, a_w)


def upsample(input, size=None, scale_factor=None, mode: str = "nearest", align_corners=None):
    """Deprecated in PyTorch in favour of :func:`interpolate`; the same call."""
    return interpolate(input, size, scale_factor, mode, align_corners)


class Upsample(Module):
    """``torch.nn.Upsample``: :func:`interpolate` as a layer (no parameters)."""

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input) -> Tensor:
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
