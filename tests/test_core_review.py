"""Adversarial review of the core: each test pins a bug found by trying the engine the way a
newcomer or a PyTorch user would (edge values, mixed dtypes, 0-d tensors, in-place updates,
bad input on purpose). Where PyTorch defines the behaviour, the test compares with it.
"""

import gc
import weakref

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F

torch = pytest.importorskip("torch")


def _pair(values, dtype=np.float64):
    """The same leaf in both frameworks."""
    arr = np.asarray(values, dtype=dtype)
    return tt.tensor(arr, requires_grad=True), torch.tensor(arr, requires_grad=True)


def _close(ours, theirs, what, rtol=1e-6, atol=1e-7):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    ours = ours.numpy() if isinstance(ours, tt.Tensor) else np.asarray(ours)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} vs torch {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=what)


# --------------------------------------------------------------------------- wrong or lost gradients


def test_clip_with_tensor_bounds_gives_the_bounds_their_gradient():
    """clamp(x, lo, hi) with tensor bounds: where x is clamped, the gradient goes to the bound.
    It used to be dropped silently (lo.grad stayed None)."""
    xv, lov, hiv = [-2.0, -0.5, 0.0, 0.5, 2.0], [-1.0, 0.0, 0.0, 0.0, -1.0], [1.0, 1.0, 1.0, 0.2, 1.0]
    x, xr = _pair(xv)
    lo, lor = _pair(lov)
    hi, hir = _pair(hiv)
    w = np.arange(1.0, 6.0)
    (x.clip(lo, hi) * tt.tensor(w)).sum().backward()
    (xr.clamp(lor, hir) * torch.tensor(w)).sum().backward()
    for ours, theirs, name in ((x, xr, "x"), (lo, lor, "lo"), (hi, hir, "hi")):
        assert ours.grad is not None, f"clip: {name} got no gradient"
        _close(ours.grad, theirs.grad, f"clip: gradient of {name}")


def test_setitem_of_a_value_that_requires_grad_keeps_the_gradient():
    """``out[t] = h`` (an RNN loop written the NumPy way) used to store the values and silently
    drop h's gradient; now it is recorded, as PyTorch's CopySlices: the gradient flows to h."""
    h = tt.randn(4, requires_grad=True)
    out = tt.zeros(3, 4)
    out[0] = h * 2
    out.sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), np.full(4, 2.0, np.float32))
    with tt.no_grad():  # without recording, the values only
        out[1] = h * 2
    out[2] = (h * 2).detach()
    np.testing.assert_allclose(out.numpy()[1], 2 * h.numpy())


def test_pow_with_exponent_zero_at_base_zero_has_zero_gradient():
    """d(x^0)/dx = 0 everywhere (PyTorch too); b * x^(b-1) gave 0 * 0^-1 = nan at x = 0."""
    x, xr = _pair([0.0, 1.5, -2.0])
    (x ** 0).sum().backward()
    (xr ** 0).sum().backward()
    _close(x.grad, xr.grad, "x ** 0")
    a, ar = _pair([0.0, 0.0, 2.0])
    b, br = _pair([0.0, 2.0, 0.0])
    (a ** b).sum().backward()
    (ar ** br).sum().backward()
    _close(a.grad, ar.grad, "a ** b: gradient of a")
    _close(b.grad, br.grad, "a ** b: gradient of b")


def test_std_of_constant_values_has_zero_gradient_not_nan():
    """Standardising a constant feature: PyTorch's std backward is 0 where std is 0; the
    composed var().sqrt() gave 0 / 0 = nan, which poisons every weight upstream."""
    data = [[1.0, 2.0], [1.0, 5.0], [1.0, -1.0]]  # column 0 is constant
    x, xr = _pair(data)
    for ours, theirs in ((x.std(0), xr.std(0)), (x.std(), xr.std()), (x.std(1, keepdim=True),
                                                                      xr.std(1, keepdim=True))):
        _close(ours, theirs, "std forward")
    x, xr = _pair(data)
    (x / (x.std(0) + 1e-5)).sum().backward()
    (xr / (xr.std(0) + 1e-5)).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    _close(x.grad, xr.grad, "std gradient at zero spread", rtol=1e-5)


