"""PyTorch parity of module 15's quantization (tinytorch/optimization/quantization*.py).

Same data, same parameters: the integers of quantize_per_tensor / quantize_per_channel equal
``torch.quantize_*(...).int_repr()``; observers give torch's (scale, zero_point); a
dynamically quantized Linear gives torch's ``quantize_dynamic`` output up to a few
quantization steps (the two pick the input's qparams with slightly different rules);
FakeQuantize's forward and straight-through gradient equal torch's; a statically quantized
Linear and Conv2d (prepare -> calibrate -> convert) produce torch's output integers exactly.
"""

import warnings

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn

torch = pytest.importorskip("torch")
Q = tt.quantization
tq = pytest.importorskip("torch.ao.quantization")

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

DTYPES = [(tt.qint8, torch.qint8), (tt.quint8, torch.quint8)]
SCHEMES = [(Q.per_tensor_affine, torch.per_tensor_affine),
           (Q.per_tensor_symmetric, torch.per_tensor_symmetric)]


def _x(shape=(40, 33), seed=0, scale=3.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


@pytest.mark.parametrize("dt,tdt", DTYPES, ids=["qint8", "quint8"])
def test_quantize_per_tensor_int_repr_equals_torch(dt, tdt):
    x = _x()
    x[0, :6] = np.array([0.05, 0.15, -0.25, 100.0, -100.0, 0.0], np.float32)  # ties, saturation
    zp = 0 if dt is tt.qint8 else 120
    for scale in (0.1, 0.037):
        ours = Q.quantize_per_tensor(tt.tensor(x), scale, zp, dt)
        theirs = torch.quantize_per_tensor(torch.tensor(x), scale, zp, tdt)
        assert ours.int_repr().numpy().dtype == theirs.int_repr().numpy().dtype
        np.testing.assert_array_equal(ours.int_repr().numpy(), theirs.int_repr().numpy())
        np.testing.assert_allclose(ours.dequantize().numpy(), theirs.dequantize().numpy(),
                                   rtol=0, atol=1e-6)


@pytest.mark.parametrize("axis", [0, 1])
def test_quantize_per_channel_int_repr_equals_torch(axis):
    x = _x((6, 5, 3), seed=1)
    n = x.shape[axis]
    scales = np.linspace(0.02, 0.2, n).astype(np.float64)
    zps = np.arange(n, dtype=np.int64) - 2
    ours = Q.quantize_per_channel(tt.tensor(x), scales, zps, axis, tt.qint8)
    theirs = torch.quantize_per_channel(torch.tensor(x), torch.tensor(scales), torch.tensor(zps),
                                        axis, torch.qint8)
    np.testing.assert_array_equal(ours.int_repr().numpy(), theirs.int_repr().numpy())
    np.testing.assert_allclose(ours.dequantize().numpy(), theirs.dequantize().numpy(), atol=1e-6)


@pytest.mark.parametrize("qs,tqs", SCHEMES, ids=["affine", "symmetric"])
@pytest.mark.parametrize("dt,tdt", DTYPES, ids=["qint8", "quint8"])
@pytest.mark.parametrize("reduce_range", [False, True])
def test_minmax_observer_qparams_equal_torch(qs, tqs, dt, tdt, reduce_range):
    if reduce_range and qs == Q.per_tensor_symmetric and dt is tt.quint8:
        pytest.skip("torch refuses reduce_range for symmetric quint8")
    ours = Q.MinMaxObserver(dtype=dt, qscheme=qs, reduce_range=reduce_range)
    theirs = tq.MinMaxObserver(dtype=tdt, qscheme=tqs, reduce_range=reduce_range)
    for seed, shift in ((0, 0.0), (1, 4.0), (2, -1.0)):  # min/max grow over three batches
        x = _x(seed=seed) + shift
        ours(tt.tensor(x))
        theirs(torch.tensor(x))
    (s1, z1), (s2, z2) = ours.calculate_qparams(), theirs.calculate_qparams()
    np.testing.assert_array_equal(s1.numpy(), s2.numpy())
    np.testing.assert_array_equal(z1.numpy(), z2.numpy())
    assert float(ours.min_val.item()) == float(theirs.min_val)


def test_moving_average_and_per_channel_observers_equal_torch():
    ours, theirs = Q.MovingAverageMinMaxObserver(), tq.MovingAverageMinMaxObserver()
    pc = Q.PerChannelMinMaxObserver(ch_axis=1, dtype=tt.qint8, qscheme=Q.per_channel_symmetric)
    tpc = tq.PerChannelMinMaxObserver(ch_axis=1, dtype=torch.qint8,
                                      qscheme=torch.per_channel_symmetric)
    for seed in range(4):
        x = _x(seed=seed) * (1 + seed)
        ours(tt.tensor(x)), theirs(torch.tensor(x)), pc(tt.tensor(x)), tpc(torch.tensor(x))
    for a, b in ((ours, theirs), (pc, tpc)):
        (s1, z1), (s2, z2) = a.calculate_qparams(), b.calculate_qparams()
        np.testing.assert_allclose(s1.numpy(), s2.numpy(), rtol=1e-6)
        np.testing.assert_array_equal(z1.numpy(), z2.numpy())


def test_quantize_dynamic_linear_close_to_torch():
    engine = torch.backends.quantized.engine
    if engine not in torch.backends.quantized.supported_engines or engine == "none":
        pytest.skip(f"torch has no quantized engine here ({engine!r})")
    rng = np.random.default_rng(3)
    w = (rng.standard_normal((20, 48)) * 0.2).astype(np.float32)
    b = rng.standard_normal(20).astype(np.float32)
    x = rng.standard_normal((16, 48)).astype(np.float32)
    lin = nn.Linear(48, 20)
    tl = torch.nn.Linear(48, 20)
    with tt.no_grad():
        lin.weight.copy_(tt.tensor(w)), lin.bias.copy_(tt.tensor(b))
    with torch.no_grad():
        tl.weight.copy_(torch.tensor(w)), tl.bias.copy_(torch.tensor(b))
    ours = Q.quantize_dynamic(nn.Sequential(lin), {nn.Linear}, dtype=tt.qint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = tq.quantize_dynamic(torch.nn.Sequential(tl), {torch.nn.Linear},
                                     dtype=torch.qint8)
    # the stored int8 weights are the same integers
    tw = theirs[0].weight().int_repr().numpy()
    np.testing.assert_array_equal(ours[0].weight.numpy(), tw)
    y1 = ours(tt.tensor(x)).numpy()
    with torch.no_grad():
        y2 = theirs(torch.tensor(x)).numpy()
    # the two choose the input's uint8 qparams by slightly different rules (fbgemm nudges
    # the zero point), so an input may round one step apart: each output then moves by at
    # most one input step times the row's sum of |w|
    s_x = (max(x.max(), 0) - min(x.min(), 0)) / 127  # reduce_range: 0..127
    bound = s_x * np.abs(tw * theirs[0].weight().q_scale()).sum(1).max()
    assert np.abs(y1 - y2).max() <= bound, (np.abs(y1 - y2).max(), bound)
    y_float = x @ w.T + b
    assert np.abs(y1 - y_float).max() < 0.1 and np.abs(y2 - y_float).max() < 0.1


def test_fake_quantize_forward_and_ste_gradient_equal_torch():
    x = _x((8, 9), seed=5)
    x[0, :3] = [50.0, -50.0, 0.3]  # two clamped values get no gradient
    xt = tt.tensor(x, requires_grad=True)
    y = tt.fake_quantize_per_tensor_affine(xt, 0.05, 10, 0, 255)
    g = _x((8, 9), seed=6)
    (y * tt.tensor(g)).sum().backward()
    xtt = torch.tensor(x, requires_grad=True)
    yt = torch.fake_quantize_per_tensor_affine(xtt, 0.05, 10, 0, 255)
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), atol=1e-6)
    np.testing.assert_array_equal(xt.grad.numpy(), xtt.grad.numpy())


