"""The side-by-side benchmark harness: tinytorch vs PyTorch CPU (vs a NumPy bound), one process.

A :class:`Workload` is one job written three times as zero-argument callables that each run
ONE repetition: with tinytorch, with PyTorch, and (optionally) with plain NumPy, the floor
that any NumPy-based framework pays before its own overhead. :func:`run` times them all and
returns one :class:`Result` per workload; :func:`print_table`, :func:`write_json` and
:func:`to_markdown` report them.

How the timing is done, and why:

* **One process, interleaved.** For each repeat we run tinytorch, then torch, then numpy,
  then again, rotating the order each repeat (torch, numpy, tinytorch; ...). Other
  processes, CPU frequency changes and cache state then hit all sides alike instead of
  whichever side happened to run during the noisy second, and no side always runs right
  after the same other side (what one leaves behind, freed memory returned to the OS or a
  thread pool still spinning, would otherwise always bill the next).
* **A settling call before each timed call.** Switching frameworks has a cost that neither
  pays in a program of its own: PyTorch's and NumPy's allocations of the same large sizes
  interleave in one heap, so the allocator hands memory back to the OS and the next call
  page-faults it in again (measured on the 1M-element chain: ~2,900 page faults and +5 ms
  on the first PyTorch call after a NumPy one, none on the second). So in every round, each
  side runs once untimed, then once timed. Both sides get the same treatment.
* **Median of repeats** (``time.perf_counter``): robust to the odd repeat that was preempted.
  A warm-up of a few repetitions per side first (lazy imports, allocator pools, BLAS
  thread start-up, PyTorch's first-call dispatch caches).
* **Same threads on both sides: one each, by default.** NumPy's matmul runs on OpenBLAS's
  thread pool (2 threads on this 2-core machine), PyTorch's on its OpenMP pool. We set both
  to the same number: NumPy's through threadpoolctl (it comes with scikit-learn), PyTorch's
  with ``torch.set_num_threads``. The default is 1, not 2, because two pools that take turns
  in one process fight over 2 cores: OpenBLAS's idle workers keep spinning for a while after
  each call and PyTorch's OpenMP team waits for a core behind them (measured: a 128x128
  matmul takes 0.02 ms alone in either framework, 4 ms in both when they alternate; with a
  512x512 matmul torch went from 1.3 to 10.8 ms). One thread each has no pools to fight, and
  the second core absorbs whatever else the machine is running. ``--threads 2`` measures the
  multi-threaded case anyway. Without threadpoolctl NumPy's pool cannot be changed, so
  PyTorch gets as many threads as NumPy's pool has (``os.cpu_count()`` if unknown).
* **The garbage collector stays on**: it is part of what a user of either framework pays.
  Before each workload is timed we ``gc.collect()`` and ``gc.freeze()``: the objects alive
  then (above all the ~150,000 Python objects that ``import torch`` creates) move to the
  permanent generation. Without that, every full collection triggered by tinytorch's graph
  objects would also walk PyTorch's import-time objects, a cost a tinytorch program without
  torch does not pay (measured: +100 ms on the 10,000-op loop). ``gc.unfreeze()`` at the end.
* A workload that raises (in a learner's workspace, a module not written yet raises
  ``NotImplementedError``) is reported as an error row; the others still run.

``target`` is the largest acceptable ratio tinytorch/torch (``None``: informative only).
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import json
import os
import platform
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

__all__ = ["Workload", "Result", "run", "configure_threads", "blas_threads", "machine_info",
           "background_load", "print_table", "format_table", "to_markdown", "write_json",
           "write_markdown"]


@dataclass
class Workload:
    """One job, written once per framework.

    Attributes:
        name: short label shown in the table (e.g. ``"matmul 512x512"``).
        tinytorch: runs one repetition with tinytorch.
        torch: runs one repetition with PyTorch (None if torch is not installed).
        numpy: runs one repetition with plain NumPy (a lower bound), or None.
        target: largest acceptable ratio tinytorch/torch; None means informative only.
        setup: called once before the workload is timed (build models, load data).
        note: one line shown under the table (what is measured, what differs).
    """

    name: str
    tinytorch: Callable[[], object]
    torch: Callable[[], object] | None
    numpy: Callable[[], object] | None = None
    target: float | None = None
    setup: Callable[[], object] | None = None
    note: str = ""


@dataclass
class Result:
    """Median milliseconds per repetition for each side, and the verdict on the target."""

    name: str
    tinytorch_ms: float | None
    torch_ms: float | None
    numpy_ms: float | None
    target: float | None
    repeats: int
    note: str = ""
    error: str | None = None
    samples: dict = field(default_factory=dict)  # side -> list of per-repeat ms
    background_load: float | None = None  # cores kept busy by other processes meanwhile

    @property
    def ratio(self) -> float | None:
        """tinytorch time / torch time (below 1: tinytorch is faster)."""
        if self.tinytorch_ms is None or not self.torch_ms:
            return None
        return self.tinytorch_ms / self.torch_ms

    @property
    def met(self) -> bool | None:
        """True/False against the target; None when there is no target or no ratio."""
        r = self.ratio
        if self.target is None or r is None:
            return None
        return r <= self.target

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ratio"] = self.ratio
        d["met"] = self.met
        return d


# --------------------------------------------------------------------------- threads and machine


def blas_threads() -> int | None:
    """Threads of NumPy's BLAS pool, if threadpoolctl can tell."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return max(counts) if counts else None


