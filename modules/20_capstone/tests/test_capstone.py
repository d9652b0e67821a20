"""Module 20 graded tests: the verifier's judgements and the report's table, then the whole
capstone on a tiny run -- an honest submission accepted, tampered ones rejected by name.

Expected values come from ``hashlib`` and NumPy or are worked out by hand in the test. The
timings come from a fake clock, so no test depends on how fast this machine is. Nothing here
imports PyTorch.
"""

import hashlib
import json
import shutil

import numpy as np
import pytest

from tinytorch.capstone.capstone import (accuracy_holds, claim_holds, hash_mismatches,
                                         sha256_file, table_rows)

# --------------------------------------------------------------------------- claim vs re-measured


def test_claim_holds_up_to_q3_times_one_plus_tolerance():
    claim = {"median": 2.0, "q1": 1.5, "q3": 2.5}  # bound: 2.5 * 1.5 = 3.75
    assert claim_holds(claim, 2.0)
    assert claim_holds(claim, 3.75), "the bound itself is included"
    assert not claim_holds(claim, 3.76), "slower than Q3 * (1 + tolerance): the claim fails"
    assert not claim_holds(claim, 4.0), "a claim twice too good must fail"


def test_claim_holds_uses_the_given_tolerance_and_q3_not_the_median():
    claim = {"median": 2.0, "q1": 1.5, "q3": 2.5}
    assert claim_holds(claim, 2.5, tolerance=0.0)
    assert not claim_holds(claim, 2.51, tolerance=0.0)
    assert claim_holds(claim, 4.9, tolerance=1.0) and not claim_holds(claim, 5.1, tolerance=1.0)


def test_a_conservative_claim_holds():
    claim = {"median": 2.0, "q1": 1.5, "q3": 2.5}
    assert claim_holds(claim, 0.5), "re-measured faster than claimed: the claim was modest"


def test_accuracy_holds_within_half_a_sample():
    assert accuracy_holds(340 / 359, 340 / 359, 359)
    assert not accuracy_holds(341 / 359, 340 / 359, 359)


# --------------------------------------------------------------------------- hashes


def test_sha256_file_matches_hashlib(tmp_path):
    data = np.random.default_rng(0).integers(0, 256, 3_000_000, dtype=np.uint8).tobytes()
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    assert sha256_file(path, chunk=1000) == hashlib.sha256(data).hexdigest()
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert sha256_file(empty) == hashlib.sha256(b"").hexdigest()


def test_hash_mismatches_names_changed_and_missing_files(tmp_path):
    (tmp_path / "a.txt").write_text("alpha")
    (tmp_path / "b.txt").write_text("beta")
    hashes = {"a.txt": hashlib.sha256(b"alpha").hexdigest(),
              "b.txt": hashlib.sha256(b"beta").hexdigest()}
    assert hash_mismatches(tmp_path, hashes) == []
    (tmp_path / "b.txt").write_text("BETA")
    hashes["c.txt"] = hashlib.sha256(b"gamma").hexdigest()
    bad = hash_mismatches(tmp_path, hashes)
    assert len(bad) == 2
    assert bad[0].startswith("b.txt") and bad[1].startswith("c.txt") and "missing" in bad[1]


# --------------------------------------------------------------------------- the table


def test_table_rows_against_the_first_variant():
    variants = [
        {"name": "float32", "accuracy": 0.95, "latency_ms": 0.20, "throughput": 1000.0,
         "state_bytes": 40_000, "checkpoint_bytes": 42_000},
        {"name": "int8", "accuracy": 0.94, "latency_ms": 0.80, "throughput": 250.0,
         "state_bytes": 10_000, "checkpoint_bytes": 14_000},
    ]
    base, q = table_rows(variants)
    assert (base["accuracy_change_points"], base["speedup"], base["size_ratio"],
            base["file_ratio"]) == (0.0, 1.0, 1.0, 1.0)
    np.testing.assert_allclose(q["accuracy_change_points"], -1.0, atol=1e-9)
    np.testing.assert_allclose(q["speedup"], 0.25)
    np.testing.assert_allclose(q["size_ratio"], 4.0)
    np.testing.assert_allclose(q["file_ratio"], 3.0)
    assert q["name"] == "int8" and q["throughput"] == 250.0, "the measured fields stay"


