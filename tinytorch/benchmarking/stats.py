"""Module 19 -- the statistics of a timing: median, quartiles, and Tukey's outlier fences.

A timing is never one number. Run the same step twenty times and the times scatter: the
first calls pay for cold caches and lazy allocations, a garbage collection lands in one call,
another process takes the core for a few milliseconds. Two summaries survive that:

* the **median** (the middle sample) does not move when one sample is ten times too large,
  where the mean does;
* the **interquartile range** ``IQR = Q3 - Q1`` (the width of the middle half of the samples)
  is the spread that, again, one wild sample cannot blow up (the standard deviation can).

Samples far outside the middle half are **outliers**, by Tukey's rule: below
``Q1 - k * IQR`` or above ``Q3 + k * IQR`` (``k = 1.5``). They are counted and reported, then
left out of the summary: a benchmark that hides its outliers is as suspect as one that lets
them decide the result.

Quantiles interpolate linearly between order statistics, the definition NumPy's
``np.quantile`` uses by default (method ``"linear"``): the ``q``-quantile of ``n`` sorted
samples sits at position ``q * (n - 1)``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

__all__ = ["quantile", "median", "iqr", "tukey_fences", "Summary", "summarize"]


def quantile(samples, q: float) -> float:
    """The ``q``-quantile of ``samples`` (0 <= q <= 1), NumPy's linear interpolation.

    Sorted samples ``s`` of length ``n``: position ``p = q * (n - 1)``, ``i = floor(p)``,
    result ``s[i] + (p - i) * (s[i + 1] - s[i])``. ``quantile(s, 0.5)`` is the median.
    """
    values = sorted(float(v) for v in samples)
    if not values:
        raise ValueError("quantile of no samples: time the workload at least once")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile: q must be in [0, 1], got {q}")
    # BEGIN SOLUTION
    pos = q * (len(values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (pos - lo) * (values[hi] - values[lo])
    # END SOLUTION


def median(samples) -> float:
    """The middle sample (the mean of the two middle ones for an even count)."""
    return quantile(samples, 0.5)


def iqr(samples) -> float:
    """Interquartile range ``Q3 - Q1``: the width of the middle half of the samples."""
    # BEGIN SOLUTION
    return quantile(samples, 0.75) - quantile(samples, 0.25)
    # END SOLUTION


def tukey_fences(samples, k: float = 1.5) -> tuple[float, float]:
    """Tukey's fences ``(Q1 - k * IQR, Q3 + k * IQR)``: samples outside them are outliers."""
    # BEGIN SOLUTION
    q1, q3 = quantile(samples, 0.25), quantile(samples, 0.75)
    return q1 - k * (q3 - q1), q3 + k * (q3 - q1)
    # END SOLUTION


@dataclass(frozen=True)
class Summary:
    """What a list of timings says, outliers set aside and counted.

    ``median``, ``q1``, ``q3`` are of the kept samples (inside Tukey's fences); ``n`` is how
    many samples were taken, ``outliers`` how many fell outside the fences (``low`` + ``high``:
    a high outlier is usually a collection or a neighbour's burst, a low one is rarer and worth
    a look), ``mean`` and ``min`` / ``max`` are of the kept samples too. ``unit`` says what the
    numbers are (``"ms"``).
    """

    n: int
    median: float
    q1: float
    q3: float
    min: float
    max: float
    mean: float
    outliers: int
    low_outliers: int
    unit: str = "ms"

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    @property
    def rel_spread(self) -> float:
        """IQR / median: 0.05 means the middle half of the samples spans 5% of the median."""
        return self.iqr / self.median if self.median else math.inf

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Summary":
        fields = cls.__dataclass_fields__
        unknown = set(d) - set(fields)
        if unknown:
            raise ValueError(f"Summary: unknown fields {sorted(unknown)}")
        return cls(**d)

    def scaled(self, factor: float) -> "Summary":
        """The same summary with every value times ``factor`` (a positive number): a step's
        time times the number of steps, say."""
        if factor <= 0:
            raise ValueError(f"scaled: factor must be positive, got {factor}")
        return Summary(self.n, self.median * factor, self.q1 * factor, self.q3 * factor,
                       self.min * factor, self.max * factor, self.mean * factor, self.outliers,
                       self.low_outliers, self.unit)


def summarize(samples, k: float = 1.5, unit: str = "ms") -> Summary:
    """Median, quartiles and extremes of ``samples`` after setting aside Tukey's outliers.

    Fewer than four samples have no meaningful quartiles to fence with: nothing is then
    called an outlier.
    """
    values = [float(v) for v in samples]
    if not values:
        raise ValueError("summarize: no samples (was the workload timed at all?)")
    if any(math.isnan(v) for v in values):
        raise ValueError("summarize: a sample is NaN")
    if len(values) >= 4:
        lo, hi = tukey_fences(values, k)
    else:
        lo, hi = -math.inf, math.inf
    kept = [v for v in values if lo <= v <= hi]
    low = sum(v < lo for v in values)
    return Summary(n=len(values), median=median(kept), q1=quantile(kept, 0.25),
                   q3=quantile(kept, 0.75), min=min(kept), max=max(kept),
                   mean=sum(kept) / len(kept), outliers=len(values) - len(kept),
                   low_outliers=low, unit=unit)
