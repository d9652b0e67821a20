"""Module 05 graded tests: the gradient of the linear layer (LinearFn backward).

For Y = X @ W.T + b, X (M, in), W (out, in), b (out,), upstream gradient G = dL/dY (M, out):

    dL/dX = G @ W        dL/dW = G^T @ X        dL/db = sum of G over the rows

Leading dims of X (B, T, in) are rows too: dW and db sum over all B * T of them. The
expected values below are written with einsum, independently of the code under test; the
layers are not square, so a transposed gradient has the wrong shape, and a square case
checks the orientation where shapes cannot.
"""

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn.functional as F
from tinytorch.autograd import gradcheck
from tinytorch.testing import assert_close


def data(seed, shape, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def expected(x, w, g):
    m = int(np.prod(x.shape[:-1]))  # rows; explicit, as -1 is ambiguous for a size-0 dim
    rows = x.reshape(m, x.shape[-1])
    gr = g.reshape(m, g.shape[-1])
    dx = np.einsum("mo,oi->mi", gr, w).reshape(x.shape)
    dw = np.einsum("mo,mi->oi", gr, rows)
    db = gr.sum(axis=0)
    return dx, dw, db


@pytest.mark.parametrize("x_shape, out", [((5, 4), 3), ((2, 3, 4), 4), ((4,), 6), ((2, 1, 3, 5), 2),
                                          ((0, 4), 3), ((3, 4), 0), ((2, 3, 4), 0), ((2, 0), 3),
                                          ((0,), 3)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_gradients_match_the_formulas(x_shape, out, with_bias):
    x, w, b = data(1, x_shape), data(2, (out, x_shape[-1])), data(3, (out,))
    g = data(4, x_shape[:-1] + (out,))
    xt, wt = tt.tensor(x, requires_grad=True), tt.tensor(w, requires_grad=True)
    bt = tt.tensor(b, requires_grad=True) if with_bias else None
    y = F.linear(xt, wt, bt)
    assert tuple(y.shape) == x_shape[:-1] + (out,)
    y.backward(tt.tensor(g))
    dx, dw, db = expected(x, w, g)
    assert_close(xt.grad.numpy(), dx, rtol=1e-10, atol=1e-12)
    assert_close(wt.grad.numpy(), dw, rtol=1e-10, atol=1e-12)
    if with_bias:
        assert_close(bt.grad.numpy(), db, rtol=1e-10, atol=1e-12)


def test_square_layer_gradients_are_not_transposed():
    """A square weight hides a transposed gradient from every shape check; values do not."""
    x, w, b, g = data(5, (7, 3)), data(6, (3, 3)), data(7, (3,)), data(8, (7, 3))
    xt, wt, bt = (tt.tensor(a, requires_grad=True) for a in (x, w, b))
    F.linear(xt, wt, bt).backward(tt.tensor(g))
    dx, dw, db = expected(x, w, g)
    assert_close(xt.grad.numpy(), dx, rtol=1e-10, atol=1e-12)
    assert_close(wt.grad.numpy(), dw, rtol=1e-10, atol=1e-12)
    assert_close(bt.grad.numpy(), db, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("x_shape", [(4, 3), (2, 3, 3)])
def test_linear_gradcheck(x_shape):
    ts = [tt.tensor(data(10 + i, s), requires_grad=True)
          for i, s in enumerate((x_shape, (3, x_shape[-1]), (3,)))]
    assert gradcheck(lambda x, w, b: F.linear(x, w, b), ts)


def test_only_the_gradients_asked_for_and_float32_kept():
    """A data batch gets no gradient, a frozen weight neither; what is computed keeps the
    layer's float32."""
    layer = tt.nn.Linear(5, 3)
    layer.weight.requires_grad_(False)
    x = tt.tensor(data(20, (4, 5), np.float32))
    g = data(21, (4, 3), np.float32)
    layer(x).backward(tt.tensor(g))
    assert x.grad is None and layer.weight.grad is None
    assert layer.bias.grad.dtype == np.float32
    assert_close(layer.bias.grad.numpy(), g.sum(axis=0), rtol=1e-6, atol=1e-6)


def test_gradient_accumulates_over_two_uses_of_one_layer():
    layer = tt.nn.Linear(4, 4, dtype=np.float64)
    x1, x2 = tt.tensor(data(30, (3, 4))), tt.tensor(data(31, (2, 4)))
    (layer(x1).sum() + (layer(x2) * 2).sum()).backward()
    w = layer.weight.numpy()
    _, dw1, db1 = expected(x1.numpy(), w, np.ones((3, 4)))
    _, dw2, db2 = expected(x2.numpy(), w, 2 * np.ones((2, 4)))
    assert_close(layer.weight.grad.numpy(), dw1 + dw2, rtol=1e-10, atol=1e-12)
    assert_close(layer.bias.grad.numpy(), db1 + db2, rtol=1e-10, atol=1e-12)
