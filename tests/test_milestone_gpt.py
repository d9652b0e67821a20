"""Milestone 06 (the KV cache): a quick run end to end, and its discovery.

The full run trains a 4-layer GPT for 20 s and times 256-token generation on every path; too
long for the suite. The quick run here checks the plumbing -- every check recorded with its
real target, ``passed`` computed from them, the speedup being the ratio of the measured
times, metrics.json equal to what main() returns, the plot written -- not the targets. The
measured full run is in milestones/06_gpt/README.md.
"""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "milestones" / "06_gpt"

pytest.importorskip("tinytorch.generation", reason="module 17 (KV cache) is not in this tinytorch")


def _load():
    spec = importlib.util.spec_from_file_location("milestone_06_gpt", FOLDER / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_records_every_check_and_measures_each_path(tmp_path, capsys):
    result = _load().main(["--out", str(tmp_path), "--quick", "--budget", "0.3", "--tokens",
                           "6"])
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(result)), "main() returns what metrics.json holds"
    png = tmp_path / on_disk["plot"]
    assert png.suffix == ".png" and png.stat().st_size > 1000
    assert on_disk["passed"] == all(c["passed"] for c in on_disk["checks"])
    targets = on_disk["targets"]
    assert targets["KV cache speedup at 6 tokens"] == ">= 1"  # the quick tier's own target
    assert on_disk["tier"] == "quick"
    assert targets["identical tokens, greedy (every path)"] == "== 1"
    assert targets["identical tokens, top-k sampling"] == "== 1"
    assert targets["training seconds"] == "< 60"
    m = on_disk["metrics"]
    paths = m["paths"]
    assert {"no cache", "KV cache"} <= set(paths)
    for row in paths.values():  # every figure is a ratio of what was timed
        assert row["tokens_per_second"] == pytest.approx(6 / row["seconds"])
        assert row["speedup"] == pytest.approx(paths["no cache"]["seconds"] / row["seconds"])
        assert row["identical"] is True
    assert m["speedup"] == paths["KV cache"]["speedup"]
    cfg = m["config"]
    head_dim_total = cfg["d_model"]  # keys + values, every layer and position, float32
    assert m["cache_bytes"] == 2 * cfg["layers"] * (16 + 6 - 1) * head_dim_total * 4
    assert len(on_disk["prompt"]) == 16 and on_disk["sample"].startswith(on_disk["prompt"])
    out = capsys.readouterr().out
    assert ("PASSED" if result["passed"] else "FAILED") + ": milestone 06_gpt" in out


def test_milestone_06_is_discovered_and_unlocked_by_module_17():
    from tito import milestones
    from tito.course import Course

    found = {ms.name: ms for ms in milestones.discover(Course(ROOT))}
    assert found["06_gpt"].script == FOLDER / "run.py"
    assert found["06_gpt"].module.number == 17
