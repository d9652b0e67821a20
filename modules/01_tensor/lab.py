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
# # Module 01 lab: what a tensor costs
#
# You have a `Tensor`: an n-dimensional array with PyTorch's names and dtype rules, whose
# ops (`+`, `@`, `sum`, `reshape`, `x[idx]` ...) are computed by NumPy. This lab measures the
# three facts about tensors that shape every later module:
#
# 1. **Broadcasting** lets shapes that differ combine without copying, by rules you can predict.
# 2. **Memory** is `numel x bytes per element`: float64 doubles it, float16 halves it, and
#    views (`reshape`, `.T`, slices) share memory while gathers (`x[[0, 2]]`) copy.
# 3. **Speed** comes from doing whole arrays at once: a Python loop over elements is about
#    100x slower than one vectorized call, and a matrix product reaches billions of
#    floating-point operations per second only because BLAS runs it, not Python.
#
# Run it on your code with `tito module lab 1` (`--notebook` opens it in Jupyter, `--quick`
# shrinks it, `--reference` runs the reference). `TINYTORCH_QUICK=1` shrinks every experiment to a few
# seconds; `TINYTORCH_OUT` chooses where the plots go (default `runs/labs/01_tensor`).
# NumPy runs on one thread here (`TINYTORCH_LAB_THREADS`, as in every lab) except where
# section 4 compares thread counts on purpose. Every number printed is measured when the lab
# runs, on your machine.

# %%
import json
import os
import subprocess
import sys
from functools import partial

from tito import labkit
from tito.labkit import table

# One BLAS thread for steady timings (TINYTORCH_LAB_THREADS=0 keeps NumPy's default) and the
# Agg backend, both set before NumPy is imported: why, in tito/labkit.py.
lab = labkit.setup("01_tensor")
QUICK, OUT = lab.quick, lab.out

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tinytorch as tt  # noqa: E402

# Rounds of at least 20 ms (quick) or 100 ms, best of 3 or 5: some ops here take nanoseconds.
best_time = partial(labkit.best_time, min_time=0.02 if QUICK else 0.1, repeat=3 if QUICK else 5)

labkit.print_context(lab)

# %% [markdown]
# ## 1. Broadcasting: predict the shape, then check
#
# Align the shapes on the right. Each pair of sizes must be equal, or one of them 1 (it is
# stretched), or missing (treated as 1). The result takes the larger size in every position.
# Nothing is copied: NumPy reads the stretched operand with a stride of 0.