def test_std_gradient_matches_finite_differences():
    x = tt.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    assert tt.autograd.gradcheck(lambda t: t.std(1, correction=0), [x])
    assert tt.autograd.gradcheck(lambda t: t.std(), [x])


def test_cross_entropy_with_masked_minus_inf_logits_is_finite_like_torch():
    """Masking invalid classes with -inf is common (vocabularies, legal moves); the loss of a
    sample whose target is not masked must stay finite: 0 * log(0) counts as 0."""
    logits = np.array([[0.0, -np.inf, 1.0], [2.0, 0.5, -np.inf]])
    target = np.array([0, 1])
    for kw in ({}, {"reduction": "none"}, {"label_smoothing": 0.0, "reduction": "sum"}):
        x, xr = _pair(logits)
        y = F.cross_entropy(x, tt.tensor(target), **kw)
        yr = torch.nn.functional.cross_entropy(xr, torch.tensor(target), **kw)
        _close(y, yr, f"cross_entropy {kw}")
        y.sum().backward()
        yr.sum().backward()
        _close(x.grad, xr.grad, f"cross_entropy {kw}: gradient")


def test_backward_that_returns_too_few_gradients_is_an_error_not_a_missing_gradient():
    """A module-05 classic: ``return grad * b`` for a two-input op. zip() used to drop the
    second input's gradient silently."""

    class BadMul(tt.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            return grad * b  # forgot the gradient of b

    a = tt.tensor([1.0, 2.0], requires_grad=True)
    b = tt.tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"BadMulBackward.*1 gradient.*2 inputs"):
        BadMul.apply(a, b).sum().backward()


def test_backward_that_returns_a_wrong_shape_names_the_op_and_the_shapes():
    class BadSum(tt.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a.sum(axis=0)

        @staticmethod
        def backward(ctx, grad):
            return np.ones(5)  # should be the input's shape (2, 3)

    a = tt.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"BadSumBackward.*shape \(5,\).*input 0 of shape \(2, 3\)"):
        BadSum.apply(a).sum().backward()


def test_max_over_everything_splits_ties_evenly_like_torch():
    """max() with ties: PyTorch shares the gradient evenly; max(dim) gives it to the index
    returned. The catalogue's random inputs never tie, so this pins both."""
    vals = [[1.0, 3.0, 3.0], [3.0, 0.0, 3.0]]
    for ours_fn, torch_fn in ((lambda t: t.max(), lambda t: t.max()),
                              (lambda t: t.min(), lambda t: t.min()),
                              (lambda t: t.max(dim=1).values, lambda t: t.max(dim=1).values),
                              (lambda t: t.max(dim=0, keepdim=True)[0],
                               lambda t: t.max(dim=0, keepdim=True)[0])):
        x, xr = _pair(vals)
        y, yr = ours_fn(x), torch_fn(xr)
        _close(y, yr, "max/min with ties")
        w = np.arange(1.0, 1.0 + y.numpy().size).reshape(y.shape)
        (y * tt.tensor(w)).sum().backward()
        (yr * torch.tensor(w)).sum().backward()
        _close(x.grad, xr.grad, "max/min with ties: gradient")
    x = tt.tensor(vals)
    assert x.max(dim=1).indices.tolist() == torch.tensor(vals).max(dim=1).indices.tolist()


# --------------------------------------------------------------------------- wrong values


def test_var_of_an_integer_tensor_refuses_instead_of_truncating():
    """var([1, 2, 4]) is 2.33; it used to come back as the int 2."""
    with pytest.raises(TypeError, match=r"var: needs a floating point tensor.*\.float\(\)"):
        tt.tensor([1, 2, 4]).var()
    with pytest.raises(TypeError, match=r"std: needs a floating point tensor"):
        tt.tensor([1, 2, 4]).std()


def test_clamp_of_an_int_tensor_with_float_bounds_gives_float_like_torch():
    ours = tt.tensor([-1, 0, 2]).clamp(0.5, 1.5)
    theirs = torch.tensor([-1, 0, 2]).clamp(0.5, 1.5)
    assert str(ours.dtype) == "float32" and ours.tolist() == theirs.tolist()
    assert tt.tensor([-1, 0, 2]).clamp(0, 1).dtype == tt.int64


