"""Module 15 graded tests: int8 quantization -- qparams, quantize/dequantize, the int32
matmul with requantization, observers, fake quantization, quantized layers and models.

Every expected value is written out in NumPy here (the formulas of the guide) or worked by
hand; nothing imports PyTorch (its parity lives in tests/test_quantization_parity.py).
"""

from collections import OrderedDict

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.optimization.quantization import (calculate_qparams, dequantize, int_matmul,
                                                 quantize, requantize)

Q = tt.quantization


def _rand(shape, seed, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def ref_quantize(x, scale, zp, qmin, qmax):
    return np.clip(np.round(np.asarray(x, np.float64) / scale) + zp, qmin, qmax)


# --------------------------------------------------------------------------- qparams


def test_affine_qparams_worked_example():
    # range [-1, 3] on uint8: 4 / 255 per step; 0.0 sits round(1 / (4/255)) = 64 steps up
    s, z = calculate_qparams(-1.0, 3.0, tt.quint8, Q.per_tensor_affine)
    assert np.isclose(float(s), 4 / 255, rtol=1e-6) and int(z) == 64
    # a range that does not contain 0 is widened to contain it: [2, 6] -> [0, 6], zp 0
    s, z = calculate_qparams(2.0, 6.0, tt.quint8, Q.per_tensor_affine)
    assert np.isclose(float(s), 6 / 255, rtol=1e-6) and int(z) == 0
    # all negative on int8: [-5, -1] -> [-5, 0]: zero_point = qmax
    s, z = calculate_qparams(-5.0, -1.0, tt.qint8, Q.per_tensor_affine)
    assert np.isclose(float(s), 5 / 255, rtol=1e-6) and int(z) == 127


def test_symmetric_qparams_worked_example():
    # max |x| = 3 over half of int8's 255 steps; zero point 0 (128 for uint8)
    s, z = calculate_qparams(-1.0, 3.0, tt.qint8, Q.per_tensor_symmetric)
    assert np.isclose(float(s), 3 / 127.5, rtol=1e-6) and int(z) == 0
    s, z = calculate_qparams(-4.0, 1.0, tt.quint8, Q.per_tensor_symmetric)
    assert np.isclose(float(s), 4 / 127.5, rtol=1e-6) and int(z) == 128


def test_qparams_per_channel_and_zero_range():
    lo, hi = np.array([-1.0, 0.0, -2.0]), np.array([3.0, 0.0, 6.0])
    s, z = calculate_qparams(lo, hi, tt.qint8, Q.per_channel_affine)
    assert s.shape == (3,) and z.shape == (3,)
    # an all-zero channel gets the smallest step (float32's eps) instead of dividing by 0
    np.testing.assert_allclose(s, [4 / 255, np.finfo(np.float32).eps, 8 / 255], rtol=1e-6)
    np.testing.assert_array_equal(z, [-128 + 64, -128, -128 + 64])  # qmin - round(min / s)


def test_reduce_range_drops_one_bit():
    assert Q.qrange(tt.quint8, reduce_range=True) == (0, 127)
    assert Q.qrange(tt.qint8, reduce_range=True) == (-64, 63)
    s, _ = calculate_qparams(0.0, 127.0, tt.quint8, quant_min=0, quant_max=127)
    assert np.isclose(float(s), 1.0)


# --------------------------------------------------------------------------- quantize


@pytest.mark.parametrize("dtype,zp", [(tt.qint8, 0), (tt.qint8, -7), (tt.quint8, 100)])
def test_quantize_matches_formula_and_stores_real_int8(dtype, zp):
    x = _rand((7, 9), 0, 3.0)
    x[0, :4] = [1e3, -1e3, 0.0, 0.05]  # saturation at both ends; 0.05 / 0.1 is a tie
    q = quantize(x, 0.1, zp, dtype)
    qmin, qmax = (-128, 127) if dtype is tt.qint8 else (0, 255)
    assert q.dtype == (np.int8 if dtype is tt.qint8 else np.uint8)
    np.testing.assert_array_equal(q, ref_quantize(x, np.float32(0.1), zp, qmin, qmax))
    assert q[0, 2] == zp  # 0.0 is exact


def test_quantize_per_tensor_object():
    x = _rand((4, 5), 1)
    qt = Q.quantize_per_tensor(tt.tensor(x), 0.02, 3, tt.qint8)
    assert qt.int_repr().numpy().dtype == np.int8 and qt.int_repr().numpy().nbytes == 20
    assert np.isclose(qt.q_scale(), 0.02) and qt.q_zero_point() == 3
    inside = np.abs(x) < 2.4  # (127 - 3) * 0.02 = 2.48 reachable above 0
    err = np.abs(qt.dequantize().numpy() - x)
    assert err[inside].max() <= 0.01 + 1e-6  # at most half a step


def test_quantize_per_channel_uses_each_channels_scale():
    x = np.stack([_rand(6, 2, 0.01), _rand(6, 3, 10.0)])  # (2, 6): tiny and huge rows
    scales, zps = np.array([0.0001, 0.1]), np.array([0, 0])
    qt = Q.quantize_per_channel(tt.tensor(x), scales, zps, 0, tt.qint8)
    ref = np.stack([ref_quantize(x[0], np.float32(1e-4), 0, -128, 127),
                    ref_quantize(x[1], np.float32(0.1), 0, -128, 127)])
    np.testing.assert_array_equal(qt.int_repr().numpy(), ref)
    qt1 = Q.quantize_per_channel(tt.tensor(x.T.copy()), scales, zps, 1, tt.qint8)
    np.testing.assert_array_equal(qt1.int_repr().numpy(), ref.T)


def test_dequantize_widens_before_subtracting():
    q = np.array([0, 128, 255, 3], np.uint8)
    np.testing.assert_allclose(dequantize(q, 0.5, 128), [-64.0, 0.0, 63.5, -62.5])
    qc = np.array([[-128, 127], [10, -10]], np.int8)
    np.testing.assert_allclose(dequantize(qc, np.array([1.0, 0.5]), np.array([0, 2]), axis=0),
                               [[-128, 127], [4, -6]])


@pytest.mark.parametrize("bits", [4, 8])
def test_round_trip_error_is_at_most_half_a_step(bits):
    x = _rand(1000, 4, 2.0)
    qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    s, z = calculate_qparams(x.min(), x.max(), tt.qint8, Q.per_tensor_affine, qmin, qmax)
    xr = dequantize(quantize(x, s, z, tt.qint8, quant_min=qmin, quant_max=qmax), s, z)
    assert np.abs(xr - x).max() <= float(s) / 2 + 1e-6


# --------------------------------------------------------------------------- integer matmul


def test_int_matmul_accumulates_exactly_in_int32():
    rng = np.random.default_rng(5)
    a = rng.integers(0, 256, (6, 512)).astype(np.uint8)
    b = rng.integers(-128, 128, (512, 4)).astype(np.int8)
    a[0], b[:, 0] = 255, -128  # 512 * 255 * 128: far past 8 and 16 bits
    za, zb = 37, np.array([0, 1, -2, 5])
    got = int_matmul(a, za, b, zb)
    ref = (a.astype(np.int64) - za) @ (b.astype(np.int64) - zb)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, ref)


