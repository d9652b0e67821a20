"""Module 05 graded tests: gradients of arithmetic with broadcasting (Add, Sub, Mul, Div, Neg,
Pow backward in ``core/tensor_ops.py``, and ``unbroadcast`` in ``core/autograd.py``).

Every test backpropagates a random upstream gradient ``G = dL/d(out)`` and compares each
input's ``.grad`` with the derivative worked out by hand and written in NumPy next to it:

    out = a + b   ->  dL/da = G            dL/db = G
    out = a - b   ->  dL/da = G            dL/db = -G
    out = a * b   ->  dL/da = G * b        dL/db = G * a
    out = a / b   ->  dL/da = G / b        dL/db = -G * a / b^2
    out = a ** b  ->  dL/da = G * b a^(b-1)  dL/db = G * a^b ln a

When an operand was broadcast, each of its elements was used several times, so its gradient
is the sum over the broadcast axes (``sum_to`` below).
"""

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.testing import assert_close


def data(seed, shape, low=None):
    x = np.random.default_rng(seed).standard_normal(shape)
    return x if low is None else np.abs(x) + low


def sum_to(g, shape):
    """Undo broadcasting: sum ``g`` over the axes along which an operand of ``shape`` was
    stretched (new leading axes, and axes where the operand had size 1)."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def backprop(fn, *arrays, seed=99):
    """Leaves from ``arrays`` (float64, requires_grad), ``out = fn(*leaves)``, then
    ``out.backward(G)`` with a random G. Returns G and the leaves' gradients."""
    leaves = [tt.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*leaves)
    g = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(tt.tensor(g))
    return g, [leaf.grad for leaf in leaves]


BROADCAST = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (3, 1)),
    ((4,), (2, 3, 4)),
    ((2, 1, 4), (2, 3, 1)),
    ((), (2, 3)),
]

RULES = {  # op: (forward, dL/da, dL/db), the derivatives written by hand
    "a + b": (lambda a, b: a + b, lambda g, a, b: g, lambda g, a, b: g),
    "a - b": (lambda a, b: a - b, lambda g, a, b: g, lambda g, a, b: -g),
    "a * b": (lambda a, b: a * b, lambda g, a, b: g * b, lambda g, a, b: g * a),
    "a / b": (lambda a, b: a / b, lambda g, a, b: g / b, lambda g, a, b: -g * a / b ** 2),
    "a ** b": (lambda a, b: a ** b, lambda g, a, b: g * b * a ** (b - 1),
               lambda g, a, b: g * a ** b * np.log(a)),
}


@pytest.mark.parametrize("op", list(RULES))
@pytest.mark.parametrize("shape_a, shape_b", BROADCAST, ids=str)
def test_binary_op_gradients_with_broadcasting(op, shape_a, shape_b):
    fwd, da, db = RULES[op]
    positive = op in ("a / b", "a ** b")
    a = data(1, shape_a, low=0.5 if op == "a ** b" else None)
    b = data(2, shape_b, low=0.5 if positive else None)
    g, (ga, gb) = backprop(fwd, a, b)
    ins = {"a": a, "b": b, "G = dL/d(out)": g}
    # the full-size derivative, then summed back to each operand's shape
    ga_full = np.broadcast_to(da(g, a, b), g.shape)
    gb_full = np.broadcast_to(db(g, a, b), g.shape)
    assert_close(ga, sum_to(ga_full, a.shape), rtol=1e-7, atol=1e-9,
                 what=f"dL/da for out = {op}, shapes {shape_a} and {shape_b}", inputs=ins)
    assert_close(gb, sum_to(gb_full, b.shape), rtol=1e-7, atol=1e-9,
                 what=f"dL/db for out = {op}, shapes {shape_a} and {shape_b}", inputs=ins)


def test_worked_example_broadcast_bias_gets_the_column_sums():
    x = tt.tensor(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), requires_grad=True)
    bias = tt.tensor(np.array([0.5, 0.5, 0.5]), requires_grad=True)  # added to both rows
    (x * 2 + bias).sum().backward()
    assert_close(x.grad, [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]], what="d sum(2x + bias)/dx")
    assert_close(bias.grad, [2.0, 2.0, 2.0],
                 what="d sum(2x + bias)/d bias: each bias entry was used by 2 rows")


@pytest.mark.parametrize("name, fn, deriv", [
    ("x + 3", lambda x: x + 3, lambda x: np.ones_like(x)),
    ("3 + x", lambda x: 3 + x, lambda x: np.ones_like(x)),
    ("x - 3", lambda x: x - 3, lambda x: np.ones_like(x)),
    ("3 - x", lambda x: 3 - x, lambda x: -np.ones_like(x)),
    ("x * 3", lambda x: x * 3, lambda x: 3 * np.ones_like(x)),
    ("3 * x", lambda x: 3 * x, lambda x: 3 * np.ones_like(x)),
    ("x / 4", lambda x: x / 4, lambda x: np.full_like(x, 0.25)),
    ("4 / x", lambda x: 4 / x, lambda x: -4 / x ** 2),
    ("x ** 3", lambda x: x ** 3, lambda x: 3 * x ** 2),
    ("x ** 0.5", lambda x: x ** 0.5, lambda x: 0.5 / np.sqrt(x)),
    ("2 ** x", lambda x: 2 ** x, lambda x: 2.0 ** x * np.log(2.0)),
    ("-x", lambda x: -x, lambda x: -np.ones_like(x)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_gradients_with_python_scalars(name, fn, deriv):
    x = data(3, (2, 3), low=0.25)
    g, (gx,) = backprop(fn, x)
    assert_close(gx, g * deriv(x), rtol=1e-7, what=f"d/dx of {name}", inputs={"x": x, "G": g})


def test_integer_power_worked_example():
    x = tt.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    (x ** 2).sum().backward()
    assert_close(x.grad, [2.0, 4.0, 6.0], what="d sum(x^2)/dx = 2x", inputs={"x": x})


def test_pow_exponent_gradient_at_zero_base_is_zero_not_nan():
    """d(a^b)/db = a^b ln a; at a = 0 the limit is 0 (for b > 0), not 0 * -inf = nan."""
    a = tt.tensor(np.array([0.0, 2.0]), requires_grad=True)
    b = tt.tensor(np.array([2.0, 3.0]), requires_grad=True)
    (a ** b).sum().backward()
    assert_close(b.grad, [0.0, 8.0 * np.log(2.0)], what="d sum(a^b)/db at a = [0, 2]",
                 inputs={"a": a, "b": b})
    assert_close(a.grad, [0.0, 12.0], what="d sum(a^b)/da = b a^(b-1)", inputs={"a": a, "b": b})


@pytest.mark.parametrize("op", list(RULES))
def test_gradcheck_binary_ops(op):
    fwd = RULES[op][0]
    a = tt.tensor(data(4, (2, 3), low=0.5), requires_grad=True)
    b = tt.tensor(data(5, (3,), low=0.5), requires_grad=True)
    assert tt.autograd.gradcheck(fwd, [a, b])


def test_gradcheck_negation_and_scalar_forms():
    x = tt.tensor(data(6, (3, 2), low=0.5), requires_grad=True)
    assert tt.autograd.gradcheck(lambda t: -t * 2.0 + 1.0 / t - 3.0 ** t + t ** 1.5, [x])
