"""The learner's journey, as subprocess runs of ``python -m tito.main``.

setup -> start -> tests fail on the stubs -> the lab lists the stubs to write -> paste the
reference -> tests and the lab pass -> complete -> status shows it -> reset keeps a backup ->
restore brings it back. Run on the synthetic course
(``tito_fixture.py``) always, and on the real module 01 once ``modules/01_tensor/tests`` exists.
A planted wrong solution (a relu returning its input) must be refused by ``complete`` with the
failing case shown; and grading must never import the reference instead of the workspace.
"""

import json
import shutil

import pytest
from tito_fixture import SOLUTIONS, fill_stub, make_course, paste_reference, tito

from tito import registry
from tito.course import Course

REAL = registry.REPO_ROOT


def real_module_ready(number: int) -> bool:
    return Course(REAL).has_tests(registry.get(number))


@pytest.fixture
def course(tmp_path):
    return make_course(tmp_path / "course")


def journey(course_root, cwd, module: int, stub_hint: str):
    """Run the whole loop on ``module``; ``course_root`` None means the real repository."""
    # the real module 01 runs hundreds of tests: minutes on a busy shared machine
    run = lambda *a: tito(*a, course=course_root, cwd=cwd, timeout=900)  # noqa: E731
    root = course_root or REAL
    ws = cwd / "workspace"

    # the README's path: tito setup, then tito module start 1
    r = run("setup")
    assert "Created your workspace" in r.stdout and "Next: tito module start 1" in r.stdout
    r = run("module", "start", str(module))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Write your code in" in r.stdout and f"tito module lab {module}" in r.stdout
    assert (ws / ".tito" / "progress.json").is_file()

    r = run("module", "test", str(module))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "First failure" in r.stdout and stub_hint in r.stdout
    assert "does not import" not in r.stdout and "not installed" not in r.stdout

    r = run("module", "lab", str(module))  # the lab measures the learner's code: stubs first
    assert r.returncode == 1 and r.stdout.startswith("write these stubs first: "), r.stdout
    assert len(r.stdout.strip().splitlines()) == 1

    assert paste_reference(ws, root, module) > 0
    r = run("module", "test", str(module))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "All tests pass" in r.stdout

    r = run("module", "lab", str(module), "--quick")
    assert r.returncode == 0, r.stdout + r.stderr
    assert str(ws / "tinytorch") in r.stdout  # the lab says it imported the workspace

    r = run("module", "complete", str(module))
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"Module {module:02d}" in r.stdout and "complete." in r.stdout

    r = run("module", "status")
    assert r.returncode == 0, r.stdout + r.stderr
    row = next(line for line in r.stdout.splitlines() if f"│ {module:02d} " in line)
    assert "completed" in row

    files = Course(root).files_of(module)
    written = {rel: (ws / rel).read_text() for rel in files}
    r = run("module", "reset", str(module))
    assert r.returncode == 0, r.stdout + r.stderr
    (backup,) = sorted((ws / ".tito" / "backups").iterdir())
    assert all((backup / rel).read_text() == text for rel, text in written.items())
    assert run("module", "test", str(module)).returncode == 1  # stubs again

    r = run("module", "restore", str(module))
    assert r.returncode == 0, r.stdout + r.stderr
    assert all((ws / rel).read_text() == text for rel, text in written.items())
    assert run("module", "test", str(module)).returncode == 0
    assert len(list((ws / ".tito" / "backups").iterdir())) == 2  # restore backed up first


def test_journey_on_synthetic_course(course, tmp_path):
    journey(course, tmp_path, 1, "implement add")


@pytest.mark.skipif(not real_module_ready(1), reason="modules/01_tensor/tests not written yet")
def test_journey_on_real_module_01(tmp_path):
    journey(None, tmp_path, 1, "Module 01")


