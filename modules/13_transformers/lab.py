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
# # Lab 13 -- Transformers: layer norm, blocks, and a GPT
#
# You built `LayerNorm` and `RMSNorm` with fused backwards, the MLP, causal self-attention,
# the pre-norm GPT block, PyTorch's `TransformerEncoderLayer`, and `GPT` with `generate`.
# This lab measures them:
#
# 1. LayerNorm against BatchNorm: what each normalizes, and who depends on the batch;
# 2. pre-norm against post-norm: the gradient that reaches each layer of a deep stack;
# 3. the residual stream: how it grows through a GPT at initialisation;
# 4. where the parameters, the memory and the FLOPs of a GPT are -- counted, then measured;
# 5. a tiny GPT trained on a tiny text: the loss curve, and samples at several temperatures;
# 6. a KV-cache teaser: why generating token by token gets slower as the text grows.
#
# Run it on your code: `tito module lab 13` (`--notebook` opens it in Jupyter).
# `TINYTORCH_QUICK=1` shrinks every experiment to
# seconds; plots go to `$TINYTORCH_OUT` (default `runs/labs/13_transformers`).

# %%
from tito import labkit
from tito.labkit import best_time, table

lab = labkit.setup("13_transformers")
QUICK, OUT = lab.quick, lab.out
labkit.print_context(lab)

import contextlib  # noqa: E402
import io  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tinytorch as tt  # noqa: E402
import tinytorch.nn as nn  # noqa: E402
import tinytorch.nn.functional as F  # noqa: E402
from tinytorch.models import GPT  # noqa: E402

tt.manual_seed(0)

# %% [markdown]
# ## 1. LayerNorm against BatchNorm
#
# Both subtract a mean and divide by a standard deviation; they differ in *over what*.
# BatchNorm (module 09) takes the statistics of each feature over the batch (and positions);
# LayerNorm takes them over the features of each token. So a token's LayerNorm output
# depends on that token alone, while its BatchNorm output (in training) depends on whichever
# other sequences share the batch -- and on how many padding tokens they hold.

# %%
B, T, C = 4, 6, 8
x = tt.randn(B, T, C) * 3 + 1
ln = nn.LayerNorm(C)
bn = nn.BatchNorm1d(C)  # expects (N, C, L): features on axis 1
y_ln = ln(x).numpy()
y_bn = bn(x.permute(0, 2, 1)).permute(0, 2, 1).numpy()
alone_ln = ln(x[:1]).numpy()
alone_bn = bn(x[:1].permute(0, 2, 1)).permute(0, 2, 1).numpy()
table(["", "LayerNorm", "BatchNorm (training)"], [
    ("mean over a token's features", f"{np.abs(y_ln.mean(-1)).max():.1e}",
     f"{np.abs(y_bn.mean(-1)).max():.2f}"),
    ("std over a token's features", f"{y_ln.std(-1).mean():.3f}", f"{y_bn.std(-1).mean():.3f}"),
    ("mean of a feature over the batch", f"{np.abs(y_ln.mean((0, 1))).max():.2f}",
     f"{np.abs(y_bn.mean((0, 1))).max():.1e}"),
    ("max change of sequence 0 when run alone", f"{np.abs(alone_ln - y_ln[:1]).max():.1e}",
     f"{np.abs(alone_bn - y_bn[:1]).max():.2f}"),
], key="ln-vs-bn")

# %% [markdown]
# ## 2. Pre-norm against post-norm
#
# Post-norm (the 2017 paper) normalizes *after* each residual addition: `x = LN(x + f(x))`.
# Every gradient on its way down passes through every LayerNorm of the stack. Pre-norm
# (GPT-2 onwards) normalizes only the input of each branch, `x = x + f(LN(x))`, so the sum
# `x + ...` hands the gradient to the layer below unchanged. The table measures, at
# initialisation, the gradient norm of each layer's first feed-forward weight in a stack of
# encoder layers, for the same loss and the same weights. The pre-norm stack ends with a
# final LayerNorm (GPT's `ln_f`): without it its output would not be normalized at all.

