"""Module 09 -- spatial: convolution and pooling, the layers that see an image as an image.

A dense layer treats a 28x28 digit as 784 unrelated numbers. A convolution slides one small
filter (say 3x3) over the whole image: the same few weights look at every position (weight
sharing), and each output depends only on a neighbourhood (locality). Pooling then shrinks the
feature maps so later layers see larger regions.

Two speeds, one answer:

* the **course path** -- :func:`conv2d_naive` and :func:`max_pool2d_naive` -- spells the math
  out as nested Python loops, one multiply-add at a time. Easy to read, hopeless to train with;
* the **engine path** -- :func:`conv2d` -- turns convolution into one matrix multiply
  (*im2col*): copy every receptive field into a column of a matrix ``cols`` of shape
  (C*kh*kw, N*Ho*Wo), then ``out = W (O, C*kh*kw) @ cols``. The copy costs memory
  (each input pixel is copied up to kh*kw times) but the multiply runs in BLAS.
  Its backward is two more matrix multiplies and a *col2im* that adds the columns back into
  the image, looping over the kh*kw kernel offsets only, never over pixels. Inside, images
  are held channels first, and small images batch last, (C, H, W, N) (see
  :func:`conv_layout`): every copy then moves long contiguous runs, about 4x faster on 8x8.

Pooling uses strided views: for each of the kh*kw offsets inside a window, ``x[..., i::s, j::s]``
is an (N, C, Ho, Wo) view of the pixel at that offset in every window, so a max or mean over
windows is kh*kw whole-array NumPy operations.

Shapes follow PyTorch: images are (N, C, H, W) (a 3-D (C, H, W) input is one unbatched
image), convolution weights are (out_channels, in_channels / groups, kh, kw).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from tinytorch.core import init
from tinytorch.core.autograd import Function
from tinytorch.core.creation import default_generator
from tinytorch.core.module import Module, Parameter
from tinytorch.core.tensor import Tensor

__all__ = [
    "conv2d", "conv2d_naive", "max_pool2d", "max_pool2d_naive", "avg_pool2d",
    "adaptive_avg_pool2d", "pad", "dropout2d", "im2col", "col2im", "to_layout",
    "conv_layout", "conv_output_size", "BATCH_SECOND", "BATCH_LAST",
    "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Dropout2d",
]


# --------------------------------------------------------------------------- argument helpers


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


# ------------------------------------------------------------------ convolution, the course path


def conv2d_naive(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """Convolution as the definition reads, one multiply-add at a time (no autograd).

        out[n, o, y, x] = bias[o] + sum over c, i, j of
                          weight[o, c, i, j] * xpad[n, g*Cg + c, y*sh + i*dh, x*sw + j*dw]

    where ``g = o // (O / groups)`` is the group of filter ``o`` and ``Cg = C / groups`` its
    input channels. Seven nested loops: the reference the fast path is checked against, and
    the baseline the lab times (it is hundreds of times slower than :func:`conv2d`).

    Shapes: input (N, C, H, W), weight (O, C / groups, kh, kw), bias (O,) -> (N, O, Ho, Wo).
    Arguments as :func:`conv2d` (integer padding only).
    """
    x = input.data if isinstance(input, Tensor) else np.asarray(input)
    w = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    b = None if bias is None else (bias.data if isinstance(bias, Tensor) else np.asarray(bias))
    (sh, sw), (ph, pw), (dh, dw) = (_pair(stride, "stride", "conv2d_naive"),
                                    _pair(padding, "padding", "conv2d_naive", 0),
                                    _pair(dilation, "dilation", "conv2d_naive"))
    n_img, c_in, h, wd = x.shape
    c_out, cg, kh, kw = w.shape
    og = c_out // groups
    ho = conv_output_size(h, kh, sh, ph, ph, dh)
    wo = conv_output_size(wd, kw, sw, pw, pw, dw)
    xp = _pad_array(x, (ph, ph, pw, pw))
    out = np.zeros((n_img, c_out, ho, wo), dtype=np.result_type(x, w))
    # BEGIN SOLUTION
    for n in range(n_img):
        for o in range(c_out):
            g = o // og  # the group of this filter: it sees input channels g*cg .. g*cg+cg-1
            for y in range(ho):
                for xx in range(wo):
                    acc = 0.0 if b is None else float(b[o])
                    for c in range(cg):
                        for i in range(kh):
                            for j in range(kw):
                                acc += w[o, c, i, j] * xp[n, g * cg + c, y * sh + i * dh,
                                                          xx * sw + j * dw]
                    out[n, o, y, xx] = acc
    # END SOLUTION
    return Tensor(out)


# ------------------------------------------------------------------ convolution, the engine path


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


class Conv2dFn(Function):
    """Fused 2-D convolution: im2col + one matmul per group, and its backward.

    Inputs: x (N, C, H, W), w (O, C/G, kh, kw), b (O,) or None; then stride, pads
    (top, bottom, left, right), dilation, groups. Output (N, O, Ho, Wo).
    """

    @staticmethod
    def forward(ctx, x, w, b, stride, pads, dilation, groups):
        n, c, h, wd = x.shape
        o, cg, kh, kw = w.shape
        ho = conv_output_size(h, kh, stride[0], pads[0], pads[1], dilation[0])
        wo = conv_output_size(wd, kw, stride[1], pads[2], pads[3], dilation[1])
        order = conv_layout(wo)
        xw = to_layout(x, pads, order)  # e.g. (C, Hp, Wp, N)
        dtype = np.result_type(x, w)
        og, kg = o // groups, cg * kh * kw
        # BEGIN SOLUTION
        cols = im2col(xw, order, (kh, kw), (ho, wo), stride, dilation)  # (C*kh*kw, N*Ho*Wo)
        wmat = w.reshape(o, kg)  # (O, Kg): filter o is row o, group g owns rows g*og..
        out = np.empty((o, n * ho * wo), dtype=dtype)
        for g in range(groups):  # one matmul per group (usually just one)
            np.matmul(wmat[g * og:(g + 1) * og], cols[g * kg:(g + 1) * kg],
                      out=out[g * og:(g + 1) * og])  # (og, Kg) @ (Kg, N*Ho*Wo)
        # out is laid out as ``order`` with O in place of C: back to (N, O, Ho, Wo), adding
        # the bias in the same pass
        out = out.reshape(tuple((n, o, ho, wo)[a] for a in order)).transpose(_inverse(order))
        y = np.empty((n, o, ho, wo), dtype=dtype)
        if b is None:
            np.copyto(y, out)
        else:
            np.add(out, b.reshape(1, o, 1, 1), out=y, casting="unsafe")
        ctx.save_for_backward(cols, wmat)
        # END SOLUTION
        ctx.shapes = (x.shape, w.shape, xw.shape, (ho, wo))
        ctx.conf = (stride, pads, dilation, groups, order)
        return y

    @staticmethod
    def backward(ctx, grad):
        x_shape, w_shape, xw_shape, (ho, wo) = ctx.shapes
        stride, pads, dilation, groups, order = ctx.conf
        n, c, h, wd = x_shape
        o, cg, kh, kw = w_shape
        og, kg = o // groups, cg * kh * kw
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        dx = dw = db = None
        # BEGIN SOLUTION
        cols, wmat = ctx.saved_tensors
        # dL/dout in the forward's layout: (O, N*Ho*Wo), columns in the order of cols
        g = np.ascontiguousarray(grad.transpose(order)).reshape(o, -1)
        if need_b:
            db = g.sum(axis=1)
        if need_w:  # out = W @ cols  =>  dW = dout @ cols^T, summed over every window
            dw = np.concatenate([g[i * og:(i + 1) * og] @ cols[i * kg:(i + 1) * kg].T
                                 for i in range(groups)]).reshape(w_shape)
        if need_x:  # dcols = W^T @ dout, then add each column back into the image
            dcols = np.concatenate([wmat[i * og:(i + 1) * og].T @ g[i * og:(i + 1) * og]
                                    for i in range(groups)])  # (C*kh*kw, N*Ho*Wo)
            dxw = col2im(dcols, xw_shape, order, (kh, kw), (ho, wo), stride, dilation)
            top, _, left, _ = pads
            dx = np.ascontiguousarray(  # back to (N, C, H, W), without the padding
                dxw.transpose(_inverse(order))[:, :, top:top + h, left:left + wd])
        # END SOLUTION
        return dx, dw, db, None, None, None, None


def _conv_padding(padding, kernel, dilation, stride, op: str) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) from an int, a pair, ``'valid'`` or ``'same'``."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{op}: padding='same' is not supported for strided "
                                 f"convolutions (stride={stride}); pass an explicit padding")
            pads = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)  # as PyTorch: the odd pixel goes to the bottom/right
                pads += [total // 2, total - total // 2]
            return tuple(pads)
        raise ValueError(f"{op}: padding must be an int, a pair, 'valid' or 'same'; "
                         f"got {padding!r}")
    ph, pw = _pair(padding, "padding", op, minimum=0)
    return (ph, ph, pw, pw)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D convolution (cross-correlation, as in every DL framework), PyTorch's ``F.conv2d``.

    Args:
        input: (N, C, H, W), or (C, H, W) for one image.
        weight: (O, C / groups, kh, kw) -- one filter per output channel.
        bias: (O,) or None.
        stride: step between windows, int or (sh, sw).
        padding: zeros added on each side, int or (ph, pw), or ``'valid'`` (none) or
            ``'same'`` (output as large as the input; stride 1 only).
        dilation: spacing between kernel taps, int or (dh, dw).
        groups: split the channels into ``groups`` independent convolutions
            (``groups == C``: a depthwise convolution).
    Returns:
        (N, O, Ho, Wo) with Ho = floor((H + 2 ph - dh (kh - 1) - 1) / sh) + 1 (same for Wo).
    """
    op = "conv2d"
    x, unbatched = _as_image(input, op)
    if not isinstance(weight, Tensor):
        weight = Tensor(weight)
    if weight.ndim != 4:
        raise ValueError(f"{op}: weight must be 4-D (out_channels, in_channels/groups, kh, kw), "
                         f"got shape {tuple(weight.shape)}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    stride = _pair(stride, "stride", op)
    dilation = _pair(dilation, "dilation", op)
    o, cg, kh, kw = weight.shape
    n, c, h, w = x.shape
    if cg * groups != c:
        raise ValueError(
            f"{op}: input of shape {tuple(x.shape)} has {c} channels, but weight of shape "
            f"{tuple(weight.shape)} with groups={groups} expects {cg * groups} "
            f"(weight.shape[1] * groups). Check in_channels of this layer against the "
            f"out_channels of the layer before it (or the image's channel count)."
        )
    if o % groups:
        raise ValueError(f"{op}: out_channels={o} (weight.shape[0]) must be divisible by "
                         f"groups={groups}")
    if bias is not None:
        if not isinstance(bias, Tensor):
            bias = Tensor(bias)
        if tuple(bias.shape) != (o,):
            raise ValueError(f"{op}: bias must have shape ({o},) (one per output channel), "
                             f"got {tuple(bias.shape)}")
    pads = _conv_padding(padding, (kh, kw), dilation, stride, op)
    hp, wp = h + pads[0] + pads[1], w + pads[2] + pads[3]
    span = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    if span[0] > hp or span[1] > wp:
        raise ValueError(
            f"{op}: the kernel ({kh}x{kw}, dilation {dilation}: spans {span[0]}x{span[1]} pixels) "
            f"is larger than the padded input ({hp}x{wp}: input {tuple(x.shape)}, padding "
            f"{pads[0]},{pads[1]},{pads[2]},{pads[3]}). Use a smaller kernel, more padding, or "
            f"a larger image (did a pooling layer shrink it too much?)."
        )
    out = Conv2dFn.apply(x, weight, bias, stride, pads, dilation, int(groups))
    return _unbatch(out, unbatched)


# --------------------------------------------------------------------------- pooling


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
        for i, j in _offsets(kernel):
            hit = _window(xp, i, j, out_hw, stride, dilation) == y
            if free is None:
                free = ~hit
            else:
                hit &= free
                free &= ~hit
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
    if return_indices:
        raise NotImplementedError(f"{op}: return_indices=True is not supported (nothing in "
                                  "tinytorch consumes the indices); use return_indices=False")
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
    x = input.data if isinstance(input, Tensor) else np.asarray(input)
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


# --------------------------------------------------------------------------- padding and dropout


class ConstantPadFn(Function):
    """Pad (positive) or crop (negative) the trailing axes, filling with ``value``.

    ``src`` and ``dst`` are the slices where input and output overlap; the backward just
    reads the gradient back out of ``dst``.
    """

    @staticmethod
    def forward(ctx, x, out_shape, src, dst, value):
        out = np.full(out_shape, value, dtype=x.dtype)
        out[dst] = x[src]
        ctx.conf = (x.shape, src, dst)
        return out

    @staticmethod
    def backward(ctx, grad):
        shape, src, dst = ctx.conf
        dx = np.zeros(shape, dtype=grad.dtype)
        dx[src] = grad[dst]
        return dx, None, None, None, None


class IndexPadFn(Function):
    """Reflect / replicate / circular padding as a gather along flattened trailing axes.

    ``index`` (the padded shape of the trailing axes) holds, for each output pixel, the flat
    position of the input pixel it copies: built once by ``np.pad`` on an ``arange``. The
    backward scatters back with ``np.bincount`` (a pixel copied several times sums its
    gradients) -- one vectorized call.
    """

    @staticmethod
    def forward(ctx, x, index, k):
        lead = x.shape[:x.ndim - k]
        flat = x.reshape(lead + (-1,))
        ctx.conf = (x.shape, index, k)
        return flat[..., index.reshape(-1)].reshape(lead + index.shape)

    @staticmethod
    def backward(ctx, grad):
        shape, index, k = ctx.conf
        lead = shape[:len(shape) - k]
        rows = int(np.prod(lead, dtype=np.int64))
        inner = int(np.prod(shape[len(shape) - k:], dtype=np.int64))
        g = grad.reshape(rows, -1)
        # each row's scatter lands in its own block of ``inner`` bins
        bins = (np.arange(rows)[:, None] * inner + index.reshape(1, -1)).reshape(-1)
        dx = np.bincount(bins, weights=g.reshape(-1).astype(np.float64), minlength=rows * inner)
        return dx.astype(grad.dtype).reshape(shape), None, None


def pad(input, pad, mode: str = "constant", value=None) -> Tensor:
    """Pad the trailing dimensions of a tensor, PyTorch's ``F.pad``.

    ``pad`` lists (before, after) pairs starting from the LAST dimension:
    ``(left, right)`` pads W; ``(left, right, top, bottom)`` pads W then H. Negative values
    crop (constant mode).

    Modes: ``'constant'`` (fill with ``value``, default 0), ``'reflect'`` (mirror without the
    edge: 3 2 | 1 2 3 | 2 1), ``'replicate'`` (repeat the edge), ``'circular'`` (wrap around).
    """
    op = "pad"
    if not isinstance(input, Tensor):
        input = Tensor(input)
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"{op}: the pad tuple needs (before, after) pairs for at most "
                         f"{input.ndim} dimensions (last dimension first), got {pad}")
    k = len(pad) // 2
    pairs = [(pad[2 * (k - 1 - a)], pad[2 * (k - 1 - a) + 1]) for a in range(k)]  # first->last
    lead = input.ndim - k
    if mode == "constant":
        out_shape, src, dst = list(input.shape[:lead]), [slice(None)] * lead, [slice(None)] * lead
        for size, (lo, hi) in zip(input.shape[lead:], pairs):
            n_out = size + lo + hi
            if n_out < 0:
                raise ValueError(f"{op}: padding {(lo, hi)} crops more than the size {size}")
            out_shape.append(n_out)
            src.append(slice(max(-lo, 0), size - max(-hi, 0)))
            dst.append(slice(max(lo, 0), n_out - max(hi, 0)))
        fill = 0.0 if value is None else value
        return ConstantPadFn.apply(input, tuple(out_shape), tuple(src), tuple(dst), fill)
    np_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}.get(mode)
    if np_mode is None:
        raise ValueError(f"{op}: mode must be 'constant', 'reflect', 'replicate' or 'circular', "
                         f"got {mode!r}")
    if value is not None and value != 0:
        raise ValueError(f"{op}: value is only used in constant mode, got value={value!r} "
                         f"with mode={mode!r}")
    sizes = input.shape[lead:]
    for size, (lo, hi) in zip(sizes, pairs):
        if min(lo, hi) < 0:
            raise ValueError(f"{op}: negative padding is only supported in constant mode")
        if mode == "reflect" and max(lo, hi) >= size:
            raise ValueError(f"{op}: reflect padding {(lo, hi)} must be smaller than the "
                             f"dimension it pads ({size})")
        if mode == "circular" and max(lo, hi) > size:
            raise ValueError(f"{op}: circular padding {(lo, hi)} must be at most the dimension "
                             f"it pads ({size})")
    index = np.pad(np.arange(int(np.prod(sizes))).reshape(sizes), pairs, mode=np_mode)
    return IndexPadFn.apply(input, index, k)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False,
              generator=None) -> Tensor:
    """Channel dropout: zero whole feature maps with probability ``p``, PyTorch's ``F.dropout2d``.

    Neighbouring pixels of a feature map are strongly correlated, so dropping single pixels
    (plain dropout) barely regularizes a CNN; dropping the whole channel does. Survivors are
    scaled by 1 / (1 - p). Input (N, C, H, W) or (C, H, W); mask one value per (n, c).
    A 3-D input is one unbatched image (C, H, W): the behaviour PyTorch announces as its
    future one (PyTorch 2.x still reads it as (N, C, L), with a warning).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: probability has to be between 0 and 1, but got {p}")
    if not isinstance(input, Tensor):
        input = Tensor(input)
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 4-D (N, C, H, W) or 3-D (C, H, W) input, got "
                         f"shape {tuple(input.shape)}")
    if not training or p == 0.0:
        return input
    rng = (generator if generator is not None else default_generator).rng
    # BEGIN SOLUTION
    if p == 1.0:
        return input * 0.0
    mask_shape = input.shape[:-2] + (1, 1)  # one draw per (image, channel), broadcast over H, W
    keep = (rng.random(mask_shape) >= p).astype(input.dtype) / np.asarray(1.0 - p, input.dtype)
    return input * Tensor(keep)
    # END SOLUTION


# --------------------------------------------------------------------------- modules


class Conv2d(Module):
    """2-D convolution layer, ``torch.nn.Conv2d``.

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size: int or (kh, kw).
        stride, padding, dilation, groups: as :func:`conv2d` (padding also 'same'/'valid').
        bias: learn one bias per output channel (default True).
        padding_mode: 'zeros' (default), 'reflect', 'replicate' or 'circular'.

    Attributes:
        weight: Parameter (out_channels, in_channels / groups, kh, kw), PyTorch's layout.
        bias: Parameter (out_channels,) or None. Both initialised as PyTorch does (see
            :meth:`reset_parameters`), so a fresh layer behaves like a fresh torch layer.

    Shapes: (N, C_in, H, W) -> (N, C_out, Ho, Wo).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__()
        op = "Conv2d"
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{op}: in_channels={in_channels} and out_channels={out_channels} "
                             f"must both be divisible by groups={groups}")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{op}: padding_mode must be 'zeros', 'reflect', 'replicate' or "
                             f"'circular', got {padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size", op)
        self.stride = _pair(stride, "stride", op)
        self.dilation = _pair(dilation, "dilation", op)
        self.padding = padding if isinstance(padding, str) else _pair(padding, "padding", op, 0)
        self._pads = _conv_padding(self.padding, self.kernel_size, self.dilation, self.stride, op)
        self.groups, self.padding_mode = groups, padding_mode
        dtype = np.dtype(dtype or np.float32)
        self.weight = Parameter(np.empty((out_channels, in_channels // groups) + self.kernel_size,
                                         dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty((out_channels,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) for the weight, which is
        U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels/groups * kh * kw; the
        bias uses the same bound."""
        # BEGIN SOLUTION
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * self.kernel_size[0] * self.kernel_size[1]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)
        # END SOLUTION

    def forward(self, input) -> Tensor:
        if self.padding_mode != "zeros":
            top, bottom, left, right = self._pads
            input = pad(input, (left, right, top, bottom), mode=self.padding_mode)
            return conv2d(input, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):  # a string ('same', 'valid') is printed too, as in torch
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


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


class Dropout2d(Module):
    """Zero whole channels with probability ``p`` while training, ``torch.nn.Dropout2d``."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input) -> Tensor:
        return dropout2d(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
