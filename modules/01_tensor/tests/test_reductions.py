"""Module 01 graded tests: reductions (Sum, Mean, Var, and max/min via MaxReduce).

A reduction collapses ``dim`` (an int, a tuple, or None for every element). ``keepdim=True``
keeps the reduced dimensions with size 1, so the result still broadcasts against the input:
``x - x.mean(dim=1, keepdim=True)`` centres every row.
"""

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.testing import assert_close


def data(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


X = data(30, (2, 3, 4))

DIMS = [None, 0, 1, 2, -1, (0, 2), (1, 2)]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS, ids=str)
def test_sum(dim, keepdim):
    got = tt.tensor(X).sum(dim=dim, keepdim=keepdim)
    expected = np.sum(X, axis=dim, keepdims=keepdim)
    assert got.shape == expected.shape, (f"x.sum(dim={dim}, keepdim={keepdim}) on shape (2, 3, 4):"
                                         f" expected shape {expected.shape}, got {got.shape}")
    assert_close(got, expected, rtol=1e-5, atol=1e-5, what=f"x.sum(dim={dim}, keepdim={keepdim})",
                 inputs={"x": X})


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS, ids=str)
def test_mean(dim, keepdim):
    got = tt.tensor(X).mean(dim=dim, keepdim=keepdim)
    expected = np.mean(X, axis=dim, keepdims=keepdim)
    assert got.shape == expected.shape, (f"x.mean(dim={dim}, keepdim={keepdim}): expected shape "
                                         f"{expected.shape}, got {got.shape}")
    assert_close(got, expected, rtol=1e-5, atol=1e-6, what=f"x.mean(dim={dim}, keepdim={keepdim})",
                 inputs={"x": X})
    assert got.dtype == np.float32, f"mean of float32 must stay float32, got {got.dtype}"


def test_sum_and_mean_worked_example():
    x = tt.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert_close(x.sum(), 21.0, what="x.sum()", inputs={"x": x})
    assert_close(x.sum(dim=0), [5.0, 7.0, 9.0], what="x.sum(dim=0) (down the columns)",
                 inputs={"x": x})
    assert_close(x.sum(dim=1), [6.0, 15.0], what="x.sum(dim=1) (along each row)", inputs={"x": x})
    assert_close(x.mean(dim=1, keepdim=True), [[2.0], [5.0]], what="x.mean(dim=1, keepdim=True)",
                 inputs={"x": x})
    assert_close(x - x.mean(dim=1, keepdim=True), [[-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]],
                 what="x - x.mean(dim=1, keepdim=True) (centred rows)", inputs={"x": x})
    assert_close(tt.sum(x, 1), [6.0, 15.0], what="tt.sum(x, 1)", inputs={"x": x})
    assert_close(x.sum(axis=1), [6.0, 15.0], what="x.sum(axis=1) (NumPy spelling)",
                 inputs={"x": x})


def test_sum_of_integers_stays_integer():
    t = tt.tensor([[1, 2], [3, 4]])
    s = t.sum()
    assert s.dtype.kind == "i", f"sum of int64 must stay an integer, got {s.dtype}"
    assert s.item() == 10


@pytest.mark.parametrize("dim", [None, 0, 2, (0, 1)], ids=str)
@pytest.mark.parametrize("unbiased", [True, False])
def test_var_and_std(dim, unbiased):
    t = tt.tensor(X)
    ddof = 1 if unbiased else 0
    assert_close(t.var(dim=dim, unbiased=unbiased), np.var(X, axis=dim, ddof=ddof), rtol=1e-4,
                 atol=1e-6, what=f"x.var(dim={dim}, unbiased={unbiased})", inputs={"x": X})
    assert_close(t.std(dim=dim, unbiased=unbiased), np.std(X, axis=dim, ddof=ddof), rtol=1e-4,
                 atol=1e-6, what=f"x.std(dim={dim}, unbiased={unbiased})", inputs={"x": X})


def test_var_worked_example_is_unbiased_by_default():
    x = tt.tensor([1.0, 2.0, 3.0, 4.0])  # mean 2.5, squared deviations sum to 5
    assert_close(x.var(), 5.0 / 3.0, what="var([1, 2, 3, 4]) divides by N - 1 = 3 (PyTorch)",
                 inputs={"x": x})
    assert_close(x.var(correction=0), 5.0 / 4.0, what="var(correction=0) divides by N = 4",
                 inputs={"x": x})
    assert_close(x.var(dim=0, keepdim=True), [5.0 / 3.0], what="var(dim=0, keepdim=True)",
                 inputs={"x": x})


def test_max_and_min_over_everything():
    t = tt.tensor(X)
    assert_close(t.max(), np.max(X), what="x.max()", inputs={"x": X})
    assert_close(t.min(), np.min(X), what="x.min()", inputs={"x": X})
    assert t.max().shape == (), "x.max() with no dim is a 0-d tensor"


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_max_and_min_along_a_dim_give_values_and_indices(dim, keepdim):
    t = tt.tensor(X)
    values, indices = t.max(dim=dim, keepdim=keepdim)
    assert_close(values, np.max(X, axis=dim, keepdims=keepdim),
                 what=f"x.max(dim={dim}, keepdim={keepdim}).values", inputs={"x": X})
    assert_close(indices, np.argmax(X, axis=dim, keepdims=keepdim),
                 what=f"x.max(dim={dim}, keepdim={keepdim}).indices", inputs={"x": X})
    values, indices = t.min(dim=dim, keepdim=keepdim)
    assert_close(values, np.min(X, axis=dim, keepdims=keepdim),
                 what=f"x.min(dim={dim}, keepdim={keepdim}).values", inputs={"x": X})
    assert_close(indices, np.argmin(X, axis=dim, keepdims=keepdim),
                 what=f"x.min(dim={dim}, keepdim={keepdim}).indices", inputs={"x": X})


def test_max_worked_example():
    x = tt.tensor([[1.0, 7.0, 3.0], [9.0, 2.0, 9.0]])
    assert_close(x.max(), 9.0, what="x.max()", inputs={"x": x})
    v, i = x.max(dim=1)
    assert_close(v, [7.0, 9.0], what="x.max(dim=1).values", inputs={"x": x})
    assert_close(i, [1, 0], what="x.max(dim=1).indices (first of tied maxima)", inputs={"x": x})
    v, i = x.min(dim=0)
    assert_close(v, [1.0, 2.0, 3.0], what="x.min(dim=0).values", inputs={"x": x})
    assert_close(i, [0, 1, 0], what="x.min(dim=0).indices", inputs={"x": x})


def test_out_of_range_dim_is_an_index_error():
    with pytest.raises(IndexError, match="dim 3"):
        tt.zeros(2, 3, 4).sum(dim=3)
