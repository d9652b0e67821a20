"""``tito release``: the student copy keeps no solution, still parses, still works as a course."""

import ast

from tito_fixture import make_course, tito

from tito.course import Course
from tito.release import make_release, verify


def test_release_leaves_no_solution(tmp_path):
    course = make_course(tmp_path / "course")
    (course / "modules/02_activations/lab.py").write_text(
        "# %%\n# BEGIN SOLUTION\nanswer = 42\n# END SOLUTION\nprint(answer)\n")
    (course / "workspace/tinytorch").mkdir(parents=True)  # a learner's workspace: not copied
    (course / ".git").mkdir()
    (course / ".git/config").write_text("[core]\n")

    r = tito("release", str(tmp_path / "student"), course=course, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no solution region survived" in r.stdout
    student = tmp_path / "student"
    assert not (student / ".git").exists() and not (student / "workspace").exists()
    for path in student.rglob("*.py"):
        text = path.read_text()
        ast.parse(text)
        for solution in ("zip(a.numpy(), b.numpy())", "v if v > 0", "return 2 * x", "answer = 42",
                         "return grad, grad"):
            assert solution not in text, f"{solution!r} survived in {path}"
    assert "implement relu" in (student / "tinytorch/core/activations.py").read_text()
    assert (student / "modules/01_tensor/tests/test_tensor.py").exists()
    assert verify(student) == []

    # the student copy is a working course: a learner can start module 1 from it
    (tmp_path / "learner").mkdir()
    r = tito("module", "start", "1", course=student, cwd=tmp_path / "learner")
    assert r.returncode == 0, r.stdout + r.stderr


def test_release_refuses_non_empty_or_inner_destination(tmp_path):
    course = make_course(tmp_path / "course")
    (tmp_path / "full").mkdir()
    (tmp_path / "full/keep.txt").write_text("mine")
    r = tito("release", str(tmp_path / "full"), course=course, cwd=tmp_path)
    assert r.returncode == 1 and "not empty" in r.stdout
    assert (tmp_path / "full/keep.txt").read_text() == "mine"
    r = tito("release", str(course / "dist-student"), course=course, cwd=tmp_path)
    assert r.returncode == 1 and "inside the course folder" in r.stdout


def test_verify_catches_a_surviving_solution(tmp_path):
    course = make_course(tmp_path / "course")
    report = make_release(Course(course), tmp_path / "student")
    assert report.ok and report.regions == 6
    path = tmp_path / "student/tinytorch/core/autograd.py"
    stub = next(ln for ln in path.read_text().splitlines() if "NotImplementedError" in ln)
    path.write_text(path.read_text().replace(stub, "    return 2 * x"))
    problems = verify(tmp_path / "student")
    assert len(problems) == 1 and "autograd.py:6: solution of module 05 survived" in problems[0]


def test_release_blanks_the_mutation_catalog(tmp_path):
    course = make_course(tmp_path / "course")
    (course / "tito").mkdir()
    (course / "tito/mutations_catalog.py").write_text("CATALOG = {1: ['np.add(a, b)']}\n")
    make_release(Course(course), tmp_path / "student")
    text = (tmp_path / "student/tito/mutations_catalog.py").read_text()
    assert "np.add" not in text and "CATALOG: dict = {}" in text


def test_release_of_this_repository_is_clean(tmp_path):
    """The real course: every region well formed, nothing survives, everything parses."""
    report = make_release(Course.current(), tmp_path / "student")
    assert report.ok, "\n".join(report.problems)
    assert report.regions > 0


def test_student_copy_has_a_student_readme_and_refuses_reference(tmp_path):
    """The copy's README must work for a student, and --reference has nothing to run there."""
    course = make_course(tmp_path / "course")
    (course / "tests").mkdir(exist_ok=True)
    (course / "tests/test_framework.py").write_text("def test_needs_reference():\n    pass\n")
    r = tito("release", str(tmp_path / "student"), course=course, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    student = tmp_path / "student"
    readme = (student / "README.md").read_text()
    assert "tito module start 01" in readme and "--reference" in readme
    assert not (student / "tests").exists()  # framework tests need the reference
    r = tito("module", "test", "1", "--reference", course=student, cwd=tmp_path)
    assert r.returncode == 1 and "student copy" in r.stdout
    r = tito("test", "--all", "--reference", course=student, cwd=tmp_path)
    assert r.returncode == 1 and "student copy" in r.stdout


def test_release_skips_a_virtual_environment_in_the_course_folder(tmp_path):
    """A learner's `python -m venv .venv` inside the course: its site-packages hold .py files
    that are not UTF-8 and not the course's; the release neither copies nor reads them."""
    course = make_course(tmp_path / "course")
    for name in (".venv", "env"):
        site = course / name / "lib/python3.11/site-packages/pkg"
        site.mkdir(parents=True)
        (course / name / "pyvenv.cfg").write_text("home = /usr/bin\n")
        (site / "latin1.py").write_bytes(b"# caf\xe9\nx = 1\n")
    report = make_release(Course(course), tmp_path / "student")
    assert not report.problems
    assert not (tmp_path / "student/.venv").exists() and not (tmp_path / "student/env").exists()
