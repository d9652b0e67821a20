"""``tinytorch.generation``: faster text generation (module 17: the KV cache). A face.

``GPT.generate(ids, n, use_cache=True)`` is the everyday entry; :class:`KVCache` and
:func:`forward_with_cache` are the parts, for a generation loop of your own.
"""

from tinytorch.generation.cached_forward import (cached_attention, cached_causal_mask,
                                                 cached_self_attention,
                                                 forward_with_cache, greedy_with_cache)
from tinytorch.generation.kv_cache import KVCache

__all__ = ["KVCache", "forward_with_cache", "greedy_with_cache", "cached_self_attention", "cached_attention",
           "cached_causal_mask"]
