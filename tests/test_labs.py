"""Every module's lab runs top to bottom as a script (quick mode) and writes its plots.

A lab is part of the course: a learner opens it as a notebook or runs ``python lab.py``.
It must not rot when the framework changes, so the suite runs each one, in a subprocess
(the way a learner runs it), with ``TINYTORCH_QUICK=1`` and a temporary output folder.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tito import registry

LABS = [m for m in registry.MODULES if m.available and m.lab.exists()]


@pytest.mark.parametrize("module", LABS, ids=[m.dirname for m in LABS])
def test_lab_runs_as_a_script_in_quick_mode(module, tmp_path):
    env = dict(os.environ, TINYTORCH_QUICK="1", TINYTORCH_OUT=str(tmp_path / "out"),
               MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(module.lab)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (
        f"{module.dirname}/lab.py failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n"
        f"{proc.stderr[-3000:]}"
    )
    written = list((tmp_path / "out").rglob("*.png")) + list(tmp_path.rglob("runs/**/*.png"))
    assert written, f"{module.dirname}/lab.py wrote no plot into TINYTORCH_OUT"


def test_every_available_module_has_a_guide_a_lab_and_tests():
    for m in registry.MODULES:
        if not m.available:
            continue
        assert m.guide.exists(), f"{m.dirname}: README.md (the guide) is missing"
        assert m.lab.exists(), f"{m.dirname}: lab.py is missing"
        assert list(Path(m.tests).glob("test_*.py")), f"{m.dirname}: no graded tests"