# --------------------------------------------------------------------------- end to end


class FakeClock:
    """Seconds that advance 1.0, 1.1, ..., 1.4 ms per reading, cyclically."""

    def __init__(self):
        self.t, self.n = 0.0, 0

    def __call__(self):
        self.t += 1e-3 * (1 + 0.1 * (self.n % 5))
        self.n += 1
        return self.t


def _bench():
    from tinytorch.benchmarking import Benchmark

    return Benchmark(warmup=1, repeats=3, clock=FakeClock())


@pytest.fixture(scope="module")
def submission(tmp_path_factory):
    pytest.importorskip("sklearn", reason="the digits ship with scikit-learn")
    from tinytorch.capstone.pipeline import run_pipeline
    from tinytorch.capstone.submission import make_submission

    root = tmp_path_factory.mktemp("capstone")
    results = run_pipeline(root / "run", arch="mlp", quick=True, bench=_bench(),
                           variants=("float32", "int8_dynamic"), plots=False,
                           train_steps=20, finetune_steps=1)
    make_submission(root / "run", root / "sub", "int8_dynamic", "learner")
    return root, results


def test_report_table_holds_the_measured_rows(submission):
    root, results = submission
    md = (root / "run" / "report.md").read_text()
    int8 = results["variants"][1]
    assert f"| int8_dynamic | {int8['accuracy']:.4f} |" in md
    assert f"{int8['state_bytes']:,}" in md


def test_an_honest_submission_is_accepted(submission, tmp_path):
    from tinytorch.capstone.verify import verify

    folder = shutil.copytree(submission[0] / "sub", tmp_path / "sub")
    verdict = verify(folder, bench=_bench())
    assert verdict.passed, verdict.describe()


def test_an_edited_accuracy_is_rejected_naming_it(submission, tmp_path):
    from tinytorch.capstone.verify import verify

    folder = shutil.copytree(submission[0] / "sub", tmp_path / "sub")
    sub = json.loads((folder / "submission.json").read_text())
    sub["claims"]["accuracy"] = round(sub["claims"]["accuracy"] + 0.01, 4)
    (folder / "submission.json").write_text(json.dumps(sub))
    verdict = verify(folder, bench=_bench())
    assert not verdict.passed and verdict.failed == ["accuracy"]


def test_a_swapped_checkpoint_is_rejected_by_its_hash(submission, tmp_path):
    from tinytorch.capstone.verify import verify

    root = submission[0]
    folder = shutil.copytree(root / "sub", tmp_path / "sub")
    shutil.copyfile(root / "run" / "checkpoints" / "float32.npz", folder / "model.npz")
    verdict = verify(folder, bench=_bench())
    assert verdict.failed == ["files (SHA-256)"]


# --------------------------------------------------------------------------- the given code
# Added after a review that planted bugs in verify.py, submission.py, board.py, report.py and
# pipeline.py without reading these tests (tito/mutations_independent.py, module 20): each test
# states a behaviour one of those bugs broke.


def _copy_sub(submission, tmp_path, **edit):
    """A copy of the tiny run's submission, with ``edit`` applied to its submission.json
    (``claims`` entries are merged into the claims)."""
    folder = shutil.copytree(submission[0] / "sub", tmp_path / "sub")
    sub = json.loads((folder / "submission.json").read_text())
    claims = edit.pop("claims", {})
    sub.update(edit)
    sub["claims"].update({k: v(sub["claims"][k]) if callable(v) else v
                          for k, v in claims.items()})
    (folder / "submission.json").write_text(json.dumps(sub))
    return folder, sub


def test_edited_byte_counts_are_rejected_naming_them(submission, tmp_path):
    from tinytorch.capstone.verify import verify

    folder, _ = _copy_sub(submission, tmp_path, claims={"state_bytes": lambda b: b - 8,
                                                        "checkpoint_bytes": lambda b: b - 1})
    assert verify(folder, bench=_bench(), write=False).failed == ["state_bytes",
                                                                 "checkpoint_bytes"]


