"""Course order (issue 6): module N's tests need modules 1..N only, and fail without N.

For every module in the registry whose ``tests/`` folder exists: on a workspace where modules
1..N hold the reference and N+1.. are stubs, module N's tests pass; with N stubbed as well they
fail. Each workspace (one per "first stubbed module") is generated once per session; the tests
run through tito's own grading (a process that imports the workspace's tinytorch: a fork of
tito's fork server, which grades exactly as a new interpreter does, see tests/test_mutations.py).
Modules whose tests are not written yet are skipped.
"""

import pytest
from tito_fixture import make_course

from tito import forkserver, registry
from tito.course import Course
from tito.grading import run_tests
from tito.workspace import create

COURSE = Course.current()


class Workspaces:
    """Workspaces of one course by first stubbed module, each generated once."""

    def __init__(self, course, tmp_path_factory):
        self.course, self.factory, self.cache = course, tmp_path_factory, {}

    def __call__(self, first_stubbed: int):
        if first_stubbed not in self.cache:
            root = self.factory.mktemp(f"order{first_stubbed:02d}") / "ws"
            self.cache[first_stubbed] = create(root, self.course, first_stubbed).root
        return self.cache[first_stubbed]

    def with_later_stubbed(self, m):
        """Module m's tests on modules 1..m given, m+1.. stubbed."""
        return run_tests(self.course, [self.course.tests_dir(m)], self(m.number + 1),
                         server=_server())

    def with_it_stubbed(self, m):
        """Module m's tests with m stubbed too (stop at the first failure)."""
        return run_tests(self.course, [self.course.tests_dir(m)], self(m.number),
                         stop_first=True, server=_server())


def _server():
    """This process's fork server where the platform has one (else a new interpreter per run):
    tito's grading without the second of start-up, proved equal in tests/test_mutations.py."""
    return forkserver.shared() if forkserver.available() else None


@pytest.fixture(scope="session")
def workspaces(tmp_path_factory):
    return Workspaces(COURSE, tmp_path_factory)


def _describe(run) -> str:
    if run.isolation_error or run.import_error:
        return run.isolation_error or run.import_error
    first = run.first_failure
    if first is None:
        return f"no test passed (pytest exit {run.returncode}):\n{run.output[-2000:]}"
    return f"{first.nodeid}\n{first.message}"


def _needs_tests(course, m):
    if not course.has_tests(m):
        pytest.skip(f"{course.tests_dir(m)} does not exist yet")


@pytest.mark.parametrize("m", registry.MODULES, ids=lambda m: m.dirname)
def test_passes_with_modules_up_to_it_and_later_ones_stubbed(m, workspaces):
    _needs_tests(COURSE, m)
    run = workspaces.with_later_stubbed(m)
    assert run.ok, (f"module {m.key}'s tests need code from a later module (or fail on the "
                    f"reference): {_describe(run)}")


@pytest.mark.parametrize("m", registry.MODULES, ids=lambda m: m.dirname)
def test_fails_with_it_stubbed(m, workspaces):
    _needs_tests(COURSE, m)
    run = workspaces.with_it_stubbed(m)
    assert not run.isolation_error, run.isolation_error
    assert not run.ok, (f"module {m.key}'s tests pass with its own code stubbed: they test "
                        "nothing the learner writes")


def test_the_check_catches_a_test_that_needs_a_later_module(tmp_path, tmp_path_factory):
    """On the synthetic course: a module 01 test calling relu (module 02) breaks the order."""
    course = Course(make_course(tmp_path / "course"))
    (course.tests_dir(registry.get(1)) / "test_early.py").write_text(
        "import tinytorch as tt\n\n\ndef test_uses_relu_too_early():\n"
        "    assert tt.relu(tt.Tensor([-1])).numpy() == [0.0]\n")
    ws = Workspaces(course, tmp_path_factory)
    bad = ws.with_later_stubbed(registry.get(1))
    assert not bad.ok and "implement relu" in _describe(bad)
    good = ws.with_later_stubbed(registry.get(2))
    assert good.ok, _describe(good)
    assert not ws.with_it_stubbed(registry.get(2)).ok