def optional_torch():
    """The ``torch`` module, or None when PyTorch is not installed (the table then shows
    tinytorch and NumPy only). Imported on first use, not when the harness is imported."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def torch_side(fn):
    """A workload's torch callable, or None when PyTorch is not installed."""
    return fn if optional_torch() is not None else None


def configure_threads(threads: int | None = 1) -> int:
    """Give NumPy's BLAS and PyTorch the same number of threads; return that number.

    ``threads=None`` leaves NumPy's pool as it is and matches PyTorch to it. The setting is
    process-wide; :func:`run` puts the previous one back when it is done.
    """
    n = threads
    if n is not None:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # NumPy's pool cannot be changed: match torch to it instead
            n = None
        else:
            threadpool_limits(n, user_api="blas")
    if n is None:
        n = blas_threads() or os.cpu_count() or 1
    torch = optional_torch()
    if torch is not None:
        torch.set_num_threads(n)
    return n


@contextlib.contextmanager
def _threads(threads):
    """:func:`configure_threads` for the duration of a ``with`` block."""
    before_blas = blas_threads()
    torch = optional_torch()
    before_torch = torch.get_num_threads() if torch is not None else None
    n = configure_threads(threads)
    try:
        yield n
    finally:
        if before_blas is not None and threads is not None:
            configure_threads(before_blas)
        if torch is not None:
            torch.set_num_threads(before_torch)


