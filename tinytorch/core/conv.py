"""Module 09 -- convolution: the layer that sees an image as an image.

A dense layer treats a 28x28 digit as 784 unrelated numbers. A convolution slides one small
filter (say 3x3) over the whole image: the same few weights look at every position (weight
sharing), and each output depends only on a neighbourhood (locality).

Two speeds, one answer:

* the **course path** -- :func:`conv2d_naive` -- spells the math out as nested Python loops,
  one multiply-add at a time. Easy to read, hopeless to train with;
* the **engine path** -- :func:`conv2d` -- is im2col (``core/im2col.py``) plus one matrix
  multiply per group; its backward is two more matrix multiplies and a col2im.

Shapes follow PyTorch: images are (N, C, H, W) (a 3-D (C, H, W) input is one unbatched
image), weights are (out_channels, in_channels / groups, kh, kw).
"""

from __future__ import annotations

import math

import numpy as np

from tinytorch.core import init
from tinytorch.core.autograd import Function
from tinytorch.core.im2col import (BATCH_FIRST, _inverse, col2im, col2im_batched, conv_layout,
                                   im2col, im2col_batched, to_layout)
from tinytorch.core.module import Module, Parameter
from tinytorch.core.padding import pad
from tinytorch.core.tensor import Tensor
from tinytorch.core.windows import _as_image, _pad_array, _pair, _unbatch, conv_output_size

__all__ = ["conv2d", "conv2d_naive", "Conv2d"]


# ------------------------------------------------------------------ the course path


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
    x = input._data if isinstance(input, Tensor) else np.asarray(input)
    w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
    b = None if bias is None else (bias._data if isinstance(bias, Tensor) else np.asarray(bias))
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


# ------------------------------------------------------------------ the engine path


# Convolution works on the batch in chunks of images whose column matrix stays under this
# many bytes. im2col copies each input pixel kh*kw times: for Conv2d(64, 64, 3) on a batch of
# 128 32x32 images the whole matrix would be 302 MB (and its gradient as much again); in
# chunks of 8 MB the working set is bounded whatever the batch, every temporary is small
# enough for malloc to reuse from one chunk to the next (no page faults, see
# tinytorch/_allocator.py), and the matmuls are still large enough for BLAS.
CHUNK_BYTES = 8 * 1024 * 1024


