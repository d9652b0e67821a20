"""Module 09 -- padding: ``F.pad`` in its four modes.

Constant padding (or cropping, with negative pads) copies the input into a filled array;
reflect, replicate and circular padding are a gather through an index map built once with
``np.pad`` on an ``arange``, whose backward is one ``np.bincount`` scatter.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.autograd import Function
from tinytorch.core.tensor import Tensor

__all__ = ["pad"]


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
