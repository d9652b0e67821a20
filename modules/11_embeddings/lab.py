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
# # Lab 11 -- Embeddings: lookup tables, their gradient, and where a token is
#
# You wrote the embedding lookup and its scatter-add backward, PyTorch's initialisation with
# a padding row, the sinusoidal encodings and the rotary rotation. This lab measures them:
#
# 1. a lookup is a one-hot matrix product -- without the matrix: time and memory of both;
# 2. the backward is a scatter-*add*: what assignment loses on repeated ids, and what the
#    vectorized `np.add.at` saves over a Python loop;
# 3. the padding row: zero at the start, zero after training;
# 4. how many parameters (and bytes) the tables of real models hold;
# 5. sinusoidal encodings: the picture, and similarity against distance;
# 6. RoPE: attention scores that depend only on the distance between tokens.
#
# Run it on your code: `tito module lab 11` (`--notebook` opens it in Jupyter).
# `TINYTORCH_QUICK=1` shrinks every experiment to
# seconds. Plots and `results.md` (every table below, as measured) go to `$TINYTORCH_OUT`
# (default `runs/labs/11_embeddings`).

# %%
from tito import labkit
from tito.labkit import best_time, table

lab = labkit.setup("11_embeddings")
QUICK, OUT = lab.quick, lab.out

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tinytorch as tt  # noqa: E402
import tinytorch.nn as nn  # noqa: E402
import tinytorch.nn.functional as F  # noqa: E402
from tinytorch.text import rope, sinusoidal_positional_encoding  # noqa: E402

labkit.print_context(lab)
tt.manual_seed(0)
rng = np.random.default_rng(0)
RESULTS = [f"# Lab 11 results\n\n{labkit.machine()}\n"]


def report(title, headers, rows):
    """Print a measured table and keep it for results.md (the guide points there)."""
    print(f"### {title}")
    table(headers, rows)
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    RESULTS.append(f"## {title}\n\n" + "\n".join(lines) + "\n")


# %% [markdown]
# ## 1. A lookup is a one-hot product, without the one-hot matrix
#
# `onehot(ids) @ W` picks the rows of W: the same numbers as `W[ids]`. The product builds a
# (tokens, V) matrix of zeros and multiplies through it; the lookup copies `tokens * d`
# numbers. Forward and backward for a batch of 8 x 64 token ids, d = 64.

# %%
n_tok, d = 8 * 64, 64
vocabs = [256, 1024, 4096] if QUICK else [256, 1024, 4096, 16384, 50257]
rows = []
for v in vocabs:
    emb = nn.Embedding(v, d)
    ids = tt.tensor(rng.integers(0, v, size=(8, 64)))
    onehot = tt.tensor(np.eye(v, dtype=np.float32)[ids.numpy().reshape(-1)])  # (tokens, V)

    def by_lookup():
        emb.weight.grad = None
        emb(ids).sum().backward()

    def by_matmul():
        emb.weight.grad = None
        (onehot @ emb.weight).sum().backward()

    same = np.allclose((onehot @ emb.weight).detach().numpy().reshape(8, 64, d),
                       emb(ids).detach().numpy())
    t_lookup = best_time(by_lookup, 3)
    t_matmul = best_time(by_matmul, 2 if v > 4096 else 3)
    rows.append((f"{v:,}", f"{t_lookup * 1e3:.2f}", f"{t_matmul * 1e3:.2f}",
                 f"{t_matmul / t_lookup:.0f}x", f"{onehot.numpy().nbytes / 2**20:.1f} MiB",
                 f"{n_tok * d * 4 / 2**20:.3f} MiB", "yes" if same else "NO"))
report("lookup against one-hot matmul (fwd+bwd, 512 tokens, d=64)", [
    "vocabulary", "lookup ms", "one-hot matmul ms", "ratio", "one-hot matrix",
    "looked-up rows", "same output"], rows)

