"""Module 01 -- more shape ops: repeat/tile, repeat_interleave, flip, roll, tril/triu, diagonals,
movedim, unflatten, meshgrid, stacking helpers, narrow/unbind.

Ops that only rearrange elements are either composed from the core ops (reshape, permute,
expand, indexing, cat), so their gradients come for free, or written as a Function when the
composition would be slow or obscure (a flip is its own inverse; a repeat's gradient is a
sum over the copies). Each public function takes the tensor first, so Tensor binds it as a
method (``x.flip(0)`` is ``tt.flip(x, 0)``).
"""

from __future__ import annotations

import numpy as np

from tinytorch.core import tensor_ops as ops
from tinytorch.core.autograd import Function
from tinytorch.core.ops_support import as_tensor, dim_index, dims_tuple, tensor_class, wrap

__all__ = ["repeat", "tile", "repeat_interleave", "flip", "fliplr", "flipud", "roll", "tril",
           "triu", "diagonal", "diag", "diag_embed", "movedim", "moveaxis", "swapaxes",
           "swapdims", "t", "unflatten", "meshgrid", "broadcast_to", "hstack", "vstack",
           "dstack", "column_stack", "atleast_1d", "atleast_2d", "narrow", "unbind", "select",
           "trace", "rot90", "broadcast_tensors", "tril_indices", "triu_indices",
           "cartesian_prod", "block_diag", "cross"]


def _sizes(sizes):
    """``repeat(2, 3)`` and ``repeat((2, 3))`` both mean (2, 3)."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    return tuple(int(s) for s in sizes)


# --------------------------------------------------------------------------- copies


class Tile(Function):
    """Repeat the whole array ``reps`` times along each dim (``len(reps) == a.ndim``).
    Each input element appears once per copy, so its gradient is the sum over the copies."""

    @staticmethod
    def forward(ctx, a, reps):
        ctx.shape, ctx.reps = a.shape, reps
        return np.tile(a, reps)

    @staticmethod
    def backward(ctx, grad):
        # (r0 * s0, r1 * s1, ...) -> (r0, s0, r1, s1, ...), then sum the r axes
        split = [n for pair in zip(ctx.reps, ctx.shape) for n in pair]
        g = grad.reshape(split).sum(axis=tuple(range(0, 2 * len(ctx.reps), 2)))
        return g, None


def repeat(input, *sizes):
    """PyTorch's ``x.repeat(2, 3)``: tile the tensor; ``sizes`` has at least ``x.ndim`` entries
    (extra leading ones add dims). (3, 4).repeat(2, 1, 2) -> (2, 3, 8)."""
    a = as_tensor(input)
    reps = _sizes(sizes)
    if len(reps) < a.ndim:
        raise ValueError(f"repeat: {len(reps)} repeat counts {reps} for a tensor of shape "
                         f"{tuple(a.shape)}; give at least one per dim ({a.ndim})")
    if any(r < 0 for r in reps):
        raise ValueError(f"repeat: repeat counts must be >= 0, got {reps}")
    a = a.reshape((1,) * (len(reps) - a.ndim) + tuple(a.shape))
    return Tile.apply(a, reps)


def tile(input, dims):
    """Like :func:`repeat`, but fewer ``dims`` than the tensor has dims means leading 1s."""
    a = as_tensor(input)
    dims = _sizes((dims,)) if isinstance(dims, (tuple, list)) else (int(dims),)
    return repeat(a, (1,) * max(a.ndim - len(dims), 0) + dims)


class RepeatInterleave(Function):
    """Each element along ``axis`` repeated ``repeats`` times (an int or one count per element);
    the gradient of an element is the sum over its copies."""

    @staticmethod
    def forward(ctx, a, repeats, axis):
        ctx.axis, ctx.repeats, ctx.n = axis, repeats, a.shape[axis]
        return np.repeat(a, repeats, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        r = np.broadcast_to(np.asarray(ctx.repeats), (ctx.n,))
        starts = np.concatenate([[0], np.cumsum(r)[:-1]])
        if grad.shape[ctx.axis] == 0:
            return np.zeros(grad.shape[:ctx.axis] + (ctx.n,) + grad.shape[ctx.axis + 1:],
                            grad.dtype), None, None
        g = np.add.reduceat(grad, np.minimum(starts, grad.shape[ctx.axis] - 1), axis=ctx.axis)
        zero = (r == 0).reshape((-1,) + (1,) * (grad.ndim - ctx.axis - 1))
        return np.where(zero, 0, g), None, None  # reduceat gives a copy, not 0, for empty runs


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times along ``dim`` (flattened if None):
    [1, 2] with repeats=2 -> [1, 1, 2, 2]. ``repeats`` may be a tensor of per-element counts.
    ``repeat_interleave(counts)`` alone gives [0, 0, 1, ...] as PyTorch."""
    if repeats is None:  # torch.repeat_interleave(tensor_of_counts)
        counts = as_tensor(input)._data
        return wrap(np.repeat(np.arange(counts.shape[0]), counts))
    a = as_tensor(input)
    if dim is None:
        a, ax = a.reshape(-1), 0
    else:
        ax = dim_index(dim, a.ndim, "repeat_interleave")
        if a.ndim == 0:
            a = a.reshape(1)
    r = repeats._data if isinstance(repeats, tensor_class()) else np.asarray(repeats)
    if r.ndim > 1 or (r.ndim == 1 and r.shape[0] not in (1, a.shape[ax])):
        raise ValueError(f"repeat_interleave: repeats of shape {r.shape} must be one count or one "
                         f"per element of dim {ax} (size {a.shape[ax]})")
    if np.any(r < 0):
        raise ValueError("repeat_interleave: repeats must be >= 0")
    r = r.astype(np.int64)
    return RepeatInterleave.apply(a, int(r) if r.ndim == 0 else r, ax)


