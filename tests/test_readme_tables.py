"""The README's measured tables are the committed results files, not hand-typed numbers.

``README.md`` holds a performance, a milestone and a compression table between marker
comments; ``tito/readme_tables.py`` writes them from ``benchmarks/results.json``,
``results/milestones.json`` and ``benchmarks/compression_results.json``. The first test fails whenever a figure in the README differs from
those files (fix: ``tito benchmark --write-readme``); the others check the writer itself.
"""

from __future__ import annotations

import json

from tito import readme_tables
from tito.registry import REPO_ROOT


def test_the_readme_tables_match_the_committed_results_files():
    problems = readme_tables.check(REPO_ROOT / "README.md", REPO_ROOT)
    assert problems == [], "\n".join(problems)


BENCH = {
    "machine": {"date": "2026-11-30", "cpu": "Test CPU", "cores": 2, "python": "3.11",
                "numpy": "2.4", "torch": "2.13", "threads": 1, "rounds": 5, "repeats": 20,
                "warmup": 5},
    "results": [
        {"id": "mlp", "name": "MLP step", "target": 1.25, "tinytorch_ms": 1.5, "torch_ms": 1.2,
         "ratio": 1.25, "met": True, "cpu_ratio": 1.1, "tinytorch_peak_mb": 3.0,
         "torch_peak_mb": 12.0,
         "mem_ratio": 0.25, "mem_met": True, "skipped": None, "error": None},
        {"id": "kv", "name": "KV generation", "target": 1.5, "skipped": "no cache yet",
         "error": None},
    ],
}

MILESTONES = {
    "machine": {"date": "2026-11-30", "command": "tito milestone run all --reference",
                "seed": 0, "python": "3.11", "numpy": "2.4", "tinytorch": "0.1.0",
                "cpu": "Test CPU"},
    "milestones": [
        {"milestone": "04_cnn", "title": "LeNet (1998)", "passed": True, "seconds": 13.04,
         "tier": "standard",
         "checks": [{"name": "test accuracy", "value": 0.9916, "op": ">=", "target": 0.985,
                     "passed": True}]},
    ],
}


def _seed_row(seed, teacher, gradual, distilled, passed=True):
    return {"seed": seed, "teacher": {"accuracy": teacher, "params": 19210},
            "one_shot": {"accuracy": 0.95}, "gradual": {"accuracy": gradual, "sparsity": 0.9},
            "checkpoint_bytes": {"dense": 78482, "sparse": 13158},
            "student": {"params": 4210, "params_ratio": 0.219, "labels_accuracy": 0.97,
                        "distilled_accuracy": distilled},
            "checks": [{"group": "pruning", "passed": True},
                       {"group": "distillation", "passed": passed}]}


COMPRESSION = {
    "command": "python benchmarks/compression.py", "seconds": 61.2,
    "config": {"teacher": {"hidden": 256, "epochs": 20}, "pruning": {"finetune": [3, 3, 9]},
               "student": {"epochs": 20, "temperature": 4.0, "alpha": 0.9},
               "train_digits": 1438, "test_digits": 359, "optimizer": "Adam"},
    "targets": {"max_drop_points": 2.0, "max_params_ratio": 0.25, "max_gap_points": 1.5,
                "judged": "on every seed"},
    "seeds": [_seed_row(0, 0.9721, 0.9582, 0.9582), _seed_row(1, 0.9721, 0.9694, 0.95, False)],
    "passed": {"pruning": True, "distillation": False},
    "machine": {"date": "2026-12-01", "cpu": "Test CPU", "python": "3.11", "numpy": "2.4",
                "tinytorch": "0.1.0", "load_average": 1.5},
}

README = """# Title

<!-- milestone-table:start -->
old milestone numbers
<!-- milestone-table:end -->

text between

<!-- benchmark-table:start -->
| old | 1.48x |
<!-- benchmark-table:end -->
<!-- compression-table:start -->
<!-- compression-table:end -->
tail
"""


