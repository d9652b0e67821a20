"""The three attentions agree, and the tiled one's memory is linear.

* tiled (online softmax, FlashAttention's idea) == fused quadratic op, forward and every
  gradient, over causal/bool/float masks, L != S, lengths that are not a multiple of the tile,
  fully masked rows, broadcast batch dims, float32 and float64, dropout (gradcheck with a fixed
  seed: the tile masks are regenerated in backward);
* loops (the course version) == fused;
* F.scaled_dot_product_attention dispatches to the tiled op from TILED_MIN_SCORES on;
* Done-means of issue 12: at sequence length 4096 the tiled op's peak memory (tracemalloc,
  bytes, not time) is at least 8x below the quadratic op's, in forward and in backward.
"""

import tracemalloc

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn.functional as F
from tinytorch.autograd import gradcheck
from tinytorch.core import attention as A
from tinytorch.core.attention import SDPAFn, attention_loops, attention_weights, capture_attention
from tinytorch.core.flash_attention import FlashAttentionFn
from tinytorch.core import flash_attention as FA


def _qkv(shape_q, shape_k, ev, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    q = rng.standard_normal(shape_q).astype(dtype)
    k = rng.standard_normal(shape_k).astype(dtype)
    v = rng.standard_normal(shape_k[:-1] + (ev,)).astype(dtype)
    return q, k, v


def _mask(kind, L, S, seed):
    rng = np.random.default_rng(seed + 1)
    if kind == "bool":
        m = rng.random((L, S)) < 0.5
        m[min(2, L - 1)] = False  # one fully masked row: output and gradients 0
        return m
    if kind == "float":
        return rng.standard_normal((1, L, S))
    return None


def _fused_mask(kind, m, causal, L, S):
    if not causal:
        return m
    c = np.tril(np.ones((L, S), bool))
    if m is None:
        return c
    return c & m if m.dtype == np.bool_ else np.where(c, m, -np.inf)


def _run(fn, q, k, v, g, *args, **kw):
    ts = [tt.tensor(x, requires_grad=True) for x in (q, k, v)]
    out = fn(*ts, *args, **kw)
    out.backward(tt.tensor(g))
    return [out.numpy()] + [t.grad.numpy() for t in ts]


def _tiled_and_fused(q, k, v, kind, causal):
    """(out, dq, dk, dv) of the tiled kernel (small tiles: several per axis) and of the fused
    op given the same mask, scale 0.4 and upstream gradient."""
    L, S = q.shape[-2], k.shape[-2]
    g = np.random.default_rng(3).standard_normal((2, 3, L, 4))
    m = _mask(kind, L, S, L + S)
    tiled = _run(FlashAttentionFn.apply, q, k, v, g, None if m is None else tt.tensor(m), 0.4,
                 causal, block_q=4, block_k=3)
    fm = _fused_mask(kind, m, causal, L, S)
    fused = _run(SDPAFn.apply, q, k, v, g, None if fm is None else tt.tensor(fm), 0.4, None)
    return tiled, fused


@pytest.mark.parametrize("L,S", [(7, 7), (13, 5), (5, 13), (1, 9), (9, 1), (33, 33), (40, 17)])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("kind", ["none", "bool", "float"])
def test_tiled_equals_fused(L, S, causal, kind):
    q, k, v = _qkv((2, 3, L, 5), (2, 3, S, 5), 4, seed=L * 100 + S)
    tiled, fused = _tiled_and_fused(q, k, v, kind, causal)
    for name, a, b in zip(("out", "dq", "dk", "dv"), tiled, fused):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("L,S", [(13, 5), (33, 33), (40, 17)])
@pytest.mark.parametrize("kind", ["none", "bool"])
@pytest.mark.parametrize("causal", [False, True])
def test_tiled_with_large_scores_takes_the_max_and_equals_fused(L, S, kind, causal):
    """Scores of hundreds: the bound check sends the kernel through the running max (small
    scores skip it), with several key tiles to rescale and a fully masked row."""
    q, k, v = _qkv((2, 3, L, 5), (2, 3, S, 5), 4, seed=L * 100 + S)
    q, k = q * 30, k * 30
    assert not FA._scores_are_small(q, k, 0.4, None, np.dtype(np.float64))
    tiled, fused = _tiled_and_fused(q, k, v, kind, causal)
    for name, a, b in zip(("out", "dq", "dk", "dv"), tiled, fused):
        assert np.all(np.isfinite(a)), name
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("case", ["causal", "causal_L_ne_S", "bool", "float", "scale", "gqa",
                                  "S1", "large"])
def test_sdpa_tiled_path_matches_torch(case):
    """F.scaled_dot_product_attention at tiled sizes (L * S >= TILED_MIN_SCORES) against
    torch's, forward and the gradients of q, k, v (float32, lengths not multiples of a tile)."""
    torch = pytest.importorskip("torch")
    L, S, E, hq, hkv = {"causal_L_ne_S": (300, 260, 8, 2, 2), "gqa": (256, 256, 8, 4, 2),
                        "S1": (37, 1, 4, 1, 1)}.get(case, (257, 300, 8, 2, 2))
    rng = np.random.default_rng(21)
    q = rng.standard_normal((2, hq, L, E)).astype(np.float32) * (6 if case == "large" else 1)
    k = rng.standard_normal((2, hkv, S, E)).astype(np.float32) * (6 if case == "large" else 1)
    v = rng.standard_normal((2, hkv, S, E)).astype(np.float32)
    g = rng.standard_normal((2, hq, L, E)).astype(np.float32)
    mask = None
    if case == "bool":
        mask = rng.random((L, S)) < 0.7
        mask[:, 0] = True  # no fully masked row (torch's kernels differ there)
    elif case == "float":
        mask = rng.standard_normal((L, S)).astype(np.float32)
    kw = dict(is_causal=case.startswith("causal") or case in ("S1", "large"),
              scale=0.3 if case == "scale" else None, enable_gqa=case == "gqa")
    ours = [tt.tensor(x, requires_grad=True) for x in (q, k, v)]
    if case == "S1":  # one key: too few scores for F.sdpa to pick the tiled op, so call it
        out = FlashAttentionFn.apply(*ours, None, E ** -0.5, True, block_q=8, block_k=8)
    else:
        out = F.scaled_dot_product_attention(*ours, attn_mask=None if mask is None else
                                             tt.tensor(mask), **kw)
    assert type(out.grad_fn).__name__ == "FlashAttentionBackward"
    out.backward(tt.tensor(g))
    theirs = [torch.tensor(x, requires_grad=True) for x in (q, k, v)]
    ref = torch.nn.functional.scaled_dot_product_attention(
        *theirs, attn_mask=None if mask is None else torch.tensor(mask), **kw)
    ref.backward(torch.tensor(g))
    tol = 2e-3 if case == "large" else 2e-4
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=tol, atol=tol)
    for name, a, b in zip("qkv", ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=tol, atol=tol,
                                   err_msg=f"d{name}")


