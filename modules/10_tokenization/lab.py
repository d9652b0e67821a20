# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Lab 10 -- Tokenization: characters, bytes and byte-pair merges
#
# You wrote the heart of byte-level BPE: counting adjacent pairs, merging a pair inside a
# word, and encoding a word with the learned merges. This lab measures what they give:
#
# 1. the same text through a character tokenizer and a trained BPE: ids, pieces, `<unk>`;
# 2. the corpus: Python's own standard-library sources, on every machine, no download;
# 3. training time: the naive recount-every-merge loop against the incremental one (same
#    merges, proved here again), and how each grows with the number of merges;
# 4. compression (UTF-8 bytes per token) against vocabulary size, on held-out files, and
#    what a bigger vocabulary costs in embedding parameters (module 11);
# 5. text nobody trained on: other scripts, emoji, a lone surrogate: lossless.
#
# Run it on your code: `tito module lab 10` (`--notebook` opens it in Jupyter).
# `TINYTORCH_QUICK=1` shrinks every experiment to
# seconds. Plots and `results.md` (every table below, as measured) go to `$TINYTORCH_OUT`
# (default `runs/labs/10_tokenization`).

# %%
from tito import labkit
from tito.labkit import table

lab = labkit.setup("10_tokenization")
QUICK, OUT = lab.quick, lab.out

import glob  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402

from tinytorch.text import BPETokenizer, CharTokenizer, pretokenize  # noqa: E402

labkit.print_context(lab)
RESULTS = [f"# Lab 10 results\n\n{labkit.machine()}\n"]


def report(title, headers, rows):
    """Print a measured table and keep it for results.md (the guide points there)."""
    print(f"### {title}")
    table(headers, rows)
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    RESULTS.append(f"## {title}\n\n" + "\n".join(lines) + "\n")


# %% [markdown]
# ## 1. One sentence, two tokenizers
#
# A character tokenizer gives every distinct character an id: nothing to learn, but a
# sequence is as long as the text, and a character it never saw becomes `<unk>` -- the text
# is lost. Byte-level BPE starts from the 256 byte values (so nothing is ever unknown) and
# learns merges; frequent words become single tokens.

# %%
STDLIB = os.path.dirname(os.__file__)
FILES = sorted(glob.glob(os.path.join(STDLIB, "*.py")))


def read(paths, limit):
    """Concatenated sources of ``paths``, up to ``limit`` characters."""
    parts, n = [], 0
    for p in paths:
        with open(p, encoding="utf-8", errors="replace") as f:
            parts.append(f.read())
        n += len(parts[-1])
        if n >= limit:
            break
    return "".join(parts)[:limit]


# every 10th file is held out: compression is measured on text the tokenizer never saw
train_files = [p for i, p in enumerate(FILES) if i % 10]
heldout_files = [p for i, p in enumerate(FILES) if not i % 10]
CORPUS_CHARS = 100_000 if QUICK else 1_000_000
corpus = read(train_files, CORPUS_CHARS)
heldout = read(heldout_files, 30_000 if QUICK else 300_000)
print(f"corpus: {len(train_files)} files of {STDLIB}, first {len(corpus):,} characters "
      f"({len(corpus.encode()):,} bytes); held out: {len(heldout):,} characters of "
      f"{len(heldout_files)} other files")

t0 = time.perf_counter()
bpe = BPETokenizer().train(corpus, vocab_size=600 if QUICK else 4096)
t_big = time.perf_counter() - t0
char = CharTokenizer().train(corpus)

sentence = "def tokenize(self, text):\n    return [t for t in text.split() if t]  # naïve ✓"
for name, tok in (("characters", char), ("byte-level BPE", bpe)):
    ids = tok.encode(sentence)
    back = tok.decode(ids)
    print(f"{name}: vocabulary {tok.vocab_size:,}, {len(ids)} ids, round trip "
          f"{'exact' if back == sentence else 'LOSSY: ' + repr(back[-12:])}")
print("BPE pieces:", bpe.tokens(sentence))
print("pre-tokens:", pretokenize(sentence))

# %% [markdown]
# ## 2. Training: recount everything, or update what changed
#
# The naive loop counts every pair of the corpus, merges the best pair everywhere and
# starts again: each merge costs a pass over all the (distinct) words. The incremental
# trainer counts once; a merge then touches only the words that contain the merged pair,
# subtracting their old pairs and adding their new ones, and a heap finds the next best
# pair. Both break ties the same way (highest count, then smallest pair), so they must learn
# the same merges.

