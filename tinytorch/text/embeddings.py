"""Module 11 -- embeddings: token ids become vectors, and positions become visible.

A token id is a name, not a quantity: id 412 is not "bigger" than id 17. An embedding table
``W`` of shape (num_embeddings, embedding_dim) gives every id its own learned vector, and
looking ids up is indexing rows: ``out[b, t] = W[ids[b, t]]``. Its gradient is the reverse:
each output row's gradient is *added* into the row it was read from (an id that occurs
three times in a batch receives three contributions) -- a scatter-add, ``np.add.at``.

Attention (module 12) treats its input as a *set*: shuffle the tokens and each output moves
with its token, unchanged. Word order has to be put into the vectors. Three ways here:

* learned positional embeddings (GPT-2): a second table indexed by position, added;
* sinusoidal encodings (Vaswani et al., 2017): fixed sines and cosines of geometrically
  spaced frequencies, added; no parameters, defined for any position;
* rotary embeddings (RoPE, Su et al., 2021; LLaMA): rotate each pair of features of the
  queries and keys by an angle proportional to the position, so the dot product of a query
  at m and a key at n depends only on m - n.

Shapes follow PyTorch: ids (*) -> vectors (*, embedding_dim); sequences are (B, T, D).
"""

from __future__ import annotations

import numpy as np

from tinytorch.core import init
from tinytorch.core.autograd import Function
from tinytorch.core.module import Module, Parameter
from tinytorch.core.tensor import Tensor

__all__ = ["embedding", "Embedding", "LearnedPositionalEmbedding",
           "sinusoidal_positional_encoding", "SinusoidalPositionalEncoding",
           "rope_angles", "rope", "apply_rotary_emb"]


# --------------------------------------------------------------------------- lookup


def _ids(input, num_embeddings: int, op: str) -> np.ndarray:
    """The ids as an integer array, every one checked to be a row of the table."""
    ids = input._data if isinstance(input, Tensor) else np.asarray(input)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{op}: ids must be integers (int64, as torch.long), got dtype "
                        f"{ids.dtype}; convert with .long()")
    if ids.size:
        lo, hi = int(ids.min()), int(ids.max())
        if lo < 0 or hi >= num_embeddings:
            bad = lo if lo < 0 else hi
            raise IndexError(f"{op}: id {bad} is out of range for a vocabulary of "
                             f"{num_embeddings} rows (valid ids are 0..{num_embeddings - 1}); "
                             "was the tokenizer's vocab_size larger than num_embeddings?")
    return ids


def _padding_idx(padding_idx, num_embeddings: int, op: str):
    """PyTorch's rule: -1 means the last row; anything outside the table is an error."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"{op}: padding_idx={padding_idx} must be within num_embeddings="
                         f"{num_embeddings} (from {-num_embeddings} to {num_embeddings - 1})")
    return padding_idx % num_embeddings


class EmbeddingFn(Function):
    """Row lookup ``W[ids]`` and its scatter-add backward.

    Inputs: weight (V, D), ids (*) integers, padding_idx (or None). Output (*, D).
    """

    @staticmethod
    def forward(ctx, weight, ids, padding_idx):
        ctx.conf = (ids, weight.shape, padding_idx)
        # BEGIN SOLUTION
        return weight[ids]  # (*, D): one row per id
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        ids, shape, padding_idx = ctx.conf
        dw = np.zeros(shape, dtype=grad.dtype)  # (V, D)
        flat, g = ids.reshape(-1), grad.reshape(-1, shape[1])  # (N,), (N, D)
        if flat.size == 0:
            return dw, None, None
        # BEGIN SOLUTION
        # add, not assign: an id read k times gets the sum of its k rows' gradients.
        # np.add.at(dw, flat, g) says exactly that but loops row by row inside NumPy; sorting
        # puts equal ids next to each other, and one reduceat sums every run at once
        order = np.argsort(flat, kind="stable")
        sorted_ids = flat[order]
        starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])  # run starts
        dw[sorted_ids[starts]] = np.add.reduceat(g[order], starts, axis=0)  # one sum per id
        if padding_idx is not None:
            dw[padding_idx] = 0  # the pad row is never trained: it stays what it was
        # END SOLUTION
        return dw, None, None


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """``torch.nn.functional.embedding``: rows of ``weight`` (V, D) at the ids ``input``.

    ``input`` (*) of integers -> (*, D). The gradient reaches ``weight`` only, added row by
    row; the row ``padding_idx`` (if given) receives none. ``max_norm``,
    ``scale_grad_by_freq`` and ``sparse`` are not supported.
    """
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are not "
                                  "supported in tinytorch")
    w = weight if isinstance(weight, Tensor) else Tensor(np.asarray(weight))
    if w.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got "
                         f"shape {tuple(w.shape)}")
    ids = _ids(input, w.shape[0], "embedding")
    return EmbeddingFn.apply(w, ids, _padding_idx(padding_idx, w.shape[0], "embedding"))


class Embedding(Module):
    """``torch.nn.Embedding``: a table of ``num_embeddings`` learned vectors of size
    ``embedding_dim``, looked up by id.

    Attributes:
        weight: Parameter (num_embeddings, embedding_dim), initialised N(0, 1) as in PyTorch,
            with the ``padding_idx`` row set to zero. ``state_dict`` key ``weight``.

    ``padding_idx``: the id of padding (may be negative: -1 is the last row). Its vector
    starts at zero and gets no gradient, so padded positions contribute nothing that is
    learned. Shapes: ids (*) -> (*, embedding_dim).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx=None,
                 max_norm=None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight=None, _freeze: bool = False, device=None,
                 dtype=None):
        super().__init__()
        for name, v in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"Embedding: {name} must be a non-negative int, got {v!r}")
        if max_norm is not None or scale_grad_by_freq or sparse:
            raise NotImplementedError("Embedding: max_norm, scale_grad_by_freq and sparse are "
                                      "not supported in tinytorch")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.padding_idx = _padding_idx(padding_idx, self.num_embeddings, "Embedding")
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim),
                                             dtype=np.dtype(dtype or np.float32)),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            w = _weight._data if isinstance(_weight, Tensor) else np.asarray(_weight)
            if w.shape != (self.num_embeddings, self.embedding_dim):
                raise ValueError(f"Embedding: _weight has shape {w.shape}, expected "
                                 f"({self.num_embeddings}, {self.embedding_dim})")
            self.weight = Parameter(w.copy(), requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        """PyTorch's default: every entry N(0, 1), then the padding row zeroed.

        Unit variance (not 1/sqrt(fan_in) as Linear): an embedding is read, not multiplied,
        so there is no sum over inputs to keep small."""
        # BEGIN SOLUTION
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0
        # END SOLUTION

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx=None, max_norm=None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> "Embedding":
        """An Embedding holding a copy of ``embeddings`` (V, D); frozen unless
        ``freeze=False``. As in PyTorch the padding row is kept as given, not zeroed."""
        w = embeddings._data if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if w.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape "
                             f"{w.shape}")
        return cls(w.shape[0], w.shape[1], padding_idx=padding_idx, max_norm=max_norm,
                   norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse,
                   _weight=w, _freeze=freeze)

    def forward(self, input) -> Tensor:
        return embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s


