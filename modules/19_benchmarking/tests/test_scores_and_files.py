"""Module 19 graded tests, part 2: the code you are given around your three functions -- the
outlier counts, suite scores, the comparison of two result files, their validation on load,
the planted slowdown and where a task's reported quality comes from.

Added after a review that planted bugs in this code without reading the tests (see
tito/mutations_independent.py, module 19): each test below states a behaviour those bugs broke.
Expected values come from NumPy or are worked out by hand; no real clock is read for an
assertion. Nothing here imports PyTorch.
"""

import types

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.benchmarking import Benchmark
from tinytorch.benchmarking import compare as cmp
from tinytorch.benchmarking import results, tinymlperf
from tinytorch.benchmarking.stats import summarize


def _tukey_oracle(xs, k=1.5):
    """(kept, low outliers, high outliers) by Tukey's rule, computed with NumPy."""
    xs = np.asarray(xs, dtype=float)
    q1, q3 = np.quantile(xs, [0.25, 0.75])
    lo, hi = q1 - k * (q3 - q1), q3 + k * (q3 - q1)
    return xs[(xs >= lo) & (xs <= hi)], int((xs < lo).sum()), int((xs > hi).sum())


def test_low_and_high_outliers_are_counted_on_their_own_side():
    xs = [10.0, 10.1, 9.9, 10.2, 9.8, 10.0, 10.1, 9.9, 0.5, 40.0, 30.0]  # 1 low, 2 high
    kept, low, high = _tukey_oracle(xs)
    s = summarize(xs)
    assert (low, high) == (1, 2)
    assert s.outliers == low + high and s.low_outliers == low
    assert s.min == kept.min() and s.max == kept.max()
    only_high = summarize([x for x in xs if x != 0.5])
    assert only_high.low_outliers == 0 and only_high.outliers == 2


# --------------------------------------------------------------------------- result files


def _samples(median, seed):
    rng = np.random.default_rng(seed)
    return (median * (1 + 0.02 * rng.standard_normal(9))).tolist()


def _task(task_id, met, medians, seed=0):
    """A results-file task row whose timings are ``{key: median}`` (9 samples each)."""
    ms = {}
    for i, (key, med) in enumerate(medians.items()):
        xs = _samples(med, seed + i)
        ms[key] = {"samples": xs, "summary": summarize(xs).to_dict()}
    return {"id": task_id, "name": task_id, "metric": "accuracy", "higher_is_better": True,
            "target": 0.9, "quality": 0.95 if met else 0.5, "met": met, "measurements": ms}


def _run(*tasks):
    return results.make(list(tasks), {"cpu": "test"}, {"outlier_k": 1.5}, 1)


def test_suite_score_is_the_geometric_mean_over_tasks_that_met_their_target():
    ref = _run(_task("a", True, {"latency_b1_ms": 1.0, "batch32_ms": 4.0}),
               _task("b", True, {"latency_b1_ms": 2.0}, seed=5))
    # B: task a twice as fast on one timing, as fast on the other; task b 8x faster but it
    # missed its target, so it must not count
    run = _run(_task("a", True, {"latency_b1_ms": 0.5, "batch32_ms": 4.0}, seed=10),
               _task("b", False, {"latency_b1_ms": 0.25}, seed=15))
    s = cmp.suite_score(run, ref)
    assert sorted(r["name"] for r in s["rows"]) == ["a batch32_ms", "a latency_b1_ms"]
    scores = [r["score"] for r in s["rows"]]
    assert s["score"] == pytest.approx(np.exp(np.mean(np.log(scores))), rel=1e-12)
    assert s["score"] == pytest.approx(np.sqrt(2.0), rel=0.06)
    for end in ("lo", "hi"):
        assert s[end] == pytest.approx(np.exp(np.mean(np.log([r[end] for r in s["rows"]]))))
    assert cmp.suite_score(_run(_task("a", False, {"latency_b1_ms": 0.5})), ref)["score"] is None


def test_compare_results_flags_a_task_that_lost_its_target_not_one_that_gained_it():
    timing = {"latency_b1_ms": 1.0}
    met, missed = _run(_task("a", True, timing)), _run(_task("a", False, timing, seed=1))
    lost = cmp.compare_results(met, missed)
    assert lost["quality"][0]["lost_target"] and lost["flagged"] >= 1
    gained = cmp.compare_results(missed, met)
    assert not gained["quality"][0]["lost_target"] and gained["flagged"] == 0


def test_a_results_file_of_another_schema_version_or_with_an_edited_median_is_refused(tmp_path):
    good = _run(_task("a", True, {"latency_b1_ms": 1.0, "batch32_ms": 3.0}))
    assert results.load(results.save(good, tmp_path / "ok.json"))["tasks"][0]["id"] == "a"
    for version in (0, 2, "1"):
        bad = dict(good, schema_version=version)
        with pytest.raises(results.SchemaError, match="schema_version"):
            results.validate(bad)
    for field in ("median", "q1", "q3"):
        edited = _run(_task("a", True, {"latency_b1_ms": 1.0, "batch32_ms": 3.0}))
        edited["tasks"][0]["measurements"]["batch32_ms"]["summary"][field] *= 0.5
        with pytest.raises(results.SchemaError, match="does not match its samples"):
            results.validate(edited)


# --------------------------------------------------------------------------- tinymlperf


def test_planted_slowdown_factor_two_doubles_the_cpu_cost(monkeypatch):
    """On a fake CPU clock: the call costs 1.0, each reading of the clock 0.001; factor 2 must
    burn one more call's worth (the clock ends just past 2.0), not two."""
    clock = {"t": 0.0}

    def process_time():
        clock["t"] += 0.001
        return clock["t"]

    def work():
        clock["t"] += 1.0
        return "done"

    monkeypatch.setattr(tinymlperf, "time", types.SimpleNamespace(
        process_time=process_time, perf_counter=process_time))
    slowed = tinymlperf.planted_slowdown(work, 2.0)
    t0 = clock["t"]
    assert slowed() == "done"
    assert 2.0 <= clock["t"] - t0 < 2.02, clock["t"] - t0


class _Ticks:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        self.t += 1e-3
        return self.t


def test_a_task_reports_its_quality_on_the_held_out_split_not_the_stopping_one():
    """A fake task whose validation split (used to stop training) reads 0.99 and whose
    held-out test split reads 0.80: the row reports 0.80, which misses the 0.9 target."""
    def prepare(quick):
        tt.manual_seed(0)
        return tinymlperf.Prepared(tt.nn.Linear(2, 2), lambda: 1.0, lambda: 0.99,
                                   lambda: 0.80, tt.ones(1, 2), tt.ones(32, 2), 0.9, 6, 2,
                                   {}, None)

    task = tinymlperf.Task("fake", "fake task", "accuracy", True, prepare)
    row = tinymlperf.run_task(task, bench=Benchmark(warmup=0, repeats=3, clock=_Ticks()))
    assert row["validation"] == 0.99 and row["validation_reached_target"]
    assert row["quality"] == 0.80 and not row["met"]
    assert row["steps"] == 2, "training stops at the first validation past the target"
