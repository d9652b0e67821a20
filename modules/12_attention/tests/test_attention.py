"""Module 12 graded tests: attention -- loops, fused, tiled, multi-head, masks, heatmaps.

Every expected value comes from ``ref_attention`` below: the definition written in plain
NumPy (scores, mask, stable softmax, weighted sum), with float64 arithmetic. Gradients are
checked against finite differences (``gradcheck``, module 05). Nothing here imports PyTorch;
the PyTorch parity of the same code lives in the framework's tests/test_attention_parity.py.

Mask conventions (the trap of this module):
* ``F.scaled_dot_product_attention`` and ``attention_loops``: bool True = MAY attend.
* ``nn.MultiheadAttention``: bool True = masked OUT (ignored).
"""

import math
import tracemalloc

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.autograd import gradcheck
from tinytorch.core.attention import (SDPAFn, attention_loops, attention_weights,
                                      capture_attention)
from tinytorch.core.flash_attention import FlashAttentionFn


def _rand(shape, seed, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def ref_attention(q, k, v, allowed=None, add=None, causal=False, scale=None):
    """softmax(q k^T * scale + add, masked where not allowed) v, and the weights.

    q (..., L, E), k (..., S, E), v (..., S, Ev). ``allowed``: bool (..., L, S), True = may
    attend. ``causal``: query i sees keys 0..i (top-left aligned, as PyTorch). A query that
    may attend to nothing gets weights 0 and output 0.
    """
    q, k, v = (np.asarray(x, np.float64) for x in (q, k, v))
    L, S = q.shape[-2], k.shape[-2]
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = np.einsum("...ie,...je->...ij", q, k) * scale
    if add is not None:
        s = s + add
    ok = np.ones(s.shape, bool)
    if allowed is not None:
        ok = ok & allowed
    if causal:
        ok = ok & (np.arange(L)[:, None] >= np.arange(S)[None, :])
    s = np.where(ok, s, -np.inf)
    top = np.max(s, axis=-1, keepdims=True)
    e = np.where(ok, np.exp(s - np.where(np.isfinite(top), top, 0)), 0.0)
    tot = e.sum(-1, keepdims=True)
    w = e / np.where(tot == 0, 1, tot)
    return w @ v, w


# --------------------------------------------------------------------------- the loop version


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("L,S", [(4, 4), (3, 6), (6, 2), (1, 1), (1, 5)])
def test_loops_match_the_definition(dtype, tol, L, S):
    q, k, v = _rand((2, L, 3), 1, dtype), _rand((2, S, 3), 2, dtype), _rand((2, S, 4), 3, dtype)
    out, w = attention_loops(q, k, v, return_weights=True)
    ref, ref_w = ref_attention(q, k, v)
    assert out.shape == (2, L, 4) and w.shape == (2, L, S)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.numpy(), ref, rtol=tol, atol=tol)
    np.testing.assert_allclose(w.numpy(), ref_w, rtol=tol, atol=tol)
    np.testing.assert_allclose(w.numpy().sum(-1), 1.0, rtol=tol)


def test_loops_without_batch_dims_and_custom_scale():
    q, k, v = _rand((5, 2), 4), _rand((7, 2), 5), _rand((7, 3), 6)
    out = attention_loops(q, k, v, scale=0.3)
    np.testing.assert_allclose(out.numpy(), ref_attention(q, k, v, scale=0.3)[0], rtol=1e-12)


@pytest.mark.parametrize("L,S", [(5, 5), (3, 6), (6, 3)])
def test_loops_causal_is_top_left_aligned(L, S):
    q, k, v = _rand((L, 4), 7), _rand((S, 4), 8), _rand((S, 2), 9)
    out, w = attention_loops(q, k, v, is_causal=True, return_weights=True)
    ref, ref_w = ref_attention(q, k, v, causal=True)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-12)
    assert np.all(np.triu(w.numpy(), 1) == 0), "a query looked at a future key"
    np.testing.assert_allclose(w.numpy()[0, 0], 1.0)  # the first query sees only key 0