# --------------------------------------------------------------------------- positions


def _seq_len(x, max_len: int, offset: int, op: str) -> int:
    if x.ndim < 2:
        raise ValueError(f"{op}: expected (T, D) or (B, T, D), got shape {tuple(x.shape)}")
    t = x.shape[-2]
    if offset < 0 or offset + t > max_len:
        raise ValueError(f"{op}: positions {offset}..{offset + t - 1} do not fit max_len="
                         f"{max_len}; make max_len at least {offset + t}")
    return t


class LearnedPositionalEmbedding(Module):
    """GPT-2's positions: one learned vector per position, added to the token vectors.

    ``weight`` (max_len, embedding_dim), initialised N(0, 0.02^2) as GPT-2 does (small next to
    the tokens' vectors at first; training makes them matter). ``forward(x, offset=0)`` takes
    x (B, T, D) or (T, D) and returns ``x + weight[offset:offset + T]``; ``offset`` is the
    position of the first token (generation with a cache). It cannot go past ``max_len``.
    """

    def __init__(self, max_len: int, embedding_dim: int, std: float = 0.02):
        super().__init__()
        self.max_len, self.embedding_dim = max_len, embedding_dim
        self.weight = Parameter(np.empty((max_len, embedding_dim), dtype=np.float32))
        init.normal_(self.weight, 0.0, std)

    def forward(self, x, offset: int = 0) -> Tensor:
        t = _seq_len(x, self.max_len, offset, "LearnedPositionalEmbedding")
        pos = np.arange(offset, offset + t)
        return x + embedding(pos, self.weight)  # (T, D) broadcast over the batch

    def extra_repr(self) -> str:
        return f"{self.max_len}, {self.embedding_dim}"


def sinusoidal_positional_encoding(max_len: int, d_model: int, base: float = 10000.0,
                                   dtype=np.float32) -> Tensor:
    """The fixed encodings of "Attention Is All You Need", a (max_len, d_model) Tensor:

        PE[pos, 2i]     = sin(pos / base^(2i / d_model))
        PE[pos, 2i + 1] = cos(pos / base^(2i / d_model))

    Pair i turns at angular frequency ``base^(-2i/d)``: from one radian per position (i = 0)
    down to one turn every ~2*pi*base positions, a geometric ladder of wavelengths, so nearby
    positions differ in the fast pairs and distant ones in the slow pairs. PE[pos + k] is a
    rotation of PE[pos] by angles that depend on k only. An odd ``d_model`` drops the last
    cosine.
    """
    if max_len < 0 or d_model < 1:
        raise ValueError(f"sinusoidal_positional_encoding: need max_len >= 0 and d_model >= 1, "
                         f"got {max_len}, {d_model}")
    pos = np.arange(max_len, dtype=np.float64)[:, None]  # (T, 1)
    pe = np.zeros((max_len, d_model), dtype=np.float64)
    # BEGIN SOLUTION
    freq = base ** (-np.arange(0, d_model, 2, dtype=np.float64) / d_model)  # (ceil(d/2),)
    angles = pos * freq  # (T, ceil(d/2))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, :d_model // 2])
    # END SOLUTION
    return Tensor(pe.astype(dtype))


