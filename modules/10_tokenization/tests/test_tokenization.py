"""Module 10 graded tests: pair counting, the merge step, BPE training and encoding.

Expected values come from small worked examples written out here, or from the definition of
BPE written in this file as plain Python (``ref_encode`` applies the learned merges in order,
one at a time). Nothing here imports PyTorch.
"""

import json
import random

import pytest

from tinytorch.text import BPETokenizer, CharTokenizer, pretokenize
from tinytorch.text.tokenization import count_pairs, merge_word

B = 4  # byte b has id B + b (ids 0..3 are <pad> <bos> <eos> <unk>)


def ids_of(text: str) -> list[int]:
    return [B + b for b in text.encode("utf-8")]


# A small corpus with structure: repeated words, punctuation, code, several scripts.
CORPUS = ("the cat sat on the mat. the cat ate the rat! "
          "def f(x):\n    return x + 1\n\ndef g(y):\n    return y * 2\n"
          "naïve café, déjà vu; the theme of the thesis. 1234 + 5678 = 6912\n") * 3


def ref_merge(word, pair, new_id):
    out, i = [], 0
    while i < len(word):
        if word[i:i + 2] == list(pair):
            out.append(new_id)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return out


def ref_encode(tok, text):
    """BPE by its definition: each pre-token's bytes, then every merge in the learned order."""
    out = []
    for word in pretokenize(text):
        ids = ids_of(word)
        for k, pair in enumerate(tok.merges):
            ids = ref_merge(ids, pair, 260 + k)
        out += ids
    return out


# --------------------------------------------------------------------------- the learner's part


def test_count_pairs_weights_each_word_by_its_count():
    assert count_pairs([[1, 2, 1, 2]], [3]) == {(1, 2): 6, (2, 1): 3}
    got = count_pairs([[5, 6, 7], [6, 7], [9]], [1, 2, 10])
    assert got == {(5, 6): 1, (6, 7): 3}, "a one-token word has no pair; (6, 7) is in 2 words"


def test_count_pairs_of_nothing():
    assert count_pairs([], []) == {}
    assert count_pairs([[], [4]], [3, 2]) == {}


def test_merge_word_replaces_every_occurrence_left_to_right():
    assert merge_word([5, 6, 7, 5, 6], (5, 6), 9) == [9, 7, 9]
    assert merge_word([7, 5, 6], (5, 6), 9) == [7, 9], "the pair at the very end"
    assert merge_word([5, 6], (5, 6), 9) == [9]
    assert merge_word([6, 5], (5, 6), 9) == [6, 5], "order matters: (6, 5) is not (5, 6)"
    assert merge_word([], (5, 6), 9) == []
    assert merge_word([5], (5, 6), 9) == [5]


def test_merge_word_occurrences_do_not_overlap():
    assert merge_word([3, 3, 3], (3, 3), 8) == [8, 3]
    assert merge_word([3, 3, 3, 3], (3, 3), 8) == [8, 8]


def test_merge_word_returns_a_new_list():
    word = [5, 6, 7]
    merge_word(word, (5, 6), 9)
    assert word == [5, 6, 7]


# --------------------------------------------------------------------------- pre-tokenization


def test_pretokenize_gpt2_style():
    assert pretokenize("Hello world") == ["Hello", " world"]
    assert pretokenize("Hi  there!") == ["Hi", " ", " there", "!"]
    assert pretokenize("it's 2024") == ["it", "'s", " 2024"]
    assert pretokenize("x_1 = f(x)") == ["x", "_", "1", " =", " f", "(", "x", ")"]


@pytest.mark.parametrize("text", ["", "a", " ", "\n\n\t  x", "héllo wörld", "日本語のテキスト",
                                  "emoji 🎉🚀 mixed", "a\u0301 combining", "tab\there", "²³ ½",
                                  "   trailing   "])
def test_pretokenize_pieces_join_back_to_the_text(text):
    assert "".join(pretokenize(text)) == text


# --------------------------------------------------------------------------- training


