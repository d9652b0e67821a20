"""The historical milestones: which exist, which module unlocks each, and how to run one.

A milestone is a script in ``milestones/``, found by its name (``01_perceptron``), as the first
of ``milestones/<name>/run.py``, ``milestones/<name>/main.py``,
``milestones/<name>/<name>.py`` or ``milestones/<name>.py``. It takes ``--out DIR`` and writes
its ``metrics.json`` and plots there. Names come from the registry (the milestone each module
unlocks) and from the folder itself (a milestone no module unlocks is listed too).
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tito import registry
from tito.course import Course
from tito.grading import grading_env

LAUNCHER = Path(__file__).resolve().parent / "launch.py"


@dataclass(frozen=True)
class Milestone:
    name: str  # "01_perceptron"
    module: registry.Module | None  # the module that unlocks it
    script: Path | None  # None: named in the registry, not written yet

    @property
    def key(self) -> str:
        return self.name.split("_")[0]


def _script(course: Course, name: str) -> Path | None:
    base = course.root / "milestones"
    for p in (base / name / "run.py", base / name / "main.py", base / name / f"{name}.py",
              base / f"{name}.py"):
        if p.is_file():
            return p
    return None


def discover(course: Course) -> list[Milestone]:
    """Every milestone, in order: the registry's, plus any other ``NN_name`` in ``milestones/``."""
    unlocks = {m.milestone: m for m in registry.MODULES if m.milestone}
    names = set(unlocks)
    folder = course.root / "milestones"
    if folder.is_dir():
        for p in folder.iterdir():
            stem = p.stem if p.suffix == ".py" else p.name
            if re.fullmatch(r"\d\d_\w+", stem) and (p.is_dir() or p.suffix == ".py"):
                names.add(stem)
    return [Milestone(n, unlocks.get(n), _script(course, n)) for n in sorted(names)]


def find(course: Course, ident: str) -> Milestone:
    """A milestone by number (``1``, ``01``), full name or the part after the number."""
    ident = str(ident).strip()
    for ms in discover(course):
        if ident in (ms.name, ms.name.split("_", 1)[1]) or (
                ident.isdigit() and int(ident) == int(ms.key)):
            return ms
    known = ", ".join(ms.name for ms in discover(course))
    raise KeyError(f"no milestone {ident!r}; the milestones are: {known}")


def run_script(script: Path, code_root: Path, args: list[str], cwd: Path | None = None) -> int:
    """Run ``script`` with ``code_root/tinytorch`` as the tinytorch it imports; its exit code.

    Goes through ``tito/launch.py``, which checks where ``tinytorch`` came from before the
    script starts (the same guard as graded test runs).
    """
    cmd = [sys.executable, str(LAUNCHER), str(Path(code_root).resolve() / "tinytorch"),
           str(script), *args]
    return subprocess.call(cmd, cwd=cwd, env=grading_env(Path(code_root).resolve()))


def tier_of(metrics_path: Path) -> str:
    """The tier a milestone's ``metrics.json`` records (``quick``, ``standard``, ``full``);
    results written before tiers existed say ``quick`` or ``full`` (their default run was
    the historical one); ``""`` without a readable file."""
    import json

    try:
        data = json.loads(Path(metrics_path).read_text())
    except (OSError, ValueError):
        return ""
    return str(data.get("tier") or ("quick" if data.get("quick") else "full"))


def summarize(metrics_path: Path) -> tuple[str, str]:
    """("PASSED" | "FAILED" | "no metrics.json", a one-line summary) from a milestone's results.

    Reads the ``passed`` flag and the headline metrics the milestone itself measured.
    """
    import json

    try:
        data = json.loads(Path(metrics_path).read_text())
    except (OSError, ValueError):
        return "no metrics.json", ""
    verdict = "PASSED" if data.get("passed") is True else "FAILED"
    parts = []
    for key, value in (data.get("metrics") or {}).items():
        if isinstance(value, float):
            parts.append(f"{key}={value:.4g}")
        elif isinstance(value, (int, str, bool)):
            parts.append(f"{key}={value}")
    if isinstance(data.get("seconds"), (int, float)):
        parts.append(f"{data['seconds']:.1f} s")
    return verdict, ", ".join(parts[:5])
