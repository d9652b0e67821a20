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
# # Lab 12 -- Attention: loops, the quadratic wall, and the way around it
#
# You wrote attention three ways -- `attention_loops` (one dot product per query-key pair),
# the fused `SDPAFn` (batched matmuls, the weights saved for backward) and the tiled
# `FlashAttentionFn` (an online softmax, nothing quadratic kept) -- and `nn.MultiheadAttention`
# on top. This lab measures them:
#
# 1. causal masking on real scores: what the mask does to one row, before and after softmax;
# 2. multi-head shapes, step by step, and why splitting into heads costs no parameters;
# 3. the mask-convention trap: the same boolean array in F.sdpa and in nn.MultiheadAttention;
# 4. `analyze_attention_timing`: loops, fused and tiled across sequence lengths;
# 5. `analyze_attention_complexity`: peak memory of fused and tiled, forward + backward,
#    up to 4096 tokens -- the memory-scaling table of the guide;
# 6. where F.scaled_dot_product_attention switches to the tiled kernel, measured here;
# 7. attention maps of a tiny model trained to look one token back (one PNG per head).
#
# Run it on your code: `tito module lab 12` (`--notebook` opens it in Jupyter).
# `TINYTORCH_QUICK=1` shrinks every experiment to
# seconds; plots go to `$TINYTORCH_OUT` (default `runs/labs/12_attention`).

# %%
from tito import labkit
from tito.labkit import best_time, table

lab = labkit.setup("12_attention")
QUICK, OUT = lab.quick, lab.out

import time  # noqa: E402
import tracemalloc  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tinytorch as tt  # noqa: E402
import tinytorch.nn as nn  # noqa: E402
import tinytorch.nn.functional as F  # noqa: E402
from tinytorch.core import attention as attn  # noqa: E402
from tinytorch.core.attention import (SDPAFn, attention_loops, attention_weights,  # noqa: E402
                                      capture_attention)
from tinytorch.core.attention_viz import plot_attention  # noqa: E402
from tinytorch.core.flash_attention import FlashAttentionFn  # noqa: E402

tt.manual_seed(0)
rng = np.random.default_rng(0)
print(labkit.machine())

# %% [markdown]
# ## 1. Causal masking on real scores
#
# Six tokens, embedded and projected by a freshly initialised `nn.MultiheadAttention` (its
# query and key projections): these are the scores a real layer computes. A causal mask sets
# every score above the diagonal to -inf; softmax turns -inf into exactly 0, so query i
# spreads its weight over keys 0..i only. Row 0 has a single visible key: weight 1.

# %%
words = ["the", "cat", "sat", "on", "the", "mat"]
emb = nn.Embedding(len(set(words)), 16)
ids = tt.tensor(np.array([sorted(set(words)).index(w) for w in words]))
mha = nn.MultiheadAttention(16, 1, batch_first=True)
x = emb(ids).unsqueeze(0)  # (1, 6, 16)
with tt.no_grad():
    Wq, Wk = mha.in_proj_weight[:16], mha.in_proj_weight[16:32]
    q, k = (x @ Wq.T).numpy()[0], (x @ Wk.T).numpy()[0]
scores = q @ k.T / np.sqrt(16)
masked = np.where(np.tril(np.ones((6, 6), bool)), scores, -np.inf)
w_causal = attention_weights(q, k, is_causal=True)
np.set_printoptions(precision=2, suppress=True, linewidth=110)
print("row 2 ('sat') scores      :", scores[2])
print("row 2 after causal mask   :", masked[2])
print("row 2 after softmax       :", w_causal[2], " sum =", round(float(w_causal[2].sum()), 6))
print("loops give the same weights:",
      bool(np.allclose(attention_loops(q, k, k, is_causal=True, return_weights=True)[1].numpy(),
                       w_causal)))

fig, axes = plt.subplots(1, 3, figsize=(10, 3.2))
for ax, m, title in zip(axes, [scores, masked, w_causal],
                        ["scores q.k / sqrt(d)", "causal mask: -inf above", "softmax weights"]):
    shown = np.where(np.isfinite(m), m, np.nan)
    im = ax.imshow(shown, cmap="viridis")
    ax.set_xticks(range(6), words, rotation=90, fontsize=8)
    ax.set_yticks(range(6), words, fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046)
