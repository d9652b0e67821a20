"""Module 04 (given code) -- more losses and distances, under PyTorch's names.

``losses.py`` holds the losses the course teaches (MSE, cross-entropy, BCE). These are the
others tutorials use:

    loss               per element (d = input - target)
    smooth_l1_loss     0.5 d^2 / beta if |d| < beta, else |d| - 0.5 beta   (MSE near 0, L1 far)
    huber_loss         0.5 d^2 if |d| <= delta, else delta (|d| - 0.5 delta)
                       (= delta * smooth_l1 with beta = delta)
    kl_div             target * (log target - input)   (input holds log-probabilities)
    margin_ranking     max(0, -y (x1 - x2) + margin)
    cosine_embedding   1 - cos(x1, x2) if y = 1, max(0, cos(x1, x2) - margin) if y = -1

and the distances ``normalize``, ``cosine_similarity``, ``pairwise_distance``.

The two robust regression losses and ``kl_div`` are Functions (forward and gradient side by
side); the rest are compositions of tensor ops, whose gradients autograd already knows.
"""

from __future__ import annotations

import warnings

import numpy as np

from tinytorch.core.autograd import Function
from tinytorch.core.losses import _Loss, _legacy_reduction, _reduce
from tinytorch.core.module import Module
from tinytorch.core.ops_reduce import vector_norm
from tinytorch.core.tensor import Tensor

__all__ = ["smooth_l1_loss", "huber_loss", "kl_div", "margin_ranking_loss",
           "cosine_embedding_loss", "normalize", "cosine_similarity", "pairwise_distance",
           "SmoothL1Loss", "HuberLoss", "KLDivLoss", "MarginRankingLoss", "CosineEmbeddingLoss",
           "CosineSimilarity", "PairwiseDistance"]


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _pair(input, target, name):
    input, target = _t(input), _t(target)
    if input._data.dtype.kind != "f":
        raise TypeError(f"{name}: input must be a floating point tensor, got {input.dtype}; "
                        "call .float() first")
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(f"{name}: using a target size ({tuple(target.shape)}) that is different "
                      f"to the input size ({tuple(input.shape)}). This will likely lead to "
                      "incorrect results due to broadcasting. Please ensure they have the same "
                      "size.", UserWarning, stacklevel=3)
    return input, target


class SmoothL1Fn(Function):
    """Elementwise Huber-type loss, ``scale`` * smooth_l1(d, beta); d = input - target.

    smooth_l1 = 0.5 d^2 / beta inside |d| < beta, |d| - 0.5 beta outside; its slope is d / beta
    inside and sign(d) outside, so the gradient never exceeds ``scale`` (no exploding update
    from one outlier, the point of the loss). HuberLoss(delta) is delta * smooth_l1(beta=delta).
    """

    @staticmethod
    def forward(ctx, x, y, beta, scale):
        d = x - y
        a = np.abs(d)
        if beta == 0:  # PyTorch: beta = 0 is exactly L1
            inside = np.zeros(d.shape, dtype=bool)
        else:
            inside = a < beta
        out = np.where(inside, 0.5 * d * d / (beta or 1.0), a - 0.5 * beta)
        slope = np.where(inside, d / (beta or 1.0), np.sign(d))
        ctx.save_for_backward(slope * scale)
        return (out * scale).astype(np.result_type(x, y), copy=False)

    @staticmethod
    def backward(ctx, grad):
        (slope,) = ctx.saved_tensors
        g = grad * slope
        return g, -g, None, None


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """Smooth L1 (Fast R-CNN's box loss): quadratic below ``beta``, linear above."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    input, target = _pair(input, target, "smooth_l1_loss")
    return _reduce(SmoothL1Fn.apply(input, target, float(beta), 1.0), reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0,
               weight=None) -> Tensor:
    """Huber loss: 0.5 d^2 for |d| <= delta, delta (|d| - 0.5 delta) beyond."""
    reduction = _legacy_reduction(None, None, reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    input, target = _pair(input, target, "huber_loss")
    loss = SmoothL1Fn.apply(input, target, float(delta), float(delta))
    if weight is not None:
        loss = loss * _t(weight)
    return _reduce(loss, reduction)


class KLDivFn(Function):
    """Pointwise KL term. ``log_target=False``: t (log t - x), defined as 0 where t = 0
    (x log x -> 0); gradients -t (input) and log t + 1 - x (target).
    ``log_target=True`` (target holds log t): e^t (t - x); gradients -e^t and e^t (t - x + 1).
    """

    @staticmethod
    def forward(ctx, x, t, log_target):
        if log_target:
            p = np.exp(t)
            out = p * (t - x)
            ctx.save_for_backward(-p, out + p)
        else:
            log_t = np.log(np.where(t > 0, t, 1.0))  # log 1 = 0 where t <= 0: no warning
            # PyTorch's xlogy(t, t) - t x: 0 log 0 = 0, and nan for a negative "probability"
            xlogy = np.where(t > 0, t * log_t, np.where(t < 0, np.nan, 0.0))
            out = xlogy - t * x
            ctx.save_for_backward(-t, log_t + 1.0 - x)
        return out.astype(np.result_type(x, t), copy=False)

    @staticmethod
    def backward(ctx, grad):
        dx, dt = ctx.saved_tensors
        return grad * dx, grad * dt, None


def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL(target || exp(input)) summed pointwise; ``input`` holds log-probabilities.

    ``reduction='batchmean'`` divides the sum by the batch size (the true KL divergence per
    sample); ``'mean'`` divides by the number of elements, as PyTorch does (and warns).
    """
    if reduction == "batchmean":
        if size_average is not None or reduce is not None:
            reduction = _legacy_reduction(size_average, reduce, "mean", "kl_div")
    else:
        reduction = _legacy_reduction(size_average, reduce, reduction, "kl_div")
    input, target = _t(input), _t(target)
    if input._data.dtype.kind != "f":
        raise TypeError(f"kl_div: input must be a floating point tensor, got {input.dtype}")
    loss = KLDivFn.apply(input, target, bool(log_target))
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning, stacklevel=2)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin: float = 0, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, -y (x1 - x2) + margin): y = 1 wants x1 ranked above x2 by ``margin``."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "margin_ranking_loss")
    x1, x2, y = _t(input1), _t(input2), _t(target)
    if not (x1.ndim == x2.ndim == y.ndim):
        raise RuntimeError(f"margin_ranking_loss: All input tensors should have same "
                           f"dimension but got sizes: input1: {tuple(x1.shape)}, input2: "
                           f"{tuple(x2.shape)}, target: {tuple(y.shape)} ")
    return _reduce((-y * (x1 - x2) + margin).clip(min=0), reduction)