# --------------------------------------------------------------------------- reordering


class Flip(Function):
    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes = axes
        return np.flip(a, axes).copy()

    @staticmethod
    def backward(ctx, grad):
        return np.flip(grad, ctx.axes), None  # a flip is its own inverse


def flip(input, dims):
    """Reverse the order of elements along ``dims`` (an int or a tuple)."""
    a = as_tensor(input)
    return Flip.apply(a, dims_tuple(dims, a.ndim, "flip"))


def fliplr(input):
    """Flip left-right: dim 1 (needs at least 2 dims)."""
    a = as_tensor(input)
    if a.ndim < 2:
        raise ValueError(f"fliplr: needs a tensor with at least 2 dims, got shape {tuple(a.shape)}")
    return flip(a, 1)


def flipud(input):
    """Flip up-down: dim 0 (needs at least 1 dim)."""
    a = as_tensor(input)
    if a.ndim < 1:
        raise ValueError("flipud: needs a tensor with at least 1 dim, got a 0-d tensor")
    return flip(a, 0)


class Roll(Function):
    @staticmethod
    def forward(ctx, a, shifts, axes):
        ctx.shifts, ctx.axes = shifts, axes
        return np.roll(a, shifts, axes)

    @staticmethod
    def backward(ctx, grad):
        back = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return np.roll(grad, back, ctx.axes), None, None


def roll(input, shifts, dims=None):
    """Shift elements along ``dims`` by ``shifts``, wrapping around; with no dims, the
    flattened tensor is rolled and the shape restored."""
    a = as_tensor(input)
    if dims is None:
        return Roll.apply(a.reshape(-1), int(shifts) if not isinstance(shifts, (tuple, list))
                          else shifts[0], 0).reshape(a.shape)
    if isinstance(dims, (tuple, list)):
        if not isinstance(shifts, (tuple, list)) or len(shifts) != len(dims):
            raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length")
        axes = tuple(dim_index(d, a.ndim, "roll") for d in dims)
        return Roll.apply(a, tuple(int(s) for s in shifts), axes)
    return Roll.apply(a, int(shifts), dim_index(dims, a.ndim, "roll"))


