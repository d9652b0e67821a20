"""Laws that must hold for every shape: hypothesis draws small shapes, broadcasts and dims.

Broadcasting, reductions and reshapes are where shape bugs live; each property compares
tinytorch with NumPy (values) and checks that gradients come back in the input's shape and
with the value the chain rule predicts.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import tinytorch as tt

SETTINGS = settings(max_examples=40, deadline=None)

dims = st.integers(min_value=1, max_value=4)
shapes = st.lists(dims, min_size=0, max_size=4).map(tuple)


@st.composite
def broadcastable_pair(draw):
    """Two shapes that broadcast: each dim of the second is the first's, or 1, or missing."""
    a = draw(st.lists(dims, min_size=1, max_size=4).map(tuple))
    drop = draw(st.integers(0, len(a)))
    b = tuple(draw(st.sampled_from([n, 1])) for n in a[drop:])
    return (a, b) if draw(st.booleans()) else (b, a)


def _arr(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float64)


@SETTINGS
@given(broadcastable_pair(), st.sampled_from(["add", "sub", "mul", "div"]), st.integers(0, 2**16))
def test_broadcast_binary_ops_match_numpy_and_unbroadcast_grads(pair, op, seed):
    sa, sb = pair
    a_np, b_np = _arr(sa, seed), np.abs(_arr(sb, seed + 1)) + 0.5
    a, b = tt.tensor(a_np, requires_grad=True), tt.tensor(b_np, requires_grad=True)
    f = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}[op]
    out = getattr(a, f"__{ {'div': 'truediv'}.get(op, op)}__")(b)
    np.testing.assert_allclose(out.numpy(), f(a_np, b_np), rtol=1e-12)
    out.sum().backward()
    assert a.grad.shape == sa and b.grad.shape == sb
    # d(sum(a op b))/da summed over broadcast copies, computed the slow obvious way
    ones = np.ones(out.shape)
    expected_a = {"add": ones, "sub": ones, "mul": np.broadcast_to(b_np, out.shape),
                  "div": np.broadcast_to(1 / b_np, out.shape)}[op]
    np.testing.assert_allclose(a.grad.numpy(), tt.autograd.unbroadcast(expected_a, sa), rtol=1e-10)


@SETTINGS
@given(shapes, st.data(), st.booleans(), st.sampled_from(["sum", "mean", "max", "var"]))
def test_reductions_match_numpy_for_any_dim(shape, data, keepdim, op):
    x_np = _arr(shape, len(shape))
    x = tt.tensor(x_np, requires_grad=True)
    ndim = len(shape)
    dim = data.draw(st.none() | st.integers(-max(ndim, 1), max(ndim, 1) - 1)) if ndim else None
    if op == "var" and (np.prod(shape) if dim is None else shape[dim] if ndim else 1) < 2:
        return  # unbiased variance of one element is undefined (nan in both)
    out = getattr(x, op)(dim=dim, keepdim=keepdim)
    if op == "max" and dim is not None:
        out = out.values
    ref = {"sum": np.sum, "mean": np.mean, "max": np.max,
           "var": lambda a, axis, keepdims: np.var(a, axis=axis, keepdims=keepdims, ddof=1)}[op](
        x_np, axis=dim, keepdims=keepdim)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10)
    out.sum().backward()
    assert x.grad.shape == shape
    if op == "sum":
        np.testing.assert_allclose(x.grad.numpy(), np.ones(shape))
    if op == "mean":
        n = x_np.size if dim is None else shape[dim]
        np.testing.assert_allclose(x.grad.numpy(), np.full(shape, 1.0 / n))


@SETTINGS
@given(st.lists(dims, min_size=1, max_size=4).map(tuple), st.randoms(use_true_random=False))
def test_reshape_permute_roundtrip_preserves_values_and_grads(shape, rnd):
    x_np = _arr(shape, 7)
    x = tt.tensor(x_np, requires_grad=True)
    perm = list(range(len(shape)))
    rnd.shuffle(perm)
    y = x.permute(*perm).reshape(-1)
    np.testing.assert_array_equal(y.numpy(), np.transpose(x_np, perm).reshape(-1))
    w = np.arange(y.shape[0], dtype=np.float64)
    (y * tt.tensor(w)).sum().backward()
    # the gradient is w scattered back to where each element came from
    expected = np.transpose(w.reshape(np.transpose(x_np, perm).shape), np.argsort(perm))
    np.testing.assert_array_equal(x.grad.numpy(), expected)


@SETTINGS
@given(st.lists(dims, min_size=2, max_size=3).map(tuple), st.integers(0, 2**16))
def test_softmax_rows_are_distributions(shape, seed):
    x = tt.tensor(_arr(shape, seed) * 50)
    for dim in range(-len(shape), len(shape)):
        p = x.softmax(dim).numpy()
        assert np.all(p >= 0)
        np.testing.assert_allclose(p.sum(axis=dim), 1.0, rtol=1e-10)
        np.testing.assert_allclose(np.exp(x.log_softmax(dim).numpy()), p, rtol=1e-8, atol=1e-300)


@SETTINGS
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(0, 99))
def test_matmul_matches_numpy_with_batch_broadcast(n, k, m, b, seed):
    a_np, b_np = _arr((b, 1, n, k), seed), _arr((3, k, m), seed + 1)
    a, bb = tt.tensor(a_np, requires_grad=True), tt.tensor(b_np, requires_grad=True)
    out = a @ bb
    np.testing.assert_allclose(out.numpy(), a_np @ b_np, rtol=1e-12)
    out.sum().backward()
    assert a.grad.shape == a_np.shape and bb.grad.shape == b_np.shape
    g = np.ones(out.shape)
    np.testing.assert_allclose(a.grad.numpy(), (g @ np.swapaxes(b_np, -1, -2)).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(bb.grad.numpy(), (np.swapaxes(a_np, -1, -2) @ g).sum(axis=0))