def test_train_worked_example():
    # words: "ab" x1, " ab" x2, " cd" x1. Pairs: (a,b) 3, (' ',a) 2, (' ',c) 1, (c,d) 1
    tok = BPETokenizer().train("ab ab ab cd", vocab_size=263)
    a, b, c, d, sp = (B + ord(ch) for ch in "abcd ")
    assert tok.merges == [(a, b), (sp, 260), (sp, c)], (
        "merge 0 is the most frequent pair (a, b) -> id 260; then (' ', 260) seen twice; then a "
        "tie at 1 between (' ', c) and (c, d): the smaller pair wins")
    assert tok.vocab_size == 263
    assert tok.vocab[261] == b" ab" and tok.vocab[262] == b" c"


def test_merges_never_cross_pretoken_boundaries():
    tok = BPETokenizer().train("a.a.a.a.a.a.", vocab_size=270)
    for piece in tok.vocab[260:]:
        assert piece in (b"a", b".") or len(set(pretokenize(piece.decode()))) == 1
        assert len(pretokenize(piece.decode())) == 1, piece


def made_up_text(n_words: int, seed: int) -> str:
    """Words of random syllables (Zipf-like: early syllables more frequent), spaces, newlines
    and punctuation: many distinct words, many ties between pair counts."""
    rng = random.Random(seed)
    syll = ["ka", "to", "ri", "an", "e", "mo", "su", "th", "é", "ng", "x", "ou"]
    words = []
    for _ in range(n_words):
        k = rng.choice([1, 1, 2, 2, 3, 4])
        w = "".join(syll[min(int(rng.expovariate(0.4)), len(syll) - 1)] for _ in range(k))
        words.append(w + rng.choice(["", "", "", ",", ".", "!\n", "\n"]))
    return " ".join(words)


@pytest.mark.parametrize("seed", [0, 1])
def test_incremental_training_learns_the_same_merges_as_the_naive_loop(seed):
    text = made_up_text(2500, seed)
    fast = BPETokenizer().train(text, vocab_size=420)
    slow = BPETokenizer().train_naive(text, vocab_size=420)
    assert len(fast.merges) == 160
    assert fast.merges == slow.merges
    assert fast.encode(text) == slow.encode(text)


def test_incremental_training_same_merges_on_the_small_corpus():
    fast = BPETokenizer().train(CORPUS, vocab_size=400)
    slow = BPETokenizer().train_naive(CORPUS, vocab_size=400)
    assert len(fast.merges) == 70, "this corpus runs out of pairs after 70 merges"
    assert fast.merges == slow.merges


def test_training_stops_when_nothing_is_left_to_merge():
    tok = BPETokenizer().train("aaaa", vocab_size=1000)
    assert [tok.vocab[i] for i in range(260, tok.vocab_size)] == [b"aa", b"aaaa"]
    assert BPETokenizer().train("", vocab_size=300).merges == []
    assert BPETokenizer().train("x", vocab_size=300).merges == []


def test_vocab_size_below_bytes_plus_specials_is_an_error():
    with pytest.raises(ValueError, match="260"):
        BPETokenizer().train(CORPUS, vocab_size=100)
    with pytest.raises(ValueError, match="260"):
        BPETokenizer().train_naive(CORPUS, vocab_size=259)
    assert BPETokenizer().train(CORPUS, vocab_size=260).merges == []


def test_training_accepts_an_iterable_of_texts():
    parts = [CORPUS[i:i + 50] for i in range(0, len(CORPUS), 50)]
    assert BPETokenizer().train(parts, 300).merges == BPETokenizer().train(CORPUS, 300).merges


# --------------------------------------------------------------------------- encode / decode


@pytest.fixture(scope="module")
def tok():
    return BPETokenizer().train(CORPUS, vocab_size=400)


def test_encode_applies_the_merges_in_training_order(tok):
    for text in [CORPUS[:200], "the thesis of the cat", "return x * 2", "thethethe"]:
        assert tok.encode(text) == ref_encode(tok, text), text


