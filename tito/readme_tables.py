"""The README's measured tables, written from committed results files, never by hand.

Three tables live in ``README.md`` between marker comments:

* performance: ``<!-- benchmark-table:start -->`` ... ``<!-- benchmark-table:end -->``, from
  ``benchmarks/results.json`` (written by ``python benchmarks/run.py --json
  benchmarks/results.json``: each framework in its own process, see ``benchmarks/README.md``);
* milestones: ``<!-- milestone-table:start -->`` ... ``<!-- milestone-table:end -->``, from
  ``results/milestones.json`` (collected from the ``metrics.json`` files that
  ``tito milestone run all`` writes, by :func:`collect_milestones`);
* compression: ``<!-- compression-table:start -->`` ... ``<!-- compression-table:end -->``,
  from ``benchmarks/compression_results.json`` (written by ``python
  benchmarks/compression.py``: issue 13's pruning and distillation targets, three seeds).

A module guide can hold a table too (``GUIDE_SECTIONS``): the module-19 guide's
``<!-- noise-table:start -->`` ... ``<!-- noise-table:end -->``, from
``benchmarks/noise_check/summary.json`` (``python benchmarks/noise_check.py``: the same
TinyMLPerf suite twice and once with a planted 2x slowdown, compared).

``write`` rewrites every section; ``check`` lists every difference between the README and what
the results files say (``tests/test_readme_tables.py`` fails on any). Command line::

    python -m tito.readme_tables --collect-milestones runs/milestones   # refresh the results
    python -m tito.readme_tables --write                                # rewrite README.md
    python -m tito.readme_tables --check                                # exit 1 on drift

(``tito benchmark --write-readme`` and ``python benchmarks/run.py --write-readme`` do the
same as ``--write``.)
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCHMARK_RESULTS = Path("benchmarks/results.json")
MILESTONE_RESULTS = Path("results/milestones.json")
COMPRESSION_RESULTS = Path("benchmarks/compression_results.json")
NOISE_RESULTS = Path("benchmarks/noise_check/summary.json")
# The README's tables; each sits between <!-- NAME-table:start --> and <!-- NAME-table:end -->.
SECTIONS = ("benchmark", "milestone", "compression")
# Tables in a module's guide, same markers: {section: guide} (the results file: _SOURCES).
GUIDE_SECTIONS = {
    "noise": Path("modules/19_benchmarking/README.md"),
}

__all__ = ["benchmark_table", "milestone_table", "compression_table", "noise_table",
           "collect_milestones", "render", "write", "check", "write_guides", "check_guides"]


# --------------------------------------------------------------------------- tables


def _f(x, fmt="{:.2f}") -> str:
    return "–" if x is None else fmt.format(x)


def _yes(v) -> str:
    return "" if v is None else ("yes" if v else "**no**")


def benchmark_table(payload: dict) -> str:
    """Markdown for ``benchmarks/results.json`` (the process-mode results of benchmarks/run.py)."""
    lines = ["| workload | tinytorch ms | torch ms | ratio | target | met | CPU-time ratio "
             "| tinytorch MB | torch MB | memory ratio | within 2× |",
             "|---|---:|---:|---:|---:|:---:|---:|---:|---:|---:|:---:|"]
    for r in payload.get("results", []):
        target = "" if r.get("target") is None else f"≤ {r['target']:g}×"
        if r.get("skipped") or r.get("error"):
            why = "skipped" if r.get("skipped") else "error"
            lines.append(f"| {r['name']} | {why} | | | {target} | | | | | | |")
            continue
        lines.append(
            f"| {r['name']} | {_f(r.get('tinytorch_ms'))} | {_f(r.get('torch_ms'))} "
            f"| {_f(r.get('ratio'), '{:.2f}×')} | {target} | {_yes(r.get('met'))} "
            f"| {_f(r.get('cpu_ratio'), '{:.2f}×')} "
            f"| {_f(r.get('tinytorch_peak_mb'), '{:.1f}')} | {_f(r.get('torch_peak_mb'), '{:.1f}')} "
            f"| {_f(r.get('mem_ratio'), '{:.2f}×')} | {_yes(r.get('mem_met'))} |")
    m = payload.get("machine", {})
    lines += ["", (f"Measured {m.get('date')} on {m.get('cpu')} ({m.get('cores')} cores), "
                   f"Python {m.get('python')}, NumPy {m.get('numpy')}, torch {m.get('torch')}; "
                   f"{m.get('threads')} thread per framework; each framework in its own fresh "
                   f"process, {m.get('rounds')} alternated rounds of {m.get('repeats')} timed "
                   f"steps after {m.get('warmup')} warm-up steps; medians. MB: peak "
                   "resident-set growth of the process during the steps. CPU-time ratio: "
                   "the same processes' CPU time per step (a check when the machine is busy).")]
    notes = [f"{r['name']}: {r['skipped']}" for r in payload.get("results", [])
             if r.get("skipped")]
    notes += [f"{r['name']}: {r['error']}" for r in payload.get("results", []) if r.get("error")]
    if m.get("provisional"):
        notes.insert(0, f"provisional: {m['provisional']}")
    if notes:
        lines += [""] + [f"- {n}" for n in notes]
    return "\n".join(lines)


def _value(v, fmt: str | None = None) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        if fmt:
            return fmt.format(v)
        return f"{v:.4g}"
    return str(v)


def milestone_table(payload: dict) -> str:
    """Markdown for ``results/milestones.json`` (every milestone's ``metrics.json``)."""
    lines = ["| milestone | tier | result | checks (measured, target of that tier) | time |",
             "|---|:---:|:---:|---|---:|"]
    for ms in payload.get("milestones", []):
        checks = "; ".join(f"{c['name']} {_value(c['value'])} ({c['op']} {_value(c['target'])})"
                           for c in ms.get("checks", []))
        verdict = "passed" if ms.get("passed") else "**failed**"
        seconds = ms.get("seconds")
        lines.append(f"| {ms.get('milestone')} — {ms.get('title', '')} | {tier_of(ms)} "
                     f"| {verdict} | {checks} | {_f(seconds, '{:.1f} s')} |")
    m = payload.get("machine", {})
    lines += ["", (f"Measured {m.get('date')} by `{m.get('command')}` (seed {m.get('seed')}); "
                   f"Python {m.get('python')}, NumPy {m.get('numpy')}, tinytorch "
                   f"{m.get('tinytorch')}; {m.get('cpu')}.")]
    if m.get("note"):
        lines += ["", f"- {m['note']}"]
    return "\n".join(lines)


def _pct(acc, dense=None) -> str:
    """``97.21%``, or ``95.82% (-1.4)`` with the change from ``dense`` in points."""
    if dense is None:
        return f"{acc:.2%}"
    return f"{acc:.2%} ({(acc - dense) * 100:+.1f})"


def compression_table(payload: dict) -> str:
    """Markdown for ``benchmarks/compression_results.json`` (benchmarks/compression.py)."""
    lines = ["| seed | teacher | one-shot 90%, tuned | gradual 90%, tuned | mask sparsity "
             "| checkpoint bytes, dense → sparse | student / teacher params "
             "| student from labels | student distilled | pruning target | distillation target |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|:---:|"]
    for r in payload.get("seeds", []):
        dense, b, st = r["teacher"]["accuracy"], r["checkpoint_bytes"], r["student"]
        met = {g: all(c["passed"] for c in r["checks"] if c["group"] == g)
               for g in ("pruning", "distillation")}
        lines.append(
            f"| {r['seed']} | {_pct(dense)} | {_pct(r['one_shot']['accuracy'], dense)} "
            f"| {_pct(r['gradual']['accuracy'], dense)} | {r['gradual']['sparsity']:.2%} "
            f"| {b['dense']:,} → {b['sparse']:,} ({b['dense'] / b['sparse']:.2f}×) "
            f"| {st['params_ratio']:.3f} ({st['params']:,} / {r['teacher']['params']:,}) "
            f"| {_pct(st['labels_accuracy'], dense)} | {_pct(st['distilled_accuracy'], dense)} "
            f"| {_yes(met['pruning'])} | {_yes(met['distillation'])} |")
    c, t, m = payload.get("config", {}), payload.get("targets", {}), payload.get("machine", {})
    passed = payload.get("passed", {})
    teacher, student = c.get("teacher", {}), c.get("student", {})
    finetune = c.get("pruning", {}).get("finetune", [])
    verdict = {True: "met", False: "**not met**"}
    lines += ["", (f"Targets (issue 13), judged {t.get('judged')}: gradual pruning to 90% "
                   f"loses ≤ {t.get('max_drop_points')} points — "
                   f"{verdict[bool(passed.get('pruning'))]}; a student with ≤ "
                   f"{t.get('max_params_ratio')} of the teacher's parameters, distilled, within "
                   f"{t.get('max_gap_points')} points of it — "
                   f"{verdict[bool(passed.get('distillation'))]}."),
              "", (f"Teacher MLP 64-{teacher.get('hidden')}-10, {c.get('optimizer')}, "
                   f"{teacher.get('epochs')} epochs on {c.get('train_digits')} digits; "
                   f"accuracies on the {c.get('test_digits')} held-out digits, in brackets the "
                   "change from the teacher in points. Global magnitude pruning of both weight "
                   f"matrices, then {sum(finetune)} epochs of fine-tuning either way (gradual: "
                   f"50% → 75% → 90% with {' + '.join(map(str, finetune))}). The student "
                   f"trains {student.get('epochs')} epochs from one initialisation and batch "
                   "order, from the labels or from the teacher (T = "
                   f"{student.get('temperature')}, alpha = {student.get('alpha')}). Measured "
                   f"{m.get('date')} by `{payload.get('command')}` in "
                   f"{_f(payload.get('seconds'), '{:.0f} s')} on {m.get('cpu')} (load average "
                   f"{m.get('load_average')}), Python {m.get('python')}, NumPy "
                   f"{m.get('numpy')}, tinytorch {m.get('tinytorch')}; the accuracies are "
                   "deterministic, the seconds are not.")]
    if m.get("note"):
        lines += ["", f"- {m['note']}"]
    return "\n".join(lines)


def tier_of(ms: dict) -> str:
    """A result's tier; results from before tiers existed were ``quick`` or the historical
    (``full``) run."""
    return str(ms.get("tier") or ("quick" if ms.get("quick") else "full"))


def collect_milestones(runs_dir: Path, out: Path, command: str, note: str | None = None) -> dict:
    """Gather ``runs_dir/*/metrics.json`` (what ``tito milestone run all`` wrote) into ``out``."""
    found = sorted(Path(runs_dir).glob("*/metrics.json"))
    if not found:
        raise FileNotFoundError(f"no */metrics.json under {runs_dir}: run `tito milestone run "
                                "all --reference` first")
    keep = ("milestone", "title", "passed", "metrics", "targets", "checks", "seconds", "seed",
            "tier", "quick", "versions")
    milestones = [{k: v for k, v in json.loads(p.read_text()).items() if k in keep}
                  for p in found]
    first = milestones[0].get("versions", {})
    from tinytorch.benchmarking.environment import cpu_model  # the one reader of the CPU name

    payload = {"machine": {"date": datetime.date.today().isoformat(), "command": command,
                           "seed": milestones[0].get("seed"), "python": first.get("python"),
                           "numpy": first.get("numpy"), "tinytorch": first.get("tinytorch"),
                           "cpu": cpu_model(), "note": note},
               "milestones": milestones}
    for ms in milestones:
        ms.get("versions", {}).pop("tinytorch_path", None)  # a local path: not for the repo
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2) + "\n")
    return payload


