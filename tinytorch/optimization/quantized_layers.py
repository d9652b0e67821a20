"""Quantized layers: int8 weights in memory, integer arithmetic in the forward.

Static (post-training) quantization, PyTorch's eager mode: activations travel between layers
as :class:`QTensor` (uint8 + scale + zero point); ``QuantStub`` marks where float enters the
quantized region (it becomes :class:`Quantize`), ``DeQuantStub`` where it leaves
(:class:`DeQuantize`).

* :class:`QuantizedLinear` / :class:`QuantizedConv2d` -- uint8 input x int8 weight, int32
  accumulation (:func:`int_matmul`), int32 bias, requantized to the output's uint8 scale.
* :class:`QuantizedWrapper` -- ReLU, max-pool, flatten, dropout (eval) on the integers
  directly: they commute with a positive scale, so op(s (q - z)) = s op(q - z).
* :class:`DynamicQuantizedLinear` -- dynamic quantization (``quantize_dynamic``): int8
  weights stored, the float input quantized per batch from its own min/max, a float output.

What a layer *stores* (its ``state_dict``): the int8 weight, a float32 bias and the scale /
zero point arrays -- the bytes counted by :func:`state_nbytes`.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.im2col import BATCH_SECOND, im2col, to_layout
from tinytorch.core.module import Module
from tinytorch.core.tensor import Tensor
from tinytorch.optimization.quantization import (QTensor, calculate_qparams, int_matmul,
                                                 per_channel_affine, per_channel_symmetric,
                                                 qint8, qrange, quantize, quantize_bias, quint8,
                                                 requantize)

__all__ = ["QuantStub", "DeQuantStub", "Quantize", "DeQuantize", "QuantizedLinear",
           "QuantizedConv2d", "QuantizedWrapper", "DynamicQuantizedLinear", "state_nbytes",
           "quantize_weight"]


def state_nbytes(model: Module) -> int:
    """Bytes of everything in ``model.state_dict()``: what a checkpoint of it holds."""
    return int(sum(v.numpy().nbytes for v in model.state_dict().values()))


class QuantStub(Module):
    """Float identity that marks the input of the quantized region (``torch.ao.quantization
    .QuantStub``): ``prepare`` observes its output, ``convert`` turns it into Quantize."""

    def __init__(self, qconfig=None):
        super().__init__()
        if qconfig is not None:
            self.qconfig = qconfig

    def forward(self, x):
        return x


class DeQuantStub(QuantStub):
    """Float identity that marks the output of the quantized region (becomes DeQuantize)."""


class Quantize(Module):
    """Float Tensor -> QTensor with a fixed (calibrated) scale and zero point."""

    def __init__(self, scale, zero_point, dtype=quint8):
        super().__init__()
        self.dtype = dtype
        self.register_buffer("scale", Tensor(np.asarray(scale, np.float32).reshape(1)))
        self.register_buffer("zero_point", Tensor(np.asarray(zero_point, np.int64).reshape(1)))

    def forward(self, x) -> QTensor:
        v = x.numpy() if isinstance(x, Tensor) else np.asarray(x, np.float32)
        s, z = self.scale.numpy()[0], self.zero_point.numpy()[0]
        return QTensor(quantize(v, s, z, self.dtype), s, z, self.dtype)

    @classmethod
    def from_float(cls, mod):
        s, z = mod.activation_post_process.calculate_qparams()
        return cls(s.numpy(), z.numpy(), mod.activation_post_process.dtype)

    def extra_repr(self):
        return f"scale={self.scale.numpy()[0]:.6g}, zero_point={self.zero_point.numpy()[0]}"


class DeQuantize(Module):
    """QTensor -> float Tensor."""

    def forward(self, x):
        return x.dequantize() if isinstance(x, QTensor) else x

    @classmethod
    def from_float(cls, mod):
        return cls()


def quantize_weight(weight: np.ndarray, observer):
    """(int8 weight, scale, zero_point) from a weight observer (per tensor or per channel)."""
    observer(weight)
    s, z = (t.numpy() for t in observer.calculate_qparams())
    per_channel = observer.qscheme in (per_channel_affine, per_channel_symmetric)
    axis = getattr(observer, "ch_axis", 0) if per_channel else None
    q = quantize(weight, s if per_channel else s.reshape(-1)[0],
                 z if per_channel else z.reshape(-1)[0], observer.dtype, axis)
    return q, s.astype(np.float32), z.astype(np.int64)


def _weight_qparams(mod):
    """int8 weight of a float (or QAT) layer, from its qconfig's weight observer (or the QAT
    layer's own fake quantizer, whose range training settled)."""
    w = mod.weight.detach().numpy()
    fq = getattr(mod, "weight_fake_quant", None)
    if fq is not None:
        return quantize_weight(w, fq.activation_post_process)
    return quantize_weight(w, mod.qconfig.weight())