def test_scores_are_small_only_when_exp_cannot_overflow():
    """The shift-free path is taken only when Cauchy-Schwarz proves every score small."""
    small = FA._scores_are_small
    q, k, _ = _qkv((2, 4, 64, 32), (2, 4, 512, 32), 32, seed=1, dtype=np.float32)
    f32, f64 = np.dtype(np.float32), np.dtype(np.float64)
    assert small(q, k, 32 ** -0.5, None, f32)  # unit-variance q, k: scores of a few units
    assert small(q, k, 32 ** -0.5, tt.tensor(np.ones((64, 512), bool))._data, f32)
    assert not small(q * 3, k * 3, 32 ** -0.5, None, f32)  # bound ~120 > 38
    assert small(q * 3, k * 3, 32 ** -0.5, None, f64)  # float64 allows ~348
    assert not small(q, k, 32 ** -0.5, np.zeros((64, 512), np.float32), f32)  # float mask
    assert not small(q.astype(np.float16), k.astype(np.float16), 32 ** -0.5, None,
                     np.dtype(np.float16))  # exp overflows float16 at 11
    q_inf = q.copy()
    q_inf[0, 0, 0, 0] = np.inf
    assert not small(q_inf, k, 32 ** -0.5, None, f32)
    q_nan = q.copy()
    q_nan[0, 0, 0, 0] = np.nan
    assert not small(q_nan, k, 32 ** -0.5, None, f32)


