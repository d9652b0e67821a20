"""``tinytorch.nn.utils``: gradient clipping, PyTorch's names. A face: re-exports only."""

import sys

from tinytorch.core.layers_extra import parameters_to_vector, vector_to_parameters
from tinytorch.core.optimizers import clip_grad_norm_, clip_grad_value_
from tinytorch.optimization import prune  # module 16: tt.nn.utils.prune, as torch.nn.utils.prune

__all__ = ["clip_grad_norm_", "clip_grad_value_"]
__all__ += ["parameters_to_vector", "vector_to_parameters"]
__all__ += ["prune"]
# `import tinytorch.nn.utils.prune as prune` works too, as in PyTorch (this face is one file)
sys.modules[__name__ + ".prune"] = prune
