"""Module 18's fused ops against PyTorch: forward and gradient, float64 and float32.

``fused_gelu`` must be ``torch.nn.functional.gelu(x, approximate="tanh")`` and
``fused_softmax_cross_entropy`` must be ``torch.nn.functional.cross_entropy`` (mean and sum);
gradcheck in float64 as a second oracle. The NumPy-oracle tests are in
modules/18_acceleration/tests.
"""

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.autograd import gradcheck
from tinytorch.optimization.acceleration import (FusedGELU, fused_gelu,
                                                 fused_softmax_cross_entropy)

torch = pytest.importorskip("torch")


def _rand(shape, seed, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_fused_gelu_matches_torch_tanh_gelu(dtype, tol):
    x_np = _rand((3, 4, 5), 0, dtype) * 3
    g_np = _rand((3, 4, 5), 1, dtype)
    x = tt.tensor(x_np, requires_grad=True)
    y = FusedGELU()(x)
    y.backward(tt.tensor(g_np))
    xt = torch.tensor(x_np, requires_grad=True)
    yt = torch.nn.functional.gelu(xt, approximate="tanh")
    yt.backward(torch.tensor(g_np))
    assert y.dtype == (tt.float64 if dtype == np.float64 else tt.float32)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_fused_cross_entropy_matches_torch(reduction, dtype, tol):
    z = _rand((8, 6), 2, dtype) * 4
    t = np.random.default_rng(3).integers(0, 6, 8)
    x = tt.tensor(z, requires_grad=True)
    loss = fused_softmax_cross_entropy(x, t, reduction=reduction)
    (loss * 1.5).backward()
    xt = torch.tensor(z, requires_grad=True)
    lt = torch.nn.functional.cross_entropy(xt, torch.tensor(t), reduction=reduction)
    (lt * 1.5).backward()
    np.testing.assert_allclose(loss.item(), lt.item(), rtol=tol, atol=tol)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=tol, atol=tol)


def test_fused_ops_gradcheck():
    x = tt.tensor(_rand((4, 5), 4), requires_grad=True)
    t = np.array([0, 4, 2, 1])
    assert gradcheck(fused_gelu, (x,))
    assert gradcheck(lambda a: fused_softmax_cross_entropy(a, t, reduction="sum"), (x,))


def test_fused_gelu_drops_into_a_model_in_place_of_nn_gelu():
    """The same MLP with nn.GELU('tanh') and with FusedGELU: same output, same gradients."""
    tt.manual_seed(0)
    fc = tt.nn.Linear(6, 8)
    x_np = _rand((3, 6), 5)
    grads = []
    for act in (tt.nn.GELU(approximate="tanh"), FusedGELU()):
        fc.zero_grad()
        out = act(fc(tt.tensor(x_np))).sum()
        out.backward()
        grads.append((out.item(), fc.weight.grad.numpy().copy()))
    assert grads[0][0] == pytest.approx(grads[1][0], rel=1e-12)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(), (1,), (0,), (2, 1, 3)])
def test_fused_gelu_any_shape_matches_torch(shape):
    """0-d, size-1 and empty inputs: NumPy turns 0-d results into scalars, which in-place
    ufuncs refuse; the wrapper must still give torch's value and gradient."""
    x_np = np.asarray(np.random.default_rng(3).standard_normal(shape) * 2)
    x = tt.tensor(x_np, requires_grad=True)
    y = fused_gelu(x)
    y.sum().backward()
    xt = torch.tensor(x_np, requires_grad=True)
    yt = torch.nn.functional.gelu(xt, approximate="tanh")
    yt.sum().backward()
    assert y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)
