"""Module 13 against PyTorch: LayerNorm, RMSNorm, TransformerEncoderLayer and
TransformerEncoder load torch's weights and agree in outputs and gradients."""

from __future__ import annotations

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F

torch = pytest.importorskip("torch")


def _rand(shape, seed, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _load_from_torch(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def _compare(ours, theirs, x, call=lambda m, x: m(x), rtol=1e-4, atol=1e-5, grads=True):
    """Same input, same upstream gradient: outputs, input grads and every parameter's grad."""
    g = _rand(x.shape, 99, x.dtype)
    ox = tt.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    oy, ty = call(ours, ox), call(theirs, tx)
    np.testing.assert_allclose(oy.numpy(), ty.detach().numpy(), rtol=rtol, atol=atol)
    if not grads:
        return
    (oy * tt.tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(ox.grad.numpy(), tx.grad.numpy(), rtol=rtol, atol=atol * 10)
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), rtol=rtol,
                                   atol=atol * 10, err_msg=name)


# ------------------------------------------------------------------------------- norms


@pytest.mark.parametrize("shape, kwargs", [
    ((2, 5, 8), dict(normalized_shape=8)),
    ((2, 5, 8), dict(normalized_shape=(5, 8), eps=1e-3)),
    ((3, 1), dict(normalized_shape=1)),
    ((4, 6), dict(normalized_shape=[6], elementwise_affine=False)),
    ((4, 6), dict(normalized_shape=6, bias=False)),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layernorm_module_matches_torch(shape, kwargs, dtype):
    th = torch.nn.LayerNorm(**kwargs, dtype=torch.float64 if dtype == np.float64 else None)
    with torch.no_grad():
        for p in th.parameters():
            p.copy_(torch.randn(p.shape, generator=torch.Generator().manual_seed(1)))
    ours = nn.LayerNorm(**kwargs, dtype=dtype)
    assert list(ours.state_dict()) == list(th.state_dict())
    assert repr(ours) == repr(th)
    _load_from_torch(ours, th)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    _compare(ours, th, _rand(shape, 2, dtype) * 3 + 1, **tol)


@pytest.mark.parametrize("shape, kwargs", [
    ((2, 5, 8), dict(normalized_shape=8)),
    ((2, 5, 8), dict(normalized_shape=(5, 8), eps=1e-3)),
    ((3, 1), dict(normalized_shape=1, eps=0.5)),
    ((4, 6), dict(normalized_shape=6, elementwise_affine=False)),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rmsnorm_module_matches_torch(shape, kwargs, dtype):
    th = torch.nn.RMSNorm(**kwargs, dtype=torch.float64 if dtype == np.float64 else None)
    with torch.no_grad():
        for p in th.parameters():
            p.copy_(torch.randn(p.shape, generator=torch.Generator().manual_seed(1)))
    ours = nn.RMSNorm(**kwargs, dtype=dtype)
    assert list(ours.state_dict()) == list(th.state_dict())
    assert repr(ours) == repr(th)
    _load_from_torch(ours, th)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    _compare(ours, th, _rand(shape, 3, dtype), **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rms_norm_default_eps_is_the_dtype_machine_epsilon(dtype):
    x = np.full((2, 4), 1e-5, dtype=dtype)  # mean(x^2) = 1e-10: eps dominates in float32
    ours = F.rms_norm(tt.tensor(x), (4,)).numpy()
    theirs = torch.nn.functional.rms_norm(torch.tensor(x), (4,)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)


def test_layer_norm_of_a_constant_row_is_bias_and_float32_stays_float32():
    x = tt.full((2, 4), 1e4, dtype=np.float32).requires_grad_()
    y = F.layer_norm(x, (4,), tt.ones(4), tt.full((4,), 0.5))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), 0.5)
    y.sum().backward()
    assert x.grad.dtype == np.float32 and np.isfinite(x.grad.numpy()).all()


@pytest.mark.parametrize("offset", [0.0, 1e3, 1e4])
def test_layer_norm_float32_is_as_accurate_as_torch_far_from_zero(offset):
    """Two-pass statistics: a large common offset does not cancel the variance away."""
    x = _rand((64, 256), 14) + np.float32(offset)
    x64 = x.astype(np.float64)
    exact = (x64 - x64.mean(-1, keepdims=True)) / np.sqrt(x64.var(-1, keepdims=True) + 1e-5)
    ours = np.abs(F.layer_norm(tt.tensor(x), 256).numpy() - exact).max()
    theirs = np.abs(torch.nn.functional.layer_norm(torch.tensor(x), (256,)).numpy() - exact).max()
    assert ours <= max(1.5 * theirs, 1e-6), (ours, theirs)


@pytest.mark.parametrize("call, match", [
    (lambda: F.layer_norm(tt.randn(2, 3), (4,)), "normalized_shape"),
    (lambda: F.layer_norm(tt.randn(3), (2, 3)), "normalized_shape"),
    (lambda: F.layer_norm(tt.randn(2, 3), (3,), tt.ones(4)), "weight"),
    (lambda: F.rms_norm(tt.randn(2, 3), 2), "normalized_shape"),
    (lambda: nn.LayerNorm(3)(tt.ones(2, 3, dtype=np.int64)), "floating"),
])
def test_norms_reject_bad_shapes_with_helpful_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# ---------------------------------------------------------------------- encoder layer


def _layer_pair(seed=0, **kwargs):
    torch.manual_seed(seed)
    th = torch.nn.TransformerEncoderLayer(**kwargs)
    ours = nn.TransformerEncoderLayer(**kwargs)
    assert list(ours.state_dict()) == list(th.state_dict())
    _load_from_torch(ours, th)
    return ours, th


BASE = dict(d_model=16, nhead=4, dim_feedforward=32, dropout=0.0)


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(norm_first=True),
    dict(activation="gelu", batch_first=True),
    dict(norm_first=True, activation="gelu", batch_first=True, layer_norm_eps=1e-3),
    dict(bias=False),
])
def test_encoder_layer_matches_torch(kwargs):
    ours, th = _layer_pair(**BASE, **kwargs)
    _compare(ours, th, _rand((5, 3, 16), 4))


def test_encoder_layer_with_callable_activations():
    ours, th = _layer_pair(**BASE, activation=F.gelu)
    th.activation = torch.nn.functional.gelu
    _compare(ours, th, _rand((5, 3, 16), 5))
    ours, th = _layer_pair(**BASE, activation=nn.GELU(approximate="tanh"))
    th.activation = torch.nn.GELU(approximate="tanh")
    _compare(ours, th, _rand((5, 3, 16), 6))


def test_encoder_layer_masks_match_torch():
    ours, th = _layer_pair(**BASE, batch_first=True)
    S = 6
    bool_mask = np.triu(np.ones((S, S), dtype=bool), 1)  # True = may NOT attend (MHA's way)
    float_mask = _rand((S, S), 7)
    pad = np.zeros((2, S), dtype=bool)
    pad[0, 4:] = True  # the first sequence has two padding tokens
    x = _rand((2, S, 16), 8)
    for src_mask, kpm, causal in [(bool_mask, None, False), (float_mask, None, False),
                                  (None, pad, False), (bool_mask, pad, False),
                                  (bool_mask, None, True)]:
        def call(m, x, lib=None):
            t = torch if isinstance(m, torch.nn.Module) else tt
            return m(x, src_mask=None if src_mask is None else t.tensor(src_mask),
                     src_key_padding_mask=None if kpm is None else t.tensor(kpm),
                     is_causal=causal)
        ours.zero_grad()
        th.zero_grad()
        _compare(ours, th, x, call)


def test_encoder_layer_unbatched_and_eval_mode_match_torch():
    ours, th = _layer_pair(**dict(BASE, dropout=0.3))
    ours.eval()
    th.eval()
    x = _rand((5, 16), 9)  # unbatched (S, E)
    _compare(ours, th, x)
    with torch.no_grad():  # torch's inference fast path
        np.testing.assert_allclose(ours(tt.tensor(_rand((5, 2, 16), 10))).numpy(),
                                   th(torch.tensor(_rand((5, 2, 16), 10))).numpy(),
                                   rtol=1e-4, atol=1e-5)


def test_encoder_layer_dropout_is_active_in_training_and_seeded():
    ours, _ = _layer_pair(**dict(BASE, dropout=0.5))
    x = tt.tensor(_rand((4, 2, 16), 11))
    tt.manual_seed(0)
    a = ours(x).numpy()
    tt.manual_seed(0)
    b = ours(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - ours(x).numpy()).max() > 1e-3
    ours.eval()
    np.testing.assert_array_equal(ours(x).numpy(), ours(x).numpy())


def test_encoder_layer_rejects_an_unknown_activation():
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="swish")


@pytest.mark.parametrize("norm", [False, True])
def test_encoder_stack_matches_torch(norm):
    torch.manual_seed(0)
    tl = torch.nn.TransformerEncoderLayer(**BASE, batch_first=True)
    th = torch.nn.TransformerEncoder(tl, 2, norm=torch.nn.LayerNorm(16) if norm else None,
                                     enable_nested_tensor=False)
    ol = nn.TransformerEncoderLayer(**BASE, batch_first=True)
    ours = nn.TransformerEncoder(ol, 2, norm=nn.LayerNorm(16) if norm else None)
    assert list(ours.state_dict()) == list(th.state_dict())
    _load_from_torch(ours, th)
    assert ours.layers[0].linear1.weight is not ours.layers[1].linear1.weight
    _compare(ours, th, _rand((2, 5, 16), 12))
    causal = np.where(np.triu(np.ones((5, 5), dtype=bool), 1), -np.inf, 0.0).astype(np.float32)
    ours.zero_grad()
    th.zero_grad()
    _compare(ours, th, _rand((2, 5, 16), 13),
             lambda m, x: m(x, mask=(torch if isinstance(m, torch.nn.Module) else tt).tensor(causal)))
