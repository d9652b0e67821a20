"""The engine's fast paths give the same answers as the plain ones.

The performance work on the core (benchmarks/README.md) added shortcuts: ``Function.apply``
builds nodes without ``__init__`` and wraps NumPy scalars, ``MatMul`` returns a transposed
operand's gradient in that operand's memory layout, ``GetItem`` scatters basic slices with a
plain assignment instead of ``np.add.at``, leaf gradients are copied in the leaf's layout.
Each test here pins one of them: values and gradients against PyTorch (and gradcheck), plus
the layout or type property the shortcut exists for.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.autograd import Function, gradcheck


def _rng(seed):
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------- matmul layouts


MATMUL_FORMS = {
    "a.T @ b": (lambda a, b: a.T @ b, (5, 3), (5, 4)),
    "a @ b.T": (lambda a, b: a @ b.T, (3, 5), (4, 5)),
    "a.T @ b.T": (lambda a, b: a.T @ b.T, (5, 3), (4, 5)),
    "a @ b": (lambda a, b: a @ b, (3, 5), (5, 4)),
}


@pytest.mark.parametrize("form", sorted(MATMUL_FORMS))
def test_matmul_with_transposed_operands_gradcheck(form):
    fn, sa, sb = MATMUL_FORMS[form]
    rng = _rng(0)
    a = tt.tensor(rng.standard_normal(sa), requires_grad=True)
    b = tt.tensor(rng.standard_normal(sb), requires_grad=True)
    assert gradcheck(fn, (a, b))


@pytest.mark.parametrize("form", sorted(MATMUL_FORMS))
def test_matmul_with_transposed_operands_matches_torch(form):
    torch = pytest.importorskip("torch")
    fn, sa, sb = MATMUL_FORMS[form]
    rng = _rng(1)
    na, nb = rng.standard_normal(sa, dtype=np.float32), rng.standard_normal(sb, dtype=np.float32)
    a, b = tt.tensor(na, requires_grad=True), tt.tensor(nb, requires_grad=True)
    out = fn(a, b)
    g = rng.standard_normal(out.shape, dtype=np.float32)
    out.backward(tt.tensor(g))
    ta, tb = torch.tensor(na, requires_grad=True), torch.tensor(nb, requires_grad=True)
    tout = fn(ta, tb)
    tout.backward(torch.from_numpy(g))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-3, atol=1e-5)


def test_linear_layer_weight_gradient_is_c_ordered_like_the_weight():
    """x @ W.T: W's gradient must come out C-ordered (the optimizer streams through it in
    order; a column-ordered gradient made Adam twice as slow)."""
    rng = _rng(2)
    x = tt.tensor(rng.standard_normal((8, 6), dtype=np.float32))
    w = tt.tensor(rng.standard_normal((4, 6), dtype=np.float32), requires_grad=True)
    b = tt.tensor(rng.standard_normal(4, dtype=np.float32), requires_grad=True)
    (x @ w.T + b).sum().backward()
    assert w.grad.numpy().flags.c_contiguous
    np.testing.assert_allclose(w.grad.numpy(), np.ones((8, 4), np.float32).T @ x.numpy(), rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), np.full(4, 8, np.float32))


def test_leaf_gradient_takes_the_leaf_dtype_and_layout_and_is_a_copy():
    rng = _rng(3)
    base = rng.standard_normal((3, 4)).astype(np.float32)
    f_leaf = tt.tensor(np.asfortranarray(base), requires_grad=True)
    c_leaf = tt.tensor(base.copy(), requires_grad=True)
    (f_leaf.double() * 2).sum().backward()  # the gradient arrives as float64
    assert f_leaf.grad.dtype == np.float32 and f_leaf.grad.numpy().flags.f_contiguous
    np.testing.assert_array_equal(f_leaf.grad.numpy(), np.full((3, 4), 2, np.float32))
    s = c_leaf + c_leaf  # Add hands the same array to both uses
    s.backward(tt.ones_like(s))
    grad_before = c_leaf.grad.numpy().copy()
    c_leaf.grad.data *= 10  # an optimizer scaling it in place ...
    np.testing.assert_array_equal(grad_before, np.full((3, 4), 2, np.float32))  # ... owns it


# --------------------------------------------------------------------------- indexing backward


BASIC = {
    "slice": lambda a: a[1:3],
    "step": lambda a: a[1::2],
    "int_and_slice": lambda a: a[1, 1:],
    "np_int": lambda a: a[np.int64(2)],
    "ellipsis": lambda a: a[..., 1],
    "newaxis": lambda a: a[None, 0],
}
ADVANCED = {
    "repeated_rows": lambda a: a[[0, 2, 0, 0]],
    "mask": lambda a: a[a > 0],
    "array_and_slice": lambda a: a[[1, 1], 1:],
}


@pytest.mark.parametrize("name", sorted(BASIC) + sorted(ADVANCED))
def test_indexing_backward_matches_torch_and_gradcheck(name):
    torch = pytest.importorskip("torch")
    fn = {**BASIC, **ADVANCED}[name]
    rng = _rng(4)
    data = rng.standard_normal((4, 3)).astype(np.float32)
    x = tt.tensor(data, requires_grad=True)
    out = fn(x)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(tt.tensor(g))
    tx = torch.tensor(data, requires_grad=True)
    tout = fn(tx)
    tout.backward(torch.from_numpy(g))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-4)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-3, atol=1e-6)
    x64 = tt.tensor(data.astype(np.float64), requires_grad=True)
    if name != "mask":  # the mask depends on x, finite differences would move it
        assert gradcheck(fn, (x64,))


def test_repeated_integer_indices_accumulate():
    x = tt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])


# --------------------------------------------------------------------------- Function.apply


def test_zero_dim_results_hold_arrays_not_numpy_scalars():
    x = tt.tensor(1.5, requires_grad=True)
    for y in (x * 2.0, x + 1, -x, x.exp(), (x * x).sum(), tt.softmax(x, 0),
              tt.log_softmax(x, 0), tt.sigmoid(x)):
        assert type(y._data) is np.ndarray and y.shape == () and y.dtype == np.float32
    y = x
    for _ in range(50):  # the benchmark's scalar loop, with a gradient at the end
        y = y * 1.0001 + 0.0001
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 1.0001 ** 50, rtol=1e-5)


def test_apply_records_inputs_and_needs_input_grad_at_forward_time():
    seen = {}

    class Scale(Function):
        @staticmethod
        def forward(ctx, a, k, b):
            ctx.save_for_backward(a, b)
            return a * k + b

        @staticmethod
        def backward(ctx, grad):
            seen["needs"] = ctx.needs_input_grad
            return grad * 3.0, None, grad

    a = tt.tensor([1.0, 2.0], requires_grad=True)
    b = tt.tensor([0.5, 0.5])  # no grad wanted
    y = Scale.apply(a, 3.0, b)
    assert y.requires_grad and y.grad_fn.name() == "ScaleBackward"
    assert y.grad_fn.inputs == (a, 3.0, b) and y.grad_fn.needs_input_grad == (True, False, False)
    y.sum().backward()
    assert seen["needs"] == (True, False, False)
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 3.0])
    assert b.grad is None
    with tt.no_grad():
        z = Scale.apply(a, 3.0, b)
    assert z.grad_fn is None and not z.requires_grad
    nothing = Scale.apply(b, 3.0, b)
    assert nothing.grad_fn is None and not nothing.requires_grad


def test_a_node_made_by_hand_has_empty_defaults():
    node = tt.autograd.Node()
    assert node.inputs == () and node.saved_tensors == () and node.needs_input_grad == ()


def test_long_chains_backward_without_recursion():
    x = tt.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y + 0.0
    y.backward()
    assert x.grad.item() == 1.0
