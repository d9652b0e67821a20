"""Convolution, pooling, padding and channel dropout against PyTorch (module 09).

Every layer is built in both frameworks, PyTorch's weights are loaded into tinytorch through
``state_dict``, and the forward output and ALL gradients (input, weight, bias) must agree
(rtol 1e-4 values, 1e-3 gradients). Fixed cases cover each argument (stride, padding,
'same'/'valid', dilation, groups, odd sizes, non-square kernels, padding modes, unbatched
input); hypothesis draws small random configurations. Gradcheck (float64 finite differences)
checks every backward at small sizes; the explicit-loop course path must equal the engine.
"""

import math
from unittest import mock

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.autograd import gradcheck
from tinytorch.core import conv, im2col
from tinytorch.core.conv import conv2d_naive
from tinytorch.core.pooling import max_pool2d_naive
from tinytorch.core.windows import conv_output_size

torch = pytest.importorskip("torch")
TF = torch.nn.functional

SETTINGS = settings(max_examples=25, deadline=None)


def _rand(shape, seed, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _close(got, ref, what, rtol=1e-4, atol=1e-5):
    np.testing.assert_allclose(np.asarray(got), ref.detach().numpy(), rtol=rtol, atol=atol,
                               err_msg=what)


def run_both(fn_tt, fn_th, x, seed=0, params=()):
    """Forward both on ``x``, backward a random upstream gradient, compare output and grads.

    ``params`` is a list of (name, tinytorch tensor, torch tensor) whose .grad must agree.
    """
    a = tt.tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    out, ref = fn_tt(a), fn_th(b)
    assert tuple(out.shape) == tuple(ref.shape), f"shape {out.shape} vs torch {tuple(ref.shape)}"
    _close(out.numpy(), ref, "forward")
    g = _rand(tuple(ref.shape), seed + 1000)
    out.backward(tt.tensor(g))
    ref.backward(torch.tensor(g))
    _close(a.grad.numpy(), b.grad, "input gradient", rtol=1e-3)
    for name, p_tt, p_th in params:
        assert p_tt.grad is not None, f"{name}.grad is None"
        _close(p_tt.grad.numpy(), p_th.grad, f"{name} gradient", rtol=1e-3)
    return out


def conv_pair(seed=0, **kwargs):
    """A torch Conv2d and a tinytorch Conv2d holding the torch weights."""
    torch.manual_seed(seed)
    th = torch.nn.Conv2d(**kwargs)
    ours = nn.Conv2d(**kwargs)
    ours.load_state_dict({k: v.detach().numpy() for k, v in th.state_dict().items()})
    return ours, th


def check_conv(x_shape, seed=0, **kwargs):
    ours, th = conv_pair(seed, **kwargs)
    params = [(n, p, dict(th.named_parameters())[n]) for n, p in ours.named_parameters()]
    return run_both(ours, th, _rand(x_shape, seed), seed, params)


# --------------------------------------------------------------------------- Conv2d parity

CONV_CASES = {
    "basic 3x3": ((2, 3, 8, 8), dict(in_channels=3, out_channels=4, kernel_size=3)),
    "padding 1": ((2, 3, 8, 8), dict(in_channels=3, out_channels=5, kernel_size=3, padding=1)),
    "stride 2": ((2, 3, 9, 9), dict(in_channels=3, out_channels=4, kernel_size=3, stride=2)),
    "stride (2, 3) pad (1, 2)": ((1, 2, 11, 10), dict(in_channels=2, out_channels=3,
                                                       kernel_size=3, stride=(2, 3),
                                                       padding=(1, 2))),
    "dilation 2": ((2, 2, 10, 9), dict(in_channels=2, out_channels=3, kernel_size=3,
                                       dilation=2)),
    "dilation (1, 3) pad 2": ((1, 2, 9, 12), dict(in_channels=2, out_channels=2, kernel_size=3,
                                                  dilation=(1, 3), padding=2)),
    "groups 2": ((2, 4, 7, 7), dict(in_channels=4, out_channels=6, kernel_size=3, groups=2)),
    "depthwise": ((2, 3, 6, 6), dict(in_channels=3, out_channels=3, kernel_size=3, groups=3,
                                     padding=1)),
    "non-square kernel (2, 5)": ((2, 3, 7, 9), dict(in_channels=3, out_channels=4,
                                                    kernel_size=(2, 5))),
    "odd sizes 1x1 kernel": ((3, 5, 5, 3), dict(in_channels=5, out_channels=2, kernel_size=1)),
    "no bias": ((2, 3, 6, 6), dict(in_channels=3, out_channels=4, kernel_size=3, bias=False)),
    "stride larger than kernel": ((1, 2, 10, 10), dict(in_channels=2, out_channels=2,
                                                       kernel_size=2, stride=3)),
    "kernel == input": ((2, 2, 4, 5), dict(in_channels=2, out_channels=3, kernel_size=(4, 5))),
    "same, odd kernel": ((2, 2, 7, 6), dict(in_channels=2, out_channels=3, kernel_size=3,
                                            padding="same")),
    "same, even kernel": ((2, 2, 7, 6), dict(in_channels=2, out_channels=3, kernel_size=(2, 4),
                                             padding="same")),
    "same, dilated": ((1, 2, 8, 8), dict(in_channels=2, out_channels=2, kernel_size=3,
                                         padding="same", dilation=2)),
    "valid": ((2, 2, 6, 6), dict(in_channels=2, out_channels=3, kernel_size=3, padding="valid")),
    "reflect padding": ((2, 2, 6, 7), dict(in_channels=2, out_channels=3, kernel_size=3,
                                           padding=(1, 2), padding_mode="reflect")),
    "replicate padding": ((2, 2, 6, 6), dict(in_channels=2, out_channels=3, kernel_size=3,
                                             padding=2, padding_mode="replicate")),
    "circular padding": ((2, 2, 6, 6), dict(in_channels=2, out_channels=3, kernel_size=3,
                                            padding=1, padding_mode="circular")),
    "everything": ((2, 4, 13, 11), dict(in_channels=4, out_channels=6, kernel_size=(3, 2),
                                        stride=(2, 1), padding=(2, 1), dilation=(1, 2),
                                        groups=2)),
}


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note on even kernels
@pytest.mark.parametrize("name", list(CONV_CASES))
def test_conv2d_matches_torch(name):
    x_shape, kwargs = CONV_CASES[name]
    check_conv(x_shape, seed=len(name), **kwargs)


@pytest.mark.parametrize("layout", ["BATCH_FIRST", "BATCH_SECOND", "BATCH_LAST"])
@pytest.mark.parametrize("name", ["everything", "groups 2", "stride (2, 3) pad (1, 2)",
                                  "dilation (1, 3) pad 2"])
def test_conv2d_both_engine_layouts_match_torch(name, layout, monkeypatch):
    """The engine picks (C, N, H, W) or (C, H, W, N) by image width; force each in turn."""
    monkeypatch.setattr(conv, "conv_layout", lambda width: getattr(im2col, layout))
    x_shape, kwargs = CONV_CASES[name]
    check_conv(x_shape, seed=3, **kwargs)


@pytest.mark.parametrize("layout", ["BATCH_FIRST", "BATCH_SECOND", "BATCH_LAST"])
@pytest.mark.parametrize("name", ["everything", "groups 2", "stride (2, 3) pad (1, 2)"])
def test_conv2d_in_batch_chunks_matches_torch(name, layout, monkeypatch):
    """A large batch is convolved a few images at a time (bounded memory): force chunks of
    one image, so forward, the rebuilt columns and every gradient go through that path."""
    monkeypatch.setattr(conv, "CHUNK_BYTES", 1)
    monkeypatch.setattr(conv, "conv_layout", lambda width: getattr(im2col, layout))
    x_shape, kwargs = CONV_CASES[name]
    x_shape = (3,) + tuple(x_shape[1:])
    assert len(conv.conv_chunks(3, 100)) == 3
    check_conv(x_shape, seed=5, **kwargs)


def test_conv2d_wide_images_use_the_batch_first_layout_and_match_torch():
    assert im2col.conv_layout(32) == im2col.BATCH_FIRST
    assert im2col.conv_layout(8) == im2col.BATCH_LAST
    check_conv((2, 3, 30, 33), seed=4, in_channels=3, out_channels=4, kernel_size=3, padding=1,
               stride=(1, 1))


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3, padding=1),  # the rows trick: stride 1, output as wide as the input
    dict(kernel_size=(3, 5), padding=(0, 2), dilation=1),
    dict(kernel_size=(2, 3), padding=(1, 2), dilation=(1, 2)),  # dilated, same width
    dict(kernel_size=4, padding="same"),  # asymmetric padding (1 left, 2 right)
    dict(kernel_size=(3, 2), padding="same", dilation=(2, 3)),
    dict(kernel_size=3, padding=1, groups=2),
    dict(kernel_size=3, padding=1, bias=False),
    dict(kernel_size=3, padding=(1, 0)),  # narrower output: strided windows
    dict(kernel_size=3, padding=1, stride=2),
])
@pytest.mark.filterwarnings("ignore:Using padding=.same.")
def test_batch_first_layout_matches_torch_with_and_without_the_rows_trick(kwargs, monkeypatch):
    """Batch first builds its columns from whole flattened rows when the stride is 1 and the
    output as wide as the input (zeroing the columns that wrap around an edge); otherwise
    from strided windows. Both, in one chunk and in chunks of one image."""
    monkeypatch.setattr(conv, "conv_layout", lambda width: im2col.BATCH_FIRST)
    for chunk_bytes in (conv.CHUNK_BYTES, 1):
        monkeypatch.setattr(conv, "CHUNK_BYTES", chunk_bytes)
        check_conv((3, 4, 7, 9), seed=8, in_channels=4, out_channels=6, **kwargs)