def rot90(input, k: int = 1, dims=(0, 1)):
    """Rotate by 90 degrees k times in the plane of ``dims`` (first toward second)."""
    a = as_tensor(input)
    d0, d1 = (dim_index(d, a.ndim, "rot90") for d in dims)
    k %= 4
    if k == 1:
        return flip(a, d1).transpose(d0, d1)
    if k == 2:
        return flip(a, (d0, d1))
    if k == 3:
        return flip(a.transpose(d0, d1), d1)
    return a.clone() if a.requires_grad else wrap(a._data.copy())


# --------------------------------------------------------------------------- triangles, diagonals


class TriangleMask(Function):
    """Keep the lower (tril) or upper (triu) triangle of the last two dims; zero the rest."""

    @staticmethod
    def forward(ctx, a, k, upper):
        ctx.k, ctx.upper = k, upper
        return np.triu(a, k) if upper else np.tril(a, k)

    @staticmethod
    def backward(ctx, grad):
        return (np.triu(grad, ctx.k) if ctx.upper else np.tril(grad, ctx.k)), None, None


def _triangle(input, diagonal, upper, name):
    a = as_tensor(input)
    if a.ndim < 2:
        raise ValueError(f"{name}: needs a tensor with at least 2 dims (a matrix or a batch of "
                         f"them), got shape {tuple(a.shape)}")
    if a._data.dtype.kind != "f":
        return wrap(np.triu(a._data, diagonal) if upper else np.tril(a._data, diagonal))
    return TriangleMask.apply(a, int(diagonal), upper)


def tril(input, diagonal: int = 0):
    """The lower triangle of the last two dims (on and below ``diagonal``), zeros above.
    (..., n, m) -> (..., n, m). diagonal=-1 also drops the main diagonal."""
    return _triangle(input, diagonal, False, "tril")


def triu(input, diagonal: int = 0):
    """The upper triangle of the last two dims (on and above ``diagonal``), zeros below."""
    return _triangle(input, diagonal, True, "triu")


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=np.int64):
    """The (2, N) row and column indices of the lower triangle of a row x col matrix."""
    return wrap(np.stack(np.tril_indices(row, offset, col)).astype(dtype))


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=np.int64):
    """The (2, N) row and column indices of the upper triangle of a row x col matrix."""
    return wrap(np.stack(np.triu_indices(row, offset, col)).astype(dtype))


class Diagonal(Function):
    """The diagonal ``offset`` of the planes (axis1, axis2), moved to the last dim (as NumPy
    and PyTorch). The gradient is written back onto that diagonal of a zero array."""

    @staticmethod
    def forward(ctx, a, offset, axis1, axis2):
        ctx.shape, ctx.args = a.shape, (offset, axis1, axis2)
        return np.diagonal(a, offset, axis1, axis2).copy()

    @staticmethod
    def backward(ctx, grad):
        offset, axis1, axis2 = ctx.args
        out = np.zeros(ctx.shape, grad.dtype)
        planes = np.moveaxis(out, (axis1, axis2), (-2, -1))  # a view: writes land in out
        i = np.arange(grad.shape[-1])
        planes[..., i + max(-offset, 0), i + max(offset, 0)] = grad
        return out, None, None, None


def diagonal(input, offset: int = 0, dim1: int = 0, dim2: int = 1):
    """The diagonal of the (dim1, dim2) planes, as a new last dim: (n, n) -> (n,);
    (B, n, m) with dim1=1, dim2=2 -> (B, min(n, m))."""
    a = as_tensor(input)
    d1, d2 = dim_index(dim1, a.ndim, "diagonal"), dim_index(dim2, a.ndim, "diagonal")
    if a.ndim < 2 or d1 == d2:
        raise ValueError(f"diagonal: dim1 and dim2 must be two different dims of a tensor with "
                         f"at least 2 dims; got {dim1}, {dim2} for shape {tuple(a.shape)}")
    return Diagonal.apply(a, int(offset), d1, d2)


