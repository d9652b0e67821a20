"""Solution regions: find them in a source file, and replace their bodies with stubs.

The reference implementation marks the code a learner must write::

    def relu(x):
        # BEGIN SOLUTION
        return Tensor(np.maximum(x.data, 0))
        # END SOLUTION

A region belongs to the module that owns the file (see ``tito/registry.py``) unless its BEGIN
line names another one: ``# BEGIN SOLUTION 05``. The indentation of the BEGIN line is the
indentation of the body, and the region sits inside a function or method body.

Stubbing keeps the two marker lines and replaces what lies between them with one line::

    def relu(x):
        # BEGIN SOLUTION
        raise NotImplementedError("Module 02 (activations): implement relu -- see modules/02_activations/README.md")
        # END SOLUTION

so the learner sees where to write, and tito can later put a stub back (``tito module reset``)
or check that no solution survived (``tito release``).

Markers are found with :mod:`tokenize`, so the text ``# BEGIN SOLUTION`` inside a string or a
docstring is not a marker. Malformed regions (unclosed, nested, an END without a BEGIN, an
unknown module tag, a region outside any function) raise :class:`RegionError` naming the line.
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from dataclasses import dataclass
from typing import Callable, Iterable

# "# BEGIN SOLUTION", "# BEGIN SOLUTION 05", "# END SOLUTION"; the tail is checked separately so
# that a typo such as "# BEGIN SOLUTION five" is an error rather than silently not a marker.
_MARKER = re.compile(r"#\s*(BEGIN|END)\s+SOLUTION\b(.*)$")
_STUB_PREFIX = "raise NotImplementedError("


class RegionError(ValueError):
    """A malformed solution region; the message names the file and the line."""

    def __init__(self, path: str, line: int, problem: str):
        self.path, self.line, self.problem = path, line, problem
        super().__init__(f"{path}:{line}: {problem}")


@dataclass(frozen=True)
class Region:
    """One solution region. Line numbers are 1-based, as in tracebacks and editors."""

    module: int  # the module whose work this is
    begin: int  # line of ``# BEGIN SOLUTION``
    end: int  # line of ``# END SOLUTION``
    indent: str  # indentation of the markers, which is the indentation of the body
    qualname: str | None  # enclosing function, e.g. "Add.backward"; None if not known
    tagged: bool  # True when the BEGIN line named its module

    def body(self, lines: list[str]) -> list[str]:
        """The body's lines (between the markers) out of ``source.splitlines(keepends=True)``."""
        return lines[self.begin:self.end - 1]

    def is_stub(self, lines: list[str]) -> bool:
        """True when the body is a single ``raise NotImplementedError(...)`` line."""
        body = [ln for ln in self.body(lines) if ln.strip()]
        return len(body) == 1 and body[0].strip().startswith(_STUB_PREFIX)


# --------------------------------------------------------------------------- finding markers


def _marker_lines(source: str) -> list[tuple[int, str, str]]:
    """(line, kind, tail) for each comment line that looks like a marker.

    Only comments alone on their line count. Falls back to a plain line scan when the file
    does not tokenize (a learner's half-written file), which is right for every sane file.
    """
    found = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        for i, line in enumerate(source.splitlines(), start=1):
            m = _MARKER.match(line.strip())
            if m:
                found.append((i, m.group(1), m.group(2)))
        return found
    for tok in tokens:
        if tok.type != tokenize.COMMENT:
            continue
        if tok.line[:tok.start[1]].strip():  # code before the comment on the same line
            continue
        m = _MARKER.match(tok.string)
        if m:
            found.append((tok.start[0], m.group(1), m.group(2)))
    return found


def _tag(tail: str, path: str, line: int) -> int | None:
    tail = tail.strip()
    if not tail:
        return None
    if not re.fullmatch(r"\d{1,2}", tail):
        raise RegionError(path, line, f"unreadable module tag {tail!r}: write "
                                      "'# BEGIN SOLUTION' or '# BEGIN SOLUTION 05'")
    return int(tail)


# --------------------------------------------------------------------------- enclosing names


def _scopes(tree: ast.AST) -> list[tuple[int, int, str, bool]]:
    """(def line, last line, qualname, is_function) of every def and class, nested too."""
    out = []

    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}.{child.name}" if prefix else child.name
                out.append((child.lineno, child.end_lineno, name,
                            not isinstance(child, ast.ClassDef)))
                walk(child, name)
            else:
                walk(child, prefix)

    walk(tree, "")
    return out


def _enclosing(scopes, line: int) -> tuple[str | None, bool]:
    """Innermost def/class around ``line``: (qualname, is_function); (None, False) if none."""
    best = None
    for start, end, name, is_func in scopes:
        if start < line <= end and (best is None or start >= best[0]):
            best = (start, end, name, is_func)
    return (best[2], best[3]) if best else (None, False)


# --------------------------------------------------------------------------- parsing


