"""``tito update``: bring in the new course (modules, fixed tests and guides), keep the learner's work.

The course is a git clone; the learner's work lives in the workspace (ignored by git), so
updating is a fast-forward pull followed by a workspace sync:

1. **backup**: every workspace file tito might touch, and the progress, are copied into
   ``.tito/backups/<time>_update/`` before anything changes;
2. **pull**: ``git pull --ff-only`` in the course folder. Refused, with the list, when files
   of the course itself were edited (they would be the learner's too, and a merge could lose
   them);
3. **sync**: files new in the package are added to the workspace; files the learner never
   edited are refreshed; every file the learner edited stays exactly as it is
   (``workspace.sync``);
4. **summary**: what changed between the old and the new commit, in the learner's terms: new
   modules, changed tests, guides, labs, milestones, tito itself.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tito import workspace as wsmod
from tito.course import Course
from tito.workspace import Workspace


class UpdateError(Exception):
    """The update cannot go on; the message says why and what to do."""


@dataclass
class Update:
    backup: Path | None
    old: str | None = None  # commits before and after the pull (None: not a git clone)
    new: str | None = None
    pulled: str = ""  # git's own words
    changes: dict[str, list[str]] = field(default_factory=dict)  # kind -> files
    new_modules: list[str] = field(default_factory=list)
    synced: list[str] = field(default_factory=list)  # workspace files added or refreshed


def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise UpdateError(f"git {' '.join(args)} failed: {(proc.stderr or proc.stdout).strip()}")
    return proc


def is_git_clone(root: Path) -> bool:
    try:
        return _git(root, "rev-parse", "--is-inside-work-tree", check=False).stdout.strip() \
            == "true"
    except FileNotFoundError:  # no git on this machine
        return False


def local_edits(root: Path) -> list[str]:
    """Course files (tracked by git) edited in this clone: a pull could clash with them."""
    out = _git(root, "status", "--porcelain", "--untracked-files=no").stdout
    return [line[3:] for line in out.splitlines() if line.strip()]


def backup_workspace(ws: Workspace) -> Path:
    """Copy the whole package and the progress into a new ``backups/<time>_update`` folder."""
    rels = [p.relative_to(ws.root).as_posix() for p in sorted(ws.package.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts]
    rels += [p.relative_to(ws.root).as_posix() for p in (
        ws.progress_path, ws.meta / "workspace.json", ws.meta / "manifest.json") if p.is_file()]
    return wsmod._copy_to_backup(ws, rels, "update", "before tito update")


KINDS = (  # (kind, test on the changed path), first match wins
    ("tests", lambda p: p.startswith("modules/") and "/tests/" in p),
    ("guides", lambda p: p.startswith("modules/") and p.endswith("README.md")),
    ("labs", lambda p: p.startswith("modules/") and p.endswith("lab.py")),
    ("package (reference tinytorch)", lambda p: p.startswith("tinytorch/")),
    ("milestones", lambda p: p.startswith("milestones/")),
    ("tito", lambda p: p.startswith("tito/")),
)


def classify(paths: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in paths:
        kind = next((k for k, test in KINDS if test(p)), "other")
        out.setdefault(kind, []).append(p)
    return out


def update(course: Course, ws: Workspace) -> Update:
    """Back up, pull, sync; see the module docstring. Raises :class:`UpdateError`."""
    root = course.root
    git = is_git_clone(root)
    if git:
        edited = local_edits(root)
        if edited:
            raise UpdateError(
                "these course files were edited in this folder, and an update could clash "
                "with them: " + ", ".join(edited) + ". Copy your changes aside (your "
                "workspace is safe: it is not part of the course), then undo them with "
                "`git checkout -- FILE` and run tito update again.")
    done = Update(backup_workspace(ws) if ws.exists() else None)
    if git:
        done.old = _git(root, "rev-parse", "HEAD").stdout.strip()
        upstream = _git(root, "rev-parse", "--abbrev-ref", "@{u}", check=False)
        if upstream.returncode != 0:
            done.pulled = "this clone follows no remote branch: nothing to pull"
        else:
            done.pulled = _git(root, "pull", "--ff-only").stdout.strip()
        done.new = _git(root, "rev-parse", "HEAD").stdout.strip()
        if done.new != done.old:
            status = _git(root, "diff", "--name-status", done.old, done.new).stdout
            paths = [line.split("\t")[-1] for line in status.splitlines() if line.strip()]
            done.changes = classify(paths)
            before = _git(root, "ls-tree", "--name-only", done.old, "modules/").stdout.split()
            after = _git(root, "ls-tree", "--name-only", done.new, "modules/").stdout.split()
            done.new_modules = [Path(p).name for p in after if p not in before]
    if ws.exists():
        done.synced = wsmod.sync(ws, Course(root))  # a fresh Course: the files changed
    return done
