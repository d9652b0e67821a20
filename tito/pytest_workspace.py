"""A plain ``pytest modules/...`` grades the learner's workspace when one is meant, never by accident the reference.

``tito module test N`` is the way to grade a module; but a learner who knows pytest will type
``PYTHONPATH=workspace python -m pytest modules/01_tensor/tests`` or run pytest from inside
their workspace. Both would import the reference: ``python -m pytest`` puts the current
folder (the course, holding ``tinytorch/``) first on ``sys.path``, and the editable install
finds the reference from anywhere. ``modules/conftest.py`` calls :func:`activate` before any
test file is imported:

* a workspace is *meant* when the current folder is inside one, a ``PYTHONPATH`` entry is
  one, or ``TITO_WORKSPACE`` names one (a workspace is a folder with
  ``.tito/workspace.json``);
* then that workspace goes first on ``sys.path`` and is checked to be what ``import
  tinytorch`` finds, once now and again after the test files are imported; if something
  else wins, the run stops and names the command that grades correctly;
* with no workspace meant (the course's own test suite), nothing changes: the tests grade
  the reference, as they should, and the report header says so.

tito's own graded runs (``TINYTORCH_EXPECT_ROOT`` set) are already isolated by
``tito/pytest_guard.py``; this does nothing there.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

_chosen: dict = {"workspace": None, "why": None}


def is_workspace(folder: Path) -> bool:
    return (folder / ".tito" / "workspace.json").is_file() and (
        folder / "tinytorch" / "__init__.py").is_file()


def meant_workspace(cwd: Path | None = None, env: dict | None = None) -> tuple[Path, str] | None:
    """(workspace folder, how it was named) when the learner meant one, else None."""
    env = os.environ if env is None else env
    cwd = Path(cwd or Path.cwd()).resolve()
    for folder in (cwd, *cwd.parents):
        if is_workspace(folder):
            return folder, "the current folder is in it"
    for entry in (env.get("PYTHONPATH") or "").split(os.pathsep):
        if entry and is_workspace((cwd / entry).resolve()):
            return (cwd / entry).resolve(), "PYTHONPATH names it"
    named = env.get("TITO_WORKSPACE")
    if named and is_workspace((cwd / named).resolve()):
        return (cwd / named).resolve(), "TITO_WORKSPACE names it"
    return None


def _refusal(ws: Path, got: str) -> str:
    return (f"This pytest run would grade {got}, not your workspace {ws}. "
            "Grade your code with: tito module test N   (N: the module number)")


def _imported_from() -> str:
    mod = sys.modules.get("tinytorch")
    return str(Path(mod.__file__).resolve().parent) if mod and getattr(mod, "__file__", None) \
        else "nothing yet"


def activate() -> None:
    """Put the meant workspace first on ``sys.path`` (see the module docstring)."""
    if os.environ.get("TINYTORCH_EXPECT_ROOT"):
        return  # a tito graded run: pytest_guard checks it
    found = meant_workspace()
    if found is None:
        return
    ws, why = found
    _chosen.update(workspace=ws, why=why)
    sys.path[:] = [str(ws)] + [p for p in sys.path if Path(p or ".").resolve() != ws]
    for name in [n for n in sys.modules if n == "tinytorch" or n.startswith("tinytorch.")]:
        del sys.modules[name]  # nothing has used it yet: conftest runs before the test files
    importlib.invalidate_caches()
    _verify("before the tests are imported")


def _verify(when: str) -> None:
    ws = _chosen["workspace"]
    if ws is None:
        return
    try:
        import tinytorch
    except Exception as e:  # a syntax error in the learner's file: say so, and how to see it
        import pytest

        pytest.exit(f"import tinytorch from your workspace {ws} failed: {type(e).__name__}: "
                    f"{e}. `tito module test N` shows which file to fix.", returncode=14)
    got = Path(tinytorch.__file__).resolve().parent
    if got != ws / "tinytorch":
        import pytest

        pytest.exit(f"{_refusal(ws, str(got))} ({when})", returncode=13)


def report_header() -> str:
    ws = _chosen["workspace"]
    if ws is not None:
        return f"tinytorch under test: {ws / 'tinytorch'} (your workspace: {_chosen['why']})"
    try:
        import tinytorch
    except Exception:
        return "tinytorch under test: none importable"
    where = Path(tinytorch.__file__).resolve().parent
    return (f"tinytorch under test: {where} (not a workspace; to grade yours: "
            "tito module test N)")


def collection_finish() -> None:
    _verify("after the test files were imported")
