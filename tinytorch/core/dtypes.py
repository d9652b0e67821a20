"""Dtypes under PyTorch's names.

A tinytorch dtype *is* a NumPy scalar type (``tt.float32 is np.float32``), so
``t.dtype == tt.float32`` holds and any NumPy call accepts it. PyTorch code also mentions
dtypes that NumPy lacks (``bfloat16``, the float8 family) or that tinytorch does not compute
in (complex): those names exist, so a program that only *mentions* them imports and runs, and
the first real use (``tt.zeros(2, dtype=tt.bfloat16)``, ``x.to(tt.bfloat16)``) raises one
clear TypeError. That works without a check at every call site: NumPy reads a dtype-like
object's ``.dtype`` attribute, and here reading it raises.

``tt.int`` is int32 and ``tt.long`` int64, as in PyTorch (``t.int()`` gives int32 too).
"""

from __future__ import annotations

import numpy as np

__all__ = ["Unsupported", "NAMES", "is_floating_point", "is_complex", "get_default_dtype",
           "set_default_dtype", "default_float"]


class Unsupported:
    """A PyTorch dtype name that this build cannot hold; any use raises a TypeError."""

    def __init__(self, name: str, why: str):
        self.name, self.why = name, why

    @property
    def dtype(self):
        raise TypeError(f"dtype tinytorch.{self.name} is not supported: {self.why}")

    @property
    def is_floating_point(self) -> bool:
        return True

    def __repr__(self):
        return f"tinytorch.{self.name}"


_NO_BF16 = ("NumPy has no bfloat16 type. Use tt.float32 (or tt.float16 to halve the memory; "
            "on the CPU there is no speed to gain from either)")
_NO_F8 = "NumPy has no 8-bit float types; use tt.float32, or module 15's int8 quantization"

# PyTorch's dtype names -> NumPy scalar types (or Unsupported)
NAMES = {
    "float16": np.float16, "half": np.float16,
    "float32": np.float32, "float": np.float32,
    "float64": np.float64, "double": np.float64,
    "bfloat16": Unsupported("bfloat16", _NO_BF16),
    "float8_e4m3fn": Unsupported("float8_e4m3fn", _NO_F8),
    "float8_e5m2": Unsupported("float8_e5m2", _NO_F8),
    # complex: a name only; tensors refuse complex data (as_array says so)
    "complex64": np.complex64, "cfloat": np.complex64,
    "complex128": np.complex128, "cdouble": np.complex128,
    "int8": np.int8, "int16": np.int16, "short": np.int16,
    "int32": np.int32, "int": np.int32,
    "int64": np.int64, "long": np.int64,
    "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32, "uint64": np.uint64,
    "bool": np.bool_,
}

_default_float = np.float32


def default_float():
    """The dtype Python floats become (float32 unless :func:`set_default_dtype` changed it)."""
    return _default_float


def get_default_dtype():
    return _default_float


def set_default_dtype(d) -> None:
    """Make Python floats (and float factories without ``dtype=``) become ``d``.

    Only float32 and float64 are accepted, as in PyTorch's CPU practice.
    """
    global _default_float
    dt = np.dtype(d)
    if dt not in (np.float32, np.float64):
        raise TypeError(f"set_default_dtype: only tt.float32 or tt.float64 can be the default, "
                        f"got {dt}")
    _default_float = dt.type


def is_floating_point(t) -> bool:
    """True for a float tensor (float16/32/64); also accepts a dtype."""
    dt = getattr(t, "dtype", t)
    return np.dtype(dt).kind == "f"


def is_complex(t) -> bool:
    dt = getattr(t, "dtype", t)
    return np.dtype(dt).kind == "c"
