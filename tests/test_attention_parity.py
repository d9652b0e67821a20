"""Attention against PyTorch: ``nn.MultiheadAttention`` and ``F.scaled_dot_product_attention``.

Each MHA case builds torch's module, loads its state_dict into ours (as NumPy arrays), runs
both on the same inputs and masks, and compares the output, the returned weights, the
gradients of query/key/value and of every parameter. The grid covers self- and
cross-attention, batch_first both ways, batched and unbatched input, kdim/vdim, bias on/off,
add_bias_kv, boolean and float masks (2-D and 3-D attn_mask, key_padding_mask), is_causal,
need_weights and average_attn_weights.
"""

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F

torch = pytest.importorskip("torch")

E, H, L, S, B = 8, 2, 5, 4, 3


def _rand(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _pair(embed=E, heads=H, seed=0, **kw):
    torch.manual_seed(seed)
    th = torch.nn.MultiheadAttention(embed, heads, **kw)
    ours = nn.MultiheadAttention(embed, heads, **kw)
    ours.load_state_dict({k: v.detach().numpy() for k, v in th.state_dict().items()})
    return ours, th


def _masks(kind, batched, L=L, S=S, seed=0):
    """(attn_mask, key_padding_mask) as NumPy, in MHA's convention (bool True = masked out)."""
    rng = np.random.default_rng(seed + 7)
    am = kpm = None
    if kind in ("bool2d", "both_bool"):
        am = np.triu(np.ones((L, S), bool), 1)  # causal-like, no row fully masked
    if kind == "bool3d":
        am = rng.random((B * H, L, S)) < 0.4
        am[..., 0] = False  # keep one key per row
    if kind == "float2d":
        am = rng.standard_normal((L, S)).astype(np.float32)
    if kind == "float3d":
        am = rng.standard_normal((B * H, L, S)).astype(np.float32)
    if kind in ("kpm", "both_bool", "mixed"):
        kpm = np.zeros((B, S) if batched else (S,), bool)
        kpm[..., -1] = True
    if kind == "mixed":
        am = rng.standard_normal((L, S)).astype(np.float32)
    if kind == "kpm_float":
        kpm = np.where(rng.random((B, S) if batched else (S,)) < 0.3, -1e9, 0.0).astype(np.float32)
    return am, kpm


def _run_and_compare(ours, th, q, k, v, *, same_qkv=False, rtol=1e-4, atol=1e-5, **kw):
    tq = tt.tensor(q, requires_grad=True)
    pq = torch.tensor(q, requires_grad=True)
    if same_qkv:
        tk = tv = tq
        pk = pv = pq
    else:
        tk, tv = tt.tensor(k, requires_grad=True), tt.tensor(v, requires_grad=True)
        pk, pv = torch.tensor(k, requires_grad=True), torch.tensor(v, requires_grad=True)
    tkw = {n: (None if m is None else m) for n, m in kw.items()}
    pkw = {n: (torch.tensor(m) if isinstance(m, np.ndarray) else m) for n, m in kw.items()}
    out, w = ours(tq, tk, tv, **tkw)
    ref, wr = th(pq, pk, pv, **pkw)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=rtol, atol=atol,
                               err_msg="output")
    if wr is None:
        assert w is None
    else:
        assert tuple(w.shape) == tuple(wr.shape)
        np.testing.assert_allclose(w.numpy(), wr.detach().numpy(), rtol=rtol, atol=atol,
                                   err_msg="weights")
    g = _rand(tuple(out.shape), 99)
    loss = (out * tt.tensor(g)).sum()
    lref = (ref * torch.tensor(g)).sum()
    if w is not None:  # the weights are differentiable results too
        gw = _rand(tuple(w.shape), 98)
        loss = loss + (w * tt.tensor(gw)).sum()
        lref = lref + (wr * torch.tensor(gw)).sum()
    loss.backward()
    lref.backward()
    for name, a, b in (("query", tq, pq), ("key", tk, pk), ("value", tv, pv)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-3, atol=1e-5,
                                   err_msg=f"grad of {name}")
    theirs = dict(th.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), theirs[name].grad.numpy(), rtol=1e-3,
                                   atol=1e-5, err_msg=f"grad of {name}")


