"""Measure the way a user runs: each framework in its own fresh process, alternated, repeated.

For every workload of ``suite.SPECS`` and every round, this starts ``child.py tinytorch ID``
and ``child.py torch ID`` one after the other (tinytorch first in even rounds, torch first in
odd ones, so neither always runs after the other), each a plain Python process that imports
one framework, builds the model, warms up and times a plain loop (see ``child.py``). The
tinytorch process never imports torch (checked: its result lists the frameworks it had
imported). A workload's time is the median over rounds of each process's median step time;
its memory is the median over rounds of each process's peak resident-set growth.

Why not one process with both frameworks (``--mode interleaved``, kept as an option)? A
process that imports both pays costs a user of either never pays: the two allocators' large
blocks interleave in one heap, thread pools fight for the cores, ``import torch`` leaves
150,000 objects for the garbage collector to walk. And a process that ran many steps of
other work before is warmer than a user's fresh script. Separate processes remove both.

Threads: one per process by default (``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``,
``MKL_NUM_THREADS`` set in the child's environment before NumPy or torch is imported, and
``torch.set_num_threads``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Callable

# the process machinery is shared with TinyMLPerf (module 19's package)
from tinytorch.benchmarking.isolation import child_env, run_json_child

HERE = Path(__file__).resolve().parent
CHILD = HERE / "child.py"

__all__ = ["run", "summarize", "child_env"]


def _child(framework: str, spec_id: str, repeats: int, warmup: int, quick: bool,
           threads: int, env: dict, timeout: float) -> dict:
    cmd = [sys.executable, str(CHILD), framework, spec_id, "--repeats", str(repeats),
           "--warmup", str(warmup), "--threads", str(threads)] + (["--quick"] if quick else [])
    return run_json_child(cmd, env, timeout, {"framework": framework, "id": spec_id})


def run(spec_ids=None, rounds: int = 5, repeats: int = 20, warmup: int = 5,
        threads: int = 1, quick: bool = False, frameworks=("tinytorch", "torch"),
        env: dict | None = None, progress: Callable[[str], None] | None = None,
        timeout: float = 900.0) -> list[dict]:
    """Run the workloads (all of ``suite.SPECS`` by default); return one summary per workload.

    Args:
        spec_ids: workload ids (``suite.SPECS``) to run, in that order.
        rounds: processes per framework and workload (alternating which goes first).
        repeats / warmup: timed and untimed steps inside each process.
        frameworks: which sides to run (torch is dropped when it is not installed).
        env: extra environment variables for the tinytorch processes only (for example
            ``{"TINYTORCH_MALLOC": "0"}`` to measure without the allocator policy).
    """
    import suite

    specs = [suite.get(i) for i in spec_ids] if spec_ids else list(suite.SPECS)
    if importlib.util.find_spec("torch") is None:
        frameworks = tuple(f for f in frameworks if f != "torch")
    out = []
    for spec in specs:
        if progress is not None:
            progress(spec.name)
        runs = {f: [] for f in frameworks}
        skipped = None
        for r in range(rounds):
            order = list(frameworks) if r % 2 == 0 else list(reversed(frameworks))
            for f in order:
                extra = env if f == "tinytorch" else None
                res = _child(f, spec.id, min(repeats, spec.max_repeats or repeats),
                             min(warmup, spec.max_warmup if spec.max_warmup is not None
                                 else warmup), quick, threads, child_env(threads, extra), timeout)
                runs[f].append(res)
                skipped = skipped or res.get("skipped")
                if skipped or res.get("error"):
                    break
            if skipped or any(x.get("error") for rs in runs.values() for x in rs):
                break
        out.append(summarize(spec, runs, skipped))
    return out


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(spec, runs: dict, skipped: str | None = None) -> dict:
    """One workload's row from its processes' results (``runs``: framework -> list)."""
    errors = [f"{f}: {x['error']}" for f, rs in runs.items() for x in rs if x.get("error")]
    row = {"id": spec.id, "name": spec.name, "target": spec.target,
           "mem_target": spec.mem_target, "note": spec.note, "skipped": skipped,
           "error": errors[0] if errors else None, "samples": {}, "peaks": {}}
    for f in ("tinytorch", "torch"):
        rs = [x for x in runs.get(f, []) if not x.get("error") and not x.get("skipped")]
        row["samples"][f] = [x["median_ms"] for x in rs]
        # every timed step of every process, for TinyMLPerf's statistics (tito benchmark run
        # --vs torch summarizes them with median, quartiles and Tukey's outliers)
        row.setdefault("steps_ms", {})[f] = [t for x in rs for t in x.get("times_ms", [])]
        row["peaks"][f] = [round(x["peak_growth_mb"], 2) for x in rs]
        row[f"{f}_ms"] = None if (skipped or errors) else _median(row["samples"][f])
        row[f"{f}_peak_mb"] = None if (skipped or errors) else _median(row["peaks"][f])
        # CPU time per step (user + system) of the same processes: on a machine busy with
        # other work, wall time includes waiting for a core; CPU time mostly does not
        row[f"{f}_cpu_ms"] = None if (skipped or errors) else _median(
            [x.get("cpu_median_ms") for x in rs])
    leaked = sorted({m for x in runs.get("tinytorch", []) for m in x.get("modules", [])
                     if m != "tinytorch"})
    row["tinytorch_process_imported"] = leaked  # must stay [] (never torch)
    policies = {x.get("allocator") for x in runs.get("tinytorch", []) if x.get("allocator")}
    row["allocator"] = policies.pop() if len(policies) == 1 else None
    tt, th = row["tinytorch_ms"], row["torch_ms"]
    row["ratio"] = tt / th if tt and th else None
    ct, ch = row["tinytorch_cpu_ms"], row["torch_cpu_ms"]
    row["cpu_ratio"] = ct / ch if ct and ch else None
    row["met"] = None if spec.target is None or row["ratio"] is None \
        else row["ratio"] <= spec.target
    mt, mh = row["tinytorch_peak_mb"], row["torch_peak_mb"]
    # growth below 1 MiB is noise in a counter of pages: compare against at least 1 MiB
    row["mem_ratio"] = mt / max(mh, 1.0) if mt is not None and mh is not None else None
    row["mem_met"] = None if spec.mem_target is None or row["mem_ratio"] is None \
        else row["mem_ratio"] <= spec.mem_target
    return row


# --------------------------------------------------------------------------- reporting

COLUMNS = ("workload", "tinytorch ms", "torch ms", "ratio", "target", "met", "cpu ratio",
           "tinytorch MB", "torch MB", "mem ratio", "mem met")


def _f(x, fmt="{:.2f}") -> str:
    return "-" if x is None else fmt.format(x)


def _yes(v) -> str:
    return "-" if v is None else ("yes" if v else "NO")


def rows(results: list[dict]) -> list[tuple[str, ...]]:
    """Table cells, one tuple per workload (shared by the terminal and README tables)."""
    out = []
    for r in results:
        target = "-" if r["target"] is None else f"<= {r['target']:g}x"
        if r.get("skipped"):
            out.append((r["name"], "skipped", "-", "-", target, "-", "-", "-", "-", "-", "-"))
            continue
        if r.get("error"):
            out.append((r["name"], "error", "-", "-", target, "error", "-", "-", "-", "-", "-"))
            continue
        out.append((r["name"], _f(r["tinytorch_ms"]), _f(r["torch_ms"]),
                    _f(r["ratio"], "{:.2f}x"), target, _yes(r["met"]),
                    _f(r.get("cpu_ratio"), "{:.2f}x"),
                    _f(r["tinytorch_peak_mb"], "{:.1f}"), _f(r["torch_peak_mb"], "{:.1f}"),
                    _f(r["mem_ratio"], "{:.2f}x"), _yes(r["mem_met"])))
    return out


def format_table(results: list[dict]) -> str:
    table = [COLUMNS, *rows(results)]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    lines = []
    for n, row in enumerate(table):
        lines.append("  ".join([row[0].ljust(widths[0])]
                               + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [f"  {r['name']}: {r['skipped'] or r['error']}" for r in results
             if r.get("skipped") or r.get("error")]
    return "\n".join(lines + notes)


def machine_info(threads: int, rounds: int, repeats: int, warmup: int, quick: bool) -> dict:
    """What the numbers depend on, without importing either framework in this process."""
    import datetime
    import platform
    from importlib import metadata

    def version(dist):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                       cpu)
    except OSError:
        pass
    return {"date": datetime.date.today().isoformat(), "cpu": cpu, "cores": os.cpu_count(),
            "python": platform.python_version(), "numpy": version("numpy"),
            "torch": version("torch"), "tinytorch": version("tinytorch"),
            "threads": threads, "rounds": rounds, "repeats": repeats, "warmup": warmup,
            "quick": quick, "mode": "processes",
            "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE")}


def write_json(results: list[dict], path, info: dict) -> None:
    payload = {"machine": info, "mode": "processes", "results": results}
    Path(path).write_text(json.dumps(payload, indent=2) + "\n")
