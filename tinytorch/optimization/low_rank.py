"""Module 16 -- low-rank factorization: one Linear becomes two thin ones.

A weight ``W (out, in)`` has a singular value decomposition ``W = U diag(S) V^T`` with the
singular values ``S`` sorted from largest to smallest. Keeping the first ``r`` of them gives
the best rank-``r`` approximation (Eckart-Young): no other rank-``r`` matrix is closer in the
Frobenius norm, and the error is ``sqrt(sum of the dropped S^2)``. Split it into two layers:

    x -> Linear(in, r, bias=False) -> Linear(r, out, bias) -> y
         weight A = sqrt(S_r) V_r^T      weight B = U_r sqrt(S_r)     (B @ A = W_r)

Parameters drop from ``in * out`` to ``r * (in + out)`` (biases aside), a saving only while
``r < in * out / (in + out)``; the multiply-adds drop the same way. ``energy`` picks the
smallest ``r`` that keeps that share of ``sum(S^2)`` (the squared Frobenius norm).
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.layers import Linear, Sequential
from tinytorch.core.tensor import Tensor

__all__ = ["svd_factors", "choose_rank", "low_rank_linear", "factorize_linears"]


def choose_rank(singular_values, energy: float) -> int:
    """The smallest rank whose singular values keep ``energy`` (0 < energy <= 1) of
    ``sum(S^2)``."""
    if not 0 < energy <= 1:
        raise ValueError(f"energy must be in (0, 1], got {energy}")
    s2 = np.asarray(singular_values, dtype=np.float64) ** 2
    if s2.sum() == 0:
        return 1
    kept = np.cumsum(s2) / s2.sum()
    return int(min(np.searchsorted(kept, energy - 1e-12) + 1, len(s2)))


def svd_factors(weight, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """``A (rank, in)`` and ``B (out, rank)`` with ``B @ A`` the best rank-``rank``
    approximation of ``weight (out, in)``; the singular values are split evenly (sqrt)
    between the two so neither factor's scale dwarfs the other."""
    w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.ndim != 2:
        raise ValueError(f"svd_factors: weight must be 2-D (out, in), got shape {w.shape}")
    if not 1 <= rank <= min(w.shape):
        raise ValueError(f"rank must be in 1..{min(w.shape)} for a weight of shape {w.shape}, "
                         f"got {rank}")
    # BEGIN SOLUTION
    u, s, vt = np.linalg.svd(w.astype(np.float64), full_matrices=False)  # (out,k) (k,) (k,in)
    root = np.sqrt(s[:rank])
    a = root[:, None] * vt[:rank]  # (rank, in)
    b = u[:, :rank] * root[None, :]  # (out, rank)
    # END SOLUTION
    return a.astype(w.dtype), b.astype(w.dtype)


def low_rank_linear(linear: Linear, rank: int | None = None,
                    energy: float | None = None) -> Sequential:
    """``Sequential(Linear(in, r, bias=False), Linear(r, out))`` approximating ``linear``.

    Give ``rank`` or ``energy`` (the share of ``sum(S^2)`` to keep). The bias moves to the
    second layer unchanged. The original layer is not modified.
    """
    if (rank is None) == (energy is None):
        raise ValueError("low_rank_linear: give exactly one of rank= or energy=")
    w = linear.weight._data
    if rank is None:
        rank = choose_rank(np.linalg.svd(w.astype(np.float64), compute_uv=False), energy)
    a, b = svd_factors(w, rank)
    has_bias = linear.bias is not None
    first = Linear(w.shape[1], rank, bias=False)
    second = Linear(rank, w.shape[0], bias=has_bias)
    first.weight._data = a
    second.weight._data = b
    if has_bias:
        second.bias._data = linear.bias._data.copy()
    return Sequential(first, second)


def factorize_linears(model, rank: int | None = None, energy: float | None = None):
    """Replace, in place, every Linear of ``model`` whose factorization has fewer parameters;
    returns ``{dotted name: rank}`` of the layers replaced."""
    replaced = {}
    for prefix, parent in list(model.named_modules()):
        for name, child in list(parent._modules.items()):
            if type(child) is not Linear:
                continue
            out_f, in_f = child.weight.shape
            r = rank
            if r is None:
                s = np.linalg.svd(child.weight._data.astype(np.float64), compute_uv=False)
                r = choose_rank(s, energy)
            r = min(r, min(out_f, in_f))
            if r * (in_f + out_f) >= in_f * out_f:
                continue  # no saving: keep the dense layer
            setattr(parent, name, low_rank_linear(child, rank=r))
            replaced[f"{prefix}.{name}" if prefix else name] = r
    return replaced
