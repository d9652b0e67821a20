"""A learner's workspace: their own ``tinytorch``, generated from the reference.

Layout (default ``./workspace``; every command takes ``--workspace DIR``)::

    workspace/
    ├── tinytorch/             the learner's package: edit the stubs here
    └── .tito/
        ├── workspace.json     how it was made: first module stubbed, reference it came from
        ├── manifest.json      hash of each file as tito last wrote it (to spot the learner's edits)
        ├── progress.json      modules started, tested, completed (see tito/progress.py)
        └── backups/<time>_NN/ copies of module NN's files taken before tito changed them

The package is a copy of the reference where every solution region of the modules from
``from_module`` on is a stub; earlier modules keep the reference solution, so a learner may
start at any module (``--from 12``). Putting the workspace folder first on ``PYTHONPATH`` makes
``import tinytorch`` import this copy (see ``tito/grading.py``).

Rule: tito never overwrites a file a learner may have edited without first copying it into a
backup. ``reset`` and ``restore`` work region by region, so resetting module 05 puts back the
stubs of module 05's regions in ``core/tensor_ops.py`` and leaves the module 01 code the learner
wrote in the same file alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from tito import registry
from tito.course import PACKAGE, Course
from tito.regions import RegionError, parse_regions, replace_bodies, stub_line

DEFAULT = Path("workspace")
SCHEMA = 1


class WorkspaceError(Exception):
    """Something the learner can fix; the message says how."""


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write ``path`` so that a crash leaves either the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@dataclass
class Workspace:
    root: Path

    def __post_init__(self):
        self.root = Path(self.root).absolute()

    @property
    def package(self) -> Path:
        return self.root / PACKAGE

    @property
    def meta(self) -> Path:
        return self.root / ".tito"

    @property
    def progress_path(self) -> Path:
        return self.meta / "progress.json"

    @property
    def backups_dir(self) -> Path:
        return self.meta / "backups"

    def exists(self) -> bool:
        return (self.package / "__init__.py").is_file()

    def file(self, rel: str) -> Path:
        return self.root / rel

    # ----------------------------------------------------------------- metadata

    @property
    def info(self) -> dict:
        """``workspace.json``; ``from_module`` is None when the file was lost."""
        return _read_json(self.meta / "workspace.json") or {"from_module": None}

    @property
    def from_module(self) -> int:
        """First module whose regions started as stubs (1 when unknown)."""
        n = self.info.get("from_module")
        return n if isinstance(n, int) else 1

    def stubbed_modules(self) -> set[int]:
        """Modules whose regions a fresh copy of this workspace has stubbed."""
        return {m.number for m in registry.MODULES if m.number >= self.from_module}

    def _manifest(self) -> dict:
        return _read_json(self.meta / "manifest.json") or {}

    def _save_manifest(self, manifest: dict) -> None:
        atomic_write(self.meta / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True))


# --------------------------------------------------------------------------- creating


def create(root: Path, course: Course, from_module: int = 1) -> Workspace:
    """Make a new workspace at ``root``: the reference package, regions of ``from_module``+ stubbed.

    Refuses to touch an existing workspace or a folder that is not empty. The package is built
    in a temporary folder and moved into place, so an interrupted run leaves no half workspace.
    """
    ws = Workspace(root)
    if ws.exists():
        raise WorkspaceError(f"a workspace already exists at {ws.root}; use it, or pass "
                             "--workspace with another folder")
    if ws.root.exists() and any(p.name != ".tito" for p in ws.root.iterdir()):
        raise WorkspaceError(f"{ws.root} exists and is not empty; pick an empty or new folder "
                             "with --workspace")
    if not (1 <= from_module <= len(registry.MODULES) + 1):
        raise WorkspaceError(f"--from must be between 1 and {len(registry.MODULES) + 1}")
    if not (course.reference / "__init__.py").is_file():
        raise WorkspaceError(f"no reference package at {course.reference}")
    ws.root.mkdir(parents=True, exist_ok=True)
    ws.meta.mkdir(exist_ok=True)
    stubbed = {m.number for m in registry.MODULES if m.number >= from_module}
    manifest = {}
    staging = Path(tempfile.mkdtemp(prefix=".create-", dir=ws.meta))
    try:
        for rel in course.package_files():
            data = course.render(rel, stubbed)
            dest = staging / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            manifest[rel] = _sha(data)
        os.replace(staging / PACKAGE, ws.package)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    info = {"schema": SCHEMA, "from_module": from_module, "reference": str(course.root),
            "created": datetime.now().isoformat(timespec="seconds")}
    atomic_write(ws.meta / "workspace.json", json.dumps(info, indent=1))
    ws._save_manifest(manifest)
    return ws


def sync(ws: Workspace, course: Course) -> list[str]:
    """Bring in reference files the workspace lacks, and refresh the ones the learner never edited.

    The course grows while learners work (a module lands, a face re-exports a new class): a
    file missing from the workspace is added; a file still exactly as tito wrote it is
    regenerated from the current reference (after a backup). Files the learner changed are
    left alone. Returns the files written.
    """
    manifest, written, backed_up = ws._manifest(), [], []
    stubbed = ws.stubbed_modules()
    for rel in course.package_files():
        target = ws.file(rel)
        fresh = course.render(rel, stubbed)
        if target.exists():
            current = target.read_bytes()
            if current == fresh:
                manifest[rel] = _sha(fresh)
                continue
            if manifest.get(rel) != _sha(current):
                continue  # the learner's file: never replaced behind their back
            backed_up.append(rel)
        atomic_write(target, fresh)
        manifest[rel] = _sha(fresh)
        written.append(rel)
    if backed_up:
        _copy_to_backup(ws, backed_up, "sync", "refreshed from the reference")
    ws._save_manifest(manifest)
    return written


# --------------------------------------------------------------------------- backups


def _stamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S-%f")


def _copy_to_backup(ws: Workspace, rels: list[str], tag: str, reason: str) -> Path:
    """Copy the existing ``rels`` into ``backups/<time>_<tag>/`` (built aside, then renamed)."""
    ws.backups_dir.mkdir(parents=True, exist_ok=True)
    name = f"{_stamp()}_{tag}"
    while (ws.backups_dir / name).exists():  # two backups in the same microsecond
        time.sleep(0.001)
        name = f"{_stamp()}_{tag}"
    staging = Path(tempfile.mkdtemp(prefix=".backup-", dir=ws.backups_dir))
    saved = []
    for rel in rels:
        src = ws.file(rel)
        if src.is_file():
            dest = staging / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
            saved.append(rel)
    meta = {"tag": tag, "reason": reason, "files": saved,
            "created": datetime.now().isoformat(timespec="seconds")}
    (staging / "backup.json").write_text(json.dumps(meta, indent=1))
    final = ws.backups_dir / name
    os.replace(staging, final)
    return final


def backup(ws: Workspace, course: Course, number: int, reason: str) -> Path:
    """Copy the workspace files holding module ``number``'s work into a new backup folder."""
    return _copy_to_backup(ws, course.files_of(number), f"{number:02d}", reason)


