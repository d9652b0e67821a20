"""The module guides' measured tables and figures, written from the labs' results, never by hand.

A lab names what the guide quotes: ``table(headers, rows, key="per-op")`` prints a table and
records it, ``lab.record("bwd-fwd", "1.93x")`` records one figure (tito/labkit.py). A run of
the lab writes them to ``$TINYTORCH_OUT/lab_results.json`` with the machine, date, load
average and mode. This module:

* ``--collect NN``: runs lab NN in full mode (``TINYTORCH_QUICK`` unset, a fresh process, a
  temporary output folder, the reference ``tinytorch``) and copies its results to
  ``modules/NN_slug/results/lab.json`` (committed);
* ``--write``: renders each named table into the guide between ``<!-- lab:KEY:start -->``
  and ``<!-- lab:KEY:end -->``, with a line saying when, where and by which command it was
  measured; a marker pair on one line holds a figure inline
  (``<!-- lab:bwd-fwd:start -->1.93x<!-- lab:bwd-fwd:end -->``);
* ``--check``: lists every marked table or figure that differs from its results file, and
  every hand-typed table left in a converted guide's "Systems analysis" section
  (``tests/test_guide_tables.py`` fails on any).

A Markdown table in "## Systems analysis" outside markers counts as hand-typed, unless the
line just above it is ``<!-- exact -->`` (numbers exact by construction: bytes of a shape,
FLOPs of a formula, a worked example). Command line::

    python -m tito.guide_tables --collect 14 15      # run the labs (minutes), save results
    python -m tito.guide_tables --write              # rewrite every guide with results
    python -m tito.guide_tables --check              # exit 1 on drift
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tito import registry

RESULTS = Path("results") / "lab.json"  # inside modules/NN_slug/
MARKER = re.compile(r"<!-- lab:([\w.-]+):start -->(.*?)<!-- lab:\1:end -->", re.DOTALL)
SECTION = "## Systems analysis"
EXACT = "<!-- exact -->"
# a table tito.readme_tables writes into a guide from its own results file (GUIDE_SECTIONS)
WRITTEN = re.compile(r"<!-- ([\w-]+)-table:start -->.*?<!-- \1-table:end -->", re.DOTALL)

__all__ = ["collect", "render_table", "render", "write", "check", "hand_typed_tables",
           "results_path"]


def results_path(m: registry.Module) -> Path:
    return m.path / RESULTS


def command(numbers) -> str:
    return "python -m tito.guide_tables --collect " + " ".join(f"{int(n):02d}" for n in numbers)


# --------------------------------------------------------------------------- collect


def collect(number, timeout: float = 1800) -> Path:
    """Run lab ``number`` in full mode and save its results into the module; the file written.

    The lab runs as a learner runs it (``python lab.py`` in a fresh process), on the reference
    package, with its plots in a temporary folder that is thrown away.
    """
    m = registry.get(number)
    with tempfile.TemporaryDirectory(prefix=f"lab{m.key}-") as tmp:
        out = Path(tmp) / "out"
        env = {k: v for k, v in os.environ.items() if k != "TINYTORCH_QUICK"}
        env.update(TINYTORCH_OUT=str(out), MPLBACKEND="Agg")
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, str(m.lab)], cwd=tmp, env=env, timeout=timeout)
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"{m.dirname}/lab.py failed (exit {proc.returncode})")
        src = out / "lab_results.json"
        if not src.is_file():
            raise FileNotFoundError(f"{m.dirname}/lab.py recorded nothing: name its tables "
                                    "with table(..., key=...) or lab.record(...)")
        data = json.loads(src.read_text())
    data.pop("pid", None)
    data.update(command=command([m.number]), seconds=round(seconds, 1))
    dest = results_path(m)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(data, indent=1) + "\n")
    return dest


# --------------------------------------------------------------------------- render


def measured_line(data: dict) -> str:
    """``Measured <date> by `<command>` ...``: when, where, how busy, which mode."""
    machine = data.get("machine", "").rsplit(" | ", 1)[0]  # its last field is the date
    load = data.get("load_average")
    busy = f", load average {load[0]:.1f} on {data.get('cores')} cores" if load else ""
    mode = "quick mode" if data.get("quick") else "full mode"
    return (f"Measured {data.get('date')} by `{data.get('command')}` ({mode}{busy}, "
            f"{data.get('threads') or 'default'} BLAS thread): {machine}.")


def render_table(t: dict) -> str:
    """Markdown, as labkit prints it, with a ``|`` inside a cell escaped (``max |diff|``)."""
    cell = lambda c: c.replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(map(cell, t["headers"])) + " |",
             "|" + "|".join("---:" for _ in t["headers"]) + "|"]
    lines += ["| " + " | ".join(map(cell, r)) + " |" for r in t["rows"]]
    return "\n".join(lines)


def _body(key: str, inline: bool, data: dict) -> str:
    tables, figures = data.get("tables", {}), data.get("figures", {})
    if inline:
        if key not in figures:
            raise KeyError(key)
        return figures[key]
    if key not in tables:
        raise KeyError(key)
    return f"\n{render_table(tables[key])}\n\n{measured_line(data)}\n"


def render(text: str, data: dict) -> tuple[str, list[str]]:
    """``text`` with every marked table and figure rewritten from ``data``; and the keys
    ``data`` lacks (those sections are left as they are)."""
    missing = []

    def sub(mt):
        key, old = mt.group(1), mt.group(2)
        try:
            new = _body(key, "\n" not in old, data)
        except KeyError:
            missing.append(key)
            return mt.group(0)
        return f"<!-- lab:{key}:start -->{new}<!-- lab:{key}:end -->"

    return MARKER.sub(sub, text), missing


def _guides():
    for m in registry.MODULES:
        if m.guide.is_file() and "<!-- lab:" in m.guide.read_text():
            yield m


def write() -> list[Path]:
    """Rewrite every guide's marked tables and figures from its results file; those changed."""
    changed = []
    for m in _guides():
        if not results_path(m).is_file():
            continue
        text = m.guide.read_text()
        new, _ = render(text, json.loads(results_path(m).read_text()))
        if new != text:
            m.guide.write_text(new)
            changed.append(m.guide)
    return changed


