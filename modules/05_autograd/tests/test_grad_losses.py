"""Module 05 graded tests: gradients of the losses (CrossEntropyFn, BCEFn and BCEWithLogitsFn
backward in ``core/losses.py``; mse, l1 and nll are compositions the engine differentiates).

    cross_entropy (mean over N rows)  dL/dx = (softmax(x) - onehot(t)) / N
    mse_loss (mean over n elements)   dL/dx = 2 (x - y) / n
    l1_loss                           dL/dx = sign(x - y) / n
    nll_loss(logp, t)                 dL/dlogp = -onehot(t) / N
    binary_cross_entropy(p, y)        dL/dp = (p - y) / (p (1 - p)) / n
    bce_with_logits(z, y)             dL/dz = (sigmoid(z) - y) / n
"""

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn.functional as F
from tinytorch.testing import assert_close

RNG = np.random.default_rng(0)
LOGITS = 2 * RNG.standard_normal((5, 4))
TARGET = np.array([0, 3, 1, 1, 2])


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def onehot(t, c):
    return np.eye(c)[t]


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def grad_of(loss_fn, x):
    t = tt.tensor(x, requires_grad=True)
    loss_fn(t).backward()
    return t.grad


# ------------------------------------------------------------------------ cross-entropy


def test_cross_entropy_worked_example():
    x = tt.tensor(np.array([[0.0, np.log(3.0)]]), requires_grad=True)  # softmax = [1/4, 3/4]
    F.cross_entropy(x, tt.tensor([1])).backward()
    assert_close(x.grad, [[0.25, -0.25]], what="d CE/dx = softmax - onehot = [1/4, 3/4 - 1]",
                 inputs={"x": x, "target": [1]})


def test_cross_entropy_mean_gradient():
    g = grad_of(lambda x: F.cross_entropy(x, tt.tensor(TARGET)), LOGITS)
    expected = (softmax(LOGITS) - onehot(TARGET, 4)) / 5
    assert_close(g, expected, rtol=1e-6, atol=1e-10, what="d cross_entropy(x, t)/dx (mean)",
                 inputs={"x": LOGITS, "t": TARGET})


def test_cross_entropy_sum_gradient():
    g = grad_of(lambda x: F.cross_entropy(x, tt.tensor(TARGET), reduction="sum"), LOGITS)
    assert_close(g, softmax(LOGITS) - onehot(TARGET, 4), rtol=1e-6, atol=1e-10,
                 what="d cross_entropy(x, t, reduction='sum')/dx",
                 inputs={"x": LOGITS, "t": TARGET})


def test_cross_entropy_none_gradient_takes_the_upstream_gradient():
    x = tt.tensor(LOGITS, requires_grad=True)
    per_row = F.cross_entropy(x, tt.tensor(TARGET), reduction="none")  # (5,)
    g = np.arange(1.0, 6.0)
    per_row.backward(tt.tensor(g))
    expected = g[:, None] * (softmax(LOGITS) - onehot(TARGET, 4))
    assert_close(x.grad, expected, rtol=1e-6, atol=1e-10,
                 what="d cross_entropy(x, t, reduction='none')/dx with G = [1..5]",
                 inputs={"x": LOGITS, "t": TARGET})


def test_cross_entropy_with_class_weights_ignore_index_and_smoothing():
    w = np.array([1.0, 2.0, 0.5, 1.5])
    t = np.array([0, 3, -100, 1, 2])  # row 2 is ignored
    g = grad_of(lambda x: F.cross_entropy(x, tt.tensor(t), weight=tt.tensor(w)), LOGITS)
    valid = t != -100
    wt = np.where(valid, w[np.where(valid, t, 0)], 0.0)
    expected = wt[:, None] * (softmax(LOGITS) - onehot(np.where(valid, t, 0), 4)) / wt.sum()
    assert_close(g, expected, rtol=1e-6, atol=1e-10,
                 what="d cross_entropy(x, t, weight=w, ignore_index=-100)/dx",
                 inputs={"x": LOGITS, "t": t, "w": w})
    eps = 0.1
    g = grad_of(lambda x: F.cross_entropy(x, tt.tensor(TARGET), label_smoothing=eps), LOGITS)
    soft = (1 - eps) * onehot(TARGET, 4) + eps / 4
    assert_close(g, (softmax(LOGITS) - soft) / 5, rtol=1e-6, atol=1e-10,
                 what="d cross_entropy(x, t, label_smoothing=0.1)/dx",
                 inputs={"x": LOGITS, "t": TARGET})


def test_cross_entropy_gradient_is_finite_for_huge_wrong_logits():
    x = np.array([[1000.0, -1000.0]])
    with np.errstate(all="ignore"):
        g = grad_of(lambda t: F.cross_entropy(t, tt.tensor([1])), x)
    assert_close(g, [[1.0, -1.0]], what="d CE/dx for a confidently wrong logit (no nan)",
                 inputs={"x": x, "target": [1]})


def test_cross_entropy_with_soft_targets_gives_the_target_a_gradient():
    probs = softmax(RNG.standard_normal((5, 4)))
    x = tt.tensor(LOGITS, requires_grad=True)
    p = tt.tensor(probs, requires_grad=True)
    F.cross_entropy(x, p).backward()
    logp = np.log(softmax(LOGITS))
    assert_close(x.grad, (softmax(LOGITS) - probs) / 5, rtol=1e-6, atol=1e-10,
                 what="d cross_entropy(x, probs)/dx", inputs={"x": LOGITS, "probs": probs})
    assert_close(p.grad, -logp / 5, rtol=1e-6,
                 what="d cross_entropy(x, probs)/d probs = -log p / N",
                 inputs={"x": LOGITS, "probs": probs})


