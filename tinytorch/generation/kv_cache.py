"""Module 17 -- memoization: the KV cache, so each generated token is computed once.

A GPT generating text feeds its whole context through every layer for every new token,
though the keys and values of the old positions never change: with causal attention, the
key and value at position j depend on tokens 0..j only. So keep them. A :class:`KVCache`
holds, for every layer, preallocated arrays

    keys[layer], values[layer]: (batch, heads, max_seq_len, head_dim)

and a position counter per layer: how many positions are filled. A forward step with T new
tokens (the whole prompt at first -- the *prefill* --, then one token at a time) computes
q, k, v for the new positions only, writes k and v at positions ``n .. n + T - 1``
(:meth:`KVCache.update`), and attends with its T queries over the valid prefix ``0 .. n + T -
1``. Per new token the model then does O(n) work in attention and O(1) everywhere else,
instead of O(n^2) and O(n).

The price is memory, allocated once and reported from the arrays themselves
(:attr:`KVCache.nbytes`): ``2 * layers * batch * max_seq_len * d_model * itemsize`` bytes.

The arrays are plain NumPy: the cache is for inference (the model's forward with a cache runs
under ``no_grad``; see ``cached_forward.py``). Its shape follows the "static cache" of Hugging
Face ``transformers`` (``update(key, value, layer_idx)`` returning the keys and values to
attend over, ``get_seq_length()``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["KVCache"]


class KVCache:
    """Keys and values of every layer, preallocated for ``max_seq_len`` positions.

    Args:
        n_layers: transformer blocks (one key array and one value array each).
        batch_size: sequences generated side by side.
        n_heads, head_dim: the attention heads and their width (n_heads * head_dim = d_model).
        max_seq_len: positions the cache can hold (prompt + generated tokens fed back).
        dtype: of the arrays (the model's, float32 by default).

    Attributes:
        keys, values: lists of ``n_layers`` arrays (batch, heads, max_seq_len, head_dim);
            only the first ``get_seq_length(layer)`` positions hold data.
    """

    def __init__(self, n_layers: int, batch_size: int, n_heads: int, max_seq_len: int,
                 head_dim: int, dtype=np.float32):
        for name, v in (("n_layers", n_layers), ("batch_size", batch_size),
                        ("n_heads", n_heads), ("max_seq_len", max_seq_len),
                        ("head_dim", head_dim)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"KVCache: {name} must be a positive integer, got {v!r}")
        self.n_layers, self.batch_size, self.n_heads = int(n_layers), int(batch_size), int(n_heads)
        self.max_seq_len, self.head_dim = int(max_seq_len), int(head_dim)
        self.dtype = np.dtype(dtype)
        shape = (self.batch_size, self.n_heads, self.max_seq_len, self.head_dim)
        # allocated once, up front: no step ever copies the past to grow an array
        self.keys = [np.zeros(shape, self.dtype) for _ in range(self.n_layers)]
        self.values = [np.zeros(shape, self.dtype) for _ in range(self.n_layers)]
        self.lengths = [0] * self.n_layers  # positions filled, per layer

    @classmethod
    def for_model(cls, model, batch_size: int, max_seq_len: int | None = None) -> "KVCache":
        """A cache shaped for a :class:`~tinytorch.models.GPT` (its layers, heads, width and
        dtype); ``max_seq_len`` defaults to the model's and may not exceed it (the position
        table has no rows beyond)."""
        limit = model.max_seq_len
        n = limit if max_seq_len is None else max_seq_len
        if not isinstance(n, (int, np.integer)) or n <= 0 or n > limit:
            raise ValueError(f"KVCache.for_model: max_seq_len must be in 1..{limit} (the "
                             f"model's max_seq_len), got {max_seq_len!r}")
        dtype = model.tok_emb.weight._data.dtype
        return cls(model.n_layers, batch_size, model.n_heads, int(n),
                   model.d_model // model.n_heads, dtype)

    # ------------------------------------------------------------------ the cache

    def get_seq_length(self, layer: int = 0) -> int:
        """How many positions of ``layer`` are filled (the next write goes there)."""
        return self.lengths[self._check_layer(layer)]

    def update(self, layer: int, key, value):
        """Write the keys and values of T new positions; return the layer's valid prefix.

        Args:
            layer: which block (0 .. n_layers - 1).
            key, value: arrays (batch, heads, T, head_dim) for positions n .. n + T - 1,
                where n = ``get_seq_length(layer)``.
        Returns:
            (keys, values): views (batch, heads, n + T, head_dim) of everything this layer
            has seen, the new positions included -- what the T new queries attend over.
        Raises:
            ValueError: past ``max_seq_len``, or a shape that does not fit the cache.
        """
        layer = self._check_layer(layer)
        k, v = np.asarray(key), np.asarray(value)
        B, H, D = self.batch_size, self.n_heads, self.head_dim
        for name, a in (("key", k), ("value", v)):
            if a.ndim != 4 or a.shape[0] != B or a.shape[1] != H or a.shape[3] != D:
                raise ValueError(f"KVCache.update: {name} of shape {tuple(a.shape)} does not fit "
                                 f"a cache of (batch={B}, heads={H}, seq, head_dim={D}); pass "
                                 f"(batch, heads, new_positions, head_dim)")
        if k.shape != v.shape:
            raise ValueError(f"KVCache.update: key {tuple(k.shape)} and value "
                             f"{tuple(v.shape)} must have the same shape")
        start, T = self.lengths[layer], k.shape[2]
        if start + T > self.max_seq_len:
            raise ValueError(
                f"KVCache: layer {layer} holds {start} positions; {T} more make {start + T}, "
                f"past the cache's max_seq_len={self.max_seq_len}. Create the cache with a "
                f"larger max_seq_len (up to the model's), generate fewer tokens or use a "
                f"shorter prompt, or call reset() to start a new sequence")
        # yours: k, v into positions start .. start + T - 1 of this layer; advance its counter
        # BEGIN SOLUTION
        self.keys[layer][:, :, start:start + T] = k  # positions start .. start + T - 1
        self.values[layer][:, :, start:start + T] = v
        self.lengths[layer] = start + T
        # END SOLUTION
        return self.get(layer)

    def get(self, layer: int):
        """The filled prefix of ``layer``: (keys, values), each (batch, heads, n, head_dim),
        views into the preallocated arrays (no copy)."""
        layer = self._check_layer(layer)
        # BEGIN SOLUTION
        n = self.lengths[layer]
        return self.keys[layer][:, :, :n], self.values[layer][:, :, :n]
        # END SOLUTION

    def reset(self) -> None:
        """Forget every position (the arrays stay allocated, for the next sequence)."""
        self.lengths = [0] * self.n_layers

    # ------------------------------------------------------------------ its cost

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays the cache holds (all of them, allocated up front)."""
        return sum(a.nbytes for a in self.keys) + sum(a.nbytes for a in self.values)

    @property
    def nbytes_used(self) -> int:
        """Bytes of the filled positions only (what a cache grown on demand would hold)."""
        per_position = self.batch_size * self.n_heads * self.head_dim * self.dtype.itemsize
        return 2 * per_position * sum(self.lengths)

    def _check_layer(self, layer) -> int:
        if not isinstance(layer, (int, np.integer)) or not 0 <= layer < self.n_layers:
            raise IndexError(f"KVCache: layer must be in 0..{self.n_layers - 1}, got {layer!r}")
        return int(layer)

    def __len__(self) -> int:
        return self.n_layers

    def __repr__(self) -> str:
        return (f"KVCache(layers={self.n_layers}, batch={self.batch_size}, "
                f"heads={self.n_heads}, head_dim={self.head_dim}, "
                f"filled={self.lengths[0]}/{self.max_seq_len}, {self.dtype}, "
                f"{self.nbytes:,} bytes)")
