"""The backward engine itself: graph walking, accumulation, grad mode, freeing, naming."""

import sys
import time

import numpy as np
import pytest

import tinytorch as tt


def test_shared_subgraph_is_walked_once_not_once_per_path():
    """A chain where every step uses the previous tensor twice has 2^depth paths; an engine
    that recurses per path never finishes. Ours visits each node once."""
    x = tt.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(200):
        y = y * 0.5 + y * 0.5  # value stays 1, 2^200 paths from y to x
    calls = {"n": 0}
    orig = tt.core.tensor_ops.Mul.backward

    def counting(ctx, grad):
        calls["n"] += 1
        return orig(ctx, grad)

    tt.core.tensor_ops.Mul.backward = staticmethod(counting)
    try:
        y.backward()
    finally:
        tt.core.tensor_ops.Mul.backward = staticmethod(orig)
    assert calls["n"] == 400  # each of the 400 Mul nodes exactly once
    np.testing.assert_allclose(x.grad.numpy(), [1.0])


def test_deep_chain_has_no_recursion_limit():
    x = tt.tensor(np.array([0.5]), requires_grad=True)
    y = x
    n = sys.getrecursionlimit() * 5
    for _ in range(n):
        y = y + 1e-4
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0])


def test_backward_work_is_linear_in_graph_size():
    """Counted, not timed (timings belong in benchmarks/): every node's backward runs once and
    the topological sort emits each node once, for a graph with a shared input at every step."""
    from tinytorch.core import autograd

    for n in (100, 400, 1600):
        x = tt.tensor([1.0], requires_grad=True)
        y = x
        for _ in range(n):
            y = y * x  # x feeds every node: n + 1 paths into x
        assert len(autograd._topological_order(y.grad_fn)) == n
        y.backward()
        np.testing.assert_allclose(x.grad.numpy(), [n + 1.0])  # d(x^(n+1))/dx at x = 1


def test_gradients_accumulate_across_backward_calls_and_reset():
    x = tt.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2, 3 + 4])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3, 3])


def test_leaf_grads_do_not_alias_each_other():
    a = tt.tensor([1.0, 2.0], requires_grad=True)
    b = tt.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()  # Add hands the same array to both inputs
    a.grad.data *= 10
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])


def test_retain_graph_allows_a_second_backward_and_freed_graph_says_what_to_do():
    x = tt.tensor([2.0], requires_grad=True)
    y = (x * x).exp()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * 2 * 2 * np.exp(4.0), rtol=1e-6)
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_non_scalar_backward_needs_a_gradient_and_accepts_one():
    x = tt.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"scalar output.*\(2, 2\).*sum\(\)\.backward\(\)"):
        y.backward()
    y.backward(tt.ones_like(y))
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 2), 2.0))
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\).*\(2, 2\)"):
        (x * 2).backward(tt.ones(3))


def test_backward_on_a_tensor_without_grad_explains():
    with pytest.raises(RuntimeError, match="requires_grad=True"):
        tt.tensor([1.0]).sum().backward()


def test_no_grad_context_and_decorator_and_enable_grad():
    x = tt.tensor([1.0], requires_grad=True)
    with tt.no_grad():
        y = x * 2
        with tt.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None

    @tt.no_grad()
    def f(t):
        return t * 3

    assert f(x).grad_fn is None
    assert tt.is_grad_enabled()
    assert (x * 2).requires_grad


def test_grad_fn_names_like_pytorch():
    a = tt.tensor([1.0, 2.0], requires_grad=True)
    b = tt.tensor([3.0, 4.0], requires_grad=True)
    assert (a * b).grad_fn.name() == "MulBackward"
    assert type((a + b).grad_fn).__name__ == "AddBackward"
    assert (a @ b).grad_fn.name() == "MatMulBackward"
    assert a.sum().grad_fn.name() == "SumBackward"
    assert "grad_fn=<MulBackward>" in repr(a * b)
    nodes = (a * b).grad_fn.next_functions
    assert nodes == (None, None)  # both inputs are leaves


def test_detach_and_requires_grad_rules():
    x = tt.tensor([1.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None
    with pytest.raises(RuntimeError, match="floating point.*float\\(\\)"):
        tt.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="floating point"):
        tt.tensor([1, 2], requires_grad=True)


def test_retain_grad_keeps_intermediate_gradients():
    x = tt.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.numpy())
    np.testing.assert_allclose(x.grad.numpy(), 2 * h.numpy() * 3)


def test_custom_function_with_save_for_backward():
    class Cube(tt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 3 * x * x * grad

    x = tt.tensor(np.array([1.0, -2.0]), requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])
    assert tt.autograd.gradcheck(Cube.apply, [x])


def test_grad_keeps_parameter_dtype_when_mixing_python_floats():
    w = tt.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    x = tt.tensor(np.ones(3, dtype=np.float64))
    (w * x).sum().backward()  # the product is float64; w's gradient must be float32
    assert w.grad.dtype == np.float32


def test_int_tensors_never_require_grad_but_index_float_ones():
    emb = tt.randn(10, 4, requires_grad=True)
    ids = tt.tensor([[1, 3], [3, 9]])
    out = emb[ids]
    assert out.shape == (2, 2, 4)
    out.sum().backward()
    expected = np.zeros((10, 4))
    for i in [1, 3, 3, 9]:
        expected[i] += 1
    np.testing.assert_allclose(emb.grad.numpy(), expected)


def test_node_names_drop_the_Fn_suffix_of_op_classes():
    import tinytorch.nn.functional as F

    x = tt.randn(3, 4, requires_grad=True)
    assert x.relu().grad_fn.name() == "ReLUBackward"
    assert F.cross_entropy(x, tt.tensor([0, 1, 2])).grad_fn.name() == "CrossEntropyBackward"
