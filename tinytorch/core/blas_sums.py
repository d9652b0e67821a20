"""Row and column sums as BLAS matrix-vector products with a vector of ones.

NumPy sums along a short last axis (a row of 64 attention scores, a token's 128 features)
one row at a time, with a call of its reduction loop per row; ``a @ ones`` hands all rows to
one BLAS ``gemv``, measured several times faster at the sizes the transformer runs
((1024, 128): ~7x). Column sums (a bias gradient, ``g.sum(axis=0)``) are ``ones @ a``, the
same way. Only float32/float64 arrays have a BLAS; anything else (float16, integers) takes
NumPy's own reduction, which also sums float16 in float32.

Shared by layer norm (module 13), attention (module 12: the fused op and the tiled kernel's
score bound) and the linear layer's bias gradient (``LinearFn``, modules 03 and 05).
"""

from __future__ import annotations

import numpy as np

__all__ = ["ones", "row_sums", "row_mean", "col_sum"]

_ONES: dict = {}  # (length, dtype) -> a read-only vector of ones


def ones(n: int, dtype) -> np.ndarray:
    """A cached read-only vector of ``n`` ones (a training loop asks for the same few)."""
    v = _ONES.get((n, dtype))
    if v is None:
        if len(_ONES) > 64:  # many lengths (varying batch sizes): start over
            _ONES.clear()
        v = _ONES[(n, dtype)] = np.ones(n, dtype)
        v.flags.writeable = False
    return v


def _blas(a: np.ndarray) -> bool:
    return a.dtype.kind == "f" and a.dtype.itemsize >= 4


def row_sums(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=-1, keepdims=True)`` for an array of any rank: (..., n) -> (..., 1)."""
    if not _blas(a) or a.ndim == 0 or a.size == 0:
        return np.sum(a, axis=-1, keepdims=True)
    n = a.shape[-1]
    return (a.reshape(-1, n) @ ones(n, a.dtype)).reshape(a.shape[:-1] + (1,))


def row_mean(a: np.ndarray) -> np.ndarray:
    """Mean of each row of a 2-D array, as an (M, 1) column: ``a.mean(axis=1, keepdims=True)``."""
    if not _blas(a):
        return a.mean(axis=1, keepdims=True)
    return (a @ ones(a.shape[1], a.dtype)).reshape(-1, 1) / a.shape[1]


def col_sum(a: np.ndarray) -> np.ndarray:
    """Sum of each column of a 2-D array, ``a.sum(axis=0)``, as ``1 @ a``."""
    if not _blas(a):
        return a.sum(axis=0)
    return ones(a.shape[0], a.dtype) @ a