@pytest.mark.parametrize("geometry", [((3, 3), (1, 1, 1, 1), (1, 1)),
                                      ((2, 3), (0, 1, 2, 2), (1, 2)),
                                      ((3, 3), (1, 1, 0, 0), (1, 1))])
def test_col2im_batched_is_the_adjoint_of_im2col_batched(geometry):
    """<im2col_batched(x), D> == <x, col2im_batched(D)>: the rows trick's zeroed edge columns
    must be zeroed in the backward too, or a gradient leaks into the neighbouring row."""
    kernel, pads, dilation = geometry
    x = _rand((2, 3, 5, 6), 9, np.float64)
    ho = conv_output_size(5, kernel[0], 1, pads[0], pads[1], dilation[0])
    wo = conv_output_size(6, kernel[1], 1, pads[2], pads[3], dilation[1])
    cols = im2col.im2col_batched(x, pads, kernel, (ho, wo), (1, 1), dilation)
    d = _rand(cols.shape, 10, np.float64)
    back = im2col.col2im_batched(d.copy(), x.shape, pads, kernel, (ho, wo), (1, 1), dilation)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(cols * d), np.sum(x * back), rtol=1e-12)


def test_conv2d_unbatched_input():
    ours, th = conv_pair(1, in_channels=3, out_channels=2, kernel_size=3, padding=1)
    params = [(n, p, dict(th.named_parameters())[n]) for n, p in ours.named_parameters()]
    out = run_both(ours, th, _rand((3, 5, 6), 1), 1, params)
    assert out.shape == (2, 5, 6)