MASKS = ["none", "bool2d", "bool3d", "float2d", "float3d", "kpm", "kpm_float", "both_bool",
         "mixed"]


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
@pytest.mark.parametrize("mask_kind", MASKS)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_cross_attention_masks(mask_kind, batch_first, need_weights):
    ours, th = _pair(batch_first=batch_first)
    q, k, v = _rand((L, B, E), 1), _rand((S, B, E), 2), _rand((S, B, E), 3)
    if batch_first:
        q, k, v = (np.ascontiguousarray(x.transpose(1, 0, 2)) for x in (q, k, v))
    am, kpm = _masks(mask_kind, True)
    _run_and_compare(ours, th, q, k, v, attn_mask=am, key_padding_mask=kpm,
                     need_weights=need_weights)


@pytest.mark.parametrize("mask_kind", ["none", "bool2d", "float2d", "kpm", "both_bool"])
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_mha_unbatched(mask_kind, need_weights, average):
    ours, th = _pair()
    q, k, v = _rand((L, E), 4), _rand((S, E), 5), _rand((S, E), 6)
    am, kpm = _masks(mask_kind, False)
    _run_and_compare(ours, th, q, k, v, attn_mask=am, key_padding_mask=kpm,
                     need_weights=need_weights, average_attn_weights=average)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_self_attention_same_tensor(batch_first, need_weights):
    ours, th = _pair(batch_first=batch_first, seed=3)
    x = _rand((B, L, E) if batch_first else (L, B, E), 7)
    _run_and_compare(ours, th, x, x, x, same_qkv=True, need_weights=need_weights,
                     average_attn_weights=False)


@pytest.mark.parametrize("need_weights,with_kpm", [(True, False), (False, False), (False, True),
                                                   (True, True)])
def test_mha_is_causal_with_mask_matches_torch(need_weights, with_kpm):
    ours, th = _pair(batch_first=True, seed=4)
    x = _rand((B, L, E), 8)
    causal = np.triu(np.ones((L, L), bool), 1)  # True = masked out
    kpm = None
    if with_kpm:
        kpm = np.zeros((B, L), bool)
        kpm[:, -1] = True
    _run_and_compare(ours, th, x, x, x, same_qkv=True, attn_mask=causal, is_causal=True,
                     key_padding_mask=kpm, need_weights=need_weights)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_is_causal_alone_builds_the_causal_mask(need_weights):
    # PyTorch raises here and asks for the mask; tinytorch builds it: same result as the mask
    ours, th = _pair(batch_first=True, seed=5)
    x = _rand((B, L, E), 9)
    out, _ = ours(tt.tensor(x), tt.tensor(x), tt.tensor(x), is_causal=True,
                  need_weights=need_weights)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(L)
    ref, _ = th(*(torch.tensor(x),) * 3, attn_mask=causal, need_weights=False)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kdim,vdim", [(6, 6), (6, 3), (E, 5)])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_kdim_vdim(kdim, vdim, need_weights):
    ours, th = _pair(kdim=kdim, vdim=vdim, seed=6)
    assert list(ours.state_dict()) == list(th.state_dict())
    assert ours.in_proj_weight is None and th.in_proj_weight is None
    q, k, v = _rand((L, B, E), 10), _rand((S, B, kdim), 11), _rand((S, B, vdim), 12)
    am, kpm = _masks("both_bool", True)
    _run_and_compare(ours, th, q, k, v, attn_mask=am, key_padding_mask=kpm,
                     need_weights=need_weights)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("mask_kind", ["none", "both_bool", "float2d"])
def test_mha_no_bias_and_bias_kv(need_weights, mask_kind):
    for kw in ({"bias": False}, {"add_bias_kv": True}):
        ours, th = _pair(seed=7, **kw)
        assert list(ours.state_dict()) == list(th.state_dict())
        q, k, v = _rand((L, B, E), 13), _rand((S, B, E), 14), _rand((S, B, E), 15)
        am, kpm = _masks(mask_kind, True)
        _run_and_compare(ours, th, q, k, v, attn_mask=am, key_padding_mask=kpm,
                         need_weights=need_weights)


