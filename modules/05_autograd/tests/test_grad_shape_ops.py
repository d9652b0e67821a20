"""Module 05 graded tests: gradients of shape ops and indexing (Reshape, Permute, Expand,
GetItem, Cat, Stack, Where backward).

A shape op only moves numbers, so its gradient moves them back:

    reshape        -> reshape G to the input's shape
    permute(dims)  -> permute G by the inverse permutation (argsort(dims))
    expand         -> sum G over the expanded axes
    x[index]       -> zeros of x's shape with G added at index; an index used twice gets
                      both contributions (x[[0, 0]])
    cat            -> split G at the same boundaries
    stack          -> G[i] along the stacked dim
    where(c, a, b) -> G to a where c holds, to b elsewhere
"""

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.testing import assert_close

X = np.random.default_rng(0).standard_normal((2, 3, 4))


def backprop(fn, *arrays, seed=99):
    leaves = [tt.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*leaves)
    g = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(tt.tensor(g))
    return g, [leaf.grad for leaf in leaves]


@pytest.mark.parametrize("shape", [(6, 4), (24,), (4, -1), (1, 2, 12)], ids=str)
def test_reshape_gradient(shape):
    g, (gx,) = backprop(lambda t: t.reshape(shape), X)
    assert_close(gx, g.reshape(X.shape), what=f"d x.reshape{shape}/dx", inputs={"x": X, "G": g})


def test_view_like_ops_gradients():
    for name, fn in [("flatten", lambda t: t.flatten()), ("unsqueeze(1)", lambda t: t.unsqueeze(1)),
                     ("view(3, 8)", lambda t: t.view(3, 8))]:
        g, (gx,) = backprop(fn, X)
        assert_close(gx, g.reshape(X.shape), what=f"d x.{name}/dx", inputs={"x": X, "G": g})
    y = X[:, :1]  # (2, 1, 4)
    g, (gy,) = backprop(lambda t: t.squeeze(1), y)
    assert_close(gy, g.reshape(y.shape), what="d y.squeeze(1)/dy", inputs={"y": y, "G": g})


@pytest.mark.parametrize("dims", [(1, 0, 2), (1, 2, 0), (2, 0, 1), (0, 2, 1)], ids=str)
def test_permute_gradient_applies_the_inverse_permutation(dims):
    g, (gx,) = backprop(lambda t: t.permute(*dims), X)
    assert_close(gx, np.transpose(g, np.argsort(dims)), what=f"d x.permute{dims}/dx",
                 inputs={"x": X, "G": g})


def test_transpose_and_T_gradients():
    m = X[0]
    g, (gm,) = backprop(lambda t: t.T, m)
    assert_close(gm, g.T, what="d m.T/dm", inputs={"m": m, "G": g})
    g, (gx,) = backprop(lambda t: t.transpose(0, 2), X)
    assert_close(gx, np.swapaxes(g, 0, 2), what="d x.transpose(0, 2)/dx", inputs={"x": X, "G": g})


def test_expand_gradient_sums_over_the_copies():
    col = np.array([[1.0], [2.0], [3.0]])  # (3, 1)
    g, (gc,) = backprop(lambda t: t.expand(2, 3, 4), col)
    assert_close(gc, g.sum(axis=(0, 2)).reshape(3, 1), what="d col.expand(2, 3, 4)/dcol",
                 inputs={"col": col, "G": g})


@pytest.mark.parametrize("index", [0, -1, (1, 2), (slice(None), 0), (Ellipsis, slice(1, 3)),
                                   (0, slice(None, None, 3)), (slice(None), slice(None), 2)],
                         ids=repr)
def test_basic_indexing_gradient(index):
    g, (gx,) = backprop(lambda t: t[index], X)
    expected = np.zeros_like(X)
    expected[index] = g
    assert_close(gx, expected, what=f"d x[{index!r}]/dx", inputs={"x": X, "G": g})


def test_repeated_indices_accumulate():
    x = tt.tensor(np.array([10.0, 20.0, 30.0]), requires_grad=True)
    x[[0, 0, 2, 0]].backward(tt.tensor(np.array([1.0, 2.0, 3.0, 4.0])))
    # x[0] was picked three times (G = 1, 2, 4), x[2] once (G = 3), x[1] never
    assert_close(x.grad, [7.0, 0.0, 3.0], what="d x[[0, 0, 2, 0]]/dx (repeats add up)",
                 inputs={"x": x, "G": [1.0, 2.0, 3.0, 4.0]})


