"""Module 18 -- four ways to multiply two matrices, from Python loops to BLAS.

The same product ``C = A @ B`` (A (M, K), B (K, N) -> C (M, N)) written four ways, each one
rung up the ladder of how numerical code gets fast:

1. :func:`matmul_loops` -- three nested Python loops, one multiply-add per step: the
   definition, and about a million times slower than BLAS (every step runs the interpreter).
2. :func:`matmul_broadcast` -- vectorized NumPy without BLAS: ``(A[:, :, None] * B).sum(1)``.
   No Python loop, but it builds an (M, K, N) temporary and reads it back: fast compared
   with loops, slow compared with BLAS, and memory-hungry.
3. :func:`tiled_matmul` -- the blocked schedule BLAS itself uses: C is computed tile by tile,
   each tile the sum over k-tiles of small products ``A[i, k] @ B[k, j]``. A tile of A and
   a tile of B are small enough to stay in cache while they are reused T times each, so
   memory traffic falls from ~2 M N K numbers to ~2 M N K / T (:func:`tiled_traffic`).
4. ``np.matmul`` -- BLAS: tiling for every cache level, SIMD kernels, threads.

All four agree to rounding (the lab and the tests check it); only their cost differs.
"""

from __future__ import annotations

import numpy as np

__all__ = ["matmul_loops", "matmul_broadcast", "tiled_matmul", "tile_product",
           "tiled_traffic"]


def _check(a, b, name: str):
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"{name}: expects two 2-D arrays (M, K) and (K, N), got shapes "
                         f"{a.shape} and {b.shape}; reshape batches into rows first")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"{name}: inner dimensions differ: A is {a.shape}, B is {b.shape} "
                         f"(A's columns must equal B's rows)")
    return a, b


def matmul_loops(a, b) -> np.ndarray:
    """C[i, j] = sum_k A[i, k] B[k, j], one Python multiply-add at a time (the reference).

    Shapes: (M, K) @ (K, N) -> (M, N). Cost: M*N*K trips through the interpreter.
    """
    a, b = _check(a, b, "matmul_loops")
    m, k = a.shape
    n = b.shape[1]
    al, bl = a.tolist(), b.tolist()  # Python floats: indexing a list is cheaper than an array
    out = [[0.0] * n for _ in range(m)]
    for i in range(m):
        row, ai = out[i], al[i]
        for j in range(n):
            acc = 0.0
            for p in range(k):
                acc += ai[p] * bl[p][j]
            row[j] = acc
    return np.array(out, dtype=np.result_type(a, b))


def matmul_broadcast(a, b) -> np.ndarray:
    """Vectorized without BLAS: every product A[i, k] B[k, j] at once, then a sum over k.

    Builds an (M, K, N) temporary -- K times the size of the answer -- and reads it back:
    NumPy's loops are compiled, but they stream all of it through memory.
    """
    a, b = _check(a, b, "matmul_broadcast")
    return (a[:, :, None] * b[None, :, :]).sum(axis=1)


def tile_product(a_tile: np.ndarray, b_tile: np.ndarray, c_tile: np.ndarray) -> None:
    """The work of one tile: ``c_tile += a_tile @ b_tile``, in place (the default kernel)."""
    c_tile += a_tile @ b_tile


def tiled_matmul(a, b, tile: int = 64, kernel=None) -> np.ndarray:
    """``A @ B`` computed tile by tile (blocked matrix multiply).

    For each output tile ``C[i0:i1, j0:j1]`` (at most ``tile`` x ``tile``), accumulate over
    the k-tiles::

        C[i0:i1, j0:j1] += A[i0:i1, k0:k1] @ B[k0:k1, j0:j1]

    Edge tiles are smaller when a size is not a multiple of ``tile``. ``kernel(a_tile,
    b_tile, c_tile)`` does one tile's work in place (default :func:`tile_product`; the lab
    passes a counting one, and the Numba rung the same schedule with explicit loops).

    Why: a T x T tile of A is reused by every tile of B it meets while it is in cache, so
    each number fetched from memory serves T multiply-adds instead of one.

    Shapes: (M, K) @ (K, N) -> (M, N), dtype of ``np.result_type(A, B)``.
    """
    a, b = _check(a, b, "tiled_matmul")
    if int(tile) < 1:
        raise ValueError(f"tiled_matmul: tile must be a positive integer, got {tile!r}")
    tile = int(tile)
    kernel = tile_product if kernel is None else kernel
    m, k = a.shape
    n = b.shape[1]
    c = np.zeros((m, n), dtype=np.result_type(a, b))
    # BEGIN SOLUTION
    for i0 in range(0, m, tile):
        i1 = min(i0 + tile, m)
        for j0 in range(0, n, tile):
            j1 = min(j0 + tile, n)
            c_tile = c[i0:i1, j0:j1]  # a view: the kernel writes into C
            for k0 in range(0, k, tile):
                k1 = min(k0 + tile, k)
                kernel(a[i0:i1, k0:k1], b[k0:k1, j0:j1], c_tile)
    # END SOLUTION
    return c


def tiled_traffic(m: int, k: int, n: int, tile: int, itemsize: int = 8) -> dict:
    """Bytes read from memory by the naive and the tiled schedule (a model, not a timing).

    Naive (no reuse): every multiply-add fetches one number of A and one of B, 2*M*N*K reads.
    Tiled: each (i, j, k) tile triple fetches one tile of A and one of B, each read once per
    tile triple -- a tile of A is read N/T times in all instead of N times -- and C is
    written once. Returns ``{"naive": bytes, "tiled": bytes, "ratio": naive / tiled}``;
    the ratio grows like T (the tile's reuse).
    """
    ti, tj, tk = -(-m // tile), -(-n // tile), -(-k // tile)
    naive = 2 * m * n * k * itemsize
    # each (i-tile, j-tile) pair reads its row of A tiles (M_i x K) and column of B tiles
    tiled = (tj * m * k + ti * k * n + m * n) * itemsize
    return {"naive": naive, "tiled": tiled, "ratio": naive / tiled, "tiles": ti * tj * tk}
