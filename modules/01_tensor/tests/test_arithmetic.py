"""Module 01 graded tests: elementwise arithmetic and broadcasting.

Covers the forward of Add, Sub, Mul, Div, Neg and Pow in ``tinytorch/core/tensor_ops.py``.
Only forward values are checked here: gradients are module 05's work. Every expected value
is computed in the test with plain NumPy (or written out), never with tinytorch.
"""

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.testing import assert_close


def data(seed, shape, low=None):
    """Deterministic float32 test data of ``shape``; ``low`` keeps values >= low (for / and **)."""
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return x if low is None else (np.abs(x) + low).astype(np.float32)


# Pairs of shapes that broadcast, from trivial to tricky: same shape, a row against a matrix,
# a column against a row (both stretch), a middle size-1 axis, a missing leading axis, a scalar.
BROADCAST = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (3, 1)),
    ((4,), (2, 3, 4)),
    ((2, 1, 4), (2, 3, 1)),
    ((), (2, 3)),
]

OPS = [
    ("a + b", lambda a, b: a + b, np.add),
    ("a - b", lambda a, b: a - b, np.subtract),
    ("a * b", lambda a, b: a * b, np.multiply),
    ("a / b", lambda a, b: a / b, np.divide),
    ("a ** b", lambda a, b: a ** b, np.power),
]


@pytest.mark.parametrize("name, op, ref", OPS, ids=[o[0] for o in OPS])
@pytest.mark.parametrize("shape_a, shape_b", BROADCAST, ids=str)
def test_binary_op_broadcasts_like_numpy(name, op, ref, shape_a, shape_b):
    a = data(1, shape_a, low=0.5 if name == "a ** b" else None)
    b = data(2, shape_b, low=0.5 if name in ("a / b", "a ** b") else None)
    got = op(tt.tensor(a), tt.tensor(b))
    expected = ref(a, b)
    assert_close(got, expected, rtol=1e-5, what=f"{name} with shapes {shape_a} and {shape_b}",
                 inputs={"a": a, "b": b})
    assert got.dtype == np.float32, f"{name}: float32 inputs must give float32, got {got.dtype}"


def test_worked_example_row_added_to_every_row():
    x = tt.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # (2, 3)
    row = tt.tensor([10.0, 20.0, 30.0])  # (3,) broadcasts over the 2 rows
    assert_close(x + row, [[11.0, 22.0, 33.0], [14.0, 25.0, 36.0]], what="x + row",
                 inputs={"x": x, "row": row})
    col = tt.tensor([[1.0], [2.0]])  # (2, 1) broadcasts over the 3 columns
    assert_close(x * col, [[1.0, 2.0, 3.0], [8.0, 10.0, 12.0]], what="x * col",
                 inputs={"x": x, "col": col})


def test_subtraction_and_division_keep_operand_order():
    a = tt.tensor([10.0, 9.0, 8.0])
    b = tt.tensor([1.0, 3.0, 4.0])
    assert_close(a - b, [9.0, 6.0, 4.0], what="a - b", inputs={"a": a, "b": b})
    assert_close(b - a, [-9.0, -6.0, -4.0], what="b - a", inputs={"a": a, "b": b})
    assert_close(a / b, [10.0, 3.0, 2.0], what="a / b", inputs={"a": a, "b": b})
    assert_close(b ** tt.tensor([2.0, 0.5, 0.5]), [1.0, np.sqrt(3.0), 2.0], what="b ** [2, .5, .5]",
                 inputs={"b": b})


