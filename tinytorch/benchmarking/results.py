"""TinyMLPerf results files: one JSON schema, checked on load; tables for the terminal.

A results file is::

    {"schema": "tinymlperf", "schema_version": 1, "suite_version": 1,
     "environment": {...},            # environment.capture(): CPU, BLAS, versions, threads
     "config": {"quick", "isolate", "threads", "repeats", "warmup", "outlier_k", ...},
     "tasks": [{"id", "name", "metric", "higher_is_better", "target", "quality", "met",
                "steps", "train_to_target_s",
                "measurements": {"train_step_ms" | "latency_b1_ms" | "batch32_ms":
                                 {"samples": [...], "summary": Summary.to_dict()}},
                "throughput_b32": {"median", "lo", "hi", "unit"}, "info": {...},
                "error": null | text}, ...],
     "vs_torch": [...] or absent,     # the side-by-side suite (benchmarks/), same statistics
     "score": {...} or absent}        # against a reference run (compare.suite_score)

Every summary is recomputed from its samples on load (:func:`validate`): a file whose
medians were edited by hand, or whose samples are missing, is refused rather than trusted.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from tinytorch.benchmarking.stats import Summary, summarize

__all__ = ["SCHEMA", "SCHEMA_VERSION", "SchemaError", "make", "validate", "save", "load",
           "task_rows", "format_table", "print_table", "format_comparison"]

SCHEMA = "tinymlperf"
SCHEMA_VERSION = 1


class SchemaError(ValueError):
    """A results file this version cannot read, or one whose numbers do not add up."""


def make(tasks: list[dict], environment: dict, config: dict, suite_version: int,
         vs_torch: list[dict] | None = None) -> dict:
    out = {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "suite_version": suite_version,
           "environment": environment, "config": config, "tasks": tasks}
    if vs_torch is not None:
        out["vs_torch"] = vs_torch
    return out


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def validate(data: dict, path: str = "results") -> dict:
    """Check the schema and that every summary matches its samples; return ``data``."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise SchemaError(f"{path}: not a TinyMLPerf results file (no \"schema\": "
                          f"\"{SCHEMA}\"); write one with: tito benchmark run --json FILE")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise SchemaError(f"{path}: schema_version {version!r}, this tinytorch reads "
                          f"{SCHEMA_VERSION}; re-run the benchmark to get a current file")
    for key in ("environment", "config", "tasks"):
        if key not in data:
            raise SchemaError(f"{path}: missing {key!r}")
    k = float(data["config"].get("outlier_k", 1.5))
    for task in data["tasks"]:
        for name in ("id", "measurements"):
            if name not in task:
                raise SchemaError(f"{path}: a task has no {name!r}")
        for key, m in task["measurements"].items():
            stored = Summary.from_dict(m["summary"])
            if not m.get("samples"):
                raise SchemaError(f"{path}: {task['id']} {key} has a summary but no samples")
            again = summarize(m["samples"], k, stored.unit)
            if not all(_close(getattr(stored, f), getattr(again, f))
                       for f in ("median", "q1", "q3", "n", "outliers")):
                raise SchemaError(f"{path}: {task['id']} {key}: the summary (median "
                                  f"{stored.median:.4g}) does not match its samples (median "
                                  f"{again.median:.4g}); the file was edited or corrupted")
    return data


def save(data: dict, path) -> Path:
    """Validate, then write atomically (a temporary file renamed over the target)."""
    path = Path(path)
    validate(data, str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)
    return path


def load(path) -> dict:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise SchemaError(f"{path}: no such file") from None
    except ValueError as e:
        raise SchemaError(f"{path}: not JSON ({e})") from None
    return validate(data, str(path))


# --------------------------------------------------------------------------- tables

COLUMNS = ("task", "quality", "target", "met", "steps", "train s", "step ms (IQR)",
           "batch-1 ms (IQR)", "batch-32 samples/s", "outliers")


def _iqr(m: dict) -> str:
    s = Summary.from_dict(m["summary"])
    return f"{s.median:.3g} ({s.q1:.3g}-{s.q3:.3g})"


def task_rows(data: dict) -> list[tuple[str, ...]]:
    rows = []
    for t in data["tasks"]:
        if t.get("error"):
            rows.append((t["id"], "error", "-", "NO", "-", "-", "-", "-", "-", "-"))
            continue
        ms = t["measurements"]
        cmp = ">=" if t.get("higher_is_better") else "<="
        tp = t["throughput_b32"]
        outl = sum(m["summary"]["outliers"] for m in ms.values())
        total = sum(m["summary"]["n"] for m in ms.values())
        rows.append((t["id"], f"{t['quality']:.4g}", f"{cmp} {t['target']:.4g}",
                     "yes" if t["met"] else "NO", str(t["steps"]),
                     f"{t['train_to_target_s']:.2f}", _iqr(ms["train_step_ms"]),
                     _iqr(ms["latency_b1_ms"]), f"{tp['median']:.0f} ({tp['lo']:.0f}-"
                     f"{tp['hi']:.0f})", f"{outl}/{total}"))
    return rows


