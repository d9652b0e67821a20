"""Module 01 graded tests: laws of broadcasting and reduction, on random shapes (hypothesis).

The worked examples in the other files fix a few shapes; here hypothesis draws many small
ones, so a rule that only holds for the shapes you happened to try (a forgotten leading
axis, keepdim ignored for a tuple of dims) is found and shrunk to the smallest failing case.
"""

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import tinytorch as tt  # noqa: E402
from tinytorch.testing import assert_close  # noqa: E402

# Few, small, reproducible examples. No shrinking phase: the strategies already draw small
# shapes, and shrinking a failure on a still-stubbed op costs over ten seconds per test.
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    phases=(Phase.explicit, Phase.generate))


@st.composite
def broadcastable_shapes(draw):
    """Two shapes that broadcast: start from one shape, then drop leading dims and set some
    of the remaining ones to 1, independently for each operand."""
    base = draw(st.lists(st.integers(1, 4), min_size=0, max_size=4))

    def derive():
        keep = draw(st.integers(0, len(base)))
        dims = base[len(base) - keep:]
        return tuple(1 if draw(st.booleans()) else d for d in dims)

    return derive(), derive()


def _array(shape, seed):
    return np.random.default_rng(seed).uniform(0.5, 2.0, size=shape).astype(np.float32)


@SETTINGS
@given(shapes=broadcastable_shapes(), op=st.sampled_from(["+", "-", "*", "/"]),
       seed=st.integers(0, 2**16))
def test_binary_ops_broadcast_like_numpy(shapes, op, seed):
    sa, sb = shapes
    a, b = _array(sa, seed), _array(sb, seed + 1)
    ref = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}[op]
    ta, tb = tt.tensor(a), tt.tensor(b)
    got = {"+": ta + tb, "-": ta - tb, "*": ta * tb, "/": ta / tb}[op]
    assert_close(got, ref(a, b), rtol=1e-5, what=f"a {op} b with shapes {sa} and {sb}",
                 inputs={"a": a, "b": b})


@st.composite
def shape_and_dims(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    dims = draw(st.one_of(
        st.none(),
        st.integers(-len(shape), len(shape) - 1),
        st.sets(st.integers(0, len(shape) - 1), min_size=1).map(lambda s: tuple(sorted(s))),
    ))
    return shape, dims


@SETTINGS
@given(case=shape_and_dims(), keepdim=st.booleans(), seed=st.integers(0, 2**16))
def test_sum_and_mean_match_numpy_for_any_dims(case, keepdim, seed):
    shape, dims = case
    x = _array(shape, seed)
    t = tt.tensor(x)
    assert_close(t.sum(dim=dims, keepdim=keepdim), np.sum(x, axis=dims, keepdims=keepdim),
                 rtol=1e-5, atol=1e-5,
                 what=f"x.sum(dim={dims}, keepdim={keepdim}), x of shape {shape}",
                 inputs={"x": x})
    assert_close(t.mean(dim=dims, keepdim=keepdim), np.mean(x, axis=dims, keepdims=keepdim),
                 rtol=1e-5, atol=1e-6,
                 what=f"x.mean(dim={dims}, keepdim={keepdim}), x of shape {shape}", inputs={"x": x})


@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple),
       seed=st.integers(0, 2**16))
def test_reshape_then_permute_match_numpy(shape, seed):
    x = _array(shape, seed)
    perm = tuple(np.random.default_rng(seed).permutation(len(shape)))
    got = tt.tensor(x).reshape(-1).reshape(shape).permute(*perm)
    assert_close(got, np.transpose(x, perm), what=f"x.reshape(-1).reshape({shape}).permute{perm}",
                 inputs={"x": x})
