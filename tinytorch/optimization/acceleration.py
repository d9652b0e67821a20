"""Module 18 -- acceleration: the same answer, computed faster, measured side by side.

Each ``compare_*`` function runs a reference and its faster twins on the same inputs and
returns a :class:`Measurement`: a table (time per call, bytes, the largest difference from the
reference) that the lab prints and the guide shows, and optionally a PNG. Tests check that the
fast results equal the reference; the times are whatever this machine measures.

The rungs of the ladder, and where their code lives:

=====================  ============================================  =========================
rung                   what changes                                  code
=====================  ============================================  =========================
Python loops -> NumPy  the interpreter leaves the inner loop         :mod:`.tiled_matmul`
NumPy -> BLAS          tiling for cache, SIMD, threads               :func:`tiled_matmul`
naive conv -> im2col   convolution becomes one matmul                ``core/im2col.py``
composed -> fused      fewer temporaries and graph nodes             :mod:`.fused`
float64 -> 32 -> 16    half the bytes to move (and the accuracy)     :func:`compare_dtypes`
1 -> n BLAS threads    more cores on one product                     :func:`thread_scaling`
NumPy -> compiled      one pass, intermediates in registers          :mod:`.numba_kernels`
=====================  ============================================  =========================

Public names: :func:`fused_gelu` / :class:`FusedGELU` (``nn.GELU(approximate="tanh")``,
fused), :func:`fused_softmax_cross_entropy`, :func:`tiled_matmul`, and the measurements.
Matplotlib (plots), threadpoolctl (threads) and Numba (compiled kernels) are imported only
by the function that needs them.
"""

from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinytorch.core.conv import conv2d, conv2d_naive
from tinytorch.core.tensor import Tensor
from tinytorch.optimization.fused import (FusedGELU, FusedGELUFn,  # noqa: F401 (re-exported)
                                          FusedSoftmaxCrossEntropyFn, fused_gelu,
                                          fused_softmax_cross_entropy, gelu_composed,
                                          softmax_cross_entropy_composed)
from tinytorch.optimization.numba_kernels import NUMBA_HINT, numba_available  # noqa: F401
from tinytorch.optimization.tiled_matmul import (matmul_broadcast, matmul_loops,  # noqa: F401
                                                 tiled_matmul, tiled_traffic)

__all__ = ["Measurement", "time_call", "peak_bytes", "compare_matmul", "compare_conv",
           "compare_fusion", "compare_dtypes", "thread_scaling", "compare_compiled",
           "fused_gelu", "FusedGELU", "fused_softmax_cross_entropy", "tiled_matmul",
           "matmul_loops", "matmul_broadcast", "gelu_composed",
           "softmax_cross_entropy_composed", "numba_available", "NUMBA_HINT",
           "THREADPOOLCTL_HINT"]

THREADPOOLCTL_HINT = ("thread scaling needs threadpoolctl (it sets the BLAS thread count at "
                      "run time): pip install threadpoolctl (or pip install -e '.[accel]')")


@dataclass
class Measurement:
    """One side-by-side measurement: a table and what it was measured on.

    ``rows`` are tuples in the order of ``headers``; ``info`` holds the setup (sizes, dtype,
    threads) and any extra numbers (bytes, compile time). :meth:`markdown` formats the table
    for the guide; :meth:`column` reads one column.
    """

    title: str
    headers: tuple
    rows: list = field(default_factory=list)
    info: dict = field(default_factory=dict)

    def column(self, name: str) -> list:
        i = self.headers.index(name)
        return [r[i] for r in self.rows]

    def row(self, **match) -> tuple:
        """The first row whose named columns equal ``match`` (``row(method="blas")``)."""
        for r in self.rows:
            if all(r[self.headers.index(k)] == v for k, v in match.items()):
                return r
        raise KeyError(f"{self.title}: no row with {match}")

    def markdown(self) -> str:
        def fmt(v):
            if isinstance(v, float):
                return f"{v:.3g}"
            return str(v)

        lines = ["| " + " | ".join(self.headers) + " |",
                 "|" + "|".join("---:" for _ in self.headers) + "|"]
        lines += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in self.rows]
        return "\n".join(lines)


def time_call(fn, repeat: int = 3, min_time: float = 0.002) -> float:
    """Seconds per call of ``fn()``: the best of ``repeat`` rounds, each at least ``min_time``
    long (fast calls are repeated within a round). The best, not the mean: on a busy machine
    the slower rounds measure the neighbours."""
    fn()  # warm-up: first-call costs (allocation, caches, JIT) are not the steady state
    best = float("inf")
    for _ in range(max(1, repeat)):
        calls, start = 0, time.perf_counter()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        best = min(best, elapsed / calls)
    return best


