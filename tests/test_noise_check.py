"""Issue 14's first Done-means, from committed evidence: the same TinyMLPerf suite run twice on
one machine is "within noise", and a planted 2x slowdown is flagged.

``benchmarks/noise_check.py`` ran ``tito benchmark run`` three times (A, B, and S with
``--plant-slowdown 2``) and wrote ``benchmarks/noise_check/{A,B,S,summary}.json``. These tests
load the three results files (``results.load`` recomputes every summary from its samples) and
recompute every comparison, so the summary -- and the module-19 guide's table written from it --
cannot claim what the runs did not show.
"""

from __future__ import annotations

import json
import sys

import pytest

from tinytorch.benchmarking import results
from tito.registry import REPO_ROOT

FOLDER = REPO_ROOT / "benchmarks" / "noise_check"
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
import noise_check  # noqa: E402


@pytest.fixture(scope="module")
def summary():
    return json.loads((FOLDER / "summary.json").read_text())


def test_the_summary_is_recomputed_from_the_three_results_files(summary):
    again = noise_check.summarize_runs(FOLDER, summary["planted_factor"])
    assert again == summary


def test_the_runs_are_what_a_user_runs(summary):
    runs = {n: results.load(FOLDER / f"{n}.json") for n in "ABS"}
    for name, run in runs.items():
        cfg = run["config"]
        assert cfg["isolate"] and cfg["clock"] == "wall" and cfg["threads"] == 1, name
        assert cfg["rounds"] == summary["rounds"] >= 2, name
        assert all(t["met"] and not t.get("error") for t in run["tasks"]), name
    assert runs["A"]["config"]["planted_slowdown"] == runs["B"]["config"]["planted_slowdown"] == 1
    assert runs["S"]["config"]["planted_slowdown"] == summary["planted_factor"] == 2


def test_same_code_is_within_noise_and_the_planted_slowdown_is_flagged(summary):
    pairs = {(p["a"], p["b"]): p for p in summary["pairs"]}
    same = pairs[("A", "B")]
    assert same["suite_verdict"] == "within noise" and same["flagged"] == 0
    assert same["suite_lo"] <= 1 <= same["suite_hi"]
    for a in "AB":
        slow = pairs[(a, "S")]
        assert slow["suite_verdict"] == "slower" and slow["flagged"] > 0
        assert slow["suite_hi"] < 1  # the whole spread says slower
        assert 0.35 < slow["suite_score"] < 0.7  # about the planted 1/2
    assert all(p["met"] for p in summary["pairs"])


def test_the_module_19_guide_shows_this_summary():
    from tito import readme_tables

    assert readme_tables.check_guides(REPO_ROOT) == []
