"""NumPy arrays that also answer to PyTorch's Tensor method names, for user-written Functions.

A ``tt.autograd.Function`` subclass sees NumPy arrays in ``forward`` and ``backward`` (the
engine's level, and the course's). PyTorch tutorials write those two methods with Tensor
methods: ``input.clamp(min=0)``, ``grad_output.clone()``, ``input.mm(weight.t())``,
``bias.unsqueeze(0).expand_as(output)``. A Function defined *outside* tinytorch (a user's
program) therefore gets :class:`TorchArray` views of its arrays: still ``np.ndarray``
(every NumPy function and operator works as before), plus those names. The engine strips the
view again from whatever comes back. Ops inside tinytorch get plain arrays, at no cost.

Only names that NumPy lacks, or where PyTorch's meaning is unambiguous, are added:
``transpose(d0, d1)`` swaps two dims as in PyTorch (``transpose(axes_tuple)`` keeps NumPy's
meaning), ``sum/mean`` accept ``dim``/``keepdim``. ``size``, ``view`` and ``max`` keep NumPy's
meaning (NumPy's own code relies on them).
"""

from __future__ import annotations

import numpy as np

__all__ = ["TorchArray", "torch_style"]


class TorchArray(np.ndarray):
    """An ndarray view with PyTorch's Tensor method names (see the module docstring)."""

    def clamp(self, min=None, max=None):  # noqa: A002
        out = self
        if min is not None:
            out = np.maximum(out, min)
        if max is not None:
            out = np.minimum(out, max)
        return out

    def clamp_min(self, min):  # noqa: A002
        return np.maximum(self, min)

    def clamp_max(self, max):  # noqa: A002
        return np.minimum(self, max)

    def clone(self, memory_format=None):
        return self.copy()

    def detach(self):
        return self

    def contiguous(self, memory_format=None):
        return np.ascontiguousarray(self).view(TorchArray)

    def numpy(self):
        return self.view(np.ndarray)

    def mm(self, other):
        return np.matmul(self, other)

    def t(self):
        return self.T

    def transpose(self, *axes):
        if len(axes) == 2 and all(isinstance(a, (int, np.integer)) for a in axes):
            return np.swapaxes(self, axes[0], axes[1])  # PyTorch: swap two dims
        return np.ndarray.transpose(self, *axes)

    def permute(self, *dims):
        dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        return np.ndarray.transpose(self, dims)

    def unsqueeze(self, dim):
        return np.expand_dims(self, dim)

    def expand(self, *sizes):
        sizes = sizes[0] if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
        pad = (1,) * (len(sizes) - self.ndim) + self.shape
        return np.broadcast_to(self, tuple(s if n == -1 else n for s, n in zip(pad, sizes)))

    def expand_as(self, other):
        return np.broadcast_to(self, np.shape(other))

    def dim(self):
        return self.ndim

    def numel(self):
        return int(self.size)

    def float(self):
        return self.astype(np.float32)

    def double(self):
        return self.astype(np.float64)

    def long(self):
        return self.astype(np.int64)

    def exp(self):
        return np.exp(self)

    def log(self):
        return np.log(self)

    def sqrt(self):
        return np.sqrt(self)

    def tanh(self):
        return np.tanh(self)

    def sigmoid(self):
        return 1.0 / (1.0 + np.exp(-self))

    def abs(self):
        return np.abs(self)

    def pow(self, exponent):
        return np.power(self, exponent)

    def mul(self, other):
        return self * other

    def add(self, other, *, alpha=1):
        return self + other * alpha

    def sub(self, other, *, alpha=1):
        return self - other * alpha

    def div(self, other):
        return self / other

    def neg(self):
        return -self

    def masked_fill(self, mask, value):
        return np.where(mask, value, self)

    def sum(self, dim=None, keepdim=False, dtype=None, out=None, *, axis=None, keepdims=None,
            **kwargs):
        ax = dim if axis is None else axis
        ax = tuple(ax) if isinstance(ax, list) else ax
        kd = keepdim if keepdims is None else keepdims
        return np.ndarray.sum(self, axis=ax, dtype=dtype, out=out, keepdims=kd, **kwargs)

    def mean(self, dim=None, keepdim=False, dtype=None, out=None, *, axis=None, keepdims=None,
             **kwargs):
        ax = dim if axis is None else axis
        ax = tuple(ax) if isinstance(ax, list) else ax
        kd = keepdim if keepdims is None else keepdims
        return np.ndarray.mean(self, axis=ax, dtype=dtype, out=out, keepdims=kd, **kwargs)


def _view(x):
    return x.view(TorchArray) if type(x) is np.ndarray else x


def torch_style(fn):
    """Wrap a user Function's ``forward(ctx, *args)`` or ``backward(ctx, *grads)``: arrays in
    become :class:`TorchArray` views (the engine turns what comes back into plain arrays)."""

    def wrapper(ctx, *args, **kwargs):
        return fn(ctx, *[_view(a) for a in args], **kwargs)

    wrapper.__wrapped__ = fn
    wrapper.__doc__ = fn.__doc__
    return wrapper