def peak_bytes(fn) -> int:
    """Peak bytes allocated (NumPy arrays included) while ``fn()`` runs, from tracemalloc."""
    was = tracemalloc.is_tracing()
    if not was:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1] - base
    if not was:
        tracemalloc.stop()
    return int(peak)


def _max_err(got, ref) -> float:
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    return float(np.max(np.abs(got - ref))) if ref.size else 0.0


def _bar_plot(path, labels, values, ylabel, title, log=True):
    from matplotlib.figure import Figure  # lazily: the framework needs only NumPy

    fig = Figure(figsize=(7, 3.5))
    ax = fig.add_subplot()
    ax.bar(range(len(values)), values, color="tab:blue")
    ax.set_xticks(range(len(values)), labels, rotation=20, ha="right", fontsize=8)
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(Path(path), dpi=110)
    return Path(path)


# ----------------------------------------------------------------- matmul: loops to BLAS

def compare_matmul(sizes=(16, 32, 64), tile: int = 32, loops_up_to: int = 64,
                   broadcast_up_to: int = 256, repeat: int = 3, seed: int = 0,
                   plot=None) -> Measurement:
    """Python loops vs vectorized NumPy vs tiled vs BLAS on n x n float64 matrices.

    Rows: ``(n, method, seconds, GFLOP/s, max |C - A@B|)``; the pure-Python loops only up to
    ``loops_up_to`` (they take seconds beyond), the broadcast only up to ``broadcast_up_to``
    (its (n, n, n) temporary is 128 MB at 256 and 1 GB at 512). GFLOP/s counts 2 n^3
    operations per product.
    ``plot``: a PNG path for time per call against n, one line per method.
    """
    rng = np.random.default_rng(seed)
    m = Measurement("matmul: loops vs NumPy vs tiled vs BLAS",
                    ("n", "method", "seconds", "GFLOP/s", "max err"),
                    info={"tile": tile, "dtype": "float64",
                          "traffic": {n: tiled_traffic(n, n, n, tile) for n in sizes}})
    methods = [("python loops", matmul_loops), ("numpy broadcast", matmul_broadcast),
               ("tiled", lambda a, b: tiled_matmul(a, b, tile)), ("blas", np.matmul)]
    for n in sizes:
        a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
        ref = a @ b
        for name, f in methods:
            if (name == "python loops" and n > loops_up_to
                    or name == "numpy broadcast" and n > broadcast_up_to):
                continue
            sec = time_call(lambda: f(a, b), repeat=1 if name == "python loops" else repeat)
            m.rows.append((n, name, sec, 2 * n ** 3 / sec / 1e9, _max_err(f(a, b), ref)))
    if plot is not None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6, 4))
        ax = fig.add_subplot()
        for name, _ in methods:
            pts = [(r[0], r[2]) for r in m.rows if r[1] == name]
            ax.loglog(*zip(*pts), "o-", label=name)
        ax.set_xlabel("n (n x n @ n x n)")
        ax.set_ylabel("seconds per product")
        ax.set_title("matrix multiply: the same answer at four speeds")
        ax.legend()
        fig.tight_layout()
        fig.savefig(Path(plot), dpi=110)
        m.info["plot"] = str(plot)
    return m


# ----------------------------------------------------------------- convolution

