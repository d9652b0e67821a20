"""Is TinyMLPerf trustworthy on this machine? The same suite twice, and a planted 2x slowdown.

    python benchmarks/noise_check.py [--quick] [--out benchmarks/noise_check] [--factor 2]

Runs ``tito benchmark run`` three times, back to back, with its defaults (every task in a fresh
process, ``DEFAULT_ROUNDS`` rounds pooled, the wall clock, as a user runs it):

* ``A.json`` and ``B.json``: the same code twice;
* ``S.json``: the same code with ``--plant-slowdown 2`` (every timed call followed by as much
  time again), a regression whose size is known.

Then it compares them as ``tito benchmark compare`` does (:func:`compare.compare_results`) and
writes ``summary.json``: for A-B the suite's verdict should be "within noise" with no timing
flagged; for A-S and B-S it should be "slower", flagged. The module-19 guide's table is
written from that summary (``python -m tito.readme_tables --write``), and
``tests/test_noise_check.py`` recomputes every comparison from the three committed results
files, so neither the summary nor the guide can claim what the runs did not show.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from tinytorch.benchmarking import compare as cmp  # noqa: E402
from tinytorch.benchmarking import results  # noqa: E402

PAIRS = (("A", "B", "within noise"), ("A", "S", "slower"), ("B", "S", "slower"))


def comparison_summary(a: dict, b: dict, floor: float = cmp.NOISE_FLOOR) -> dict:
    """What ``tito benchmark compare`` concludes about B against A, as plain numbers."""
    out = cmp.compare_results(a, b, floor)
    suite = out["suite"]
    return {"suite_score": suite["score"], "suite_lo": suite["lo"], "suite_hi": suite["hi"],
            "suite_verdict": suite.get("verdict"), "flagged": out["flagged"],
            "timings": len(out["timings"]),
            "timings_within_noise": sum(c.verdict == "within noise" for c in out["timings"]),
            "timings_slower": sum(c.verdict == "slower" for c in out["timings"]),
            "timings_faster": sum(c.verdict == "faster" for c in out["timings"]),
            "lost_targets": sum(q["lost_target"] for q in out["quality"])}


def summarize_runs(folder: Path, factor: float) -> dict:
    """``summary.json``'s content from ``A.json``, ``B.json`` and ``S.json`` in ``folder``."""
    runs = {n: results.load(folder / f"{n}.json") for n in "ABS"}
    env = runs["A"]["environment"]
    pairs = []
    for a, b, expect in PAIRS:
        s = comparison_summary(runs[a], runs[b])
        met = (s["suite_verdict"] == "within noise" and s["flagged"] == 0) if expect == \
            "within noise" else (s["suite_verdict"] == "slower" and s["flagged"] > 0)
        pairs.append({"a": a, "b": b, "expect": expect, "met": met, **s})
    return {"command": "python benchmarks/noise_check.py"
                       + (" --quick" if runs["A"]["config"].get("quick") else ""),
            "planted_factor": factor,
            "quick": bool(runs["A"]["config"].get("quick")),
            "rounds": runs["A"]["config"].get("rounds"),
            "clock": runs["A"]["config"].get("clock", "wall"),
            "noise_floor": cmp.NOISE_FLOOR,
            "machine": {"date": str(env.get("date") or datetime.date.today().isoformat())[:10],
                        "cpu": env.get("cpu"), "cores": env.get("cores"),
                        "load": [r["environment"].get("load_average_1min") for r in
                                 (runs["A"], runs["B"], runs["S"])]},
            "pairs": pairs}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="the quick suite (its own sizes)")
    p.add_argument("--out", type=Path, default=HERE / "noise_check",
                   help="folder for A.json, B.json, S.json and summary.json")
    p.add_argument("--factor", type=float, default=2.0, help="the planted slowdown (2)")
    p.add_argument("--summarize-only", action="store_true",
                   help="recompute summary.json from the three results files already there")
    args = p.parse_args(argv)
    import tinymlperf as cli  # benchmarks/tinymlperf.py: the same code as `tito benchmark run`

    args.out.mkdir(parents=True, exist_ok=True)
    if not args.summarize_only:
        for name, extra in (("A", []), ("B", []), ("S", ["--plant-slowdown", f"{args.factor:g}"])):
            print(f"run {name}{' (planted ' + format(args.factor, 'g') + 'x)' if extra else ''}",
                  file=sys.stderr, flush=True)
            code = cli.main(["run", "--json", str(args.out / f"{name}.json")]
                            + (["--quick"] if args.quick else []) + extra)
            if code == 2:
                return 2
    summary = summarize_runs(args.out, args.factor)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    for pr in summary["pairs"]:
        print(f"{pr['b']} against {pr['a']}: suite score {pr['suite_score']:.2f} "
              f"({pr['suite_lo']:.2f}-{pr['suite_hi']:.2f}), {pr['suite_verdict']}; "
              f"{pr['flagged']} flagged, {pr['timings_within_noise']} of {pr['timings']} "
              f"timings within noise; expected {pr['expect']}: "
              f"{'yes' if pr['met'] else 'NO'}")
    print(f"wrote {args.out / 'summary.json'}")
    return 0 if all(pr["met"] for pr in summary["pairs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