def test_loops_masks_bool_float_and_fully_masked_row():
    q, k, v = _rand((2, 4, 3), 10), _rand((2, 5, 3), 11), _rand((2, 5, 2), 12)
    allowed = np.random.default_rng(13).random((4, 5)) < 0.5
    allowed[1] = False  # query 1 may attend to nothing
    out, w = attention_loops(q, k, v, mask=allowed, return_weights=True)
    ref, ref_w = ref_attention(q, k, v, allowed=allowed)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-12)
    assert np.all(out.numpy()[:, 1] == 0) and np.all(w.numpy()[:, 1] == 0)
    add = _rand((4, 5), 14)
    out = attention_loops(q, k, v, mask=add)
    np.testing.assert_allclose(out.numpy(), ref_attention(q, k, v, add=add)[0], rtol=1e-12)


def test_loops_softmax_is_stable_for_large_scores():
    q = _rand((3, 4), 15) * 200  # scores in the thousands: exp overflows without the shift
    out = attention_loops(q, q, q)
    assert np.all(np.isfinite(out.numpy()))
    np.testing.assert_allclose(out.numpy(), ref_attention(q, q, q)[0], rtol=1e-9, atol=1e-9)


# --------------------------------------------------------------------------- the fused op


@pytest.mark.parametrize("kind", ["none", "causal", "bool", "float"])
def test_sdpa_matches_definition_and_gradcheck(kind):
    q, k, v = _rand((2, 2, 4, 3), 20), _rand((2, 2, 6, 3), 21), _rand((2, 2, 6, 2), 22)
    allowed = np.random.default_rng(23).random((4, 6)) < 0.6
    allowed[:, 0] = True
    add = _rand((4, 6), 24)
    kw = {"causal": {"is_causal": True}, "bool": {"attn_mask": allowed},
          "float": {"attn_mask": add}}.get(kind, {})
    out = F.scaled_dot_product_attention(tt.tensor(q), tt.tensor(k), tt.tensor(v), **kw)
    ref = ref_attention(q, k, v, allowed=allowed if kind == "bool" else None,
                        add=add if kind == "float" else None, causal=kind == "causal")[0]
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-12)
    ts = [tt.tensor(x, requires_grad=True) for x in (q, k, v)]
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, **kw), ts)


def test_sdpa_fully_masked_row_gives_zero_output_and_finite_gradients():
    q, k, v = _rand((3, 2), 25), _rand((4, 2), 26), _rand((4, 2), 27)
    allowed = np.ones((3, 4), bool)
    allowed[2] = False
    ts = [tt.tensor(x, requires_grad=True) for x in (q, k, v)]
    out = F.scaled_dot_product_attention(*ts, attn_mask=allowed)
    assert np.all(out.numpy()[2] == 0)
    out.sum().backward()
    assert all(np.all(np.isfinite(t.grad.numpy())) for t in ts)
    assert np.all(ts[0].grad.numpy()[2] == 0)


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-3), (np.float64, 1e-9)])
@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_rows_of_very_negative_scores_keep_their_weights(dtype, tol, causal):
    """Rows whose every score is near -800: each exp underflows to 0 in float32 and float64
    alike unless the row's max is subtracted first, and the row would come out as zeros.
    Small scores may skip the max (they cannot overflow or underflow); these may not."""
    rng = np.random.default_rng(95)
    L, S, E = 3, 5, 4
    k = 1.0 + 0.05 * rng.standard_normal((S, E))  # every key close to (1, 1, 1, 1)
    q = np.stack([np.full(E, -200.0), 0.3 * rng.standard_normal(E), np.full(E, -150.0)])
    v = rng.standard_normal((S, 2))
    q, k, v = (x.astype(dtype) for x in (q, k, v))
    out = F.scaled_dot_product_attention(tt.tensor(q), tt.tensor(k), tt.tensor(v), scale=1.0,
                                         is_causal=causal)
    ref = ref_attention(q, k, v, causal=causal, scale=1.0)[0]
    assert np.all(np.abs(ref[0]) > 1e-3)  # the row is not zero in the definition
    np.testing.assert_allclose(out.numpy(), ref, rtol=tol, atol=tol)


def test_sdpa_float32_stays_float32():
    x = tt.tensor(_rand((2, 5, 4), 28, np.float32))
    out = F.scaled_dot_product_attention(x, x, x, is_causal=True)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), ref_attention(x.numpy(), x.numpy(), x.numpy(),
                                                          causal=True)[0], rtol=1e-5, atol=1e-6)