def compare_conv(batch: int = 2, channels: int = 3, size: int = 8, out_channels: int = 4,
                 kernel: int = 3, repeat: int = 3, seed: int = 0, plot=None) -> Measurement:
    """Naive seven-loop convolution (``conv2d_naive``) vs im2col + one matmul (``conv2d``).

    Rows: ``(method, seconds, speedup, max err)``. ``info`` has the bytes of the input and of
    the im2col column matrix (C*k*k x N*Ho*Wo): the memory price of the matmul.
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, channels, size, size))
    w = rng.standard_normal((out_channels, channels, kernel, kernel))
    b = rng.standard_normal(out_channels)
    xt, wt, bt = Tensor(x), Tensor(w), Tensor(b)
    ref = conv2d_naive(xt, wt, bt, padding=kernel // 2).numpy()
    t_naive = time_call(lambda: conv2d_naive(xt, wt, bt, padding=kernel // 2), repeat=1)
    t_fast = time_call(lambda: conv2d(xt, wt, bt, padding=kernel // 2), repeat=repeat)
    fast = conv2d(xt, wt, bt, padding=kernel // 2).numpy()
    ho = size  # 'same' padding, stride 1
    m = Measurement("convolution: naive loops vs im2col + matmul",
                    ("method", "seconds", "speedup", "max err"),
                    info={"shape": (batch, channels, size, size), "kernel": kernel,
                          "out_channels": out_channels, "input_bytes": x.nbytes,
                          "cols_bytes": channels * kernel * kernel * batch * ho * ho * 8})
    m.rows.append(("naive loops", t_naive, 1.0, 0.0))
    m.rows.append(("im2col + matmul", t_fast, t_naive / t_fast, _max_err(fast, ref)))
    if plot is not None:
        m.info["plot"] = str(_bar_plot(plot, m.column("method"), m.column("seconds"),
                                       "seconds per call", "convolution"))
    return m


# ----------------------------------------------------------------- fusion

def _fwd_bwd(fn, x_np, *args):
    """Forward + backward of ``fn(x, *args)`` on a fresh leaf; returns (out, grad)."""
    x = Tensor(x_np, requires_grad=True)
    y = fn(x, *args)
    y.backward(Tensor(np.ones(y.shape, x_np.dtype)) if y.ndim else None)
    return y.numpy(), x.grad.numpy()


def compare_fusion(rows: int = 64, cols: int = 256, classes: int = 10, repeat: int = 3,
                   seed: int = 0, dtype=np.float32, plot=None) -> Measurement:
    """Composed vs fused GELU and softmax cross-entropy, forward + backward.

    Rows: ``(op, version, seconds, peak bytes, max err out, max err grad)``; errors are
    against the composed version. GELU on a (rows, cols) activation; cross-entropy on
    (rows, classes) logits. Peak bytes come from tracemalloc (every array the pass allocates).
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, cols)).astype(dtype)
    logits = rng.standard_normal((rows, classes)).astype(dtype)
    target = rng.integers(0, classes, rows)
    m = Measurement("fusion: composed ops vs one fused op (forward + backward)",
                    ("op", "version", "seconds", "peak bytes", "max err out", "max err grad"),
                    info={"gelu_shape": x.shape, "ce_shape": logits.shape,
                          "dtype": np.dtype(dtype).name})
    cases = [("gelu", x, (), gelu_composed, fused_gelu),
             ("softmax-CE", logits, (target,), softmax_cross_entropy_composed,
              fused_softmax_cross_entropy)]
    for op, data, args, composed, fused in cases:
        ref_out, ref_grad = _fwd_bwd(composed, data, *args)
        for version, f in (("composed", composed), ("fused", fused)):
            out, grad = _fwd_bwd(f, data, *args)
            sec = time_call(lambda: _fwd_bwd(f, data, *args), repeat=repeat)
            peak = peak_bytes(lambda: _fwd_bwd(f, data, *args))
            m.rows.append((op, version, sec, peak, _max_err(out, ref_out),
                           _max_err(grad, ref_grad)))
    if plot is not None:
        labels = [f"{r[0]} {r[1]}" for r in m.rows]
        m.info["plot"] = str(_bar_plot(plot, labels, m.column("peak bytes"), "peak bytes",
                                       "fusion: peak memory of forward + backward", log=False))
    return m


# ----------------------------------------------------------------- storage precision

def compare_dtypes(n: int = 256, repeat: int = 3, seed: int = 0, plot=None) -> Measurement:
    """float64 vs float32 vs float16: bytes, matmul time, and error against float64.

    Rows: ``(dtype, bytes (A and B), seconds, max rel err)``; the error of C = A @ B computed
    in that dtype, relative to max |C| of the float64 product. NumPy has no float16 BLAS:
    its float16 matmul is a slow generic loop, the lesson that fewer bytes only pay where
    the hardware computes in that format.
    """
    rng = np.random.default_rng(seed)
    a64, b64 = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    ref = a64 @ b64
    scale = float(np.max(np.abs(ref)))
    m = Measurement("storage precision: float64 vs float32 vs float16",
                    ("dtype", "bytes", "seconds", "max rel err"), info={"n": n})
    for dt in (np.float64, np.float32, np.float16):
        a, b = a64.astype(dt), b64.astype(dt)
        sec = time_call(lambda: a @ b, repeat=1 if dt is np.float16 else repeat)
        m.rows.append((np.dtype(dt).name, a.nbytes + b.nbytes, sec,
                       _max_err(a @ b, ref) / scale))
    if plot is not None:
        m.info["plot"] = str(_bar_plot(plot, m.column("dtype"), m.column("seconds"),
                                       "seconds per matmul", f"{n}x{n} matmul by dtype"))
    return m


# ----------------------------------------------------------------- threads