fig.tight_layout()
fig.savefig(OUT / "causal_mask_on_real_scores.png", dpi=120)
plt.close(fig)

# %% [markdown]
# ## 2. Multi-head shapes
#
# `embed_dim = 64, num_heads = 8` gives each head 8 dims. The projections are the same
# 64x64 matrices whatever the number of heads; the heads are only a *view* of their output:
# (B, L, 64) -> (B, L, 8, 8) -> (B, 8, L, 8). Attention then runs on every (batch, head)
# pair at once, and the heads are glued back before the output projection.

# %%
B, L, E, H = 2, 10, 64, 8
xs = tt.randn(B, L, E)
D = E // H
steps = [("input", (B, L, E)), ("q = x W_q^T + b_q", (B, L, E)),
         ("view (B, L, H, D)", (B, L, H, D)), ("permute (B, H, L, D)", (B, H, L, D)),
         ("scores q k^T", (B, H, L, L)), ("weights @ v", (B, H, L, D)),
         ("permute + reshape", (B, L, E)), ("out_proj", (B, L, E))]
table(["step", "shape"], [(s, str(shape)) for s, shape in steps])
out, w = nn.MultiheadAttention(E, H, batch_first=True)(xs, xs, xs, average_attn_weights=False)
print("nn.MultiheadAttention output", tuple(out.shape), "weights per head", tuple(w.shape))
rows = []
for h in (1, 2, 4, 8, 16):
    m = nn.MultiheadAttention(E, h)
    rows.append((h, E // h, sum(p.numel() for p in m.parameters())))
table(["heads", "head dim", "parameters"], rows)

# %% [markdown]
# ## 3. The mask-convention trap
#
# PyTorch has two boolean conventions for the same idea. In `F.scaled_dot_product_attention`
# True means **may attend**; in `nn.MultiheadAttention` (and `nn.Transformer*`) True means
# **masked out**. The same upper-triangular array is a causal mask for one and an
# "only-the-future" mask for the other.

# %%
future = np.triu(np.ones((6, 6), bool), 1)  # True above the diagonal
xq = tt.tensor(q[None])
_, w_mha = nn.MultiheadAttention(16, 1, batch_first=True)(xq, xq, xq, attn_mask=future)
w_sdpa = attention_weights(q, q, attn_mask=future)
print("MHA : weight on the future =", float(w_mha.numpy()[0][future].sum()), "(causal)")
print("sdpa: weight on the past+present =", float(w_sdpa[~future].sum()),
      "(the last row, with no True, gets all zeros)")


# %% [markdown]
# ## 4. `analyze_attention_timing`: loops, fused, tiled
#
# Same inputs (batch 1, 4 heads, head dim 32, causal, float32), forward only for the loops
# (they have no backward), forward for all three. The loop version does L * S Python steps of
# work; the fused and tiled ones do the same arithmetic inside NumPy.

# %%
def analyze_attention_timing(lengths, heads=4, dim=32, loop_max=256, repeat=3):
    """Forward time (ms) of the loop, fused and tiled attention at each length; returns rows."""
    rows = []
    for n in lengths:
        q, k, v = (tt.tensor(rng.standard_normal((1, heads, n, dim)).astype(np.float32))
                   for _ in range(3))
        mask = tt.tensor(np.tril(np.ones((n, n), bool)))
        t_fused = best_time(lambda: SDPAFn.apply(q, k, v, mask, dim ** -0.5, None), repeat)
        t_tiled = best_time(lambda: FlashAttentionFn.apply(q, k, v, None, dim ** -0.5, True),
                            repeat)
        t_loop = float("nan")
        if n <= loop_max:
            t0 = time.perf_counter()
            attention_loops(q, k, v, is_causal=True)
            t_loop = time.perf_counter() - t0
        rows.append((n, t_loop * 1e3, t_fused * 1e3, t_tiled * 1e3))
    return rows


timing = analyze_attention_timing([32, 64, 128] if QUICK else [32, 64, 128, 256, 512, 1024,
                                                                 2048],
                                  loop_max=64 if QUICK else 256)
table(["seq len", "loops ms", "fused ms", "tiled ms", "loops / fused"],
      [(n, "-" if np.isnan(a) else f"{a:.1f}", f"{b:.2f}", f"{c:.2f}",
        "-" if np.isnan(a) else f"{a / b:,.0f}x")
       for n, a, b, c in timing], key="timing")
plt.figure(figsize=(5, 3.5))
ns = [r[0] for r in timing]
for i, label, style in ((1, "loops (attention_loops)", "o-"), (2, "fused (SDPAFn)", "s-"),
                        (3, "tiled (FlashAttentionFn)", "^-")):
    plt.loglog(ns, [r[i] for r in timing], style, label=label)
plt.loglog(ns, [timing[0][2] * (n / ns[0]) ** 2 for n in ns], "k:", label="slope 2 (n^2)")
plt.xlabel("sequence length")
plt.ylabel("forward time (ms)")
plt.title("Attention time grows as n^2 in every version", fontsize=9)
plt.legend(fontsize=7)
plt.tight_layout()
plt.savefig(OUT / "attention_timing.png", dpi=120)
plt.close()


# %% [markdown]
# ## 5. `analyze_attention_complexity`: the memory-scaling table
#
# Peak bytes allocated (tracemalloc counts every NumPy buffer) during forward + backward of
# one causal head (head dim 32, float32). The fused op keeps the (L, L) weights for backward
# and makes a few more of that size on the way; the tiled one keeps q, k, v, the output and
# one log-sum-exp per row, and only ever one 64 x 512 tile of scores. "(L, L) matrix" is the
# size of a single float32 attention matrix: the seed's table, computed.

# %%
def _peak(fn, n, dim):
    q, k, v = (tt.tensor(rng.standard_normal((1, 1, n, dim)).astype(np.float32),
                         requires_grad=True) for _ in range(3))
    tracemalloc.start()
    try:
        fn(q, k, v).sum().backward()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def analyze_attention_complexity(lengths, dim=32):
    """Peak memory (MB) of fused and tiled attention, forward + backward, at each length."""
    rows = []
    for n in lengths:
        mask = tt.tensor(np.tril(np.ones((n, n), bool)))
        fused = _peak(lambda a, b, c: SDPAFn.apply(a, b, c, mask, dim ** -0.5, None), n, dim)
        tiled = _peak(lambda a, b, c: FlashAttentionFn.apply(a, b, c, None, dim ** -0.5, True),
                      n, dim)
        rows.append((n, n * n * 4 / 2**20, fused / 2**20, tiled / 2**20))
    return rows


mem = analyze_attention_complexity([256, 512, 1024] if QUICK else [512, 1024, 2048, 4096])
table(["seq len", "(L, L) matrix MB", "fused peak MB", "tiled peak MB", "fused / tiled"],
      [(n, f"{a:.1f}", f"{b:.1f}", f"{c:.2f}", f"{b / c:.0f}x") for n, a, b, c in mem],
      key="memory")
print(f"GPT-3 arithmetic (96 layers, 96 heads, 2048 tokens, fp16): one attention matrix per "
      f"head = {2048 * 2048 * 2 / 2**20:.0f} MB, x 96 heads x 96 layers = "
      f"{2048 * 2048 * 2 * 96 * 96 / 2**30:.0f} GB if all were kept for backward")
plt.figure(figsize=(5, 3.5))
ns = [r[0] for r in mem]
plt.loglog(ns, [r[2] for r in mem], "s-", label="fused (quadratic)")
plt.loglog(ns, [r[3] for r in mem], "^-", label="tiled (online softmax)")
plt.loglog(ns, [r[1] for r in mem], "k:", label="one (L, L) float32 matrix")
plt.xlabel("sequence length")
plt.ylabel("peak memory, fwd + bwd (MB)")
plt.title("Quadratic memory vs linear memory", fontsize=9)
plt.legend(fontsize=7)
plt.tight_layout()
plt.savefig(OUT / "attention_memory.png", dpi=120)
plt.close()

# %% [markdown]
# ## 6. Where F.scaled_dot_product_attention switches
#
# `F.scaled_dot_product_attention` uses the fused op for small score matrices (less Python
# per call) and the tiled op from `TILED_MIN_SCORES` = L * S on. The table times forward +
# backward of both at a GPT-sized shape (batch 2, 4 heads, head dim 32, causal) so you can
# see the crossover on your machine, with the peak memory (tracemalloc) of each.

# %%
rows = []
for n in ([64, 256] if QUICK else [64, 128, 256, 512, 1024]):
    q, k, v = (tt.tensor(rng.standard_normal((2, 4, n, 32)).astype(np.float32),
                         requires_grad=True) for _ in range(3))
    mask = tt.tensor(np.tril(np.ones((n, n), bool)))
    t_f = best_time(lambda: SDPAFn.apply(q, k, v, mask, 32 ** -0.5, None).sum().backward(), 3)
    t_t = best_time(lambda: FlashAttentionFn.apply(q, k, v, None, 32 ** -0.5, True).sum()
                    .backward(), 3)
    used = "tiled" if n * n >= attn.TILED_MIN_SCORES else "fused"
    peaks = []
    for fn in (lambda: SDPAFn.apply(q, k, v, mask, 32 ** -0.5, None).sum().backward(),
               lambda: FlashAttentionFn.apply(q, k, v, None, 32 ** -0.5, True).sum().backward()):
        tracemalloc.start()
        fn()
        peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
    rows.append((n, f"{t_f * 1e3:.1f}", f"{t_t * 1e3:.1f}", f"{peaks[0]:.1f}", f"{peaks[1]:.1f}",
                 "tiled" if t_t < t_f else "fused", used))
table(["seq len", "fused fwd+bwd ms", "tiled fwd+bwd ms", "fused peak MB", "tiled peak MB",
       "faster here", "F.sdpa uses"], rows, key="switch")

# %% [markdown]
# ## 7. Attention maps of a trained model
#
# A tiny model -- embedding + learned positions + one `nn.MultiheadAttention` (2 heads,
# causal) + a linear read-out -- learns to output, at each position, the token one step
# back. To do it, some head must put its weight on the key just before the query: the map
# shows a line one below the diagonal. `capture_attention` records the weights of any model;
# `plot_attention` writes one PNG per head.

# %%
V, T, Ed = 12, 10, 32


class LookBack(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(V, Ed)
        self.pos = nn.Parameter(tt.randn(T, Ed) * 0.5)
        self.att = nn.MultiheadAttention(Ed, 2, batch_first=True)
        self.out = nn.Linear(Ed, V)

    def forward(self, ids):
        h = self.tok(ids) + self.pos
        a, _ = self.att(h, h, h, is_causal=True, need_weights=False)
        return self.out(a)


model = LookBack()
opt = tt.optim.Adam(model.parameters(), lr=1e-2)
steps = 100 if QUICK else 400
for step in range(steps):
    ids = rng.integers(0, V, (32, T))
    target = np.concatenate([ids[:, :1], ids[:, :-1]], axis=1)  # the previous token
    loss = F.cross_entropy(model(tt.tensor(ids)).reshape(-1, V), tt.tensor(target.reshape(-1)))
    opt.zero_grad()
    loss.backward()
    opt.step()
ids = rng.integers(0, V, (256, T))
target = np.concatenate([ids[:, :1], ids[:, :-1]], axis=1)
with tt.no_grad(), capture_attention() as maps:
    acc = float((model(tt.tensor(ids)).numpy().argmax(-1) == target).mean())
w = maps[0].mean(0)  # (heads, T, T), averaged over the batch
back = [float(np.mean([w[h, i, i - 1] for i in range(1, T)])) for h in range(2)]
print(f"after {steps} steps: loss {float(loss.item()):.3f}, accuracy {acc:.1%}; mean weight on "
      f"the previous key: head 0 {back[0]:.2f}, head 1 {back[1]:.2f}")
lab.record("lookback", f"after {steps} steps: loss {float(loss.item()):.3f}, accuracy {acc:.1%}; "
           f"mean weight on the previous key: head 0 {back[0]:.2f}, head 1 {back[1]:.2f}")
files = plot_attention(w, OUT / "lookback", title="look one token back")
print("wrote", ", ".join(f.name for f in files))
