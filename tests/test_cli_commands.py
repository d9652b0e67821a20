"""Every tito command as a learner types it: help with examples, polite refusals, pass-through."""

import pytest
from tito_fixture import make_course, tito

COMMANDS = [
    ["setup"], ["system", "doctor"], ["module", "list"], ["module", "status"],
    ["module", "start"], ["module", "test"], ["module", "complete"], ["module", "reset"],
    ["module", "restore"], ["module", "lab"], ["module", "solution"], ["resume"], ["update"],
    ["test"], ["milestone", "list"], ["milestone", "run"],
    ["benchmark"], ["release"],
]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return make_course(tmp_path_factory.mktemp("course"))


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(command, tmp_path):
    r = tito(*command, "--help", course=None, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Example" in r.stdout and "tito " + command[0] in r.stdout


def test_top_level_help_lists_the_groups(tmp_path):
    r = tito("--help", course=None, cwd=tmp_path)
    assert r.returncode == 0
    for group in ("module", "milestone", "system", "setup", "test", "benchmark", "release"):
        assert group in r.stdout


@pytest.mark.parametrize("command", [["module", "start", "17"], ["module", "test", "17"],
                                     ["module", "complete", "17"]])
def test_coming_modules_are_refused_politely(course, tmp_path, command):
    r = tito(*command, course=course, cwd=tmp_path)
    assert r.returncode == 1
    assert "is coming" in r.stdout and "Traceback" not in r.stdout + r.stderr
    assert not (tmp_path / "workspace").exists()


def test_module_without_tests_yet_is_refused_by_test(course, tmp_path):
    assert tito("module", "start", "3", course=course, cwd=tmp_path).returncode == 0
    r = tito("module", "test", "3", course=course, cwd=tmp_path)
    assert r.returncode == 1 and "no tests yet" in r.stdout


def test_unknown_module_and_missing_workspace(course, tmp_path):
    r = tito("module", "test", "42", course=course, cwd=tmp_path)
    assert r.returncode == 2 and "no module '42'" in r.stdout
    r = tito("module", "status", course=course, cwd=tmp_path)
    assert r.returncode == 1 and "No workspace" in r.stdout and "tito module start 1" in r.stdout


def test_module_list_marks_coming_and_ready(course, tmp_path):
    r = tito("module", "list", course=course, cwd=tmp_path)
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert "ready" in next(ln for ln in lines if "│ 01 " in ln)
    assert "coming" in next(ln for ln in lines if "│ 17 " in ln)


def test_test_all_reference_passes_and_fresh_workspace_fails(course, tmp_path):
    r = tito("test", "--all", "--reference", course=course, cwd=tmp_path)
    assert r.returncode == 0, r.stdout
    assert "8 tests passed" in r.stdout
    assert tito("setup", "--workspace", "ws", course=course, cwd=tmp_path).stdout.count(
        "Created your workspace") == 1
    r = tito("test", "--all", "--workspace", "ws", course=course, cwd=tmp_path)
    assert r.returncode == 1 and "First failure" in r.stdout
    r = tito("test", course=course, cwd=tmp_path)
    assert r.returncode == 2 and "--all" in r.stdout


def test_workspace_option_and_env_var(course, tmp_path):
    r = tito("module", "start", "1", "--workspace", "elsewhere", course=course, cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / "elsewhere/tinytorch/__init__.py").exists()
    r = tito("module", "status", course=course, cwd=tmp_path,
             env={"TITO_WORKSPACE": str(tmp_path / "elsewhere")})
    assert r.returncode == 0 and "Progress in" in r.stdout


def test_benchmark_passes_arguments_through(course, tmp_path):
    r = tito("benchmark", "--reference", "--quick", "--size", "8", course=course, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "bench args ['--quick', '--size', '8']" in r.stdout
    assert f"bench tinytorch {course}" in r.stdout


def test_benchmark_subcommand_help_lists_its_options(tmp_path):
    # `--help` after `run` reaches TinyMLPerf's parser instead of repeating tito's own help
    r = tito("benchmark", "--reference", "run", "--help", course=None, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    for flag in ("--quick", "--json", "--score-against", "--plant-slowdown", "--clock"):
        assert flag in r.stdout


def test_doctor_reports_numpy_blas_and_workspace(course, tmp_path):
    r = tito("system", "doctor", course=course, cwd=tmp_path)
    assert r.returncode == 0, r.stdout
    for word in ("Python", "NumPy", "BLAS", "pytest", "workspace", "tito setup"):
        assert word in r.stdout


def test_start_notebook_writes_lab_notebook_without_overwriting(course, tmp_path):
    """--notebook writes the workspace's notebook once; without JupyterLab it exits non-zero."""
    import importlib.util

    if importlib.util.find_spec("jupyterlab") is not None:
        pytest.skip("JupyterLab is installed: --notebook would start a server")
    r = tito("module", "start", "1", "--notebook", course=course, cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    notebook = tmp_path / "workspace/labs/01_tensor.ipynb"
    assert notebook.exists() and 'pip install -e ".[notebook]"' in r.stdout
    notebook.write_text(notebook.read_text().replace("print(tinytorch.add)", "print('mine')"))
    r = tito("module", "lab", "1", "--notebook", "--reference", course=course, cwd=tmp_path)
    assert r.returncode == 1 and "JupyterLab is not installed" in r.stdout
    r = tito("module", "start", "1", "--notebook", course=course, cwd=tmp_path)
    assert "already exists" in r.stdout and "mine" in notebook.read_text()
    assert not list((course / "modules").rglob("*.ipynb"))  # nothing generated in modules/


def test_milestone_summary_reads_the_measured_verdict(tmp_path):
    """`tito milestone run all` reports what each milestone measured, not what it hoped."""
    import json

    from tito.milestones import summarize

    (tmp_path / "ok.json").write_text(json.dumps(
        {"passed": True, "metrics": {"test_accuracy": 0.98333, "epochs": 3}, "seconds": 1.5}))
    (tmp_path / "bad.json").write_text(json.dumps({"passed": False, "metrics": {"acc": 0.5}}))
    assert summarize(tmp_path / "ok.json") == ("PASSED", "test_accuracy=0.9833, epochs=3, 1.5 s")
    assert summarize(tmp_path / "bad.json")[0] == "FAILED"
    assert summarize(tmp_path / "missing.json")[0] == "no metrics.json"
    (tmp_path / "garbled.json").write_text("{not json")
    assert summarize(tmp_path / "garbled.json")[0] == "no metrics.json"


def test_module_names_typos_and_slugs(course, tmp_path):
    """`01_tensor` and `tensor` name module 01; `01_wrong` is a typo, refused, not module 01."""
    from tito import registry

    assert registry.get("tensor").number == 1 and registry.get("01_tensor").number == 1
    r = tito("module", "start", "01_wrong", course=course, cwd=tmp_path)
    assert r.returncode == 2 and "no module '01_wrong'" in r.stdout and "01_tensor" in r.stdout
    assert not (tmp_path / "workspace").exists()


def test_hints_carry_a_non_default_workspace(course, tmp_path):
    """Every `Next:`/`Test:` hint must work when copied, so it names --workspace when needed."""
    r = tito("setup", "--workspace", "elsewhere", course=course, cwd=tmp_path)
    assert "tito module start 1 --workspace elsewhere" in r.stdout
    r = tito("module", "start", "1", "--workspace", "elsewhere", course=course, cwd=tmp_path)
    assert "tito module test 1 --workspace elsewhere" in r.stdout, r.stdout
    r = tito("module", "test", "1", "--workspace", "elsewhere", course=course, cwd=tmp_path)
    assert "tito module test 1 --workspace elsewhere" in r.stdout, r.stdout
    r = tito("module", "reset", "1", "--workspace", "elsewhere", course=course, cwd=tmp_path)
    assert "tito module restore 1 --workspace elsewhere" in r.stdout, r.stdout
    r = tito("module", "start", "1", course=course, cwd=tmp_path)  # the default: no flag
    assert "Test:  tito module test 1 " in r.stdout and "--workspace" not in r.stdout
    r = tito("module", "start", "1", course=course, cwd=tmp_path,
             env={"TITO_WORKSPACE": str(tmp_path / "elsewhere")})
    assert "--workspace" not in r.stdout  # the variable already points there


def test_filtered_run_does_not_claim_the_module_passes(course, tmp_path):
    r = tito("module", "test", "1", "--reference", "-k", "test_", course=course, cwd=tmp_path)
    assert r.returncode == 0, r.stdout
    assert "matching -k 'test_' pass" in r.stdout and "complete" not in r.stdout


def test_syntax_error_names_the_file_that_does_not_parse(course, tmp_path):
    """A syntax error in a file imported by another: the message points at the broken file."""
    assert tito("module", "start", "1", course=course, cwd=tmp_path).returncode == 0
    path = tmp_path / "workspace/tinytorch/core/losses.py"
    path.write_text(path.read_text() + "\ndef broken(:\n")
    r = tito("module", "test", "1", course=course, cwd=tmp_path)
    assert r.returncode == 1 and "does not import" in r.stdout
    assert "losses.py:" in r.stdout and "__init__.py:" not in r.stdout, r.stdout