def test_wrong_relu_is_refused_by_complete_with_the_case(course, tmp_path):
    assert tito("module", "start", "2", "--from", "2", course=course, cwd=tmp_path).returncode == 0
    fill_stub(tmp_path / "workspace/tinytorch/core/activations.py", "relu", "return x")
    r = tito("module", "complete", "2", course=course, cwd=tmp_path)
    assert r.returncode == 1, r.stdout
    assert "not complete" in r.stdout
    assert "relu(x)" in r.stdout and "input x=[-2.0, -0.5, 0.0, 1.5]" in r.stdout
    assert "expected [0, 0, 0, 1.5]" in r.stdout and "got [-2.0, -0.5, 0.0, 1.5]" in r.stdout
    status = tito("module", "status", course=course, cwd=tmp_path).stdout
    assert "completed" not in next(ln for ln in status.splitlines() if "│ 02 " in ln)


@pytest.mark.skipif(not real_module_ready(2), reason="modules/02_activations/tests not written")
def test_wrong_relu_is_refused_on_real_module_02(tmp_path):
    """Module 02 written as the reference, except a relu that returns its input."""
    from tito.regions import parse_regions, replace_bodies

    assert tito("module", "start", "2", "--from", "2", course=None, cwd=tmp_path).returncode == 0
    rel = "tinytorch/core/activations.py"
    path = tmp_path / "workspace" / rel
    paste_reference(tmp_path / "workspace", REAL, 2)
    text = path.read_text()
    (relu,) = [r for r in parse_regions(text, 2, rel) if r.qualname == "ReLUFn.forward"]
    pad = relu.indent
    path.write_text(replace_bodies(text, [relu], {0: [f"{pad}ctx.save_for_backward(x)\n",
                                                      f"{pad}return x\n"]}))
    r = tito("module", "complete", "2", course=None, cwd=tmp_path, timeout=900)
    assert r.returncode == 1, r.stdout
    assert "relu" in r.stdout.lower() and "expected" in r.stdout and "got" in r.stdout


def test_grading_uses_workspace_even_from_the_course_root(course):
    """Run from the folder that holds the reference: the workspace is still what is graded."""
    assert tito("module", "start", "1", course=course, cwd=course).returncode == 0
    r = tito("module", "test", "1", course=course, cwd=course)
    assert r.returncode == 1 and "implement add" in r.stdout  # the stub, not the reference
    r = tito("module", "test", "1", "--reference", course=course, cwd=course)
    assert r.returncode == 0, r.stdout


def test_isolation_failure_is_loud(course, tmp_path):
    """A conftest that swaps in the reference tinytorch makes grading stop, not pass."""
    (course / "modules/01_tensor/tests/conftest.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(course)!r})\n"
        "for name in [n for n in sys.modules if n.split('.')[0] == 'tinytorch']:\n"
        "    del sys.modules[name]\n"
        "import tinytorch\n")
    assert tito("module", "start", "1", course=course, cwd=tmp_path).returncode == 0
    r = tito("module", "test", "1", course=course, cwd=tmp_path)
    assert r.returncode == 1
    assert "ISOLATION FAILURE" in r.stdout and "Grading stopped" in r.stdout
    assert "passed" not in r.stdout


def test_import_error_in_workspace_is_explained(course, tmp_path):
    assert tito("module", "start", "1", course=course, cwd=tmp_path).returncode == 0
    path = tmp_path / "workspace/tinytorch/core/tensor.py"
    path.write_text(path.read_text() + "\ndef broken(:\n")
    r = tito("module", "test", "1", course=course, cwd=tmp_path)
    assert r.returncode == 1
    assert "does not import" in r.stdout and "SyntaxError" in r.stdout