def thread_scaling(n: int = 512, threads=None, repeat: int = 3, seed: int = 0,
                   plot=None) -> Measurement:
    """Time of one n x n float64 matmul with 1, 2, ... BLAS threads (threadpoolctl).

    ``threads``: the counts to try (default 1 up to the number of cores). Rows: ``(threads
    asked, threads set, seconds, speedup)``; "set" is what BLAS reports during the run (a
    BLAS limited at start-up may refuse more). Raises ImportError with
    :data:`THREADPOOLCTL_HINT` without threadpoolctl.
    """
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        raise ImportError(THREADPOOLCTL_HINT) from None
    import os

    if threads is None:
        cores = os.cpu_count() or 1
        threads = sorted({1, 2, 4, 8, cores} & set(range(1, cores + 1)))
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    m = Measurement("BLAS thread scaling", ("threads asked", "threads set", "seconds",
                                            "speedup"),
                    info={"n": n, "cores": os.cpu_count()})
    base = None
    for k in threads:
        with threadpool_limits(limits=int(k), user_api="blas"):
            got = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
            sec = time_call(lambda: a @ b, repeat=repeat)
        base = base or sec
        m.rows.append((int(k), max(got) if got else None, sec, base / sec))
    if plot is not None:
        m.info["plot"] = str(_bar_plot(plot, [str(r[0]) for r in m.rows], m.column("speedup"),
                                       "speedup over 1 thread", f"{n}x{n} matmul", log=False))
    return m


# ----------------------------------------------------------------- compiled kernels

def compare_compiled(rows: int = 64, cols: int = 256, classes: int = 10, n: int = 128,
                     tile: int = 32, repeat: int = 3, seed: int = 0, plot=None) -> Measurement:
    """NumPy (fused) vs Numba kernels: GELU forward/backward, softmax-CE, tiled matmul.

    Rows: ``(op, numpy seconds, numba seconds, speedup, max err)``. ``info["compile_seconds"]``
    is the time of the first call of every kernel (compiling, or loading the cache). Raises
    ImportError with :data:`NUMBA_HINT` without Numba.
    """
    from tinytorch.optimization import numba_kernels as nk

    if not nk.numba_available():
        raise ImportError(NUMBA_HINT)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, cols))
    g = rng.standard_normal((rows, cols))
    logits = rng.standard_normal((rows, classes))
    target = rng.integers(0, classes, rows)
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))

    def np_gelu_bwd():
        ctx = _Ctx()
        FusedGELUFn.forward(ctx, x)
        return FusedGELUFn.backward(ctx, g)

    def np_ce():
        ctx = _Ctx()
        FusedSoftmaxCrossEntropyFn.forward(ctx, logits, target, "mean")
        return FusedSoftmaxCrossEntropyFn.backward(ctx, np.float64(1.0))[0]

    def nb_ce():
        _, p = nk.softmax_cross_entropy_numba(logits, target)
        return nk.softmax_cross_entropy_backward_numba(p, target)

    def nb_gelu_bwd():
        _, t = nk.gelu_numba(x, return_tanh=True)
        return nk.gelu_backward_numba(x, t, g)

    start = time.perf_counter()
    nb_gelu_bwd(), nb_ce(), nk.tiled_matmul_numba(a[:2, :2], b[:2, :2], tile)
    compile_s = time.perf_counter() - start
    cases = [("gelu forward", lambda: FusedGELUFn.forward(_Ctx(), x), lambda: nk.gelu_numba(x)),
             ("gelu forward + backward", np_gelu_bwd, nb_gelu_bwd),
             ("softmax-CE forward + backward", np_ce, nb_ce),
             (f"tiled matmul n={n}", lambda: tiled_matmul(a, b, tile),
              lambda: nk.tiled_matmul_numba(a, b, tile))]
    m = Measurement("compiled kernels: NumPy vs Numba",
                    ("op", "numpy seconds", "numba seconds", "speedup", "max err"),
                    info={"compile_seconds": compile_s, "blas_matmul_seconds":
                          time_call(lambda: a @ b, repeat=repeat)})
    for op, f_np, f_nb in cases:
        t_np, t_nb = time_call(f_np, repeat=repeat), time_call(f_nb, repeat=repeat)
        m.rows.append((op, t_np, t_nb, t_np / t_nb, _max_err(f_nb(), f_np())))
    if plot is not None:
        m.info["plot"] = str(_bar_plot(plot, m.column("op"), m.column("speedup"),
                                       "NumPy time / Numba time", "compiled kernels", log=False))
    return m


class _Ctx:
    """A stand-in for the autograd context when a Function's forward is timed alone."""

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays
