"""``tito``: the TinyTorch course command line.

    tito setup                    check the machine, create your workspace
    tito module start 1           what to write, where, and the guide
    tito module test 1            grade your code
    tito module lab 1             the module's experiments, on your code
    tito module complete 1        record it, unlock milestones
    tito module status            your progress
    tito resume                   where you left off: the test and line to work on
    tito milestone run 1          the 1957 perceptron, on your tinytorch

Each command is defined next to its siblings (``cmd_module.py``, ``cmd_milestone.py``,
``cmd_system.py``); this file assembles them and holds the few top-level ones.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from tito import cmd_milestone, cmd_module, cmd_system, learner, progress, registry
from tito import workspace as wsmod
from tito.grading import run_tests
from tito.milestones import run_script
from tito.release import make_release
from tito.resume import editor_command, where_to_edit
from tito.update import UpdateError
from tito.update import update as run_update
from tito.ui import (ReferenceOpt, reference_or_exit, WorkspaceOpt, console, course, fail, load_progress,
                     module_or_exit, print_failure, print_run_problem, show, workspace_or_exit,
                     ws_flag)
from tito.workspace import DEFAULT, Workspace

app = typer.Typer(
    help="TinyTorch: build a deep-learning framework from scratch, one module at a time.\n\n"
         "Start with `tito setup`, then `tito module start 1`.",
    no_args_is_help=True, add_completion=False, rich_markup_mode="rich")
app.add_typer(cmd_module.app, name="module")
app.add_typer(cmd_milestone.app, name="milestone")
app.add_typer(cmd_system.app, name="system")
app.command("setup")(cmd_system.setup)


@app.command("test")
def test_all(modules: Annotated[list[str] | None, typer.Argument(
                 help="Module numbers to test (default: none; use --all).",
                 show_default=False)] = None,
             all_: Annotated[bool, typer.Option("--all", help="Every module that has tests.")]
             = False,
             reference: ReferenceOpt = False, workspace: WorkspaceOpt = DEFAULT,
             verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                                   help="Show pytest's full output.")] = False,
             ) -> None:
    """Run the tests of several modules (or all) in one go, with a table per module.

    \b
    Examples:
      tito test --all --reference     # the reference passes every module's tests
      tito test --all                 # your workspace (stubs still fail)
      tito test 1 2 3
    """
    c = course()
    if all_:
        mods = [m for m in registry.MODULES if m.available and c.has_tests(m)]
    elif modules:
        mods = [module_or_exit(c, n) for n in modules]
    else:
        fail("Name the modules to test, or pass --all.", "Example: tito test --all --reference",
             code=2)
    if not mods:
        fail("No module has tests yet.")
    if reference:
        reference_or_exit(c)
        root, data, ws = c.root, None, None
        console.print(Text(f"Testing the reference at {show(c.reference)}"))
    else:
        ws = workspace_or_exit(workspace)
        root = ws.root
        data = load_progress(ws, c)
        console.print(Text(f"Testing your code in {show(ws.package)}"))
    run = run_tests(c, [c.tests_dir(m) for m in mods], root, stream=verbose)
    if print_run_problem(run):
        raise typer.Exit(1)
    results = run.by_module(c)
    table = Table(title=f"{'Reference' if reference else 'Workspace'}: "
                        f"{sum(r.passed for r in results.values())} tests passed "
                        f"({run.duration:.1f} s)")
    for col in ("#", "module", "passed", "first failure"):
        table.add_column(col, overflow="fold")
    all_ok = True
    for m in mods:
        res = results.get(m.number)
        ok = bool(res and res.ok)
        all_ok &= ok
        first = res.first_failure if res else None
        table.add_row(m.key, m.title, f"{res.passed}/{res.total}" if res else "0/0",
                      Text(f"{first.name}: {(first.message or '').splitlines()[0][:120]}"
                           if first and first.message else (first.name if first else "")),
                      style="green" if ok else "red")
        if data is not None and res:
            progress.record_test(data, m.number, res.passed, res.total)
    if data is not None:
        progress.save(ws.progress_path, data)
    console.print(table)
    if not all_ok and run.first_failure and not verbose:
        print_failure(run.first_failure)
    raise typer.Exit(0 if all_ok else 1)


@app.command()
def resume(workspace: WorkspaceOpt = DEFAULT,
           edit: Annotated[bool, typer.Option(
               "--edit", help="Open the file at that line in $VISUAL or $EDITOR.")] = False,
           ) -> None:
    """Pick up where you left off: the module in progress, its first failing test, the line.

    Runs the tests of the first module you have not completed and points at the line to
    edit: the stub you have not written yet, or where your code's traceback ends.

    \b
    Examples:
      tito resume
      tito resume --edit      # and open your editor there
    """
    c = course()
    ws = workspace_or_exit(workspace)
    data = load_progress(ws, c)
    w = ws_flag(ws)
    m = learner.next_module(data, ws, c)
    if m is None:
        console.print(Text(f"Every module written so far is complete. Next: "
                           f"{learner.next_step(data, ws, c, w)}", style="green"))
        return
    left, total = wsmod.stubs_left(ws, c, m.number)
    state = ("was completed but fails now" if progress.regressed(data, m.number)
             else "is in progress")
    console.print(Text(f"Module {m.key} ({m.title}) {state}: {total - left} of {total} "
                       "regions written.", style="bold"))
    run, res = learner.grade_module(ws, c, m, data=data)
    if print_run_problem(run):
        raise typer.Exit(1)
    if res.ok:
        console.print(Text(f"Its {res.total} tests pass. Record it: tito module complete "
                           f"{m.number}{w}", style="green"))
        return
    first = res.first_failure
    console.print(Text(f"  {res.passed} of {res.total} tests pass."))
    if first is not None:
        print_failure(first, title="First failing test")
    spot = where_to_edit(ws, c, m, first)
    if spot is not None:
        console.print(Text(f"Edit:  {show(spot.path)}:{spot.line}   ({spot.what})",
                           style="bold"))
    console.print(Text(f"Guide: {show(c.guide(m))}"))
    console.print(Text(f"Then:  tito module test {m.number}{w}"))
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if edit and spot is not None:
        if not editor:
            fail("--edit needs an editor: set EDITOR (for example EDITOR=nano).")
        subprocess.call(editor_command(spot, editor))
    raise typer.Exit(1)


@app.command()
def update(workspace: WorkspaceOpt = DEFAULT) -> None:
    """Update the course (new modules, fixed tests and guides); keep every file of yours.

    Backs up your workspace first, pulls the course (git, fast-forward only), then brings
    new package files into your workspace; a file you edited is never replaced. Ends with
    a summary of what changed.

    \b
    Example:
      tito update
    """
    c = course()
    ws = Workspace(workspace)
    try:
        done = run_update(c, ws)
    except UpdateError as e:
        fail(str(e))
    if done.backup is not None:
        console.print(Text(f"Backed up your workspace in {show(done.backup)}"))
    if done.old is None:
        console.print(Text(f"{show(c.root)} is not a git clone, so there is nothing to pull: "
                           "download the new course, then run tito update from it with "
                           "--workspace pointing here."))
    elif done.old == done.new:
        console.print(Text(f"The course is up to date ({done.pulled or done.new[:10]})."))
    else:
        console.print(Text(f"Course updated {done.old[:10]} -> {done.new[:10]}:", style="bold"))
        if done.new_modules:
            console.print(Text(f"  new modules: {', '.join(done.new_modules)}", style="green"))
        for kind, files in done.changes.items():
            shown = ", ".join(files[:6]) + (f" and {len(files) - 6} more" if len(files) > 6
                                            else "")
            console.print(Text(f"  {kind}: {len(files)} file(s): {shown}"))
    if ws.exists():
        console.print(Text("Your workspace: " + (
            f"{len(done.synced)} file(s) you never edited brought up to date: "
            + ", ".join(done.synced) if done.synced else "nothing to bring in")
            + "; every file you edited is kept as it is."))
        data = load_progress(ws, c)
        console.print(Text(f"Next: {learner.next_step(data, ws, c, ws_flag(ws))}"))


# add_help_option=False: `--help` after a subcommand (`tito benchmark run --help`) passes through
# to the script, which lists that subcommand's options; `tito benchmark --help` is handled below.
@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
             add_help_option=False)
def benchmark(ctx: typer.Context, reference: ReferenceOpt = False,
              workspace: WorkspaceOpt = DEFAULT) -> None:
    """Run TinyMLPerf (``run``), compare two results files (``compare``), the capstone
    (``capstone``, ``verify``, ``board``), or the side-by-side suite (benchmarks/run.py, the
    default); other arguments pass through.

    \b
    Examples:
      tito benchmark run --reference --quick         # TinyMLPerf, trained to quality targets
      tito benchmark run --json a.json               # on your workspace, results file
      tito benchmark run --reference --vs torch      # and the side-by-side PyTorch suite
      tito benchmark compare a.json b.json           # B vs A: speedups, within noise or not
      tito benchmark capstone --quick --submit subs/me   # capstone: optimize, report, submit
      tito benchmark verify subs/me                  # re-evaluate and re-time a submission
      tito benchmark board subs/                     # static sortable leaderboard page
      tito benchmark --reference                     # the side-by-side suite alone
      tito benchmark --write-readme    # README tables from the committed results files
      tito benchmark run --help        # a subcommand's options
    """
    if ctx.args[:1] in (["--help"], ["-h"]):
        typer.echo(ctx.get_help(), nl=False)  # rich prints it; plain click returns it
        raise typer.Exit(0)
    c = course()
    if ctx.args and ctx.args[0] in ("capstone", "verify", "board"):  # module 20
        script = c.root / "benchmarks" / "capstone.py"
        if ctx.args[0] != "capstone" or reference:  # the judge's code checks submissions
            reference_or_exit(c)
        root = c.root if ctx.args[0] != "capstone" or reference else \
            workspace_or_exit(workspace).root
        raise typer.Exit(run_script(script, root, list(ctx.args), cwd=Path.cwd()))
    if ctx.args and ctx.args[0] in ("run", "compare"):  # TinyMLPerf (module 19)
        script = c.root / "benchmarks" / "tinymlperf.py"
        if not script.is_file():
            fail(f"TinyMLPerf is not in this course yet ({show(script)}).")
        if ctx.args[0] == "compare":  # reads two files: the course's own code does it
            reference_or_exit(c)
            raise typer.Exit(run_script(script, c.root, list(ctx.args), cwd=Path.cwd()))
        if reference:
            reference_or_exit(c)
        root = c.root if reference else workspace_or_exit(workspace).root
        raise typer.Exit(run_script(script, root, list(ctx.args), cwd=Path.cwd()))
    if "--write-readme" in ctx.args or "--check-readme" in ctx.args:
        from tito import readme_tables  # the README's tables come from results files

        readme = c.root / "README.md"
        if "--check-readme" in ctx.args:
            problems = readme_tables.check(readme, c.root)
            for line in problems:
                console.print(Text(line, style="red"))
            raise typer.Exit(1 if problems else 0)
        changed = readme_tables.write(readme, c.root)
        console.print(f"{show(readme)}: {'tables rewritten' if changed else 'already up to date'}")
        raise typer.Exit(0)
    script = c.root / "benchmarks" / "run.py"
    if not script.is_file():
        fail(f"The benchmark suite is not written yet ({show(script)}).")
    if reference:
        reference_or_exit(c)
    root = c.root if reference else workspace_or_exit(workspace).root
    raise typer.Exit(run_script(script, root, list(ctx.args)))


@app.command()
def release(dest: Annotated[Path, typer.Argument(help="A new (or empty) folder for the "
                                                      "student copy.", show_default=False)]
            ) -> None:
    """Make a student copy of the course: every solution region replaced by its stub.

    Copies the repository without .git, workspaces and run outputs, stubs every solution
    region, blanks instructor-only files, then checks that no solution survived and that
    every Python file still parses.

    \b
    Example:
      tito release ../tinytorch-student
    """
    try:
        report = make_release(course(), dest)
    except (FileExistsError, ValueError) as e:
        fail(str(e))
    console.print(Text(f"Wrote {show(report.dest)}: {report.files} Python files, "
                       f"{report.regions} solution regions stubbed in {len(report.stubbed)} "
                       "files."))
    if not report.ok:
        for p in report.problems:
            console.print(Text(f"  {p}", style="red"))
        fail("The release check FAILED: do not distribute this copy.")
    console.print(Text("Checked: no solution region survived, every Python file parses.",
                       style="green"))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
