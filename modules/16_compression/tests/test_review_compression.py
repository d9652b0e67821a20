"""Module 16, review tests (issue 13): two promises of the guide the first tests left open.

``importance_scores`` rank the entries instead of the weight's own magnitudes (per tensor,
structured and global), and ``prune.remove`` hands back the *same* Parameter object, so an
optimizer built before pruning keeps training the layer. NumPy oracles on planted weights.
"""

import numpy as np

import tinytorch as tt
import tinytorch.nn as nn
from tinytorch.nn.utils import prune


def _linear(weight):
    weight = np.asarray(weight, dtype=np.float32)
    lin = nn.Linear(weight.shape[1], weight.shape[0], bias=False)
    with tt.no_grad():
        lin.weight.copy_(tt.tensor(weight))
    return lin


W = np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]], np.float32)
S = np.array([[6.0, 5.0, 4.0], [3.0, 2.0, 1.0]], np.float32)  # the opposite order of |W|


def test_importance_scores_rank_the_entries_not_the_weights():
    lin = _linear(W)
    prune.l1_unstructured(lin, "weight", amount=2, importance_scores=tt.tensor(S))
    want = np.array([[1, 1, 1], [1, 0, 0]], np.float32)  # the two smallest *scores*
    np.testing.assert_array_equal(lin.weight_mask.numpy(), want)
    np.testing.assert_array_equal(lin.weight.numpy(), W * want)  # values still the weight's
    np.testing.assert_array_equal(lin.weight_orig.numpy(), W)
    # structured: rows ranked by the scores' norms (row 1 is the larger in |W|, smaller in S)
    lin = _linear(W)
    prune.ln_structured(lin, "weight", amount=1, n=2, dim=0, importance_scores=tt.tensor(S))
    np.testing.assert_array_equal(lin.weight_mask.numpy(), [[1, 1, 1], [0, 0, 0]])
    # global: the scores of both layers ranked together
    a, b = _linear(W), _linear(W * 10)
    prune.global_unstructured([(a, "weight"), (b, "weight")], pruning_method=prune.L1Unstructured,
                              importance_scores={(a, "weight"): tt.tensor(S * 10),
                                                 (b, "weight"): tt.tensor(S)}, amount=3)
    np.testing.assert_array_equal(a.weight_mask.numpy(), np.ones((2, 3)))
    np.testing.assert_array_equal(b.weight_mask.numpy(), [[1, 1, 1], [0, 0, 0]])


def test_remove_keeps_the_parameter_an_optimizer_holds():
    lin = _linear(W)
    original = lin.weight
    opt = tt.optim.SGD(lin.parameters(), lr=0.1)  # built before pruning: it holds `original`
    prune.l1_unstructured(lin, "weight", amount=3)
    prune.remove(lin, "weight")
    assert lin.weight is original
    np.testing.assert_array_equal(lin.weight.numpy(), W * (np.abs(W) > 3))
    x = tt.tensor(np.ones((1, 3), np.float32))
    opt.zero_grad()
    lin(x).sum().backward()
    opt.step()  # dL/dW = 1 everywhere: every entry moves by -0.1, the pruned zeros too
    np.testing.assert_allclose(lin.weight.numpy(), W * (np.abs(W) > 3) - 0.1, atol=1e-6)