class SinusoidalPositionalEncoding(Module):
    """Adds :func:`sinusoidal_positional_encoding` to x (B, T, D) or (T, D).

    No parameters; the table is a non-persistent buffer ``pe`` (max_len, d_model), computed
    once, not saved in ``state_dict`` (it is a formula, not a weight). ``forward(x, offset=0)``
    returns ``x + pe[offset:offset + T]``.
    """

    def __init__(self, d_model: int, max_len: int = 5000, base: float = 10000.0):
        super().__init__()
        self.d_model, self.max_len, self.base = d_model, max_len, base
        self.register_buffer("pe", sinusoidal_positional_encoding(max_len, d_model, base),
                             persistent=False)

    def forward(self, x, offset: int = 0) -> Tensor:
        t = _seq_len(x, self.max_len, offset, "SinusoidalPositionalEncoding")
        if x.shape[-1] != self.d_model:
            raise ValueError(f"SinusoidalPositionalEncoding: x has {x.shape[-1]} features, the "
                             f"encoding was built for d_model={self.d_model}")
        return x + Tensor(self.pe._data[offset:offset + t].astype(x.dtype, copy=False))

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}"


# --------------------------------------------------------------------------- rotary


def rope_angles(positions, head_dim: int, base: float = 10000.0) -> np.ndarray:
    """The rotation angles of RoPE, (*positions.shape, head_dim / 2):
    ``angle[p, i] = p * base^(-2i / head_dim)``, the same frequencies as the sinusoids."""
    if head_dim % 2:
        raise ValueError(f"rope: the last dimension (head_dim) must be even to form pairs, "
                         f"got {head_dim}")
    pos = np.asarray(positions, dtype=np.float64)
    freq = base ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)  # (D/2,)
    return pos[..., None] * freq


def _rotate(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    """Rotate each feature pair (x[..., 2i], x[..., 2i+1]) by the angle whose cos/sin are
    given, (..., D/2): the 2x2 rotation [[cos, -sin], [sin, cos]] applied pair by pair."""
    x1, x2 = x[..., 0::2], x[..., 1::2]  # (..., T, D/2) each
    out = np.empty(np.broadcast_shapes(x.shape, cos.shape[:-1] + (x.shape[-1],)),
                   dtype=x.dtype)
    # BEGIN SOLUTION
    out[..., 0::2] = x1 * cos - x2 * sin
    out[..., 1::2] = x1 * sin + x2 * cos
    # END SOLUTION
    return out


class RoPEFn(Function):
    """Rotary embedding as one op: forward rotates by +angle; a rotation is orthogonal, so
    the backward rotates the gradient by -angle (its transpose). Inputs: x (..., T, D),
    cos and sin (T, D/2) or broadcastable."""

    @staticmethod
    def forward(ctx, x, cos, sin):
        ctx.save_for_backward(cos, sin)
        return _rotate(x, cos, sin)

    @staticmethod
    def backward(ctx, grad):
        cos, sin = ctx.saved_tensors
        return _rotate(grad, cos, -sin), None, None


def rope(x, positions=None, base: float = 10000.0) -> Tensor:
    """Rotary position embedding of queries or keys x (..., T, D), D even.

    Feature pair i of the vector at position p is rotated by the angle
    ``p * base^(-2i/D)`` (the interleaved pairing of the RoFormer paper: features 2i and
    2i+1). ``positions``: the position of each row, (T,) or broadcastable to x.shape[:-1];
    default ``0..T-1``; an int ``k`` means ``k..k+T-1`` (generation with a cache).

    Why it works: rotating q by m*theta and k by n*theta changes their dot product into
    q . R((n - m) theta) k -- only the distance n - m is visible to attention. Differentiable
    in x; the positions are data.
    """
    x = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
    if x.ndim < 2:
        raise ValueError(f"rope: expected (..., T, D), got shape {tuple(x.shape)}")
    t = x.shape[-2]
    if positions is None:
        positions = np.arange(t)
    elif isinstance(positions, (int, np.integer)):
        positions = np.arange(positions, positions + t)
    else:
        positions = positions._data if isinstance(positions, Tensor) else np.asarray(positions)
    ang = rope_angles(positions, x.shape[-1], base)
    dtype = x.dtype if np.dtype(x.dtype).kind == "f" else np.float32
    return RoPEFn.apply(x, np.cos(ang).astype(dtype), np.sin(ang).astype(dtype))


#: Meta's name for the same function (LLaMA's ``apply_rotary_emb``).
apply_rotary_emb = rope