# %%
small = read(train_files, 30_000 if QUICK else 250_000)
merge_counts = [15, 30, 60] if QUICK else [50, 100, 200, 400]
rows, naive_s, inc_s = [], [], []
for m in merge_counts:
    t0 = time.perf_counter()
    slow = BPETokenizer().train_naive(small, 260 + m)
    tn = time.perf_counter() - t0
    t0 = time.perf_counter()
    fast = BPETokenizer().train(small, 260 + m)
    ti = time.perf_counter() - t0
    naive_s.append(tn)
    inc_s.append(ti)
    rows.append((m, f"{len(small):,}", f"{tn:.2f}", f"{ti:.3f}", f"{tn / ti:.0f}x",
                 "yes" if slow.merges == fast.merges else "NO"))
report(f"training time on {len(small):,} characters", [
    "merges", "characters", "naive s", "incremental s", "speed-up", "same merges"], rows)

plt.figure(figsize=(5, 3.5))
plt.plot(merge_counts, naive_s, "o-", label="naive (recount per merge)")
plt.plot(merge_counts, inc_s, "s-", label="incremental (update touched words)")
plt.xlabel("merges learned")
plt.ylabel("training time (s)")
plt.title(f"BPE training on {len(small) // 1000} kB of stdlib source", fontsize=9)
plt.legend(fontsize=8)
plt.tight_layout()
plt.savefig(OUT / "bpe_training_time.png", dpi=120)
plt.close()

report("incremental training on the whole corpus", ["characters", "vocabulary", "merges",
                                                     "seconds"],
       [(f"{len(corpus):,}", f"{bpe.vocab_size:,}", f"{len(bpe.merges):,}", f"{t_big:.1f}")])

# %% [markdown]
# ## 3. Compression against vocabulary size
#
# Training is greedy, so the tokenizer of vocabulary V is the first V - 260 merges of a
# larger one: one training run gives every size. Compression is measured on the held-out
# files. A larger vocabulary shortens every sequence the model reads (attention's cost grows
# with the square of the length, module 12) but costs an embedding row and an output row per
# token: `2 * V * d_model` parameters when input and output tables are separate (module 11).

# %%
sizes = [260, 300, 400, 600] if QUICK else [260, 300, 512, 1024, 2048, 3072, 4096]
sizes = [v for v in sizes if v <= bpe.vocab_size]
d_model = 256
rows, ratios = [], []
for v in sizes:
    tok = BPETokenizer(bpe.merges[:v - 260])
    t0 = time.perf_counter()
    n_tok = len(tok.encode(heldout))
    dt = time.perf_counter() - t0
    ratio = len(heldout.encode()) / n_tok
    ratios.append(ratio)
    rows.append((f"{v:,}", f"{ratio:.2f}", f"{n_tok:,}",
                 f"{tok.compression_ratio(corpus[:50_000]):.2f}", f"{v * d_model:,}",
                 f"{len(heldout.encode()) / dt / 1e6:.1f}"))
report("compression on held-out stdlib files", [
    "vocabulary", "bytes/token (held out)", "tokens", "bytes/token (training text)",
    f"embedding params (d={d_model})", "encode MB/s"], rows)
print(f"characters: {len(heldout.encode()) / len(char.encode(heldout)):.2f} bytes/token with "
      f"{char.vocab_size} ids (<unk> on held-out: {char.encode(heldout).count(char.unk_id)})")

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(sizes, ratios, "o-")
ax.set_xscale("log", base=2)
ax.set_xlabel("vocabulary size")
ax.set_ylabel("UTF-8 bytes per token (held out)")
ax.set_title("More merges, shorter sequences, with diminishing returns", fontsize=9)
fig.tight_layout()
fig.savefig(OUT / "compression_vs_vocab.png", dpi=120)
plt.close(fig)

# %% [markdown]
# ## 4. Text nobody trained on
#
# The training corpus is almost all ASCII. Byte-level BPE still encodes any string: what it
# has not learned falls back to bytes, so decode(encode(s)) == s. The character tokenizer
# can only say `<unk>`.

# %%
samples = ["naïve café", "Ελληνικά", "日本語のテキスト", "emoji 🎉🚀", "👩‍👩‍👧 family",
           "x\ud800y (a lone surrogate)"]
rows = []
for s in samples:
    ids = bpe.encode(s)
    rows.append((repr(s), len(s.encode("utf-8", "surrogatepass")), len(ids),
                 "yes" if bpe.decode(ids) == s else "NO",
                 char.encode(s).count(char.unk_id)))
report("round trip on unseen text", ["text", "bytes", "BPE tokens", "BPE exact",
                                     "<unk> from characters"], rows)

# %%
(OUT / "results.md").write_text("\n".join(RESULTS), encoding="utf-8")
bpe.save(OUT / "bpe_stdlib.json")
print(f"tables -> {OUT / 'results.md'}; plots and the trained tokenizer -> {OUT}")
