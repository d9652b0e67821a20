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
# # Lab 14 -- Profiling: where the FLOPs, the bytes and the milliseconds go
#
# You wrote a FLOP counter (`matmul_flops`, `conv2d_flops`), the profiler's aggregation
# (`FunctionEventAvg.add`), a latency harness (`measure_latency`: warm-up, repeats, median
# and IQR), parameter bytes and Amdahl's law. This lab points them at three real models --
# the digits MLP, a digits CNN and a small GPT -- and measures:
#
# 1. size and arithmetic: parameters, bytes, FLOPs per forward and per training step;
# 2. latency with its spread, and the arithmetic rate each model actually reaches (GFLOP/s);
# 3. the profiler's op table for one CNN training step, forward and backward;
# 4. a per-layer report of the CNN: table, JSON and a bar chart;
# 5. memory: inference vs training peak of the GPT (tracemalloc);
# 6. Amdahl's law on the measured profile: what a 2x faster matmul/conv would buy;
# 7. what the profiler itself costs.
#
# Run it on your code: `tito module lab 14` (`--notebook` opens it in Jupyter).
# `TINYTORCH_QUICK=1` shrinks every experiment to seconds; plots go to `$TINYTORCH_OUT`
# (default `runs/labs/14_profiling`). Every number below is measured when you run it.

# %%
from tito import labkit
from tito.labkit import table

lab = labkit.setup("14_profiling")
QUICK, OUT = lab.quick, lab.out

import numpy as np  # noqa: E402

import tinytorch as tt  # noqa: E402
import tinytorch.nn as nn  # noqa: E402
import tinytorch.nn.functional as F  # noqa: E402
from tinytorch.models.gpt import GPT  # noqa: E402
from tinytorch.profiling import (amdahl_limit, amdahl_speedup, measure_latency,  # noqa: E402
                                 measure_memory, model_size, profile_layers)
from tinytorch.utils.flop_counter import FlopCounterMode  # noqa: E402

tt.manual_seed(0)
print(labkit.machine())
REPEATS = 5 if QUICK else 30

# %% [markdown]
# ## The models and their data
#
# The 8x8 digits (scikit-learn's, no download): a batch of 64 real images for the MLP
# (flattened to 64 features) and the CNN (1 x 8 x 8); random token ids for the GPT. No
# count or time below depends on the values read, only on the shapes, so quick mode uses
# random images of the digits' shape and skips loading scikit-learn.

# %%
if QUICK:
    rng = np.random.default_rng(0)
    images = tt.tensor(rng.random((64, 1, 8, 8), dtype=np.float32))
    labels = tt.tensor(rng.integers(0, 10, size=64))
else:
    from tinytorch.data import digits

    train_set, _ = digits(flatten=False)
    images = train_set.tensors[0][:64]  # (64, 1, 8, 8)
    labels = train_set.tensors[1][:64]

mlp = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
cnn = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Flatten(), nn.Linear(32 * 2 * 2, 10))
T = 32 if QUICK else 64
gpt = GPT(vocab_size=96, d_model=64 if QUICK else 128, n_layers=2 if QUICK else 4,
          n_heads=4, max_seq_len=T)
tokens = tt.tensor(np.random.default_rng(0).integers(0, 96, size=(8, T)))
targets = tt.tensor(np.random.default_rng(1).integers(0, 96, size=(8, T)))


def cnn_loss():
    return F.cross_entropy(cnn(images), labels)


def mlp_loss():
    return F.cross_entropy(mlp(images), labels)


def gpt_loss():
    logits = gpt(tokens)
    return F.cross_entropy(logits.reshape(-1, 96), targets.reshape(-1))


MODELS = {"MLP": (mlp, images, mlp_loss), "CNN": (cnn, images, cnn_loss),
          "GPT": (gpt, tokens, gpt_loss)}

