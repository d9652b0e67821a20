"""Module 04 graded tests: every loss with every option combination, and at its edge values.

The oracle is PyTorch's definition written out in NumPy (float64), independently of the code:

    logp = x - logsumexp(x, axis=1)                       (log-softmax, shifted: stable)
    cross_entropy, class ids t, weight w, smoothing e, C classes, rows n not ignored:
        loss_n = (1 - e) * (-w[t_n] logp[n, t_n]) + e / C * (-sum_c w[c] logp[n, c])
        mean   = sum_n loss_n / sum_n w[t_n]             (the total weight, not the row count)
    cross_entropy, probability targets p:  loss_n = -sum_c w[c] ((1 - e) p[n, c] + e / C) logp[n, c]
        mean   = sum_n loss_n / N
    nll_loss:  loss_n = -w[t_n] x[n, t_n];  mean = sum / sum_n w[t_n];  (N, C, d...) -> (N, d...)
    binary_cross_entropy:  -w (y max(log p, -100) + (1 - y) max(log(1 - p), -100))
    binary_cross_entropy_with_logits:  -w (pw y log s(z) + (1 - y) log(1 - s(z))),
        log s(z) = -log(1 + e^-z), computed without overflow for |z| = 100 or more

Each option alone and combined (the smoothing term must be weighted too: for the issue's example
an unweighted smoothing term gives 1.6535 instead of 1.5398), every reduction, float32 and
float64, and the edges: probabilities exactly 0 and 1, logits of +-1000, every target ignored,
a single class, a single row, extreme magnitudes.
"""

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.testing import assert_close


def _log_softmax(x, axis=1):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def ce_oracle(x, t, weight=None, ignore_index=-100, reduction="mean", smoothing=0.0):
    x = np.asarray(x, np.float64)
    c = x.shape[1]
    w = np.ones(c) if weight is None else np.asarray(weight, np.float64)
    logp = _log_softmax(x)
    valid = t != ignore_index
    safe_t = np.where(valid, t, 0)
    wt = np.where(valid, w[safe_t], 0.0)
    nll = -wt * np.take_along_axis(logp, safe_t[:, None], axis=1)[:, 0]
    smooth = -(logp * w).sum(axis=1) * valid
    loss = (1 - smoothing) * nll + smoothing / c * smooth
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / wt.sum() if wt.sum() else np.nan


X = np.array([[1.0, 2.0, 0.5, -1.0], [0.3, -0.2, 2.5, 0.0], [-1.0, 0.0, 1.0, 3.0],
              [2.0, 2.0, -0.5, 0.1], [0.0, -3.0, 0.7, 1.2]])
T = np.array([1, 2, 3, 0, 2])
W = np.array([0.2, 1.0, 3.0, 0.5])


def test_issue_example_weighted_label_smoothing():
    """Class weights WITH label smoothing: the smoothing term is weighted by the classes too."""
    x = np.array([[2.0, 0.5, -1.0], [0.1, 1.5, 0.3]])
    t = np.array([0, 2])
    w = np.array([1.0, 3.0, 0.5])
    want = ce_oracle(x, t, weight=w, smoothing=0.3)
    got = F.cross_entropy(tt.tensor(x), tt.tensor(t), weight=tt.tensor(w), label_smoothing=0.3)
    assert_close(got, want, rtol=1e-6, what="cross_entropy(weight=w, label_smoothing=0.3)",
                 inputs={"x": x, "t": t, "w": w})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight", [None, W], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("smoothing", [0.0, 0.25, 1.0])
@pytest.mark.parametrize("ignore_index", [-100, 2, 0], ids=["none-ignored", "ignore2", "ignore0"])
def test_cross_entropy_every_option_combination(dtype, reduction, weight, smoothing, ignore_index):
    want = ce_oracle(X, T, weight, ignore_index, reduction, smoothing)
    got = F.cross_entropy(tt.tensor(X.astype(dtype)), tt.tensor(T),
                          weight=None if weight is None else tt.tensor(weight.astype(dtype)),
                          ignore_index=ignore_index, reduction=reduction,
                          label_smoothing=smoothing)
    assert got.dtype == tt.tensor(X.astype(dtype)).dtype, "the loss keeps the logits' dtype"
    assert_close(got, want, rtol=1e-5 if dtype == np.float32 else 1e-10, atol=1e-6,
                 what=f"cross_entropy(weight={weight is not None}, label_smoothing={smoothing}, "
                      f"ignore_index={ignore_index}, reduction={reduction!r})",
                 inputs={"x": X, "target": T})
    module = nn.CrossEntropyLoss(weight=None if weight is None else tt.tensor(weight.astype(dtype)),
                                 ignore_index=ignore_index, reduction=reduction,
                                 label_smoothing=smoothing)
    assert_close(module(tt.tensor(X.astype(dtype)), tt.tensor(T)), want,
                 rtol=1e-5 if dtype == np.float32 else 1e-10, atol=1e-6,
                 what="nn.CrossEntropyLoss with the same options")


