"""Module 01 -- more reductions and scans: prod, logsumexp, cumsum/cumprod, amax/amin, median,
norms, all/any, count_nonzero.

As in ``ops_elementwise.py``, each public function takes the tensor first, so Tensor binds it as
a method (``x.prod(dim=1)`` is ``tt.prod(x, dim=1)``). ``dim`` follows PyTorch: an int (or, where
PyTorch allows it, a tuple), negative counting from the end; ``keepdim`` keeps reduced dims as 1.

Shapes: a reduction over ``dim`` of an input (B, N, D) with dim=1 gives (B, D), or (B, 1, D)
with keepdim=True; a scan (cumsum, cumprod) keeps the input's shape.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from tinytorch.core.autograd import Function
from tinytorch.core.ops_support import as_tensor, check_float, dim_index, dims_tuple, floating, wrap

__all__ = ["prod", "logsumexp", "cumsum", "cumprod", "logcumsumexp", "amax", "amin", "aminmax",
           "median", "nanmedian", "mode", "norm", "vector_norm", "count_nonzero", "all", "any",
           "nansum", "nanmean", "var_mean", "std_mean", "bincount", "histc"]

_builtin_any = any  # the module defines its own all/any below
_ReturnTypes = namedtuple("ReturnTypes", ["values", "indices"])  # PyTorch's (values, indices)
_MinMax = namedtuple("MinMax", ["min", "max"])


def _int_widened(a: np.ndarray) -> np.ndarray:
    """Sums and products of bool or narrow integers are int64, as in PyTorch."""
    return a.astype(np.int64) if a.dtype.kind in "biu" and a.dtype != np.uint64 else a


def _reshaped_grad(grad, shape, axes, keepdim):
    """Broadcastable gradient of a reduction over ``axes`` (a tuple) of an input of ``shape``."""
    if not keepdim and axes:
        grad = np.expand_dims(grad, axes)
    return grad


# --------------------------------------------------------------------------- product


class Prod(Function):
    """Product over ``axes``. d prod / d x_k is the product of the others, which stays right
    where some x are zero: one zero gets the product of the rest, every other entry 0;
    two zeros or more make every gradient 0."""

    @staticmethod
    def forward(ctx, a, axes=None, keepdim=False):
        zero = a == 0
        nonzero = np.where(zero, 1, a)
        ctx.save_for_backward(zero, nonzero)
        ctx.axes, ctx.keepdim = axes, keepdim
        return np.prod(a, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        zero, nonzero = ctx.saved_tensors
        axes = ctx.axes
        p = np.prod(nonzero, axis=axes, keepdims=True)  # product of the nonzero entries
        n_zero = np.sum(zero, axis=axes, keepdims=True)
        g = _reshaped_grad(grad, zero.shape, axes, ctx.keepdim)
        local = np.where(n_zero == 0, p / nonzero, np.where((n_zero == 1) & zero, p, 0))
        return g * local, None, None


def _numpy_aliases(dim, keepdim, axis, keepdims, out, op):
    """NumPy's spellings (``axis``, ``keepdims``), so ``np.prod(t)`` works as with torch."""
    if out is not None:
        raise TypeError(f"{op}: out= is not supported in tinytorch (ops return new tensors)")
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}: pass either dim or axis, not both")
        dim = axis
    return dim, bool(keepdim if keepdims is None else keepdims)


def prod(input, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None,
         out=None):
    """Product of all elements, or along one ``dim``. Integers and bool give int64."""
    dim, keepdim = _numpy_aliases(dim, keepdim, axis, keepdims, out, "prod")
    a = as_tensor(input)
    if dtype is not None:
        a = a.to(dtype)
    if dim is not None and isinstance(dim, (tuple, list)):
        raise TypeError("prod: dim must be a single int, as in PyTorch (reduce dims one by one)")
    axes = dims_tuple(dim, a.ndim, "prod")
    if a._data.dtype.kind != "f":
        return wrap(np.prod(_int_widened(a._data), axis=axes, keepdims=keepdim))
    return Prod.apply(a, axes, bool(keepdim) and dim is not None)


