"""Module 01 graded tests: shape ops and indexing (Reshape, Permute, Expand, GetItem, Cat,
Stack, Where), and the methods built on them (view, flatten, unsqueeze, squeeze, transpose,
T, split, chunk).

A shape op moves no arithmetic: it changes how the same numbers are arranged. So every
expected value is the same NumPy rearrangement of the same array.
"""

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.testing import assert_close


def data(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


X = np.arange(24, dtype=np.float32).reshape(2, 3, 4)  # values = their flat position: easy to read


# ------------------------------------------------------------------------ reshape


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (24,), (2, 12), (-1, 4), (3, -1), (1, 24, 1)],
                         ids=str)
def test_reshape(shape):
    got = tt.tensor(X).reshape(shape)
    expected = X.reshape(shape)
    assert got.shape == expected.shape, (f"reshape{shape}: expected shape {expected.shape}, "
                                         f"got {got.shape}")
    assert_close(got, expected, what=f"x.reshape{shape}", inputs={"x": X})


def test_reshape_spellings():
    t = tt.tensor(X)
    assert_close(t.reshape(4, 6), X.reshape(4, 6), what="x.reshape(4, 6)", inputs={"x": X})
    assert_close(t.view(6, -1), X.reshape(6, 4), what="x.view(6, -1)", inputs={"x": X})
    assert_close(t.flatten(), X.reshape(-1), what="x.flatten()", inputs={"x": X})
    assert_close(t.flatten(1), X.reshape(2, 12), what="x.flatten(1)", inputs={"x": X})
    assert_close(tt.reshape(t, (3, 8)), X.reshape(3, 8), what="tt.reshape(x, (3, 8))",
                 inputs={"x": X})


def test_unsqueeze_and_squeeze():
    v = tt.tensor([1.0, 2.0, 3.0])
    assert v.unsqueeze(0).shape == (1, 3)
    assert v.unsqueeze(1).shape == (3, 1)
    assert v.unsqueeze(-1).shape == (3, 1)
    assert_close(v.unsqueeze(1), [[1.0], [2.0], [3.0]], what="v.unsqueeze(1)", inputs={"v": v})
    m = tt.tensor(np.zeros((1, 3, 1), dtype=np.float32))
    assert m.squeeze().shape == (3,)
    assert m.squeeze(0).shape == (3, 1)
    assert m.squeeze(1).shape == (1, 3, 1), "squeeze(dim) of a dim that is not 1 is a no-op"


def test_reshape_to_the_wrong_size_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3, 4\).*24.*\(5, 5\)"):
        tt.tensor(X).reshape(5, 5)


# ------------------------------------------------------------------------ permute / transpose


@pytest.mark.parametrize("dims", [(0, 1, 2), (1, 0, 2), (1, 2, 0), (2, 0, 1), (0, 2, 1), (2, 1, 0)],
                         ids=str)
def test_permute(dims):
    got = tt.tensor(X).permute(*dims)
    expected = np.transpose(X, dims)
    assert got.shape == expected.shape, (f"permute{dims} of (2, 3, 4): expected "
                                         f"{expected.shape}, got {got.shape}")
    assert_close(got, expected, what=f"x.permute{dims}", inputs={"x": X})


def test_transpose_and_T():
    m = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert_close(tt.tensor(m).T, m.T, what="m.T", inputs={"m": m})
    assert_close(tt.tensor(m).transpose(0, 1), m.T, what="m.transpose(0, 1)", inputs={"m": m})
    assert_close(tt.tensor(X).transpose(0, 2), np.swapaxes(X, 0, 2), what="x.transpose(0, 2)",
                 inputs={"x": X})
    assert_close(tt.tensor(X).mT, np.swapaxes(X, -1, -2), what="x.mT (swap the last two dims)",
                 inputs={"x": X})


# ------------------------------------------------------------------------ expand


def test_expand():
    col = np.array([[1.0], [2.0], [3.0]], dtype=np.float32)  # (3, 1)
    got = tt.tensor(col).expand(3, 4)
    assert_close(got, np.broadcast_to(col, (3, 4)), what="col.expand(3, 4)", inputs={"col": col})
    got = tt.tensor(col).expand(2, -1, 5)  # a new leading dim; -1 keeps the size 3
    assert_close(got, np.broadcast_to(col, (2, 3, 5)), what="col.expand(2, -1, 5)",
                 inputs={"col": col})
    got = tt.tensor(col).expand_as(tt.zeros(3, 2))
    assert_close(got, np.broadcast_to(col, (3, 2)), what="col.expand_as(zeros(3, 2))",
                 inputs={"col": col})


def test_expand_a_dimension_that_is_not_1_is_refused():
    with pytest.raises(ValueError, match="expand"):
        tt.zeros(3, 2).expand(3, 4)


# ------------------------------------------------------------------------ indexing


