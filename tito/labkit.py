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

A lab's guide (``modules/NN_slug/README.md``) quotes its measured tables; they are never
typed by hand. ``table(headers, rows, key="per-op")`` names a table and
``lab.record("bwd-fwd", "1.93x")`` a single figure: both are also written to
``$TINYTORCH_OUT/lab_results.json`` with the machine, date, load and mode, and ``python -m
tito.guide_tables`` copies that file into the module and renders each named table into the
guide (tito/guide_tables.py).
"""

from __future__ import annotations

import json
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

    def record(self, key: str, value) -> None:
        """Name a single measured figure (``"1.93x"``) for the guide; see `record`."""
        record(key, value, lab=self)

    def record_table(self, key: str, headers, rows) -> None:
        """Name a table for the guide without printing it; see `record_table`."""
        record_table(key, headers, rows, lab=self)


#: The lab set up last in this process: where named tables and figures are written.
_ACTIVE: Lab | None = None
RESULTS_FILE = "lab_results.json"


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
    global _ACTIVE
    _ACTIVE = Lab(name=name, out=out, quick=quick, threads=threads)
    return _ACTIVE


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


def table(headers, rows, key: str | None = None) -> None:
    """Print a Markdown table, right-aligned, followed by a blank line.

    Markdown, the form the module's guide shows it in. With ``key`` the table is also
    recorded under that name in ``$TINYTORCH_OUT/lab_results.json`` (`record_table`): the
    guide's copy is written from there by a command, never pasted by hand. Cells are
    printed with str().
    """
    rows = [[str(c) for c in r] for r in rows]
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---:" for _ in headers) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print()
    if key is not None:
        record_table(key, headers, rows)


def record_table(key: str, headers, rows, lab: Lab | None = None) -> None:
    """Record a table under ``key`` in the results file without printing it.

    For a table the lab prints some other way (the profiler's own table, say) whose rows the
    guide quotes. Cells are stored as the strings the guide shows.
    """
    _write_result("tables", key, {"headers": [str(h) for h in headers],
                                  "rows": [[str(c) for c in r] for r in rows]}, lab)


def record(key: str, value, lab: Lab | None = None) -> None:
    """Record one measured figure under ``key``, as the text the guide shows (``"1.93x"``).

    Format it the way the lab prints it; a non-string is stored with str().
    """
    _write_result("figures", key, str(value), lab)


def _write_result(kind: str, key: str, value, lab: Lab | None) -> None:
    """Add ``value`` to ``lab.out/lab_results.json`` (rewritten whole: a lab stopped half-way
    leaves a valid file with what it measured so far)."""
    lab = lab or _ACTIVE
    if lab is None:
        raise RuntimeError("labkit.setup(name) must run before a table or figure is recorded")
    path = Path(lab.out) / RESULTS_FILE
    try:
        data = json.loads(path.read_text())
        if data.get("lab") != lab.name or data.get("pid") != os.getpid():
            data = None  # a previous run's file: start afresh
    except (OSError, ValueError):
        data = None
    if data is None:
        data = {"lab": lab.name, "pid": os.getpid(), "tables": {}, "figures": {}}
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:  # not on every platform
        load = None
    data.update(machine=machine(), date=_today(), quick=lab.quick, threads=lab.threads,
                cores=os.cpu_count(), load_average=load)
    data[kind][key] = value
    path.write_text(json.dumps(data, indent=1) + "\n")


def _today() -> str:
    import datetime

    return datetime.date.today().isoformat()


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
