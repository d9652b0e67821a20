"""The capstone pipeline: train, profile, optimize, re-benchmark, report.

    from tinytorch.capstone.pipeline import run_pipeline
    results = run_pipeline("runs/capstone", arch="mlp", quick=True)

1. **Train** the TinyMLPerf model (``arch``: the digits MLP or CNN) on the fixed split of
   the 8x8 digits: 1,138 training images, 300 for validation, 359 held out for the test
   (TinyMLPerf's split, ``tt.data.digits(test_fraction=0.2, seed=0)``).
2. **Profile** it (module 14): op-level self time of one batch-32 forward, and its FLOPs.
3. **Optimize** (modules 15-16): every variant of ``variants.py``, each made from the
   trained model. KV caching (17) and the fused kernels of 18 have nothing to act on in
   these models (no attention, no GELU): the results say so rather than fake a row.
4. **Re-benchmark** each variant (module 19's runner): accuracy on the 359 held-out images,
   latency at batch 1 (median, quartiles), throughput at batch 32, bytes of the state in
   memory (``.nbytes``) and of the checkpoint file on disk.
5. **Report**: ``results.json`` (every raw timing sample kept), one checkpoint per variant,
   ``report.md`` and ``report.html`` with the before/after table and plots.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from tinytorch.capstone.variants import VARIANTS, build, load_variant, make_variant, save_variant

__all__ = ["SCHEMA_VERSION", "digits_split", "train", "accuracy", "time_model",
           "time_alternated", "calibration",
           "profile_model", "run_pipeline", "load_results", "NOT_APPLICABLE"]

SCHEMA_VERSION = 1  # results.json and submission.json; bump when a field changes meaning

NOT_APPLICABLE = {
    "kv_cache": "module 17's KV cache memoizes attention keys and values; the digits models "
                "have no attention, so there is nothing to cache",
    "fusion": "module 18's fused kernels are GELU and softmax-cross-entropy; these models "
              "infer with ReLU and no loss, so no fused kernel applies at inference",
}


def _tt():
    import tinytorch as tt

    return tt


def digits_split(arch: str) -> dict:
    """TinyMLPerf's fixed digits split as NumPy arrays: ``x_train``/``y_train`` (1,138),
    ``x_val``/``y_val`` (300), ``x_test``/``y_test`` (359, held out). The CNN sees
    ``(N, 1, 8, 8)`` images, the MLP ``(N, 64)`` vectors."""
    tt = _tt()
    train, test = tt.data.digits(test_fraction=0.2, seed=0, flatten=arch == "mlp")
    x, y = train.tensors[0].numpy(), train.tensors[1].numpy()
    return {"x_train": x[300:], "y_train": y[300:], "x_val": x[:300], "y_val": y[:300],
            "x_test": test.tensors[0].numpy(), "y_test": test.tensors[1].numpy()}


def _steps(model, x, y, steps: int, lr: float, seed: int, batch: int = 64) -> list[float]:
    """``steps`` Adam steps on random batches of ``(x, y)``; the losses."""
    tt = _tt()
    F = tt.nn.functional
    opt = tt.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    rng = np.random.default_rng(seed)
    model.train()
    losses = []
    for _ in range(steps):
        idx = rng.choice(len(x), batch, replace=False)
        loss = F.cross_entropy(model(tt.tensor(x[idx])), tt.tensor(y[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    return losses


def train(arch: str, data: dict, steps: int, seed: int = 0):
    """A fresh ``arch`` trained ``steps`` Adam steps (lr 3e-3, batch 64); (model, losses)."""
    tt = _tt()
    tt.manual_seed(seed)
    model = build(arch)
    return model, _steps(model, data["x_train"], data["y_train"], steps, 3e-3, seed)


def accuracy(model, x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    """(accuracy, number correct) of ``model`` on ``(x, y)``, eval mode, no graph."""
    tt = _tt()
    model.eval()
    with tt.no_grad():
        pred = model(tt.tensor(x)).numpy().argmax(-1)
    correct = int((pred == y).sum())
    return correct / len(y), correct


def time_model(model, x1: np.ndarray, x32: np.ndarray, bench) -> dict:
    """Module 19's runner on inference: batch 1 (latency) and batch 32 (throughput).

    Returns ``{"latency_b1_ms": {"samples", "summary"}, "batch32_ms": {...},
    "throughput_b32": samples/s from the batch-32 median}``."""
    tt = _tt()
    a, b = tt.tensor(x1), tt.tensor(x32)
    model.eval()

    def call(inp):
        def run():
            with tt.no_grad():
                model(inp)
        return run

    lat = bench.measure("latency_b1_ms", call(a))
    b32 = bench.measure("batch32_ms", call(b))
    return {"latency_b1_ms": {"samples": lat.samples, "summary": lat.summary.to_dict()},
            "batch32_ms": {"samples": b32.samples, "summary": b32.summary.to_dict()},
            "throughput_b32": len(x32) * 1e3 / b32.summary.median}


def time_alternated(models: list, x1: np.ndarray, x32: np.ndarray, bench,
                    per_round: int = 3) -> list[dict]:
    """:func:`time_model` for several models in alternated rounds (forward, then backward
    order) of ``per_round`` samples each, ``bench.repeats`` samples in all, pooled: the
    machine's load drifts over a run, and timing one model after the other would hand the
    drift to whichever came last. Short rounds spread every phase of the drift over all."""
    from tinytorch.benchmarking import Benchmark
    from tinytorch.benchmarking.stats import summarize

    rounds = max(1, -(-bench.repeats // per_round))
    pooled = [None] * len(models)
    order = list(range(len(models)))
    for r in range(rounds):
        # the last round takes what is left: bench.repeats samples in all, not a multiple
        n = max(1, min(per_round, bench.repeats - r * per_round))
        this_round = Benchmark(bench.warmup, n, bench.number, bench.outlier_k, bench.clock)
        for i in (order if r % 2 == 0 else order[::-1]):
            t = time_model(models[i], x1, x32, this_round)
            if pooled[i] is None:
                pooled[i] = t
            else:
                for key in ("latency_b1_ms", "batch32_ms"):
                    pooled[i][key]["samples"] += t[key]["samples"]
    for t in pooled:
        for key in ("latency_b1_ms", "batch32_ms"):
            t[key]["summary"] = summarize(t[key]["samples"], bench.outlier_k).to_dict()
        t["throughput_b32"] = len(x32) * 1e3 / t["batch32_ms"]["summary"]["median"]
    return pooled


def calibration(bench) -> dict:
    """A fixed NumPy workload (a 128x128 float32 matmul, tanh, sum) timed by ``bench``: how
    fast this machine is, so a verifier on another machine can scale timing claims."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((128, 128)).astype(np.float32)
    b = rng.standard_normal((128, 128)).astype(np.float32)
    m = bench.measure("calibration_ms", lambda: float(np.tanh(a @ b).sum()))
    return m.summary.to_dict()


