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
# # Lab 18 -- Acceleration: the same answer, faster, and why
#
# You wrote a tiled matrix multiply (`tiled_matmul`), a fused GELU (`FusedGELUFn`, forward
# and backward) and the backward of a fused softmax cross-entropy. This lab puts every rung
# of the speed ladder side by side, on the same inputs, and checks each fast answer against
# its reference before it believes its time:
#
# 1. matrix multiply four ways: Python loops, vectorized NumPy, tiled, BLAS;
# 2. the tile size: what reuse buys, and the memory traffic it saves (a model, in bytes);
# 3. convolution: seven loops against im2col + one matmul (module 09);
# 4. fusion: composed GELU and softmax-CE against your fused ops -- time and peak bytes;
# 5. storage precision: float64, float32, float16 -- bytes, time, error;
# 6. BLAS threads (threadpoolctl);
# 7. the compiled rung: the same kernels in Numba (`pip install -e ".[accel]"`).
#
# Run it on your code: `tito module lab 18` (`--notebook` opens it in Jupyter).
# `TINYTORCH_QUICK=1` shrinks every experiment to seconds; plots go to `$TINYTORCH_OUT`
# (default `runs/labs/18_acceleration`). The lab limits BLAS to one thread (see
# `tito/labkit.py`) except in section 6, which changes it on purpose.

# %%
from tito import labkit
from tito.labkit import table

lab = labkit.setup("18_acceleration")
QUICK, OUT = lab.quick, lab.out

import numpy as np  # noqa: E402

import tinytorch as tt  # noqa: E402
from tinytorch.optimization import acceleration as acc  # noqa: E402
from tinytorch.optimization.tiled_matmul import tiled_matmul, tiled_traffic  # noqa: E402

print(labkit.machine())
CHECKS = []  # (what, max error, tolerance): the lab's verdict at the end


def png(name):
    """Where a plot goes; quick mode draws only the first (each figure costs seconds)."""
    return OUT / name if not QUICK or name == "matmul_rungs.png" else None


def show(m, tol=None, err="max err", key=None):
    """Print a Measurement's table; remember its largest error for the final verdict.

    ``key`` names the table for the guide (recorded in ``$TINYTORCH_OUT/lab_results.json``)."""
    print(f"### {m.title}\n")
    print(m.markdown())
    print()
    if key is not None:
        head, _, *body = m.markdown().splitlines()
        cells = lambda line: [c.strip() for c in line.strip().strip("|").split("|")]  # noqa: E731
        lab.record_table(key, cells(head), [cells(line) for line in body])
    if tol is not None:
        CHECKS.append((m.title, max(m.column(err)), tol))


# %% [markdown]
# ## 1. Matrix multiply: loops, NumPy, tiles, BLAS
#
# `2 n^3` floating-point operations whichever way you write it. The Python triple loop pays
# the interpreter on every one; the broadcast version has no Python loop but materialises an
# (n, n, n) temporary; the tiled version calls BLAS on tiles; `np.matmul` is BLAS on the
# whole thing. GFLOP/s is the honest unit: it says how close each gets to the machine.

# %%
sizes = (16, 32, 64) if QUICK else (32, 64, 128, 256, 512)
mm = acc.compare_matmul(sizes=sizes, tile=32, loops_up_to=32 if QUICK else 128,
                        plot=png("matmul_rungs.png"))
show(mm, tol=1e-8, key="matmul")
big = max(sizes)
blas, tiled = mm.row(n=big, method="blas"), mm.row(n=big, method="tiled")
bc_n = max(r[0] for r in mm.rows if r[1] == "numpy broadcast")
bc = mm.row(n=bc_n, method="numpy broadcast")
loops_n = max(r[0] for r in mm.rows if r[1] == "python loops")
print(f"at n={big}: BLAS {blas[3]:.2f} GFLOP/s, tiled {tiled[3]:.2f}; "
      f"broadcast at n={bc_n}: {bc[3]:.3f}; "
      f"Python loops at n={loops_n}: "
      f"{mm.row(n=loops_n, method='python loops')[3]:.4f} GFLOP/s")
