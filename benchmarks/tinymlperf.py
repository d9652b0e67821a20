"""TinyMLPerf from the command line (``tito benchmark run`` / ``tito benchmark compare``).

    python benchmarks/tinymlperf.py run [--quick] [--only mlp_digits,...] [--vs torch]
                                        [--json FILE] [--score-against REF.json]
                                        [--in-process] [--repeats N] [--plant-slowdown F]
                                        [--clock wall|cpu] [--rounds N]
    python benchmarks/tinymlperf.py compare A.json B.json [--noise-floor 0.20]

``run`` trains every task of ``tinytorch.benchmarking.tinymlperf`` to its quality target, each
in a fresh process, times it, and prints the table (rich when installed). ``--vs torch`` also
runs the side-by-side suite of this folder (``processes.py``: tinytorch and PyTorch each in
their own processes) and summarizes every step with the same statistics (median, quartiles,
Tukey outliers); the verdict says whether tinytorch is within noise of torch. ``--score-against``
scores this run against a reference results file (same tasks; above 1: faster).

``compare`` reads two results files and says, per task and timing, the speedup of B over A with
its spread, "within noise" or not, and flags slowdowns and lost quality targets.

Exit status: 0; 1 when a task raised or missed its target (run) or a regression was flagged
(compare); 2 on bad arguments or unreadable files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from tinytorch.benchmarking import compare as cmp  # noqa: E402
from tinytorch.benchmarking import environment, results, tinymlperf  # noqa: E402
from tinytorch.benchmarking.stats import summarize  # noqa: E402


def vs_torch(quick: bool, threads: int, only=None) -> list[dict]:
    """The side-by-side suite (``processes.py``), each row summarized with TinyMLPerf's
    statistics: every timed step of every process, tinytorch and torch, and the verdict of
    ``compare`` (torch as A, tinytorch as B: "slower" means tinytorch is slower)."""
    import processes

    rows = processes.run(only, rounds=1 if quick else 3, repeats=5 if quick else 20,
                         warmup=1 if quick else 5, threads=threads, quick=quick,
                         progress=lambda n: print(f"  vs torch: {n} ...", file=sys.stderr,
                                                  flush=True))
    out = []
    for r in rows:
        row = {"id": r["id"], "name": r["name"], "skipped": r.get("skipped"),
               "error": r.get("error"), "target": r.get("target")}
        steps = r.get("steps_ms", {})
        if not row["skipped"] and not row["error"]:
            if not steps.get("torch"):
                row["skipped"] = "torch is not installed"
            else:
                tt, th = summarize(steps["tinytorch"]), summarize(steps["torch"])
                c = cmp.compare(r["name"], th, tt)
                row.update(tinytorch=tt.to_dict(), torch=th.to_dict(),
                           ratio=tt.median / th.median,
                           verdict="within noise of torch" if c.verdict == "within noise"
                           else ("slower than torch" if c.verdict == "slower"
                                 else "faster than torch"))
        out.append(row)
    return out


def _ids(text):
    return [i.strip() for i in text.split(",") if i.strip()] if text else None


def cmd_run(args) -> int:
    if args.rounds is None:  # fresh processes are what rounds are for
        args.rounds = 1 if args.in_process else tinymlperf.DEFAULT_ROUNDS
    if args.rounds < 1:
        print(f"--rounds must be at least 1, got {args.rounds}", file=sys.stderr)
        return 2
    ids = None
    if args.only:
        ids = [i.strip() for i in args.only.split(",") if i.strip()]
        known = [t.id for t in tinymlperf.TASKS]
        bad = [i for i in ids if i not in known]
        if bad:
            print(f"no task {', '.join(bad)}; known: {', '.join(known)}", file=sys.stderr)
            return 2
    tasks = tinymlperf.run_suite(ids, quick=args.quick, isolate=not args.in_process,
                                 threads=args.threads, repeats=args.repeats,
                                 slowdown=args.plant_slowdown, clock=args.clock,
                                 rounds=args.rounds,
                                 progress=lambda t: print(f"  {t} ...", file=sys.stderr,
                                                          flush=True))
    config = {"quick": args.quick, "isolate": not args.in_process, "threads": args.threads,
              "repeats": args.repeats or (7 if args.quick else 25), "warmup": 3,
              "outlier_k": 1.5, "tasks": ids or [t.id for t in tinymlperf.TASKS],
              "planted_slowdown": args.plant_slowdown, "clock": args.clock,
              "rounds": args.rounds}
    env = environment.capture()
    env["thread_env"] = {v: str(args.threads) for v in env["thread_env"]}  # the children's
    data = results.make(tasks, env, config, tinymlperf.SUITE_VERSION,
                        vs_torch(args.quick, args.threads, _ids(args.vs_only))
                        if args.vs == "torch" else None)
    if args.score_against:
        try:
            ref = results.load(args.score_against)
        except results.SchemaError as e:
            print(e, file=sys.stderr)
            return 2
        data["score"] = {**cmp.suite_score(data, ref), "reference": str(args.score_against)}
    results.print_table(data)
    if args.plant_slowdown != 1:
        print(f"PLANTED SLOWDOWN: every timed call was made {args.plant_slowdown:g}x slower on "
              "purpose (a check of the comparison, not a measurement of tinytorch)")
    if args.quick:
        print("--quick: smaller tasks and fewer repeats (their own targets); a full run "
              "measures the full suite")
    if args.json:
        print(f"wrote {results.save(data, args.json)}")
    bad = [t for t in data["tasks"] if t.get("error") or not t.get("met")]
    return 1 if bad else 0


def cmd_compare(args) -> int:
    try:
        a, b = results.load(args.a), results.load(args.b)
    except results.SchemaError as e:
        print(e, file=sys.stderr)
        return 2
    clocks = (a["config"].get("clock", "wall"), b["config"].get("clock", "wall"))
    if clocks[0] != clocks[1]:
        print(f"A was timed with the {clocks[0]} clock and B with the {clocks[1]} clock: "
              "re-run one of them with the same --clock", file=sys.stderr)
        return 2
    # --quick shrinks the tasks themselves: a quick run against a full one compares different work
    sizes = ["quick" if r["config"].get("quick") else "full" for r in (a, b)]
    if sizes[0] != sizes[1]:
        print(f"A is a {sizes[0]} run and B a {sizes[1]} run: their tasks differ in size, so "
              "their times do not compare; re-run one of them with (or without) --quick",
              file=sys.stderr)
        return 2
    threads = (a["config"].get("threads"), b["config"].get("threads"))
    if threads[0] != threads[1]:
        print(f"note: A ran with {threads[0]} BLAS thread(s) and B with {threads[1]}: the "
              "difference includes the thread count (--threads)", file=sys.stderr)
    out = cmp.compare_results(a, b, args.noise_floor)
    print(results.format_comparison(out, args.a, args.b))
    return 1 if out["flagged"] else 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="tito benchmark", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run TinyMLPerf (each task in its own process)")
    r.add_argument("--quick", action="store_true", help="smaller tasks, fewer repeats")
    r.add_argument("--only", metavar="IDS", help="comma-separated task ids")
    r.add_argument("--vs", choices=("torch",), help="also run the side-by-side PyTorch suite")
    r.add_argument("--vs-only", metavar="IDS",
                   help="with --vs torch: these side-by-side workloads (mlp,conv,...)")
    r.add_argument("--json", metavar="FILE", help="write the results file")
    r.add_argument("--score-against", metavar="REF", help="score against this results file")
    r.add_argument("--threads", type=int, default=1, help="BLAS threads per process (1)")
    r.add_argument("--repeats", type=int, default=None, help="timed inference repeats")
    r.add_argument("--rounds", type=int, default=None,
                   help="run the suite this many times, task after task, each task in a "
                        "fresh process, and pool each task's timings (the spread then covers "
                        f"the machine's drift; default {tinymlperf.DEFAULT_ROUNDS}, 1 with "
                        "--in-process)")
    r.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="wall: time.perf_counter, what a user waits (default); cpu: "
                        "time.process_time, steadier when other jobs share the cores")
    r.add_argument("--plant-slowdown", type=float, default=1.0, metavar="F",
                   help="make every timed call F times slower (sleeps): a known regression "
                        "to check that compare flags it; recorded in the results file")
    r.add_argument("--in-process", action="store_true",
                   help="run the tasks in this process (faster to start, less isolated)")
    c = sub.add_parser("compare", help="compare two results files (B against A)")
    c.add_argument("a")
    c.add_argument("b")
    c.add_argument("--noise-floor", type=float, default=cmp.NOISE_FLOOR,
                   help="each run's interval is at least median +- this fraction "
                        f"(default {cmp.NOISE_FLOOR:g})")
    args = p.parse_args(argv)
    return cmd_run(args) if args.command == "run" else cmd_compare(args)


if __name__ == "__main__":
    sys.exit(main())
