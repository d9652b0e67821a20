"""What every milestone shares: arguments, seeding, progress, and an honest report.

A milestone script is a small experiment with a target, and this file makes each one end the
same way: a table of what was measured against what was required, a ``PASSED`` or ``FAILED``
line computed from those numbers (never printed otherwise), a ``metrics.json`` written
atomically, and a PNG of its curves. Usage::

    def main(argv=None) -> dict:
        with common.Run("01_perceptron", "The perceptron (Rosenblatt, 1957)", argv) as run:
            run.stage("training")
            ...
            run.check("training accuracy", acc, ">=", 1.0)
            run.plot([common.Panel("accuracy", {"train": (epochs, accs)})])
            return run.finish({"train_accuracy": acc})

``python run.py --out DIR --seed 0 [--quick | --full]``; ``main(argv)`` does the same
in-process and returns the dict written to ``metrics.json``.

Every run has a **tier**, and each tier states its own targets (a tier never borrows another's):

* ``quick`` (``--quick``): a tiny smoke run for the tests, seconds long; its targets are the
  ones so small a run honestly meets (they are lower, and say so);
* ``standard`` (the default, what ``tito milestone run all`` runs): real training to real
  targets, sized so that every milestone together fits in a few minutes on two cores;
* ``full`` (``--full``): the historical configuration and its targets (longer).

A milestone keeps its targets in one ``TIER_TARGETS = {"quick": {...}, "standard": {...},
"full": {...}}`` table and reads its own row with ``run.tiered(TIER_TARGETS)``; where a
milestone is cheap, its standard and full rows are the same run.
"""

from __future__ import annotations

import os

# Small matrices gain nothing from several BLAS threads, and on a machine shared with other
# work the threads wait for busy cores: one thread is faster and gives steadier timings. This
# only takes effect if NumPy is not imported yet (``python run.py``); otherwise Run uses
# threadpoolctl when it is installed.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import operator  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import tinytorch as tt  # noqa: E402

TIERS = ("quick", "standard", "full")
_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
        "==": operator.eq}


TIER_HELP = {"quick": "a smoke run with its own smaller targets",
             "standard": "the default; --full runs the historical configuration",
             "full": "the historical configuration and targets"}


def tier_of(args) -> str:
    """``quick`` / ``standard`` / ``full`` from parsed ``--quick`` / ``--full`` flags."""
    if getattr(args, "quick", False):
        return "quick"
    return "full" if getattr(args, "full", False) else "standard"


def fused_gelu_or_none(say=print):
    """Module 18's ``fused_gelu`` if this tinytorch has it and it matches
    ``F.gelu(approximate="tanh")`` on a few points; else None, after ``say``-ing why (the
    milestones 06 and 07 then skip their fused row rather than time a wrong kernel)."""
    import tinytorch.nn.functional as F

    try:
        from tinytorch.optimization.fused import fused_gelu

        x = tt.tensor(np.linspace(-3, 3, 7, dtype=np.float32))
        ref = F.gelu(x, approximate="tanh").numpy()
        if not np.allclose(fused_gelu(x).numpy(), ref, atol=1e-6):
            say("module 18's fused_gelu does not match F.gelu(approximate='tanh'): "
                "fused row skipped")
            return None
        return fused_gelu
    except (ImportError, NotImplementedError) as e:
        say(f"no fused GELU from module 18 ({type(e).__name__}): fused row skipped")
        return None


def seed_everything(seed: int) -> None:
    """Seed every source of randomness a milestone may touch: tinytorch's global generator
    (inits, dropout, shuffling), NumPy's legacy global one and Python's ``random``."""
    tt.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def versions() -> dict:
    return {"python": platform.python_version(), "numpy": np.__version__,
            "tinytorch": getattr(tt, "__version__", "unknown"),
            "tinytorch_path": str(Path(tt.__file__).resolve().parent)}


