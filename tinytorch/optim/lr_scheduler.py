"""``tinytorch.optim.lr_scheduler``: learning-rate schedules, PyTorch's names. A face."""

from tinytorch.core.schedulers import (CosineAnnealingLR, LambdaLR, LinearLR, LRScheduler,
                                       SequentialLR, StepLR, WarmupCosineLR)
from tinytorch.core.schedulers_extra import (ConstantLR, CosineAnnealingWarmRestarts,
                                             ExponentialLR, MultiStepLR, OneCycleLR,
                                             PolynomialLR, ReduceLROnPlateau)

_LRScheduler = LRScheduler  # PyTorch's older name of the base class

__all__ = ["LRScheduler", "LambdaLR", "StepLR", "CosineAnnealingLR", "LinearLR",
           "SequentialLR", "WarmupCosineLR"]
__all__ += ["ExponentialLR", "MultiStepLR", "OneCycleLR", "ReduceLROnPlateau"]
__all__ += ["ConstantLR", "PolynomialLR", "CosineAnnealingWarmRestarts"]