print(f"the broadcast temporary at n={bc_n}: {bc_n ** 3 * 8 / 1e6:.1f} MB for a "
      f"{bc_n * bc_n * 8 / 1e6:.2f} MB answer")

# %% [markdown]
# ## 2. Tile size: reuse, counted and timed
#
# A tile of A (T x T numbers) meets every tile of B in its row of tiles; while it stays in
# cache each number serves T multiply-adds. `tiled_traffic` counts the bytes the schedule
# reads from memory (a model: it assumes a tile fits in cache and nothing else does); the
# counting kernel checks how many tile products your loop really makes.

# %%
n = 96 if QUICK else 256
rng = np.random.default_rng(1)
a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
rows = []
for tile in (8, 16, 32, 64, n):
    calls = []

    def counting_kernel(a_tile, b_tile, c_tile):
        calls.append(a_tile.shape)
        c_tile += a_tile @ b_tile

    out = tiled_matmul(a, b, tile, kernel=counting_kernel)
    err = float(np.abs(out - a @ b).max())
    sec = acc.time_call(lambda: tiled_matmul(a, b, tile), repeat=3)
    traffic = tiled_traffic(n, n, n, tile)
    rows.append((tile, len(calls), f"{traffic['tiled'] / 1e6:.2f}", f"{traffic['ratio']:.0f}x",
                 f"{sec * 1e3:.2f}", f"{err:.1e}"))
    CHECKS.append((f"tiled_matmul tile={tile}", err, 1e-8))
print(f"n = {n}; naive schedule reads {tiled_traffic(n, n, n, 8)['naive'] / 1e6:.1f} MB")
table(["tile", "tile products", "MB read (model)", "less than naive", "ms per call",
       "max err"], rows, key="tiles")

# %% [markdown]
# Small tiles make many small BLAS calls: each pays NumPy's per-call overhead (microseconds),
# which dominates below T ~ 32. Large tiles read least. One tile = the whole matrix is plain
# BLAS, which tiles again inside for every cache level.
#
# ## 3. Convolution: seven loops against im2col + one matmul
#
# Module 09's `conv2d_naive` is the definition, one multiply-add at a time; `conv2d` copies
# every receptive field into a column (im2col) and makes the whole layer one matmul. The
# copy costs memory -- every pixel appears k*k times -- and buys BLAS.

# %%
conv = acc.compare_conv(batch=2 if QUICK else 8, channels=3, size=8 if QUICK else 16,
                        out_channels=4 if QUICK else 16, kernel=3,
                        plot=png("conv_naive_vs_im2col.png"))
show(conv, tol=1e-8, key="conv")
print(f"input {conv.info['input_bytes']} bytes -> im2col columns {conv.info['cols_bytes']} "
      f"bytes ({conv.info['cols_bytes'] / conv.info['input_bytes']:.0f}x: k*k = 9 copies)")

# %% [markdown]
# ## 4. Fusion: fewer temporaries, fewer nodes
#
# The composed GELU is nine recorded ops; each writes a new array and keeps what its backward
# needs. Your `FusedGELUFn` is one op with one scratch array and two saved arrays. The same for
# softmax cross-entropy: your backward `(p - onehot) / N` replaces the backward of six ops.
# "peak bytes" is the most memory allocated at once during forward + backward (tracemalloc).

# %%
fu = acc.compare_fusion(rows=64 if QUICK else 512, cols=256 if QUICK else 1024,
                        classes=10 if QUICK else 1000, plot=png("fusion_peak_bytes.png"))
show(fu, key="fusion")
for op in ("gelu", "softmax-CE"):
    c, f = fu.row(op=op, version="composed"), fu.row(op=op, version="fused")
    print(f"{op}: fused is {c[2] / f[2]:.1f}x faster and peaks at {f[3] / c[3]:.2f}x the bytes "
          f"(max difference {max(f[4], f[5]):.1e}, float32)")
    CHECKS.append((f"fused {op}", max(f[4], f[5]), 1e-5))

