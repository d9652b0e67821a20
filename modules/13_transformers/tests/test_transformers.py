"""Module 13 graded tests: layer norms, the transformer blocks, a GPT, and its sampling.

Every expected value comes from a definition written in plain float64 NumPy in this file
(``ref_layer_norm``, ``ref_causal_attention``, ``ref_encoder_layer`` ...), fed with the very
weights the module holds, or from a property every correct model has (causality: the logits
at position t never depend on tokens after t). Gradients are checked against an explicit
backward formula and against finite differences (``gradcheck``, module 05). Nothing here
imports PyTorch; the PyTorch parity of the same code is in the framework's tests/.
"""

import math

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.autograd import gradcheck
from tinytorch.models import GPT, MLP, CausalSelfAttention, GPTBlock
from tinytorch.testing import assert_close


def _rand(shape, seed, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# --------------------------------------------------------------------------- NumPy oracles


def ref_layer_norm(x, k, w=None, b=None, eps=1e-5):
    """(x - mean) / sqrt(var + eps) * w + b over the last k axes (biased variance)."""
    x = np.asarray(x, np.float64)
    axes = tuple(range(x.ndim - k, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    y = (x - mu) / np.sqrt(var + eps)
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y


def ref_layer_norm_dx(x, g, w, eps=1e-5):
    """dL/dx of layer norm over the last axis, derived by hand (w: the scale)."""
    x, g = np.asarray(x, np.float64), np.asarray(g, np.float64)
    n = x.shape[-1]
    mu = x.mean(-1, keepdims=True)
    rstd = 1 / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + eps)
    xhat = (x - mu) * rstd
    dxhat = g * w
    return rstd / n * (n * dxhat - dxhat.sum(-1, keepdims=True)
                       - xhat * (dxhat * xhat).sum(-1, keepdims=True))


def ref_rms_norm(x, k, w=None, eps=None):
    x = np.asarray(x, np.float64)
    axes = tuple(range(x.ndim - k, x.ndim))
    y = x / np.sqrt((x * x).mean(axis=axes, keepdims=True) + eps)
    return y if w is None else y * w


def ref_gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def ref_softmax(s):
    s = s - s.max(axis=-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=-1, keepdims=True)


def ref_causal_attention(x, wqkv, bqkv, wo, bo, heads):
    """Multi-head self-attention, position t attending to 0..t, one fused qkv projection
    whose output is [queries | keys | values] along the features."""
    B, T, C = x.shape
    D = C // heads
    q, k, v = np.split(x @ wqkv.T + bqkv, 3, axis=-1)  # each (B, T, C)
    q, k, v = (a.reshape(B, T, heads, D).transpose(0, 2, 1, 3) for a in (q, k, v))
    s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(D)  # (B, H, T, T)
    s = np.where(np.triu(np.ones((T, T), bool), 1), -np.inf, s)
    y = (ref_softmax(s) @ v).transpose(0, 2, 1, 3).reshape(B, T, C)
    return y @ wo.T + bo


def _sd(module):
    return {k: v.numpy().astype(np.float64) for k, v in module.state_dict().items()}


def ref_gpt_block(x, p, heads):
    """x + attn(ln1(x)), then + mlp(ln2(x)): pre-norm, GPT-2's tanh GELU."""
    h = ref_layer_norm(x, 1, p["ln1.weight"], p["ln1.bias"])
    x = x + ref_causal_attention(h, p["attn.qkv.weight"], p["attn.qkv.bias"],
                                 p["attn.proj.weight"], p["attn.proj.bias"], heads)
    h = ref_layer_norm(x, 1, p["ln2.weight"], p["ln2.bias"])
    h = ref_gelu(h @ p["mlp.fc.weight"].T + p["mlp.fc.bias"], "tanh")
    return x + h @ p["mlp.proj.weight"].T + p["mlp.proj.bias"]


def ref_self_attention(x, p, heads, padding=None, attn_mask=None):
    """nn.MultiheadAttention(x, x, x), batch first. ``padding`` (B, S) and ``attn_mask``
    (S, S) are boolean with True = ignore that key (MultiheadAttention's convention)."""
    B, S, E = x.shape
    D = E // heads
    w, b = p["self_attn.in_proj_weight"], p["self_attn.in_proj_bias"]
    q, k, v = (x @ w[i * E:(i + 1) * E].T + b[i * E:(i + 1) * E] for i in range(3))
    q, k, v = (a.reshape(B, S, heads, D).transpose(0, 2, 1, 3) for a in (q, k, v))
    s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(D)
    if padding is not None:
        s = np.where(padding[:, None, None, :], -np.inf, s)
    if attn_mask is not None:
        s = np.where(attn_mask, -np.inf, s)
    y = (ref_softmax(s) @ v).transpose(0, 2, 1, 3).reshape(B, S, E)
    return y @ p["self_attn.out_proj.weight"].T + p["self_attn.out_proj.bias"]


def ref_encoder_layer(x, p, heads, norm_first, act, padding=None, attn_mask=None, eps=1e-5):
    def ln(v, i):
        return ref_layer_norm(v, 1, p[f"norm{i}.weight"], p[f"norm{i}.bias"], eps)

    def ff(v):
        return act(v @ p["linear1.weight"].T + p["linear1.bias"]) @ p["linear2.weight"].T \
            + p["linear2.bias"]

    if norm_first:
        x = x + ref_self_attention(ln(x, 1), p, heads, padding, attn_mask)
        return x + ff(ln(x, 2))
    x = ln(x + ref_self_attention(x, p, heads, padding, attn_mask), 1)
    return ln(x + ff(x), 2)


# --------------------------------------------------------------------------- layer norm


@pytest.mark.parametrize("shape, normalized", [((2, 3, 5), (5,)), ((2, 3, 4), (3, 4)),
                                               ((4, 1), (1,)), ((6,), (6,))])
def test_layer_norm_normalizes_over_the_last_axes(shape, normalized):
    x = _rand(shape, 1, np.float32) * 3 + 2
    w, b = _rand(normalized, 2, np.float32), _rand(normalized, 3, np.float32)
    got = F.layer_norm(tt.tensor(x), normalized, tt.tensor(w), tt.tensor(b))
    assert_close(got, ref_layer_norm(x, len(normalized), w, b), rtol=1e-4, atol=1e-5,
                 what=f"layer_norm(x, {normalized}, w, b)", inputs={"x": x})
    assert got.dtype == np.float32


def test_layer_norm_of_a_single_feature_is_the_bias():
    """Size-1 last axis: x - mean(x) is 0, so every output is the bias (not NaN)."""
    x = _rand((3, 1), 4)
    got = F.layer_norm(tt.tensor(x), 1, tt.tensor([2.0]), tt.tensor([-0.5]))
    assert_close(got, np.full((3, 1), -0.5), what="layer_norm over one feature")


def test_layer_norm_eps_is_added_to_the_variance():
    x = np.array([[1.0, 1.1, 0.9, 1.0]])  # variance 0.005: eps=0.1 changes the result a lot
    for eps in (1e-5, 0.1):
        assert_close(F.layer_norm(tt.tensor(x), 4, eps=eps), ref_layer_norm(x, 1, eps=eps),
                     what=f"layer_norm(x, eps={eps})", inputs={"x": x})


def test_layer_norm_keeps_float64_and_has_no_affine_by_default():
    x = _rand((2, 7), 5)
    got = F.layer_norm(tt.tensor(x), (7,))
    assert got.dtype == np.float64
    assert_close(got, ref_layer_norm(x, 1), rtol=1e-12, atol=1e-12, what="layer_norm float64")
    assert_close(got.numpy().mean(-1), np.zeros(2), atol=1e-12, what="row means")
    assert_close(got.numpy().var(-1), x.var(-1) / (x.var(-1) + 1e-5), rtol=1e-10,
                 what="row variances")


def test_layer_norm_backward_matches_the_hand_derived_formula():
    x, g, w = _rand((3, 6), 6), _rand((3, 6), 7), _rand((6,), 8)
    b = _rand((6,), 9)
    xt = tt.tensor(x, requires_grad=True)
    wt, bt = tt.tensor(w, requires_grad=True), tt.tensor(b, requires_grad=True)
    (F.layer_norm(xt, 6, wt, bt) * tt.tensor(g)).sum().backward()
    assert_close(xt.grad, ref_layer_norm_dx(x, g, w), rtol=1e-9, atol=1e-10, what="x.grad")
    assert_close(wt.grad, (g * ref_layer_norm(x, 1)).sum(0), rtol=1e-9, atol=1e-10,
                 what="weight.grad")
    assert_close(bt.grad, g.sum(0), rtol=1e-9, atol=1e-10, what="bias.grad")


@pytest.mark.parametrize("normalized, shape", [((4,), (3, 4)), ((2, 3), (2, 2, 3))])
def test_layer_norm_gradcheck(normalized, shape):
    x = tt.tensor(_rand(shape, 10), requires_grad=True)
    w = tt.tensor(_rand(normalized, 11), requires_grad=True)
    b = tt.tensor(_rand(normalized, 12), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, normalized, w, b, eps=1e-3), (x, w, b))
    assert gradcheck(lambda x: F.layer_norm(x, normalized), (x,))


def test_layernorm_module_parameters_and_options():
    ln = nn.LayerNorm(5)
    assert list(ln.state_dict()) == ["weight", "bias"]
    assert_close(ln.weight, np.ones(5), what="initial weight")
    assert_close(ln.bias, np.zeros(5), what="initial bias")
    assert list(nn.LayerNorm(5, bias=False).state_dict()) == ["weight"]
    assert list(nn.LayerNorm((2, 5), elementwise_affine=False).state_dict()) == []
    x = _rand((2, 3, 2, 5), 13)
    assert_close(nn.LayerNorm((2, 5), elementwise_affine=False)(tt.tensor(x)),
                 ref_layer_norm(x, 2), what="LayerNorm((2, 5)) without affine")
    with pytest.raises(ValueError, match="normalized_shape"):
        ln(tt.randn(2, 4))


# --------------------------------------------------------------------------- RMS norm


def test_rms_norm_matches_the_definition_and_its_default_eps():
    x, w = _rand((2, 3, 4), 14, np.float32), _rand((4,), 15, np.float32)
    got = F.rms_norm(tt.tensor(x), (4,), tt.tensor(w))
    eps32 = float(np.finfo(np.float32).eps)  # eps=None: the dtype's machine epsilon
    assert_close(got, ref_rms_norm(x, 1, w, eps32), rtol=1e-5, atol=1e-6, what="rms_norm")
    tiny = np.full((1, 4), 1e-5, np.float32)  # mean(x^2) = 1e-10 << eps: eps decides
    assert_close(F.rms_norm(tt.tensor(tiny), 4), ref_rms_norm(tiny, 1, eps=eps32), rtol=1e-5,
                 what="rms_norm with default eps, tiny input")
    x64 = _rand((3, 2, 2), 16)
    assert_close(nn.RMSNorm((2, 2), eps=0.5)(tt.tensor(x64)), ref_rms_norm(x64, 2, eps=0.5),
                 rtol=1e-12, what="RMSNorm((2, 2), eps=0.5)")
    assert list(nn.RMSNorm(4).state_dict()) == ["weight"]
    assert list(nn.RMSNorm(4, elementwise_affine=False).state_dict()) == []


def test_rms_norm_gradcheck():
    x = tt.tensor(_rand((3, 5), 17), requires_grad=True)
    w = tt.tensor(_rand((5,), 18), requires_grad=True)
    assert gradcheck(lambda x, w: F.rms_norm(x, (5,), w, eps=1e-3), (x, w))
    assert gradcheck(lambda x: F.rms_norm(x, 5), (x,))


# --------------------------------------------------------------------------- blocks


def test_mlp_is_linear_gelu_linear():
    tt.manual_seed(0)
    mlp = MLP(6, 10)
    x = _rand((2, 3, 6), 19, np.float32)
    p = _sd(mlp)
    want = ref_gelu(x @ p["fc.weight"].T + p["fc.bias"]) @ p["proj.weight"].T + p["proj.bias"]
    assert_close(mlp(tt.tensor(x)), want, rtol=1e-4, atol=1e-5, what="MLP(x)")


def test_causal_self_attention_matches_the_definition():
    tt.manual_seed(1)
    attn = CausalSelfAttention(8, 2)
    x = _rand((2, 5, 8), 20, np.float32)
    p = _sd(attn)
    want = ref_causal_attention(x, p["qkv.weight"], p["qkv.bias"], p["proj.weight"],
                                p["proj.bias"], 2)
    assert_close(attn(tt.tensor(x)), want, rtol=1e-4, atol=1e-5, what="CausalSelfAttention(x)")


def test_gpt_block_is_pre_norm_with_residuals():
    tt.manual_seed(2)
    blk = GPTBlock(8, 4)
    for prm in blk.parameters():  # LayerNorm weights away from 1 and 0, so a swap shows
        prm._data[...] = _rand(prm.shape, prm.numel()) * 0.5
    x = _rand((2, 6, 8), 21, np.float32)
    assert_close(blk(tt.tensor(x)), ref_gpt_block(x, _sd(blk), 4), rtol=1e-4, atol=1e-4,
                 what="GPTBlock(x)")


@pytest.mark.parametrize("norm_first, activation", [(False, "relu"), (True, "gelu")])
def test_encoder_layer_matches_the_definition(norm_first, activation):
    tt.manual_seed(3)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=12, dropout=0.0,
                                       activation=activation, batch_first=True,
                                       norm_first=norm_first)
    assert list(layer.state_dict()) == [
        "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
        "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight",
        "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"]
    for i, prm in enumerate(layer.parameters()):  # a different seed for each: norm1 != norm2
        prm._data[...] = _rand(prm.shape, 100 + i) * 0.4
    x = _rand((2, 5, 8), 22, np.float32)
    pad = np.zeros((2, 5), bool)
    pad[1, 3:] = True  # the second sequence ends with two padding tokens
    act = (lambda v: np.maximum(v, 0)) if activation == "relu" else ref_gelu
    want = ref_encoder_layer(x, _sd(layer), 2, norm_first, act, padding=pad)
    got = layer(tt.tensor(x), src_key_padding_mask=tt.tensor(pad))
    assert_close(got, want, rtol=1e-4, atol=1e-4,
                 what=f"TransformerEncoderLayer(norm_first={norm_first}, {activation})")
    causal = np.triu(np.ones((5, 5), bool), 1)
    want = ref_encoder_layer(x, _sd(layer), 2, norm_first, act, attn_mask=causal)
    assert_close(layer(tt.tensor(x), src_mask=tt.tensor(causal)), want, rtol=1e-4, atol=1e-4,
                 what="TransformerEncoderLayer with a causal src_mask")
    assert_close(layer(tt.tensor(x), is_causal=True), want, rtol=1e-4, atol=1e-4,
                 what="TransformerEncoderLayer(is_causal=True)")


