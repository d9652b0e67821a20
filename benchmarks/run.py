"""Run the benchmark suite.

Two modes:

* ``--mode processes`` (the default): the user-facing workloads of ``suite.py``, each framework
  in its own fresh process, alternated and repeated (``processes.py``); a time and a peak
  memory growth per workload and framework. This is how the published table is measured.
* ``--mode interleaved``: every ``benchmarks/bench_*.py`` module (each exposing
  ``workloads(quick: bool) -> list[Workload]``), tinytorch, torch and a NumPy bound
  interleaved in ONE process (``harness.py``): finer-grained, with the NumPy floor, but not how
  a user runs.

``--json PATH`` writes the results; ``--write-readme`` rewrites the README's tables from the
committed results files (``benchmarks/results.json``, ``results/milestones.json``) without
running anything; ``--check-readme`` says whether the README matches them. ``tito benchmark``
calls this script with tinytorch taken from the reference package or a learner's workspace.

Exit status: 0 when every workload ran (targets missed or not: a benchmark reports, it does
not fail), 1 when a workload raised, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(HERE) not in sys.path:  # bench modules say ``from harness import Workload``
    sys.path.insert(0, str(HERE))

import harness  # noqa: E402


def discover(folder: Path) -> dict:
    """``{"core": module, ...}`` for every ``bench_*.py`` in ``folder``, sorted by name.

    A module that fails to import becomes one error row in the table instead of stopping the
    whole suite (in a learner's workspace, an unwritten module may fail at import).
    """
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    found = {}
    for path in sorted(folder.glob("bench_*.py")):
        name = path.stem[len("bench_"):]
        spec = importlib.util.spec_from_file_location(f"_tinytorch_bench_{name}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses and pickling look modules up by name
        try:
            spec.loader.exec_module(module)
            if not callable(getattr(module, "workloads", None)):
                raise TypeError(f"{path.name} must define workloads(quick) -> list[Workload]")
        except Exception as e:
            module = _failed(name, e)
        found[name] = module
    return found


def _failed(name: str, error: Exception):
    """A stand-in module whose only workload reports ``error``."""

    def fail():
        raise error

    class Failed:
        @staticmethod
        def workloads(quick):
            return [harness.Workload(f"bench_{name}.py", fail, None)]

    return Failed


def select(modules: dict, quick: bool, only: str | None) -> list:
    """The workloads to run. ``only`` keeps a whole module (``--only core``) or the workloads
    whose name contains it, case-insensitively (``--only matmul``)."""
    chosen = []
    for name, module in modules.items():
        try:
            ws = list(module.workloads(quick))
        except Exception as e:
            ws = _failed(name, e).workloads(quick)
        if only is None or only.lower() == name.lower():
            chosen += ws
        else:
            chosen += [w for w in ws if only.lower() in w.name.lower()]
    return chosen


def _readme(args) -> int:
    """--write-readme / --check-readme: the README's tables from the committed results."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tito import readme_tables

    readme = args.readme or REPO / "README.md"
    if args.check_readme:
        problems = readme_tables.check(readme, REPO)
        for line in problems:
            print(line, file=sys.stderr)
        return 1 if problems else 0
    changed = readme_tables.write(readme, REPO)
    print(f"{readme}: {'tables rewritten' if changed else 'already up to date'}")
    return 0


def _env_pairs(pairs) -> dict:
    env = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--tinytorch-env takes KEY=VALUE, got {pair!r}")
        env[key] = value
    return env


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="benchmarks/run.py",
        description="tinytorch vs PyTorch CPU: each in its own process (default), or "
                    "interleaved in one process.")
    p.add_argument("--mode", choices=("processes", "interleaved"), default="processes",
                   help="processes: one fresh process per framework and round (default); "
                        "interleaved: both frameworks and NumPy in this one process")
    p.add_argument("--quick", action="store_true",
                   help="smaller sizes and fewer repeats: a smoke run, not a measurement")
    p.add_argument("--only", metavar="NAME",
                   help="processes: comma-separated workload ids (mlp,conv,...); interleaved: "
                        "one bench module (e.g. core) or workloads whose name contains NAME")
    p.add_argument("--json", metavar="PATH", help="also write the results (and samples) as JSON")
    p.add_argument("--markdown", metavar="PATH",
                   help="interleaved mode: also write the table as markdown")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed repeats per side (default: processes 20, interleaved 25; quick 3)")
    p.add_argument("--warmup", type=int, default=None,
                   help="untimed repeats before timing (default: processes 5, interleaved 3; "
                        "quick 1)")
    p.add_argument("--rounds", type=int, default=None,
                   help="processes mode: processes per framework and workload (default 5; "
                        "quick 1)")
    p.add_argument("--threads", type=int, default=1,
                   help="threads for NumPy's BLAS and for torch, the same on both sides "
                        "(default 1; interleaved: 0 keeps NumPy's default)")
    p.add_argument("--frameworks", default="tinytorch,torch",
                   help="processes mode: which sides to run (default tinytorch,torch)")
    p.add_argument("--tinytorch-env", action="append", metavar="KEY=VALUE",
                   help="processes mode: an environment variable for the tinytorch processes "
                        "only (e.g. TINYTORCH_MALLOC=0 to measure without the allocator policy)")
    p.add_argument("--write-readme", action="store_true",
                   help="rewrite README.md's performance and milestone tables from the "
                        "committed results files (runs nothing)")
    p.add_argument("--check-readme", action="store_true",
                   help="exit 1 if README.md's tables differ from the committed results files")
    p.add_argument("--readme", type=Path, default=None, help=argparse.SUPPRESS)  # for tests
    p.add_argument("--dir", type=Path, default=HERE, help=argparse.SUPPRESS)  # for the tests
    args = p.parse_args(argv)

    if args.write_readme or args.check_readme:
        return _readme(args)
    if args.mode == "processes":
        return _main_processes(args)
    return _main_interleaved(args)


