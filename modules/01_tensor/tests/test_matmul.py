"""Module 01 graded tests: the matrix product (``MatMul`` forward in ``core/tensor_ops.py``).

``a @ b`` follows NumPy's (and PyTorch's) rules: (n, k) @ (k, m) -> (n, m); leading batch
dimensions broadcast; a 1-D left operand is a row vector, a 1-D right operand a column
vector, and the added dimension is removed again from the result.
"""

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.testing import assert_close


def data(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_worked_example_2x2():
    a = tt.tensor([[1.0, 2.0], [3.0, 4.0]])
    b = tt.tensor([[5.0, 6.0], [7.0, 8.0]])
    # row i of a dotted with column j of b: [[1*5+2*7, 1*6+2*8], [3*5+4*7, 3*6+4*8]]
    assert_close(a @ b, [[19.0, 22.0], [43.0, 50.0]], what="a @ b", inputs={"a": a, "b": b})
    assert_close(b @ a, [[23.0, 34.0], [31.0, 46.0]], what="b @ a (order matters)",
                 inputs={"a": a, "b": b})


def expected_matmul(a, b):
    """The product written as explicit sums, so the test does not trust np.matmul's rules for
    1-D operands: promote, multiply with einsum over broadcast batch dims, then un-promote."""
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    out = _bmm(a2, b2)
    if a.ndim == 1:
        out = out[..., 0, :]
    if b.ndim == 1:
        out = out[..., 0]
    return out


def _bmm(a, b):
    """(..., n, k) @ (..., k, m) with the batch dims broadcast first, as an explicit einsum."""
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    return np.einsum("...nk,...km->...nm", a, b)


CASES = [
    ((3, 4), (4, 5), (3, 5)),  # plain matrices
    ((1, 4), (4, 1), (1, 1)),
    ((2, 3, 4), (2, 4, 5), (2, 3, 5)),  # a batch of matrices
    ((2, 3, 4), (4, 5), (2, 3, 5)),  # one weight matrix for the whole batch
    ((2, 1, 3, 4), (5, 4, 2), (2, 5, 3, 2)),  # batch dims broadcast: (2, 1) with (5,)
    ((4,), (4, 5), (5,)),  # vector @ matrix
    ((3, 4), (4,), (3,)),  # matrix @ vector
    ((4,), (4,), ()),  # dot product: a 0-d result
    ((4,), (2, 4, 3), (2, 3)),  # vector against a batch
    ((2, 3, 4), (4,), (2, 3)),
]


@pytest.mark.parametrize("shape_a, shape_b, shape_out", CASES, ids=str)
def test_matmul_shapes_and_values(shape_a, shape_b, shape_out):
    a, b = data(10, shape_a), data(11, shape_b)
    got = tt.tensor(a) @ tt.tensor(b)
    assert got.shape == shape_out, (f"{shape_a} @ {shape_b}: expected shape {shape_out}, "
                                    f"got {got.shape}")
    assert_close(got, expected_matmul(a, b), rtol=1e-4, atol=1e-5,
                 what=f"a @ b for shapes {shape_a} @ {shape_b}", inputs={"a": a, "b": b})


def test_matmul_spellings():
    a, b = data(12, (3, 2)), data(13, (2, 4))
    expected = _bmm(a, b)
    assert_close(tt.tensor(a).matmul(tt.tensor(b)), expected, rtol=1e-5, what="a.matmul(b)",
                 inputs={"a": a, "b": b})
    assert_close(tt.matmul(tt.tensor(a), tt.tensor(b)), expected, rtol=1e-5,
                 what="tt.matmul(a, b)", inputs={"a": a, "b": b})
    assert_close(tt.tensor(a) @ b, expected, rtol=1e-5, what="Tensor @ ndarray",
                 inputs={"a": a, "b": b})


def test_matmul_is_not_elementwise():
    a = tt.tensor([[1.0, 2.0], [3.0, 4.0]])
    eye = tt.eye(2)
    assert_close(a @ eye, [[1.0, 2.0], [3.0, 4.0]], what="a @ I (identity)", inputs={"a": a})


def test_inner_dimension_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(5, 2\)"):
        tt.zeros(3, 4) @ tt.zeros(5, 2)
