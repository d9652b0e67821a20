"""Turning a float model into an int8 one: PyTorch's eager-mode workflow.

Dynamic quantization, one call (int8 weights, activations quantized per batch)::

    qmodel = tt.quantization.quantize_dynamic(model, {nn.Linear}, dtype=tt.qint8)

Static post-training quantization (int8 weights *and* activations; needs calibration data)::

    model = nn.Sequential(QuantStub(), nn.Linear(64, 256), nn.ReLU(), ..., DeQuantStub())
    model.qconfig = tt.quantization.default_qconfig
    prepared = tt.quantization.prepare(model.eval())   # observers after every layer
    for x, _ in calibration_batches: prepared(x)        # they record the ranges
    qmodel = tt.quantization.convert(prepared)          # int8 layers from those ranges

Quantization-aware training: ``prepare_qat`` instead of ``prepare`` (fake quantizers on the
weights and outputs; train a few epochs), then ``convert``.

``prepare``/``prepare_qat``/``convert``/``quantize_dynamic`` return a copy unless
``inplace=True``; they change which modules sit in the model (no class is patched).
"""

from __future__ import annotations

import copy
from collections import namedtuple

import numpy as np

from tinytorch.core.activations import ReLU
from tinytorch.core.conv import Conv2d, conv2d
from tinytorch.core.layers import Dropout, Flatten, Identity, Linear, linear
from tinytorch.core.module import Module, Parameter
from tinytorch.core.normalization import BatchNorm2d
from tinytorch.core.pooling import MaxPool2d
from tinytorch.optimization.fake_quant import FakeQuantize
from tinytorch.optimization.observers import (MinMaxObserver, MovingAverageMinMaxObserver,
                                              PerChannelMinMaxObserver, PlaceholderObserver)
from tinytorch.optimization.quantization import (per_channel_symmetric, per_tensor_symmetric,
                                                 qint8, quint8)
from tinytorch.optimization.quantized_layers import (DeQuantize, DeQuantStub,
                                                     DynamicQuantizedLinear, QuantizedConv2d,
                                                     QuantizedLinear, QuantizedWrapper, Quantize,
                                                     QuantStub)

__all__ = ["QConfig", "default_qconfig", "default_dynamic_qconfig", "default_qat_qconfig",
           "default_per_channel_qconfig", "get_default_qconfig", "get_default_qat_qconfig",
           "prepare", "prepare_qat", "convert", "quantize_dynamic", "QATLinear", "QATConv2d",
           "fuse_conv_bn", "fuse_modules"]

QConfig = namedtuple("QConfig", ["activation", "weight"])
QConfig.__doc__ = ("How to quantize a layer: two factories, one for the observer (or fake "
                   "quantizer) of its output activations, one for its weight's.")

# Activations use all of uint8's 0..255. PyTorch's default_qconfig uses 0..127 (its x86
# kernels sum pairs of products in 16 bits, which the full range can overflow); our int32
# matmul has no such limit. With the same ranges both give the same integers (parity tests):
# QConfig(activation=MinMaxObserver.with_args(quant_min=0, quant_max=127), weight=...)
default_qconfig = QConfig(activation=MinMaxObserver.with_args(dtype=quint8),
                          weight=MinMaxObserver.with_args(dtype=qint8,
                                                          qscheme=per_tensor_symmetric))
default_per_channel_qconfig = QConfig(
    activation=MinMaxObserver.with_args(dtype=quint8),
    weight=PerChannelMinMaxObserver.with_args(dtype=qint8, qscheme=per_channel_symmetric))
default_dynamic_qconfig = QConfig(activation=PlaceholderObserver.with_args(dtype=quint8),
                                  weight=MinMaxObserver.with_args(dtype=qint8,
                                                                  qscheme=per_tensor_symmetric))
default_qat_qconfig = QConfig(
    activation=FakeQuantize.with_args(observer=MovingAverageMinMaxObserver, dtype=quint8),
    weight=FakeQuantize.with_args(observer=MovingAverageMinMaxObserver, dtype=qint8,
                                  qscheme=per_tensor_symmetric))


def get_default_qconfig(backend: str = "x86"):
    """PyTorch's per-backend default: per-channel int8 weights for x86/fbgemm/onednn, per
    tensor for qnnpack. (PyTorch's x86 default also reduces the activation range and uses a
    histogram observer; min/max keeps this one simple.)"""
    if backend in ("x86", "fbgemm", "onednn"):
        return default_per_channel_qconfig
    if backend == "qnnpack":
        return default_qconfig
    raise ValueError(f"get_default_qconfig: unknown backend {backend!r} (x86, fbgemm, onednn, "
                     "qnnpack)")


