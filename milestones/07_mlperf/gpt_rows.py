"""The olympics' GPT rows: the optimizations that act on a transformer (modules 17 and 18).

A character GPT (the standard library's sources, every 10th file held out, as TinyMLPerf's
char_gpt task) is trained for a time budget, its held-out loss measured, and then it
generates ``tokens`` characters greedily after a held-out prompt three ways:

* ``no cache``: every step runs the model over the whole sequence so far (the baseline);
* ``KV cache (17)``: ``model.generate(..., use_cache=True)``: one new position per step;
* ``KV cache + fused GELU (18)``: the cached path with module 18's fused GELU in the MLPs.

Each row: tokens per second (wall clock, median of alternated rounds) and its ratio to the baseline,
whether the tokens are identical (the "accuracy change" of an exact optimization must be
none: the same tokens, so the same held-out quality), and memory: parameter bytes against
parameter bytes plus the cache's (the cache *costs* memory; the ratio is below 1).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

import tinytorch as tt
import tinytorch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # milestones/, for common.py
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "05_transformer"))
import code_corpus  # noqa: E402  (milestone 05's corpus of Python sources)
import common  # noqa: E402

__all__ = ["gpt_rows"]


def _corpus(max_train: int, max_val: int) -> tuple[str, str]:
    """Milestone 05's split of the standard library's sources (every 10th file held out),
    cut to ``max_train`` / ``max_val`` characters."""
    corpus = code_corpus.load(None, None, max_train)
    return corpus.train_text[:max_train], corpus.val_text[:max_val]


def gpt_rows(budget: float, tokens: int, rounds: int, seed: int = 0, stage=print) -> dict:
    """Train, evaluate, generate three ways; the rows (see the module docstring)."""
    from tinytorch.generation import KVCache, greedy_with_cache
    from tinytorch.models import GPT
    from tinytorch.text import CharTokenizer

    train_text, val_text = _corpus(400_000, 40_000)
    tok = CharTokenizer().train(train_text + val_text)
    tr = np.array(tok.encode(train_text), dtype=np.int64)
    va = np.array(tok.encode(val_text), dtype=np.int64)
    prompt_len, T, V = 16, 16 + tokens, tok.vocab_size
    tt.manual_seed(seed)
    model = GPT(V, 64, 2, 4, T)
    opt = tt.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    rng = np.random.default_rng(seed)
    win = np.arange(min(T, 64))
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < budget:
        s = rng.integers(0, len(tr) - len(win) - 1, 16)[:, None] + win
        loss = F.cross_entropy(model(tt.tensor(tr[s])).reshape(-1, V), tt.tensor(tr[s + 1])
                               .reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps += 1
    model.eval()
    starts = np.linspace(0, len(va) - len(win) - 1, 64).astype(np.int64)[:, None] + win
    with tt.no_grad():
        val_loss = F.cross_entropy(model(tt.tensor(va[starts])).reshape(-1, V),
                                   tt.tensor(va[starts + 1]).reshape(-1)).item()
    stage(f"gpt: 2 layers, d_model 64, {model.num_parameters():,} parameters, {steps} steps "
          f"in {budget:.0f} s; held-out loss {val_loss:.3f} nats/char")

    ids = va[None, :prompt_len]
    prompt = tt.tensor(ids)
    gelu = common.fused_gelu_or_none(stage)
    paths = {"no cache": lambda: model.generate(prompt, tokens, temperature=0).numpy(),
             "KV cache (17)": lambda: model.generate(prompt, tokens, temperature=0,
                                                     use_cache=True).numpy()}
    if gelu is not None:
        paths["KV cache + fused GELU (18)"] = lambda: greedy_with_cache(model, ids, tokens, gelu)
    model.generate(prompt, 2, temperature=0, use_cache=True)  # warm-up
    times = {k: [] for k in paths}
    out = {}
    names = list(paths)
    for r in range(rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            t0 = time.perf_counter()
            out[name] = paths[name]()
            times[name].append(time.perf_counter() - t0)
    param_bytes = sum(p.numpy().nbytes for p in model.parameters())
    cache_bytes = KVCache.for_model(model, 1, prompt_len + tokens - 1).nbytes
    base_s = float(np.median(times["no cache"]))
    rows = []
    for name in names:
        secs = float(np.median(times[name]))
        memory = param_bytes + (cache_bytes if name != "no cache" else 0)
        rows.append({"model": "gpt", "optimization": name,
                     "identical_tokens": bool(np.array_equal(out[name], out["no cache"])),
                     "tokens_per_second": tokens / secs, "speedup": base_s / secs,
                     "memory_bytes": memory, "memory_ratio": param_bytes / memory,
                     "held_out_loss": val_loss})
    return {"rows": rows, "steps": steps, "val_loss": val_loss,
            "uniform_loss": float(np.log(V)), "tokens": tokens,
            "rounds": rounds, "param_bytes": param_bytes, "cache_bytes": cache_bytes,
            "fused_gelu": gelu is not None,
            "sample": tok.decode(out["no cache"][0].tolist())}