def test_mha_float64():
    torch.manual_seed(8)
    th = torch.nn.MultiheadAttention(E, H, dtype=torch.float64)
    ours = nn.MultiheadAttention(E, H, dtype=np.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in th.state_dict().items()})
    q = _rand((L, B, E), 16).astype(np.float64)
    _run_and_compare(ours, th, q, q, q, same_qkv=True, rtol=1e-10, atol=1e-12)
    assert ours.in_proj_weight.dtype == np.float64


def test_mha_state_dict_keys_shapes_and_round_trip_to_torch():
    for kw in ({}, {"kdim": 3, "vdim": 5}, {"bias": False}, {"add_bias_kv": True}):
        ours = nn.MultiheadAttention(E, H, **kw)
        th = torch.nn.MultiheadAttention(E, H, **kw)
        ours_sd, th_sd = ours.state_dict(), th.state_dict()
        assert list(ours_sd) == list(th_sd), kw
        for key in th_sd:
            assert tuple(ours_sd[key].shape) == tuple(th_sd[key].shape), key
        th.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in ours_sd.items()})
        assert sorted(n for n, _ in ours.named_parameters()) == sorted(
            n for n, _ in th.named_parameters())


def test_mha_init_follows_torch():
    tt.manual_seed(0)
    m = nn.MultiheadAttention(64, 4, kdim=32)
    assert np.all(m.in_proj_bias.numpy() == 0) and np.all(m.out_proj.bias.numpy() == 0)
    bound = np.sqrt(6 / (64 + 64))  # xavier_uniform on (E, E)
    w = m.q_proj_weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    kb = np.sqrt(6 / (64 + 32))
    assert np.abs(m.k_proj_weight.numpy()).max() <= kb
    ob = 1 / np.sqrt(64)  # out_proj keeps Linear's init
    assert np.abs(m.out_proj.weight.numpy()).max() <= ob
    m2 = nn.MultiheadAttention(64, 4)
    ib = np.sqrt(6 / (3 * 64 + 64))  # the (3E, E) matrix is one xavier fan
    assert np.abs(m2.in_proj_weight.numpy()).max() <= ib
    assert m2.in_proj_weight.numpy().std() == pytest.approx(ib / np.sqrt(3), rel=0.05)


def test_mha_dropout_train_vs_eval():
    m = nn.MultiheadAttention(E, H, dropout=0.5, batch_first=True)
    x = tt.tensor(_rand((B, L, E), 17))
    m.eval()
    a, _ = m(x, x, x)
    b, _ = m(x, x, x, need_weights=False)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    m.train()
    tt.manual_seed(1)
    c, w = m(x, x, x, average_attn_weights=False)
    assert not np.allclose(c.numpy(), a.numpy())
    kept = w.numpy()
    assert np.any(kept == 0) and np.allclose(kept[kept > 0].max() <= 2.0, True)


def test_mha_errors_are_clear():
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(NotImplementedError, match="add_zero_attn"):
        nn.MultiheadAttention(8, 2, add_zero_attn=True)
    m = nn.MultiheadAttention(8, 2)
    x = tt.tensor(_rand((L, B, E), 18))
    with pytest.raises(ValueError, match=r"2D attn_mask.*\(5, 5\)"):
        m(x, x, x, attn_mask=np.zeros((4, 4), bool))
    with pytest.raises(ValueError, match=r"3D attn_mask.*\(6, 5, 5\)"):
        m(x, x, x, attn_mask=np.zeros((3, 5, 5), bool))
    with pytest.raises(ValueError, match="key_padding_mask"):
        m(x, x, x, key_padding_mask=np.zeros((L, B), bool))
    with pytest.raises(ValueError, match="embed_dim=8"):
        m(tt.tensor(_rand((L, B, 6), 1)), x, x)
    with pytest.raises(TypeError, match="attn_mask"):
        m(x, x, x, attn_mask=np.zeros((L, L), np.int64))


# --------------------------------------------------------------------------- F.sdpa conventions


