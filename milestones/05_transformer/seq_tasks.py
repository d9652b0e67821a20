"""Part (a) of milestone 05: a small transformer encoder learns to reverse (and copy) sequences.

The task is the smallest one that *needs* attention: the token that belongs at output
position ``i`` of a reversed sequence of length ``n`` sits at input position ``n - 1 - i``,
and only attention can move information between positions. A trained model shows it: one of
its heads puts its weight on the anti-diagonal ``(i, n - 1 - i)`` -- a picture and a number
(:func:`diagonal_mass`).

Sequences hold 8-12 symbols from an alphabet of ``N_SYMBOLS``, right-padded to 12 with
``PAD``; the padding is masked out of attention (``src_key_padding_mask``) and out of the
loss (``ignore_index``), so the model must find the length ``n`` itself.
"""

from __future__ import annotations

import numpy as np

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F

PAD = 0
N_SYMBOLS = 10  # symbols are ids 1..10
VOCAB = N_SYMBOLS + 1
MIN_LEN, MAX_LEN = 8, 12


def make_batch(rng: np.random.Generator, n: int, exclude: set | None = None):
    """``n`` random sequences -> (ids (n, MAX_LEN) int64, lengths (n,)). Sequences in
    ``exclude`` (a set of tuples: the held-out ones) are drawn again, so training never sees
    a test sequence."""
    lengths = rng.integers(MIN_LEN, MAX_LEN + 1, n)
    ids = rng.integers(1, N_SYMBOLS + 1, (n, MAX_LEN))
    ids[np.arange(MAX_LEN)[None, :] >= lengths[:, None]] = PAD
    if exclude:
        for r in range(n):
            while tuple(ids[r, :lengths[r]]) in exclude:
                ids[r, :lengths[r]] = rng.integers(1, N_SYMBOLS + 1, lengths[r])
    return ids.astype(np.int64), lengths


def targets(ids: np.ndarray, lengths: np.ndarray, task: str) -> np.ndarray:
    """What the model must output at each position: the sequence reversed (or copied); PAD
    where the input is padding (ignored by the loss)."""
    if task == "copy":
        return ids.copy()
    out = np.full_like(ids, PAD)
    for r, n in enumerate(lengths):
        out[r, :n] = ids[r, :n][::-1]
    return out


def test_set(seed: int, n: int):
    """A fixed held-out set (its own random stream) and the set of its sequences."""
    ids, lengths = make_batch(np.random.default_rng(10_000 + seed), n)
    return ids, lengths, {tuple(ids[r, :lengths[r]]) for r in range(n)}


class SeqTransformer(nn.Module):
    """Token + learned position embeddings -> pre-norm ``nn.TransformerEncoder`` (no causal
    mask: every position sees the whole sequence) -> LayerNorm -> per-position logits.

    Shapes: ids (B, S) int64 -> logits (B, S, VOCAB).
    """

    def __init__(self, d_model: int = 64, n_heads: int = 4, n_layers: int = 2,
                 dim_feedforward: int = 128):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, d_model, padding_idx=PAD)
        self.pos = nn.Embedding(MAX_LEN, d_model)
        layer = nn.TransformerEncoderLayer(d_model, n_heads, dim_feedforward, dropout=0.0,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, n_layers)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, VOCAB)

    def forward(self, ids) -> tt.Tensor:
        ids = ids if isinstance(ids, tt.Tensor) else tt.tensor(ids)
        pad = tt.tensor(ids.numpy() == PAD)  # (B, S): True = padding, MHA's convention
        x = self.tok(ids) + self.pos(tt.arange(ids.shape[1]))  # (B, S, d) + (S, d)
        x = self.encoder(x, src_key_padding_mask=pad)
        return self.head(self.norm(x))


def exact_match(model, ids: np.ndarray, lengths: np.ndarray, task: str,
                batch: int = 500) -> float:
    """Share of sequences whose every non-padding output is right."""
    want = targets(ids, lengths, task)
    right = 0
    model.eval()
    with tt.no_grad():
        for s in range(0, len(ids), batch):
            pred = model(ids[s:s + batch]).numpy().argmax(-1)
            ok = (pred == want[s:s + batch]) | (ids[s:s + batch] == PAD)
            right += int(ok.all(axis=1).sum())
    model.train()
    return right / len(ids)


def attention_maps(model, ids: np.ndarray) -> list[np.ndarray]:
    """Each encoder layer's attention weights on ``ids``: a list of (B, H, S, S) arrays,
    recorded while the model runs (module 12's ``capture_attention``)."""
    from tinytorch.core.attention import capture_attention

    model.eval()
    with tt.no_grad(), capture_attention() as maps:
        model(ids)
    model.train()
    return [np.asarray(m) for m in maps]


def diagonal_mass(weights: np.ndarray, lengths: np.ndarray, anti: bool = True) -> np.ndarray:
    """Mean attention weight on the (anti-)diagonal, per head: ``weights`` (B, H, S, S) ->
    (H,). For a sequence of length n, query i's mirror key is n - 1 - i (anti) or i itself;
    the mean is over the n real queries of every sequence. Uniform attention would score
    1/n (about 0.1); a head that has learned the mirror scores near 1."""
    B, H = weights.shape[:2]
    total = np.zeros(H)
    count = 0
    for b, n in enumerate(lengths):
        q = np.arange(n)
        k = n - 1 - q if anti else q
        total += weights[b][:, q, k].sum(axis=1)
        count += n
    return total / count


def train(task: str, seed: int, steps: int, batch: int, lr: float, exclude: set, log=None,
          d_model: int = 64, n_heads: int = 4, n_layers: int = 2, eval_fn=None,
          eval_every: int = 100, stop_at: float | None = None):
    """Train one model on ``task`` ("reverse" or "copy"); returns (model, losses, evals)
    where ``evals`` is [(step, value of eval_fn(model))]. AdamW with a short warm-up and a
    cosine decay over ``steps``; gradients clipped at norm 1. Training stops early once
    ``eval_fn`` (exact match on a validation set, never the test set) reaches ``stop_at``."""
    tt.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = SeqTransformer(d_model, n_heads, n_layers, 2 * d_model)
    opt = tt.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup = max(1, steps // 20)
    sched = tt.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + np.cos(np.pi * min(s, steps)
                                                                       / steps)))
    losses, evals = [], []
    for step in range(1, steps + 1):
        ids, lengths = make_batch(rng, batch, exclude)
        want = tt.tensor(targets(ids, lengths, task))
        logits = model(ids)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), want.reshape(-1), ignore_index=PAD)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if eval_fn is not None and (step % eval_every == 0 or step == steps):
            evals.append((step, eval_fn(model)))
            if log:
                log(f"{task}: step {step:4d}/{steps}  loss {np.mean(losses[-eval_every:]):.4f}"
                    f"  validation exact match {evals[-1][1]:.2%}")
            if stop_at is not None and evals[-1][1] >= stop_at:
                break
    return model, losses, evals
