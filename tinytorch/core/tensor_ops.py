"""Module 01 -- the tensor's ops, each a forward (module 01) beside its backward (module 05).

Every op is a :class:`~tinytorch.core.autograd.Function` working on NumPy arrays. ``Tensor``
methods (``a + b``, ``x.sum(dim=1)``, ``x.reshape(2, -1)``) call ``Op.apply``; the engine
records the backward node when some input requires grad.

Backward formulas may return gradients in the broadcast shape of the output; the engine sums
them back to each input's shape. They return one entry per positional input (``None`` for
inputs that are not tensors, such as a Python scalar exponent or an axis).
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.autograd import Function

_F64 = np.dtype(np.float64)


def _float32_unless_asked(out, a, b):
    """Keep PyTorch's dtype rule: int / int and int * 2.5 give float32, not NumPy's float64.

    float64 is kept only when an operand was itself a float64 array.
    """
    if out.dtype == _F64 and not (_is_f64(a) or _is_f64(b)):
        return out.astype(np.float32)
    return out


def _is_f64(x) -> bool:
    # not ``x.dtype == float64`` on a Python scalar: np.dtype(None) compares equal to float64
    return isinstance(x, (np.ndarray, np.generic)) and x.dtype == _F64


# --------------------------------------------------------------------------- arithmetic


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        # BEGIN SOLUTION
        return _float32_unless_asked(np.add(a, b), a, b)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        return grad, grad
        # END SOLUTION


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        # BEGIN SOLUTION
        return _float32_unless_asked(np.subtract(a, b), a, b)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        return grad, -grad
        # END SOLUTION


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        # BEGIN SOLUTION
        ctx.save_for_backward(a, b)
        return _float32_unless_asked(np.multiply(a, b), a, b)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        a, b = ctx.saved_tensors
        ga = grad * b if ctx.needs_input_grad[0] else None
        gb = grad * a if ctx.needs_input_grad[1] else None
        return ga, gb
        # END SOLUTION


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        # BEGIN SOLUTION
        out = np.true_divide(a, b)
        ctx.save_for_backward(a, b)
        return _float32_unless_asked(out, a, b)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        a, b = ctx.saved_tensors
        ga = grad / b if ctx.needs_input_grad[0] else None
        gb = -grad * a / (b * b) if ctx.needs_input_grad[1] else None
        return ga, gb
        # END SOLUTION


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        # BEGIN SOLUTION
        return np.negative(a)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        return -grad
        # END SOLUTION


class Pow(Function):
    """``a ** b`` where either side may be a tensor or a Python number."""

    @staticmethod
    def forward(ctx, a, b):
        # BEGIN SOLUTION
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** -1 = inf, as PyTorch
            out = _float32_unless_asked(np.power(a, b), a, b)
        ctx.save_for_backward(a, b, out)
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        a, b, out = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            with np.errstate(divide="ignore", invalid="ignore"):
                ga = grad * b * np.power(a, b - 1)
            if np.any(b == 0):  # d(a^0)/da = 0, also at a = 0 where the formula says 0 * inf
                ga = np.where(b == 0, 0, ga)
        if ctx.needs_input_grad[1]:
            # d(a^b)/db = a^b ln a, as PyTorch: 0 where a == 0 and b >= 0 (the limit), nan for
            # a < 0 (ln of a negative number), -inf for a == 0 and b < 0
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = grad * np.where((a == 0) & (b >= 0), 0, out * np.log(a))
        return ga, gb
        # END SOLUTION


def _transposed_2d(x: np.ndarray) -> bool:
    """True for a 2-D array laid out column by column (the transpose of a C-ordered one)."""
    return x.ndim == 2 and x.flags.f_contiguous and not x.flags.c_contiguous


class MatMul(Function):
    """Matrix product with NumPy's rules: 1-D operands are promoted, batch dims broadcast."""

    @staticmethod
    def forward(ctx, a, b):
        # BEGIN SOLUTION
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        a, b = ctx.saved_tensors
        # Promote 1-D operands the way the forward did, so one formula serves every case:
        # (.., n, k) @ (.., k, m) -> dA = dY @ B^T, dB = A^T @ dY. Summing over broadcast
        # batch dims is left to the engine.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = np.expand_dims(g, -1 if b.ndim == 1 else -2)
        if b.ndim == 1:
            g = np.expand_dims(g, -1)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            if _transposed_2d(a) and b.ndim == 2:  # dA^T = B dY^T: laid out like A (see below)
                ga = np.matmul(b, g.T).T
            else:
                ga = np.matmul(g, np.swapaxes(b2, -1, -2))
            if a.ndim == 1:
                ga = ga[..., 0, :]
        if ctx.needs_input_grad[1]:
            if _transposed_2d(b) and a.ndim == 2:
                # b is a transposed view, as W.T in a linear layer: compute dB^T = dY^T A and
                # return its transpose. Same numbers, same BLAS work, but the gradient has b's
                # memory layout, so the transpose's own backward turns it back into a
                # C-ordered gradient for W (the optimizer then streams through it in order).
                gb = np.matmul(g.T, a).T
            else:
                gb = np.matmul(np.swapaxes(a2, -1, -2), g)
            if b.ndim == 1:
                gb = gb[..., 0]
        return ga, gb
        # END SOLUTION