def test_sdpa_dropout_zero_is_eval_and_dropout_is_random_but_unbiased():
    x = tt.tensor(_rand((1, 1, 16, 4), 29))
    plain = F.scaled_dot_product_attention(x, x, x)
    np.testing.assert_array_equal(F.scaled_dot_product_attention(x, x, x, dropout_p=0.0).numpy(),
                                  plain.numpy())
    tt.manual_seed(0)
    a = F.scaled_dot_product_attention(x, x, x, dropout_p=0.5).numpy()
    tt.manual_seed(0)
    b = F.scaled_dot_product_attention(x, x, x, dropout_p=0.5).numpy()
    np.testing.assert_array_equal(a, b)  # same seed, same mask
    assert not np.allclose(a, plain.numpy())
    many = np.mean([F.scaled_dot_product_attention(x, x, x, dropout_p=0.5).numpy()
                    for _ in range(300)], axis=0)
    np.testing.assert_allclose(many, plain.numpy(), atol=0.15)  # inverted dropout: unbiased


# --------------------------------------------------------------------------- the tiled op


@pytest.mark.parametrize("L,S", [(7, 7), (9, 4), (4, 9), (1, 3), (11, 11)])
@pytest.mark.parametrize("kind", ["none", "causal", "bool", "float"])
def test_tiled_matches_definition_with_odd_tiles(L, S, kind):
    q, k, v = _rand((2, L, 3), 30), _rand((2, S, 3), 31), _rand((2, S, 2), 32)
    allowed = np.random.default_rng(33).random((L, S)) < 0.5
    allowed[0] = False  # a fully masked row too
    add = _rand((L, S), 34)
    mask = {"bool": allowed, "float": add}.get(kind)
    out = FlashAttentionFn.apply(tt.tensor(q), tt.tensor(k), tt.tensor(v),
                                 None if mask is None else tt.tensor(mask), 0.5,
                                 kind == "causal", block_q=3, block_k=2)
    ref = ref_attention(q, k, v, allowed=allowed if kind == "bool" else None,
                        add=add if kind == "float" else None, causal=kind == "causal",
                        scale=0.5)[0]
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("causal", [False, True])
def test_tiled_backward_gradcheck(causal):
    ts = [tt.tensor(_rand(s, 35 + i), requires_grad=True)
          for i, s in enumerate([(2, 5, 3), (2, 7, 3), (2, 7, 2)])]
    assert gradcheck(lambda a, b, c: FlashAttentionFn.apply(a, b, c, None, 0.6, causal,
                                                            block_q=2, block_k=3), ts)


def test_tiled_and_fused_gradients_agree():
    q, k, v = _rand((1, 2, 13, 4), 40), _rand((1, 2, 13, 4), 41), _rand((1, 2, 13, 4), 42)
    g = _rand((1, 2, 13, 4), 43)
    grads = []
    for fn in (lambda a, b, c: FlashAttentionFn.apply(a, b, c, None, 0.5, True, block_q=4,
                                                      block_k=5),
               lambda a, b, c: SDPAFn.apply(a, b, c, tt.tensor(np.tril(np.ones((13, 13), bool))),
                                            0.5, None)):
        ts = [tt.tensor(x, requires_grad=True) for x in (q, k, v)]
        fn(*ts).backward(tt.tensor(g))
        grads.append([t.grad.numpy() for t in ts])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["none", "causal", "bool"])
def test_tiled_large_scores_need_the_running_max(kind):
    """Scores of several hundred: exp overflows unless each row's running max is subtracted,
    and what earlier key tiles summed must be rescaled whenever that max grows. (Small scores
    may skip the max: see ``_scores_are_small``; these cannot.)"""
    L, S = 9, 11
    q, k, v = _rand((2, L, 3), 90) * 30, _rand((2, S, 3), 91) * 30, _rand((2, S, 2), 92)
    allowed = np.random.default_rng(93).random((L, S)) < 0.6
    allowed[1] = False  # a query that may attend to nothing
    causal = kind == "causal"
    mask = allowed if kind == "bool" else None
    fused_mask = np.tril(np.ones((L, S), bool)) if causal else mask
    g = _rand((2, L, 2), 94)
    grads = []
    for fn in (lambda a, b, c: FlashAttentionFn.apply(
                   a, b, c, None if mask is None else tt.tensor(mask), 0.5, causal,
                   block_q=4, block_k=3),
               lambda a, b, c: SDPAFn.apply(
                   a, b, c, None if fused_mask is None else tt.tensor(fused_mask), 0.5, None)):
        ts = [tt.tensor(x, requires_grad=True) for x in (q, k, v)]
        out = fn(*ts)
        out.backward(tt.tensor(g))
        grads.append([out.numpy()] + [t.grad.numpy() for t in ts])
    ref = ref_attention(q, k, v, allowed=mask, causal=causal, scale=0.5)[0]
    np.testing.assert_allclose(grads[0][0], ref, rtol=1e-10, atol=1e-12)
    for name, a, b in zip(("dq", "dk", "dv"), grads[0][1:], grads[1][1:]):
        assert np.all(np.isfinite(a)), f"{name} has nan/inf"
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10, err_msg=name)