def _plain(columns, rows) -> str:
    table = [tuple(columns), *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(columns))]
    lines = []
    for n, r in enumerate(table):
        lines.append("  ".join([r[0].ljust(widths[0])]
                               + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _machine_line(env: dict) -> str:
    blas = env.get("blas") or {}
    pools = blas.get("pools") or []
    lib = (f"{pools[0].get('internal_api')} {pools[0].get('version')}" if pools
           else blas.get("name") or "BLAS ?")
    return (f"{env.get('cpu')}, {env.get('cores')} cores, load {env.get('load_average_1min')}; "
            f"numpy {env.get('numpy')} ({lib}); python {env.get('python')}; "
            f"threads {env.get('thread_env', {}).get('OMP_NUM_THREADS')}; {env.get('date')}")


def errors(data: dict) -> list[str]:
    return [f"{t['id']}: {t['error']}" for t in data["tasks"] if t.get("error")]


def format_table(data: dict) -> str:
    """The results as plain text: the tasks, errors, the machine."""
    lines = [f"TinyMLPerf, {data['config'].get('clock', 'wall')}-clock ms: median (IQR)",
             _plain(COLUMNS, task_rows(data))]
    lines += [f"  ERROR {e}" for e in errors(data)]
    lines.append(_machine_line(data["environment"]))
    if data.get("vs_torch"):
        lines += ["", _plain(VS_COLUMNS, vs_rows(data["vs_torch"]))]
    if data.get("score"):
        lines.append(_score_line(data["score"]))
    return "\n".join(lines)


def _score_line(sc: dict) -> str:
    if sc.get("score") is None:
        return "score: none (no task met its target in both runs)"
    return (f"score vs reference {sc.get('reference', '')}: {sc['score']:.2f} "
            f"(spread {sc['lo']:.2f}-{sc['hi']:.2f}; above 1: faster than the reference)")


VS_COLUMNS = ("workload", "tinytorch ms (IQR)", "torch ms (IQR)", "tt/torch", "spread",
              "verdict")


def vs_rows(rows: list[dict]) -> list[tuple[str, ...]]:
    out = []
    for r in rows:
        if r.get("skipped") or r.get("error"):
            out.append((r["name"], "skipped" if r.get("skipped") else "error", "-", "-", "-",
                        (r.get("skipped") or r.get("error") or "")[:60]))
            continue
        tt, th = Summary.from_dict(r["tinytorch"]), Summary.from_dict(r["torch"])
        ratio = tt.median / th.median
        out.append((r["name"], f"{tt.median:.3g} ({tt.q1:.3g}-{tt.q3:.3g})",
                    f"{th.median:.3g} ({th.q1:.3g}-{th.q3:.3g})", f"{ratio:.2f}x",
                    f"{tt.q1 / th.q3:.2f}-{tt.q3 / th.q1:.2f}", r.get("verdict", "")))
    return out


def print_table(data: dict, file=None) -> None:
    """The table with rich when it is installed (the ``[course]`` extra), else plain text."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(format_table(data), file=file)
        return
    console = Console(file=file)
    if not console.is_terminal:
        console = Console(file=file, width=180)
    quick = " (quick)" if data["config"].get("quick") else ""
    clock = data["config"].get("clock", "wall")
    table = Table(title=f"TinyMLPerf{quick}: median (interquartile range), {clock}-clock ms")
    for i, col in enumerate(COLUMNS):
        table.add_column(col, justify="left" if i == 0 else "right", no_wrap=True)
    for row in task_rows(data):
        table.add_row(*row, style=None if row[3] == "yes" else "red")
    console.print(table)
    for e in errors(data):
        console.print(f"  ERROR {e}", style="red", markup=False, highlight=False)
    console.print(_machine_line(data["environment"]), style="dim", markup=False,
                  highlight=False)
    if data.get("vs_torch"):
        vt = Table(title="tinytorch vs PyTorch (each in its own process), ms per step")
        for i, col in enumerate(VS_COLUMNS):
            vt.add_column(col, justify="left" if i == 0 else "right", no_wrap=True)
        for row in vs_rows(data["vs_torch"]):
            vt.add_row(*row)
        console.print(vt)
    if data.get("score"):
        console.print(_score_line(data["score"]), markup=False, highlight=False)


def format_comparison(result: dict, a_name: str = "A", b_name: str = "B") -> str:
    """``compare.compare_results`` as text: one line per timing and per task's quality."""
    lines = [f"B = {b_name} against A = {a_name} (speedup above 1: B is faster; noise "
             f"floor {result['noise_floor']:.0%})"]
    width = max([len(c.name) for c in result["timings"]] + [10])
    for c in result["timings"]:
        flag = "  <-- SLOWER" if c.flagged else ""
        lines.append(f"  {c.name.ljust(width)}  {c.a_median:10.4g} -> {c.b_median:10.4g} ms  "
                     f"{c.describe()}{flag}")
    for q in result["quality"]:
        a = "-" if q["a"] is None else f"{q['a']:.4g}"
        b = "-" if q["b"] is None else f"{q['b']:.4g}"
        flag = "  <-- LOST ITS TARGET" if q["lost_target"] else ""
        lines.append(f"  {q['id'].ljust(width)}  {q['metric']}: {a} -> {b} (met: "
                     f"{q['a_met']} -> {q['b_met']}){flag}")
    lines += [f"  {m}" for m in result["missing"]]
    suite = result.get("suite") or {}
    if suite.get("score") is not None:
        lines.append(f"suite: B scores {suite['score']:.2f} against A (spread {suite['lo']:.2f}-"
                     f"{suite['hi']:.2f}, geometric mean over {len(suite['rows'])} timings): "
                     f"{suite['verdict']}" + ("  <-- SLOWER" if suite["verdict"] == "slower"
                                              else ""))
    n = result["flagged"]
    lines.append(f"{n} regression(s) flagged" if n else "no regression: every difference is "
                 "within noise or faster")
    return "\n".join(lines)