def test_conv2d_float64_matches_torch():
    x, w, b = _rand((2, 3, 6, 6), 2, np.float64), _rand((4, 3, 3, 3), 3, np.float64), \
        _rand((4,), 4, np.float64)
    out = F.conv2d(tt.tensor(x), tt.tensor(w), tt.tensor(b), stride=2, padding=1)
    ref = TF.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=2, padding=1)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)


@st.composite
def conv_configs(draw):
    groups = draw(st.integers(1, 3))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    n = draw(st.integers(1, 2))
    bias = draw(st.booleans())
    return (n, cin, h, w), dict(in_channels=cin, out_channels=cout, kernel_size=(kh, kw),
                                stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw),
                                groups=groups, bias=bias)


@SETTINGS
@given(conv_configs(), st.integers(0, 2**16), st.sampled_from(["BATCH_FIRST", "BATCH_SECOND", "BATCH_LAST"]))
def test_conv2d_matches_torch_on_random_configs(config, seed, layout):
    # images here are narrow (conv_layout picks batch-last): force each engine layout in turn
    x_shape, kw = config
    h, w = x_shape[2:]
    (kh, kww), (dh, dw), (ph, pw) = kw["kernel_size"], kw["dilation"], kw["padding"]
    assume(h + 2 * ph >= dh * (kh - 1) + 1 and w + 2 * pw >= dw * (kww - 1) + 1)
    with mock.patch.object(conv, "conv_layout", lambda width: getattr(im2col, layout)):
        check_conv(x_shape, seed=seed, **kw)


