"""Run a module's lab on a chosen tinytorch: as a script, or as a notebook in JupyterLab.

A lab (``modules/NN_slug/lab.py``) does ``import tinytorch``. Run by hand from the course
folder, that import finds the reference (the editable install, or the ``tinytorch/`` folder
beside it), never the learner's code. ``tito module lab N`` runs it the way graded tests run:

* as a script through ``tito/launch.py``, which puts the chosen folder first on ``sys.path``,
  checks that ``tinytorch`` really came from there, then runs the lab (absolute paths, so
  where the learner stands does not matter);
* as a notebook: jupytext writes ``<workspace>/labs/NN_slug.ipynb`` once (the learner's copy,
  never overwritten) and JupyterLab starts with the same environment, so its kernel imports
  the workspace.

Everything a lab writes (plots, ``runs/``) goes under the workspace, not into ``modules/``.
The lab itself prints which tinytorch it imported (``tito/labkit.py``).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tito import registry
from tito.course import Course
from tito.grading import grading_env, installed
from tito.milestones import LAUNCHER

INSTALL_NOTEBOOK = 'pip install -e ".[notebook]"'


class LabError(Exception):
    """The lab cannot run or open; the message says what to do."""


def out_dir(code_root: Path, m: registry.Module) -> Path:
    """Where the lab's plots go: ``<workspace or course>/runs/labs/NN_slug``."""
    return Path(code_root).resolve() / "runs" / "labs" / m.dirname


def lab_env(code_root: Path, m: registry.Module, quick: bool = False) -> dict[str, str]:
    """The environment of a lab process: imports ``code_root/tinytorch``, plots under it."""
    env = grading_env(Path(code_root).resolve())
    env["TINYTORCH_OUT"] = str(out_dir(code_root, m))
    env.setdefault("MPLBACKEND", "Agg")
    if quick:
        env["TINYTORCH_QUICK"] = "1"
    return env


def run_lab(course: Course, m: registry.Module, code_root: Path, quick: bool = False) -> int:
    """Run module ``m``'s lab as a script on ``code_root/tinytorch``; its exit code."""
    lab = course.lab(m)
    if not lab.is_file():
        raise LabError(f"Module {m.key} has no lab yet ({lab}).")
    code_root = Path(code_root).resolve()
    out_dir(code_root, m).mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(LAUNCHER), str(code_root / "tinytorch"), str(lab.resolve())]
    return subprocess.call(cmd, cwd=code_root, env=lab_env(code_root, m, quick))


@dataclass
class Notebook:
    path: Path
    created: bool  # False: the learner's existing notebook was kept as it is


def write_notebook(course: Course, m: registry.Module, folder: Path) -> Notebook:
    """``folder/NN_slug.ipynb`` from the lab (jupytext); an existing notebook is kept."""
    lab = course.lab(m)
    if not lab.is_file():
        raise LabError(f"Module {m.key} has no lab yet ({lab}).")
    notebook = Path(folder) / f"{m.dirname}.ipynb"
    if notebook.exists():
        return Notebook(notebook, False)
    if not installed("jupytext"):
        raise LabError('jupytext is not installed, so the lab cannot become a notebook: '
                       'pip install -e ".[course]"')
    import jupytext

    notebook.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(jupytext.read(lab), notebook)
    return Notebook(notebook, True)


def jupyterlab_missing() -> str | None:
    """The install command when JupyterLab is missing, else None."""
    if installed("jupyterlab"):
        return None
    return f"JupyterLab is not installed: {INSTALL_NOTEBOOK}   (from the course folder)"


def open_notebook(notebook: Path, code_root: Path, m: registry.Module) -> int:
    """Start JupyterLab on ``notebook`` with a kernel that imports ``code_root/tinytorch``.

    The kernel inherits the server's environment: ``PYTHONPATH`` starts with ``code_root``,
    and the same Python (``sys.executable -m jupyterlab``) runs it, so the notebook's
    ``import tinytorch`` is the chosen one; the lab's first cell prints which.
    """
    env = lab_env(code_root, m)
    return subprocess.call([sys.executable, "-m", "jupyterlab", str(notebook)],
                           cwd=notebook.parent, env=env)
