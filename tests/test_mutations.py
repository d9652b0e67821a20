"""Mutation check (issue 6): every planted bug makes its module's tests fail.

The planted bugs live in ``tito/mutations_catalog.py``. Each catalog snippet must still occur
exactly once in the reference (checked always, so the catalog cannot rot); each mutant is run
against its module's tests once those exist. The kill rate per module is printed at the end of
the test run ("mutation kill rate" section) and recorded per test with ``record_property``.

The independent catalogue (``tito/mutations_independent.py``, issue 11: learner mistakes written
by a reviewer who had not read the tests) is checked the same way. Its snippets are always
checked; its ~170 mutants run only when ``TITO_INDEPENDENT_MUTANTS`` is set (``1`` or ``all``
for every module, or a list such as ``5,7``), because each one runs its module's tests and the
whole suite must stay fast. ``python -m tito.mutations --independent [N ...]`` runs them by
hand and prints the kill rate per module.

Each mutant is its own test, so ``pytest -n auto`` spreads them over the cores; the test file
that killed a mutant last time runs first (``tito/mutation_killers.json``), and each run is a
fork of a server process that imported pytest and NumPy once (``tito/forkserver.py``; the last
tests here prove such a run grades exactly like a new interpreter, and that a mutant that never
finishes is stopped by the timeout). That the unmutated
reference passes each module's tests in a workspace (else every mutant would look "killed") is
proved by ``tests/test_course_order.py``, which grades module N on the reference of 1..N.
"""

import os
import re

import pytest

from tito import registry
from tito.course import Course
from tito.workspace import create
from tito import forkserver
from tito.grading import run_tests
from tito.mutations import (catalog, check_snippet, independent_catalog, killer_hints, make_base,
                            run_mutant, summary_table)

COURSE = Course.current()
ENTRIES = [(n, mut) for n, muts in sorted(catalog().items()) for mut in muts]
IDS = [f"{n:02d}-{mut.id}" for n, mut in ENTRIES]
INDEPENDENT = [(n, mut) for n, muts in sorted(independent_catalog().items()) for mut in muts]
INDEPENDENT_IDS = [f"{n:02d}-{mut.id}" for n, mut in INDEPENDENT]
HINTS = {kind: killer_hints(kind) for kind in ("catalog", "independent")}
RESULTS = []  # MutantResult of every mutant run, for the summary
INDEPENDENT_RESULTS = []


def _independent_modules() -> set[int]:
    """Modules whose independent mutants run (TITO_INDEPENDENT_MUTANTS: 1/all or "5,7")."""
    value = os.environ.get("TITO_INDEPENDENT_MUTANTS", "").strip().lower()
    if value in ("", "0", "no", "false"):
        return set()
    if value in ("1", "all", "yes", "true"):
        return set(independent_catalog())
    return {int(v) for v in value.replace(" ", "").split(",") if v}


class _KillRateSummary:
    """Registered by the ``base`` fixture: prints the kill rate table after the run."""

    def pytest_terminal_summary(self, terminalreporter):
        if RESULTS:
            terminalreporter.write_sep("=", "mutation kill rate")
            terminalreporter.write_line(summary_table(RESULTS))
        if INDEPENDENT_RESULTS:
            terminalreporter.write_sep("=", "independent mutation kill rate (issue 11)")
            terminalreporter.write_line(summary_table(INDEPENDENT_RESULTS))


@pytest.fixture(scope="session")
def base(tmp_path_factory, pytestconfig):
    """The full reference as a workspace, copied for each mutant."""
    if not pytestconfig.pluginmanager.has_plugin("tito-mutation-summary"):
        pytestconfig.pluginmanager.register(_KillRateSummary(), "tito-mutation-summary")
    return make_base(COURSE, tmp_path_factory.mktemp("mutants") / "base")


def _run(kind, number, mutation, base, tmp_path, sink):
    """Run one mutant (its killer file from the last recorded run first) and keep the result."""
    result = run_mutant(COURSE, number, mutation, base, tmp_path / "mutant",
                        HINTS[kind].get(f"{number:02d}-{mutation.id}"))
    sink.append(result)
    return result


def test_catalog_is_well_formed():
    for n, muts in catalog().items():
        registry.get(n)
        ids = [m.id for m in muts]
        assert len(ids) == len(set(ids)), f"module {n:02d}: duplicate mutation ids"
        for m in muts:
            assert m.find != m.replace, f"{m.id}: the replacement changes nothing"


@pytest.mark.parametrize("number, mutation", ENTRIES, ids=IDS)
def test_snippet_still_in_the_reference(number, mutation):
    check_snippet(mutation, COURSE.root)


@pytest.mark.parametrize("number, mutation", ENTRIES, ids=IDS)
def test_mutant_is_killed(number, mutation, base, tmp_path, record_property):
    m = registry.get(number)
    if not COURSE.has_tests(m):
        pytest.skip(f"module {m.key} has no tests yet")
    result = _run("catalog", number, mutation, base, tmp_path, RESULTS)
    record_property("killed", result.killed)
    record_property("detail", result.detail)
    assert result.killed, (f"planted bug {mutation.id!r} ({mutation.why}) in {mutation.file} "
                           f"survived module {m.key}'s tests: add a test that catches it")


