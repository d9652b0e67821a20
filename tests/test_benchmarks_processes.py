"""The process-per-framework benchmark (benchmarks/processes.py, child.py, suite.py) runs and
reports. No timing is asserted: only that steps run, medians, ratios, memory and verdicts are
computed from the processes' results, skips and errors are rows, and the tinytorch process
never imports torch."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture()
def mods(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    return (importlib.import_module("processes"), importlib.import_module("suite"),
            importlib.import_module("child"))


def _child_result(fw, ms, mb, **kw):
    return {"framework": fw, "median_ms": ms, "cpu_median_ms": ms, "peak_growth_mb": mb,
            "modules": [fw], **kw}


def test_summary_takes_medians_over_processes_and_judges_time_and_memory(mods):
    processes, suite, _ = mods
    spec = suite.get("mlp")
    runs = {"tinytorch": [_child_result("tinytorch", ms, mb) for ms, mb in
                          ((1.0, 4.0), (3.0, 6.0), (2.0, 5.0))],
            "torch": [_child_result("torch", ms, mb) for ms, mb in
                      ((2.0, 1.0), (2.0, 3.0), (9.0, 2.0))]}
    row = processes.summarize(spec, runs)
    assert row["tinytorch_ms"] == 2.0 and row["torch_ms"] == 2.0 and row["ratio"] == 1.0
    assert row["met"] is True  # 1.0 <= 1.25
    assert row["tinytorch_peak_mb"] == 5.0 and row["torch_peak_mb"] == 2.0
    assert row["mem_ratio"] == 2.5 and row["mem_met"] is False
    assert row["samples"]["tinytorch"] == [1.0, 3.0, 2.0]
    assert row["tinytorch_cpu_ms"] == 2.0 and row["cpu_ratio"] == 1.0
    assert row["tinytorch_process_imported"] == []
    table = processes.format_table([row])
    assert "MLP 784-256-128-10" in table and "2.50x" in table and "NO" in table


def test_skips_and_errors_are_rows_not_crashes(mods):
    processes, suite, _ = mods
    skipped = processes.summarize(suite.get("kv_generate"), {"tinytorch": []},
                                  "not written yet")
    broken = processes.summarize(suite.get("conv"), {
        "tinytorch": [{"framework": "tinytorch", "error": "NotImplementedError: module 09"}],
        "torch": []})
    assert skipped["skipped"] == "not written yet" and skipped["ratio"] is None
    assert broken["error"].startswith("tinytorch: NotImplementedError")
    assert broken["tinytorch_ms"] is None and broken["met"] is None
    rows = processes.rows([skipped, broken])
    assert rows[0][1] == "skipped" and rows[1][1] == "error"


def test_weights_and_inputs_are_the_same_in_every_process(mods):
    _, suite, _ = mods
    a = suite.init_array("0.weight", (4, 3))
    np.testing.assert_array_equal(a, suite.init_array("0.weight", (4, 3)))
    assert not np.array_equal(a, suite.init_array("2.weight", (4, 3)))
    assert np.abs(a).max() <= 1 / np.sqrt(3)
    np.testing.assert_array_equal(suite.data(3, (2, 2)), suite.data(3, (2, 2)))


def test_a_child_runs_a_workload_and_measures_memory(mods):
    _, _, child = mods
    out = child.run("tinytorch", "tiny_adds", repeats=2, warmup=1, quick=True, threads=1)
    assert out["error"] is None and out["skipped"] is None
    assert len(out["times_ms"]) == 2 and out["median_ms"] > 0 and out["cpu_median_ms"] >= 0
    assert out["peak_growth_mb"] >= 0 and out["baseline_mb"] > 0


def test_missing_models_are_skipped_cleanly(mods, monkeypatch):
    _, suite, child = mods
    absent = suite.Spec("absent", "a model not written yet", lambda fw, q: None, 1.0,
                        available=lambda fw: "not written yet" if fw == "tinytorch" else None)
    monkeypatch.setattr(suite, "SPECS", suite.SPECS + [absent])
    out = child.run("tinytorch", "absent", repeats=1, warmup=0, quick=True, threads=1)
    assert out["skipped"] == "not written yet" and out["error"] is None
    assert out["times_ms"] == []
    assert suite.get("gpt").available("torch") is None


def test_the_torch_twin_of_cached_generation_makes_the_same_tokens(mods):
    """kv_generate times the same work in both frameworks: same weights, same prompt, and
    the torch loop (its own cache) picks the same greedy tokens as GPT.generate(use_cache)."""
    pytest.importorskip("torch")
    _, suite, _ = mods
    ours = suite.build_kv_generate("tinytorch", True)().numpy()
    theirs = suite.build_kv_generate("torch", True)().numpy()
    assert ours.shape == (1, suite.KV_PROMPT + 32)
    np.testing.assert_array_equal(ours, theirs)


def test_every_workload_builds_and_steps_in_quick_mode(mods):
    """Each spec builds its tinytorch side and runs one step (tiny sizes): none can rot."""
    _, suite, _ = mods
    for spec in suite.SPECS:
        if spec.available("tinytorch") is None and spec.id != "conv_big":
            spec.build("tinytorch", True)()


def test_run_py_in_process_mode_writes_results(monkeypatch, tmp_path, capsys):
    monkeypatch.syspath_prepend(str(BENCH))
    spec = importlib.util.spec_from_file_location("_tinytorch_bench_run2", BENCH / "run.py")
    run = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, run)
    spec.loader.exec_module(run)
    js = tmp_path / "r.json"
    code = run.main(["--quick", "--only", "tiny_adds", "--rounds", "1", "--repeats", "1",
                     "--warmup", "0", "--frameworks", "tinytorch", "--json", str(js)])
    assert code == 0
    payload = json.loads(js.read_text())
    assert payload["mode"] == "processes" and payload["machine"]["threads"] == 1
    (row,) = payload["results"]
    assert row["tinytorch_ms"] > 0 and row["tinytorch_peak_mb"] is not None
    assert row["torch_ms"] is None and row["ratio"] is None  # torch was not asked for
    assert row["tinytorch_process_imported"] == []  # the tinytorch process never saw torch
    assert row["allocator"] is not None  # and reported the allocator policy it ran under
    assert "2,000 chained tiny adds" in capsys.readouterr().out
    assert run.main(["--only", "no_such_workload"]) == 2


def test_the_allocator_policy_is_set_at_import_and_can_be_switched_off():
    import subprocess

    code = "import tinytorch, tinytorch._allocator as a; print(a.POLICY)"
    env = {k: v for k, v in __import__("os").environ.items()
           if not k.startswith("MALLOC_") and k != "TINYTORCH_MALLOC"}
    on = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    off = subprocess.run([sys.executable, "-c", code], env={**env, "TINYTORCH_MALLOC": "0"},
                         capture_output=True, text=True)
    assert on.returncode == 0 and off.returncode == 0, on.stderr + off.stderr
    assert on.stdout.strip() != "not configured"  # glibc: raised; elsewhere: says why not
    assert off.stdout.strip() == "off (TINYTORCH_MALLOC=0)"
