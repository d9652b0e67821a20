"""``tito milestone ...``: re-run the milestones of ML history on your own tinytorch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from tito import learner, milestones, progress
from tito.ui import ReferenceOpt, WorkspaceOpt, console, course, fail, show, workspace_or_exit
from tito.workspace import DEFAULT, Workspace

app = typer.Typer(help="The milestones: historical models trained on the tinytorch you built.",
                  no_args_is_help=True)


def _unlocked(ms: milestones.Milestone, ws: Workspace, c) -> bool | None:
    """True/False for a milestone some module unlocks, None if the workspace or module is absent."""
    if ms.module is None or not ws.exists():
        return None
    try:
        data = progress.load(ws.progress_path)
    except progress.ProgressError:
        data, _ = learner.open_progress(ws, c)
    return learner.milestone_unlocked(ms.module, data, ws, c)


@app.command("list")
def list_milestones(workspace: WorkspaceOpt = DEFAULT) -> None:
    """List the milestones, the module that unlocks each, and whether you have unlocked it.

    \b
    Example:
      tito milestone list
    """
    c = course()
    ws = Workspace(workspace)
    table = Table(title="Milestones")
    for col in ("#", "milestone", "unlocked by", "for you", "script"):
        table.add_column(col)
    for ms in milestones.discover(c):
        state = _unlocked(ms, ws, c)
        you = "-" if state is None else "unlocked" if state else "locked"
        by = f"module {ms.module.key} ({ms.module.title})" if ms.module else "-"
        table.add_row(ms.key, ms.name, by, you,
                      Text(show(ms.script)) if ms.script else Text("coming", style="dim"))
    console.print(table)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run(ctx: typer.Context,
        milestone: Annotated[str, typer.Argument(help="Milestone number or name: 1, 01, "
                                                      "01_perceptron, perceptron.",
                                                 show_default=False)],
        workspace: WorkspaceOpt = DEFAULT, reference: ReferenceOpt = False,
        out: Annotated[Path | None, typer.Option(
            "--out", help="Where the milestone writes metrics.json and its plots "
                          "[default: runs/milestones/NAME].")] = None,
        force: Annotated[bool, typer.Option(
            "--force", help="Run even if you have not unlocked it yet.")] = False) -> None:
    """Run a milestone on your workspace's tinytorch (or the reference with --reference).

    Extra arguments after the options go to the milestone script.

    \b
    Examples:
      tito milestone run 1
      tito milestone run 01_perceptron --out runs/perceptron
      tito milestone run 3 --reference --epochs 2
    """
    c = course()
    try:
        ms = milestones.find(c, milestone)
    except KeyError as e:
        fail(str(e.args[0]), code=2)
    if ms.script is None:
        fail(f"Milestone {ms.name} is not written yet (coming with module "
             f"{ms.module.key if ms.module else '?'}).")
    if reference:
        code_root = c.root
    else:
        ws = workspace_or_exit(workspace)
        code_root = ws.root
        if _unlocked(ms, ws, c) is False and not force:
            fail(f"Milestone {ms.name} is locked: complete module {ms.module.key} and the "
                 "modules before it first.",
                 f"Or run it anyway with --force, or on the reference with --reference.")
    out_dir = (out or Path("runs") / "milestones" / ms.name).absolute()
    who = "the reference" if reference else "your tinytorch"
    console.print(Text(f"Milestone {ms.name} on {who}; results in {show(out_dir)}"))
    code = milestones.run_script(ms.script, code_root, ["--out", str(out_dir), *ctx.args])
    if code != 0:
        fail(f"Milestone {ms.name} exited with code {code}.")
    console.print(Text(f"Done. Metrics: {show(out_dir / 'metrics.json')}", style="green"))
