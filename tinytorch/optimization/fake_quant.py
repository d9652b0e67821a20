"""Fake quantization for quantization-aware training (QAT).

During QAT the network stays in float, but every weight and activation that will be int8 at
inference is rounded to its quantization grid in the forward pass::

    fake_quant(x) = (clamp(round(x / s) + z, qmin, qmax) - z) * s

so the loss sees the rounding error and training learns weights that survive it. Rounding
has zero gradient almost everywhere, which would stop learning; the *straight-through
estimator* (STE) pretends the rounding was the identity: the gradient passes unchanged where
x landed inside the representable range and is 0 where it was clamped (PyTorch's
``fake_quantize_per_tensor_affine`` backward).
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.autograd import Function
from tinytorch.core.module import Module
from tinytorch.core.tensor import Tensor
from tinytorch.optimization.observers import MovingAverageMinMaxObserver
from tinytorch.optimization.quantization import (_broadcast, per_channel_affine,
                                                 per_channel_symmetric)

__all__ = ["FakeQuantizeFn", "fake_quantize_per_tensor_affine",
           "fake_quantize_per_channel_affine", "FakeQuantize"]


class FakeQuantizeFn(Function):
    """Quantize-then-dequantize in the forward; the straight-through gradient in the backward.

    Inputs: x, scale, zero_point (scalars, or (C,) with ``axis``), qmin, qmax, axis.
    """

    @staticmethod
    def forward(ctx, x, scale, zero_point, qmin, qmax, axis=None):
        s = _broadcast(np.asarray(scale, np.float32), x.ndim, axis)
        z = _broadcast(np.asarray(zero_point, np.float32), x.ndim, axis)
        # BEGIN SOLUTION
        q = np.round(x * (np.float32(1) / s)) + z  # x * (1/s), as quantize and PyTorch's kernels
        inside = (q >= qmin) & (q <= qmax)
        ctx.save_for_backward(inside)
        return ((np.clip(q, qmin, qmax) - z) * s).astype(x.dtype)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        # BEGIN SOLUTION
        return np.where(inside, grad, 0).astype(grad.dtype), None, None, None, None, None
        # END SOLUTION


def fake_quantize_per_tensor_affine(input, scale: float, zero_point: int, quant_min: int,
                                    quant_max: int) -> Tensor:
    """``torch.fake_quantize_per_tensor_affine``: float in, float out, on the int grid."""
    return FakeQuantizeFn.apply(input, float(scale), int(zero_point), int(quant_min),
                                int(quant_max), None)


def fake_quantize_per_channel_affine(input, scale, zero_point, axis: int, quant_min: int,
                                     quant_max: int) -> Tensor:
    """``torch.fake_quantize_per_channel_affine``: one (scale, zero point) per channel."""
    s = scale.numpy() if isinstance(scale, Tensor) else np.asarray(scale)
    z = zero_point.numpy() if isinstance(zero_point, Tensor) else np.asarray(zero_point)
    return FakeQuantizeFn.apply(input, s, z, int(quant_min), int(quant_max), axis % input.ndim)


class FakeQuantize(Module):
    """An observer plus fake quantization, ``torch.ao.quantization.FakeQuantize``.

    Each forward (in training) updates the observer with the batch, recomputes scale and zero
    point, and returns the fake-quantized input. ``disable_observer()`` freezes the range;
    ``disable_fake_quant()`` makes it the identity. ``calculate_qparams()`` gives the
    (scale, zero_point) that ``convert`` will use for the real int8 layer.
    """

    def __init__(self, observer=MovingAverageMinMaxObserver, quant_min=None, quant_max=None,
                 **observer_kwargs):
        super().__init__()
        if quant_min is not None:
            observer_kwargs["quant_min"] = quant_min
        if quant_max is not None:
            observer_kwargs["quant_max"] = quant_max
        self.activation_post_process = observer(**observer_kwargs)
        obs = self.activation_post_process
        self.quant_min, self.quant_max = obs.quant_min, obs.quant_max
        self.dtype, self.qscheme = obs.dtype, obs.qscheme
        self.ch_axis = getattr(obs, "ch_axis", None)
        self.fake_quant_enabled, self.observer_enabled = True, True
        self.register_buffer("scale", Tensor(np.array([1.0], np.float32)))
        self.register_buffer("zero_point", Tensor(np.array([0], np.int64)))

    @classmethod
    def with_args(cls, **kwargs):
        """A factory with some arguments fixed: ``FakeQuantize.with_args(dtype=tt.qint8)``."""
        def factory(**more):
            return cls(**{**kwargs, **more})
        return factory

    def enable_fake_quant(self, enabled: bool = True):
        self.fake_quant_enabled = enabled
        return self

    def disable_fake_quant(self):
        return self.enable_fake_quant(False)

    def enable_observer(self, enabled: bool = True):
        self.observer_enabled = enabled
        return self

    def disable_observer(self):
        return self.enable_observer(False)

    def calculate_qparams(self):
        return self.activation_post_process.calculate_qparams()

    def forward(self, x):
        if self.observer_enabled:
            self.activation_post_process(x.detach())
            self.scale, self.zero_point = self.calculate_qparams()
        if not self.fake_quant_enabled:
            return x
        if self.qscheme in (per_channel_affine, per_channel_symmetric):
            return fake_quantize_per_channel_affine(x, self.scale, self.zero_point,
                                                    self.ch_axis, self.quant_min, self.quant_max)
        return fake_quantize_per_tensor_affine(x, self.scale.numpy().reshape(-1)[0],
                                               self.zero_point.numpy().reshape(-1)[0],
                                               self.quant_min, self.quant_max)

    def extra_repr(self) -> str:
        return (f"fake_quant_enabled={self.fake_quant_enabled}, observer_enabled="
                f"{self.observer_enabled}, quant_min={self.quant_min}, quant_max="
                f"{self.quant_max}, dtype={self.dtype}, qscheme={self.qscheme}")
