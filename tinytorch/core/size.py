"""``tt.Size``: the type of ``x.size()``, a tuple of ints as ``torch.Size`` is.

It compares equal to plain tuples (``x.size() == (3, 4)``), unpacks and indexes like one,
and adds PyTorch's ``numel()``. ``x.shape`` stays a plain tuple (NumPy's), which also compares
equal to a Size; ``x.size()`` returns a Size, so ``isinstance(x.size(), tt.Size)`` holds.
"""

from __future__ import annotations

import math

__all__ = ["Size"]


class Size(tuple):
    """A shape: ``Size([3, 4])``. Slices of it are Sizes; ``numel()`` is the product."""

    def __new__(cls, sizes=()):
        dims = tuple(sizes)
        for d in dims:
            if isinstance(d, bool) or not hasattr(d, "__index__"):
                raise TypeError(f"Size: every dimension must be an int, got {d!r} "
                                f"({type(d).__name__}) in {dims}")
        return super().__new__(cls, (d.__index__() for d in dims))

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds (1 for the 0-d shape)."""
        return math.prod(self)

    def __getitem__(self, key):
        out = super().__getitem__(key)
        return Size(out) if isinstance(key, slice) else out

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __repr__(self) -> str:
        return f"tinytorch.Size({list(self)})"

    def __reduce__(self):
        return (Size, (tuple(self),))