def test_functional_conv2d_matches_torch_for_every_argument_form():
    x, w, b = _rand((2, 4, 9, 8), 5), _rand((6, 2, 3, 2), 6), _rand((6,), 7)
    kwargs = dict(stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2)
    out = F.conv2d(tt.tensor(x), tt.tensor(w), tt.tensor(b), **kwargs)
    ref = TF.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), **kwargs)
    _close(out.numpy(), ref, "F.conv2d")
    out = F.conv2d(tt.tensor(x), tt.tensor(w), None, 1, "same", 1, 2)  # positional, like torch
    ref = TF.conv2d(torch.tensor(x), torch.tensor(w), None, 1, "same", 1, 2)
    _close(out.numpy(), ref, "F.conv2d same")


def test_conv2d_in_a_network_matches_torch_after_loading_weights():
    """A small CNN (conv, BN, ReLU, pool, conv, adaptive pool, linear): loss and every grad."""

    def build(m):
        return m.Sequential(m.Conv2d(1, 4, 3, padding=1), m.BatchNorm2d(4), m.ReLU(),
                            m.MaxPool2d(2), m.Conv2d(4, 6, 3, stride=1, groups=2),
                            m.ReLU(), m.AdaptiveAvgPool2d(1), m.Flatten(), m.Linear(6, 3))

    torch.manual_seed(0)
    th = build(torch.nn)
    ours = build(nn)
    assert list(ours.state_dict()) == list(th.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in th.state_dict().items()})
    x = _rand((4, 1, 10, 10), 8)
    y = np.array([0, 2, 1, 2])
    loss = F.cross_entropy(ours(tt.tensor(x)), tt.tensor(y))
    ref = TF.cross_entropy(th(torch.tensor(x)), torch.tensor(y))
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-5)
    loss.backward()
    ref.backward()
    for (name, p), (_, q) in zip(ours.named_parameters(), th.named_parameters()):
        _close(p.grad.numpy(), q.grad, f"{name}.grad", rtol=1e-3)


# --------------------------------------------------------------------------- init and layout


def test_conv2d_weight_layout_and_state_dict_keys_match_torch():
    ours = nn.Conv2d(6, 8, (3, 5), groups=2)
    th = torch.nn.Conv2d(6, 8, (3, 5), groups=2)
    assert ours.weight.shape == tuple(th.weight.shape) == (8, 3, 3, 5)
    assert list(ours.state_dict()) == list(th.state_dict()) == ["weight", "bias"]
    assert list(nn.Conv2d(2, 3, 3, bias=False).state_dict()) == ["weight"]
    assert ours.weight.dtype == np.float32 and ours.weight.requires_grad


@pytest.mark.parametrize("kwargs", [
    dict(in_channels=3, out_channels=16, kernel_size=3, padding=1),
    dict(in_channels=6, out_channels=8, kernel_size=(3, 5), stride=2, dilation=(1, 2), groups=2),
    dict(in_channels=2, out_channels=2, kernel_size=3, padding="same", bias=False,
         padding_mode="circular"),
])
def test_conv2d_repr_matches_torch(kwargs):
    assert repr(nn.Conv2d(**kwargs)) == repr(torch.nn.Conv2d(**kwargs))


def test_conv2d_default_init_follows_torch_kaiming_uniform():
    """kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)); bias the same bound.

    fan_in = in_channels / groups * kh * kw. Checked on the bound (max |w| close to it, never
    beyond) and on the standard deviation bound / sqrt(3) of a uniform.
    """
    tt.manual_seed(0)
    layer = nn.Conv2d(32, 64, 3, groups=2)
    fan_in = 16 * 3 * 3
    bound = 1 / math.sqrt(fan_in)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert abs(w.mean()) < 0.02 * bound
    assert np.abs(b).max() <= bound
    tt.manual_seed(0)
    assert np.array_equal(nn.Conv2d(32, 64, 3, groups=2).weight.numpy(), w), "seeded init repeats"


