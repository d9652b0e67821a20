"""Embeddings and positions (module 11) against PyTorch (the BPE laws: test_text_tokenization.py).

- ``nn.Embedding`` and ``F.embedding``: torch's weights loaded through ``load_state_dict``;
  outputs, weight gradients (repeated ids, ``padding_idx`` positive and negative) agree; the
  same ``state_dict`` keys and ``repr``; the init statistics are torch's.
- Positions: sinusoidal encodings equal the formula of the PyTorch tutorial (computed in
  torch); RoPE equals a complex-number rotation (LLaMA's formulation, interleaved pairs).
"""

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.text import rope, sinusoidal_positional_encoding

torch = pytest.importorskip("torch")

# --------------------------------------------------------------------------- Embedding vs torch


def _load_from_torch(t_module, tt_module):
    tt_module.load_state_dict({k: v.detach().numpy() for k, v in t_module.state_dict().items()})


@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1, -2])
def test_embedding_matches_torch_forward_and_gradient(padding_idx):
    torch.manual_seed(0)
    ref = torch.nn.Embedding(9, 5, padding_idx=padding_idx)
    ours = nn.Embedding(9, 5, padding_idx=padding_idx)
    assert list(ours.state_dict()) == list(ref.state_dict()) == ["weight"]
    assert repr(ours) == repr(ref)
    assert ours.padding_idx == ref.padding_idx
    _load_from_torch(ref, ours)
    ids = np.random.default_rng(1).integers(0, 9, size=(4, 7))
    ids[0, :3] = [3, 8, 7]  # the padding rows do occur
    g = np.random.default_rng(2).standard_normal((4, 7, 5)).astype(np.float32)
    out_ref = ref(torch.tensor(ids))
    out_ref.backward(torch.tensor(g))
    out = ours(tt.tensor(ids))
    out.backward(tt.tensor(g))
    np.testing.assert_allclose(out.numpy(), out_ref.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-5,
                               atol=1e-6)


def test_functional_embedding_matches_torch():
    w = np.random.default_rng(3).standard_normal((6, 4)).astype(np.float32)
    ids = np.array([[5, 0, 5], [1, 1, 2]])
    g = np.random.default_rng(4).standard_normal((2, 3, 4)).astype(np.float32)
    wt = torch.tensor(w, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor(ids), wt, padding_idx=1).backward(torch.tensor(g))
    ws = tt.tensor(w, requires_grad=True)
    F.embedding(tt.tensor(ids), ws, padding_idx=1).backward(tt.tensor(g))
    np.testing.assert_allclose(ws.grad.numpy(), wt.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_embedding_init_and_padding_validation_as_torch():
    tt.manual_seed(0)
    w = nn.Embedding(2000, 32, padding_idx=7).weight.detach().numpy()
    torch.manual_seed(0)
    wt = torch.nn.Embedding(2000, 32, padding_idx=7).weight.detach().numpy()
    assert np.all(w[7] == 0) and np.all(wt[7] == 0)
    assert abs(w.std() - wt.std()) < 0.02 and abs(w.mean() - wt.mean()) < 0.02
    for bad in (9, -10):
        with pytest.raises(Exception):
            torch.nn.Embedding(9, 2, padding_idx=bad)
        with pytest.raises(ValueError):
            nn.Embedding(9, 2, padding_idx=bad)


def test_from_pretrained_as_torch():
    w = np.random.default_rng(5).standard_normal((4, 3)).astype(np.float32)
    for freeze in (True, False):
        ref = torch.nn.Embedding.from_pretrained(torch.tensor(w), freeze=freeze, padding_idx=2)
        ours = nn.Embedding.from_pretrained(tt.tensor(w), freeze=freeze, padding_idx=2)
        assert ours.weight.requires_grad == ref.weight.requires_grad
        np.testing.assert_array_equal(ours.weight.detach().numpy(), ref.weight.detach().numpy())
        assert repr(ours) == repr(ref)


def test_out_of_range_id_fails_in_both():
    with pytest.raises(IndexError):
        torch.nn.Embedding(4, 2)(torch.tensor([4]))
    with pytest.raises(IndexError, match="id 4 .*vocabulary of 4"):
        nn.Embedding(4, 2)(tt.tensor([4]))


# --------------------------------------------------------------------------- positions


def test_sinusoidal_matches_the_pytorch_tutorial_formula():
    import math

    max_len, d = 64, 32
    position = torch.arange(max_len).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d, 2) * (-math.log(10000.0) / d))
    pe = torch.zeros(max_len, d)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    np.testing.assert_allclose(sinusoidal_positional_encoding(max_len, d).numpy(), pe.numpy(),
                               atol=1e-5)


def test_rope_matches_llama_complex_rotation_and_its_gradient():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 10, 8)).astype(np.float32)  # (B, H, T, D)
    g = rng.standard_normal(x.shape).astype(np.float32)
    d, t = 8, 10
    freqs = 1.0 / (10000.0 ** (torch.arange(0, d, 2).float() / d))
    angles = torch.outer(torch.arange(t).float(), freqs)
    cis = torch.polar(torch.ones_like(angles), angles)  # (T, D/2) complex
    xt = torch.tensor(x, requires_grad=True)
    xc = torch.view_as_complex(xt.reshape(2, 3, t, d // 2, 2))
    ref = torch.view_as_real(xc * cis).reshape(x.shape)
    ref.backward(torch.tensor(g))
    xs = tt.tensor(x, requires_grad=True)
    out = rope(xs)
    out.backward(tt.tensor(g))
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), atol=1e-5)
