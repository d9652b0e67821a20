"""``tito release DIR``: the student copy of the course, without the reference solutions.

The whole repository is copied except version control, workspaces, run outputs and caches;
every solution region in every Python file becomes a stub (the markers stay, so students see
where to write), and instructor-only files are blanked. Then the copy is checked: every
region's body is a stub and every Python file still parses. A release that fails the check is
reported as such; nothing is ever written into an existing, non-empty folder.
"""

from __future__ import annotations

import ast
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tito import registry
from tito.course import Course, is_junk
from tito.regions import RegionError, stub_source, surviving_solutions

# version control, outputs, and what needs the reference solutions to pass: the framework-wide
# tests and CI (instructors keep them; students are graded by the module tests through tito)
EXCLUDED_TOP = {".git", "workspace", "runs", "build", "dist", ".benchmarks", "tests", ".ci"}

STUDENT_README = """# TinyTorch: the course (student copy)

You will build a deep-learning framework from scratch on NumPy, one module at a time. This copy
has every reference solution replaced by a stub that tells you which module and guide it
belongs to.

## Start

```bash
pip install -e ".[course]"
tito setup                 # checks this machine and creates ./workspace
tito module list           # the modules and the milestones they unlock
tito module start 01       # which file to edit, the guide, the lab
tito module test 01        # grades the code in your workspace, first failure explained
tito module lab 01         # the module's experiments, on your code
tito module complete 01    # records it and re-checks earlier modules
tito resume                # where you left off: the failing test and the line to edit
tito milestone run 1       # once unlocked: a historical model trained on your own code
```

Each module lives in `modules/NN_slug/`: the guide (`README.md`), the lab (`lab.py`, run by
`tito module lab N`, or `--notebook` after `pip install -e ".[notebook]"`) and the graded tests. `tito module reset N` restores a
module's stubs after backing up your work; `tito module restore N` brings it back.

There are no reference solutions here, so `--reference` is refused: everything runs on the
tinytorch in your workspace.
"""
# files whose content would give solutions away; replaced by the text given
INSTRUCTOR_ONLY = {
    "tito/mutations_catalog.py": (
        '"""Planted bugs for the mutation check: instructor-only, removed from this release."""\n'
        "\nCATALOG: dict = {}\n"
    ),
    "tito/mutations_independent.py": (  # its snippets are pieces of the solutions too
        '"""Independent planted bugs: instructor-only, removed from this release."""\n'
        "\nCATALOG_INDEPENDENT: dict = {}\n"
    ),
}


@dataclass
class ReleaseReport:
    dest: Path
    files: int = 0
    stubbed: dict[str, int] = field(default_factory=dict)  # file -> regions stubbed
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def regions(self) -> int:
        return sum(self.stubbed.values())


def _ignore(root: Path):
    def ignore(folder: str, names: list[str]) -> set[str]:
        here = Path(folder)
        out = {n for n in names if is_junk(here / n) or n.endswith(".egg-info")}
        if here.resolve() == root.resolve():
            out |= {n for n in names if n in EXCLUDED_TOP}
        # any learner workspace, wherever it sits, and any virtual environment (a `.venv` in
        # the course folder is common; its site-packages are not the course's to ship)
        out |= {n for n in names if (here / n / ".tito" / "workspace.json").is_file()
                or (here / n / "pyvenv.cfg").is_file()}
        return out
    return ignore


def owner_of(rel: str) -> int | None:
    """The module a file's untagged regions belong to: the registry's, or its module folder's."""
    m = registry.owner_of(rel)
    if m:
        return m.number
    hit = re.match(r"modules/(\d\d)_", rel)
    return int(hit.group(1)) if hit else None


def make_release(course: Course, dest: Path) -> ReleaseReport:
    dest = Path(dest).absolute()
    src = course.root.resolve()
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} exists and is not empty; give a new folder")
    if dest.resolve() == src or src in dest.resolve().parents:
        raise ValueError(f"{dest} is inside the course folder {src}; give a folder outside it")
    if dest.exists():
        dest.rmdir()
    shutil.copytree(src, dest, ignore=_ignore(src), symlinks=True)
    report = ReleaseReport(dest)
    for path in sorted(dest.rglob("*.py")):
        rel = path.relative_to(dest).as_posix()
        report.files += 1
        if rel in INSTRUCTOR_ONLY:
            path.write_text(INSTRUCTOR_ONLY[rel], encoding="utf-8")
            continue
        text = path.read_text(encoding="utf-8")
        if "SOLUTION" not in text:
            continue
        package = rel.startswith("tinytorch/")
        try:
            out = stub_source(text, None, owner=owner_of(rel), path=rel, require_function=package)
        except RegionError as e:
            report.problems.append(f"cannot stub: {e}")
            continue
        n = len(surviving_solutions(text, owner_of(rel), rel, require_function=package))
        if out != text:
            path.write_text(out, encoding="utf-8")
        if n:
            report.stubbed[rel] = n
    (dest / "README.md").write_text(STUDENT_README, encoding="utf-8")
    (dest / ".tito-student-copy").write_text(
        "Made by `tito release`: no reference solutions; tito refuses --reference here.\n",
        encoding="utf-8")
    report.problems += verify(dest)
    return report


def verify(root: Path) -> list[str]:
    """Problems in a release: surviving solution bodies, unparsable files, unreadable markers."""
    problems = []
    for path in sorted(Path(root).rglob("*.py")):
        if any(is_junk(p) for p in path.relative_to(root).parents):
            continue
        rel = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        try:
            ast.parse(text)
        except SyntaxError as e:
            problems.append(f"{rel}:{e.lineno}: does not parse ({e.msg})")
        if "SOLUTION" not in text:
            continue
        try:
            left = surviving_solutions(text, owner_of(rel), rel)
        except RegionError as e:
            problems.append(f"unreadable solution markers: {e}")
            continue
        problems += [f"{rel}:{r.begin}: solution of module {r.module:02d} survived" for r in left]
    return problems
