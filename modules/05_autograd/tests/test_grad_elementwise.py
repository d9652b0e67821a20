"""Module 05 graded tests: gradients of elementwise math (Exp, Log, Sqrt, Abs, Clip, Maximum,
Minimum backward).

    d exp(x)  = exp(x)            d log(x) = 1 / x         d sqrt(x) = 1 / (2 sqrt(x))
    d |x|     = sign(x)  (0 at 0, PyTorch's choice)
    d clip(x, lo, hi) = 1 where lo <= x <= hi, else 0
    d max(a, b)/da = 1 where a > b, 0 where a < b, 1/2 where they tie (PyTorch splits ties)
"""

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.testing import assert_close


def data(seed, shape, low=None):
    x = np.random.default_rng(seed).standard_normal(shape)
    return x if low is None else np.abs(x) + low


def backprop(fn, *arrays, seed=99):
    leaves = [tt.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*leaves)
    g = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(tt.tensor(g))
    return g, [leaf.grad for leaf in leaves]


@pytest.mark.parametrize("name, fn, deriv, positive", [
    ("exp", lambda t: t.exp(), np.exp, False),
    ("log", lambda t: t.log(), lambda x: 1 / x, True),
    ("sqrt", lambda t: t.sqrt(), lambda x: 0.5 / np.sqrt(x), True),
    ("abs", lambda t: t.abs(), np.sign, False),
], ids=lambda v: v if isinstance(v, str) else "")
def test_unary_math_gradients(name, fn, deriv, positive):
    x = data(1, (3, 4), low=0.1 if positive else None)
    g, (gx,) = backprop(fn, x)
    assert_close(gx, g * deriv(x), rtol=1e-7, what=f"d {name}(x)/dx", inputs={"x": x, "G": g})


def test_worked_examples():
    x = tt.tensor(np.array([0.0, 1.0, 2.0]), requires_grad=True)
    x.exp().sum().backward()
    assert_close(x.grad, [1.0, np.e, np.e ** 2], what="d sum(exp(x))/dx = exp(x)", inputs={"x": x})
    y = tt.tensor(np.array([-3.0, 0.0, 2.0]), requires_grad=True)
    y.abs().sum().backward()
    assert_close(y.grad, [-1.0, 0.0, 1.0], what="d sum(|x|)/dx = sign(x), 0 at 0", inputs={"x": y})


def test_clip_gradient_passes_inside_and_on_the_bounds():
    x = tt.tensor(np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0]), requires_grad=True)
    x.clip(-1.0, 1.0).sum().backward()
    assert_close(x.grad, [0.0, 1.0, 1.0, 1.0, 1.0, 0.0],
                 what="d sum(clip(x, -1, 1))/dx (1 inside [lo, hi], bounds included)",
                 inputs={"x": x})


@pytest.mark.parametrize("lo, hi", [(-0.5, 0.5), (0.0, None), (None, 0.3)])
def test_clip_gradient_random(lo, hi):
    x = data(2, (4, 5))
    g, (gx,) = backprop(lambda t: t.clip(lo, hi), x)
    keep = np.ones_like(x, dtype=bool)
    if lo is not None:
        keep &= x >= lo
    if hi is not None:
        keep &= x <= hi
    assert_close(gx, g * keep, what=f"d clip(x, {lo}, {hi})/dx", inputs={"x": x, "G": g})


def test_maximum_minimum_split_ties_evenly():
    a = tt.tensor(np.array([1.0, 5.0, 3.0]), requires_grad=True)
    b = tt.tensor(np.array([4.0, 2.0, 3.0]), requires_grad=True)
    tt.maximum(a, b).sum().backward()
    assert_close(a.grad, [0.0, 1.0, 0.5], what="d sum(max(a, b))/da (tie at index 2 split)",
                 inputs={"a": a, "b": b})
    assert_close(b.grad, [1.0, 0.0, 0.5], what="d sum(max(a, b))/db", inputs={"a": a, "b": b})
    a.grad = b.grad = None
    tt.minimum(a, b).sum().backward()
    assert_close(a.grad, [1.0, 0.0, 0.5], what="d sum(min(a, b))/da", inputs={"a": a, "b": b})
    assert_close(b.grad, [0.0, 1.0, 0.5], what="d sum(min(a, b))/db", inputs={"a": a, "b": b})


def test_maximum_with_broadcasting():
    a, b = data(3, (3, 4)), data(4, (4,))
    g, (ga, gb) = backprop(lambda x, y: x.maximum(y), a, b)
    assert_close(ga, g * (a > b), what="d max(a, b)/da", inputs={"a": a, "b": b, "G": g})
    assert_close(gb, (g * (b > a)).sum(axis=0), what="d max(a, b)/db, b of shape (4,) broadcast",
                 inputs={"a": a, "b": b, "G": g})


@pytest.mark.parametrize("name, fn, positive", [
    ("exp", lambda t: t.exp(), False),
    ("log", lambda t: t.log(), True),
    ("sqrt", lambda t: t.sqrt(), True),
    ("abs", lambda t: t.abs(), False),
    ("clip", lambda t: t.clip(-0.5, 0.5), False),
    ("maximum", lambda t: t.maximum(tt.tensor(np.full((2, 3), 0.1))), False),
    ("minimum", lambda t: t.minimum(tt.tensor(np.full((2, 3), 0.1))), False),
], ids=lambda v: v if isinstance(v, str) else "")
def test_gradcheck_elementwise(name, fn, positive):
    # values kept away from the kinks (0 for abs, the clip bounds, the max/min threshold),
    # where finite differences straddle two slopes
    x = np.array([[-1.3, -0.8, 0.35], [0.7, 1.1, -0.2]])
    if positive:
        x = np.abs(x) + 0.2
    assert tt.autograd.gradcheck(fn, [tt.tensor(x, requires_grad=True)])
