"""Module 09 graded tests: every option of conv, pooling, batch norm and dropout2d, alone and
combined, on non-square shapes; train and eval modes.

Oracles, independent of the code under test:

* convolution, pooling and adaptive pooling as plain NumPy loops over output positions,
  straight from the definitions (``out[n, o, y, x] = b[o] + sum_{c in group(o), i, j}
  w[o, c, i, j] * xpad[n, c, y*sh + i*dh, x*sw + j*dw]``; a max-pool gradient goes to the FIRST
  maximum of each window, once per window it wins; adaptive windows are
  ``[floor(i H / out), ceil((i + 1) H / out))``);
* gradients: central finite differences (``tinytorch.autograd.gradcheck``);
* batch norm: the formulas of ``torch.nn.BatchNorm2d`` (biased variance to normalise, unbiased
  for the running estimate, ``running = (1 - momentum) running + momentum batch``,
  ``momentum=None``: the cumulative average), and in eval mode the running statistics.

Every case has height != width, kernel height != kernel width, stride/padding/dilation that
differ between the axes, groups > 1, and windows that overlap (stride < kernel), because a
mistake that swaps two axes or ignores an option is invisible on square, default inputs.
"""

import math

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.autograd import gradcheck
from tinytorch.core.conv import conv2d_naive
from tinytorch.core.pooling import max_pool2d_naive
from tinytorch.testing import assert_close


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def conv_ref(x, w, b, stride, padding, dilation, groups):
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    og = o // groups
    out = np.zeros((n, o, ho, wo))
    for oc in range(o):
        g = oc // og
        for y in range(ho):
            for xx in range(wo):
                patch = xp[:, g * cg:(g + 1) * cg, y * sh:y * sh + dh * (kh - 1) + 1:dh,
                           xx * sw:xx * sw + dw * (kw - 1) + 1:dw]
                out[:, oc, y, xx] = (patch * w[oc]).sum(axis=(1, 2, 3))
        if b is not None:
            out[:, oc] += b[oc]
    return out


