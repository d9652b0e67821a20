"""Milestone 05 -- the transformer (Vaswani, Shazeer, Parmar, Uszkoreit, Jones, Gomez, Kaiser
and Polosukhin, 2017).

"Attention is all you need" dropped recurrence altogether: every position of a sequence
looks at every other through attention, in parallel, and stacks of such layers translated
better than anything before. GPT (2018) kept only the decoder and trained it to predict the
next token. This milestone runs both ideas on your framework, in three parts:

(a) a small transformer encoder learns to reverse (and to copy) sequences of 8-12 symbols:
    >= 99% exact match on held-out sequences, both tasks in under 2 minutes; its attention
    heatmap shows the anti-diagonal it learned, and the mass on it is measured;
(b) a character-level GPT trained on the source of Python's own standard library (no
    download; ``--corpus`` takes any text file or folder instead) for a fixed time budget
    reaches a validation loss, on held-out files, below a bigram model counted in the same
    run; it prints samples;
(c) "TinyCopilot": the same model completes 10 function headers from the held-out files,
    judged by ``ast`` and saved to ``completions.txt``.

The tiers (``TIER_CONFIG``, ``TIER_TARGETS``): **full** (``--full``, the historical run) trains
the GPT for 250 s and must land >= 0.5 nats/char below the bigram in under 300 s, and at
least 2 of the 10 completions must parse; **standard** (the default) runs (a) as in full,
trains the GPT for 60 s to >= 0.25 nats/char below the bigram in under 120 s (measured:
0.334 and 0.354 on seeds 0 and 2), and skips (c) (a 60 s model's completions do not parse:
0 of 10 on both seeds);
**quick** (a smoke run, seconds: 10 steps per task, a 1-layer GPT trained 4 s) has its own
targets: copy >= 50% exact, the reversal loss down >= 5%, the GPT's validation loss down
>= 0.02 nats/char.

    python milestones/05_transformer/run.py                # or: tito milestone run 05
    python milestones/05_transformer/run.py --full         # the historical 250 s GPT
    python milestones/05_transformer/run.py --corpus ~/src/myproject --glob '**/*.py'
    python milestones/05_transformer/run.py --budget 600 --layers 3   # a longer run

Needs modules 01-13.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # milestones/, for common.py
sys.path.insert(0, str(HERE))  # this milestone's parts
import common  # noqa: E402

import numpy as np  # noqa: E402

import code_corpus  # noqa: E402
import copilot  # noqa: E402
import seq_tasks  # noqa: E402
import tinytorch as tt  # noqa: E402
import tinytorch.nn as nn  # noqa: E402
import tinytorch.nn.functional as F  # noqa: E402
from tinytorch.models import GPT  # noqa: E402
from tinytorch.text import CharTokenizer  # noqa: E402

NAME = "05_transformer"
TITLE = "Attention is all you need: transformers reverse sequences and write Python " \
        "(Vaswani et al., 2017)"
SEQ_TARGET, SEQ_SECONDS = 0.99, 120.0  # part (a)
MARGIN, LM_SECONDS = 0.5, 300.0  # part (b), full tier: nats per character below the bigram, s
PARSE_TARGET, N_HEADERS = 2, 10  # part (c), full tier
MASS_TARGET = 0.5  # the best head's mean weight on the anti-diagonal (uniform: about 0.1)
# what each tier trains: (a) steps and held-out sets, (b) the GPT and its time budget
TIER_CONFIG = {
    "quick": {"seq_steps": 10, "seq_test": 200, "seq_val": 100, "eval_every": 10,
              "lm": {"layers": 1, "d_model": 32, "heads": 2, "context": 32, "budget": 4.0,
                     "max_bytes": 300_000},
              "val_windows": 100, "sample_chars": 40, "copilot_chars": 40, "copilot": True},
    "standard": {"seq_steps": 1000, "seq_test": 1000, "seq_val": 500, "eval_every": 50,
                 "lm": {"layers": 2, "d_model": 128, "heads": None, "context": 64,
                        "budget": 60.0, "max_bytes": None},
                 "val_windows": 1000, "sample_chars": 200, "copilot_chars": 240,
                 "copilot": False},
    "full": {"seq_steps": 1000, "seq_test": 1000, "seq_val": 500, "eval_every": 50,
             "lm": {"layers": 2, "d_model": 128, "heads": None, "context": 64,
                    "budget": 250.0, "max_bytes": None},
             "val_windows": 1000, "sample_chars": 200, "copilot_chars": 240,
             "copilot": True},
}
# each tier's own targets; None: measured and shown, not checked in that tier
# (quick: ten steps copy but cannot reverse, and a 4 s GPT only starts to learn, so the
# quick tier asks for the loss to fall: measured on seeds 0-2, reversal loss -11 to -12%,
# copy 89.5-99.5% exact, GPT validation loss -0.03 nats after 5-6 steps on a loaded machine)
TIER_TARGETS = {
    "quick": {"exact match": None, "copy exact match": 0.5, "reverse loss drop": 0.05,
              "mass": None, "seq seconds": SEQ_SECONDS, "below bigram": None,
              "lm loss drop": 0.02, "lm seconds": LM_SECONDS, "parse": None},
    "standard": {"exact match": SEQ_TARGET, "copy exact match": SEQ_TARGET,
                 "reverse loss drop": None, "mass": MASS_TARGET, "seq seconds": SEQ_SECONDS,
                 "below bigram": 0.25, "lm loss drop": None, "lm seconds": 120.0,
                 "parse": None},
    "full": {"exact match": SEQ_TARGET, "copy exact match": SEQ_TARGET,
             "reverse loss drop": None, "mass": MASS_TARGET, "seq seconds": SEQ_SECONDS,
             "below bigram": MARGIN, "lm loss drop": None, "lm seconds": LM_SECONDS,
             "parse": PARSE_TARGET},
}
COPILOT_TEMPERATURE = 0.4
STOP_AT = 1.0  # (a) stops once every one of the 500 validation sequences is right


def add_arguments(parser):
    g = parser.add_argument_group("part (a): sequence reversal and copy")
    g.add_argument("--seq-steps", type=int, default=None,
                   help="most training steps per task (default 1000, 10 with --quick); "
                        "training stops earlier once a validation set is all right")
    g = parser.add_argument_group("part (b): the character-level GPT")
    g.add_argument("--corpus", type=Path, default=None,
                   help="a text file or folder to train on instead of the standard library")
    g.add_argument("--glob", default=None,
                   help="files of a --corpus folder to read (default '**/*': every UTF-8 text "
                        "file); for the standard library the default is '*.py'")
    g.add_argument("--max-bytes", type=int, default=None,
                   help="read training files only up to this many characters")
    g.add_argument("--budget", type=float, default=None,
                   help="seconds of training (default 60; 250 with --full, 4 with --quick); "
                        "evaluation and "
                        "sampling come on top")
    g.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                   help="what the budget and the time limits count: wall-clock seconds (the "
                        "target), or this process's CPU seconds, which estimate an idle "
                        "machine's wall time on a machine busy with other work")
    g.add_argument("--layers", type=int, default=None, help="transformer blocks (default 2)")
    g.add_argument("--d-model", type=int, default=None, help="width (default 128)")
    g.add_argument("--heads", type=int, default=4)
    g.add_argument("--context", type=int, default=None, help="characters of context (64)")
    g.add_argument("--batch-size", type=int, default=32)
    g.add_argument("--lr", type=float, default=4e-3, help="AdamW's peak learning rate")
    g.add_argument("--samples", type=int, default=2, help="samples to print (200 characters)")


# --------------------------------------------------------------------------- part (a)


def part_a(run, clock) -> dict:
    """Reversal and copy; returns the measurements (the checks are recorded by the caller)."""
    cfg = run.tiered(TIER_CONFIG)
    max_steps = run.args.seq_steps or cfg["seq_steps"]
    test_ids, test_len, test_set = seq_tasks.test_set(run.seed, cfg["seq_test"])
    # a validation set, distinct from the test set, decides when to stop
    val_ids, val_len = seq_tasks.make_batch(np.random.default_rng(20_000 + run.seed),
                                            cfg["seq_val"], exclude=test_set)
    held_out = test_set | {tuple(val_ids[r, :val_len[r]]) for r in range(len(val_ids))}
    start = clock()
    out = {}
    for task in ("reverse", "copy"):
        t0 = clock()
        model, losses, evals = seq_tasks.train(
            task, run.seed, max_steps, 64, 3e-3, held_out,
            log=lambda m: run.stage(m), eval_every=cfg["eval_every"],
            eval_fn=lambda m, t=task: seq_tasks.exact_match(m, val_ids, val_len, t),
            stop_at=STOP_AT)
        acc = seq_tasks.exact_match(model, test_ids, test_len, task)
        maps = seq_tasks.attention_maps(model, test_ids[:200])
        anti = [seq_tasks.diagonal_mass(w, test_len[:200], anti=True) for w in maps]
        diag = [seq_tasks.diagonal_mass(w, test_len[:200], anti=False) for w in maps]
        out[task] = {"model": model, "test_exact_match": acc, "steps": len(losses),
                     "losses": losses, "val_curve": evals, "seconds": clock() - t0,
                     "anti_diagonal_mass": [m.tolist() for m in anti],
                     "diagonal_mass": [m.tolist() for m in diag],
                     "parameters": sum(p.numel() for p in model.parameters())}
        run.stage(f"{task}: {len(losses)} steps, held-out exact match {acc:.2%} on "
                  f"{len(test_ids)} sequences; mean attention on the "
                  f"{'anti-diagonal' if task == 'reverse' else 'diagonal'} per layer and head: "
                  + "; ".join(" ".join(f"{v:.2f}" for v in (a if task == 'reverse' else d))
                              for a, d in zip(anti, diag)))
    out["seconds"] = clock() - start
    out["example"] = test_ids[:200], test_len[:200]
    return out


def draw_attention(model, ids: np.ndarray, lengths: np.ndarray, path: Path) -> None:
    """Every layer's and head's attention on one held-out sequence, the mirror marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pick = int(np.argmax(lengths))  # the longest of the examples
    n = int(lengths[pick])
    maps = seq_tasks.attention_maps(model, ids[pick:pick + 1])
    layers, heads = len(maps), maps[0].shape[1]
    labels = [str(t) for t in ids[pick, :n]]
    fig, axes = plt.subplots(layers, heads, figsize=(2.3 * heads, 2.4 * layers + 0.6),
                             squeeze=False)
    for l_, w in enumerate(maps):
        for h in range(heads):
            ax = axes[l_, h]
            ax.imshow(w[0, h, :n, :n], cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
            ax.plot(np.arange(n)[::-1], np.arange(n), "w:", lw=0.7)  # the anti-diagonal
            ax.set_xticks(range(n), labels, fontsize=5)
            ax.set_yticks(range(n), labels, fontsize=5)
            ax.set_title(f"layer {l_} head {h}", fontsize=7)
            if h == 0:
                ax.set_ylabel("query (output position)", fontsize=6)
            if l_ == layers - 1:
                ax.set_xlabel("key (input position)", fontsize=6)
    fig.suptitle(f"reversal: attention on a held-out sequence of {n} symbols "
                 f"(dotted: the anti-diagonal)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --------------------------------------------------------------------------- part (b)


def lm_config(run) -> dict:
    a = run.args
    base = dict(run.tiered(TIER_CONFIG)["lm"])
    base["heads"] = base["heads"] or a.heads
    for key in ("layers", "d_model", "context", "budget", "max_bytes"):
        if getattr(a, key) is not None:
            base[key] = getattr(a, key)
    return {**base, "batch_size": a.batch_size, "lr": a.lr, "warmup_steps": 50,
            "min_lr_fraction": 0.1, "weight_decay": 0.1, "grad_clip": 1.0}


def evaluate(model, inputs: np.ndarray, targets: np.ndarray, batch: int = 50) -> float:
    """Mean cross-entropy (nats per character) over every position of the windows."""
    total = 0.0
    model.eval()
    with tt.no_grad():
        for s in range(0, len(inputs), batch):
            logits = model(tt.tensor(inputs[s:s + batch]))
            V = logits.shape[-1]
            loss = F.cross_entropy(logits.reshape(-1, V),
                                   tt.tensor(targets[s:s + batch]).reshape(-1), reduction="sum")
            total += loss.item()
    model.train()
    return total / targets.size


def train_lm(run, model, train_ids: np.ndarray, cfg: dict, clock, curve_inputs,
             curve_targets) -> dict:
    """Train on random windows of the training text until ``cfg['budget']`` seconds of
    training have passed (evaluation pauses the clock). The learning rate warms up for 50
    steps, then follows a cosine over the *time* budget down to 10% of its peak, so the
    schedule ends when the budget does, however fast the machine is."""
    rng = np.random.default_rng(run.seed)
    T, B, V = cfg["context"], cfg["batch_size"], model.vocab_size
    opt = tt.optim.AdamW(model.parameters(), lr=cfg["lr"], betas=(0.9, 0.99),
                         weight_decay=cfg["weight_decay"])
    offsets = np.arange(T)[None, :]
    steps, trained, losses, curve = 0, 0.0, [], []
    next_eval, eval_every = 0.0, cfg["budget"] / 8
    while trained < cfg["budget"]:
        if trained >= next_eval:
            curve.append((steps, trained, evaluate(model, curve_inputs, curve_targets)))
            next_eval += eval_every
            train = (f"train loss {np.mean(losses[-50:]):.3f}" if losses
                     else "before the first step")  # not "nan": nothing was trained yet
            run.stage(f"step {steps:5d}, {trained:5.1f} s trained: {train}, "
                      f"validation loss (subset) {curve[-1][2]:.3f}")
        t0 = clock()
        frac = trained / cfg["budget"]
        lr = cfg["lr"] * min(1.0, (steps + 1) / cfg["warmup_steps"]) * (
            cfg["min_lr_fraction"] + (1 - cfg["min_lr_fraction"]) * 0.5
            * (1 + math.cos(math.pi * frac)))
        for group in opt.param_groups:
            group["lr"] = lr
        idx = rng.integers(0, len(train_ids) - T - 1, B)[:, None] + offsets  # (B, T)
        logits = model(tt.tensor(train_ids[idx]))  # (B, T, V)
        loss = F.cross_entropy(logits.reshape(-1, V), tt.tensor(train_ids[idx + 1]).reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), cfg["grad_clip"])
        opt.step()
        losses.append(loss.item())
        steps += 1
        trained += clock() - t0
    curve.append((steps, trained, evaluate(model, curve_inputs, curve_targets)))
    return {"steps": steps, "train_seconds": trained, "train_losses": losses, "curve": curve,
            "steps_per_second": steps / max(trained, 1e-9)}


def part_b(run, clock) -> dict:
    a, cfg = run.args, lm_config(run)
    start = clock()
    corpus = code_corpus.load(a.corpus, a.glob, cfg["max_bytes"])
    tok = CharTokenizer().train(corpus.train_text)
    train_ids = np.array(tok.encode(corpus.train_text), dtype=np.int64)
    val_ids = np.array(tok.encode(corpus.val_text), dtype=np.int64)
    run.stage(f"corpus: {corpus.source}: {len(corpus.train_files)} training files "
              f"({len(train_ids):,} characters), {len(corpus.val_files)} held-out files "
              f"({len(val_ids):,} characters); {tok.vocab_size} tokens (characters + 4 special)")
    T = cfg["context"]
    val_x, val_y = code_corpus.windows(val_ids, T, run.tiered(TIER_CONFIG)["val_windows"])
    curve_x, curve_y = val_x[::10], val_y[::10]
    bigram = code_corpus.Bigram(train_ids, tok.vocab_size)
    bigram_loss = bigram.fit_alpha(val_x, val_y)
    below = run.tiered(TIER_TARGETS)["below bigram"]
    goal = (f"target for the GPT ({run.tier} tier): <= {bigram_loss - below:.3f}"
            if below is not None else "the quick tier's GPT is only asked to learn (its "
            "validation loss must fall)")
    run.stage(f"bigram (counted now, add-{bigram.alpha} smoothing): validation loss "
              f"{bigram_loss:.3f} nats/char on {val_y.size:,} held-out characters; {goal}")

    tt.manual_seed(run.seed)
    model = GPT(tok.vocab_size, cfg["d_model"], cfg["layers"], cfg["heads"], T)
    n_params = model.num_parameters()
    run.stage(f"GPT: {cfg['layers']} layers, d_model {cfg['d_model']}, {cfg['heads']} heads, "
              f"context {T}, {n_params:,} parameters; batch {cfg['batch_size']}, AdamW peak lr "
              f"{cfg['lr']}; training for {cfg['budget']:.0f} s ({a.clock} clock)")
    hist = train_lm(run, model, train_ids, cfg, clock, curve_x, curve_y)
    val_loss = evaluate(model, val_x, val_y)
    seconds = clock() - start
    run.stage(f"{hist['steps']} steps in {hist['train_seconds']:.1f} s "
              f"({hist['steps_per_second']:.2f} steps/s): validation loss {val_loss:.3f} vs "
              f"bigram {bigram_loss:.3f} ({bigram_loss - val_loss:.3f} nats/char below)")

    # the trained model and its tokenizer, to load and sample from later:
    #   model.load_state_dict(tt.load("gpt.npz")); tok = CharTokenizer.load("tokenizer.json")
    tt.save(model.state_dict(), run.out / "gpt.npz")
    tok.save(run.out / "tokenizer.json")
    samples = []
    gen = tt.Generator().manual_seed(run.seed)
    prompts = (["def ", "import ", "class ", "    return "] if a.corpus is None
               else [t[:8] for t in corpus.val_texts])  # a held-out file's first characters
    for k, prompt in enumerate(prompts[:a.samples]):
        ids = tok.encode(prompt)
        out = model.generate(tt.tensor(np.array([ids], dtype=np.int64)),
                             run.tiered(TIER_CONFIG)["sample_chars"], temperature=0.8,
                             top_k=None,
                             generator=gen)
        samples.append(tok.decode(out.numpy()[0].tolist()))
        print(f"         --- sample {k + 1} (temperature 0.8, prompt {prompt!r}) ---")
        print("         " + samples[-1].replace("\n", "\n         "))
    return {"cfg": cfg, "corpus": corpus, "tokenizer": tok, "model": model,
            "val_loss": val_loss, "bigram_loss": bigram_loss, "bigram_alpha": bigram.alpha,
            "seconds": seconds, "hist": hist, "parameters": n_params, "samples": samples,
            "n_train_chars": len(train_ids), "n_val_chars": len(val_ids),
            "n_val_scored": int(val_y.size)}


# --------------------------------------------------------------------------- part (c)


def part_c(run, b) -> dict:
    corpus, tok, model = b["corpus"], b["tokenizer"], b["model"]
    items = copilot.headers(corpus.val_texts, [p.name for p in corpus.val_files], N_HEADERS)
    if not items:
        run.stage("TinyCopilot: no one-line top-level function headers in the held-out files "
                  "(not Python?): part (c) skipped")
        return {"n_headers": 0, "parsed": 0, "results": []}
    # sampled at a low temperature: greedy decoding (temperature 0) of a character model this
    # small writes nothing but spaces after the header -- after a run of spaces, one more
    # space is always the single most likely character
    results = copilot.complete(model, tok, items, run.tiered(TIER_CONFIG)["copilot_chars"],
                               temperature=COPILOT_TEMPERATURE, top_k=None,
                               generator=tt.Generator().manual_seed(run.seed))
    path = run.out / "completions.txt"
    copilot.write_report(results, path)
    parsed = sum(r["parses"] for r in results)
    for r in results:
        print(f"         {'PARSES' if r['parses'] else 'no    '} {r['header']}")
        body = r["body"].rstrip("\n")
        if body:
            print("                " + body.replace("\n", "\n                "))
    run.stage(f"TinyCopilot: {parsed} of {len(results)} completions parse; saved to {path}")
    return {"n_headers": len(results), "parsed": parsed, "results": results,
            "path": path.name}


# --------------------------------------------------------------------------- the run


def main(argv=None) -> dict:
    with common.Run(NAME, TITLE, argv, add_arguments) as run:
        clock = time.process_time if run.args.clock == "cpu" else time.perf_counter
        unit = "CPU seconds" if run.args.clock == "cpu" else "seconds"

        run.stage("part (a): a transformer encoder learns to reverse and to copy sequences "
                  f"of {seq_tasks.MIN_LEN}-{seq_tasks.MAX_LEN} symbols")
        a = part_a(run, clock)
        attention_png = run.out / "attention_reversal.png"
        draw_attention(a["reverse"]["model"], *a["example"], attention_png)
        best_anti = max(max(m) for m in a["reverse"]["anti_diagonal_mass"])

        run.stage("part (b): a character-level GPT learns "
                  + ("Python from the standard library" if run.args.corpus is None
                     else f"the text of {run.args.corpus}"))
        b = part_b(run, clock)

        if run.tiered(TIER_CONFIG)["copilot"]:
            run.stage("part (c): TinyCopilot completes held-out function headers")
            c = part_c(run, b)
        else:  # a 60 s model's completions do not parse: the standard tier saves the time
            run.stage("part (c), TinyCopilot, runs in the full tier (--full) and the quick "
                      "smoke run; not in the standard tier")
            c = {"n_headers": 0, "parsed": 0, "results": []}

        tg = run.tiered(TIER_TARGETS)
        if tg["reverse loss drop"] is not None:  # quick: ten steps cannot reverse yet
            losses = a["reverse"]["losses"]
            drop = 1.0 - float(np.mean(losses[-3:])) / losses[0]
            run.check("(a) reversal: training loss fell by (fraction)", drop, ">=",
                      tg["reverse loss drop"], "{:.2f}")
        if tg["exact match"] is not None:
            run.check("(a) reversal: held-out exact match", a["reverse"]["test_exact_match"],
                      ">=", tg["exact match"], "{:.2%}")
        run.check("(a) copy: held-out exact match", a["copy"]["test_exact_match"], ">=",
                  tg["copy exact match"], "{:.2%}")
        if tg["mass"] is not None:
            run.check("(a) reversal: attention on the anti-diagonal (best head)", best_anti,
                      ">=", tg["mass"], "{:.2f}")
        run.check(f"(a) {unit}, both tasks", a["seconds"], "<", tg["seq seconds"], "{:.1f}")
        margin = b["bigram_loss"] - b["val_loss"]
        curve = b["hist"]["curve"]
        if tg["lm loss drop"] is not None:  # quick: a 4 s GPT is not yet below the bigram
            run.check("(b) validation loss fell during training (nats/char)",
                      curve[0][2] - curve[-1][2], ">=", tg["lm loss drop"], "{:.3f}")
        if tg["below bigram"] is not None:
            run.check("(b) validation loss below the bigram's (nats/char)", margin, ">=",
                      tg["below bigram"], "{:.3f}")
        run.check(f"(b) {unit}, data + bigram + training + evaluation", b["seconds"], "<",
                  tg["lm seconds"], "{:.1f}")
        if c["n_headers"] and tg["parse"] is not None:
            run.check(f"(c) completions that parse (of {c['n_headers']})", c["parsed"], ">=",
                      tg["parse"], "{:.0f}")
        elif c["n_headers"]:
            run.stage(f"(c) {c['parsed']} of {c['n_headers']} completions parse: shown, not "
                      f"checked in the {run.tier} tier (the full tier's 250 s GPT must reach "
                      f">= {PARSE_TARGET}; run with --full)")

        h = b["hist"]
        steps_c, secs_c, loss_c = zip(*h["curve"])
        ra, co = a["reverse"], a["copy"]
        run.plot([
            common.Panel("training loss", {"reverse": (range(1, ra["steps"] + 1), ra["losses"]),
                                           "copy": (range(1, co["steps"] + 1), co["losses"])},
                         xlabel="step", logy=True, title="(a) reversal and copy"),
            common.Panel("validation exact match",
                         {"reverse": tuple(zip(*ra["val_curve"])) or ([], []),
                          "copy": tuple(zip(*co["val_curve"])) or ([], [])},
                         xlabel="step", hline=SEQ_TARGET, title="(a) validation sequences",
                         styles={"reverse": "o-", "copy": "s-"}),
            common.Panel("nats per character", {
                "GPT, train (mean of 50 steps)": (
                    np.arange(len(h["train_losses"])) * h["train_seconds"]
                    / max(len(h["train_losses"]), 1),
                    _smooth(h["train_losses"], 50)),
                "GPT, validation": (secs_c, loss_c),
                "bigram, validation": ([0, h["train_seconds"]], [b["bigram_loss"]] * 2)},
                xlabel=f"training {unit}",
                hline=b["bigram_loss"] - (tg["below bigram"] or 0.0),
                hline_label="target", title="(b) character-level GPT",
                styles={"GPT, validation": "o-", "bigram, validation": "--"}),
        ])

        metrics = {  # the first five are what `tito milestone run all` shows
            "reverse_test_exact_match": ra["test_exact_match"],
            "copy_test_exact_match": co["test_exact_match"],
            "below_bigram": margin, "val_loss": b["val_loss"],
            "copilot_parsed": c["parsed"], "copilot_headers": c["n_headers"],
            "bigram_val_loss": b["bigram_loss"],
            "reverse_anti_diagonal_mass_best_head": best_anti,
            "lm_steps": h["steps"], "lm_steps_per_second": h["steps_per_second"],
            "lm_train_seconds": h["train_seconds"], "lm_seconds": b["seconds"],
            "seq_seconds": a["seconds"], "clock": run.args.clock,
            "reverse_steps": ra["steps"], "copy_steps": co["steps"],
            "reverse_seconds": ra["seconds"], "copy_seconds": co["seconds"],
            "reverse_anti_diagonal_mass": ra["anti_diagonal_mass"],
            "copy_diagonal_mass": co["diagonal_mass"],
            "seq_parameters": ra["parameters"], "lm_parameters": b["parameters"],
            "lm_config": b["cfg"], "bigram_alpha": b["bigram_alpha"],
            "corpus": b["corpus"].source,
            "corpus_train_files": len(b["corpus"].train_files),
            "corpus_val_files": [p.name for p in b["corpus"].val_files],
            "train_chars": b["n_train_chars"], "val_chars": b["n_val_chars"],
            "val_chars_scored": b["n_val_scored"], "vocab_size": b["tokenizer"].vocab_size,
            "val_curve": [list(x) for x in h["curve"]],
            "samples": b["samples"],
            "copilot": [{k: r[k] for k in ("file", "line", "header", "body", "parses")}
                        for r in c["results"]],
        }
        extra = {"attention_plot": attention_png.name, "checkpoint": "gpt.npz",
                 "tokenizer": "tokenizer.json"}
        if c.get("path"):
            extra["completions"] = c["path"]
        return run.finish(metrics, extra=extra)


def _smooth(xs, n: int) -> np.ndarray:
    xs = np.asarray(xs, dtype=np.float64)
    if len(xs) == 0:
        return xs
    c = np.cumsum(np.insert(xs, 0, 0.0))
    lo = np.maximum(np.arange(1, len(xs) + 1) - n, 0)
    return (c[1:] - c[lo]) / (np.arange(1, len(xs) + 1) - lo)


if __name__ == "__main__":
    sys.exit(0 if main()["passed"] else 1)