def test_requantize_formula():
    acc = np.array([[-1000, 0, 25, 99999]], np.int32)
    got = requantize(acc, 0.002, 0.05, 10, tt.quint8)
    ref = np.clip(np.round(acc * (0.002 / 0.05)) + 10, 0, 255)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, ref)
    per_channel = requantize(acc, np.array([0.001, 0.002, 0.004, 1e-6]), 0.05, 0, tt.qint8)
    np.testing.assert_array_equal(per_channel, [[-20, 0, 2, 2]])


# --------------------------------------------------------------------------- observers


def test_minmax_observer_tracks_the_running_range():
    obs = Q.MinMaxObserver()
    x1, x2 = np.array([-1.0, 2.0]), np.array([0.5, 5.0])
    assert obs(tt.tensor(x1)) is not None
    obs(tt.tensor(x2))
    assert obs.min_val.item() == -1.0 and obs.max_val.item() == 5.0
    s, z = obs.calculate_qparams()
    assert np.isclose(s.numpy()[0], 6 / 255, rtol=1e-6) and z.numpy()[0] == 42  # round(42.5)


def test_moving_average_observer():
    obs = Q.MovingAverageMinMaxObserver(averaging_constant=0.25)
    for x in ([-2.0, 2.0], [0.0, 6.0], [-4.0, 0.0]):
        obs(tt.tensor(np.array(x)))
    # min: -2 -> -2 + .25 (0 + 2) = -1.5 -> -1.5 + .25 (-4 + 1.5) = -2.125
    # max:  2 ->  2 + .25 (6 - 2) = 3    ->  3 + .25 (0 - 3) = 2.25
    assert np.isclose(obs.min_val.item(), -2.125) and np.isclose(obs.max_val.item(), 2.25)


