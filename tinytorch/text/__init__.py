"""``tinytorch.text``: from text to vectors. Tokenizers (module 10) and embeddings (module 11)."""

from tinytorch.text.embeddings import (Embedding, LearnedPositionalEmbedding,
                                       SinusoidalPositionalEncoding, apply_rotary_emb, embedding,
                                       rope, rope_angles, sinusoidal_positional_encoding)
from tinytorch.text.tokenization import (SPECIAL_TOKENS, BPETokenizer, CharTokenizer,
                                         pretokenize)

__all__ = ["CharTokenizer", "BPETokenizer", "SPECIAL_TOKENS", "pretokenize", "Embedding",
           "embedding", "LearnedPositionalEmbedding", "SinusoidalPositionalEncoding",
           "sinusoidal_positional_encoding", "rope", "apply_rotary_emb", "rope_angles"]
