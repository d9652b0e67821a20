"""FLOP counts equal PyTorch's FlopCounterMode for the same ops and shapes (module 14).

Each case builds the same computation in both frameworks and compares the totals, forward
only and forward + backward (which inputs need a gradient changes the backward count)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch.utils.flop_counter import FlopCounterMode as TorchFlops  # noqa: E402

import tinytorch as tt  # noqa: E402
import tinytorch.nn as nn  # noqa: E402
import tinytorch.nn.functional as F  # noqa: E402
from tinytorch.utils.flop_counter import FlopCounterMode  # noqa: E402


def _torch_total(fn, backward):
    with TorchFlops(display=False) as fc:
        out = fn()
        if backward:
            out.sum().backward()
    return fc.get_total_flops()


def _tt_total(fn, backward):
    with FlopCounterMode(display=False) as fc:
        out = fn()
        if backward:
            out.sum().backward()
    return fc.get_total_flops()


def _pair(shape, grad=True):
    a = np.random.default_rng(sum(shape)).standard_normal(shape).astype(np.float32)
    return (tt.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad))


@pytest.mark.parametrize("backward", [False, True])
@pytest.mark.parametrize("shape,bias,x_grad", [((5, 8), True, True), ((5, 8), False, False),
                                               ((2, 3, 8), True, False), ((8,), True, True)])
def test_linear(shape, bias, x_grad, backward):
    x, xt = _pair(shape, grad=x_grad)
    m, mt = nn.Linear(8, 6, bias=bias), torch.nn.Linear(8, 6, bias=bias)
    assert _tt_total(lambda: m(x), backward) == _torch_total(lambda: mt(xt), backward)


@pytest.mark.parametrize("backward", [False, True])
@pytest.mark.parametrize("kw,x_grad", [
    (dict(in_channels=3, out_channels=4, kernel_size=3), True),
    (dict(in_channels=3, out_channels=5, kernel_size=(3, 2), stride=2, padding=1), False),
    (dict(in_channels=4, out_channels=6, kernel_size=3, padding=2, dilation=2, groups=2), True),
    (dict(in_channels=4, out_channels=4, kernel_size=3, groups=4, bias=False), False),
])
def test_conv2d(kw, x_grad, backward):
    x, xt = _pair((2, kw["in_channels"], 9, 8), grad=x_grad)
    m, mt = nn.Conv2d(**kw), torch.nn.Conv2d(**kw)
    assert _tt_total(lambda: m(x), backward) == _torch_total(lambda: mt(xt), backward)


@pytest.mark.parametrize("backward", [False, True])
def test_conv_transpose2d_and_conv1d(backward):
    x, xt = _pair((2, 4, 5, 6))
    m = nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2)
    mt = torch.nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2)
    assert _tt_total(lambda: m(x), backward) == _torch_total(lambda: mt(xt), backward)
    x, xt = _pair((2, 3, 11))
    m, mt = nn.Conv1d(3, 5, 3, padding=1), torch.nn.Conv1d(3, 5, 3, padding=1)
    assert _tt_total(lambda: m(x), backward) == _torch_total(lambda: mt(xt), backward)


@pytest.mark.parametrize("backward", [False, True])
@pytest.mark.parametrize("sa,sb,ga,gb", [((4, 5), (5, 6), True, True),
                                         ((3, 4, 5), (3, 5, 6), True, False),
                                         ((2, 3, 4, 5), (5, 6), False, True),
                                         ((2, 1, 4, 5), (3, 5, 6), True, True)])
def test_matmul_and_bmm(sa, sb, ga, gb, backward):
    (a, at), (b, bt) = _pair(sa, ga), _pair(sb, gb)
    assert _tt_total(lambda: a @ b, backward) == _torch_total(lambda: at @ bt, backward)
    if len(sa) == len(sb) == 3:
        assert _tt_total(lambda: tt.bmm(a, b), backward) == \
            _torch_total(lambda: torch.bmm(at, bt), backward)


@pytest.mark.parametrize("backward", [False, True])
@pytest.mark.parametrize("causal,grads", [(False, (True, True, True)),
                                          (True, (True, False, True)),
                                          (False, (False, False, True))])
def test_scaled_dot_product_attention(causal, grads, backward):
    (q, qt), (k, kt), (v, vt) = (_pair((2, 3, 5, 4), grads[0]), _pair((2, 3, 5, 4), grads[1]),
                                 _pair((2, 3, 5, 7), grads[2]))
    ours = _tt_total(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal), backward)
    theirs = _torch_total(lambda: torch.nn.functional.scaled_dot_product_attention(
        qt, kt, vt, is_causal=causal), backward)
    assert ours == theirs


def test_mlp_per_module_counts_match_torch_names_and_values():
    m = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    mt = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
    x, xt = _pair((5, 8))
    with FlopCounterMode(m, display=False) as fc:
        m(x).sum().backward()
    with TorchFlops(display=False) as fct:
        mt(xt).sum().backward()
    ours = {k: sum(v.values()) for k, v in fc.get_flop_counts().items()}
    theirs = {k: sum(v.values()) for k, v in fct.get_flop_counts().items()}
    assert ours == theirs


EINSUMS = [("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("ij,j->i", [(3, 4), (4,)]),
           ("i,j->ij", [(3,), (4,)]), ("bi,bi->b", [(2, 3), (2, 3)]),
           ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]), ("ii->", [(3, 3)]),
           ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]), ("ij,kj->ik", [(3, 4), (5, 4)]),
           ("ai,aj->ij", [(7, 3), (7, 4)]), ("abc,ac->b", [(2, 3, 4), (2, 4)]),
           ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 6)]), ("ij,jk,k->i", [(2, 3), (3, 4), (4,)])]


@pytest.mark.parametrize("backward", [False, True])
@pytest.mark.parametrize("first_only", [False, True])
@pytest.mark.parametrize("eq,shapes", EINSUMS, ids=[e for e, _ in EINSUMS])
def test_einsum(eq, shapes, first_only, backward):
    """torch.einsum runs bmm (counted) or mul (not counted) pair by pair, left to right; the
    count follows which operands need a gradient, intermediates included."""
    pairs = [_pair(s, grad=not first_only or k == 0) for k, s in enumerate(shapes)]
    ours, theirs = [p[0] for p in pairs], [p[1] for p in pairs]
    with torch.backends.opt_einsum.flags(enabled=False):  # torch's plain left-to-right order
        want = _torch_total(lambda: torch.einsum(eq, *theirs), backward)
    assert _tt_total(lambda: tt.einsum(eq, *ours), backward) == want