def test_an_edited_throughput_is_rejected_naming_it(submission, tmp_path):
    """The board shows the throughput claim: it must be 32 samples over the (re-timed)
    batch-32 median, so a throughput inflated on its own is caught."""
    from tinytorch.capstone.verify import verify

    folder, sub = _copy_sub(submission, tmp_path, claims={"throughput_b32": lambda t: t * 2})
    assert sub["claims"]["throughput_b32"] == pytest.approx(
        2 * 32e3 / sub["claims"]["batch32_ms"]["median"])
    assert verify(folder, bench=_bench(), write=False).failed == ["throughput_b32"]


def test_a_checkpoint_missing_from_the_hashed_files_is_rejected(submission, tmp_path):
    from tinytorch.capstone.verify import verify

    folder, sub = _copy_sub(submission, tmp_path)
    sub["files"].pop(sub["checkpoint"])
    (folder / "submission.json").write_text(json.dumps(sub))
    verdict = verify(folder, bench=_bench(), write=False)
    assert not verdict.passed and verdict.failed == ["files (SHA-256)"]


def test_another_schema_version_is_refused(submission, tmp_path):
    from tinytorch.capstone.submission import load_submission
    from tinytorch.capstone.verify import verify

    folder, _ = _copy_sub(submission, tmp_path, schema_version=99)
    with pytest.raises(ValueError, match="schema version"):
        load_submission(folder)
    assert verify(folder, bench=_bench(), write=False).failed == ["submission.json"]


def test_on_another_machine_claims_are_scaled_by_the_calibration_ratio(submission, tmp_path):
    """The submitter's calibration workload ran 2x faster than the verifier's (fake clock):
    scale = verifier's median / submitter's = 2, and the honest claims, scaled, still hold."""
    from tinytorch.capstone.verify import verify

    here = _bench().measure("calibration_ms", lambda: None).summary.median
    folder, _ = _copy_sub(submission, tmp_path, environment={"cpu": "another CPU", "cores": 64},
                          calibration_ms={"median": here / 2, "q1": here / 2, "q3": here / 2})
    verdict = verify(folder, bench=_bench(), write=False)
    assert not verdict.same_machine
    assert verdict.scale == pytest.approx(2.0)
    assert verdict.passed, verdict.describe()


def test_a_verification_goes_stale_when_the_submission_is_edited(submission, tmp_path):
    from tinytorch.capstone.verify import read_verification, verify

    folder, sub = _copy_sub(submission, tmp_path)
    assert verify(folder, bench=_bench()).passed
    assert read_verification(folder)["verdict"]["passed"]
    sub["claims"]["accuracy"] = 1.0
    (folder / "submission.json").write_text(json.dumps(sub))
    assert read_verification(folder) is None


def _hand_made(folder, accuracy, latency, passed=True):
    """A submission folder with a verification record, as verify() would leave it (the record
    names the SHA-256 of the submission.json it judged)."""
    folder.mkdir(parents=True)
    (folder / "model.npz").write_bytes(folder.name.encode())
    sub = {"schema_version": 1, "name": folder.name, "task": "mlp_digits", "arch": "mlp",
           "variant": "float32", "checkpoint": "model.npz", "report": "report.html",
           "claims": {"accuracy": accuracy, "throughput_b32": 32e3 / latency,
                      "latency_b1_ms": {"median": latency, "q1": latency, "q3": latency},
                      "state_bytes": 1, "checkpoint_bytes": 1},
           "files": {"model.npz": hashlib.sha256(folder.name.encode()).hexdigest()}}
    (folder / "submission.json").write_text(json.dumps(sub))
    record = {"verdict": {"passed": passed}, "failed": [] if passed else ["accuracy"],
              "submission_sha256": sha256_file(folder / "submission.json")}
    (folder / "verification.json").write_text(json.dumps(record))


