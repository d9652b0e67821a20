"""``tinytorch.utils.flop_counter``: PyTorch's ``torch.utils.flop_counter`` spelling. A face
over :mod:`tinytorch.profiling.flop_counter`."""

from tinytorch.profiling.flop_counter import FlopCounterMode

__all__ = ["FlopCounterMode"]
