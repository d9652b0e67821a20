"""Module 02 graded tests: the forward of every activation in ``core/activations.py``.

relu, leaky_relu, sigmoid, tanh, gelu (exact and tanh approximation), silu, softmax and
log_softmax. Forward values only: their gradients are module 05's work. Expected values are
written out or computed in the test with NumPy (and ``math.erf`` for GELU's exact form).
"""

import math

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn.functional as F
from tinytorch.core.activations import erf
from tinytorch.testing import assert_close


def data(seed, shape, scale=2.0):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


X = data(0, (4, 5))
ERF = np.vectorize(math.erf)  # the exact error function, element by element (test only)


def np_sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    return 1.0 / (1.0 + np.exp(-x))


def np_softmax(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ------------------------------------------------------------------------ elementwise


def test_relu_worked_example():
    x = tt.tensor([-2.0, -0.5, 0.0, 0.5, 2.0])
    assert_close(tt.relu(x), [0.0, 0.0, 0.0, 0.5, 2.0], what="relu(x)", inputs={"x": x})
    assert_close(x.relu(), [0.0, 0.0, 0.0, 0.5, 2.0], what="x.relu()", inputs={"x": x})


@pytest.mark.parametrize("name, fn, ref", [
    ("relu", F.relu, lambda x: np.maximum(x, 0)),
    ("leaky_relu", F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x)),
    ("leaky_relu(0.2)", lambda t: F.leaky_relu(t, 0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    ("sigmoid", F.sigmoid, np_sigmoid),
    ("tanh", F.tanh, np.tanh),
    ("gelu", F.gelu, lambda x: 0.5 * x * (1 + ERF(x / np.sqrt(2.0)))),
    ("gelu(tanh)", lambda t: F.gelu(t, approximate="tanh"),
     lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
    ("silu", F.silu, lambda x: x * np_sigmoid(x)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_elementwise_activation_values(name, fn, ref):
    got = fn(tt.tensor(X))
    assert_close(got, ref(X.astype(np.float64)), rtol=1e-5, atol=1e-6, what=f"{name}(x)",
                 inputs={"x": X})
    assert got.shape == X.shape, (f"{name}: output shape {got.shape} must equal the input "
                                  f"shape {X.shape}")
    assert got.dtype == np.float32, f"{name}: float32 in must give float32 out, got {got.dtype}"


def test_leaky_relu_worked_example():
    x = tt.tensor([-10.0, -1.0, 0.0, 3.0])
    assert_close(F.leaky_relu(x), [-0.1, -0.01, 0.0, 3.0], what="leaky_relu(x) (slope 0.01)",
                 inputs={"x": x})
    assert_close(F.leaky_relu(x, negative_slope=0.5), [-5.0, -0.5, 0.0, 3.0],
                 what="leaky_relu(x, 0.5)", inputs={"x": x})


def test_sigmoid_and_tanh_worked_examples():
    x = tt.tensor([0.0, np.log(3.0)])
    assert_close(tt.sigmoid(x), [0.5, 0.75], what="sigmoid([0, ln 3]) = [1/2, 3/4]",
                 inputs={"x": x})
    assert_close(tt.tanh(x), [0.0, 0.8], rtol=1e-6, what="tanh([0, ln 3]) = [0, 4/5]",
                 inputs={"x": x})


def test_gelu_worked_example():
    x = tt.tensor([0.0, 1.0, -1.0])
    # GELU(x) = x * Phi(x); Phi(1) = 0.841344746..., Phi(-1) = 0.158655254...
    assert_close(F.gelu(x), [0.0, 0.8413447, -0.1586553], rtol=1e-5, atol=1e-6,
                 what="gelu([0, 1, -1])", inputs={"x": x})


def test_activations_keep_float64():
    x = np.linspace(-3, 3, 7)  # float64
    for name, fn in [("relu", F.relu), ("sigmoid", F.sigmoid), ("tanh", F.tanh),
                     ("gelu", F.gelu), ("silu", F.silu), ("softmax", F.softmax)]:
        got = fn(tt.tensor(x))
        assert got.dtype == np.float64, f"{name}: float64 in must give float64 out, got {got.dtype}"


# ------------------------------------------------------------------------ extreme inputs


EXTREME = np.array([-1000.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0], dtype=np.float32)


def test_sigmoid_is_finite_and_correct_at_extreme_inputs():
    with np.errstate(all="ignore"):  # judge the values; the next test judges the warnings
        got = tt.sigmoid(tt.tensor(EXTREME))
    expected = np.array([0.0, 3.7200760e-44, 2.0611537e-09, 0.5, 1.0, 1.0, 1.0])
    assert_close(got, expected, rtol=1e-5, atol=1e-30, what="sigmoid at extreme inputs",
                 inputs={"x": EXTREME})


@pytest.mark.parametrize("name, fn", [("sigmoid", F.sigmoid), ("silu", F.silu),
                                      ("softmax", F.softmax), ("log_softmax", F.log_softmax)])
def test_no_overflow_warnings_at_extreme_inputs(name, fn):
    """exp(1000) overflows float32 (and float64): a stable formula never computes it."""
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        try:
            fn(tt.tensor(EXTREME))
        except FloatingPointError as e:
            pytest.fail(f"{name}(x) for x = {EXTREME.tolist()} overflowed ({e}): compute exp only "
                        "of numbers <= 0 (sigmoid: use exp(-|x|); softmax: subtract the max first)")


# ------------------------------------------------------------------------ softmax family


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_values_and_rows_sum_to_one(dim):
    got = F.softmax(tt.tensor(X), dim=dim)
    assert_close(got, np_softmax(X, axis=dim), rtol=1e-5, atol=1e-7,
                 what=f"softmax(x, dim={dim})", inputs={"x": X})
    assert_close(got.numpy().sum(axis=dim), np.ones(X.shape[1 - (dim % 2)]), rtol=1e-5,
                 what=f"softmax(x, dim={dim}).sum(dim={dim})", inputs={"x": X})


def test_softmax_worked_example():
    x = tt.tensor([[0.0, np.log(2.0), np.log(5.0)]])  # exp: 1, 2, 5 -> sum 8
    assert_close(tt.softmax(x, dim=-1), [[1 / 8, 2 / 8, 5 / 8]], rtol=1e-6,
                 what="softmax([0, ln 2, ln 5])", inputs={"x": x})
    assert_close(x.softmax(-1), [[1 / 8, 2 / 8, 5 / 8]], rtol=1e-6, what="x.softmax(-1)",
                 inputs={"x": x})


def test_softmax_of_huge_logits_is_finite():
    x = np.array([[1e4, 0.0, -1e4], [1000.0, 1000.0, 999.0]], dtype=np.float32)
    with np.errstate(all="ignore"):
        got = F.softmax(tt.tensor(x), dim=1)
    e = np.exp(-1.0)
    expected = [[1.0, 0.0, 0.0], [1 / (2 + e), 1 / (2 + e), e / (2 + e)]]
    assert_close(got, expected, rtol=1e-5, atol=1e-7,
                 what="softmax of logits around +-1e4 (subtract the row max first)",
                 inputs={"x": x})


def test_softmax_is_shift_invariant():
    got = F.softmax(tt.tensor(X + 50.0), dim=1)
    assert_close(got, np_softmax(X, axis=1), rtol=1e-4, atol=1e-6,
                 what="softmax(x + 50) == softmax(x)", inputs={"x": X})


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_log_softmax_values(dim):
    got = F.log_softmax(tt.tensor(X), dim=dim)
    assert_close(got, np.log(np_softmax(X, axis=dim)), rtol=1e-5, atol=1e-5,
                 what=f"log_softmax(x, dim={dim})", inputs={"x": X})


def test_log_softmax_stays_finite_where_softmax_underflows():
    """softmax([0, -1000]) = [1, 0] in floating point, and log(0) = -inf; log_softmax computed
    directly gives the exact [0, -1000]."""
    x = np.array([[0.0, -1000.0], [500.0, -500.0]], dtype=np.float32)
    with np.errstate(all="ignore"):
        got = F.log_softmax(tt.tensor(x), dim=1)
    assert_close(got, [[0.0, -1000.0], [0.0, -1000.0]], rtol=1e-6, atol=1e-4,
                 what="log_softmax at large gaps (x - max - log(sum(exp(x - max))))",
                 inputs={"x": x})


def test_softmax_dim_out_of_range():
    with pytest.raises(IndexError, match="dim"):
        F.softmax(tt.zeros(2, 3), dim=2)


def test_integer_input_to_sigmoid_is_refused():
    with pytest.raises(TypeError, match="float"):
        F.sigmoid(tt.tensor([1, 2]))


# ------------------------------------------------------------------------ the error function


def test_erf_approximation_is_accurate():
    x = np.linspace(-5, 5, 201)
    got = erf(x)
    assert_close(got, ERF(x), rtol=0, atol=2e-7, what="erf(x) against math.erf", inputs={"x": x})
