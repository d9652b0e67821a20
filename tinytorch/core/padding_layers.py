"""Module 09 (given code) -- padding as layers: ``nn.ZeroPad2d``, ``nn.ReflectionPad2d`` ...

Each is ``F.pad`` (``padding.py``) with its mode and amounts fixed at construction, so it can
sit in a ``Sequential`` (image-to-image networks pad with reflection before each convolution
to avoid dark borders). ``padding`` is an int (every side) or a tuple in ``F.pad``'s order:
(left, right) for 1-D, (left, right, top, bottom) for 2-D.
"""

from __future__ import annotations

from tinytorch.core.module import Module
from tinytorch.core.padding import pad

__all__ = ["ConstantPad1d", "ConstantPad2d", "ZeroPad1d", "ZeroPad2d", "ReflectionPad1d",
           "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d",
           "CircularPad2d"]


class _PadNd(Module):
    _mode, _dims = "constant", 2

    def __init__(self, padding):
        super().__init__()
        k = 2 * self._dims
        if isinstance(padding, (tuple, list)):
            if len(padding) != k:
                raise ValueError(f"{type(self).__name__}: padding must be an int or a "
                                 f"{k}-tuple, got {padding!r}")
            self.padding = tuple(int(p) for p in padding)
        else:
            self.padding = (int(padding),) * k

    def forward(self, input):
        return pad(input, self.padding, mode=self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return pad(input, self.padding, mode="constant", value=self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    pass


class ZeroPad1d(ConstantPad1d):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    _mode, _dims = "reflect", 1


class ReflectionPad2d(_PadNd):
    _mode = "reflect"


class ReplicationPad1d(_PadNd):
    _mode, _dims = "replicate", 1


class ReplicationPad2d(_PadNd):
    _mode = "replicate"


class CircularPad1d(_PadNd):
    _mode, _dims = "circular", 1


class CircularPad2d(_PadNd):
    _mode = "circular"