class _QuantizedWeighted(Module):
    """Shared by the quantized Linear and Conv2d: the stored state and its bookkeeping."""

    def _store(self, wq, w_scale, w_zp, bias, out_scale, out_zp, out_dtype=quint8):
        self.out_dtype = out_dtype
        self.register_buffer("weight", Tensor(wq))
        self.register_buffer("bias", None if bias is None else Tensor(np.asarray(bias, np.float32)))
        self.register_buffer("weight_scale", Tensor(np.asarray(w_scale, np.float32).reshape(-1)))
        self.register_buffer("weight_zero_point", Tensor(np.asarray(w_zp, np.int64).reshape(-1)))
        self.register_buffer("scale", Tensor(np.asarray(out_scale, np.float32).reshape(1)))
        self.register_buffer("zero_point", Tensor(np.asarray(out_zp, np.int64).reshape(1)))

    def _accumulate_and_requantize(self, a_q, a_scale, a_zp, wmat_t):
        """(M, K) uint8 activations @ (K, O) int8 weights -> (M, O) uint8 at the output scale."""
        w_scale, w_zp = self.weight_scale.numpy(), self.weight_zero_point.numpy()
        acc = int_matmul(a_q, a_zp, wmat_t, w_zp if w_zp.size > 1 else w_zp[0])  # (M, O) int32
        acc_scale = np.float64(a_scale) * w_scale.astype(np.float64)  # (O,) or (1,)
        if self.bias is not None:
            acc = acc + quantize_bias(self.bias.numpy(), a_scale, w_scale)
        return requantize(acc, acc_scale, self.scale.numpy()[0], self.zero_point.numpy()[0],
                          self.out_dtype)

    def _check_input(self, x):
        if not isinstance(x, QTensor):
            raise TypeError(f"{type(self).__name__} expects a quantized input (QTensor), got "
                            f"{type(x).__name__}: put a QuantStub before it (it becomes "
                            f"Quantize after convert) or use quantize_dynamic")
        if x.axis is not None:
            raise ValueError(f"{type(self).__name__}: the input must be quantized per tensor")

    def extra_repr(self):
        return (f"scale={self.scale.numpy()[0]:.6g}, zero_point={self.zero_point.numpy()[0]}, "
                f"weight per {'channel' if self.weight_scale.numpy().size > 1 else 'tensor'}")


class QuantizedLinear(_QuantizedWeighted):
    """``torch.ao.nn.quantized.Linear``: (*, in) QTensor -> (*, out) QTensor, int8 weights."""

    def __init__(self, in_features, out_features, wq, w_scale, w_zp, bias, out_scale, out_zp,
                 out_dtype=quint8):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self._store(wq, w_scale, w_zp, bias, out_scale, out_zp, out_dtype)

    @classmethod
    def from_float(cls, mod):
        wq, ws, wz = _weight_qparams(mod)
        obs = mod.activation_post_process
        s, z = (t.numpy() for t in obs.calculate_qparams())
        bias = None if mod.bias is None else mod.bias.detach().numpy()
        return cls(mod.in_features, mod.out_features, wq, ws, wz, bias, s, z, obs.dtype)

    def forward(self, x: QTensor) -> QTensor:
        self._check_input(x)
        lead = x.shape[:-1]
        a = x.int_repr().numpy().reshape(-1, self.in_features)  # (M, in) uint8
        out = self._accumulate_and_requantize(a, x.q_scale(), x.q_zero_point(),
                                              self.weight.numpy().T)  # (in, out) int8
        return QTensor(out.reshape(lead + (self.out_features,)), self.scale.numpy()[0],
                       self.zero_point.numpy()[0], self.out_dtype)


class QuantizedConv2d(_QuantizedWeighted):
    """``torch.ao.nn.quantized.Conv2d`` (groups 1, zero padding): (N, C, H, W) QTensor ->
    (N, O, Ho, Wo) QTensor, as im2col + the int8 matmul of QuantizedLinear.

    Padding must stand for 0.0, so it is filled with the input's *zero point*, not with the
    integer 0 (which, for uint8, is the most negative value of the range).
    """

    def __init__(self, conv, wq, w_scale, w_zp, bias, out_scale, out_zp, out_dtype=quint8):
        super().__init__()
        if conv.groups != 1 or conv.padding_mode != "zeros":
            raise NotImplementedError("QuantizedConv2d supports groups=1 and zero padding; got "
                                      f"groups={conv.groups}, padding_mode={conv.padding_mode!r}")
        self.in_channels, self.out_channels = conv.in_channels, conv.out_channels
        self.kernel_size, self.stride, self.dilation = conv.kernel_size, conv.stride, conv.dilation
        self.pads = conv._pads  # (top, bottom, left, right)
        self._store(wq, w_scale, w_zp, bias, out_scale, out_zp, out_dtype)

    @classmethod
    def from_float(cls, mod):
        wq, ws, wz = _weight_qparams(mod)
        obs = mod.activation_post_process
        s, z = (t.numpy() for t in obs.calculate_qparams())
        bias = None if mod.bias is None else mod.bias.detach().numpy()
        return cls(mod, wq, ws, wz, bias, s, z, obs.dtype)

    def forward(self, x: QTensor) -> QTensor:
        self._check_input(x)
        q, zx = x.int_repr().numpy(), x.q_zero_point()
        n, c, h, w = q.shape
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        top, bottom, left, right = self.pads
        qp = np.pad(q, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=zx)
        ho = (h + top + bottom - dh * (kh - 1) - 1) // sh + 1
        wo = (w + left + right - dw * (kw - 1) - 1) // sw + 1
        xw = to_layout(qp, (0, 0, 0, 0), BATCH_SECOND)  # (C, N, Hp, Wp)
        # (C*kh*kw, N*Ho*Wo): every receptive field as a column, still uint8
        cols = im2col(xw, BATCH_SECOND, (kh, kw), (ho, wo), (sh, sw), (dh, dw))
        wmat_t = self.weight.numpy().reshape(self.out_channels, -1).T  # (C*kh*kw, O)
        out = self._accumulate_and_requantize(cols.T, x.q_scale(), zx, wmat_t)  # (N*Ho*Wo, O)
        out = out.reshape(n, ho, wo, self.out_channels).transpose(0, 3, 1, 2)
        return QTensor(np.ascontiguousarray(out), self.scale.numpy()[0],
                       self.zero_point.numpy()[0], self.out_dtype)


