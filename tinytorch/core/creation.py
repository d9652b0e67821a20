"""Module 01 -- making tensors: from data, filled with constants, ranges, and random numbers.

Random numbers come from one seeded generator (``tt.manual_seed(0)`` makes a whole run
repeatable) or from a :class:`Generator` you pass explicitly, as in PyTorch.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.tensor import Tensor, as_array

__all__ = [
    "tensor", "zeros", "ones", "full", "empty", "arange", "linspace", "eye",
    "zeros_like", "ones_like", "full_like", "randn", "rand", "randint", "randperm",
    "randn_like", "rand_like", "manual_seed", "seed", "Generator", "default_generator",
]


class Generator:
    """A source of random numbers with its own state (NumPy's PCG64 underneath).

    >>> g = tt.Generator().manual_seed(0)
    >>> tt.randn(2, 3, generator=g)
    """

    def __init__(self, seed: int | None = None):
        self._seed = seed
        self.rng = np.random.default_rng(seed)

    def manual_seed(self, seed: int) -> "Generator":
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def initial_seed(self):
        return self._seed

    def get_state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state


default_generator = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (used by randn, rand, init, dropout, shuffling)."""
    return default_generator.manual_seed(seed)


seed = manual_seed


def _rng(generator):
    return (generator or default_generator).rng


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"size must be non-negative integers, got {tuple(size)}")
    return tuple(int(s) for s in size)


def _finish(arr, dtype, requires_grad):
    if dtype is not None:
        arr = arr.astype(np.dtype(dtype), copy=False)
    if arr.dtype.kind not in "fiub":  # tt.full((2,), "a"), dtype="a": strings are not numbers
        raise TypeError(f"tensor: unsupported dtype {arr.dtype}; tensors hold float, int, "
                        "unsigned or bool numbers (tt.float32, tt.int64, tt.bool ...)")
    t = Tensor._wrap(arr, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (number, nested list, ndarray or Tensor).

    Python floats become float32, Python ints int64, bools bool; NumPy arrays keep their
    dtype unless ``dtype`` says otherwise.
    """
    arr = as_array(data, dtype)
    arr = np.array(arr, copy=True)
    return _finish(arr, None, requires_grad)


def zeros(*size, dtype=np.float32, requires_grad: bool = False) -> Tensor:
    return _finish(np.zeros(_size(size), dtype=dtype), None, requires_grad)


def ones(*size, dtype=np.float32, requires_grad: bool = False) -> Tensor:
    return _finish(np.ones(_size(size), dtype=dtype), None, requires_grad)


def empty(*size, dtype=np.float32, requires_grad: bool = False) -> Tensor:
    """Like PyTorch's, but zero-filled: reading uninitialised memory teaches nothing."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def full(size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = np.float32 if isinstance(fill_value, float) else np.asarray(fill_value).dtype
    return _finish(np.full(_size((size,)), fill_value, dtype=dtype), None, requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive); int64 for int arguments, else float32."""
    if end is None:
        start, end = 0, start
    arr = np.arange(start, end, step)
    if dtype is None and arr.dtype.kind == "f":
        dtype = np.float32
    return _finish(arr, dtype, requires_grad)


def linspace(start, end, steps: int, dtype=np.float32, requires_grad: bool = False) -> Tensor:
    return _finish(np.linspace(start, end, steps), dtype, requires_grad)


def eye(n: int, m: int | None = None, dtype=np.float32, requires_grad: bool = False) -> Tensor:
    return _finish(np.eye(n, m), dtype, requires_grad)


def zeros_like(t, dtype=None, requires_grad: bool = False) -> Tensor:
    return zeros(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad: bool = False) -> Tensor:
    return ones(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    return full(t.shape, fill_value, dtype=dtype or t.dtype, requires_grad=requires_grad)


def randn(*size, dtype=np.float32, generator=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples, N(0, 1)."""
    dt = _float_dtype(dtype, "randn")
    arr = _rng(generator).standard_normal(_size(size), dtype=dt if dt in (np.float32, np.float64) else np.float64)
    return _finish(arr, dt, requires_grad)


def rand(*size, dtype=np.float32, generator=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1)."""
    dt = _float_dtype(dtype, "rand")
    arr = _rng(generator).random(_size(size), dtype=dt if dt in (np.float32, np.float64) else np.float64)
    return _finish(arr, dt, requires_grad)


def _float_dtype(dtype, name):
    dt = np.dtype(dtype)
    if dt.kind != "f":  # samples in [0, 1) cast to int would all be 0
        raise TypeError(f"{name}: needs a floating point dtype, got {dt}; for random integers "
                        "use tt.randint(low, high, size)")
    return dt


def randint(low, high=None, size=(), dtype=np.int64, generator=None) -> Tensor:
    """Integers in [low, high); ``randint(high, size)`` starts at 0, as in PyTorch."""
    if isinstance(high, (tuple, list)):  # randint(5, (3,)): PyTorch's (high, size) form
        high, size = None, high
    if high is None:
        low, high = 0, low
    return _finish(_rng(generator).integers(low, high, size=_size((size,)) if size else ()), dtype, False)


def randperm(n: int, dtype=np.int64, generator=None) -> Tensor:
    return _finish(_rng(generator).permutation(n), dtype, False)


def randn_like(t, dtype=None, generator=None) -> Tensor:
    return randn(*t.shape, dtype=dtype or t.dtype, generator=generator)


def rand_like(t, dtype=None, generator=None) -> Tensor:
    return rand(*t.shape, dtype=dtype or t.dtype, generator=generator)
