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
# # Lab 19 -- Benchmarking: a number you can trust, and a suite that trains before it times
#
# You wrote the statistics of a timing (quantiles, IQR, Tukey's fences), the warm-up/repeat
# loop, and the "within noise" verdict. This lab uses them on your framework:
#
# 1. one step timed 60 times: the spread, the outliers, mean against median (a histogram
#    with the fences drawn);
# 2. the warm-up: the first calls of a fresh model against its steady state;
# 3. the machine the numbers belong to (CPU, BLAS, threads, load);
# 4. a mini TinyMLPerf: the digits MLP trained to its held-out target, timed, **twice**, and
#    the two runs compared -- the same code should come out "within noise";
# 5. a planted 2x slowdown (every call done twice) -- the comparison must flag it;
# 6. (full mode) the whole suite, each task in a fresh process.
#
# Run it on your code: `tito module lab 19`. `TINYTORCH_QUICK=1` shrinks it to seconds;
# plots go to `$TINYTORCH_OUT` (default `runs/labs/19_benchmarking`). Every number printed
# here is measured now, on this machine: if the load average printed in section 3 is above
# the core count, expect wide spreads.

# %%
from tito import labkit
from tito.labkit import table

lab = labkit.setup("19_benchmarking")
QUICK, OUT = lab.quick, lab.out

import time  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tinytorch as tt  # noqa: E402
import tinytorch.nn as nn  # noqa: E402
from tinytorch.benchmarking import Benchmark, environment, results, tinymlperf  # noqa: E402
from tinytorch.benchmarking import compare as cmp  # noqa: E402
from tinytorch.benchmarking.stats import summarize, tukey_fences  # noqa: E402

tt.manual_seed(0)
print(labkit.machine())

# %% [markdown]
# ## 1. Sixty timings of one step
#
# An MLP 64-128-10 training step on a batch of 64: forward, cross-entropy, backward, Adam.
# `Benchmark.measure` warms it up, times each call, and summarizes: the median and the
# interquartile range of the samples inside Tukey's fences, and how many fell outside.

# %%
model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
opt = tt.optim.Adam(model.parameters(), lr=1e-3)
rng = np.random.default_rng(0)
x = tt.tensor(rng.standard_normal((64, 64)).astype(np.float32))
y = tt.tensor(rng.integers(0, 10, 64))


def step():
    loss = nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()


m = Benchmark(warmup=5, repeats=20 if QUICK else 60).measure("mlp step", step)
s = m.summary
lo, hi = tukey_fences(m.samples)
table(["samples", "median ms", "Q1", "Q3", "IQR / median", "mean (all)", "max (all)",
       "outliers"],
      [[s.n, f"{s.median:.3f}", f"{s.q1:.3f}", f"{s.q3:.3f}", f"{s.rel_spread:.1%}",
        f"{np.mean(m.samples):.3f}", f"{max(m.samples):.3f}", s.outliers]], key="one-step")
lab.record("mean-over-median", f"{np.mean(m.samples) / s.median:.2f}")
fig, ax = plt.subplots(figsize=(6, 3))
ax.hist(m.samples, bins=30, color="#4c72b0")
for v, label in ((s.median, "median"), (lo, "low fence"), (hi, "high fence")):
    ax.axvline(v, color="k" if label == "median" else "r", ls="-" if label == "median" else "--")
ax.set_xlabel("ms per step")
ax.set_title("one step, timed repeatedly (fences dashed)")
fig.tight_layout()
fig.savefig(OUT / "step_histogram.png", dpi=100)
print(f"wrote {OUT / 'step_histogram.png'}")

# %% [markdown]
# The mean sits above the median whenever a few slow samples are in the list (a garbage
# collection, a neighbour's burst): the mean counts them in full, the median barely notices.

# %% [markdown]
# ## 2. The warm-up
#
# A fresh model's first steps are not its steady state: Adam creates its moment buffers on
# the first step, the allocator reserves memory, caches are cold. Timed one by one:

