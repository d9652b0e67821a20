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
# # Lab 04 -- Losses
#
# You built MSE, L1, cross-entropy, NLL and the two binary cross-entropies. This lab measures:
#
# 1. what each regression loss is minimised by (mean vs median) and what outliers do to it;
# 2. why cross-entropy must be fused: the naive softmax-then-log breaks at logits that real
#    networks produce, the fused one does not;
# 3. the same for binary cross-entropy on probabilities vs on logits;
# 4. the cost of fusion vs composition, as the number of classes grows;
# 5. label smoothing: the loss no longer rewards infinite confidence.
#
# Run it on your code: `tito module lab 4` (`--notebook` opens it in Jupyter).
# `TINYTORCH_QUICK=1` shrinks every experiment; plots go to `$TINYTORCH_OUT` (default
# `runs/labs/04_losses`). Loss values only: gradients are module 05.

# %%
from tito import labkit
from tito.labkit import best_time, table

# One BLAS thread for steady timings (TINYTORCH_LAB_THREADS=0 keeps NumPy's default) and the
# Agg backend, both set before NumPy is imported: why, in tito/labkit.py.
lab = labkit.setup("04_losses")
QUICK, OUT = lab.quick, lab.out

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tinytorch as tt  # noqa: E402
import tinytorch.nn.functional as F  # noqa: E402

rng = np.random.default_rng(0)


# %% [markdown]
# ## 1. MSE is minimised by the mean, L1 by the median
#
# Predict one constant `c` for 50 targets, 3 of which are outliers. Scan `c` and evaluate
# both losses. MSE's minimum follows the outliers (it squares their error); L1's stays with
# the bulk of the data.

# %%
y = np.concatenate([rng.normal(1.0, 0.3, 47), [8.0, 9.0, 10.0]]).astype(np.float32)
cs = np.linspace(-1, 5, 61 if QUICK else 601).astype(np.float32)
target = tt.tensor(y)
mse = [F.mse_loss(tt.full((len(y),), float(c)), target).item() for c in cs]
l1 = [F.l1_loss(tt.full((len(y),), float(c)), target).item() for c in cs]
table(["", "argmin over c", "closed form"],
      [("MSE", f"{cs[int(np.argmin(mse))]:.2f}", f"mean = {y.mean():.2f}"),
       ("L1", f"{cs[int(np.argmin(l1))]:.2f}", f"median = {np.median(y):.2f}")])

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(cs, np.array(mse) / max(mse), label="MSE (scaled)")
ax.plot(cs, np.array(l1) / max(l1), label="L1 (scaled)")
ax.axvline(y.mean(), ls="--", c="C0", lw=0.8)
ax.axvline(np.median(y), ls="--", c="C1", lw=0.8)
ax.set_xlabel("constant prediction c")
ax.set_ylabel("loss")
ax.set_title("3 outliers pull MSE's minimum, not L1's")
ax.legend()
fig.tight_layout()
fig.savefig(OUT / "mse_vs_l1.png", dpi=120)
plt.close(fig)

# %% [markdown]
# ## 2. Cross-entropy: naive vs fused
#
# Naive: `p = exp(x) / sum(exp(x))`, then `-log p[target]`. In float32, `exp(89)` is already
# `inf`, and for a confidently *wrong* prediction `p[target]` underflows to 0, so the loss is
# `-log 0 = inf`. Fused: `log_softmax(x) = (x - m) - log(sum(exp(x - m)))` with `m` the row
# maximum: every exponent is at most 0, the sum is at least 1, the loss is exact.

# %%
def naive_cross_entropy(x, t):
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        e = np.exp(x)
        p = e / e.sum(axis=1, keepdims=True)
        return float(-np.log(p[np.arange(len(t)), t]).mean())


rows = []
for scale in (1, 10, 50, 100, 1000, 10000):
    # the target is class 1, but class 0 gets the large logit: a confident mistake
    x = np.array([[scale, 0.0, -scale]], dtype=np.float32)
    t = np.array([1])
    exact = np.logaddexp.reduce(x[0].astype(np.float64)) - x[0, 1]
    rows.append((scale, f"{naive_cross_entropy(x, t):.6g}",
                 f"{F.cross_entropy(tt.tensor(x), tt.tensor(t)).item():.6g}", f"{exact:.6g}"))
table(["logit scale s: x = [s, 0, -s], target 1", "naive softmax then log", "fused cross_entropy",
       "exact (float64)"], rows, key="cross-entropy")

# %% [markdown]
# ## 3. Binary cross-entropy: on probabilities vs on logits
#
# `binary_cross_entropy(sigmoid(z), y)` first squashes `z` to a float32 probability: for
# `z < -88` or so `sigmoid(z)` is 0 and `log` is clamped at -100, so the loss saturates at
# 100 however wrong the model is. `binary_cross_entropy_with_logits` never forms the
# probability: `softplus(-z) = max(-z, 0) + log(1 + exp(-|z|))` is exact for any `z`.

