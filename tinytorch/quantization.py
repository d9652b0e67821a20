"""``tinytorch.quantization``: int8 quantization under PyTorch's names (``torch.ao.quantization``
and the quantized-tensor functions of ``torch``). A face: re-exports only (module 15's code
lives in ``tinytorch/optimization/``)."""

from tinytorch.optimization.fake_quant import (FakeQuantize, fake_quantize_per_channel_affine,
                                               fake_quantize_per_tensor_affine)
from tinytorch.optimization.observers import (MinMaxObserver, MovingAverageMinMaxObserver,
                                              ObserverBase, PercentileObserver,
                                              PerChannelMinMaxObserver, PlaceholderObserver)
from tinytorch.optimization.quantization import (QDtype, QTensor, calculate_qparams, dequantize,
                                                 int_matmul, per_channel_affine,
                                                 per_channel_symmetric, per_tensor_affine,
                                                 per_tensor_symmetric, qint8, qint32, qrange,
                                                 quantize, quantize_per_channel,
                                                 quantize_per_tensor, quint8, requantize)
from tinytorch.optimization.quantize_api import (QATConv2d, QATLinear, QConfig, convert,
                                                 default_dynamic_qconfig,
                                                 default_per_channel_qconfig,
                                                 default_qat_qconfig, default_qconfig,
                                                 fuse_conv_bn, fuse_modules,
                                                 get_default_qat_qconfig, get_default_qconfig,
                                                 prepare, prepare_qat, quantize_dynamic)
from tinytorch.optimization.quantized_layers import (DeQuantize, DeQuantStub,
                                                     DynamicQuantizedLinear, QuantizedConv2d,
                                                     QuantizedLinear, QuantizedWrapper, Quantize,
                                                     QuantStub, state_nbytes)

__all__ = ["FakeQuantize", "fake_quantize_per_tensor_affine", "fake_quantize_per_channel_affine",
           "MinMaxObserver", "MovingAverageMinMaxObserver", "ObserverBase", "PercentileObserver",
           "PerChannelMinMaxObserver", "PlaceholderObserver", "QDtype", "QTensor",
           "calculate_qparams", "dequantize", "int_matmul", "per_channel_affine",
           "per_channel_symmetric", "per_tensor_affine", "per_tensor_symmetric", "qint8",
           "qint32", "qrange", "quantize", "quantize_per_channel", "quantize_per_tensor",
           "quint8", "requantize", "QATConv2d", "QATLinear", "QConfig", "convert",
           "default_dynamic_qconfig", "default_per_channel_qconfig", "default_qat_qconfig",
           "default_qconfig", "get_default_qat_qconfig", "get_default_qconfig", "prepare",
           "prepare_qat", "quantize_dynamic", "fuse_conv_bn", "fuse_modules", "DeQuantize",
           "DeQuantStub",
           "DynamicQuantizedLinear", "QuantizedConv2d", "QuantizedLinear", "QuantizedWrapper",
           "Quantize", "QuantStub", "state_nbytes"]
