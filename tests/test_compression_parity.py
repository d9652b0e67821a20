"""Module 16 against PyTorch: ``tt.nn.utils.prune`` gives the masks, state_dict keys, forward,
gradients and ``remove()`` result of ``torch.nn.utils.prune`` for the same weights; the
distillation loss equals the ``KLDivLoss`` formulation; low-rank factors reproduce the SVD.

Weights are drawn continuous (no ties in magnitude or norm), where PyTorch's choice is
defined; on ties PyTorch's top-k order is its kernel's, ours is the lowest index first.
"""

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.utils.prune as prune
from tinytorch.optimization import compression, distillation, low_rank

torch = pytest.importorskip("torch")
tprune = pytest.importorskip("torch.nn.utils.prune")


def _pair(in_f=7, out_f=6, seed=0, bias=True):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((out_f, in_f)).astype(np.float32)
    b = rng.standard_normal(out_f).astype(np.float32)
    ours, theirs = nn.Linear(in_f, out_f, bias=bias), torch.nn.Linear(in_f, out_f, bias=bias)
    with tt.no_grad():
        ours.weight.copy_(tt.tensor(w))
        if bias:
            ours.bias.copy_(tt.tensor(b))
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(w))
        if bias:
            theirs.bias.copy_(torch.tensor(b))
    return ours, theirs


def _same_masks(ours, theirs, names=("weight",)):
    for n in names:
        np.testing.assert_array_equal(getattr(ours, n + "_mask").numpy(),
                                      getattr(theirs, n + "_mask").numpy(), err_msg=n)


@pytest.mark.parametrize("amounts", [(0.3,), (0.5, 0.5), (5, 0.4, 3), (0.0,), (42,)])
def test_l1_unstructured_masks_keys_forward_and_gradient(amounts):
    ours, theirs = _pair()
    for a in amounts:  # iterated pruning composes through a PruningContainer
        prune.l1_unstructured(ours, "weight", amount=a)
        tprune.l1_unstructured(theirs, "weight", amount=a)
        _same_masks(ours, theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == \
        ["bias", "weight_orig", "weight_mask"]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == ["weight_mask"]
    x = np.random.default_rng(1).standard_normal((3, 7)).astype(np.float32)
    y_ours, y_theirs = ours(tt.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(y_ours.numpy(), y_theirs.detach().numpy(), atol=1e-5)
    y_ours.sum().backward()
    y_theirs.sum().backward()
    np.testing.assert_allclose(ours.weight_orig.grad.numpy(), theirs.weight_orig.grad.numpy(),
                               atol=1e-5)
    assert np.all(ours.weight_orig.grad.numpy()[ours.weight_mask.numpy() == 0] == 0)


def test_mask_stays_applied_through_training_and_remove_matches():
    ours, theirs = _pair(seed=3)
    prune.l1_unstructured(ours, "weight", amount=0.6)
    tprune.l1_unstructured(theirs, "weight", amount=0.6)
    opt_o = tt.optim.SGD(ours.parameters(), lr=0.1)
    x = np.random.default_rng(2).standard_normal((5, 7)).astype(np.float32)
    for _ in range(3):
        opt_o.zero_grad()
        (ours(tt.tensor(x)) ** 2).sum().backward()
        opt_o.step()
        theirs.zero_grad()
        (theirs(torch.tensor(x)) ** 2).sum().backward()
        with torch.no_grad():  # plain SGD by hand: importing torch.optim costs seconds
            for p in theirs.parameters():
                p -= 0.1 * p.grad
    ours(tt.tensor(x))  # the pre-hook refreshes weight from the trained weight_orig
    theirs(torch.tensor(x))
    mask = ours.weight_mask.numpy()
    assert np.all(ours.weight.numpy()[mask == 0] == 0)
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), atol=1e-5)
    prune.remove(ours, "weight")
    tprune.remove(theirs, "weight")
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight"]
    assert isinstance(ours.weight, nn.Parameter) and not prune.is_pruned(ours)
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="has to be pruned"):
        prune.remove(ours, "weight")


