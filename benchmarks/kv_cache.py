"""KV cache benchmark (module 17): GPT generation with and without the cache.

A 4-layer GPT (d_model 128, 4 heads, vocabulary 96, random weights: speed does not depend on
them) extends a 16-token prompt greedily by N tokens, N = 32, 64, 128, 256, with
``use_cache=False`` (every step runs the whole context through the model) and
``use_cache=True`` (the prompt once, then one token per step). Rounds alternate the two paths
so machine load hits both alike; each number is the median of the rounds. The tokens of the
two paths are compared too: a speedup that changed the output would not count.

Target (issue 13): at N = 256 the cached path is at least 5x faster.

    python benchmarks/kv_cache.py                 # writes results/kv_cache.json + .png
    python benchmarks/kv_cache.py --quick         # seconds: N = 16, 32; one round

One process, one BLAS thread (set before NumPy loads), like the milestones.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tinytorch as tt  # noqa: E402
from tinytorch.generation import KVCache  # noqa: E402
from tinytorch.models import GPT  # noqa: E402

CONFIG = dict(vocab_size=96, d_model=128, n_layers=4, n_heads=4)
PROMPT, TARGET_TOKENS, TARGET_SPEEDUP = 16, 256, 5.0


def measure(model, prompt: np.ndarray, n: int, rounds: int) -> dict:
    """Seconds (median of ``rounds``) to generate ``n`` tokens with and without the cache."""
    times = {False: [], True: []}
    tokens = {}
    ids = tt.tensor(prompt)
    for r in range(rounds):
        for use_cache in ((False, True) if r % 2 == 0 else (True, False)):
            t0 = time.perf_counter()
            out = model.generate(ids, n, temperature=0, use_cache=use_cache)
            times[use_cache].append(time.perf_counter() - t0)
            tokens[use_cache] = out.numpy()
    plain, cached = float(np.median(times[False])), float(np.median(times[True]))
    return {"new_tokens": n, "seconds_no_cache": plain, "seconds_cache": cached,
            "tokens_per_second_no_cache": n / plain, "tokens_per_second_cache": n / cached,
            "speedup": plain / cached,
            "identical_tokens": bool(np.array_equal(tokens[False], tokens[True]))}


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r["new_tokens"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9.5, 3.6))
    a.plot(n, [r["tokens_per_second_no_cache"] for r in rows], "o-", label="no cache")
    a.plot(n, [r["tokens_per_second_cache"] for r in rows], "s-", label="KV cache")
    a.set_xlabel("generated tokens")
    a.set_ylabel("tokens per second")
    a.set_yscale("log")
    a.legend(fontsize=8)
    b.plot(n, [r["speedup"] for r in rows], "o-")
    b.axhline(TARGET_SPEEDUP, color="k", ls="--", lw=0.8, label=f"target at {TARGET_TOKENS}")
    b.set_xlabel("generated tokens")
    b.set_ylabel("speedup (no cache / cache)")
    b.legend(fontsize=8)
    fig.suptitle(f"GPT {CONFIG['n_layers']} layers, d_model {CONFIG['d_model']}: greedy "
                 f"generation after a {PROMPT}-token prompt", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--rounds", type=int, default=None, help="default 3 (1 with --quick)")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "kv_cache.json")
    p.add_argument("--lengths", type=int, nargs="+", default=None,
                   help="tokens to generate (default 32 64 128 256)")
    p.add_argument("--note", default=None, help="a line about the machine (e.g. how busy)")
    args = p.parse_args(argv)
    lengths = args.lengths or ([16, 32] if args.quick else [32, 64, 128, 256])
    rounds = args.rounds or (1 if args.quick else 3)
    tt.manual_seed(0)
    model = GPT(**CONFIG, max_seq_len=PROMPT + max(lengths)).eval()
    prompt = np.random.default_rng(0).integers(0, CONFIG["vocab_size"], (1, PROMPT))
    model.generate(tt.tensor(prompt), 4, temperature=0, use_cache=True)  # warm-up
    rows = []
    for n in lengths:
        rows.append(measure(model, prompt, n, rounds))
        r = rows[-1]
        print(f"{n:4d} tokens: no cache {r['tokens_per_second_no_cache']:7.1f} tok/s, cache "
              f"{r['tokens_per_second_cache']:7.1f} tok/s, speedup {r['speedup']:5.2f}x, "
              f"identical tokens: {r['identical_tokens']}", flush=True)
    cache = KVCache.for_model(model, 1, PROMPT + max(lengths))
    head = rows[-1]
    passed = (not args.quick and head["new_tokens"] == TARGET_TOKENS
              and head["speedup"] >= TARGET_SPEEDUP and all(r["identical_tokens"] for r in rows))
    result = {"benchmark": "kv_cache", "config": {**CONFIG, "max_seq_len": model.max_seq_len,
                                                   "prompt": PROMPT, "batch": 1},
              "target": f"speedup >= {TARGET_SPEEDUP} at {TARGET_TOKENS} tokens",
              "passed": passed, "quick": args.quick, "rounds": rounds, "rows": rows,
              "cache_bytes": cache.nbytes,
              "machine": {"date": datetime.date.today().isoformat(),
                          "python": platform.python_version(), "numpy": np.__version__,
                          "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
                          "note": args.note}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    plot(rows, args.out.with_suffix(".png"))
    print(f"cache for {model.max_seq_len} positions: {cache.nbytes:,} bytes; "
          f"{'PASSED' if passed else 'FAILED'}: speedup {head['speedup']:.2f}x at "
          f"{head['new_tokens']} tokens (target >= {TARGET_SPEEDUP} at {TARGET_TOKENS}); "
          f"results in {args.out}")
    return result


if __name__ == "__main__":
    sys.exit(0 if main()["passed"] else 1)
