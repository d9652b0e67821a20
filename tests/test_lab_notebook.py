"""``tito module lab N --notebook`` when JupyterLab *is* installed, without starting a server.

The missing-JupyterLab path (non-zero exit, the ``[notebook]`` extra named) is in
test_cli_commands.py. Here the launch itself is caught where tito hands over to JupyterLab
(``tito.labs.subprocess.call``): the command, its folder and its environment are checked, and
that environment is then used to ask a real Python which tinytorch a kernel would import.
"""

import json
import subprocess
import sys
from types import SimpleNamespace

import pytest
from tito_fixture import make_course

pytest.importorskip("jupytext")


def test_notebook_launch_command_and_kernel_import(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from tito import labs
    from tito.main import app

    course = make_course(tmp_path / "course")
    monkeypatch.setenv("TITO_REPO_ROOT", str(course))
    monkeypatch.chdir(tmp_path)
    launched = []

    def call(cmd, cwd=None, env=None):
        launched.append(SimpleNamespace(cmd=cmd, cwd=cwd, env=env))
        return 0

    monkeypatch.setattr(labs, "subprocess", SimpleNamespace(call=call))
    monkeypatch.setattr(labs, "installed", lambda name: True)  # "jupyterlab is installed"
    runner = CliRunner()
    r = runner.invoke(app, ["module", "start", "1"])
    assert r.exit_code == 0, r.output
    ws = tmp_path / "workspace"

    # stubs of module 01 still open: the lab (notebook or not) refuses, naming them
    r = runner.invoke(app, ["module", "lab", "1", "--notebook"])
    assert r.exit_code == 1 and "write these stubs first" in r.output and not launched

    r = runner.invoke(app, ["module", "lab", "1", "--notebook", "--reference"])
    assert r.exit_code == 0, r.output
    (run,) = launched
    notebook = course / "runs/notebooks/01_tensor.ipynb"
    assert run.cmd == [sys.executable, "-m", "jupyterlab", str(notebook)]
    assert run.cwd == notebook.parent
    assert "Opening it in JupyterLab" in r.output
    cells = json.loads(notebook.read_text())["cells"]
    assert cells and any("import tinytorch" in "".join(c["source"]) for c in cells)

    # a kernel started by that server inherits its environment: which tinytorch does it get?
    out = subprocess.run([sys.executable, "-c", "import tinytorch; print(tinytorch.__file__)"],
                         cwd=run.cwd, env=run.env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == str(course / "tinytorch" / "__init__.py"), out.stderr

    # the learner's workspace, once module 01 is written: its own notebook, its own tinytorch
    rel = "tinytorch/core/tensor.py"
    (ws / rel).write_text((course / rel).read_text())
    launched.clear()
    r = runner.invoke(app, ["module", "lab", "1", "--notebook"])
    assert r.exit_code == 0, r.output
    (run,) = launched
    assert run.cmd[-1] == str(ws / "labs/01_tensor.ipynb")
    out = subprocess.run([sys.executable, "-c", "import tinytorch; print(tinytorch.__file__)"],
                         cwd=run.cwd, env=run.env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == str(ws / "tinytorch" / "__init__.py"), out.stderr
