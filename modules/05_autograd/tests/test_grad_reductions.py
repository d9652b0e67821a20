"""Module 05 graded tests: gradients of reductions (Sum, Mean, Var, MaxReduce backward).

A reduction's gradient flows back to every element it read:

    sum over dims    ->  dL/dx = G, broadcast back over the reduced dims
    mean over dims   ->  dL/dx = G / N   (N elements per output)
    var (correction c) -> dL/dx = G * 2 (x - mean) / (N - c)
    max over a dim   ->  dL/dx = G at the argmax, 0 elsewhere
    max of everything -> G shared evenly by the tied maxima

"Broadcast back" needs the reduced axes restored first when ``keepdim=False``.
"""

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.testing import assert_close

X = np.random.default_rng(0).standard_normal((2, 3, 4))


def backprop(fn, x, seed=99):
    t = tt.tensor(x, requires_grad=True)
    out = fn(t)
    g = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(tt.tensor(g))
    return g, t.grad


def expand_back(g, shape, dims, keepdim):
    """The upstream gradient of a reduction, reshaped so it broadcasts against the input."""
    if dims is None:
        dims = tuple(range(len(shape)))
    dims = (dims,) if isinstance(dims, int) else dims
    dims = tuple(d % len(shape) for d in dims)
    if not keepdim:
        g = np.expand_dims(g, dims)
    return np.broadcast_to(g, shape)


DIMS = [None, 0, 1, -1, (0, 2)]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS, ids=str)
def test_sum_gradient(dim, keepdim):
    g, gx = backprop(lambda t: t.sum(dim=dim, keepdim=keepdim), X)
    assert_close(gx, expand_back(g, X.shape, dim, keepdim), rtol=1e-7,
                 what=f"d x.sum(dim={dim}, keepdim={keepdim})/dx", inputs={"x": X, "G": g})


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS, ids=str)
def test_mean_gradient(dim, keepdim):
    g, gx = backprop(lambda t: t.mean(dim=dim, keepdim=keepdim), X)
    n = X.size // np.asarray(g).size
    assert_close(gx, expand_back(g, X.shape, dim, keepdim) / n, rtol=1e-7,
                 what=f"d x.mean(dim={dim}, keepdim={keepdim})/dx = G / {n}",
                 inputs={"x": X, "G": g})


def test_mean_worked_example():
    x = tt.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    x.mean().backward()
    assert_close(x.grad, [[0.25, 0.25], [0.25, 0.25]], what="d mean(x)/dx = 1/N",
                 inputs={"x": x})


@pytest.mark.parametrize("correction", [1, 0])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (1, False), (2, True), ((0, 1), False)],
                         ids=str)
def test_var_gradient(dim, keepdim, correction):
    g, gx = backprop(lambda t: t.var(dim=dim, keepdim=keepdim, correction=correction), X)
    axes = dim if dim is not None else tuple(range(X.ndim))
    mean = X.mean(axis=axes, keepdims=True)
    n = X.size // mean.size
    expected = expand_back(g, X.shape, dim, keepdim) * 2 * (X - mean) / (n - correction)
    assert_close(gx, expected, rtol=1e-7, atol=1e-12,
                 what=f"d x.var(dim={dim}, keepdim={keepdim}, correction={correction})/dx",
                 inputs={"x": X, "G": g})


def test_std_gradient():
    g, gx = backprop(lambda t: t.std(dim=1), X)
    std = X.std(axis=1, ddof=1, keepdims=True)
    expected = np.expand_dims(g, 1) * (X - X.mean(axis=1, keepdims=True)) / ((3 - 1) * std)
    assert_close(gx, expected, rtol=1e-6, what="d x.std(dim=1)/dx = (x - mean) / ((N-1) std)",
                 inputs={"x": X, "G": g})


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
@pytest.mark.parametrize("which", ["max", "min"])
def test_max_min_along_a_dim_route_the_gradient_to_the_winner(which, dim, keepdim):
    g, gx = backprop(lambda t: getattr(t, which)(dim=dim, keepdim=keepdim).values, X)
    idx = (np.argmax if which == "max" else np.argmin)(X, axis=dim)
    onehot = np.zeros_like(X)
    np.put_along_axis(onehot, np.expand_dims(idx, dim), 1.0, axis=dim)
    expected = expand_back(g, X.shape, dim, keepdim) * onehot
    assert_close(gx, expected, what=f"d x.{which}(dim={dim}, keepdim={keepdim}).values/dx",
                 inputs={"x": X, "G": g})


def test_max_of_everything_shares_the_gradient_between_ties():
    x = tt.tensor(np.array([[1.0, 3.0], [3.0, 2.0]]), requires_grad=True)
    x.max().backward()
    assert_close(x.grad, [[0.0, 0.5], [0.5, 0.0]], what="d max(x)/dx with two tied maxima",
                 inputs={"x": x})
    y = tt.tensor(np.array([4.0, -1.0, -1.0, 2.0]), requires_grad=True)
    y.min().backward()
    assert_close(y.grad, [0.0, 0.5, 0.5, 0.0], what="d min(y)/dy with two tied minima",
                 inputs={"y": y})


def test_max_along_a_dim_with_ties_picks_the_first_index():
    x = tt.tensor(np.array([[1.0, 7.0, 7.0]]), requires_grad=True)
    x.max(dim=1).values.sum().backward()
    assert_close(x.grad, [[0.0, 1.0, 0.0]], what="d max(x, dim=1)/dx: all to the index "
                 "argmax returns", inputs={"x": x})


@pytest.mark.parametrize("name, fn", [
    ("sum(dim=1)", lambda t: t.sum(dim=1)),
    ("sum(keepdim)", lambda t: t.sum(dim=(0, 2), keepdim=True)),
    ("mean", lambda t: t.mean(dim=-1)),
    ("var", lambda t: t.var(dim=1)),
    ("std", lambda t: t.std()),
    ("max(dim)", lambda t: t.max(dim=2).values),
    ("min()", lambda t: t.min()),
])
def test_gradcheck_reductions(name, fn):
    x = np.random.default_rng(1).permutation(24).reshape(2, 3, 4) / 7.0  # distinct: no ties
    assert tt.autograd.gradcheck(fn, [tt.tensor(x, requires_grad=True)])
