"""Module 01 -- making tensors: from data, filled with constants, ranges, and random numbers.

Random numbers come from one seeded generator (``tt.manual_seed(0)`` makes a whole run
repeatable) or from a :class:`Generator` you pass explicitly, as in PyTorch. Its state can be
read and restored (``tt.get_rng_state()`` / ``tt.set_rng_state(s)``), which is what lets a
checkpointed run resume with exactly the random numbers it would have drawn.

Every factory takes PyTorch's ``device=`` (the CPU, the only device of this build: see
``device.py``, which also decides which array library holds the numbers).
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.device import array_module, as_device
from tinytorch.core.dtypes import default_float
from tinytorch.core.tensor import Tensor, as_array

__all__ = [
    "tensor", "zeros", "ones", "full", "empty", "arange", "linspace", "eye",
    "zeros_like", "ones_like", "full_like", "randn", "rand", "randint", "randperm",
    "randn_like", "rand_like", "empty_like", "manual_seed", "seed", "Generator",
    "default_generator", "get_rng_state", "set_rng_state", "initial_seed", "from_numpy",
    "as_tensor", "randint_like",
]


class Generator:
    """A source of random numbers with its own state (NumPy's PCG64 underneath).

    >>> g = tt.Generator().manual_seed(0)
    >>> tt.randn(2, 3, generator=g)

    ``tt.Generator(5)`` seeds it at once; ``tt.Generator("cpu")`` / ``tt.Generator(device="cpu")``
    is PyTorch's spelling of an unseeded one.
    """

    def __init__(self, seed=None, *, device=None):
        if isinstance(seed, str) or type(seed).__name__ == "device":  # Generator("cpu")
            seed, device = None, seed
        self.device = as_device(device, "Generator")
        self._seed = seed
        self.rng = np.random.default_rng(seed)

    def manual_seed(self, seed: int) -> "Generator":
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Re-seed from the operating system's entropy; return the new seed."""
        new = int(np.random.SeedSequence().entropy % (2 ** 63))
        self.manual_seed(new)
        return new

    def initial_seed(self):
        return self._seed

    def get_state(self) -> Tensor:
        """The generator's full state as a uint8 tensor (PyTorch's ByteTensor convention).

        40 bytes, little-endian: PCG64's 128-bit state and 128-bit increment, then the
        buffered-uint32 flag and value. Pass it to :meth:`set_state` to replay exactly the
        numbers that follow; it is plain data, so ``tt.save`` stores it without pickle.
        """
        st = self.rng.bit_generator.state
        if st.get("bit_generator") != "PCG64":
            raise RuntimeError(f"get_state: unexpected bit generator {st.get('bit_generator')}")
        raw = (st["state"]["state"].to_bytes(16, "little") + st["state"]["inc"].to_bytes(16, "little")
               + int(st["has_uint32"]).to_bytes(4, "little")
               + int(st["uinteger"]).to_bytes(4, "little"))
        return Tensor._wrap(np.frombuffer(raw, dtype=np.uint8).copy(), None)

    def set_state(self, new_state) -> "Generator":
        """Restore a state from :meth:`get_state` (a uint8 tensor or array of 40 bytes)."""
        if isinstance(new_state, dict):  # NumPy's own state dict
            self.rng.bit_generator.state = new_state
            return self
        arr = np.asarray(new_state._data if isinstance(new_state, Tensor) else new_state)
        if arr.dtype != np.uint8 or arr.shape != (40,):
            raise ValueError(f"set_state: expected the uint8 tensor of 40 bytes that get_state "
                             f"returns, got dtype {arr.dtype} and shape {tuple(arr.shape)} (a "
                             "state saved by PyTorch cannot be replayed here: the generators differ)")
        raw = arr.tobytes()
        self.rng.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int.from_bytes(raw[0:16], "little"),
                      "inc": int.from_bytes(raw[16:32], "little")},
            "has_uint32": int.from_bytes(raw[32:36], "little"),
            "uinteger": int.from_bytes(raw[36:40], "little"),
        }
        return self

    def __repr__(self):
        return "<tinytorch.Generator>"


default_generator = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (used by randn, rand, init, dropout, shuffling)."""
    return default_generator.manual_seed(seed)


seed = manual_seed


def initial_seed():
    """The seed the default generator was last seeded with."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The default generator's state (a uint8 tensor); see :meth:`Generator.get_state`."""
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    """Restore the default generator to a state from :func:`get_rng_state`."""
    default_generator.set_state(new_state)


def _rng(generator):
    return (generator or default_generator).rng


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"size must be non-negative integers, got {tuple(size)}")
    return tuple(int(s) for s in size)


