"""The learner's path beyond test/complete: install extras, labs, resume, solution, update, hints.

Run on the synthetic course of ``tito_fixture.py`` (seconds each), as subprocesses of
``python -m tito.main``. The same path on the real course is in ``test_cli_real_path.py``.
"""

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from tito_fixture import SOLUTIONS, TITO_HOME, fill_stub, make_course, paste_reference, tito

TENSOR = "workspace/tinytorch/core/tensor.py"


def line_of(path, text):
    """1-based number of the first line of ``path`` containing ``text``."""
    return next(i for i, ln in enumerate(Path(path).read_text().splitlines(), 1) if text in ln)


@pytest.fixture
def course(tmp_path):
    return make_course(tmp_path / "course")


def run_in(course, cwd):
    return lambda *a, **kw: tito(*a, course=course, cwd=cwd, **kw)


# --------------------------------------------------------------------------- install


def test_course_extra_brings_what_grading_and_labs_need():
    extras = tomllib.loads((TITO_HOME / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    names = {d.split(">")[0].split("=")[0].split("[")[0] for d in extras["course"]}
    assert {"pytest", "hypothesis", "typer", "rich", "matplotlib", "jupytext"} <= names
    assert any(d.startswith("jupyterlab") for d in extras["notebook"])


def test_missing_pytest_is_named_with_the_install_command(monkeypatch, tmp_path):
    """Without pytest (or hypothesis) nothing is graded, and the learner's code is not blamed."""
    from tito import grading
    from tito.course import Course

    c = Course(make_course(tmp_path / "course"))
    monkeypatch.setattr(grading, "installed", lambda name: name not in ("pytest", "hypothesis"))
    (c.root / "modules/01_tensor/tests/test_prop.py").write_text("import hypothesis\n")
    run = grading.run_tests(c, [c.root / "modules/01_tensor/tests"], c.root)
    assert run.void and not run.import_error and not run.tests
    assert run.tool_error.startswith("pytest and hypothesis are not installed: pip install")
    assert '".[course]"' in run.tool_error


def test_doctor_sends_grading_tools_to_the_course_extra():
    from tito import doctor

    fixes = {dist: (status, fix) for dist, _, status, fix in doctor.DEPENDENCIES}
    assert fixes["pytest"] == fixes["hypothesis"] == (doctor.FAIL, doctor.INSTALL_COURSE)
    assert '".[notebook]"' in fixes["jupyterlab"][1]


# --------------------------------------------------------------------------- labs


def test_a_lab_says_which_tinytorch_it_imported(tmp_path):
    """On the reference it also says how to run the lab on your code."""
    from tito import labkit

    line = labkit.which_tinytorch("03_layers")
    assert line.startswith("tinytorch: ") and "(the reference; on your code: tito module lab 3)" \
        in line


def test_lab_stops_on_open_stubs_then_runs_on_the_workspace(course, tmp_path):
    run = run_in(course, tmp_path)
    assert run("setup").returncode == 0
    r = run("module", "lab", "1")
    assert r.returncode == 1
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    add, mul = (line_of(tmp_path / TENSOR, f"implement {f} --") for f in ("add", "mul"))
    assert lines == [f"write these stubs first: add (workspace/tinytorch/core/tensor.py:{add}), "
                     f"mul (workspace/tinytorch/core/tensor.py:{mul})"], r.stdout

    paste_reference(tmp_path / "workspace", course, 1)
    r = run("module", "lab", "1")
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"lab imported {tmp_path / 'workspace/tinytorch/__init__.py'}" in r.stdout
    assert (tmp_path / "workspace/runs/labs/01_tensor").is_dir()  # generated under the workspace
    r = run("module", "lab", "tensor", "--reference")
    assert r.returncode == 0 and f"lab imported {course / 'tinytorch/__init__.py'}" in r.stdout
    assert not list((course / "modules").rglob("runs"))


def test_start_names_the_lab_command(course, tmp_path):
    r = tito("module", "start", "1", course=course, cwd=tmp_path)
    assert "Lab:   tito module lab 1" in r.stdout and "PYTHONPATH" not in r.stdout


def test_plain_pytest_on_modules_grades_the_meant_workspace(course, tmp_path):
    """PYTHONPATH=workspace, TITO_WORKSPACE, or pytest run inside the workspace: never the
    reference (which the hostile root conftest.py of the fixture would put first)."""
    assert tito("setup", course=course, cwd=tmp_path).returncode == 0
    fill_stub(tmp_path / TENSOR, "add", "return Tensor([0.0 for _ in a.numpy()])")  # wrong
    fill_stub(tmp_path / TENSOR, "mul", SOLUTIONS["mul"])
    env = {k: v for k, v in os.environ.items() if k not in ("TITO_WORKSPACE", "PYTHONPATH")}
    pytest_cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    for cwd, extra, target in [
            (course, {"PYTHONPATH": "../workspace"}, "modules/01_tensor/tests"),
            (tmp_path, {"TITO_WORKSPACE": "workspace"}, "course/modules/01_tensor/tests"),
            (tmp_path / "workspace", {}, "../course/modules/01_tensor/tests")]:
        e = dict(env, PYTHONPATH=os.pathsep.join(filter(None, [extra.get("PYTHONPATH"),
                                                                str(TITO_HOME)])))
        e.update({k: v for k, v in extra.items() if k != "PYTHONPATH"})
        r = subprocess.run([*pytest_cmd, target], cwd=cwd, env=e, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 1 and "1 failed, 2 passed" in r.stdout, (extra, r.stdout)
        assert "test_add" in r.stdout and "got [0.0, 0.0, 0.0]" in r.stdout
    # no workspace meant: the course's own run grades the reference, and says so
    r = subprocess.run([*pytest_cmd, "modules/01_tensor/tests"], cwd=course, timeout=120,
                       env=dict(env, PYTHONPATH=str(TITO_HOME)), capture_output=True, text=True)
    assert r.returncode == 0, r.stdout


# --------------------------------------------------------------------------- resume, hints


def test_resume_points_at_the_stub_then_the_failing_line(course, tmp_path):
    run = run_in(course, tmp_path)
    assert run("setup").returncode == 0
    r = run("resume")
    assert r.returncode == 1
    assert "Module 01 (Tensor) is in progress: 0 of 2 regions written" in r.stdout
    assert "First failing test: test_tensor.py::test_add" in r.stdout
    add = line_of(tmp_path / TENSOR, "implement add --")
    assert f"Edit:  workspace/tinytorch/core/tensor.py:{add}   (the stub of add)" in r.stdout
    # --edit opens $EDITOR at that line (here a script that records its arguments)
    editor = tmp_path / "editor.py"
    editor.write_text("import sys, pathlib\n"
                      f"pathlib.Path({str(tmp_path / 'args')!r}).write_text(' '.join(sys.argv[1:]))\n")
    run("resume", "--edit", env={"EDITOR": f"{sys.executable} {editor}", "VISUAL": ""})
    assert (tmp_path / "args").read_text() == f"+{add} {tmp_path / TENSOR}"
    paste_reference(tmp_path / "workspace", course, 1)
    r = run("resume")
    assert r.returncode == 0 and "Record it: tito module complete 1" in r.stdout


def test_next_hints_follow_progress_and_status_shows_regressions(course, tmp_path):
    run = run_in(course, tmp_path)
    ws = tmp_path / "workspace"
    assert "Next: tito module start 1" in run("setup").stdout
    for module in (1, 2):
        paste_reference(ws, course, module)
        r = run("module", "complete", str(module))
        assert r.returncode == 0, r.stdout
    # completing 02 re-ran 01's tests too (the time printed covers both): it says so
    assert "regression check:" in r.stdout and "of the 1 module(s) done before pass" in r.stdout
    assert "Next: tito module start 4" in r.stdout  # 03 has no tests in this course
    assert "Next: tito module start 4" in run("setup").stdout  # not back to module 1

    # break module 01, then completing 04 finds the regression
    path = ws / "tinytorch/core/tensor.py"
    path.write_text(path.read_text().replace("x + y", "x - y"))
    paste_reference(ws, course, 4)
    r = run("module", "complete", "4")
    assert r.returncode == 1 and "Module 01, completed earlier, now fails" in r.stdout
    r = run("module", "status")
    row = next(ln for ln in r.stdout.splitlines() if "│ 01 " in ln)
    assert "completed, now failing" in row
    assert "Completed earlier but failing now: 01" in r.stdout
    assert "Next: tito resume   (module 01, completed earlier, fails now)" in r.stdout
    r = run("resume")
    assert "Module 01 (Tensor) was completed but fails now" in r.stdout
    assert "Edit:  workspace/tinytorch/core/tensor.py:" in r.stdout


def test_locked_milestone_names_every_missing_module(course, tmp_path):
    run = run_in(course, tmp_path)
    assert run("setup").returncode == 0
    paste_reference(tmp_path / "workspace", course, 1)
    assert run("module", "complete", "1").returncode == 0
    r = run("milestone", "run", "1")
    assert r.returncode == 1 and "complete modules 02, 04 first" in r.stdout, r.stdout


@pytest.mark.parametrize("typo,suggestion", [("tensr", "Did you mean 01 (tensor)?"),
                                             ("activation", "Did you mean 02 (activations)?"),
                                             ("42", "or a name (tensor")])
def test_module_typos_get_did_you_mean(course, tmp_path, typo, suggestion):
    r = tito("module", "test", typo, course=course, cwd=tmp_path)
    assert r.returncode == 2 and suggestion in r.stdout, r.stdout


def test_rebuilding_progress_says_so_before_it_starts(course, tmp_path):
    run = run_in(course, tmp_path)
    assert run("setup").returncode == 0
    (tmp_path / "workspace/.tito/progress.json").unlink()
    out = run("module", "status").stdout
    assert out.index("rebuilding it by running the tests") < out.index("rebuilt it from test")


def test_piped_output_is_not_cut_at_80_columns(course, tmp_path):
    """No COLUMNS, stdout a pipe: long test names and paths arrive whole."""
    name = "test_" + "a_very_long_descriptive_test_name_" * 4
    (course / "modules/01_tensor/tests/test_long.py").write_text(
        f"def {name}():\n    assert False, 'the long one fails'\n")
    assert tito("setup", course=course, cwd=tmp_path).returncode == 0
    r = tito("module", "test", "1", "-k", "long", course=course, cwd=tmp_path,
             env={"COLUMNS": ""})
    assert f"test_long.py::{name}" in r.stdout, r.stdout


# --------------------------------------------------------------------------- solution


def test_solution_only_after_the_tests_pass_then_a_diff(course, tmp_path):
    run = run_in(course, tmp_path)
    assert run("setup").returncode == 0
    r = run("module", "solution", "1")
    assert r.returncode == 1 and "opens once your own code passes its tests" in r.stdout
    assert "x + y" not in r.stdout  # nothing of the reference shown
    fill_stub(tmp_path / TENSOR, "add", "return Tensor([y + x for x, y in zip(a.numpy(), b.numpy())])")
    fill_stub(tmp_path / TENSOR, "mul", SOLUTIONS["mul"])
    r = run("module", "solution", "1")
    assert r.returncode == 0, r.stdout
    begin = line_of(tmp_path / TENSOR, "# BEGIN SOLUTION")  # add's region comes first
    assert f"--- yours workspace/tinytorch/core/tensor.py:{begin} (add)" in r.stdout
    assert "-    return Tensor([y + x for x, y in zip(a.numpy(), b.numpy())])" in r.stdout
    assert "+    return Tensor([x + y for x, y in zip(a.numpy(), b.numpy())])" in r.stdout
    assert "2 regions, 1 written exactly as the reference" in r.stdout


# --------------------------------------------------------------------------- update


def _git(cwd, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t")
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def test_update_pulls_the_course_and_keeps_the_learners_files(tmp_path):
    origin = make_course(tmp_path / "origin")
    _git(origin, "init", "-q", "-b", "main")
    _git(origin, "add", ".")
    _git(origin, "commit", "-q", "-m", "course v1")
    _git(tmp_path, "clone", "-q", str(origin), "clone")
    clone = tmp_path / "clone"
    run = run_in(clone, clone)
    assert run("setup").returncode == 0
    fill_stub(clone / TENSOR, "add", SOLUTIONS["add"])
    mine = (clone / TENSOR).read_text()

    # the course moves on: a module's tests and guide fixed, a new module, a new package file
    (origin / "modules/01_tensor/README.md").write_text("# Module 01: Tensor (fixed)\n")
    (origin / "modules/06_optimizers/tests").mkdir(parents=True)
    (origin / "modules/06_optimizers/tests/test_sgd.py").write_text("def test_x():\n    pass\n")
    (origin / "tinytorch/core/layers.py").write_text(
        "def linear(x):\n    # BEGIN SOLUTION\n    return x\n    # END SOLUTION\n")
    (origin / "tinytorch/core/tensor.py").write_text(
        (origin / "tinytorch/core/tensor.py").read_text() + "\nVERSION = 2\n")
    _git(origin, "add", ".")
    _git(origin, "commit", "-q", "-m", "course v2")

    r = run("update")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Backed up your workspace" in r.stdout and "Course updated" in r.stdout
    assert "new modules: 06_optimizers" in r.stdout
    assert "tests: 1 file(s): modules/06_optimizers/tests/test_sgd.py" in r.stdout
    assert "guides: 1 file(s): modules/01_tensor/README.md" in r.stdout
    assert (clone / TENSOR).read_text() == mine  # the learner's edited file: kept
    assert "implement linear" in (clone / "workspace/tinytorch/core/layers.py").read_text()
    (backup,) = (clone / "workspace/.tito/backups").iterdir()
    assert (backup / "tinytorch/core/tensor.py").read_text() == mine
    assert json.loads((backup / "backup.json").read_text())["tag"] == "update"
    assert "up to date" in run("update").stdout

    (clone / "modules/01_tensor/README.md").write_text("my notes\n")  # edited a course file
    r = run("update")
    assert r.returncode == 1 and "modules/01_tensor/README.md" in r.stdout
