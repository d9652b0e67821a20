"""Module 01 graded tests: elementwise math (Exp, Log, Sqrt, Abs, Clip, Maximum, Minimum).

Each op applies a function to every element independently, so the expected value is the
same NumPy function on the same array; the edge cases (log 0, clip bounds, ties) are written
out.
"""

import warnings

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.testing import assert_close


def data(seed, shape, low=None):
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return x if low is None else (np.abs(x) + low).astype(np.float32)


@pytest.mark.parametrize("name, fn, ref, positive", [
    ("exp", lambda t: t.exp(), np.exp, False),
    ("log", lambda t: t.log(), np.log, True),
    ("sqrt", lambda t: t.sqrt(), np.sqrt, True),
    ("abs", lambda t: t.abs(), np.abs, False),
    ("tt.exp", tt.exp, np.exp, False),
    ("tt.log", tt.log, np.log, True),
    ("tt.sqrt", tt.sqrt, np.sqrt, True),
    ("tt.abs", tt.abs, np.abs, False),
], ids=lambda v: v if isinstance(v, str) else "")
def test_unary_math_matches_numpy(name, fn, ref, positive):
    x = data(20, (3, 4), low=0.1 if positive else None)
    got = fn(tt.tensor(x))
    assert_close(got, ref(x), rtol=1e-5, what=f"{name}(x)", inputs={"x": x})
    assert got.dtype == np.float32, f"{name}: float32 in must give float32 out, got {got.dtype}"


def test_worked_examples():
    x = tt.tensor([0.0, 1.0, 4.0])
    assert_close(x.exp(), [1.0, np.e, np.e ** 4], rtol=1e-6, what="exp([0, 1, 4])", inputs={"x": x})
    assert_close(x.sqrt(), [0.0, 1.0, 2.0], what="sqrt([0, 1, 4])", inputs={"x": x})
    assert_close(tt.tensor([-2.5, 0.0, 3.0]).abs(), [2.5, 0.0, 3.0], what="abs([-2.5, 0, 3])")
    assert_close(abs(tt.tensor([-1.0])), [1.0], what="abs(x) via Python's abs()")


def test_log_of_zero_is_minus_infinity_without_a_warning():
    x = tt.tensor([0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PyTorch gives -inf silently; so must we
        got = x.log()
    assert_close(got, [-np.inf, 0.0], what="log([0, 1])", inputs={"x": x})


def test_clip_both_bounds():
    x = tt.tensor([-2.0, -0.5, 0.0, 0.5, 2.0])
    assert_close(x.clip(-1.0, 1.0), [-1.0, -0.5, 0.0, 0.5, 1.0], what="clip(x, -1, 1)",
                 inputs={"x": x})
    assert_close(x.clamp(-0.25, 0.25), [-0.25, -0.25, 0.0, 0.25, 0.25],
                 what="clamp(x, -0.25, 0.25)", inputs={"x": x})


def test_clip_one_bound_only():
    x = tt.tensor([-2.0, -0.5, 0.0, 0.5, 2.0])
    assert_close(x.clip(min=0.0), [0.0, 0.0, 0.0, 0.5, 2.0], what="clip(x, min=0)",
                 inputs={"x": x})
    assert_close(x.clip(max=0.0), [-2.0, -0.5, 0.0, 0.0, 0.0], what="clip(x, max=0)",
                 inputs={"x": x})
    assert_close(tt.clamp(x, None, 1.0), [-2.0, -0.5, 0.0, 0.5, 1.0], what="tt.clamp(x, None, 1)",
                 inputs={"x": x})


def test_clip_keeps_the_dtype():
    x = tt.tensor([-3.0, 3.0])  # float32
    assert x.clip(-1, 1).dtype == np.float32, "integer bounds must not change a float32 tensor"
    d = tt.tensor(np.array([-3.0, 3.0]))  # float64
    assert d.clip(-1.0, 1.0).dtype == np.float64


def test_clip_random():
    x = data(21, (4, 5))
    assert_close(tt.tensor(x).clip(-0.5, 0.7), np.clip(x, -0.5, 0.7), what="clip(x, -0.5, 0.7)",
                 inputs={"x": x})


@pytest.mark.parametrize("shape_a, shape_b", [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4))],
                         ids=str)
def test_maximum_and_minimum_broadcast(shape_a, shape_b):
    a, b = data(22, shape_a), data(23, shape_b)
    ta, tb = tt.tensor(a), tt.tensor(b)
    assert_close(ta.maximum(tb), np.maximum(a, b), what="maximum(a, b)", inputs={"a": a, "b": b})
    assert_close(tt.minimum(ta, tb), np.minimum(a, b), what="minimum(a, b)",
                 inputs={"a": a, "b": b})


def test_maximum_minimum_worked_example():
    a = tt.tensor([1.0, 5.0, 3.0])
    b = tt.tensor([4.0, 2.0, 3.0])
    assert_close(tt.maximum(a, b), [4.0, 5.0, 3.0], what="maximum([1,5,3], [4,2,3])")
    assert_close(tt.minimum(a, b), [1.0, 2.0, 3.0], what="minimum([1,5,3], [4,2,3])")
    assert_close(a.maximum(2.5), [2.5, 5.0, 3.0], what="maximum([1,5,3], 2.5)")