def noise_table(payload: dict) -> str:
    """Markdown for ``benchmarks/noise_check/summary.json`` (benchmarks/noise_check.py): the same
    TinyMLPerf suite twice (A, B) and once with a planted slowdown (S), compared."""
    factor = payload.get("planted_factor")
    what = {"B": "the same code again", "S": f"a planted {factor:g}x slowdown"}
    lines = ["| comparison | suite score (spread) | verdict | timings within noise | "
             "slower | faster | flagged | expected | as expected |",
             "|---|---:|:---:|---:|---:|---:|---:|:---:|:---:|"]
    for p in payload.get("pairs", []):
        lines.append(
            f"| {p['b']} ({what.get(p['b'], p['b'])}) against {p['a']} "
            f"| {p['suite_score']:.2f} ({p['suite_lo']:.2f}-{p['suite_hi']:.2f}) "
            f"| {p['suite_verdict']} | {p['timings_within_noise']} of {p['timings']} "
            f"| {p['timings_slower']} | {p['timings_faster']} | {p['flagged']} "
            f"| {p['expect']} | {_yes(p['met'])} |")
    m = payload.get("machine", {})
    load = ", ".join("–" if x is None else f"{x:.1f}" for x in m.get("load", []))
    lines += ["", (f"Measured {m.get('date')} on {m.get('cpu')} ({m.get('cores')} cores) by "
                   f"`{payload.get('command')}`: three {'quick ' if payload.get('quick') else ''}"
                   f"runs back to back, each with every task in a fresh process, "
                   f"{payload.get('rounds')} rounds pooled, the {payload.get('clock')} clock, "
                   f"noise floor {payload.get('noise_floor', 0.1):.0%}. "
                   f"Load average at the end of each run (A, B, S): {load}. Suite score: the "
                   "geometric mean over every timing of A's median / B's (above 1: faster), "
                   "with the geometric means of the spreads' ends.")]
    return "\n".join(lines)


