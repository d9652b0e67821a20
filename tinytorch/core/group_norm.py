"""Module 09 (given code) -- normalization without the batch: GroupNorm and InstanceNorm.

BatchNorm (``normalization.py``) averages over the batch, so it depends on the batch size and
behaves differently in training and evaluation. GroupNorm (Wu & He, 2018) averages over
groups of channels *within one sample*; InstanceNorm (style transfer) is GroupNorm with one
channel per group:

    x (N, C, *) -> groups (N, G, C/G * prod(*));  y = (x - mean) / sqrt(var + eps)
    then per channel: y * weight[c] + bias[c]

``var`` is the biased (population) variance, as PyTorch. Written with tensor ops (mean, var,
sqrt, reshape): autograd derives the backward, the same chain a fused kernel would hand-code.
InstanceNorm can also track running statistics like BatchNorm (``track_running_stats``).
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.module import Module, Parameter
from tinytorch.core.tensor import Tensor

__all__ = ["group_norm", "instance_norm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d"]


def _affine(y, weight, bias):
    shape = (1, y.shape[1]) + (1,) * (y.ndim - 2)  # (C,) -> (1, C, 1, ...)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalize each sample over groups of channels; input (N, C, *), C divisible by groups."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim < 2:
        raise ValueError(f"group_norm: expected an input (N, C, *), got shape {tuple(x.shape)}")
    n, c = x.shape[:2]
    if c % num_groups:
        raise ValueError(f"group_norm: {c} channels are not divisible into {num_groups} groups")
    g = x.reshape(n, num_groups, -1)
    mean = g.mean(-1, keepdim=True)
    var = g.var(-1, keepdim=True, correction=0)
    y = ((g - mean) / (var + eps).sqrt()).reshape(x.shape)
    return _affine(y, weight, bias)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5):
    """Normalize every channel of every sample on its own; optionally update running stats."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    c = x.shape[1]
    if not use_input_stats:
        shape = (1, c) + (1,) * (x.ndim - 2)
        mean = Tensor(running_mean._data.reshape(shape))
        std = Tensor(np.sqrt(running_var._data + eps).reshape(shape))
        return _affine((x - mean) / std, weight, bias)
    if running_mean is not None:  # batch mean of per-instance stats, unbiased var, as torch
        flat = x._data.reshape(x.shape[0], c, -1)
        m = flat.shape[-1]
        inst_mean = flat.mean(-1).mean(0)
        inst_var = (flat.var(-1) * m / max(m - 1, 1)).mean(0)
        running_mean._data[...] = (1 - momentum) * running_mean._data + momentum * inst_mean
        running_var._data[...] = (1 - momentum) * running_var._data + momentum * inst_var
    return group_norm(x, c, weight, bias, eps)


class GroupNorm(Module):
    """``torch.nn.GroupNorm``: weight (C,) = 1, bias (C,) = 0 when ``affine``."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels, self.eps, self.affine = (num_groups, num_channels,
                                                                     eps, affine)
        dt = np.dtype(dtype or np.float32)
        if affine:
            self.weight = Parameter(np.ones(num_channels, dtype=dt))
            if bias:
                self.bias = Parameter(np.zeros(num_channels, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input) -> Tensor:
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(Module):
    _dims = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None, dtype=None,
                 *, bias: bool = True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dt = np.dtype(dtype or np.float32)
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dt))
            if bias:
                self.bias = Parameter(np.zeros(num_features, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dt)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dt)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, input) -> Tensor:
        x = input if isinstance(input, Tensor) else Tensor(input)
        if x.ndim == self._dims + 1:  # unbatched (C, *)
            return self.forward(x.unsqueeze(0)).squeeze(0)
        if x.ndim != self._dims + 2:
            raise ValueError(f"{type(self).__name__}: expected a {self._dims + 2}-D or "
                             f"{self._dims + 1}-D input, got shape {tuple(x.shape)}")
        # training (or no running stats): the instance's own statistics, updating the running
        # ones if tracked; evaluation with tracked stats: the running ones. (PyTorch keeps
        # num_batches_tracked at 0 for InstanceNorm: it is there for the state_dict keys.)
        if self.training or not self.track_running_stats:
            track = self.track_running_stats
            return instance_norm(x, self.running_mean if track else None,
                                 self.running_var if track else None, self.weight, self.bias,
                                 True, self.momentum, self.eps)
        return instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                             False, self.momentum, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    _dims = 1


class InstanceNorm2d(_InstanceNorm):
    pass
