"""Module 09 -- batch normalization: keep every channel's activations centred and scaled.

During training, BatchNorm normalizes each channel with the mean and variance of the current
batch, then lets the network rescale it with a learned ``weight`` (gamma) and ``bias`` (beta):

    xhat = (x - mean_batch) / sqrt(var_batch + eps)        y = gamma * xhat + beta

The statistics are taken over every axis except the channel axis (N for (N, C); N and L for
(N, C, L); N, H and W for (N, C, H, W)). Because the mean and variance depend on every sample
of the batch, the gradient of one output flows to every input of its channel; the fused
backward below does that in three reductions instead of recording a dozen small ops.

At evaluation time there may be a single image, so BatchNorm uses *running* estimates that
training kept up to date (exponential moving averages with factor ``momentum``; the variance
estimate is the unbiased one, n/(n-1) times the batch variance), exactly as PyTorch does.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core import init
from tinytorch.core.autograd import Function
from tinytorch.core.module import Module, Parameter
from tinytorch.core.tensor import Tensor

__all__ = ["batch_norm", "BatchNorm1d", "BatchNorm2d"]


class BatchNormFn(Function):
    """y = xhat * weight + bias with xhat = (x - mean) * invstd, per channel.

    Inputs: x (N, C, *), weight (C,) or None, bias (C,) or None, then the per-channel
    ``mean`` and ``var`` (arrays, broadcastable to x), ``eps``, the reduction ``axes`` and
    ``batch_stats``: True when mean/var were computed from this very x (training), so the
    backward must go through them; False when they are running estimates (constants).
    """

    @staticmethod
    def forward(ctx, x, weight, bias, mean, var, eps, axes, batch_stats):
        shape = [1] * x.ndim
        shape[1] = x.shape[1]  # (1, C, 1, 1): broadcasts a per-channel value over N, H, W
        # BEGIN SOLUTION
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
        xhat = (x - mean) * invstd
        y = xhat if weight is None else xhat * weight.reshape(shape)
        if bias is not None:
            y = y + bias.reshape(shape)
        # END SOLUTION
        ctx.save_for_backward(xhat, invstd, weight)
        ctx.conf = (shape, axes, batch_stats)
        return y

    @staticmethod
    def backward(ctx, grad):
        xhat, invstd, weight = ctx.saved_tensors
        shape, axes, batch_stats = ctx.conf
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        scale = invstd if weight is None else invstd * weight.reshape(shape)  # dy/dx at fixed stats
        # BEGIN SOLUTION
        dbias = grad.sum(axis=axes)  # (C,)
        dweight = (grad * xhat).sum(axis=axes)  # (C,)
        dx = None
        if need_x:
            if batch_stats:
                # mean and var move with x. With m values per channel:
                #   dx = gamma * invstd * (g - mean(g) - xhat * mean(g * xhat))
                m = grad.size // grad.shape[1]
                dx = (grad - (dbias / m).reshape(shape)
                      - xhat * (dweight / m).reshape(shape)) * scale
            else:
                dx = grad * scale  # running statistics are constants
        # END SOLUTION
        return (dx, dweight if need_w else None, dbias if need_b else None,
                None, None, None, None, None)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalization, PyTorch's ``F.batch_norm``.

    Args:
        input: (N, C), (N, C, L) or (N, C, H, W).
        running_mean, running_var: (C,) Tensors or None. With ``training=True`` they are
            updated in place (if given); with ``training=False`` they normalize the input.
        weight, bias: (C,) learned scale and shift, or None (no affine transform).
        training: normalize with the statistics of this batch.
        momentum: factor of the running update: ``running = (1 - momentum) * running +
            momentum * batch_stat`` (the running variance uses the unbiased batch variance).
        eps: added to the variance for numerical stability.
    Returns:
        a Tensor shaped like ``input``.
    """
    op = "batch_norm"
    if not isinstance(input, Tensor):
        input = Tensor(input)
    if input.ndim < 2:
        raise ValueError(f"{op}: expected an input of shape (N, C, ...), got {tuple(input.shape)}")
    c = input.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(f"{op}: {name} of shape {tuple(t.shape)} does not match the "
                             f"{c} channels of the input {tuple(input.shape)} (axis 1)")
    axes = (0,) + tuple(range(2, input.ndim))
    shape = [1] * input.ndim
    shape[1] = c
    x = input._data
    if training:
        count = x.size // c
        if count <= 1:
            raise ValueError(f"{op}: expected more than 1 value per channel when training, got "
                             f"input of shape {tuple(input.shape)}; use a batch of 2 or more, "
                             f"or call model.eval() for single samples")
        # BEGIN SOLUTION
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)  # biased: what normalizes
        if running_mean is not None:
            running_mean._data[...] = ((1 - momentum) * running_mean._data
                                      + momentum * mean.reshape(c))
        if running_var is not None:
            unbiased = var.reshape(c) * (count / (count - 1))
            running_var._data[...] = (1 - momentum) * running_var._data + momentum * unbiased
        # END SOLUTION
    else:
        if running_mean is None or running_var is None:
            raise ValueError(f"{op}: training=False needs running_mean and running_var")
        mean = running_mean._data.reshape(shape)
        var = running_var._data.reshape(shape)
    return BatchNormFn.apply(input, weight, bias, mean.astype(x.dtype, copy=False),
                             var.astype(x.dtype, copy=False), eps, axes, training)


class _BatchNorm(Module):
    """Shared by BatchNorm1d and BatchNorm2d: parameters, buffers and PyTorch's train/eval logic.

    Args (PyTorch's): num_features (C), eps, momentum (None: cumulative average), affine
    (learn weight and bias), track_running_stats, and keyword-only ``bias`` (False: affine
    with a scale only).

    state_dict keys (PyTorch's): ``weight``, ``bias`` (if affine), ``running_mean``,
    ``running_var``, ``num_batches_tracked`` (if track_running_stats).
    """

    _dims: tuple = ()
    _layout: str = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None, dtype=None,
                 *, bias: bool = True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = np.dtype(dtype or np.float32)
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dtype))
            if bias:  # PyTorch 2.x: affine=True, bias=False learns a scale only
                self.bias = Parameter(np.zeros(num_features, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input(self, input) -> None:
        name = type(self).__name__
        if input.ndim not in self._dims:
            raise ValueError(f"{name}: expected {self._layout} input, got shape "
                             f"{tuple(input.shape)} ({input.ndim}-D)")
        if input.shape[1] != self.num_features:
            raise ValueError(f"{name}({self.num_features}): input of shape {tuple(input.shape)} "
                             f"has {input.shape[1]} channels (axis 1), expected "
                             f"{self.num_features}; check num_features against the layer before")

    def forward(self, input) -> Tensor:
        if not isinstance(input, Tensor):
            input = Tensor(input)
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data[...] += 1
            if self.momentum is None:  # cumulative moving average: equal weight to every batch
                factor = 1.0 / float(self.num_batches_tracked._data)
        # batch statistics while training, and always when there are no running estimates
        use_batch = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return batch_norm(input, self.running_mean if track else None,
                          self.running_var if track else None, self.weight, self.bias,
                          use_batch, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) inputs, ``torch.nn.BatchNorm1d``; statistics per C."""

    _dims = (2, 3)
    _layout = "2-D (N, C) or 3-D (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) images, ``torch.nn.BatchNorm2d``; statistics per channel
    over N, H and W."""

    _dims = (4,)
    _layout = "4-D (N, C, H, W)"