def hand_typed_tables(text: str) -> list[str]:
    """Table rows in the "Systems analysis" section outside lab markers (or the markers of a
    table tito.readme_tables writes) and not marked exact."""
    text = WRITTEN.sub("", MARKER.sub("", text))
    lines = text.splitlines()
    try:
        i = next(k for k, line in enumerate(lines) if line.strip() == SECTION)
    except StopIteration:
        return []
    found, fence, exact = [], False, False
    for line in lines[i + 1:]:
        if line.startswith("## "):
            break
        if line.startswith("```"):
            fence = not fence
            continue
        if fence:
            continue
        s = line.strip()
        if s.startswith("|"):
            if not exact:
                found.append(line)
        else:
            exact = s == EXACT
    return found


def check(modules=None) -> list[str]:
    """Every drift between a guide and its lab results, and every hand-typed table left in
    the guides of ``modules`` (numbers; default: those with a results file)."""
    problems = []
    for m in registry.MODULES:
        path = results_path(m)
        if not m.guide.is_file():
            continue
        text = m.guide.read_text()
        rel = m.guide.relative_to(registry.repo_root())
        if MARKER.search(text) and not path.is_file():
            problems.append(f"{rel} has lab markers but {path.name} is missing: run "
                            f"`{command([m.number])}`")
            continue
        if path.is_file():
            data = json.loads(path.read_text())
            new, missing = render(text, data)
            for key in missing:
                problems.append(f"{rel}: `{key}` is not in {RESULTS} (name it in the lab and "
                                f"run `{command([m.number])}`)")
            if new != text:
                first = next((f"guide: {a!r}\n  results: {b!r}" for a, b in
                              zip(text.splitlines(), new.splitlines()) if a != b), "")
                problems.append(f"{rel} differs from {RESULTS} (run `python -m "
                                f"tito.guide_tables --write`); first difference:\n  {first}")
            if data.get("quick"):
                problems.append(f"{m.dirname}/{RESULTS} was measured in quick mode")
        if modules is None and not path.is_file():
            continue
        if modules is not None and m.number not in modules:
            continue
        for row in hand_typed_tables(text):
            problems.append(f"{rel}: hand-typed table in '{SECTION}': {row[:80]}")
    return problems


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tito.guide_tables",
                                description=__doc__.splitlines()[0])
    p.add_argument("--collect", nargs="+", metavar="NN", help="run these labs in full mode "
                   "and save modules/NN_slug/results/lab.json")
    p.add_argument("--write", action="store_true", help="rewrite the guides' marked tables")
    p.add_argument("--check", action="store_true", help="exit 1 on any drift")
    args = p.parse_args(argv)
    for n in args.collect or []:  # one at a time: each times things
        print(f"wrote {collect(n)}", flush=True)
    if args.write:
        for guide in write():
            print(f"{guide.relative_to(registry.repo_root())}: rewritten")
    if args.check:
        problems = check()
        for line in problems:
            print(line, file=sys.stderr)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
