"""Module 20 -- the capstone's three judgements: does a claim hold, is a file the one that
was submitted, and what did each optimization buy.

The rest of the capstone (``pipeline.py``, ``report.py``, ``submission.py``, ``verify.py``,
``board.py``) is plumbing around these three functions:

* :func:`claim_holds` -- a timing claim is an interval (the claimed median with its
  quartiles). A re-measurement supports it unless the model runs slower than the claimed
  third quartile allows, widened by a tolerance for machine noise: ``median <= Q3 * (1 +
  tol)``. With ``tol = 0.5`` an honest claim re-timed on a busier moment survives; a latency
  claimed 2x better than the model runs does not (``Q3 * 1.5 < 2 * median``). A claim
  *slower* than the re-measurement is conservative and holds (it only hurts its author; the
  verifier's record shows both numbers).
* :func:`sha256_file` / :func:`hash_mismatches` -- a submission lists the SHA-256 of every
  file in it; a checkpoint swapped after the numbers were measured no longer matches.
* :func:`table_rows` -- the before/after table: for each variant its accuracy change in
  points, its speedup (the baseline's median latency over its own) and its size ratio (the
  baseline's bytes over its own), all against the first row, the unoptimized model.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["LATENCY_TOLERANCE", "claim_holds", "accuracy_holds", "sha256_file",
           "hash_mismatches", "table_rows"]

# Machine noise allowed above a claimed timing: a re-timed median may reach 1.5x the claimed
# third quartile (a shared machine's medians drift by tens of percent between runs minutes
# apart; a 2x misclaim is still caught).
LATENCY_TOLERANCE = 0.5


def claim_holds(claimed: dict, measured_median: float, tolerance: float = LATENCY_TOLERANCE
                ) -> bool:
    """True unless ``measured_median`` is slower than the claim allows, noise included.

    Args:
        claimed: ``{"median": m, "q1": q1, "q3": q3}`` (milliseconds), as submitted.
        measured_median: the verifier's own median for the same workload.
        tolerance: the allowed relative noise (``0.5``: up to 1.5x the claimed Q3).

    The bound is ``q3 * (1 + tolerance)``, included: a time at or below it supports the
    claim; a time above it means the claim was better than the model.
    """
    if tolerance < 0:
        raise ValueError(f"claim_holds: tolerance must be >= 0, got {tolerance}")
    # BEGIN SOLUTION
    return measured_median <= claimed["q3"] * (1 + tolerance)
    # END SOLUTION


def accuracy_holds(claimed: float, measured: float, n: int) -> bool:
    """An accuracy claim holds when it is the measured one up to rounding: the two differ by
    less than half a sample (``0.5 / n``), so a single changed prediction is caught."""
    return abs(claimed - measured) < 0.5 / n


def sha256_file(path, chunk: int = 1 << 20) -> str:
    """The SHA-256 of a file's bytes, as 64 hex digits (read in chunks: a checkpoint may be
    larger than memory should hold twice)."""
    # BEGIN SOLUTION
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()
    # END SOLUTION


def hash_mismatches(folder, hashes: dict) -> list[str]:
    """The files of ``hashes`` (``{relative path: sha256}``) that are missing from ``folder``
    or whose bytes hash differently; an empty list when every file is the submitted one."""
    folder = Path(folder)
    bad = []
    # BEGIN SOLUTION
    for name, digest in sorted(hashes.items()):
        path = folder / name
        if not path.is_file():
            bad.append(f"{name}: missing")
        elif sha256_file(path) != digest:
            bad.append(f"{name}: SHA-256 differs from the submitted one")
    # END SOLUTION
    return bad


def table_rows(variants: list[dict]) -> list[dict]:
    """The before/after table, the first variant being the baseline.

    Each variant is ``{"name", "accuracy", "latency_ms" (median, batch 1),
    "throughput" (samples/s at batch 32), "state_bytes", "checkpoint_bytes"}``. Each row adds
    ``accuracy_change_points`` (``(acc - base) * 100``), ``speedup`` (``base latency /
    latency``), ``size_ratio`` (``base state bytes / state bytes``) and ``file_ratio`` (the
    same for checkpoint files). The baseline's own row reads 0, 1, 1, 1.
    """
    if not variants:
        raise ValueError("table_rows: no variants (run the pipeline first)")
    base = variants[0]
    rows = []
    for v in variants:
        row = dict(v)
        # BEGIN SOLUTION
        row["accuracy_change_points"] = (v["accuracy"] - base["accuracy"]) * 100
        row["speedup"] = base["latency_ms"] / v["latency_ms"]
        row["size_ratio"] = base["state_bytes"] / v["state_bytes"]
        row["file_ratio"] = base["checkpoint_bytes"] / v["checkpoint_bytes"]
        # END SOLUTION
        rows.append(row)
    return rows
