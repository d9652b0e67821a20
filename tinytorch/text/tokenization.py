"""Module 10 -- tokenization: turning text into the integer ids a model reads, and back.

A language model sees a sequence of integers from a fixed vocabulary. A tokenizer chooses
that vocabulary and maps text to ids (``encode``) and ids to text (``decode``). Two here:

* :class:`CharTokenizer` -- one id per character seen in training. Tiny vocabulary, long
  sequences, and a character never seen in training can only become ``<unk>``.
* :class:`BPETokenizer` -- **byte-level byte-pair encoding** (GPT-2's scheme). The base
  vocabulary is the 256 byte values, so *every* string -- any language, emoji, a character
  never seen in training -- encodes losslessly as UTF-8 bytes: ``decode(encode(s)) == s``.
  Training then learns merges: repeatedly find the most frequent adjacent pair of tokens in
  the corpus and give it a new id. Frequent words end up as one token, rare ones as a few
  pieces, unknown scripts as bytes.

Two speeds, one answer: :meth:`BPETokenizer.train_naive` recounts every pair after every
merge (O(corpus) per merge, the textbook loop); :meth:`BPETokenizer.train` keeps the pair
counts and, for each merge, updates them only in the words that contain the merged pair. Both
learn exactly the same merges (ties broken the same way: highest count, then smallest pair).

Merges never cross a pre-token boundary: the text is first split by a regular expression
(GPT-2's pattern, rewritten for the standard library's ``re``) into words with their leading
space, numbers, runs of punctuation and whitespace, so " the" is a unit but "the." never
becomes a token.

Ids: the special tokens ``<pad> <bos> <eos> <unk>`` are 0..3 (so ``padding_idx=0`` of an
embedding is the pad token), byte ``b`` is ``4 + b``, and merge ``k`` creates id ``260 + k``.
"""

from __future__ import annotations

import heapq
import json
import os
import re
from collections import Counter
from typing import Iterable

__all__ = ["SPECIAL_TOKENS", "PRETOKENIZE_PATTERN", "pretokenize", "count_pairs", "merge_word",
           "CharTokenizer", "BPETokenizer"]

#: The special tokens, in id order: padding, beginning and end of sequence, unknown.
SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>", "<unk>")
PAD, BOS, EOS, UNK = range(4)
N_SPECIAL = len(SPECIAL_TOKENS)
BYTE_OFFSET = N_SPECIAL  # byte b has id BYTE_OFFSET + b
N_BASE = N_SPECIAL + 256  # the first merge gets this id

#: GPT-2's pre-tokenizer, with ``\p{L}`` (a letter) written ``[^\W\d_]`` and ``\p{N}`` written
#: ``\d`` (the standard library's ``re`` has no Unicode classes). Branches: English
#: contractions; an optional space and letters; an optional space and digits; an optional
#: space and other symbols (``_`` included, which ``\w`` would otherwise claim); whitespace not
#: followed by a non-space (so "  x" splits as " " + " x"); any other whitespace. Every
#: character matches some branch, so the pieces always join back to the text.
PRETOKENIZE_PATTERN = (r"""'(?:[sdmt]|ll|ve|re)| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+"""
                       r"""|\s+(?!\S)|\s+""")
_PRETOKENIZE = re.compile(PRETOKENIZE_PATTERN)


def pretokenize(text: str) -> list[str]:
    """Split text into the pieces merges may not cross: ``"Hi  there!"`` ->
    ``["Hi", " ", " there", "!"]``. ``"".join(pretokenize(s)) == s`` for every string."""
    return _PRETOKENIZE.findall(text)


def _to_bytes(text: str) -> bytes:
    # surrogatepass: a Python str may hold a lone surrogate ("\ud800"), which strict UTF-8
    # refuses; encoding it anyway keeps decode(encode(s)) == s for literally every str
    return text.encode("utf-8", errors="surrogatepass")


def _from_bytes(data: bytes) -> str:
    try:
        return data.decode("utf-8", errors="surrogatepass")
    except UnicodeDecodeError:  # ids that do not form valid UTF-8 (a sampled sequence, say)
        return data.decode("utf-8", errors="replace")


# --------------------------------------------------------------------------- the learner's part


def count_pairs(words: list[list[int]], counts: list[int]) -> dict[tuple[int, int], int]:
    """How often each adjacent pair of ids occurs in the corpus.

    ``words[i]`` is one distinct pre-token as a list of ids, occurring ``counts[i]`` times;
    an occurrence of the pair inside it counts ``counts[i]`` times.
    ``count_pairs([[1, 2, 1, 2]], [3])`` -> ``{(1, 2): 6, (2, 1): 3}``.
    """
    pairs: dict[tuple[int, int], int] = {}
    # BEGIN SOLUTION
    for word, n in zip(words, counts):
        for pair in zip(word, word[1:]):
            pairs[pair] = pairs.get(pair, 0) + n
    # END SOLUTION
    return pairs