# --------------------------------------------------------------------------- elementwise math


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        # BEGIN SOLUTION
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        (out,) = ctx.saved_tensors
        return grad * out
        # END SOLUTION


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        # BEGIN SOLUTION
        ctx.save_for_backward(a)
        with np.errstate(divide="ignore", invalid="ignore"):  # log(0) = -inf, as in PyTorch
            return np.log(a)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        (a,) = ctx.saved_tensors
        return grad / a
        # END SOLUTION


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        # BEGIN SOLUTION
        out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        (out,) = ctx.saved_tensors
        return grad / (2 * out)
        # END SOLUTION


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        # BEGIN SOLUTION
        ctx.save_for_backward(a)
        return np.abs(a)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        (a,) = ctx.saved_tensors
        return grad * np.sign(a)  # PyTorch's subgradient at 0 is 0, as sign(0) = 0
        # END SOLUTION


class Clip(Function):
    """Clamp into [lo, hi]; either bound may be None, a number or a tensor.

    The gradient passes to ``a`` where it is not clamped, and to a tensor bound where that
    bound is the output (PyTorch's rules, including ``lo > hi``, where ``hi`` wins).
    """

    @staticmethod
    def forward(ctx, a, lo=None, hi=None):
        # BEGIN SOLUTION
        ctx.save_for_backward(a, lo, hi)
        out = a
        if lo is not None:
            out = np.maximum(out, lo)
        if hi is not None:
            out = np.minimum(out, hi)
        if a.dtype.kind != "f" and out.dtype.kind == "f":  # int clamped to 0.5: float32
            return _float32_unless_asked(out, lo, hi)
        return out.astype(a.dtype, copy=False)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        a, lo, hi = ctx.saved_tensors
        keep = np.ones(a.shape, dtype=bool)
        if lo is not None:
            keep &= a >= lo
        if hi is not None:
            keep &= a <= hi
        g_lo = g_hi = None
        if ctx.needs_input_grad[1]:  # lo is the output where a < lo (and lo < hi)
            g_lo = grad * ((a < lo) & (lo < hi) if hi is not None else a < lo)
        if ctx.needs_input_grad[2]:  # hi is the output where a > hi, or everywhere if hi < lo
            g_hi = grad * ((a > hi) | (hi < lo) if lo is not None else a > hi)
        return grad * keep, g_lo, g_hi
        # END SOLUTION


