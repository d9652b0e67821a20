"""Verify a submission: trust nothing it says that can be re-measured.

1. **Files**: every file listed in ``submission.json`` must hash to its SHA-256 there (a
   swapped checkpoint is rejected before it is even loaded).
2. **Accuracy**: the architecture and variant are rebuilt, the checkpoint loaded, and the
   model evaluated on the 359 held-out digits; the claim must equal the result up to
   rounding (less than half a sample apart).
3. **Bytes**: the state's ``.nbytes`` and the checkpoint file's size, exactly.
4. **Time**: batch-1 latency and the batch-32 time are re-timed with the submission's own
   warm-up, repeats and clock (wall time, or CPU time for runs made with ``--clock cpu``);
   each re-measured median must be at most the claimed third quartile times
   ``1 + tolerance`` (:func:`~tinytorch.capstone.capstone.claim_holds`; default 0.5,
   for a shared machine's drift). A re-measurement faster than claimed is noted, not
   rejected: an underclaim only hurts its author. On a different machine (another
   CPU model or core count) the claimed times are first scaled by the ratio of the two
   machines' calibration timings (a fixed NumPy workload timed on both), and the report says
   so. The claimed batch-32 throughput (the board shows it) must be the one the batch-32
   claim implies, 32 samples over its median.

The verdict names every claim that failed. ``verification.json`` is written beside the
submission, with the hash of the ``submission.json`` it judged, for the leaderboard.
"""

from __future__ import annotations

import datetime
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tinytorch.capstone.capstone import (LATENCY_TOLERANCE, accuracy_holds, claim_holds,
                                         hash_mismatches, sha256_file)
from tinytorch.capstone.submission import SUBMISSION_FILE, load_submission

__all__ = ["Check", "Verdict", "verify", "VERIFICATION_FILE", "read_verification"]

VERIFICATION_FILE = "verification.json"


@dataclass
class Check:
    claim: str
    claimed: object
    measured: object
    ok: bool
    note: str = ""


@dataclass
class Verdict:
    folder: str
    passed: bool
    checks: list[Check] = field(default_factory=list)
    scale: float = 1.0
    same_machine: bool = True
    tolerance: float = LATENCY_TOLERANCE

    @property
    def failed(self) -> list[str]:
        """The names of the claims that did not hold."""
        return [c.claim for c in self.checks if not c.ok]

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        lines = []
        for c in self.checks:
            mark = "ok  " if c.ok else "FAIL"
            lines.append(f"  {mark} {c.claim}: claimed {c.claimed}, measured {c.measured}"
                         + (f" ({c.note})" if c.note else ""))
        head = ("ACCEPTED" if self.passed else
                f"REJECTED: {', '.join(self.failed)} not reproduced")
        return f"{self.folder}: {head}\n" + "\n".join(lines)


def _same_machine(a: dict, b: dict) -> bool:
    return a.get("cpu") == b.get("cpu") and a.get("cores") == b.get("cores")


def _timing_check(name: str, claimed: dict, measured: dict, scale: float, tol: float) -> Check:
    scaled = {k: claimed[k] * scale for k in ("median", "q1", "q3")}
    ok = claim_holds(scaled, measured["median"], tol)
    note = (f"claimed Q1-Q3 {scaled['q1']:.4g}-{scaled['q3']:.4g} ms; bound Q3 x {1 + tol:g}"
            + (f", scaled x{scale:.3g} for this machine" if scale != 1.0 else "")
            + ("; faster than claimed (a conservative claim)"
               if measured["median"] < scaled["q1"] / (1 + tol) else ""))
    return Check(name, round(claimed["median"], 6), round(measured["median"], 6), ok, note)