def cosine_embedding_loss(input1, input2, target, margin: float = 0, size_average=None,
                          reduce=None, reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) for pairs labelled 1, max(0, cos - margin) for pairs labelled -1.

    The cosine is PyTorch's: (x1 . x2) / sqrt((|x1|^2 + 1e-12) (|x2|^2 + 1e-12)), over the
    last dimension of (N, D) or (D,) inputs.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction, "cosine_embedding_loss")
    x1, x2, y = _t(input1), _t(input2), _t(target)
    eps = 1e-12
    dot = (x1 * x2).sum(-1)
    cos = dot / (((x1 * x1).sum(-1) + eps) * ((x2 * x2).sum(-1) + eps)).sqrt()
    pos = Tensor((y._data == 1).astype(cos._data.dtype))  # masks: no gradient to labels
    neg = Tensor((y._data == -1).astype(cos._data.dtype))
    loss = pos * (1 - cos) + neg * (cos - margin).clip(min=0)
    return _reduce(loss, reduction)


# --------------------------------------------------------------------------- distances


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """x / max(||x||_p, eps) along ``dim``: unit vectors (zero vectors stay zero)."""
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported; use the returned tensor")
    x = _t(input)
    norm = vector_norm(x, p, dim=dim, keepdim=True)
    return x / norm.clip(min=eps).expand_as(x)


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """cos of the angle between x1 and x2 along ``dim`` (inputs broadcast), PyTorch's way:
    each input divided by max(its norm, eps) first, then the dot product."""
    x1, x2 = _t(x1), _t(x2)
    n1 = vector_norm(x1, 2, dim=dim, keepdim=True).clip(min=eps)
    n2 = vector_norm(x2, 2, dim=dim, keepdim=True).clip(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dimension (eps keeps the gradient finite at 0)."""
    x1, x2 = _t(x1), _t(x2)
    dim = -1 if max(x1.ndim, x2.ndim) > 0 else None
    return vector_norm(x1 - x2 + eps, p, dim=dim, keepdim=keepdim)


# --------------------------------------------------------------------------- nn modules


class SmoothL1Loss(_Loss):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target) -> Tensor:
        return smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target) -> Tensor:
        return huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False):
        if reduction == "batchmean":  # not one of _Loss's three; kl_div knows it
            super().__init__(size_average, reduce, "mean")
            self.reduction = "batchmean"
        else:
            super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target) -> Tensor:
        return kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class MarginRankingLoss(_Loss):
    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target) -> Tensor:
        return margin_ranking_loss(input1, input2, target, self.margin, reduction=self.reduction)


class CosineEmbeddingLoss(MarginRankingLoss):
    def forward(self, input1, input2, target) -> Tensor:
        return cosine_embedding_loss(input1, input2, target, self.margin,
                                     reduction=self.reduction)


class CosineSimilarity(Module):
    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2) -> Tensor:
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2) -> Tensor:
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
