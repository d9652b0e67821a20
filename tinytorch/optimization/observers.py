"""Observers: watch the values a tensor takes, then choose its scale and zero point.

PyTorch's ``torch.ao.quantization`` observers under the same names and defaults. An observer
is a module that returns its input unchanged and records statistics (in buffers ``min_val`` /
``max_val``); ``calculate_qparams()`` turns them into (scale, zero_point) with
:func:`~tinytorch.optimization.quantization.calculate_qparams`.

* :class:`MinMaxObserver` -- the running min and max of everything seen: exact, but one
  outlier stretches the range and every other value loses resolution.
* :class:`MovingAverageMinMaxObserver` -- an exponential moving average of each batch's
  min/max (used during quantization-aware training, where the values drift).
* :class:`PerChannelMinMaxObserver` -- min/max per slice along ``ch_axis`` (weights).
* :class:`PercentileObserver` -- clips the range at a percentile of |x| (averaged over
  batches), trading a few saturated outliers for a finer step on everything else. PyTorch's
  nearest tool is ``HistogramObserver``, which searches the clipping range that minimises the
  quantization error over a histogram; a fixed percentile is the simpler, common variant.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.module import Module
from tinytorch.core.tensor import Tensor
from tinytorch.optimization.quantization import (FLOAT32_EPS, calculate_qparams,
                                                 per_channel_affine, per_channel_symmetric,
                                                 per_tensor_affine, per_tensor_symmetric, qrange,
                                                 quint8)

__all__ = ["ObserverBase", "MinMaxObserver", "MovingAverageMinMaxObserver",
           "PerChannelMinMaxObserver", "PercentileObserver", "PlaceholderObserver"]


def _values(x) -> np.ndarray:
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


class ObserverBase(Module):
    """What every observer shares: dtype, qscheme, the integer range, and ``with_args``."""

    def __init__(self, dtype=quint8, qscheme=per_tensor_affine, reduce_range: bool = False,
                 quant_min=None, quant_max=None, eps: float = FLOAT32_EPS):
        super().__init__()
        self.dtype, self.qscheme, self.reduce_range, self.eps = dtype, qscheme, reduce_range, eps
        lo, hi = qrange(dtype, reduce_range)
        self.quant_min = lo if quant_min is None else int(quant_min)
        self.quant_max = hi if quant_max is None else int(quant_max)
        self.register_buffer("min_val", Tensor(np.array(np.inf, np.float32)))
        self.register_buffer("max_val", Tensor(np.array(-np.inf, np.float32)))

    @classmethod
    def with_args(cls, **kwargs):
        """A factory with some arguments fixed, as ``MinMaxObserver.with_args(dtype=...)``."""
        def factory(**more):
            return cls(**{**kwargs, **more})
        factory.observer_class, factory.kwargs = cls, kwargs
        return factory

    def _store(self, lo, hi) -> None:
        self.min_val = Tensor(np.asarray(lo, np.float32))
        self.max_val = Tensor(np.asarray(hi, np.float32))

    @property
    def observed(self) -> bool:
        return bool(np.all(np.isfinite(self.min_val.numpy())))

    def calculate_qparams(self):
        """(scale, zero_point) as Tensors (float32, int64) of the range seen so far."""
        if not self.observed:
            raise RuntimeError(f"{type(self).__name__}.calculate_qparams: nothing observed yet;"
                               " run calibration data through the model first")
        s, z = calculate_qparams(self.min_val.numpy(), self.max_val.numpy(), self.dtype,
                                 self.qscheme, self.quant_min, self.quant_max, self.eps)
        return Tensor(s.reshape(-1)), Tensor(z.reshape(-1))  # per tensor: shape (1,), as torch

    def extra_repr(self) -> str:
        return f"min_val={self.min_val.numpy()}, max_val={self.max_val.numpy()}"


class MinMaxObserver(ObserverBase):
    """The running minimum and maximum of every value seen (``torch.ao.quantization``'s
    default activation observer: quint8, per_tensor_affine)."""

    def forward(self, x):
        v = _values(x)
        if v.size == 0:
            return x
        # BEGIN SOLUTION
        lo = np.minimum(self.min_val.numpy(), v.min())
        hi = np.maximum(self.max_val.numpy(), v.max())
        # END SOLUTION
        self._store(lo, hi)
        return x


class MovingAverageMinMaxObserver(ObserverBase):
    """min/max averaged over batches: ``min = min + c * (batch_min - min)`` (the first batch
    sets it), with ``averaging_constant`` c = 0.01 as PyTorch."""

    def __init__(self, averaging_constant: float = 0.01, **kwargs):
        super().__init__(**kwargs)
        self.averaging_constant = averaging_constant

    def forward(self, x):
        v = _values(x)
        if v.size == 0:
            return x
        bmin, bmax = v.min(), v.max()
        if not self.observed:
            self._store(bmin, bmax)
            return x
        c = np.float32(self.averaging_constant)
        # BEGIN SOLUTION
        lo = self.min_val.numpy() + c * (bmin - self.min_val.numpy())
        hi = self.max_val.numpy() + c * (bmax - self.max_val.numpy())
        # END SOLUTION
        self._store(lo, hi)
        return x


class PerChannelMinMaxObserver(ObserverBase):
    """min/max of each slice along ``ch_axis`` (default 0: a weight's output channels)."""

    def __init__(self, ch_axis: int = 0, dtype=quint8, qscheme=per_channel_affine, **kwargs):
        if qscheme not in (per_channel_affine, per_channel_symmetric):
            raise ValueError(f"PerChannelMinMaxObserver: qscheme must be per_channel_affine or "
                             f"per_channel_symmetric, got {qscheme!r}")
        super().__init__(dtype=dtype, qscheme=qscheme, **kwargs)
        self.ch_axis = ch_axis

    def forward(self, x):
        v = _values(x)
        axis = self.ch_axis % v.ndim
        other = tuple(a for a in range(v.ndim) if a != axis)
        lo, hi = v.min(axis=other), v.max(axis=other)
        if self.observed:
            lo = np.minimum(self.min_val.numpy(), lo)
            hi = np.maximum(self.max_val.numpy(), hi)
        self._store(lo, hi)
        return x


class PercentileObserver(ObserverBase):
    """The range clipped at the ``percentile`` of |x| (symmetric) or at the low/high
    percentiles (affine), averaged over batches (each batch's values count equally).

    Not a PyTorch class (see the module docstring); same buffers and qparams as the others.
    """

    def __init__(self, percentile: float = 99.99, **kwargs):
        super().__init__(**kwargs)
        if not 50 < percentile <= 100:
            raise ValueError(f"PercentileObserver: percentile must be in (50, 100], got "
                             f"{percentile}")
        self.percentile, self.batches = percentile, 0

    def forward(self, x):
        v = _values(x).astype(np.float64).reshape(-1)
        if v.size == 0:
            return x
        if self.qscheme in (per_tensor_symmetric, per_channel_symmetric):
            hi = np.percentile(np.abs(v), self.percentile)
            lo = -hi
        else:
            lo, hi = np.percentile(v, [100 - self.percentile, self.percentile])
        if self.observed:  # running mean of the per-batch percentiles
            n = self.batches
            lo = (self.min_val.numpy() * n + lo) / (n + 1)
            hi = (self.max_val.numpy() * n + hi) / (n + 1)
        self.batches += 1
        self._store(lo, hi)
        return x


class PlaceholderObserver(ObserverBase):
    """Records nothing: marks "quantize this on the fly" (dynamic quantization's activations,
    whose range is measured on each batch at inference time)."""

    def __init__(self, dtype=quint8, is_dynamic: bool = True, **kwargs):
        super().__init__(dtype=dtype, **kwargs)
        self.is_dynamic = is_dynamic

    def forward(self, x):
        return x

    def calculate_qparams(self):
        raise RuntimeError("PlaceholderObserver has no qparams: its tensor is quantized "
                           "dynamically, per batch")