def _finish(arr, dtype, requires_grad, device=None, where="tensor"):
    as_device(device, where)
    if dtype is not None:
        arr = arr.astype(np.dtype(dtype), copy=False)
    if arr.dtype.kind not in "fiub":  # tt.full((2,), "a"), dtype="a": strings are not numbers
        raise TypeError(f"tensor: unsupported dtype {arr.dtype}; tensors hold float, int, "
                        "unsigned or bool numbers (tt.float32, tt.int64, tt.bool ...)")
    t = Tensor._wrap(arr, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _xp(device, where):
    """The array library for ``device`` (NumPy: the CPU), after checking the device exists."""
    return array_module(as_device(device, where))


def tensor(data, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (number, nested list, ndarray or Tensor).

    Python floats become float32, Python ints int64, bools bool; NumPy arrays keep their
    dtype unless ``dtype`` says otherwise.
    """
    as_device(device, "tensor")
    arr = as_array(data, dtype)
    arr = np.array(arr, copy=True)
    return _finish(arr, None, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like :func:`tensor`, but shares memory with ``data`` when it is already an array or a
    Tensor of the right dtype (no copy)."""
    as_device(device, "as_tensor")
    if isinstance(data, Tensor) and (dtype is None or np.dtype(dtype) == data.dtype):
        return data
    return _finish(as_array(data, dtype), None, False)


def from_numpy(ndarray) -> Tensor:
    """A tensor that shares memory with ``ndarray``: writing into one changes the other."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(ndarray).__name__})")
    return Tensor._wrap(as_array(ndarray), None)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    xp = _xp(device, "zeros")
    return _finish(xp.zeros(_size(size), dtype=dtype or default_float()), None, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    xp = _xp(device, "ones")
    return _finish(xp.ones(_size(size), dtype=dtype or default_float()), None, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Like PyTorch's, but zero-filled: reading uninitialised memory teaches nothing."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    xp = _xp(device, "full")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = default_float() if isinstance(fill_value, float) else np.asarray(fill_value).dtype
    return _finish(xp.full(_size((size,)), fill_value, dtype=dtype), None, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive); int64 for int arguments, else float32."""
    xp = _xp(device, "arange")
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if end is None:
        start, end = 0, start
    arr = xp.arange(start, end, step)
    if dtype is None and arr.dtype.kind == "f":
        dtype = default_float()
    return _finish(arr, dtype, requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    xp = _xp(device, "linspace")
    dtype = np.dtype(dtype or default_float())
    if dtype.kind == "b":  # as PyTorch: evenly spaced booleans mean nothing
        raise TypeError("linspace: not implemented for dtype bool; ask for a number dtype and "
                        "compare (tt.linspace(0, 1, n) > 0.5)")
    return _finish(xp.linspace(start, end, steps), dtype, requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None,
        requires_grad: bool = False) -> Tensor:
    xp = _xp(device, "eye")
    return _finish(xp.eye(n, m), dtype or default_float(), requires_grad)


def _like(t, dtype, device, where):
    as_device(device if device is not None else getattr(t, "device", None), where)
    return dtype or t.dtype


def zeros_like(t, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return zeros(*t.shape, dtype=_like(t, dtype, device, "zeros_like"),
                 requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return ones(*t.shape, dtype=_like(t, dtype, device, "ones_like"), requires_grad=requires_grad)


def empty_like(t, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return zeros_like(t, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return full(t.shape, fill_value, dtype=_like(t, dtype, device, "full_like"),
                requires_grad=requires_grad)


def randn(*size, dtype=None, device=None, generator=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples, N(0, 1)."""
    as_device(device, "randn")
    dt = _float_dtype(dtype, "randn")
    arr = _rng(generator).standard_normal(_size(size), dtype=dt if dt in (np.float32, np.float64) else np.float64)
    return _finish(arr, dt, requires_grad)


def rand(*size, dtype=None, device=None, generator=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1)."""
    as_device(device, "rand")
    dt = _float_dtype(dtype, "rand")
    arr = _rng(generator).random(_size(size), dtype=dt if dt in (np.float32, np.float64) else np.float64)
    return _finish(arr, dt, requires_grad)


def _float_dtype(dtype, name):
    dt = np.dtype(dtype or default_float())
    if dt.kind != "f":  # samples in [0, 1) cast to int would all be 0
        raise TypeError(f"{name}: needs a floating point dtype, got {dt}; for random integers "
                        "use tt.randint(low, high, size)")
    return dt


def randint(low, high=None, size=(), dtype=None, device=None, generator=None,
            requires_grad: bool = False) -> Tensor:
    """Integers in [low, high); ``randint(high, size)`` starts at 0, as in PyTorch."""
    as_device(device, "randint")
    if isinstance(high, (tuple, list)):  # randint(5, (3,)): PyTorch's (high, size) form
        high, size = None, high
    if high is None:
        low, high = 0, low
    arr = _rng(generator).integers(low, high, size=_size((size,)) if size else ())
    return _finish(arr, dtype or np.int64, requires_grad)


def randperm(n: int, dtype=None, device=None, generator=None,
             requires_grad: bool = False) -> Tensor:
    as_device(device, "randperm")
    return _finish(_rng(generator).permutation(n), dtype or np.int64, requires_grad)


def randn_like(t, dtype=None, device=None, generator=None, requires_grad: bool = False) -> Tensor:
    return randn(*t.shape, dtype=_like(t, dtype, device, "randn_like"), generator=generator,
                 requires_grad=requires_grad)


def rand_like(t, dtype=None, device=None, generator=None, requires_grad: bool = False) -> Tensor:
    return rand(*t.shape, dtype=_like(t, dtype, device, "rand_like"), generator=generator,
                requires_grad=requires_grad)


def randint_like(t, low, high=None, dtype=None, device=None, generator=None) -> Tensor:
    return randint(low, high, t.shape, dtype=_like(t, dtype, device, "randint_like"),
                   generator=generator)
