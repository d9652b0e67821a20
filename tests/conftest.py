"""Shared setup for the framework-wide tests.

The suite runs with ``--import-mode=importlib`` (test files in different folders may share a
name), so pytest does not put this folder on ``sys.path``; helpers such as ``op_cases`` are
imported from here explicitly.

The suite runs over the cores (``pytest -n auto``). pytest-xdist hands tests out in collection
order, so a long test collected last keeps one worker busy while the others idle: the tests
that each take seconds (whole module test runs in a subprocess, labs, mutants) are moved to the
front, longest kind first, and the thousands of quick tests fill in behind them. xdist's
``load`` mode would give each worker a quarter of the suite up front, in one consecutive block
(all the slow tests to the first worker), so here a free worker takes the next unit: one slow
test, or a whole file of quick ones (whose module-scoped fixtures are then built once). Only the
order changes; every test still runs.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# (file name, test name prefix): the kinds of tests that take seconds each, longest first
SLOW_FIRST = [
    ("test_cli_journey.py", ""),  # a real `tito module test 1` on stubs: two minutes loaded
    ("test_benchmarks_harness.py", ""),
    ("test_real_programs.py", ""),
    ("test_milestone_cnn.py", ""),
    ("test_course_order.py", "test_passes_with_modules_up_to_it"),  # a whole module's tests
    ("test_labs.py", "test_lab_runs_as_a_script"),
    ("test_cli_release.py", ""),
    ("test_milestone_transformer.py", ""),
    ("test_milestones.py", ""),
    ("test_compat_programs.py", ""),
    ("test_course_order.py", ""),
    ("test_mutations.py", "test_mutant_is_killed"),  # ~270 runs of a few seconds
    ("test_mutations.py", "test_independent_mutant_is_killed"),
    ("test_cli_learner_path.py", ""),
    ("test_cli_commands.py", ""),
    ("test_benchmarks_processes.py", ""),
    ("test_benchmarking.py", ""),
    ("test_regions.py", ""),
]


def _rank(item) -> int:
    name = item.path.name
    for i, (file, prefix) in enumerate(SLOW_FIRST):
        if name == file and item.name.startswith(prefix):
            return i
    return len(SLOW_FIRST)


def pytest_collection_modifyitems(session, config, items):
    """Slow kinds of tests first (a stable sort: the order within each kind is kept)."""
    items.sort(key=_rank)


# slow files whose tests share no module- or session-wide fixture worth building twice: each
# of their tests is handed out on its own; any other file goes to one worker whole, so that a
# module-scoped fixture is built once (test_real_programs runs two ~75 s processes in one)
SPREAD = {file for file, _ in SLOW_FIRST} - {"test_real_programs.py", "test_cli_commands.py"}


def _unit(nodeid: str) -> str:
    """What one worker runs together: a test of a SPREAD file alone, else its whole file."""
    file = nodeid.split("::", 1)[0]
    return nodeid if file.rsplit("/", 1)[-1] in SPREAD else file


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``-n`` with the default ``load`` mode: hand out units in collection order (see above)."""
    if config.getvalue("dist") != "load":
        return None  # another --dist was asked for: xdist makes it
    from xdist.scheduler import LoadScopeScheduling

    class InOrderByUnit(LoadScopeScheduling):
        """xdist's scope scheduling (a free worker takes the next unit) with our units."""

        def _split_scope(self, nodeid):
            return _unit(nodeid)

    config.option.loadscopereorder = False  # keep the collection order: slow kinds first
    return InOrderByUnit(config, log)
