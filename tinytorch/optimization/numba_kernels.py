"""Module 18 -- the compiled rung: the fused ops and the tiled matmul as Numba kernels.

NumPy's speed comes from calling compiled loops one whole-array operation at a time; every
operation still reads and writes whole arrays. A *compiled kernel* goes one step further: the
explicit loop you would write in C -- one pass over the data, every intermediate in a register
-- compiled to machine code. Numba compiles plain Python loops over arrays this way
(``@numba.njit``), so the kernels below read like :func:`~.tiled_matmul.matmul_loops` but run
like C.

Numba is an optional extra: ``pip install -e ".[accel]"``. It is imported only when a kernel
is first called; without it every function here raises ``ImportError`` saying how to get it
(:data:`NUMBA_HINT`), and :func:`numba_available` lets a caller skip the rung. The first call
of each kernel compiles it (about a second each); ``cache=True`` stores the machine code next
to this file so later processes skip that.

Every kernel is tested equal to its NumPy twin (tests/test_acceleration_numba.py).
"""

from __future__ import annotations

import math

import numpy as np

from tinytorch.core.autograd import Function
from tinytorch.core.tensor import Tensor

__all__ = ["NUMBA_HINT", "numba_available", "gelu_numba", "gelu_backward_numba",
           "softmax_cross_entropy_numba", "softmax_cross_entropy_backward_numba",
           "tiled_matmul_numba", "NumbaGELUFn", "numba_gelu"]

NUMBA_HINT = ("the compiled rung needs Numba, an optional extra: install it with "
              "pip install -e '.[accel]' (or pip install numba)")

_C = math.sqrt(2.0 / math.pi)
_A = 0.044715


def numba_available() -> bool:
    """True when Numba is installed (found, not imported: importing it takes a second)."""
    import importlib.util

    return importlib.util.find_spec("numba") is not None


# ----------------------------------------------------------------- the kernels, plain Python
# Each loop is one pass over its data; Numba turns it into a machine-code loop.

def _gelu_fwd(x, y, t):
    for i in range(x.size):
        xi = x[i]
        u = _C * xi * (1.0 + _A * xi * xi)
        # tanh(u) from one exp: libm's tanh measured 2x slower in this loop; exp(-2|u|) <= 1
        # cannot overflow
        e = math.exp(-2.0 * abs(u))
        ti = (1.0 - e) / (1.0 + e)
        if u < 0.0:
            ti = -ti
        t[i] = ti
        y[i] = 0.5 * xi * (1.0 + ti)


def _gelu_bwd(x, t, g, dx):
    for i in range(x.size):
        xi, ti = x[i], t[i]
        d = 0.5 * (1.0 + ti) + 0.5 * xi * (1.0 - ti * ti) * _C * (1.0 + 3.0 * _A * xi * xi)
        dx[i] = g[i] * d


def _ce_fwd(x, t, p, losses):
    n, c = x.shape
    for r in range(n):
        m = x[r, 0]
        for j in range(1, c):
            if x[r, j] > m:
                m = x[r, j]
        s = 0.0
        for j in range(c):
            e = math.exp(x[r, j] - m)
            p[r, j] = e
            s += e
        for j in range(c):
            p[r, j] /= s
        losses[r] = math.log(s) + m - x[r, t[r]]


def _ce_bwd(p, t, scale, g):
    n, c = p.shape
    for r in range(n):
        for j in range(c):
            g[r, j] = p[r, j] * scale
        g[r, t[r]] -= scale


def _tiled_mm(a, b, c, tile):
    m, k = a.shape
    n = b.shape[1]
    for i0 in range(0, m, tile):
        for k0 in range(0, k, tile):
            for j0 in range(0, n, tile):
                # one tile product, i-k-j order: the inner loop walks a row of B and a row
                # of C, contiguous (held as 1-D views: measured 1.5x faster than c[i, j])
                for i in range(i0, min(i0 + tile, m)):
                    c_row, a_row = c[i], a[i]
                    for p in range(k0, min(k0 + tile, k)):
                        aip, b_row = a_row[p], b[p]
                        for j in range(j0, min(j0 + tile, n)):
                            c_row[j] += aip * b_row[j]


_COMPILED: dict = {}


