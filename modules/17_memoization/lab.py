# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Lab 17 -- Memoization: the KV cache
#
# You built `KVCache.update` / `get` (write the new keys and values at the current
# position, read the filled prefix), the causal mask of new queries over cached keys, and
# the cached attention step; `GPT.generate(..., use_cache=True)` runs on them. This lab
# measures what they buy:
#
# 1. the cache itself: its shapes and its bytes, counted from the arrays;
# 2. correctness: the same logits and the same tokens with and without the cache;
# 3. the work: attention scores and positions computed per generated token, counted;
# 4. the speed: tokens per second with and without the cache against the length generated,
#    and the headline -- 256 tokens from a 4-layer, d_model 128 GPT, target >= 5x faster;
# 5. the price: cache memory against context length and model size.
#
# Run it on your code: `tito module lab 17` (`--notebook` opens it in Jupyter).
# `TINYTORCH_QUICK=1` shrinks every experiment to seconds; plots go to `$TINYTORCH_OUT`
# (default `runs/labs/17_memoization`).

# %%
from tito import labkit
from tito.labkit import table

lab = labkit.setup("17_memoization")
QUICK, OUT = lab.quick, lab.out
labkit.print_context(lab)

import time  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tinytorch as tt  # noqa: E402
from tinytorch.core.attention import capture_attention  # noqa: E402
from tinytorch.generation import KVCache, forward_with_cache  # noqa: E402
from tinytorch.models import GPT  # noqa: E402

tt.manual_seed(0)

# %% [markdown]
# ## 1. The cache: preallocated arrays and a position counter
#
# One key array and one value array per layer, each (batch, heads, max_seq_len, head_dim),
# allocated once. A step with T new tokens writes positions n .. n + T - 1 and returns the
# filled prefix 0 .. n + T - 1 for the new queries to attend over.

# %%
cache = KVCache(n_layers=2, batch_size=1, n_heads=2, max_seq_len=8, head_dim=4)
rng = np.random.default_rng(0)
rows = []
for T in (3, 1, 1):  # a 3-token prompt (the prefill), then one token at a time
    k = rng.standard_normal((1, 2, T, 4)).astype(np.float32)
    keys, values = cache.update(0, k, k)
    rows.append((T, cache.get_seq_length(0), tuple(keys.shape),
                 f"{cache.nbytes_used:,}", f"{cache.nbytes:,}"))
table(["new tokens", "filled (layer 0)", "keys returned", "bytes filled", "bytes allocated"],
      rows)
try:
    cache.update(0, rng.standard_normal((1, 2, 4, 4)).astype(np.float32),
                 rng.standard_normal((1, 2, 4, 4)).astype(np.float32))
except ValueError as e:
    print("past max_seq_len:", e)

# %% [markdown]
# ## 2. Same logits, same tokens
#
# The cached forward feeds only the new tokens, at their true positions. Its logits must be
# the full forward's at those positions -- fed one token at a time or in chunks -- and
# generation must pick the same tokens.

# %%
model = GPT(96, 64, 2, 4, 136).eval()  # room for a 4-token prompt + 128 tokens
ids = tt.randint(0, 96, (2, 12))
with tt.no_grad():
    full = model(ids).numpy()
c = KVCache.for_model(model, 2)
chunks = [forward_with_cache(model, ids[:, a:b], c).numpy() for a, b in ((0, 5), (5, 6), (6, 12))]
err = np.abs(np.concatenate(chunks, axis=1) - full).max()
plain = model.generate(ids[:, :4], 40, temperature=0).numpy()
cached = model.generate(ids[:, :4], 40, temperature=0, use_cache=True).numpy()
table(["check", "result"], [
    ("max |logits cached - full| (chunks 5, 1, 6)", f"{err:.1e}"),
    ("greedy tokens identical (2 sequences x 40)", str(bool(np.array_equal(plain, cached)))),
])

# %% [markdown]
# ## 3. The work, counted
#
# Without the cache, step n recomputes the whole (n x n) score matrix and runs n positions
# through every layer; with it, one row of n scores and one position. `capture_attention`
# records every attention call, so we can count the scores each path computed.

# %%
N, P = (32 if QUICK else 128), 4
rows = []
for use_cache in (False, True):
    with capture_attention() as maps:
        model.generate(ids[:1, :P], N, temperature=0, use_cache=use_cache)
    scores = sum(m.size for m in maps)
    positions = P + N - 1 if use_cache else sum(range(P, P + N))
    rows.append(("KV cache" if use_cache else "no cache", f"{scores:,}", f"{positions:,}"))
