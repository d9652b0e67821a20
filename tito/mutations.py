"""Mutation check: do a module's graded tests catch small, realistic bugs?

A test suite that passes on the reference proves little unless it fails on a wrong solution.
For each module, ``tito/mutations_catalog.py`` lists planted bugs -- a wrong sign in a
gradient, a missing un-broadcast, a shape off by one -- each an exact snippet of the reference
and its replacement. :func:`run_mutant` copies the reference package, plants one bug, runs the
module's tests (stopping at the first failure) and reports whether they caught it ("killed").
The kill rate per module should be 100%: a surviving mutant names a test that is missing.

A snippet that no longer occurs exactly once in the reference is an error, not a skip, so the
catalog cannot silently rot as the code changes.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from tito import registry
from tito.course import PACKAGE, Course
from tito.grading import run_tests
from tito.workspace import create


@dataclass(frozen=True)
class Mutation:
    id: str  # short, unique within the module: "sub-backward-sign"
    file: str  # relative to the repository root: "tinytorch/core/tensor_ops.py"
    find: str  # exact text of the reference, occurring exactly once in the file
    replace: str  # the bug
    why: str = ""  # the mistake it imitates, in words


class SnippetError(Exception):
    """A catalog entry whose snippet is not found exactly once: update the catalog."""


@dataclass
class MutantResult:
    module: int
    mutation: Mutation
    killed: bool
    detail: str  # the failure that caught it, or why it survived


def catalog() -> dict[int, list[Mutation]]:
    from tito.mutations_catalog import CATALOG

    return CATALOG


def independent_catalog() -> dict[int, list[Mutation]]:
    """The mutants written by a reviewer who had not read the tests (issue 11)."""
    from tito.mutations_independent import CATALOG_INDEPENDENT

    return CATALOG_INDEPENDENT


def check_snippet(mutation: Mutation, root: Path) -> str:
    """The text of ``mutation.file`` under ``root``; raises SnippetError unless found once."""
    path = Path(root) / mutation.file
    if not path.is_file():
        raise SnippetError(f"[{mutation.id}] {mutation.file} does not exist")
    text = path.read_text(encoding="utf-8")
    count = text.count(mutation.find)
    if count != 1:
        where = "not found" if count == 0 else f"found {count} times (make it longer)"
        raise SnippetError(f"[{mutation.id}] snippet {mutation.find!r} {where} in "
                           f"{mutation.file}: update tito/mutations_catalog.py")
    return text


def apply(mutation: Mutation, root: Path) -> None:
    """Plant ``mutation`` in the package under ``root`` (a workspace-like folder)."""
    text = check_snippet(mutation, root)
    (Path(root) / mutation.file).write_text(text.replace(mutation.find, mutation.replace),
                                            encoding="utf-8")


def make_base(course: Course, dest: Path) -> Path:
    """A workspace holding the full reference (no module stubbed), to copy for each mutant."""
    create(dest, course, from_module=len(registry.MODULES) + 1)
    return Path(dest)


def run_mutant(course: Course, number: int, mutation: Mutation, base: Path,
               scratch: Path) -> MutantResult:
    """Copy ``base``'s package into ``scratch``, plant the bug, run module ``number``'s tests."""
    scratch = Path(scratch)
    if scratch.exists():
        shutil.rmtree(scratch)
    shutil.copytree(Path(base) / PACKAGE, scratch / PACKAGE)
    apply(mutation, scratch)
    m = registry.get(number)
    run = run_tests(course, [course.tests_dir(m)], scratch, stop_first=True)
    if run.isolation_error:
        raise RuntimeError(run.isolation_error)
    if run.import_error:
        return MutantResult(number, mutation, True, f"killed at import: {run.import_error}")
    if run.ok:
        return MutantResult(number, mutation, False,
                            f"survived: all {len(run.tests)} tests of module {number:02d} pass "
                            f"with this bug ({mutation.why or mutation.replace!r})")
    first = run.first_failure
    msg = (first.message or "").splitlines()[0] if first else f"exit code {run.returncode}"
    return MutantResult(number, mutation, True, f"killed by {first.name if first else '?'}: {msg}")


def summary_table(results: list[MutantResult]) -> str:
    """Kill rate per module, as plain text for a terminal summary."""
    by_module: dict[int, list[MutantResult]] = {}
    for r in results:
        by_module.setdefault(r.module, []).append(r)
    lines = ["module               killed  planted  kill rate"]
    for n in sorted(by_module):
        rs = by_module[n]
        killed = sum(r.killed for r in rs)
        name = f"{n:02d} {registry.get(n).slug}"
        lines.append(f"{name:<20} {killed:>6}  {len(rs):>7}  {100 * killed / len(rs):>8.0f}%")
        lines += [f"    survived: {r.mutation.id} ({r.mutation.why or r.mutation.replace!r})"
                  for r in rs if not r.killed]
    return "\n".join(lines)


def main(argv=None) -> int:
    """``python -m tito.mutations [--independent] [N ...]``: run the mutants, print kill rates.

    Slow (each mutant runs its module's tests): the test suite runs the independent catalogue
    only when ``TITO_INDEPENDENT_MUTANTS`` is set; this is the command to run it by hand.
    """
    import argparse
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    parser = argparse.ArgumentParser(prog="python -m tito.mutations")
    parser.add_argument("modules", nargs="*", type=int, help="module numbers (default: all)")
    parser.add_argument("--independent", action="store_true",
                        help="the independent catalogue (tito/mutations_independent.py)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    cat = independent_catalog() if args.independent else catalog()
    course = Course.current()
    results = []
    with tempfile.TemporaryDirectory(prefix="tito-mutants-") as tmp:
        base = make_base(course, Path(tmp) / "base")
        for n in args.modules or sorted(cat):
            if not course.has_tests(registry.get(n)):
                continue
            with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
                results += ex.map(lambda mut: run_mutant(course, n, mut, base,
                                                         Path(tmp) / f"m{n:02d}" / mut.id),
                                  cat.get(n, []))
    print(summary_table(results))
    return 0 if all(r.killed for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