@pytest.mark.parametrize("weight", [None, W], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("smoothing", [0.0, 0.4])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_probability_targets_every_option(weight, smoothing, reduction):
    p = np.abs(np.sin(np.arange(20.0).reshape(5, 4))) + 0.05
    p /= p.sum(axis=1, keepdims=True)
    w = np.ones(4) if weight is None else weight
    loss = -(w * ((1 - smoothing) * p + smoothing / 4) * _log_softmax(X)).sum(axis=1)
    want = {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]
    got = F.cross_entropy(tt.tensor(X), tt.tensor(p), reduction=reduction,
                          weight=None if weight is None else tt.tensor(weight),
                          label_smoothing=smoothing)
    assert_close(got, want, rtol=1e-10, what="cross_entropy with probability targets "
                 f"(weight={weight is not None}, smoothing={smoothing}, {reduction})")


def test_cross_entropy_per_position_with_options():
    """(N, C, L) logits with (N, L) targets: the same as moving C last, every option on."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 3))
    t = np.array([[0, 3, 2], [1, 2, 2]])
    flat_x, flat_t = x.transpose(0, 2, 1).reshape(-1, 4), t.reshape(-1)
    for reduction in ("mean", "sum"):
        want = ce_oracle(flat_x, flat_t, W, 2, reduction, 0.1)
        got = F.cross_entropy(tt.tensor(x), tt.tensor(t), weight=tt.tensor(W), ignore_index=2,
                              reduction=reduction, label_smoothing=0.1)
        assert_close(got, want, rtol=1e-10, what=f"per-position cross_entropy ({reduction})")
    got = F.cross_entropy(tt.tensor(x), tt.tensor(t), weight=tt.tensor(W), ignore_index=2,
                          reduction="none", label_smoothing=0.1)
    assert got.shape == (2, 3), f"reduction='none' keeps (N, L) = (2, 3), got {got.shape}"
    assert_close(got, ce_oracle(flat_x, flat_t, W, 2, "none", 0.1).reshape(2, 3), rtol=1e-10,
                 what="per-position cross_entropy, reduction='none'")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_edges(dtype):
    big = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]], dtype)
    got = F.cross_entropy(tt.tensor(big), tt.tensor([0, 2]), label_smoothing=0.1,
                          weight=tt.tensor(np.array([1.0, 2.0, 0.5], dtype)))
    assert_close(got, ce_oracle(big, np.array([0, 2]), [1.0, 2.0, 0.5], smoothing=0.1),
                 rtol=1e-5, what="cross_entropy on logits of +-1000 (shift before exp)")
    one_class = F.cross_entropy(tt.tensor(np.array([[3.0], [-2.0]], dtype)), tt.tensor([0, 0]))
    assert_close(one_class, 0.0, atol=1e-6, what="one class: log-softmax is 0, the loss 0")
    row = F.cross_entropy(tt.tensor(X[:1].astype(dtype)), tt.tensor(T[:1]), reduction="none")
    assert row.shape == (1,)
    for kwargs in ({}, {"weight": tt.tensor(W.astype(dtype))}, {"label_smoothing": 0.2}):
        all_ignored = F.cross_entropy(tt.tensor(X[:2].astype(dtype)), tt.tensor([-100, -100]),
                                      **kwargs)
        assert np.isnan(float(all_ignored.item())), \
            f"every target ignored, reduction='mean' ({kwargs}): 0 / 0 = nan, as PyTorch"
        total = F.cross_entropy(tt.tensor(X[:2].astype(dtype)), tt.tensor([-100, -100]),
                                reduction="sum", **kwargs)
        assert float(total.item()) == 0.0, f"every target ignored, reduction='sum': 0 ({kwargs})"


# --------------------------------------------------------------------------------- nll

@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight", [None, W], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("ignore_index", [-100, 3])
def test_nll_every_option(reduction, weight, ignore_index):
    logp = _log_softmax(X)
    want = ce_oracle(X, T, weight, ignore_index, reduction)  # nll of log-softmax is CE
    got = F.nll_loss(tt.tensor(logp), tt.tensor(T), reduction=reduction,
                     weight=None if weight is None else tt.tensor(weight),
                     ignore_index=ignore_index)
    assert_close(got, want, rtol=1e-10, what=f"nll_loss(weight={weight is not None}, "
                 f"ignore_index={ignore_index}, {reduction})")
    # on arbitrary scores (not log-probabilities) it is just -w[t] x[n, t]
    w = np.ones(4) if weight is None else weight
    valid = T != ignore_index
    raw = -np.where(valid, w[T] * X[np.arange(5), T], 0.0)
    want = {"none": raw, "sum": raw.sum(), "mean": raw.sum() / (w[T] * valid).sum()}[reduction]
    got = F.nll_loss(tt.tensor(X), tt.tensor(T), reduction=reduction,
                     weight=None if weight is None else tt.tensor(weight),
                     ignore_index=ignore_index)
    assert_close(got, want, rtol=1e-10, what="nll_loss on raw scores")


def test_nll_per_position_shape_and_all_ignored():
    x = np.random.default_rng(4).standard_normal((2, 4, 3, 2))
    t = np.array([[[0, 1], [2, 3], [3, 3]], [[1, 1], [0, 2], [2, 0]]])
    got = F.nll_loss(tt.tensor(x), tt.tensor(t), reduction="none")
    assert got.shape == (2, 3, 2), f"(N, C, d1, d2) input, reduction='none': (N, d1, d2), got {got.shape}"
    want = -np.take_along_axis(x, t[:, None], axis=1)[:, 0]
    assert_close(got, want, rtol=1e-12, what="nll_loss per position")
    assert np.isnan(float(F.nll_loss(tt.tensor(X[:2]), tt.tensor([-100, -100])).item())), \
        "nll_loss with every target ignored, reduction='mean': nan (0 / 0), as PyTorch"


# --------------------------------------------------------------------------------- BCE

def bce_oracle(p, y, w=None):
    p, y = np.asarray(p, np.float64), np.asarray(y, np.float64)
    with np.errstate(divide="ignore"):
        lp, l1p = np.maximum(np.log(p), -100), np.maximum(np.log(1 - p), -100)
    loss = -(y * lp + (1 - y) * l1p)
    return loss if w is None else loss * w


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight", [None, np.array([2.0, 0.5, 1.0])], ids=["", "weight"])
def test_bce_probabilities_exactly_0_and_1(dtype, reduction, weight):
    """p exactly 0 or 1: right answers cost 0, wrong ones 100 (log clamped at -100), never nan."""
    p = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.2], [0.0, 1.0, 1.0]], dtype)
    y = np.array([[0.0, 1.0, 1.0], [0.0, 1.0, 0.3], [1.0, 0.0, 1.0]], dtype)
    loss = bce_oracle(p, y, weight)
    want = {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]
    got = F.binary_cross_entropy(tt.tensor(p), tt.tensor(y), reduction=reduction,
                                 weight=None if weight is None else tt.tensor(weight.astype(dtype)))
    assert_close(got, want, rtol=1e-5, atol=1e-5,
                 what=f"binary_cross_entropy at p in {{0, 1}} ({reduction}, weight={weight is not None})",
                 inputs={"p": p, "y": y})


def bcewl_oracle(z, y, w=None, pw=None):
    z, y = np.asarray(z, np.float64), np.asarray(y, np.float64)
    log_s, log_1ms = -np.logaddexp(0, -z), -np.logaddexp(0, z)
    pos = y * log_s if pw is None else pw * y * log_s
    loss = -(pos + (1 - y) * log_1ms)
    return loss if w is None else loss * w


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight", [None, np.array([2.0, 0.5, 1.0])], ids=["", "weight"])
@pytest.mark.parametrize("pos_weight", [None, np.array([3.0, 0.25, 1.0])], ids=["", "pos_weight"])
def test_bce_with_logits_every_option_and_huge_logits(dtype, reduction, weight, pos_weight):
    z = np.array([[100.0, -100.0, 0.5], [-2.0, 1000.0, -1000.0], [0.0, 3.0, -0.7]], dtype)
    y = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 1.0], [0.0, 0.4, 1.0]], dtype)
    loss = bcewl_oracle(z, y, weight, pos_weight)
    want = {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]
    got = F.binary_cross_entropy_with_logits(
        tt.tensor(z), tt.tensor(y), reduction=reduction,
        weight=None if weight is None else tt.tensor(weight.astype(dtype)),
        pos_weight=None if pos_weight is None else tt.tensor(pos_weight.astype(dtype)))
    assert np.all(np.isfinite(got.numpy())), "logits of +-100 and +-1000 give a finite loss"
    assert_close(got, want, rtol=1e-5, atol=1e-5,
                 what=f"bce_with_logits(weight={weight is not None}, "
                      f"pos_weight={pos_weight is not None}, {reduction})",
                 inputs={"z": z, "y": y})


# ------------------------------------------------------------------------------ mse, l1

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_l1_and_mse_at_extreme_magnitudes(dtype, reduction):
    """|x - y| of 1e20 or 1e-30 in float32: exact, no square that overflows or underflows."""
    x = np.array([1e20, 1e-30, 0.0, -3.0, 2.0], dtype)
    y = np.array([0.0, 0.0, 0.0, 1.0, 2.0], dtype)
    diff = np.abs(x.astype(np.float64) - y)
    want = {"none": diff, "sum": diff.sum(), "mean": diff.mean()}[reduction]
    got = F.l1_loss(tt.tensor(x), tt.tensor(y), reduction=reduction)
    assert_close(got, want, rtol=1e-6, atol=0, what=f"l1_loss({reduction}) at 1e20 and 1e-30",
                 inputs={"x": x, "y": y})
    small = np.array([3e-3, -1e-3, 0.0], dtype)
    sq = small.astype(np.float64) ** 2
    want = {"none": sq, "sum": sq.sum(), "mean": sq.mean()}[reduction]
    assert_close(F.mse_loss(tt.tensor(small), tt.tensor(np.zeros(3, dtype)), reduction=reduction),
                 want, rtol=1e-6, atol=0, what=f"mse_loss({reduction})")