# %%
depth = 4 if QUICK else 12
d, heads = 32, 4
xs = tt.randn(8, 16, d)
target = tt.randn(8, 16, d)
grad_norms = {}
for norm_first in (False, True):
    tt.manual_seed(1)
    layer = nn.TransformerEncoderLayer(d, heads, 4 * d, dropout=0.0, activation="gelu",
                                       batch_first=True, norm_first=norm_first)
    stack = nn.TransformerEncoder(layer, depth, norm=nn.LayerNorm(d) if norm_first else None)
    F.mse_loss(stack(xs, is_causal=True), target).backward()
    grad_norms["pre-norm" if norm_first else "post-norm"] = [
        float(np.linalg.norm(lay.linear1.weight.grad.numpy())) for lay in stack.layers]
table(["layer"] + list(grad_norms),
      [(i, *(f"{g[i]:.2e}" for g in grad_norms.values())) for i in range(depth)],
      key="pre-post")
for name, g in grad_norms.items():
    print(f"{name}: first layer's gradient / last layer's = {g[0] / g[-1]:.2f}")

plt.figure(figsize=(5, 3.2))
for name, g in grad_norms.items():
    plt.semilogy(range(depth), g, "o-", label=name)
plt.xlabel("layer (0 = nearest the input)")
plt.ylabel("|dL/d linear1.weight|")
plt.title("Gradient reaching each layer at initialisation", fontsize=9)
plt.legend(fontsize=8)
plt.tight_layout()
plt.savefig(OUT / "pre_vs_post_norm_gradients.png", dpi=120)
plt.close()

# %% [markdown]
# ## 3. The residual stream
#
# In a GPT every block *adds* to one running vector per token. GPT-2 initialises the two
# projections that write into the stream (`attn.proj`, `mlp.proj`) with a standard deviation
# shrunk by `sqrt(2 * n_layers)`, so that the 2 * n_layers additions do not blow the stream
# up. Here: the stream's standard deviation after each block, with that scaling and without.

# %%
n_layers = 4 if QUICK else 12
ids = tt.randint(0, 64, (4, 32))
streams = {}
for scaled in (True, False):
    tt.manual_seed(2)
    m = GPT(64, 64, n_layers, 4, 32)
    if not scaled:
        for blk in m.blocks:
            for p in (blk.attn.proj.weight, blk.mlp.proj.weight):
                nn.init.normal_(p, 0.0, 0.02)
    with tt.no_grad():
        h = m.tok_emb(ids) + m.pos_emb(tt.arange(32))
        stds = [float(h.numpy().std())]
        for blk in m.blocks:
            h = blk(h)
            stds.append(float(h.numpy().std()))
    streams["scaled 0.02/sqrt(2L)" if scaled else "plain 0.02"] = stds
table(["after block"] + list(streams),
      [(i, *(f"{s[i]:.4f}" for s in streams.values())) for i in range(n_layers + 1)],
      key="stream")

# %% [markdown]
# ## 4. Parameters, memory and FLOPs of a GPT
#
# The configuration milestone 05 trains (character level): vocabulary ~100, d_model 128,
# 3 layers, 4 heads, context 64. Per block: attention `4 d^2 + 4 d` (fused qkv and the output
# projection), MLP `8 d^2 + 5 d`, two LayerNorms `4 d`: about `12 d^2`. The counts below come
# from the model's own parameters, grouped by name.

# %%
V, D, L, H, TCTX, BATCH = 96, 128, 3, 4, 64, (8 if QUICK else 32)
tt.manual_seed(3)
gpt = GPT(V, D, L, H, TCTX)
groups = {"token embedding (tied head)": 0, "position embedding": 0, "attention": 0,
          "MLP": 0, "LayerNorms": 0}
