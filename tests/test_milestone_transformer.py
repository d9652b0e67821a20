"""Milestone 05 (the transformer): its parts on small inputs, and a quick run end to end.

The full run trains for about five minutes (two sequence tasks, then a GPT for a fixed time
budget), too long for the suite: the quick run here checks the plumbing -- every check
recorded with its real target, ``passed`` computed from them, metrics.json equal to what
main() returns, the plots and the completions file written -- not the targets. The measured
full run is in milestones/05_transformer/README.md (``tito milestone run 05 --reference``).
"""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "milestones" / "05_transformer"

pytest.importorskip("tinytorch.models", reason="module 13 (GPT) is not in this tinytorch")


def _load():
    spec = importlib.util.spec_from_file_location("milestone_05_transformer", FOLDER / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _part(name):
    _load()  # puts the milestone's folder on sys.path
    return sys.modules[name]


def _run(out, *args) -> dict:
    result = _load().main(["--out", str(out), "--quick", *args])
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(result)), "main() returns what metrics.json holds"
    for key in ("plot", "attention_plot"):
        png = out / on_disk[key]
        assert png.suffix == ".png" and png.is_file() and png.stat().st_size > 1000, key
    assert not list(out.glob(".metrics.json.*")), "no temporary file left behind"
    assert on_disk["passed"] == all(c["passed"] for c in on_disk["checks"])
    assert on_disk["quick"] is True
    return on_disk


# --------------------------------------------------------------------------- the whole run


def test_quick_run_records_every_check_with_its_target(tmp_path, capsys):
    result = _run(tmp_path)
    targets = result["targets"]  # the quick tier's own targets: ten steps learn, not reverse
    assert result["tier"] == "quick"
    assert targets["(a) reversal: training loss fell by (fraction)"] == ">= 0.05"
    assert targets["(a) copy: held-out exact match"] == ">= 0.5"
    assert targets["(a) seconds, both tasks"] == "< 120"
    assert targets["(b) validation loss fell during training (nats/char)"] == ">= 0.02"
    assert targets["(b) seconds, data + bigram + training + evaluation"] == "< 300"
    assert not any(k.startswith("(c)") for k in targets)  # the parse target is the full tier's
    m = result["metrics"]
    # (b): the margin is what the two measured losses say, the bigram counted in this run
    assert m["below_bigram"] == pytest.approx(m["bigram_val_loss"] - m["val_loss"])
    assert 0 < m["bigram_val_loss"] < np.log(m["vocab_size"])
    assert m["lm_steps"] > 0 and m["val_curve"][-1][0] == m["lm_steps"]
    assert m["corpus"].endswith("*.py") and m["corpus_val_files"]
    assert len(m["samples"]) == 2 and m["samples"][0].startswith("def ")
    # (c): ten held-out headers, from held-out files only, completions saved
    assert m["copilot_headers"] == 10 and len(m["copilot"]) == 10
    assert {c["file"] for c in m["copilot"]} <= set(m["corpus_val_files"])
    assert m["copilot_parsed"] == sum(c["parses"] for c in m["copilot"])
    text = (tmp_path / result["completions"]).read_text()
    assert text.count("# --- ") == 10 and m["copilot"][0]["header"] in text
    out = capsys.readouterr().out
    assert "bigram (counted now" in out and "TinyCopilot:" in out
    assert ("PASSED" if result["passed"] else "FAILED") + ": milestone 05_transformer" in out


