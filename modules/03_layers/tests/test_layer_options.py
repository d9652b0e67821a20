"""Module 03 graded tests: every init with every option and weight shape; Dropout for every p;
Flatten for every (start_dim, end_dim); Linear with in_features != out_features.

The oracles are PyTorch's documented formulas (``torch.nn.init``):

    fan_in = in_channels * receptive field, fan_out = out_channels * receptive field
    gain: linear/conv/sigmoid 1, tanh 5/3, relu sqrt(2), selu 3/4,
          leaky_relu sqrt(2 / (1 + a^2)) with a = param (0.01 only when param is None)
    xavier_uniform_: U(-g sqrt(6 / (fan_in + fan_out)), +...)   xavier_normal_: std g sqrt(2 / (fan_in + fan_out))
    kaiming_uniform_: U(-g sqrt(3 / fan), +...)                   kaiming_normal_: std g / sqrt(fan)
    Linear: weight and bias ~ U(-1/sqrt(in_features), 1/sqrt(in_features))
    dropout (training): each value 0 with probability p, else x / (1 - p); p = 1 gives zeros

Shapes are non-square (fan_in != fan_out) and include conv weights with a non-square kernel,
so a formula with fan_in and fan_out swapped, or without the receptive field, fails. Random
inits are checked on 120 000 draws: the extreme value is within 1% of the bound (uniform) and
the standard deviation within 2% (normal).
"""

import math

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.testing import assert_close

SHAPES = [(300, 400), (40, 30, 5, 2), (60, 20, 7)]


def _fans(shape):
    rf = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * rf, shape[0] * rf


@pytest.mark.parametrize("name, param, want", [
    ("linear", None, 1.0), ("conv1d", None, 1.0), ("conv2d", None, 1.0), ("sigmoid", None, 1.0),
    ("tanh", None, 5 / 3), ("relu", None, math.sqrt(2)), ("selu", None, 0.75),
    ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),
    ("leaky_relu", 0, math.sqrt(2.0)), ("leaky_relu", 0.0, math.sqrt(2.0)),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("leaky_relu", 1, 1.0),
    ("leaky_relu", 3.0, math.sqrt(2 / 10)),
])
def test_calculate_gain_every_nonlinearity_and_param(name, param, want):
    got = nn.init.calculate_gain(name, param)
    assert abs(got - want) < 1e-12, f"calculate_gain({name!r}, {param!r}) = {got}, expected {want}" \
                                    " (param 0 is a slope of 0, not 'missing')"


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_fans_every_weight_shape(shape):
    assert nn.init._calculate_fan_in_and_fan_out(tt.zeros(*shape)) == _fans(shape), \
        f"fans of a {shape} weight: (in * receptive field, out * receptive field) = {_fans(shape)}"


def _check_uniform(w, bound, what):
    a = np.abs(w.numpy())
    big = a.size >= 10_000  # enough draws for the extremes and the mean to be near their limits
    assert a.max() <= bound * (1 + 1e-6) and (not big or a.max() > 0.99 * bound), \
        f"{what}: values must fill U(-{bound:.5g}, {bound:.5g}); largest |w| is {a.max():.5g}"
    assert not big or abs(w.numpy().mean()) < 0.02 * bound, \
        f"{what}: mean {w.numpy().mean()} is not ~0"


def _check_normal(w, std, what):
    got = w.numpy().std()
    assert abs(got - std) < 0.02 * std, f"{what}: std {got:.5g}, expected {std:.5g}"
    assert abs(w.numpy().mean()) < 0.05 * std, f"{what}: mean {w.numpy().mean()} is not ~0"


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_xavier_every_shape_and_gain(shape, gain):
    fan_in, fan_out = _fans(shape)
    g = tt.Generator().manual_seed(1)
    w = tt.zeros(*shape)
    assert nn.init.xavier_uniform_(w, gain=gain, generator=g) is w
    _check_uniform(w, gain * math.sqrt(6 / (fan_in + fan_out)), f"xavier_uniform_({shape}, gain={gain})")
    assert nn.init.xavier_normal_(w, gain=gain, generator=g) is w
    _check_normal(w, gain * math.sqrt(2 / (fan_in + fan_out)), f"xavier_normal_({shape}, gain={gain})")


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity, a", [("leaky_relu", 0), ("leaky_relu", 0.3), ("relu", 0),
                                             ("tanh", 0), ("linear", 0)])
