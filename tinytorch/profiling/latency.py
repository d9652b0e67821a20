"""Module 14 -- latency you can trust: warm up, repeat, report the median and the spread.

One timing of a function is a sample of a noisy process: the first call pays for caches,
lazy imports and allocator growth; later calls are disturbed by the OS, other processes and
the garbage collector. So :func:`measure_latency`

1. runs ``warmup`` calls that are thrown away (steady state: warm caches, grown heap);
2. times ``repeats`` calls, each on its own (``time.perf_counter``);
3. reports the **median** (robust: a few slow outliers do not move it, unlike the mean) and
   the **interquartile range** ``IQR = Q3 - Q1`` (the middle half of the samples: the spread
   you should expect run to run), with min, mean and standard deviation beside them.

Also here: Amdahl's law, the ceiling on any speedup of one part of a program.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

__all__ = ["LatencyStats", "measure_latency", "summarize", "amdahl_speedup", "amdahl_limit"]


@dataclass(frozen=True)
class LatencyStats:
    """Summary of repeated timings, in seconds (``samples`` keeps every one)."""

    median: float
    q1: float
    q3: float
    mean: float
    std: float
    min: float
    max: float
    samples: tuple = field(repr=False)

    @property
    def iqr(self) -> float:
        """Interquartile range ``q3 - q1``: the spread of the middle half of the samples."""
        return self.q3 - self.q1

    @property
    def relative_spread(self) -> float:
        """IQR / median: 0.05 means the middle half of the runs lie within ~5% of each other."""
        return self.iqr / self.median if self.median else float("inf")

    def __str__(self) -> str:
        return (f"median {self.median * 1e3:.3f} ms (IQR {self.iqr * 1e3:.3f} ms, "
                f"min {self.min * 1e3:.3f} ms, n={len(self.samples)})")


def summarize(samples) -> LatencyStats:
    """Median, quartiles (NumPy's default linear interpolation), mean, std, min, max."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        raise ValueError("summarize: no samples; time at least one call (repeats >= 1)")
    # BEGIN SOLUTION
    q1, median, q3 = np.percentile(x, [25, 50, 75])
    # END SOLUTION
    return LatencyStats(float(median), float(q1), float(q3), float(x.mean()), float(x.std()),
                        float(x.min()), float(x.max()), tuple(float(s) for s in x))


def measure_latency(fn, *args, warmup: int = 3, repeats: int = 20, timer=time.perf_counter,
                    **kwargs) -> LatencyStats:
    """Time ``fn(*args, **kwargs)``: ``warmup`` untimed calls, then ``repeats`` timed ones.

    ``timer`` is the clock (seconds as a float); tests pass a fake one to check the
    bookkeeping. Returns a :class:`LatencyStats` of the ``repeats`` samples.
    """
    if repeats < 1:
        raise ValueError(f"measure_latency: repeats={repeats}; time at least one call")
    # BEGIN SOLUTION
    for _ in range(warmup):
        fn(*args, **kwargs)
    samples = []
    for _ in range(repeats):
        t0 = timer()
        fn(*args, **kwargs)
        samples.append(timer() - t0)
    # END SOLUTION
    return summarize(samples)


def amdahl_speedup(fraction: float, speedup: float) -> float:
    """Overall speedup when a ``fraction`` of the run time is made ``speedup`` times faster.

    Amdahl's law: ``1 / ((1 - p) + p / s)``. Making 60% of a step 10x faster gives
    ``1 / (0.4 + 0.06) = 2.17x``, not 10x: the untouched 40% now dominates.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"amdahl_speedup: fraction={fraction} must be in [0, 1] (a share "
                         "of the run time)")
    if speedup <= 0:
        raise ValueError(f"amdahl_speedup: speedup={speedup} must be positive")
    # BEGIN SOLUTION
    return 1.0 / ((1.0 - fraction) + fraction / speedup)
    # END SOLUTION


def amdahl_limit(fraction: float) -> float:
    """The ceiling as the speedup of that part goes to infinity: ``1 / (1 - p)``."""
    return float("inf") if fraction >= 1.0 else 1.0 / (1.0 - fraction)