def test_fake_quantize_rounds_where_quantize_and_torch_do():
    """x / s and x * (1 / s) differ in float32's last bit now and then, and a value that lands
    on a .5 tie then rounds the other way: QAT's fake quant must pick the integer the converted
    model's quantize (and PyTorch's kernel) picks. The values below are such ties."""
    for scale in (0.3, 0.013, 0.2311, 0.1):
        s = np.float32(scale)
        ties = ((np.arange(-120, 120) + 0.5) * s).astype(np.float32)
        near, up, down = [ties], ties, ties
        for _ in range(4):  # and the float32 values up to 4 ulps either side
            up, down = np.nextafter(up, np.float32(np.inf)), np.nextafter(down, -np.float32(np.inf))
            near += [up, down]
        x = np.concatenate(near)
        split = x[np.round(x / s) != np.round(x * (np.float32(1) / s))]
        assert split.size, scale
        y = tt.fake_quantize_per_tensor_affine(tt.tensor(split), scale, 0, -1000, 1000).numpy()
        yt = torch.fake_quantize_per_tensor_affine(torch.tensor(split), scale, 0, -1000, 1000)
        np.testing.assert_array_equal(y, yt.numpy())
        inside = np.abs(split) < 100 * s  # within qint8's grid, so nothing saturates
        assert inside.any(), scale
        q = Q.quantize_per_tensor(tt.tensor(split[inside]), scale, 0, tt.qint8)
        np.testing.assert_array_equal(y[inside], q.dequantize().numpy())


