"""Module 01 -- ops that select by index: gather/scatter, index_select, masks, nonzero, sorting,
top-k, unique, searchsorted.

Gather-like ops move each output element's gradient back to where it came from; several
outputs may come from one input (an index repeated), so the backward adds with ``np.add.at``
(a plain ``out[idx] += g`` would keep only one of the repeats). Scatter-like ops are their
mirror image. Each public function takes the tensor first, so Tensor binds it as a method.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from tinytorch.core import tensor_inplace as _inplace
from tinytorch.core import tensor_ops as ops
from tinytorch.core.autograd import Function
from tinytorch.core.ops_reduce import TakeAlong
from tinytorch.core.ops_support import as_tensor, dim_index, tensor_class, wrap

__all__ = ["gather", "scatter", "scatter_add", "index_select", "masked_fill", "masked_select",
           "nonzero", "argwhere", "take_along_dim", "take", "sort", "argsort", "msort", "topk",
           "kthvalue", "unique", "unique_consecutive", "searchsorted", "bucketize", "cummax",
           "cummin"]

_ReturnTypes = namedtuple("ReturnTypes", ["values", "indices"])


def _array(x):
    return x._data if isinstance(x, tensor_class()) else np.asarray(x)


def _index_array(index, op):
    idx = _array(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor (int64), got {idx.dtype}")
    return idx.astype(np.int64, copy=False)


def _full_index(index, axis):
    """The NumPy fancy index that addresses, for each element of ``index``, the element
    ``index[i0, .., ik, ..]`` along ``axis`` and its own position along every other dim."""
    nd = index.ndim
    return tuple(index if d == axis else
                 np.arange(index.shape[d]).reshape((1,) * d + (-1,) + (1,) * (nd - d - 1))
                 for d in range(nd))


def _check_gather_shapes(a_shape, idx, axis, op, src_shape=None):
    if idx.ndim != len(a_shape) and not (idx.ndim == 1 and len(a_shape) == 0):
        raise ValueError(f"{op}: index has {idx.ndim} dims but the tensor has {len(a_shape)} "
                         f"(shapes {idx.shape} and {a_shape}); they must match")
    for d, (n_i, n_a) in enumerate(zip(idx.shape, a_shape)):
        if d != axis and n_i > n_a:
            raise ValueError(f"{op}: index shape {idx.shape} exceeds the tensor's shape {a_shape} "
                             f"in dim {d}")
        if src_shape is not None and n_i > src_shape[d]:
            raise ValueError(f"{op}: index shape {idx.shape} exceeds src's shape {src_shape} in "
                             f"dim {d}")
    n = a_shape[axis] if a_shape else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"{op}: index out of range for dim {axis} of size {n} (index values "
                         f"from {idx.min()} to {idx.max()})")


# --------------------------------------------------------------------------- gather / scatter


class Gather(Function):
    """out[i][j] = a[index[i][j]][j] (axis 0): each output element is read from one place."""

    @staticmethod
    def forward(ctx, a, index, axis):
        full = _full_index(index, axis)
        ctx.shape, ctx.full = a.shape, full
        return a[full]

    @staticmethod
    def backward(ctx, grad):
        out = np.zeros(ctx.shape, grad.dtype)
        np.add.at(out, ctx.full, grad)  # an index repeated adds its gradients
        return out, None, None


def gather(input, dim: int, index, *, sparse_grad: bool = False):
    """Pick values along ``dim`` at ``index`` (same number of dims as input; each other dim no
    larger than input's): out[i][j] = input[index[i][j]][j] for dim 0. The result has index's
    shape. The classic use: ``logp.gather(1, target[:, None])``."""
    a = as_tensor(input)
    idx = _index_array(index, "gather")
    ax = dim_index(dim, a.ndim, "gather")
    _check_gather_shapes(tuple(a.shape), idx, ax, "gather")
    if a.ndim == 0:
        return a.reshape(1)[idx % 1].reshape(idx.shape)
    return Gather.apply(a, idx, ax)


class Scatter(Function):
    """out = a with out[index[i][j]][j] = src[i][j] (axis 0), or += with ``add``. Written-over
    places of ``a`` get no gradient (plain scatter); ``src`` gets the gradient at its target."""

    @staticmethod
    def forward(ctx, a, src, index, axis, add=False):
        full = _full_index(index, axis)
        ctx.full, ctx.add, ctx.src_shape = full, add, np.shape(src)
        out = a.copy()
        vals = src[tuple(slice(0, n) for n in index.shape)] if np.ndim(src) else src
        if add:
            np.add.at(out, full, vals)
        else:
            out[full] = vals
        return out

    @staticmethod
    def backward(ctx, grad):
        full = ctx.full
        ga = grad
        if not ctx.add:
            ga = grad.copy()
            ga[full] = 0
        gs = None
        if ctx.needs_input_grad[1]:
            gs = np.zeros(ctx.src_shape, grad.dtype)
            gs[tuple(slice(0, n) for n in full[0].shape)] = grad[full]
        return ga, gs, None, None, None


def _scatter(input, dim, index, src, value, add, name):
    a = as_tensor(input)
    idx = _index_array(index, name)
    ax = dim_index(dim, a.ndim, name)
    if src is None and value is None:
        raise TypeError(f"{name}: give src (a tensor) or value (a number)")
    if src is not None and not isinstance(src, tensor_class()) and np.ndim(src) == 0:
        src, value = None, src  # scatter(dim, index, 2.0): a number in src's place
    if src is not None:
        s = as_tensor(src)
        _check_gather_shapes(tuple(a.shape), idx, ax, name, tuple(s.shape))
        if s._data.dtype != a._data.dtype:
            raise TypeError(f"{name}: src dtype {s.dtype} must match the tensor's dtype {a.dtype}")
    else:
        _check_gather_shapes(tuple(a.shape), idx, ax, name)
        s = np.asarray(value, dtype=a._data.dtype)
    return Scatter.apply(a, s, idx, ax, add)


def scatter(input, dim: int, index, src=None, *, value=None, reduce=None):
    """A copy of input with src's values written at ``index`` along ``dim``:
    out[index[i][j]][j] = src[i][j] (dim 0). ``value=`` (or a number as src) writes a constant.
    ``reduce="add"`` adds instead; other reductions are not supported."""
    if reduce not in (None, "add"):
        raise ValueError(f"scatter: reduce={reduce!r} is not supported (None or 'add')")
    return _scatter(input, dim, index, src, value, reduce == "add", "scatter")


def scatter_add(input, dim: int, index, src):
    """A copy of input with src added at ``index`` along ``dim`` (repeated indices add up)."""
    return _scatter(input, dim, index, src, None, True, "scatter_add")


def scatter_(self, dim: int, index, src=None, *, value=None, reduce=None):
    """In place: ``self`` takes ``scatter(self, dim, index, src)``'s values (PyTorch's in-place
    rules: counted in ``_version``, refused on a leaf that requires grad while recording)."""
    return _inplace.inplace(
        self, lambda t: scatter(t, dim, index, src, value=value, reduce=reduce), "scatter_", src)


def scatter_add_(self, dim: int, index, src):
    """In place: ``self`` takes ``scatter_add(self, dim, index, src)``'s values."""
    return _inplace.inplace(self, lambda t: scatter_add(t, dim, index, src), "scatter_add_", src)


