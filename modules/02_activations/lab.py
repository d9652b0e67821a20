# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 02 lab: activations, numerically
#
# An activation is one line of math; writing it so that it never overflows, never returns
# NaN and does not waste time is the engineering. This lab measures:
#
# 1. the shapes of the activations (a plot), and how often each *saturates* as inputs grow;
# 2. **stability**: textbook sigmoid, softmax and log-of-softmax against the stable forms you
#    wrote, at inputs real networks produce (logits of hundreds, in float32);
# 3. **cost**: nanoseconds per element of each activation, relative to ReLU;
# 4. the accuracy of our `erf` (NumPy has none; GELU needs it).
#
# Run: `tito module lab 2` (your code; `--notebook` for Jupyter); `--quick` for seconds;
# plots go to `TINYTORCH_OUT` (default `runs/labs/02_activations`). Every number printed is
# measured when the lab runs.

# %%
import math
import warnings
from functools import partial

from tito import labkit
from tito.labkit import table

# One BLAS thread for steady timings (TINYTORCH_LAB_THREADS=0 keeps NumPy's default) and the
# Agg backend, both set before NumPy is imported: why, in tito/labkit.py.
lab = labkit.setup("02_activations")
QUICK, OUT = lab.quick, lab.out

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tinytorch as tt  # noqa: E402
import tinytorch.nn.functional as F  # noqa: E402
from tinytorch.core.activations import erf  # noqa: E402

# Rounds of at least 20 ms (quick) or 100 ms, best of 3 or 5: nanoseconds per element need it.
best_time = partial(labkit.best_time, min_time=0.02 if QUICK else 0.1, repeat=3 if QUICK else 5)

labkit.print_context(lab)

# %% [markdown]
# ## 1. The shapes, and saturation
#
# Without a nonlinearity, stacked linear layers collapse into one matrix. Each activation bends
# the line differently; where its curve goes flat (sigmoid and tanh at both ends, ReLU on the
# left) the output stops responding to the input, and in module 05 you will see that the
# gradient there is (nearly) zero.

# %%
xs = np.linspace(-5, 5, 401).astype(np.float32)
curves = {
    "relu": F.relu, "leaky_relu(0.1)": lambda t: F.leaky_relu(t, 0.1), "sigmoid": F.sigmoid,
    "tanh": F.tanh, "gelu": F.gelu, "silu": F.silu,
}
fig, ax = plt.subplots(figsize=(6, 4))
for name, fn in curves.items():
    ax.plot(xs, fn(tt.tensor(xs)).numpy(), label=name)
ax.set_ylim(-1.5, 3)
ax.axhline(0, color="k", lw=0.5)
ax.axvline(0, color="k", lw=0.5)
ax.set_title("activation functions")
ax.legend()
fig.tight_layout()
fig.savefig(OUT / "activations.png", dpi=120)
plt.close(fig)

# %% [markdown]
# Saturation versus input scale: draw pre-activations from N(0, std^2) and count the outputs
# in the flat regions (sigmoid below 0.01 or above 0.99, tanh beyond +-0.99, ReLU exactly 0).
# Badly scaled inputs (a large std) push sigmoid and tanh into their flat regions; ReLU's dead
# half stays one half at every scale. Module 03's weight initialization exists to keep the std
# near 1.

# %%
rng = np.random.default_rng(0)
n_sat = 100_000 if QUICK else 1_000_000
sat_rows = []
for std in [0.5, 1.0, 2.0, 5.0, 10.0, 50.0]:
    z = tt.tensor((std * rng.standard_normal(n_sat)).astype(np.float32))
    s, t, r = F.sigmoid(z).numpy(), F.tanh(z).numpy(), F.relu(z).numpy()
    row = (std, np.mean((s < 0.01) | (s > 0.99)), np.mean(np.abs(t) > 0.99), np.mean(r == 0))
    sat_rows.append(row)
print(f"{n_sat:,} pre-activations per row; share of outputs in the flat regions:")
table(["input std", "sigmoid < 0.01 or > 0.99", "abs(tanh) > 0.99", "relu = 0"],
      [(f"{r[0]:g}", f"{r[1]:.1%}", f"{r[2]:.1%}", f"{r[3]:.1%}") for r in sat_rows],
      key="saturation")

# %% [markdown]
# ## 2. Stability at extreme inputs
#
# ### Sigmoid
#
# The textbook `1 / (1 + exp(-x))` computes `exp(1000)`, which overflows to `inf` (with a
# warning); the result `1 / inf = 0` happens to be right, but the other textbook form
# `exp(x) / (1 + exp(x))` gives `inf / inf = NaN`. The stable form only ever computes
# `exp(-|x|) <= 1`. Inputs in float32, as in a real network; the reference is float64.

# %%


