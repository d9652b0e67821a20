"""Run the benchmark suite: ``python benchmarks/run.py [--quick] [--only NAME] [--json PATH]
[--markdown PATH]``.

Every ``benchmarks/bench_*.py`` file is a benchmark module exposing
``workloads(quick: bool) -> list[Workload]``. This script discovers them, runs their workloads
through :func:`harness.run` (tinytorch, torch and numpy interleaved in this one process) and
prints the table; ``--json`` and ``--markdown`` also write it to files. ``tito benchmark``
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="benchmarks/run.py",
        description="tinytorch vs PyTorch CPU, side by side in one process.")
    p.add_argument("--quick", action="store_true",
                   help="smaller sizes and fewer repeats: a smoke run, not a measurement")
    p.add_argument("--only", metavar="NAME",
                   help="one benchmark module (e.g. core) or workloads whose name contains NAME")
    p.add_argument("--json", metavar="PATH", help="also write the results (and samples) as JSON")
    p.add_argument("--markdown", metavar="PATH", help="also write the table as markdown")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed repeats per side (default 25; quick 3)")
    p.add_argument("--warmup", type=int, default=None,
                   help="untimed repeats per side before timing (default 3; quick 1)")
    p.add_argument("--threads", type=int, default=1,
                   help="threads for NumPy's BLAS and for torch, the same on both sides "
                        "(default 1; 0 keeps NumPy's default and matches torch to it)")
    p.add_argument("--dir", type=Path, default=HERE, help=argparse.SUPPRESS)  # for the tests
    args = p.parse_args(argv)

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