def index_select(input, dim: int, index):
    """The slices at ``index`` (1-D) along ``dim``: (5, 3) index_select(0, [4, 0]) -> (2, 3)."""
    a = as_tensor(input)
    idx = _index_array(index, "index_select")
    if idx.ndim > 1:
        raise ValueError(f"index_select: index must be 0-D or 1-D, got shape {idx.shape}")
    d = dim_index(dim, a.ndim, "index_select")
    n = a.shape[d] if a.ndim else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"index_select: index out of range for dim {dim} of size {n}")
    if a.ndim == 0:
        return a.reshape(1)[idx.reshape(-1)].reshape(idx.shape)
    return ops.GetItem.apply(a, (slice(None),) * d + (idx.reshape(-1),))


def take_along_dim(input, indices, dim=None):
    """Like :func:`gather`, but index and input broadcast against each other; ``dim=None``
    indexes the flattened input."""
    a = as_tensor(input)
    idx = _index_array(indices, "take_along_dim")
    if dim is None:
        return take(a, idx.reshape(-1))
    ax = dim_index(dim, a.ndim, "take_along_dim")
    if idx.ndim != a.ndim:
        raise ValueError(f"take_along_dim: indices have {idx.ndim} dims, input {a.ndim} "
                         f"(shapes {idx.shape} and {tuple(a.shape)})")
    try:
        shape = np.broadcast_shapes(tuple(n for d, n in enumerate(a.shape) if d != ax),
                                    tuple(n for d, n in enumerate(idx.shape) if d != ax))
    except ValueError:
        raise ValueError(f"take_along_dim: input {tuple(a.shape)} and indices {idx.shape} do "
                         f"not broadcast outside dim {ax}") from None
    shape_a = list(shape)
    shape_a.insert(ax, a.shape[ax])
    shape_i = list(shape)
    shape_i.insert(ax, idx.shape[ax])
    a = a.expand(*shape_a) if tuple(shape_a) != tuple(a.shape) else a
    n = a.shape[ax]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"take_along_dim: index out of range for dim {ax} of size {n}")
    return Gather.apply(a, np.broadcast_to(idx, shape_i) % max(n, 1), ax)  # repeats add up