class QuantizedWrapper(Module):
    """Runs a float op on the integers of a QTensor: ReLU, max-pool, flatten, dropout in eval.

    These ops commute with a positive scale, op(s (q - z)) = s op(q - z), so the result is
    exact on the same grid: subtract the zero point, apply the op (in float32, where small
    integers are exact), add it back. A float input (outside the quantized region) passes to
    the op unchanged.
    """

    def __init__(self, module: Module):
        super().__init__()
        self.module = module

    def forward(self, x):
        if not isinstance(x, QTensor):
            return self.module(x)
        z = x.q_zero_point()
        v = Tensor(x.int_repr().numpy().astype(np.float32) - np.float32(z))
        out = self.module(v).numpy()
        q = np.clip(np.round(out) + z, x.dtype.qmin, x.dtype.qmax).astype(x.dtype.storage)
        return QTensor(q, x.q_scale(), z, x.dtype)


class DynamicQuantizedLinear(Module):
    """``torch.ao.nn.quantized.dynamic.Linear``: int8 weights, float in, float out.

    Each forward measures the batch's own min/max, quantizes the input to uint8 with it
    (``reduce_range`` 0..127, as PyTorch's x86 kernel), multiplies on the integers with int32
    accumulation and scales the sums back to float: y = acc * s_x * s_w + bias. No calibration
    data needed; the price is a min/max pass over every input.
    """

    def __init__(self, in_features, out_features, wq, w_scale, w_zp, bias,
                 reduce_range: bool = True):
        super().__init__()
        self.in_features, self.out_features, self.reduce_range = (in_features, out_features,
                                                                  reduce_range)
        self.register_buffer("weight", Tensor(wq))
        self.register_buffer("bias", None if bias is None else Tensor(np.asarray(bias, np.float32)))
        self.register_buffer("weight_scale", Tensor(np.asarray(w_scale, np.float32).reshape(-1)))
        self.register_buffer("weight_zero_point", Tensor(np.asarray(w_zp, np.int64).reshape(-1)))

    @classmethod
    def from_float(cls, mod, weight_observer):
        wq, ws, wz = quantize_weight(mod.weight.detach().numpy(), weight_observer)
        bias = None if mod.bias is None else mod.bias.detach().numpy()
        return cls(mod.in_features, mod.out_features, wq, ws, wz, bias)

    def forward(self, x) -> Tensor:
        v = x.numpy() if isinstance(x, Tensor) else np.asarray(x, np.float32)
        if v.shape[-1] != self.in_features:
            raise ValueError(f"DynamicQuantizedLinear: input {v.shape} has {v.shape[-1]} "
                             f"features, the layer expects {self.in_features}")
        lead = v.shape[:-1]
        v = v.reshape(-1, self.in_features)
        qmin, qmax = qrange(quint8, self.reduce_range)
        s, z = calculate_qparams(v.min(), v.max(), quint8, quant_min=qmin, quant_max=qmax)
        xq = quantize(v, s, z, quint8)  # (M, in) uint8
        w_scale, w_zp = self.weight_scale.numpy(), self.weight_zero_point.numpy()
        acc = int_matmul(xq, z, self.weight.numpy().T, w_zp if w_zp.size > 1 else w_zp[0])
        y = (acc * (np.float64(s) * w_scale.astype(np.float64))).astype(np.float32)
        if self.bias is not None:
            y = y + self.bias.numpy()
        return Tensor(y.reshape(lead + (self.out_features,)))

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"dtype={qint8}, weight per "
                f"{'channel' if self.weight_scale.numpy().size > 1 else 'tensor'}")
