"""Module 04 graded tests: loss VALUES of MSE, L1, cross-entropy, NLL, BCE, BCE with logits.

Expected values are computed with NumPy in each test (the stable formulas, written out).
No backward() and no optimizers here: gradients of losses are module 05's.
"""

import numpy as np

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.testing import assert_close


def _log_softmax(x, axis=-1):
    """NumPy reference: log(softmax(x)) with the max shift, so large logits are fine."""
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _softplus(u):
    """log(1 + exp(u)) without overflow."""
    return np.maximum(u, 0) + np.log1p(np.exp(-np.abs(u)))


# --------------------------------------------------------------------------- regression


def test_mse_loss_values():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    y = rng.standard_normal((4, 3)).astype(np.float32)
    sq = (x - y) ** 2
    inputs = {"input": x, "target": y}
    assert_close(F.mse_loss(tt.tensor(x), tt.tensor(y)), sq.mean(), rtol=1e-5,
                 what="mse_loss(x, y)", inputs=inputs)
    assert_close(F.mse_loss(tt.tensor(x), tt.tensor(y), reduction="sum"), sq.sum(), rtol=1e-5,
                 what="mse_loss(x, y, reduction='sum')", inputs=inputs)
    assert_close(F.mse_loss(tt.tensor(x), tt.tensor(y), reduction="none"), sq, rtol=1e-5,
                 what="mse_loss(x, y, reduction='none')", inputs=inputs)
    assert_close(nn.MSELoss()(tt.tensor(x), tt.tensor(y)), sq.mean(), rtol=1e-5,
                 what="nn.MSELoss()(x, y)", inputs=inputs)


def test_mse_worked_example():
    # errors 1, -2, 0 -> squares 1, 4, 0 -> mean 5/3
    assert_close(F.mse_loss(tt.tensor([1.0, 0.0, 3.0]), tt.tensor([0.0, 2.0, 3.0])), 5 / 3,
                 what="mse_loss([1, 0, 3], [0, 2, 3])")


def test_l1_loss_values():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 2)).astype(np.float32)
    y = rng.standard_normal((5, 2)).astype(np.float32)
    ab = np.abs(x - y)
    inputs = {"input": x, "target": y}
    assert_close(F.l1_loss(tt.tensor(x), tt.tensor(y)), ab.mean(), rtol=1e-5,
                 what="l1_loss(x, y)", inputs=inputs)
    assert_close(nn.L1Loss(reduction="sum")(tt.tensor(x), tt.tensor(y)), ab.sum(), rtol=1e-5,
                 what="nn.L1Loss(reduction='sum')(x, y)", inputs=inputs)
    assert_close(F.l1_loss(tt.tensor(x), tt.tensor(y), reduction="none"), ab, rtol=1e-5,
                 what="l1_loss(x, y, reduction='none')", inputs=inputs)


# --------------------------------------------------------------------------- cross-entropy


def test_cross_entropy_worked_example():
    logits = np.array([[2.0, 1.0, 0.1]], dtype=np.float32)
    # -log softmax(x)[0] = log(e^2 + e^1 + e^0.1) - 2
    expected = np.log(np.exp(2.0) + np.exp(1.0) + np.exp(0.1)) - 2.0
    assert_close(F.cross_entropy(tt.tensor(logits), tt.tensor([0])), expected, rtol=1e-5,
                 what="cross_entropy([[2, 1, 0.1]], [0])", inputs={"logits": logits})


