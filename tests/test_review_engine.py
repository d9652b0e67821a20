"""Fresh-eyes review of the engine and tensor core: each test pins one bug found against torch."""

import numpy as np
import pytest

import tinytorch as tt

torch = pytest.importorskip("torch")


def _both(fn):
    """Run ``fn(M)`` with M = tinytorch and M = torch."""
    return fn(tt), fn(torch)


def test_augmented_assign_on_a_recorded_tensor_writes_in_place_like_torch():
    # ``a += w`` on a non-leaf must change a's memory: an alias (b is a) and views see it
    def run(M):
        w = M.ones(3, requires_grad=True)
        a = w * 2
        b = a
        v = a[1:]
        a += w
        a.sum().backward()
        return b.detach().numpy().copy(), v.detach().numpy().copy(), w.grad.numpy().copy()

    (b1, v1, g1), (b2, v2, g2) = _both(run)
    np.testing.assert_allclose(b1, b2)
    np.testing.assert_allclose(v1, v2)
    np.testing.assert_allclose(g1, g2)


def test_second_backward_through_nodes_that_saved_nothing_works_like_torch():
    # PyTorch raises only when a freed saved tensor is needed: add and sum save none
    def run(M):
        x = M.ones(3, requires_grad=True)
        y = x + 1
        y.sum().backward()
        y.sum().backward()
        return x.grad.numpy().copy()

    g1, g2 = _both(run)
    np.testing.assert_allclose(g1, g2)


def test_optimizer_step_counts_as_an_inplace_write_of_a_saved_weight_like_torch():
    # the GAN mistake: stepping D's optimizer, then backward through a graph that saved D's
    # old weights. PyTorch refuses; a silent gradient from the new weights is the worst outcome
    for M in (tt, torch):
        w = M.nn.Parameter(M.ones(3))
        x = M.ones(3, requires_grad=True)
        loss = (w * x).sum()  # Mul saved w (x needs a gradient)
        opt = M.optim.SGD([w], lr=0.5)
        loss.backward(retain_graph=True)
        opt.step()
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            loss.backward()


def test_inplace_write_through_a_view_of_a_recorded_tensor_reaches_its_gradient():
    # y[0] is a view of y: writing into it changes y, so y's gradient must see the write
    # (PyTorch rebases y onto CopySlices); a silent gradient of the old y is wrong
    def run(M):
        x = M.ones(2, 3, requires_grad=True)
        y = x * 2
        y[0].mul_(3)
        y.sum().backward()
        return y.detach().numpy().copy(), x.grad.numpy().copy()

    (y1, g1), (y2, g2) = _both(run)
    np.testing.assert_allclose(y1, y2)
    try:
        np.testing.assert_allclose(g1, g2)
    except AssertionError:
        pytest.fail(f"x.grad {g1.tolist()} vs torch {g2.tolist()}")


def test_setitem_through_a_view_and_a_view_of_a_weight_follow_torch():
    def run(M):
        x = M.ones(2, 3, requires_grad=True)
        w = M.full((1,), 5.0, requires_grad=True)
        y = x * 2
        y[1][1:] = w  # a write into y, through the view y[1]
        (y * y).sum().backward()
        return y.detach().numpy().copy(), x.grad.numpy().copy(), w.grad.numpy().copy()

    for a, b in zip(*_both(run)):
        np.testing.assert_allclose(a, b)
    for M in (tt, torch):
        w = M.ones(2, 3, requires_grad=True)
        with pytest.raises(RuntimeError):
            w[0].mul_(2)  # would change the weight's values behind autograd's back


def test_a_view_taken_before_an_inplace_write_into_its_base_follows_the_new_values():
    # v = y[1:3]; y.mul_(5): v's values changed, so its gradient must go through mul_
    def run(M):
        x = M.ones(4, requires_grad=True)
        y = x * 2
        v = y[1:3]
        u = v[0:1]  # a view of a view
        y.mul_(5)
        (v.sum() + u.sum()).backward()
        return v.detach().numpy().copy(), x.grad.numpy().copy()

    for a, b in zip(*_both(run)):
        np.testing.assert_allclose(a, b)


def test_a_kept_loss_does_not_keep_the_data_batches_of_nodes_that_saved_nothing():
    import gc
    import weakref

    b = tt.zeros(3, requires_grad=True)
    batch = tt.ones(4, 3)
    ref = weakref.ref(batch)
    loss = (batch + b).sum()  # Add saves nothing
    del batch
    loss.backward()
    gc.collect()
    assert ref() is None
    loss.backward()  # a second pass through add/sum still works, as in PyTorch
    np.testing.assert_allclose(b.grad.numpy(), [8.0, 8.0, 8.0])


@pytest.mark.parametrize("view", ["t", "reshape", "unsqueeze", "permute"])
def test_inplace_write_through_a_reshape_or_transpose_view_reaches_the_base_gradient(view):
    make = {"t": lambda y: y.t(), "reshape": lambda y: y.reshape(6),
            "unsqueeze": lambda y: y.unsqueeze(0), "permute": lambda y: y.permute(1, 0)}[view]

    def run(M):
        x = M.arange(6.0).reshape(2, 3).requires_grad_()
        y = x * 2
        v = make(y)
        v.mul_(3)
        (y * y).sum().backward()
        return y.detach().numpy().copy(), x.grad.numpy().copy()

    for a, b in zip(*_both(run)):
        np.testing.assert_allclose(a, b)
