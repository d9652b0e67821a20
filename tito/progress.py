"""The learner's progress, in ``workspace/.tito/progress.json``.

A small JSON file::

    {"schema": 1,
     "modules": {"01": {"started": "2025-11-29T10:02:11",
                        "completed": "2025-11-29T11:40:03",
                        "last_test": {"passed": 14, "total": 14, "at": "2025-11-29T11:40:01"}}}}

It is written atomically (a temporary file, then ``os.replace``), so a crash mid-write leaves
the previous version. If it is missing or unreadable anyway (deleted, edited by hand, cut off
by a full disk), :func:`load` raises :class:`ProgressError`; tito then keeps the bad file aside
and rebuilds the progress from test results (``tito/learner.py``) instead of crashing.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

from tito.workspace import atomic_write

SCHEMA = 1


class ProgressError(Exception):
    """progress.json is missing or not a progress file; ``reason`` says which."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def now() -> str:
    return datetime.now().isoformat(timespec="seconds")


def new() -> dict:
    return {"schema": SCHEMA, "modules": {}}


def _check(data) -> None:
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ProgressError("is not a tito progress file (schema)")
    modules = data.get("modules")
    if not isinstance(modules, dict):
        raise ProgressError("has no 'modules' table")
    for key, entry in modules.items():
        if not re.fullmatch(r"\d\d", str(key)) or not isinstance(entry, dict):
            raise ProgressError(f"has a bad entry {key!r}")
        for field in ("started", "completed", "regressed"):
            if entry.get(field) is not None and not isinstance(entry[field], str):
                raise ProgressError(f"module {key}: '{field}' is not a time")
        last = entry.get("last_test")
        if last is not None and not (isinstance(last, dict)
                                     and isinstance(last.get("passed"), int)
                                     and isinstance(last.get("total"), int)):
            raise ProgressError(f"module {key}: 'last_test' is malformed")


def load(path: Path) -> dict:
    """The progress at ``path``; raises :class:`ProgressError` if missing or corrupt."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProgressError("is missing") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ProgressError(f"cannot be read ({e})") from None
    try:
        data = json.loads(text)
    except ValueError as e:
        raise ProgressError(f"is not valid JSON ({e.args[0] if e.args else e})") from None
    _check(data)
    return data


def save(path: Path, data: dict) -> None:
    _check(data)
    atomic_write(Path(path), json.dumps(data, indent=1, sort_keys=True) + "\n")


def quarantine(path: Path) -> Path | None:
    """Move a corrupt progress file aside (kept for the curious), returning its new name."""
    path = Path(path)
    if not path.exists():
        return None
    aside = path.with_name(f"{path.name}.corrupt-{datetime.now().strftime('%Y%m%d-%H%M%S-%f')}")
    path.replace(aside)
    return aside


def entry(data: dict, number: int) -> dict:
    """The (mutable) record of one module, created empty when absent."""
    return data["modules"].setdefault(f"{number:02d}", {})


def completed(data: dict, number: int) -> bool:
    return bool(data["modules"].get(f"{number:02d}", {}).get("completed"))


def regressed(data: dict, number: int) -> bool:
    """Completed earlier, but its last test run failed (a later module broke it)."""
    return bool(data["modules"].get(f"{number:02d}", {}).get("regressed"))


def record_test(data: dict, number: int, passed: int, total: int) -> None:
    """Record a full test run of module ``number``; a completed module failing is marked
    ``regressed`` until its tests pass again."""
    e = entry(data, number)
    e.setdefault("started", now())
    e["last_test"] = {"passed": passed, "total": total, "at": now()}
    if e.get("completed") and passed < total:
        e["regressed"] = now()
    else:
        e.pop("regressed", None)