def test_attention_refuses_integer_inputs_instead_of_returning_zeros():
    x = tt.randn(3, 4)
    with pytest.raises(TypeError, match="scaled_dot_product_attention: .*floating point.*int64"):
        F.scaled_dot_product_attention(tt.ones(3, 4, dtype=tt.int64), x, x)


def test_attention_batch_mismatch_names_the_shapes():
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: .*\(2, 3, 4\).*\(3, 3, 4\)"):
        F.scaled_dot_product_attention(tt.randn(2, 3, 4), tt.randn(3, 3, 4), tt.randn(3, 3, 4))


def test_permute_refuses_out_of_range_dims():
    """permute(0, 5) on a 2-d tensor used to wrap 5 to 1 and succeed."""
    with pytest.raises(IndexError, match=r"permute: dim 5 is out of range.*2 dimension"):
        tt.randn(3, 4).permute(0, 5)
    assert tt.randn(3, 4).permute(-1, 0).shape == (4, 3)


def test_iterating_a_0d_tensor_is_an_error_not_an_empty_loop():
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        list(tt.tensor(3.0))
    rows = list(tt.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]


# --------------------------------------------------------------------------- dtypes


def test_numpy_scalars_do_not_upcast_float32_tensors():
    """``scores / np.sqrt(d)`` is everywhere; np.float64 used to turn the model float64."""
    x = tt.tensor([1.0, 2.0], requires_grad=True)
    xr = torch.tensor([1.0, 2.0], requires_grad=True)
    for f in (lambda t: t / np.sqrt(4.0), lambda t: np.float64(2.0) * t, lambda t: t - np.float64(1),
              lambda t: t ** np.float64(2.0), lambda t: np.float64(1.0) / t, lambda t: t + np.int64(1)):
        ours, theirs = f(x), f(xr)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        _close(ours, theirs, "numpy scalar operand")
    ints = tt.tensor([1, 2], dtype=tt.int32) + np.int64(1)
    assert ints.dtype == torch.tensor([1, 2], dtype=torch.int32).add(np.int64(1)).numpy().dtype


def test_float_math_on_integer_tensors_gives_float32_like_torch():
    for name in ("exp", "log", "sqrt"):
        ours = getattr(tt.tensor([1, 4]), name)()
        theirs = getattr(torch.tensor([1, 4]), name)()
        assert str(ours.dtype) == "float32", f"{name} of int64 gave {ours.dtype}"
        _close(ours, theirs, name, rtol=1e-6)


def test_mixing_int_and_float_in_maximum_and_where_gives_float32_like_torch():
    i, f = [1, 4], [2.5, 0.5]
    for name, ours, theirs in (
        ("maximum", tt.maximum(tt.tensor(i), tt.tensor(f)), torch.maximum(torch.tensor(i), torch.tensor(f))),
        ("minimum", tt.minimum(tt.tensor(i), tt.tensor(f)), torch.minimum(torch.tensor(i), torch.tensor(f))),
        ("where", tt.where(tt.tensor([True, False]), tt.tensor(i), tt.tensor(f)),
         torch.where(torch.tensor([True, False]), torch.tensor(i), torch.tensor(f))),
        ("where scalar", tt.where(tt.tensor([True, False]), tt.tensor(i), 0.5),
         torch.where(torch.tensor([True, False]), torch.tensor(i), 0.5)),
    ):
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), name
        _close(ours, theirs, name)


def test_parameter_from_a_list_of_floats_is_float32_like_tensor():
    assert nn.Parameter([1.0, 2.0]).dtype == tt.float32
    assert nn.Parameter(np.zeros(2)).dtype == tt.float64  # an explicit float64 array stays


def test_randint_with_high_and_size_positional_like_torch():
    assert tt.randint(5, (3,)).shape == (3,)
    assert tt.randint(2, 5, (2, 2)).shape == (2, 2)
    assert 0 <= tt.randint(5, (100,)).numpy().min() and tt.randint(5, (100,)).numpy().max() < 5


def test_random_floats_with_an_integer_dtype_refuse():
    with pytest.raises(TypeError, match=r"rand: .*floating point dtype.*randint"):
        tt.rand(2, dtype=tt.int64)
    with pytest.raises(TypeError, match=r"randn: .*floating point dtype"):
        tt.randn_like(tt.tensor([1, 2]))


