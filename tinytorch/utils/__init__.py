"""``tinytorch.utils``: PyTorch's ``torch.utils`` spelling. A face: ``utils.data`` is
:mod:`tinytorch.data`, so ``from tinytorch.utils.data import DataLoader`` works as in PyTorch. ``utils.health`` is the training-health coach (``HealthMonitor``, ``lr_find``)."""

from tinytorch.utils import data, health

__all__ = ["data", "health"]
