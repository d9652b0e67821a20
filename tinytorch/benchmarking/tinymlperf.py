"""TinyMLPerf: a fixed suite of small closed-division tasks, each trained to a quality target.

MLPerf's idea, at the size of a course: a benchmark result is only worth something when the
model it timed does its job. So each task fixes the data, the model, the optimizer and the
seed (the *closed division*: nothing may change but the framework underneath), trains until a
quality target is reached on a validation split, and then reports

* ``quality``: the metric on **held-out** data the model never trained or early-stopped on
  (accuracy, exact match, validation loss) -- always evaluated, never estimated;
* ``met``: whether ``quality`` reached the task's target;
* ``train_to_target_s``: wall time of training, and ``steps`` it took;
* ``train_step_ms``: the time of one training step (median, quartiles, outliers over the
  steps after the first few);
* ``latency_b1_ms``: inference on one held-out sample (``no_grad``, eval mode);
* ``batch32_ms``: inference on 32 held-out samples, from which the throughput (samples/s).

The tasks:

=============  ==================================================  =====================
id             what                                                target (quick)
=============  ==================================================  =====================
mlp_digits     MLP 64-128-10 on the 8x8 digits, Adam               test accuracy >= 0.93
cnn_digits     2-conv CNN on the 8x8 digits, Adam                  test accuracy >= 0.92
seq_reverse    transformer encoder reverses 5-8 symbol sequences   exact match >= 0.90
                                                                   (quick: 4-5 symbols)
char_gpt       2-layer char GPT on Python's standard library      test loss below the
                                                                   bigram's by 0.15 nats
                                                                   (quick: 1 layer, below it)
=============  ==================================================  =====================

Every task runs in a fresh process by default (``isolation.py``): ``python -m
tinytorch.benchmarking.tinymlperf --child TASK`` prints one JSON object. ``run_suite`` collects
them into a results dict (``results.py`` saves, loads and prints it; ``compare.py`` compares
two). The data: the digits ship with scikit-learn; the text is the standard library's own
sources (files read in sorted order, every 10th held out) -- the corpus's size and hash are
recorded, since it differs between Python versions.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from tinytorch.benchmarking.benchmark import Benchmark
from tinytorch.benchmarking.stats import Summary, summarize

__all__ = ["Task", "TASKS", "get", "run_task", "run_suite", "merge_rounds", "SUITE_VERSION",
           "DEFAULT_ROUNDS"]

# Rounds of the whole suite per run, each task in a fresh process each round (see run_suite).
# One round is not enough on a shared machine: this 2-core VM's speed drifts by up to 2x over
# minutes (the same NumPy matmul loop measured 4.5 ms in one process and 8 ms in the next,
# with nothing else running), so a run made of one process per task can land every task in a
# slow phase. Three rounds, task after task, spread every phase over every task, and the
# pooled spread then covers the drift (measured pairs: benchmarks/noise_check/summary.json).
DEFAULT_ROUNDS = 3

SUITE_VERSION = 1  # bump when a task's data, model, optimizer or target changes


@dataclass(frozen=True)
class Task:
    """One closed-division task.

    ``prepare(quick)`` returns a :class:`Prepared`: the model, a ``train_step()`` that runs one
    optimizer step on the next fixed batch, a ``validate()`` for early stopping, a ``test()``
    on the held-out data, one input of batch 1 and one of batch 32 for inference, and the
    target. ``higher_is_better`` says which way the metric goes.
    """

    id: str
    name: str
    metric: str
    higher_is_better: bool
    prepare: Callable[[bool], "Prepared"]


@dataclass
class Prepared:
    model: object
    train_step: Callable[[], float]
    validate: Callable[[], float]
    test: Callable[[], float]
    batch1: object
    batch32: object
    target: float
    max_steps: int
    eval_every: int
    info: dict
    stop_at: float | None = None  # validation value that ends training (default: target)


def _reached(value: float, target: float, higher: bool) -> bool:
    return value >= target if higher else value <= target


# --------------------------------------------------------------------------- shared pieces


def _tt():
    import tinytorch as tt

    return tt


def _loop_batches(n: int, batch: int, seed: int):
    """Index batches over ``n`` samples, a fixed permutation per epoch, forever."""
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(n)
        for s in range(0, n - batch + 1, batch):
            yield order[s:s + batch]


def _accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    tt = _tt()
    model.eval()
    with tt.no_grad():
        pred = model(tt.tensor(x)).numpy().argmax(-1)
    model.train()
    return float((pred == y).mean())


def _classifier(model, x_tr, y_tr, x_val, y_val, x_te, y_te, lr, batch, target, max_steps,
                eval_every, seed, info, stop_at):
    """A classification task's pieces: Adam on cross-entropy over fixed batches."""
    tt = _tt()
    F = tt.nn.functional
    opt = tt.optim.Adam(model.parameters(), lr=lr)
    batches = _loop_batches(len(x_tr), batch, seed)

    def train_step() -> float:
        idx = next(batches)
        loss = F.cross_entropy(model(tt.tensor(x_tr[idx])), tt.tensor(y_tr[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return Prepared(model, train_step, lambda: _accuracy(model, x_val, y_val),
                    lambda: _accuracy(model, x_te, y_te), tt.tensor(x_te[:1]),
                    tt.tensor(x_te[:32]), target, max_steps, eval_every, info, stop_at)


def _digits(flatten: bool):
    """The fixed digits split: train (1138), validation (300, for early stopping), test (359,
    held out: the reported accuracy)."""
    from tinytorch.data.datasets import digits

    train, test = digits(test_fraction=0.2, seed=0, flatten=flatten)
    x, y = train.tensors[0].numpy(), train.tensors[1].numpy()
    return (x[300:], y[300:], x[:300], y[:300], test.tensors[0].numpy(),
            test.tensors[1].numpy())


# --------------------------------------------------------------------------- the tasks


def _mlp_digits(quick: bool) -> Prepared:
    tt = _tt()
    nn = tt.nn
    tt.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    data = _digits(flatten=True)
    return _classifier(model, *data, lr=3e-3, batch=64, target=0.93, max_steps=1500,
                       eval_every=30, seed=0, stop_at=0.97, info={"data": "sklearn digits 8x8",
                                                   "train/val/test": [len(data[0]), 300,
                                                                      len(data[4])]})


def _cnn_digits(quick: bool) -> Prepared:
    tt = _tt()
    nn = tt.nn
    tt.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(16 * 2 * 2, 10))
    data = _digits(flatten=False)
    return _classifier(model, *data, lr=3e-3, batch=64, target=0.92, max_steps=1500,
                       eval_every=30, seed=0, stop_at=0.97, info={"data": "sklearn digits 1x8x8",
                                                   "train/val/test": [len(data[0]), 300,
                                                                      len(data[4])]})


# ---- sequence reversal (the task of milestone 05, part (a), at a smaller size)

PAD = 0


def _reverse_data(rng, n, min_len, max_len, symbols, exclude=None):
    lengths = rng.integers(min_len, max_len + 1, n)
    ids = rng.integers(1, symbols + 1, (n, max_len))
    ids[np.arange(max_len)[None, :] >= lengths[:, None]] = PAD
    if exclude:
        for r in range(n):
            while tuple(ids[r, :lengths[r]]) in exclude:
                ids[r, :lengths[r]] = rng.integers(1, symbols + 1, lengths[r])
    want = np.full_like(ids, PAD)
    for r, k in enumerate(lengths):
        want[r, :k] = ids[r, :k][::-1]
    return ids.astype(np.int64), want.astype(np.int64)


def _seq_model(vocab, max_len, d_model):
    tt = _tt()
    nn = tt.nn

    class Reverser(nn.Module):
        """Token + position embeddings -> pre-norm encoder (padding masked) -> logits."""

        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(vocab, d_model, padding_idx=PAD)
            self.pos = nn.Embedding(max_len, d_model)
            layer = nn.TransformerEncoderLayer(d_model, 4, 2 * d_model, dropout=0.0,
                                               batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2)
            self.norm = nn.LayerNorm(d_model)
            self.head = nn.Linear(d_model, vocab)

        def forward(self, ids):
            pad = tt.tensor(ids.numpy() == PAD)  # (B, S) True = padding
            x = self.tok(ids) + self.pos(tt.arange(ids.shape[1]))
            return self.head(self.norm(self.encoder(x, src_key_padding_mask=pad)))

    return Reverser()


def _exact_match(model, ids, want) -> float:
    tt = _tt()
    model.eval()
    with tt.no_grad():
        pred = model(tt.tensor(ids)).numpy().argmax(-1)
    model.train()
    return float((((pred == want) | (ids == PAD)).all(axis=1)).mean())


def _seq_reverse(quick: bool) -> Prepared:
    tt = _tt()
    F = tt.nn.functional
    min_len, max_len, symbols = (4, 5, 6) if quick else (5, 8, 8)
    tt.manual_seed(0)
    model = _seq_model(symbols + 1, max_len, 32)
    test_ids, test_want = _reverse_data(np.random.default_rng(10_000), 500, min_len, max_len,
                                        symbols)
    held = {tuple(r[r != PAD]) for r in test_ids}
    val_ids, val_want = _reverse_data(np.random.default_rng(20_000), 300, min_len, max_len,
                                      symbols, held)
    held |= {tuple(r[r != PAD]) for r in val_ids}
    rng = np.random.default_rng(0)
    opt = tt.optim.Adam(model.parameters(), lr=3e-3)

    def train_step() -> float:
        ids, want = _reverse_data(rng, 64, min_len, max_len, symbols, held)
        logits = model(tt.tensor(ids))
        loss = F.cross_entropy(logits.reshape(-1, symbols + 1), tt.tensor(want).reshape(-1),
                               ignore_index=PAD)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return Prepared(model, train_step, lambda: _exact_match(model, val_ids, val_want),
                    lambda: _exact_match(model, test_ids, test_want),
                    tt.tensor(test_ids[:1]), tt.tensor(test_ids[:32]), 0.90,
                    1500 if quick else 4000, 25,
                    {"lengths": [min_len, max_len], "symbols": symbols,
                     "test sequences": 500, "training never sees a test or validation one": True})


# ---- a character-level GPT on the standard library's sources



STOP_SAFETY = 0.05  # nats: validation must beat its bar by this much before training stops


def _stdlib_text(max_train: int, max_val: int) -> tuple[str, str, dict]:
    """The first ``max_train`` characters of the training files and ``max_val`` of the
    held-out files (every 10th top-level ``*.py`` of the standard library, sorted order)."""
    folder = Path(os.__file__).resolve().parent
    train, val = [], []
    for k, path in enumerate(sorted(folder.glob("*.py"))):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        (val if k % 10 == 9 else train).append(text)
    tr, va = "".join(train)[:max_train], "".join(val)[:max_val]
    digest = hashlib.sha256((tr + "\0" + va).encode()).hexdigest()[:16]
    return tr, va, {"corpus": f"{folder}/*.py", "train_chars": len(tr), "val_chars": len(va),
                    "sha256_16": digest}


def _encode(text: str) -> np.ndarray:
    """Printable ASCII and newline -> ids 1..96; anything else -> 0."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    ids = codes - 31  # ' ' (32) -> 1 ... '~' (126) -> 95
    ids[(codes < 32) | (codes > 126)] = 0
    ids[codes == 10] = 96
    return ids


def _bigram_loss(train_ids, x, y, vocab) -> float:
    """The best add-alpha smoothed bigram's loss on the held-out windows (nats per token)."""
    counts = np.bincount(train_ids[:-1] * vocab + train_ids[1:], minlength=vocab * vocab)
    counts = counts.reshape(vocab, vocab).astype(np.float64)
    best = math.inf
    for alpha in (0.01, 0.03, 0.1, 0.3, 1.0):
        logp = np.log((counts + alpha) / (counts + alpha).sum(axis=1, keepdims=True))
        best = min(best, float(-logp[x.ravel(), y.ravel()].mean()))
    return best


def _char_gpt(quick: bool) -> Prepared:
    tt = _tt()
    F = tt.nn.functional
    vocab = 97
    context, d_model, layers, heads = (16, 32, 1, 2) if quick else (32, 64, 2, 4)
    train_text, val_text, info = _stdlib_text(300_000, 60_000)
    tr, va = _encode(train_text), _encode(val_text)
    # 192 evenly spaced windows of the held-out files: every third for validation (early
    # stopping), the other 128 for the test; interleaved, so both see the same kinds of text
    starts = np.linspace(0, len(va) - context - 1, 192).astype(np.int64)
    starts_val, starts_te = starts[0::3], np.delete(starts, np.s_[0::3])
    win = np.arange(context)
    xv, yv = va[starts_val[:, None] + win], va[starts_val[:, None] + win + 1]
    xt, yt = va[starts_te[:, None] + win], va[starts_te[:, None] + win + 1]
    bigram_val, bigram = _bigram_loss(tr, xv, yv, vocab), _bigram_loss(tr, xt, yt, vocab)
    margin = 0.0 if quick else 0.15
    tt.manual_seed(0)
    model = tt.models.GPT(vocab, d_model, layers, heads, context)
    opt = tt.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    rng = np.random.default_rng(0)

    def train_step() -> float:
        s = rng.integers(0, len(tr) - context - 1, 16)
        x, y = tr[s[:, None] + win], tr[s[:, None] + win + 1]
        loss = F.cross_entropy(model(tt.tensor(x)).reshape(-1, vocab), tt.tensor(y).reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    def loss_on(x, y):
        model.eval()
        with tt.no_grad():
            out = F.cross_entropy(model(tt.tensor(x)).reshape(-1, vocab),
                                  tt.tensor(y).reshape(-1)).item()
        model.train()
        return float(out)

    info.update(bigram_val_loss=bigram_val, bigram_test_loss=bigram, margin_nats=margin,
                context=context, d_model=d_model, layers=layers, heads=heads)
    # early stopping compares validation loss with the bigram's on the same validation
    # windows (with STOP_SAFETY to spare); the target is the bigram's loss on the test windows
    return Prepared(model, train_step, lambda: loss_on(xv, yv), lambda: loss_on(xt, yt),
                    tt.tensor(xt[:1]), tt.tensor(xt[:32]), bigram - margin,
                    1500 if quick else 3000, 25, info, stop_at=bigram_val - margin - STOP_SAFETY)


TASKS: tuple[Task, ...] = (
    Task("mlp_digits", "MLP on the 8x8 digits", "test accuracy", True, _mlp_digits),
    Task("cnn_digits", "CNN on the 8x8 digits", "test accuracy", True, _cnn_digits),
    Task("seq_reverse", "transformer reverses sequences", "test exact match", True, _seq_reverse),
    Task("char_gpt", "char GPT on the stdlib sources", "test loss (nats)", False, _char_gpt),
)


def get(task_id: str) -> Task:
    for t in TASKS:
        if t.id == task_id:
            return t
    raise KeyError(f"no TinyMLPerf task {task_id!r}; known: {', '.join(t.id for t in TASKS)}")


# --------------------------------------------------------------------------- running


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def planted_slowdown(fn: Callable, factor: float) -> Callable:
    """``fn`` made ``factor`` times slower: after each call, burn (factor - 1) times the CPU
    time the call used, in a busy loop (so both the wall clock and the CPU clock see it).
    A known regression, to check that a comparison flags one (``tito benchmark run
    --plant-slowdown 2``); the results file records the factor."""
    if factor == 1:
        return fn

    def slowed():
        start = time.process_time()
        out = fn()
        until = time.process_time() + (factor - 1) * (time.process_time() - start)
        while time.process_time() < until:
            pass
        return out

    return slowed


def run_task(task: Task, quick: bool = False, bench: Benchmark | None = None,
             slowdown: float = 1.0, clock: str = "wall") -> dict:
    """Train ``task`` to its target (checked every ``eval_every`` steps on the validation
    split), evaluate on the held-out test data, then time inference at batch 1 and 32.
    ``slowdown`` plants a known regression (see :func:`planted_slowdown`). ``clock``:
    ``"wall"`` (time.perf_counter, what a user waits) or ``"cpu"`` (time.process_time, the
    CPU this process used: far less disturbed when other processes share the cores)."""
    tt = _tt()
    tick = CLOCKS[clock]
    bench = bench or Benchmark(warmup=3, repeats=7 if quick else 25, clock=tick)
    t0 = time.perf_counter()
    prep = task.prepare(quick)
    train_step = planted_slowdown(prep.train_step, slowdown)
    setup_s = time.perf_counter() - t0
    step_ms, val, steps, reached = [], None, 0, False
    start = time.perf_counter()
    while steps < prep.max_steps:
        s0 = tick()
        loss = train_step()
        step_ms.append((tick() - s0) * 1e3)
        steps += 1
        if not math.isfinite(loss):
            break
        if steps % prep.eval_every == 0:
            val = prep.validate()
            stop = prep.target if prep.stop_at is None else prep.stop_at
            if _reached(val, stop, task.higher_is_better):
                reached = True
                break
    train_s = time.perf_counter() - start
    quality = prep.test()
    model = prep.model
    model.eval()

    def infer(x):
        def call():
            with tt.no_grad():
                model(x)
        return planted_slowdown(call, slowdown)

    lat = bench.measure("latency_b1_ms", infer(prep.batch1))
    b32 = bench.measure("batch32_ms", infer(prep.batch32))
    kept = step_ms[3:] if len(step_ms) > 6 else step_ms  # the first steps warm up
    step = summarize(kept, bench.outlier_k)
    throughput = {"median": 32e3 / b32.summary.median, "lo": 32e3 / b32.summary.q3,
                  "hi": 32e3 / b32.summary.q1, "unit": "samples/s"}
    return {"id": task.id, "name": task.name, "metric": task.metric,
            "higher_is_better": task.higher_is_better, "target": prep.target,
            "quality": quality, "met": _reached(quality, prep.target, task.higher_is_better),
            "validation": val, "validation_reached_target": reached, "steps": steps,
            "train_to_target_s": train_s, "setup_s": setup_s,
            "measurements": {"train_step_ms": {"samples": kept, "summary": step.to_dict()},
                             "latency_b1_ms": {"samples": lat.samples,
                                               "summary": lat.summary.to_dict()},
                             "batch32_ms": {"samples": b32.samples,
                                            "summary": b32.summary.to_dict()}},
            "throughput_b32": throughput, "info": prep.info, "planted_slowdown": slowdown,
            "clock": clock,
            "error": None}


def _error_row(task_id: str, error: str) -> dict:
    try:
        t = get(task_id)
        head = {"id": t.id, "name": t.name, "metric": t.metric,
                "higher_is_better": t.higher_is_better}
    except KeyError:
        head = {"id": task_id, "name": task_id}
    return {**head, "error": error, "met": False, "measurements": {}}


def run_in_process(task_id: str, quick: bool, repeats: int | None = None,
                   slowdown: float = 1.0, clock: str = "wall") -> dict:
    """:func:`run_task` with errors caught: a stubbed module in a learner's workspace is one
    error row, not a crash of the whole suite."""
    import traceback

    try:
        bench = None if repeats is None else Benchmark(warmup=3, repeats=repeats,
                                                       clock=CLOCKS[clock])
        row = run_task(get(task_id), quick, bench, slowdown, clock)
    except Exception as e:
        row = _error_row(task_id, f"{type(e).__name__}: {e}".splitlines()[0][:300])
        row["traceback"] = traceback.format_exc()[-2000:]
    row["process_imported"] = sorted(m for m in ("tinytorch", "torch") if m in sys.modules)
    return row


def _one(task_id, quick, isolate, threads, repeats, timeout, slowdown, clock) -> dict:
    from tinytorch.benchmarking.isolation import child_env, python, run_json_child

    if not isolate:
        return run_in_process(task_id, quick, repeats, slowdown, clock)
    cmd = [python(), "-m", "tinytorch.benchmarking.tinymlperf", "--child", task_id]
    cmd += (["--quick"] if quick else []) + ([f"--repeats={repeats}"] if repeats else [])
    cmd += ([f"--slowdown={slowdown}"] if slowdown != 1 else []) + [f"--clock={clock}"]
    row = run_json_child(cmd, child_env(threads), timeout, {"id": task_id})
    if row.get("error") and "measurements" not in row:
        row = _error_row(task_id, row["error"])
    return row


def merge_rounds(rows: list[dict], outlier_k: float = 1.5) -> dict:
    """One task's rows from several rounds (fresh processes) as one row: every timing's
    samples pooled and summarized again, the training time the median over rounds. Training
    is deterministic (fixed seeds, fixed data), so every round must report the same quality:
    if they differ the row says so in ``error`` rather than picking one."""
    first = rows[0]
    bad = [r for r in rows if r.get("error")]
    if bad or len(rows) == 1:
        return bad[0] if bad else first
    out = dict(first)
    qualities = [r["quality"] for r in rows]
    if len(set(qualities)) != 1:
        out["error"] = (f"rounds disagree on the quality ({qualities}): training is not "
                        "deterministic on this machine")
    out["rounds"] = len(rows)
    out["round_qualities"] = qualities
    out["train_to_target_s"] = sorted(r["train_to_target_s"] for r in rows)[len(rows) // 2]
    out["measurements"] = {}
    for key in first["measurements"]:
        pooled = [x for r in rows for x in r["measurements"][key]["samples"]]
        out["measurements"][key] = {"samples": pooled,
                                    "summary": summarize(pooled, outlier_k).to_dict()}
    b32 = Summary.from_dict(out["measurements"]["batch32_ms"]["summary"])
    out["throughput_b32"] = {"median": 32e3 / b32.median, "lo": 32e3 / b32.q3,
                             "hi": 32e3 / b32.q1, "unit": "samples/s"}
    return out


def run_suite(task_ids=None, quick: bool = False, isolate: bool = True, threads: int = 1,
              repeats: int | None = None, progress: Callable[[str], None] | None = None,
              timeout: float = 1800.0, slowdown: float = 1.0, clock: str = "wall",
              rounds: int = DEFAULT_ROUNDS) -> list[dict]:
    """Run the tasks (all by default), each in a fresh process unless ``isolate=False``.

    ``rounds > 1`` runs the whole suite that many times, task after task (so a change in the
    machine's load over the minutes hits every task alike), and pools each task's timings
    (:func:`merge_rounds`): a run's spread then covers its own drift.
    """
    ids = list(task_ids or [t.id for t in TASKS])
    for task_id in ids:
        get(task_id)  # unknown ids fail here, before anything runs
    per_task = {i: [] for i in ids}
    for r in range(rounds):
        for task_id in ids:
            if progress is not None:
                progress(task_id if rounds == 1 else f"{task_id} (round {r + 1}/{rounds})")
            per_task[task_id].append(_one(task_id, quick, isolate, threads, repeats, timeout,
                                          slowdown, clock))
    return [merge_rounds(per_task[i]) for i in ids]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tinytorch.benchmarking.tinymlperf",
                                description="One TinyMLPerf task in this process (JSON out).")
    p.add_argument("--child", required=True, metavar="TASK")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--slowdown", type=float, default=1.0)
    p.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    args = p.parse_args(argv)
    print(json.dumps(run_in_process(args.child, args.quick, args.repeats, args.slowdown,
                                    args.clock)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