def count_warnings(fn):
    """Run ``fn``; return its result and how many floating-point warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # overflow, 0/0 and division by zero; underflow to 0 is harmless (NumPy ignores it)
        with np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
            out = fn()
    return out, sum(issubclass(w.category, RuntimeWarning) for w in caught)


def ref_sigmoid(x):
    x = float(x)
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


xs_ext = np.array([-1000, -100, -88, -20, 0, 20, 88, 100, 1000], dtype=np.float32)
naive1, w1 = count_warnings(lambda: 1 / (1 + np.exp(-xs_ext)))
naive2, w2 = count_warnings(lambda: np.exp(xs_ext) / (1 + np.exp(xs_ext)))
stable, w3 = count_warnings(lambda: F.sigmoid(tt.tensor(xs_ext)).numpy())
table(["x", "1/(1+e^-x)", "e^x/(1+e^x)", "tinytorch", "float64 reference"],
      [(f"{x:.0f}", f"{naive1[i]:.6g}", f"{naive2[i]:.6g}", f"{stable[i]:.6g}",
        f"{ref_sigmoid(x):.6g}") for i, x in enumerate(xs_ext)], key="sigmoid")
print(f"floating-point warnings: {w1} (1/(1+e^-x)), {w2} (e^x/(1+e^x)), {w3} (tinytorch)")
lab.record("sigmoid-warnings", f"{w1} by the first textbook form, {w2} by the second, {w3} by ours")

# %% [markdown]
# ### Softmax
#
# `exp(x) / sum(exp(x))` overflows as soon as a logit passes about 88.7 in float32
# (`exp(88.7)` is float32's largest number), and then the row is NaN. Subtracting the row
# maximum first changes nothing mathematically and keeps every exponent at most 0.
# We scale random logits by a growing factor and count the rows that come out NaN, and the
# largest error against a float64 reference.

# %%


def naive_softmax(x):
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)


def ref_softmax(x):
    x = x.astype(np.float64)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


rows_n = 1_000 if QUICK else 10_000
base_logits = rng.standard_normal((rows_n, 10)).astype(np.float32)
softmax_rows, softmax_table = [], []
for scale in [1, 10, 30, 50, 100, 1000]:
    logits = base_logits * scale
    ref = ref_softmax(logits)
    with np.errstate(all="ignore"):
        naive = naive_softmax(logits)
    stable = F.softmax(tt.tensor(logits), dim=1).numpy()
    nan_naive = int(np.isnan(naive).any(axis=1).sum())
    nan_stable = int(np.isnan(stable).any(axis=1).sum())
    err_naive = np.nanmax(np.abs(naive - ref)) if nan_naive < rows_n else float("nan")
    err_stable = np.max(np.abs(stable - ref))
    softmax_rows.append((scale, nan_naive, nan_stable))
    softmax_table.append((scale, f"{np.abs(logits).max():.1f}", f"{nan_naive:,}",
                          f"{err_naive:.2g}", f"{nan_stable:,}", f"{err_stable:.2g}"))
table(["scale", "max abs(logit)", "naive NaN rows", "naive max error*", "stable NaN rows",
       "stable max error"], softmax_table, key="softmax")
print(f"* over the naive rows that are not NaN; {rows_n:,} rows of 10 float32 logits")

# %% [markdown]
# ### log of softmax versus log_softmax
#
# Cross-entropy needs `log(softmax(x))`. Computed in two steps, a probability that underflows
# to 0 turns into `log(0) = -inf` (and a NaN gradient later). `log_softmax` computes
# `x - max - log(sum(exp(x - max)))` directly and stays exact. Two logits `[0, -gap]`:

# %%
gap_rows = []
for gap in [10, 50, 87, 100, 104, 110, 1000]:
    x2 = tt.tensor(np.array([[0.0, -gap]], dtype=np.float32))
    with np.errstate(all="ignore"):
        p = F.softmax(x2, dim=1).numpy()[0, 1]
        two_step = np.log(F.softmax(x2, dim=1).numpy())[0, 1]
    direct = F.log_softmax(x2, dim=1).numpy()[0, 1]
    exact = -gap - math.log1p(math.exp(-gap))
    gap_rows.append((gap, f"{p:.4g}", f"{two_step:.6g}", f"{direct:.6g}", f"{exact:.6g}"))
table(["gap", "softmax[1]", "log(softmax)[1]", "log_softmax[1]", "exact"], gap_rows,
      key="log-softmax")

# %% [markdown]
# float32 stops at about 1.4e-45 (the smallest subnormal), so `softmax` of a gap above ~103
# is exactly 0 and its log is `-inf`; `log_softmax` keeps going. Module 04's `cross_entropy`
# is built on the same formula for the same reason.
#
# ## 3. Cost per element
#
# Every activation is one or a few vectorized NumPy passes. The cost is set by how many passes
# and how expensive each is: `max` is one compare; `tanh` and `exp` are transcendental; exact
# GELU evaluates a polynomial and an `exp` for `erf`.

# %%
n_cost = 100_000 if QUICK else 1_000_000
x_cost = tt.tensor(rng.standard_normal(n_cost).astype(np.float32))
x_rows = tt.tensor(rng.standard_normal((n_cost // 100, 100)).astype(np.float32))
raw = x_cost.numpy()
costs = {
    "numpy maximum (bound)": best_time(lambda: np.maximum(raw, 0)),
    "relu": best_time(lambda: F.relu(x_cost)),
    "leaky_relu": best_time(lambda: F.leaky_relu(x_cost)),
    "sigmoid": best_time(lambda: F.sigmoid(x_cost)),
    "tanh": best_time(lambda: F.tanh(x_cost)),
    "gelu (erf)": best_time(lambda: F.gelu(x_cost)),
    "gelu (tanh)": best_time(lambda: F.gelu(x_cost, approximate="tanh")),
    "silu": best_time(lambda: F.silu(x_cost)),
    "softmax (rows of 100)": best_time(lambda: F.softmax(x_rows, dim=1)),
    "log_softmax (rows of 100)": best_time(lambda: F.log_softmax(x_rows, dim=1)),
}
relu_t = costs["relu"]
print(f"{n_cost:,} float32 elements")
table(["activation", "ns/element", "x relu"],
      [(name, f"{t / n_cost * 1e9:.2f}", f"{t / relu_t:.1f}") for name, t in costs.items()],
      key="cost")
lab.record("gelu-tanh-x", f"{costs['gelu (erf)'] / costs['gelu (tanh)']:.0f}x")

fig, ax = plt.subplots(figsize=(7, 4))
names = list(costs)
ax.barh(names, [costs[k] / n_cost * 1e9 for k in names], color="tab:orange")
ax.invert_yaxis()
ax.set_xlabel("ns per element")
ax.set_title(f"activation cost ({n_cost:,} float32 elements)")
fig.tight_layout()
fig.savefig(OUT / "activation_cost.png", dpi=120)
plt.close(fig)

# %% [markdown]
# Why do leaky_relu, sigmoid and silu cost an order of magnitude more than relu and tanh,
# though each is a handful of cheap passes? They pick between two formulas per element with
# `np.where(x > 0, ...)`. On random signs that select is slow; on sorted data (the same
# values, so the same work) it is fast. Measure it:

# %%
mask_random = raw > 0
mask_sorted = np.sort(raw) > 0
other = raw * 0.01
t_rand = best_time(lambda: np.where(mask_random, raw, other))
t_sort = best_time(lambda: np.where(mask_sorted, raw, other))
t_mul = best_time(lambda: raw * 0.01)
print(f"np.where, random mask: {t_rand / n_cost * 1e9:.2f} ns/element")
print(f"np.where, sorted mask: {t_sort / n_cost * 1e9:.2f} ns/element")
print(f"x * 0.01 (for scale):  {t_mul / n_cost * 1e9:.2f} ns/element")
lab.record("where-random", f"{t_rand / n_cost * 1e9:.2f}")
lab.record("where-sorted", f"{t_sort / n_cost * 1e9:.2f}")

# %% [markdown]
# When the cost depends on the *values* and not only the sizes, the CPU is guessing wrong:
# a data-dependent branch per element that the branch predictor cannot learn (your numbers
# depend on the NumPy version and CPU; on some builds `where` is branch-free and both rows
# match). A branch-free formula (`max(x, 0) + slope * min(x, 0)`) avoids the guess; exactness
# in the tails is why the stable sigmoid keeps its select.
#
# ReLU is the cheapest by a wide margin, one reason it became the default. The smooth
# activations cost several times more per element, but in a real network the matrix
# products around them cost far more again (module 01's lab: a (batch, d) @ (d, d) product
# does d multiply-adds per output element), so the choice is made on how well the network
# trains, not on this table.
#
# ## 4. How good is our erf?
#
# GELU(x) = x Phi(x) with Phi(x) = (1 + erf(x / sqrt 2)) / 2. NumPy has no `erf` (SciPy does,
# but the framework depends on NumPy only), so `activations.erf` uses the Abramowitz-Stegun
# rational approximation 7.1.26. Measured against Python's `math.erf`:

# %%
grid = np.linspace(-6, 6, 2001 if QUICK else 20001)
err = np.abs(erf(grid) - np.array([math.erf(v) for v in grid]))
print(f"max |erf_ours - math.erf| over [-6, 6]: {err.max():.2e} at x = {grid[err.argmax()]:.3f}")
print(f"float32 resolution near 1 (np.finfo(float32).eps): {np.finfo(np.float32).eps:.2e}")
g_exact = F.gelu(tt.tensor(grid)).numpy()
g_tanh = F.gelu(tt.tensor(grid), approximate="tanh").numpy()
print(f"max |gelu_exact - gelu_tanh| over [-6, 6]: {np.abs(g_exact - g_tanh).max():.2e}")
lab.record("erf-error", f"{err.max():.2e}")
lab.record("gelu-diff", f"{np.abs(g_exact - g_tanh).max():.2e}")

# %%
print("plots written:", ", ".join(sorted(p.name for p in OUT.glob("*.png"))))