# %% [markdown]
# ## 2. The backward is a scatter-add
#
# Row `ids[k]` was read for output k, so output k's gradient belongs to that row; an id that
# appears three times receives three gradients, *summed*. `dW[ids] = grad` (assignment) keeps
# only one of them. Three ways to add, on text-like ids (a few ids repeat a lot, as words
# do): a Python loop over the tokens; `np.add.at(dW, ids, grad)`, which says the same in one
# call but still walks row by row inside NumPy; and the framework's backward, which sorts the
# ids so that equal ids sit together and sums each run with one `np.add.reduceat`.

# %%
v, d = 1000, 64
rows = []
for n in ([256, 2048] if QUICK else [256, 2048, 16384]):
    ids = np.minimum(rng.zipf(1.3, size=n) - 1, v - 1)  # Zipf: like word frequencies
    g = rng.standard_normal((n, d)).astype(np.float32)

    def add_at():
        dw = np.zeros((v, d), np.float32)
        np.add.at(dw, ids, g)
        return dw

    def loop():
        dw = np.zeros((v, d), np.float32)
        for k in range(n):
            dw[ids[k]] += g[k]
        return dw

    w = tt.tensor(rng.standard_normal((v, d)).astype(np.float32), requires_grad=True)
    ids_t, g_t = tt.tensor(ids), tt.tensor(g)

    def framework():  # forward and backward of F.embedding
        w.grad = None
        F.embedding(ids_t, w).backward(g_t)

    assigned = np.zeros((v, d), np.float32)
    assigned[ids] = g
    right = loop()
    framework()
    rows.append((f"{n:,}", len(np.unique(ids)), int(np.bincount(ids).max()),
                 f"{best_time(loop, 2) * 1e3:.2f}", f"{best_time(add_at, 3) * 1e3:.2f}",
                 f"{best_time(framework, 3) * 1e3:.2f}",
                 f"{np.abs(w.grad.numpy() - right).max():.1e}",
                 f"{np.abs(assigned - right).max():.2f}"))
report("scatter-add for the embedding gradient (V=1000, d=64)", [
    "tokens", "distinct ids", "most repeats", "Python loop ms", "np.add.at ms",
    "F.embedding fwd+bwd ms", "F.embedding vs loop", "max error of assignment"], rows)

# %% [markdown]
# ## 3. The padding row stays zero
#
# Sequences of different lengths are padded to one length with `<pad>` (id 0 from module
# 10). With `padding_idx=0` that row starts at zero and receives no gradient, so padding
# adds nothing learned to whatever reads it. A few SGD steps on a toy loss:

# %%
emb = nn.Embedding(10, 4, padding_idx=0)
opt = tt.optim.SGD(emb.parameters(), lr=0.1)
batch = tt.tensor([[5, 6, 7, 0, 0], [1, 2, 0, 0, 0]])  # two sequences, padded with id 0
for _ in range(20):
    loss = (emb(batch) - 1.0).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
w = emb.weight.detach().numpy()
report("after 20 SGD steps", ["row", "norm", "note"],
       [(0, f"{np.linalg.norm(w[0]):.3f}", "padding_idx: never trained"),
        (5, f"{np.linalg.norm(w[5]):.3f}", "trained"),
        (9, f"{np.linalg.norm(w[9]):.3f}", "never looked up: initial N(0, 1) values")])

# %% [markdown]
# ## 4. What the tables cost
#
# An embedding holds `V * d` numbers. GPT-2 ties its output layer to the input table (one
# matrix for both); without tying the model pays twice. The counts below are the formula,
# checked on a small instance.