def test_kaiming_every_shape_mode_and_nonlinearity(shape, mode, nonlinearity, a):
    fan = _fans(shape)[0 if mode == "fan_in" else 1]
    gain = nn.init.calculate_gain(nonlinearity, a) if nonlinearity == "leaky_relu" else \
        {"relu": math.sqrt(2), "tanh": 5 / 3, "linear": 1.0}[nonlinearity]
    g = tt.Generator().manual_seed(2)
    w = tt.zeros(*shape)
    what = f"kaiming_*_({shape}, a={a}, mode={mode!r}, nonlinearity={nonlinearity!r})"
    assert nn.init.kaiming_uniform_(w, a=a, mode=mode, nonlinearity=nonlinearity, generator=g) is w
    _check_uniform(w, gain * math.sqrt(3 / fan), "uniform " + what)
    assert nn.init.kaiming_normal_(w, a=a, mode=mode, nonlinearity=nonlinearity, generator=g) is w
    _check_normal(w, gain / math.sqrt(fan), "normal " + what)


@pytest.mark.parametrize("in_f, out_f", [(5, 3000), (3000, 4), (7, 7)])
def test_linear_init_bounds_use_in_features_for_weight_and_bias(in_f, out_f):
    tt.manual_seed(3)
    layer = nn.Linear(in_f, out_f)
    bound = 1 / math.sqrt(in_f)
    _check_uniform(layer.weight, bound, f"Linear({in_f}, {out_f}).weight")
    b = np.abs(layer.bias.numpy())
    assert b.max() <= bound and (out_f < 100 or b.max() > 0.95 * bound), \
        f"Linear({in_f}, {out_f}).bias ~ U(+-1/sqrt(in_features) = {bound:.4g}); max |b| {b.max():.4g}"


@pytest.mark.parametrize("p", [0.0, 0.1, 0.3, 0.5, 0.8, 1.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_every_p_train_and_eval(p, dtype):
    x = (np.arange(1, 100_001) % 7 + 1).astype(dtype)  # no zeros in x: a zero means dropped
    tt.manual_seed(4)
    layer = nn.Dropout(p)
    out = layer(tt.tensor(x))
    assert out.dtype == tt.tensor(x).dtype, f"Dropout(p={p}) keeps {np.dtype(dtype)}, got {out.dtype}"
    y = out.numpy()
    assert np.all(np.isfinite(y)), f"Dropout(p={p}) gives nan/inf (p = 1 must give zeros)"
    kept = y != 0
    if p == 1.0:
        assert not kept.any(), "Dropout(p=1) zeroes everything"
    else:
        assert_close(y[kept], x[kept] / (1 - p), rtol=1e-6,
                     what=f"Dropout(p={p}): survivors are scaled by 1 / (1 - p) = {1 / (1 - p):.4g}")
        assert abs((~kept).mean() - p) < 0.01, f"Dropout(p={p}) dropped {(~kept).mean():.3f}"
    f_out = F.dropout(tt.tensor(x), p, training=True)
    assert f_out.dtype == out.dtype and np.all(np.isfinite(f_out.numpy()))
    layer.eval()
    assert_close(layer(tt.tensor(x)), x, rtol=0, atol=0, what=f"Dropout(p={p}) in eval mode")
    assert_close(F.dropout(tt.tensor(x), p, training=False), x, rtol=0, atol=0,
                 what="F.dropout(training=False)")


@pytest.mark.parametrize("start, end", [(1, -1), (0, 1), (1, 2), (0, -1), (-2, -1), (2, 2),
                                        (0, 0), (-3, 2)])
def test_flatten_every_start_and_end_dim(start, end):
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    s, e = start % 4, end % 4
    want = x.reshape(x.shape[:s] + (-1,) + x.shape[e + 1:])
    got = nn.Flatten(start, end)(tt.tensor(x))
    assert got.shape == want.shape, f"Flatten({start}, {end}) of (2, 3, 4, 5): {want.shape}, got {got.shape}"
    assert_close(got, want, rtol=0, atol=0, what=f"Flatten({start}, {end})")
    one = np.ones((1, 1, 3), np.float32)  # size-1 axes
    assert nn.Flatten()(tt.tensor(one)).shape == (1, 3)
