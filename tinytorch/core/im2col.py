"""Module 09 -- im2col and col2im: convolution as one matrix multiply.

*im2col* copies every receptive field into a column of a matrix ``cols`` of shape
(C*kh*kw, N*Ho*Wo); a convolution is then ``W (O, C*kh*kw) @ cols``, one call into BLAS. The
copy costs memory (each input pixel is copied up to kh*kw times): the price of the matmul.
*col2im* is its adjoint, used by the backward: it adds the columns back into the image,
looping over the kh*kw kernel offsets only, never over pixels.

Inside, images are held channels first, and small images batch last, (C, H, W, N) (see
:func:`conv_layout`): every copy then moves long contiguous runs, about 4x faster on 8x8.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = ["BATCH_SECOND", "BATCH_LAST", "conv_layout", "to_layout", "im2col", "col2im"]


# The engine convolves with the channel axis first and the other three axes in one of two
# orders, given as permutations of (N, C, H, W) = (0, 1, 2, 3):
#   (C, N, H, W): each image row stays a contiguous run of W numbers -- good for large images;
#   (C, H, W, N): batch last, so one pixel step along W is a step of N numbers and every copy
#                 and add moves runs of W*N -- on an 8x8 image that is about 4x faster, since
#                 NumPy pays a fixed cost per contiguous run.
BATCH_SECOND, BATCH_LAST = (1, 0, 2, 3), (1, 2, 3, 0)


def _inverse(order: tuple) -> tuple:
    """The permutation that undoes ``order``: ``x.transpose(order).transpose(_inverse(order))``
    is ``x`` again."""
    return tuple(order.index(axis) for axis in range(len(order)))


def conv_layout(width: int) -> tuple:
    """The layout for outputs ``width`` pixels wide. Measured (forward + backward, batch 32-64,
    LeNet- and CIFAR-sized layers): batch-last is 1.1-1.7x faster up to width 16, even at 24
    and 28, and 1.3x slower at 32, where moving the batch axis back to the front costs more
    than the rows are short."""
    return BATCH_SECOND if width >= 24 else BATCH_LAST


def to_layout(x: np.ndarray, pads: tuple[int, int, int, int], order: tuple) -> np.ndarray:
    """(N, C, H, W) -> zero-padded and permuted to ``order``, e.g. (C, Hp, Wp, N): one copy."""
    n, c, h, w = x.shape
    top, bottom, left, right = pads
    padded = (n, c, h + top + bottom, w + left + right)
    xw = np.zeros(tuple(padded[a] for a in order), dtype=x.dtype)
    xw.transpose(_inverse(order))[:, :, top:top + h, left:left + w] = x  # via an NCHW view
    return xw


def _pixel_axes(order, n, out_hw, strides):
    """(sizes, strides) of the output-pixel axes (n, oh, ow) in the order they sit in memory."""
    (ho, wo), (s_n, s_h, s_w) = out_hw, strides
    axis = {0: (n, s_n), 2: (ho, s_h), 3: (wo, s_w)}
    picked = [axis[a] for a in order if a != 1]
    return tuple(p[0] for p in picked), tuple(p[1] for p in picked)


def im2col(xw: np.ndarray, order: tuple, kernel: tuple[int, int], out_hw: tuple[int, int],
           stride: tuple[int, int], dilation: tuple[int, int]) -> np.ndarray:
    """Every receptive field as a column: padded image ``xw`` (laid out as ``order``, channels
    first) -> (C*kh*kw, N*Ho*Wo).

    Row ``(c, i, j)`` holds the pixel at kernel offset (i, j) of channel c for every window
    (oh, ow) of every image n, so ``W.reshape(O, C*kh*kw) @ cols`` is the whole convolution:

        cols[(c, i, j), (n, oh, ow)] = xpad[n, c, oh*sh + i*dh, ow*sw + j*dw]

    (the columns (n, oh, ow) come in the memory order of ``xw``: (oh, ow, n) when the batch
    is last). Built as one strided *view* of shape (C, kh, kw, <pixel axes>) -- no data moves
    until the single copy that makes it contiguous. That copy holds kh*kw numbers per output
    pixel and input channel: the memory price of turning convolution into one matmul.
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    nchw = xw.transpose(_inverse(order))  # the same memory, axes named (N, C, H, W)
    n, c = nchw.shape[:2]
    s_n, s_c, s_h, s_w = nchw.strides
    # BEGIN SOLUTION
    sizes, steps = _pixel_axes(order, n, out_hw, (s_n, s_h * sh, s_w * sw))
    view = as_strided(xw, shape=(c, kh, kw) + sizes,
                      strides=(s_c, s_h * dh, s_w * dw) + steps, writeable=False)
    return np.ascontiguousarray(view).reshape(c * kh * kw, -1)
    # END SOLUTION


def col2im(dcols: np.ndarray, padded_shape: tuple, order: tuple, kernel: tuple[int, int],
           out_hw: tuple[int, int], stride: tuple[int, int],
           dilation: tuple[int, int]) -> np.ndarray:
    """The adjoint of :func:`im2col`: add every column back where it was copied from.

    ``dcols`` is (C*kh*kw, N*Ho*Wo); ``padded_shape`` is the shape of what im2col read (in
    ``order``), and of the result. A pixel that sat in several windows receives the sum of
    their gradients. One vectorized add per kernel offset: kh*kw NumPy calls, whatever the
    image size.
    """
    (kh, kw), (ho, wo), (sh, sw), (dh, dw) = kernel, out_hw, stride, dilation
    c = padded_shape[0]
    n = padded_shape[order.index(0)]
    sizes, _ = _pixel_axes(order, n, out_hw, (0, 0, 0))
    # BEGIN SOLUTION
    d = dcols.reshape((c, kh, kw) + sizes)
    dxw = np.zeros(padded_shape, dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            # the (Ho, Wo) grid of pixels at offset (i, j): rows i*dh, i*dh + sh, ...
            rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)
            where = {0: slice(None), 1: slice(None), 2: rows, 3: cols}
            dxw[tuple(where[a] for a in order)] += d[:, i, j]
    return dxw
    # END SOLUTION
