"""Run module tests against one chosen ``tinytorch``, and nothing else.

The reference package is installed in editable mode, so ``import tinytorch`` works from
anywhere and would find the reference, not a learner's code. A graded run therefore happens in
a fresh Python process set up so that the chosen copy wins, and checked so that a mistake is
loud rather than a false pass:

* ``PYTHONPATH`` starts with the folder holding the chosen ``tinytorch`` (the workspace, or the
  repository with ``--reference``): ``sys.path`` entries are searched before the editable
  install's finder, so the chosen copy is the one imported.
* the working directory is that same folder, because ``python -m pytest`` puts the current
  directory first on ``sys.path``: run from the repository root it would import the reference.
* ``--import-mode=importlib`` stops pytest from inserting the test folders (and with them
  whatever sits next to them) into ``sys.path``; ``-c`` with tito's own minimal ini file,
  ``--rootdir`` and ``--confcutdir`` keep the repository's ``pyproject.toml`` and any
  ``conftest.py`` above ``modules/`` out of the run; ``-p no:cacheprovider`` writes nothing.
* ``-p tito.pytest_guard`` checks, inside the run, that ``tinytorch.__file__`` lies in the
  expected folder (``TINYTORCH_EXPECT_ROOT``) and stops the run otherwise. It also writes the
  JSON report (``TITO_REPORT``) this module turns into a :class:`Run`.

The mutation check runs hundreds of these; it may pass a fork server (``tito/forkserver.py``)
that makes each run a fork of a process with pytest and NumPy already imported (never
``tinytorch``), with the same arguments, environment, ``sys.path`` and guard.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import tito
from tito.course import Course

ISOLATION_EXIT = 13  # pytest_guard's returncode: tinytorch came from the wrong place
IMPORT_EXIT = 14  # pytest_guard's returncode: tinytorch could not be imported at all
TITO_HOME = Path(tito.__file__).resolve().parent.parent  # the folder that makes `tito` importable
_INI = "[pytest]\n# tito's graded runs: no options from the repository's own configuration\n"


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class, whatever imports it

    nodeid: str
    path: str | None
    outcome: str  # passed, failed, error, skipped
    when: str
    message: str | None
    longrepr: str | None
    duration: float

    @property
    def name(self) -> str:
        """``test_file.py::test_name``, short enough to print."""
        file, _, rest = self.nodeid.partition("::")
        return f"{Path(file).name}::{rest}" if rest else Path(file).name

    @property
    def stub(self) -> str | None:
        """The stub message if the failure is a still-unimplemented region."""
        msg = self.message or ""
        if "NotImplementedError" in msg and "implement " in msg:
            return msg.split("implement ", 1)[1].split(" -- ")[0]
        return None


@dataclass
class ModuleResult:
    number: int
    tests: list[TestResult] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(t.outcome == outcome for t in self.tests)

    @property
    def passed(self) -> int:
        return self.count("passed")

    @property
    def total(self) -> int:
        return sum(t.outcome != "skipped" for t in self.tests)

    @property
    def ok(self) -> bool:
        return self.total > 0 and self.passed == self.total

    @property
    def first_failure(self) -> TestResult | None:
        return next((t for t in self.tests if t.outcome in ("failed", "error")), None)

    @property
    def stubs_hit(self) -> list[str]:
        seen = []
        for t in self.tests:
            if t.stub and t.stub not in seen:
                seen.append(t.stub)
        return seen


@dataclass
class Run:
    """The outcome of one pytest subprocess."""

    returncode: int
    code_root: Path
    tests: list[TestResult]
    tinytorch_file: str | None = None
    isolation_error: str | None = None
    import_error: str | None = None
    output: str = ""
    duration: float = 0.0
    # a tool the tests need is not installed (pytest, hypothesis): nothing was graded
    tool_error: str | None = None
    # the run outlived its ``timeout`` and was killed (its report is partial or missing)
    timed_out: bool = False

    @property
    def void(self) -> bool:
        """True when the run graded nothing: wrong tinytorch, no import, a missing tool."""
        return bool(self.isolation_error or self.import_error or self.tool_error)

    @property
    def ok(self) -> bool:
        return (self.returncode == 0 and not self.void
                and any(t.outcome == "passed" for t in self.tests))

    @property
    def first_failure(self) -> TestResult | None:
        return next((t for t in self.tests if t.outcome in ("failed", "error")), None)

    def by_module(self, course: Course) -> dict[int, ModuleResult]:
        out: dict[int, ModuleResult] = {}
        for t in self.tests:
            n = course.module_of_test(t.path) if t.path else None
            if n is not None:
                out.setdefault(n, ModuleResult(n)).tests.append(t)
        return out


def grading_env(code_root: Path, report: Path | None = None) -> dict[str, str]:
    """Environment for a process that must import ``code_root/tinytorch`` and nothing else."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "TINYTORCH_EXPECT_ROOT", "TITO_REPORT")}
    paths = [str(code_root), str(TITO_HOME)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["TINYTORCH_EXPECT_ROOT"] = str(code_root / "tinytorch")
    # no stale bytecode: a learner's edit within the same second, with the same file size,
    # must still be seen; and graded runs leave no __pycache__ behind in modules/
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # third-party plugins cost half a second per run; the ones a test needs are loaded by name
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    if report is not None:
        env["TITO_REPORT"] = str(report)
    return env


INSTALL = 'pip install -e ".[course]"   (from the course folder)'


def installed(name: str) -> bool:
    """True if ``import name`` would find something (without importing it)."""
    return importlib.util.find_spec(name) is not None


def _uses_hypothesis(test_paths: list[Path]) -> bool:
    for p in test_paths:
        files = [p] if p.is_file() else p.rglob("*.py")
        if any("hypothesis" in f.read_text(encoding="utf-8", errors="replace") for f in files):
            return True
    return False


def missing_tools(test_paths: list[Path]) -> str | None:
    """What to install before these tests can grade anything, or None.

    Without pytest nothing runs; without hypothesis the property tests would be skipped and a
    module would pass with fewer tests than it has. Both come with the ``course`` extra.
    """
    missing = [name for name in ("pytest",) if not installed(name)]
    if _uses_hypothesis(test_paths) and not installed("hypothesis"):
        missing.append("hypothesis")
    if not missing:
        return None
    return (f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed: "
            f"{INSTALL}  (or: pip install {' '.join(missing)})")


def _plugins_for(test_paths: list[Path]) -> list[str]:
    """``-p`` options for the third-party plugins the tests use (autoload is off)."""
    if _uses_hypothesis(test_paths) and installed("_hypothesis_pytestplugin"):
        return ["-p", "_hypothesis_pytestplugin"]
    return []


def run_tests(course: Course, test_paths: list[Path], code_root: Path, *,
              stop_first: bool = False, keyword: str | None = None, stream: bool = False,
              extra_args: tuple[str, ...] = (), server=None,
              timeout: float | None = None) -> Run:
    """Run pytest on ``test_paths`` in a subprocess that imports ``code_root/tinytorch``.

    Args:
        code_root: the folder holding the ``tinytorch`` to grade (a workspace or the repo).
        stop_first: stop at the first failure (``-x``).
        keyword: pytest ``-k`` expression.
        stream: let pytest print to the terminal as it runs (else its output is captured
            into ``Run.output``).
        server: a :class:`tito.forkserver.ForkServer` to run pytest in (a forked copy of a
            process that has pytest and NumPy imported already) instead of a new
            interpreter: the same arguments, environment and checks, without the start-up.
            Ignored with ``stream``.
        timeout: seconds after which the run is killed (``Run.timed_out``); None waits.
    """
    code_root = Path(code_root).resolve()
    missing = missing_tools(list(map(Path, test_paths)))
    if missing:
        return Run(-1, code_root, [], tool_error=missing)
    with tempfile.TemporaryDirectory(prefix="tito-run-") as tmp:
        ini, report = Path(tmp) / "pytest.ini", Path(tmp) / "report.json"
        ini.write_text(_INI)
        args = [*map(str, test_paths),
                "-c", str(ini), "--rootdir", str(code_root),
                "--confcutdir", str(course.root / "modules"),
                "--import-mode=importlib", "-p", "no:cacheprovider", "-p", "tito.pytest_guard",
                "--continue-on-collection-errors",
                *_plugins_for(list(map(Path, test_paths))),
                "-q", "--no-header", "--tb=short", *extra_args]
        if stop_first:
            args.append("-x")
        if keyword:
            args += ["-k", keyword]
        start = time.time()
        env = grading_env(code_root, report)
        if not stream:  # captured: only the first failures' tracebacks are ever shown
            env["TITO_SHORT_TRACEBACKS"] = "3"
        timed_out = False
        if server is not None and not stream:
            out = Path(tmp) / "output.txt"
            returncode, timed_out = server.run(args, env, code_root, out, timeout)
            proc = subprocess.CompletedProcess(
                args, returncode, out.read_text(errors="replace") if out.exists() else "")
        else:
            cmd = [sys.executable, "-m", "pytest", *args]
            try:
                proc = subprocess.run(cmd, cwd=code_root, env=env,
                                      stdout=None if stream else subprocess.PIPE,
                                      stderr=None if stream else subprocess.STDOUT, text=True,
                                      timeout=timeout)
            except subprocess.TimeoutExpired as e:
                timed_out = True
                output = e.output.decode(errors="replace") if isinstance(e.output, bytes) \
                    else (e.output or "")
                proc = subprocess.CompletedProcess(cmd, -9, output)
        data = {}
        if report.exists():
            try:
                data = json.loads(report.read_text())
            except json.JSONDecodeError:
                data = {}
    tests = [TestResult(**{k: t.get(k) for k in TestResult.__dataclass_fields__})
             for t in data.get("tests", [])]
    isolation = data.get("isolation_error")
    if proc.returncode == ISOLATION_EXIT and not isolation:
        isolation = "the run stopped on an isolation check (see its output)"
    import_error = data.get("import_error")
    if proc.returncode == IMPORT_EXIT and not import_error:
        import_error = "tinytorch could not be imported (see the output)"
    if not data and proc.returncode not in (0, 5) and not import_error and not timed_out:
        # pytest died before the guard could report (a usage error, a crash): no result
        import_error = (f"pytest stopped with exit code {proc.returncode} before running any "
                        f"test:\n{(proc.stdout or '')[-1500:]}")
    return Run(proc.returncode, code_root, tests, data.get("tinytorch_file"), isolation,
               import_error, proc.stdout or "", time.time() - start, timed_out=timed_out)