def take(input, index):
    """The flattened input at ``index``; the result has index's shape."""
    a = as_tensor(input)
    idx = _index_array(index, "take")
    return ops.GetItem.apply(a.reshape(-1), idx)


# --------------------------------------------------------------------------- masks


def masked_fill(input, mask, value):
    """input with ``value`` wherever ``mask`` (bool, broadcastable) is True; keeps input's dtype.
    The classic use: ``scores.masked_fill(~causal, float('-inf'))``."""
    a = as_tensor(input)
    m = _array(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got {m.dtype}")
    try:
        np.broadcast_shapes(m.shape, tuple(a.shape))
    except ValueError:
        raise ValueError(f"masked_fill: mask of shape {m.shape} does not broadcast to the tensor's "
                         f"shape {tuple(a.shape)}") from None
    if isinstance(value, tensor_class()):
        if value.ndim != 0:
            raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape "
                             f"{tuple(value.shape)}")
        v = value if value._data.dtype == a._data.dtype else value.to(a._data.dtype)
    else:
        v = np.asarray(value).astype(a._data.dtype) if a._data.dtype.kind != "f" else float(value)
    out = ops.Where.apply(m, v, a)
    if out.shape != a.shape:  # the mask may not make the result larger than input
        raise ValueError(f"masked_fill: mask of shape {m.shape} would broadcast the tensor "
                         f"{tuple(a.shape)} to {tuple(out.shape)}")
    return out if out._data.dtype == a._data.dtype else out.to(a._data.dtype)


