"""A pytest plugin that makes sure a graded run tests the code it claims to test.

``tito`` runs a module's tests in a subprocess with ``-p tito.pytest_guard`` and two
environment variables:

``TINYTORCH_EXPECT_ROOT``
    the ``tinytorch`` package folder that must be imported (the learner's workspace copy, or
    the reference with ``--reference``). The plugin imports ``tinytorch`` before collection and
    checks ``tinytorch.__file__`` again once every test file is imported; if it lies anywhere
    else (the editable install of the reference, a folder a conftest put on ``sys.path``) the
    run stops with a loud error instead of grading the wrong code.

``TITO_REPORT``
    where to write a JSON report of the run: every test's outcome and failure message, the
    file ``tinytorch`` came from, and an import error if the package could not be imported.
    tito reads it to print the first failure and to record progress.

``TITO_SHORT_TRACEBACKS``
    how many failures get pytest's ``short`` traceback (the one ``tito resume`` reads for the
    line to edit); later ones are formatted natively. pytest's own styles re-parse every
    frame's source file for every failure, about 0.3 s each: a fresh workspace of module 01
    fails ~400 tests on its stubs, and the learner waited two minutes for the first message.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

import pytest

from tito.grading import IMPORT_EXIT, ISOLATION_EXIT

# what the JSON report holds
_state = {"tests": [], "tinytorch_file": None, "isolation_error": None, "import_error": None,
          "started": time.time()}
_paths: dict[str, str] = {}  # nodeid -> absolute path of its test file
_rootdir = Path(".")  # nodeids are relative to it
_tracebacks = {"config": None, "failed": 0}


def _expected() -> Path | None:
    root = os.environ.get("TINYTORCH_EXPECT_ROOT")
    return Path(root).resolve() if root else None


def _check(when: str) -> str | None:
    """An error message if the imported tinytorch is not the expected one."""
    expected = _expected()
    mod = sys.modules.get("tinytorch")
    if expected is None or mod is None:
        return None
    got = Path(getattr(mod, "__file__", None) or "<namespace package>").resolve()
    _state["tinytorch_file"] = str(got)
    if got.parent != expected:
        return (f"ISOLATION FAILURE ({when}): the tests imported tinytorch from\n    {got}\n"
                f"but this run grades\n    {expected}/__init__.py\n"
                "Something put another tinytorch first on sys.path (a conftest.py, a .pth file, "
                "the current directory). No result of this run can be trusted.")
    return None


def _write_report(exitstatus=None) -> None:
    path = os.environ.get("TITO_REPORT")
    if not path:
        return
    data = dict(_state)
    data["exitstatus"] = int(exitstatus) if exitstatus is not None else None
    data["duration"] = time.time() - _state["started"]
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def pytest_sessionstart(session):
    global _rootdir
    _rootdir = Path(session.config.rootpath)
    try:
        import tinytorch  # noqa: F401  (the package under test, imported before any test file)
    except Exception as e:  # a SyntaxError, or a stub called at import time
        tb = traceback.TracebackException.from_exception(e)
        frames = [f for f in tb.stack if "tinytorch" in f.filename]
        where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
        if isinstance(e, SyntaxError) and e.filename:
            # the file to fix is the one that does not parse, not the one importing it
            where = f" ({e.filename}:{e.lineno})"
        _state["import_error"] = f"{type(e).__name__}: {e}{where}"
        _write_report(IMPORT_EXIT)
        pytest.exit(f"import tinytorch failed: {_state['import_error']}", returncode=IMPORT_EXIT)
    err = _check("at session start")
    if err:
        _state["isolation_error"] = err
        _write_report(ISOLATION_EXIT)
        pytest.exit(err, returncode=ISOLATION_EXIT)


def pytest_collection_finish(session):
    for item in session.items:
        _paths[item.nodeid] = str(Path(item.path).resolve())
    err = _check("after importing the test files")
    if err:
        _state["isolation_error"] = err
        _write_report(ISOLATION_EXIT)
        pytest.exit(err, returncode=ISOLATION_EXIT)


def _message(report) -> str | None:
    longrepr = report.longrepr
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, reason)
        return str(longrepr[2])
    return str(longrepr) if longrepr else None


def _record(report, outcome: str, path: str | None) -> None:
    _state["tests"].append({
        "nodeid": report.nodeid,
        "path": path,
        "outcome": outcome,
        "when": report.when,
        "message": _message(report) if outcome != "passed" else None,
        "longrepr": report.longreprtext[-6000:] if outcome in ("failed", "error") else None,
        "duration": getattr(report, "duration", 0.0),
    })


def pytest_collectreport(report):
    if report.failed:  # a test file that does not even import
        _record(report, "error", str((_rootdir / report.fspath).resolve()))


def pytest_configure(config):
    _tracebacks["config"] = config


def _cheaper_tracebacks_after(report) -> None:
    """After the first few failures, format the rest with Python's cheap native tracebacks."""
    limit = int(os.environ.get("TITO_SHORT_TRACEBACKS") or 0)
    config = _tracebacks["config"]
    if not (limit and report.failed and config is not None):
        return
    _tracebacks["failed"] += 1
    if _tracebacks["failed"] >= limit and config.option.tbstyle in ("auto", "long", "short"):
        config.option.tbstyle = "native"


def pytest_runtest_logreport(report):
    _cheaper_tracebacks_after(report)
    path = _paths.get(report.nodeid)
    if report.when == "call":
        outcome = "passed" if report.passed else "skipped" if report.skipped else "failed"
        _record(report, outcome, path)
    elif report.failed:  # a fixture failed in setup or teardown
        _record(report, "error", path)
    elif report.skipped and report.when == "setup":
        _record(report, "skipped", path)


def pytest_sessionfinish(session, exitstatus):
    if _state["isolation_error"] is None:
        err = _check("at the end of the run")
        if err:
            _state["isolation_error"] = err
            session.exitstatus = ISOLATION_EXIT
    _write_report(session.exitstatus)


def pytest_terminal_summary(terminalreporter):
    if _state["tinytorch_file"]:
        terminalreporter.write_line(f"graded tinytorch: {_state['tinytorch_file']}")
    if _state["isolation_error"]:
        terminalreporter.write_line(_state["isolation_error"], red=True, bold=True)
