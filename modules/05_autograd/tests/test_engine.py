"""Module 05 graded tests: the backward engine (``unbroadcast``, ``_topological_order`` and
``_run_backward`` in ``core/autograd.py``).

What an engine must get right, beyond each op's formula:

* a tensor used twice (``x * x``, or two branches that meet again: a diamond) receives the
  SUM of the gradients along every path;
* each node's backward runs exactly once, after every node that consumes its output
  (reverse topological order), however many paths lead to it;
* depth is not limited by Python's recursion limit (a 10,000-op chain works);
* saved arrays are freed after backward unless ``retain_graph=True``, and a second backward
  through a freed graph is a clear error;
* leaves accumulate into ``.grad`` across backward calls (zero them between steps);
* ``no_grad()`` records nothing; a non-scalar output needs an explicit gradient.
"""

import sys

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.autograd import Function, unbroadcast
from tinytorch.testing import assert_close


def leaf(values):
    return tt.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# ------------------------------------------------------------------------ unbroadcast


@pytest.mark.parametrize("grad_shape, shape", [
    ((2, 3, 4), (2, 3, 4)), ((2, 3, 4), (3, 4)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 1)),
    ((2, 3, 4), (1, 3, 1)), ((2, 3, 4), ()), ((2, 3, 4), (1,)), ((5, 1), (1, 1)),
], ids=str)
def test_unbroadcast_sums_over_the_broadcast_axes(grad_shape, shape):
    g = np.random.default_rng(0).standard_normal(grad_shape)
    expected = g
    while expected.ndim > len(shape):  # new leading axes
        expected = expected.sum(axis=0)
    for axis, n in enumerate(shape):  # axes where the operand had size 1
        if n == 1:
            expected = expected.sum(axis=axis, keepdims=True)
    got = unbroadcast(g, shape)
    assert_close(got, expected, rtol=1e-12,
                 what=f"unbroadcast(grad of shape {grad_shape}, {shape})", inputs={"grad": g})


def test_unbroadcast_worked_example():
    g = np.ones((2, 3, 4))
    assert_close(unbroadcast(g, (3, 1)), np.full((3, 1), 8.0),
                 what="unbroadcast(ones(2, 3, 4), (3, 1)): each entry was used 2 * 4 times")


# ------------------------------------------------------------------------ shared subgraphs


def test_a_tensor_used_twice_gets_both_contributions():
    x = leaf([1.0, -2.0, 3.0])
    (x * x).sum().backward()  # d x^2 = 2x: one x from each operand
    assert_close(x.grad, [2.0, -4.0, 6.0], what="d sum(x * x)/dx = 2x", inputs={"x": x})
    y = leaf([1.0, 2.0])
    (y + y + y).sum().backward()
    assert_close(y.grad, [3.0, 3.0], what="d sum(y + y + y)/dy = 3", inputs={"y": y})


def test_diamond_graph():
    """x feeds a and b, which meet again in c: dc/dx = dc/da da/dx + dc/db db/dx."""
    x = leaf([0.5, -1.5])
    a = x * 3  # da/dx = 3
    b = x.exp()  # db/dx = exp(x)
    c = (a * b).sum()  # dc/da = b, dc/db = a
    c.backward()
    xv = np.array([0.5, -1.5])
    expected = np.exp(xv) * 3 + 3 * xv * np.exp(xv)
    assert_close(x.grad, expected, rtol=1e-12, what="d sum(3x * exp(x))/dx = 3 e^x + 3x e^x",
                 inputs={"x": xv})


def test_intermediate_used_by_two_later_ops():
    """h is consumed twice; its backward must see the sum of both gradients before passing
    it on (reverse topological order), else x gets half the story."""
    x = leaf([2.0])
    h = x * x  # h = x^2
    y = h * h + h  # y = x^4 + x^2
    y.backward(tt.tensor(np.array([1.0])))
    assert_close(x.grad, [4 * 8.0 + 2 * 2.0], what="d (x^4 + x^2)/dx at x = 2 (= 4x^3 + 2x)",
                 inputs={"x": [2.0]})


class Counted(Function):
    """y = 2x, counting how many times its backward runs."""

    calls = 0

    @staticmethod
    def forward(ctx, x):
        return 2.0 * x

    @staticmethod
    def backward(ctx, grad):
        Counted.calls += 1
        return 2.0 * grad


def test_each_node_runs_backward_once_however_many_paths_reach_it():
    """Ten stacked diamonds have 2^10 = 1024 paths from y to x. An engine that walks every
    path (recursing into each input) runs the bottom nodes 1024 times; a topological sweep
    runs each of the 10 Counted nodes once."""
    x = leaf([1.0])
    y = x
    for _ in range(10):
        y = Counted.apply(y)
        y = y * 0.25 + y * 0.25  # two paths, values stay put: y = 2x * 0.5 = x
    Counted.calls = 0
    y.backward(tt.tensor(np.array([1.0])))
    assert Counted.calls == 10, (f"Counted.backward ran {Counted.calls} times for 10 nodes: the "
                                 "engine visits a node once per path instead of once")
    assert_close(x.grad, [1.0], what="d y/dx through 10 diamonds (each of gain 1)")


