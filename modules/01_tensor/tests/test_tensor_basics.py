"""Module 01 graded tests: making tensors and reading them back.

``Tensor``, ``tt.tensor``, ``zeros``/``ones``/``arange``/``randn`` ... (``core/tensor.py`` and
``core/creation.py``). These are given, not written by the learner, but every later test
leans on their dtype rules, so they are checked here first.

``requires_grad`` exists from day one because there is one Tensor class for the whole course;
here it is only a flag. Nothing in module 01 computes a gradient (that is module 05).
"""

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.testing import assert_close


def test_dtype_comes_from_the_data_as_in_pytorch():
    assert tt.tensor([1.0, 2.0]).dtype == np.float32, "Python floats become float32"
    assert tt.tensor([1, 2]).dtype == np.int64, "Python ints become int64 (class ids, token ids)"
    assert tt.tensor([True, False]).dtype == np.bool_
    assert tt.tensor(np.zeros(2)).dtype == np.float64, "a float64 NumPy array keeps its dtype"
    assert tt.tensor([1, 2], dtype=tt.float32).dtype == np.float32


def test_shape_and_size_queries():
    t = tt.tensor(np.zeros((2, 3, 4), dtype=np.float32))
    assert t.shape == (2, 3, 4) and t.ndim == 3 and t.dim() == 3
    assert t.numel() == 24 and len(t) == 2
    assert t.size() == (2, 3, 4) and t.size(1) == 3


def test_item_and_tolist():
    assert tt.tensor([[2.5]]).item() == 2.5
    assert tt.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    with pytest.raises(ValueError, match="one-element"):
        tt.tensor([1.0, 2.0]).item()


def test_tensor_copies_its_data():
    a = np.array([1.0, 2.0], dtype=np.float32)
    t = tt.tensor(a)
    a[0] = 99.0
    assert_close(t, [1.0, 2.0], what="tt.tensor(a) after changing a[0]")


@pytest.mark.parametrize("make, expected", [
    (lambda: tt.zeros(2, 3), np.zeros((2, 3), np.float32)),
    (lambda: tt.ones((2, 3)), np.ones((2, 3), np.float32)),
    (lambda: tt.full((2, 2), 7.0), np.full((2, 2), 7.0, np.float32)),
    (lambda: tt.arange(5), np.arange(5)),
    (lambda: tt.arange(1, 2, 0.25), np.arange(1, 2, 0.25, dtype=np.float32)),
    (lambda: tt.linspace(0, 1, 5), np.linspace(0, 1, 5, dtype=np.float32)),
    (lambda: tt.eye(3), np.eye(3, dtype=np.float32)),
    (lambda: tt.zeros_like(tt.ones(2, 2)), np.zeros((2, 2), np.float32)),
], ids=["zeros", "ones", "full", "arange-int", "arange-float", "linspace", "eye", "zeros_like"])
def test_creation_functions(make, expected):
    got = make()
    assert_close(got, expected, what="creation function")
    assert got.dtype == expected.dtype, f"expected dtype {expected.dtype}, got {got.dtype}"


def test_random_tensors_are_repeatable_with_a_seed():
    g1, g2 = tt.Generator().manual_seed(7), tt.Generator().manual_seed(7)
    a, b = tt.randn(3, 4, generator=g1), tt.randn(3, 4, generator=g2)
    assert a.dtype == np.float32 and a.shape == (3, 4)
    assert_close(a, b, what="randn with the same seed twice")
    u = tt.rand(1000, generator=g1)
    assert 0.0 <= float(u.min()) and float(u.max()) < 1.0, "rand samples lie in [0, 1)"


def test_requires_grad_is_only_a_flag_in_module_01():
    t = tt.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.grad is None and t.is_leaf
    with pytest.raises(RuntimeError, match="floating point"):
        tt.tensor([1, 2], requires_grad=True)  # integers have no gradient


def test_bad_data_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="rectangular"):
        tt.tensor([[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError, match="unsupported"):
        tt.tensor(["a", "b"])


def test_comparisons_give_bool_tensors():
    x = tt.tensor([1.0, 2.0, 3.0])
    assert_close(x > 1.5, [False, True, True], what="x > 1.5", inputs={"x": x})
    assert_close(x == 2.0, [False, True, False], what="x == 2", inputs={"x": x})