def get_default_qat_qconfig(backend: str = "x86"):
    get_default_qconfig(backend)  # same backend check
    return default_qat_qconfig


# --------------------------------------------------------------------------- QAT layers


class QATLinear(Linear):
    """``torch.ao.nn.qat.Linear``: a float Linear whose weight is fake-quantized in forward."""

    @classmethod
    def from_float(cls, mod):
        new = cls(mod.in_features, mod.out_features, bias=mod.bias is not None)
        new.weight, new.bias, new.qconfig = mod.weight, mod.bias, mod.qconfig
        new.weight_fake_quant = mod.qconfig.weight()
        return new

    def forward(self, input):
        return linear(input, self.weight_fake_quant(self.weight), self.bias)


class QATConv2d(Conv2d):
    """``torch.ao.nn.qat.Conv2d``: a float Conv2d whose weight is fake-quantized in forward."""

    @classmethod
    def from_float(cls, mod):
        new = cls(mod.in_channels, mod.out_channels, mod.kernel_size, mod.stride, mod.padding,
                  mod.dilation, mod.groups, bias=mod.bias is not None,
                  padding_mode=mod.padding_mode)
        new.weight, new.bias, new.qconfig = mod.weight, mod.bias, mod.qconfig
        new.weight_fake_quant = mod.qconfig.weight()
        return new

    def forward(self, input):
        if self.padding_mode != "zeros":
            raise NotImplementedError("QATConv2d supports zero padding only")
        return conv2d(input, self.weight_fake_quant(self.weight), self.bias, self.stride,
                      self.padding, self.dilation, self.groups)


# --------------------------------------------------------------------------- prepare / convert

OBSERVED = (Linear, Conv2d, QuantStub)  # layers whose outputs get an observer (QATs subclass)
STATIC_MAPPING = {Linear: QuantizedLinear, Conv2d: QuantizedConv2d, QATLinear: QuantizedLinear,
                  QATConv2d: QuantizedConv2d, QuantStub: Quantize, DeQuantStub: DeQuantize}
ON_INTEGERS = (ReLU, MaxPool2d, Flatten, Identity, Dropout)  # run on the integers, exactly
QAT_MAPPING = {Linear: QATLinear, Conv2d: QATConv2d}


def _observe_output(module, args, output):
    return module.activation_post_process(output)


def _propagate_qconfig(module, parent_qconfig=None):
    qconfig = module.__dict__.get("qconfig", parent_qconfig)
    module.qconfig = qconfig
    for child in module.children():
        _propagate_qconfig(child, qconfig)


def _attach_observers(module):
    for child in module.children():
        _attach_observers(child)
    if (isinstance(module, OBSERVED) and not isinstance(module, DeQuantStub)
            and module.qconfig is not None and "activation_post_process" not in module._modules):
        module.activation_post_process = module.qconfig.activation()
        module.register_forward_hook(_observe_output)


def prepare(model: Module, inplace: bool = False) -> Module:
    """Attach an output observer (``qconfig.activation()``) to every Linear, Conv2d and
    QuantStub whose ``qconfig`` (set on the model or a submodule, inherited downwards) is not
    None. Run calibration data through the result, then :func:`convert`."""
    if not inplace:
        model = copy.deepcopy(model)
    _propagate_qconfig(model)
    if model.qconfig is None and not any(m.qconfig for m in model.modules()):
        raise ValueError("prepare: no qconfig set; assign model.qconfig = "
                         "tt.quantization.default_qconfig (or get_default_qconfig('x86')) first")
    _attach_observers(model)
    return model


def prepare_qat(model: Module, inplace: bool = False) -> Module:
    """Swap Linear/Conv2d for their QAT versions (fake-quantized weights) and attach fake
    quantizers to their outputs; train the result (in train mode), then :func:`convert`."""
    if not inplace:
        model = copy.deepcopy(model)
    _propagate_qconfig(model)
    _swap(model, lambda m: QAT_MAPPING[type(m)].from_float(m)
          if type(m) in QAT_MAPPING and m.qconfig is not None else None)
    _attach_observers(model)
    return model


def _swap(module, replace):
    for name, child in list(module.named_children()):
        new = replace(child)
        if new is None:
            _swap(child, replace)
        else:
            setattr(module, name, new)


def _static_replacement(m):
    if type(m) in STATIC_MAPPING and "activation_post_process" in m._modules:
        return STATIC_MAPPING[type(m)].from_float(m)
    if type(m) is DeQuantStub:
        return DeQuantize()
    if type(m) in ON_INTEGERS:
        return QuantizedWrapper(m)
    return None