def test_random_unstructured_prunes_the_same_count():
    for amount in (0.25, 0.5, 7):
        ours, theirs = _pair(seed=4)
        prune.random_unstructured(ours, "weight", amount=amount)
        tprune.random_unstructured(theirs, "weight", amount=amount)
        assert ours.weight_mask.numpy().sum() == theirs.weight_mask.numpy().sum()
        prune.random_unstructured(ours, "weight", amount=0.5)  # half of what is left
        tprune.random_unstructured(theirs, "weight", amount=0.5)
        assert ours.weight_mask.numpy().sum() == theirs.weight_mask.numpy().sum()


@pytest.mark.parametrize("steps", [[(0.34, 2, 0)], [(2, 1, 1)], [(0.5, float("inf"), -1)],
                                   [(0.34, 2, 0), (2, 1, 1), (0.5, 2, 0)]])
def test_ln_structured_masks(steps):
    ours, theirs = _pair(seed=5)
    for amount, n, dim in steps:
        prune.ln_structured(ours, "weight", amount=amount, n=n, dim=dim)
        tprune.ln_structured(theirs, "weight", amount=amount, n=n, dim=dim)
        _same_masks(ours, theirs)


def test_global_unstructured_masks_across_layers_and_iterated():
    ours = nn.Sequential(nn.Linear(7, 6), nn.ReLU(), nn.Linear(6, 4))
    theirs = torch.nn.Sequential(torch.nn.Linear(7, 6), torch.nn.ReLU(), torch.nn.Linear(6, 4))
    rng = np.random.default_rng(6)
    for (k, p) in ours.state_dict().items():
        v = rng.standard_normal(tuple(p.shape)).astype(np.float32) * (3.0 if k[0] == "2" else 1)
        with tt.no_grad():
            p.copy_(tt.tensor(v))
        with torch.no_grad():
            theirs.state_dict()[k].copy_(torch.tensor(v))
    pairs_o = [(ours[0], "weight"), (ours[0], "bias"), (ours[2], "weight")]
    pairs_t = [(theirs[0], "weight"), (theirs[0], "bias"), (theirs[2], "weight")]
    for amount in (0.5, 10):
        prune.global_unstructured(pairs_o, pruning_method=prune.L1Unstructured, amount=amount)
        tprune.global_unstructured(pairs_t, pruning_method=tprune.L1Unstructured, amount=amount)
        _same_masks(ours[0], theirs[0], ("weight", "bias"))
        _same_masks(ours[2], theirs[2])
    assert list(ours.state_dict()) == list(theirs.state_dict())
    with pytest.raises(TypeError, match="unstructured"):
        prune.global_unstructured(pairs_o, pruning_method=prune.LnStructured, amount=1, n=2,
                                  dim=0)


def test_amount_validation_matches_torch():
    for bad, err in ((1.5, ValueError), (-1, ValueError), ("half", TypeError)):
        with pytest.raises(err):
            prune.l1_unstructured(_pair()[0], "weight", amount=bad)
        with pytest.raises(err):
            tprune.l1_unstructured(_pair()[1], "weight", amount=bad)
    ours = _pair()[0]
    with pytest.raises(ValueError, match="smaller than"):
        prune.l1_unstructured(ours, "weight", amount=43)
    assert "weight" in ours._parameters and "weight_orig" not in ours._parameters  # rolled back


