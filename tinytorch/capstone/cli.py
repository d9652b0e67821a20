"""The capstone from the command line (``tito benchmark capstone | verify | board``).

    python -m tinytorch.capstone.cli capstone --out runs/capstone [--arch mlp|cnn] [--quick]
                                              [--clock wall|cpu]
                                              [--submit DIR --variant int8_static --name Ada]
    python -m tinytorch.capstone.cli verify DIR [--tolerance 0.5]
    python -m tinytorch.capstone.cli board DIR [--out FILE]

Exit status: 0; 1 when a submission is rejected (verify); 2 on bad arguments or files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _cmd_capstone(args) -> int:
    from tinytorch.capstone.pipeline import run_pipeline
    from tinytorch.capstone.report import markdown_table, rows_from_results
    from tinytorch.capstone.submission import make_submission

    print(f"capstone pipeline: {args.arch} on the digits, quick={args.quick} ...", flush=True)
    import time

    from tinytorch.benchmarking import Benchmark

    bench = Benchmark(warmup=3, repeats=9 if args.quick else 24,
                      clock=time.process_time if args.clock == "cpu" else time.perf_counter)
    results = run_pipeline(args.out, arch=args.arch, quick=args.quick, seed=args.seed,
                           bench=bench)
    print(markdown_table(rows_from_results(results)))
    for k, v in results["not_applicable"].items():
        print(f"not applicable: {k}: {v}")
    print(f"wrote {Path(args.out) / results['report']['html']} and "
          f"{Path(args.out) / results['report']['markdown']}")
    if args.submit:
        try:
            make_submission(args.out, args.submit, args.variant, args.name)
        except (ValueError, FileExistsError) as e:
            print(e, file=sys.stderr)
            return 2
        print(f"wrote the submission {args.submit} (variant {args.variant}); check it with "
              f"tito benchmark verify {args.submit}")
    return 0


def _cmd_verify(args) -> int:
    from tinytorch.capstone.verify import verify

    if not Path(args.dir).is_dir():
        print(f"verify: no folder {args.dir}", file=sys.stderr)
        return 2
    verdict = verify(args.dir, tolerance=args.tolerance)
    print(verdict.describe())
    return 0 if verdict.passed else 1


def _cmd_board(args) -> int:
    from tinytorch.capstone.board import build_board, collect

    if not Path(args.dir).is_dir():
        print(f"board: no folder {args.dir}", file=sys.stderr)
        return 2
    path = build_board(args.dir, args.out)
    rows, skipped = collect(args.dir)
    print(f"wrote {path}: {len(rows)} verified submission(s) ranked, {len(skipped)} not")
    for name, why in skipped:
        print(f"  not ranked: {name}: {why}")
    return 0


def main(argv=None) -> int:
    from tinytorch.capstone.capstone import LATENCY_TOLERANCE
    from tinytorch.capstone.variants import ARCHS, VARIANTS

    p = argparse.ArgumentParser(prog="tito benchmark", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("capstone", help="train, profile, optimize, re-benchmark, report")
    c.add_argument("--out", default="runs/capstone", help="report folder (runs/capstone)")
    c.add_argument("--arch", choices=ARCHS, default="mlp")
    c.add_argument("--quick", action="store_true", help="fewer steps and repeats (seconds)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="time with the wall clock (default) or this process's CPU time, "
                        "steadier on a machine busy with other work; verify uses the same")
    c.add_argument("--submit", metavar="DIR", help="also write a submission into DIR")
    c.add_argument("--variant", choices=VARIANTS, default="float32",
                   help="the variant to submit (float32)")
    c.add_argument("--name", default="anonymous", help="the name on the leaderboard")
    v = sub.add_parser("verify", help="re-evaluate and re-time a submission")
    v.add_argument("dir")
    v.add_argument("--tolerance", type=float, default=LATENCY_TOLERANCE,
                   help="allowed relative timing noise beyond the claimed quartiles (0.5)")
    b = sub.add_parser("board", help="static sortable HTML leaderboard of a folder")
    b.add_argument("dir")
    b.add_argument("--out", default=None, help="the page (DIR/index.html)")
    args = p.parse_args(argv)
    return {"capstone": _cmd_capstone, "verify": _cmd_verify, "board": _cmd_board}[
        args.command](args)


if __name__ == "__main__":
    sys.exit(main())
