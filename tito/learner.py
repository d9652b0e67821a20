"""What a learner does, as functions: start, test, complete, and the state of each module.

``tito/main.py`` is the command-line face of these; it only prints what they return. Every
test run grades the workspace's own ``tinytorch`` (see ``tito/grading.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tito import grading, progress, registry
from tito import workspace as wsmod
from tito.course import Course
from tito.grading import ModuleResult, Run
from tito.workspace import Workspace


class NotAvailable(Exception):
    """The module is listed in the course plan but not written yet, or has no tests yet."""


def checked_module(course: Course, number: int | str, need_tests: bool = True) -> registry.Module:
    """The registry entry, refusing politely modules that are coming or have no tests yet."""
    m = registry.get(number)
    if not course.written(m):
        raise NotAvailable(f"Module {m.key} ({m.title}) is coming: it is in the course plan but "
                           "not written yet. `tito module list` shows what is available now.")
    if need_tests and not course.has_tests(m):
        raise NotAvailable(f"Module {m.key} ({m.title}) has no tests yet "
                           f"({course.tests_dir(m)} is missing or empty).")
    return m


# --------------------------------------------------------------------------- workspace + progress


def create_workspace(ws: Workspace, course: Course, from_module: int = 1) -> Workspace:
    """A new workspace with a fresh progress file (modules before ``from_module`` are given)."""
    wsmod.create(ws.root, course, from_module)
    progress.save(ws.progress_path, progress.new())
    return ws


def open_progress(ws: Workspace, course: Course, announce=None) -> tuple[dict, str | None]:
    """The progress, rebuilt from test results if the file is missing or corrupt.

    Returns (progress, note); the note, when not None, tells the learner what was rebuilt.
    ``announce(text)``, if given, is called before the rebuild starts: it runs every module's
    tests, which takes a while, and silence would look like a hang.
    """
    try:
        return progress.load(ws.progress_path), None
    except progress.ProgressError as e:
        if announce is not None:
            announce(f"progress.json {e.reason}: rebuilding it by running the tests of every "
                     "module on your workspace (this takes a little while)...")
        aside = progress.quarantine(ws.progress_path)
        data, run = rebuild_progress(ws, course)
        done = [f"{n:02d}" for n in sorted(int(k) for k in data["modules"])
                if progress.completed(data, n)]
        note = (f"progress.json {e.reason}; rebuilt it from test results"
                + (f" (the unreadable file is kept as {aside.name})" if aside else "")
                + (f": modules passing their tests: {', '.join(done)}." if done
                   else ": no module passes its tests yet."))
        if run is not None and run.void:
            note += (" The test run had a problem: "
                     f"{run.tool_error or run.isolation_error or run.import_error}")
        return data, note


def rebuild_progress(ws: Workspace, course: Course) -> tuple[dict, Run | None]:
    """Run every available module's tests on the workspace and record what passes."""
    data = progress.new()
    mods = [m for m in registry.MODULES if m.available and course.has_tests(m)]
    run = None
    if mods:
        run = grading.run_tests(course, [course.tests_dir(m) for m in mods], ws.root)
        if not run.void:
            for n, res in sorted(run.by_module(course).items()):
                progress.record_test(data, n, res.passed, res.total)
                if res.ok:
                    e = progress.entry(data, n)
                    e["completed"], e["rebuilt"] = progress.now(), True
    progress.save(ws.progress_path, data)
    return data, run


def is_done(data: dict, ws: Workspace, number: int) -> bool:
    """Completed by the learner, or given as reference (before the workspace's --from)."""
    return progress.completed(data, number) or number < ws.from_module


def state(m: registry.Module, data: dict, ws: Workspace) -> str:
    if not m.available:
        return "coming"
    if progress.completed(data, m.number):
        return "completed, now failing" if progress.regressed(data, m.number) else "completed"
    if m.number < ws.from_module:
        return "given (reference)"
    e = data["modules"].get(m.key, {})
    return "in progress" if e.get("started") or e.get("last_test") else "not started"