def conv_chunks(n: int, per_image_bytes: int, budget: int | None = None) -> list[slice]:
    """Slices of the batch, each of as many images as fit in ``budget`` bytes of columns
    (at least one image per chunk)."""
    budget = CHUNK_BYTES if budget is None else budget
    step = max(1, min(n, budget // max(per_image_bytes, 1)))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


class Conv2dFn(Function):
    """Fused 2-D convolution: im2col + one matmul per group, and its backward.

    Inputs: x (N, C, H, W), w (O, C/G, kh, kw), b (O,) or None; then stride, pads
    (top, bottom, left, right), dilation, groups. Output (N, O, Ho, Wo).

    Two engines, picked by :func:`conv_layout` from the output width: narrow images are
    permuted to (C, H, W, N) and convolved with one matmul for the whole chunk (im2col);
    wide ones stay (N, C, H, W) with one matmul per image written straight into the output
    (im2col_batched, with the bias fused into the matmul; backward in
    :func:`_backward_batched`).

    The batch is processed in chunks (:func:`conv_chunks`). When the whole batch fits in one
    chunk, the forward keeps its column matrix for the backward (it is small, and rebuilding
    it would cost a copy); otherwise it keeps only the input, as PyTorch does, and the backward
    rebuilds each chunk's columns: memory bounded by one chunk instead of the whole batch.
    """

    @staticmethod
    def forward(ctx, x, w, b, stride, pads, dilation, groups):
        n, c, h, wd = x.shape
        o, cg, kh, kw = w.shape
        ho = conv_output_size(h, kh, stride[0], pads[0], pads[1], dilation[0])
        wo = conv_output_size(wd, kw, stride[1], pads[2], pads[3], dilation[1])
        order = conv_layout(wo)
        dtype = np.result_type(x, w)
        og, kg = o // groups, cg * kh * kw
        wmat = w.reshape(o, kg)  # (O, Kg): filter o is row o, group g owns rows g*og..
        chunks = conv_chunks(n, c * kh * kw * ho * wo * x.itemsize)
        y = np.empty((n, o, ho, wo), dtype=dtype)
        # batch first, one group, a bias: the bias rides in the matmul as a column of the
        # weight times a row of ones in the columns (im2col_batched's ones_row)
        fused = order == BATCH_FIRST and groups == 1 and b is not None
        if fused:
            wcat = np.concatenate([wmat, b.reshape(o, 1).astype(wmat.dtype, copy=False)], axis=1)
        cols = None
        for part in chunks:
            m = part.stop - part.start
            if order == BATCH_FIRST:  # one matmul per image, straight into y: no transpose
                cols = im2col_batched(x[part], pads, (kh, kw), (ho, wo), stride, dilation,
                                      ones_row=fused)
                out = y[part].reshape(m, o, ho * wo)  # a view: matmul writes into y
                if fused:  # [W | b] @ [cols; 1]: the bias added inside the matmul
                    np.matmul(wcat, cols, out=out)
                    continue
                for g in range(groups):  # (og, Kg) @ (m, Kg, Ho*Wo) -> (m, og, Ho*Wo)
                    np.matmul(wmat[g * og:(g + 1) * og], cols[:, g * kg:(g + 1) * kg],
                              out=out[:, g * og:(g + 1) * og])
                if b is not None:
                    np.add(out, b.reshape(o, 1), out=out, casting="unsafe")
                continue
            xw = to_layout(x[part], pads, order)  # e.g. (C, Hp, Wp, m)
            # BEGIN SOLUTION
            cols = im2col(xw, order, (kh, kw), (ho, wo), stride, dilation)  # (C*kh*kw, m*Ho*Wo)
            out = np.empty((o, m * ho * wo), dtype=dtype)
            for g in range(groups):  # one matmul per group (usually just one)
                np.matmul(wmat[g * og:(g + 1) * og], cols[g * kg:(g + 1) * kg],
                          out=out[g * og:(g + 1) * og])  # (og, Kg) @ (Kg, m*Ho*Wo)
            # out is laid out as ``order`` with O in place of C: back to (m, O, Ho, Wo),
            # adding the bias in the same pass
            out = out.reshape(tuple((m, o, ho, wo)[a] for a in order)).transpose(_inverse(order))
            if b is None:
                np.copyto(y[part], out)
            else:
                np.add(out, b.reshape(1, o, 1, 1), out=y[part], casting="unsafe")
            # END SOLUTION
        one_chunk = len(chunks) == 1
        ctx.save_for_backward(cols if one_chunk else None, None if one_chunk else x, wmat)
        ctx.shapes = (x.shape, w.shape, (ho, wo))
        ctx.conf = (stride, pads, dilation, groups, order, chunks, fused)
        return y

    @staticmethod
    def backward(ctx, grad):
        x_shape, w_shape, (ho, wo) = ctx.shapes
        stride, pads, dilation, groups, order, chunks, fused = ctx.conf
        n, c, h, wd = x_shape
        o, cg, kh, kw = w_shape
        og, kg = o // groups, cg * kh * kw
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        cols, x, wmat = ctx.saved_tensors
        top, _, left, _ = pads
        dx = np.empty(x_shape, dtype=grad.dtype) if need_x else None
        dw = np.zeros((o, kg), dtype=grad.dtype) if need_w else None
        db = np.zeros(o, dtype=grad.dtype) if need_b else None
        for part in chunks:
            m = part.stop - part.start
            if order == BATCH_FIRST:
                _backward_batched(grad[part], cols if len(chunks) == 1 else None,
                                  None if x is None else x[part], wmat, pads, (kh, kw), (ho, wo),
                                  stride, dilation, groups, fused, dx, dw, db, part)
                continue
            # dL/dout in the forward's layout: (O, m*Ho*Wo), columns in the order of cols
            g = np.ascontiguousarray(grad[part].transpose(order)).reshape(o, -1)
            # BEGIN SOLUTION
            if need_b:
                db += g.sum(axis=1)
            if need_w:  # out = W @ cols  =>  dW = dout @ cols^T, summed over every window
                if cols is None or len(chunks) > 1:  # rebuild this chunk's columns
                    cols = im2col(to_layout(x[part], pads, order), order, (kh, kw), (ho, wo),
                                  stride, dilation)
                for i in range(groups):  # (cols @ g^T)^T: the same product, and OpenBLAS
                    # runs this operand order ~1.3x faster for a long M = m*Ho*Wo (measured)
                    dw[i * og:(i + 1) * og] += (cols[i * kg:(i + 1) * kg]
                                                @ g[i * og:(i + 1) * og].T).T
            if need_x:  # dcols = W^T @ dout, then add each column back into the image
                dcols = np.empty((c * kh * kw, m * ho * wo), dtype=grad.dtype)
                for i in range(groups):
                    np.matmul(wmat[i * og:(i + 1) * og].T, g[i * og:(i + 1) * og],
                              out=dcols[i * kg:(i + 1) * kg])  # (Kg, m*Ho*Wo)
                padded = (m, c, h + pads[0] + pads[1], wd + pads[2] + pads[3])
                dxw = col2im(dcols, tuple(padded[a] for a in order), order, (kh, kw),
                             (ho, wo), stride, dilation)
                # back to (m, C, H, W), without the padding
                dx[part] = dxw.transpose(_inverse(order))[:, :, top:top + h, left:left + wd]
            # END SOLUTION
        if dw is not None:
            dw = dw.reshape(w_shape)
        return dx, dw, db, None, None, None, None


def _backward_batched(grad, cols, x, wmat, pads, kernel, out_hw, stride, dilation, groups,
                      fused, dx, dw, db, part):
    """Conv2dFn's backward for one chunk of images in the batch-first layout, accumulating
    into ``dx[part]``, ``dw`` (O, Kg) and ``db`` (whichever are not None). ``cols`` is the
    forward's (m, C*kh*kw [+ 1 ones row when ``fused``], Ho*Wo) columns, or None to rebuild
    them from ``x`` (this chunk)."""
    m, o = grad.shape[:2]
    og, kg = o // groups, wmat.shape[1]
    g = grad.reshape(m, o, -1)  # (m, O, Ho*Wo): the forward's output layout, no transpose
    if db is not None and not (fused and dw is not None):
        db += g.sum(axis=(0, 2))
    if dw is not None:  # out_n = W @ cols_n  =>  dW = sum over images of dout_n @ cols_n^T
        if cols is None:
            cols = im2col_batched(x, pads, kernel, out_hw, stride, dilation, ones_row=fused)
        for i in range(groups):  # as (cols_n @ dout_n^T)^T: OpenBLAS runs this order faster
            prod = np.matmul(cols[:, i * kg:(i + 1) * kg + fused],
                             g[:, i * og:(i + 1) * og].transpose(0, 2, 1)).sum(axis=0)
            dw[i * og:(i + 1) * og] += prod[:kg].T
            if fused and db is not None:  # the ones row: the bias gradient, sum of dout
                db += prod[kg]
    if dx is not None:  # dcols_n = W^T @ dout_n, then add each column back into the image
        dcols = np.empty((m, kg * groups, g.shape[2]), dtype=g.dtype)
        for i in range(groups):
            np.matmul(wmat[i * og:(i + 1) * og].T, g[:, i * og:(i + 1) * og],
                      out=dcols[:, i * kg:(i + 1) * kg])
        col2im_batched(dcols, dx[part].shape, pads, kernel, out_hw, stride, dilation,
                       out=dx[part])  # a contiguous slice of dx: written in place


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


# ------------------------------------------------------------------ the layer


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