def verify(folder, bench=None, tolerance: float = LATENCY_TOLERANCE, write: bool = True
           ) -> Verdict:
    """Check the submission in ``folder``; see the module docstring. ``bench``: a
    ``Benchmark`` (default: the submission's warm-up and repeats, wall clock)."""
    from tinytorch.benchmarking import Benchmark
    from tinytorch.benchmarking.environment import capture
    from tinytorch.capstone.pipeline import accuracy, calibration, digits_split, time_model
    from tinytorch.capstone.variants import load_variant
    from tinytorch.optimization.quantized_layers import state_nbytes

    folder = Path(folder)
    verdict = Verdict(str(folder), False, tolerance=tolerance)
    try:
        sub = load_submission(folder)
    except ValueError as e:
        verdict.checks.append(Check("submission.json", "a submission", str(e), False))
        return _finish(verdict, folder, write)
    bad = hash_mismatches(folder, sub.get("files", {}))
    listed = sub.get("checkpoint") in sub.get("files", {})
    verdict.checks.append(Check("files (SHA-256)", f"{len(sub.get('files', {}))} files",
                                "; ".join(bad) if bad else "all match",
                                not bad and listed,
                                "" if listed else "the checkpoint is not among the hashed "
                                                  "files"))
    if bad or not listed:  # never load a checkpoint that is not the submitted one
        return _finish(verdict, folder, write)

    claims = sub["claims"]
    data = digits_split(sub["arch"])
    model = load_variant(sub["arch"], sub["variant"], folder / sub["checkpoint"])
    acc, correct = accuracy(model, data["x_test"], data["y_test"])
    verdict.checks.append(Check("accuracy", claims["accuracy"], acc,
                                accuracy_holds(claims["accuracy"], acc, len(data["y_test"])),
                                f"{correct}/{len(data['y_test'])} held-out digits"))
    nbytes = state_nbytes(model)
    verdict.checks.append(Check("state_bytes", claims["state_bytes"], nbytes,
                                claims["state_bytes"] == nbytes, ".nbytes of the state dict"))
    size = (folder / sub["checkpoint"]).stat().st_size
    verdict.checks.append(Check("checkpoint_bytes", claims["checkpoint_bytes"], size,
                                claims["checkpoint_bytes"] == size, "file size"))
    # the board shows the throughput claim: it must be the one the batch-32 claim (re-timed
    # below) implies, 32 samples over its median, not a number of its own
    implied = len(data["x_test"][:32]) * 1e3 / claims["batch32_ms"]["median"]
    verdict.checks.append(Check("throughput_b32", claims["throughput_b32"], implied,
                                math.isclose(claims["throughput_b32"], implied, rel_tol=1e-9),
                                "32 samples / the claimed batch-32 median"))

    cfg = sub.get("benchmark", {})
    # the submission's clock: wall time (perf_counter) or this process's CPU time
    clock = time.process_time if cfg.get("clock") == "process_time" else time.perf_counter
    bench = bench or Benchmark(warmup=cfg.get("warmup", 3), repeats=cfg.get("repeats", 25),
                               clock=clock)
    verdict.same_machine = _same_machine(sub.get("environment", {}), capture())
    if not verdict.same_machine:
        here = calibration(bench)
        verdict.scale = here["median"] / sub["calibration_ms"]["median"]
    timed = time_model(model, data["x_test"][:1], data["x_test"][:32], bench)
    for name in ("latency_b1_ms", "batch32_ms"):
        verdict.checks.append(_timing_check(name, claims[name], timed[name]["summary"],
                                            verdict.scale, tolerance))
    verdict.passed = all(c.ok for c in verdict.checks)
    return _finish(verdict, folder, write)


def _finish(verdict: Verdict, folder: Path, write: bool) -> Verdict:
    if write and folder.is_dir():
        sub_file = folder / SUBMISSION_FILE
        record = {"verdict": verdict.to_dict(), "failed": verdict.failed,
                  "date": datetime.datetime.now(datetime.timezone.utc)
                  .isoformat(timespec="seconds"),
                  "submission_sha256": sha256_file(sub_file) if sub_file.is_file() else None}
        (folder / VERIFICATION_FILE).write_text(json.dumps(record, indent=1, default=str)
                                                + "\n")
    return verdict


def read_verification(folder) -> dict | None:
    """The verification record of ``folder`` if it exists and judged the submission.json
    that is there now (an edit after verification makes it stale: None)."""
    folder = Path(folder)
    try:
        record = json.loads((folder / VERIFICATION_FILE).read_text())
    except (OSError, ValueError):
        return None
    sub_file = folder / SUBMISSION_FILE
    if not sub_file.is_file() or record.get("submission_sha256") != sha256_file(sub_file):
        return None
    return record