def _main_processes(args) -> int:
    import processes
    import suite

    ids = [s.id for s in suite.SPECS]
    if args.only:
        wanted = [w.strip() for w in args.only.split(",") if w.strip()]
        unknown = [w for w in wanted if w not in ids]
        if unknown:
            print(f"no workload {', '.join(unknown)}; known: {', '.join(ids)}", file=sys.stderr)
            return 2
        ids = wanted
    repeats = args.repeats or (3 if args.quick else 20)
    warmup = args.warmup if args.warmup is not None else (1 if args.quick else 5)
    rounds = args.rounds or (1 if args.quick else 5)
    threads = max(args.threads, 1)
    results = processes.run(ids, rounds=rounds, repeats=repeats, warmup=warmup, threads=threads,
                            quick=args.quick, env=_env_pairs(args.tinytorch_env),
                            frameworks=tuple(f.strip() for f in args.frameworks.split(",")),
                            progress=lambda n: print(f"  {n} ...", file=sys.stderr, flush=True))
    info = processes.machine_info(threads, rounds, repeats, warmup, args.quick)
    if args.tinytorch_env:
        info["tinytorch_env"] = _env_pairs(args.tinytorch_env)
    print(processes.format_table(results))
    print(f"{info['cpu']}, {info['cores']} cores; numpy {info['numpy']}, torch {info['torch']}; "
          f"{threads} thread(s); {rounds} rounds x {repeats} steps per process; {info['date']}")
    if args.quick:
        print(f"--quick: tiny sizes and {repeats} repeats, a smoke run; verdicts need a full run")
    if args.json:
        processes.write_json(results, args.json, info)
    return 1 if any(r["error"] for r in results) else 0


def _main_interleaved(args) -> int:
    repeats = args.repeats or (3 if args.quick else 25)
    warmup = args.warmup if args.warmup is not None else (1 if args.quick else 3)
    workloads = select(discover(args.dir), args.quick, args.only)
    if not workloads:
        print(f"no workload matches --only {args.only!r}", file=sys.stderr)
        return 2
    threads = args.threads or None  # 0: NumPy's default pool, torch matched to it
    results = harness.run(workloads, repeats=repeats, warmup=warmup, threads=threads,
                          progress=lambda n: print(f"  {n} ...", file=sys.stderr, flush=True))
    info = harness.machine_info(threads or harness.blas_threads())
    info.update(repeats=repeats, warmup=warmup, quick=args.quick,
                background_load=harness.background_load(results))
    harness.print_table(results, info)
    if args.quick:
        print(f"--quick: tiny sizes and {repeats} repeats, a smoke run; verdicts need a full run")
    if args.json:
        harness.write_json(results, args.json, info)
    if args.markdown:
        harness.write_markdown(results, args.markdown, info)
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