# --------------------------------------------------------------------------- README sections

_SOURCES = {"benchmark": (BENCHMARK_RESULTS, benchmark_table),
            "milestone": (MILESTONE_RESULTS, milestone_table),
            "compression": (COMPRESSION_RESULTS, compression_table),
            "noise": (NOISE_RESULTS, noise_table)}


def _tables(root: Path) -> dict:
    """{section: markdown} for every results file that exists under ``root``."""
    out = {}
    for section, (rel, fn) in _SOURCES.items():
        path = Path(root) / rel
        if path.is_file():
            out[section] = fn(json.loads(path.read_text()))
    return out


def _split(text: str, section: str) -> tuple[str, str, str]:
    start, end = f"<!-- {section}-table:start -->", f"<!-- {section}-table:end -->"
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        raise ValueError(f"no {start} ... {end} markers")
    i += len(start)
    return text[:i], text[i:j], text[j:]


def render(text: str, tables: dict) -> str:
    """``text`` with each marked section replaced by its table."""
    for section, table in tables.items():
        head, _, tail = _split(text, section)
        text = f"{head}\n{table}\n{tail}"
    return text


def _drift(text: str, section: str, table: str, where: str, rel: Path) -> str | None:
    """How the marked ``section`` of ``text`` (the document ``where``) differs from ``table``
    (written from ``rel``), or None when it matches."""
    try:
        _, body, _ = _split(text, section)
    except ValueError as e:
        return f"{where}: {e}"
    if body.strip() == table.strip():
        return None
    want, have = table.strip().splitlines(), body.strip().splitlines()
    diff = next((f"{where}: {h!r}\n  results: {w!r}" for h, w in zip(have, want) if h != w),
                f"{len(have)} lines in {where}, {len(want)} expected")
    return (f"{where}'s {section} table differs from {rel} (run `python -m tito.readme_tables "
            f"--write`); first difference:\n  {diff}")


