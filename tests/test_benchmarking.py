"""The benchmarking package (module 19) and TinyMLPerf: statistics against NumPy, the results
schema, the comparison's verdicts on synthetic result files, the CLI.

No wall time is asserted. The planted-slowdown test compares sample lists built in the test;
the one test that times anything uses a fake clock.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from tinytorch.benchmarking import Benchmark, compare, results, stats, tinymlperf
from tinytorch.benchmarking.benchmark import time_calls
from tinytorch.benchmarking.compare import compare_results, suite_score, within_noise
from tinytorch.benchmarking.stats import Summary, summarize

REPO = Path(__file__).resolve().parents[1]


def _samples(seed: int, n: int = 25, median: float = 10.0, spread: float = 0.03):
    """Timings around ``median`` with a relative spread, and two high outliers."""
    rng = np.random.default_rng(seed)
    xs = median * (1 + spread * rng.standard_normal(n))
    xs[3], xs[11] = median * 4, median * 2.5  # a collection, a neighbour's burst
    return xs.tolist()


# --------------------------------------------------------------------------- statistics


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 10, 25])
@pytest.mark.parametrize("q", [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
def test_quantile_matches_numpy(n, q):
    xs = np.random.default_rng(n).exponential(1.0, n)
    assert stats.quantile(xs, q) == pytest.approx(np.quantile(xs, q), rel=1e-12)


def test_median_iqr_fences_match_numpy():
    xs = _samples(0)
    q1, q3 = np.quantile(xs, [0.25, 0.75])
    assert stats.median(xs) == pytest.approx(np.median(xs))
    assert stats.iqr(xs) == pytest.approx(q3 - q1)
    lo, hi = stats.tukey_fences(xs, 1.5)
    assert (lo, hi) == pytest.approx((q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)))


def test_summary_sets_outliers_aside_and_counts_them():
    xs = _samples(1)
    s = summarize(xs)
    q1, q3 = np.quantile(xs, [0.25, 0.75])
    fence = q3 + 1.5 * (q3 - q1)
    kept = np.array([x for x in xs if q1 - 1.5 * (q3 - q1) <= x <= fence])
    low = sum(x < q1 - 1.5 * (q3 - q1) for x in xs)
    assert s.n == 25 and s.outliers == 25 - len(kept) and s.outliers >= 2  # the two planted
    assert s.low_outliers == low
    assert s.median == pytest.approx(np.median(kept))
    assert (s.q1, s.q3) == pytest.approx(tuple(np.quantile(kept, [0.25, 0.75])))
    assert s.max == pytest.approx(kept.max()) and s.mean == pytest.approx(kept.mean())
    assert summarize(xs[:3]).outliers == 0  # too few samples to fence


def test_summary_refuses_empty_and_nan():
    with pytest.raises(ValueError, match="no samples"):
        summarize([])
    with pytest.raises(ValueError, match="NaN"):
        summarize([1.0, float("nan")])


def test_time_calls_warms_up_then_times_each_sample_with_the_clock():
    calls, ticks = [], iter(range(0, 1000, 1))

    def fn():
        calls.append(1)

    # a fake clock in seconds: each read advances one second, so every sample is 1 s / number
    samples = time_calls(fn, warmup=2, repeats=4, number=3, clock=lambda: next(ticks))
    assert len(calls) == 2 + 4 * 3
    assert samples == pytest.approx([1e3 / 3] * 4)
    m = Benchmark(warmup=0, repeats=5, clock=lambda: next(ticks)).measure("x", fn)
    assert m.summary.n == 5 and m.summary.median == pytest.approx(1e3)


# --------------------------------------------------------------------------- comparison


def test_two_runs_of_the_same_workload_are_within_noise():
    a, b = summarize(_samples(2)), summarize(_samples(3))
    c = compare.compare("step", a, b)
    assert c.verdict == "within noise" and not c.flagged
    assert c.lo <= c.speedup <= c.hi


def test_a_planted_2x_slowdown_is_flagged_and_a_2x_speedup_is_not():
    a = summarize(_samples(4))
    slow = summarize([2 * x for x in _samples(5)])  # the same work done twice
    c = compare.compare("step", a, slow)
    assert c.verdict == "slower" and c.flagged
    assert c.speedup == pytest.approx(0.5, rel=0.1) and c.hi < 1
    assert "slower" in c.describe()
    fast = compare.compare("step", slow, a)
    assert fast.verdict == "faster" and not fast.flagged


def test_noise_floor_widens_tight_intervals():
    a = Summary(9, 10.0, 9.99, 10.01, 9.9, 10.1, 10.0, 0, 0)
    b = Summary(9, 10.5, 10.49, 10.51, 10.4, 10.6, 10.5, 0, 0)
    assert within_noise(a, b, floor=0.10)  # 5% apart: run-to-run drift
    assert not within_noise(a, b, floor=0.0)  # the quartiles alone do not overlap
    assert compare.compare("x", a, b, floor=0.0).verdict == "slower"


def _task(task_id, samples_by_key, quality=0.95, met=True):
    return {"id": task_id, "name": task_id, "metric": "test accuracy", "higher_is_better": True,
            "target": 0.93, "quality": quality, "met": met, "steps": 10,
            "train_to_target_s": 1.0, "throughput_b32": {"median": 1.0, "lo": 1.0, "hi": 1.0,
                                                         "unit": "samples/s"},
            "measurements": {k: {"samples": v, "summary": summarize(v).to_dict()}
                             for k, v in samples_by_key.items()}, "error": None}


def _results(seed, factor=1.0, quality=0.95, met=True):
    tasks = [_task("mlp_digits", {"train_step_ms": [factor * x for x in _samples(seed)],
                                  "latency_b1_ms": [factor * x for x in _samples(seed + 50,
                                                                                 median=0.2)]},
                   quality, met)]
    return results.make(tasks, {"cpu": "test"}, {"quick": True, "outlier_k": 1.5}, 1)


def test_compare_result_files_same_work_within_noise_slowdown_flagged_lost_target(tmp_path):
    a, b = _results(10), _results(20)
    same = compare_results(a, b)
    assert same["flagged"] == 0
    assert [c.verdict for c in same["timings"]] == ["within noise"] * 2
    assert same["suite"]["verdict"] == "within noise"
    slow = compare_results(a, _results(30, factor=2.0))
    assert slow["flagged"] == 3 and all(c.verdict == "slower" for c in slow["timings"])
    assert slow["suite"]["verdict"] == "slower" and slow["suite"]["score"] == pytest.approx(
        0.5, rel=0.1)
    text = results.format_comparison(slow)
    assert "3 regression(s) flagged" in text and "SLOWER" in text
    lost = compare_results(a, _results(40, quality=0.5, met=False))
    assert lost["quality"][0]["lost_target"] and lost["flagged"] == 1


def test_scores_against_a_reference_run():
    ref = _results(1)
    twice_as_fast = _results(2, factor=0.5)
    sc = suite_score(twice_as_fast, ref)
    assert sc["score"] == pytest.approx(2.0, rel=0.1) and sc["lo"] < sc["score"] < sc["hi"]
    assert suite_score(_results(3, met=False), ref)["score"] is None  # missed target: no score


# --------------------------------------------------------------------------- results files


def test_results_round_trip_and_schema_checks(tmp_path):
    data = _results(5)
    path = results.save(data, tmp_path / "r.json")
    assert results.load(path) == json.loads(json.dumps(data))
    bad = copy.deepcopy(data)
    bad["schema_version"] = 99
    (tmp_path / "v.json").write_text(json.dumps(bad))
    with pytest.raises(results.SchemaError, match="schema_version 99"):
        results.load(tmp_path / "v.json")
    edited = copy.deepcopy(data)
    edited["tasks"][0]["measurements"]["train_step_ms"]["summary"]["median"] = 1.0
    (tmp_path / "e.json").write_text(json.dumps(edited))
    with pytest.raises(results.SchemaError, match="does not match its samples"):
        results.load(tmp_path / "e.json")
    with pytest.raises(results.SchemaError, match="not a TinyMLPerf"):
        results.validate({"machine": {}})
    table = results.format_table(data)
    assert "mlp_digits" in table and "yes" in table


def test_unknown_task_is_refused():
    with pytest.raises(KeyError, match="known: mlp_digits"):
        tinymlperf.get("resnet50")


def _script():
    spec = importlib.util.spec_from_file_location("_tinymlperf_cli",
                                                  REPO / "benchmarks" / "tinymlperf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_compare_exit_status_and_text(tmp_path, capsys):
    """The script behind ``tito benchmark compare`` (called in this process): 0 for the same
    work, 1 with a flag, 2 for a missing file."""
    cli = _script()
    a = results.save(_results(1), tmp_path / "a.json")
    b = results.save(_results(2), tmp_path / "b.json")
    s = results.save(_results(3, factor=2.0), tmp_path / "s.json")
    assert cli.main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "within noise" in out and "no regression" in out
    assert cli.main(["compare", str(a), str(s)]) == 1
    assert "SLOWER" in capsys.readouterr().out
    assert cli.main(["compare", str(a), str(tmp_path / "no")]) == 2
    assert "no such file" in capsys.readouterr().err
    cpu = _results(4)
    cpu["config"]["clock"] = "cpu"
    c = results.save(cpu, tmp_path / "c.json")
    assert cli.main(["compare", str(a), str(c)]) == 2
    assert "same --clock" in capsys.readouterr().err


def test_cli_compare_refuses_a_quick_run_against_a_full_one(tmp_path, capsys):
    """--quick shrinks the tasks: comparing it with a full run would report the size change as
    a speedup. A different thread count is compared, with a note saying so."""
    cli = _script()
    quick, full, two = _results(1), _results(2), _results(3)
    quick["config"]["quick"], full["config"]["quick"], two["config"]["quick"] = True, False, True
    two["config"]["threads"] = (quick["config"].get("threads") or 1) + 1
    q = results.save(quick, tmp_path / "q.json")
    assert cli.main(["compare", str(q), str(results.save(full, tmp_path / "f.json"))]) == 2
    assert "quick run and B a full run" in capsys.readouterr().err
    assert cli.main(["compare", str(q), str(results.save(two, tmp_path / "t.json"))]) in (0, 1)
    assert "BLAS thread(s)" in capsys.readouterr().err


def test_planted_slowdown_burns_cpu_in_proportion(monkeypatch):
    """The planted regression repeats the call's CPU cost (factor 3: two more of it), checked
    on a fake CPU clock: the call costs 1.0, each reading of the clock 0.001, so the busy loop
    must run the clock to just past 3.0. Never a real time (a 10 ms loop on a shared machine
    measured ratios of 2-5.3)."""
    import types

    clock = {"t": 0.0}

    def process_time():
        clock["t"] += 0.001
        return clock["t"]

    def work():
        clock["t"] += 1.0
        return 42

    monkeypatch.setattr(tinymlperf, "time", types.SimpleNamespace(
        process_time=process_time, perf_counter=process_time))
    assert tinymlperf.planted_slowdown(work, 1) is work
    slowed = tinymlperf.planted_slowdown(work, 3.0)
    t0 = clock["t"]
    assert slowed() == 42
    assert 3.0 <= clock["t"] - t0 < 3.02, clock["t"] - t0


def _one_blas_thread():
    """One BLAS thread while a task trains in this process (as the suite's children run)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def test_cli_runs_the_smallest_real_task_and_writes_a_valid_results_file(tmp_path, capsys):
    """``run --quick --only mlp_digits --in-process``: trained to its target, tested on the
    held-out split, timed, written; the numbers themselves are not asserted, only that they
    exist and agree with each other and with their samples."""
    cli = _script()
    with _one_blas_thread():
        code = cli.main(["run", "--quick", "--only", "mlp_digits", "--in-process",
                         "--repeats", "3", "--json", str(tmp_path / "r.json")])
    out = capsys.readouterr().out
    data = results.load(tmp_path / "r.json")  # validates every summary against its samples
    row = data["tasks"][0]
    assert code == 0 and "mlp_digits" in out and data["config"]["quick"] is True
    assert row["error"] is None, row.get("traceback")
    assert row["met"] == (row["quality"] >= row["target"]) and row["met"]
    assert row["validation_reached_target"] and row["steps"] % 30 == 0
    assert row["info"]["train/val/test"] == [1138, 300, 359]
    assert set(row["measurements"]) == {"train_step_ms", "latency_b1_ms", "batch32_ms"}
    assert data["environment"]["cores"] and "blas" in data["environment"]
    assert cli.main(["run", "--only", "resnet50"]) == 2


def test_tito_benchmark_compare_smoke(tmp_path):
    """``tito benchmark compare`` end to end (one child process, the course's own script)."""
    from typer.testing import CliRunner

    from tito.main import app

    a = results.save(_results(1), tmp_path / "a.json")
    s = results.save(_results(3, factor=2.0), tmp_path / "s.json")
    r = CliRunner().invoke(app, ["benchmark", "compare", str(a), str(s)])
    assert r.exit_code == 1, r.output


def test_rounds_pool_timings_and_must_agree_on_quality():
    keys = ("train_step_ms", "latency_b1_ms", "batch32_ms")
    r1 = _task("mlp_digits", {k: _samples(1) for k in keys})
    r2 = _task("mlp_digits", {k: [2 * x for x in _samples(2)] for k in keys})
    r2["train_to_target_s"] = 3.0
    merged = tinymlperf.merge_rounds([r1, r2])
    pooled = merged["measurements"]["batch32_ms"]
    assert pooled["samples"] == r1["measurements"]["batch32_ms"]["samples"] + \
        r2["measurements"]["batch32_ms"]["samples"]
    assert Summary.from_dict(pooled["summary"]) == summarize(pooled["samples"])
    assert merged["rounds"] == 2 and merged["error"] is None
    assert merged["throughput_b32"]["median"] == pytest.approx(
        32e3 / pooled["summary"]["median"])
    r2["quality"] = 0.5
    assert "rounds disagree" in tinymlperf.merge_rounds([r1, r2])["error"]
    assert tinymlperf.merge_rounds([r1]) is r1