def test_pruned_state_dict_round_trips_into_torch():
    ours, theirs = _pair(seed=7)
    prune.l1_unstructured(ours, "weight", amount=0.5)
    tprune.identity(theirs, "weight")
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(8).standard_normal((2, 7)).astype(np.float32)
    np.testing.assert_allclose(ours(tt.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               atol=1e-5)


@pytest.mark.parametrize("temperature,alpha", [(1.0, 0.5), (4.0, 0.9), (2.5, 1.0)])
def test_distillation_loss_and_gradient_equal_kldivloss_formulation(temperature, alpha):
    rng = np.random.default_rng(9)
    s, t = (rng.standard_normal((8, 10)).astype(np.float32) * 3 for _ in range(2))
    y = rng.integers(0, 10, size=8)
    s_o = tt.tensor(s, requires_grad=True)
    loss_o = distillation.distillation_loss(s_o, tt.tensor(t), tt.tensor(y), temperature, alpha)
    s_t = torch.tensor(s, requires_grad=True)
    T = temperature
    kl = torch.nn.KLDivLoss(reduction="batchmean")(torch.log_softmax(s_t / T, dim=1),
                                                    torch.softmax(torch.tensor(t) / T, dim=1))
    loss_t = alpha * kl * T * T + (1 - alpha) * torch.nn.functional.cross_entropy(
        s_t, torch.tensor(y))
    np.testing.assert_allclose(loss_o.item(), loss_t.item(), rtol=1e-5)
    loss_o.backward()
    loss_t.backward()
    np.testing.assert_allclose(s_o.grad.numpy(), s_t.grad.numpy(), atol=1e-6)


def test_low_rank_factors_match_torch_svd():
    rng = np.random.default_rng(10)
    lin = nn.Linear(12, 9)
    w = rng.standard_normal((9, 12)).astype(np.float32)
    with tt.no_grad():
        lin.weight.copy_(tt.tensor(w))
    seq = low_rank.low_rank_linear(lin, rank=4)
    u, s, vh = torch.linalg.svd(torch.tensor(w, dtype=torch.float64), full_matrices=False)
    best = (u[:, :4] * s[:4]) @ vh[:4]
    np.testing.assert_allclose(seq[1].weight.numpy() @ seq[0].weight.numpy(), best.numpy(),
                               atol=1e-5)


def test_sparse_checkpoint_loads_into_torch():
    ours, theirs = _pair(in_f=40, out_f=30, seed=11)
    prune.l1_unstructured(ours, "weight", amount=0.9)
    state = compression.effective_state_dict(ours)
    assert list(state) == ["bias", "weight"]
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in state.items()})
    x = np.random.default_rng(12).standard_normal((2, 40)).astype(np.float32)
    np.testing.assert_allclose(ours(tt.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               atol=1e-5)


def test_importance_scores_custom_mask_and_random_structured_match_torch():
    ours, theirs = _pair(seed=13)
    scores = np.random.default_rng(14).random((6, 7)).astype(np.float32)
    prune.l1_unstructured(ours, "weight", amount=0.4, importance_scores=tt.tensor(scores))
    tprune.l1_unstructured(theirs, "weight", amount=0.4, importance_scores=torch.tensor(scores))
    _same_masks(ours, theirs)
    mask = (np.arange(42).reshape(6, 7) % 3 != 0).astype(np.float32)
    prune.custom_from_mask(ours, "weight", mask=tt.tensor(mask))
    tprune.custom_from_mask(theirs, "weight", mask=torch.tensor(mask))
    _same_masks(ours, theirs)
    ours, theirs = _pair(seed=15)
    prune.random_structured(ours, "weight", amount=2, dim=0)
    tprune.random_structured(theirs, "weight", amount=2, dim=0)
    rows_o = (ours.weight_mask.numpy().sum(axis=1) == 0).sum()
    rows_t = (theirs.weight_mask.numpy().sum(axis=1) == 0).sum()
    assert rows_o == rows_t == 2


def test_conv2d_structured_then_unstructured_matches_torch():
    w = np.random.default_rng(16).standard_normal((4, 3, 3, 3)).astype(np.float32)
    ours, theirs = nn.Conv2d(3, 4, 3), torch.nn.Conv2d(3, 4, 3)
    with tt.no_grad():
        ours.weight.copy_(tt.tensor(w))
        ours.bias.copy_(tt.zeros(4))
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(w))
        theirs.bias.zero_()
    prune.ln_structured(ours, "weight", amount=0.5, n=2, dim=0)  # two whole filters
    tprune.ln_structured(theirs, "weight", amount=0.5, n=2, dim=0)
    prune.l1_unstructured(ours, "weight", amount=0.3)
    tprune.l1_unstructured(theirs, "weight", amount=0.3)
    _same_masks(ours, theirs)
    x = np.random.default_rng(17).standard_normal((2, 3, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(ours(tt.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               atol=1e-5)