def masked_select(input, mask):
    """The elements where ``mask`` is True, as a 1-D tensor (input and mask broadcast)."""
    a = as_tensor(input)
    m = _array(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_select: mask must be a bool tensor, got {m.dtype}")
    try:
        shape = np.broadcast_shapes(m.shape, tuple(a.shape))
    except ValueError:
        raise ValueError(f"masked_select: mask {m.shape} and input {tuple(a.shape)} do not "
                         "broadcast") from None
    if tuple(a.shape) != shape:
        a = a.expand(*shape)
    return ops.GetItem.apply(a, np.broadcast_to(m, shape))


def nonzero(input, *, as_tuple: bool = False):
    """Indices of the nonzero elements: an (N, ndim) int64 tensor, or with ``as_tuple`` one
    1-D tensor per dim (usable as an index: ``x[x.nonzero(as_tuple=True)]``)."""
    a = _array(input)
    if as_tuple:
        if a.ndim == 0:
            return (wrap(np.nonzero(a.reshape(1))[0].astype(np.int64)),)
        return tuple(wrap(i.astype(np.int64)) for i in np.nonzero(a))
    return wrap(np.argwhere(a).astype(np.int64))


argwhere = nonzero


# --------------------------------------------------------------------------- sorting


def _sort_indices(a, axis, descending):
    """Stable sort order along ``axis``. Descending keeps equal elements in their original
    order: sort the reversed array ascending (stably), then reverse the result."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    n = a.shape[axis]
    rev = np.flip(np.argsort(np.flip(a, axis), axis=axis, kind="stable"), axis)
    return n - 1 - rev


def sort(input, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """Sorted values and the indices they came from, along ``dim`` (same shape as input).
    Always stable (equal values keep their order); nan sorts as the largest, as PyTorch."""
    a = as_tensor(input)
    if a.ndim == 0:
        return _ReturnTypes(a.clone() if a.requires_grad else wrap(a._data.copy()),
                            wrap(np.zeros((), np.int64)))
    ax = dim_index(dim, a.ndim, "sort")
    idx = _sort_indices(a._data, ax, descending)
    values = TakeAlong.apply(a, idx, ax, True) if a._data.dtype.kind == "f" else \
        wrap(np.take_along_axis(a._data, idx, ax))
    return _ReturnTypes(values, wrap(idx.astype(np.int64)))


def argsort(input, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """The indices that sort ``input`` along ``dim`` (stable)."""
    return sort(input, dim, descending).indices


def msort(input):
    """Sort along dim 0 (values only)."""
    return sort(input, 0).values


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The ``k`` largest (or smallest) values along ``dim`` and their indices, largest first.
    (B, N) with k=3 -> two (B, 3) tensors."""
    a = as_tensor(input)
    ax = dim_index(dim, a.ndim, "topk")
    n = a.shape[ax] if a.ndim else 1
    if not 0 <= k <= n:
        raise ValueError(f"topk: k={k} is out of range for dim {dim} of size {n}")
    if a.ndim == 0:
        return sort(a)
    idx = _sort_indices(a._data, ax, largest)
    idx = np.take(idx, np.arange(k), axis=ax)
    values = TakeAlong.apply(a, idx, ax, True) if a._data.dtype.kind == "f" else \
        wrap(np.take_along_axis(a._data, idx, ax))
    return _ReturnTypes(values, wrap(idx.astype(np.int64)))


def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False):
    """The k-th smallest value along ``dim`` (k from 1) and its index."""
    a = as_tensor(input)
    ax = dim_index(dim, a.ndim, "kthvalue")
    n = a.shape[ax] if a.ndim else 1
    if not 1 <= k <= n:
        raise ValueError(f"kthvalue: k={k} is out of range for dim {dim} of size {n}")
    if a.ndim == 0:
        return sort(a)
    idx = np.take(_sort_indices(a._data, ax, False), [k - 1], axis=ax)
    values = TakeAlong.apply(a, idx, ax, keepdim) if a._data.dtype.kind == "f" else \
        wrap(np.take_along_axis(a._data, idx, ax) if keepdim else
             np.squeeze(np.take_along_axis(a._data, idx, ax), ax))
    return _ReturnTypes(values, wrap(idx if keepdim else np.squeeze(idx, ax)))