# --------------------------------------------------------------------------- gradcheck


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(stride=2, padding=1),
    dict(stride=(1, 2), padding=(2, 0), dilation=(2, 1)),
    dict(groups=2, padding=1),
    dict(padding="same"),  # batch first: the rows trick, bias in the matmul
    dict(padding="same", dilation=(1, 2)),
])
@pytest.mark.parametrize("layout", ["BATCH_FIRST", "BATCH_LAST"])
def test_conv2d_gradcheck(kwargs, layout, monkeypatch):
    monkeypatch.setattr(conv, "conv_layout", lambda width: getattr(im2col, layout))
    rng = np.random.default_rng(9)
    x = tt.tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
    g = kwargs.get("groups", 1)
    w = tt.tensor(rng.standard_normal((2, 2 // g, 3, 2)), requires_grad=True)
    b = tt.tensor(rng.standard_normal(2), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kwargs), (x, w, b))


@pytest.mark.parametrize("fn", [
    lambda x: F.max_pool2d(x, 2),
    lambda x: F.max_pool2d(x, 3, stride=1, padding=1),
    lambda x: F.max_pool2d(x, (2, 3), stride=(1, 2), dilation=(2, 1), ceil_mode=True),
    lambda x: F.avg_pool2d(x, 2),
    lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False),
    lambda x: F.avg_pool2d(x, 3, stride=2, ceil_mode=True),
    lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
    lambda x: F.pad(x, (1, 2, 0, 1)),
    lambda x: F.pad(x, (-1, 1, 2, -1), value=0.5),
    lambda x: F.pad(x, (2, 1, 1, 2), mode="reflect"),
    lambda x: F.pad(x, (2, 1, 1, 2), mode="replicate"),
    lambda x: F.pad(x, (2, 1, 1, 2), mode="circular"),
], ids=["max2", "max3-pad", "max-dilated-ceil", "avg2", "avg-no-pad-count", "avg-ceil",
        "adaptive", "pad", "pad-negative", "reflect", "replicate", "circular"])
def test_pooling_and_padding_gradcheck(fn):
    # distinct values, well separated: a max never sits within eps of a tie
    x = np.random.default_rng(10).permutation(2 * 2 * 5 * 6).reshape(2, 2, 5, 6) * 0.1
    assert gradcheck(fn, (tt.tensor(x, requires_grad=True),))


# --------------------------------------------------------------------------- course path == engine


@pytest.mark.parametrize("kwargs", [
    dict(), dict(stride=2, padding=1), dict(dilation=2, padding=(2, 1)), dict(groups=2),
])
def test_conv2d_naive_equals_fast(kwargs):
    g = kwargs.get("groups", 1)
    x, w, b = _rand((2, 4, 7, 6), 11), _rand((4, 4 // g, 3, 2), 12), _rand((4,), 13)
    fast = F.conv2d(tt.tensor(x), tt.tensor(w), tt.tensor(b), **kwargs)
    slow = conv2d_naive(x, w, b, **kwargs)
    np.testing.assert_allclose(slow.numpy(), fast.numpy(), rtol=1e-5, atol=1e-5)


@settings(max_examples=10, deadline=None)
@given(conv_configs(), st.integers(0, 2**16))
def test_conv2d_naive_equals_fast_on_random_configs(config, seed):
    x_shape, kw = config
    h, w = x_shape[2:]
    (kh, kww), (dh, dw), (ph, pw) = kw["kernel_size"], kw["dilation"], kw["padding"]
    assume(h + 2 * ph >= dh * (kh - 1) + 1 and w + 2 * pw >= dw * (kww - 1) + 1)
    g = kw["groups"]
    x = _rand(x_shape, seed)
    wt = _rand((kw["out_channels"], kw["in_channels"] // g, kh, kww), seed + 1)
    b = _rand((kw["out_channels"],), seed + 2) if kw["bias"] else None
    args = dict(stride=kw["stride"], padding=kw["padding"], dilation=kw["dilation"], groups=g)
    fast = F.conv2d(tt.tensor(x), tt.tensor(wt), None if b is None else tt.tensor(b), **args)
    slow = conv2d_naive(x, wt, b, **args)
    np.testing.assert_allclose(slow.numpy(), fast.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1),
                                    dict(kernel_size=(2, 3), stride=(2, 1))])
def test_max_pool2d_naive_equals_fast(kwargs):
    x = _rand((2, 3, 7, 8), 14)
    np.testing.assert_array_equal(max_pool2d_naive(x, **kwargs).numpy(),
                                  F.max_pool2d(tt.tensor(x), **kwargs).numpy())


# --------------------------------------------------------------------------- pooling parity

MAX_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3),  # 3 does not divide 8: the last rows are dropped
    dict(kernel_size=3, stride=1),  # overlapping windows
    dict(kernel_size=3, stride=2, padding=1),  # overlapping, padded (ResNet's stem)
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1)),
    dict(kernel_size=2, stride=1, dilation=2),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=2, stride=3),  # gaps between windows
]


