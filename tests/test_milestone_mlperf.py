"""Milestone 07 (MLPerf): a quick run end to end, in this process.

The quick run trains the digits MLP for 150 steps and runs every optimization on it; this
test checks the plumbing and honesty, not speed: every check recorded with its stated target,
``passed`` computed from them, metrics.json equal to what main() returns, the plot written,
every optimization in the olympics table, and each number in the table a ratio of what the
capstone's results.json recorded (medians of raw samples, bytes, held-out accuracies).
"""

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("tinytorch.capstone.pipeline")

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "milestones" / "07_mlperf" / "run.py"


def _load():
    spec = importlib.util.spec_from_file_location("milestone_07_mlperf", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("m07")
    result = _load().main(["--out", str(out), "--quick"])
    return out, result


def test_quick_run_records_every_check_with_its_target(quick):
    out, result = quick
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(result))
    assert on_disk["passed"] == all(c["passed"] for c in on_disk["checks"])
    assert on_disk["targets"] == {
        "mlp: float32 held-out accuracy": ">= 0.85",
        "mlp: int8_dynamic accuracy change (points)": ">= -1",
        "mlp: int8_static accuracy change (points)": ">= -1",
        "mlp: int8_static state bytes smaller by": ">= 3.5",
        "mlp: pruned90 checkpoint smaller by": ">= 4",
        "submission verified: files, accuracy, bytes": "== 1",
        "gpt: identical tokens on every path": "== 1",
        "gpt: KV cache speedup at 16 tokens": ">= 1",
        "gpt: held-out loss below uniform (nats)": "> 0"}
    png = out / on_disk["plot"]
    assert png.is_file() and png.stat().st_size > 1000
    assert (out / on_disk["metrics"]["reports"]["mlp"]).is_file()


def test_olympics_rows_are_ratios_of_the_recorded_measurements(quick):
    out, result = quick
    rows = result["metrics"]["olympics"]
    assert [r["optimization"] for r in rows] == ["float32", "int8_dynamic", "int8_static",
                                                 "pruned90"]
    recorded = json.loads((out / "capstone_mlp" / "results.json").read_text())
    by = {v["name"]: v for v in recorded["variants"]}
    base = by["float32"]
    for r in rows:
        v = by[r["optimization"]]
        med = v["latency_b1_ms"]["summary"]["median"]
        assert r["speedup_b1"] == pytest.approx(base["latency_b1_ms"]["summary"]["median"] / med)
        assert r["state_ratio"] == pytest.approx(base["state_bytes"] / v["state_bytes"])
        assert r["file_ratio"] == pytest.approx(base["checkpoint_bytes"] / v["checkpoint_bytes"])
        assert r["accuracy"] == v["accuracy"] == v["correct"] / 359
        assert r["speedup_lo"] <= r["speedup_b1"] <= r["speedup_hi"]
    gpt = result["metrics"]["olympics_gpt"]
    assert [r["optimization"] for r in gpt][:2] == ["no cache", "KV cache (17)"]
    cache = result["metrics"]["gpt"]["cache_bytes"]
    params = result["metrics"]["gpt"]["param_bytes"]
    assert gpt[1]["state_ratio"] == pytest.approx(params / (params + cache))
    sub = json.loads((out / "submission" / "submission.json").read_text())
    assert sub["variant"] == result["metrics"]["submitted_variant"]
    assert result["verification"]["checks"][0]["claim"] == "files (SHA-256)"
