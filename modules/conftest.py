"""Plain ``pytest modules/...``: grade the workspace you meant, never the reference by accident.

With your workspace on ``PYTHONPATH``, named by ``TITO_WORKSPACE``, or pytest run from inside
it, the tests import *your* tinytorch (checked before and after the test files load), or the
run stops and says to use ``tito module test N``. Without one (the course's own test suite)
they grade the reference. How: ``tito/pytest_workspace.py``.
"""

from tito import pytest_workspace

pytest_workspace.activate()


def pytest_report_header(config):
    return pytest_workspace.report_header()


def pytest_collection_finish(session):
    pytest_workspace.collection_finish()