# %%
rows = []
for z in (-5.0, -20.0, -50.0, -100.0, -1000.0):
    zt = tt.tensor([z])
    yt = tt.tensor([1.0])
    on_probs = F.binary_cross_entropy(zt.sigmoid(), yt).item()
    on_logits = F.binary_cross_entropy_with_logits(zt, yt).item()
    rows.append((z, f"{on_probs:.6g}", f"{on_logits:.6g}", f"{np.logaddexp(0, -z):.6g}"))
table(["logit z (target 1)", "BCE(sigmoid(z))", "BCE with logits", "exact softplus(-z)"], rows,
      key="bce")

# %% [markdown]
# ## 4. The cost of fusion vs composition
#
# The composed version builds `log_softmax` (a full (N, C) array) and then gathers one entry
# per row; the fused op computes the same numbers in one pass. Forward, both are one
# vectorized pass over the logits and cost the same. The difference is in the backward pass
# (module 05): the fused op's gradient is one formula, `softmax(x) - onehot(t)`, on the one
# (N, C) array it saved; the composed chain runs each op's backward in turn and scatters the
# gathered gradient back with `np.add.at`. If your autograd (module 05) is not written yet,
# the backward columns say so.

# %%
def forward_backward(loss_fn, x, t):
    xg = tt.tensor(x.numpy(), requires_grad=True)
    loss_fn(xg, t).backward()


def autograd_ready():
    try:
        forward_backward(lambda a, b: F.cross_entropy(a, b), tt.randn(2, 3), tt.tensor([0, 1]))
        forward_backward(lambda a, b: F.nll_loss(F.log_softmax(a, dim=1), b), tt.randn(2, 3),
                         tt.tensor([0, 1]))
        return True
    except NotImplementedError:
        return False


n = 256 if QUICK else 1024
classes = [10, 100, 1000] if QUICK else [10, 100, 1000, 10000]
repeat = 3 if QUICK else 15
has_backward = autograd_ready()
rows, t_fused, t_comp = [], [], []
for c in classes:
    x = tt.tensor(rng.standard_normal((n, c)).astype(np.float32))
    t = tt.tensor(rng.integers(0, c, n))
    fused = best_time(lambda: F.cross_entropy(x, t), repeat)
    comp = best_time(lambda: F.nll_loss(F.log_softmax(x, dim=1), t), repeat)
    same = abs(F.cross_entropy(x, t).item() - F.nll_loss(F.log_softmax(x, dim=1), t).item())
    row = [c, f"{fused * 1e3:.3f}", f"{comp * 1e3:.3f}", f"{same:.1e}"]
    if has_backward:
        fb = best_time(lambda: forward_backward(F.cross_entropy, x, t), repeat)
        cb = best_time(lambda: forward_backward(
            lambda a, b: F.nll_loss(F.log_softmax(a, dim=1), b), x, t), repeat)
        t_fused.append(fb)
        t_comp.append(cb)
        row += [f"{fb * 1e3:.3f}", f"{cb * 1e3:.3f}", f"{cb / fb:.2f}x"]
    else:
        row += ["after module 05"] * 3
    rows.append(row)
table([f"classes C (N = {n})", "fused fwd ms", "composed fwd ms", "difference",
       "fused fwd+bwd ms", "composed fwd+bwd ms", "composed / fused"], rows, key="fusion")

if has_backward:
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.loglog(classes, np.array(t_fused) * 1e3, "o-", label="fused cross_entropy")
    ax.loglog(classes, np.array(t_comp) * 1e3, "s--", label="log_softmax + nll_loss")
    ax.set_xlabel("number of classes C")
    ax.set_ylabel(f"forward + backward time, N = {n} (ms)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(OUT / "cross_entropy_time.png", dpi=120)
    plt.close(fig)

# %% [markdown]
# ## 5. Label smoothing caps the reward for confidence
#
# Two classes, the right one ahead by a margin `d`. Plain cross-entropy keeps falling as `d`
# grows, so training pushes logits apart forever (overconfidence). With smoothing `eps`, the
# target is `(1 - eps/2, eps/2)` and the loss has a minimum at a finite margin,
# `d* = log((1 - eps/2) / (eps/2))`.

# %%
margins = np.linspace(0, 12, 25 if QUICK else 241).astype(np.float32)
x = tt.tensor(np.stack([margins, np.zeros_like(margins)], axis=1))
t = tt.tensor(np.zeros(len(margins), dtype=np.int64))
fig, ax = plt.subplots(figsize=(5, 3.5))
rows = []
for eps in (0.0, 0.1, 0.3):
    losses = F.cross_entropy(x, t, reduction="none", label_smoothing=eps).numpy()
    ax.plot(margins, losses, label=f"label_smoothing={eps}")
    best = margins[int(np.argmin(losses))]
    theory = "none (keeps falling)" if eps == 0 else f"{np.log((1 - eps / 2) / (eps / 2)):.2f}"
    rows.append((eps, f"{best:.2f}", theory, f"{losses.min():.4f}"))
table(["eps", "best margin found", "theory d*", "minimum loss"], rows, key="smoothing")
ax.set_xlabel("margin d = logit(correct) - logit(other)")
ax.set_ylabel("cross-entropy")
ax.legend()
fig.tight_layout()
fig.savefig(OUT / "label_smoothing.png", dpi=120)
plt.close(fig)
print(f"plots written to {OUT}")
