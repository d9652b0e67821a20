"""TinyTorch: a deep-learning framework built from scratch on NumPy, PyTorch-shaped.

    import tinytorch as tt
    x = tt.randn(4, 3, requires_grad=True)
    loss = (x @ tt.randn(3, 2)).relu().sum()
    loss.backward()          # x.grad now holds d(loss)/dx

This file is a face: it only re-exports what the module files define.
"""

import numpy as _np

from tinytorch import autograd
from tinytorch.core.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from tinytorch.core.creation import (Generator, arange, default_generator, empty, eye, full,
                                     full_like, linspace, manual_seed, ones, ones_like, rand,
                                     rand_like, randint, randn, randn_like, randperm, seed, tensor,
                                     zeros, zeros_like)
from tinytorch.core.tensor import Tensor
from tinytorch.core.tensor_functions import (abs, allclose, argmax, argmin, cat, clamp, clip,
                                             concatenate, exp, flatten, is_tensor, log,
                                             log_softmax, matmul, max, maximum, mean, min, minimum,
                                             numel, permute, relu, reshape, sigmoid, softmax, sqrt,
                                             squeeze, stack, std, sum, tanh, transpose, unsqueeze,
                                             var, where)

# dtypes: NumPy's, under PyTorch's names; ``t.dtype == tt.float32`` holds.
float16 = half = _np.float16
float32 = float = _np.float32
float64 = double = _np.float64
int8, int16, int32, int64 = _np.int8, _np.int16, _np.int32, _np.int64
long = int = _np.int64
uint8 = _np.uint8
bool = _np.bool_

__version__ = "0.1.0"


_SUBPACKAGES = ("nn", "optim", "data", "testing", "text", "models", "profiling", "optimization",
                "generation", "benchmarking", "capstone")


def __getattr__(name):
    # ``tt.nn``, ``tt.optim``, ``tt.data`` ... without importing every layer of the stack up
    # front: the engine's bottom layers import (and a learner's workspace runs) without them
    if name in _SUBPACKAGES:
        import importlib

        return importlib.import_module(f"tinytorch.{name}")
    if name in ("save", "load"):
        from tinytorch.core import checkpoint

        return getattr(checkpoint, name)
    raise AttributeError(f"module 'tinytorch' has no attribute {name!r}")
