"""``tito resume``: where the learner left off -- the module, its first failing test, the line to edit.

The module in progress is the first gradable module not completed (``learner.next_module``).
Its tests run on the workspace; the first failure points at a line:

* a stub still open (``NotImplementedError: ... implement Linear.forward``): the stub's line;
* any other failure: the deepest frame of the traceback inside the workspace's ``tinytorch``
  (where the learner's code went wrong), else the first stub left in the module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tito import registry
from tito import workspace as wsmod
from tito.course import Course
from tito.grading import TestResult
from tito.workspace import Workspace

# "tinytorch/core/layers.py:42: in forward" (pytest --tb=short), or an absolute path
_FRAME = re.compile(r"^\s*(?P<path>[^\s:][^:]*\.py):(?P<line>\d+)(?::|$)", re.M)


@dataclass
class Spot:
    path: Path  # the file to edit (absolute)
    line: int
    what: str  # "the stub of Linear.forward", "where the traceback ends"


def where_to_edit(ws: Workspace, course: Course, m: registry.Module,
                  failure: TestResult | None) -> Spot | None:
    """The line the learner should look at for ``failure`` (None: nothing to point at)."""
    stubs = wsmod.open_stubs(ws, course, m.number)
    if failure is not None and failure.stub:
        hit = next((s for s in stubs if s.qualname == failure.stub), None)
        if hit is not None:
            return Spot(ws.file(hit.rel), hit.line, f"the stub of {hit.qualname}")
    if failure is not None and failure.longrepr:
        package = ws.package.resolve()
        frames = []
        for match in _FRAME.finditer(failure.longrepr):
            p = Path(match["path"])
            p = (p if p.is_absolute() else ws.root / p).resolve()
            # only files with code the learner wrote: not helpers such as tinytorch/testing.py
            if package in p.parents and course.regions(p.relative_to(ws.root).as_posix()):
                frames.append((p, int(match["line"])))
        if frames:
            return Spot(*frames[-1], "where the failing test's traceback ends in your code")
    own = [s for s in stubs if s.module == m.number]
    if own:
        return Spot(ws.file(own[0].rel), own[0].line, f"the stub of {own[0].qualname}")
    pairs = wsmod.region_pairs(ws, course, m.number)
    if pairs:  # every region written, the answer wrong: the module's code, from the top
        return Spot(ws.file(pairs[0].rel), pairs[0].line + 1,
                    f"your code of module {m.key}, starting with {pairs[0].qualname}")
    return None


def editor_command(spot: Spot, editor: str) -> list[str]:
    """The command that opens ``spot`` in ``editor`` ($VISUAL or $EDITOR) at its line.

    ``+LINE FILE`` is understood by vi, vim, nano, emacs and most terminal editors; VS Code
    wants ``--goto FILE:LINE``.
    """
    import shlex

    cmd = shlex.split(editor)
    if Path(cmd[0]).name in ("code", "code-insiders", "codium"):
        return [*cmd, "--goto", f"{spot.path}:{spot.line}"]
    return [*cmd, f"+{spot.line}", str(spot.path)]