CONV_CASES = [
    # (N, C, H, W), (O, k_h, k_w), stride, padding, dilation, groups
    ((2, 4, 7, 9), (6, 3, 2), 1, 0, 1, 1),
    ((2, 4, 7, 9), (6, 3, 2), (2, 1), (1, 2), 1, 2),
    ((1, 6, 8, 7), (3, 2, 3), 1, (2, 0), (2, 1), 3),
    ((2, 4, 9, 8), (4, 3, 3), (1, 2), 1, (1, 3), 4),
    ((1, 2, 5, 6), (4, 1, 1), 2, 0, 1, 2),
    ((1, 3, 6, 5), (2, 2, 2), 1, 0, 2, 1),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
@pytest.mark.parametrize("impl", ["conv2d", "conv2d_naive", "Conv2d"])
def test_conv_every_option_against_a_loop(case, impl):
    shape, (o, kh, kw), stride, padding, dilation, groups = case
    rng = np.random.default_rng(len(str(case)))
    x = rng.standard_normal(shape)
    w = rng.standard_normal((o, shape[1] // groups, kh, kw))
    b = rng.standard_normal(o)
    want = conv_ref(x, w, b, stride, padding, dilation, groups)
    kw_ = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    if impl == "Conv2d":
        layer = nn.Conv2d(shape[1], o, (kh, kw), **kw_).double() if hasattr(nn.Conv2d, "double") \
            else nn.Conv2d(shape[1], o, (kh, kw), **kw_)
        layer.load_state_dict({"weight": w.astype(layer.weight.numpy().dtype),
                               "bias": b.astype(layer.weight.numpy().dtype)})
        got = layer(tt.tensor(x.astype(layer.weight.numpy().dtype)))
        tol = dict(rtol=1e-4, atol=1e-4)
    else:
        fn = F.conv2d if impl == "conv2d" else conv2d_naive
        got = fn(tt.tensor(x), tt.tensor(w), tt.tensor(b), **kw_)
        tol = dict(rtol=1e-10, atol=1e-10)
    assert got.shape == want.shape, f"{impl}{case}: shape {got.shape}, expected {want.shape}"
    assert_close(got, want, **tol, what=f"{impl} with stride={stride}, padding={padding}, "
                 f"dilation={dilation}, groups={groups} on {shape}")


@pytest.mark.parametrize("case", CONV_CASES[1:4], ids=str)
def test_conv_gradients_every_option(case):
    shape, (o, kh, kw), stride, padding, dilation, groups = case
    rng = np.random.default_rng(7)
    n, c, h, wd = shape
    x = tt.tensor(rng.standard_normal((1, c, h, wd)), requires_grad=True)
    w = tt.tensor(rng.standard_normal((o, c // groups, kh, kw)), requires_grad=True)
    b = tt.tensor(rng.standard_normal(o), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=padding,
                                              dilation=dilation, groups=groups), (x, w, b))


@pytest.mark.parametrize("groups, in_c, out_c, k", [(1, 4, 400, (3, 2)), (2, 4, 400, (3, 2)),
                                                    (4, 4, 400, (1, 5))])
def test_conv2d_init_bounds_count_groups(groups, in_c, out_c, k):
    """weight and bias ~ U(+-1/sqrt(fan_in)), fan_in = in_channels / groups * kh * kw."""
    tt.manual_seed(0)
    layer = nn.Conv2d(in_c, out_c, k, groups=groups)
    bound = 1 / math.sqrt(in_c // groups * k[0] * k[1])
    for name, p in (("weight", layer.weight), ("bias", layer.bias)):
        assert np.abs(p.numpy()).max() <= bound + 1e-7, \
            f"Conv2d(groups={groups}).{name} exceeds 1/sqrt(fan_in) = {bound:.4g}"
        assert np.abs(p.numpy()).max() > 0.95 * bound, \
            f"Conv2d(groups={groups}).{name}: 400+ draws of U(+-{bound:.4g}) reach near the " \
            f"bound, largest |{name}| is {np.abs(p.numpy()).max():.4g} (fan_in counts groups)"


# ------------------------------------------------------------------------------- pooling

def pool_ref(x, k, stride, padding, kind, count_include_pad=True, ceil_mode=False):
    (kh, kw), (sh, sw), (ph, pw) = _pair(k), _pair(stride), _pair(padding)
    n, c, h, w = x.shape

    def size(length, kk, s, p):
        num = length + 2 * p - kk
        o = (-(-num // s) if ceil_mode else num // s) + 1
        if ceil_mode and (o - 1) * s >= length + p:  # the last window must start inside
            o -= 1
        return o

    ho, wo = size(h, kh, sh, ph), size(w, kw, sw, pw)
    out = np.zeros((n, c, ho, wo))
    grad_map = np.zeros_like(x)  # d sum(out) / dx for max pooling
    for y in range(ho):
        for xx in range(wo):
            y0, x0 = y * sh - ph, xx * sw - pw
            y1, x1 = min(y0 + kh, h + ph), min(x0 + kw, w + pw)
            ys, xs = slice(max(y0, 0), min(y1, h)), slice(max(x0, 0), min(x1, w))
            win = x[:, :, ys, xs]
            if kind == "max":
                flat = win.reshape(n, c, -1)
                out[:, :, y, xx] = flat.max(axis=2)
                first = flat.argmax(axis=2)  # the first maximum
                wh = win.shape[3]
                for a in range(n):
                    for b in range(c):
                        i, j = divmod(first[a, b], wh)
                        grad_map[a, b, ys.start + i, xs.start + j] += 1
            else:
                count = (y1 - y0) * (x1 - x0) if count_include_pad else win.shape[2] * win.shape[3]
                out[:, :, y, xx] = win.sum(axis=(2, 3)) / count
    return out, grad_map


POOL_CASES = [((2, 3, 7, 9), (3, 2), (2, 1), 0), ((1, 2, 6, 5), (2, 3), (1, 2), (1, 1)),
              ((1, 2, 8, 8), 3, 2, 1), ((2, 1, 5, 7), (2, 2), (2, 3), (0, 1))]


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
@pytest.mark.parametrize("impl", ["max_pool2d", "max_pool2d_naive", "MaxPool2d"])
def test_max_pool_values_and_gradient_with_ties_and_overlap(case, impl):
    shape, k, stride, padding = case
    x = np.round(np.random.default_rng(1).standard_normal(shape) * 1.5)  # many exact ties
    want, grad_map = pool_ref(x, k, stride, padding, "max")
    fn = {"max_pool2d": F.max_pool2d, "max_pool2d_naive": max_pool2d_naive,
          "MaxPool2d": lambda t, k, s, p: nn.MaxPool2d(k, s, p)(t)}[impl]
    t = tt.tensor(x, requires_grad=True)
    out = fn(t, k, stride, padding)
    assert_close(out, want, rtol=0, atol=0, what=f"{impl}(kernel={k}, stride={stride}, "
                 f"padding={padding}) on {shape}")
    if impl == "max_pool2d_naive":
        return  # the loop version has no backward
    out.sum().backward()
    assert_close(t.grad, grad_map, rtol=0, atol=0,
                 what=f"{impl} gradient: 1 to the FIRST maximum of each window (ties go to one "
                      "pixel), summed over the overlapping windows a pixel wins")


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_avg_pool_every_option(case, count_include_pad, ceil_mode):
    shape, k, stride, padding = case
    x = np.random.default_rng(2).standard_normal(shape)
    want, _ = pool_ref(x, k, stride, padding, "avg", count_include_pad, ceil_mode)
    t = tt.tensor(x, requires_grad=True)
    out = F.avg_pool2d(t, k, stride, padding, ceil_mode=ceil_mode,
                       count_include_pad=count_include_pad)
    assert_close(out, want, rtol=1e-10, atol=1e-12,
                 what=f"avg_pool2d(kernel={k}, stride={stride}, padding={padding}, "
                      f"ceil_mode={ceil_mode}, count_include_pad={count_include_pad})")
    assert np.all(t.numpy() == x), "avg_pool2d must not write into its input"
    assert gradcheck(lambda z: F.avg_pool2d(z, k, stride, padding, ceil_mode=ceil_mode,
                                            count_include_pad=count_include_pad),
                     (tt.tensor(x[:1, :1], requires_grad=True),))


@pytest.mark.parametrize("shape, out_size", [((1, 2, 7, 5), (3, 2)), ((2, 1, 5, 9), (2, 4)),
                                             ((1, 1, 6, 4), (6, 1)), ((1, 1, 3, 8), 2)], ids=str)
def test_adaptive_avg_pool_non_square(shape, out_size):
    x = np.random.default_rng(3).standard_normal(shape)
    oh, ow = _pair(out_size)
    h, w = shape[2:]
    want = np.zeros(shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            ys = slice(i * h // oh, -(-(i + 1) * h // oh))
            xs = slice(j * w // ow, -(-(j + 1) * w // ow))
            want[:, :, i, j] = x[:, :, ys, xs].mean(axis=(2, 3))
    assert_close(F.adaptive_avg_pool2d(tt.tensor(x), out_size), want, rtol=1e-10,
                 what=f"adaptive_avg_pool2d({shape}, {out_size})")


# ---------------------------------------------------------------------------- batch norm

@pytest.mark.parametrize("momentum", [0.1, 0.7, None])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_train_then_eval_running_stats(momentum, affine):
    rng = np.random.default_rng(4)
    bn = nn.BatchNorm2d(3, eps=1e-3, momentum=momentum, affine=affine)
    if affine:
        bn.load_state_dict({**bn.state_dict(), "weight": np.array([0.5, 2.0, -1.0], np.float32),
                            "bias": np.array([0.1, -0.3, 1.0], np.float32)})
    gamma = np.array([0.5, 2.0, -1.0]) if affine else np.ones(3)
    beta = np.array([0.1, -0.3, 1.0]) if affine else np.zeros(3)
    rm, rv = np.zeros(3), np.ones(3)
    for step in range(1, 4):
        x = (rng.standard_normal((4, 3, 5, 2)) * (step + 1) + step).astype(np.float32)
        x64 = x.astype(np.float64)
        mean, var = x64.mean(axis=(0, 2, 3)), x64.var(axis=(0, 2, 3))
        count = x.size // 3
        want = ((x64 - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-3)
                * gamma[:, None, None] + beta[:, None, None])
        m = 1 / step if momentum is None else momentum  # None: the cumulative average
        rm = (1 - m) * rm + m * mean
        rv = (1 - m) * rv + m * var * count / (count - 1)  # the unbiased variance
        assert_close(bn(tt.tensor(x)), want, rtol=1e-4, atol=1e-4,
                     what=f"BatchNorm2d(eps=1e-3, momentum={momentum}) training output, step {step}")
        assert_close(bn.running_mean, rm, rtol=1e-5, atol=1e-6,
                     what=f"running_mean after {step} batches (momentum={momentum})")
        assert_close(bn.running_var, rv, rtol=1e-5, atol=1e-6,
                     what=f"running_var after {step} batches: the UNBIASED batch variance")
    bn.eval()
    x = rng.standard_normal((2, 3, 4, 3))
    t = tt.tensor(x.astype(np.float32), requires_grad=True)
    out = bn(t)
    want = (x - rm[:, None, None]) / np.sqrt(rv[:, None, None] + 1e-3) * gamma[:, None, None] \
        + beta[:, None, None]
    assert_close(out, want, rtol=1e-4, atol=1e-4, what="BatchNorm2d in eval mode: running stats")
    g = rng.standard_normal(out.shape)
    out.backward(tt.tensor(g.astype(np.float32)))
    assert_close(t.grad, g * (gamma / np.sqrt(rv + 1e-3))[:, None, None], rtol=1e-4, atol=1e-5,
                 what="eval-mode gradient: gamma / sqrt(running_var + eps), a constant per channel")
    assert_close(bn.running_mean, rm, rtol=1e-6, what="eval mode must not update running_mean")


@pytest.mark.parametrize("shape", [(3, 2, 4, 5), (1, 2, 3, 1), (5, 2, 1, 1)], ids=str)
def test_batch_norm_training_gradient(shape):
    rng = np.random.default_rng(5)
    x = tt.tensor(rng.standard_normal(shape), requires_grad=True)
    w = tt.tensor(rng.standard_normal(2) + 1, requires_grad=True)
    b = tt.tensor(rng.standard_normal(2), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True, eps=1e-3),
                     (x, w, b)), f"batch-norm gradient over (N, H, W) = {shape}"


# ------------------------------------------------------------------------------ dropout2d

@pytest.mark.parametrize("p", [0.0, 0.25, 0.5, 1.0])
@pytest.mark.parametrize("shape", [(4, 64, 3, 5), (64, 3, 5)], ids=["batched", "unbatched"])
def test_dropout2d_drops_whole_channels_for_every_p(p, shape):
    x = np.arange(1, int(np.prod(shape)) + 1, dtype=np.float32).reshape(shape)
    tt.manual_seed(6)
    out = nn.Dropout2d(p)(tt.tensor(x))
    y = out.numpy()
    assert out.shape == shape and out.dtype == tt.tensor(x).dtype
    assert np.all(np.isfinite(y)), f"Dropout2d(p={p}) gives nan/inf"
    kept = (y != 0).reshape(shape[:-2] + (-1,))
    assert np.all(kept.all(axis=-1) | ~kept.any(axis=-1)), \
        f"Dropout2d zeroes whole channels (every pixel of a channel, or none); input {shape}"
    if p == 1.0:
        assert not kept.any()
    else:
        assert_close(y[y != 0], x[y != 0] / (1 - p), rtol=1e-6, what="survivors scaled by 1/(1-p)")
        if 0 < p:
            frac = (~kept.any(axis=-1)).mean()
            assert abs(frac - p) < 0.2, f"Dropout2d(p={p}) dropped {frac:.2f} of the channels"
    layer = nn.Dropout2d(p)
    layer.eval()
    assert_close(layer(tt.tensor(x)), x, rtol=0, atol=0, what="Dropout2d in eval mode")
