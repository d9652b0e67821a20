"""Module 09 -- channel dropout (``F.dropout2d`` and ``nn.Dropout2d``)."""

from __future__ import annotations

import numpy as np

from tinytorch.core.creation import default_generator
from tinytorch.core.module import Module
from tinytorch.core.tensor import Tensor

__all__ = ["dropout2d", "Dropout2d"]


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False,
              generator=None) -> Tensor:
    """Channel dropout: zero whole feature maps with probability ``p``, PyTorch's ``F.dropout2d``.

    Neighbouring pixels of a feature map are strongly correlated, so dropping single pixels
    (plain dropout) barely regularizes a CNN; dropping the whole channel does. Survivors are
    scaled by 1 / (1 - p). Input (N, C, H, W) or (C, H, W); mask one value per (n, c).
    A 3-D input is one unbatched image (C, H, W): the behaviour PyTorch announces as its
    future one (PyTorch 2.x still reads it as (N, C, L), with a warning).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: probability has to be between 0 and 1, but got {p}")
    if not isinstance(input, Tensor):
        input = Tensor(input)
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 4-D (N, C, H, W) or 3-D (C, H, W) input, got "
                         f"shape {tuple(input.shape)}")
    if not training or p == 0.0:
        return input
    rng = (generator if generator is not None else default_generator).rng
    # BEGIN SOLUTION
    if p == 1.0:
        return input * 0.0
    mask_shape = input.shape[:-2] + (1, 1)  # one draw per (image, channel), broadcast over H, W
    keep = (rng.random(mask_shape) >= p).astype(input.dtype) / np.asarray(1.0 - p, input.dtype)
    return input * Tensor(keep)
    # END SOLUTION


class Dropout2d(Module):
    """Zero whole channels with probability ``p`` while training, ``torch.nn.Dropout2d``."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input) -> Tensor:
        return dropout2d(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