@pytest.mark.parametrize("kwargs", MAX_CASES, ids=[str(k) for k in MAX_CASES])
def test_max_pool2d_matches_torch(kwargs):
    run_both(lambda x: F.max_pool2d(x, **kwargs), lambda x: TF.max_pool2d(x, **kwargs),
             _rand((2, 3, 8, 9), 15))
    run_both(nn.MaxPool2d(**kwargs), torch.nn.MaxPool2d(**kwargs), _rand((3, 7, 8), 16))


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)])
def test_max_pool2d_ties_send_the_gradient_to_the_first_maximum_like_torch(kwargs):
    """After a ReLU whole windows are 0: PyTorch gives the gradient to the first one only."""
    x = np.random.default_rng(17).integers(-2, 2, (2, 2, 6, 6)).astype(np.float32)
    x = np.maximum(x, 0)
    run_both(lambda t: F.max_pool2d(t, **kwargs), lambda t: TF.max_pool2d(t, **kwargs), x)


AVG_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=1),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0)),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=2, divisor_override=3),
]


@pytest.mark.parametrize("kwargs", AVG_CASES, ids=[str(k) for k in AVG_CASES])
def test_avg_pool2d_matches_torch(kwargs):
    run_both(lambda x: F.avg_pool2d(x, **kwargs), lambda x: TF.avg_pool2d(x, **kwargs),
             _rand((2, 3, 8, 9), 18))
    run_both(nn.AvgPool2d(**kwargs), torch.nn.AvgPool2d(**kwargs), _rand((2, 2, 7, 7), 19))


@st.composite
def pool_configs(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2)))
    h, w = draw(st.integers(kh, 8)), draw(st.integers(kw, 8))
    return (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w), \
        dict(kernel_size=(kh, kw), stride=stride, padding=padding,
             ceil_mode=draw(st.booleans()))


@SETTINGS
@given(pool_configs(), st.booleans(), st.integers(0, 2**16))
def test_pooling_matches_torch_on_random_configs(config, count_include_pad, seed):
    shape, kwargs = config
    x = _rand(shape, seed)
    run_both(lambda t: F.max_pool2d(t, **kwargs), lambda t: TF.max_pool2d(t, **kwargs), x, seed)
    kwargs["count_include_pad"] = count_include_pad
    run_both(lambda t: F.avg_pool2d(t, **kwargs), lambda t: TF.avg_pool2d(t, **kwargs), x, seed)


@pytest.mark.parametrize("size", [1, 2, 3, (2, 4), (5, None), (4, 7), 9])
def test_adaptive_avg_pool2d_matches_torch(size):
    run_both(nn.AdaptiveAvgPool2d(size), torch.nn.AdaptiveAvgPool2d(size), _rand((2, 3, 7, 7), 20))
    run_both(lambda x: F.adaptive_avg_pool2d(x, size),
             lambda x: TF.adaptive_avg_pool2d(x, size), _rand((3, 5, 9), 21))


@pytest.mark.parametrize("module, kwargs", [
    ("MaxPool2d", dict(kernel_size=3, stride=2, padding=1)),
    ("AvgPool2d", dict(kernel_size=2)),
    ("AdaptiveAvgPool2d", dict(output_size=(1, 1))),
    ("Dropout2d", dict(p=0.3)),
])
def test_pooling_reprs_match_torch(module, kwargs):
    assert repr(getattr(nn, module)(**kwargs)) == repr(getattr(torch.nn, module)(**kwargs))


# --------------------------------------------------------------------------- F.pad


@pytest.mark.parametrize("pad, mode, value", [
    ((1, 2), "constant", None),
    ((1, 0, 2, 3), "constant", 1.5),
    ((0, 1, 1, 0, 2, 1), "constant", None),  # three trailing dims
    ((-1, 2, 1, -2), "constant", None),  # negative pads crop
    ((2, 1, 0, 0), "reflect", None),
    ((1, 2, 3, 1), "reflect", None),
    ((2, 2, 1, 0), "replicate", None),
    ((1, 3, 2, 1), "circular", None),
])
def test_pad_matches_torch(pad, mode, value):
    kw = {} if value is None else {"value": value}
    run_both(lambda x: F.pad(x, pad, mode, **kw), lambda x: TF.pad(x, pad, mode, **kw),
             _rand((2, 3, 5, 6), 22))