def milestone_unlocked(m: registry.Module, data: dict, ws: Workspace,
                       course: Course) -> bool:
    """A module's milestone opens once it, and every gradable module before it, is done."""
    return m.available and not missing_for(m, data, ws, course)


def missing_for(m: registry.Module, data: dict, ws: Workspace,
                course: Course) -> list[registry.Module]:
    """The modules still to complete before ``m``'s milestone opens (``m`` included)."""
    return [k for k in registry.MODULES
            if k.number <= m.number and (k.number == m.number or (k.available
                                                                   and course.has_tests(k)))
            and not is_done(data, ws, k.number)]


def next_module(data: dict, ws: Workspace, course: Course) -> registry.Module | None:
    """Where the learner is: the first gradable module not done yet, or completed and failing
    now (a regression comes first); None when all are done."""
    return next((k for k in registry.MODULES if k.available and course.has_tests(k)
                 and (not is_done(data, ws, k.number) or progress.regressed(data, k.number))),
                None)


def next_step(data: dict, ws: Workspace, course: Course, flag: str = "") -> str:
    """The command to run next, computed from the progress (never completed work)."""
    m = next_module(data, ws, course)
    if m is None:
        return ("every module written so far is complete: run the milestones with "
                f"`tito milestone run all{flag}`")
    e = data["modules"].get(m.key, {})
    if progress.regressed(data, m.number):
        return f"tito resume{flag}   (module {m.key}, completed earlier, fails now)"
    if e.get("started") or e.get("last_test"):
        return f"tito resume{flag}   (module {m.key}, {m.title}, is in progress)"
    return f"tito module start {m.number}{flag}"


# --------------------------------------------------------------------------- test and complete


def grade_module(ws: Workspace, course: Course, m: registry.Module, *, stream: bool = False,
                 keyword: str | None = None, data: dict | None = None
                 ) -> tuple[Run, ModuleResult]:
    """Run module ``m``'s tests on the workspace and record the result in the progress."""
    run = grading.run_tests(course, [course.tests_dir(m)], ws.root, stream=stream, keyword=keyword)
    result = run.by_module(course).get(m.number, ModuleResult(m.number))
    if data is not None and not run.void and not keyword:
        progress.record_test(data, m.number, result.passed, result.total)
        progress.save(ws.progress_path, data)
    return run, result


@dataclass
class Completion:
    run: Run
    module: ModuleResult
    # modules completed earlier that now fail
    regressions: dict[int, ModuleResult] = field(default_factory=dict)
    unlocked: list[str] = field(default_factory=list)  # milestones opened by this completion

    @property
    def ok(self) -> bool:
        return self.module.ok and not self.regressions and not self.run.void


def complete(ws: Workspace, course: Course, m: registry.Module, data: dict) -> Completion:
    """Test module ``m`` and every module done before it; record ``m`` complete if all pass."""
    earlier = [k for k in registry.MODULES if k.number != m.number and k.available
               and course.has_tests(k) and is_done(data, ws, k.number)]
    paths = [course.tests_dir(k) for k in earlier] + [course.tests_dir(m)]
    run = grading.run_tests(course, paths, ws.root)
    results = run.by_module(course)
    result = results.get(m.number, ModuleResult(m.number))
    regressions = {k.number: results[k.number] for k in earlier
                   if k.number in results and not results[k.number].ok}
    done = Completion(run, result, regressions)
    if run.void:
        return done
    progress.record_test(data, m.number, result.passed, result.total)
    for k in earlier:  # `module status` must show a completed module that now fails
        if k.number in results:
            progress.record_test(data, k.number, results[k.number].passed,
                                 results[k.number].total)
    if done.ok:
        before = {k.milestone for k in registry.MODULES
                  if k.milestone and milestone_unlocked(k, data, ws, course)}
        progress.entry(data, m.number)["completed"] = progress.now()
        done.unlocked = [k.milestone for k in registry.MODULES
                         if k.milestone and k.milestone not in before
                         and milestone_unlocked(k, data, ws, course)]
    progress.save(ws.progress_path, data)
    return done