def test_encode_uses_learned_tokens(tok):
    ids = tok.encode("the cat")
    assert len(ids) < len("the cat".encode()), "merged tokens: fewer ids than bytes"
    assert tok.decode(ids) == "the cat"
    assert all(i >= B for i in ids), "no special token unless asked"


def test_untrained_tokenizer_is_raw_bytes():
    tok = BPETokenizer()
    assert tok.vocab_size == 260
    assert tok.encode("Aé") == [B + 65, B + 0xC3, B + 0xA9]


@pytest.mark.parametrize("text", ["", "a", "z", " ", "\n", "héllo wörld", "日本語", "🎉",
                                  "emoji 🎉🚀 and 👩‍👩‍👧 family", "Ωμέγα", "\x00\x01 control",
                                  "<bos>not special<eos>", "mixed   spaces\t\ttabs\n\n",
                                  "a\u0301", "\ud800 lone surrogate"])
def test_decode_encode_is_the_identity_even_on_unseen_characters(tok, text):
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert tok.unk_id not in ids, "byte-level BPE never needs <unk>"


def test_empty_and_single_character(tok):
    assert tok.encode("") == []
    assert tok.decode([]) == ""
    assert tok.encode("q") == [B + ord("q")]


def test_special_tokens(tok):
    assert (tok.pad_id, tok.bos_id, tok.eos_id, tok.unk_id) == (0, 1, 2, 3)
    ids = tok.encode("the", add_bos=True, add_eos=True)
    assert ids[0] == 1 and ids[-1] == 2
    assert tok.decode(ids) == "<bos>the<eos>"
    assert tok.decode(ids, skip_special_tokens=True) == "the"
    assert tok.encode("<bos>") == ids_of("<bos>"), "the text '<bos>' is not the token"


def test_decode_checks_ids(tok):
    with pytest.raises(IndexError, match=str(tok.vocab_size)):
        tok.decode([tok.vocab_size])
    with pytest.raises(IndexError):
        tok.decode([-1])


def test_decode_of_a_split_character_does_not_crash(tok):
    half = ids_of("é")[:1]
    assert tok.decode(half) == "\ufffd"


def test_compression_ratio(tok):
    text = CORPUS[:300]
    assert tok.compression_ratio(text) == pytest.approx(len(text.encode()) / len(tok.encode(text)))
    assert tok.compression_ratio(text) > 1.5
    assert BPETokenizer().compression_ratio(text) == 1.0
    with pytest.raises(ValueError):
        tok.compression_ratio("")


def test_save_and_load_round_trip(tok, tmp_path):
    path = tmp_path / "tok.json"
    tok.save(path)
    state = json.loads(path.read_text())
    assert state["merges"] == [list(m) for m in tok.merges]
    back = BPETokenizer.load(path)
    assert back.merges == tok.merges and back.vocab == tok.vocab
    assert back.encode(CORPUS) == tok.encode(CORPUS)


def test_load_rejects_another_kind_of_file(tmp_path):
    path = tmp_path / "char.json"
    CharTokenizer().train("abc").save(path)
    with pytest.raises(ValueError):
        BPETokenizer.load(path)


# --------------------------------------------------------------------------- characters


def test_char_tokenizer():
    tok = CharTokenizer().train("hello")
    assert tok.vocab_size == 4 + 4  # specials + e h l o
    assert tok.encode("hole") == [5, 7, 6, 4]
    assert tok.decode([5, 7, 6, 4]) == "hole"
    assert tok.encode("hex") == [5, 4, tok.unk_id], "an unseen character is <unk>"
    assert tok.decode(tok.encode("")) == ""
    assert tok.encode("he", add_bos=True) == [1, 5, 4]


def test_char_tokenizer_save_load(tmp_path):
    tok = CharTokenizer().train("héllo 🎉")
    tok.save(tmp_path / "c.json")
    back = CharTokenizer.load(tmp_path / "c.json")
    assert back.chars == tok.chars and back.encode("🎉llo") == tok.encode("🎉llo")
