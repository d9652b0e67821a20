"""Module 19 -- is B faster than A, slower, or the same within noise?

Two runs of the same code on the same machine never give the same medians: a 3% difference
means nothing when each run's own samples spread by 10%. So a comparison states the
**speedup** ``A.median / B.median`` (above 1: B is faster) *with its spread*, the range the
two runs' middle halves allow::

    lo = A.q1 / B.q3        hi = A.q3 / B.q1

and calls the difference **within noise** when the two runs' intervals overlap. Each
interval is the run's quartiles ``[Q1, Q3]``, widened to at least ``median * (1 +- floor)``:
runs repeated minutes apart drift (the machine's other work, the CPU's clock, a virtual
machine's neighbours) even when each run's own samples are tight, and a benchmark that calls
that drift a regression cries wolf. ``floor = 0.20`` by default, so two runs' medians must be
more than (1 + 0.2) / (1 - 0.2) = 1.5x apart to be flagged: on the 2-core virtual machine this
course was built on, two quiet runs of the same suite minutes apart differed by up to 1.41x on
one timing (``benchmarks/noise_check/``), and 0.10 flagged 2 of 12 timings of that same-code
pair. A machine of your own that holds still deserves a tighter ``--noise-floor``.

A difference outside the noise is ``faster`` or ``slower``; a slower one is **flagged**.

Scores compare machines: a run's score on a workload is ``reference.median / run.median``
(the reference run's time over this one's, above 1: faster than the reference), and the
suite's score is the geometric mean over workloads, so no single workload dominates.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from tinytorch.benchmarking.stats import Summary

__all__ = ["NOISE_FLOOR", "noise_interval", "within_noise", "Comparison", "compare",
           "compare_results", "score", "suite_score"]

NOISE_FLOOR = 0.20  # see the module docstring: measured drift between same-code runs


def noise_interval(s: Summary, floor: float = NOISE_FLOOR) -> tuple[float, float]:
    """``[Q1, Q3]`` widened to at least ``[median * (1 - floor), median * (1 + floor)]``."""
    return min(s.q1, s.median * (1 - floor)), max(s.q3, s.median * (1 + floor))


def within_noise(a: Summary, b: Summary, floor: float = NOISE_FLOOR) -> bool:
    """True when the noise intervals of ``a`` and ``b`` overlap: no difference is shown."""
    # BEGIN SOLUTION
    a_lo, a_hi = noise_interval(a, floor)
    b_lo, b_hi = noise_interval(b, floor)
    return a_lo <= b_hi and b_lo <= a_hi
    # END SOLUTION


@dataclass(frozen=True)
class Comparison:
    """A (baseline) vs B (candidate) on one workload; times, so lower is better.

    ``speedup``: A.median / B.median; ``lo`` / ``hi``: its spread (A.q1 / B.q3, A.q3 / B.q1);
    ``verdict``: ``"within noise"``, ``"faster"`` or ``"slower"``; ``flagged``: B is slower
    beyond the noise (a regression to look at).
    """

    name: str
    a_median: float
    b_median: float
    speedup: float
    lo: float
    hi: float
    verdict: str
    flagged: bool

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """``"2.00x slower (1.9x-2.1x)"``, ``"1.02x faster, within noise"``..."""
        if self.speedup >= 1:
            head = f"{self.speedup:.2f}x faster"
        else:
            head = f"{1 / self.speedup:.2f}x slower"
        spread = f"speedup {self.lo:.2f}-{self.hi:.2f}"
        return f"{head} ({spread}), within noise" if self.verdict == "within noise" \
            else f"{head} ({spread})"


def compare(name: str, a: Summary, b: Summary, floor: float = NOISE_FLOOR) -> Comparison:
    """The verdict on one workload timed in two runs (see the module docstring)."""
    speedup = a.median / b.median
    lo, hi = a.q1 / b.q3, a.q3 / b.q1
    if within_noise(a, b, floor):
        verdict = "within noise"
    else:
        verdict = "faster" if speedup > 1 else "slower"
    return Comparison(name, a.median, b.median, speedup, lo, hi, verdict, verdict == "slower")


def _timed(task: dict):
    """``(key, Summary)`` for every timed measurement of a TinyMLPerf task row."""
    for key, m in (task.get("measurements") or {}).items():
        yield key, Summary.from_dict(m["summary"])


def compare_results(a: dict, b: dict, floor: float = NOISE_FLOOR) -> dict:
    """Compare two TinyMLPerf results dicts (``results.load``): every task and measurement
    both have, the quality of each task, and what only one of them has.

    Returns ``{"timings": [Comparison...], "quality": [...], "missing": [...],
    "flagged": n, "suite": suite_score(b, a) with a "verdict"}``: the suite's verdict is
    "within noise" when B's score against A has 1 inside its spread (the geometric means of
    the per-timing spreads' ends), "faster" or "slower" otherwise.
    """
    by_id = {t["id"]: t for t in b.get("tasks", [])}
    timings, quality, missing = [], [], []
    for ta in a.get("tasks", []):
        tb = by_id.pop(ta["id"], None)
        if tb is None:
            missing.append(f"{ta['id']}: only in A")
            continue
        mb = dict(_timed(tb))
        for key, sa in _timed(ta):
            if key in mb:
                timings.append(compare(f"{ta['id']} {key}", sa, mb[key], floor))
        quality.append({"id": ta["id"], "metric": ta.get("metric"), "a": ta.get("quality"),
                        "b": tb.get("quality"), "a_met": ta.get("met"), "b_met": tb.get("met"),
                        "lost_target": bool(ta.get("met")) and not tb.get("met")})
    missing += [f"{i}: only in B" for i in by_id]
    suite = suite_score(b, a)  # B scored against A: above 1, B is faster overall
    if suite["score"] is not None:
        inside = suite["lo"] <= 1.0 <= suite["hi"]
        suite["verdict"] = "within noise" if inside else (
            "faster" if suite["score"] > 1 else "slower")
    flagged = (sum(c.flagged for c in timings) + sum(q["lost_target"] for q in quality)
               + (suite.get("verdict") == "slower"))
    return {"timings": timings, "quality": quality, "missing": missing, "flagged": flagged,
            "noise_floor": floor, "suite": suite}


def score(run: Summary, reference: Summary) -> tuple[float, float, float]:
    """``(score, lo, hi)``: reference.median / run.median and its spread (ref.q1 / run.q3,
    ref.q3 / run.q1). Above 1: this run is faster than the reference."""
    return (reference.median / run.median, reference.q1 / run.q3, reference.q3 / run.q1)


def suite_score(run: dict, reference: dict) -> dict:
    """Per-measurement scores of a results dict against a reference one, and their geometric
    mean (with the geometric means of the spreads' ends). Tasks that missed their quality
    target in ``run`` get no score: a fast model that does not work does not count."""
    ref = {t["id"]: dict(_timed(t)) for t in reference.get("tasks", [])}
    rows = []
    for t in run.get("tasks", []):
        if not t.get("met") or t["id"] not in ref:
            continue
        for key, s in _timed(t):
            if key in ref[t["id"]]:
                value, lo, hi = score(s, ref[t["id"]][key])
                rows.append({"name": f"{t['id']} {key}", "score": value, "lo": lo, "hi": hi})
    if not rows:
        return {"rows": [], "score": None, "lo": None, "hi": None}

    def gmean(k):
        return math.exp(sum(math.log(r[k]) for r in rows) / len(rows))

    return {"rows": rows, "score": gmean("score"), "lo": gmean("lo"), "hi": gmean("hi")}
