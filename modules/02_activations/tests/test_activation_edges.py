"""Module 02 graded tests: every activation at extreme inputs, with every option, every dtype.

Oracles: the formulas in float64 NumPy, computed the stable way (log-sum-exp with the max
subtracted; sigmoid through exp(-|x|)), so they hold at +-100 and +-1000 where a naive rewrite
overflows to inf or nan. Options are tried with values that make a forgotten option visible
(slope 0.2 and 2.0 and np.float64(0.2), softmax along dims 0, 1 and -1 of a non-square
(2, 3, 4) input, gelu's tanh form far from 0 where the cubic term matters), and the output
keeps the input's dtype (float32 stays float32; relu of an int tensor stays int).
"""

import math

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.testing import assert_close

EXTREME = np.array([-1000.0, -100.0, -20.0, -1.5, -0.0, 0.0, 1e-8, 0.7, 20.0, 100.0, 1000.0])
DTYPES = [np.float32, np.float64]


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def _tol(dtype):
    # atol below float32's smallest normal: sigmoid(-100) = 3.7e-44 must not come out as 0
    return dict(rtol=1e-5, atol=1e-44) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_and_tanh_at_extremes(dtype):
    x = EXTREME.astype(dtype)
    got = F.sigmoid(tt.tensor(x)) if hasattr(F, "sigmoid") else tt.tensor(x).sigmoid()
    assert got.dtype == tt.tensor(x).dtype
    with np.errstate(under="ignore"):
        want = _sigmoid(x.astype(np.float64)).astype(dtype)
    assert_close(got, want, **_tol(dtype), what=f"sigmoid at +-1000 ({np.dtype(dtype)}): "
                 "tiny but not 0 at -100 (4e-44), exactly 1 at +100, never nan",
                 inputs={"x": x})
    assert_close(tt.tensor(x).tanh(), np.tanh(x.astype(np.float64)).astype(dtype), **_tol(dtype),
                 what="tanh at extremes")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("slope", [0.01, 0.2, 2.0, 0.0, np.float64(0.2)], ids=repr)
def test_leaky_relu_every_slope_keeps_dtype(dtype, slope):
    x = EXTREME.astype(dtype)
    want = np.where(x > 0, x.astype(np.float64), float(slope) * x.astype(np.float64))
    for got in (F.leaky_relu(tt.tensor(x), slope), nn.LeakyReLU(slope)(tt.tensor(x))):
        assert got.dtype == tt.tensor(x).dtype, \
            f"leaky_relu({np.dtype(dtype)} input, slope={slope!r}) must keep the input's dtype"
        assert_close(got, want.astype(dtype), **_tol(dtype),
                     what=f"leaky_relu(slope={slope!r})", inputs={"x": x})


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float32, np.float64])
def test_relu_keeps_every_dtype(dtype):
    x = np.array([-3, 0, 2, 7]).astype(dtype)
    got = F.relu(tt.tensor(x))
    assert got.dtype == tt.tensor(x).dtype, \
        f"relu of a {np.dtype(dtype)} tensor is {np.dtype(dtype)} (PyTorch), got {got.dtype}"
    assert_close(got.numpy().astype(np.float64), [0, 0, 2, 7], what="relu")


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_gelu_both_forms_far_from_zero(approximate, dtype):
    x = np.array([-6.0, -3.0, -1.0, -0.1, 0.0, 0.5, 1.7, 3.0, 6.0], dtype)
    x64 = x.astype(np.float64)
    if approximate == "tanh":
        want = 0.5 * x64 * (1 + np.tanh(math.sqrt(2 / math.pi) * (x64 + 0.044715 * x64 ** 3)))
    else:
        want = 0.5 * x64 * (1 + np.array([math.erf(v / math.sqrt(2)) for v in x64]))
    got = F.gelu(tt.tensor(x), approximate=approximate)
    assert got.dtype == tt.tensor(x).dtype
    assert_close(got, want.astype(dtype), rtol=1e-5, atol=1e-6,
                 what=f"gelu(approximate={approximate!r})", inputs={"x": x})


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2, -3])
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_and_log_softmax_every_dim_with_huge_logits(dim, dtype):
    rng = np.random.default_rng(dim + 3)
    x = rng.standard_normal((2, 3, 4)) * 3
    x[0, 0, 0], x[1, 2, 3], x[1, 0, 1] = 1000.0, -1000.0, 200.0  # naive exp overflows
    x = x.astype(dtype)
    logp = _log_softmax(x.astype(np.float64), dim)
    got = F.softmax(tt.tensor(x), dim=dim)
    assert got.dtype == tt.tensor(x).dtype and got.shape == x.shape
    assert_close(got, np.exp(logp).astype(dtype), rtol=1e-5, atol=1e-7,
                 what=f"softmax(dim={dim}) on a (2, 3, 4) input with logits of +-1000",
                 inputs={"x": x})
    assert_close(F.log_softmax(tt.tensor(x), dim=dim), logp.astype(dtype), rtol=1e-5, atol=1e-4,
                 what=f"log_softmax(dim={dim}): finite (-1200, not -inf) where softmax underflows")


def test_softmax_module_and_single_element_axis():
    x = np.array([[0.0, -200.0, 5.0]], np.float32)
    assert_close(nn.Softmax(dim=0)(tt.tensor(x)), np.ones_like(x),
                 what="softmax over a size-1 axis is 1 everywhere")
    assert_close(nn.LogSoftmax(dim=1)(tt.tensor(x)), _log_softmax(x.astype(np.float64), 1),
                 rtol=1e-5, what="LogSoftmax(dim=1) with a logit 205 below the max")
