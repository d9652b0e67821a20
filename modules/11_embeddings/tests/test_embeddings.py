"""Module 11 graded tests: embedding lookup and its scatter-add gradient, positional
encodings (learned, sinusoidal) and rotary embeddings.

Expected values come from the definitions written out here as NumPy loops, or from
finite differences (``gradcheck``, module 05). Nothing here imports PyTorch.
"""

import math

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.autograd import gradcheck
from tinytorch.testing import assert_close
from tinytorch.text import (LearnedPositionalEmbedding, SinusoidalPositionalEncoding, rope,
                            sinusoidal_positional_encoding)


def _rand(shape, seed, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def ref_embedding_grad(ids, grad, shape, padding_idx=None):
    """dL/dW by the definition: each looked-up row sends its gradient back to its id."""
    dw = np.zeros(shape)
    flat_ids, flat_g = ids.reshape(-1), grad.reshape(-1, shape[1])
    for k in range(len(flat_ids)):
        if flat_ids[k] != padding_idx:
            dw[flat_ids[k]] += flat_g[k]
    return dw


# --------------------------------------------------------------------------- Embedding


def test_lookup_is_rows_of_the_table():
    tt.manual_seed(0)
    emb = nn.Embedding(7, 3)
    ids = np.array([[0, 6, 2], [2, 2, 5]])
    out = emb(tt.tensor(ids))
    assert out.shape == (2, 3, 3)
    assert_close(out, emb.weight.detach().numpy()[ids], what="emb(ids)")
    assert emb(tt.tensor(4)).shape == (3,), "a single id gives one vector"


def test_init_is_standard_normal_with_the_padding_row_zero():
    tt.manual_seed(0)
    emb = nn.Embedding(1000, 64, padding_idx=3)
    w = emb.weight.detach().numpy()
    assert np.all(w[3] == 0)
    rest = np.delete(w, 3, axis=0)
    assert abs(rest.mean()) < 0.02 and abs(rest.std() - 1.0) < 0.02, "PyTorch's N(0, 1)"
    assert emb.weight.requires_grad


def test_gradient_is_a_scatter_add_over_repeated_ids():
    tt.manual_seed(0)
    emb = nn.Embedding(6, 4)
    ids = np.array([[1, 3, 1], [1, 0, 3]])
    g = _rand((2, 3, 4), 1)
    emb(tt.tensor(ids)).backward(tt.tensor(g))
    assert_close(emb.weight.grad, ref_embedding_grad(ids, g, (6, 4)), atol=1e-5,
                 what="weight.grad", inputs={"ids": ids})
    assert np.all(emb.weight.grad.numpy()[[2, 4, 5]] == 0), "rows never looked up get nothing"


def test_padding_row_gets_no_gradient():
    emb = nn.Embedding(5, 3, padding_idx=0)
    ids = np.array([[0, 2, 0, 4], [1, 0, 2, 2]])
    g = _rand((2, 4, 3), 2)
    emb(tt.tensor(ids)).backward(tt.tensor(g))
    assert_close(emb.weight.grad, ref_embedding_grad(ids, g, (5, 3), padding_idx=0), atol=1e-5,
                 what="weight.grad with padding_idx=0")


def test_negative_padding_idx_counts_from_the_end():
    emb = nn.Embedding(5, 3, padding_idx=-1)
    assert emb.padding_idx == 4, "stored as a row number, as PyTorch does"
    assert np.all(emb.weight.detach().numpy()[4] == 0)
    emb(tt.tensor([4, 1, 4])).sum().backward()
    assert np.all(emb.weight.grad.numpy()[4] == 0) and np.all(emb.weight.grad.numpy()[1] == 1)
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(5, 3, padding_idx=5)
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(5, 3, padding_idx=-6)


def test_functional_embedding_and_gradcheck():
    w = tt.tensor(_rand((5, 3), 3, np.float64), requires_grad=True)
    ids = tt.tensor([[0, 4], [4, 2]])
    out = F.embedding(ids, w)
    assert_close(out, w.detach().numpy()[ids.numpy()], what="F.embedding")
    gradcheck(lambda w: F.embedding(ids, w) ** 2, (w,))


def test_out_of_range_ids_name_the_id_and_the_vocabulary():
    emb = nn.Embedding(10, 2)
    with pytest.raises(IndexError, match=r"(?s)\b12\b.*\b10\b"):
        emb(tt.tensor([1, 12, 3]))
    with pytest.raises(IndexError, match="-1"):
        emb(tt.tensor([-1]))
    with pytest.raises(TypeError, match="integer"):
        emb(tt.tensor([1.0, 2.0]))


def test_empty_batch():
    emb = nn.Embedding(4, 2)
    out = emb(tt.tensor(np.zeros((0, 5), dtype=np.int64)))
    assert out.shape == (0, 5, 2)


def test_from_pretrained():
    table = _rand((4, 3), 4)
    emb = nn.Embedding.from_pretrained(tt.tensor(table))
    assert_close(emb(tt.tensor([3, 0])), table[[3, 0]], what="from_pretrained lookup")
    assert not emb.weight.requires_grad, "frozen by default"
    table[0] = 99.0
    assert emb.weight.detach().numpy()[0, 0] != 99.0, "a copy, not a view of the caller's array"
    trainable = nn.Embedding.from_pretrained(tt.tensor(_rand((4, 3), 5)), freeze=False,
                                             padding_idx=1)
    assert trainable.weight.requires_grad
    assert np.all(trainable.weight.detach().numpy()[1] != 0), "padding row kept as given"


def test_state_dict_key_and_repr():
    emb = nn.Embedding(8, 2, padding_idx=0)
    assert list(emb.state_dict()) == ["weight"]
    other = nn.Embedding(8, 2)
    other.load_state_dict(emb.state_dict())
    assert_close(other.weight, emb.weight, what="loaded weight")
    assert repr(emb) == "Embedding(8, 2, padding_idx=0)"
    assert sum(p.numel() for p in emb.parameters()) == 16


def test_embedding_learns_a_lookup_task():
    """Each id must map to its target vector: plain SGD on the table solves it exactly."""
    tt.manual_seed(0)
    emb = nn.Embedding(5, 2)
    target = tt.tensor(_rand((5, 2), 6))
    opt = tt.optim.SGD(emb.parameters(), lr=2.0)
    ids = tt.tensor([0, 1, 2, 3, 4, 1, 1])
    for _ in range(60):
        loss = ((emb(ids) - target[ids.numpy()]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 1e-4


# --------------------------------------------------------------------------- positions


def ref_sinusoid(max_len, d, base=10000.0):
    pe = np.zeros((max_len, d))
    for pos in range(max_len):
        for j in range(d):
            i = j // 2
            angle = pos / base ** (2 * i / d)
            pe[pos, j] = math.sin(angle) if j % 2 == 0 else math.cos(angle)
    return pe


@pytest.mark.parametrize("max_len, d", [(6, 4), (20, 8), (5, 7), (3, 1)])
def test_sinusoidal_encoding_matches_the_formula(max_len, d):
    pe = sinusoidal_positional_encoding(max_len, d)
    assert pe.shape == (max_len, d)
    assert_close(pe, ref_sinusoid(max_len, d), atol=1e-6, what=f"PE({max_len}, {d})")


def test_sinusoidal_shift_is_a_rotation_that_depends_only_on_the_offset():
    pe = sinusoidal_positional_encoding(50, 16).numpy().astype(np.float64)
    k = 3
    # pairs (sin, cos) of position p + k: rotate pair i of position p by k * freq_i
    freq = 10000.0 ** (-np.arange(0, 16, 2) / 16)
    c, s = np.cos(k * freq), np.sin(k * freq)
    for p in (0, 10, 40):
        sin_p, cos_p = pe[p, 0::2], pe[p, 1::2]
        assert_close(pe[p + k, 0::2], sin_p * c + cos_p * s, atol=1e-5, what="sin(p + k)")
        assert_close(pe[p + k, 1::2], cos_p * c - sin_p * s, atol=1e-5, what="cos(p + k)")


def test_sinusoidal_module_adds_and_saves_nothing():
    enc = SinusoidalPositionalEncoding(8, max_len=10)
    x = tt.tensor(_rand((2, 5, 8), 7))
    assert_close(enc(x), x.numpy() + ref_sinusoid(10, 8)[:5], atol=1e-6, what="x + PE[:T]")
    assert_close(enc(x, offset=3), x.numpy() + ref_sinusoid(10, 8)[3:8], atol=1e-6,
                 what="x + PE[3:3+T]")
    assert list(enc.state_dict()) == [] and list(enc.parameters()) == []
    with pytest.raises(ValueError, match="max_len"):
        enc(tt.tensor(_rand((1, 11, 8), 8)))


def test_learned_positions_add_one_trained_vector_per_position():
    tt.manual_seed(0)
    pos = LearnedPositionalEmbedding(6, 4)
    assert list(pos.state_dict()) == ["weight"] and pos.weight.shape == (6, 4)
    x = tt.tensor(_rand((3, 4, 4), 9), requires_grad=True)
    y = pos(x)
    assert_close(y, x.detach().numpy() + pos.weight.detach().numpy()[:4], what="x + P[:T]")
    g = _rand((3, 4, 4), 10)
    y.backward(tt.tensor(g))
    expected = np.zeros((6, 4))
    expected[:4] = g.sum(axis=0)
    assert_close(pos.weight.grad, expected, atol=1e-5, what="P.grad: summed over the batch")
    with pytest.raises(ValueError, match="max_len"):
        pos(tt.tensor(_rand((1, 5, 4), 11)), offset=2)


# --------------------------------------------------------------------------- rotary


def ref_rope(x, positions, base=10000.0):
    out = np.array(x, dtype=np.float64)
    d = x.shape[-1]
    for t, p in enumerate(positions):
        for i in range(d // 2):
            a = p * base ** (-2 * i / d)
            x1, x2 = x[..., t, 2 * i], x[..., t, 2 * i + 1]
            out[..., t, 2 * i] = x1 * math.cos(a) - x2 * math.sin(a)
            out[..., t, 2 * i + 1] = x1 * math.sin(a) + x2 * math.cos(a)
    return out


def test_rope_rotates_each_pair_by_position_times_frequency():
    x = _rand((2, 3, 5, 8), 12)
    assert_close(rope(tt.tensor(x)), ref_rope(x, range(5)), atol=1e-5, what="rope(x)")
    assert_close(rope(tt.tensor(x), positions=4), ref_rope(x, range(4, 9)), atol=1e-5,
                 what="rope(x, positions=4)")
    pos = [7, 0, 3, 3, 10]
    assert_close(rope(tt.tensor(x), positions=pos), ref_rope(x, pos), atol=1e-5,
                 what="rope(x, positions=[7, 0, 3, 3, 10])")


def test_rope_keeps_norms_and_sees_only_relative_positions():
    q, k = _rand((1, 16), 13, np.float64), _rand((1, 16), 14, np.float64)
    assert_close(np.linalg.norm(rope(tt.tensor(q), positions=[9]).numpy()), np.linalg.norm(q),
                 what="|rope(q)| == |q|")

    def score(m, n):
        qm = rope(tt.tensor(q), positions=[m]).numpy()
        kn = rope(tt.tensor(k), positions=[n]).numpy()
        return float((qm * kn).sum())

    assert score(5, 2) == pytest.approx(score(13, 10), abs=1e-9), "same distance, same score"
    assert score(5, 2) != pytest.approx(score(5, 3), abs=1e-6)


def test_rope_gradient():
    x = tt.tensor(_rand((2, 4, 6), 15, np.float64), requires_grad=True)
    gradcheck(lambda x: rope(x) * tt.tensor(_rand((2, 4, 6), 16, np.float64)), (x,))


def test_rope_needs_an_even_dimension():
    with pytest.raises(ValueError, match="even"):
        rope(tt.tensor(_rand((3, 5), 17)))