def test_encoder_stack_has_independent_copies():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=8, dropout=0.0)
    enc = nn.TransformerEncoder(layer, 3, norm=nn.LayerNorm(8))
    assert len(enc.layers) == 3 and "norm.weight" in enc.state_dict()
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    assert enc(tt.randn(4, 2, 8)).shape == (4, 2, 8)  # (S, B, E): batch_first=False


# --------------------------------------------------------------------------- GPT


def _gpt(seed=0, **kw):
    tt.manual_seed(seed)
    cfg = dict(vocab_size=11, d_model=16, n_layers=2, n_heads=2, max_seq_len=10)
    cfg.update(kw)
    return GPT(**cfg)


def _ids(shape, vocab=11, seed=0):
    return tt.tensor(np.random.default_rng(seed).integers(0, vocab, size=shape))


def test_gpt_maps_ids_to_next_token_logits():
    m = _gpt()
    out = m(_ids((3, 10)))
    assert out.shape == (3, 10, 11)
    m0 = _gpt(n_layers=1)
    m0.blocks = nn.ModuleList([])
    p0 = _sd(m0)
    want = ref_layer_norm(p0["tok_emb.weight"][_ids((1, 4), seed=5).numpy()]
                          + p0["pos_emb.weight"][:4], 1, p0["ln_f.weight"], p0["ln_f.bias"])
    assert_close(m0(_ids((1, 4), seed=5)), want @ p0["tok_emb.weight"].T, rtol=1e-4, atol=1e-5,
                 what="GPT without blocks: ln_f(tok_emb + pos_emb) @ tok_emb.weight.T")


