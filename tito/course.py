"""A course checkout: the reference package, the module folders and the milestones at one root.

Everything tito derives (workspaces, releases, test runs) starts from a :class:`Course`.
``Course.current()`` is this repository (or ``$TITO_REPO_ROOT``); tito's own tests build a
small synthetic course in a temporary folder and pass it explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from tito import registry
from tito.regions import Region, parse_regions, stub_source

PACKAGE = "tinytorch"
# never copied into a workspace or a release
JUNK_DIRS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".hypothesis", ".mypy_cache"}
JUNK_SUFFIXES = (".pyc", ".pyo")


def is_junk(path: Path) -> bool:
    return path.name in JUNK_DIRS or path.name.endswith(JUNK_SUFFIXES) or path.name == ".DS_Store"


@dataclass(frozen=True, eq=False)
class Course:
    root: Path
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def current(cls) -> "Course":
        return cls(registry.repo_root())

    # ----------------------------------------------------------------- paths

    @property
    def reference(self) -> Path:
        """The reference package, ``<root>/tinytorch``."""
        return self.root / PACKAGE

    def module_dir(self, m: registry.Module) -> Path:
        return self.root / "modules" / m.dirname

    def written(self, m: registry.Module) -> bool:
        """The module is written in this course: listed as available and its folder exists.

        A module whose folder is missing (a course trimmed by an instructor, tito's synthetic
        test course) is "coming", as one the registry marks unavailable.
        """
        return m.available and self.module_dir(m).is_dir()

    def tests_dir(self, m: registry.Module) -> Path:
        return self.module_dir(m) / "tests"

    def guide(self, m: registry.Module) -> Path:
        return self.module_dir(m) / "README.md"

    def lab(self, m: registry.Module) -> Path:
        return self.module_dir(m) / "lab.py"

    def has_tests(self, m: registry.Module) -> bool:
        """True when the module's folder holds at least one ``test_*.py``."""
        d = self.tests_dir(m)
        return d.is_dir() and any(d.rglob("test_*.py"))

    def module_of_test(self, path: str | Path) -> int | None:
        """The module whose ``tests/`` folder holds ``path``, if any."""
        try:
            rel = Path(path).resolve().relative_to((self.root / "modules").resolve())
        except ValueError:
            return None
        head = rel.parts[0] if rel.parts else ""
        number = head.split("_")[0]
        return int(number) if number.isdigit() else None

    # ----------------------------------------------------------------- package files

    def package_files(self) -> list[str]:
        """Every file of the reference package, as paths relative to the root (posix)."""
        out = []
        for p in sorted(self.reference.rglob("*")):
            if p.is_file() and not any(is_junk(q) for q in (p, *p.relative_to(self.root).parents)):
                out.append(p.relative_to(self.root).as_posix())
        return out

    def read(self, rel: str) -> str:
        return (self.root / rel).read_text(encoding="utf-8")

    def owner(self, rel: str) -> int | None:
        m = registry.owner_of(rel)
        return m.number if m else None

    def regions(self, rel: str) -> list[Region]:
        """The solution regions of one reference file (parsed once, then cached)."""
        key = ("regions", rel)
        if key not in self._cache:
            if not rel.endswith(".py"):
                self._cache[key] = []
            else:
                src = self.read(rel)
                self._cache[key] = (parse_regions(src, self.owner(rel), rel,
                                                  known_modules=self.module_numbers)
                                    if "SOLUTION" in src else [])
        return self._cache[key]

    @cached_property
    def module_numbers(self) -> set[int]:
        return {m.number for m in registry.MODULES}

    def files_of(self, number: int) -> list[str]:
        """Files holding module ``number``'s work: the ones it owns, and any with its regions."""
        m = registry.get(number)
        owned = [f for f in m.files if (self.root / f).is_file()]
        tagged = [f for f in self.package_files()
                  if f not in owned and any(r.module == number for r in self.regions(f))]
        return owned + tagged

    def render(self, rel: str, stubbed: set[int]) -> bytes:
        """A reference file as a workspace holds it: regions of ``stubbed`` modules stubbed."""
        data = (self.root / rel).read_bytes()
        if not rel.endswith(".py") or not any(r.module in stubbed for r in self.regions(rel)):
            return data
        # the same file with the same regions stubbed renders the same: a course that makes
        # many workspaces (the course-order check makes 21) re-parses each file once
        key = ("render", rel, data, frozenset(r.module for r in self.regions(rel)) & stubbed)
        if key not in self._cache:
            src = data.decode("utf-8")
            self._cache[key] = stub_source(src, stubbed, owner=self.owner(rel),
                                           path=rel).encode("utf-8")
        return self._cache[key]