# --------------------------------------------------------------------------- 0-d, empty, indexing


def test_0d_tensor_reductions_accept_dim_0_and_minus_1_like_torch():
    for dim in (0, -1):
        for keepdim in (False, True):
            x, xr = _pair(2.5)
            for name in ("sum", "mean"):
                y = getattr(x, name)(dim, keepdim=keepdim)
                yr = getattr(xr, name)(dim, keepdim=keepdim)
                _close(y, yr, f"0-d {name}(dim={dim})")
                y.backward()
            vals, idx = x.max(dim, keepdim=keepdim)
            vr, ir = xr.max(dim, keepdim=keepdim)
            _close(vals, vr, "0-d max(dim)")
            assert idx.shape == tuple(ir.shape) and idx.item() == 0
            vals.backward()
            np.testing.assert_allclose(x.grad.numpy(), 3.0)


def test_indexing_with_an_empty_list_gives_an_empty_result_like_torch():
    x, xr = _pair(np.ones((3, 4)))
    y, yr = x[[]], xr[[]]
    assert y.shape == tuple(yr.shape) == (0, 4)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 4)))
    z = tt.zeros(3)
    z[[]] = 1.0
    assert z.tolist() == [0.0, 0.0, 0.0]


def test_squeeze_accepts_a_tuple_of_dims_like_torch():
    x, xr = _pair(np.ones((1, 3, 1, 2)))
    for dims in ((0, 2), (0, 1), (-2,)):
        assert x.squeeze(dims).shape == tuple(xr.squeeze(dims).shape)
    x.squeeze((0, 2)).sum().backward()
    assert x.grad.shape == (1, 3, 1, 2)


def test_repr_of_an_empty_tensor_shows_its_shape():
    assert repr(tt.zeros(0, 3)) == repr(torch.zeros(0, 3)) == "tensor([], size=(0, 3))"
    assert repr(tt.zeros(0)) == "tensor([])"


# --------------------------------------------------------------------------- in-place updates


def test_manual_sgd_step_updates_the_weights_in_place_like_torch():
    """The canonical hand-written update ``p -= lr * p.grad`` under no_grad used to rebind the
    loop variable only: no weight ever changed and the model silently never learned."""
    model = nn.Linear(3, 2)
    before = [p.numpy().copy() for p in model.parameters()]
    ids = [id(p) for p in model.parameters()]
    model(tt.ones(4, 3)).sum().backward()
    with tt.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    after = list(model.parameters())
    assert [id(p) for p in after] == ids
    for b, p in zip(before, after):
        np.testing.assert_allclose(p.numpy(), b - 0.1 * p.grad.numpy(), rtol=1e-6)


def test_in_place_operators_write_into_the_tensor_like_torch():
    for M in (tt, torch):
        x = M.tensor([1.0, 2.0, 3.0])
        alias = x
        x += 1
        x *= M.tensor([2.0, 2.0, 2.0])
        x -= 1.0
        x /= 2
        assert alias is x and x.tolist() == [1.5, 2.5, 3.5]
        ids = M.tensor([1, 2])
        with pytest.raises((TypeError, RuntimeError)):  # int += float cannot be stored in place
            ids += 0.5


def test_in_place_update_of_a_weight_while_recording_refuses_like_torch():
    w = tt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"add_: .*requires grad.*in place.*no_grad"):
        w += 1.0
    # a non-leaf is updated out of place, so its gradient stays right
    x = tt.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h += x
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 4.0])


# --------------------------------------------------------------------------- memory


def test_backward_releases_the_activations_even_while_the_loss_is_kept():
    """``losses.append(loss)`` for a plot must not keep every intermediate array alive:
    after backward (without retain_graph) the graph lets go of its input tensors."""
    x = tt.randn(64, 64, requires_grad=True)
    h = (x * 2).relu()
    ref = weakref.ref(h)
    loss = (h * 3).sum()
    del h
    loss.backward()
    gc.collect()
    assert ref() is None, "an intermediate tensor survived backward through the kept loss"
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()
    # retain_graph keeps what backward reads (the saved arrays, not the intermediate Tensor
    # objects: nodes hold shells of them) for a second pass, which gives the same gradient
    x.grad = None
    h = (x * 2).relu()
    loss = (h * 3).sum()
    del h
    loss.backward(retain_graph=True)
    gc.collect()
    first = x.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)
    np.testing.assert_allclose(first, 6.0 * (x.numpy() > 0))