def parse_regions(source: str, owner: int | None = None, path: str = "<source>", *,
                  known_modules: Iterable[int] | None = None,
                  require_function: bool = True) -> list[Region]:
    """The solution regions of ``source``, in file order.

    Args:
        owner: the module that owns the file; untagged regions belong to it.
        path: used in error messages only.
        known_modules: module numbers a tag may name (default: any of 1..99).
        require_function: a region must lie inside a function body (true for package files,
            where a stub at class or module level would break ``import tinytorch``).

    Raises:
        RegionError: unclosed or nested regions, an END without a BEGIN, an unknown tag, an
            untagged region in a file no module owns, a body indented less than its markers,
            or a region outside a function.
    """
    lines = source.splitlines()
    known = set(known_modules) if known_modules is not None else None
    regions_raw = []
    open_at = None  # (line, indent, module, tagged)
    for line_no, kind, tail in _marker_lines(source):
        indent = re.match(r"\s*", lines[line_no - 1]).group(0)
        if kind == "BEGIN":
            if open_at is not None:
                raise RegionError(path, line_no, f"BEGIN SOLUTION inside the region opened at "
                                                 f"line {open_at[0]}: regions cannot nest (add "
                                                 "the missing END SOLUTION)")
            tag = _tag(tail, path, line_no)
            module = tag if tag is not None else owner
            if module is None:
                raise RegionError(path, line_no, "untagged region in a file no module owns: "
                                                 "tag it ('# BEGIN SOLUTION 05') or list the "
                                                 "file in tito/registry.py")
            if known is not None and module not in known:
                raise RegionError(path, line_no, f"region names module {module:02d}, which is "
                                                 "not in the registry")
            open_at = (line_no, indent, module, tag is not None)
        else:
            if open_at is None:
                raise RegionError(path, line_no, "END SOLUTION without a BEGIN SOLUTION above it")
            end_tag = _tag(tail, path, line_no)
            if end_tag is not None and end_tag != open_at[2]:
                raise RegionError(path, line_no, f"END SOLUTION {end_tag:02d} closes a region of "
                                                 f"module {open_at[2]:02d} (line {open_at[0]})")
            if indent != open_at[1]:
                raise RegionError(path, line_no, f"END SOLUTION is indented differently from its "
                                                 f"BEGIN SOLUTION at line {open_at[0]}")
            for i in range(open_at[0] + 1, line_no):
                text = lines[i - 1]
                if text.strip() and not text.startswith(open_at[1]):
                    raise RegionError(path, i, f"line inside the region opened at line "
                                               f"{open_at[0]} is indented less than its markers")
            regions_raw.append((open_at[2], open_at[0], line_no, open_at[1], open_at[3]))
            open_at = None
    if open_at is not None:
        raise RegionError(path, open_at[0], "BEGIN SOLUTION is never closed (add '# END "
                                            "SOLUTION' at the same indentation)")
    if not regions_raw:
        return []

    try:
        scopes = _scopes(ast.parse(source))
    except SyntaxError:
        scopes = None  # a learner's broken file: names unknown, regions still usable
    regions = []
    for module, begin, end, indent, tagged in regions_raw:
        qualname = None
        if scopes is not None:
            qualname, in_function = _enclosing(scopes, begin)
            if require_function and not in_function:
                where = f"the body of class {qualname}" if qualname else "module level"
                raise RegionError(path, begin, f"solution region at {where}: regions must lie "
                                               "inside a function or method body")
        regions.append(Region(module, begin, end, indent, qualname, tagged))
    return regions


# --------------------------------------------------------------------------- stubbing


def _default_describe(module: int) -> tuple[str, str]:
    """("Module 05 (autograd)", "modules/05_autograd/README.md") from the registry."""
    from tito import registry

    try:
        m = registry.get(module)
    except KeyError:
        return f"Module {module:02d}", "the course guide"
    return f"Module {m.key} ({m.slug})", f"modules/{m.dirname}/README.md"


def stub_line(region: Region, describe: Callable[[int], tuple[str, str]] = _default_describe
              ) -> str:
    """The one line that replaces a region's body (with its newline)."""
    label, guide = describe(region.module)
    message = f"{label}: implement {region.qualname or 'this part'} -- see {guide}"
    # a JSON string is a valid Python string literal, double-quoted as the style prefers
    return f"{region.indent}{_STUB_PREFIX}{json.dumps(message, ensure_ascii=False)})\n"


def replace_bodies(source: str, regions: list[Region], bodies: dict[int, list[str]]) -> str:
    """``source`` with the body of ``regions[i]`` replaced by ``bodies[i]`` (lines with ends).

    Regions not in ``bodies`` keep theirs. Markers and everything outside regions stay as is.
    """
    lines = source.splitlines(keepends=True)
    out, pos = [], 0
    for i, r in enumerate(regions):
        out.extend(lines[pos:r.begin])  # up to and including the BEGIN line
        body = bodies.get(i)
        out.extend(r.body(lines) if body is None else body)
        pos = r.end - 1  # the END line comes next
    out.extend(lines[pos:])
    return "".join(out)


def stub_source(source: str, modules: Callable[[int], bool] | Iterable[int] | None = None, *,
                owner: int | None = None, path: str = "<source>",
                require_function: bool = True,
                describe: Callable[[int], tuple[str, str]] = _default_describe) -> str:
    """``source`` with the regions of the selected modules stubbed.

    Args:
        modules: which modules to stub: a set of numbers, a predicate, or None for all.
        owner, path, require_function: as in :func:`parse_regions`.

    Raises:
        RegionError: malformed regions, or a result that is not valid Python.
    """
    if modules is None:
        selected = lambda m: True  # noqa: E731
    elif callable(modules):
        selected = modules
    else:
        wanted = set(modules)
        selected = wanted.__contains__
    regions = parse_regions(source, owner, path, require_function=require_function)
    bodies = {i: [stub_line(r, describe)] for i, r in enumerate(regions) if selected(r.module)}
    if not bodies:
        return source
    out = replace_bodies(source, regions, bodies)
    try:
        ast.parse(out)
    except SyntaxError as e:
        raise RegionError(path, e.lineno or 0, f"stubbed file is not valid Python: {e.msg}") from e
    return out


def surviving_solutions(source: str, owner: int | None = None, path: str = "<source>",
                        require_function: bool = False) -> list[Region]:
    """Regions whose body is not a stub (what a student release must not contain)."""
    regions = parse_regions(source, owner, path, require_function=require_function)
    lines = source.splitlines(keepends=True)
    return [r for r in regions if not r.is_stub(lines)]