def write_json_atomic(path: Path, data: dict) -> None:
    """Write JSON to a temporary file in the same folder, then rename it over ``path``: a
    reader never sees a half-written file, even if the run is killed mid-write."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2, sort_keys=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def progress(iterable, desc: str = "", total: int | None = None):
    """A progress bar (tinytorch's own, drawn on stderr when it is a terminal)."""
    try:
        from tinytorch.core.progress import ProgressBar
    except ImportError:  # an older workspace without it: no bar, same loop
        return iterable
    return ProgressBar(iterable, total=total, desc=desc, leave=False)


class _BlasThreads:
    """Limit BLAS to ``n`` threads while a milestone runs (restored afterwards)."""

    def __init__(self, n: int = 1):
        self.n, self.ctl = n, None

    def __enter__(self):
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            return self
        self.ctl = threadpool_limits(limits=self.n, user_api="blas")
        return self

    def __exit__(self, *exc):
        if self.ctl is not None:
            self.ctl.restore_original_limits()


@dataclass
class Check:
    """One requirement: ``value op target`` (e.g. test accuracy >= 0.97)."""

    name: str
    value: float
    op: str
    target: float
    fmt: str = "{:.4g}"

    @property
    def passed(self) -> bool:
        return bool(_OPS[self.op](self.value, self.target))

    def as_dict(self) -> dict:
        return {"name": self.name, "value": self.value, "op": self.op, "target": self.target,
                "passed": self.passed}


@dataclass
class Panel:
    """One plot: ``curves`` maps a label to ``(xs, ys)``."""

    ylabel: str
    curves: dict
    xlabel: str = "epoch"
    title: str = ""
    logy: bool = False
    hline: float | None = None  # a target to draw as a dashed line
    hline_label: str = "target"
    draw: object = None  # or a function(ax) that draws the panel itself
    styles: dict = field(default_factory=dict)  # label -> matplotlib format string


class Run:
    """One milestone run: parses arguments, seeds, times, checks, and writes the results.

    Args:
        name: ``"01_perceptron"`` (the folder name; the default output is
            ``runs/milestones/<name>``).
        title: one line of history, printed first.
        argv: command-line arguments (``None``: ``sys.argv[1:]``).
        add_arguments: ``fn(parser)`` adding the milestone's own options.
    """

    def __init__(self, name: str, title: str, argv=None, add_arguments=None):
        parser = argparse.ArgumentParser(prog=f"milestones/{name}/run.py", description=title)
        parser.add_argument("--out", type=Path, default=Path("runs") / "milestones" / name,
                            help=f"folder for metrics.json and the plots "
                                 f"(default: runs/milestones/{name})")
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        tier = parser.add_mutually_exclusive_group()
        tier.add_argument("--quick", action="store_true",
                          help="the quick tier: a tiny smoke run for the tests, checked against "
                               "the quick tier's own (lower) targets")
        tier.add_argument("--full", action="store_true",
                          help="the full tier: the historical configuration and targets "
                               "(longer); without --quick or --full: the standard tier")
        if add_arguments is not None:
            add_arguments(parser)
        self.args = parser.parse_args(argv)
        self.name, self.title = name, title
        self.out = Path(self.args.out)
        self.seed = self.args.seed
        self.tier = tier_of(self.args)
        self.quick, self.full = self.tier == "quick", self.tier == "full"
        self.checks: list[Check] = []
        self.plot_path: Path | None = None
        self._threads = _BlasThreads(1)

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> "Run":
        self.out.mkdir(parents=True, exist_ok=True)
        self._threads.__enter__()
        seed_everything(self.seed)
        self.start = time.perf_counter()
        print(f"Milestone {self.name}: {self.title}")
        print(f"  seed {self.seed}; {self.tier} tier ({TIER_HELP[self.tier]}); results in "
              f"{self.out}")
        return self

    def __exit__(self, *exc):
        self._threads.__exit__(*exc)

    def tiered(self, table: dict):
        """This run's row of a ``{"quick": ..., "standard": ..., "full": ...}`` table."""
        missing = [t for t in TIERS if t not in table]
        if missing:
            raise KeyError(f"{self.name}: the tier table has no row for {missing}; it needs "
                           f"one per tier {TIERS}")
        return table[self.tier]

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def stage(self, message: str) -> None:
        """Print one line of progress, with the time since the start."""
        print(f"[{self.elapsed():6.1f}s] {message}", flush=True)

    def progress(self, iterable, desc: str = "", total: int | None = None):
        return progress(iterable, desc=desc, total=total)

    # ------------------------------------------------------------------ results

    def check(self, name: str, value, op: str, target, fmt: str = "{:.4g}") -> Check:
        """Record a requirement; the run passes only if every check does."""
        if op not in _OPS:
            raise ValueError(f"check: op must be one of {list(_OPS)}, got {op!r}")
        c = Check(name, float(value), op, float(target), fmt)
        self.checks.append(c)
        return c

    def plot(self, panels: list[Panel], filename: str = "curves.png") -> Path:
        """Draw the panels side by side into ``out/filename`` (matplotlib, Agg backend)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.6), squeeze=False)
        for ax, p in zip(axes[0], panels):
            if p.draw is not None:
                p.draw(ax)
            for label, (xs, ys) in p.curves.items():
                ax.plot(xs, ys, p.styles.get(label, "-"), label=label, lw=1.4, ms=3)
            if p.hline is not None:
                ax.axhline(p.hline, color="k", ls="--", lw=0.8, label=p.hline_label)
            if p.logy:
                ax.set_yscale("log")
            ax.set_xlabel(p.xlabel)
            ax.set_ylabel(p.ylabel)
            if p.title:
                ax.set_title(p.title, fontsize=10)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=7)
        fig.suptitle(f"{self.name}: {self.title}", fontsize=10)
        fig.tight_layout()
        self.plot_path = self.out / filename
        fig.savefig(self.plot_path, dpi=110)
        plt.close(fig)
        return self.plot_path

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def finish(self, metrics: dict, extra: dict | None = None) -> dict:
        """Print the result table and the PASSED/FAILED line; write ``metrics.json``.

        ``passed`` is computed from the checks alone: a run with no checks fails.
        """
        seconds = self.elapsed()
        result = {
            "milestone": self.name,
            "title": self.title,
            "passed": self.passed,
            "metrics": {k: _plain(v) for k, v in metrics.items()},
            "targets": {c.name: f"{c.op} {c.target:g}" for c in self.checks},
            "checks": [c.as_dict() for c in self.checks],
            "seconds": round(seconds, 3),
            "seed": self.seed,
            "tier": self.tier,
            "quick": self.quick,
            "args": {k: _plain(v) for k, v in vars(self.args).items()},
            "versions": versions(),
            "plot": self.plot_path.name if self.plot_path else None,
        }
        if extra:
            result.update({k: _plain(v) for k, v in extra.items()})
        write_json_atomic(self.out / "metrics.json", result)
        self._print_table(metrics)
        verdict = "PASSED" if result["passed"] else "FAILED"
        failed = [c.name for c in self.checks if not c.passed]
        summary = "; ".join(f"{c.name} {c.fmt.format(c.value)} (target {c.op} "
                            f"{c.fmt.format(c.target)})" for c in self.checks)
        print(f"{verdict}: milestone {self.name} ({self.tier} tier): "
              f"{summary or 'no checks were recorded'}"
              + (f" -- not met: {', '.join(failed)}" if failed else ""))
        print(f"  {seconds:.1f} s; metrics in {self.out / 'metrics.json'}"
              + (f", plot {self.plot_path}" if self.plot_path else ""))
        return result

    def _print_table(self, metrics: dict) -> None:
        rows = [(c.name, c.fmt.format(c.value), f"{c.op} {c.fmt.format(c.target)}",
                 "pass" if c.passed else "FAIL") for c in self.checks]
        checked = {c.name for c in self.checks}
        rows += [(k, _fmt(v), "", "") for k, v in metrics.items()
                 if k not in checked and not isinstance(v, (list, tuple, dict, np.ndarray))]
        headers = ("measured", "value", "target", "result")
        widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(4)]
        line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
        print(line)
        print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |")
        print(line)
        for r in rows:
            print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
        print(line)


def _plain(v):
    """NumPy scalars and arrays -> JSON-friendly Python values."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, Path):
        return str(v)
    return v


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt(x) for x in v)
    return str(v)
