"""Indexing follows PyTorch's rules, checked against PyTorch over many index forms.

Ints, slices, None, Ellipsis, integer lists and tensors, boolean masks, in any mix: the same
values, shape and dtype as torch, the same gradient (scatter-add for repeated indices), and
``__setitem__`` with the same placement, including its gradient.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinytorch as tt

torch = pytest.importorskip("torch")

SHAPE = (3, 4, 5)


@st.composite
def index_items(draw, shape=SHAPE):
    """A PyTorch index for ``shape``: a tuple mixing every kind of item."""
    items, dim, ellipsis = [], 0, False
    n_items = draw(st.integers(1, len(shape) + 1))
    for _ in range(n_items):
        kinds = ["int", "slice", "none", "list", "tensor", "mask"] + ([] if ellipsis else ["ell"])
        kind = draw(st.sampled_from(kinds))
        if kind in ("int", "slice", "list", "tensor", "mask") and dim >= len(shape):
            kind = "none"
        if kind == "none":
            items.append(None)
            continue
        if kind == "ell":
            items.append(Ellipsis)
            ellipsis = True
            dim = len(shape)  # what follows indexes from the end: keep it simple, stop here
            continue
        n = shape[dim]
        dim += 1
        if kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            a = draw(st.one_of(st.none(), st.integers(-n, n)))
            b = draw(st.one_of(st.none(), st.integers(-n, n)))
            items.append(slice(a, b, draw(st.one_of(st.none(), st.integers(1, 3)))))
        elif kind in ("list", "tensor"):
            idx = draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=3))
            items.append(idx if kind == "list" else ("T", idx))
        else:
            items.append(("M", draw(st.lists(st.booleans(), min_size=n, max_size=n))))
    return tuple(items)


def _for(lib, items):
    out = []
    for i in items:
        if isinstance(i, tuple) and i[0] == "T":
            out.append(lib.tensor(i[1]))
        elif isinstance(i, tuple) and i[0] == "M":
            out.append(lib.tensor(i[1]))
        else:
            out.append(i)
    return tuple(out)


def _torch_or_error(fn):
    try:
        return fn(), None
    except (IndexError, RuntimeError, ValueError) as e:
        return None, e


X = np.arange(np.prod(SHAPE), dtype=np.float64).reshape(SHAPE) / 7.0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index_items())
def test_getitem_matches_torch(items):
    ref, err = _torch_or_error(lambda: torch.tensor(X)[_for(torch, items)])
    if err is not None:  # torch refuses (mismatched index shapes ...): so must we
        with pytest.raises((IndexError, ValueError, RuntimeError)):
            tt.tensor(X)[_for(tt, items)]
        return
    x = tt.tensor(X, requires_grad=True)
    out = x[_for(tt, items)]
    assert out.shape == tuple(ref.shape), items
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    # gradient: scatter-add back, repeated indices accumulate
    xr = torch.tensor(X, requires_grad=True)
    w = np.random.default_rng(0).standard_normal(tuple(ref.shape))
    (xr[_for(torch, items)] * torch.tensor(w)).sum().backward()
    (out * tt.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xr.grad.numpy(), rtol=1e-12, atol=1e-12)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index_items(), st.booleans())
def test_setitem_matches_torch(items, scalar):
    ref = torch.tensor(X)
    target, err = _torch_or_error(lambda: ref[_for(torch, items)])
    if err is not None:
        return
    if scalar:
        value_np = -1.5
    else:  # a value of the target's trailing shape, broadcast over the rest
        trail = tuple(target.shape)[-1:] if target.dim() else ()
        value_np = np.random.default_rng(1).standard_normal(trail)
    ref[_for(torch, items)] = value_np if scalar else torch.tensor(value_np)
    ours = tt.tensor(X)
    ours[_for(tt, items)] = value_np if scalar else tt.tensor(value_np)
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    assert ours._version == 1


def test_the_issue_example_and_negative_steps():
    x = tt.randn(3, 4, 5)
    assert x[0, :, [1, 2]].shape == (4, 2)  # NumPy's rule would give (2, 4)
    np.testing.assert_array_equal(x[0, :, [1, 2]].numpy(), x.numpy()[0][:, [1, 2]])
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1]
    with pytest.raises(IndexError, match="long, int, byte or bool"):
        x[tt.tensor([0.0, 1.0])]
    assert x[tt.tensor(1)].shape == (4, 5)  # a 0-d integer tensor indexes like an int


def test_setitem_gradient_matches_torch():
    """``out[i] = h`` inside a graph (an RNN written the NumPy way): gradients flow to the
    value at the written rows and to the old tensor elsewhere, as torch's CopySlices."""
    rng = np.random.default_rng(0)
    h0, base = rng.standard_normal(4), rng.standard_normal((3, 4))
    w = rng.standard_normal((3, 4))
    results = []
    for lib in (tt, torch):
        h = lib.tensor(h0, requires_grad=True)
        b = lib.tensor(base, requires_grad=True)
        out = b * 1.0
        out[1] = h * 2
        out[[0, 2], 1:3] = h[:2] ** 2
        (out * lib.tensor(w)).sum().backward()
        results.append((h.grad.numpy(), b.grad.numpy(), out.detach().numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_setitem_into_a_leaf_that_requires_grad_is_refused():
    w = tt.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w[0] = 1.0
    with tt.no_grad():
        w[0] = 1.0
    assert w.numpy()[0] == 1.0
