"""Module 09 -- sliding-window geometry shared by convolution and pooling.

Convolution and pooling both slide a kh x kw window over an image. This file holds what they
share: argument parsing (``3`` or ``(3, 5)``), the output-size formula, the image checks
((N, C, H, W) or one unbatched (C, H, W) image), padding an array, and :func:`_window`, the
strided view of "the pixel at kernel offset (i, j) of every window" that pooling and col2im
are written with.

Shapes follow PyTorch: images are (N, C, H, W).
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.tensor import Tensor

__all__ = ["conv_output_size"]


def _pair(value, name: str, op: str, minimum: int = 1) -> tuple[int, int]:
    """``3`` -> (3, 3); ``(3, 5)`` -> (3, 5); checks the values are integers >= minimum."""
    if isinstance(value, (tuple, list)):
        if len(value) == 1:
            value = (value[0], value[0])
        if len(value) != 2:
            raise ValueError(f"{op}: {name} must be an int or a pair (h, w), got {value!r}")
        pair = tuple(value)
    else:
        pair = (value, value)
    for v in pair:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
        if v < minimum:
            raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def conv_output_size(size: int, kernel: int, stride: int = 1, pad_lo: int = 0, pad_hi: int = 0,
                     dilation: int = 1, ceil_mode: bool = False) -> int:
    """Output length of a sliding window along one axis.

    A dilated kernel spans ``dilation * (kernel - 1) + 1`` pixels; it fits in
    ``size + pad_lo + pad_hi - span`` extra positions, one step of ``stride`` at a time:

        out = floor((size + pad_lo + pad_hi - dilation * (kernel - 1) - 1) / stride) + 1

    With ``ceil_mode`` the division rounds up (a last, partial window), but as in PyTorch a
    window must start inside the input or its left padding.
    """
    span = dilation * (kernel - 1) + 1
    room = size + pad_lo + pad_hi - span
    if not ceil_mode:
        return max(room // stride + 1, 0)
    # rounding up lets a window longer than the input fit when stride > 1 (room in
    # (-stride, 0)): PyTorch keeps that one partial window, so do we
    out = -(-room // stride) + 1
    if (out - 1) * stride >= size + pad_lo:
        out -= 1
    return max(out, 0)


def _as_image(input, op: str) -> tuple[Tensor, bool]:
    """The input as a 4-D (N, C, H, W) Tensor, and whether it was an unbatched (C, H, W)."""
    if not isinstance(input, Tensor):
        input = Tensor(input)
    if input.ndim == 3:
        return input.reshape((1,) + input.shape), True
    if input.ndim != 4:
        raise ValueError(
            f"{op}: expected a 4-D input (N, C, H, W) or a 3-D unbatched input (C, H, W), got "
            f"shape {tuple(input.shape)}. A batch of grayscale images (N, H, W) needs a channel "
            f"axis: x.unsqueeze(1)."
        )
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {input.dtype}; "
                        f"convert it with x.float()")
    return input, False


def _unbatch(out: Tensor, unbatched: bool) -> Tensor:
    return out.reshape(out.shape[1:]) if unbatched else out


def _pad_array(x: np.ndarray, pads: tuple[int, int, int, int], value=0.0) -> np.ndarray:
    """Pad the last two axes of ``x`` by (top, bottom, left, right) with ``value``.

    A preallocated ``np.full`` plus one slice assignment: no copy at all when every pad is 0.
    """
    top, bottom, left, right = pads
    if not (top or bottom or left or right):
        return x
    *lead, h, w = x.shape
    out = np.full((*lead, h + top + bottom, w + left + right), value, dtype=x.dtype)
    out[..., top:top + h, left:left + w] = x
    return out


def _window(x: np.ndarray, i: int, j: int, out_hw: tuple[int, int],
            stride: tuple[int, int], dilation: tuple[int, int] = (1, 1)) -> np.ndarray:
    """The (N, C, Ho, Wo) strided view of the pixel at kernel offset (i, j) of every window.

    Window (oh, ow) starts at (oh * sh, ow * sw); its pixel at offset (i, j) sits at
    (oh * sh + i * dh, ow * sw + j * dw). Slicing with step ``stride`` picks exactly those.
    """
    (ho, wo), (sh, sw), (dh, dw) = out_hw, stride, dilation
    r, c = i * dh, j * dw
    return x[..., r:r + sh * (ho - 1) + 1:sh, c:c + sw * (wo - 1) + 1:sw]