@pytest.mark.parametrize("dtype,tol", [(np.float32, 2e-5), (np.float64, 1e-12)])
def test_tiled_dtypes_and_broadcast_batch(dtype, tol):
    q, _, _ = _qkv((2, 3, 20, 8), (1, 3, 11, 8), 6, seed=1, dtype=dtype)
    _, k, v = _qkv((2, 3, 20, 8), (1, 3, 11, 8), 6, seed=2, dtype=dtype)
    g = np.random.default_rng(4).standard_normal((2, 3, 20, 6)).astype(dtype)
    tiled = _run(FlashAttentionFn.apply, q, k, v, g, None, 0.35, True, block_q=8, block_k=4)
    fused = _run(SDPAFn.apply, q, k, v, g, tt.tensor(np.tril(np.ones((20, 11), bool))), 0.35,
                 None)
    assert tiled[0].dtype == dtype and tiled[2].shape == k.shape
    for a, b in zip(tiled, fused):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_tiled_gradcheck_with_float_mask_grad_and_dropout():
    q, k, v = _qkv((1, 2, 6, 3), (1, 2, 5, 3), 2, seed=5)
    m = np.random.default_rng(6).standard_normal((6, 5))
    ts = [tt.tensor(x, requires_grad=True) for x in (q, k, v, m)]
    assert gradcheck(lambda a, b, c, d: FlashAttentionFn.apply(a, b, c, d, 0.5, False,
                                                               block_q=4, block_k=2), ts)
    # dropout: a fixed seed makes the op deterministic, so finite differences apply
    ts = [tt.tensor(x, requires_grad=True) for x in (q, k, v)]
    assert gradcheck(lambda a, b, c: FlashAttentionFn.apply(a, b, c, None, 0.5, True,
                                                            dropout=(0.3, 1234), block_q=2,
                                                            block_k=2), ts)


def test_tiled_dropout_zero_keeps_some_weights_and_matches_expectation():
    q, k, v = _qkv((1, 1, 64, 4), (1, 1, 64, 4), 4, seed=7)
    plain = FlashAttentionFn.apply(tt.tensor(q), tt.tensor(k), tt.tensor(v), None, 0.5, False)
    outs = [FlashAttentionFn.apply(tt.tensor(q), tt.tensor(k), tt.tensor(v), None, 0.5, False,
                                   dropout=(0.5, s)).numpy() for s in range(200)]
    assert not np.allclose(outs[0], plain.numpy())
    np.testing.assert_allclose(np.mean(outs, axis=0), plain.numpy(), atol=0.15)


@pytest.mark.parametrize("L,S", [(6, 6), (4, 7), (7, 4), (1, 1)])
@pytest.mark.parametrize("kind", ["none", "bool", "float", "causal"])
def test_loops_equal_fused(L, S, kind):
    q, k, v = _qkv((2, L, 3), (2, S, 3), 2, seed=8)
    m = _mask(kind, L, S, 9) if kind in ("bool", "float") else None
    causal = kind == "causal"
    out, w = attention_loops(q, k, v, mask=m, is_causal=causal, return_weights=True)
    fm = _fused_mask(kind, m, causal, L, S)
    ref = SDPAFn.apply(tt.tensor(q), tt.tensor(k), tt.tensor(v),
                       None if fm is None else tt.tensor(fm), 1 / np.sqrt(3), None)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(w.numpy(), attention_weights(q, k, fm, scale=1 / np.sqrt(3)),
                               rtol=1e-12, atol=1e-12)


def test_sdpa_dispatches_by_size_and_matches_torch_semantics():
    n = int(np.sqrt(A.TILED_MIN_SCORES))
    small = [tt.tensor(x, requires_grad=True) for x in _qkv((1, 8, 4), (1, 8, 4), 4, 1)]
    big = [tt.tensor(x, requires_grad=True) for x in _qkv((1, n, 4), (1, n, 4), 4, 2)]
    assert type(F.scaled_dot_product_attention(*small, is_causal=True).grad_fn).__name__ == \
        "SDPABackward"
    out = F.scaled_dot_product_attention(*big, is_causal=True)
    assert type(out.grad_fn).__name__ == "FlashAttentionBackward"
    ref = SDPAFn.apply(*big, tt.tensor(np.tril(np.ones((n, n), bool))), 0.5, None)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)
    # a float mask that needs its own gradient stays on the fused op
    m = tt.zeros(n, n, dtype=tt.float64, requires_grad=True)
    assert type(F.scaled_dot_product_attention(*big, attn_mask=m).grad_fn).__name__ == \
        "SDPABackward"