def test_per_channel_and_percentile_observers():
    x = np.array([[1.0, -3.0, 2.0], [0.5, 0.25, -0.125]])
    pc = Q.PerChannelMinMaxObserver(ch_axis=0, dtype=tt.qint8, qscheme=Q.per_channel_symmetric)
    pc(tt.tensor(x))
    np.testing.assert_allclose(pc.min_val.numpy(), [-3.0, -0.125])
    s, z = pc.calculate_qparams()
    np.testing.assert_allclose(s.numpy(), [3 / 127.5, 0.5 / 127.5], rtol=1e-6)
    v = np.concatenate([np.linspace(-1, 1, 999), [100.0]])  # one outlier
    mm, pct = Q.MinMaxObserver(), Q.PercentileObserver(percentile=99.0)
    mm(tt.tensor(v)), pct(tt.tensor(v))
    assert mm.max_val.item() == 100.0
    assert pct.max_val.item() == pytest.approx(np.percentile(v, 99.0), rel=1e-5)
    assert pct.calculate_qparams()[0].item() < mm.calculate_qparams()[0].item() / 40


# --------------------------------------------------------------------------- fake quant


def test_fake_quant_forward_and_straight_through_gradient():
    x = tt.tensor(np.array([-1.0, 0.04, 0.26, 5.0, 30.0], np.float32), requires_grad=True)
    y = tt.fake_quantize_per_tensor_affine(x, 0.1, 10, 0, 255)  # representable: [-1.0, 24.5]
    ref = (ref_quantize(x.numpy(), np.float32(0.1), 10, 0, 255) - 10) * np.float32(0.1)
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-6)
    (y * tt.tensor(np.arange(1.0, 6.0, dtype=np.float32))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 2, 3, 4, 0])  # clamped: no gradient


def test_fake_quantize_module_observes_then_rounds():
    fq = Q.FakeQuantize(observer=Q.MovingAverageMinMaxObserver, dtype=tt.quint8)
    x = np.linspace(-1, 3, 11).astype(np.float32)
    y = fq(tt.tensor(x))
    s, z = 4 / 255, 64
    np.testing.assert_allclose(y.numpy(), (np.clip(np.round(x / s) + z, 0, 255) - z) * s,
                               atol=1e-6)
    fq.disable_fake_quant()
    np.testing.assert_array_equal(fq(tt.tensor(x)).numpy(), x)


# --------------------------------------------------------------------------- layers


def _calibrated(model, x, qconfig=None):
    model.qconfig = qconfig or Q.default_qconfig
    prepared = Q.prepare(model)
    with tt.no_grad():
        prepared(tt.tensor(x))
    return Q.convert(prepared)


@pytest.mark.parametrize("qconfig", ["per_tensor", "per_channel"])
def test_static_linear_runs_on_integers_and_matches_float(qconfig):
    tt.manual_seed(0)
    lin = nn.Linear(32, 8)
    x = _rand((50, 32), 7)
    qc = Q.default_qconfig if qconfig == "per_tensor" else Q.get_default_qconfig("x86")
    qm = _calibrated(nn.Sequential(Q.QuantStub(), lin, Q.DeQuantStub()), x, qc)
    ql = qm[1]
    assert isinstance(ql, Q.QuantizedLinear) and ql.weight.numpy().dtype == np.int8
    # the oracle: the same integers through the formulas of the guide, in int64 / float64
    xq = qm[0](tt.tensor(x))
    acc = (xq.int_repr().numpy().astype(np.int64) - xq.q_zero_point()) @ \
        (ql.weight.numpy().astype(np.int64) - ql.weight_zero_point.numpy()[:, None]).T
    sx, sw = xq.q_scale(), ql.weight_scale.numpy().astype(np.float64)
    acc = acc + np.round(lin.bias.numpy() / (sx * sw))
    so, zo = ql.scale.numpy()[0], ql.zero_point.numpy()[0]
    ref = np.clip(np.round(acc * (sx * sw / so)) + zo, 0, 255)
    np.testing.assert_array_equal(ql(xq).int_repr().numpy(), ref)
    with tt.no_grad():
        y_float = lin(tt.tensor(x)).numpy()
    assert np.abs(qm(tt.tensor(x)).numpy() - y_float).max() < 3 * so


def test_static_conv_pads_with_the_zero_point():
    tt.manual_seed(1)
    conv = nn.Conv2d(3, 5, 3, padding=1, stride=2)
    x = _rand((4, 3, 9, 9), 8) + 1.5  # mostly positive: the input zero point is far from 0
    qm = _calibrated(nn.Sequential(Q.QuantStub(), conv, Q.DeQuantStub()), x)
    assert qm[0](tt.tensor(x)).q_zero_point() > 20
    with tt.no_grad():
        y_float = conv(tt.tensor(x)).numpy()
    y = qm(tt.tensor(x)).numpy()
    assert y.shape == y_float.shape == (4, 5, 5, 5)
    assert np.abs(y - y_float).max() < 3 * qm[1].scale.numpy()[0]  # borders included