def _kernel(name: str):
    """The compiled kernel ``name`` (compiled on first use), or ImportError with the hint."""
    if name not in _COMPILED:
        try:
            import numba
        except ImportError:
            raise ImportError(NUMBA_HINT) from None
        _COMPILED[name] = numba.njit(cache=True)(globals()[name])
    return _COMPILED[name]


def _float(x, name):
    x = np.ascontiguousarray(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: needs a floating point array, got {x.dtype}")
    return x


# ----------------------------------------------------------------- the public face (arrays)

def gelu_numba(x: np.ndarray, return_tanh: bool = False):
    """GELU (tanh approximation) of an array in one compiled pass; same shape and dtype.

    With ``return_tanh`` also returns ``t = tanh(...)`` (what the backward needs)."""
    x = _float(x, "gelu_numba")
    y, t = np.empty_like(x), np.empty_like(x)
    _kernel("_gelu_fwd")(x.reshape(-1), y.reshape(-1), t.reshape(-1))
    return (y, t) if return_tanh else y


def gelu_backward_numba(x: np.ndarray, t: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """dL/dx of GELU from ``x``, the saved ``t`` and dL/dy, in one compiled pass."""
    x = _float(x, "gelu_backward_numba")
    t, g = np.ascontiguousarray(t, x.dtype), np.ascontiguousarray(grad, x.dtype)
    dx = np.empty_like(x)
    _kernel("_gelu_bwd")(x.reshape(-1), t.reshape(-1), g.reshape(-1), dx.reshape(-1))
    return dx


def softmax_cross_entropy_numba(x: np.ndarray, target: np.ndarray, reduction: str = "mean"):
    """(loss, softmax) of logits (N, C) and class ids (N,), each row in one compiled pass."""
    x = _float(x, "softmax_cross_entropy_numba")
    t = np.ascontiguousarray(target, np.int64)
    if x.ndim != 2 or t.shape != (x.shape[0],):
        raise ValueError(f"softmax_cross_entropy_numba: logits (N, C) and target (N,), got "
                         f"{x.shape} and {t.shape}")
    p, losses = np.empty_like(x), np.empty(x.shape[0], dtype=x.dtype)
    _kernel("_ce_fwd")(x, t, p, losses)
    loss = losses.sum() if reduction == "sum" else losses.mean()
    return loss, p


def softmax_cross_entropy_backward_numba(p: np.ndarray, target: np.ndarray, grad=1.0,
                                         reduction: str = "mean") -> np.ndarray:
    """(p - onehot(target)) * grad / N (``'mean'``) in one compiled pass over p."""
    p = _float(p, "softmax_cross_entropy_backward_numba")
    t = np.ascontiguousarray(target, np.int64)
    scale = float(grad) / (p.shape[0] if reduction == "mean" else 1)
    g = np.empty_like(p)
    _kernel("_ce_bwd")(p, t, scale, g)
    return g


def tiled_matmul_numba(a: np.ndarray, b: np.ndarray, tile: int = 64) -> np.ndarray:
    """The tiled schedule of :func:`~.tiled_matmul.tiled_matmul` with every multiply-add an
    explicit compiled loop (no BLAS inside). Shapes (M, K) @ (K, N) -> (M, N)."""
    from tinytorch.optimization.tiled_matmul import _check

    a, b = _check(a, b, "tiled_matmul_numba")
    dtype = np.result_type(a, b)
    a, b = np.ascontiguousarray(a, dtype), np.ascontiguousarray(b, dtype)
    c = np.zeros((a.shape[0], b.shape[1]), dtype=dtype)
    _kernel("_tiled_mm")(a, b, c, int(tile))
    return c


# ----------------------------------------------------------------- an autograd op

class NumbaGELUFn(Function):
    """:class:`~.fused.FusedGELUFn` with both passes compiled kernels (saves x and t)."""

    @staticmethod
    def forward(ctx, x):
        y, t = gelu_numba(x, return_tanh=True)
        ctx.save_for_backward(x, t)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        return gelu_backward_numba(x, t, grad)


def numba_gelu(x) -> Tensor:
    """``F.gelu(x, approximate="tanh")`` with Numba kernels forward and backward."""
    x = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
    return NumbaGELUFn.apply(x)