# --------------------------------------------------------------------------- nn.Module registration


def test_module_registration_refuses_what_state_dict_would_silently_lose_like_torch():
    for M, mod in ((tt, nn), (torch, torch.nn)):
        m = mod.Module()
        with pytest.raises(TypeError):  # a plain tensor is not a weight: not in parameters()
            m.register_parameter("w", M.ones(2))
        with pytest.raises(TypeError):
            m.register_buffer("b", [1.0, 2.0])
        m.register_parameter("w", mod.Parameter(M.ones(2)))
        with pytest.raises(KeyError):  # one name, one registry
            m.register_buffer("w", M.zeros(2))
        m.register_buffer("steps", M.zeros(1))
        with pytest.raises(TypeError):  # would drop the buffer from state_dict
            m.steps = 3
        assert list(m.state_dict()) == ["w", "steps"]


def test_register_buffer_again_as_persistent_puts_it_back_in_state_dict():
    for M, mod in ((tt, nn), (torch, torch.nn)):
        m = mod.Module()
        m.register_buffer("mask", M.ones(2), persistent=False)
        assert list(m.state_dict()) == []
        m.register_buffer("mask", M.ones(2))
        assert list(m.state_dict()) == ["mask"]


def test_detach_cuts_the_path_but_shares_the_values_like_torch():
    """Not in the op catalogue: finite differences perturb the shared values too, so only
    PyTorch can be the oracle here (d(a * stop(a))/da = stop(a), not 2a)."""
    vals = np.random.default_rng(1).standard_normal((3, 4))
    x, xr = _pair(vals)
    (x * x.detach() + x.detach().exp()).sum().backward()
    (xr * xr.detach() + xr.detach().exp()).sum().backward()
    _close(x.grad, xr.grad, "detach")
    d = x.detach()
    d.numpy()[0, 0] = 42.0
    assert x.numpy()[0, 0] == 42.0 and not d.requires_grad


# --------------------------------------------------------------------------- engine invariants


def _function_classes():
    out, stack = [], [tt.autograd.Function]
    while stack:
        for sub in stack.pop().__subclasses__():
            out.append(sub)
            stack.append(sub)
    return out


def test_no_op_writes_into_its_inputs_or_into_the_gradient_it_receives(monkeypatch):
    """The engine hands one gradient array to several consumers (``a + b`` returns ``grad``
    twice) and forwards see the users' own arrays: an in-place ``grad *= ...`` or ``a -= m``
    (a tempting speed-up) would silently corrupt another input's gradient or the user's data.
    Every op of the catalogue runs here with read-only inputs and read-only incoming
    gradients, so such a write raises instead."""
    from op_cases import CASES

    def readonly(backward):
        def wrapper(ctx, grad):
            grad = np.asarray(grad).view()
            grad.flags.writeable = False
            return backward(ctx, grad)

        return staticmethod(wrapper)

    for cls in _function_classes():
        if "backward" in cls.__dict__:
            monkeypatch.setattr(cls, "backward", readonly(cls.__dict__["backward"].__func__))
    for case in CASES:
        ts = [tt.tensor(x, requires_grad=i in case.grad_indices())
              for i, x in enumerate(case.inputs(dtype=np.float64))]
        for t in ts:
            t.numpy().flags.writeable = False
        out = case.tt(*ts)
        out.backward(tt.ones_like(out))
        for i in case.grad_indices():
            assert ts[i].grad is not None, f"{case}: input {i} got no gradient"


