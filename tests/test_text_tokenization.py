"""Byte-level BPE (module 10): laws that must hold for every input (no PyTorch needed).

``decode(encode(s)) == s`` for arbitrary Unicode text (hypothesis, lone surrogates
included); pre-tokens join back to the text; the incremental trainer learns the naive
trainer's merges on arbitrary corpora; JSON save/load keeps the encoding; training on a
standard-library source file compresses it.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinytorch.text import BPETokenizer, CharTokenizer, pretokenize

# --------------------------------------------------------------------------- BPE properties

_CORPUS = ("The quick brown fox jumps over the lazy dog. Ünïcödé, 日本語, emoji 🎉.\n"
           "def add(a, b):\n    return a + b  # adds\n") * 4


@pytest.fixture(scope="module")
def bpe():
    return BPETokenizer().train(_CORPUS, vocab_size=330)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(), max_size=60))
def test_bpe_round_trip_on_arbitrary_text(bpe, text):
    ids = bpe.encode(text)
    assert bpe.decode(ids) == text
    assert all(0 <= i < bpe.vocab_size for i in ids)
    assert len(ids) <= len(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_pretokens_join_back(text):
    assert "".join(pretokenize(text)) == text


@settings(max_examples=25, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab c.\néx")), max_size=120),
       st.integers(260, 300))
def test_incremental_and_naive_training_agree_on_any_corpus(corpus, vocab_size):
    fast = BPETokenizer().train(corpus, vocab_size)
    slow = BPETokenizer().train_naive(corpus, vocab_size)
    assert fast.merges == slow.merges
    assert fast.decode(fast.encode(corpus)) == corpus


def test_save_load_keeps_the_encoding(bpe, tmp_path):
    bpe.save(tmp_path / "bpe.json")
    back = BPETokenizer.load(tmp_path / "bpe.json")
    assert back.encode(_CORPUS) == bpe.encode(_CORPUS)
    char = CharTokenizer().train(_CORPUS)
    char.save(tmp_path / "char.json")
    assert CharTokenizer.load(tmp_path / "char.json").encode("fox") == char.encode("fox")


def test_training_on_stdlib_source_compresses():
    import os

    path = os.path.join(os.path.dirname(os.__file__), "textwrap.py")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    tok = BPETokenizer().train(text, vocab_size=400)
    assert tok.decode(tok.encode(text)) == text
    assert tok.compression_ratio(text) > 2.0