def test_independent_catalog_is_well_formed():
    for n, muts in independent_catalog().items():
        registry.get(n)
        ids = [m.id for m in muts]
        assert len(ids) == len(set(ids)), f"module {n:02d}: duplicate independent mutation ids"
        assert all(m.find != m.replace for m in muts)


@pytest.mark.parametrize("number, mutation", INDEPENDENT, ids=INDEPENDENT_IDS)
def test_independent_snippet_still_in_the_reference(number, mutation):
    check_snippet(mutation, COURSE.root)


@pytest.mark.parametrize("number, mutation", INDEPENDENT, ids=INDEPENDENT_IDS)
def test_independent_mutant_is_killed(number, mutation, base, tmp_path, record_property):
    if number not in _independent_modules():
        pytest.skip("slow: set TITO_INDEPENDENT_MUTANTS=1 (or e.g. 5,7) to run the independent "
                    "mutants, or run python -m tito.mutations --independent")
    m = registry.get(number)
    if not COURSE.has_tests(m):
        pytest.skip(f"module {m.key} has no tests yet")
    result = _run("independent", number, mutation, base, tmp_path, INDEPENDENT_RESULTS)
    record_property("killed", result.killed)
    record_property("detail", result.detail)
    assert result.killed, (f"independent mutant {mutation.id!r} ({mutation.why}) in "
                           f"{mutation.file} survived module {m.key}'s tests: add tests for the "
                           "whole class of mistakes it belongs to")


def test_harness_on_the_synthetic_course(tmp_path):
    """A bug the tests see is killed; one they cannot see survives; a stale snippet errors."""
    from tito_fixture import make_course

    from tito.mutations import Mutation, SnippetError

    course = Course(make_course(tmp_path / "course"))
    base = make_base(course, tmp_path / "base")
    seen = Mutation("add-subtracts", "tinytorch/core/tensor.py", "x + y for x, y",
                    "x - y for x, y", "add subtracts")
    unseen = Mutation("repr", "tinytorch/core/tensor.py", 'f"Tensor({self.data})"',
                      'f"T({self.data})"', "repr changed")
    killed = run_mutant(course, 1, seen, base, tmp_path / "m1")
    survived = run_mutant(course, 1, unseen, base, tmp_path / "m2")
    assert killed.killed and "test_add" in killed.detail
    assert not survived.killed and "survived" in survived.detail
    table = summary_table([killed, survived])
    assert "01 tensor" in table and "50%" in table and "survived: repr" in table
    with pytest.raises(SnippetError, match="not found"):
        check_snippet(Mutation("gone", "tinytorch/core/tensor.py", "no such code", "x"),
                      course.root)


def _outcomes(run):
    return [(t.nodeid, t.outcome, t.message) for t in run.tests]


def _timeless(output):
    return re.sub(r" in [0-9.]+s( \(\d+:\d+:\d+\))?", " in (time)", output)


@pytest.mark.skipif(not forkserver.available(), reason="the fork server needs Linux")
def test_a_fork_server_run_grades_like_a_new_interpreter(tmp_path):
    """Same tests, outcomes, messages, exit code and graded tinytorch as ``python -m pytest``."""
    from tito_fixture import make_course

    course = Course(make_course(tmp_path / "course"))
    ws = create(tmp_path / "ws", course, 2).root  # module 01 given, 02 on stubbed
    server = forkserver.ForkServer()
    try:
        for number in (1, 2):
            tests = [course.tests_dir(registry.get(number))]
            forked = run_tests(course, tests, ws, server=server)
            fresh = run_tests(course, tests, ws)
            assert forked.tinytorch_file == fresh.tinytorch_file == str(ws / "tinytorch" /
                                                                         "__init__.py")
            assert (forked.returncode, _outcomes(forked)) == (fresh.returncode, _outcomes(fresh))
            assert forked.ok == (number == 1)
            # pytest's own output too, but for the time it took
            assert _timeless(forked.output) == _timeless(fresh.output)
    finally:
        server.close()


@pytest.mark.parametrize("fork", [True, False], ids=["fork-server", "new-interpreter"])
def test_a_mutant_that_never_finishes_is_killed_by_the_timeout(tmp_path, fork):
    from tito_fixture import make_course

    from tito.mutations import Mutation

    if fork and not forkserver.available():
        pytest.skip("the fork server needs Linux")
    course = Course(make_course(tmp_path / "course"))
    base = make_base(course, tmp_path / "base")
    endless = Mutation("add-never-returns", "tinytorch/core/tensor.py", "x + y for x, y",
                       "x + y + sum(iter(int, 1)) for x, y", "an endless loop")
    result = run_mutant(course, 1, endless, base, tmp_path / "m", fork=fork, timeout=2)
    assert result.killed and "timeout" in result.detail
