"""Samplers: NumPy's streams differ from PyTorch's, so instead of values these tests check
shapes, dtypes, support, frequencies (against the asked-for probabilities, with bounds far
beyond sampling noise), seeding, and the errors on bad input."""

import numpy as np
import pytest

import tinytorch as tt


def _gen(seed=0):
    return tt.Generator().manual_seed(seed)


def test_multinomial_with_replacement_matches_the_probabilities():
    w = tt.tensor([1.0, 0.0, 3.0, 6.0])  # unnormalised weights
    draws = tt.multinomial(w, 40000, replacement=True, generator=_gen())
    assert draws.shape == (40000,) and draws.dtype == tt.int64
    freq = np.bincount(draws.numpy(), minlength=4) / 40000
    np.testing.assert_allclose(freq, [0.1, 0.0, 0.3, 0.6], atol=0.015)  # sd ~ 0.0025
    assert freq[1] == 0  # a zero weight is never drawn


def test_multinomial_2d_rows_are_independent_distributions():
    w = tt.tensor([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
    d = tt.multinomial(w, 2000, replacement=True, generator=_gen(1)).numpy()
    assert d.shape == (2, 2000)
    assert np.all(d[0] == 1)
    assert set(np.unique(d[1])) == {0, 2} and abs((d[1] == 0).mean() - 0.5) < 0.05


def test_multinomial_without_replacement_draws_distinct_in_weight_order():
    w = tt.tensor([[1.0, 2.0, 0.0, 97.0]] * 3000)
    d = tt.multinomial(w, 3, generator=_gen(2)).numpy()
    assert d.shape == (3000, 3)
    assert all(len(set(row)) == 3 for row in d[:200]) and not np.any(d == 2)
    first = np.bincount(d[:, 0], minlength=4) / 3000  # the first draw follows the weights
    np.testing.assert_allclose(first, [0.01, 0.02, 0.0, 0.97], atol=0.015)
    with pytest.raises(ValueError, match="3 categories of nonzero weight"):
        tt.multinomial(w[0], 4)


def test_multinomial_uses_the_default_generator_and_seeds_repeat():
    w = tt.tensor([0.2, 0.3, 0.5])
    tt.manual_seed(7)
    a = tt.multinomial(w, 10, replacement=True)
    tt.manual_seed(7)
    b = tt.multinomial(w, 10, replacement=True)
    assert a.tolist() == b.tolist()
    assert tt.multinomial(w, 10, True, generator=_gen(3)).tolist() == \
        tt.multinomial(w, 10, True, generator=_gen(3)).tolist()


@pytest.mark.parametrize("bad, match", [
    ([1.0, -1.0], "finite and >= 0"), ([0.0, 0.0], "positive sum"), ([1.0, float("nan")], "finite"),
])
def test_multinomial_refuses_bad_weights(bad, match):
    with pytest.raises(ValueError, match=match):
        tt.multinomial(tt.tensor(bad), 1)


def test_bernoulli_normal_poisson_distributions():
    p = tt.full((20000,), 0.3)
    b = tt.bernoulli(p, generator=_gen())
    assert b.dtype == tt.float32 and set(np.unique(b.numpy())) <= {0.0, 1.0}
    assert abs(b.numpy().mean() - 0.3) < 0.02
    assert abs(p.bernoulli(generator=_gen(1)).numpy().mean() - 0.3) < 0.02
    n = tt.normal(2.0, 3.0, size=(20000,), generator=_gen())
    assert n.dtype == tt.float32 and abs(n.numpy().mean() - 2) < 0.1 and abs(n.numpy().std() - 3) < 0.1
    m = tt.normal(tt.tensor([0.0, 100.0], dtype=tt.float64), tt.tensor([1.0, 0.0], dtype=tt.float64))
    assert m.dtype == tt.float64 and m.numpy()[1] == 100.0 and not m.requires_grad
    k = tt.poisson(tt.full((20000,), 4.0), generator=_gen())
    assert abs(k.numpy().mean() - 4) < 0.1
    r = tt.randint_like(tt.zeros(1000, dtype=tt.int32), 3, 6)
    assert r.dtype == tt.int32 and set(np.unique(r.numpy())) == {3, 4, 5}


def test_one_hot_shapes_and_errors():
    F = tt.nn.functional
    oh = F.one_hot(tt.tensor([[0, 2], [1, 1]]), 4)
    assert oh.shape == (2, 2, 4) and oh.dtype == tt.int64 and oh.numpy().sum() == 4
    assert tt.one_hot(tt.tensor([3])).shape == (1, 4)
    with pytest.raises(ValueError, match="out of range for num_classes=3"):
        F.one_hot(tt.tensor([3]), 3)
    with pytest.raises(TypeError, match="integer"):
        F.one_hot(tt.tensor([1.0]))
