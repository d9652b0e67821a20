"""``tito system doctor``: is this machine ready for the course? Each problem comes with its fix.

Checks Python, NumPy and the BLAS it calls (matrix multiply speed depends on it), the course
and test dependencies, the course checkout, and the learner's workspace (does its
``tinytorch`` import? is its progress file readable?).
"""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tito import progress, registry
from tito.course import Course
from tito.grading import grading_env
from tito.workspace import Workspace

OK, WARN, FAIL, INFO = "ok", "warn", "fail", "info"
INSTALL_COURSE = 'pip install -e ".[course]"   (from the repository root)'
INSTALL_NOTEBOOK = 'pip install -e ".[notebook]"   (from the repository root)'
INSTALL_DEV = 'pip install -e ".[dev]"   (from the repository root)'


@dataclass
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def _tuple(v: str) -> tuple:
    out = []
    for part in v.split(".")[:3]:
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits) if digits else 0)
    return tuple(out)


def check_python() -> Check:
    v = sys.version_info
    text = f"{v.major}.{v.minor}.{v.micro} ({sys.executable})"
    if v < (3, 10):
        return Check("Python", FAIL, text, "install Python 3.10 or newer")
    return Check("Python", OK, text)


def check_numpy() -> list[Check]:
    v = _version("numpy")
    if v is None:
        return [Check("NumPy", FAIL, "not installed", "pip install 'numpy>=1.24'")]
    out = [Check("NumPy", OK if _tuple(v) >= (1, 24) else FAIL, v,
                 "" if _tuple(v) >= (1, 24) else "pip install -U 'numpy>=1.24'")]
    out.append(check_blas())
    return out


def check_blas() -> Check:
    """The BLAS behind ``np.matmul``: from threadpoolctl when installed, else NumPy's config."""
    import numpy as np

    try:
        from threadpoolctl import threadpool_info

        blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if blas:
            b = blas[0]
            return Check("BLAS", OK, f"{b.get('internal_api')} {b.get('version') or ''} "
                                     f"({b.get('num_threads')} threads, {b.get('architecture')})")
    except Exception:  # threadpoolctl missing or unable to inspect this build
        pass
    try:
        cfg = np.show_config(mode="dicts")
        b = cfg.get("Build Dependencies", {}).get("blas", {})
        if b.get("name"):
            return Check("BLAS", OK, f"{b['name']} {b.get('version', '')} (from numpy config)")
    except Exception:  # NumPy < 1.25 has no mode="dicts"
        pass
    return Check("BLAS", WARN, "unknown (cannot inspect NumPy's BLAS)",
                 "pip install threadpoolctl   (to see which BLAS and how many threads)")


DEPENDENCIES = [
    # (distribution, what it is for, status when missing, the fix)
    ("typer", "the tito command line", FAIL, INSTALL_COURSE),
    ("rich", "tito's tables", FAIL, INSTALL_COURSE),
    ("pytest", "running the graded tests", FAIL, INSTALL_COURSE),
    ("matplotlib", "the labs' plots", WARN, INSTALL_COURSE),
    ("jupytext", "opening labs as notebooks", WARN, INSTALL_COURSE),
    ("scikit-learn", "the bundled digits data set", WARN, INSTALL_COURSE),
    ("hypothesis", "the graded property tests", FAIL, INSTALL_COURSE),
    ("jupyterlab", "labs as notebooks: tito module lab N --notebook", INFO, INSTALL_NOTEBOOK),
    ("torch", "PyTorch parity tests and benchmarks (optional)", INFO, INSTALL_DEV),
]


def check_dependencies() -> list[Check]:
    out = []
    for dist, purpose, missing, fix in DEPENDENCIES:
        v = _version(dist)
        out.append(Check(dist, OK, f"{v} -- {purpose}") if v else
                   Check(dist, missing, f"not installed -- needed for {purpose}", fix))
    return out


def check_course(course: Course) -> list[Check]:
    out = []
    if not (course.reference / "__init__.py").is_file():
        return [Check("course", FAIL, f"no reference package at {course.reference}",
                      "run tito from a clone of the TinyTorch repository")]
    ready = [m for m in registry.MODULES if m.available and course.has_tests(m)]
    coming = sum(not course.written(m) for m in registry.MODULES)
    out.append(Check("course", OK, f"{course.root}: {len(ready)} modules with tests, "
                                   f"{coming} coming"))
    spec = importlib.util.find_spec("tinytorch")
    origin = Path(spec.origin).resolve().parent if spec and spec.origin else None
    if origin is None:
        out.append(Check("reference install", WARN, "tinytorch is not importable here",
                         "pip install -e .   (tito grades your workspace either way; the "
                         "repository's own tests and labs need the reference installed)"))
    elif origin != course.reference.resolve():
        out.append(Check("reference install", INFO, f"`import tinytorch` here finds {origin}"))
    else:
        out.append(Check("reference install", OK, f"editable install of {origin}"))
    return out


def check_workspace(ws: Workspace) -> list[Check]:
    if not ws.exists():
        return [Check("workspace", INFO, f"none yet at {ws.root}",
                      "tito setup   (or tito module start 1) creates it")]
    out = [Check("workspace", OK, f"{ws.root} (modules from {ws.from_module:02d} on started as "
                                  "stubs)")]
    try:
        progress.load(ws.progress_path)
        out.append(Check("progress", OK, str(ws.progress_path)))
    except progress.ProgressError as e:
        out.append(Check("progress", WARN, f"progress.json {e.reason}",
                         "tito module status   (rebuilds it from test results)"))
    proc = subprocess.run([sys.executable, "-c", "import tinytorch"], cwd=ws.root,
                          env=grading_env(ws.root), capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        out.append(Check("workspace import", FAIL, f"`import tinytorch` fails: {last}",
                         "fix the file named in the error (tito module test N shows where)"))
    else:
        out.append(Check("workspace import", OK, "import tinytorch works on your workspace"))
    return out


def run_all(course: Course, ws: Workspace) -> list[Check]:
    return [check_python(), *check_numpy(), *check_dependencies(), *check_course(course),
            *check_workspace(ws)]
