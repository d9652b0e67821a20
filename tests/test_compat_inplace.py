"""In-place methods, the version counter and ``.data``, checked against PyTorch.

PyTorch's rules: an in-place write is counted; a node that saved the old values refuses to
backward (naming the op) instead of silently using the new ones; a leaf that requires grad may
not be changed while recording; ``.data`` is a detached Tensor sharing memory.
"""

import numpy as np
import pytest

import tinytorch as tt

torch = pytest.importorskip("torch")

X = np.array([[0.5, -1.5, 2.0], [3.0, -0.25, 1.0]])
Y = np.array([[1.5, 2.0, -0.5], [0.25, 4.0, -2.0]])

METHODS = [
    ("add_", lambda t, o: t.add_(o)), ("add_alpha", lambda t, o: t.add_(o, alpha=-0.5)),
    ("sub_", lambda t, o: t.sub_(o, alpha=2)), ("mul_", lambda t, o: t.mul_(o)),
    ("div_", lambda t, o: t.div_(o)), ("pow_", lambda t, o: t.abs_().pow_(2)),
    ("neg_", lambda t, o: t.neg_()), ("exp_", lambda t, o: t.exp_()),
    ("sqrt_", lambda t, o: t.abs_().sqrt_()), ("clamp_", lambda t, o: t.clamp_(-1, 1)),
    ("clamp_min_", lambda t, o: t.clamp_min_(0.0)), ("zero_", lambda t, o: t.zero_()),
    ("fill_", lambda t, o: t.fill_(2.5)), ("copy_", lambda t, o: t.copy_(o)),
    ("copy_broadcast", lambda t, o: t.copy_(o[0])), ("addcmul_", lambda t, o: t.addcmul_(o, o, value=0.5)),
    ("addcdiv_", lambda t, o: t.addcdiv_(o, o + 10, value=2)), ("lerp_", lambda t, o: t.lerp_(o, 0.25)),
    ("relu_", lambda t, o: t.relu_()), ("tanh_", lambda t, o: t.tanh_()),
    ("sigmoid_", lambda t, o: t.sigmoid_()), ("iadd", lambda t, o: t.__iadd__(o)),
    ("imul", lambda t, o: t.__imul__(o)), ("masked_fill_", lambda t, o: t.masked_fill_(o > 1, -7.0)),
]


@pytest.mark.parametrize("name,op", METHODS, ids=[m[0] for m in METHODS])
def test_inplace_values_match_torch(name, op):
    ours, ref = tt.tensor(X), torch.tensor(X)
    view = ours[0]
    out = op(ours, tt.tensor(Y))
    op(ref, torch.tensor(Y))
    assert out is ours
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12)
    np.testing.assert_allclose(view.numpy(), ref.numpy()[0], rtol=1e-12)  # views see it
    assert ours._version >= 1


@pytest.mark.parametrize("name,op", METHODS, ids=[m[0] for m in METHODS])
def test_inplace_on_a_non_leaf_gradient_matches_torch(name, op):
    """Inside a graph the op is recorded: gradients as torch (where torch can backward)."""
    results = []
    for lib in (tt, torch):
        x = lib.tensor(X, requires_grad=True)
        o = lib.tensor(Y, requires_grad=True)
        h = x * 1.5 + 0.0  # a non-leaf that no node saved
        try:
            r = op(h, o)
            (r * lib.tensor(Y)).sum().backward()
            results.append(("ok", x.grad.numpy(), None if o.grad is None else o.grad.numpy()))
        except RuntimeError:
            results.append(("error", None, None))
    assert results[0][0] == results[1][0], results
    if results[0][0] == "ok":
        np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10)
        if results[1][2] is not None:
            np.testing.assert_allclose(results[0][2], results[1][2], rtol=1e-10)


def test_modifying_a_saved_tensor_raises_at_backward_naming_the_op():
    x = tt.randn(3, requires_grad=True)
    y = x.exp()  # exp saves its output y
    z = (y * 2).sum()
    y.add_(1)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*Backward.*add_"
                                           r".*version 1; expected version 0"):
        z.backward()


def test_modifying_a_saved_input_through_data_or_a_view_raises():
    w = tt.randn(3, requires_grad=True)
    x = tt.randn(3)
    loss = (w * x).sum()  # mul saves x
    x[0] = 5.0  # setitem on the saved input
    with pytest.raises(RuntimeError, match=r"MulBackward.*setitem"):
        loss.backward()
    loss = (x * w).sum()
    x.data.mul_(2)  # through .data (PyTorch would silently give the wrong gradient)
    with pytest.raises(RuntimeError, match="mul_"):
        loss.backward()
    loss = (x * w).sum()
    with tt.no_grad():
        x.reshape(3, 1)[1, 0] += 1  # through a view of the same memory
    with pytest.raises(RuntimeError, match="inplace"):
        loss.backward()


def test_writes_after_backward_or_to_unsaved_tensors_are_fine():
    x = tt.randn(3, requires_grad=True)
    y = x * 2  # saves x and 2, not y
    y.add_(1)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])
    with tt.no_grad():
        x.sub_(0.1 * x.grad)  # the optimizer step, after backward
    assert x._version == 1


def test_leaf_that_requires_grad_rule():
    w = tt.randn(3, requires_grad=True)
    for bad in (lambda: w.add_(1), lambda: w.zero_(), lambda: w.copy_(tt.ones(3)),
                lambda: w.normal_(), lambda: w.__iadd__(1)):
        with pytest.raises(RuntimeError, match="no_grad"):
            bad()
    with tt.no_grad():
        w.normal_(0, 0.02, generator=tt.Generator().manual_seed(0))
        w.uniform_(-1, 1)
        w.zero_()
    assert np.all(w.numpy() == 0) and w.requires_grad


def test_data_is_a_detached_tensor_sharing_memory():
    p = tt.nn.Parameter(tt.tensor([1.0, 2.0]))
    d = p.data
    assert isinstance(d, tt.Tensor) and not d.requires_grad and d.grad_fn is None
    p.grad = tt.tensor([1.0, 1.0])
    p.data += -0.5 * p.grad  # the classic loop: writes into p
    p.data.add_(p.grad, alpha=-0.5)
    np.testing.assert_allclose(p.numpy(), [0.0, 1.0])
    p.data.copy_(tt.tensor([3.0, 4.0]))
    np.testing.assert_allclose(p.numpy(), [3.0, 4.0])
    p.data = p.data.to(tt.float64)  # swaps the values, dtype included
    assert p.dtype == tt.float64 and p.requires_grad
    (p * 2).sum().backward()  # the engine works on after all of that
    with pytest.raises(TypeError, match="must be a Tensor"):
        p.data = [1.0, 2.0]
    with pytest.raises(RuntimeError, match="floating point"):
        p.data = tt.tensor([1, 2])


def test_version_counter_counts_like_torch():
    ours, ref = tt.zeros(3), torch.zeros(3)
    for lib_t in (ours, ref):
        lib_t.add_(1)
        lib_t[0] = 2
        lib_t.mul_(3)
    assert ours._version == ref._version == 3