x = tt.randn(4, 8, requires_grad=True)
composed_ops = []
node = acc.gelu_composed(x).grad_fn
stack, seen = [node], set()
while stack:  # walk the graph the composed GELU recorded
    nd = stack.pop()
    if nd is None or id(nd) in seen:
        continue
    seen.add(id(nd))
    composed_ops.append(type(nd).__name__)
    for f in getattr(nd, "next_functions", ()):
        stack.append(f[0] if isinstance(f, tuple) else f)  # torch gives (node, index) pairs
print(f"graph nodes: composed GELU {len([o for o in composed_ops if o != 'AccumulateGrad'])}, "
      f"fused GELU 1 ({type(acc.fused_gelu(x).grad_fn).__name__})")

# %% [markdown]
# ## 5. Storage precision: float64, float32, float16
#
# Half the bytes is half the memory traffic -- when the hardware computes in that format.
# NumPy's BLAS computes float64 and float32; float16 has no BLAS path, so NumPy falls back
# to a generic loop. The error column is relative to the largest entry of the float64 product.

# %%
dt = acc.compare_dtypes(n=64 if QUICK else 512, plot=png("dtypes.png"))
show(dt, key="dtypes")

# %% [markdown]
# ## 6. BLAS threads
#
# One matmul on 1, 2, ... threads via threadpoolctl. On a quiet machine two threads
# approach 2x on a large product; on a busy one (or a small product) each thread waits for a
# core and more threads are *slower* -- which is why every other lab asks for one.

# %%
try:
    th = acc.thread_scaling(n=128 if QUICK else 1024, plot=png("threads.png"))
    show(th, key="threads")
except ImportError as e:
    print("skipped:", e)

# %% [markdown]
# ## 7. The compiled rung: Numba
#
# The same fused GELU, softmax-CE and tiled matmul written as explicit loops and compiled
# (`tinytorch/optimization/numba_kernels.py`). A compiled loop makes one pass over the data
# with every intermediate in a register, where NumPy makes one pass per operation (softmax-CE:
# max, subtract, exp, sum, divide, pick). But each NumPy pass is itself a compiled loop, often
# SIMD (several numbers per instruction), and a matmul tile is BLAS: a plain scalar loop has
# to beat that. Read the speedup column before believing either story -- it differs from
# machine to machine.

# %%
if QUICK:
    print("skipped in quick mode (importing Numba and loading its kernels takes seconds); "
          "run the full lab: tito module lab 18")
elif acc.numba_available():
    cc = acc.compare_compiled(rows=64 if QUICK else 512, cols=256 if QUICK else 1024,
                              classes=10 if QUICK else 1000, n=64 if QUICK else 256,
                              plot=png("compiled.png"))
    show(cc, tol=1e-8, key="compiled")
    print(f"first calls (compile, or load the cache): {cc.info['compile_seconds']:.2f} s; "
          f"BLAS on the whole {64 if QUICK else 256}^2 product: "
          f"{cc.info['blas_matmul_seconds'] * 1e3:.3f} ms")
    lab.record("compile-seconds", f"{cc.info['compile_seconds']:.1f} s")
    lab.record("blas-256-ms", f"{cc.info['blas_matmul_seconds'] * 1e3:.1f} ms")
else:
    print("skipped the compiled rung:", acc.NUMBA_HINT)

# %% [markdown]
# ## Verdict
#
# Every fast result above was compared with its reference; a speedup only counts if the
# answer is the same.

# %%
table(["check", "max err", "tolerance", "ok"],
      [(w, f"{e:.1e}", f"{t:.0e}", "yes" if e <= t else "NO") for w, e, t in CHECKS])
bad = [w for w, e, t in CHECKS if e > t]
print("PASSED: every fast path equals its reference" if not bad
      else f"FAILED: {len(bad)} fast path(s) differ from the reference: {bad}")
print(f"plots in {OUT}")
