"""``tito module ...``: the learner's loop -- start, test, complete, reset, restore, status."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from tito import labs, learner, progress, registry
from tito import workspace as wsmod
from tito.grading import ModuleResult, run_tests
from tito.ui import (ReferenceOpt, reference_or_exit, WorkspaceOpt, console, course, fail, load_progress,
                     module_or_exit, print_failure, print_module_result, print_run_problem, show,
                     workspace_or_exit, ws_flag)
from tito.workspace import DEFAULT, Workspace

app = typer.Typer(help="Work through the course one module at a time.", no_args_is_help=True)

ModuleArg = Annotated[str, typer.Argument(help="Module: 1, 01, 01_tensor or tensor.",
                                          show_default=False)]


@app.command("list")
def list_modules() -> None:
    """List the 20 modules: what each builds, the milestone it unlocks, what is ready.

    \b
    Example:
      tito module list
    """
    c = course()
    table = Table(title="TinyTorch: the 20 modules")
    for col in ("#", "module", "package files", "unlocks", "status"):
        table.add_column(col)
    for m in registry.MODULES:
        status = ("coming" if not c.written(m) else "ready" if c.has_tests(m)
                  else "guide only, tests coming" if c.guide(m).exists() else "being written")
        table.add_row(m.key, m.title, Text("\n".join(f.removeprefix("tinytorch/")
                                                     for f in m.files)),
                      m.milestone or "", status,
                      style=None if c.written(m) else "dim")
    console.print(table)


@app.command()
def status(workspace: WorkspaceOpt = DEFAULT) -> None:
    """Show your progress: each module's state, tests passed, milestone unlocked.

    \b
    Examples:
      tito module status
      tito module status --workspace ~/tinytorch-work
    """
    c = course()
    ws = workspace_or_exit(workspace)
    data = load_progress(ws, c)
    table = Table(title=f"Progress in {show(ws.root)}")
    for col in ("#", "module", "state", "tests passed", "milestone"):
        table.add_column(col)
    for m in registry.MODULES:
        state = learner.state(m, data, ws)
        last = data["modules"].get(m.key, {}).get("last_test")
        tests = f"{last['passed']}/{last['total']}" if last else "-"
        if m.available and state not in ("completed", "given (reference)"):
            left, total = wsmod.stubs_left(ws, c, m.number)
            if total and left < total:
                state += f" ({total - left}/{total} regions written)"
        if m.milestone:
            unlocked = m.available and learner.milestone_unlocked(m, data, ws, c)
            milestone = f"{m.milestone} " + ("unlocked" if unlocked else "locked")
        else:
            milestone = ""
        style = ("red" if state == "completed, now failing" else "green"
                 if state.startswith("completed") else "dim" if state == "coming" else None)
        table.add_row(m.key, m.title, state, tests, milestone, style=style)
    console.print(table)
    regressed = [m.key for m in registry.MODULES if progress.completed(data, m.number)
                 and progress.regressed(data, m.number)]
    if regressed:
        console.print(Text(f"Completed earlier but failing now: {', '.join(regressed)} (a "
                           f"later change broke them): tito module test "
                           f"{int(regressed[0])}{ws_flag(ws)} shows why.", style="red"))
    console.print(Text(f"Next: {learner.next_step(data, ws, c, ws_flag(ws))}"))


def _print_where(ws: Workspace, c, m: registry.Module) -> None:
    console.print(Text(f"Module {m.key}: {m.title}", style="bold"))
    files = [(rel, [r for r in c.regions(rel) if r.module == m.number])
             for rel in c.files_of(m.number)]
    console.print("  Write your code in:")
    for rel, regions in files:
        if regions:
            names = ", ".join(r.qualname or "?" for r in regions)
            console.print(Text(f"    {show(ws.file(rel))}  -- {len(regions)} region(s): {names}"))
    if not any(regions for _, regions in files):
        console.print(Text("    (this module's solution regions are not written yet)"))
    given = [rel for rel, regions in files if not regions]
    if given:
        console.print(Text("  Read (given, no stubs): "
                           + ", ".join(show(ws.file(rel)) for rel in given)))
    left, total = wsmod.stubs_left(ws, c, m.number)
    if total:
        console.print(Text(f"  Stubs left to write: {left} of {total}"))
    guide, lab = c.guide(m), c.lab(m)
    w = ws_flag(ws)
    console.print(Text(f"  Guide: {show(guide)}" + ("" if guide.exists() else "  (coming)")))
    console.print(Text(f"  Lab:   tito module lab {m.number}{w}" if lab.exists()
                       else f"  Lab:   {show(lab)}  (coming)"))
    if lab.exists():
        console.print(Text(f"         (runs {show(lab)} on your code; --notebook opens it in "
                           "JupyterLab)"))
    console.print(Text(f"  Try:   cd {show(ws.root)} && python      (there, `import tinytorch` "
                       "is yours)"))
    console.print(Text(f"  Test:  tito module test {m.number}{w}      "
                       f"Done?  tito module complete {m.number}{w}"))


def _open_notebook(c, m: registry.Module, code_root, folder) -> None:
    """Write the lab as a notebook in ``folder`` and open it in JupyterLab on ``code_root``."""
    try:
        nb = labs.write_notebook(c, m, folder)
    except labs.LabError as e:
        fail(str(e))
    console.print(Text((f"Wrote the lab as a notebook: {show(nb.path)}" if nb.created else
                        f"Your notebook already exists (kept as is): {show(nb.path)}")))
    missing = labs.jupyterlab_missing()
    if missing:
        fail(missing, f"Then run this command again; or run the lab as a script: "
                      f"tito module lab {m.number} (without --notebook).")
    console.print(Text("Opening it in JupyterLab; its kernel imports the tinytorch in "
                       f"{show(code_root)} (Ctrl-C to stop)..."))
    raise typer.Exit(labs.open_notebook(nb.path, code_root, m))


@app.command()
def start(module: ModuleArg, workspace: WorkspaceOpt = DEFAULT,
          from_module: Annotated[int, typer.Option(
              "--from", help="When creating the workspace: the first module left for you to "
                             "write; earlier ones get the reference solution.")] = 1,
          notebook: Annotated[bool, typer.Option(
              "--notebook", help="Open the module's lab in JupyterLab, on your code "
                                 "(same as tito module lab N --notebook).")] = False,
          ) -> None:
    """Start a module: create your workspace if needed and show what to write.

    \b
    Examples:
      tito module start 1
      tito module start 12 --from 12     # begin at attention, modules 1-11 given
      tito module start 3 --notebook
    """
    c = course()
    m = module_or_exit(c, module, need_tests=False)
    ws = Workspace(workspace)
    if not ws.exists():
        try:
            learner.create_workspace(ws, c, from_module)
        except wsmod.WorkspaceError as e:
            fail(str(e))
        given = ("" if from_module <= 1 else "; module 01 holds the reference" if from_module == 2
                 else f"; modules 01-{from_module - 1:02d} hold the reference")
        console.print(Text(f"Created your workspace at {show(ws.root)} (every module from "
                           f"{from_module:02d} on is a stub{given}).", style="green"))
    else:
        added = wsmod.sync(ws, c)
        if added:
            console.print(Text(f"Brought {len(added)} file(s) in from the updated course: "
                               + ", ".join(added)))
    data = load_progress(ws, c)
    progress.entry(data, m.number).setdefault("started", progress.now())
    progress.save(ws.progress_path, data)
    missing = [k.key for k in registry.MODULES
               if k.number < m.number and k.available and c.has_tests(k)
               and not learner.is_done(data, ws, k.number)]
    _print_where(ws, c, m)
    if missing:
        console.print(Text(f"  Note: module {m.key} builds on the modules before it; not "
                           f"completed yet: {', '.join(missing)}.", style="yellow"))
    if notebook:
        _open_notebook(c, m, ws.root, ws.root / "labs")


@app.command()
def test(module: ModuleArg, workspace: WorkspaceOpt = DEFAULT, reference: ReferenceOpt = False,
         verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                               help="Show pytest's full output.")] = False,
         keyword: Annotated[str, typer.Option("-k", help="Only tests matching this pytest -k "
                                                         "expression.")] = "") -> None:
    """Run a module's graded tests on your workspace's tinytorch.

    The tests run in a separate process that imports your workspace's tinytorch and checks
    that it did (never the installed reference). The first failure is shown with its input,
    the expected value and what your code returned.

    \b
    Examples:
      tito module test 1
      tito module test 05 -v              # full pytest output
      tito module test 2 -k relu          # only the relu tests
      tito module test 1 --reference      # the reference implementation
    """
    c = course()
    m = module_or_exit(c, module)
    if reference:
        reference_or_exit(c)
        console.print(Text(f"Module {m.key} ({m.title}): testing the reference at "
                           f"{show(c.reference)}"))
        run = run_tests(c, [c.tests_dir(m)], c.root, stream=verbose, keyword=keyword or None)
        res = run.by_module(c).get(m.number, ModuleResult(m.number))
    else:
        ws = workspace_or_exit(workspace)
        data = load_progress(ws, c)
        console.print(Text(f"Module {m.key} ({m.title}): testing your code in "
                           f"{show(ws.package)}"))
        run, res = learner.grade_module(ws, c, m, stream=verbose, keyword=keyword or None,
                                       data=data)
    if print_run_problem(run):
        raise typer.Exit(1)
    print_module_result(m, res, run)
    w = "" if reference else ws_flag(ws)
    if res.ok and keyword:
        console.print(Text(f"The tests matching -k {keyword!r} pass; the whole module: "
                           f"tito module test {m.number}{w}", style="green"))
    elif res.ok and not reference:
        console.print(Text(f"All tests pass. Record it with: tito module complete {m.number}{w}",
                           style="green"))
    elif not res.ok:
        console.print(Text(f"Fix it and run `tito module test {m.number}{w}` again"
                           + ("" if verbose else " (-v shows every traceback)") + "."))
    raise typer.Exit(0 if res.ok else 1)


@app.command()
def complete(module: ModuleArg, workspace: WorkspaceOpt = DEFAULT) -> None:
    """Complete a module: its tests and those of every module you completed before must pass.

    \b
    Examples:
      tito module complete 1
      tito module complete 04 --workspace ~/tt
    """
    c = course()
    m = module_or_exit(c, module)
    ws = workspace_or_exit(workspace)
    data = load_progress(ws, c)
    console.print(Text(f"Module {m.key} ({m.title}): testing your code, and the modules you "
                       "completed before, for regressions"))
    done = learner.complete(ws, c, m, data)
    if print_run_problem(done.run):
        raise typer.Exit(1)
    print_module_result(m, done.module, done.run)
    earlier = {n: r for n, r in done.run.by_module(c).items() if n != m.number}
    if earlier:  # the time printed above covers these too: say what else ran
        console.print(Text(f"  regression check: {sum(r.passed for r in earlier.values())} of "
                           f"{sum(r.total for r in earlier.values())} tests of the "
                           f"{len(earlier)} module(s) done before pass"))
    for n, res in sorted(done.regressions.items()):
        console.print(Text(f"Module {n:02d}, completed earlier, now fails "
                           f"({res.passed}/{res.total} pass):", style="red"))
        if res.first_failure:
            print_failure(res.first_failure, title=f"Module {n:02d} regression")
    if not done.ok:
        fail(f"Module {m.key} is not complete yet: the tests above must pass first.")
    console.print(Text(f"Module {m.key} ({m.title}) complete.", style="bold green"))
    for name in done.unlocked:
        console.print(Text(f"Unlocked milestone {name}: run it with `tito milestone run "
                           f"{name.split('_')[0]}{ws_flag(ws)}`", style="bold green"))
    console.print(Text(f"Next: {learner.next_step(data, ws, c, ws_flag(ws))}"))


@app.command()
def reset(module: ModuleArg, workspace: WorkspaceOpt = DEFAULT) -> None:
    """Put back the stubs of a module, after saving your current files in a backup.

    Only the module's solution regions change; your code elsewhere stays. The backup is in
    .tito/backups/ in your workspace, and `tito module restore N` brings it back.

    \b
    Examples:
      tito module reset 3
      tito module restore 3      # changed your mind: your code comes back
    """
    c = course()
    m = module_or_exit(c, module, need_tests=False)
    ws = workspace_or_exit(workspace)
    done = wsmod.reset(ws, c, m.number)
    console.print(Text(f"Saved your module {m.key} files in {show(done.backup)}"))
    for note in done.notes:
        console.print(Text(f"  {note}", style="yellow"))
    changed = ", ".join(done.changed) or "nothing (it was already all stubs)"
    console.print(Text(f"Module {m.key} is back to stubs: {changed}"))
    data = load_progress(ws, c)
    e = progress.entry(data, m.number)
    e.pop("completed", None)
    e.pop("last_test", None)
    progress.save(ws.progress_path, data)
    console.print(Text(f"Undo with: tito module restore {m.number}{ws_flag(ws)}"))


@app.command()
def restore(module: ModuleArg, workspace: WorkspaceOpt = DEFAULT) -> None:
    """Bring back a module's newest backup (your current files are backed up first).

    \b
    Examples:
      tito module restore 3
    """
    c = course()
    m = module_or_exit(c, module, need_tests=False)
    ws = workspace_or_exit(workspace)
    try:
        done = wsmod.restore(ws, c, m.number)
    except wsmod.WorkspaceError as e:
        fail(str(e))
    console.print(Text(f"Saved your current module {m.key} files in {show(done.backup)}"))
    console.print(Text(f"Restored from {show(done.source)}: "
                       + (", ".join(done.changed) or "nothing differed")))
    console.print(Text(f"Check it with: tito module test {m.number}{ws_flag(ws)}"))


@app.command()
def lab(module: ModuleArg, workspace: WorkspaceOpt = DEFAULT, reference: ReferenceOpt = False,
        notebook: Annotated[bool, typer.Option(
            "--notebook", help="Open the lab in JupyterLab (a notebook in your workspace, its "
                               "kernel importing your tinytorch).")] = False,
        quick: Annotated[bool, typer.Option(
            "--quick", help="Shrink every experiment so the lab runs in seconds "
                            "(TINYTORCH_QUICK=1).")] = False) -> None:
    """Run a module's lab on your tinytorch: its experiments, timings and plots.

    The lab measures *your* code, so it needs the module written: while stubs of this
    module (or an earlier one) are open, it stops and lists them. Plots go to
    runs/labs/NN_slug in your workspace. The lab prints which tinytorch it imported.

    \b
    Examples:
      tito module lab 1
      tito module lab 1 --quick           # seconds, smaller experiments
      tito module lab 3 --notebook        # as a notebook in JupyterLab
      tito module lab 1 --reference       # the reference implementation
    """
    c = course()
    m = module_or_exit(c, module, need_tests=False)
    if not c.lab(m).is_file():
        fail(f"Module {m.key} has no lab yet ({show(c.lab(m))}).")
    if reference:
        reference_or_exit(c)
        root = c.root
        if notebook:
            _open_notebook(c, m, root, root / "runs" / "notebooks")
    else:
        ws = workspace_or_exit(workspace)
        stubs = wsmod.open_stubs(ws, c, m.number)
        if stubs:
            fail("write these stubs first: " + ", ".join(
                f"{s.qualname} ({show(ws.file(s.rel))}:{s.line})" for s in stubs))
        root = ws.root
        if notebook:
            _open_notebook(c, m, root, root / "labs")
    console.print(Text(f"Lab {m.dirname} on {'the reference' if reference else 'your code'}; "
                       f"plots go to {show(labs.out_dir(root, m))}", style="bold"))
    code = labs.run_lab(c, m, root, quick=quick)
    if code != 0:
        fail(f"The lab stopped with exit code {code} (the traceback above says where).")
    console.print(Text(f"Lab {m.dirname} done. Plots: {show(labs.out_dir(root, m))}",
                       style="green"))


@app.command()
def solution(module: ModuleArg, workspace: WorkspaceOpt = DEFAULT) -> None:
    """Compare your code with the reference solution, once your tests for the module pass.

    Shows each of the module's regions as a diff: your lines (-) against the reference's
    (+). Your tests must pass first, so it shows another way to write what you already
    wrote, never the answer to a stub.

    \b
    Example:
      tito module solution 2
    """
    import difflib

    c = course()
    m = module_or_exit(c, module)
    ws = workspace_or_exit(workspace)
    reference_or_exit(c)
    data = load_progress(ws, c)
    console.print(Text(f"Module {m.key} ({m.title}): your tests first..."))
    run, res = learner.grade_module(ws, c, m, data=data)
    if print_run_problem(run):
        raise typer.Exit(1)
    if not res.ok:
        print_module_result(m, res, run)
        fail(f"The solution of module {m.key} opens once your own code passes its tests "
             f"({res.passed}/{res.total} pass now).",
             f"Keep going: tito resume{ws_flag(ws)} shows the line to work on.")
    pairs = wsmod.region_pairs(ws, c, m.number)
    same = 0
    for pair in pairs:
        where = f"{show(ws.file(pair.rel))}:{pair.line} ({pair.qualname})"
        diff = list(difflib.unified_diff(pair.mine, pair.reference, fromfile=f"yours {where}",
                                         tofile="reference", n=2))
        if not diff:
            same += 1
            continue
        console.print(Text("".join(d if d.endswith("\n") else d + "\n" for d in diff)))
    console.print(Text(f"Module {m.key}: {len(pairs)} regions, {same} written exactly as the "
                       f"reference, {len(pairs) - same} differently (both pass the tests).",
                       style="green"))