# %% [markdown]
# ## 1. Size and arithmetic
#
# Parameters and their bytes come from the arrays (`nbytes`); FLOPs from the shapes each op
# ran on. A training step's FLOPs are counted by running one: forward, then `backward()`
# inside the counter. The ratio is the "training costs about 3 forwards" rule -- measured,
# and below 3 where the first layer needs no input gradient.

# %%
rows, FLOPS = [], {}
for name, (model, x, loss_fn) in MODELS.items():
    size = model_size(model)
    with tt.no_grad(), FlopCounterMode(display=False) as fwd:
        model(x)
    with FlopCounterMode(display=False) as step:
        loss_fn().backward()
    model.zero_grad()
    FLOPS[name] = (fwd.get_total_flops(), step.get_total_flops())
    rows.append((name, f"{size['parameters']:,}", f"{size['parameter_bytes']:,}",
                 f"{fwd.get_total_flops():,}", f"{step.get_total_flops():,}",
                 f"{step.get_total_flops() / fwd.get_total_flops():.2f}"))
table(["model", "parameters", "param bytes", "FLOPs forward", "FLOPs train step",
       "step / forward"], rows, key="size")

# %% [markdown]
# ## 2. Latency with its spread, and the rate reached
#
# `measure_latency` warms up, times `REPEATS` forwards one by one and reports the median and
# the interquartile range. FLOPs divided by the median is the arithmetic rate: compare it
# with what one core's BLAS reaches on a large matmul (timed here as well) to see how far
# small layers sit from the machine's peak.

# %%
rows = []
for name, (model, x, _) in MODELS.items():
    with tt.no_grad():
        st = measure_latency(model, x, warmup=2, repeats=REPEATS)
    rows.append((name, f"{st.median * 1e3:.3f}", f"{st.iqr * 1e3:.3f}",
                 f"{100 * st.relative_spread:.1f}%", f"{FLOPS[name][0] / st.median / 1e9:.2f}"))
n = 256 if QUICK else 512
a, b = np.ones((n, n), np.float32), np.ones((n, n), np.float32)
st = measure_latency(np.matmul, a, b, warmup=2, repeats=REPEATS)
rows.append((f"BLAS {n}x{n} matmul", f"{st.median * 1e3:.3f}", f"{st.iqr * 1e3:.3f}",
             f"{100 * st.relative_spread:.1f}%", f"{2 * n ** 3 / st.median / 1e9:.2f}"))
table(["model (batch forward)", "median ms", "IQR ms", "IQR / median", "GFLOP/s"], rows,
      key="latency")

# %% [markdown]
# ## 3. The profiler's table: one CNN training step
#
# `tt.profiler.profile()` times every op's forward (in `Function.apply`) and every node's
# backward (in the engine's sweep). Sorted by self time: the convolution's backward usually
# leads -- it does twice the forward's arithmetic -- but look at how much time goes to ops
# with no FLOPs at all (pooling, reshapes, the loss).

# %%
cnn_loss().backward()  # warm-up: first-call costs stay out of the profile
with tt.profiler.profile(with_flops=True) as prof:
    for _ in range(2 if QUICK else 10):
        cnn.zero_grad()
        cnn_loss().backward()
averages = prof.key_averages()
print(averages.table(sort_by="self_cpu_time_total", row_limit=12))
averages.export_json(OUT / "cnn_step_ops.json")
prof.export_chrome_trace(OUT / "cnn_step_trace.json")
fwd_us = sum(e.self_cpu_time_total for e in averages if not e.is_backward)
bwd_us = sum(e.self_cpu_time_total for e in averages if e.is_backward)
print(f"\nforward ops {fwd_us / 1e3:.2f} ms, backward ops {bwd_us / 1e3:.2f} ms "
      f"(backward / forward = {bwd_us / fwd_us:.2f})")
# The guide quotes the first rows and the ratio (recorded, not printed again).
total_us = averages.self_cpu_time_total or 1.0
lab.record_table("ops", ["op", "self CPU", "calls", "FLOPs"], [
    (e.key, f"{e.self_cpu_time_total / 1e3:.1f} ms ({100 * e.self_cpu_time_total / total_us:.1f}%)",
     e.count, f"{e.flops / 1e6:.1f} M" if e.flops else "0")
    for e in sorted(averages, key=lambda e: e.self_cpu_time_total, reverse=True)[:6]])
