"""Mutation check: do a module's graded tests catch small, realistic bugs?

A test suite that passes on the reference proves little unless it fails on a wrong solution.
For each module, ``tito/mutations_catalog.py`` lists planted bugs -- a wrong sign in a
gradient, a missing un-broadcast, a shape off by one -- each an exact snippet of the reference
and its replacement. :func:`run_mutant` copies the reference package, plants one bug, runs the
module's tests (stopping at the first failure) and reports whether they caught it ("killed").
The kill rate per module should be 100%: a surviving mutant names a test that is missing.

A snippet that no longer occurs exactly once in the reference is an error, not a skip, so the
catalog cannot silently rot as the code changes.

Speed: a mutant usually dies at its module's first failing test, so the test file that killed
it last time runs first (``tito/mutation_killers.json``, written by ``python -m tito.mutations
--record-killers``). The hint only orders the files: every file still runs until one fails, so
a stale or missing hint costs time, never a verdict. Each run is a fork of a server process that
has imported pytest and NumPy once (``tito/forkserver.py``, Linux) rather than a new
interpreter: about a second less per mutant, with the same arguments, environment and isolation
guard. A mutant whose tests do not finish within ``MUTANT_TIMEOUT`` seconds (an endless loop)
is killed and counts as caught, as in other mutation tools: the learner's tests would not pass.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from tito import forkserver, registry
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
    killer: str | None = None  # the test file (relative to the module's tests/) that failed first


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
    """A workspace holding the full reference (no module stubbed), to copy for each mutant.

    Its package is compiled once into hash-checked bytecode (``__pycache__``, copied with it):
    a mutant's run then compiles only the file holding the bug. Python checks each such file
    against a hash of its source on import, so the mutated file's old bytecode is never used
    (graded runs set ``PYTHONDONTWRITEBYTECODE``: they read bytecode, they never write it).
    """
    import compileall
    import py_compile

    create(dest, course, from_module=len(registry.MODULES) + 1)
    compileall.compile_dir(Path(dest) / PACKAGE, quiet=2,
                           invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    return Path(dest)


KILLERS = Path(__file__).with_name("mutation_killers.json")
# seconds before a mutant's test run is killed; the slowest module's tests take ~30 s on a
# loaded machine, so only a run that would never end reaches it
MUTANT_TIMEOUT = float(os.environ.get("TITO_MUTANT_TIMEOUT") or 300)


def killer_hints(kind: str = "catalog") -> dict[str, str]:
    """``{"NN-id": test file}`` recorded by the last ``--record-killers`` run (may be empty)."""
    try:
        return json.loads(KILLERS.read_text(encoding="utf-8")).get(kind, {})
    except (OSError, ValueError):
        return {}


def ordered_test_files(tests_dir: Path, first: str | None) -> list[Path]:
    """The module's test files with ``first`` (a hint) in front, or just the folder."""
    files = sorted(p for p in tests_dir.rglob("test_*.py") if "__pycache__" not in p.parts)
    hint = tests_dir / first if first else None
    if hint is None or hint not in files:
        return [tests_dir]
    return [hint] + [f for f in files if f != hint]


def run_mutant(course: Course, number: int, mutation: Mutation, base: Path,
               scratch: Path, first: str | None = None, *, fork: bool = True,
               timeout: float | None = None) -> MutantResult:
    """Copy ``base``'s package into ``scratch``, plant the bug, run module ``number``'s tests.

    ``first``: a test file (relative to the module's ``tests/``) to run before the others.
    ``fork``: run the tests in a fork of this thread's fork server where the platform allows
    (else, or with False, in a new interpreter). ``timeout``: seconds (``MUTANT_TIMEOUT``).
    """
    scratch = Path(scratch)
    if scratch.exists():
        shutil.rmtree(scratch)
    shutil.copytree(Path(base) / PACKAGE, scratch / PACKAGE)
    apply(mutation, scratch)
    m = registry.get(number)
    tests_dir = course.tests_dir(m)
    timeout = MUTANT_TIMEOUT if timeout is None else timeout
    server = forkserver.shared() if fork and forkserver.available() else None
    run = run_tests(course, ordered_test_files(tests_dir, first), scratch, stop_first=True,
                    server=server, timeout=timeout)
    if run.isolation_error:
        raise RuntimeError(run.isolation_error)
    if run.timed_out:
        return MutantResult(number, mutation, True,
                            f"killed by timeout: module {number:02d}'s tests did not finish in "
                            f"{timeout:g} s")
    if run.import_error:
        return MutantResult(number, mutation, True, f"killed at import: {run.import_error}")
    if run.ok:
        return MutantResult(number, mutation, False,
                            f"survived: all {len(run.tests)} tests of module {number:02d} pass "
                            f"with this bug ({mutation.why or mutation.replace!r})")
    first = run.first_failure
    msg = (first.message or "").splitlines()[0] if first else f"exit code {run.returncode}"
    killer = None
    if first is not None and first.path:
        try:
            killer = Path(first.path).resolve().relative_to(tests_dir.resolve()).as_posix()
        except ValueError:
            killer = None
    return MutantResult(number, mutation, True, f"killed by {first.name if first else '?'}: {msg}",
                        killer)


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
    parser.add_argument("--record-killers", action="store_true",
                        help=f"write the test file that killed each mutant to {KILLERS.name} "
                             "(the suite runs it first next time)")
    args = parser.parse_args(argv)
    kind = "independent" if args.independent else "catalog"
    cat = independent_catalog() if args.independent else catalog()
    hints = killer_hints(kind)
    course = Course.current()
    results = []
    with tempfile.TemporaryDirectory(prefix="tito-mutants-") as tmp:
        base = make_base(course, Path(tmp) / "base")
        # one pool for every module: each of its threads keeps one fork server
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
            for n in args.modules or sorted(cat):
                if not course.has_tests(registry.get(n)):
                    continue
                results += ex.map(lambda mut, n=n: run_mutant(
                    course, n, mut, base, Path(tmp) / f"m{n:02d}" / mut.id,
                    hints.get(f"{n:02d}-{mut.id}")), cat.get(n, []))
    print(summary_table(results))
    if args.record_killers:
        try:
            recorded = json.loads(KILLERS.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            recorded = {}
        section = recorded.setdefault(kind, {})
        section.update({f"{r.module:02d}-{r.mutation.id}": r.killer for r in results if r.killer})
        KILLERS.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"recorded {sum(r.killer is not None for r in results)} killers in {KILLERS}")
    return 0 if all(r.killed for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
