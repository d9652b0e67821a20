"""``tinytorch.utils``: PyTorch's ``torch.utils`` spelling. A face: ``utils.data`` is
:mod:`tinytorch.data`, so ``from tinytorch.utils.data import DataLoader`` works as in PyTorch. ``utils.health`` is the training-health coach (``HealthMonitor``, ``lr_find``)."""

from tinytorch.utils import data, health

__all__ = ["data", "health", "flop_counter"]


def __getattr__(name):
    # utils.flop_counter (module 14) imports the ops it counts: loaded on first use only
    if name == "flop_counter":
        import importlib

        return importlib.import_module("tinytorch.utils.flop_counter")
    raise AttributeError(f"module 'tinytorch.utils' has no attribute {name!r}")