def profile_model(model, x32: np.ndarray, top: int = 6) -> dict:
    """Module 14 on one batch-32 forward: the ops with the most self time, and FLOPs."""
    tt = _tt()
    from tinytorch.utils.flop_counter import FlopCounterMode

    model.eval()
    inp = tt.tensor(x32)
    with tt.no_grad():
        model(inp)  # warm-up
        with tt.profiler.profile() as prof:
            model(inp)
        with FlopCounterMode(display=False) as counter:
            model(inp)
    events = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in events) or 1.0
    ops = [{"op": e.key, "calls": e.count, "self_us": float(e.self_cpu_time_total),
            "share": float(e.self_cpu_time_total / total)} for e in events[:top]]
    return {"batch": len(x32), "ops": ops, "flops_per_sample":
            counter.get_total_flops() / len(x32), "self_us_total": float(total)}


def run_pipeline(out, arch: str = "mlp", quick: bool = False, bench=None, seed: int = 0,
                 variants=VARIANTS, plots: bool = True, train_steps: int | None = None,
                 finetune_steps: int | None = None) -> dict:
    """Train, profile, optimize, re-benchmark and report into the folder ``out``.

    ``quick``: fewer training steps and timing repeats (seconds, for tests and the lab).
    ``bench``: a ``tinytorch.benchmarking.Benchmark`` (default: warm-up 3, 9 repeats quick,
    24 full, taken in alternated rounds of 3: :func:`time_alternated`). ``train_steps`` /
    ``finetune_steps`` (per pruning level) override the
    defaults (600 / 200; quick 150 / 40). Returns the results dict also written to
    ``out/results.json``.
    """
    tt = _tt()
    from tinytorch.benchmarking import Benchmark
    from tinytorch.benchmarking.environment import capture
    from tinytorch.capstone.report import write_report

    if variants[0] != "float32":
        raise ValueError("run_pipeline: the first variant must be 'float32', the baseline "
                         "every other row is compared with")
    out = Path(out)
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)
    bench = bench or Benchmark(warmup=3, repeats=9 if quick else 24)
    steps, tune = (150, 40) if quick else (600, 200)
    steps = train_steps if train_steps is not None else steps
    tune = finetune_steps if finetune_steps is not None else tune
    data = digits_split(arch)
    start = time.perf_counter()
    model, losses = train(arch, data, steps, seed)
    train_s = time.perf_counter() - start
    x1, x32 = data["x_test"][:1], data["x_test"][:32]
    profile = profile_model(model, x32)

    def finetune(m):  # between pruning levels: a few steps with the masks applied
        _steps(m, data["x_train"], data["y_train"], tune, 3e-3, seed + 1)

    rows, loaded = [], {}
    from tinytorch.optimization.quantized_layers import state_nbytes

    for name in variants:
        t0 = time.perf_counter()
        vmodel = make_variant(name, model, data["x_train"][:256], finetune)
        make_s = time.perf_counter() - t0
        rel = f"checkpoints/{name}.npz"
        file_bytes = save_variant(name, vmodel, out / rel)
        # every number is measured on the model as loaded back from its checkpoint: the same
        # object a verifier will rebuild
        loaded[name] = load_variant(arch, name, out / rel)
        acc, correct = accuracy(loaded[name], data["x_test"], data["y_test"])
        rows.append({"name": name, "accuracy": acc, "correct": correct,
                     "n_test": len(data["y_test"]), "state_bytes": state_nbytes(loaded[name]),
                     "checkpoint": rel, "checkpoint_bytes": file_bytes, "make_seconds": make_s})
    for row, timing in zip(rows, time_alternated(list(loaded.values()), x1, x32, bench)):
        row.update(timing)
    results = {"schema_version": SCHEMA_VERSION, "kind": "tinytorch capstone results",
               "arch": arch, "task": f"{arch}_digits", "quick": quick, "seed": seed,
               "train_steps": steps, "finetune_steps_per_level": tune,
               "train_seconds": train_s, "final_train_loss": float(np.mean(losses[-10:])),
               "data": {"split": "tt.data.digits(test_fraction=0.2, seed=0): train[300:], "
                                 "val = train[:300], test held out",
                        "n_train": len(data["y_train"]), "n_test": len(data["y_test"])},
               "benchmark": bench.config(), "calibration_ms": calibration(bench),
               "environment": capture(), "profile": profile, "variants": rows,
               "not_applicable": NOT_APPLICABLE}
    results["report"] = write_report(out, results, plots=plots)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    return results


def load_results(folder) -> dict:
    """``folder/results.json``, its schema version checked."""
    data = json.loads((Path(folder) / "results.json").read_text())
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"{folder}/results.json: schema version {data.get('schema_version')}"
                         f", this tinytorch reads {SCHEMA_VERSION}")
    return data
