"""Shared pieces of the command line: the console, the ``--workspace`` option, printing results.

Text that comes from tests or files (array reprs such as ``[1. 2.]``) is printed as
:class:`rich.text.Text`, never as markup, so brackets survive.
"""

from __future__ import annotations

import difflib
import os
import shlex
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from tito import registry
from tito.course import Course
from tito.grading import ModuleResult, Run, TestResult
from tito.learner import NotAvailable, checked_module, open_progress
from tito.workspace import DEFAULT, Workspace



def _console() -> Console:
    """Rich's console; when the output is not a terminal (a pipe, a file, a CI log), no width.

    Rich wraps and cuts at 80 columns when it cannot ask a terminal: a failing test's name or
    a path would be cut in the one place a learner copies it from. ``COLUMNS`` still wins.
    """
    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return Console(highlight=False)
    return Console(highlight=False, width=100_000, soft_wrap=True)


console = _console()

WorkspaceOpt = Annotated[Path, typer.Option(
    "--workspace", "-w", envvar="TITO_WORKSPACE", show_default=True,
    help="Your workspace folder (it holds your tinytorch and your progress).")]
ReferenceOpt = Annotated[bool, typer.Option(
    "--reference", help="Use the repository's reference implementation instead of your "
                        "workspace.")]


def course() -> Course:
    return Course.current()


STUDENT_MARKER = ".tito-student-copy"


def reference_or_exit(c: Course) -> None:
    """Refuse ``--reference`` in a student copy made by ``tito release``: it has no solutions."""
    if (c.root / STUDENT_MARKER).exists():
        fail("This is a student copy of the course: it has no reference solutions, so "
             "--reference has nothing to run.",
             "Drop --reference to run on your own workspace.")


def show(path: Path | str) -> str:
    """A path as short as it can be: relative to the current folder when inside it."""
    p = Path(path).absolute()
    try:
        rel = p.relative_to(Path.cwd())
        return str(rel) if str(rel) != "." else "."
    except ValueError:
        return str(p)


def ws_flag(ws: Workspace) -> str:
    """`` --workspace DIR`` for the hints tito prints, when ``ws`` is not the one found by default.

    A learner copies ``tito module test 1`` from the output; with a workspace given by
    ``--workspace`` that command alone would look in ``./workspace`` and find nothing.
    """
    default = Path(os.environ.get("TITO_WORKSPACE") or DEFAULT).absolute()
    if ws.root.resolve() == default.resolve():
        return ""
    return f" --workspace {shlex.quote(show(ws.root))}"


def fail(message: str, hint: str | None = None, code: int = 1) -> NoReturn:
    """Print the problem (one line, never wrapped by rich) and the hint, then exit."""
    console.print(Text(message, style="bold red"), soft_wrap=True)
    if hint:
        console.print(Text(hint), soft_wrap=True)
    raise typer.Exit(code)


def did_you_mean(text: str) -> str:
    """`` did you mean 01 (tensor)?`` for a near-miss module name or number, else ``""``."""
    text = str(text).strip().lower()
    names = {}
    for m in registry.MODULES:
        for name in (m.slug, m.dirname, m.title.lower()):
            names[name] = m
    close = difflib.get_close_matches(text, list(names), n=1, cutoff=0.6)
    if not close:
        return ""
    m = names[close[0]]
    return f" Did you mean {m.key} ({m.slug})?"


def module_or_exit(c: Course, number: str, need_tests: bool = True) -> registry.Module:
    try:
        return checked_module(c, number, need_tests)
    except KeyError as e:
        message = str(e.args[0]) if e.args else str(e)
        if "use a number" in message:
            message += " or a name (tensor, activations, layers, ...)"
        fail(message + "." + did_you_mean(number), "tito module list shows every module.",
             code=2)
    except NotAvailable as e:
        fail(str(e))


def workspace_or_exit(path: Path) -> Workspace:
    ws = Workspace(path)
    if not ws.exists():
        fail(f"No workspace at {show(ws.root)}.",
             "Create it with `tito module start 1` (or `tito setup`); if it lives elsewhere, "
             "pass --workspace DIR or set TITO_WORKSPACE.")
    return ws


def load_progress(ws: Workspace, c: Course) -> dict:
    """The progress, rebuilt from test results (with a note saying so) if it was damaged."""
    data, note = open_progress(
        ws, c, announce=lambda text: console.print(Text(f"Note: {text}", style="yellow")))
    if note:
        console.print(Text(f"Note: {note}", style="yellow"))
    return data


def print_failure(t: TestResult, title: str = "First failure") -> None:
    """The failing test, its message (input, expected, got) and, if terse, its traceback."""
    message = (t.message or "(no message)").rstrip()
    body = Text(message)
    if t.when == "collect":
        body.append("\n(while importing the test file)", style="dim")
    elif t.when != "call":
        body.append(f"\n(while setting up or tearing down the test: {t.when})", style="dim")
    if t.longrepr and not t.stub and len(message.splitlines()) <= 2:
        # where it failed: the short traceback, without the "E ..." lines the message repeats
        tail = [ln for ln in t.longrepr.rstrip().splitlines() if not ln.startswith("E ")][-10:]
        body.append("\n\n" + "\n".join(tail), style="dim")
    console.print(Panel(body, title=Text(f"{title}: {t.name}"), title_align="left",
                        border_style="red", expand=False))


def print_run_problem(run: Run) -> bool:
    """Print an isolation, import or missing-tool problem; True if there was one (void run)."""
    if run.tool_error:  # not the learner's code: the machine lacks a tool the tests need
        console.print(Text(run.tool_error, style="bold red"))
        return True
    if run.isolation_error:
        console.print(Panel(Text(run.isolation_error), title="Grading stopped",
                            border_style="red", expand=False))
        return True
    if run.import_error:
        console.print(Panel(Text(f"import tinytorch failed: {run.import_error}\n\nEvery test "
                                 "needs the package to import. Fix the file named above (a "
                                 "syntax error, or code that runs at import time calling a "
                                 "stub)."),
                            title="Your tinytorch does not import", border_style="red",
                            expand=False))
        return True
    return False


def print_module_result(m: registry.Module, res: ModuleResult, run: Run) -> None:
    failed = res.total - res.passed
    if res.total == 0:
        console.print(Text(f"  no test ran (pytest exit code {run.returncode})", style="red"))
        if run.output:
            console.print(Text(run.output[-3000:]))
        return
    style = "green" if res.ok else "red"
    console.print(Text(f"  {res.passed} passed, {failed} failed of {res.total}"
                       f"   ({run.duration:.1f} s)", style=style))
    if res.first_failure:
        print_failure(res.first_failure)
    if res.stubs_hit:
        names = ", ".join(res.stubs_hit[:8]) + (" ..." if len(res.stubs_hit) > 8 else "")
        console.print(Text(f"  Still stubs (raise NotImplementedError): {names}", style="yellow"))