for name, p in gpt.named_parameters():
    key = ("token embedding (tied head)" if name.startswith("tok_emb") else
           "position embedding" if name.startswith("pos_emb") else
           "attention" if ".attn." in name else "MLP" if ".mlp." in name else "LayerNorms")
    groups[key] += p.numel()
total = gpt.num_parameters()
table(["part", "parameters", "share"],
      [(k, f"{v:,}", f"{v / total:.1%}") for k, v in groups.items()] + [("total", f"{total:,}", "")],
      key="params")
print(f"12 * L * d^2 = {12 * L * D * D:,} against the blocks' {groups['attention'] + groups['MLP']:,}")

# Memory of training with AdamW: the weights, their gradients, and two moment buffers each,
# plus the activations the graph keeps for the backward (measured with tracemalloc).
x_ids = tt.randint(0, V, (BATCH, TCTX))
y_ids = tt.randint(0, V, (BATCH * TCTX,))
opt = tt.optim.AdamW(gpt.parameters(), lr=1e-3)


def train_step():
    loss = F.cross_entropy(gpt(x_ids).reshape(-1, V), y_ids)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


train_step()  # creates the optimizer state
tracemalloc.start()
loss = F.cross_entropy(gpt(x_ids).reshape(-1, V), y_ids)
after_forward = tracemalloc.get_traced_memory()[0]
loss.backward()
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
opt.zero_grad()
weights_mb = total * 4 / 2**20
table(["what", "MiB"], [
    ("weights (float32)", f"{weights_mb:.2f}"),
    ("gradients", f"{weights_mb:.2f}"),
    ("AdamW moments (2 per weight)", f"{2 * weights_mb:.2f}"),
    (f"activations kept by the graph, batch {BATCH} x {TCTX} (measured)",
     f"{after_forward / 2**20:.2f}"),
    ("peak during forward + backward (measured)", f"{peak / 2**20:.2f}"),
], key="memory")

# FLOPs: each weight is used once per token in a multiply-add (2 FLOPs) in the forward, and
# twice as much in the backward; attention adds 2 * 2 * T * d per layer per token (scores and
# weighted sum, for causal attention about half of it is masked but still computed here).
n_nonemb = total - groups["position embedding"]  # the tied matrix is used, as the head
fwd_per_token = 2 * n_nonemb + 2 * 2 * L * TCTX * D
step_time = best_time(train_step, repeat=2 if QUICK else 3, min_time=0)
tokens = BATCH * TCTX
table(["quantity", "value"], [
    ("forward FLOPs per token (counted)", f"{fwd_per_token / 1e6:.2f} M"),
    ("training FLOPs per token (3x forward)", f"{3 * fwd_per_token / 1e6:.2f} M"),
    (f"training step, {tokens} tokens (measured)", f"{step_time * 1e3:.0f} ms"),
    ("tokens per second", f"{tokens / step_time:,.0f}"),
    ("achieved GFLOP/s", f"{3 * fwd_per_token * tokens / step_time / 1e9:.2f}"),
], key="flops")

# %% [markdown]
# ## 5. A tiny GPT on a tiny text
#
# The Zen of Python (it ships with every Python as the `this` module), one character per
# token. A unigram model (every character at its frequency) and a bigram model (the next
# character given this one) are counted from the same text as baselines: the transformer has
# to beat the bigram to show that it uses more than one character of context.

# %%
with contextlib.redirect_stdout(io.StringIO()):  # importing `this` prints the poem
    import this
text = "".join(this.d.get(c, c) for c in this.s)
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
data = np.array([stoi[c] for c in text], dtype=np.int64)
vocab = len(chars)
counts1 = np.bincount(data, minlength=vocab) + 1e-9
unigram = float(-np.mean(np.log(counts1[data] / counts1.sum())))
pair = np.ones((vocab, vocab))  # add-one smoothing
np.add.at(pair, (data[:-1], data[1:]), 1)
bigram = float(-np.mean(np.log((pair / pair.sum(1, keepdims=True))[data[:-1], data[1:]])))
print(f"{len(text)} characters, {vocab} distinct; uniform {np.log(vocab):.3f}, unigram "
      f"{unigram:.3f}, bigram {bigram:.3f} nats/char (on the training text)")