def test_custom_function_sees_needs_input_grad():
    class Scale(Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x * w

        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            return (grad * w if ctx.needs_input_grad[0] else None,
                    grad * x if ctx.needs_input_grad[1] else None)

    x, w = leaf([1.0, 2.0]), tt.tensor(np.array([3.0, 4.0]))
    Scale.apply(x, w).sum().backward()
    assert_close(x.grad, [3.0, 4.0], what="custom Function: d sum(x * w)/dx = w")
    assert w.grad is None, "w does not require grad, so it gets no .grad"


# ------------------------------------------------------------------------ depth


def test_a_chain_of_10000_ops_needs_no_recursion():
    x = leaf([0.5])
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    assert 10_000 > sys.getrecursionlimit(), "the point is a chain longer than the limit"
    y.backward(tt.tensor(np.array([1.0])))  # a recursive engine raises RecursionError here
    assert_close(x.grad, [1.0001 ** 10_000], rtol=1e-9, what="d (1.0001^10000 x)/dx")


# ------------------------------------------------------------------------ graph lifetime


def test_second_backward_through_a_freed_graph_is_an_error():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_a_second_backward_and_gradients_accumulate():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    assert_close(x.grad, [2.0, 4.0], what="x.grad after one backward of sum(x^2)")
    y.backward()
    assert_close(x.grad, [4.0, 8.0], what="x.grad after two backwards: accumulated (2x + 2x)")


def test_gradients_accumulate_across_two_graphs_until_zeroed():
    w = leaf([1.0, -1.0])
    (w * 3).sum().backward()
    (w * w).sum().backward()
    assert_close(w.grad, [3.0 + 2.0, 3.0 - 2.0], what="w.grad after backward of sum(3w) then "
                 "sum(w^2): 3 + 2w", inputs={"w": [1.0, -1.0]})
    w.grad = None  # what optimizer.zero_grad() does
    (w * 3).sum().backward()
    assert_close(w.grad, [3.0, 3.0], what="w.grad after zeroing and one more backward")


def test_only_leaves_get_grad_unless_retained():
    x = leaf([1.0, 2.0])
    h = x * 2
    h.retain_grad()
    m = x * 3
    (h * m).sum().backward()
    assert m.grad is None, "a non-leaf keeps no .grad unless retain_grad() was called"
    assert_close(h.grad, [3.0, 6.0], what="h.grad (retained): dL/dh = m = 3x")
    assert_close(x.grad, [12.0, 24.0], what="d sum(2x * 3x)/dx = 12x")


# ------------------------------------------------------------------------ grad mode


def test_no_grad_records_nothing():
    x = leaf([1.0, 2.0])
    with tt.no_grad():
        y = x * 2 + 1
    assert not y.requires_grad and y.grad_fn is None, "ops under no_grad() must not record"
    z = x * 2
    assert z.requires_grad and z.grad_fn is not None, "recording resumes after the block"

    @tt.no_grad()
    def evaluate(t):
        return t * t

    assert evaluate(x).grad_fn is None, "@tt.no_grad() as a decorator"
    assert (x * x).grad_fn is not None, "the decorator switched grad mode off at definition"


def test_detach_cuts_the_graph():
    x = leaf([1.0, 2.0])
    y = (x * x.detach()).sum()  # only the first factor is seen by autograd
    y.backward()
    assert_close(x.grad, [1.0, 2.0], what="d sum(x * x.detach())/dx = x (not 2x)")


def test_ops_record_named_backward_nodes():
    x = leaf([1.0])
    assert (x * 2).grad_fn.name() == "MulBackward"
    assert (x @ leaf([2.0])).grad_fn.name() == "MatMulBackward"
    assert x.grad_fn is None and x.is_leaf


# ------------------------------------------------------------------------ seeds and errors


def test_non_scalar_backward_needs_a_gradient():
    x = leaf([1.0, 2.0])
    y = x * 2
    with pytest.raises(RuntimeError, match="scalar"):
        y.backward()
    y.backward(tt.tensor(np.array([1.0, 10.0])))
    assert_close(x.grad, [2.0, 20.0], what="x.grad for y = 2x with dL/dy = [1, 10]")


def test_gradient_of_the_wrong_shape_is_refused():
    x = leaf([1.0, 2.0])
    with pytest.raises(ValueError, match="shape"):
        (x * 2).backward(tt.tensor(np.ones(3)))


def test_backward_without_requires_grad_explains():
    y = tt.tensor([1.0, 2.0]).sum()
    with pytest.raises(RuntimeError, match="requires_grad"):
        y.backward()


def test_float32_leaves_get_float32_gradients():
    x = tt.tensor([1.0, 2.0], requires_grad=True)  # float32
    (x * x).sum().backward()
    assert x.grad.dtype == np.float32, f"x.grad must have x's dtype, got {x.grad.dtype}"
    assert x.grad.shape == x.shape


# ------------------------------------------------------------------------ gradcheck itself


def test_gradcheck_catches_a_wrong_backward():
    class WrongSquare(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x  # should be 2x

    x = leaf([[0.5, -1.0], [2.0, 1.5]])
    with pytest.raises(tt.autograd.GradcheckError, match="analytic"):
        tt.autograd.gradcheck(WrongSquare.apply, [x])


def test_gradcheck_of_a_small_network():
    """Everything together: a two-layer MLP with a cross-entropy loss."""
    rng = np.random.default_rng(3)
    x = tt.tensor(rng.standard_normal((4, 3)))
    t = tt.tensor(np.array([0, 1, 1, 0]))
    w1 = tt.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    b1 = tt.tensor(rng.standard_normal(5), requires_grad=True)
    w2 = tt.tensor(rng.standard_normal((5, 2)), requires_grad=True)

    def net(w1, b1, w2):
        h = (x @ w1 + b1).tanh()
        return tt.nn.functional.cross_entropy(h @ w2, t)

    assert tt.autograd.gradcheck(net, [w1, b1, w2])