@pytest.mark.parametrize("name, op, ref", [
    ("x + 2", lambda x: x + 2, lambda x: x + 2),
    ("2 + x", lambda x: 2 + x, lambda x: 2 + x),
    ("x - 1.5", lambda x: x - 1.5, lambda x: x - 1.5),
    ("1.5 - x", lambda x: 1.5 - x, lambda x: 1.5 - x),
    ("x * 3", lambda x: x * 3, lambda x: x * 3),
    ("3 * x", lambda x: 3 * x, lambda x: 3 * x),
    ("x / 4", lambda x: x / 4, lambda x: x / 4),
    ("4 / x", lambda x: 4 / x, lambda x: 4 / x),
    ("x ** 2", lambda x: x ** 2, lambda x: x ** 2),
    ("x ** 0.5", lambda x: x ** 0.5, lambda x: x ** 0.5),
    ("2 ** x", lambda x: 2 ** x, lambda x: 2.0 ** x),
    ("-x", lambda x: -x, lambda x: -x),
], ids=lambda v: v if isinstance(v, str) else "")
def test_ops_with_python_scalars(name, op, ref):
    x = data(3, (2, 3), low=0.25)
    got = op(tt.tensor(x))
    assert_close(got, ref(x).astype(np.float32), rtol=1e-5, what=name, inputs={"x": x})
    assert got.dtype == np.float32, (f"{name}: a Python scalar must not change a float32 tensor's "
                                     f"dtype, got {got.dtype}")


def test_negation():
    x = tt.tensor([[1.5, -2.0], [0.0, 3.25]])
    assert_close(-x, [[-1.5, 2.0], [0.0, -3.25]], what="-x", inputs={"x": x})
    assert_close(x.neg(), [[-1.5, 2.0], [0.0, -3.25]], what="x.neg()", inputs={"x": x})


def test_method_spellings_match_operators():
    a, b = data(4, (2, 3)), data(5, (3,), low=0.5)
    ta, tb = tt.tensor(a), tt.tensor(b)
    assert_close(ta.add(tb), a + b, what="a.add(b)", inputs={"a": a, "b": b})
    assert_close(ta.sub(tb), a - b, what="a.sub(b)", inputs={"a": a, "b": b})
    assert_close(ta.mul(tb), a * b, what="a.mul(b)", inputs={"a": a, "b": b})
    assert_close(ta.div(tb), a / b, what="a.div(b)", inputs={"a": a, "b": b})
    assert_close(tb.pow(2), b ** 2, what="b.pow(2)", inputs={"b": b})


def test_dtype_rules_follow_pytorch():
    i = tt.tensor([1, 2, 3])  # int64
    j = tt.tensor([2, 2, 2])
    assert i.dtype == np.int64
    assert (i + j).dtype == np.int64, "int + int stays an integer tensor"
    q = i / j  # true division of integers gives floats: float32, as in PyTorch (not float64)
    assert_close(q, [0.5, 1.0, 1.5], what="int / int", inputs={"i": i, "j": j})
    assert q.dtype == np.float32, f"int / int must be float32 (PyTorch's rule), got {q.dtype}"
    for name, y in [("i + 2.5", i + 2.5), ("i - 2.5", i - 2.5), ("i * 2.5", i * 2.5),
                    ("i ** 0.5", i ** 0.5), ("2.5 - i", 2.5 - i)]:
        assert y.dtype == np.float32, f"{name}: int tensor with a Python float must give float32 " \
                                      f"(PyTorch's rule; NumPy alone gives float64), got {y.dtype}"
    assert_close(i + 2.5, [3.5, 4.5, 5.5], what="int tensor + 2.5", inputs={"i": i})
    d = tt.tensor(np.array([1.0, 2.0]))  # a float64 array stays float64 when asked for
    assert (d + 1).dtype == np.float64, "float64 + Python int must stay float64"
    assert (d * tt.tensor([1.0, 1.0])).dtype == np.float64, "float64 * float32 gives float64"


def test_ops_do_not_modify_their_inputs():
    a, b = data(6, (3, 2)), data(7, (3, 2))
    a0, b0 = a.copy(), b.copy()
    ta, tb = tt.tensor(a), tt.tensor(b)
    for y in (ta + tb, ta - tb, ta * tb, ta / tb, -ta):
        assert y.numpy() is not ta.numpy() and y.numpy() is not tb.numpy()
    assert_close(ta, a0, what="a after a + b, a - b, a * b, a / b, -a", inputs={"a": a0})
    assert_close(tb, b0, what="b after a + b, a - b, a * b, a / b", inputs={"b": b0})


def test_shapes_that_do_not_broadcast_raise_a_clear_error():
    a, b = tt.zeros(2, 3), tt.zeros(4)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        a + b
