"""Graded runs format only the first failures in pytest's short style (tito/pytest_guard.py).

pytest's short and long styles re-parse each frame's source for every failure (~0.3 s each);
a fresh module-01 workspace fails ~400 tests on its stubs. The first failures keep the short
style that ``tito resume`` reads for the line to edit; later ones are native Python tracebacks.
A streamed run (``tito module test N -v``) shows every traceback in the short style.
"""

import textwrap

from tito_fixture import make_course

from tito.course import Course
from tito.grading import run_tests


def _failing_tests(root, n):
    path = root / "modules" / "01_tensor" / "tests" / "test_many_failures.py"
    path.write_text(textwrap.dedent("""
        import pytest


        @pytest.mark.parametrize("i", range(%d))
        def test_fails(i):
            assert i == -1
    """ % n))
    return path


def test_first_failures_short_then_native(tmp_path):
    root = make_course(tmp_path / "course")
    course = Course(root)
    run = run_tests(course, [_failing_tests(root, 6)], root)
    failed = [t for t in run.tests if t.outcome == "failed"]
    assert len(failed) == 6
    for t in failed[:3]:  # short style: "path.py:LINE: AssertionError", what resume parses
        assert "test_many_failures.py:" in t.longrepr and 'File "' not in t.longrepr, t.longrepr
    for t in failed[3:]:  # native style from then on
        assert 'File "' in t.longrepr, t.longrepr
    assert all("assert" in t.message for t in failed)  # the message stays informative