def test_gather_rows_and_pairs_gradient():
    idx = np.array([2, 0, 2, 2])
    g, (gx,) = backprop(lambda t: t[1, idx], X)
    expected = np.zeros_like(X)
    np.add.at(expected, (1, idx), g)
    assert_close(gx, expected, what="d x[1, [2, 0, 2, 2]]/dx", inputs={"x": X, "G": g})
    m = X[0]
    rows, cols = np.array([0, 1, 0]), np.array([3, 3, 3])
    g, (gm,) = backprop(lambda t: t[rows, cols], m)
    expected = np.zeros_like(m)
    np.add.at(expected, (rows, cols), g)
    assert_close(gm, expected, what="d m[[0, 1, 0], [3, 3, 3]]/dm (m[0, 3] picked twice)",
                 inputs={"m": m, "G": g})


def test_boolean_mask_gradient():
    mask = X > 0
    g, (gx,) = backprop(lambda t: t[tt.tensor(mask)], X)
    expected = np.zeros_like(X)
    expected[mask] = g
    assert_close(gx, expected, what="d x[x > 0]/dx", inputs={"x": X, "G": g})


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_gradient_splits(dim):
    shapes = {0: [(1, 3), (2, 3), (3, 3)], 1: [(2, 1), (2, 4), (2, 2)],
              -1: [(2, 2), (2, 3), (2, 1)]}
    parts = [np.random.default_rng(i).standard_normal(s) for i, s in enumerate(shapes[dim])]
    g, grads = backprop(lambda *ts: tt.cat(list(ts), dim=dim), *parts)
    bounds = np.cumsum([p.shape[dim] for p in parts])[:-1]
    for i, (gp, eg) in enumerate(zip(grads, np.split(g, bounds, axis=dim))):
        assert_close(gp, eg, what=f"d cat(parts, dim={dim})/d part{i}",
                     inputs={f"part{i}": parts[i], "G": g})


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack_gradient(dim):
    parts = [np.random.default_rng(10 + i).standard_normal((3, 4)) for i in range(3)]
    g, grads = backprop(lambda *ts: tt.stack(list(ts), dim=dim), *parts)
    for i, gp in enumerate(grads):
        assert_close(gp, np.take(g, i, axis=dim), what=f"d stack(parts, dim={dim})/d part{i}",
                     inputs={f"part{i}": parts[i], "G": g})


def test_where_gradient():
    a, b = X[0], X[1]
    cond = a > b
    g, (ga, gb) = backprop(lambda x, y: tt.where(tt.tensor(cond), x, y), a, b)
    assert_close(ga, np.where(cond, g, 0.0), what="d where(c, a, b)/da = G where c",
                 inputs={"c": cond, "G": g})
    assert_close(gb, np.where(cond, 0.0, g), what="d where(c, a, b)/db = G where not c",
                 inputs={"c": cond, "G": g})


def test_where_gradient_with_a_broadcast_operand():
    x = tt.tensor(np.array([[-1.0, 2.0], [3.0, -4.0]]), requires_grad=True)
    row = tt.tensor(np.array([10.0, 20.0]), requires_grad=True)
    tt.where(x > 0, row, x).sum().backward()
    assert_close(row.grad, [1.0, 1.0], what="d sum(where(x > 0, row, x))/d row (row used by "
                 "both rows of x)", inputs={"x": x})
    assert_close(x.grad, [[1.0, 0.0], [0.0, 1.0]], what="d sum(where(x > 0, row, x))/dx",
                 inputs={"x": x})


@pytest.mark.parametrize("name, fn", [
    ("reshape", lambda t: t.reshape(4, 6)),
    ("permute", lambda t: t.permute(2, 0, 1)),
    ("expand", lambda t: t[:, :1].expand(2, 5, 4)),
    ("getitem", lambda t: t[[1, 1, 0], 2]),
    ("cat", lambda t: tt.cat([t, t * 2], dim=1)),
    ("stack", lambda t: tt.stack([t, -t], dim=3)),
    ("where", lambda t: tt.where(tt.tensor(X > 0), t, t * t)),
])
def test_gradcheck_shape_ops(name, fn):
    assert tt.autograd.gradcheck(fn, [tt.tensor(X, requires_grad=True)])
