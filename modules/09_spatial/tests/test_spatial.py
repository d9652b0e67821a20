"""Module 09 graded tests: convolution (naive and im2col), pooling, batch norm, Dropout2d.

Every expected value comes from the definition, written out in this file as explicit NumPy
loops (``ref_conv2d``, ``ref_max_pool`` ...), or from a small worked example. Gradients are
checked against the same loops written for the backward, and against finite differences
(``tt.autograd.gradcheck``, module 05). Nothing here imports PyTorch.
"""

import math

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.autograd import gradcheck
from tinytorch.core.conv import conv2d_naive
from tinytorch.core.im2col import (BATCH_LAST, BATCH_SECOND, col2im, col2im_batched, im2col,
                                   im2col_batched, to_layout)
from tinytorch.core.pooling import max_pool2d_naive
from tinytorch.testing import assert_close


def _rand(shape, seed, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# --------------------------------------------------------------------------- reference loops


def _padded(x, ph, pw, value=0.0):
    n, c, h, w = x.shape
    out = np.full((n, c, h + 2 * ph, w + 2 * pw), value, dtype=np.float64)
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def ref_conv2d(x, w, b, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """out[n, o, y, x] = b[o] + sum_{c,i,j} w[o, c, i, j] * xpad[n, g*Cg + c, y*s + i*d, x*s + j*d]
    with g = o // (O / groups), Cg = C / groups."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = _padded(x, ph, pw)
    n_img, _, hp, wp = xp.shape
    o_ch, cg, kh, kw = w.shape
    ho = (hp - dh * (kh - 1) - 1) // sh + 1
    wo = (wp - dw * (kw - 1) - 1) // sw + 1
    og = o_ch // groups
    out = np.zeros((n_img, o_ch, ho, wo))
    for n in range(n_img):
        for o in range(o_ch):
            g = o // og
            for y in range(ho):
                for xx in range(wo):
                    patch = xp[n, g * cg:(g + 1) * cg, y * sh:y * sh + dh * (kh - 1) + 1:dh,
                               xx * sw:xx * sw + dw * (kw - 1) + 1:dw]
                    out[n, o, y, xx] = np.sum(patch * w[o]) + (0.0 if b is None else b[o])
    return out


def ref_conv2d_grads(x, w, grad, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """dL/dx, dL/dw, dL/db by looping over every output and spreading its gradient back."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = _padded(x, ph, pw)
    dxp = np.zeros_like(xp)
    dw_ = np.zeros(w.shape)
    o_ch, cg, kh, kw = w.shape
    og = o_ch // groups
    n_img, _, ho, wo = grad.shape
    for n in range(n_img):
        for o in range(o_ch):
            g = o // og
            for y in range(ho):
                for xx in range(wo):
                    rows = slice(y * sh, y * sh + dh * (kh - 1) + 1, dh)
                    cols = slice(xx * sw, xx * sw + dw * (kw - 1) + 1, dw)
                    chans = slice(g * cg, (g + 1) * cg)
                    dw_[o] += grad[n, o, y, xx] * xp[n, chans, rows, cols]
                    dxp[n, chans, rows, cols] += grad[n, o, y, xx] * w[o]
    h, wd = x.shape[2:]
    return dxp[:, :, ph:ph + h, pw:pw + wd], dw_, grad.sum(axis=(0, 2, 3))


def ref_pool(x, k, s, p, reduce, value):
    """Apply ``reduce`` to every (k x k, stride s, padding p) window of the padded input."""
    xp = _padded(x, p, p, value)
    n_img, c, hp, wp = xp.shape
    ho, wo = (hp - k) // s + 1, (wp - k) // s + 1
    out = np.zeros((n_img, c, ho, wo))
    for n in range(n_img):
        for ch in range(c):
            for y in range(ho):
                for xx in range(wo):
                    out[n, ch, y, xx] = reduce(xp[n, ch, y * s:y * s + k, xx * s:xx * s + k])
    return out


def ref_max_pool_grad(x, k, s, grad):
    """Each window's gradient goes to its first (row-major) maximum; overlaps accumulate."""
    dx = np.zeros(x.shape)
    n_img, c, ho, wo = grad.shape
    for n in range(n_img):
        for ch in range(c):
            for y in range(ho):
                for xx in range(wo):
                    win = x[n, ch, y * s:y * s + k, xx * s:xx * s + k]
                    i, j = np.unravel_index(np.argmax(win), win.shape)
                    dx[n, ch, y * s + i, xx * s + j] += grad[n, ch, y, xx]
    return dx


# --------------------------------------------------------------------------- the course path


def test_conv2d_naive_worked_example():
    # a 3x3 image and a 2x2 filter: each output is the sum of a 2x2 patch times the filter
    x = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)  # [[0 1 2] [3 4 5] [6 7 8]]
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]], dtype=np.float32)  # top-left minus bottom-right
    # out[y, x] = x[y, x] - x[y+1, x+1] = -4 everywhere; bias 0.5 added
    out = conv2d_naive(x, w, np.array([0.5], dtype=np.float32))
    assert_close(out, np.full((1, 1, 2, 2), -3.5), what="conv2d_naive(3x3 image, 2x2 filter)",
                 inputs={"x": x, "w": w})


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(stride=(2, 2), padding=(1, 1)),
    dict(stride=(1, 2), padding=(2, 0), dilation=(2, 1)),
    dict(groups=2),
])
def test_conv2d_naive_matches_the_definition(kwargs):
    g = kwargs.get("groups", 1)
    x, w, b = _rand((2, 4, 6, 7), 1), _rand((4, 4 // g, 3, 2), 2), _rand((4,), 3)
    got = conv2d_naive(x, w, b, **kwargs)
    assert_close(got, ref_conv2d(x, w, b, **kwargs), rtol=1e-4, atol=1e-5,
                 what=f"conv2d_naive(x, w, b, {kwargs})", inputs={"x": x, "w": w})


# --------------------------------------------------------------------------- im2col


@pytest.mark.parametrize("order", [BATCH_LAST, BATCH_SECOND], ids=["CHWN", "CNHW"])
def test_to_layout_pads_and_permutes(order):
    x = _rand((2, 3, 4, 5), 4)
    xw = to_layout(x, (1, 0, 2, 1), order)  # pads: top, bottom, left, right
    padded = np.zeros((2, 3, 5, 8), dtype=np.float32)  # (N, C, Hp, Wp)
    padded[:, :, 1:5, 2:7] = x
    assert_close(xw, padded.transpose(order), what=f"to_layout(x, (1, 0, 2, 1), {order})")


@pytest.mark.parametrize("order", [BATCH_LAST, BATCH_SECOND], ids=["CHWN", "CNHW"])
def test_im2col_puts_every_receptive_field_in_a_column(order):
    x = _rand((2, 3, 5, 6), 4)
    xw = np.ascontiguousarray(x.transpose(order))  # no padding
    stride, dilation, kernel = (2, 1), (1, 2), (2, 3)
    ho, wo = (5 - 2) // 2 + 1, (6 - 2 * 2 - 1) // 1 + 1
    cols = im2col(xw, order, kernel, (ho, wo), stride, dilation)
    assert cols.shape == (3 * 2 * 3, 2 * ho * wo), "cols is (C*kh*kw, N*Ho*Wo)"
    expected = np.zeros(cols.shape, dtype=np.float32)
    for c in range(3):
        for i in range(2):
            for j in range(3):
                row = (c * 2 + i) * 3 + j
                for n in range(2):
                    for y in range(ho):
                        for xx in range(wo):
                            # columns follow the memory order of the layout
                            col = (y * wo + xx) * 2 + n if order == BATCH_LAST \
                                else (n * ho + y) * wo + xx
                            expected[row, col] = x[n, c, y * 2 + i * 1, xx * 1 + j * 2]
    assert_close(cols, expected, what="im2col(x, kernel=(2, 3), stride=(2, 1), dilation=(1, 2))")


@pytest.mark.parametrize("order", [BATCH_LAST, BATCH_SECOND], ids=["CHWN", "CNHW"])
def test_col2im_is_the_adjoint_of_im2col(order):
    """<im2col(x), D> == <x, col2im(D)> for every x, D: col2im adds each column back where
    im2col copied it from (pixels in several windows get the sum)."""
    xw = np.ascontiguousarray(_rand((3, 2, 6, 5), 5, np.float64).transpose(order))  # N=3, C=2
    kernel, out_hw, stride, dilation = (3, 2), (2, 4), (2, 1), (1, 1)
    d = _rand((2 * 3 * 2, 3 * 2 * 4), 6, np.float64)
    back = col2im(d, xw.shape, order, kernel, out_hw, stride, dilation)
    assert back.shape == xw.shape, "col2im returns the shape im2col read"
    lhs = np.sum(im2col(xw, order, kernel, out_hw, stride, dilation) * d)
    rhs = np.sum(xw * back)
    assert math.isclose(lhs, rhs, rel_tol=1e-9), \
        f"<im2col(x), D> = {lhs} but <x, col2im(D)> = {rhs}"


# one geometry per path of im2col_batched: the rows trick (stride 1, output as wide as the
# input: 3x3 pad 1; dilated with unequal left/right padding), and strided windows
BATCHED_CASES = [((3, 3), (1, 1, 1, 1), (1, 1), (1, 1)),
                 ((2, 3), (0, 1, 1, 3), (1, 1), (2, 2)),
                 ((2, 3), (1, 0, 2, 0), (2, 1), (1, 1))]


@pytest.mark.parametrize("kernel, pads, stride, dilation", BATCHED_CASES)
def test_im2col_batched_puts_every_receptive_field_in_a_column(kernel, pads, stride, dilation):
    x = _rand((2, 3, 4, 6), 17)
    (kh, kw), (top, bottom, left, right) = kernel, pads
    xp = np.zeros((2, 3, 4 + top + bottom, 6 + left + right), dtype=np.float32)
    xp[:, :, top:top + 4, left:left + 6] = x
    ho = (xp.shape[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (xp.shape[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    cols = im2col_batched(x, pads, kernel, (ho, wo), stride, dilation)
    assert cols.shape == (2, 3 * kh * kw, ho * wo), "cols is (N, C*kh*kw, Ho*Wo)"
    expected = np.zeros(cols.shape, dtype=np.float32)
    for n in range(2):
        for c in range(3):
            for i in range(kh):
                for j in range(kw):
                    for y in range(ho):
                        for xx in range(wo):
                            expected[n, (c * kh + i) * kw + j, y * wo + xx] = \
                                xp[n, c, y * stride[0] + i * dilation[0],
                                   xx * stride[1] + j * dilation[1]]
    assert_close(cols, expected, what=f"im2col_batched(x, pads={pads}, kernel={kernel}, "
                                      f"stride={stride}, dilation={dilation})")


@pytest.mark.parametrize("kernel, pads, stride, dilation", BATCHED_CASES)
def test_col2im_batched_is_the_adjoint_of_im2col_batched(kernel, pads, stride, dilation):
    """<im2col_batched(x), D> == <x, col2im_batched(D)>: with the rows trick, a column that
    wrapped around an image edge must add nothing to the neighbouring row."""
    x = _rand((2, 3, 4, 6), 18, np.float64)
    (kh, kw), (top, bottom, left, right) = kernel, pads
    ho = (4 + top + bottom - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (6 + left + right - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    d = _rand((2, 3 * kh * kw, ho * wo), 19, np.float64)
    back = col2im_batched(d.copy(), x.shape, pads, kernel, (ho, wo), stride, dilation)
    assert back.shape == x.shape, "col2im_batched returns the input's shape"
    lhs = np.sum(im2col_batched(x, pads, kernel, (ho, wo), stride, dilation) * d)
    assert math.isclose(lhs, np.sum(x * back), rel_tol=1e-9), \
        f"<im2col_batched(x), D> = {lhs} but <x, col2im_batched(D)> = {np.sum(x * back)}"


# --------------------------------------------------------------------------- conv2d, the engine


CONV_CASES = [
    dict(),
    dict(stride=(2, 2), padding=(1, 1)),
    dict(stride=(2, 1), padding=(0, 2), dilation=(1, 2)),
    dict(groups=2, padding=(1, 1)),
]


@pytest.mark.parametrize("kwargs", CONV_CASES)
def test_conv2d_forward_matches_the_definition(kwargs):
    g = kwargs.get("groups", 1)
    x, w, b = _rand((2, 4, 7, 6), 7), _rand((6, 4 // g, 3, 2), 8), _rand((6,), 9)
    got = F.conv2d(tt.tensor(x), tt.tensor(w), tt.tensor(b), **kwargs)
    assert_close(got, ref_conv2d(x, w, b, **kwargs), rtol=1e-4, atol=1e-5,
                 what=f"F.conv2d(x, w, b, **{kwargs})", inputs={"x": x, "w": w, "b": b})
    assert got.dtype == np.float32


@pytest.mark.parametrize("kwargs", CONV_CASES)
def test_conv2d_backward_matches_the_definition(kwargs):
    g = kwargs.get("groups", 1)
    x, w, b = _rand((2, 4, 7, 6), 10), _rand((6, 4 // g, 3, 2), 11), _rand((6,), 12)
    tx, tw, tb = (tt.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(tx, tw, tb, **kwargs)
    grad = _rand(out.shape, 13)
    out.backward(tt.tensor(grad))
    dx, dw, db = ref_conv2d_grads(x, w, grad, **kwargs)
    assert_close(tx.grad, dx, rtol=1e-4, atol=1e-4, what=f"x.grad of conv2d {kwargs}")
    assert_close(tw.grad, dw, rtol=1e-4, atol=1e-4, what=f"weight.grad of conv2d {kwargs}")
    assert_close(tb.grad, db, rtol=1e-4, atol=1e-4, what=f"bias.grad of conv2d {kwargs}")


@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_on_wide_images_matches_the_definition(bias):
    """Images 24 pixels wide or more take the batch-first engine (im2col_batched; 3x3 with
    padding 1 is the rows trick; the bias rides in the matmul): forward and every gradient."""
    x, w = _rand((2, 3, 4, 25), 20), _rand((4, 3, 3, 3), 21)
    b = _rand((4,), 22) if bias else None
    tx, tw = tt.tensor(x, requires_grad=True), tt.tensor(w, requires_grad=True)
    tb = tt.tensor(b, requires_grad=True) if bias else None
    out = F.conv2d(tx, tw, tb, padding=1)
    assert_close(out, ref_conv2d(x, w, b if bias else np.zeros(4), padding=(1, 1)),
                 rtol=1e-4, atol=1e-5, what="F.conv2d on a (2, 3, 4, 25) batch, padding 1")
    grad = _rand(out.shape, 23)
    out.backward(tt.tensor(grad))
    dx, dw, db = ref_conv2d_grads(x, w, grad, padding=(1, 1))
    assert_close(tx.grad, dx, rtol=1e-4, atol=1e-4, what="x.grad, wide image")
    assert_close(tw.grad, dw, rtol=1e-4, atol=1e-4, what="weight.grad, wide image")
    if bias:
        assert_close(tb.grad, db, rtol=1e-4, atol=1e-4, what="bias.grad, wide image")


def test_conv2d_gradcheck():
    rng = np.random.default_rng(14)
    x = tt.tensor(rng.standard_normal((2, 2, 5, 5)), requires_grad=True)
    w = tt.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    b = tt.tensor(rng.standard_normal(3), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), (x, w, b))


def test_conv2d_layer_shapes_init_and_forward():
    tt.manual_seed(0)
    layer = nn.Conv2d(3, 8, kernel_size=(3, 5), padding=1)
    assert layer.weight.shape == (8, 3, 3, 5), "weight is (out_channels, in_channels, kh, kw)"
    assert layer.bias.shape == (8,)
    bound = 1 / math.sqrt(3 * 3 * 5)  # PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert np.abs(layer.weight.numpy()).max() <= bound
    assert np.abs(layer.weight.numpy()).max() > 0.9 * bound, "weights should fill the init range"
    assert np.abs(layer.bias.numpy()).max() <= bound
    x = _rand((2, 3, 6, 7), 15)
    out = layer(tt.tensor(x))
    assert out.shape == (2, 8, 6, 5)
    assert_close(out, ref_conv2d(x, layer.weight.numpy(), layer.bias.numpy(), padding=(1, 1)),
                 rtol=1e-4, atol=1e-5, what="Conv2d(3, 8, (3, 5), padding=1)(x)")
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert nn.Conv2d(2, 2, 3, padding="same")(tt.zeros(1, 2, 5, 4)).shape == (1, 2, 5, 4)


def test_conv2d_naive_and_fast_agree_on_a_layer():
    layer = nn.Conv2d(2, 3, 3, stride=2, padding=1)
    x = _rand((2, 2, 7, 7), 16)
    slow = conv2d_naive(x, layer.weight, layer.bias, stride=2, padding=1)
    assert_close(layer(tt.tensor(x)), slow, rtol=1e-4, atol=1e-5,
                 what="Conv2d(2, 3, 3, stride=2, padding=1) vs conv2d_naive")


def test_conv2d_wrong_channels_is_a_clear_error():
    with pytest.raises(ValueError, match=r"\(2, 4, 8, 8\) has 4 channels"):
        nn.Conv2d(3, 8, 3)(tt.zeros(2, 4, 8, 8))
    with pytest.raises(ValueError, match="larger than the padded input"):
        nn.Conv2d(1, 1, 5)(tt.zeros(1, 1, 3, 3))


# --------------------------------------------------------------------------- pooling


def test_max_pool_worked_example():
    x = np.array([[[[1, 2, 5, 0],
                    [3, 4, 1, 1],
                    [0, 0, 7, 8],
                    [2, 1, 6, 9]]]], dtype=np.float32)
    assert_close(F.max_pool2d(tt.tensor(x), 2), [[[[4, 5], [2, 9]]]],
                 what="max_pool2d(x, 2)", inputs={"x": x})
    assert_close(max_pool2d_naive(x, 2), [[[[4, 5], [2, 9]]]], what="max_pool2d_naive(x, 2)")


@pytest.mark.parametrize("k, s, p", [(2, 2, 0), (3, 1, 1), (3, 2, 1), (2, 3, 0)])
def test_max_pool_forward_and_backward_match_loops(k, s, p):
    x = _rand((2, 3, 7, 8), 17)
    t = tt.tensor(x, requires_grad=True)
    out = nn.MaxPool2d(k, s, p)(t)
    assert_close(out, ref_pool(x, k, s, p, np.max, -np.inf), what=f"MaxPool2d({k}, {s}, {p})")
    assert_close(max_pool2d_naive(x, k, s, p), ref_pool(x, k, s, p, np.max, -np.inf),
                 what=f"max_pool2d_naive(x, {k}, {s}, {p})")
    grad = _rand(out.shape, 18)
    out.backward(tt.tensor(grad))
    xp = _padded(x, p, p, -np.inf)
    expected = ref_max_pool_grad(xp, k, s, grad)[:, :, p:p + 7, p:p + 8]
    assert_close(t.grad, expected, rtol=1e-5, atol=1e-6,
                 what=f"x.grad of MaxPool2d({k}, {s}, {p}) (overlapping windows add up)")


def test_max_pool_tie_goes_to_the_first_maximum():
    x = tt.tensor(np.zeros((1, 1, 2, 2), dtype=np.float32), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    assert_close(x.grad, [[[[1.0, 0.0], [0.0, 0.0]]]],
                 what="gradient of a 2x2 max-pool over four equal values (first one wins)")


@pytest.mark.parametrize("k, s, p, include", [(2, 2, 0, True), (3, 2, 1, True), (3, 2, 1, False)])
def test_avg_pool_forward_and_backward_match_loops(k, s, p, include):
    x = _rand((2, 2, 7, 6), 19)
    t = tt.tensor(x, requires_grad=True)
    out = nn.AvgPool2d(k, s, p, count_include_pad=include)(t)
    ones = np.ones_like(x)
    if include:
        expected = ref_pool(x, k, s, p, np.sum, 0.0) / (k * k)
        counts = np.full(expected.shape, float(k * k))
    else:  # divide by the number of real (non-padding) pixels in each window
        counts = ref_pool(ones, k, s, p, np.sum, 0.0)
        expected = ref_pool(x, k, s, p, np.sum, 0.0) / counts
    assert_close(out, expected, rtol=1e-5, atol=1e-6,
                 what=f"AvgPool2d({k}, {s}, {p}, count_include_pad={include})")
    grad = _rand(out.shape, 20)
    out.backward(tt.tensor(grad))
    dxp = np.zeros((2, 2, 7 + 2 * p, 6 + 2 * p))
    for y in range(out.shape[2]):
        for xx in range(out.shape[3]):
            dxp[:, :, y * s:y * s + k, xx * s:xx * s + k] += (grad[:, :, y, xx]
                                                             / counts[:, :, y, xx])[..., None, None]
    assert_close(t.grad, dxp[:, :, p:p + 7, p:p + 6], rtol=1e-5, atol=1e-6,
                 what=f"x.grad of AvgPool2d({k}, {s}, {p})")


def test_adaptive_avg_pool_bins():
    x = _rand((2, 3, 7, 5), 21)
    out = nn.AdaptiveAvgPool2d((3, 2))(tt.tensor(x))
    expected = np.zeros((2, 3, 3, 2))
    for i in range(3):  # bin i covers rows floor(i*7/3) .. ceil((i+1)*7/3)
        r0, r1 = (i * 7) // 3, -((-(i + 1) * 7) // 3)
        for j in range(2):
            c0, c1 = (j * 5) // 2, -((-(j + 1) * 5) // 2)
            expected[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean(axis=(2, 3))
    assert_close(out, expected, rtol=1e-5, atol=1e-6, what="AdaptiveAvgPool2d((3, 2))")
    assert_close(F.adaptive_avg_pool2d(tt.tensor(x), 1), x.mean(axis=(2, 3), keepdims=True),
                 rtol=1e-5, atol=1e-6, what="global average pooling")


def test_pooling_gradcheck():
    x = tt.tensor(np.random.default_rng(22).permutation(50).reshape(1, 2, 5, 5) * 0.1,
                  requires_grad=True)
    assert gradcheck(lambda t: F.max_pool2d(t, 3, stride=2, padding=1), (x,))
    assert gradcheck(lambda t: F.avg_pool2d(t, 2, stride=1), (x,))
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, 2), (x,))


# --------------------------------------------------------------------------- batch norm


def test_batchnorm2d_training_normalizes_each_channel_and_updates_running_stats():
    x = _rand((4, 3, 5, 5), 23) * 3 + 2
    bn = nn.BatchNorm2d(3, momentum=0.1)
    bn.weight.numpy()[...] = [1.0, 2.0, 0.5]
    bn.bias.numpy()[...] = [0.0, -1.0, 3.0]
    out = bn(tt.tensor(x))
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)  # biased: normalizes
    expected = (x - mean) / np.sqrt(var + 1e-5) * bn.weight.numpy().reshape(1, 3, 1, 1) \
        + bn.bias.numpy().reshape(1, 3, 1, 1)
    assert_close(out, expected, rtol=1e-4, atol=1e-4, what="BatchNorm2d(3) in training mode")
    n = 4 * 5 * 5
    assert_close(bn.running_mean, 0.1 * mean.reshape(3), rtol=1e-5, atol=1e-6,
                 what="running_mean after one batch: 0.9 * 0 + 0.1 * batch mean")
    assert_close(bn.running_var, 0.9 + 0.1 * var.reshape(3) * n / (n - 1), rtol=1e-5,
                 atol=1e-6, what="running_var after one batch: 0.9 * 1 + 0.1 * unbiased var")
    assert int(bn.num_batches_tracked.item()) == 1


def test_batchnorm_eval_uses_running_statistics():
    bn = nn.BatchNorm1d(2)
    bn.running_mean.numpy()[...] = [1.0, -1.0]
    bn.running_var.numpy()[...] = [4.0, 9.0]
    bn.eval()
    x = np.array([[3.0, 2.0]], dtype=np.float32)  # one sample: fine in eval mode
    # (3 - 1) / sqrt(4 + eps) = 1, (2 + 1) / sqrt(9 + eps) = 1
    assert_close(bn(tt.tensor(x)), [[1.0, 1.0]], rtol=1e-5, what="BatchNorm1d eval")
    assert_close(bn.running_mean, [1.0, -1.0], what="eval mode must not change running_mean")


def test_batchnorm_eps_keeps_a_constant_channel_finite():
    """eps is what keeps 1 / sqrt(var + eps) finite when a channel does not vary at all."""
    x = np.ones((4, 2, 3, 3), dtype=np.float32)
    x[:, 1] = _rand((4, 3, 3), 26)
    bn = nn.BatchNorm2d(2, eps=0.5)
    out = bn(tt.tensor(x))
    mean, var = x.mean(axis=(0, 2, 3), keepdims=True), x.var(axis=(0, 2, 3), keepdims=True)
    assert_close(out, (x - mean) / np.sqrt(var + 0.5), rtol=1e-4, atol=1e-5,
                 what="BatchNorm2d(2, eps=0.5), channel 0 constant", inputs={"x": x})


def test_batchnorm_backward_through_the_batch_statistics():
    rng = np.random.default_rng(24)
    x = tt.tensor(rng.standard_normal((4, 3, 2, 2)) * 2 + 1, requires_grad=True)
    w = tt.tensor(rng.standard_normal(3), requires_grad=True)
    b = tt.tensor(rng.standard_normal(3), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (x, w, b))
    x1 = tt.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    assert gradcheck(lambda x: F.batch_norm(x, None, None, training=True), (x1,))


def test_batchnorm1d_on_sequences_uses_batch_and_length():
    x = _rand((3, 2, 4), 25)
    out = nn.BatchNorm1d(2)(tt.tensor(x))
    mean, var = x.mean(axis=(0, 2), keepdims=True), x.var(axis=(0, 2), keepdims=True)
    assert_close(out, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-4, atol=1e-4,
                 what="BatchNorm1d(2) on (N, C, L)")


# --------------------------------------------------------------------------- dropout2d and training


def test_dropout2d_drops_whole_channels():
    tt.manual_seed(1)
    x = np.ones((4, 10, 3, 3), dtype=np.float32)
    out = nn.Dropout2d(0.5)(tt.tensor(x)).numpy()
    per_channel = out.reshape(40, 9)
    assert np.all((per_channel == 0).all(axis=1) | np.isclose(per_channel, 2.0).all(axis=1)), \
        "each channel must be all zeros or all scaled by 1 / (1 - p) = 2"
    layer = nn.Dropout2d(0.5).eval()
    assert_close(layer(tt.tensor(x)), x, what="Dropout2d in eval mode is the identity")


def test_a_small_cnn_learns():
    """Two classes: a bright vertical bar or a bright horizontal bar. A few SGD steps of a
    conv-pool-linear network must drive the loss down, and every conv weight must move."""
    rng = np.random.default_rng(26)
    x = rng.standard_normal((32, 1, 8, 8)).astype(np.float32) * 0.3
    y = np.arange(32) % 2
    for i in range(32):
        k = rng.integers(1, 7)
        if y[i]:
            x[i, 0, :, k] += 2.0
        else:
            x[i, 0, k, :] += 2.0
    tt.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 2))
    before = model[0].weight.numpy().copy()
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    xt, yt = tt.tensor(x), tt.tensor(y)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = F.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], f"loss went from {losses[0]:.3f} to {losses[-1]:.3f}"
    assert np.all(model[0].weight.numpy() != before), "every conv weight should have moved"
