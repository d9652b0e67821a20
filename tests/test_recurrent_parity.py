"""nn.RNN / nn.LSTM / nn.GRU and their cells against PyTorch's, weights shared by state_dict.

For each configuration the PyTorch module's state_dict is loaded into ours (same names and
shapes), the same input and initial state go through both, and the outputs, final states
and the gradients of every parameter and of the input agree to float32 rounding.
"""

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn

torch = pytest.importorskip("torch")

CONFIGS = [
    ("RNN", dict(num_layers=1)),
    ("RNN", dict(num_layers=2, nonlinearity="relu", batch_first=True)),
    ("LSTM", dict(num_layers=2)),
    ("LSTM", dict(num_layers=1, bidirectional=True, batch_first=True)),
    ("LSTM", dict(num_layers=2, bidirectional=True, bias=False)),
    ("GRU", dict(num_layers=2)),
    ("GRU", dict(num_layers=1, bidirectional=True)),
]


def _pair(kind, kw, hin=3, hid=4):
    torch.manual_seed(0)
    ref = getattr(torch.nn, kind)(hin, hid, **kw)
    ours = getattr(nn, kind)(hin, hid, **kw)
    assert sorted(ours.state_dict()) == sorted(ref.state_dict())
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in ref.state_dict().items()})
    return ours, ref


def _close(a, b, tol=2e-5):
    np.testing.assert_allclose(np.asarray(a.detach().numpy() if hasattr(a, "detach") else a),
                               b.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("kind,kw", CONFIGS)
@pytest.mark.parametrize("with_state", [False, True])
def test_recurrent_matches_torch(kind, kw, with_state):
    ours, ref = _pair(kind, kw)
    rng = np.random.default_rng(1)
    L, N = 5, 2
    shape = (N, L, 3) if kw.get("batch_first") else (L, N, 3)
    x = rng.standard_normal(shape).astype(np.float32)
    xt, xo = torch.tensor(x, requires_grad=True), tt.tensor(x, requires_grad=True)
    D = 2 if kw.get("bidirectional") else 1
    hs = (D * kw["num_layers"], N, 4)
    args_t, args_o = (xt,), (xo,)
    if with_state:
        h0 = rng.standard_normal(hs).astype(np.float32)
        c0 = rng.standard_normal(hs).astype(np.float32)
        if kind == "LSTM":
            args_t += ((torch.tensor(h0), torch.tensor(c0)),)
            args_o += ((tt.tensor(h0), tt.tensor(c0)),)
        else:
            args_t += (torch.tensor(h0),)
            args_o += (tt.tensor(h0),)
    out_t, st_t = ref(*args_t)
    out_o, st_o = ours(*args_o)
    _close(out_o, out_t)
    if kind == "LSTM":
        _close(st_o[0], st_t[0])
        _close(st_o[1], st_t[1])
        loss_t = out_t.pow(2).sum() + st_t[1].sum()
        loss_o = out_o.pow(2).sum() + st_o[1].sum()
    else:
        _close(st_o, st_t)
        loss_t, loss_o = out_t.pow(2).sum() + st_t.sum(), out_o.pow(2).sum() + st_o.sum()
    loss_t.backward()
    loss_o.backward()
    _close(xo.grad, xt.grad, 1e-4)
    for (name, p), (_, q) in zip(sorted(ours.named_parameters()), sorted(ref.named_parameters())):
        _close(p.grad, q.grad, 1e-4)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_unbatched_input(kind):
    ours, ref = _pair(kind, dict(num_layers=1))
    x = np.random.default_rng(2).standard_normal((6, 3)).astype(np.float32)
    out_t, _ = ref(torch.tensor(x))
    out_o, _ = ours(tt.tensor(x))
    assert tuple(out_o.shape) == (6, 4)
    _close(out_o, out_t)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_torch(kind):
    torch.manual_seed(0)
    ref, ours = getattr(torch.nn, kind)(3, 4), getattr(nn, kind)(3, 4)
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in ref.state_dict().items()})
    x = np.random.default_rng(3).standard_normal((2, 3)).astype(np.float32)
    out_t, out_o = ref(torch.tensor(x)), ours(tt.tensor(x))
    if kind == "LSTMCell":
        out_t, out_o = out_t[1], out_o[1]
    _close(out_o, out_t)


def test_dropout_between_layers_only_in_training():
    tt.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = tt.randn(5, 2, 3)
    lstm.eval()
    a, _ = lstm(x)
    b, _ = lstm(x)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    lstm.train()
    c, _ = lstm(x)
    assert not np.allclose(c.numpy(), a.numpy())


def test_wrong_shapes_say_what_was_expected():
    lstm = nn.LSTM(3, 4)
    with pytest.raises(ValueError, match=r"\(L, N, 3\)"):
        lstm(tt.randn(5, 2, 7))
    with pytest.raises(ValueError, match="h_0"):
        lstm(tt.randn(5, 2, 3), (tt.zeros(2, 2, 4), tt.zeros(2, 2, 4)))
