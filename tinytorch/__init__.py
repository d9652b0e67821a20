"""TinyTorch: a deep-learning framework built from scratch on NumPy, PyTorch-shaped.

    import tinytorch as tt
    x = tt.randn(4, 3, requires_grad=True)
    loss = (x @ tt.randn(3, 2)).relu().sum()
    loss.backward()          # x.grad now holds d(loss)/dx

This file is a face: it only re-exports what the module files define.
"""

import numpy as _np

from tinytorch import _allocator

_allocator.configure()  # keep freed multi-MB arrays for the next step (TINYTORCH_MALLOC=0: off)

from tinytorch import autograd  # noqa: E402
from tinytorch.core.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from tinytorch.core.creation import (Generator, arange, as_tensor, default_generator, empty,
                                     empty_like, eye, from_numpy, full, full_like, get_rng_state,
                                     initial_seed, linspace, manual_seed, ones, ones_like, rand,
                                     rand_like, randint, randint_like, randn, randn_like, randperm,
                                     seed, set_rng_state, tensor, zeros, zeros_like)
from tinytorch.core.device import (accelerator, amp, autocast, backends, compile, cuda,
                                   device, get_default_device, mps, set_default_device)
from tinytorch.core.dtypes import (get_default_dtype, is_complex, is_floating_point,
                                   set_default_dtype)
from tinytorch.core.tensor import Tensor
from tinytorch.core.size import Size
from tinytorch.core.compat_api import (BoolTensor, ByteTensor, CharTensor, DoubleTensor,
                                       FloatTensor, HalfTensor, IntTensor, LongTensor,
                                       ShortTensor, are_deterministic_algorithms_enabled,
                                       get_num_interop_threads, get_num_threads, inference_mode,
                                       is_inference_mode_enabled, set_num_interop_threads,
                                       set_num_threads, set_printoptions, typename,
                                       use_deterministic_algorithms, equal)
from tinytorch.core.tensor_functions import (abs, allclose, argmax, argmin, cat, clamp, clip,
                                             concatenate, exp, flatten, is_tensor, log,
                                             log_softmax, matmul, max, maximum, mean, min, minimum,
                                             numel, permute, relu, reshape, sigmoid, softmax, sqrt,
                                             squeeze, stack, std, sum, tanh, transpose, unsqueeze,
                                             var, where)
from tinytorch.core.tensor_functions import *  # noqa: F401,F403 -- the op families' names

# dtypes: NumPy's, under PyTorch's names (tt.int is int32, tt.long int64, as in PyTorch);
# names NumPy lacks (bfloat16) exist and raise a clear error when used: see core/dtypes.py
from tinytorch.core.dtypes import NAMES as _DTYPES

globals().update(_DTYPES)
dtype = type(_np.float32)  # isinstance(x, tt.dtype) for the NumPy scalar types
finfo, iinfo = _np.finfo, _np.iinfo

__version__ = "0.1.0"


_SUBPACKAGES = ("nn", "optim", "data", "testing", "text", "models", "profiling", "optimization",
                "generation", "benchmarking", "capstone", "linalg", "utils", "distributions",
                "quantization", "profiler")
# quantized dtypes and schemes (module 15), as torch.qint8 / torch.per_tensor_affine
_QUANT_NAMES = ("qint8", "quint8", "qint32", "per_tensor_affine", "per_tensor_symmetric",
                "per_channel_affine", "per_channel_symmetric", "quantize_per_tensor",
                "quantize_per_channel", "fake_quantize_per_tensor_affine",
                "fake_quantize_per_channel_affine")


def __getattr__(name):
    # ``tt.nn``, ``tt.optim``, ``tt.data`` ... without importing every layer of the stack up
    # front: the engine's bottom layers import (and a learner's workspace runs) without them
    if name in _SUBPACKAGES:
        import importlib

        return importlib.import_module(f"tinytorch.{name}")
    if name in _QUANT_NAMES:
        from tinytorch import quantization

        return getattr(quantization, name)
    if name in ("save", "load"):
        from tinytorch.core import checkpoint

        return getattr(checkpoint, name)
    raise AttributeError(f"module 'tinytorch' has no attribute {name!r}")