table([f"generating {N} tokens", "attention scores computed", "positions through the model"],
      rows, key="counts")

# %% [markdown]
# ## 4. Tokens per second
#
# The headline: a 4-layer, d_model 128 GPT generating after a 16-token prompt, each
# length timed with and without the cache (rounds alternate the two, the median counts).
# The speedup grows with the length: the uncached step costs more as the context grows,
# the cached one hardly does. The per-op overhead of a NumPy framework is a floor under
# the cached step (a single token is a handful of tiny matrix-vector products), which is
# why the speedup at short lengths is smaller than the work ratio above.

# %%
layers, d, lengths = (2, 64, [16, 32]) if QUICK else (4, 128, [32, 64, 128, 256])
tt.manual_seed(1)
bench = GPT(96, d, layers, 4, 16 + max(lengths)).eval()
prompt = tt.randint(0, 96, (1, 16))
bench.generate(prompt, 2, temperature=0, use_cache=True)  # warm-up
rounds = 1 if QUICK else 3
rows, speedups, tps = [], [], {False: [], True: []}
for n in lengths:
    times = {False: [], True: []}
    for r in range(rounds):
        for use_cache in ((False, True) if r % 2 == 0 else (True, False)):
            t0 = time.perf_counter()
            bench.generate(prompt, n, temperature=0, use_cache=use_cache)
            times[use_cache].append(time.perf_counter() - t0)
    t_plain, t_cache = np.median(times[False]), np.median(times[True])
    tps[False].append(n / t_plain)
    tps[True].append(n / t_cache)
    speedups.append(t_plain / t_cache)
    rows.append((n, f"{n / t_plain:.1f}", f"{n / t_cache:.1f}", f"{t_plain / t_cache:.2f}x"))
table(["tokens generated", "tokens/s no cache", "tokens/s KV cache", "speedup"], rows,
      key="tokens-per-s")
if not QUICK:
    verdict = "met" if speedups[-1] >= 5 else "NOT met"
    print(f"target: >= 5x at 256 tokens with 4 layers, d_model 128 -- measured "
          f"{speedups[-1]:.2f}x: {verdict} (on this machine, now)")

fig, (a, b) = plt.subplots(1, 2, figsize=(9.5, 3.6))
a.plot(lengths, tps[False], "o-", label="no cache")
a.plot(lengths, tps[True], "s-", label="KV cache")
a.set_xlabel("tokens generated")
a.set_ylabel("tokens per second")
a.legend()
b.plot(lengths, speedups, "o-")
b.axhline(5, color="k", ls="--", lw=0.8, label="target at 256 tokens")
b.set_xlabel("tokens generated")
b.set_ylabel("speedup")
b.legend()
fig.suptitle(f"GPT {layers} layers, d_model {d}: greedy generation after 16 tokens")
fig.tight_layout()
plt.savefig(OUT / "kv_cache_speedup.png", dpi=120)
plt.close(fig)

# %% [markdown]
# ## 5. The price: memory
#
# The cache holds 2 (keys and values) x layers x batch x positions x d_model numbers. Each
# figure below is `nbytes` of a cache actually allocated for that shape (float32).

# %%
rows = []
for name, L, dm, H, ctx in (("this lab's GPT", layers, d, 4, 16 + max(lengths)),
                            ("GPT-2 small shape", 12, 768, 12, 1024)):
    for batch in (1, 8):
        kv = KVCache(L, batch, H, ctx, dm // H)
        per_token = kv.nbytes // (batch * ctx)
        rows.append((name, L, dm, ctx, batch, f"{kv.nbytes / 2**20:.2f}",
                     f"{per_token:,}"))
        del kv
table(["model", "layers", "d_model", "positions", "batch", "cache MiB", "bytes per token"],
      rows)
ctxs = [64, 128, 256, 512, 1024]
mib = [KVCache(12, 1, 12, n, 64).nbytes / 2**20 for n in ctxs]
plt.figure(figsize=(4.6, 3.4))
plt.plot(ctxs, mib, "o-")
plt.xlabel("positions cached")
plt.ylabel("MiB (GPT-2 small shape, batch 1)")
plt.title("KV cache memory grows linearly")
plt.tight_layout()
plt.savefig(OUT / "kv_cache_memory.png", dpi=120)
plt.close()
print(f"plots written to {OUT}")
