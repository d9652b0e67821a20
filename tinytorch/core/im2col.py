"""Module 09 -- im2col and col2im: convolution as one matrix multiply.

*im2col* copies every receptive field into a column of a matrix ``cols`` of shape
(C*kh*kw, N*Ho*Wo); a convolution is then ``W (O, C*kh*kw) @ cols``, one call into BLAS. The
copy costs memory (each input pixel is copied up to kh*kw times): the price of the matmul.
*col2im* is its adjoint, used by the backward: it adds the columns back into the image,
looping over the kh*kw kernel offsets only, never over pixels.

Inside, small images are held channels first and batch last, (C, H, W, N) (see
:func:`conv_layout`): every copy then moves long contiguous runs, about 4x faster on 8x8.
Wider images stay batch first, (N, C, H, W), and are convolved one image per matmul
(:func:`im2col_batched`, :func:`col2im_batched`): no transpose before or after, and a
stride-1 "same-width" convolution builds its columns from whole flattened rows.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from tinytorch.core.windows import _pad_array

__all__ = ["BATCH_FIRST", "BATCH_SECOND", "BATCH_LAST", "conv_layout", "to_layout", "im2col",
           "col2im", "im2col_batched", "col2im_batched"]


# The engine convolves in one of three layouts, given as permutations of (N, C, H, W):
#   (N, C, H, W): batch first, PyTorch's own layout: one matmul per image writes its output
#                 straight into the result, no transpose (im2col_batched) -- large images;
#   (C, N, H, W): channels first, each image row a contiguous run of W numbers, one matmul
#                 for the whole batch (im2col);
#   (C, H, W, N): batch last, so one pixel step along W is a step of N numbers and every copy
#                 and add moves runs of W*N -- on an 8x8 image that is about 4x faster, since
#                 NumPy pays a fixed cost per contiguous run.
BATCH_FIRST, BATCH_SECOND, BATCH_LAST = (0, 1, 2, 3), (1, 0, 2, 3), (1, 2, 3, 0)


def _inverse(order: tuple) -> tuple:
    """The permutation that undoes ``order``: ``x.transpose(order).transpose(_inverse(order))``
    is ``x`` again."""
    return tuple(order.index(axis) for axis in range(len(order)))


def conv_layout(width: int) -> tuple:
    """The layout for outputs ``width`` pixels wide. Measured (forward + backward, batch 32-64,
    LeNet- and CIFAR-sized layers): batch-last is 1.1-1.7x faster up to width 16, even at 24
    and 28, and 1.3x slower at 32, where moving the batch axis back to the front costs more
    than the rows are short."""
    return BATCH_FIRST if width >= 24 else BATCH_LAST


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


# ------------------------------------------------------------------ batch first, (N, C, H, W)


def _row_trick(x_shape, pads, kernel, out_hw, stride) -> bool:
    """Stride 1 and an output as wide as the input (left + right padding = dilated kernel
    width - 1, e.g. 3x3 with padding 1): then every window row is a whole input row, shifted."""
    return stride == (1, 1) and out_hw[1] == x_shape[3]


def _wrapped_columns(kw: int, dw: int, left: int, width: int) -> list:
    """For each kernel column j whose shift reaches past an image edge: (j, the output
    columns x whose input column x + j*dw - left lies outside [0, width))."""
    out = []
    for j in range(kw):
        shift = j * dw - left
        if shift < 0:
            out.append((j, slice(0, -shift)))
        elif shift > 0:
            out.append((j, slice(width - shift, width)))
    return out


def im2col_batched(x: np.ndarray, pads: tuple[int, int, int, int], kernel: tuple[int, int],
                   out_hw: tuple[int, int], stride: tuple[int, int],
                   dilation: tuple[int, int], ones_row: bool = False) -> np.ndarray:
    """im2col one image at a time: (N, C, H, W) -> (N, C*kh*kw, Ho*Wo), so that
    ``W.reshape(O, C*kh*kw) @ cols`` is (N, O, Ho*Wo), the output already in PyTorch's layout.

        cols[n, (c, i, j), (oh, ow)] = xpad[n, c, oh*sh + i*dh, ow*sw + j*dw]

    With ``ones_row`` a row of ones follows (N, C*kh*kw + 1, Ho*Wo): with the bias as one
    more column of the weight, the matmul adds it, and the weight gradient's matmul gives the
    bias gradient in its last column -- two passes over the output saved.

    ``x`` is unpadded; ``pads`` is (top, bottom, left, right). When the stride is 1 and the
    output is as wide as the input (a 3x3 convolution with padding 1), the rows trick: with
    each image's rows laid end to end in one flat array (zero rows above and below), the
    pixels at kernel offset (i, j) of all the windows are ONE contiguous run of that array,
    starting at ``i*dh*W + j*dw`` -- except at the left and right edges, where the run wraps
    into the neighbouring row: those columns are set to zero (they read the padding). The
    copy then moves runs of Ho*W numbers instead of rows of Wo, about 1.5x faster.
    """
    n, c, h, w = x.shape
    (kh, kw), (ho, wo), (sh, sw), (dh, dw) = kernel, out_hw, stride, dilation
    top, bottom, left, right = pads
    k = c * kh * kw
    cols = np.empty((n, k + ones_row, ho * wo), dtype=x.dtype)
    if ones_row:
        cols[:, k] = 1
    grid = cols[:, :k].reshape(n, c, kh, kw, ho, wo)  # a view: the copies below fill cols
    if _row_trick(x.shape, pads, kernel, out_hw, stride):
        # BEGIN SOLUTION
        start = left + top * w  # pixel (0, 0) of the image in the flat padded array
        flat = np.empty((n, c, (h + top + bottom) * w + left + right), dtype=x.dtype)
        flat[:, :, :start] = 0
        flat[:, :, start:start + h * w] = x.reshape(n, c, h * w)
        flat[:, :, start + h * w:] = 0
        s_n, s_c, s_1 = flat.strides
        view = as_strided(flat, shape=(n, c, kh, kw, ho * w),
                          strides=(s_n, s_c, s_1 * dh * w, s_1 * dw, s_1), writeable=False)
        np.copyto(grid.reshape(n, c, kh, kw, ho * w), view)
        for j, wrapped in _wrapped_columns(kw, dw, left, w):
            grid[:, :, :, j, :, wrapped] = 0
        # END SOLUTION
    else:
        xp = _pad_array(x, pads)
        s_n, s_c, s_h, s_w = xp.strides
        np.copyto(grid, as_strided(xp, shape=(n, c, kh, kw, ho, wo),
                                   strides=(s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw),
                                   writeable=False))
    return cols


def col2im_batched(dcols: np.ndarray, x_shape: tuple, pads: tuple[int, int, int, int],
                   kernel: tuple[int, int], out_hw: tuple[int, int], stride: tuple[int, int],
                   dilation: tuple[int, int], out: np.ndarray | None = None) -> np.ndarray:
    """The adjoint of :func:`im2col_batched`: (N, C*kh*kw, Ho*Wo) -> the (N, C, H, W) input
    gradient, written into ``out`` (contiguous, overwritten) if given. kh*kw vectorized adds;
    with the rows trick each is one contiguous run per image and channel, cut to the image
    (what fell on the padding is dropped). ``dcols`` is a scratch array: its wrapped edge
    columns are zeroed in place.
    """
    n, c, h, w = x_shape
    (kh, kw), (ho, wo), (sh, sw), (dh, dw) = kernel, out_hw, stride, dilation
    top, bottom, left, right = pads
    if out is None:
        out = np.empty(x_shape, dtype=dcols.dtype)
    if _row_trick(x_shape, pads, kernel, out_hw, stride):
        # BEGIN SOLUTION
        grid = dcols.reshape(n, c, kh, kw, ho, w)
        for j, wrapped in _wrapped_columns(kw, dw, left, w):
            grid[:, :, :, j, :, wrapped] = 0  # these went to the padding, not a neighbour row
        d = dcols.reshape(n, c, kh, kw, ho * w)
        dx = out.reshape(n, c, h * w)
        dx[...] = 0
        start = left + top * w  # where pixel (0, 0) sat in im2col_batched's flat array
        for i in range(kh):
            for j in range(kw):
                at = i * dh * w + j * dw - start  # this offset's run, in image coordinates
                lo, hi = max(0, -at), min(ho * w, h * w - at)  # the part inside the image
                dx[:, :, at + lo:at + hi] += d[:, :, i, j, lo:hi]
        return out
        # END SOLUTION
    d = dcols.reshape(n, c, kh, kw, ho, wo)
    dxp = np.zeros((n, c, h + top + bottom, w + left + right), dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh,
                j * dw:j * dw + sw * (wo - 1) + 1:sw] += d[:, :, i, j]
    out[...] = dxp[:, :, top:top + h, left:left + w]
    return out
