"""Workspaces: generation from the reference, reset/restore with backups, sync, progress.

Built on the synthetic course of ``tito_fixture.py`` (module 01 owns ``core/tensor.py``,
which also holds a region of module 05).
"""

import json

import pytest
from tito_fixture import SOLUTIONS, fill_stub, make_course

from tito import learner, progress, registry
from tito import workspace as wsmod
from tito.course import Course
from tito.workspace import Workspace, WorkspaceError

TENSOR = "tinytorch/core/tensor.py"
ACT = "tinytorch/core/activations.py"


@pytest.fixture
def course(tmp_path):
    return Course(make_course(tmp_path / "course"))


@pytest.fixture
def ws(course, tmp_path):
    return learner.create_workspace(Workspace(tmp_path / "ws"), course, from_module=1)


def stub_count(ws, rel):
    return ws.file(rel).read_text().count("raise NotImplementedError")


def test_create_stubs_modules_from_start_and_copies_everything(course, ws):
    assert sorted(p.relative_to(ws.root).as_posix() for p in ws.package.rglob("*.py")) == \
        sorted(course.package_files())
    assert stub_count(ws, TENSOR) == 3 and stub_count(ws, ACT) == 1
    assert ws.file("tinytorch/testing.py").read_text() == course.read("tinytorch/testing.py")
    assert ws.from_module == 1
    assert progress.load(ws.progress_path) == progress.new()


def test_from_keeps_reference_before_start(course, tmp_path):
    ws = learner.create_workspace(Workspace(tmp_path / "w2"), course, from_module=2)
    text = ws.file(TENSOR).read_text()
    assert SOLUTIONS["add"] in text and "implement add_backward" in text  # 01 given, 05 stub
    assert stub_count(ws, ACT) == 1
    data, _ = learner.open_progress(ws, course)
    assert learner.state(registry.get(1), data, ws) == "given (reference)"


def test_create_refuses_existing_or_nonempty(course, ws, tmp_path):
    with pytest.raises(WorkspaceError, match="already exists"):
        wsmod.create(ws.root, course)
    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep")
    with pytest.raises(WorkspaceError, match="not empty"):
        wsmod.create(other, course)
    assert (other / "mine.txt").read_text() == "keep"


def test_files_of_includes_tagged_regions_in_other_modules_files(course):
    assert course.files_of(1) == [TENSOR]
    assert course.files_of(5) == ["tinytorch/core/autograd.py", TENSOR]


def test_reset_only_touches_that_modules_regions_and_backs_up(course, ws):
    path = ws.file(TENSOR)
    fill_stub(path, "add", SOLUTIONS["add"])
    fill_stub(path, "add_backward", "return grad, grad")
    path.write_text(path.read_text() + "\n\ndef my_helper():\n    return 42\n")
    before = path.read_text()

    done = wsmod.reset(ws, course, 5)
    after = path.read_text()
    assert (done.backup / TENSOR).read_text() == before  # the learner's file, saved first
    assert SOLUTIONS["add"] in after and "my_helper" in after  # module 01 work untouched
    assert "implement add_backward" in after
    assert done.changed == [TENSOR]
    assert wsmod.backups(ws, 5) == [done.backup]

    restored = wsmod.restore(ws, course, 5)
    assert path.read_text() == before
    assert restored.source == done.backup
    assert (restored.backup / TENSOR).read_text() == after  # restore backs up first, too
    # restoring again swaps back: the newest backup is the state the restore replaced
    wsmod.restore(ws, course, 5)
    assert path.read_text() == after


def test_restore_does_not_clobber_other_modules_later_work(course, ws):
    path = ws.file(TENSOR)
    fill_stub(path, "add_backward", "return grad, grad")
    wsmod.reset(ws, course, 5)  # backup holds 05 written, 01 still stubs
    fill_stub(path, "add", SOLUTIONS["add"])  # module 01 written after the backup
    wsmod.restore(ws, course, 5)
    text = path.read_text()
    assert "return grad, grad" in text and SOLUTIONS["add"] in text