def write(readme: Path, root: Path = REPO) -> bool:
    """Rewrite the marked sections of ``readme`` from the results files; True if it changed."""
    readme = Path(readme)
    text = readme.read_text()
    new = render(text, {s: t for s, t in _tables(root).items() if s in SECTIONS})
    if new != text:
        readme.write_text(new)
    return new != text


def write_guides(root: Path = REPO) -> list[Path]:
    """Rewrite the marked tables in the module guides (``GUIDE_SECTIONS``); the guides changed."""
    tables, changed = _tables(root), []
    for section, guide in GUIDE_SECTIONS.items():
        if section not in tables:
            continue
        path = Path(root) / guide
        text = path.read_text()
        new = render(text, {section: tables[section]})
        if new != text:
            path.write_text(new)
            changed.append(path)
    return changed


def check_guides(root: Path = REPO) -> list[str]:
    """Every way a guide's marked table differs from its results file ([] when all match)."""
    tables, problems = _tables(root), []
    for section, guide in GUIDE_SECTIONS.items():
        rel = _SOURCES[section][0]
        if section not in tables:
            problems.append(f"{rel} is missing: {guide}'s {section} table has no source")
            continue
        problem = _drift((Path(root) / guide).read_text(), section, tables[section], str(guide),
                         rel)
        if problem:
            problems.append(problem)
    return problems


def check(readme: Path, root: Path = REPO) -> list[str]:
    """Every way ``readme`` differs from what the results files say ([] when it matches)."""
    text = Path(readme).read_text()
    problems = []
    tables = _tables(root)
    for section in SECTIONS:
        rel = _SOURCES[section][0]
        if section not in tables:
            problems.append(f"{rel} is missing: the README's {section} table has no source")
            continue
        problem = _drift(text, section, tables[section], "README", rel)
        if problem:
            problems.append(problem)
    return problems


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tito.readme_tables", description=__doc__
                                .splitlines()[0])
    p.add_argument("--collect-milestones", metavar="RUNS_DIR", type=Path,
                   help="gather RUNS_DIR/*/metrics.json into results/milestones.json")
    p.add_argument("--command", default="tito milestone run all --reference",
                   help="the command that produced RUNS_DIR (recorded beside the results)")
    p.add_argument("--note", default=None,
                   help="one line printed under the milestone table (e.g. how busy the machine was)")
    p.add_argument("--write", action="store_true", help="rewrite README.md's tables")
    p.add_argument("--check", action="store_true", help="exit 1 if README.md's tables drift")
    p.add_argument("--root", type=Path, default=REPO, help="the repository (default: this one)")
    args = p.parse_args(argv)
    if args.collect_milestones:
        collect_milestones(args.collect_milestones, args.root / MILESTONE_RESULTS, args.command,
                           args.note)
        print(f"wrote {args.root / MILESTONE_RESULTS}")
    if args.write:
        changed = write(args.root / "README.md", args.root)
        print(f"README.md: {'tables rewritten' if changed else 'already up to date'}")
        for guide in write_guides(args.root):
            print(f"{guide.relative_to(args.root)}: table rewritten")
    if args.check:
        problems = check(args.root / "README.md", args.root) + check_guides(args.root)
        for line in problems:
            print(line, file=sys.stderr)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
