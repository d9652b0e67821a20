"""Module 01 -- small helpers shared by the op families in ``core/ops_*.py``.

The op files are imported by ``tensor.py`` itself (their public functions double as Tensor
methods: ``tt.sin(x)`` and ``x.sin()`` are one function), so they may not import ``tensor.py``
at load time. These helpers look the Tensor class up on first use instead.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.autograd import _tensor_class


def tensor_class():
    """The Tensor class (looked up on first use: tensor.py imports the op files)."""
    return _tensor_class()


def as_tensor(x):
    """``x`` if it is a Tensor, else a new Tensor built from it (PyTorch's dtype rules)."""
    T = _tensor_class()
    return x if isinstance(x, T) else T(x)


def wrap(array):
    """A Tensor around an array the op just computed; no gradient (an index, a mask ...)."""
    return _tensor_class()._wrap(np.asarray(array), None)


def floating(t):
    """``t`` itself if it holds floats, else a float32 copy: sin, exp2, erf ... of integer
    tensors give float32, as in PyTorch (NumPy would give float64). Integer tensors never
    require grad, so nothing is lost by not recording the cast."""
    t = as_tensor(t)
    if t._data.dtype.kind == "f":
        return t
    return _tensor_class()._wrap(t._data.astype(np.float32), None)


def dim_index(dim, ndim: int, op: str) -> int:
    """One dim (negative counts from the end), checked against ``ndim``; a 0-d tensor accepts
    0 and -1, as in PyTorch."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimension(s) "
                         f"(expected a dim in [{-n}, {n - 1}])")
    return int(dim) % n


def dims_tuple(dim, ndim: int, op: str):
    """None (every dim), an int or a sequence of ints, as a sorted tuple of distinct axes."""
    if dim is None:
        return tuple(range(ndim))
    ds = dim if isinstance(dim, (tuple, list)) else (dim,)
    axes = tuple(dim_index(d, ndim, op) for d in ds)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: dim {tuple(ds)} names the same dimension twice")
    if ndim == 0:
        return ()
    return tuple(sorted(axes))


def check_float(t, op: str):
    if t._data.dtype.kind != "f":
        raise TypeError(f"{op}: needs a floating point tensor, got {t._data.dtype}; "
                        "call .float() first")