# %%
fresh = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
opt = tt.optim.Adam(fresh.parameters(), lr=1e-3)
model = fresh
first = []
for _ in range(10):
    t0 = time.perf_counter()
    step()
    first.append((time.perf_counter() - t0) * 1e3)
table(["call", "ms"], [[i + 1, f"{t:.3f}"] for i, t in enumerate(first[:5])]
      + [["steady median (section 1)", f"{s.median:.3f}"]])

# %% [markdown]
# ## 3. The machine these numbers belong to

# %%
env = environment.capture()
table(["cpu", "cores", "load (1 min)", "numpy", "BLAS", "thread variables"],
      [[env["cpu"], env["cores"], env["load_average_1min"], env["numpy"],
        (env["blas"].get("pools") or [{}])[0].get("internal_api", env["blas"].get("name")),
        ", ".join(f"{k}={v}" for k, v in env["thread_env"].items() if v)]])

# %% [markdown]
# ## 4. A mini TinyMLPerf, run twice
#
# The digits MLP task: trained until the validation split reaches 0.97, then evaluated on the
# 359 held-out test digits (target 0.93), then inference timed at batch 1 and 32. Run twice
# in this process, with the same seed and data; `compare_results` then compares every timing.

# %%
reps = 5 if QUICK else 25
runs = []
for k in range(2):
    row = tinymlperf.run_in_process("mlp_digits", quick=True, repeats=reps)
    if row["error"]:
        raise RuntimeError(row["error"] + "\n" + row.get("traceback", ""))
    runs.append(results.make([row], env, {"quick": True, "outlier_k": 1.5, "repeats": reps},
                             tinymlperf.SUITE_VERSION))
for k, r in enumerate(runs):
    t = r["tasks"][0]
    print(f"run {k + 1}: test accuracy {t['quality']:.4f} (target {t['target']}, "
          f"{'met' if t['met'] else 'NOT met'}) after {t['steps']} steps, "
          f"{t['train_to_target_s']:.2f} s")
same = cmp.compare_results(runs[0], runs[1])
print(results.format_comparison(same, "run 1", "run 2"))

# %% [markdown]
# ## 5. A planted 2x slowdown
#
# The same inference, once as it is and once done twice per call. The comparison should say
# "slower" with a spread around 0.5x and flag it -- if your `within_noise` calls this within
# noise, it would also miss a real regression.

# %%
net = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)).eval()
xb = tt.tensor(np.random.default_rng(1).random((32, 64)).astype(np.float32))


def infer():
    with tt.no_grad():
        net(xb)


def infer_twice():
    infer()
    infer()


bench = Benchmark(warmup=3, repeats=15 if QUICK else 40)
a, b = bench.measure("once", infer), bench.measure("twice", infer_twice)
c = cmp.compare("batch-32 inference", a.summary, b.summary)
table(["", "median ms", "IQR"], [["once", f"{a.summary.median:.3f}", f"{a.summary.iqr:.3f}"],
                                 ["twice", f"{b.summary.median:.3f}", f"{b.summary.iqr:.3f}"]])
print(f"verdict: {c.describe()}; flagged: {c.flagged}")

# %% [markdown]
# ## 6. The whole suite (full mode only)
#
# Every task in a fresh process: the digits MLP and CNN, the sequence-reversal transformer and
# the character GPT on the standard library's sources. The same command from the shell:
# `tito benchmark run --json mine.json`, then `tito benchmark compare mine.json theirs.json`.

# %%
if not QUICK:
    rows = tinymlperf.run_suite(progress=lambda t: print(f"  {t} ..."))
    full = results.make(rows, env, {"quick": False, "isolate": True, "outlier_k": 1.5,
                                     "repeats": 25}, tinymlperf.SUITE_VERSION)
    results.save(full, OUT / "tinymlperf.json")
    print(results.format_table(full))
else:
    print("quick mode: the full suite is skipped (tito benchmark run --quick runs it small)")