def test_capture_attention_records_weights_of_any_call():
    q, k, v = _qkv((2, 2, 5, 4), (2, 2, 5, 4), 4, 3)
    with capture_attention() as maps:
        F.scaled_dot_product_attention(tt.tensor(q), tt.tensor(k), tt.tensor(v), is_causal=True)
    assert len(maps) == 1 and maps[0].shape == (2, 2, 5, 5)
    np.testing.assert_allclose(maps[0].sum(-1), 1.0)
    assert np.all(np.triu(maps[0][0, 0], 1) == 0)
    F.scaled_dot_product_attention(tt.tensor(q), tt.tensor(k), tt.tensor(v))
    assert len(maps) == 1  # recording stops with the block


def test_enable_gqa_repeats_kv_heads():
    q, _, _ = _qkv((2, 4, 5, 3), (2, 4, 6, 3), 2, 1)
    _, k, v = _qkv((2, 2, 5, 3), (2, 2, 6, 3), 2, 2)
    ts = [tt.tensor(x, requires_grad=True) for x in (q, k, v)]
    out = F.scaled_dot_product_attention(*ts, enable_gqa=True)
    ref = F.scaled_dot_product_attention(tt.tensor(q), tt.tensor(np.repeat(k, 2, axis=1)),
                                         tt.tensor(np.repeat(v, 2, axis=1)))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12)
    out.sum().backward()
    assert ts[1].grad.shape == k.shape
    with pytest.raises(ValueError, match="multiple"):
        F.scaled_dot_product_attention(tt.tensor(q), tt.tensor(q[:, :3]), tt.tensor(q[:, :3]),
                                       enable_gqa=True)


# --------------------------------------------------------------------------- memory (bytes)


def _peaks(fn, L, E=16):
    """Peak traced bytes of the forward, then of the backward, of one head at length L."""
    q, k, v = _qkv((1, 1, L, E), (1, 1, L, E), E, seed=L, dtype=np.float32)
    ts = [tt.tensor(x, requires_grad=True) for x in (q, k, v)]
    g = tt.tensor(np.ones((1, 1, L, E), np.float32))
    tracemalloc.start()
    try:
        out = fn(*ts)
        fwd = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        out.backward(g)
        bwd = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return fwd, bwd


def test_tiled_memory_is_8x_below_quadratic_at_4096_forward_and_backward():
    L = 4096
    causal = tt.tensor(np.tril(np.ones((L, L), bool)))
    quad_f, quad_b = _peaks(lambda q, k, v: SDPAFn.apply(q, k, v, causal, 0.25, None), L)
    tile_f, tile_b = _peaks(lambda q, k, v: FlashAttentionFn.apply(q, k, v, None, 0.25, True), L)
    assert quad_f >= 8 * tile_f, (quad_f, tile_f)
    assert quad_b >= 8 * tile_b, (quad_b, tile_b)


def test_tiled_memory_grows_linearly():
    f1, b1 = _peaks(lambda q, k, v: FlashAttentionFn.apply(q, k, v, None, 0.25, True), 1024)
    f2, b2 = _peaks(lambda q, k, v: FlashAttentionFn.apply(q, k, v, None, 0.25, True), 2048)
    assert f2 < 3 * f1 and b2 < 3 * b1  # quadratic would be 4x


@pytest.mark.parametrize("shape", [(9,), (), (1, 9), (2, 1, 7, 1)])
def test_tiled_masks_of_any_broadcastable_shape(shape):
    q, k, v = _qkv((2, 3, 7, 4), (2, 3, 9, 4), 3, seed=11)
    m = np.random.default_rng(12).standard_normal(shape)
    g = np.random.default_rng(13).standard_normal((2, 3, 7, 3))
    ts = [tt.tensor(x, requires_grad=True) for x in (q, k, v, m)]
    FlashAttentionFn.apply(*ts, 0.5, False, block_q=3, block_k=4).backward(tt.tensor(g))
    tiled = [t.grad.numpy() for t in ts]
    ts2 = [tt.tensor(x, requires_grad=True) for x in (q, k, v, m)]
    SDPAFn.apply(*ts2, 0.5, None).backward(tt.tensor(g))
    for a, b in zip(tiled, [t.grad.numpy() for t in ts2]):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