class Maximum(Function):
    """Elementwise max of two tensors; where they tie, the gradient is split evenly (PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        # BEGIN SOLUTION
        ctx.save_for_backward(a, b)
        return _float32_unless_asked(np.maximum(a, b), a, b)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        a, b = ctx.saved_tensors
        share_a = (a > b) + 0.5 * (a == b)
        return grad * share_a, grad * (1 - share_a)
        # END SOLUTION


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        # BEGIN SOLUTION
        ctx.save_for_backward(a, b)
        return _float32_unless_asked(np.minimum(a, b), a, b)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        a, b = ctx.saved_tensors
        share_a = (a < b) + 0.5 * (a == b)
        return grad * share_a, grad * (1 - share_a)
        # END SOLUTION


class Cast(Function):
    """Change dtype (float32 <-> float64); the gradient is cast back by the engine."""

    @staticmethod
    def forward(ctx, a, dtype):
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class Clone(Function):
    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


# --------------------------------------------------------------------------- reductions


def _expand_reduced(grad, shape, axis, keepdim):
    """Reshape a reduced gradient so it broadcasts against the input of ``shape``."""
    if axis is None:
        return np.reshape(grad, (1,) * len(shape))
    if not keepdim:
        grad = np.expand_dims(grad, axis)
    return grad


class Sum(Function):
    @staticmethod
    def forward(ctx, a, axis=None, keepdim=False):
        # BEGIN SOLUTION
        ctx.shape, ctx.axis, ctx.keepdim = a.shape, axis, keepdim
        return np.sum(a, axis=axis, keepdims=keepdim)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        g = _expand_reduced(grad, ctx.shape, ctx.axis, ctx.keepdim)
        return np.broadcast_to(g, ctx.shape), None, None
        # END SOLUTION


class Mean(Function):
    @staticmethod
    def forward(ctx, a, axis=None, keepdim=False):
        # BEGIN SOLUTION
        ctx.shape, ctx.axis, ctx.keepdim = a.shape, axis, keepdim
        out = np.mean(a, axis=axis, keepdims=keepdim)
        ctx.count = a.size // max(out.size, 1) if a.size else 0
        return out.astype(a.dtype, copy=False) if a.dtype.kind == "f" else out
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        g = _expand_reduced(grad, ctx.shape, ctx.axis, ctx.keepdim) / ctx.count
        return np.broadcast_to(g, ctx.shape), None, None
        # END SOLUTION


class Var(Function):
    """Variance with Bessel's correction by default (``correction=1``), as ``torch.var``."""

    @staticmethod
    def forward(ctx, a, axis=None, keepdim=False, correction=1):
        # BEGIN SOLUTION
        mean = np.mean(a, axis=axis, keepdims=True)
        centered = a - mean
        n = a.size // mean.size
        denom = max(n - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.sum(centered * centered, axis=axis, keepdims=keepdim) / denom
        ctx.save_for_backward(centered)
        ctx.axis, ctx.keepdim, ctx.denom = axis, keepdim, denom
        return out.astype(a.dtype, copy=False)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        (centered,) = ctx.saved_tensors
        g = _expand_reduced(grad, centered.shape, ctx.axis, ctx.keepdim)
        return g * 2.0 * centered / ctx.denom, None, None, None
        # END SOLUTION


class Std(Function):
    """Standard deviation: sqrt of :class:`Var`, whose forward and backward it reuses.

    d std / d var = 1 / (2 std) is infinite where the values do not vary (std = 0), and the
    chain rule would give inf * 0 = nan. PyTorch defines that gradient as 0; so do we, so
    that standardising a constant feature does not poison every weight with nan.
    """

    @staticmethod
    def forward(ctx, a, axis=None, keepdim=False, correction=1):
        out = np.sqrt(Var.forward(ctx, a, axis, keepdim, correction))
        ctx.std = out  # reduced, so small: kept beside Var's saved arrays
        return out

    @staticmethod
    def backward(ctx, grad):
        with np.errstate(divide="ignore", invalid="ignore"):
            g_var = np.where(ctx.std == 0, 0, grad / (2 * ctx.std))
        return Var.backward(ctx, g_var)


class MaxReduce(Function):
    """max (or min, with ``smallest=True``) over all elements or one axis.

    Over one axis the gradient goes to the index ``argmax`` returns (PyTorch's ``max(dim)``);
    over everything, ties share it evenly (PyTorch's ``max()``).
    """

    @staticmethod
    def forward(ctx, a, axis=None, keepdim=False, smallest=False):
        # BEGIN SOLUTION
        out = np.min(a, axis=axis, keepdims=True) if smallest else np.max(a, axis=axis, keepdims=True)
        if axis is None:
            mask = a == out
            ctx.save_for_backward(mask / mask.sum())
        else:
            idx = np.argmin(a, axis=axis) if smallest else np.argmax(a, axis=axis)
            onehot = np.zeros(a.shape, dtype=a.dtype)
            np.put_along_axis(onehot, np.expand_dims(idx, axis), 1, axis=axis)
            ctx.save_for_backward(onehot)
        ctx.axis, ctx.keepdim = axis, keepdim
        if not keepdim:
            out = out.reshape(()) if axis is None else np.squeeze(out, axis=axis)
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        (share,) = ctx.saved_tensors
        g = _expand_reduced(grad, share.shape, ctx.axis, ctx.keepdim)
        return g * share, None, None, None
        # END SOLUTION


# --------------------------------------------------------------------------- shape ops


class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape):
        # BEGIN SOLUTION
        ctx.shape = a.shape
        return np.reshape(a, shape)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        return np.reshape(grad, ctx.shape), None
        # END SOLUTION


