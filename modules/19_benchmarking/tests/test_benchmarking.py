"""Module 19 graded tests: the statistics of a timing, the timing loop, the noise verdict.

Expected values come from NumPy (``np.quantile``'s default linear interpolation) or are
worked out by hand in the test. The timing loop is checked with a fake clock, so no test
depends on how fast this machine is. Nothing here imports PyTorch or needs modules 14-18; the
small real task at the end uses modules 01-09 (an MLP on the bundled digits).
"""

import contextlib
import json

import numpy as np
import pytest

from tinytorch.benchmarking import Benchmark
from tinytorch.benchmarking import compare as cmp
from tinytorch.benchmarking import results, tinymlperf
from tinytorch.benchmarking.benchmark import time_calls
from tinytorch.benchmarking.stats import (Summary, iqr, median, quantile, summarize,
                                          tukey_fences)


def _timings(seed, n=21, centre=10.0, spread=0.03, outliers=(40.0, 25.0)):
    """Timings around ``centre`` with a relative spread and a few planted high outliers."""
    xs = centre * (1 + spread * np.random.default_rng(seed).standard_normal(n))
    xs[: len(outliers)] = outliers
    return xs.tolist()


class FakeClock:
    """A clock that advances ``tick`` seconds each time it is read."""

    def __init__(self, tick=0.5):
        self.t, self.tick, self.reads = 0.0, tick, 0

    def __call__(self):
        self.t += self.tick
        self.reads += 1
        return self.t


# --------------------------------------------------------------------------- quantiles


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 21])
def test_quantile_matches_numpy_linear_interpolation(n):
    xs = np.random.default_rng(n).exponential(2.0, n)
    for q in (0.0, 0.1, 0.25, 0.5, 0.6, 0.75, 0.99, 1.0):
        assert quantile(xs, q) == pytest.approx(np.quantile(xs, q), rel=1e-12), (n, q)


def test_quantile_interpolates_between_order_statistics():
    # sorted [1, 2, 4, 8]: q=0.5 -> position 1.5 -> halfway between 2 and 4
    assert quantile([8, 1, 4, 2], 0.5) == 3.0
    assert quantile([8, 1, 4, 2], 0.25) == pytest.approx(1.75)  # position 0.75
    assert quantile([8, 1, 4, 2], 1.0) == 8.0 and quantile([8, 1, 4, 2], 0.0) == 1.0
    assert quantile([5.0], 0.3) == 5.0


def test_median_and_iqr():
    xs = _timings(1)
    q1, q3 = np.quantile(xs, [0.25, 0.75])
    assert median(xs) == pytest.approx(np.median(xs))
    assert median([3, 1, 2, 10]) == 2.5
    assert iqr(xs) == pytest.approx(q3 - q1)
    assert iqr([1, 2, 3, 4, 5]) == 2.0  # Q1 = 2, Q3 = 4


def test_tukey_fences():
    xs = _timings(2)
    q1, q3 = np.quantile(xs, [0.25, 0.75])
    assert tukey_fences(xs) == pytest.approx((q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)))
    assert tukey_fences(xs, k=3.0) == pytest.approx((q1 - 3 * (q3 - q1), q3 + 3 * (q3 - q1)))
    assert tukey_fences([1, 2, 3, 4, 5]) == (-1.0, 7.0)


# --------------------------------------------------------------------------- summaries


def test_summary_sets_outliers_aside_and_counts_them():
    xs = _timings(3)
    lo, hi = (np.quantile(xs, 0.25) - 1.5 * iqr(xs), np.quantile(xs, 0.75) + 1.5 * iqr(xs))
    kept = np.array([x for x in xs if lo <= x <= hi])
    s = summarize(xs)
    assert s.n == len(xs) and s.outliers == len(xs) - len(kept) >= 2
    assert 40.0 not in kept and s.max < 25.0
    assert s.median == pytest.approx(np.median(kept))
    assert (s.q1, s.q3) == pytest.approx(tuple(np.quantile(kept, [0.25, 0.75])))
    assert s.iqr == pytest.approx(s.q3 - s.q1) and s.mean == pytest.approx(kept.mean())


def test_one_wild_sample_moves_the_mean_not_the_median():
    calm = [10.0, 10.2, 9.9, 10.1, 10.0, 9.8, 10.3]
    wild = calm[:-1] + [1000.0]
    assert abs(np.mean(wild) - np.mean(calm)) > 100
    assert summarize(wild).median == pytest.approx(summarize(calm[:-1]).median)
    assert summarize(wild).outliers == 1


# --------------------------------------------------------------------------- timing loop


