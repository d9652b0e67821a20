"""A capstone submission: the claims, the checkpoint they were measured on, the report, and the
SHA-256 of every file.

    from tinytorch.capstone.submission import make_submission
    make_submission("runs/capstone", "submissions/ada", variant="int8_static", name="Ada")

writes ``submissions/ada/``::

    submission.json   schema version, who, task, architecture, variant, the claims (accuracy
                      with its counts, batch-1 latency and batch-32 time with their quartiles,
                      throughput, state and checkpoint bytes), the machine, the machine's
                      calibration timing, and ``files``: {name: sha256} of every file below
    model.npz         the checkpoint of the variant (the one every claim was measured on)
    report.html/.md   the pipeline's report (and report.png)
    results.json      the pipeline's full results (every variant, raw samples)

``tito benchmark verify submissions/ada`` re-evaluates and re-times it (``verify.py``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tinytorch.capstone.capstone import sha256_file
from tinytorch.capstone.pipeline import SCHEMA_VERSION, load_results

__all__ = ["make_submission", "load_submission", "SUBMISSION_FILE", "CHECKPOINT_FILE"]

SUBMISSION_FILE = "submission.json"
CHECKPOINT_FILE = "model.npz"


def _interval(summary: dict) -> dict:
    return {k: summary[k] for k in ("median", "q1", "q3", "n")}


def make_submission(results_dir, out, variant: str = "float32", name: str = "anonymous") -> dict:
    """Package ``variant`` of the pipeline run in ``results_dir`` into the folder ``out``.

    The claims are copied from ``results.json``, not re-measured: a submission says what its
    author measured, and the verifier checks it. Returns the submission dict.
    """
    src, out = Path(results_dir), Path(out)
    results = load_results(src)
    rows = {v["name"]: v for v in results["variants"]}
    if variant not in rows:
        raise ValueError(f"make_submission: {src} has no variant {variant!r}; it has "
                         f"{', '.join(rows)}")
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"make_submission: {out} is not empty; choose a new folder")
    out.mkdir(parents=True, exist_ok=True)
    v = rows[variant]
    shutil.copyfile(src / v["checkpoint"], out / CHECKPOINT_FILE)
    copied = [CHECKPOINT_FILE]
    for extra in ["results.json", *results["report"].values()]:
        for f in ([extra] if isinstance(extra, str) else extra):
            shutil.copyfile(src / f, out / f)
            copied.append(f)
    claims = {"accuracy": v["accuracy"], "correct": v["correct"], "n_test": v["n_test"],
              "latency_b1_ms": _interval(v["latency_b1_ms"]["summary"]),
              "batch32_ms": _interval(v["batch32_ms"]["summary"]),
              "throughput_b32": v["throughput_b32"], "state_bytes": v["state_bytes"],
              "checkpoint_bytes": v["checkpoint_bytes"]}
    sub = {"schema_version": SCHEMA_VERSION, "kind": "tinytorch capstone submission",
           "name": name, "task": results["task"], "arch": results["arch"], "variant": variant,
           "quick": results["quick"], "checkpoint": CHECKPOINT_FILE,
           "report": results["report"]["html"], "claims": claims,
           "benchmark": results["benchmark"], "calibration_ms": results["calibration_ms"],
           "environment": results["environment"],
           "files": {f: sha256_file(out / f) for f in sorted(set(copied))}}
    (out / SUBMISSION_FILE).write_text(json.dumps(sub, indent=1) + "\n")
    return sub


def load_submission(folder) -> dict:
    """``folder/submission.json`` with its schema version checked."""
    path = Path(folder) / SUBMISSION_FILE
    try:
        sub = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a readable submission ({e})") from None
    if sub.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"{path}: schema version {sub.get('schema_version')}, this verifier "
                         f"reads {SCHEMA_VERSION}")
    return sub