@pytest.mark.parametrize("damage", ["delete", "garbage"])
def test_corrupt_progress_is_rebuilt_not_a_crash(course, tmp_path, damage):
    assert tito("module", "start", "1", course=course, cwd=tmp_path).returncode == 0
    ws = tmp_path / "workspace"
    fill_stub(ws / "tinytorch/core/tensor.py", "add", SOLUTIONS["add"])
    fill_stub(ws / "tinytorch/core/tensor.py", "mul", SOLUTIONS["mul"])
    path = ws / ".tito/progress.json"
    path.unlink() if damage == "delete" else path.write_text('{"schema": 1, "modu')
    r = tito("module", "status", course=course, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "rebuilt it from test results" in r.stdout
    assert "completed" in next(ln for ln in r.stdout.splitlines() if "│ 01 " in ln)
    json.loads(path.read_text())
    if damage == "garbage":
        assert list((ws / ".tito").glob("progress.json.corrupt-*"))


def test_milestone_locked_then_unlocked_and_run_on_the_workspace(course, tmp_path):
    run = lambda *a: tito(*a, course=course, cwd=tmp_path)  # noqa: E731
    assert run("module", "start", "1").returncode == 0
    r = run("milestone", "list")
    assert r.returncode == 0 and "01_perceptron" in r.stdout and "locked" in r.stdout
    r = run("milestone", "run", "1")
    assert r.returncode == 1 and "locked" in r.stdout

    r = run("milestone", "run", "1", "--reference", "--out", "ref-out", "--epochs", "3")
    assert r.returncode == 0, r.stdout + r.stderr
    metrics = json.loads((tmp_path / "ref-out/metrics.json").read_text())
    assert metrics["tinytorch"].startswith(str(course)) and metrics["epochs"] == 3

    ws = tmp_path / "workspace"
    for module in (1, 2, 4):  # 03 has no tests in this course: it does not hold the way
        paste_reference(ws, course, module)
        r = run("module", "complete", str(module))
        assert r.returncode == 0, r.stdout
    assert "Unlocked milestone 01_perceptron" in r.stdout
    r = run("milestone", "run", "perceptron")
    assert r.returncode == 0, r.stdout + r.stderr
    metrics = json.loads((tmp_path / "runs/milestones/01_perceptron/metrics.json").read_text())
    assert metrics["tinytorch"].startswith(str(ws)) and metrics["y"] == [2.0, 0.0]
    shutil.rmtree(tmp_path / "runs")


MARK = "broken-in-the-workspace"


def _break_matmul(path, class_name="Tensor", method="matmul"):
    """Make the workspace's ``Tensor.matmul`` (or another method) raise MARK as its first
    statement."""
    import ast

    text = path.read_text()
    cls = next(n for n in ast.parse(text).body if isinstance(n, ast.ClassDef)
               and n.name == class_name)
    fn = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == method)
    first = fn.body[1] if ast.get_docstring(fn) else fn.body[0]
    lines = text.splitlines(keepends=True)
    lines.insert(first.lineno - 1, " " * first.col_offset + f"raise RuntimeError({MARK!r})\n")
    path.write_text("".join(lines))


@pytest.mark.skipif(not real_module_ready(1), reason="modules/01_tensor/tests not written yet")
def test_no_documented_path_runs_the_reference_when_a_workspace_exists(tmp_path):
    """Break matmul (and Linear's op) in the workspace: every documented way to run the course
    must hit it.

    The reference's matmul works, so a path that passes (or never raises the mark) ran the
    reference. Modules 01-04 are given (--from 5), so milestone 01 is unlocked.
    """
    import os
    import subprocess
    import sys

    run = lambda *a: tito(*a, course=None, cwd=tmp_path, timeout=900)  # noqa: E731
    ws = tmp_path / "workspace"
    assert run("setup", "--from", "5").returncode == 0
    _break_matmul(ws / "tinytorch/core/tensor.py")
    # nn.Linear is one op (LinearFn, module 03) that calls NumPy's matmul itself: break it too,
    # so that milestone 01 (a Linear layer) meets the workspace's code
    _break_matmul(ws / "tinytorch/core/layers.py", "LinearFn", "forward")

    r = run("module", "test", "1", "-k", "matmul")
    assert r.returncode == 1 and MARK in r.stdout, r.stdout

    r = run("module", "lab", "1", "--quick")
    assert r.returncode != 0, r.stdout
    assert f"tinytorch: {ws / 'tinytorch'} (your workspace)" in r.stdout

    r = run("milestone", "run", "1")
    assert r.returncode != 0 and MARK in r.stdout + r.stderr, r.stdout + r.stderr

    # plain pytest, as a learner who knows pytest would type it
    env = {k: v for k, v in os.environ.items() if k not in ("TITO_WORKSPACE", "PYTHONPATH")}
    test_file = REAL / "modules/01_tensor/tests/test_matmul.py"
    for cwd, extra in [(REAL, {"PYTHONPATH": str(ws)}), (ws, {})]:
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                            str(test_file)], cwd=cwd, env=dict(env, **extra),
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 1 and MARK in r.stdout, (cwd, r.stdout[-2000:])
