"""Module 19 -- the benchmark runner: warm up, repeat, summarize.

``Benchmark(warmup=3, repeats=20).measure("mlp step", step)`` calls ``step`` three times
untimed, then twenty times timed (one ``time.perf_counter`` pair each, the garbage collector
left on: a user's program pays for it too), and returns a :class:`Measurement`: the samples
and their :class:`~tinytorch.benchmarking.stats.Summary` (median, quartiles, Tukey outliers).

Why warm up: the first calls of a step are not the steady state. NumPy and the allocator
reserve their buffers, the CPU's caches fill, lazily built things (an optimizer's moment
buffers, a cached mask) are built. Timing them mixes a one-off cost into a per-step number.

Why many repeats and a median: see ``stats.py``. Why ``number``: a call that takes a few
microseconds is shorter than the timer's resolution and jitter; timing ``number`` calls
together and dividing gives each sample enough length to be measured.

Whole workloads can also run each in a fresh process (``isolation.py``): nothing one
workload allocated or imported then warms or slows the next, which is how a user runs a
script. TinyMLPerf (``tinymlperf.py``) does that by default.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from tinytorch.benchmarking.stats import Summary, summarize

__all__ = ["Benchmark", "Measurement", "time_calls"]


def time_calls(fn: Callable[[], object], warmup: int, repeats: int, number: int = 1,
               clock: Callable[[], float] = time.perf_counter) -> list[float]:
    """Milliseconds per call of ``fn()``: ``warmup`` untimed calls, then ``repeats`` samples,
    each the time of ``number`` calls in a row divided by ``number``.

    ``clock`` returns seconds (``time.perf_counter``; ``time.process_time`` measures the CPU
    time this process used instead, which other processes' load does not inflate).
    """
    if repeats < 1 or number < 1 or warmup < 0:
        raise ValueError(f"time_calls: need repeats >= 1, number >= 1, warmup >= 0; got "
                         f"repeats={repeats}, number={number}, warmup={warmup}")
    samples = []
    # BEGIN SOLUTION
    for _ in range(warmup):
        fn()
    for _ in range(repeats):
        start = clock()
        for _ in range(number):
            fn()
        samples.append((clock() - start) * 1e3 / number)
    # END SOLUTION
    return samples


@dataclass
class Measurement:
    """One timed workload: its name, the raw samples (ms per call) and their summary."""

    name: str
    samples: list[float]
    summary: Summary
    number: int = 1
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"name": self.name, "samples": list(self.samples), "number": self.number,
                "summary": self.summary.to_dict(), "meta": dict(self.meta)}

    @classmethod
    def from_dict(cls, d: dict) -> "Measurement":
        return cls(d["name"], list(d["samples"]), Summary.from_dict(d["summary"]),
                   d.get("number", 1), dict(d.get("meta", {})))


class Benchmark:
    """Times workloads the same way every time.

    Args:
        warmup: untimed calls before timing.
        repeats: timed samples (the summary's ``n``).
        number: calls per sample (raise it for calls shorter than ~0.1 ms).
        outlier_k: Tukey's ``k``: samples beyond ``k * IQR`` outside the quartiles are outliers.
        clock: ``time.perf_counter`` (wall time, the default) or ``time.process_time``.
    """

    def __init__(self, warmup: int = 3, repeats: int = 20, number: int = 1,
                 outlier_k: float = 1.5, clock: Callable[[], float] = time.perf_counter):
        self.warmup, self.repeats, self.number = warmup, repeats, number
        self.outlier_k, self.clock = outlier_k, clock

    def measure(self, name: str, fn: Callable[[], object], number: int | None = None,
                **meta) -> Measurement:
        """Time ``fn`` (see :func:`time_calls`) and summarize; ``meta`` is kept beside it."""
        n = number or self.number
        samples = time_calls(fn, self.warmup, self.repeats, n, self.clock)
        return Measurement(name, samples, summarize(samples, self.outlier_k), n, meta)

    def run(self, workloads: dict[str, Callable[[], object]]) -> list[Measurement]:
        """Measure each ``name -> fn`` in turn, in this process."""
        return [self.measure(name, fn) for name, fn in workloads.items()]

    def config(self) -> dict:
        return {"warmup": self.warmup, "repeats": self.repeats, "number": self.number,
                "outlier_k": self.outlier_k, "clock": getattr(self.clock, "__name__", "?")}