def test_relu_and_pool_run_on_the_integers():
    tt.manual_seed(2)
    model = nn.Sequential(OrderedDict([("quant", Q.QuantStub()), ("conv", nn.Conv2d(1, 4, 3)),
                                       ("relu", nn.ReLU()), ("pool", nn.MaxPool2d(2)),
                                       ("flat", nn.Flatten()), ("fc", nn.Linear(36, 3)),
                                       ("dequant", Q.DeQuantStub())]))
    x = _rand((6, 1, 8, 8), 9)
    qm = _calibrated(model, x)
    h = qm.conv(qm.quant(tt.tensor(x)))
    r = qm.relu(h)
    np.testing.assert_array_equal(r.int_repr().numpy(),
                                  np.maximum(h.int_repr().numpy(), h.q_zero_point()))
    with tt.no_grad():
        y_float = model(tt.tensor(x)).numpy()
    assert np.abs(qm(tt.tensor(x)).numpy() - y_float).max() < 0.1 * np.abs(y_float).max()


def test_quantize_dynamic_linear():
    tt.manual_seed(3)
    model = nn.Sequential(nn.Linear(20, 30), nn.ReLU(), nn.Linear(30, 4))
    dq = Q.quantize_dynamic(model, {nn.Linear}, dtype=tt.qint8)
    assert isinstance(dq[0], Q.DynamicQuantizedLinear) and isinstance(model[0], nn.Linear)
    w = model[0].weight.numpy()
    s = np.abs(w).max() / 127.5
    np.testing.assert_array_equal(dq[0].weight.numpy(), ref_quantize(w, np.float32(s), 0,
                                                                      -128, 127))
    x = _rand((16, 20), 10)
    with tt.no_grad():
        y, yq = model(tt.tensor(x)).numpy(), dq(tt.tensor(x)).numpy()
    assert np.abs(yq - y).max() < 0.02 * np.abs(y).max() + 0.01


def test_state_bytes_of_an_int8_linear():
    big = nn.Sequential(nn.Linear(512, 256))
    dq = Q.quantize_dynamic(big, {nn.Linear}, dtype=tt.qint8)
    assert Q.state_nbytes(big) == 4 * (512 * 256 + 256)
    assert Q.state_nbytes(dq) == 512 * 256 + 4 * 256 + 4 + 8  # + scale (f32) and zero point
    assert Q.state_nbytes(big) / Q.state_nbytes(dq) > 3.9


def test_prepare_qat_trains_through_fake_quant_then_converts():
    tt.manual_seed(4)
    model = nn.Sequential(Q.QuantStub(), nn.Linear(8, 4), Q.DeQuantStub())
    model.qconfig = Q.default_qat_qconfig
    qat = Q.prepare_qat(model.train())
    x, t = _rand((32, 8), 11), np.random.default_rng(12).integers(0, 4, 32)
    opt = tt.optim.SGD(qat.parameters(), lr=0.1)
    before = qat[1].weight.numpy().copy()
    loss = F.cross_entropy(qat(tt.tensor(x)), tt.tensor(t))
    loss.backward()
    opt.step()
    assert not np.allclose(qat[1].weight.numpy(), before)  # gradients passed the fake quant
    qm = Q.convert(qat.eval())
    assert isinstance(qm[1], Q.QuantizedLinear)
    with tt.no_grad():
        assert np.abs(qm(tt.tensor(x)).numpy() - qat(tt.tensor(x)).numpy()).max() < 0.1


def test_fuse_conv_bn_folds_the_running_statistics():
    tt.manual_seed(5)
    model = nn.Sequential(OrderedDict([("conv", nn.Conv2d(2, 3, 3)), ("bn", nn.BatchNorm2d(3)),
                                       ("relu", nn.ReLU())]))
    x = tt.tensor(_rand((5, 2, 6, 6), 13))
    model(x), model(tt.tensor(_rand((5, 2, 6, 6), 14) * 3 + 1))  # running stats move
    model.eval()
    fused = Q.fuse_modules(model, [["conv", "bn", "relu"]])
    assert isinstance(fused.bn, nn.Identity)
    bn, w = model.bn, model.conv.weight.numpy()
    factor = bn.weight.numpy() / np.sqrt(bn.running_var.numpy() + bn.eps)
    np.testing.assert_allclose(fused.conv.weight.numpy(), w * factor[:, None, None, None],
                               rtol=1e-6)
    with tt.no_grad():
        np.testing.assert_allclose(fused(x).numpy(), model(x).numpy(), atol=1e-5)


def test_quantized_dtypes_are_names_not_numpy_dtypes():
    assert repr(tt.qint8) == "tinytorch.qint8" and tt.quint8.qmax == 255
    assert Q.quantize_per_tensor(tt.tensor([1.0]), 0.5, 0, tt.qint8).dtype is tt.qint8
    with pytest.raises(TypeError, match="quantize_per_tensor"):
        tt.zeros(2, dtype=tt.qint8)