ctx, steps = 32, (40 if QUICK else 400)
tt.manual_seed(4)
tiny = GPT(vocab, 48 if QUICK else 64, 2, 4, ctx)
opt = tt.optim.AdamW(tiny.parameters(), lr=3e-3, weight_decay=0.01)
rng = np.random.default_rng(0)
losses = []
t0 = time.perf_counter()
for step in range(steps):
    starts = rng.integers(0, len(data) - ctx - 1, size=16)
    xb = np.stack([data[s:s + ctx] for s in starts])
    yb = np.stack([data[s + 1:s + ctx + 1] for s in starts])
    loss = F.cross_entropy(tiny(tt.tensor(xb)).reshape(-1, vocab), tt.tensor(yb.reshape(-1)))
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
elapsed = time.perf_counter() - t0
print(f"{steps} steps in {elapsed:.1f} s; loss {losses[0]:.3f} -> "
      f"{np.mean(losses[-10:]):.3f} (mean of the last 10 steps)")
lab.record("tiny-loss-start", f"{losses[0]:.2f}")
lab.record("tiny-loss-end", f"{np.mean(losses[-10:]):.2f}")
lab.record("tiny-seconds", f"{elapsed:.0f} s")

plt.figure(figsize=(5, 3.2))
plt.plot(losses, label="GPT (training batches)")
for level, name, style in ((unigram, "unigram", ":"), (bigram, "bigram", "--")):
    plt.axhline(level, color="gray", linestyle=style, label=name)
plt.xlabel("step")
plt.ylabel("cross-entropy (nats/char)")
plt.title(f"A {tiny.num_parameters():,}-parameter GPT on the Zen of Python", fontsize=9)
plt.legend(fontsize=8)
plt.tight_layout()
plt.savefig(OUT / "tiny_gpt_loss.png", dpi=120)
plt.close()

prompt = tt.tensor([[stoi[c] for c in "Beautiful is "]])
samples = []
for kwargs in (dict(temperature=0.0), dict(temperature=0.8, top_k=10), dict(temperature=1.2)):
    tt.manual_seed(5)
    out = tiny.generate(prompt, 60, **kwargs)[0].tolist()
    print(f"{kwargs}: {''.join(chars[i] for i in out)!r}")
    samples.append((", ".join(f"{k} {v}" for k, v in kwargs.items()),
                    f"`{''.join(chars[i] for i in out)!r}`"))
lab.record_table("samples", ["sampling", "text"], samples)

# %% [markdown]
# ## 6. Teaser for module 17: the KV cache
#
# `generate` runs the whole context through the model for every new token, although the
# keys and values of the old positions have not changed. Producing token n costs a forward
# over n positions, so a text of N tokens costs about N^2 / 2 position-forwards instead of N.
# The time per generated token, measured at several context lengths:

# %%
tt.manual_seed(6)
gen = GPT(96, 64, 2, 4, 256)
lengths = [16, 64] if QUICK else [16, 32, 64, 128, 256]
rows, per_token = [], []
for n in lengths:
    start = tt.randint(0, 96, (1, n))
    with tt.no_grad():
        t = best_time(lambda: gen(start), repeat=2 if QUICK else 3)
    per_token.append(t * 1e3)
    rows.append((n, f"{t * 1e3:.2f}", f"{t * 1e3 / per_token[0]:.1f}x"))
table(["context length", "ms per new token (no cache)", "relative"], rows, key="kv-teaser")
N = lengths[-1]
print(f"generating {N} tokens one at a time runs {N * (N + 1) // 2:,} positions through the "
      f"model without a cache, {N:,} with one ({(N + 1) / 2:.0f}x fewer)")
print(f"plots written to {OUT}")