class Permute(Function):
    @staticmethod
    def forward(ctx, a, dims):
        # BEGIN SOLUTION
        ctx.dims = dims
        return np.transpose(a, dims)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        return np.transpose(grad, np.argsort(ctx.dims)), None
        # END SOLUTION


class Expand(Function):
    @staticmethod
    def forward(ctx, a, shape):
        # BEGIN SOLUTION
        return np.broadcast_to(a, shape)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        return grad, None  # the engine sums the broadcast axes back down
        # END SOLUTION


def _is_basic_index(index) -> bool:
    """True for NumPy "basic" indexing: ints, slices, ``...`` and ``None`` only (no arrays)."""
    for i in index if type(index) is tuple else (index,):
        if i is None or i is Ellipsis or type(i) is slice:
            continue
        if isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)):
            continue
        return False
    return True


class GetItem(Function):
    """``x[index]``: basic slicing, integer arrays (gather) and boolean masks."""

    @staticmethod
    def forward(ctx, a, index):
        # BEGIN SOLUTION
        ctx.shape, ctx.dtype, ctx.index = a.shape, a.dtype, index
        return a[index]
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        out = np.zeros(ctx.shape, dtype=grad.dtype)
        if _is_basic_index(ctx.index):  # slices and ints pick each element at most once
            out[ctx.index] = grad
        else:
            # np.add.at, unlike out[index] += grad, adds every time an index repeats
            # (x[[0, 0]]); it is much slower, so it is kept for integer and mask indexing
            np.add.at(out, ctx.index, grad)
        return out, None
        # END SOLUTION


class Cat(Function):
    @staticmethod
    def forward(ctx, *arrays, axis=0):
        # BEGIN SOLUTION
        ctx.axis = axis
        ctx.bounds = np.cumsum([x.shape[axis] for x in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        return tuple(np.split(grad, ctx.bounds, axis=ctx.axis))
        # END SOLUTION


class Stack(Function):
    @staticmethod
    def forward(ctx, *arrays, axis=0):
        # BEGIN SOLUTION
        ctx.axis = axis
        return np.stack(arrays, axis=axis)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        return tuple(np.moveaxis(grad, ctx.axis, 0))
        # END SOLUTION


class Where(Function):
    """``where(cond, a, b)``: a where cond holds, else b. ``cond`` gets no gradient."""

    @staticmethod
    def forward(ctx, cond, a, b):
        # BEGIN SOLUTION
        cond = np.asarray(cond, dtype=bool)
        ctx.save_for_backward(cond)
        return _float32_unless_asked(np.where(cond, a, b), a, b)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        (cond,) = ctx.saved_tensors
        return None, np.where(cond, grad, 0), np.where(cond, 0, grad)
        # END SOLUTION
