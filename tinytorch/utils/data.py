"""``tinytorch.utils.data``: the same objects as :mod:`tinytorch.data` (datasets, samplers,
``DataLoader``) under PyTorch's ``torch.utils.data`` path. A face: re-exports only."""

from tinytorch.data import *  # noqa: F401,F403
from tinytorch.data import __all__  # noqa: F401
