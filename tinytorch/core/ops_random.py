"""Module 01 -- sampling: multinomial, bernoulli, normal, poisson, and one_hot.

Every sampler draws from tinytorch's default generator (``tt.manual_seed``) or from the
``generator=`` given, so a seeded run repeats exactly. The streams are NumPy's, so the numbers
differ from PyTorch's for the same seed; the distributions are the same (tests check them).
Samples carry no gradient, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.ops_support import as_tensor, tensor_class, wrap

__all__ = ["multinomial", "bernoulli", "normal", "poisson", "one_hot"]


def _rng(generator):
    from tinytorch.core import creation  # creation imports tensor.py, which imports this file

    return creation._rng(generator)


def multinomial(input, num_samples: int, replacement: bool = False, *, generator=None):
    """Draw category indices with probability proportional to the weights in ``input``.

    input: (C,) or (B, C) non-negative weights (need not sum to 1).
    Returns int64 indices of shape (num_samples,) or (B, num_samples). Without replacement
    each category is drawn at most once (so num_samples <= the number of nonzero weights).
    """
    w = as_tensor(input)._data
    if w.ndim not in (1, 2):
        raise ValueError(f"multinomial: input must be 1-D or 2-D (weights per category), got "
                         f"shape {w.shape}")
    if w.dtype.kind != "f":
        raise TypeError(f"multinomial: weights must be floating point, got {w.dtype}")
    rows = w.reshape(-1, w.shape[-1]).astype(np.float64)
    n_cat = rows.shape[1]
    if not np.all(np.isfinite(rows)) or np.any(rows < 0):
        raise ValueError("multinomial: weights must be finite and >= 0 (got inf, nan or a "
                         "negative weight)")
    total = rows.sum(axis=1, keepdims=True)
    if np.any(total <= 0):
        raise ValueError("multinomial: every row of weights must have a positive sum")
    if num_samples <= 0:
        raise ValueError(f"multinomial: num_samples must be positive, got {num_samples}")
    rng = _rng(generator)
    if replacement:
        # inverse CDF, all rows at once: shift row r's CDF (in [0, 1]) to [r, r + 1] so one
        # sorted array serves every row's search
        cdf = np.cumsum(rows / total, axis=1)
        cdf[:, -1] = 1.0
        offsets = np.arange(rows.shape[0])[:, None]
        u = rng.random((rows.shape[0], num_samples))
        flat = np.searchsorted((cdf + offsets).ravel(), (u + offsets).ravel(), side="right")
        idx = flat.reshape(u.shape) - offsets * n_cat
        idx = np.minimum(idx, n_cat - 1)
    else:
        nonzero = np.count_nonzero(rows, axis=1).min()
        if num_samples > nonzero:
            raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement "
                             f"from {nonzero} categories of nonzero weight; pass replacement=True")
        # Efraimidis-Spirakis: keys E / w with E ~ Exp(1); the k smallest keys are a draw of k
        # without replacement, in order, with probability proportional to the weights
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential(rows.shape) / rows
        idx = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    idx = idx.astype(np.int64)
    return wrap(idx[0] if w.ndim == 1 else idx)


def bernoulli(input, p=None, *, generator=None):
    """1 with probability ``input`` (or ``p``), else 0, elementwise; same shape and dtype."""
    probs = as_tensor(input)._data
    if p is not None:
        dtype = probs.dtype if probs.dtype.kind == "f" else np.float32
        probs = np.full(probs.shape, p, dtype=dtype)
    if probs.dtype.kind != "f":
        raise TypeError(f"bernoulli: probabilities must be floating point, got {probs.dtype}")
    if np.any((probs < 0) | (probs > 1)):
        raise ValueError("bernoulli: probabilities must be in [0, 1]")
    draw = _rng(generator).random(probs.shape) < probs
    return wrap(draw.astype(probs.dtype))


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, requires_grad=False):
    """Samples of N(mean, std^2). ``mean``/``std`` may be tensors (broadcast) or numbers with a
    ``size``. As in PyTorch, the samples carry no gradient to mean or std; write
    ``mean + std * tt.randn_like(mean)`` for a reparameterised sample."""
    T = tensor_class()
    m = mean._data if isinstance(mean, T) else np.asarray(mean, dtype=np.float64)
    s = std._data if isinstance(std, T) else np.asarray(std, dtype=np.float64)
    if np.any(s < 0):
        raise ValueError("normal: std must be >= 0")
    if size is not None:
        shape = tuple(size)
    else:
        try:
            shape = np.broadcast_shapes(m.shape, s.shape)
        except ValueError:
            raise ValueError(f"normal: mean {m.shape} and std {s.shape} do not broadcast") from None
    if dtype is None:  # the float tensors' dtype, else float32
        floats = [x._data.dtype for x in (mean, std)
                  if isinstance(x, T) and x._data.dtype.kind == "f"]
        dtype = np.result_type(*floats) if floats else np.float32
    z = _rng(generator).standard_normal(shape)
    t = wrap((m + s * z).astype(dtype))
    return t.requires_grad_(True) if requires_grad else t


def poisson(input, generator=None):
    """Poisson samples with rates ``input`` (same shape and dtype)."""
    rates = as_tensor(input)._data
    if np.any(rates < 0):
        raise ValueError("poisson: rates must be >= 0")
    return wrap(_rng(generator).poisson(rates).astype(rates.dtype))


def one_hot(tensor, num_classes: int = -1):
    """Class indices (...,) -> (..., num_classes) int64 rows with a single 1.
    num_classes=-1 uses max(index) + 1."""
    idx = as_tensor(tensor)._data
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: needs an integer (int64) tensor of class indices, got "
                        f"{idx.dtype}")
    if idx.size and idx.min() < 0:
        raise ValueError(f"one_hot: class indices must be >= 0, got {idx.min()}")
    if num_classes == -1:
        if idx.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor; pass it")
        num_classes = int(idx.max()) + 1
    elif idx.size and idx.max() >= num_classes:
        raise ValueError(f"one_hot: class index {idx.max()} is out of range for num_classes="
                         f"{num_classes}")
    out = (idx[..., None] == np.arange(num_classes)).astype(np.int64)
    return wrap(out)
