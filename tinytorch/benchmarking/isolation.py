"""Run a workload in a fresh Python process and read back its JSON result.

A process that ran other work first is not the process a user starts: its heap is warm (or
fragmented), its imports are done, its garbage collector has more objects to walk. So each
workload can run in its own child process, the way ``benchmarks/processes.py`` runs every
framework (it uses :func:`child_env` and :func:`run_json_child` from here).

The child gets this environment with the BLAS/OpenMP thread counts set *before* NumPy loads
(a BLAS library reads them once, at import) and the same ``tinytorch`` first on
``PYTHONPATH`` as the parent imported: a learner's workspace stays a learner's workspace.
The child prints one JSON object as the last line starting with ``{`` on stdout.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["THREAD_VARS", "package_root", "child_env", "run_json_child"]

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def package_root(name: str) -> str | None:
    """The folder holding package ``name`` as this interpreter would import it (without
    importing it), or None."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(Path(list(spec.submodule_search_locations)[0]).resolve().parent)


def child_env(threads: int, extra: dict | None = None) -> dict:
    """This environment with the thread counts set to ``threads`` and the same tinytorch
    first on the path; ``extra`` variables last (they win)."""
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(threads)
    root = package_root("tinytorch")
    if root:
        env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in env.get("PYTHONPATH", "")
                                                      .split(os.pathsep) if p])
    env.update(extra or {})
    return env


def run_json_child(cmd: list[str], env: dict, timeout: float, what: dict | None = None) -> dict:
    """Run ``cmd``; return the JSON object it printed last. Failures come back as
    ``{**what, "error": text}`` (a timeout, a crash, no JSON), never as an exception, so one
    broken workload is one error row."""
    what = dict(what or {})
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {**what, "error": f"timed out after {timeout} s"}
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {**what, "error": f"child exited {done.returncode}: {tail[:200]}"}
    return json.loads(lines[-1])


def python() -> str:
    """The interpreter children run with: this one."""
    return sys.executable