def test_cross_entropy_reductions():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 4)).astype(np.float32) * 3
    t = rng.integers(0, 4, 6)
    per_sample = -_log_softmax(x)[np.arange(6), t]
    inputs = {"logits": x, "target": t}
    assert_close(F.cross_entropy(tt.tensor(x), tt.tensor(t)), per_sample.mean(), rtol=1e-5,
                 what="cross_entropy(x, t)", inputs=inputs)
    assert_close(F.cross_entropy(tt.tensor(x), tt.tensor(t), reduction="sum"), per_sample.sum(),
                 rtol=1e-5, what="cross_entropy(x, t, reduction='sum')", inputs=inputs)
    assert_close(F.cross_entropy(tt.tensor(x), tt.tensor(t), reduction="none"), per_sample,
                 rtol=1e-5, what="cross_entropy(x, t, reduction='none')", inputs=inputs)
    assert_close(nn.CrossEntropyLoss()(tt.tensor(x), tt.tensor(t)), per_sample.mean(), rtol=1e-5,
                 what="nn.CrossEntropyLoss()(x, t)", inputs=inputs)


def test_cross_entropy_is_stable_on_huge_logits():
    x = np.array([[1e4, 0.0, -1e4], [0.0, 0.0, 0.0]], dtype=np.float32)
    t = np.array([1, 2])
    # row 0: log-sum-exp is 1e4 (the other terms vanish), loss = 1e4 - 0; row 1: log(3)
    expected = np.array([1e4, np.log(3.0)], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        got = F.cross_entropy(tt.tensor(x), tt.tensor(t), reduction="none")
    assert_close(got, expected, rtol=1e-5, what="cross_entropy on logits of +-1e4 (shift by the "
                 "row max before exp)", inputs={"logits": x, "target": t})


def test_cross_entropy_class_weights_and_ignore_index():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    t = np.array([0, 2, -100, 1, 2])
    w = np.array([1.0, 2.0, 0.5], dtype=np.float32)
    valid = t != -100
    tv = t[valid]
    nll = -_log_softmax(x)[valid][np.arange(valid.sum()), tv]
    # mean divides by the total weight of the samples that count, not by their number
    expected = (w[tv] * nll).sum() / w[tv].sum()
    assert_close(F.cross_entropy(tt.tensor(x), tt.tensor(t), weight=tt.tensor(w)), expected,
                 rtol=1e-5, what="cross_entropy with weight and an ignored sample",
                 inputs={"logits": x, "target": t, "weight": w})
    per_sample = np.zeros(5, dtype=np.float32)
    per_sample[valid] = nll
    assert_close(F.cross_entropy(tt.tensor(x), tt.tensor(t), reduction="none"), per_sample,
                 rtol=1e-5, what="cross_entropy(..., reduction='none'): ignored samples give 0",
                 inputs={"logits": x, "target": t})


def test_cross_entropy_label_smoothing():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    t = rng.integers(0, 5, 4)
    eps = 0.1
    logp = _log_softmax(x)
    # the target becomes (1 - eps) * onehot + eps / C on every class
    q = np.full((4, 5), eps / 5)
    q[np.arange(4), t] += 1 - eps
    expected = -(q * logp).sum(axis=1).mean()
    assert_close(nn.CrossEntropyLoss(label_smoothing=eps)(tt.tensor(x), tt.tensor(t)), expected,
                 rtol=1e-5, what="CrossEntropyLoss(label_smoothing=0.1)",
                 inputs={"logits": x, "target": t})


def test_cross_entropy_per_position_and_probability_targets():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)  # (N, C, positions)
    t = rng.integers(0, 3, (2, 4))
    logp = _log_softmax(x, axis=1)
    per = -np.take_along_axis(logp, t[:, None, :], axis=1)[:, 0, :]  # (N, positions)
    assert_close(F.cross_entropy(tt.tensor(x), tt.tensor(t), reduction="none"), per, rtol=1e-5,
                 what="cross_entropy on (N, C, L) logits", inputs={"logits": x, "target": t})
    p = np.exp(_log_softmax(rng.standard_normal((3, 4)))).astype(np.float32)  # soft labels
    z = rng.standard_normal((3, 4)).astype(np.float32)
    expected = -(p * _log_softmax(z)).sum(axis=1).mean()
    assert_close(F.cross_entropy(tt.tensor(z), tt.tensor(p)), expected, rtol=1e-5,
                 what="cross_entropy with class-probability targets",
                 inputs={"logits": z, "target": p})


