"""``tinytorch.models``: complete models built from the layers (module 13: GPT). A face."""

from tinytorch.models.gpt import GPT
from tinytorch.models.transformer import MLP, CausalSelfAttention, GPTBlock

__all__ = ["GPT", "GPTBlock", "CausalSelfAttention", "MLP"]
