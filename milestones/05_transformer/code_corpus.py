"""Part (b) of milestone 05, the data: a text corpus every machine has, split by files, and the
bigram baseline the GPT must beat.

The default corpus is the source of Python's own standard library: the ``*.py`` files beside
``os.py`` (the top level of the folder, not its packages or its test suite), about 4.7 MB for
Python 3.11. Files are read in sorted order and every ``VAL_EVERY``-th file is held out: the
model never trains on a line of them, so the validation loss measures what generalizes to new
files, and the function headers of part (c) come from them too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

VAL_EVERY = 10  # file k is held out when k % VAL_EVERY == VAL_EVERY - 1


@dataclass
class Corpus:
    source: str  # what was read, for the results file
    train_files: list[Path] = field(default_factory=list)
    val_files: list[Path] = field(default_factory=list)
    train_text: str = ""
    val_texts: list[str] = field(default_factory=list)  # one per held-out file (or one piece)

    @property
    def val_text(self) -> str:
        return "".join(self.val_texts)


def stdlib_dir() -> Path:
    """The folder of the standard library's Python sources: where ``os.py`` lives."""
    return Path(os.__file__).resolve().parent


def _read(path: Path) -> str | None:
    """The file as text, or None when it is not UTF-8 text (binary files are skipped)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def load(path: Path | None = None, pattern: str | None = None,
         max_bytes: int | None = None) -> Corpus:
    """Read the corpus and hold out files for validation.

    Args:
        path: None for the standard library; a folder (every UTF-8 text file matching
            ``pattern``, recursively by default); or one text file (its last 10% of lines are
            held out).
        pattern: glob for a folder (default ``*.py`` for the standard library, ``**/*``
            otherwise).
        max_bytes: stop adding training files past this many characters (None: all).
    """
    if path is None:
        folder, pattern = stdlib_dir(), pattern or "*.py"
    else:
        folder = Path(path).expanduser()
        if not folder.exists():
            raise FileNotFoundError(f"05_transformer: no such file or folder: {folder}")
        if folder.is_file():
            return _load_one_file(folder)
        pattern = pattern or "**/*"
    files = sorted(p for p in folder.glob(pattern) if p.is_file())
    texts = [(p, t) for p, t in ((p, _read(p)) for p in files) if t]  # text files only
    corpus = Corpus(source=f"{folder}/{pattern}")
    train_chunks, size = [], 0
    for k, (p, text) in enumerate(texts):
        if k % VAL_EVERY == VAL_EVERY - 1:
            corpus.val_files.append(p)
            corpus.val_texts.append(text)
        elif max_bytes is None or size < max_bytes:
            corpus.train_files.append(p)
            train_chunks.append(text)
            size += len(text)
    corpus.train_text = "".join(train_chunks)
    if not corpus.train_text or not corpus.val_texts:
        raise SystemExit(f"05_transformer: {corpus.source} has too few text files to hold "
                         f"some out (found {len(texts)}; need at least {VAL_EVERY})")
    return corpus


def _load_one_file(path: Path) -> Corpus:
    text = _read(path)
    if not text:
        raise SystemExit(f"05_transformer: {path} is empty or not UTF-8 text")
    lines = text.splitlines(keepends=True)
    cut = int(len(lines) * 0.9)
    if cut == 0 or cut == len(lines):
        raise SystemExit(f"05_transformer: {path} is too short to hold out 10% of its lines")
    return Corpus(source=str(path), train_files=[path], val_files=[path],
                  train_text="".join(lines[:cut]), val_texts=["".join(lines[cut:])])


# --------------------------------------------------------------------------- the baseline


class Bigram:
    """The next token predicted from the current one alone: counts of adjacent pairs in the
    training tokens, smoothed by adding ``alpha`` to every count.

    ``alpha`` is picked from a small grid as the one with the lowest loss on the held-out
    pairs it is scored on: the strongest bigram the counts allow, so the bar the transformer
    has to clear is as high as a bigram can set it.
    """

    ALPHAS = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)

    def __init__(self, train_ids: np.ndarray, vocab_size: int):
        self.vocab_size = vocab_size
        flat = train_ids[:-1].astype(np.int64) * vocab_size + train_ids[1:]
        self.counts = np.bincount(flat, minlength=vocab_size * vocab_size).reshape(
            vocab_size, vocab_size).astype(np.float64)
        self.alpha = 1.0

    def log_probs(self, alpha: float | None = None) -> np.ndarray:
        c = self.counts + (self.alpha if alpha is None else alpha)
        return np.log(c / c.sum(axis=1, keepdims=True))

    def loss(self, inputs: np.ndarray, targets: np.ndarray, alpha: float | None = None) -> float:
        """Mean negative log-likelihood (nats per token) of ``targets`` after ``inputs``."""
        return float(-self.log_probs(alpha)[inputs.ravel(), targets.ravel()].mean())

    def fit_alpha(self, inputs: np.ndarray, targets: np.ndarray) -> float:
        losses = {a: self.loss(inputs, targets, a) for a in self.ALPHAS}
        self.alpha = min(losses, key=losses.get)
        return losses[self.alpha]


def windows(ids: np.ndarray, length: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` evenly spaced, non-overlapping (when the text allows) windows of ``length``
    tokens and the tokens one step later: (inputs (n, length), targets (n, length))."""
    last = len(ids) - length - 1
    if last < 0:
        raise SystemExit(f"05_transformer: the held-out text has {len(ids)} tokens, fewer "
                         f"than a context of {length} + 1")
    n = min(n, last // length + 1)
    starts = np.linspace(0, last, n).astype(np.int64)
    idx = starts[:, None] + np.arange(length)[None, :]
    return ids[idx], ids[idx + 1]