# --------------------------------------------------------------------------- nll


def test_nll_loss_picks_the_target_log_probability():
    logp = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], dtype=np.float32))
    t = np.array([0, 2])
    expected = -(np.log(0.7) + np.log(0.8)) / 2
    assert_close(F.nll_loss(tt.tensor(logp), tt.tensor(t)), expected, rtol=1e-5,
                 what="nll_loss(log p, t)", inputs={"log_probs": logp, "target": t})
    w = np.array([2.0, 1.0, 1.0], dtype=np.float32)
    expected_w = -(2 * np.log(0.7) + 1 * np.log(0.8)) / 3
    assert_close(nn.NLLLoss(weight=tt.tensor(w))(tt.tensor(logp), tt.tensor(t)), expected_w,
                 rtol=1e-5, what="NLLLoss(weight)(log p, t)", inputs={"log_probs": logp})


# --------------------------------------------------------------------------- binary


def test_binary_cross_entropy_values():
    p = np.array([0.9, 0.2, 0.6, 0.5], dtype=np.float32)
    y = np.array([1.0, 0.0, 0.0, 1.0], dtype=np.float32)
    per = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert_close(F.binary_cross_entropy(tt.tensor(p), tt.tensor(y)), per.mean(), rtol=1e-5,
                 what="binary_cross_entropy(p, y)", inputs={"p": p, "y": y})
    assert_close(nn.BCELoss(reduction="none")(tt.tensor(p), tt.tensor(y)), per, rtol=1e-5,
                 what="BCELoss(reduction='none')(p, y)", inputs={"p": p, "y": y})


def test_binary_cross_entropy_clamps_log_at_minus_100():
    p = np.array([0.0, 1.0, 0.0], dtype=np.float32)
    y = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    # log(0) = -inf is clamped to -100, as PyTorch does: a wrong certain answer costs 100
    with np.errstate(divide="raise", invalid="raise"):
        got = F.binary_cross_entropy(tt.tensor(p), tt.tensor(y), reduction="none")
    assert_close(got, [100.0, 100.0, 0.0], what="binary_cross_entropy at p = 0 and 1",
                 inputs={"p": p, "y": y})


def test_binary_cross_entropy_with_logits_values_and_stability():
    z = np.array([[3.0, -1.0], [0.0, 1e4], [-1e4, 2.0]], dtype=np.float32)
    y = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.5]], dtype=np.float32)
    # -[y log s(z) + (1 - y) log(1 - s(z))] = y softplus(-z) + (1 - y) softplus(z)
    per = y * _softplus(-z) + (1 - y) * _softplus(z)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        got = F.binary_cross_entropy_with_logits(tt.tensor(z), tt.tensor(y), reduction="none")
    assert_close(got, per, rtol=1e-5, what="binary_cross_entropy_with_logits (logits up to 1e4)",
                 inputs={"z": z, "y": y})
    pw = np.array([3.0, 0.5], dtype=np.float32)
    per_pw = pw * y * _softplus(-z) + (1 - y) * _softplus(z)
    assert_close(nn.BCEWithLogitsLoss(pos_weight=tt.tensor(pw))(tt.tensor(z), tt.tensor(y)),
                 per_pw.mean(), rtol=1e-5, what="BCEWithLogitsLoss(pos_weight)(z, y)",
                 inputs={"z": z, "y": y, "pos_weight": pw})


def test_loss_modules_keep_their_settings():
    crit = nn.CrossEntropyLoss(weight=tt.tensor([1.0, 2.0]), ignore_index=0, reduction="sum",
                               label_smoothing=0.2)
    assert crit.reduction == "sum" and crit.ignore_index == 0 and crit.label_smoothing == 0.2
    assert list(crit.state_dict()) == ["weight"]  # the class weights are saved with the model
    assert repr(crit) == "CrossEntropyLoss()"
    assert list(nn.MSELoss().state_dict()) == []