@pytest.mark.parametrize("index", [
    0, -1, (1, 2), (1, 2, 3), slice(0, 1), (slice(None), 0), (Ellipsis, 1),
    (slice(None), slice(1, None), slice(None, None, 2)), (0, slice(None, None, 3)),
    (None, 0),
], ids=repr)
def test_basic_indexing(index):
    got = tt.tensor(X)[index]
    expected = X[index]
    assert_close(got, expected, what=f"x[{index!r}]", inputs={"x": X})


def test_integer_array_indexing_gathers_with_repeats():
    t = tt.tensor(X)
    assert_close(t[[0, 0, 1]], X[[0, 0, 1]], what="x[[0, 0, 1]] (row 0 twice)", inputs={"x": X})
    idx = tt.tensor([2, 0, 2])  # an integer tensor works as an index too
    assert_close(t[1, idx], X[1, [2, 0, 2]], what="x[1, tensor([2, 0, 2])]", inputs={"x": X})
    rows, cols = np.array([0, 1, 1]), np.array([2, 0, 2])
    assert_close(t[:, rows, cols], X[:, rows, cols], what="x[:, [0, 1, 1], [2, 0, 2]]",
                 inputs={"x": X})


def test_boolean_mask_indexing():
    m = data(40, (3, 4))
    t = tt.tensor(m)
    mask = t > 0
    assert_close(t[mask], m[m > 0], what="x[x > 0]", inputs={"x": m})


def test_index_out_of_range_is_an_index_error():
    with pytest.raises(IndexError):
        tt.tensor(X)[5]


def test_split_and_chunk():
    t = tt.tensor(np.arange(10, dtype=np.float32))
    parts = t.split(4)
    assert [p.shape for p in parts] == [(4,), (4,), (2,)]
    assert_close(parts[2], [8.0, 9.0], what="arange(10).split(4)[2]")
    parts = tt.tensor(X).chunk(2, dim=2)
    assert_close(parts[1], X[:, :, 2:], what="x.chunk(2, dim=2)[1]", inputs={"x": X})


# ------------------------------------------------------------------------ cat, stack, where


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_cat(dim):
    shapes = {0: [(1, 3, 4), (2, 3, 4), (1, 3, 4)], 1: [(2, 1, 4), (2, 2, 4), (2, 3, 4)],
              2: [(2, 3, 1), (2, 3, 4), (2, 3, 2)], -1: [(2, 3, 2), (2, 3, 1), (2, 3, 3)]}[dim]
    parts = [data(50 + i, s) for i, s in enumerate(shapes)]
    got = tt.cat([tt.tensor(p) for p in parts], dim=dim)
    assert_close(got, np.concatenate(parts, axis=dim), what=f"tt.cat(parts, dim={dim})",
                 inputs={f"part{i}": p for i, p in enumerate(parts)})


def test_cat_worked_example():
    a = tt.tensor([[1.0, 2.0]])
    b = tt.tensor([[3.0, 4.0], [5.0, 6.0]])
    assert_close(tt.cat([a, b]), [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], what="cat([a, b])",
                 inputs={"a": a, "b": b})


def test_cat_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="cat"):
        tt.cat([tt.zeros(2, 3), tt.zeros(2, 4)], dim=0)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(dim):
    parts = [data(60 + i, (3, 4)) for i in range(3)]
    got = tt.stack([tt.tensor(p) for p in parts], dim=dim)
    expected = np.stack(parts, axis=dim)
    assert got.shape == expected.shape, (f"stack(dim={dim}): expected {expected.shape}, "
                                         f"got {got.shape}")
    assert_close(got, expected, what=f"tt.stack(parts, dim={dim})",
                 inputs={f"part{i}": p for i, p in enumerate(parts)})


def test_where():
    a, b = data(70, (3, 4)), data(71, (3, 4))
    cond = a > b
    got = tt.where(tt.tensor(cond), tt.tensor(a), tt.tensor(b))
    assert_close(got, np.where(cond, a, b), what="where(a > b, a, b)", inputs={"a": a, "b": b})


def test_where_broadcasts_and_takes_scalars():
    x = tt.tensor([[-1.0, 2.0], [3.0, -4.0]])
    assert_close(tt.where(x > 0, x, 0.0), [[0.0, 2.0], [3.0, 0.0]], what="where(x > 0, x, 0)",
                 inputs={"x": x})
    row = tt.tensor([10.0, 20.0])
    assert_close(tt.where(x > 0, row, x), [[-1.0, 20.0], [10.0, -4.0]],
                 what="where(x > 0, row, x) with row of shape (2,)", inputs={"x": x, "row": row})


def test_negative_slice_steps_are_refused_as_in_pytorch():
    """PyTorch has no negative strides: x[::-1] raises; reversing is x.flip(dim)."""
    with pytest.raises(ValueError, match="step must be greater than zero"):
        tt.tensor(X)[::-1]