def _cum_extreme(input, dim, smallest, name):
    a = as_tensor(input)
    if a.ndim == 0:
        return _ReturnTypes(a * 1 if a._data.dtype.kind == "f" else wrap(a._data.copy()),
                            wrap(np.zeros((), np.int64)))
    ax = dim_index(dim, a.ndim, name)
    x = a._data
    running = (np.minimum if smallest else np.maximum).accumulate(x, axis=ax)
    # the index of the latest element equal to the running extreme (PyTorch's tie rule)
    shape = [1] * x.ndim
    shape[ax] = -1
    pos = np.where(x == running, np.arange(x.shape[ax]).reshape(shape), 0)
    idx = np.maximum.accumulate(pos, axis=ax)
    values = Gather.apply(a, idx, ax) if x.dtype.kind == "f" else wrap(running)
    return _ReturnTypes(values, wrap(idx.astype(np.int64)))


def cummax(input, dim: int):
    """Running maximum along ``dim`` and where it was found (the latest index among ties)."""
    return _cum_extreme(input, dim, False, "cummax")


def cummin(input, dim: int):
    """Running minimum along ``dim`` and where it was found (the latest index among ties)."""
    return _cum_extreme(input, dim, True, "cummin")


# --------------------------------------------------------------------------- unique, search


def unique(input, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim=None):
    """The distinct values (sorted), and optionally, for each input element, the index of its
    value (``return_inverse``, input's shape) and how often each value occurs. No gradient."""
    a = _array(input)
    if dim is None:
        vals, inv, counts = np.unique(a, return_inverse=True, return_counts=True)
        inv = inv.reshape(a.shape)
    else:
        ax = dim_index(dim, a.ndim, "unique")
        vals, inv, counts = np.unique(a, return_inverse=True, return_counts=True, axis=ax)
        inv = inv.reshape(-1)
    out = [wrap(vals)]
    if return_inverse:
        out.append(wrap(inv.astype(np.int64)))
    if return_counts:
        out.append(wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input, return_inverse: bool = False, return_counts: bool = False,
                       dim=None):
    """Collapse runs of equal consecutive values (of the flattened input)."""
    if dim is not None:
        raise NotImplementedError("unique_consecutive: dim= is not supported; flatten first")
    a = _array(input).reshape(-1)
    start = np.concatenate([[True], a[1:] != a[:-1]]) if a.size else np.zeros(0, bool)
    out = [wrap(a[start])]
    if return_inverse:
        out.append(wrap((np.cumsum(start) - 1).astype(np.int64).reshape(_array(input).shape)))
    if return_counts:
        out.append(wrap(np.diff(np.append(np.flatnonzero(start), a.size)).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def searchsorted(sorted_sequence, input, *, out_int32: bool = False, right: bool = False,
                 side=None, sorter=None):
    """Where each value would go to keep ``sorted_sequence`` sorted (its last dim): the index of
    the first element >= value (or > value with ``right=True`` / ``side="right"``).
    A batched (..., N) sequence pairs with values (..., M), row by row."""
    seq = _array(sorted_sequence)
    vals = _array(input)
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        right = side == "right"
    if sorter is not None:
        seq = np.take_along_axis(seq, _array(sorter), -1)
    dtype = np.int32 if out_int32 else np.int64
    if seq.ndim <= 1:
        return wrap(np.searchsorted(seq, vals, side="right" if right else "left").astype(dtype))
    if seq.shape[:-1] != vals.shape[:-1]:
        raise ValueError(f"searchsorted: the leading dims of sorted_sequence {seq.shape} and "
                         f"values {vals.shape} must match")
    # row by row, vectorized: count the sequence elements below (or not above) each value
    s, v = seq[..., None, :], vals[..., :, None]  # (..., 1, N) against (..., M, 1)
    below = s <= v if right else s < v
    return wrap(below.sum(-1).astype(dtype))


def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False):
    """The bucket of each value among sorted 1-D ``boundaries``: i such that
    boundaries[i-1] < x <= boundaries[i] (right=False) or boundaries[i-1] <= x < boundaries[i]."""
    b = _array(boundaries)
    if b.ndim != 1:
        raise ValueError(f"bucketize: boundaries must be 1-D, got shape {b.shape}")
    return searchsorted(b, input, out_int32=out_int32, right=right)