def _repo(tmp_path, readme=README):
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "results").mkdir()
    (tmp_path / "benchmarks" / "results.json").write_text(json.dumps(BENCH))
    (tmp_path / "results" / "milestones.json").write_text(json.dumps(MILESTONES))
    (tmp_path / "benchmarks" / "compression_results.json").write_text(json.dumps(COMPRESSION))
    (tmp_path / "README.md").write_text(readme)
    return tmp_path


def test_write_replaces_only_the_marked_sections_and_check_then_passes(tmp_path):
    root = _repo(tmp_path)
    assert readme_tables.check(root / "README.md", root)  # the old numbers are drift
    assert readme_tables.write(root / "README.md", root) is True
    text = (root / "README.md").read_text()
    assert "old milestone numbers" not in text and "1.48x" not in text
    assert text.startswith("# Title\n") and "text between" in text and text.endswith("tail\n")
    assert ("| MLP step | 1.50 | 1.20 | 1.25× | ≤ 1.25× | yes | 1.10× | 3.0 | 12.0 | 0.25× "
            "| yes |") in text
    assert "| KV generation | skipped |" in text and "KV generation: no cache yet" in text
    assert ("04_cnn — LeNet (1998) | standard | passed | test accuracy 0.9916 (>= 0.985) "
            "| 13.0 s") in text
    assert "Measured 2026-11-30 on Test CPU" in text
    assert ("| 0 | 97.21% | 95.00% (-2.2) | 95.82% (-1.4) | 90.00% | 78,482 → 13,158 (5.96×) "
            "| 0.219 (4,210 / 19,210) | 97.00% (-0.2) | 95.82% (-1.4) | yes | yes |") in text
    assert "| 95.00% (-2.2) | yes | **no** |" in text  # seed 1 missed the distillation target
    assert "loses ≤ 2.0 points — met;" in text and "of it — **not met**." in text
    assert readme_tables.check(root / "README.md", root) == []
    assert readme_tables.write(root / "README.md", root) is False  # idempotent


def test_check_names_the_table_and_the_first_differing_line(tmp_path):
    root = _repo(tmp_path)
    readme_tables.write(root / "README.md", root)
    path = root / "README.md"
    path.write_text(path.read_text().replace("| 1.50 | 1.20 |", "| 1.40 | 1.20 |"))
    (problem,) = readme_tables.check(path, root)
    assert "benchmark table differs from benchmarks/results.json" in problem
    assert "1.40" in problem and "1.50" in problem


def test_missing_results_or_markers_are_reported(tmp_path):
    root = _repo(tmp_path, readme="# no markers\n")
    (root / "results" / "milestones.json").unlink()
    (root / "benchmarks" / "compression_results.json").unlink()
    problems = readme_tables.check(root / "README.md", root)
    assert any("results/milestones.json is missing" in p for p in problems)
    assert any("benchmarks/compression_results.json is missing" in p for p in problems)
    assert any("no <!-- benchmark-table:start -->" in p for p in problems)


def test_collect_milestones_gathers_metrics_files_without_local_paths(tmp_path):
    runs = tmp_path / "runs"
    for name, passed in (("01_perceptron", True), ("02_xor", False)):
        (runs / name).mkdir(parents=True)
        (runs / name / "metrics.json").write_text(json.dumps({
            "milestone": name, "title": name, "passed": passed, "seconds": 1.0, "seed": 0,
            "checks": [], "metrics": {"acc": 1.0}, "plot": "curves.png",
            "versions": {"python": "3.11", "numpy": "2.4", "tinytorch": "0.1.0",
                         "tinytorch_path": "/home/me/tinytorch"}}))
    out = tmp_path / "results" / "milestones.json"
    payload = readme_tables.collect_milestones(runs, out, "tito milestone run all --reference")
    saved = json.loads(out.read_text())
    assert saved == payload
    assert [m["milestone"] for m in saved["milestones"]] == ["01_perceptron", "02_xor"]
    assert "tinytorch_path" not in json.dumps(saved) and "plot" not in saved["milestones"][0]
    table = readme_tables.milestone_table(saved)
    assert "| 02_xor — 02_xor | full | **failed** |" in table  # no tier recorded: historical