@pytest.mark.parametrize("t", [0, 4, 8])
def test_gpt_is_causal(t):
    m = _gpt()
    a = _ids((2, 10), seed=1).numpy()
    b = a.copy()
    b[:, t + 1:] = (b[:, t + 1:] + 3) % 11  # change every token after t
    la, lb = m(tt.tensor(a)).numpy(), m(tt.tensor(b)).numpy()
    assert np.array_equal(la[:, :t + 1], lb[:, :t + 1]), \
        f"the logits at positions <= {t} changed when only tokens after {t} changed"
    assert np.abs(la[:, t + 1:] - lb[:, t + 1:]).max() > 0


def test_gpt_ties_the_head_to_the_token_embedding():
    m = _gpt()
    assert m.lm_head.weight is m.tok_emb.weight
    n_unique = sum(p.numel() for p in m.parameters())
    assert n_unique == m.num_parameters()
    d, V, T, L = 16, 11, 10, 2
    per_block = 2 * 2 * d + (3 * d * d + 3 * d) + (d * d + d) + (4 * d * d + 4 * d) \
        + (4 * d * d + d)
    assert m.num_parameters() == V * d + T * d + L * per_block + 2 * d
    ids = tt.tensor([[0, 1, 2]])
    F.cross_entropy(m(ids)[0], tt.tensor([1, 2, 3])).backward()
    g = m.tok_emb.weight.grad.numpy()
    # token 10 is never read, but is scored as a candidate: the head's gradient reaches it
    assert np.abs(g[10]).max() > 0
    # token 0 is read: its row receives the head's gradient plus the embedding's
    assert np.abs(g[0]).max() > 0