def machine_info(threads: int | None = None) -> dict:
    """What the numbers depend on: CPU, cores, library versions, threads, date."""
    import numpy as np

    from tinytorch.benchmarking.environment import cpu_model  # the one reader of the CPU name

    info = {
        "date": datetime.date.today().isoformat(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas_threads": threads if threads is not None else blas_threads(),
        "torch_threads": threads,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
    }
    torch = optional_torch()
    info["torch"] = torch.__version__ if torch is not None else None
    return info


# --------------------------------------------------------------------------- timing


class _LoadMeter:
    """How many cores other processes kept busy while we ran (Linux: /proc/stat).

    The machine's busy time minus this process's own CPU time, divided by the wall time.
    0.0 is a quiet machine; 1.0 on 2 cores means another job took a whole core meanwhile,
    and the timings of that stretch are suspect. None where /proc/stat does not exist.
    """

    def __init__(self):
        self.start = self._sample()

    @staticmethod
    def _sample():
        try:
            with open("/proc/stat") as f:
                ticks = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        busy = sum(ticks) - ticks[3] - (ticks[4] if len(ticks) > 4 else 0)  # minus idle, iowait
        t = os.times()
        return busy / os.sysconf("SC_CLK_TCK"), t.user + t.system, time.perf_counter()

    def load(self) -> float | None:
        end = self._sample()
        if self.start is None or end is None:
            return None
        busy, own, wall = (e - s for e, s in zip(end, self.start))
        return max(0.0, (busy - own) / wall) if wall > 0 else None


def _time_once(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def run(workloads, repeats: int = 25, warmup: int = 3,
        progress: Callable[[str], None] | None = None, threads: int | None = 1) -> list[Result]:
    """Time every workload, sides interleaved, and return the medians.

    Args:
        workloads: a list of :class:`Workload`.
        repeats: timed repetitions per side (the median is reported).
        warmup: untimed repetitions per side before timing.
        progress: called with each workload's name before it runs (e.g. ``print``).
        threads: BLAS and torch threads, the same for both sides (None: NumPy's default).
    Returns:
        one :class:`Result` per workload, in order.
    """
    with _threads(threads):
        return [_run_one(w, repeats, warmup, progress) for w in workloads]


def _run_one(w: Workload, repeats: int, warmup: int, progress) -> Result:
    if progress is not None:
        progress(w.name)
    sides = {"tinytorch": w.tinytorch, "torch": w.torch, "numpy": w.numpy}
    sides = {k: fn for k, fn in sides.items() if fn is not None}
    samples = {k: [] for k in sides}
    error = None
    gc.collect()
    meter = _LoadMeter()
    try:
        if w.setup is not None:
            w.setup()
        gc.collect()
        gc.freeze()
        for _ in range(warmup):
            for fn in sides.values():
                fn()
        order = list(sides)
        for r in range(repeats):
            # interleaved, the order rotating each repeat (tt torch np, torch np tt, ...)
            for k in order[r % len(order):] + order[:r % len(order)]:
                sides[k]()  # settle: absorbs the cost of switching from the other side
                samples[k].append(_time_once(sides[k]))
    except Exception as e:  # a stubbed module in a learner's workspace, a missing layer...
        error = f"{type(e).__name__}: {e}".splitlines()[0][:160]
    finally:
        gc.unfreeze()

    def median(k):
        return statistics.median(samples[k]) if samples.get(k) and error is None else None

    return Result(w.name, median("tinytorch"), median("torch"), median("numpy"), w.target,
                  repeats, w.note, error, samples, meter.load())


# --------------------------------------------------------------------------- reporting

_COLUMNS = ("workload", "tinytorch ms", "torch ms", "numpy ms", "ratio tt/torch", "target", "met?")


def _ms(x) -> str:
    if x is None:
        return "-"
    return f"{x:.3f}" if x < 1 else f"{x:.2f}" if x < 100 else f"{x:.1f}"


def _rows(results) -> list[tuple[str, ...]]:
    rows = []
    for r in results:
        if r.error is not None:
            rows.append((r.name, "error", "-", "-", "-", _target(r.target), "error"))
            continue
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}x"
        met = "-" if r.met is None else ("yes" if r.met else "NO")
        rows.append((r.name, _ms(r.tinytorch_ms), _ms(r.torch_ms), _ms(r.numpy_ms), ratio,
                     _target(r.target), met))
    return rows


def _target(t) -> str:
    return "-" if t is None else f"<= {t:g}x"


def format_table(results) -> str:
    """The results as a plain-text table (what :func:`print_table` shows without rich)."""
    rows = [_COLUMNS, *_rows(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _notes(results) -> list[str]:
    notes = [f"{r.name}: {r.note}" for r in results if r.note]
    return notes + [f"{r.name}: ERROR {r.error}" for r in results if r.error]


def print_table(results, info: dict | None = None, file=None) -> None:
    """Print the table with rich if it is installed, as plain text otherwise."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        Console = None
    if Console is None:
        print(format_table(results), file=file)
        for line in _notes(results):
            print("  " + line, file=file)
        return
    table = Table(title="tinytorch vs PyTorch (CPU), median ms per repetition")
    for i, col in enumerate(_COLUMNS):
        table.add_column(col, justify="left" if i == 0 else "right", no_wrap=True)
    for row in _rows(results):
        style = "red" if row[-1] == "NO" or row[1] == "error" else None
        table.add_row(*row, style=style)
    console = Console(file=file)
    if not console.is_terminal:  # piped or captured: do not wrap at rich's default 80 columns
        console = Console(file=file, width=160)
    console.print(table)
    for line in _notes(results):
        console.print("  " + line, style="dim", markup=False, highlight=False)
    if info:
        console.print(_machine_line(info), style="dim", markup=False, highlight=False)


def _machine_line(info: dict) -> str:
    line = (f"{info.get('cpu')}, {info.get('cores')} cores; numpy {info.get('numpy')}, "
            f"torch {info.get('torch')}; {info.get('torch_threads')} thread(s) for BLAS and "
            f"torch; python {info.get('python')}; {info.get('date')}")
    if info.get("background_load") is not None:
        line += f"; other processes kept {info['background_load']:.2f} cores busy meanwhile"
    return line


def background_load(results) -> float | None:
    """The average background load over all workloads (see :class:`_LoadMeter`)."""
    loads = [r.background_load for r in results if r.background_load is not None]
    return sum(loads) / len(loads) if loads else None


def to_markdown(results, info: dict | None = None) -> str:
    """A markdown table (for READMEs), with the machine line under it."""
    lines = ["| " + " | ".join(_COLUMNS) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(_COLUMNS) - 1)) + "|"]
    for row in _rows(results):
        lines.append("| " + " | ".join(row) + " |")
    if info:
        lines += ["", "Machine: " + _machine_line(info) + "."]
    notes = _notes(results)
    if notes:
        lines += [""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def write_json(results, path, info: dict | None = None) -> None:
    """Write ``{"machine": ..., "results": [...]}`` (per-repeat samples included)."""
    payload = {"machine": info or machine_info(), "results": [r.to_dict() for r in results]}
    with open(path, "w") as f:
        json.dump(payload, f, indent=2)
        f.write("\n")


def write_markdown(results, path, info: dict | None = None) -> None:
    with open(path, "w") as f:
        f.write(to_markdown(results, info))
