"""Module 05 graded tests: gradients of the activations (backward of ReLUFn ... LogSoftmaxFn
in ``core/activations.py``).

    relu'(x)       = 1 if x > 0 else 0  (0 at x = 0, PyTorch's choice)
    leaky_relu'(x) = 1 if x > 0 else slope
    sigmoid'(x)    = s (1 - s),  s = sigmoid(x)
    tanh'(x)       = 1 - tanh(x)^2
    gelu'(x)       = Phi(x) + x phi(x)     (Phi, phi: normal CDF and density)
    silu'(x)       = s (1 + x (1 - s))
    softmax:      Jacobian J = diag(y) - y y^T    so dL/dx = J^T G = y * (G - <G, y>)
    log_softmax:  Jacobian J = I - 1 y^T          so dL/dx = G - y * sum(G)

The softmax tests build the full Jacobian in NumPy and multiply, the slow way; the engine
should use the fast formula on the right.
"""

import math

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn.functional as F
from tinytorch.testing import assert_close

X = 1.5 * np.random.default_rng(0).standard_normal((3, 5))
ERF = np.vectorize(math.erf)


def backprop(fn, x, seed=99):
    t = tt.tensor(x, requires_grad=True)
    out = fn(t)
    g = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(tt.tensor(g))
    return g, t.grad


def sig(x):
    return 1 / (1 + np.exp(-x))


def gelu_tanh_deriv(x):
    c = np.sqrt(2 / np.pi)
    t = np.tanh(c * (x + 0.044715 * x ** 3))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t ** 2) * c * (1 + 3 * 0.044715 * x ** 2)


DERIVS = [
    ("relu", F.relu, lambda x: (x > 0).astype(float)),
    ("leaky_relu", F.leaky_relu, lambda x: np.where(x > 0, 1.0, 0.01)),
    ("leaky_relu(0.3)", lambda t: F.leaky_relu(t, 0.3), lambda x: np.where(x > 0, 1.0, 0.3)),
    ("sigmoid", F.sigmoid, lambda x: sig(x) * (1 - sig(x))),
    ("tanh", F.tanh, lambda x: 1 - np.tanh(x) ** 2),
    ("gelu", F.gelu,
     lambda x: 0.5 * (1 + ERF(x / np.sqrt(2))) + x * np.exp(-x * x / 2) / np.sqrt(2 * np.pi)),
    ("gelu(tanh)", lambda t: F.gelu(t, approximate="tanh"), gelu_tanh_deriv),
    ("silu", F.silu, lambda x: sig(x) * (1 + x * (1 - sig(x)))),
]


@pytest.mark.parametrize("name, fn, deriv", DERIVS, ids=[d[0] for d in DERIVS])
def test_elementwise_activation_gradients(name, fn, deriv):
    g, gx = backprop(fn, X)
    assert_close(gx, g * deriv(X), rtol=1e-6, atol=1e-7, what=f"d {name}(x)/dx",
                 inputs={"x": X, "G": g})


def test_relu_gradient_worked_example():
    x = tt.tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    x.relu().sum().backward()
    assert_close(x.grad, [0.0, 0.0, 1.0], what="d sum(relu(x))/dx (0 at x = 0)", inputs={"x": x})


def test_sigmoid_gradient_worked_example():
    x = tt.tensor(np.array([0.0]), requires_grad=True)
    x.sigmoid().sum().backward()
    assert_close(x.grad, [0.25], what="sigmoid'(0) = 0.5 * 0.5", inputs={"x": x})


def test_sigmoid_gradient_at_extreme_inputs_is_finite():
    x = tt.tensor(np.array([-1000.0, 1000.0], dtype=np.float32), requires_grad=True)
    with np.errstate(all="ignore"):
        x.sigmoid().sum().backward()
    assert_close(x.grad, [0.0, 0.0], what="sigmoid'(+-1000) (saturated: 0, not nan)",
                 inputs={"x": x})