@pytest.mark.parametrize("L_,S_", [(5, 5), (3, 6), (6, 3), (1, 4)])
@pytest.mark.parametrize("kind", ["causal", "bool", "float", "none"])
def test_sdpa_masks_follow_torch(L_, S_, kind):
    rng = np.random.default_rng(L_ * 10 + S_)
    q, k, v = _rand((2, 2, L_, 4), 20), _rand((2, 2, S_, 4), 21), _rand((2, 2, S_, 3), 22)
    kw_t, kw_p = {}, {}
    if kind == "causal":
        kw_t = kw_p = {"is_causal": True}
    elif kind == "bool":  # sdpa: True = may attend
        m = rng.random((L_, S_)) < 0.6
        m[:, 0] = True
        kw_t, kw_p = {"attn_mask": m}, {"attn_mask": torch.tensor(m)}
    elif kind == "float":
        m = rng.standard_normal((2, 1, L_, S_)).astype(np.float32)
        kw_t, kw_p = {"attn_mask": m}, {"attn_mask": torch.tensor(m)}
    tq, tk, tv = (tt.tensor(x, requires_grad=True) for x in (q, k, v))
    pq, pk, pv = (torch.tensor(x, requires_grad=True) for x in (q, k, v))
    out = F.scaled_dot_product_attention(tq, tk, tv, **kw_t)
    ref = torch.nn.functional.scaled_dot_product_attention(pq, pk, pv, **kw_p)
    np.testing.assert_allclose(out.numpy(), np.nan_to_num(ref.detach().numpy()), rtol=1e-4,
                               atol=1e-5)
    if not np.isnan(ref.detach().numpy()).any():
        g = _rand(tuple(out.shape), 23)
        out.backward(tt.tensor(g))
        ref.backward(torch.tensor(g))
        for a, b in ((tq, pq), (tk, pk), (tv, pv)):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-3, atol=1e-5)


def test_sdpa_scale_and_dropout_zero_match_torch():
    q, k, v = _rand((1, 3, 7, 4), 30), _rand((1, 3, 9, 4), 31), _rand((1, 3, 9, 4), 32)
    out = F.scaled_dot_product_attention(tt.tensor(q), tt.tensor(k), tt.tensor(v), scale=0.7,
                                         dropout_p=0.0)
    ref = torch.nn.functional.scaled_dot_product_attention(
        torch.tensor(q), torch.tensor(k), torch.tensor(v), scale=0.7, dropout_p=0.0)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-4, atol=1e-5)


def test_mha_and_sdpa_conventions_are_opposite():
    """The trap the guide teaches: the same boolean array means opposite things."""
    ours = nn.MultiheadAttention(E, 1, batch_first=True, bias=False)
    w = np.concatenate([np.eye(E), np.eye(E), np.eye(E)]).astype(np.float32)
    ours.load_state_dict({"in_proj_weight": w, "out_proj.weight": np.eye(E, dtype=np.float32)})
    x = _rand((1, L, E), 33)
    mask = np.triu(np.ones((L, L), bool), 1)  # upper triangle True
    mha_out, _ = ours(tt.tensor(x), tt.tensor(x), tt.tensor(x), attn_mask=mask)
    sdpa_future = F.scaled_dot_product_attention(tt.tensor(x), tt.tensor(x), tt.tensor(x),
                                                 attn_mask=mask, scale=1 / np.sqrt(E))
    sdpa_causal = F.scaled_dot_product_attention(tt.tensor(x), tt.tensor(x), tt.tensor(x),
                                                 attn_mask=~mask, scale=1 / np.sqrt(E))
    np.testing.assert_allclose(mha_out.numpy(), sdpa_causal.numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(mha_out.numpy(), sdpa_future.numpy())


@pytest.mark.filterwarnings("ignore:invalid value encountered")
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_fully_masked_query_row_matches_torch(need_weights):
    # torch: NaN on the explicit (need_weights) path, zeros from its fused kernel; ours too
    ours, th = _pair(batch_first=True, seed=9)
    x = _rand((2, L, E), 40)
    am = np.zeros((L, L), bool)
    am[1] = True  # query 1 may look at nothing
    out, _ = ours(*(tt.tensor(x),) * 3, attn_mask=am, need_weights=need_weights)
    ref, _ = th(*(torch.tensor(x),) * 3, attn_mask=torch.tensor(am), need_weights=need_weights)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-4, atol=1e-5,
                               equal_nan=True)
    assert np.isnan(out.numpy()[:, 1]).all() == need_weights
