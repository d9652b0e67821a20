"""Module 05 graded tests: the gradient of the matrix product (MatMul backward).

For Y = A @ B with upstream gradient G = dL/dY (same shape as Y):

    dL/dA = G @ B^T        dL/dB = A^T @ G

(entry by entry: Y[n, m] = sum_k A[n, k] B[k, m], so dY[n, m]/dA[n, k] = B[k, m]).
Batched operands use the same formula on every matrix of the batch; a weight matrix shared
by the whole batch gets the sum over the batch. A 1-D operand is a row (left) or a column
(right) vector: promote it to 2-D, apply the formula, drop the added axis again.
"""

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.testing import assert_close


def data(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


def sum_to(g, shape):
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def expected_grads(a, b, g):
    """dL/dA and dL/dB of Y = A @ B, by the formulas above, written with einsum."""
    a2 = a[None, :] if a.ndim == 1 else a  # row vector (1, k)
    b2 = b[:, None] if b.ndim == 1 else b  # column vector (k, 1)
    g2 = g[..., None] if b.ndim == 1 else g
    g2 = g2[..., None, :] if a.ndim == 1 else g2
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    A = np.broadcast_to(a2, batch + a2.shape[-2:])
    B = np.broadcast_to(b2, batch + b2.shape[-2:])
    dA = sum_to(np.einsum("...nm,...km->...nk", g2, B), a2.shape)  # G @ B^T
    dB = sum_to(np.einsum("...nk,...nm->...km", A, g2), b2.shape)  # A^T @ G
    return dA.reshape(a.shape), dB.reshape(b.shape)


def test_worked_example_row_times_column():
    x = tt.tensor(np.array([[1.0, 2.0]]), requires_grad=True)  # (1, 2)
    w = tt.tensor(np.array([[3.0], [4.0]]), requires_grad=True)  # (2, 1)
    (x @ w).sum().backward()  # y = 1*3 + 2*4 = 11
    assert_close(x.grad, [[3.0, 4.0]], what="dy/dx = G @ W^T = W^T", inputs={"x": x, "w": w})
    assert_close(w.grad, [[1.0], [2.0]], what="dy/dW = X^T @ G = X^T", inputs={"x": x, "w": w})


CASES = [
    ((3, 4), (4, 5)),
    ((3, 3), (3, 3)),  # square: a forgotten transpose still has the right shape here
    ((2, 4, 4), (4, 4)),
    ((2, 3, 4), (2, 4, 5)),  # batch of matrices
    ((2, 3, 4), (4, 5)),  # weight shared by the batch: its gradient sums over the batch
    ((2, 1, 3, 4), (5, 4, 2)),  # batch dims broadcast
    ((4,), (4, 5)),  # vector @ matrix
    ((3, 4), (4,)),  # matrix @ vector
    ((4,), (4,)),  # dot product
    ((4,), (2, 4, 3)),
    ((2, 3, 4), (4,)),
]


@pytest.mark.parametrize("shape_a, shape_b", CASES, ids=str)
def test_matmul_gradients(shape_a, shape_b):
    a, b = data(1, shape_a), data(2, shape_b)
    ta, tb = tt.tensor(a, requires_grad=True), tt.tensor(b, requires_grad=True)
    y = ta @ tb
    g = data(3, y.shape)
    y.backward(tt.tensor(g))
    ea, eb = expected_grads(a, b, g)
    ins = {"A": a, "B": b, "G": g}
    assert_close(ta.grad, ea, rtol=1e-7, atol=1e-9, what=f"dL/dA for {shape_a} @ {shape_b}",
                 inputs=ins)
    assert_close(tb.grad, eb, rtol=1e-7, atol=1e-9, what=f"dL/dB for {shape_a} @ {shape_b}",
                 inputs=ins)


def test_only_the_operand_that_requires_grad_gets_one():
    x = tt.tensor(data(4, (3, 4)))
    w = tt.tensor(data(5, (4, 2)), requires_grad=True)
    (x @ w).sum().backward()
    assert x.grad is None, "x did not ask for a gradient"
    assert_close(w.grad, x.numpy().T @ np.ones((3, 2)), rtol=1e-7, what="dL/dW = X^T @ 1",
                 inputs={"x": x})


@pytest.mark.parametrize("shape_a, shape_b", [((3, 4), (4, 2)), ((2, 3, 4), (4,)),
                                              ((4,), (4, 3)), ((2, 2, 3), (2, 3, 2))], ids=str)
def test_gradcheck_matmul(shape_a, shape_b):
    a = tt.tensor(data(6, shape_a), requires_grad=True)
    b = tt.tensor(data(7, shape_b), requires_grad=True)
    assert tt.autograd.gradcheck(lambda x, y: x @ y, [a, b])