def softmax_rows(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def jacobian_vector(x, g, log):
    """dL/dx row by row through the full Jacobian of softmax or log_softmax."""
    out = np.empty_like(x)
    for i, (row, grow) in enumerate(zip(x, g)):
        y = softmax_rows(row)
        n = len(row)
        if log:
            jac = np.eye(n) - np.outer(np.ones(n), y)  # d out_i / d x_j = [i == j] - y_j
        else:
            jac = np.diag(y) - np.outer(y, y)  # d y_i / d x_j = y_i ([i == j] - y_j)
        out[i] = jac.T @ grow
    return out


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [1, -1, 0])
def test_softmax_family_gradients_match_the_jacobian(log, dim):
    fn = F.log_softmax if log else F.softmax
    g, gx = backprop(lambda t: fn(t, dim=dim), X)
    if dim == 0:  # same math on the transposed rows
        expected = jacobian_vector(X.T, g.T, log).T
    else:
        expected = jacobian_vector(X, g, log)
    name = "log_softmax" if log else "softmax"
    assert_close(gx, expected, rtol=1e-6, atol=1e-9, what=f"d {name}(x, dim={dim})/dx",
                 inputs={"x": X, "G": g})


def test_softmax_gradient_of_a_constant_sum_is_zero():
    """Softmax rows always sum to 1, so d sum(softmax(x))/dx = 0."""
    x = tt.tensor(X, requires_grad=True)
    F.softmax(x, dim=1).sum().backward()
    assert_close(x.grad, np.zeros_like(X), atol=1e-12, what="d sum(softmax(x))/dx",
                 inputs={"x": X})


def test_log_softmax_gradient_at_huge_logits_is_finite():
    x = tt.tensor(np.array([[1e4, 0.0, -1e4]]), requires_grad=True)
    with np.errstate(all="ignore"):
        F.log_softmax(x, dim=1)[0, 0].backward()
    assert_close(x.grad, [[0.0, 0.0, 0.0]], atol=1e-12,
                 what="d log_softmax(x)[0]/dx when x[0] dominates", inputs={"x": x})


@pytest.mark.parametrize("dtype, big", [(np.float16, [70.0, 100.0, 200.0]),
                                        (np.float32, [1e14, 1e18]), (np.float64, [1e100])])
def test_gelu_tanh_gradient_where_it_saturates_is_0_and_1_not_nan(dtype, big):
    """Far from 0 GELU is x (slope 1) on the right and 0 on the left. x^3 overflows long
    before x^2 does (float16 from |x| = 40): a backward that forms it multiplies inf by the
    saturated 0 and returns nan."""
    big = np.array(big)
    x = tt.tensor(np.concatenate([-big, big]).astype(dtype), requires_grad=True)
    with np.errstate(all="ignore"):  # the forward's x^3 may overflow: tanh(inf) is fine
        F.gelu(x, approximate="tanh").sum().backward()
    g = x.grad.numpy()
    assert g.dtype == dtype
    assert np.array_equal(g, np.r_[np.zeros(len(big)), np.ones(len(big))]), g


@pytest.mark.parametrize("name, fn", [
    ("relu", F.relu), ("leaky_relu", lambda t: F.leaky_relu(t, 0.2)), ("sigmoid", F.sigmoid),
    ("tanh", F.tanh), ("gelu", F.gelu), ("gelu(tanh)", lambda t: F.gelu(t, approximate="tanh")),
    ("silu", F.silu), ("softmax", lambda t: F.softmax(t, dim=1)),
    ("log_softmax", lambda t: F.log_softmax(t, dim=0)),
])
def test_gradcheck_activations(name, fn):
    x = np.array([[-1.7, -0.6, 0.3, 1.2], [2.1, -0.2, 0.8, -1.1]])  # no zeros: relu's kink
    # gelu's erf is an approximation (error < 1.5e-7): its finite differences are a little
    # noisier than the exact derivative, hence the looser tolerance
    atol = 1e-4 if name == "gelu" else 1e-5
    assert tt.autograd.gradcheck(fn, [tt.tensor(x, requires_grad=True)], atol=atol)