# torch's Tensor.__array__ takes no ``copy`` keyword and NumPy 2 warns when this test calls
# np.array on a torch tensor; tinytorch's takes it, so the warning is torch's alone
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
def test_np_array_of_a_tensor_is_a_snapshot_and_np_asarray_a_view_like_torch():
    """``history.append(np.array(w))`` used to store the live weights: every entry changed."""
    for M in (tt, torch):
        t = M.tensor([1.0, 2.0])
        snap, snap32 = np.array(t), np.array(t, dtype=np.float32)
        snap[0] = snap32[1] = 99.0
        assert t.tolist() == [1.0, 2.0], M.__name__
    t = tt.tensor([1.0, 2.0])
    np.asarray(t)[0] = 5.0  # the documented view, as t.numpy()
    assert t.tolist() == [5.0, 2.0]
    assert np.array(t, dtype=np.float64).dtype == np.float64


def test_attention_mask_gradient_with_scale_zero_is_finite_like_torch():
    rng = np.random.default_rng(2)
    q, k, v, m = (rng.standard_normal(s) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 2), (3, 5)))
    ours = [tt.tensor(a, requires_grad=True) for a in (q, k, v, m)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v, m)]
    F.scaled_dot_product_attention(*ours[:3], attn_mask=ours[3], scale=0.0).sum().backward()
    torch.nn.functional.scaled_dot_product_attention(*theirs[:3], attn_mask=theirs[3],
                                                     scale=0.0).sum().backward()
    for a, b, name in zip(ours, theirs, "qkvm"):
        _close(a.grad, b.grad, f"sdpa scale=0: gradient of {name}")


def test_a_0d_tensor_does_not_promote_a_dimensioned_one_of_the_same_kind_like_torch():
    """``x - tt.tensor(data.mean())`` with a float64 NumPy mean used to turn x (and every
    layer after it) float64."""
    for make in (lambda M, x, s: x - s, lambda M, x, s: s * x, lambda M, x, s: x / s,
                 lambda M, x, s: x ** s):
        x, xr = tt.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
        s, sr = _pair(1.5)  # float64, 0-d, learnable
        y, yr = make(tt, x, s), make(torch, xr, sr)
        assert y.dtype == tt.float32 and yr.dtype == torch.float32
        _close(y, yr, "0-d float64 operand", rtol=1e-6)
        y.sum().backward()
        yr.sum().backward()
        assert s.grad.dtype == tt.float64 and x.grad.dtype == tt.float32
        _close(s.grad, sr.grad, "gradient of the 0-d operand", rtol=1e-5)
        _close(x.grad, xr.grad, "gradient of the dimensioned operand", rtol=1e-5)
    assert (tt.tensor([1, 2], dtype=tt.int32) + tt.tensor(3)).dtype == tt.int32
    assert (tt.tensor([1, 2]) * tt.tensor(2.5, dtype=tt.float64)).dtype == tt.float64  # kinds differ
    assert (tt.tensor(1.0, dtype=tt.float64) + tt.tensor(1.0)).dtype == tt.float64  # both 0-d


# --------------------------------------------------------------------------- errors that help


def test_bad_arguments_get_errors_that_name_the_op_and_the_fix():
    a = tt.ones(2, 3)
    with pytest.raises(TypeError, match=r"cat: expected a list or tuple of tensors.*tt\.cat\(\[a, b\]"):
        tt.cat(a, a)  # the list forgotten: used to fail with 'truth value ... is ambiguous'
    with pytest.raises(TypeError, match=r"stack: expected a list or tuple"):
        tt.stack(a, a)
    with pytest.raises(TypeError, match=r"cat: expected a list"):
        tt.cat(a)  # used to concatenate a's rows silently
    with pytest.raises(TypeError, match=r"sum: dim must be an int.*'a'"):
        a.sum("a")
    with pytest.raises(TypeError, match=r"softmax: dim must be an int.*None"):
        a.softmax(None)
    with pytest.raises(ValueError, match=r"split: split_size must be a positive int, got 0"):
        a.split(0)
    with pytest.raises(TypeError, match=r"unsupported dtype"):
        tt.zeros(2, dtype="S1")
    with pytest.raises(TypeError, match=r"unsupported dtype"):
        tt.full((2,), "a")
    with pytest.raises(TypeError, match=r"load_state_dict: expected a dict.*NoneType"):
        nn.Linear(2, 2).load_state_dict(None)
    with pytest.raises(TypeError, match=r"gradcheck: fn must return a Tensor"):
        tt.autograd.gradcheck(lambda t: 3.0, [tt.tensor([1.0], requires_grad=True)])