def test_the_board_ranks_verified_submissions_best_accuracy_then_fastest(tmp_path):
    from tinytorch.capstone.board import build_board, collect

    _hand_made(tmp_path / "ada", 0.90, 1.0)
    _hand_made(tmp_path / "bob", 0.95, 2.0)
    _hand_made(tmp_path / "cy", 0.95, 1.5)
    _hand_made(tmp_path / "dee", 0.99, 0.5, passed=False)  # rejected by its verifier
    _hand_made(tmp_path / "eve", 0.99, 0.5)
    edited = json.loads((tmp_path / "eve" / "submission.json").read_text())
    edited["claims"]["accuracy"] = 1.0  # edited after verification
    (tmp_path / "eve" / "submission.json").write_text(json.dumps(edited))
    rows, skipped = collect(tmp_path)
    assert sorted(r["name"] for r in rows) == ["ada", "bob", "cy"]
    assert [name for name, _ in skipped] == ["dee", "eve"]
    page = build_board(tmp_path).read_text()
    board = json.loads(page.split("const BOARD = ")[1].split(";</script>")[0])
    assert [r["name"] for r in board] == ["cy", "bob", "ada"]


def test_report_rows_are_recomputed_from_the_raw_samples(submission):
    """Every latency cell of the report from results.json's raw samples, by Tukey's rule in
    NumPy: the median of the kept batch-1 samples, their IQR, and the speedup."""
    from tinytorch.benchmarking.stats import summarize
    from tinytorch.capstone.report import format_row, rows_from_results

    root, _ = submission
    saved = json.loads((root / "run" / "results.json").read_text())
    # five samples whose mean (1.12) is not their median (1.1)
    saved["variants"][1]["latency_b1_ms"]["samples"] = [1.0, 1.0, 1.2, 1.3, 1.1]
    for v in saved["variants"]:  # summaries as the pipeline writes them, from the samples
        v["latency_b1_ms"]["summary"] = summarize(v["latency_b1_ms"]["samples"]).to_dict()

    def oracle(xs):
        xs = np.asarray(xs)
        q1, q3 = np.quantile(xs, [0.25, 0.75])
        kept = xs[(xs >= q1 - 1.5 * (q3 - q1)) & (xs <= q3 + 1.5 * (q3 - q1))]
        k1, k3 = np.quantile(kept, [0.25, 0.75])
        return np.median(kept), k3 - k1

    rows = rows_from_results(saved)
    base, _ = oracle(saved["variants"][0]["latency_b1_ms"]["samples"])
    for row, v in zip(rows, saved["variants"]):
        med, spread = oracle(v["latency_b1_ms"]["samples"])
        assert row["latency_ms"] == pytest.approx(med) and row["latency_iqr_ms"] == \
            pytest.approx(spread)
        assert row["speedup"] == pytest.approx(base / med)
        assert format_row(row)[3] == f"{med:.4f} ({spread:.4f})"
    md = (root / "run" / "report.md").read_text()
    first = saved["variants"][0]["latency_b1_ms"]["samples"]
    assert f"{oracle(first)[0]:.4f} ({oracle(first)[1]:.4f})" in md


def test_timing_pools_every_alternated_round_and_counts_samples_per_second():
    """Two models, 6 samples each in rounds of 3: every round's samples are kept; throughput is
    32 samples over the batch-32 median, in samples per second."""
    from tinytorch.benchmarking import Benchmark
    from tinytorch.benchmarking.stats import summarize
    from tinytorch.capstone.pipeline import time_alternated, time_model
    from tinytorch.capstone.variants import build

    x = np.zeros((32, 64), dtype=np.float32)
    models = [build("mlp"), build("mlp")]
    timed = time_alternated(models, x[:1], x, Benchmark(warmup=1, repeats=6, clock=FakeClock()))
    for t in timed:
        for key in ("latency_b1_ms", "batch32_ms"):
            assert len(t[key]["samples"]) == 6
            assert t[key]["summary"] == summarize(t[key]["samples"]).to_dict()
        assert t["throughput_b32"] == pytest.approx(32e3 / np.median(t["batch32_ms"]["samples"]))
    odd = time_alternated(models, x[:1], x, Benchmark(warmup=1, repeats=7, clock=FakeClock()))
    assert [len(t[k]["samples"]) for t in odd for k in ("latency_b1_ms", "batch32_ms")] == [7] * 4
    one = time_model(models[0], x[:1], x, Benchmark(warmup=1, repeats=5, clock=FakeClock()))
    assert one["throughput_b32"] == pytest.approx(32e3 / np.median(one["batch32_ms"]["samples"]))