def _peak_bytes(fn, L):
    ts = [tt.tensor(_rand((1, L, 8), 50 + i, np.float32), requires_grad=True) for i in range(3)]
    tracemalloc.start()
    try:
        fn(*ts).sum().backward()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_tiled_memory_is_far_below_quadratic():
    L = 1024
    causal = tt.tensor(np.tril(np.ones((L, L), bool)))
    quad = _peak_bytes(lambda a, b, c: SDPAFn.apply(a, b, c, causal, 0.35, None), L)
    tiled = _peak_bytes(lambda a, b, c: FlashAttentionFn.apply(a, b, c, None, 0.35, True), L)
    assert quad >= 4 * tiled, f"quadratic {quad:,} bytes vs tiled {tiled:,} bytes"


def test_sdpa_uses_linear_memory_on_long_sequences():
    x = tt.tensor(_rand((1, 1024, 8), 60, np.float32), requires_grad=True)
    out = F.scaled_dot_product_attention(x, x, x, is_causal=True)
    np.testing.assert_allclose(out.numpy()[0, :6], ref_attention(x.numpy(), x.numpy(), x.numpy(),
                                                                 causal=True)[0][0, :6],
                               rtol=1e-4, atol=1e-5)
    assert type(out.grad_fn).__name__ == "FlashAttentionBackward"


@pytest.mark.parametrize("B,H,L,D", [(2, 8, 128, 64), (1, 2, 300, 16)])
def test_attention_scenarios_realistic_shapes(B, H, L, D):
    """A BERT-base-like head layout, and a sequence long enough for the tiled kernel."""
    q, k, v = (_rand((B, H, L, D), 80 + i, np.float32) for i in range(3))
    out = F.scaled_dot_product_attention(tt.tensor(q), tt.tensor(k), tt.tensor(v),
                                         is_causal=True)
    ref = ref_attention(q, k, v, causal=True)[0]
    assert out.shape == (B, H, L, D) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------- multi-head


def _mha_ref(m, q, k, v, masked_out=None, kpm=None, causal=False):
    """MHA from its weights in NumPy: project, split heads, attend, merge, project.
    (batch_first inputs; MHA masks: True = masked OUT.)"""
    E, H = m.embed_dim, m.num_heads
    D = E // H
    W, b = m.in_proj_weight.numpy().astype(np.float64), m.in_proj_bias.numpy().astype(np.float64)
    Q, K, V = q @ W[:E].T + b[:E], k @ W[E:2 * E].T + b[E:2 * E], v @ W[2 * E:].T + b[2 * E:]
    B, L, S = q.shape[0], q.shape[1], k.shape[1]
    split = lambda x, n: x.reshape(B, n, H, D).transpose(0, 2, 1, 3)  # noqa: E731
    allowed = np.ones((B, 1, L, S), bool)
    if masked_out is not None:
        allowed = allowed & ~masked_out
    if kpm is not None:
        allowed = allowed & ~kpm[:, None, None, :]
    out, w = ref_attention(split(Q, L), split(K, S), split(V, S), allowed=allowed, causal=causal)
    out = out.transpose(0, 2, 1, 3).reshape(B, L, E)
    return out @ m.out_proj.weight.numpy().T + m.out_proj.bias.numpy(), w


def _mha(seed=0, **kw):
    tt.manual_seed(seed)
    m = nn.MultiheadAttention(8, 2, batch_first=True, dtype=np.float64, **kw)
    with tt.no_grad():  # nonzero biases, so a bias mistake shows
        m.in_proj_bias.copy_(tt.tensor(_rand((24,), seed + 1)))
        m.out_proj.bias.copy_(tt.tensor(_rand((8,), seed + 2)))
    return m