# ------------------------------------------------------------------------ regression losses


def test_mse_gradient_for_input_and_target():
    x, y = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    tx, ty = tt.tensor(x, requires_grad=True), tt.tensor(y, requires_grad=True)
    F.mse_loss(tx, ty).backward()
    assert_close(tx.grad, 2 * (x - y) / 12, rtol=1e-7, what="d mse(x, y)/dx = 2 (x - y) / n",
                 inputs={"x": x, "y": y})
    assert_close(ty.grad, -2 * (x - y) / 12, rtol=1e-7, what="d mse(x, y)/dy",
                 inputs={"x": x, "y": y})


def test_mse_worked_example():
    x = tt.tensor(np.array([1.0, 2.0]), requires_grad=True)
    F.mse_loss(x, tt.tensor(np.array([0.0, 4.0]))).backward()  # ((1)^2 + (-2)^2) / 2
    assert_close(x.grad, [1.0, -2.0], what="d mse([1, 2], [0, 4])/dx = 2 (x - y) / 2",
                 inputs={"x": x})


def test_l1_and_nll_gradients():
    x, y = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    g = grad_of(lambda t: F.l1_loss(t, tt.tensor(y), reduction="sum"), x)
    assert_close(g, np.sign(x - y), what="d l1(x, y, 'sum')/dx = sign(x - y)",
                 inputs={"x": x, "y": y})
    logp = np.log(softmax(LOGITS))
    g = grad_of(lambda t: F.nll_loss(t, tt.tensor(TARGET)), logp)
    assert_close(g, -onehot(TARGET, 4) / 5, what="d nll(logp, t)/d logp = -onehot / N",
                 inputs={"logp": logp, "t": TARGET})


# ------------------------------------------------------------------------ binary cross-entropy


def test_binary_cross_entropy_gradients():
    p = np.array([[0.1, 0.6], [0.9, 0.35]])
    y = np.array([[0.0, 1.0], [1.0, 0.2]])
    tp, ty = tt.tensor(p, requires_grad=True), tt.tensor(y, requires_grad=True)
    F.binary_cross_entropy(tp, ty).backward()
    assert_close(tp.grad, (p - y) / (p * (1 - p)) / 4, rtol=1e-7,
                 what="d bce(p, y)/dp = (p - y) / (p (1 - p)) / n", inputs={"p": p, "y": y})
    assert_close(ty.grad, (np.log(1 - p) - np.log(p)) / 4, rtol=1e-7,
                 what="d bce(p, y)/dy = (log(1 - p) - log p) / n", inputs={"p": p, "y": y})


def test_bce_with_logits_gradients():
    z = np.array([[-3.0, 0.5], [20.0, -0.25]])
    y = np.array([[0.0, 1.0], [1.0, 0.3]])
    tz, ty = tt.tensor(z, requires_grad=True), tt.tensor(y, requires_grad=True)
    F.binary_cross_entropy_with_logits(tz, ty).backward()
    assert_close(tz.grad, (sigmoid(z) - y) / 4, rtol=1e-7,
                 what="d bce_with_logits(z, y)/dz = (sigmoid(z) - y) / n", inputs={"z": z, "y": y})
    assert_close(ty.grad, -z / 4, rtol=1e-7, what="d bce_with_logits(z, y)/dy = -z / n",
                 inputs={"z": z, "y": y})


def test_bce_with_logits_pos_weight_gradient():
    z = np.array([[-3.0, 0.5], [2.0, -0.25]])
    y = np.array([[0.0, 1.0], [1.0, 0.3]])
    pw = np.array([2.0, 0.5])
    g = grad_of(lambda t: F.binary_cross_entropy_with_logits(t, tt.tensor(y),
                                                             pos_weight=tt.tensor(pw)), z)
    s = sigmoid(z)
    assert_close(g, ((1 - y) * s - pw * y * (1 - s)) / 4, rtol=1e-7,
                 what="d bce_with_logits(z, y, pos_weight)/dz = ((1-y) s - pw y (1-s)) / n",
                 inputs={"z": z, "y": y, "pos_weight": pw})


def test_bce_with_logits_gradient_is_finite_at_huge_logits():
    z = np.array([1000.0, -1000.0])
    with np.errstate(all="ignore"):
        g = grad_of(lambda t: F.binary_cross_entropy_with_logits(t, tt.tensor([0.0, 1.0])), z)
    assert_close(g, [0.5, -0.5], what="d bce_with_logits/dz at z = +-1000, both wrong",
                 inputs={"z": z})


@pytest.mark.parametrize("name, fn, x", [
    ("cross_entropy", lambda t: F.cross_entropy(t, tt.tensor(TARGET)), LOGITS),
    ("cross_entropy(3-d)", lambda t: F.cross_entropy(t, tt.tensor(np.array([[0, 2], [1, 1]]))),
     RNG.standard_normal((2, 3, 2))),
    ("mse_loss", lambda t: F.mse_loss(t, tt.tensor(np.ones((5, 4)))), LOGITS),
    ("nll_loss", lambda t: F.nll_loss(t, tt.tensor(TARGET)), LOGITS),
    ("bce", lambda t: F.binary_cross_entropy(t, tt.tensor(np.full((2, 3), 0.3))),
     np.array([[0.2, 0.5, 0.7], [0.9, 0.4, 0.1]])),
    ("bce_with_logits",
     lambda t: F.binary_cross_entropy_with_logits(t, tt.tensor(np.full((5, 4), 0.6))), LOGITS),
])
def test_gradcheck_losses(name, fn, x):
    assert tt.autograd.gradcheck(fn, [tt.tensor(x, requires_grad=True)])
