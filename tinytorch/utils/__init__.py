"""``tinytorch.utils``: PyTorch's ``torch.utils`` spelling. A face: ``utils.data`` is
:mod:`tinytorch.data`, so ``from tinytorch.utils.data import DataLoader`` works as in PyTorch."""

from tinytorch.utils import data

__all__ = ["data"]