def trace(input):
    """The sum of the main diagonal of a 2-D tensor."""
    a = as_tensor(input)
    if a.ndim != 2:
        raise ValueError(f"trace: needs a 2-D tensor, got shape {tuple(a.shape)}")
    return diagonal(a).sum()


class DiagEmbed(Function):
    """Put the last dim on the diagonal ``offset`` of new (n + |offset|)-square last two dims."""

    @staticmethod
    def forward(ctx, a, offset):
        n = a.shape[-1] + abs(offset)
        out = np.zeros(a.shape[:-1] + (n, n), a.dtype)
        i = np.arange(a.shape[-1])
        out[..., i + max(-offset, 0), i + max(offset, 0)] = a
        ctx.offset = offset
        return out

    @staticmethod
    def backward(ctx, grad):
        return np.diagonal(grad, ctx.offset, -2, -1), None


def diag_embed(input, offset: int = 0, dim1: int = -2, dim2: int = -1):
    """(..., n) -> (..., n + |offset|, n + |offset|) with the input on a diagonal, zeros elsewhere;
    the two new dims are placed at ``dim1`` and ``dim2`` of the result."""
    a = as_tensor(input)
    out = DiagEmbed.apply(a, int(offset))
    nd = out.ndim
    d1, d2 = dim_index(dim1, nd, "diag_embed"), dim_index(dim2, nd, "diag_embed")
    if d1 == d2:
        raise ValueError(f"diag_embed: dim1 and dim2 must differ, got {dim1} and {dim2}")
    if (d1, d2) == (nd - 2, nd - 1):
        return out
    return movedim(out, (nd - 2, nd - 1), (d1, d2))


def diag(input, diagonal: int = 0):
    """1-D input (n,): the (n + |k|)-square matrix with it on diagonal ``k``.
    2-D input: its diagonal ``k`` as a 1-D tensor."""
    a = as_tensor(input)
    if a.ndim == 1:
        return DiagEmbed.apply(a, int(diagonal))
    if a.ndim == 2:
        return Diagonal.apply(a, int(diagonal), 0, 1)
    raise ValueError(f"diag: needs a 1-D or 2-D tensor, got shape {tuple(a.shape)}")


# --------------------------------------------------------------------------- moving dims