def test_reset_with_markers_removed_rebuilds_and_keeps_backup(course, ws):
    path = ws.file(TENSOR)
    fill_stub(path, "mul", SOLUTIONS["mul"])
    mangled = path.read_text().replace("# BEGIN SOLUTION 05\n", "")
    path.write_text(mangled)
    done = wsmod.reset(ws, course, 1)
    text = path.read_text()
    assert done.notes and "did not match" in done.notes[0]
    assert (done.backup / TENSOR).read_text() == mangled
    assert "implement add" in text and "implement mul" in text
    compile(text, TENSOR, "exec")


def test_reset_restores_a_deleted_file(course, ws):
    ws.file(ACT).unlink()
    done = wsmod.reset(ws, course, 2)
    assert ws.file(ACT).exists() and ACT in done.changed


def test_restore_without_backup_is_a_clear_error(course, ws):
    with pytest.raises(WorkspaceError, match="no backup of module 02"):
        wsmod.restore(ws, course, 2)


def test_stubs_left(course, ws):
    assert wsmod.stubs_left(ws, course, 1) == (2, 2)
    fill_stub(ws.file(TENSOR), "mul", SOLUTIONS["mul"])
    assert wsmod.stubs_left(ws, course, 1) == (1, 2)


def test_sync_adds_new_files_and_refreshes_only_untouched_ones(course, ws):
    (course.root / "tinytorch/core/layers.py").write_text(
        "def linear(x):\n    # BEGIN SOLUTION 03\n    return x\n    # END SOLUTION\n")
    (course.root / "tinytorch/__init__.py").write_text(
        course.read("tinytorch/__init__.py") + "VERSION = 2\n")
    fill_stub(ws.file(ACT), "relu", SOLUTIONS["relu"])
    (course.root / ACT).write_text(course.read(ACT) + "\n# a reference change\n")
    mine = ws.file(ACT).read_text()

    written = wsmod.sync(ws, course)
    assert sorted(written) == ["tinytorch/__init__.py", "tinytorch/core/layers.py"]
    assert "implement linear" in ws.file("tinytorch/core/layers.py").read_text()
    assert "VERSION = 2" in ws.file("tinytorch/__init__.py").read_text()
    assert ws.file(ACT).read_text() == mine  # the learner's file is never replaced


def test_atomic_write_leaves_no_temp_files(tmp_path):
    target = tmp_path / "p.json"
    wsmod.atomic_write(target, "{}")
    wsmod.atomic_write(target, '{"a": 1}')
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["p.json"]


@pytest.mark.parametrize("damage", [
    lambda p: p.unlink(),
    lambda p: p.write_text('{"schema": 1, "modules": {"01": '),  # cut off mid-write
    lambda p: p.write_text("[]"),
    lambda p: p.write_text('{"schema": 1, "modules": {"01": {"last_test": 3}}}'),
    lambda p: p.write_bytes(b"\xff\xfe\x00garbage"),
])
def test_corrupt_progress_is_rebuilt_from_test_results(course, ws, damage):
    fill_stub(ws.file(TENSOR), "add", SOLUTIONS["add"])
    fill_stub(ws.file(TENSOR), "mul", SOLUTIONS["mul"])
    damage(ws.progress_path)
    data, note = learner.open_progress(ws, course)
    assert note and "rebuilt it from test results" in note
    assert progress.completed(data, 1) and not progress.completed(data, 2)
    assert data["modules"]["01"]["last_test"] == {**data["modules"]["01"]["last_test"],
                                                  "passed": 3, "total": 3}
    assert progress.load(ws.progress_path) == data  # the rebuilt file is valid and saved


def test_fully_stubbed_reference_package_still_imports(tmp_path):
    """Every region of the real package stubbed: `import tinytorch` must still work.

    Regions hold function bodies only, and nothing at import time may call one; otherwise a
    learner's fresh workspace could not even be imported, and no test could point at the stub.
    """
    import subprocess
    import sys

    from tito.grading import grading_env

    ws = wsmod.create(tmp_path / "ws", Course.current(), from_module=1)
    proc = subprocess.run([sys.executable, "-c", "import tinytorch; print(tinytorch.__file__)"],
                          cwd=ws.root, env=grading_env(ws.root), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(ws.package / "__init__.py")