class _TorchStatic(torch.nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.quant, self.layer, self.dequant = tq.QuantStub(), layer, tq.DeQuantStub()

    def forward(self, x):
        return self.dequant(self.layer(self.quant(x)))


def _static_pair(ours_layer, torch_layer, x):
    """The same float layer quantized statically by both, calibrated on x with torch's
    default_qconfig (activations quint8 0..127, weights symmetric qint8)."""
    ours = nn.Sequential(Q.QuantStub(), ours_layer, Q.DeQuantStub())
    ours.qconfig = Q.QConfig(activation=Q.MinMaxObserver.with_args(quant_min=0, quant_max=127),
                             weight=Q.default_qconfig.weight)
    prepared = Q.prepare(ours.eval())
    prepared(tt.tensor(x))
    ours_q = Q.convert(prepared)
    theirs = _TorchStatic(torch_layer)
    theirs.qconfig = tq.default_qconfig
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tp = tq.prepare(theirs.eval())
        tp(torch.tensor(x))
        theirs_q = tq.convert(tp)
    xo, xt = ours_q[0](tt.tensor(x)), theirs_q.quant(torch.tensor(x))
    np.testing.assert_array_equal(xo.int_repr().numpy(), xt.int_repr().numpy())
    yo, yt = ours_q[1](xo), theirs_q.layer(xt)
    assert np.isclose(yo.q_scale(), yt.q_scale(), rtol=1e-6)
    assert yo.q_zero_point() == yt.q_zero_point()
    return yo.int_repr().numpy().astype(int), yt.int_repr().numpy().astype(int)


def _copy(ours, theirs, w, b):
    with tt.no_grad():
        ours.weight.copy_(tt.tensor(w)), ours.bias.copy_(tt.tensor(b))
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(w)), theirs.bias.copy_(torch.tensor(b))


def test_static_quantized_linear_integers_equal_torch():
    if "x86" not in torch.backends.quantized.supported_engines:
        pytest.skip("torch's x86 quantized engine is missing")
    rng = np.random.default_rng(7)
    w, b = (rng.standard_normal((12, 40)) * 0.3).astype(np.float32), rng.standard_normal(12)
    x = rng.standard_normal((30, 40)).astype(np.float32)
    ours, theirs = nn.Linear(40, 12), torch.nn.Linear(40, 12)
    _copy(ours, theirs, w, b.astype(np.float32))
    yo, yt = _static_pair(ours, theirs, x)
    np.testing.assert_array_equal(yo, yt)


def test_static_quantized_conv2d_integers_equal_torch():
    if "x86" not in torch.backends.quantized.supported_engines:
        pytest.skip("torch's x86 quantized engine is missing")
    rng = np.random.default_rng(8)
    w = (rng.standard_normal((6, 3, 3, 3)) * 0.3).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    x = (rng.standard_normal((4, 3, 7, 7)) + 1.0).astype(np.float32)  # zero point far from 0
    ours, theirs = nn.Conv2d(3, 6, 3, padding=1, stride=2), torch.nn.Conv2d(3, 6, 3, padding=1,
                                                                            stride=2)
    _copy(ours, theirs, w, b)
    yo, yt = _static_pair(ours, theirs, x)
    np.testing.assert_array_equal(yo, yt)  # the borders too: padding is the zero point