def test_time_calls_warms_up_untimed_then_times_each_sample():
    calls = []
    clock = FakeClock(tick=0.5)
    samples = time_calls(lambda: calls.append(1), warmup=3, repeats=4, clock=clock)
    assert len(calls) == 3 + 4, "warm-up calls run, then one call per sample"
    assert clock.reads == 2 * 4, "one clock read before and one after each timed sample"
    assert samples == pytest.approx([500.0] * 4), "milliseconds: (0.5 s between reads) * 1e3"


def test_time_calls_divides_by_number():
    calls = []
    clock = FakeClock(tick=1.0)
    samples = time_calls(lambda: calls.append(1), warmup=1, repeats=3, number=4, clock=clock)
    assert len(calls) == 1 + 3 * 4 and clock.reads == 2 * 3
    assert samples == pytest.approx([250.0] * 3), "each sample is 1 s / 4 calls = 250 ms"


def test_time_calls_measures_real_work_in_order():
    """With a clock that reads a counter the calls advance, each sample sees its own call."""
    state = {"t": 0.0, "i": 0}

    def work():
        state["i"] += 1
        state["t"] += 0.001 * state["i"]  # call i takes i ms

    samples = time_calls(work, warmup=2, repeats=3, clock=lambda: state["t"])
    assert samples == pytest.approx([3.0, 4.0, 5.0]), "calls 1-2 are the warm-up"


def test_benchmark_measure_summarizes_its_samples():
    m = Benchmark(warmup=2, repeats=6, clock=FakeClock(0.25)).measure("step", lambda: None)
    assert m.name == "step" and len(m.samples) == 6
    assert m.summary == summarize(m.samples) and m.summary.median == pytest.approx(250.0)
    with pytest.raises(ValueError):
        time_calls(lambda: None, warmup=0, repeats=0)


# --------------------------------------------------------------------------- comparison


def _s(median, q1, q3):
    return Summary(11, median, q1, q3, q1, q3, median, 0, 0)


def test_within_noise_when_intervals_overlap():
    assert cmp.within_noise(_s(10, 9, 11), _s(11.5, 10.8, 12.5), floor=0.0)  # 10.8 <= 11
    assert not cmp.within_noise(_s(10, 9, 11), _s(13, 12, 14), floor=0.0)
    assert cmp.within_noise(_s(13, 12, 14), _s(10, 9, 11), floor=0.5)  # widened by 50%
    assert cmp.within_noise(_s(10, 9, 11), _s(12, 11, 13), floor=0.0)  # touching counts


def test_noise_floor_widens_tight_intervals():
    a, b = _s(10.0, 9.99, 10.01), _s(10.5, 10.49, 10.51)
    assert not cmp.within_noise(a, b, floor=0.0)
    assert cmp.within_noise(a, b, floor=0.05)  # [9.5, 10.5] meets [9.975, 11.025]
    assert not cmp.within_noise(a, _s(20.0, 19.9, 20.1), floor=0.10)


def test_same_workload_twice_is_within_noise_and_twice_the_work_is_flagged():
    a, b = summarize(_timings(10)), summarize(_timings(11))
    same = cmp.compare("step", a, b)
    assert same.verdict == "within noise" and not same.flagged
    slow = cmp.compare("step", a, summarize([2 * x for x in _timings(12)]))
    assert slow.verdict == "slower" and slow.flagged
    assert slow.speedup == pytest.approx(0.5, rel=0.1) and slow.lo <= slow.speedup <= slow.hi
    fast = cmp.compare("step", summarize([2 * x for x in _timings(13)]), a)
    assert fast.verdict == "faster" and not fast.flagged


# --------------------------------------------------------------------------- a real task


def test_a_real_task_trains_to_its_target_and_its_file_checks_out(tmp_path):
    """The smallest TinyMLPerf task on your framework: trained, tested on held-out digits,
    timed with your loop, summarized with your statistics, saved and read back."""
    try:
        from threadpoolctl import threadpool_limits
        limit = threadpool_limits(1, user_api="blas")
    except ImportError:
        limit = contextlib.nullcontext()
    with limit:
        row = tinymlperf.run_in_process("mlp_digits", quick=True, repeats=3)
    assert row["error"] is None, row.get("traceback")
    assert row["met"] and row["quality"] >= row["target"] == 0.93
    for key in ("train_step_ms", "latency_b1_ms", "batch32_ms"):
        m = row["measurements"][key]
        assert Summary.from_dict(m["summary"]) == summarize(m["samples"])
    data = results.make([row], {"cpu": "test"}, {"outlier_k": 1.5}, tinymlperf.SUITE_VERSION)
    path = results.save(data, tmp_path / "run.json")
    assert results.load(path)["tasks"][0]["quality"] == row["quality"]
    same = cmp.compare_results(data, json.loads(path.read_text()))
    assert same["flagged"] == 0 and all(c.verdict == "within noise" for c in same["timings"])
