"""Module 03 (given code) -- more of ``torch.nn.init``: truncated normal, orthogonal, identity.

``init.py`` teaches the variance-preserving schemes. Tutorials also reach for:

* ``trunc_normal_``: N(mean, std^2) restricted to [a, b] (ViT and GPT-style code initialise
  with std 0.02 truncated at +-2 std, so no weight starts as an outlier);
* ``orthogonal_``: a (semi-)orthogonal matrix, whose singular values are all 1, so a deep
  linear or recurrent stack neither grows nor shrinks a signal (Saxe et al., 2013);
* ``eye_``: the identity matrix (a layer that starts as a no-op).

Each fills the tensor's array in place, without recording a graph, and returns the tensor, as
PyTorch's do. Draws come from tinytorch's generator: the same distribution as PyTorch, not the
same numbers.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.init import _fill, _no_elements, _rng

__all__ = ["trunc_normal_", "orthogonal_", "eye_"]


def trunc_normal_(tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator=None):
    """Fill with N(mean, std^2) samples conditioned on lying in [a, b].

    Rejection sampling: draw, and redraw the samples that fell outside, until none do (exact,
    and fast whenever [a, b] holds a reasonable share of the mass, as +-2 std holds 95%).
    """
    if not a < b:
        raise ValueError(f"trunc_normal_: need a < b, got a={a}, b={b}")
    if _no_elements(tensor):
        return tensor
    rng = _rng(generator)
    out = rng.normal(mean, std, size=tensor.shape)
    bad = (out < a) | (out > b)
    for _ in range(1000):
        if not bad.any():
            break
        out[bad] = rng.normal(mean, std, size=int(bad.sum()))
        bad = (out < a) | (out > b)
    else:  # [a, b] holds almost no mass: fall back to clamping, as PyTorch's inverse CDF does
        np.clip(out, a, b, out=out)
    return _fill(tensor, out)


def orthogonal_(tensor, gain: float = 1.0, generator=None):
    """Fill with a (semi-)orthogonal matrix times ``gain``; dims after the first are
    flattened (rows = tensor.shape[0]). The QR decomposition of a Gaussian matrix, with the
    signs of R's diagonal folded into Q, is uniformly distributed over orthogonal matrices."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if _no_elements(tensor):
        return tensor
    rows = tensor.shape[0]
    cols = tensor._data.size // rows
    flat = _rng(generator).normal(0.0, 1.0, size=(rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor.shape))


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal of a non-square one)."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, np.eye(*tensor.shape))