def convert(model: Module, inplace: bool = False) -> Module:
    """Replace every observed layer by its quantized version, using the ranges its observer
    recorded: Linear -> QuantizedLinear, Conv2d -> QuantizedConv2d, QuantStub -> Quantize,
    DeQuantStub -> DeQuantize; ReLU/MaxPool2d/Flatten/Identity/Dropout run on the integers."""
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    _swap(model, _static_replacement)
    return model


def quantize_dynamic(model: Module, qconfig_spec=None, dtype=qint8, inplace: bool = False):
    """``torch.ao.quantization.quantize_dynamic``: every Linear (the only type supported, as in
    ``qconfig_spec={nn.Linear}``) becomes a DynamicQuantizedLinear with int8 weights.

    ``qconfig_spec``: a set of layer types, or a dict {type or submodule name: QConfig}.
    """
    if dtype is not qint8:
        raise NotImplementedError(f"quantize_dynamic: dtype {dtype} is not supported; use "
                                  "tt.qint8")
    if qconfig_spec is None:
        qconfig_spec = {Linear}
    if not isinstance(qconfig_spec, dict):
        qconfig_spec = {t: default_dynamic_qconfig for t in qconfig_spec}
    for key in qconfig_spec:
        if isinstance(key, type) and key is not Linear:
            raise NotImplementedError(f"quantize_dynamic: only nn.Linear layers can be "
                                      f"dynamically quantized, got {key.__name__}")
    if not inplace:
        model = copy.deepcopy(model)
    names = {id(m): n for n, m in model.named_modules()}

    def replace(m):
        if not isinstance(m, Linear) or isinstance(m, QATLinear):
            return None
        qconfig = qconfig_spec.get(names.get(id(m)), qconfig_spec.get(type(m)))
        if qconfig is None:
            return None
        return DynamicQuantizedLinear.from_float(m, qconfig.weight())

    if isinstance(model, Linear):
        return replace(model)
    _swap(model, replace)
    return model



# --------------------------------------------------------------------------- fusion


def fuse_conv_bn(conv: Conv2d, bn: BatchNorm2d) -> Conv2d:
    """One Conv2d that computes bn(conv(x)) in eval mode: the batch norm folded into the
    weights, w' = w * g / sqrt(var + eps) per output channel, b' = (b - mean) * g /
    sqrt(var + eps) + beta. Quantizing the folded layer quantizes what inference computes
    (PyTorch's ``fuse_conv_bn_eval``)."""
    if bn.training or conv.training:
        raise ValueError("fuse_conv_bn: call model.eval() first (the running statistics are "
                         "folded, not the batch's)")
    g = bn.weight.numpy() if bn.weight is not None else np.ones(conv.out_channels, np.float32)
    beta = bn.bias.numpy() if bn.bias is not None else np.zeros(conv.out_channels, np.float32)
    factor = g / np.sqrt(bn.running_var.numpy() + bn.eps)  # (O,)
    b = conv.bias.numpy() if conv.bias is not None else np.zeros(conv.out_channels, np.float32)
    fused = copy.deepcopy(conv)
    fused.weight = Parameter((conv.weight.numpy() * factor[:, None, None, None]).astype(np.float32))
    fused.bias = Parameter(((b - bn.running_mean.numpy()) * factor + beta).astype(np.float32))
    return fused.eval()


def fuse_modules(model: Module, modules_to_fuse, inplace: bool = False) -> Module:
    """``torch.ao.quantization.fuse_modules`` for [conv, bn] (and [conv, bn, relu]) groups of
    submodule names: the conv becomes the folded conv, the bn an Identity (a relu stays as
    it is: it runs on the integers after convert)."""
    if not inplace:
        model = copy.deepcopy(model)
    groups = [modules_to_fuse] if isinstance(modules_to_fuse[0], str) else modules_to_fuse
    for names in groups:
        conv, bn = model.get_submodule(names[0]), model.get_submodule(names[1])
        if not (isinstance(conv, Conv2d) and isinstance(bn, BatchNorm2d)):
            raise NotImplementedError(f"fuse_modules: only [Conv2d, BatchNorm2d(, ReLU)] groups "
                                      f"are supported, got {type(conv).__name__}, "
                                      f"{type(bn).__name__}")
        for name, new in ((names[0], fuse_conv_bn(conv, bn)), (names[1], Identity())):
            parent_name, _, leaf = name.rpartition(".")
            setattr(model.get_submodule(parent_name) if parent_name else model, leaf, new)
    return model
