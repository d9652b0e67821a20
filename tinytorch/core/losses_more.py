"""Module 04 (given code) -- the less common losses of ``torch.nn``, under PyTorch's names.

Margin losses for ranking and metric learning, and two likelihoods:

    loss                        per element / per sample
    soft_margin_loss            log(1 + exp(-y x))                          (y = +-1)
    hinge_embedding_loss        x if y = 1;  max(0, margin - x) if y = -1
    multilabel_soft_margin      -mean_c [y log s(x) + (1 - y) log s(-x)]    (s = sigmoid)
    triplet_margin_loss         max(0, d(a, p) - d(a, n) + margin)
    poisson_nll_loss            exp(x) - y x    (x = log rate; or x - y log(x + eps))
    gaussian_nll_loss           0.5 (log var + (x - y)^2 / var)

All are compositions of ops that already have gradients (softplus, logsigmoid, the pairwise
distance, clip): the formulas are the whole implementation.
"""

from __future__ import annotations

import math

import numpy as np

from tinytorch.core.activations_extra import logsigmoid, softplus
from tinytorch.core.losses import _legacy_reduction, _Loss, _reduce
from tinytorch.core.losses_extra import pairwise_distance
from tinytorch.core.tensor import Tensor

__all__ = ["soft_margin_loss", "hinge_embedding_loss", "multilabel_soft_margin_loss",
           "triplet_margin_loss", "poisson_nll_loss", "gaussian_nll_loss", "SoftMarginLoss",
           "HingeEmbeddingLoss", "MultiLabelSoftMarginLoss", "TripletMarginLoss",
           "PoissonNLLLoss", "GaussianNLLLoss"]


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def soft_margin_loss(input, target, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """log(1 + exp(-y x)) for labels y in {-1, 1}: a smooth hinge (softplus(-y x))."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "soft_margin_loss")
    return _reduce(softplus(-_t(target) * _t(input)), reduction)


def hinge_embedding_loss(input, target, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """x where y = 1, max(0, margin - x) where y = -1 (x is usually a distance)."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "hinge_embedding_loss")
    x, y = _t(input), _t(target)
    not_pos = Tensor((y._data != 1).astype(x._data.dtype))  # PyTorch: target != 1 takes the
    not_neg = Tensor((y._data != -1).astype(x._data.dtype))  # margin, target != -1 takes x
    return _reduce(not_pos * (margin - x).clip(min=0) + not_neg * x, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    """Binary cross-entropy with logits per class, averaged over the C classes of each sample:
    input and target (N, C), target in {0, 1}."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "multilabel_soft_margin_loss")
    x, y = _t(input), _t(target)
    loss = -(y * logsigmoid(x) + (1 - y) * logsigmoid(-x))
    if weight is not None:
        loss = loss * _t(weight)
    loss = loss.sum(-1) / x.shape[-1]
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin), d the p-norm distance of :func:`pairwise_distance`;
    ``swap`` uses min(d(a, n), d(p, n)) as the negative distance (Balntas et al., 2016)."""
    reduction = _legacy_reduction(size_average, reduce, reduction, "triplet_margin_loss")
    if margin <= 0:
        raise ValueError(f"triplet_margin_loss: expected margin to be greater than 0, got "
                         f"{margin} instead")
    a, pos, neg = _t(anchor), _t(positive), _t(negative)
    d_pos = pairwise_distance(a, pos, p, eps)
    d_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = d_neg.minimum(pairwise_distance(pos, neg, p, eps))
    return _reduce((margin + d_pos - d_neg).clip(min=0), reduction)


def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of counts y under a Poisson of rate exp(x) (``log_input``) or x.

    ``full`` adds Stirling's approximation of log(y!) where y > 1, as PyTorch does.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction, "poisson_nll_loss")
    x, y = _t(input), _t(target)
    loss = x.exp() - y * x if log_input else x - y * (x + eps).log()
    if full:
        ya = y._data
        safe = np.where(ya > 1, ya, 2.0)  # the term is only added where y > 1
        stirling = np.where(ya > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe),
                            0.0)
        loss = loss + Tensor(stirling.astype(x._data.dtype))
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of target under N(input, var): 0.5 (log var + (x - y)^2 / var).

    ``var`` has the input's shape, or one fewer trailing dimension (one variance per sample),
    or a last dimension of 1. It is clamped at ``eps`` for stability with the gradient passing
    as if unclamped (PyTorch clamps under no_grad). ``full`` adds 0.5 log(2 pi).
    """
    reduction = _legacy_reduction(None, None, reduction, "gaussian_nll_loss")
    x, y = _t(input), _t(target)
    v = var if isinstance(var, Tensor) else Tensor(np.asarray(var, dtype=x._data.dtype))
    if v.ndim and tuple(v.shape) != tuple(x.shape):
        if tuple(x.shape[:-1]) == tuple(v.shape):
            v = v.unsqueeze(-1)
        elif not (tuple(x.shape[:-1]) == tuple(v.shape[:-1]) and v.shape[-1] == 1):
            raise ValueError(f"gaussian_nll_loss: var of shape {tuple(v.shape)} is not "
                             f"compatible with input {tuple(x.shape)}")
    if np.any(v._data < 0):
        raise ValueError("var has negative entry/entries")
    # clamp the value, keep the gradient: v + (max(v, eps) - v), the difference constant
    v = v + Tensor(np.maximum(v._data, eps) - v._data)
    loss = 0.5 * (v.log() + (x - y) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# --------------------------------------------------------------------------- nn modules


class SoftMarginLoss(_Loss):
    def forward(self, input, target) -> Tensor:
        return soft_margin_loss(input, target, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    def __init__(self, margin: float = 1.0, size_average=None, reduce=None,
                 reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target) -> Tensor:
        return hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", None if weight is None else _t(weight))

    def forward(self, input, target) -> Tensor:
        return multilabel_soft_margin_loss(input, target, self.weight, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                 size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got "
                             f"{margin} instead")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative) -> Tensor:
        return triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps,
                                   self.swap, reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    def __init__(self, log_input: bool = True, full: bool = False, size_average=None,
                 eps: float = 1e-8, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target) -> Tensor:
        return poisson_nll_loss(log_input, target, self.log_input, self.full, eps=self.eps,
                                reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var) -> Tensor:
        return gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)