def test_mha_parameters_and_state_dict_keys():
    m = nn.MultiheadAttention(16, 4)
    assert list(m.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight",
                                    "out_proj.bias"]
    assert m.in_proj_weight.shape == (48, 16) and m.head_dim == 4
    assert sum(p.numel() for p in m.parameters()) == 4 * 16 * 16 + 4 * 16
    c = nn.MultiheadAttention(16, 4, kdim=6, vdim=5)
    assert list(c.state_dict()) == ["q_proj_weight", "k_proj_weight", "v_proj_weight",
                                    "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert c.k_proj_weight.shape == (16, 6) and c.v_proj_weight.shape == (16, 5)
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(10, 4)


@pytest.mark.parametrize("mask", ["none", "attn", "kpm", "both"])
def test_mha_matches_the_definition(mask):
    m = _mha()
    q, kv = _rand((2, 5, 8), 70), _rand((2, 6, 8), 71)  # cross-attention: L != S
    masked_out = np.triu(np.ones((5, 6), bool), 2) if mask in ("attn", "both") else None
    kpm = np.zeros((2, 6), bool) if mask in ("kpm", "both") else None
    if kpm is not None:
        kpm[1, -2:] = True
    out, w = m(tt.tensor(q), tt.tensor(kv), tt.tensor(kv), attn_mask=masked_out,
               key_padding_mask=kpm, average_attn_weights=False)
    ref, ref_w = _mha_ref(m, q, kv, kv, masked_out, kpm)
    assert out.shape == (2, 5, 8) and w.shape == (2, 2, 5, 6)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.numpy(), ref_w, rtol=1e-10, atol=1e-12)
    out2, none = m(tt.tensor(q), tt.tensor(kv), tt.tensor(kv), attn_mask=masked_out,
                   key_padding_mask=kpm, need_weights=False)
    assert none is None
    np.testing.assert_allclose(out2.numpy(), ref, rtol=1e-10, atol=1e-12)


def test_mha_average_weights_layouts_and_unbatched():
    m = _mha(1)
    x = _rand((2, 4, 8), 72)
    out, w = m(tt.tensor(x), tt.tensor(x), tt.tensor(x))
    ref, ref_w = _mha_ref(m, x, x, x)
    np.testing.assert_allclose(w.numpy(), ref_w.mean(1), rtol=1e-10)  # averaged over heads
    one, w1 = m(tt.tensor(x[0]), tt.tensor(x[0]), tt.tensor(x[0]))  # unbatched (L, E)
    assert one.shape == (4, 8) and w1.shape == (4, 4)
    np.testing.assert_allclose(one.numpy(), ref[0], rtol=1e-10)
    m.batch_first = False  # (L, B, E) layout: same numbers, transposed
    seq_first, _ = m(*(tt.tensor(x.transpose(1, 0, 2)),) * 3)
    np.testing.assert_allclose(seq_first.numpy().transpose(1, 0, 2), ref, rtol=1e-10)


def test_mha_is_causal():
    m = _mha(2)
    x = _rand((1, 6, 8), 73)
    out, w = m(tt.tensor(x), tt.tensor(x), tt.tensor(x), is_causal=True)
    np.testing.assert_allclose(out.numpy(), _mha_ref(m, x, x, x, causal=True)[0], rtol=1e-10)
    assert np.all(np.triu(w.numpy()[0], 1) == 0)


def test_mha_mask_convention_is_the_opposite_of_sdpa():
    """The same boolean array: MHA reads True as 'blocked', F.sdpa as 'allowed'."""
    m = _mha(3)
    x = _rand((1, 5, 8), 74)
    future = np.triu(np.ones((5, 5), bool), 1)  # True above the diagonal
    _, w = m(tt.tensor(x), tt.tensor(x), tt.tensor(x), attn_mask=future)
    assert np.all(w.numpy()[0][future] == 0)  # MHA: True = masked out -> causal
    w_sdpa = attention_weights(x, x, attn_mask=future)
    assert np.all(w_sdpa[0][~future] == 0)  # sdpa: True = may attend -> only the future


def test_mha_gradcheck():
    m = _mha(4)
    x = tt.tensor(_rand((1, 3, 8), 75), requires_grad=True)
    kv = tt.tensor(_rand((1, 4, 8), 76), requires_grad=True)
    kpm = np.array([[False, False, True, False]])
    assert gradcheck(lambda a, b: m(a, b, b, key_padding_mask=kpm, need_weights=False)[0],
                     [x, kv])
    m(x, kv, kv)[0].sum().backward()
    assert all(p.grad is not None for p in m.parameters())