def test_gpt_uses_gpt2_initialisation():
    m = _gpt(d_model=64, n_layers=4, vocab_size=300)
    assert abs(float(m.tok_emb.weight.numpy().std()) - 0.02) < 0.002
    assert abs(float(m.blocks[1].mlp.fc.weight.numpy().std()) - 0.02) < 0.002
    residual_std = 0.02 / math.sqrt(2 * 4)  # attn.proj and mlp.proj write into the stream
    assert abs(float(m.blocks[1].attn.proj.weight.numpy().std()) - residual_std) < 0.001
    assert abs(float(m.blocks[1].mlp.proj.weight.numpy().std()) - residual_std) < 0.001
    assert np.all(m.blocks[0].mlp.fc.bias.numpy() == 0)
    assert np.all(m.ln_f.weight.numpy() == 1) and np.all(m.blocks[0].ln1.bias.numpy() == 0)


def test_gpt_learns_a_tiny_batch_by_heart():
    m = _gpt(vocab_size=7, d_model=24, n_layers=1, n_heads=2, max_seq_len=8)
    data = np.random.default_rng(2).integers(0, 7, size=(3, 9))
    x, y = tt.tensor(data[:, :-1]), tt.tensor(data[:, 1:].reshape(-1))
    opt = tt.optim.Adam(m.parameters(), lr=1e-2)
    for _ in range(120):
        loss = F.cross_entropy(m(x).reshape(-1, 7), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.1, f"loss {loss.item():.3f} after 120 Adam steps on 24 tokens"


def test_greedy_generation_appends_the_most_likely_token():
    m = _gpt(max_seq_len=6)
    start = _ids((2, 4), seed=3).numpy()
    out = m.generate(tt.tensor(start), 5, temperature=0.0).numpy()
    seq = start
    for _ in range(5):  # the context is cropped to the last max_seq_len tokens
        nxt = m(tt.tensor(seq[:, -6:])).numpy()[:, -1].argmax(-1)
        seq = np.concatenate([seq, nxt[:, None]], axis=1)
    assert np.array_equal(out, seq)


def test_sampling_is_reproducible_and_respects_top_k_and_top_p():
    m = _gpt()
    start = _ids((50, 3), seed=4)
    tt.manual_seed(7)
    a = m.generate(start, 4, temperature=2.0).numpy()
    tt.manual_seed(7)
    assert np.array_equal(a, m.generate(start, 4, temperature=2.0).numpy())
    logits = m(start).numpy()[:, -1]
    order = np.argsort(-logits, axis=-1)
    tt.manual_seed(0)
    k2 = m.generate(start, 1, top_k=2, temperature=3.0).numpy()[:, -1]
    assert all(t in o[:2] for t, o in zip(k2, order)), "sampled outside the top 2"
    assert len(set(k2 == order[:, 0])) == 2, "top_k=2 at high temperature never took the 2nd"
    probs = ref_softmax(logits)
    keep = np.cumsum(np.take_along_axis(probs, order, -1), -1) - \
        np.take_along_axis(probs, order, -1) < 0.5  # nucleus of mass 0.5
    tt.manual_seed(0)
    p5 = m.generate(start, 1, top_p=0.5).numpy()[:, -1]
    for tok, o, kp in zip(p5, order, keep):
        assert tok in o[kp], "sampled outside the top_p nucleus"


def test_a_cold_temperature_and_top_k_1_are_greedy():
    """Dividing the logits by a temperature near 0 makes the top token certain; so does
    keeping only the single most likely one."""
    m = _gpt()
    start = _ids((20, 3), seed=6)
    greedy = m.generate(start, 3, temperature=0.0).numpy()
    for kwargs in (dict(temperature=1e-4), dict(top_k=1, temperature=5.0)):
        tt.manual_seed(1)
        assert np.array_equal(m.generate(start, 3, **kwargs).numpy(), greedy), kwargs


@pytest.mark.parametrize("kwargs", [dict(temperature=-0.5), dict(top_k=0), dict(top_p=0.0),
                                    dict(top_p=1.2), dict(max_new_tokens=-1)])
def test_generate_rejects_bad_arguments(kwargs):
    args = dict(max_new_tokens=2)
    args.update(kwargs)
    with pytest.raises(ValueError):
        _gpt().generate(_ids((1, 2)), **args)


def test_generate_needs_no_graph_and_gpt_rejects_too_long_inputs():
    m = _gpt()
    out = m.generate(_ids((1, 2)), 3)
    assert not out.requires_grad and out.shape == (1, 5)
    with pytest.raises(ValueError, match="max_seq_len"):
        m(_ids((1, 11)))


# ------------------------------------------- sampling: every option alone and combined

def _sampling_oracle(logits, temperature, top_k, top_p):
    """The distribution generate() samples from, from the definitions: logits / temperature,
    keep the top_k largest (all when top_k >= V), softmax, then keep the most likely tokens
    while the mass BEFORE each one is below top_p (so the token crossing top_p is kept)."""
    z = np.asarray(logits, np.float64) / temperature
    if top_k is not None and top_k < len(z):
        z = np.where(z < np.sort(z)[-top_k], -np.inf, z)
    p = np.exp(z - z.max())
    p /= p.sum()
    if top_p is not None and top_p < 1.0:
        order = np.argsort(-p, kind="stable")
        before = np.cumsum(p[order]) - p[order]
        keep = np.zeros(len(p), bool)
        keep[order[before < top_p]] = True
        p = np.where(keep, p, 0.0)
        p /= p.sum()
    return p


@pytest.mark.parametrize("temperature", [0.5, 2.5])
@pytest.mark.parametrize("top_k", [None, 1, 2, 5, 9])
@pytest.mark.parametrize("top_p", [None, 0.5, 0.6, 1.0])
def test_next_token_samples_the_right_distribution(temperature, top_k, top_p):
    """8 000 draws per case: the frequencies match the oracle's probabilities within 0.03,
    tokens outside the kept set never appear (top_k=1 keeps one token, top_k above the
    vocabulary keeps all, top_p=0.6 on probabilities 0.5, 0.3, ... keeps two: the one that
    crosses the threshold too)."""
    from tinytorch.models.gpt import _next_token

    logits = np.log(np.array([0.5, 0.3, 0.12, 0.05, 0.03]))
    want = _sampling_oracle(logits, temperature, top_k, top_p)
    rows = np.tile(logits, (8_000, 1))
    got = _next_token(rows, temperature, top_k, top_p, np.random.default_rng(0))
    assert got.shape == (8_000,) and got.dtype == np.int64
    freq = np.bincount(got, minlength=5) / len(got)
    assert set(np.flatnonzero(freq)) == set(np.flatnonzero(want)), \
        f"temperature={temperature}, top_k={top_k}, top_p={top_p}: sampled tokens " \
        f"{sorted(set(got.tolist()))}, allowed {np.flatnonzero(want).tolist()}"
    assert np.abs(freq - want).max() < 0.03, \
        f"temperature={temperature}, top_k={top_k}, top_p={top_p}: frequencies " \
        f"{np.round(freq, 3).tolist()} vs probabilities {np.round(want, 3).tolist()}"


# ------------------------------------------------ dropout: eval mode off, train mode placed

def _twins(make, p):
    """The same module built with dropout p and with dropout 0, sharing every weight."""
    tt.manual_seed(11)
    noisy = make(p)
    clean = make(0.0)
    for i, prm in enumerate(noisy.parameters()):  # distinct values: no two weights alike
        prm._data[...] = _rand(prm.shape, 200 + i) * 0.3
    clean.load_state_dict(noisy.state_dict())
    return noisy, clean


MAKERS = {
    "MLP": (lambda p: MLP(8, 16, p), lambda: _rand((2, 5, 8), 40, np.float32)),
    "CausalSelfAttention": (lambda p: CausalSelfAttention(8, 2, p), lambda: _rand((2, 5, 8), 41, np.float32)),
    "GPTBlock": (lambda p: GPTBlock(8, 2, p), lambda: _rand((2, 5, 8), 42, np.float32)),
    "EncoderLayer-post": (lambda p: nn.TransformerEncoderLayer(8, 2, 12, p, batch_first=True),
                          lambda: _rand((2, 5, 8), 43, np.float32)),
    "EncoderLayer-pre": (lambda p: nn.TransformerEncoderLayer(8, 2, 12, p, batch_first=True,
                                                              norm_first=True),
                         lambda: _rand((2, 5, 8), 44, np.float32)),
}


@pytest.mark.parametrize("name", list(MAKERS))
def test_eval_mode_turns_every_dropout_off(name):
    """In eval mode a module built with dropout=0.5 gives exactly the output of its twin
    built with dropout=0: no dropout anywhere (attention weights included)."""
    make, data = MAKERS[name]
    noisy, clean = _twins(make, 0.5)
    noisy.eval()
    clean.eval()
    x = tt.tensor(data())
    tt.manual_seed(0)
    assert_close(noisy(x), clean(x), rtol=1e-6, atol=1e-7,
                 what=f"{name}(dropout=0.5) in eval mode vs the same weights with dropout=0")
    noisy.train()
    tt.manual_seed(0)
    assert not np.allclose(noisy(x).numpy(), clean(x).numpy()), \
        f"{name}(dropout=0.5) in training mode must drop something"


@pytest.mark.parametrize("p", [0.25, 0.5])
def test_mlp_dropout_is_on_its_output(p):
    """MLP = dropout(proj(gelu(fc(x)))): in training mode each output value is either 0 or
    the dropout-free value / (1 - p) (dropout on the hidden layer would mix the values)."""
    noisy, clean = _twins(lambda q: MLP(8, 16, q), p)
    x = tt.tensor(_rand((4, 6, 8), 45, np.float32))
    clean.eval()
    ref = clean(x).numpy()
    noisy.train()
    tt.manual_seed(1)
    out = noisy(x).numpy()
    kept = out != 0
    assert 0.1 < 1 - kept.mean() < 0.9, f"MLP(dropout={p}) dropped {1 - kept.mean():.2f}"
    assert_close(out[kept], ref[kept] / (1 - p), rtol=1e-5, atol=1e-6,
                 what=f"MLP(dropout={p}) survivors: the dropout-free output / (1 - p)")
