"""``tito milestone ...``: re-run the milestones of ML history on your own tinytorch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from tito import learner, milestones
from tito.ui import (ReferenceOpt, WorkspaceOpt, console, course, fail, load_progress,
                     reference_or_exit, show, workspace_or_exit)
from tito.workspace import DEFAULT, Workspace

app = typer.Typer(help="The milestones: historical models trained on the tinytorch you built.",
                  no_args_is_help=True)


def _unlocked(ms: milestones.Milestone, ws: Workspace, c) -> bool | None:
    """True/False for a milestone some module unlocks, None if the workspace or module is absent."""
    if ms.module is None or not ws.exists():
        return None
    return learner.milestone_unlocked(ms.module, load_progress(ws, c), ws, c)


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
                                                      "01_perceptron, perceptron; or all.",
                                                 show_default=False)],
        workspace: WorkspaceOpt = DEFAULT, reference: ReferenceOpt = False,
        out: Annotated[Path | None, typer.Option(
            "--out", help="Where the milestone writes metrics.json and its plots "
                          "[default: runs/milestones/NAME; with all, one folder per "
                          "milestone under it].")] = None,
        force: Annotated[bool, typer.Option(
            "--force", help="Run even if you have not unlocked it yet.")] = False,
        full: Annotated[bool, typer.Option(
            "--full", help="The full tier: the historical configurations and their targets "
                           "(longer).")] = False,
        quick: Annotated[bool, typer.Option(
            "--quick", help="The quick tier: tiny smoke runs with their own smaller "
                            "targets.")] = False) -> None:
    """Run a milestone on your workspace's tinytorch (or the reference with --reference).

    Each run has a tier: standard (the default: real training to the standard tier's
    targets, every milestone together in a few minutes), --full (the historical
    configurations and targets) or --quick (smoke runs). Extra arguments after the options
    go to the milestone script. ``all`` runs every milestone written so far, in historical
    order, and ends with a table of the measured results; it fails if any milestone missed
    its target.

    \b
    Examples:
      tito milestone run 1
      tito milestone run 01_perceptron --out runs/perceptron
      tito milestone run 3 --reference --epochs 2
      tito milestone run all --reference
      tito milestone run all --reference --full
    """
    c = course()
    if full and quick:
        fail("Choose one tier: --full or --quick (or neither, for the standard tier).", code=2)
    args = tier_args(full, quick) + list(ctx.args)
    if milestone.strip().lower() == "all":
        _run_all(c, workspace, reference, out, force, args)
        return
    try:
        ms = milestones.find(c, milestone)
    except KeyError as e:
        fail(str(e.args[0]), code=2)
    if ms.script is None:
        fail(f"Milestone {ms.name} is not written yet (coming with module "
             f"{ms.module.key if ms.module else '?'}).")
    code_root = _code_root(c, ms, workspace, reference, force)
    out_dir = (out or Path("runs") / "milestones" / ms.name).absolute()
    code = _run_one(ms, code_root, out_dir, reference, args)
    if code != 0:
        fail(f"Milestone {ms.name} exited with code {code}.")
    console.print(Text(f"Done. Metrics: {show(out_dir / 'metrics.json')}", style="green"))


def tier_args(full: bool, quick: bool) -> list[str]:
    """The milestone-script flag of a tier: ``--full``, ``--quick``, or none (standard)."""
    return ["--full"] if full else ["--quick"] if quick else []


def _code_root(c, ms, workspace, reference, force, quiet=False):
    """The folder whose tinytorch the milestone runs on, or exit if it is locked."""
    if reference:
        reference_or_exit(c)
        return c.root
    ws = workspace_or_exit(workspace)
    if _unlocked(ms, ws, c) is False and not force:
        if quiet:
            return None
        missing = learner.missing_for(ms.module, load_progress(ws, c), ws, c)
        fail(f"Milestone {ms.name} is locked: complete module"
             f"{'s' if len(missing) > 1 else ''} {', '.join(k.key for k in missing)} first.",
             f"Or run it anyway with --force, or on the reference with --reference.")
    return ws.root


def _run_one(ms, code_root, out_dir, reference, args) -> int:
    who = "the reference" if reference else "your tinytorch"
    console.print(Text(f"Milestone {ms.name} on {who}; results in {show(out_dir)}", style="bold"))
    return milestones.run_script(ms.script, code_root, ["--out", str(out_dir), *args])


def _run_all(c, workspace, reference, out, force, args) -> None:
    base = (out or Path("runs") / "milestones").absolute()
    rows, failed = [], False
    for ms in milestones.discover(c):
        if ms.script is None:
            rows.append((ms.name, "not written yet", ""))
            continue
        code_root = _code_root(c, ms, workspace, reference, force, quiet=True)
        if code_root is None:
            ws = Workspace(workspace)
            missing = learner.missing_for(ms.module, load_progress(ws, c), ws, c)
            rows.append((ms.name, "locked", "complete module"
                         f"{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(k.key for k in missing)} first"))
            continue
        code = _run_one(ms, code_root, base / ms.name, reference, args)
        verdict, detail = milestones.summarize(base / ms.name / "metrics.json")
        if code != 0 or verdict != "PASSED":
            failed = True
            verdict = verdict if verdict != "PASSED" else f"FAILED (exit {code})"
        rows.append((ms.name, verdict, detail))
    table = Table(title="Milestones: measured results")
    for col in ("milestone", "tier", "result", "measured"):
        table.add_column(col)
    for name, verdict, detail in rows:
        style = "green" if verdict == "PASSED" else "red" if verdict.startswith("FAILED") else "dim"
        tier = milestones.tier_of(base / name / "metrics.json") if verdict not in (
            "not written yet", "locked") else ""
        table.add_row(name, tier, Text(verdict, style=style), detail)
    console.print(table)
    if failed:
        fail("At least one milestone missed its target or crashed (see above).")