# --------------------------------------------------------------------------- Dropout2d


def test_dropout2d_zeroes_whole_channels_and_scales_survivors():
    x = np.abs(_rand((8, 16, 4, 5), 23)) + 0.5  # no zeros of its own
    layer = nn.Dropout2d(p=0.25)
    tt.manual_seed(3)
    t = tt.tensor(x, requires_grad=True)
    out = layer(t)
    ratio = out.numpy() / x
    per_channel = ratio.reshape(8, 16, -1)
    # each (image, channel) is either all zero or all scaled by 1 / (1 - p)
    assert np.all((np.abs(per_channel - 0.0) < 1e-6).all(axis=2)
                  | (np.abs(per_channel - 1 / 0.75) < 1e-5).all(axis=2))
    dropped = (per_channel[:, :, 0] == 0).mean()
    assert 0.1 < dropped < 0.4, dropped  # 128 draws at p=0.25
    out.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), ratio, rtol=1e-6)  # gradient = mask * scale
    layer.eval()
    assert layer(t) is t or np.array_equal(layer(t).numpy(), x)


def test_dropout2d_edge_cases_and_reproducibility():
    x = tt.tensor(_rand((2, 3, 2, 2), 24))
    np.testing.assert_array_equal(F.dropout2d(x, 0.0).numpy(), x.numpy())
    np.testing.assert_array_equal(F.dropout2d(x, 1.0).numpy(), np.zeros_like(x.numpy()))
    np.testing.assert_array_equal(F.dropout2d(x, 0.5, training=False).numpy(), x.numpy())
    g1, g2 = tt.Generator(5), tt.Generator(5)
    np.testing.assert_array_equal(F.dropout2d(x, 0.5, generator=g1).numpy(),
                                  F.dropout2d(x, 0.5, generator=g2).numpy())
    assert F.dropout2d(tt.tensor(_rand((3, 2, 2), 25)), 0.5).shape == (3, 2, 2)  # unbatched
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.5)


# --------------------------------------------------------------------------- errors that help


def test_wrong_channel_count_names_the_shapes():
    layer = nn.Conv2d(3, 8, 3)
    with pytest.raises(ValueError) as e:
        layer(tt.zeros(2, 4, 8, 8))
    msg = str(e.value)
    assert "(2, 4, 8, 8)" in msg and "(8, 3, 3, 3)" in msg and "in_channels" in msg


@pytest.mark.parametrize("shape, kwargs", [
    ((2, 3, 5, 2), dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0))),
    ((1, 2, 1, 5), dict(kernel_size=2, stride=2)),
])
def test_ceil_mode_keeps_a_window_longer_than_the_input_like_torch(shape, kwargs):
    # stride > 1 and ceil_mode: torch rounds a negative room up to one partial window
    x = _rand(shape, 30)
    run_both(lambda t: F.max_pool2d(t, ceil_mode=True, **kwargs),
             lambda t: TF.max_pool2d(t, ceil_mode=True, **kwargs), x)
    for cip in (True, False):
        run_both(lambda t: F.avg_pool2d(t, ceil_mode=True, count_include_pad=cip, **kwargs),
                 lambda t: TF.avg_pool2d(t, ceil_mode=True, count_include_pad=cip, **kwargs), x)
    assert conv_output_size(2, 3, 2, ceil_mode=True) == 1
    assert conv_output_size(2, 3, 2) == 0 and conv_output_size(2, 4, 2, ceil_mode=True) == 0


def test_kernel_larger_than_input_is_a_clear_error():
    with pytest.raises(ValueError, match=r"larger than the padded input \(3x3"):
        nn.Conv2d(1, 1, 5)(tt.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match="spans 5x5"):  # dilation makes a 3x3 kernel span 5x5
        F.conv2d(tt.zeros(1, 1, 4, 4), tt.zeros(1, 1, 3, 3), dilation=2)
    with pytest.raises(ValueError, match="does not fit"):
        F.max_pool2d(tt.zeros(1, 1, 2, 2), 3, padding=1, stride=1, dilation=2)


