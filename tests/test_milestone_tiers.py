"""Milestone tiers: quick (smoke runs for tests), standard (the default, what ``tito milestone
run all`` runs) and full (``--full``, the historical configurations).

No training here: the flags map to the right tier, every milestone states a target table for
each tier, the tier is recorded in metrics.json and in the README's milestone table, and
``tito milestone run`` passes the tier flag on to the scripts.
"""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MILESTONES = ROOT / "milestones"
TIERED = ["01_perceptron", "02_xor", "03_mlp_digits", "04_cnn", "05_transformer", "06_gpt",
          "07_mlperf"]


def _common():
    sys.path.insert(0, str(MILESTONES))
    try:
        import common
    finally:
        sys.path.remove(str(MILESTONES))
    return common


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"milestone_tiers_{name}",
                                                  MILESTONES / name / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("argv, tier", [([], "standard"), (["--full"], "full"),
                                         (["--quick"], "quick"),
                                         (["--seed", "2", "--full"], "full")])
def test_flags_map_to_the_tier(tmp_path, argv, tier):
    common = _common()
    run = common.Run("99_tiers", "flags", ["--out", str(tmp_path), *argv])
    assert run.tier == tier
    assert run.quick == (tier == "quick") and run.full == (tier == "full")
    assert run.tiered({"quick": 1, "standard": 2, "full": 3}) == {"quick": 1, "standard": 2,
                                                                  "full": 3}[tier]
    with pytest.raises(KeyError, match="no row for"):
        run.tiered({"quick": 1, "full": 3})


def test_quick_and_full_together_are_refused(tmp_path):
    common = _common()
    with pytest.raises(SystemExit):
        common.Run("99_tiers", "flags", ["--out", str(tmp_path), "--quick", "--full"])


def test_metrics_json_records_the_tier(tmp_path, capsys):
    common = _common()
    with common.Run("99_tiers", "recorded", ["--out", str(tmp_path), "--full"]) as run:
        run.check("x", 1.0, ">=", 1.0)
        result = run.finish({"x": 1.0})
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert on_disk["tier"] == result["tier"] == "full" and on_disk["quick"] is False
    assert "PASSED: milestone 99_tiers (full tier)" in capsys.readouterr().out


@pytest.mark.parametrize("name", TIERED)
def test_every_milestone_states_targets_for_each_tier(name):
    module = _load(name)
    common = _common()
    targets = module.TIER_TARGETS
    assert set(targets) == set(common.TIERS), f"{name}: one target row per tier"
    for tier in common.TIERS:
        assert targets[tier], f"{name}: the {tier} tier has no targets"
        assert any(v is not None for v in targets[tier].values())
    if hasattr(module, "TIER_CONFIG"):
        assert set(module.TIER_CONFIG) == set(common.TIERS)


def test_tiers_differ_where_the_runs_differ():
    """A tier that trains less never claims a stricter target than the full tier."""
    cnn, mlp, tr, gpt = (_load(n) for n in ("04_cnn", "03_mlp_digits", "05_transformer",
                                             "06_gpt"))
    acc = [cnn.TIER_TARGETS[t]["test accuracy"] for t in ("quick", "standard", "full")]
    assert acc == sorted(acc) and acc[-1] == cnn.TARGETS["digits"] == 0.985
    assert [cnn.TIER_CONFIG[t]["epochs"] for t in ("quick", "standard", "full")] == [4, 15, 30]
    assert mlp.TIER_TARGETS["full"] == mlp.TIER_TARGETS["standard"]  # the same 30 epochs
    assert mlp.TIER_TARGETS["quick"]["test accuracy"] < 0.97
    full, std = tr.TIER_TARGETS["full"], tr.TIER_TARGETS["standard"]
    assert full["below bigram"] == 0.5 and full["parse"] == 2  # the historical targets
    assert 0 < std["below bigram"] < full["below bigram"] and std["parse"] is None
    assert tr.TIER_CONFIG["full"]["lm"]["budget"] == 250.0
    assert tr.TIER_CONFIG["standard"]["lm"]["budget"] < 250.0
    assert gpt.TIER_TARGETS["standard"]["speedup"] == gpt.TIER_TARGETS["full"]["speedup"] == 5


def test_tito_passes_the_tier_flag_on():
    from tito.cmd_milestone import tier_args

    assert tier_args(False, False) == []
    assert tier_args(True, False) == ["--full"]
    assert tier_args(False, True) == ["--quick"]


def test_readme_table_shows_each_rows_tier(tmp_path):
    from tito import milestones, readme_tables

    payload = {"machine": {}, "milestones": [
        {"milestone": "01_a", "title": "a", "passed": True, "tier": "standard", "checks": []},
        {"milestone": "02_b", "title": "b", "passed": True, "quick": True, "checks": []},
        {"milestone": "03_c", "title": "c", "passed": True, "quick": False, "checks": []}]}
    table = readme_tables.milestone_table(payload)
    assert "| 01_a — a | standard | passed |" in table
    assert "| 02_b — b | quick | passed |" in table
    assert "| 03_c — c | full | passed |" in table  # before tiers: the historical run
    (tmp_path / "metrics.json").write_text(json.dumps({"tier": "full"}))
    assert milestones.tier_of(tmp_path / "metrics.json") == "full"
    assert milestones.tier_of(tmp_path / "missing.json") == ""