def merge_word(word: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace every occurrence of ``pair`` in ``word`` by ``new_id``, left to right.

    Occurrences do not overlap: with pair (a, a), ``[a, a, a]`` becomes ``[new, a]``.
    ``merge_word([5, 6, 7, 5, 6], (5, 6), 9)`` -> ``[9, 7, 9]``.
    """
    out: list[int] = []
    # BEGIN SOLUTION
    a, b = pair
    i, n = 0, len(word)
    while i < n:
        if i + 1 < n and word[i] == a and word[i + 1] == b:
            out.append(new_id)
            i += 2
        else:
            out.append(word[i])
            i += 1
    # END SOLUTION
    return out


def _best_pair(pairs: dict[tuple[int, int], int]) -> tuple[int, int]:
    """The most frequent pair; ties go to the smallest pair (both trainers agree on this)."""
    return min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0]


# --------------------------------------------------------------------------- tokenizers


def _as_ids(ids) -> list[int]:
    """A list of ints from a list, a NumPy array or a Tensor of ids."""
    if hasattr(ids, "tolist"):
        ids = ids.tolist()
    return [int(i) for i in ids]


def _corpus_text(corpus) -> str:
    if isinstance(corpus, str):
        return corpus
    return "".join(corpus)


class _Tokenizer:
    """What both tokenizers share: the special tokens, their ids, ``vocab_size``."""

    pad_id, bos_id, eos_id, unk_id = PAD, BOS, EOS, UNK
    special_tokens = SPECIAL_TOKENS

    def __len__(self) -> int:
        return self.vocab_size

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab_size={self.vocab_size})"

    def _wrap(self, ids: list[int], add_bos: bool, add_eos: bool) -> list[int]:
        return ([BOS] if add_bos else []) + ids + ([EOS] if add_eos else [])

    def compression_ratio(self, text: str) -> float:
        """UTF-8 bytes per token on ``text``: how much a token carries (higher = shorter
        sequences for the model; 1.0 for raw bytes)."""
        ids = self.encode(text)
        if not ids:
            raise ValueError("compression_ratio: the text is empty, give some text to measure on")
        return len(_to_bytes(text)) / len(ids)

    def save(self, path) -> None:
        """Write the tokenizer as JSON (readable, no pickle); :meth:`load` reads it back."""
        tmp = f"{os.fspath(path)}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self._state(), f, ensure_ascii=True)
        os.replace(tmp, path)  # atomic: a crash never leaves half a file

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
        kind = {"char": CharTokenizer, "byte-bpe": BPETokenizer}.get(state.get("type"))
        if kind is None or not issubclass(kind, cls):
            raise ValueError(f"{path}: not a {cls.__name__} file (type {state.get('type')!r})")
        return kind._from_state(state, path)


class CharTokenizer(_Tokenizer):
    """One id per character: the specials first, then the characters of the training text.

    ``tok = CharTokenizer().train("hello")`` -> vocabulary ``<pad> <bos> <eos> <unk> e h l o``;
    ``tok.encode("hole")`` -> ``[5, 7, 6, 4]``. A character not seen in training encodes as
    ``<unk>`` (id 3) and decodes as ``"<unk>"``: character-level vocabularies are lossy on
    new text, which is one reason GPT-2 went to bytes.
    """

    def __init__(self, chars: Iterable[str] = ()):
        self.chars: list[str] = []
        self._ids: dict[str, int] = {}
        self._set_chars(chars)

    def _set_chars(self, chars) -> None:
        self.chars = sorted(set(chars))
        if any(len(c) != 1 for c in self.chars):
            raise ValueError("CharTokenizer: the vocabulary must be single characters")
        self._ids = {c: N_SPECIAL + i for i, c in enumerate(self.chars)}

    def train(self, corpus) -> "CharTokenizer":
        """Use every distinct character of ``corpus`` (a str or an iterable of str)."""
        self._set_chars(_corpus_text(corpus))
        return self

    @property
    def vocab_size(self) -> int:
        return N_SPECIAL + len(self.chars)

    def encode(self, text: str, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        get = self._ids.get
        return self._wrap([get(c, UNK) for c in text], add_bos, add_eos)

    def decode(self, ids, skip_special_tokens: bool = False) -> str:
        out = []
        for i in _as_ids(ids):
            if not 0 <= i < self.vocab_size:
                raise IndexError(f"CharTokenizer.decode: id {i} is out of range for a vocabulary "
                                 f"of {self.vocab_size}")
            if i < N_SPECIAL:
                if not skip_special_tokens:
                    out.append(SPECIAL_TOKENS[i])
            else:
                out.append(self.chars[i - N_SPECIAL])
        return "".join(out)

    def _state(self) -> dict:
        return {"type": "char", "version": 1, "special_tokens": list(SPECIAL_TOKENS),
                "chars": "".join(self.chars)}

    @classmethod
    def _from_state(cls, state, path):
        return cls(state["chars"])


class BPETokenizer(_Tokenizer):
    """Byte-level BPE (GPT-2's scheme), trained with :meth:`train`.

    ``tok = BPETokenizer().train(text, vocab_size=512)`` learns ``512 - 260`` merges;
    ``tok.encode(s)`` gives ids, ``tok.decode(ids) == s`` for every string ``s``. Special
    tokens are only produced on request (``add_bos``/``add_eos``): the text ``"<bos>"`` inside
    a string is just text, so user input cannot forge them.

    Attributes:
        merges: the learned pairs in order; merge ``k`` made id ``260 + k``.
        vocab: id -> the bytes it stands for (specials: their name, UTF-8).
    """

    def __init__(self, merges: Iterable[tuple[int, int]] = ()):
        self._set_merges([tuple(m) for m in merges])

    def _set_merges(self, merges: list[tuple[int, int]]) -> None:
        vocab = [s.encode() for s in SPECIAL_TOKENS] + [bytes([b]) for b in range(256)]
        for k, (a, b) in enumerate(merges):
            if not (N_SPECIAL <= a < N_BASE + k and N_SPECIAL <= b < N_BASE + k):
                raise ValueError(f"BPETokenizer: merge {k} joins ids ({a}, {b}), but merge {k} "
                                 f"may only join byte or earlier merge ids ({N_SPECIAL}.."
                                 f"{N_BASE + k - 1})")
            vocab.append(vocab[a] + vocab[b])
        self.merges = merges
        self.vocab = vocab
        self._ranks = {pair: N_BASE + k for k, pair in enumerate(merges)}
        self._cache: dict[str, list[int]] = {}

    @property
    def vocab_size(self) -> int:
        return N_BASE + len(self.merges)

    # ------------------------------------------------------------------ training

    @staticmethod
    def _check_vocab_size(vocab_size: int) -> int:
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int):
            raise TypeError(f"BPETokenizer.train: vocab_size must be an int, got {vocab_size!r}")
        if vocab_size < N_BASE:
            raise ValueError(f"BPETokenizer.train: vocab_size={vocab_size} is smaller than the "
                             f"256 byte tokens + {N_SPECIAL} special tokens = {N_BASE}; ask for "
                             f"at least {N_BASE} (every merge adds one token on top)")
        return vocab_size - N_BASE

    @staticmethod
    def _words(corpus) -> tuple[list[list[int]], list[int]]:
        """The distinct pre-tokens of the corpus as byte-id lists, and how often each occurs.

        BPE works on this table, not on the text: a 1 MB corpus has ~10^6 bytes but only
        a few tens of thousands of distinct words."""
        freq = Counter(pretokenize(_corpus_text(corpus)))
        words = [[BYTE_OFFSET + b for b in _to_bytes(w)] for w in freq]
        return words, list(freq.values())

    def train_naive(self, corpus, vocab_size: int) -> "BPETokenizer":
        """The textbook loop: count every pair, merge the best one everywhere, repeat.

        O(corpus) work per merge. Kept to be timed against :meth:`train` and to prove it
        right: both learn the same merges."""
        n_merges = self._check_vocab_size(vocab_size)
        words, counts = self._words(corpus)
        merges = []
        while len(merges) < n_merges:
            pairs = count_pairs(words, counts)
            if not pairs:  # every word is a single token: nothing left to merge
                break
            pair = _best_pair(pairs)
            new_id = N_BASE + len(merges)
            words = [merge_word(w, pair, new_id) for w in words]
            merges.append(pair)
        self._set_merges(merges)
        return self

    def train(self, corpus, vocab_size: int) -> "BPETokenizer":
        """Learn ``vocab_size - 260`` merges from ``corpus`` (a str or an iterable of str).

        Incremental: the pair counts are computed once; for each merge only the words that
        contain the merged pair are rewritten, and their old pairs are subtracted and new
        pairs added. ``where[pair]`` remembers which words contain a pair (it may keep a word
        that lost the pair: merging such a word changes nothing and it is skipped). A heap
        of ``(-count, pair)`` finds the best pair; entries whose count has changed since they
        were pushed are stale and dropped when popped. Stops early if no pair is left.
        """
        n_merges = self._check_vocab_size(vocab_size)
        words, counts = self._words(corpus)
        pairs = count_pairs(words, counts)
        where: dict[tuple[int, int], set[int]] = {}
        for i, w in enumerate(words):
            for pair in zip(w, w[1:]):
                where.setdefault(pair, set()).add(i)
        heap = [(-n, pair) for pair, n in pairs.items()]
        heapq.heapify(heap)
        merges: list[tuple[int, int]] = []
        while len(merges) < n_merges and heap:
            neg, pair = heapq.heappop(heap)
            if pairs.get(pair, 0) != -neg:
                continue  # stale: the count changed after this entry was pushed
            new_id = N_BASE + len(merges)
            merges.append(pair)
            changed = set()
            for i in where.pop(pair):
                old = words[i]
                new = merge_word(old, pair, new_id)
                if len(new) == len(old):
                    continue
                n = counts[i]
                for p in zip(old, old[1:]):
                    pairs[p] -= n
                    changed.add(p)
                for p in zip(new, new[1:]):
                    pairs[p] = pairs.get(p, 0) + n
                    where.setdefault(p, set()).add(i)
                    changed.add(p)
                words[i] = new
            for p in changed:
                n = pairs[p]
                if n > 0:
                    heapq.heappush(heap, (-n, p))
                else:
                    del pairs[p]
        self._set_merges(merges)
        return self

    # ------------------------------------------------------------------ encoding

    def _encode_word(self, word: str) -> list[int]:
        """One pre-token to ids: its bytes, then the learned merges, lowest rank first."""
        ids = [BYTE_OFFSET + b for b in _to_bytes(word)]
        ranks = self._ranks
        # BEGIN SOLUTION
        while len(ids) > 1:
            # the earliest-learned merge present; merges learned later can never create a
            # pair of an earlier merge, so this applies the merges in training order
            pair = min(zip(ids, ids[1:]), key=lambda p: ranks.get(p, 1 << 62))
            if pair not in ranks:
                break
            ids = merge_word(ids, pair, ranks[pair])
        # END SOLUTION
        return ids

    def encode(self, text: str, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """Ids of ``text``; ``add_bos``/``add_eos`` put ``<bos>``/``<eos>`` around them."""
        if not isinstance(text, str):
            raise TypeError(f"BPETokenizer.encode: expected a str, got {type(text).__name__}")
        cache = self._cache
        ids: list[int] = []
        for word in pretokenize(text):
            piece = cache.get(word)
            if piece is None:
                piece = self._encode_word(word)
                if len(cache) < 100_000:  # words repeat (Zipf): most lookups hit
                    cache[word] = piece
            ids.extend(piece)
        return self._wrap(ids, add_bos, add_eos)

    def decode(self, ids, skip_special_tokens: bool = False) -> str:
        """Text of ``ids``: the bytes of every token joined, then UTF-8. A sequence that
        splits a character (a sampled one, say) decodes its broken bytes as U+FFFD."""
        vocab, n = self.vocab, self.vocab_size
        parts = []
        for i in _as_ids(ids):
            if not 0 <= i < n:
                raise IndexError(f"BPETokenizer.decode: id {i} is out of range for a vocabulary "
                                 f"of {n}")
            if i >= N_SPECIAL or not skip_special_tokens:
                parts.append(vocab[i])
        return _from_bytes(b"".join(parts))

    def tokens(self, text: str) -> list[str]:
        """The pieces ``text`` is cut into, for display: ``["Hello", " world"]``. A piece that
        is part of a character shows its bytes: ``"\\xc3"``."""
        return [self.vocab[i].decode("utf-8", errors="backslashreplace")
                for i in self.encode(text)]

    # ------------------------------------------------------------------ saving

    def _state(self) -> dict:
        return {"type": "byte-bpe", "version": 1, "pattern": PRETOKENIZE_PATTERN,
                "special_tokens": list(SPECIAL_TOKENS),
                "merges": [list(m) for m in self.merges]}

    @classmethod
    def _from_state(cls, state, path):
        if state.get("pattern") != PRETOKENIZE_PATTERN or \
                state.get("special_tokens") != list(SPECIAL_TOKENS):
            raise ValueError(f"{path}: saved with another pre-tokenizer or special tokens; "
                             "retrain the tokenizer with this version")
        return cls(tuple(m) for m in state["merges"])