def test_mha_dropout_only_in_training():
    m = _mha(5, dropout=0.5)
    x = tt.tensor(_rand((1, 6, 8), 77))
    m.eval()
    a, _ = m(x, x, x)
    np.testing.assert_allclose(a.numpy(), _mha_ref(m, x.numpy(), x.numpy(), x.numpy())[0],
                               rtol=1e-10)
    m.train()
    b, _ = m(x, x, x)
    assert not np.allclose(a.numpy(), b.numpy())


# --------------------------------------------------------------------------- seeing attention


def test_capture_attention_and_heatmaps(tmp_path):
    pytest.importorskip("matplotlib")
    from tinytorch.core.attention_viz import plot_attention

    m = _mha(6)
    x = tt.tensor(_rand((1, 4, 8), 78))
    with capture_attention() as maps:
        m(x, x, x, is_causal=True, need_weights=False)
    assert len(maps) == 1 and maps[0].shape == (1, 2, 4, 4)
    np.testing.assert_allclose(maps[0].sum(-1), 1.0)
    files = plot_attention(maps[0], tmp_path / "layer0", tokens=list("abcd"))
    assert [f.name for f in files] == ["layer0_head0.png", "layer0_head1.png"]
    assert all(f.stat().st_size > 0 for f in files)


# ---------------------------------- dropout after the softmax, float-mask and masked-row grads

def _dropped_fraction_and_scale(out_eye, w_ref, p):
    """With v = identity, out[i, j] = w[i, j] * keep[i, j] / (1 - p): read keep back."""
    ratio = out_eye * (1 - p) / np.where(w_ref == 0, 1, w_ref)
    return ratio


@pytest.mark.parametrize("impl", ["fused", "tiled"])
@pytest.mark.parametrize("L,S", [(5, 5), (4, 7)])
def test_dropout_acts_on_the_normalised_weights(impl, L, S):
    """Inverted dropout on the attention WEIGHTS: out = (softmax(s) * keep / (1 - p)) @ v.
    With v = the identity each output value is a weight either dropped (0) or scaled by
    1/(1 - p); a dropout applied before the normaliser is summed gives other values."""
    p = 0.4
    q, k = _rand((1, L, 3), 60), _rand((1, S, 3), 61)
    v = np.eye(S)[None]
    w = ref_attention(q, k, v)[1][0]
    if impl == "fused":
        tt.manual_seed(3)
        out = F.scaled_dot_product_attention(tt.tensor(q), tt.tensor(k), tt.tensor(v),
                                             dropout_p=p).numpy()[0]
    else:
        out = FlashAttentionFn.apply(tt.tensor(q), tt.tensor(k), tt.tensor(v), None,
                                     1 / math.sqrt(3), False, (p, 7), 2, 3).numpy()[0]
    ratio = _dropped_fraction_and_scale(out, w, p)
    assert np.all((np.abs(ratio) < 1e-9) | (np.abs(ratio - 1) < 1e-9)), \
        f"{impl} attention with dropout_p={p}: each weight must be dropped or scaled by " \
        f"1/(1-p); weight ratios {np.round(ratio, 3)}"
    assert 0 < (np.abs(ratio) < 1e-9).mean() < 1, "some weights dropped, some kept"


def test_sdpa_dropout_gradient_uses_the_same_mask():
    """With the seed fixed before each call the dropout mask is fixed, so the function is
    deterministic and finite differences apply: the backward must use the forward's mask."""
    def fn(q, k, v):
        tt.manual_seed(9)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)

    q, k, v = (tt.tensor(_rand(s, 62 + i), requires_grad=True)
               for i, s in enumerate([(1, 4, 3), (1, 6, 3), (1, 6, 2)]))
    assert gradcheck(fn, (q, k, v))


@pytest.mark.parametrize("scale", [None, 0.3])
def test_float_mask_gets_its_gradient_unscaled(scale):
    q, k, v = _rand((1, 3, 4), 63), _rand((1, 5, 4), 64), _rand((1, 5, 2), 65)
    args = [tt.tensor(a, requires_grad=True) for a in (q, k, v, _rand((3, 5), 66))]
    assert gradcheck(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m,
                                                                       scale=scale), args)
    flash = [tt.tensor(a, requires_grad=True) for a in (q, k, v, _rand((3, 5), 66))]
    assert gradcheck(lambda q, k, v, m: FlashAttentionFn.apply(
        q, k, v, m, 0.3 if scale else 0.5, False, None, 2, 2), flash)


