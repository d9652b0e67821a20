"""tinytorch.models.GPT: causality, weight tying, learning, generation, and a block's parity
with the same computation written in PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn.functional as F
from tinytorch.models import GPT, GPTBlock


def _model(seed=0, **kw):
    tt.manual_seed(seed)
    cfg = dict(vocab_size=13, d_model=16, n_layers=2, n_heads=4, max_seq_len=12)
    cfg.update(kw)
    return GPT(**cfg)


def _ids(shape, vocab=13, seed=1):
    return tt.tensor(np.random.default_rng(seed).integers(0, vocab, size=shape))


def test_forward_maps_ids_to_logits():
    m = _model()
    out = m(_ids((3, 7)))
    assert out.shape == (3, 7, 13) and out.dtype == np.float32


@pytest.mark.parametrize("t", [0, 3, 10])
def test_changing_later_tokens_never_changes_earlier_logits(t):
    m = _model(dropout=0.0)
    a = _ids((2, 12), seed=2)
    b = a.numpy().copy()
    b[:, t + 1:] = (b[:, t + 1:] + 1 + np.arange(12 - t - 1)) % 13  # every later token differs
    la, lb = m(a).numpy(), m(tt.tensor(b)).numpy()
    np.testing.assert_array_equal(la[:, :t + 1], lb[:, :t + 1])
    if t + 1 < 12:
        assert np.abs(la[:, t + 1:] - lb[:, t + 1:]).max() > 1e-4  # the later ones do change


def test_gradient_of_early_logits_does_not_reach_later_embeddings():
    m = _model()
    ids = tt.tensor(np.arange(10)[None] % 13)
    m(ids)[:, :4].sum().backward()
    g = m.pos_emb.weight.grad.numpy()
    assert np.abs(g[:4]).max() > 0 and np.abs(g[4:]).max() == 0


def test_lm_head_is_tied_to_the_token_embedding_and_gradients_accumulate():
    m = _model()
    assert m.lm_head.weight is m.tok_emb.weight
    names = [n for n, _ in m.named_parameters()]
    assert "lm_head.weight" not in names  # counted once
    assert "lm_head.weight" in m.state_dict()  # but saved under both keys, as PyTorch does
    ids = _ids((2, 6), seed=3)
    F.cross_entropy(m(ids).reshape(-1, 13), _ids((12,), seed=4)).backward()
    total = m.tok_emb.weight.grad.numpy().copy()
    # the gradient through the head alone: recompute with the input lookup detached
    m.zero_grad()
    W = m.tok_emb.weight
    x = tt.tensor(W.numpy()[ids.numpy()]) + m.pos_emb(tt.arange(6))
    for blk in m.blocks:
        x = blk(x)
    F.cross_entropy(F.linear(m.ln_f(x), W).reshape(-1, 13), _ids((12,), seed=4)).backward()
    head_only = W.grad.numpy()
    unused = np.setdiff1d(np.arange(13), ids.numpy())
    assert np.abs(total - head_only).max() > 1e-6  # the embedding use added its part
    np.testing.assert_allclose(total[unused], head_only[unused], atol=1e-7)  # rows never read


def test_gpt2_init_statistics_and_parameter_count():
    m = _model(d_model=64, n_layers=4, vocab_size=200, max_seq_len=32)
    assert abs(m.tok_emb.weight.numpy().std() - 0.02) < 0.002
    proj = m.blocks[0].attn.proj.weight.numpy().std()
    assert abs(proj - 0.02 / np.sqrt(8)) < 0.001
    assert np.all(m.blocks[0].attn.qkv.bias.numpy() == 0)
    d, L, V, T = 64, 4, 200, 32
    per_block = 4 * d + (3 * d * d + 3 * d) + (d * d + d) + (4 * d * d + 4 * d) + (4 * d * d + d)
    assert m.num_parameters() == V * d + T * d + L * per_block + 2 * d
    assert m.num_parameters(non_embedding=True) == L * per_block + 2 * d


def test_overfits_a_tiny_batch():
    m = _model(vocab_size=11, d_model=32, n_layers=2, n_heads=4, max_seq_len=8)
    rng = np.random.default_rng(5)
    data = rng.integers(0, 11, size=(4, 9))
    x, y = tt.tensor(data[:, :-1]), tt.tensor(data[:, 1:].reshape(-1))
    opt = tt.optim.AdamW(m.parameters(), lr=1e-2, weight_decay=0.0)
    for _ in range(150):
        loss = F.cross_entropy(m(x).reshape(-1, 11), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05


def test_generate_is_reproducible_with_manual_seed():
    m = _model()
    start = _ids((2, 3), seed=6)
    tt.manual_seed(42)
    a = m.generate(start, 8).numpy()
    tt.manual_seed(42)
    b = m.generate(start, 8).numpy()
    c = m.generate(start, 8).numpy()  # generator state moved on
    assert a.shape == (2, 11) and a.dtype == np.int64
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[:, :3], start.numpy())
    assert (a != c).any()
    g = tt.Generator().manual_seed(42)
    np.testing.assert_array_equal(m.generate(start, 8, generator=g).numpy(), a)


def test_greedy_generation_appends_the_argmax_and_crops_the_context():
    m = _model(max_seq_len=5)
    ids = _ids((2, 4), seed=7).numpy()
    out = m.generate(tt.tensor(ids), 6, temperature=0).numpy()
    seq = ids
    for _ in range(6):
        nxt = m(tt.tensor(seq[:, -5:])).numpy()[:, -1].argmax(-1)
        seq = np.concatenate([seq, nxt[:, None]], axis=1)
    np.testing.assert_array_equal(out, seq)
    # top_k=1 and a tiny top_p are greedy too, whatever the seed
    np.testing.assert_array_equal(m.generate(tt.tensor(ids), 6, top_k=1).numpy(), seq)
    np.testing.assert_array_equal(m.generate(tt.tensor(ids), 6, top_p=1e-6).numpy(), seq)


def test_generate_samples_only_inside_top_k():
    m = _model()
    start = _ids((64, 2), seed=8)
    tt.manual_seed(0)
    out = m.generate(start, 1, top_k=3, temperature=5.0).numpy()[:, -1]
    logits = m(start).numpy()[:, -1]
    top3 = np.argsort(-logits, axis=-1)[:, :3]
    assert all(o in t for o, t in zip(out, top3))


def test_generate_leaves_training_mode_and_grad_mode_alone():
    m = _model(dropout=0.1)
    out = m.generate(_ids((1, 2)), 3)
    assert m.training and tt.is_grad_enabled() and not out.requires_grad
    assert m.generate(_ids((5,)), 2).shape == (7,)  # 1-D in, 1-D out


@pytest.mark.parametrize("kwargs, match", [
    (dict(max_new_tokens=-1), "max_new_tokens"),
    (dict(max_new_tokens=2, temperature=-1.0), "temperature"),
    (dict(max_new_tokens=2, top_k=0), "top_k"),
    (dict(max_new_tokens=2, top_p=0.0), "top_p"),
    (dict(max_new_tokens=2, top_p=1.5), "top_p"),
])
def test_generate_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _model().generate(_ids((1, 3)), **kwargs)


def test_forward_rejects_bad_inputs():
    m = _model()
    with pytest.raises(ValueError, match="max_seq_len"):
        m(_ids((1, 13)))
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        m(tt.randn(2, 3))
    with pytest.raises(IndexError):
        m(tt.tensor([[0, 13]]))
    with pytest.raises(ValueError, match="divisible"):
        GPT(10, 10, 1, 3, 4)


# ----------------------------------------------------------------------- parity with PyTorch


def _torch_gpt_classes(torch):
    """A GPT written with torch.nn, submodule for submodule under our names."""
    tnn, TF = torch.nn, torch.nn.functional

    class Attn(tnn.Module):
        def __init__(self, C, H):
            super().__init__()
            self.H, self.qkv, self.proj = H, tnn.Linear(C, 3 * C), tnn.Linear(C, C)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.qkv(x).split(C, dim=-1)
            q, k, v = (t.view(B, T, self.H, C // self.H).transpose(1, 2) for t in (q, k, v))
            y = TF.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.proj(y.transpose(1, 2).reshape(B, T, C))

    class MLP(tnn.Module):
        def __init__(self, C):
            super().__init__()
            self.fc, self.proj = tnn.Linear(C, 4 * C), tnn.Linear(4 * C, C)

        def forward(self, x):
            return self.proj(TF.gelu(self.fc(x), approximate="tanh"))

    class Block(tnn.Module):
        def __init__(self, C, H):
            super().__init__()
            self.ln1, self.attn = tnn.LayerNorm(C), Attn(C, H)
            self.ln2, self.mlp = tnn.LayerNorm(C), MLP(C)

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class TorchGPT(tnn.Module):
        def __init__(self, V, C, L, H, T):
            super().__init__()
            self.tok_emb, self.pos_emb = tnn.Embedding(V, C), tnn.Embedding(T, C)
            self.blocks = tnn.ModuleList([Block(C, H) for _ in range(L)])
            self.ln_f = tnn.LayerNorm(C)
            self.lm_head = tnn.Linear(C, V, bias=False)
            self.lm_head.weight = self.tok_emb.weight

        def forward(self, ids):
            x = self.tok_emb(ids) + self.pos_emb(torch.arange(ids.shape[1]))
            for b in self.blocks:
                x = b(x)
            return self.lm_head(self.ln_f(x))

    return Block, TorchGPT


def test_gpt_block_matches_the_same_block_built_in_torch():
    torch = pytest.importorskip("torch")
    Block, _ = _torch_gpt_classes(torch)
    tt.manual_seed(3)
    B, T, C, H = 2, 7, 16, 4
    blk = GPTBlock(C, H)
    for p in blk.parameters():  # non-trivial LayerNorm weights too
        p._data[...] = np.random.default_rng(p.numel()).standard_normal(p.shape) * 0.3
    th = Block(C, H)
    th.load_state_dict({k: torch.tensor(v.numpy()) for k, v in blk.state_dict().items()})
    x = np.random.default_rng(9).standard_normal((B, T, C)).astype(np.float32)
    g = np.random.default_rng(10).standard_normal((B, T, C)).astype(np.float32)
    tx = torch.tensor(x, requires_grad=True)
    (th(tx) * torch.tensor(g)).sum().backward()
    ox = tt.tensor(x, requires_grad=True)
    oy = blk(ox)
    (oy * tt.tensor(g)).sum().backward()
    np.testing.assert_allclose(oy.numpy(), th(tx).detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ox.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    tparams = dict(th.named_parameters())
    for name, p in blk.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), rtol=1e-4,
                                   atol=1e-4, err_msg=name)


def test_whole_gpt_matches_torch_logits_loss_and_tied_gradients():
    torch = pytest.importorskip("torch")
    _, TorchGPT = _torch_gpt_classes(torch)
    m = _model()
    th = TorchGPT(13, 16, 2, 4, 12)
    th.load_state_dict({k: torch.tensor(v.numpy()) for k, v in m.state_dict().items()})
    ids = _ids((3, 9), seed=11).numpy()
    tgt = _ids((27,), seed=12).numpy()
    ours = m(tt.tensor(ids))
    theirs = th(torch.tensor(ids))
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-4, atol=1e-5)
    F.cross_entropy(ours.reshape(-1, 13), tt.tensor(tgt)).backward()
    torch.nn.functional.cross_entropy(theirs.reshape(-1, 13), torch.tensor(tgt)).backward()
    tparams = dict(th.named_parameters())
    for name, p in m.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), rtol=1e-3,
                                   atol=1e-6, err_msg=name)