def backups(ws: Workspace, number: int) -> list[Path]:
    """Backups of module ``number``, oldest first."""
    if not ws.backups_dir.is_dir():
        return []
    suffix = f"_{number:02d}"
    return sorted(p for p in ws.backups_dir.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and p.name.endswith(suffix))


# --------------------------------------------------------------------------- reset and restore


@dataclass
class Change:
    backup: Path
    changed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    source: Path | None = None  # for restore: the backup that was brought back


def _learner_regions(ws: Workspace, course: Course, rel: str, text: str):
    """The regions of a learner's file, or None when its markers no longer match the reference."""
    try:
        mine = parse_regions(text, course.owner(rel), rel, require_function=False)
    except RegionError:
        return None
    ref = course.regions(rel)
    if [r.module for r in mine] != [r.module for r in ref]:
        return None
    return mine


def reset(ws: Workspace, course: Course, number: int) -> Change:
    """Put back the stubs of module ``number``'s regions, after backing up its files.

    Code outside the regions, and other modules' regions in the same files, stay as they are.
    If a file's markers were edited away, the file is rebuilt from the reference layout with
    the learner's other regions carried over where they can be matched (the backup keeps the
    file as it was).
    """
    done = Change(backup(ws, course, number, f"before tito module reset {number}"))
    stubbed = ws.stubbed_modules()
    for rel in course.files_of(number):
        target, ref_regions = ws.file(rel), course.regions(rel)
        if not target.exists():
            atomic_write(target, course.render(rel, stubbed | {number}))
            done.changed.append(rel)
            done.notes.append(f"{rel} was missing: restored from the reference")
            continue
        if not ref_regions:
            continue
        text = target.read_text(encoding="utf-8")
        mine = _learner_regions(ws, course, rel, text)
        if mine is not None:
            # the reference knows the function's name; the learner's file, its indentation
            bodies = {i: [stub_line(replace(ref_regions[i], indent=r.indent))]
                      for i, r in enumerate(mine) if r.module == number}
            new = replace_bodies(text, mine, bodies)
        else:
            new = _rebuild(course, rel, text, number, stubbed)
            done.notes.append(f"{rel}: its SOLUTION markers did not match the reference, so it "
                              "was rebuilt from the reference layout (your version is in the "
                              "backup)")
        if new != text:
            atomic_write(target, new)
            done.changed.append(rel)
    return done


def _rebuild(course: Course, rel: str, text: str, number: int, stubbed: set[int]) -> str:
    """The reference file with module ``number`` stubbed and the learner's matching regions kept."""
    ref_text = course.read(rel)
    ref_regions = course.regions(rel)
    try:
        mine = parse_regions(text, course.owner(rel), rel, require_function=False)
    except RegionError:
        mine = []
    mine_lines = text.splitlines(keepends=True)
    by_module: dict[int, list] = {}
    for r in mine:
        by_module.setdefault(r.module, []).append(r)
    seen: dict[int, int] = {}
    bodies = {}
    for i, r in enumerate(ref_regions):
        k = seen.get(r.module, 0)
        seen[r.module] = k + 1
        learner = by_module.get(r.module, [])
        if r.module == number:
            bodies[i] = [stub_line(r)]
        elif k < len(learner):
            bodies[i] = learner[k].body(mine_lines)
        elif r.module in stubbed:
            bodies[i] = [stub_line(r)]
    return replace_bodies(ref_text, ref_regions, bodies)


