"""``tinytorch.nn.utils``: gradient clipping, PyTorch's names. A face: re-exports only."""

from tinytorch.core.layers_extra import parameters_to_vector, vector_to_parameters
from tinytorch.core.optimizers import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_"]
__all__ += ["parameters_to_vector", "vector_to_parameters"]