def test_tiled_fully_masked_row_has_finite_zero_gradients():
    allowed = np.ones((4, 5), bool)
    allowed[1] = False  # query 1 may attend to nothing
    q, k, v = (tt.tensor(_rand(s, 67 + i), requires_grad=True)
               for i, s in enumerate([(1, 4, 3), (1, 5, 3), (1, 5, 2)]))
    out = FlashAttentionFn.apply(q, k, v, tt.tensor(allowed), 0.5, False, None, 2, 2)
    out.backward(tt.tensor(np.ones(out.shape)))
    for name, t in (("q", q), ("k", k), ("v", v)):
        assert np.all(np.isfinite(t.grad.numpy())), f"d out/d {name} has nan/inf (masked row)"
    assert not np.any(q.grad.numpy()[0, 1]), "the fully masked query gets gradient 0"
    assert gradcheck(lambda q, k, v: FlashAttentionFn.apply(q, k, v, tt.tensor(allowed), 0.5,
                                                           False, None, 2, 2), (q, k, v))


def test_mha_returns_the_dropped_weights_in_training_mode():
    """PyTorch returns the attention weights AFTER dropout (what multiplied v)."""
    p = 0.5
    tt.manual_seed(4)
    mha = nn.MultiheadAttention(8, 2, dropout=p, batch_first=True)
    x = tt.tensor(_rand((1, 6, 8), 68, np.float32))
    mha.eval()
    _, w_eval = mha(x, x, x, average_attn_weights=False)
    mha.train()
    tt.manual_seed(5)
    _, w_train = mha(x, x, x, average_attn_weights=False)
    w_eval, w_train = w_eval.numpy(), w_train.numpy()
    kept = w_train != 0
    assert 0 < (~kept).mean() < 1, "training-mode weights must show the dropped entries (zeros)"
    np.testing.assert_allclose(w_train[kept], w_eval[kept] / (1 - p), rtol=1e-4, atol=1e-6,
                               err_msg="training-mode weights: kept entries scaled by 1/(1-p)")
    tt.manual_seed(5)
    _, w_avg = mha(x, x, x)  # average_attn_weights=True: the mean over heads of the same
    np.testing.assert_allclose(w_avg.numpy(), w_train.mean(axis=1), rtol=1e-5, atol=1e-7,
                               err_msg="averaged training-mode weights: mean of the dropped ones")


@pytest.mark.parametrize("L,S", [(3, 5), (5, 3), (4, 4)])
def test_mha_is_causal_with_l_not_s_is_the_explicit_mask(L, S):
    tt.manual_seed(6)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    q, kv = tt.tensor(_rand((2, L, 8), 69, np.float32)), tt.tensor(_rand((2, S, 8), 70, np.float32))
    mask = tt.tensor(~np.tril(np.ones((L, S), bool)))  # True = masked out (MHA's convention)
    want, w_want = mha(q, kv, kv, attn_mask=mask)
    for kwargs in ({"attn_mask": mask, "is_causal": True}, {"is_causal": True},
                   {"is_causal": True, "key_padding_mask": tt.tensor(np.zeros((2, S), bool))}):
        got, w_got = mha(q, kv, kv, **kwargs)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-7,
                                   err_msg=f"MHA causal, L={L}, S={S}, {list(kwargs)}")
        assert w_got.shape == (2, L, S)
        np.testing.assert_allclose(w_got.numpy(), w_want.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("kwargs", [{}, {"add_bias_kv": True}, {"add_bias_kv": True, "bias": False}],
                         ids=["plain", "bias_kv", "bias_kv-no-bias"])
def test_every_mha_parameter_changes_the_output(kwargs):
    """A parameter the forward ignores (or reads in place of another) leaves the output
    unchanged when it alone is perturbed: each one must matter."""
    tt.manual_seed(7)
    mha = nn.MultiheadAttention(8, 2, batch_first=True, **kwargs)
    mha.eval()
    x = tt.tensor(_rand((2, 4, 8), 71, np.float32))
    base = mha(x, x, x)[0].numpy()
    for name, prm in mha.named_parameters():
        saved = prm._data.copy()
        prm._data[...] = saved + _rand(prm.shape, 72, np.float32) * 0.5
        changed = mha(x, x, x)[0].numpy()
        prm._data[...] = saved
        assert not np.allclose(changed, base, atol=1e-6), \
            f"MultiheadAttention({kwargs}): changing {name} does not change the output"