def restore(ws: Workspace, course: Course, number: int) -> Change:
    """Bring back module ``number``'s newest backup, after backing up the current state.

    Region by region where the markers match (other modules' work in shared files is kept);
    whole files otherwise. Restoring twice in a row swaps back, since the state replaced by
    the first restore is itself the newest backup.
    """
    found = backups(ws, number)
    if not found:
        raise WorkspaceError(f"no backup of module {number:02d} in {ws.backups_dir}; backups are "
                             f"made by `tito module reset {number}`")
    source = found[-1]
    done = Change(backup(ws, course, number, f"before tito module restore {number}"),
                  source=source)
    meta = _read_json(source / "backup.json") or {}
    rels = meta.get("files") or [p.relative_to(source).as_posix() for p in source.rglob("*")
                                 if p.is_file() and p.name != "backup.json"]
    for rel in rels:
        saved_path, target = source / rel, ws.file(rel)
        if not saved_path.is_file():
            continue
        saved = saved_path.read_text(encoding="utf-8")
        if not target.exists():
            atomic_write(target, saved)
            done.changed.append(rel)
            continue
        current = target.read_text(encoding="utf-8")
        mine_now = _learner_regions(ws, course, rel, current)
        mine_then = _learner_regions(ws, course, rel, saved)
        if mine_now is not None and mine_then is not None and course.regions(rel):
            then_lines = saved.splitlines(keepends=True)
            bodies = {i: mine_then[i].body(then_lines)
                      for i, r in enumerate(mine_now) if r.module == number}
            new = replace_bodies(current, mine_now, bodies)
        else:
            new = saved
        if new != current:
            atomic_write(target, new)
            done.changed.append(rel)
    return done


# --------------------------------------------------------------------------- inspecting


def stubs_left(ws: Workspace, course: Course, number: int) -> tuple[int, int]:
    """(regions of module ``number`` still stubbed in the workspace, regions in total)."""
    left = total = 0
    for rel in course.files_of(number):
        ref = [r for r in course.regions(rel) if r.module == number]
        if not ref:
            continue
        total += len(ref)
        target = ws.file(rel)
        if not target.exists():
            left += len(ref)
            continue
        text = target.read_text(encoding="utf-8")
        mine = _learner_regions(ws, course, rel, text)
        if mine is None:
            continue  # markers edited away: cannot tell, count as written
        lines = text.splitlines(keepends=True)
        left += sum(r.module == number and r.is_stub(lines) for r in mine)
    return left, total


@dataclass(frozen=True)
class StubSite:
    """A stub still waiting in the workspace: where it is and whose work it is."""

    rel: str  # file, relative to the workspace root
    line: int  # the ``raise NotImplementedError`` line (1-based, as an editor shows it)
    module: int
    qualname: str

    def __str__(self) -> str:
        return f"{self.qualname} ({self.rel}:{self.line})"


def open_stubs(ws: Workspace, course: Course, up_to: int) -> list[StubSite]:
    """Every stub of modules 1..``up_to`` still open in the workspace, by module then file.

    A file whose markers were edited away counts as written (as in :func:`stubs_left`).
    """
    rels: list[str] = []
    for m in registry.MODULES:
        if m.number <= up_to:
            rels += [rel for rel in course.files_of(m.number) if rel not in rels]
    out = []
    for rel in rels:
        target = ws.file(rel)
        if not course.regions(rel) or not target.exists():
            continue
        text = target.read_text(encoding="utf-8")
        mine = _learner_regions(ws, course, rel, text)
        if mine is None:
            continue
        lines = text.splitlines(keepends=True)
        out += [StubSite(rel, r.begin + 1, r.module, r.qualname or "?") for r in mine
                if r.module <= up_to and r.is_stub(lines)]
    return sorted(out, key=lambda s: (s.module, rels.index(s.rel), s.line))


@dataclass(frozen=True)
class RegionPair:
    """One region of a module: the learner's body beside the reference's."""

    rel: str
    line: int  # the learner's BEGIN line
    qualname: str
    mine: list[str]
    reference: list[str]


def region_pairs(ws: Workspace, course: Course, number: int) -> list[RegionPair]:
    """Module ``number``'s regions, the learner's body and the reference's, file by file.

    Files whose markers no longer match the reference are left out (nothing to pair).
    """
    out = []
    for rel in course.files_of(number):
        ref = course.regions(rel)
        target = ws.file(rel)
        if not any(r.module == number for r in ref) or not target.exists():
            continue
        text = target.read_text(encoding="utf-8")
        mine = _learner_regions(ws, course, rel, text)
        if mine is None:
            continue
        lines, ref_lines = text.splitlines(keepends=True), course.read(rel).splitlines(True)
        out += [RegionPair(rel, r.begin, ref[i].qualname or "?", r.body(lines),
                           ref[i].body(ref_lines))
                for i, r in enumerate(mine) if r.module == number]
    return out