def test_any_text_folder_can_replace_the_standard_library(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rng = np.random.default_rng(0)
    words = ["alpha", "beta", "gamma", "delta", "tensor", "grad"]
    for k in range(12):
        lines = [" ".join(rng.choice(words, 6)) for _ in range(80)]
        (corpus / f"notes{k:02d}.txt").write_text("\n".join(lines) + "\n")
    (corpus / "image.bin").write_bytes(bytes(range(256)))  # not text: skipped
    result = _run(tmp_path / "out", "--corpus", str(corpus), "--seq-steps", "2",
                  "--budget", "1")
    m = result["metrics"]
    assert m["corpus"] == f"{corpus}/**/*" and m["corpus_train_files"] == 11
    assert m["corpus_val_files"] == ["notes09.txt"]
    assert m["vocab_size"] == 4 + len(set("".join(words) + " \n"))
    # no Python in the held-out files: part (c) is not measured, so not checked
    assert m["copilot_headers"] == 0 and not any(c["name"].startswith("(c)")
                                                 for c in result["checks"])


# --------------------------------------------------------------------------- part (a)


def test_reversal_targets_and_held_out_sequences_never_trained_on():
    S = _part("seq_tasks")
    ids = np.array([[3, 1, 4, 1, 5, 9, 2, 6, 0, 0, 0, 0]])
    lengths = np.array([8])
    assert S.targets(ids, lengths, "reverse").tolist() == [[6, 2, 9, 5, 1, 4, 1, 3, 0, 0, 0, 0]]
    assert S.targets(ids, lengths, "copy").tolist() == ids.tolist()
    rng = np.random.default_rng(0)
    batch, lens = S.make_batch(rng, 500)
    assert lens.min() >= S.MIN_LEN and lens.max() <= S.MAX_LEN
    assert ((batch == S.PAD) == (np.arange(S.MAX_LEN)[None] >= lens[:, None])).all()
    exclude = {tuple(batch[r, :lens[r]]) for r in range(250)}
    again, lens2 = S.make_batch(np.random.default_rng(0), 500, exclude)
    assert not {tuple(again[r, :lens2[r]]) for r in range(500)} & exclude


def test_diagonal_mass_is_one_on_the_mirror_and_one_over_n_when_uniform():
    S = _part("seq_tasks")
    lengths = np.array([8, 12])
    mirror = np.zeros((2, 1, 12, 12))
    uniform = np.zeros((2, 1, 12, 12))
    for b, n in enumerate(lengths):
        mirror[b, 0, np.arange(n), n - 1 - np.arange(n)] = 1.0
        uniform[b, 0, :n, :n] = 1.0 / n
    assert S.diagonal_mass(mirror, lengths) == pytest.approx([1.0])
    assert S.diagonal_mass(mirror, lengths, anti=False) == pytest.approx([0.0])
    assert S.diagonal_mass(uniform, lengths) == pytest.approx([(8 / 8 + 12 / 12) / 20])


# --------------------------------------------------------------------------- part (b)


def test_corpus_split_is_by_files_sorted_and_deterministic(tmp_path):
    C = _part("code_corpus")
    for k in range(25):
        (tmp_path / f"m{k:02d}.py").write_text(f"x = {k}\n")
    corpus = C.load(tmp_path, "*.py")
    assert [p.name for p in corpus.val_files] == ["m09.py", "m19.py"]
    assert len(corpus.train_files) == 23 and "x = 9\n" not in corpus.train_text
    assert corpus.val_text == "x = 9\nx = 19\n"
    one = tmp_path / "one.txt"
    one.write_text("".join(f"line {k}\n" for k in range(20)))
    single = C.load(one)
    assert single.train_text.count("\n") == 18 and single.val_text == "line 18\nline 19\n"
    with pytest.raises(FileNotFoundError):
        C.load(tmp_path / "missing")


def test_bigram_loss_is_the_smoothed_count_estimate():
    C = _part("code_corpus")
    train = np.array([0, 1, 0, 1, 0, 2])
    bigram = C.Bigram(train, 3)
    assert bigram.counts.tolist() == [[0, 2, 1], [2, 0, 0], [0, 0, 0]]
    # P(1 | 0) with add-1 smoothing: (2 + 1) / (3 + 3)
    assert bigram.loss(np.array([0]), np.array([1]), alpha=1.0) == pytest.approx(-np.log(0.5))
    x, y = np.array([0, 1]), np.array([1, 0])
    best = bigram.fit_alpha(x, y)
    assert best == min(bigram.loss(x, y, a) for a in C.Bigram.ALPHAS)
    assert bigram.alpha == min(C.Bigram.ALPHAS)  # the data agrees with the counts
    ids = np.arange(100)
    inputs, targets = C.windows(ids, 10, 5)
    assert inputs.shape == targets.shape == (5, 10) and (targets == inputs + 1).all()


# --------------------------------------------------------------------------- part (c)


SOURCE = '''"""A module."""
import os


def short(a, b):
    return a + b


def long_signature(first_argument, second_argument,
                   third_argument):
    return 1


class K:
    def method(self):
        return 2


def tiny(x): return x
'''


def test_headers_come_from_one_line_top_level_defs():
    P = _part("copilot")
    found = P.headers([SOURCE], ["m.py"], n=10)
    assert [h["header"] for h in found] == ["def short(a, b):"]
    assert found[0]["line"] == 5 and found[0]["prefix"].endswith("import os\n\n\n")


def test_completions_are_cut_where_an_editor_stops_and_judged_by_ast():
    P = _part("copilot")
    body = P.cut("    y = a + b\n    return y\n\ndef next_one():\n    pass")
    assert body == "    y = a + b\n    return y\n"
    assert P.parses("def f(a, b):", body)
    # the budget ran out mid-line: the unfinished line is dropped
    assert P.cut("    return a\n    x = (1,") == "    return a\n"
    assert not P.parses("def f(a, b):", "    return (a,\n")
    assert not P.parses("def f(a, b):", "\n")  # an empty body is not a function
    assert not P.parses("def f(a, b):", "  x = 1\n    y = 2\n")  # bad indentation