# --------------------------------------------------------------------------- logsumexp


class LogSumExp(Function):
    """log(sum(exp(a))) over ``axes``, shifted by the max so nothing overflows."""

    @staticmethod
    def forward(ctx, a, axes, keepdim=False):
        m = np.max(a, axis=axes, keepdims=True) if a.size else np.zeros((1,) * a.ndim, a.dtype)
        m = np.where(np.isfinite(m), m, 0)  # all -inf (or an inf): no inf - inf = nan
        with np.errstate(divide="ignore", over="ignore"):
            out = m + np.log(np.sum(np.exp(a - m), axis=axes, keepdims=True))
        ctx.save_for_backward(a, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out if keepdim else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        g = _reshaped_grad(grad, a.shape, ctx.axes, ctx.keepdim)
        with np.errstate(invalid="ignore"):
            return g * np.exp(a - out), None, None  # the softmax of a over axes


def logsumexp(input, dim, keepdim: bool = False):
    """log(sum(exp(input))) over ``dim`` (an int or a tuple), without overflow.
    (B, N) with dim=1 -> (B,). The gradient is the softmax over ``dim``."""
    a = floating(input)
    axes = dims_tuple(dim, a.ndim, "logsumexp")
    return LogSumExp.apply(a, axes, bool(keepdim))


# --------------------------------------------------------------------------- scans


class CumSum(Function):
    """Running sum along ``axis``; each input feeds every later output, so the gradient is the
    running sum of the output gradient taken from the end."""

    @staticmethod
    def forward(ctx, a, axis):
        ctx.axis = axis
        return np.cumsum(a, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        ax = ctx.axis
        return np.flip(np.cumsum(np.flip(grad, ax), axis=ax), ax), None


class CumProd(Function):
    """Running product along ``axis``. Without zeros, d out_j / d x_k = out_j / x_k (j >= k).
    At the first zero z of a row the division fails: there the gradient is the running product
    with x_z taken as 1, and every entry after z gets 0 (each of its products holds x_z = 0)."""

    @staticmethod
    def forward(ctx, a, axis):
        out = np.cumprod(a, axis=axis)
        ctx.save_for_backward(a, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        ax = ctx.axis
        x, y, g = (np.moveaxis(t, ax, -1) for t in (a, out, grad))  # scan along the last axis
        n = x.shape[-1]
        pos = np.arange(n)
        zero = x == 0
        has_zero = zero.any(axis=-1, keepdims=True)
        z = np.where(has_zero, np.argmax(zero, axis=-1)[..., None], n)  # first zero (n: none)
        tail = np.flip(np.cumsum(np.flip(g * y, -1), axis=-1), -1)  # sum_{j >= k} g_j out_j
        with np.errstate(divide="ignore", invalid="ignore"):
            before = np.where(pos < z, tail / np.where(zero, 1, x), 0)
        # at k = z: sum_{j >= z} g_j * (running product with x_z replaced by 1)
        y1 = np.cumprod(np.where(pos == z, 1, x), axis=-1)
        at_z = np.sum(np.where(pos >= z, g * y1, 0), axis=-1, keepdims=True)
        gx = before + np.where(pos == z, at_z, 0)
        return np.moveaxis(gx, -1, ax), None


def _scan(op, np_fn, name):
    def fn(input, dim, *, dtype=None):
        a = as_tensor(input)
        if dtype is not None:
            a = a.to(dtype)
        ax = dim_index(dim, a.ndim, name)
        if a.ndim == 0:
            return a.clone() if a._data.dtype.kind == "f" else wrap(_int_widened(a._data).copy())
        if a._data.dtype.kind != "f":
            return wrap(np_fn(_int_widened(a._data), axis=ax))
        return op.apply(a, ax)

    fn.__name__ = fn.__qualname__ = name
    return fn


cumsum = _scan(CumSum, np.cumsum, "cumsum")
cumsum.__doc__ = "Running sum along ``dim`` (same shape as the input); ints give int64."
cumprod = _scan(CumProd, np.cumprod, "cumprod")
cumprod.__doc__ = "Running product along ``dim``; the gradient is right where inputs are 0."


def logcumsumexp(input, dim: int):
    """Running log(sum(exp)) along ``dim``, without overflow (same shape as the input)."""
    a = floating(input)
    ax = dim_index(dim, a.ndim, "logcumsumexp")
    return LogCumSumExp.apply(a, ax) if a.ndim else a * 1


class LogCumSumExp(Function):
    """Running log(sum(exp)) along ``axis`` (``np.logaddexp.accumulate``: no overflow).

    d out_j / d x_k = exp(x_k - out_j) for k <= j, so the gradient of x_k is
    sum_{j >= k} g_j exp(x_k - out_j). The sum is taken in log space, positive and negative
    parts of g apart (a log needs positive numbers), so large values neither overflow nor
    round to 0."""

    @staticmethod
    def forward(ctx, a, axis):
        out = np.logaddexp.accumulate(a, axis=axis)
        ctx.save_for_backward(a, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        ax = ctx.axis
        total = np.zeros_like(a)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for sign in (1, -1):
                part = np.where(np.sign(grad) == sign, np.abs(grad), 0)
                terms = np.log(part) - out  # log(|g_j| exp(-out_j))
                tail = np.flip(np.logaddexp.accumulate(np.flip(terms, ax), axis=ax), ax)
                total = total + sign * np.exp(a + tail)
        return np.where(np.isnan(total), 0, total), None


# --------------------------------------------------------------------------- extremes, median


class AMax(Function):
    """max (or min) over ``axes``; tied maxima share the gradient evenly (PyTorch's amax)."""

    @staticmethod
    def forward(ctx, a, axes, keepdim=False, smallest=False):
        fn = np.min if smallest else np.max
        out = fn(a, axis=axes, keepdims=True)
        hit = (a == out) | (np.isnan(a) & np.isnan(out))  # a nan is the max of its row
        ctx.save_for_backward(hit / np.sum(hit, axis=axes, keepdims=True))
        ctx.axes, ctx.keepdim = axes, keepdim
        return out if keepdim else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        (share,) = ctx.saved_tensors
        return _reshaped_grad(grad, share.shape, ctx.axes, ctx.keepdim) * share, None, None, None


def _amax(input, dim, keepdim, smallest, name):
    a = as_tensor(input)
    every = dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0)  # amax(x): all dims
    axes = tuple(range(a.ndim)) if every else dims_tuple(dim, a.ndim, name)
    if a._data.size == 0 and _builtin_any(a.shape[i] == 0 for i in axes):
        raise RuntimeError(f"{name}: cannot reduce a tensor of shape {tuple(a.shape)} over an "
                           f"empty dim {axes}")
    if a._data.dtype.kind != "f":
        fn = np.min if smallest else np.max
        return wrap(fn(a._data, axis=axes, keepdims=keepdim))
    return AMax.apply(a, axes, bool(keepdim), smallest)


def amax(input, dim=(), keepdim: bool = False):
    """Largest value over ``dim`` (an int, a tuple; default every dim). Ties share the gradient."""
    return _amax(input, dim, keepdim, False, "amax")


def amin(input, dim=(), keepdim: bool = False):
    """Smallest value over ``dim`` (an int, a tuple; default every dim). Ties share the gradient."""
    return _amax(input, dim, keepdim, True, "amin")


def aminmax(input, *, dim=None, keepdim: bool = False):
    """(min, max) in one call, as a named pair."""
    d = () if dim is None else dim
    return _MinMax(amin(input, d, keepdim), amax(input, d, keepdim))


class TakeAlong(Function):
    """Pick elements along ``axis`` at ``idx`` (distinct positions per row, as a sort or a
    median gives); the gradient goes back there. Repeated indices need ops_index.Gather."""

    @staticmethod
    def forward(ctx, a, idx, axis, keepdim=False):
        ctx.shape, ctx.idx, ctx.axis, ctx.keepdim = a.shape, idx, axis, keepdim
        out = np.take_along_axis(a, idx, axis=axis)
        return out if keepdim else np.squeeze(out, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        g = grad if ctx.keepdim else np.expand_dims(grad, ctx.axis)
        out = np.zeros(ctx.shape, dtype=grad.dtype)
        np.put_along_axis(out, ctx.idx, g, axis=ctx.axis)
        return out, None, None, None


def _median(input, dim, keepdim, name, ignore_nan):
    a = as_tensor(input)
    if a._data.dtype == np.bool_:
        raise TypeError(f"{name}: not defined for bool tensors; convert with .int() first")
    flat = dim is None
    if flat:
        a = a.reshape(-1)
        ax = 0
    else:
        ax = dim_index(dim, a.ndim, name)
        if a.ndim == 0:
            a, ax = a.reshape(1), 0
    n = a.shape[ax]
    if n == 0:
        raise RuntimeError(f"{name}: cannot take the median of an empty dim (shape "
                           f"{tuple(a.shape)})")
    data = a._data
    order = np.argsort(data, axis=ax, kind="stable")  # nan sorts last
    if ignore_nan and data.dtype.kind == "f":
        count = np.sum(~np.isnan(data), axis=ax, keepdims=True)
        k = np.maximum(count - 1, 0) // 2
    else:  # a nan anywhere in the row makes the median nan, as PyTorch
        k = np.full((1,) * data.ndim, (n - 1) // 2)
        if data.dtype.kind == "f":
            k = np.where(np.isnan(data).any(axis=ax, keepdims=True), n - 1, k)
    k = np.broadcast_to(k, order.shape[:ax] + (1,) + order.shape[ax + 1:])
    idx = np.take_along_axis(order, k, axis=ax)  # the lower of the two middles, as PyTorch
    if a._data.dtype.kind == "f":
        values = TakeAlong.apply(a, idx, ax, True)
    else:
        values = wrap(np.take_along_axis(data, idx, axis=ax))
    if flat:
        return values.reshape(())
    if not keepdim:
        values, idx = values.squeeze(ax), np.squeeze(idx, ax)
    if as_tensor(input).ndim == 0:
        values, idx = values.reshape(()), idx.reshape(())
    return _ReturnTypes(values, wrap(idx.astype(np.int64)))


def median(input, dim=None, keepdim: bool = False):
    """The median (the lower middle value for an even count, as PyTorch); with ``dim``, a
    (values, indices) pair. A nan makes the median nan."""
    return _median(input, dim, keepdim, "median", False)


def nanmedian(input, dim=None, keepdim: bool = False):
    """Median ignoring nan."""
    return _median(input, dim, keepdim, "nanmedian", True)


def mode(input, dim: int = -1, keepdim: bool = False):
    """The most frequent value along ``dim`` (the smallest one among equally frequent values)
    and the index of its last occurrence, as PyTorch. No gradient."""
    a = as_tensor(input)
    ax = dim_index(dim, a.ndim, "mode")
    x = np.moveaxis(a._data.reshape(a.shape or (1,)), ax, -1)
    s = np.sort(x, axis=-1)
    n = s.shape[-1]
    if n == 0:
        raise RuntimeError(f"mode: empty dim in a tensor of shape {tuple(a.shape)}")
    # run lengths of equal values in the sorted rows: the first longest run wins (smallest value)
    new_run = np.concatenate([np.ones(s.shape[:-1] + (1,), bool), s[..., 1:] != s[..., :-1]], -1)
    start = np.where(new_run, np.arange(n), 0)
    start = np.maximum.accumulate(start, axis=-1)
    length = np.arange(n) - start + 1  # length of the run so far, at each position
    best_end = np.argmax(length == length.max(axis=-1, keepdims=True), axis=-1)
    value = np.take_along_axis(s, best_end[..., None], -1)[..., 0]
    last = n - 1 - np.argmax((x == value[..., None])[..., ::-1], axis=-1)
    if keepdim and a.ndim:
        value, last = np.expand_dims(value, ax), np.expand_dims(last, ax)
    if a.ndim == 0:
        value, last = value.reshape(()), last.reshape(())
    return _ReturnTypes(wrap(value.astype(a._data.dtype)), wrap(last.astype(np.int64)))


# --------------------------------------------------------------------------- norms, counts


class VectorNorm(Function):
    """(sum |a|^p)^(1/p) over ``axes`` for p in (0, inf); p = inf / -inf: max / min of |a|.

    d/da = a |a|^(p-2) / norm^(p-1); for p = 2 that is a / norm. Where the norm is 0 the
    gradient is 0, as PyTorch (the formula would give 0/0)."""

    @staticmethod
    def forward(ctx, a, p, axes, keepdim=False):
        x = np.abs(a)
        if p == np.inf or p == -np.inf:
            out = (np.max if p > 0 else np.min)(x, axis=axes, keepdims=True)
        elif p == 2:
            out = np.sqrt(np.sum(x * x, axis=axes, keepdims=True))
        elif p == 1:
            out = np.sum(x, axis=axes, keepdims=True)
        else:
            out = np.sum(x ** p, axis=axes, keepdims=True) ** (1.0 / p)
        ctx.save_for_backward(a, out)
        ctx.p, ctx.axes, ctx.keepdim = p, axes, keepdim
        return out if keepdim else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        p = ctx.p
        g = _reshaped_grad(grad, a.shape, ctx.axes, ctx.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == np.inf or p == -np.inf:
                hit = np.abs(a) == out
                local = np.sign(a) * hit / np.sum(hit, axis=ctx.axes, keepdims=True)
            elif p == 1:
                local = np.sign(a)
            elif p == 2:
                local = np.where(out == 0, 0, a / out)
            else:
                local = np.where(out == 0, 0,
                                 a * np.abs(a) ** (p - 2) / out ** (p - 1))
        return g * local, None, None, None


def vector_norm(input, ord=2, dim=None, keepdim: bool = False, *, dtype=None):  # noqa: A002
    """The ``ord``-norm of the input flattened, or over ``dim`` (an int or a tuple).
    ord: 2 (Euclidean), 1, inf, -inf, 0 (count of nonzeros) or any p > 0."""
    a = as_tensor(input)
    check_float(a, "vector_norm")
    if dtype is not None:
        a = a.to(dtype)
    axes = dims_tuple(dim, a.ndim, "vector_norm")
    p = float(ord)
    if p == 0:
        return wrap(np.sum(a._data != 0, axis=axes, keepdims=keepdim).astype(a._data.dtype))
    if p < 0 and p != -np.inf:
        raise ValueError(f"vector_norm: ord must be 0, a positive number or +-inf, got {ord}")
    return VectorNorm.apply(a, p, axes, bool(keepdim))


def norm(input, p="fro", dim=None, keepdim: bool = False, dtype=None):
    """``torch.norm``: the 2-norm of all elements ("fro", the default) or over ``dim``; ``p`` a
    number gives the vector p-norm. Matrix norms ("nuc") are not supported."""
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise ValueError(f"norm: p={p!r} (a matrix norm) is not supported; use 'fro' or a number")
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


def count_nonzero(input, dim=None):
    """How many elements are not zero, over everything or ``dim`` (int or tuple): int64."""
    a = as_tensor(input)
    axes = dims_tuple(dim, a.ndim, "count_nonzero")
    return wrap(np.count_nonzero(a._data, axis=axes).astype(np.int64))


def _logical(fn, name):
    def reduce(input, dim=None, keepdim: bool = False, *, axis=None, keepdims=None, out=None):
        dim, keepdim = _numpy_aliases(dim, keepdim, axis, keepdims, out, name)
        a = as_tensor(input)
        axes = dims_tuple(dim, a.ndim, name)
        out = fn(a._data, axis=axes, keepdims=bool(keepdim) and dim is not None)
        return wrap(out.astype(np.uint8) if a._data.dtype == np.uint8 else out)

    reduce.__name__ = reduce.__qualname__ = name
    return reduce


all = _logical(np.all, "all")  # noqa: A001 -- torch.all
all.__doc__ = "True if every element (over ``dim`` if given: an int or a tuple) is nonzero."
any = _logical(np.any, "any")  # noqa: A001 -- torch.any
any.__doc__ = "True if some element (over ``dim`` if given: an int or a tuple) is nonzero."



# --------------------------------------------------------------------------- composed reductions


def nansum(input, dim=None, keepdim: bool = False, *, dtype=None):
    """Sum treating nan as 0 (its gradient there is 0)."""
    from tinytorch.core.tensor_functions import where  # the face of module 01, loaded after

    a = as_tensor(input)
    if a._data.dtype.kind == "f":
        a = where(a.isnan(), 0.0, a)
    return a.sum(dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim: bool = False, *, dtype=None):
    """Mean of the values that are not nan (nan where every value is)."""
    a = as_tensor(input)
    check_float(a, "nanmean")
    count = (~a.isnan()).sum(dim, keepdim).to(a._data.dtype if dtype is None else dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        return nansum(a, dim, keepdim, dtype=dtype) / count


def var_mean(input, dim=None, keepdim: bool = False, *, correction=1, unbiased=None):
    """(variance, mean) over ``dim`` in one call, as PyTorch."""
    a = as_tensor(input)
    return (a.var(dim, keepdim, correction=correction if unbiased is None else int(unbiased)),
            a.mean(dim, keepdim))


def std_mean(input, dim=None, keepdim: bool = False, *, correction=1, unbiased=None):
    """(standard deviation, mean) over ``dim`` in one call, as PyTorch."""
    a = as_tensor(input)
    return (a.std(dim, keepdim, correction=correction if unbiased is None else int(unbiased)),
            a.mean(dim, keepdim))


def bincount(input, weights=None, minlength: int = 0):
    """How often each value 0, 1, ..., max occurs in a 1-D non-negative integer tensor (int64);
    with ``weights``, their sums per value (in the weights' dtype)."""
    x = as_tensor(input)._data
    if x.ndim != 1 or x.dtype.kind not in "iu" or (x.size and x.min() < 0):
        raise ValueError(f"bincount: needs a 1-D tensor of non-negative integers, got shape "
                         f"{x.shape} and dtype {x.dtype}")
    if weights is None:
        return wrap(np.bincount(x, minlength=minlength).astype(np.int64))
    w = as_tensor(weights)._data
    if w.shape != x.shape:
        raise ValueError(f"bincount: weights of shape {w.shape} must match the input {x.shape}")
    out_dtype = w.dtype if w.dtype.kind == "f" else np.float64
    return wrap(np.bincount(x, weights=w, minlength=minlength).astype(out_dtype))


def histc(input, bins: int = 100, min=0, max=0):  # noqa: A002 -- PyTorch's names
    """Counts in ``bins`` equal bins over [min, max] (the data's range if min == max), in the
    input's dtype; values outside are ignored. No gradient."""
    a = as_tensor(input)
    check_float(a, "histc")
    x = a._data
    lo, hi = float(min), float(max)
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise ValueError(f"histc: max ({max}) must be larger than min ({min})")
    counts, _ = np.histogram(x, bins=bins, range=(lo, hi))
    return wrap(counts.astype(x.dtype))
