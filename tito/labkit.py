"""What every lab does before its first experiment, in one place.

A lab (``modules/NN_slug/lab.py``) measures things: time per call, memory, losses over a
training run. For its numbers to mean anything on a shared machine, and for it to run the
same as a script, in the test suite and as a notebook, each lab starts the same way:

1. limit BLAS to one thread, *before* NumPy is imported (`limit_threads`);
2. draw plots into files with matplotlib's Agg backend (no display needed);
3. read ``TINYTORCH_QUICK`` (shrink every experiment) and ``TINYTORCH_OUT`` (where plots go);
4. print which ``tinytorch`` it imported: your workspace's or the reference.

``lab = labkit.setup("04_losses")`` does all three and returns a `Lab`; `table` prints a
Markdown table and `best_time` times a function. This file imports nothing heavy at module
level: NumPy and matplotlib are imported inside the functions, after the thread variables
are set, because a BLAS library reads them once, when it loads.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

#: The variables the common BLAS builds read for their thread count: OpenBLAS (NumPy's
#: wheels), OpenMP-based builds, and Intel MKL (conda's NumPy).
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Lab:
    """What a lab needs to know about how it is being run.

    ``name``: the module folder (``"04_losses"``); ``out``: the folder the plots go to (it
    exists); ``quick``: shrink every experiment so the lab runs in seconds (the test suite
    runs every lab that way); ``threads``: the BLAS thread count this lab asked for, or None
    if it left NumPy's default alone.
    """

    name: str
    out: Path
    quick: bool
    threads: str | None


def limit_threads() -> str | None:
    """Ask BLAS for ``TINYTORCH_LAB_THREADS`` threads (default 1); ``"0"`` leaves it alone.

    Why one thread: a lab times small operations, often a fraction of a millisecond. With
    several BLAS threads on a machine whose cores are busy with other work (a shared server,
    a laptop running a browser), each product waits for every one of its threads to get a
    core, and the table measures the neighbours rather than the code. One thread gives
    numbers that are steady and comparable from run to run (lab 01, section 4, shows what
    threads do under load).

    A variable the user has already set wins (``setdefault``). This only works before NumPy
    is imported: BLAS reads the variables once, when it loads, so call it (or `setup`) first.
    Returns the thread count requested, or None when ``TINYTORCH_LAB_THREADS=0``.
    """
    threads = os.environ.get("TINYTORCH_LAB_THREADS", "1")
    if threads == "0":
        return None
    for var in THREAD_VARS:
        os.environ.setdefault(var, threads)
    return threads


def setup(name: str) -> Lab:
    """Prepare a lab: thread limit, Agg backend, quick mode, output folder. Call it first.

    ``name`` is the module folder (``"04_losses"``); plots go to ``$TINYTORCH_OUT``, by default
    ``runs/labs/<name>`` under the current directory, created if missing. Quick mode is on
    when ``TINYTORCH_QUICK=1``.

    Agg draws into memory and writes files: a lab then runs the same on a server without a
    display, in the test suite and in a notebook, and every plot it makes is a file the guide
    can show.
    """
    threads = limit_threads()
    import matplotlib  # after limit_threads: matplotlib imports NumPy

    matplotlib.use("Agg")
    quick = os.environ.get("TINYTORCH_QUICK") == "1"
    out = Path(os.environ.get("TINYTORCH_OUT", f"runs/labs/{name}"))
    out.mkdir(parents=True, exist_ok=True)
    print(which_tinytorch(name))
    return Lab(name=name, out=out, quick=quick, threads=threads)


def which_tinytorch(name: str = "") -> str:
    """``tinytorch: <folder> (your workspace | the reference)``: the code this lab measures.

    A lab run from the course folder imports the reference unless told otherwise (``tito
    module lab N`` runs it on your workspace); printing the folder first makes it impossible
    to mistake one for the other. A workspace is recognised by its ``.tito/workspace.json``.
    """
    import tinytorch  # after limit_threads: it imports NumPy

    pkg = Path(tinytorch.__file__).resolve().parent
    if (pkg.parent / ".tito" / "workspace.json").is_file():
        return f"tinytorch: {pkg} (your workspace)"
    number = name[:2].lstrip("0") if name[:2].isdigit() else "N"
    return f"tinytorch: {pkg} (the reference; on your code: tito module lab {number})"


def table(headers, rows) -> None:
    """Print a Markdown table, right-aligned, followed by a blank line.

    Markdown so that a measured table can be pasted into the module's guide as it is:
    the guide's numbers then come from a run, not from memory. Cells are printed with str().
    """
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---:" for _ in headers) + "|")
    for r in rows:
        print("| " + " | ".join(str(c) for c in r) + " |")
    print()


def best_time(fn, repeat: int = 5, min_time: float = 0.005) -> float:
    """Seconds per call of ``fn()``: the best of ``repeat`` rounds, each ``min_time`` long.

    - Warm up once: the first call pays for allocations, caches and lazy imports.
    - Calibrate: double the calls per round until a round lasts ``min_time`` (a single call of
      a microsecond is below the clock's resolution and its noise); ``min_time=0`` times one
      call per round, for work long enough to time by itself (an epoch).
    - Report the best round, not the mean: other programs only ever add time, so the fastest
      round is the one least disturbed by them.

    The calibration round counts as the first of the ``repeat`` rounds.
    """
    fn()  # warm up
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time or n >= 1 << 20:
            break
        n *= 2
    best = dt / n
    for _ in range(repeat - 1):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def machine() -> str:
    """CPU model, core count, Python, NumPy and its BLAS, today's date.

    Every timing depends on these: a table without them cannot be compared with another.
    """
    import datetime
    import platform

    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    except Exception:  # older NumPy: no dict mode
        blas = "unknown BLAS"
    return (f"{cpu}, {os.cpu_count()} cores | Python {platform.python_version()} | NumPy "
            f"{np.__version__} ({blas}) | {datetime.date.today().isoformat()}")


def print_context(lab: Lab) -> None:
    """Print the machine, its load and the lab's mode: the context of every number below.

    The load average says how busy the machine was: timings taken at a load above the core
    count are slowed by other programs.
    """
    print("machine:", machine())
    print(f"load average (1 min): {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("quick mode" if lab.quick else "full mode", "| plots ->", lab.out)
