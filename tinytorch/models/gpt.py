"""Module 13 -- GPT: a decoder-only transformer that predicts the next token.

    ids (B, T) -> token embedding + position embedding -> n_layers x GPTBlock -> LayerNorm
               -> lm_head (the token embedding matrix again, transposed) -> logits (B, T, vocab)

Every position t predicts token t + 1 from tokens 0..t only (causal attention), so one
forward pass over a sequence of T tokens gives T training examples at once. The output layer
reuses the input embedding matrix (*weight tying*, as GPT-2): a token's vector is used both to
read it and to score it as the next token, which saves vocab * d_model parameters and trains
better on small data. Its gradient is the sum of what both uses send back.

``generate`` turns the model into a text generator: append the sampled next token, run again.
"""

from __future__ import annotations

import math

import numpy as np

from tinytorch.core import init
from tinytorch.core.autograd import no_grad
from tinytorch.core.creation import default_generator
from tinytorch.core.layernorm import LayerNorm
from tinytorch.core.layers import Dropout, Linear, ModuleList
from tinytorch.core.module import Module
from tinytorch.core.tensor import Tensor
from tinytorch.models.transformer import GPTBlock
from tinytorch.text.embeddings import Embedding

__all__ = ["GPT"]


class GPT(Module):
    """A GPT-2-style language model.

    Args:
        vocab_size: number of token ids (ids are 0 .. vocab_size - 1).
        d_model: width of the residual stream.
        n_layers: number of pre-norm blocks.
        n_heads: attention heads per block (d_model must be divisible by it).
        max_seq_len: the longest context (the learned position table has this many rows).
        dropout: on embeddings, attention weights and each residual branch (training only).

    Shapes: ids (B, T) integer, T <= max_seq_len -> logits (B, T, vocab_size).
    state_dict keys: ``tok_emb.weight``, ``pos_emb.weight``, ``blocks.{i}.ln1/attn/ln2/mlp.*``,
    ``ln_f.*``, ``lm_head.weight`` (the same tensor as ``tok_emb.weight``).
    """

    def __init__(self, vocab_size: int, d_model: int, n_layers: int, n_heads: int,
                 max_seq_len: int, dropout: float = 0.0):
        super().__init__()
        for name, v in (("vocab_size", vocab_size), ("d_model", d_model),
                        ("n_layers", n_layers), ("n_heads", n_heads),
                        ("max_seq_len", max_seq_len)):
            if not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"GPT: {name} must be a positive integer, got {v!r}")
        if d_model % n_heads != 0:
            raise ValueError(f"GPT: d_model={d_model} must be divisible by n_heads={n_heads}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"GPT: dropout must be in [0, 1), got {dropout}")
        self.vocab_size, self.d_model, self.n_layers = vocab_size, d_model, n_layers
        self.n_heads, self.max_seq_len, self.dropout_p = n_heads, max_seq_len, dropout
        self.tok_emb = Embedding(vocab_size, d_model)
        self.pos_emb = Embedding(max_seq_len, d_model)
        self.drop = Dropout(dropout)
        self.blocks = ModuleList([GPTBlock(d_model, n_heads, dropout) for _ in range(n_layers)])
        self.ln_f = LayerNorm(d_model)
        self.lm_head = Linear(d_model, vocab_size, bias=False)
        self.lm_head.weight = self.tok_emb.weight  # weight tying: one tensor, two uses
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """GPT-2's init: N(0, 0.02) weights and embeddings, zero biases, unit LayerNorms; the
        projections that write into the residual stream get std 0.02 / sqrt(2 n_layers), so
        the stream's variance does not grow with depth (each block adds two of them)."""
        # BEGIN SOLUTION
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                init.zeros_(p)
            elif ".ln" in name or name.startswith("ln_f"):
                init.ones_(p)
            elif name.endswith("proj.weight"):  # attn.proj and mlp.proj: into the stream
                init.normal_(p, 0.0, 0.02 / math.sqrt(2 * self.n_layers))
            else:
                init.normal_(p, 0.0, 0.02)
        # END SOLUTION

    def num_parameters(self, non_embedding: bool = False) -> int:
        """Parameters counted once (the tied matrix once); ``non_embedding`` leaves out the
        position table (and the token table, whose only other use is the tied head)."""
        n = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n -= self.pos_emb.weight.numel() + self.tok_emb.weight.numel()
        return n

    def forward(self, idx) -> Tensor:
        ids = idx._data if isinstance(idx, Tensor) else np.asarray(idx)
        if ids.ndim != 2 or ids.dtype.kind not in "iu":
            raise ValueError(f"GPT: expected integer token ids of shape (B, T), got "
                             f"{ids.dtype} of shape {tuple(ids.shape)}; add a batch dim with "
                             f"ids[None] and use an int64 tensor")
        B, T = ids.shape
        if T > self.max_seq_len:
            raise ValueError(f"GPT: sequence of length {T} is longer than max_seq_len="
                             f"{self.max_seq_len}; crop it to the last {self.max_seq_len} tokens")
        # BEGIN SOLUTION
        pos = np.arange(T, dtype=np.int64)
        x = self.tok_emb(Tensor(ids)) + self.pos_emb(Tensor(pos))  # (B, T, C) + (T, C)
        x = self.drop(x)
        for block in self.blocks:
            x = block(x)
        x = self.ln_f(x)
        return self.lm_head(x)  # (B, T, vocab): x @ tok_emb.weight.T
        # END SOLUTION

    @no_grad()
    def generate(self, idx, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None,
                 generator=None, use_cache: bool = False) -> Tensor:
        """Extend ``idx`` by ``max_new_tokens`` sampled tokens, one at a time.

        Args:
            idx: token ids (B, T) (or (T,): the result is then 1-D too).
            max_new_tokens: how many tokens to append (0 returns idx unchanged).
            temperature: divides the logits; 0 means greedy (always the most likely token).
            top_k: sample only among the k most likely tokens.
            top_p: nucleus sampling: only among the most likely tokens whose probabilities
                add up to top_p (at least one token is always kept).
            generator: a tt.Generator; default tinytorch's (``tt.manual_seed`` makes it
                repeatable).
            use_cache: keep every layer's keys and values in a ``KVCache`` (module 17) and
                feed the model only the new token each step: the same tokens, far less work.
                The prompt plus the new tokens must then fit in ``max_seq_len`` (a cache
                cannot slide its window: its keys were computed at fixed positions).
        Returns:
            int64 Tensor (B, T + max_new_tokens). The context fed to the model is cropped to
            the last ``max_seq_len`` tokens. Runs under no_grad, in eval mode (dropout off).
        """
        ids = idx._data if isinstance(idx, Tensor) else np.asarray(idx)
        squeeze = ids.ndim == 1
        if squeeze:
            ids = ids[None]
        if ids.ndim != 2 or ids.dtype.kind not in "iu" or ids.shape[1] == 0:
            raise ValueError(f"generate: expected non-empty integer token ids of shape (B, T), "
                             f"got {ids.dtype} of shape {tuple(ids.shape)}")
        if not isinstance(max_new_tokens, (int, np.integer)) or max_new_tokens < 0:
            raise ValueError(f"generate: max_new_tokens must be an integer >= 0, got "
                             f"{max_new_tokens!r}")
        if temperature < 0 or not math.isfinite(temperature):
            raise ValueError(f"generate: temperature must be >= 0 (0 = greedy), got {temperature}")
        if top_k is not None and (not isinstance(top_k, (int, np.integer)) or top_k < 1):
            raise ValueError(f"generate: top_k must be a positive integer or None, got {top_k!r}")
        if top_p is not None and not 0.0 < top_p <= 1.0:
            raise ValueError(f"generate: top_p must be in (0, 1] or None, got {top_p!r}")
        rng = (generator if generator is not None else default_generator).rng
        ids = ids.astype(np.int64)
        cache = None
        if use_cache and max_new_tokens > 0:
            from tinytorch.generation.cached_forward import forward_with_cache
            from tinytorch.generation.kv_cache import KVCache

            need = ids.shape[1] + max_new_tokens - 1  # positions fed: the last token is not
            if need > self.max_seq_len:
                raise ValueError(
                    f"generate(use_cache=True): a prompt of {ids.shape[1]} tokens plus "
                    f"max_new_tokens={max_new_tokens} needs {need} positions, more than "
                    f"max_seq_len={self.max_seq_len}; generate at most "
                    f"{max(self.max_seq_len - ids.shape[1] + 1, 0)} tokens, shorten the "
                    f"prompt, or use use_cache=False (which crops the context to the last "
                    f"{self.max_seq_len})")
            cache = KVCache.for_model(self, ids.shape[0], need)
        was_training = self.training
        self.eval()
        try:
            new = ids  # with a cache: what the model has not seen yet (the prompt, then 1)
            for _ in range(max_new_tokens):
                if cache is not None:
                    logits = forward_with_cache(self, new, cache)._data[:, -1, :]  # (B, V)
                else:
                    logits = self(Tensor(ids[:, -self.max_seq_len:]))._data[:, -1, :]
                nxt = _next_token(logits.astype(np.float64), temperature, top_k, top_p, rng)
                ids = np.concatenate([ids, nxt[:, None]], axis=1)
                new = nxt[:, None]
        finally:
            self.train(was_training)
        return Tensor(ids[0] if squeeze else ids)


def _next_token(logits, temperature, top_k, top_p, rng) -> np.ndarray:
    """One sampled id per row of ``logits`` (B, V) -> (B,) int64."""
    # BEGIN SOLUTION
    if temperature == 0:
        return logits.argmax(axis=-1).astype(np.int64)  # greedy
    logits = logits / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = np.sort(logits, axis=-1)[:, -top_k][:, None]  # the k-th largest per row
        logits = np.where(logits < kth, -np.inf, logits)
    probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)
    if top_p is not None and top_p < 1.0:
        order = np.argsort(-probs, axis=-1, kind="stable")
        sorted_p = np.take_along_axis(probs, order, axis=-1)
        # drop a token when the more likely ones before it already reach top_p
        drop_sorted = (np.cumsum(sorted_p, axis=-1) - sorted_p) >= top_p
        drop = np.zeros_like(drop_sorted)
        np.put_along_axis(drop, order, drop_sorted, axis=-1)
        probs = np.where(drop, 0.0, probs)
        probs /= probs.sum(axis=-1, keepdims=True)
    # inverse-CDF sampling: the first id whose cumulative probability passes a uniform draw
    cdf = np.cumsum(probs, axis=-1)
    u = rng.random((probs.shape[0], 1)) * cdf[:, -1:]
    return np.minimum((cdf <= u).sum(axis=-1), probs.shape[-1] - 1).astype(np.int64)
    # END SOLUTION