lab.record("bwd-fwd", f"{bwd_us / fwd_us:.2f}x")

# %% [markdown]
# ## 4. Per layer: the CNN's table, JSON and bar chart

# %%
report = profile_layers(cnn, images, repeats=REPEATS)
print(report.table())
lab.record_table("layers", ["layer", "type", "params", "param bytes", "output", "act bytes",
                            "FLOPs", "time ms"],
                 [(r.name, r.kind, f"{r.parameters:,}", f"{r.parameter_bytes:,}",
                   "x".join(map(str, r.output_shape)), f"{r.output_bytes:,}", f"{r.flops:,}",
                   f"{r.time_s * 1e3:.3f}") for r in report.rows if r.kind not in
                  ("ReLU", "Flatten")])
report.to_json(OUT / "cnn_layers.json")
report.bar_chart(OUT / "cnn_layers_time.png", metric="time_s")
report.bar_chart(OUT / "cnn_layers_flops.png", metric="flops")
print(f"\nwrote {OUT / 'cnn_layers.json'} and two bar charts")

# %% [markdown]
# ## 5. Memory: inference vs training
#
# Under `no_grad` nothing is kept for backward: the peak is about the two largest
# activations alive at once. With grad on, every op saves what its backward needs, so the
# forward's peak grows with depth, and backward adds the gradients. Measured with
# tracemalloc, in bytes NumPy actually allocated.

# %%
rows = []
for name, (model, x, loss_fn) in MODELS.items():
    with tt.no_grad():
        inf = measure_memory(model, x)

    def step():
        loss_fn().backward()

    train = measure_memory(step)
    model.zero_grad(set_to_none=True)
    rows.append((name, f"{model_size(model)['parameter_bytes']:,}", f"{inf.peak_bytes:,}",
                 f"{train.peak_bytes:,}", f"{train.peak_bytes / max(inf.peak_bytes, 1):.1f}"))
table(["model", "param bytes", "inference peak", "train-step peak", "train / inference"],
      rows, key="memory")

# %% [markdown]
# ## 6. Amdahl's law on the measured profile
#
# Suppose you make the arithmetic ops (matmul, convolution, attention and their backwards)
# twice as fast. The share `p` of the step they take is measured above; the rest (pooling,
# activations, reshapes, the loss, Python) is untouched. Amdahl: `1 / ((1 - p) + p / 2)`.

# %%
HEAVY = ("Linear", "MatMul", "Conv2d", "SDPA", "FlashAttention")
heavy = sum(e.self_cpu_time_total for e in averages if e.key.replace("Backward", "") in HEAVY)
p = heavy / averages.self_cpu_time_total
table(["share p in matmul/conv", "speedup if 2x faster", "if 10x faster", "ceiling 1/(1-p)"],
      [(f"{p:.2f}", f"{amdahl_speedup(p, 2):.2f}x", f"{amdahl_speedup(p, 10):.2f}x",
        f"{amdahl_limit(p):.2f}x")], key="amdahl")

# %% [markdown]
# ## 7. What profiling costs
#
# With no profiler active the engine checks one variable per op. With one active, every op
# reads the clock twice and records an event: small ops pay the most.

# %%
with tt.no_grad():
    plain = measure_latency(mlp, images, warmup=2, repeats=REPEATS)

    def profiled():
        with tt.profiler.profile():
            mlp(images)

    with_prof = measure_latency(profiled, warmup=2, repeats=REPEATS)
table(["MLP forward", "median ms", "IQR ms"],
      [("no profiler", f"{plain.median * 1e3:.3f}", f"{plain.iqr * 1e3:.3f}"),
       ("inside profile()", f"{with_prof.median * 1e3:.3f}", f"{with_prof.iqr * 1e3:.3f}")],
      key="profiler-cost")
