"""Module 20 -- the capstone: train, profile, optimize, re-benchmark, report, submit, verify.

* ``pipeline.run_pipeline(out, arch="mlp")``: the end-to-end run on the digits, every variant
  (float32, int8 dynamic and static, 90% pruned) measured from its reloaded checkpoint;
* ``report``: the before/after table as Markdown and a self-contained HTML page;
* ``submission.make_submission``: claims + checkpoint + SHA-256 of every file;
* ``verify.verify``: re-evaluates and re-times a submission, naming every claim that fails;
* ``board.build_board``: a static, sortable leaderboard of verified submissions.

The judgements a learner writes are in ``capstone.py``.
"""

from tinytorch.capstone.capstone import (LATENCY_TOLERANCE, accuracy_holds, claim_holds,
                                         hash_mismatches, sha256_file, table_rows)

__all__ = ["LATENCY_TOLERANCE", "accuracy_holds", "claim_holds", "hash_mismatches",
           "sha256_file", "table_rows"]
