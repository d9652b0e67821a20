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