# %%
pairs = [((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((8, 1, 6, 1), (7, 1, 5)),
         ((5,), ()), ((2, 3), (3, 2))]
print(f"{'a':>14} {'b':>12}   a + b")
for sa, sb in pairs:
    try:
        out = (tt.zeros(*sa) + tt.zeros(*sb)).shape
        result = str(out)
    except ValueError as e:  # the error names both shapes and says what to do
        result = "ValueError: " + str(e).split(":", 1)[1].strip()[:60] + "..."
    print(f"{str(sa):>14} {str(sb):>12}   {result}")

# %% [markdown]
# A bias row added to a whole batch is the everyday case: `(batch, features) + (features,)`.
# Broadcasting is also how `x - x.mean(dim=1, keepdim=True)` centres every row: `keepdim`
# keeps the reduced axis as size 1 so that the result lines up again.

# %%
x = tt.tensor([[1.0, 2.0, 3.0], [4.0, 6.0, 8.0]])
print("x =", x.tolist())
print("x.mean(dim=1, keepdim=True) =", x.mean(dim=1, keepdim=True).tolist())
print("x - x.mean(dim=1, keepdim=True) =", (x - x.mean(dim=1, keepdim=True)).tolist())

# %% [markdown]
# ## 2. Memory: dtype, size, and views versus copies
#
# A tensor's memory is its number of elements times the bytes per element. We allocate real
# tensors and read their size back from NumPy (`.numpy().nbytes`).

# %%
side = 512 if QUICK else 2048
rows = []
for name, dtype in [("float16", tt.float16), ("float32", tt.float32), ("float64", tt.float64),
                    ("int64", tt.int64), ("bool", tt.bool)]:
    t = tt.zeros(side, side, dtype=dtype)
    rows.append((name, t.dtype.itemsize, t.numpy().nbytes))
print(f"a {side} x {side} tensor ({side * side:,} elements):")
table(["dtype", "bytes/element", "MiB"],
      [(name, item, f"{nbytes / 2**20:.1f}") for name, item, nbytes in rows])

fig, ax = plt.subplots(figsize=(5, 3))
ax.bar([r[0] for r in rows], [r[2] / 2**20 for r in rows], color="tab:blue")
ax.set_ylabel("MiB")
ax.set_title(f"memory of a {side}x{side} tensor by dtype")
fig.tight_layout()
fig.savefig(OUT / "memory_by_dtype.png", dpi=120)
plt.close(fig)

# %% [markdown]
# float32 is the default for a reason: half the memory of float64 and, below, often twice the
# matmul speed, with 7 significant digits, which is plenty for gradients. Integer tensors stay
# integer (class labels, token ids), and `int / int` gives float32, as in PyTorch.
#
# Which ops copy? A *view* reuses the same buffer with different strides; a *copy* allocates.

# %%
base = tt.tensor(np.arange(12, dtype=np.float32).reshape(3, 4))
cases = [("x.reshape(4, 3)", base.reshape(4, 3)), ("x.T", base.T), ("x[1:, ::2]", base[1:, ::2]),
         ("x.permute(1, 0)", base.permute(1, 0)), ("x.expand(2, 3, 4)", base.expand(2, 3, 4)),
         ("x[[0, 2]]  (gather)", base[[0, 2]]), ("x[x > 5]  (mask)", base[base > 5]),
         ("x + 0", base + 0)]
print(f"{'op':>22} {'shares memory with x':>22}")
for name, t in cases:
    print(f"{name:>22} {str(np.shares_memory(t.numpy(), base.numpy())):>22}")

# %% [markdown]
# Views are free, but they share data: writing into a view writes into the original. That is
# why the framework never modifies a tensor in place behind your back, and why module 05 will
# forbid in-place writes into tensors that autograd needs.
#
# ## 3. Vectorized versus Python loops
#
# The same elementwise `a + b`, four ways: a Python loop over lists of floats, a Python loop
# indexing NumPy arrays element by element, one NumPy call, and one tinytorch op (a NumPy call
# plus the framework's bookkeeping).

# %%
sizes = [100, 1_000, 10_000] if QUICK else [100, 1_000, 10_000, 100_000, 1_000_000]
loop_limit = 10_000 if QUICK else 100_000  # the loops get slow; the trend is clear by then
rng = np.random.default_rng(0)
timings = {"python list loop": [], "loop over ndarray": [], "numpy": [], "tinytorch": []}
for n in sizes:
    a, b = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    la, lb = a.tolist(), b.tolist()
    ta, tb = tt.tensor(a), tt.tensor(b)
    out = np.empty_like(a)

    def list_loop():
        return [x + y for x, y in zip(la, lb)]

    def array_loop():
        for i in range(n):
            out[i] = a[i] + b[i]

    timings["python list loop"].append(best_time(list_loop) if n <= loop_limit else None)
    timings["loop over ndarray"].append(best_time(array_loop) if n <= loop_limit else None)
    timings["numpy"].append(best_time(lambda: np.add(a, b)))
    timings["tinytorch"].append(best_time(lambda: ta + tb))

print("nanoseconds per element:")
loop_rows = []
for i, n in enumerate(sizes):
    cells = [f"{timings[k][i] / n * 1e9:.2f}" if timings[k][i] is not None else "-"
             for k in timings]
    ratio = timings["python list loop"][i]
    ratio = f"{ratio / timings['numpy'][i]:.0f}x" if ratio is not None else "-"
    loop_rows.append([f"{n:,}"] + cells + [ratio])
table(["n", "Python list loop", "loop over ndarray", "NumPy", "tinytorch", "list loop / NumPy"],
      loop_rows, key="loops")
# the figures the guide's prose quotes: at the largest size both loops ran
last = max(i for i, n in enumerate(sizes) if n <= loop_limit)
n_last = sizes[last]
lab.record("loop-ns", f"{timings['python list loop'][last] / n_last * 1e9:.0f}")
lab.record("array-loop-x", f"{timings['loop over ndarray'][last] / timings['python list loop'][last]:.1f}x")
lab.record("numpy-ns", f"{timings['numpy'][last] / n_last * 1e9:.2f}")
lab.record("loop-numpy-x", f"{timings['python list loop'][last] / timings['numpy'][last]:.0f}x")
lab.record("loop-n", f"{n_last:,}")

fig, ax = plt.subplots(figsize=(6, 4))
for k, ts in timings.items():
    xs = [n for n, t in zip(sizes, ts) if t is not None]
    ax.loglog(xs, [t for t in ts if t is not None], "o-", label=k)
ax.set_xlabel("elements")
ax.set_ylabel("seconds per a + b")
ax.set_title("elementwise add: loops versus one vectorized call")
ax.legend()
ax.grid(True, which="both", alpha=0.3)
fig.tight_layout()
fig.savefig(OUT / "loop_vs_vectorized.png", dpi=120)
plt.close(fig)

# %% [markdown]
# Read the table from left to right: a Python loop pays the interpreter (tens of nanoseconds)
# for every element; NumPy pays it once per call and then runs a compiled loop over contiguous
# memory (SIMD, a fraction of a nanosecond per element). tinytorch adds a fixed cost per op
# (argument checks, the autograd `Function.apply`) that dominates for tiny tensors and vanishes
# for large ones. Measure that fixed cost directly:

# %%
small_a, small_b = np.ones(1, np.float32), np.ones(1, np.float32)
ts_a, ts_b = tt.tensor(small_a), tt.tensor(small_b)
t_np = best_time(lambda: np.add(small_a, small_b))
t_tt = best_time(lambda: ts_a + ts_b)
print(f"one-element add: NumPy {t_np * 1e6:.2f} us, tinytorch {t_tt * 1e6:.2f} us "
      f"(framework overhead {(t_tt - t_np) * 1e6:.2f} us per op)")
lab.record("add1-numpy-us", f"{t_np * 1e6:.2f} us")
lab.record("add1-tt-us", f"{t_tt * 1e6:.2f} us")
lab.record("add1-overhead-us", f"{(t_tt - t_np) * 1e6:.2f} us")

# %% [markdown]
# That per-op overhead is why deep learning works on *batches*: one op over 64 examples costs
# barely more than one op over 1.
#
# ## 4. Matrix multiply: FLOP/s versus size, and threads
#
# `(n, n) @ (n, n)` does `n^3` multiply-adds, `2 n^3` floating-point operations. Dividing by
# the measured time gives the achieved FLOP/s. NumPy hands the product to a BLAS library
# (OpenBLAS here), which may split it across threads. The thread count is fixed when NumPy
# loads, so each setting runs in its own Python process: BLAS's default, and one thread.

# %%
mm_sizes = [16, 32, 64, 128] if QUICK else [16, 32, 64, 128, 256, 512, 1024, 2048]

SWEEP = """
import json, sys, time
import numpy as np
import tinytorch as tt
sizes, min_time = json.loads(sys.argv[1]), float(sys.argv[2])
rng = np.random.default_rng(0)
out = {}
for dtype in ("float32", "float64"):
    out[dtype] = []
    for n in sizes:
        a = tt.tensor(rng.standard_normal((n, n)).astype(dtype))
        b = tt.tensor(rng.standard_normal((n, n)).astype(dtype))
        a @ b
        reps, best = 1, float("inf")
        while True:  # enough repetitions to time, then the best of 3 rounds
            t0 = time.perf_counter()
            for _ in range(reps):
                a @ b
            dt = time.perf_counter() - t0
            if dt >= min_time or reps >= 4096:
                break
            reps *= 2
        for _ in range(3):
            t0 = time.perf_counter()
            for _ in range(reps):
                a @ b
            best = min(best, (time.perf_counter() - t0) / reps)
        out[dtype].append(2 * n ** 3 / best / 1e9)
print(json.dumps(out))
"""


def sweep(threads=None):
    """GFLOP/s of tinytorch matmul for every size, in a fresh process with ``threads``."""
    env = dict(os.environ)
    for var in labkit.THREAD_VARS:
        env.pop(var, None)  # this lab's own setting (top of the file) must not leak in
        if threads is not None:
            env[var] = str(threads)
    res = subprocess.run([sys.executable, "-c", SWEEP, json.dumps(mm_sizes),
                          str(0.02 if QUICK else 0.1)], env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(res.stdout)


gflops = {}
for label, threads in [("default threads", None), ("1 thread", 1)]:
    r = sweep(threads)
    gflops[f"float32, {label}"] = r["float32"]
    gflops[f"float64, {label}"] = r["float64"]


def naive_matmul(a, b):
    """The definition, in pure Python: out[i][j] = sum_p a[i][p] * b[p][j]."""
    n, k, m = len(a), len(b), len(b[0])
    return [[sum(a[i][p] * b[p][j] for p in range(k)) for j in range(m)] for i in range(n)]


naive_sizes = [16, 32] if QUICK else [16, 32, 64]
gflops["Python triple loop"] = []
for n in mm_sizes:
    if n in naive_sizes:
        la, lb = rng.standard_normal((n, n)).tolist(), rng.standard_normal((n, n)).tolist()
        t = best_time(lambda: naive_matmul(la, lb), min_time=0.05, repeat=2)
        gflops["Python triple loop"].append(2 * n**3 / t / 1e9)
    else:
        gflops["Python triple loop"].append(None)

print(f"load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
print("GFLOP/s:")
table(["n"] + list(gflops),
      [[n] + [(f"{v[i]:.3f}" if v[i] < 1 else f"{v[i]:.1f}") if v[i] is not None else "-"
              for v in gflops.values()] for i, n in enumerate(mm_sizes)], key="matmul")
# the figures the guide's prose quotes
one32, one64 = gflops["float32, 1 thread"], gflops["float64, 1 thread"]
lab.record("peak-f32", f"{max(one32):.0f}")
lab.record("peak-f64", f"{max(one64):.0f}")
n_naive = naive_sizes[-1]
i_naive = mm_sizes.index(n_naive)
lab.record("naive-gflops", f"{gflops['Python triple loop'][i_naive]:.3f}")
lab.record("naive-gap", f"{one32[i_naive] / gflops['Python triple loop'][i_naive]:,.0f}x")
lab.record("naive-n", str(n_naive))
# the default thread count against one thread: the worst size and dtype
worst = min(((gflops[f"{d}, default threads"][i] / gflops[f"{d}, 1 thread"][i], d, n, i)
             for d in ("float32", "float64") for i, n in enumerate(mm_sizes)))
ratio, d, n, i = worst
lab.record("threads-worst", f"{d} at n = {n}: {gflops[f'{d}, default threads'][i]:.1f} "
           f"GFLOP/s against {gflops[f'{d}, 1 thread'][i]:.1f} ({ratio:.2f}x)")

fig, ax = plt.subplots(figsize=(7, 4.5))
for k, vs in gflops.items():
    xs = [n for n, v in zip(mm_sizes, vs) if v is not None]
    ax.loglog(xs, [v for v in vs if v is not None], "o-", label=k)
ax.set_xlabel("n  (n x n @ n x n)")
ax.set_ylabel("GFLOP/s")
ax.set_title("matrix multiply throughput")
ax.legend(fontsize=8)
ax.grid(True, which="both", alpha=0.3)
fig.tight_layout()
fig.savefig(OUT / "matmul_gflops.png", dpi=120)
plt.close(fig)

# %% [markdown]
# Small products are dominated by fixed costs (the call, the allocation), so their FLOP/s is
# low; from about a hundred rows on, BLAS keeps the vector units busy and the curve flattens
# near the machine's peak. float64 moves twice the bytes and fits half as many numbers in each
# SIMD register, so it peaks lower. The Python triple loop is thousands of times behind: this
# gap is why every layer in this course is written as matrix products.
#
# Compare the two thread settings. On an idle machine more threads help the large sizes. On a
# machine whose cores are already busy (look at the load average), BLAS threads wait for each
# other and for the other programs, and the multi-threaded product can be *slower* than one
# thread, by a lot: oversubscription. A benchmark must report the machine and its load.

# %%
print("plots written:", ", ".join(sorted(p.name for p in OUT.glob("*.png"))))