# %%
assert sum(p.numel() for p in nn.Embedding(300, 7).parameters()) == 300 * 7
configs = [  # (model, vocab, d_model, total parameters of the model as published)
    ("char-level GPT (milestone 05 style)", 100, 128, None),
    ("BPE from lab 10, d=256", 4096, 256, None),
    ("GPT-2 small", 50257, 768, 124_000_000),
    ("GPT-2 XL", 50257, 1600, 1_558_000_000),
    ("LLaMA-2 7B", 32000, 4096, 6_738_000_000),
]
rows = []
for name, v, d, total in configs:
    n = v * d
    rows.append((name, f"{v:,}", d, f"{n:,}", f"{n * 4 / 2**20:,.2f} MiB",
                 f"{n / total:.1%}" if total else "-"))
report("embedding tables of real models (float32)", [
    "model", "vocabulary", "d_model", "table parameters", "memory", "share of the model"], rows)

# %% [markdown]
# ## 5. Sinusoidal encodings
#
# Column pair i oscillates with wavelength `2 pi * 10000^(2i/d)`: the first columns flip
# from one position to the next, the last barely move over thousands. Nearby positions have
# similar vectors; the similarity falls with distance (not monotonically: it is a sum of
# cosines of the distance times each frequency).

# %%
max_len, d = (128, 64) if QUICK else (512, 128)
pe = sinusoidal_positional_encoding(max_len, d).numpy()
sim = pe @ pe[0] / (d / 2)  # PE[p] . PE[0], normalised: every PE row has norm^2 = d/2
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
axes[0].imshow(pe.T, aspect="auto", cmap="RdBu", interpolation="nearest")
axes[0].set_xlabel("position")
axes[0].set_ylabel("feature")
axes[0].set_title(f"sinusoidal PE ({max_len} x {d})", fontsize=9)
axes[1].plot(sim)
axes[1].set_xlabel("distance to position 0")
axes[1].set_ylabel("PE[p] . PE[0] / (d/2)")
axes[1].set_title("similarity against distance", fontsize=9)
fig.tight_layout()
fig.savefig(OUT / "sinusoidal_encoding.png", dpi=120)
plt.close(fig)
report("PE[p] . PE[0] / (d/2) at a few distances", ["distance", "similarity"],
       [(p, f"{sim[p]:.3f}") for p in (0, 1, 2, 4, 8, 16, 64) if p < max_len])

# %% [markdown]
# ## 6. RoPE: scores that see only the distance
#
# Rotating the query at position m by `m * theta_i` and the key at n by `n * theta_i` (pair
# by pair) makes their dot product a function of n - m. Check it: the score of the same q
# and k placed at (m, n) and shifted by s to (m + s, n + s) does not change. The plot shows
# the score of q = k against their distance.

# %%
dh = 64
q = rng.standard_normal((1, dh))
k = rng.standard_normal((1, dh))


def score(m, n, a=q, b=k):
    return float((rope(tt.tensor(a), positions=[m]).numpy()
                  * rope(tt.tensor(b), positions=[n]).numpy()).sum())


rows = []
for m, n in [(0, 3), (10, 3), (7, 7)]:
    shifted = [score(m + s, n + s) for s in (0, 1, 100, 1000)]
    rows.append((f"({m}, {n})", n - m, f"{shifted[0]:.4f}",
                 f"{max(abs(x - shifted[0]) for x in shifted):.1e}"))
report("q . k after RoPE, positions shifted by 0, 1, 100, 1000", [
    "(m, n)", "n - m", "score", "max change under the shift"], rows)

dist = np.arange(0, 128 if QUICK else 512)
ones = np.ones((1, dh))
self_scores = [score(0, int(t), ones, ones) / dh for t in dist]
plt.figure(figsize=(5, 3.2))
plt.plot(dist, self_scores)
plt.xlabel("distance n - m")
plt.ylabel("rope(q, m) . rope(q, n) / d")
plt.title("RoPE: the same vector, further apart", fontsize=9)
plt.tight_layout()
plt.savefig(OUT / "rope_distance.png", dpi=120)
plt.close()

# %%
(OUT / "results.md").write_text("\n".join(RESULTS), encoding="utf-8")
print(f"tables -> {OUT / 'results.md'}; plots -> {OUT}")