@pytest.mark.parametrize("call, match", [
    (lambda: F.conv2d(tt.zeros(8, 8), tt.zeros(1, 1, 3, 3)), r"4-D input \(N, C, H, W\)"),
    (lambda: F.conv2d(tt.zeros(1, 1, 5, 5), tt.zeros(1, 3, 3)), "weight must be 4-D"),
    (lambda: F.conv2d(tt.zeros(1, 4, 5, 5), tt.zeros(3, 2, 3, 3), groups=2),
     "divisible by groups"),
    (lambda: F.conv2d(tt.zeros(1, 1, 5, 5), tt.zeros(2, 1, 3, 3), tt.zeros(3)),
     r"bias must have shape \(2,\)"),
    (lambda: F.conv2d(tt.zeros(1, 1, 5, 5), tt.zeros(2, 1, 3, 3), stride=2, padding="same"),
     "'same' is not supported for strided"),
    (lambda: F.conv2d(tt.zeros(1, 1, 5, 5), tt.zeros(2, 1, 3, 3), stride=0), "stride must be >= 1"),
    (lambda: F.conv2d(tt.zeros(1, 1, 5, 5), tt.zeros(2, 1, 3, 3), padding="full"),
     "'valid' or 'same'"),
    (lambda: nn.Conv2d(3, 4, 3, groups=2), "divisible by groups"),
    (lambda: nn.Conv2d(3, 4, 3, padding_mode="mirror"), "padding_mode"),
    (lambda: F.max_pool2d(tt.zeros(1, 1, 4, 4), 2, padding=2), "at most half"),
    (lambda: F.pad(tt.zeros(2, 3), (1, 1, 1, 1, 1, 1)), "at most 2 dimensions"),
    (lambda: F.pad(tt.zeros(1, 1, 3, 3), (3, 0), mode="reflect"), "must be smaller"),
    (lambda: F.pad(tt.zeros(1, 1, 3, 3), (1, 0), mode="wrap"), "mode must be"),
])
def test_bad_arguments_raise_helpful_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_conv_output_size_formula():
    assert conv_output_size(32, 3, 1, 1, 1) == 32
    assert conv_output_size(28, 5) == 24
    assert conv_output_size(9, 3, 2, 1, 1, 2) == 4
    assert conv_output_size(8, 3, 2, ceil_mode=True) == 4  # torch: ceil((8-3)/2)+1


# --------------------------------------------------------------------------- the benchmarks


def test_vision_benchmarks_run_in_quick_mode():
    """Every workload of benchmarks/bench_vision.py runs once on each side: it cannot rot."""
    import importlib.util
    import sys
    from pathlib import Path

    bench_dir = Path(__file__).resolve().parent.parent / "benchmarks"
    sys.path.insert(0, str(bench_dir))  # bench modules say ``from harness import Workload``
    try:
        spec = importlib.util.spec_from_file_location("_bench_vision",
                                                      bench_dir / "bench_vision.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        workloads = module.workloads(quick=True)
    finally:
        sys.path.remove(str(bench_dir))
    names = " ".join(w.name for w in workloads)
    assert "conv2d fwd+bwd" in names and "LeNet" in names
    for w in workloads:
        assert w.target is not None
        for side in (w.tinytorch, w.torch, w.numpy):
            if side is not None:
                side()


@pytest.mark.parametrize("frozen", ["weight", "bias", "input"])
def test_batch_first_fused_bias_with_a_frozen_tensor_matches_torch(frozen):
    """The bias rides in the weight's matmul (a ones row in the columns): when the weight, the
    bias or the input needs no gradient, the others must still get theirs."""
    x, w, b = _rand((2, 3, 4, 26), 11), _rand((5, 3, 3, 3), 12), _rand((5,), 13)
    ours = [tt.tensor(a, requires_grad=name != frozen)
            for name, a in (("input", x), ("weight", w), ("bias", b))]
    ref = [torch.tensor(a, requires_grad=name != frozen)
           for name, a in (("input", x), ("weight", w), ("bias", b))]
    out, want = F.conv2d(*ours, padding=1), TF.conv2d(*ref, padding=1)
    _close(out.numpy(), want, "forward")
    g = _rand(tuple(want.shape), 14)
    out.backward(tt.tensor(g))
    want.backward(torch.tensor(g))
    for name, a, r in zip(("input", "weight", "bias"), ours, ref):
        if name == frozen:
            assert a.grad is None, f"{name} needs no gradient"
        else:
            _close(a.grad.numpy(), r.grad, f"{name} gradient", rtol=1e-3)
