"""``tinytorch.nn``: layers and modules under PyTorch's names. A face: re-exports only."""

from tinytorch.core.activations import (GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax,
                                        Tanh)
from tinytorch.core.module import Module, Parameter
from tinytorch.nn import functional

__all__ = ["Module", "Parameter", "functional", "ReLU", "LeakyReLU", "GELU", "Sigmoid", "Tanh",
           "SiLU", "Softmax", "LogSoftmax"]
