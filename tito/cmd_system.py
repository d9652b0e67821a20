"""``tito system ...`` and ``tito setup``: check the machine, create the workspace."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from tito import doctor as checks
from tito import learner
from tito import workspace as wsmod
from tito.ui import WorkspaceOpt, console, course, fail, load_progress, show, ws_flag
from tito.workspace import DEFAULT, Workspace

app = typer.Typer(help="Check that this machine is ready for the course.", no_args_is_help=True)

_STYLE = {checks.OK: "green", checks.WARN: "yellow", checks.FAIL: "bold red", checks.INFO: "cyan"}


def print_checks(results: list[checks.Check]) -> bool:
    """A table of checks with the fix for each problem; True if nothing failed."""
    table = Table(title="tito system doctor")
    for col in ("check", "status", "details", "fix"):
        table.add_column(col, overflow="fold")
    for r in results:
        table.add_row(r.name, Text(r.status, style=_STYLE[r.status]), Text(r.detail),
                      Text(r.fix))
    console.print(table)
    return not any(r.status == checks.FAIL for r in results)


@app.command()
def doctor(workspace: WorkspaceOpt = DEFAULT) -> None:
    """Check Python, NumPy and its BLAS, the dependencies and your workspace.

    Every problem found comes with the command that fixes it.

    \b
    Examples:
      tito system doctor
      tito system doctor --workspace ~/tt
    """
    ok = print_checks(checks.run_all(course(), Workspace(workspace)))
    raise typer.Exit(0 if ok else 1)


def setup(workspace: WorkspaceOpt = DEFAULT,
          from_module: Annotated[int, typer.Option(
              "--from", help="First module left for you to write; earlier modules get the "
                             "reference solution.")] = 1) -> None:
    """Check this machine and create your workspace (a no-op if it exists).

    \b
    Examples:
      tito setup
      tito setup --from 12            # start at module 12, modules 1-11 given
      tito setup --workspace ~/tt
    """
    c = course()
    ws = Workspace(workspace)
    ok = print_checks(checks.run_all(c, ws))
    if ws.exists():
        console.print(Text(f"Your workspace is at {show(ws.root)}."))
    else:
        try:
            learner.create_workspace(ws, c, from_module)
        except wsmod.WorkspaceError as e:
            fail(str(e))
        console.print(Text(f"Created your workspace at {show(ws.root)}.", style="green"))
    data = load_progress(ws, c) if ws.exists() else None
    nxt = (learner.next_step(data, ws, c, ws_flag(ws)) if data is not None
           else f"tito module start {max(from_module, 1)}{ws_flag(ws)}")
    console.print(Text(f"Next: {nxt}"))
    raise typer.Exit(0 if ok else 1)