def movedim(input, source, destination):
    """Move dims ``source`` to positions ``destination`` (ints or tuples), others keep order."""
    a = as_tensor(input)
    src = source if isinstance(source, (tuple, list)) else (source,)
    dst = destination if isinstance(destination, (tuple, list)) else (destination,)
    if len(src) != len(dst):
        raise ValueError(f"movedim: source {tuple(src)} and destination {tuple(dst)} must have "
                         "the same number of dims")
    src = [dim_index(d, a.ndim, "movedim") for d in src]
    dst = [dim_index(d, a.ndim, "movedim") for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError(f"movedim: repeated dim in source {tuple(src)} or destination "
                         f"{tuple(dst)}")
    order = [d for d in range(a.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return a.permute(*order) if a.ndim else a


moveaxis = movedim


def swapaxes(input, axis0: int, axis1: int):
    """Swap two dims (PyTorch's transpose under NumPy's name)."""
    return as_tensor(input).transpose(axis0, axis1)


swapdims = swapaxes


def t(input):
    """Transpose a tensor of at most 2 dims (0-d and 1-d are returned as they are)."""
    a = as_tensor(input)
    if a.ndim > 2:
        raise ValueError(f"t: expects a tensor with <= 2 dims, got shape {tuple(a.shape)}; use "
                         "transpose(dim0, dim1) or .mT for batches")
    return a.transpose(0, 1) if a.ndim == 2 else a


def unflatten(input, dim: int, sizes):
    """Split one dim into several: (B, 12) with unflatten(1, (3, 4)) -> (B, 3, 4); one size
    may be -1."""
    a = as_tensor(input)
    d = dim_index(dim, a.ndim, "unflatten")
    sizes = tuple(int(s) for s in sizes)
    known = int(np.prod([s for s in sizes if s != -1]))
    n = a.shape[d]
    if sizes.count(-1) > 1 or (-1 not in sizes and known != n) or \
            (-1 in sizes and (known == 0 or n % known)):
        raise ValueError(f"unflatten: sizes {sizes} do not multiply to dim {dim}'s size {n} "
                         f"(shape {tuple(a.shape)})")
    sizes = tuple(n // known if s == -1 else s for s in sizes)
    return a.reshape(tuple(a.shape[:d]) + sizes + tuple(a.shape[d + 1:]))


def broadcast_to(input, size):
    """Expand to ``size`` by broadcasting (no copy); -1 keeps a dim."""
    return as_tensor(input).expand(*size)


def broadcast_tensors(*tensors):
    """Expand every tensor to their common broadcast shape."""
    ts = [as_tensor(x) for x in tensors]
    try:
        shape = np.broadcast_shapes(*(tuple(x.shape) for x in ts))
    except ValueError:
        raise ValueError("broadcast_tensors: shapes " + ", ".join(str(tuple(x.shape)) for x in ts)
                         + " do not broadcast") from None
    return tuple(x.expand(*shape) for x in ts)


def meshgrid(*tensors, indexing: str = "ij"):
    """Coordinate grids from 1-D tensors of sizes (n1, n2, ...): each output has shape
    (n1, n2, ...) ("ij", PyTorch's default) or (n2, n1, ...) ("xy", NumPy's default)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    ts = [as_tensor(x) for x in tensors]
    for x in ts:
        if x.ndim > 1:
            raise ValueError(f"meshgrid: expects 0-D or 1-D tensors, got shape {tuple(x.shape)}")
    ts = [x.reshape(-1) for x in ts]
    if indexing == "xy" and len(ts) >= 2:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(x.shape[0] for x in ts)
    n = len(ts)
    # input i varies along dim i of the grid: shape (1, .., n_i, .., 1), then expanded
    out = [x.reshape((1,) * i + (-1,) + (1,) * (n - i - 1)).expand(*shape)
           for i, x in enumerate(ts)]
    if indexing == "xy" and n >= 2:  # the "ij" grids of (y, x, ...), handed back as (x, y, ...)
        out[0], out[1] = out[1], out[0]
    return tuple(out)


# --------------------------------------------------------------------------- joining, slicing


def atleast_1d(input):
    a = as_tensor(input)
    return a.reshape(1) if a.ndim == 0 else a


def atleast_2d(input):
    a = as_tensor(input)
    return a.reshape((1,) * (2 - a.ndim) + tuple(a.shape)) if a.ndim < 2 else a


def _cat(ts, dim, name):
    from tinytorch.core.tensor_functions import cat  # a face of module 01, loaded after this file

    if not isinstance(ts, (list, tuple)) or not ts:
        raise TypeError(f"{name}: expected a non-empty list or tuple of tensors")
    return cat(list(ts), dim)


def hstack(tensors):
    """Join along dim 1 (dim 0 for 1-D tensors): [(2, 3), (2, 1)] -> (2, 4)."""
    ts = [atleast_1d(x) for x in tensors]
    return _cat(ts, 0 if ts and ts[0].ndim == 1 else 1, "hstack")


def vstack(tensors):
    """Join along dim 0, 1-D tensors becoming rows: [(3,), (3,)] -> (2, 3)."""
    return _cat([atleast_2d(x) for x in tensors], 0, "vstack")


def dstack(tensors):
    """Join along dim 2, smaller tensors first made (1, n, 1) or (m, n, 1)."""
    ts = []
    for x in tensors:
        x = atleast_2d(x)
        ts.append(x.unsqueeze(-1) if x.ndim == 2 else x)
    return _cat(ts, 2, "dstack")


def column_stack(tensors):
    """1-D tensors become columns, 2-D ones are joined as they are: [(3,), (3, 2)] -> (3, 3)."""
    return _cat([x.reshape(-1, 1) if x.ndim <= 1 else x for x in map(as_tensor, tensors)], 1,
                "column_stack")


def narrow(input, dim: int, start: int, length: int):
    """Elements [start, start + length) along ``dim`` (start may be negative)."""
    a = as_tensor(input)
    d = dim_index(dim, a.ndim, "narrow")
    n = a.shape[d]
    s = int(start) + n if int(start) < 0 else int(start)
    if not 0 <= s <= n or length < 0 or s + length > n:
        raise IndexError(f"narrow: start {start} + length {length} exceeds dim {dim} of size {n} "
                         f"(shape {tuple(a.shape)})")
    return ops.GetItem.apply(a, (slice(None),) * d + (slice(s, s + int(length)),))


def select(input, dim: int, index: int):
    """The slice at ``index`` along ``dim``, that dim removed: (B, T, D) select(1, -1) -> (B, D)."""
    a = as_tensor(input)
    d = dim_index(dim, a.ndim, "select")
    n = a.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select: index {index} is out of range for dim {dim} of size {n}")
    return ops.GetItem.apply(a, (slice(None),) * d + (int(index),))


def unbind(input, dim: int = 0):
    """The slices along ``dim`` as a tuple: (3, 4) unbind(0) -> three tensors of shape (4,)."""
    a = as_tensor(input)
    d = dim_index(dim, a.ndim, "unbind")
    return tuple(select(a, d, i) for i in range(a.shape[d]))


# --------------------------------------------------------------------------- composed builders


def cartesian_prod(*tensors):
    """Every combination of the 1-D inputs' elements, as rows: (n1 * n2 * ..., k);
    a single input is returned as it is."""
    ts = [as_tensor(x) for x in tensors]
    if len(ts) == 1:
        return ts[0]
    from tinytorch.core.tensor_functions import stack  # the face of module 01, loaded after

    return stack([g.reshape(-1) for g in meshgrid(*ts, indexing="ij")], dim=1)


def block_diag(*tensors):
    """The inputs (0-, 1- or 2-D) on the diagonal of one zero matrix:
    (2, 2) and (1, 3) -> (3, 5)."""
    from tinytorch.core.tensor_functions import cat  # the face of module 01, loaded after

    ts = [atleast_2d(x) for x in tensors]
    for x in ts:
        if x.ndim > 2:
            raise ValueError(f"block_diag: inputs must have at most 2 dims, got {tuple(x.shape)}")
    dts = [x._data.dtype for x in ts]  # PyTorch's promotion: any float wins over ints
    floats = [d for d in dts if d.kind == "f"]
    dtype = np.result_type(*(floats or dts))
    width = sum(x.shape[1] for x in ts)
    rows, left = [], 0
    for x in ts:
        r, c = x.shape
        parts = [wrap(np.zeros((r, left), dtype)), x.to(dtype),
                 wrap(np.zeros((r, width - left - c), dtype))]
        rows.append(cat(parts, 1))
        left += c
    return cat(rows, 0)


def cross(input, other, dim=None):
    """The cross product of 3-vectors along ``dim`` (default: the first dim of size 3, as
    ``torch.cross``; ``torch.linalg.cross`` uses -1). Shapes broadcast."""
    a, b = as_tensor(input), as_tensor(other)
    a, b = broadcast_tensors(a, b)
    if dim is None:
        dim = next((d for d, n in enumerate(a.shape) if n == 3), None)
        if dim is None:
            raise ValueError(f"cross: no dim of size 3 in shape {tuple(a.shape)}")
    d = dim_index(dim, a.ndim, "cross")
    if a.shape[d] != 3:
        raise ValueError(f"cross: dim {dim} must have size 3, got shape {tuple(a.shape)}")
    a0, a1, a2 = (select(a, d, i) for i in range(3))
    b0, b1, b2 = (select(b, d, i) for i in range(3))
    from tinytorch.core.tensor_functions import stack  # the face of module 01, loaded after

    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim=d)
