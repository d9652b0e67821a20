"""Module 16 graded tests: pruning masks, the pre-hook, sparsity, sparse files, SVD, distillation.

Every expected value comes from a plain NumPy oracle on a *planted* model: weights whose
magnitudes, norms or singular values we chose, so the right mask, sparsity and factorization
are known exactly. Nothing here imports PyTorch; parity with ``torch.nn.utils.prune`` lives in
the framework's tests/test_compression_parity.py.
"""

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
from tinytorch.nn.utils import prune
from tinytorch.optimization import compression, distillation, low_rank


def _linear(weight, bias=None):
    """A Linear holding exactly these weights (out, in)."""
    weight = np.asarray(weight, dtype=np.float32)
    lin = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
    with tt.no_grad():
        lin.weight.copy_(tt.tensor(weight))
        if bias is not None:
            lin.bias.copy_(tt.tensor(np.asarray(bias, dtype=np.float32)))
    return lin


def _planted(seed=0, shape=(4, 5)):
    """Distinct magnitudes 1..n in a shuffled order, with random signs."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    mags = rng.permutation(np.arange(1, n + 1)).astype(np.float32)
    return (mags * rng.choice([-1.0, 1.0], size=n)).reshape(shape).astype(np.float32)


def _oracle_l1(w, k):
    """Mask with the k smallest |w| zeroed."""
    mask = np.ones(w.size, dtype=np.float32)
    mask[np.argsort(np.abs(w).reshape(-1), kind="stable")[:k]] = 0
    return mask.reshape(w.shape)


# --------------------------------------------------------------------------- magnitude masks


@pytest.mark.parametrize("amount,k", [(0.3, 6), (7, 7), (0.35, 7), (0.0, 0), (1.0, 20)])
def test_l1_unstructured_zeroes_the_smallest_magnitudes(amount, k):
    w = _planted()
    lin = _linear(w, bias=np.zeros(4))
    prune.l1_unstructured(lin, "weight", amount=amount)
    np.testing.assert_array_equal(lin.weight_mask.numpy(), _oracle_l1(w, k))
    np.testing.assert_array_equal(lin.weight.numpy(), w * _oracle_l1(w, k))


def test_amount_rounds_half_to_even_like_python_round():
    w = _planted(shape=(2, 5))  # 10 entries: 0.25 -> 2.5 -> 2, 0.35 -> 3.5 -> 4
    for amount, k in ((0.25, 2), (0.35, 4), (0.05, 0)):
        lin = _linear(w)
        prune.l1_unstructured(lin, "weight", amount=amount)
        assert int((lin.weight_mask.numpy() == 0).sum()) == k, amount


def test_ties_prune_the_lowest_index_first():
    lin = _linear(np.array([[1.0, -1.0, 1.0, 2.0, 1.0]]))
    prune.l1_unstructured(lin, "weight", amount=2)
    np.testing.assert_array_equal(lin.weight_mask.numpy(), [[0, 0, 1, 1, 1]])


def test_bad_amounts_are_refused_and_the_layer_is_left_unpruned():
    for bad, err in ((1.5, ValueError), (-2, ValueError), ("0.5", TypeError), (21, ValueError)):
        lin = _linear(_planted())
        with pytest.raises(err):
            prune.l1_unstructured(lin, "weight", amount=bad)
        assert isinstance(lin.weight, nn.Parameter) and "weight_orig" not in dict(
            lin.named_parameters())


# --------------------------------------------------------------------------- the mechanism


def test_reparameterization_orig_parameter_mask_buffer_and_state_dict_keys():
    w = _planted(1)
    lin = _linear(w, bias=np.arange(4))
    original = lin.weight
    prune.l1_unstructured(lin, "weight", amount=0.5)
    assert lin.weight_orig is original  # the same Parameter: an optimizer keeps training it
    assert [n for n, _ in lin.named_parameters()] == ["bias", "weight_orig"]
    assert [n for n, _ in lin.named_buffers()] == ["weight_mask"]
    assert list(lin.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    assert not isinstance(lin.weight, nn.Parameter)
    np.testing.assert_array_equal(lin.weight_orig.numpy(), w)  # the original is kept whole
    assert prune.is_pruned(nn.Sequential(nn.ReLU(), lin)) and not prune.is_pruned(nn.ReLU())


def test_pre_hook_recomputes_the_weight_before_every_forward():
    w = _planted(2)
    lin = _linear(w, bias=np.ones(4))
    prune.l1_unstructured(lin, "weight", amount=0.5)
    mask = _oracle_l1(w, 10)
    new = np.full_like(w, 3.0)
    with tt.no_grad():
        lin.weight_orig.copy_(tt.tensor(new))  # what an optimizer step does
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    y = lin(tt.tensor(x)).numpy()
    np.testing.assert_allclose(y, x @ (new * mask).T + 1.0, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(lin.weight.numpy(), new * mask)


def test_gradient_reaches_weight_orig_through_the_mask():
    w = _planted(3)
    lin = _linear(w, bias=np.zeros(4))
    prune.l1_unstructured(lin, "weight", amount=0.6)
    mask = lin.weight_mask.numpy()
    x = np.random.default_rng(1).standard_normal((6, 5)).astype(np.float32)
    lin(tt.tensor(x)).sum().backward()
    expected = np.ones((6, 4), np.float32).T @ x * mask  # dL/dW = dY^T X, times the mask
    np.testing.assert_allclose(lin.weight_orig.grad.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_pruned_entries_stay_zero_through_training():
    rng = np.random.default_rng(2)
    model = nn.Sequential(_linear(rng.standard_normal((8, 5)), np.zeros(8)), nn.ReLU(),
                          _linear(rng.standard_normal((3, 8)), np.zeros(3)))
    for layer in (model[0], model[2]):
        prune.l1_unstructured(layer, "weight", amount=0.5)
    masks = [model[0].weight_mask.numpy().copy(), model[2].weight_mask.numpy().copy()]
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = tt.tensor(rng.standard_normal((16, 5)).astype(np.float32)), tt.tensor(
        rng.integers(0, 3, 16))
    before = model[0].weight_orig.numpy().copy()
    for _ in range(4):
        opt.zero_grad()
        nn.CrossEntropyLoss()(model(x), y).backward()
        opt.step()
    model(x)
    assert not np.array_equal(model[0].weight_orig.numpy(), before)  # it did train
    for layer, mask in zip((model[0], model[2]), masks):
        np.testing.assert_array_equal(layer.weight_mask.numpy(), mask)
        assert np.all(layer.weight.numpy()[mask == 0] == 0)


def test_second_prune_acts_on_the_survivors():
    w = _planted(4)
    lin = _linear(w)
    prune.l1_unstructured(lin, "weight", amount=0.5)  # 10 of 20
    prune.l1_unstructured(lin, "weight", amount=0.5)  # 5 of the 10 left
    np.testing.assert_array_equal(lin.weight_mask.numpy(), _oracle_l1(w, 15))
    prune.l1_unstructured(lin, "weight", amount=2)  # 2 more
    np.testing.assert_array_equal(lin.weight_mask.numpy(), _oracle_l1(w, 17))
    assert list(lin.state_dict()) == ["weight_orig", "weight_mask"]


def test_remove_makes_the_pruning_permanent():
    w = _planted(5)
    lin = _linear(w, bias=np.zeros(4))
    prune.l1_unstructured(lin, "weight", amount=0.25)
    prune.remove(lin, "weight")
    assert isinstance(lin.weight, nn.Parameter)
    assert list(lin.state_dict()) == ["bias", "weight"]
    np.testing.assert_array_equal(lin.weight.numpy(), w * _oracle_l1(w, 5))
    assert not prune.is_pruned(lin)
    with pytest.raises(ValueError):
        prune.remove(lin, "weight")


# --------------------------------------------------------------------------- other methods


def test_random_unstructured_prunes_exactly_amount_entries_then_of_the_rest():
    tt.manual_seed(0)
    lin = _linear(_planted(6, (10, 10)))
    prune.random_unstructured(lin, "weight", amount=0.3)
    assert int((lin.weight_mask.numpy() == 0).sum()) == 30
    first = lin.weight_mask.numpy().copy()
    prune.random_unstructured(lin, "weight", amount=0.5)
    mask = lin.weight_mask.numpy()
    assert int((mask == 0).sum()) == 65 and np.all(mask[first == 0] == 0)


def test_ln_structured_removes_whole_rows_or_columns_by_norm():
    # rows with L2 norms 5, 1, 3, 2: amount 0.5 of 4 rows (dim 0) drops rows 1 and 3
    w = np.array([[3.0, 4.0, 0.0], [1.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 2.0]])
    lin = _linear(w)
    prune.ln_structured(lin, "weight", amount=0.5, n=2, dim=0)
    np.testing.assert_array_equal(lin.weight_mask.numpy(), [[1] * 3, [0] * 3, [1] * 3, [0] * 3])
    # columns (dim 1) whose ranking depends on n:  col 0 = (1, -1), col 1 = (5, 5), col 2 =
    # (1.8, 0) -- L1: 2, 10, 1.8 (col 2 smallest); L2 and L-inf: 1.41 / 1 smallest for col 0
    v = np.array([[1.0, 5.0, 1.8], [-1.0, 5.0, 0.0]])
    for n, dropped in ((1, 2), (2, 0), (float("inf"), 0)):
        lin = _linear(v)
        prune.ln_structured(lin, "weight", amount=1, n=n, dim=1)
        expected = np.ones_like(v)
        expected[:, dropped] = 0
        np.testing.assert_array_equal(lin.weight_mask.numpy(), expected, err_msg=f"n={n}")
    # dim=-1 is the last axis; a 1-D tensor has no channels
    lin = _linear(v)
    prune.ln_structured(lin, "weight", amount=1, n=1, dim=-1)
    assert lin.weight_mask.numpy()[:, 2].sum() == 0
    with pytest.raises(ValueError):
        prune.ln_structured(_linear(v, bias=np.ones(2)), "bias", amount=1, n=1, dim=0)


def test_ln_structured_second_prune_skips_channels_already_gone():
    w = np.diag([4.0, 3.0, 2.0, 1.0]) + 0.0  # row norms 4, 3, 2, 1
    lin = _linear(w)
    prune.ln_structured(lin, "weight", amount=1, n=2, dim=0)  # row 3 goes
    prune.ln_structured(lin, "weight", amount=0.5, n=2, dim=0)  # half of the 3 left: 2 -> rows 2, 1
    np.testing.assert_array_equal(lin.weight_mask.numpy().sum(axis=1), [4, 0, 0, 0])


def test_global_unstructured_prunes_the_smallest_across_layers():
    small = _planted(7, (3, 4)) * 0.01  # every |w| of layer 1 is below every |w| of layer 2
    big = _planted(8, (2, 3))
    model = nn.Sequential(_linear(small), nn.ReLU(), _linear(big))
    prune.global_unstructured(compression.prunable(model), pruning_method=prune.L1Unstructured,
                              amount=14)
    assert int((model[0].weight_mask.numpy() == 0).sum()) == 12  # all of the small layer
    np.testing.assert_array_equal(model[2].weight_mask.numpy(), _oracle_l1(big, 2))
    # again: 0.5 of the 4 entries still alive, all in layer 2
    prune.global_unstructured(compression.prunable(model), pruning_method=prune.L1Unstructured,
                              amount=0.5)
    np.testing.assert_array_equal(model[2].weight_mask.numpy(), _oracle_l1(big, 4))


# --------------------------------------------------------------------------- measuring


def test_sparsity_report_counts_the_zeros_in_use_exactly():
    model = nn.Sequential(_linear(_planted(9, (4, 5)), np.array([0.0, 1.0, 0.0, 2.0])),
                          nn.ReLU(), _linear(_planted(10, (3, 4)), np.ones(3)))
    prune.l1_unstructured(model[0], "weight", amount=15)
    report = compression.sparsity_report(model)
    assert [r["name"] for r in report.rows] == ["0.bias", "0.weight", "2.weight", "2.bias"] or \
        {r["name"] for r in report.rows} == {"0.bias", "0.weight", "2.weight", "2.bias"}
    assert report["0.weight"]["zeros"] == 15 and report["0.weight"]["total"] == 20
    assert report["0.bias"]["zeros"] == 2 and report["2.weight"]["zeros"] == 0
    assert report.zeros == 17 and report.total == 20 + 4 + 12 + 3
    assert report.global_sparsity == pytest.approx(17 / 39)
    weights = compression.sparsity_report(model, weights_only=True)
    assert weights.global_sparsity == pytest.approx(15 / 32)
    assert compression.sparsity(tt.tensor([0.0, 1.0, 0.0, 0.0])) == 0.75
    assert compression.nonzero_parameters(model) == 39 - 17


def test_effective_state_dict_folds_orig_and_mask():
    w = _planted(11)
    lin = _linear(w, bias=np.ones(4))
    prune.l1_unstructured(lin, "weight", amount=0.5)
    state = compression.effective_state_dict(lin)
    assert list(state) == ["bias", "weight"]
    np.testing.assert_array_equal(state["weight"].numpy(), w * _oracle_l1(w, 10))
    assert prune.is_pruned(lin)  # the model itself is untouched


def test_sparse_checkpoint_is_smaller_by_the_bitmap_arithmetic_and_round_trips(tmp_path):
    rng = np.random.default_rng(3)
    model = nn.Sequential(_linear(rng.standard_normal((64, 128)), np.zeros(64)), nn.ReLU(),
                          _linear(rng.standard_normal((10, 64)), np.zeros(10)))
    dense = tmp_path / "dense.npz"
    tt.save(model.state_dict(), dense)
    for layer, _ in compression.prunable(model):
        prune.l1_unstructured(layer, "weight", amount=0.9)
    sparse_bytes = compression.save_sparse(model, tmp_path / "sparse.npz")
    assert sparse_bytes == (tmp_path / "sparse.npz").stat().st_size
    # weights: 10% of the values (4 bytes) + 1 bit per entry, instead of 4 bytes per entry
    n_w = 64 * 128 + 10 * 64
    payload = n_w // 8 + round(0.1 * 64 * 128) * 4 + round(0.1 * 10 * 64) * 4 + 74 * 4
    assert sparse_bytes < payload + 3000  # + the .npz headers
    assert dense.stat().st_size > 4 * sparse_bytes  # 7.6x on the payload; headers cost the rest
    back = compression.load_sparse(tmp_path / "sparse.npz")
    state = compression.effective_state_dict(model)
    assert set(back) == set(state)
    for k in state:
        np.testing.assert_array_equal(back[k].numpy(), state[k].numpy())
    # a dense tensor is stored dense (a bitmap would only add bytes)
    assert set(compression.sparse_encode(np.ones((3, 3), np.float32))) == {"dense"}


# --------------------------------------------------------------------------- low rank


def _with_singular_values(s, out_f, in_f, seed):
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((out_f, out_f)))
    v, _ = np.linalg.qr(rng.standard_normal((in_f, in_f)))
    k = len(s)
    return (u[:, :k] * np.asarray(s)) @ v[:, :k].T


def test_svd_factorization_is_the_best_rank_r_approximation_split_evenly():
    s = [10.0, 5.0, 2.0, 1.0, 0.5]
    w = _with_singular_values(s, 6, 8, 0).astype(np.float32)
    lin = _linear(w, bias=np.arange(6))
    seq = low_rank.low_rank_linear(lin, rank=2)
    a, b = seq[0].weight.numpy(), seq[1].weight.numpy()
    assert a.shape == (2, 8) and b.shape == (6, 2) and seq[0].bias is None
    u, sv, vt = np.linalg.svd(w.astype(np.float64))
    best = (u[:, :2] * sv[:2]) @ vt[:2]
    np.testing.assert_allclose(b @ a, best, atol=1e-4)
    # Eckart-Young: the error is exactly the dropped singular values
    assert np.linalg.norm(b @ a - w) == pytest.approx(np.sqrt(4 + 1 + 0.25), rel=1e-4)
    # sqrt(S) on each side: A A^T = diag(S_r) = B^T B
    np.testing.assert_allclose(a @ a.T, np.diag(s[:2]), atol=1e-4)
    np.testing.assert_allclose(b.T @ b, np.diag(s[:2]), atol=1e-4)
    x = np.random.default_rng(1).standard_normal((3, 8)).astype(np.float32)
    np.testing.assert_allclose(seq(tt.tensor(x)).numpy(), x @ best.T + np.arange(6), atol=1e-4)


def test_full_rank_factorization_reproduces_the_layer():
    w = np.random.default_rng(2).standard_normal((5, 4)).astype(np.float32)
    lin = _linear(w, bias=np.ones(5))
    seq = low_rank.low_rank_linear(lin, rank=4)
    x = np.random.default_rng(3).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose(seq(tt.tensor(x)).numpy(), lin(tt.tensor(x)).numpy(), atol=1e-5)


def test_rank_by_energy_keeps_the_smallest_rank_reaching_it():
    s = [4.0, 2.0, 1.0, 1.0]  # squares 16, 4, 1, 1: cumulative 16/22, 20/22, 21/22, 1
    assert low_rank.choose_rank(s, 0.7) == 1
    assert low_rank.choose_rank(s, 16 / 22) == 1
    assert low_rank.choose_rank(s, 0.9) == 2
    assert low_rank.choose_rank(s, 0.95) == 3
    assert low_rank.choose_rank(s, 1.0) == 4
    lin = _linear(_with_singular_values(s, 5, 6, 4))
    assert low_rank.low_rank_linear(lin, energy=0.9)[0].weight.shape == (2, 6)


def test_factorize_linears_replaces_only_layers_that_get_smaller():
    model = nn.Sequential(nn.Linear(40, 30), nn.ReLU(), nn.Linear(30, 3))
    replaced = low_rank.factorize_linears(model, rank=5)
    assert replaced == {"0": 5}  # 5 * (40 + 30) < 1200; 5 * 33 > 90 keeps layer 2 dense
    assert isinstance(model[0], nn.Sequential) and isinstance(model[2], nn.Linear)


# --------------------------------------------------------------------------- distillation


def _log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _oracle_kd(s, t, y, T, alpha):
    log_p, log_q = _log_softmax(t / T), _log_softmax(s / T)
    kl = (np.exp(log_p) * (log_p - log_q)).sum(axis=1).mean()
    ce = -_log_softmax(s)[np.arange(len(y)), y].mean()
    return alpha * kl * T * T + (1 - alpha) * ce


@pytest.mark.parametrize("T,alpha", [(1.0, 1.0), (4.0, 0.9), (2.0, 0.5), (3.0, 0.0)])
def test_distillation_loss_equals_the_numpy_definition(T, alpha):
    rng = np.random.default_rng(5)
    s, t = rng.standard_normal((6, 5)) * 3, rng.standard_normal((6, 5)) * 3
    t[:, 0] += 4  # a confident teacher: p and q differ in shape, so KL(p||q) != KL(q||p)
    y = rng.integers(0, 5, 6)
    loss = distillation.distillation_loss(tt.tensor(s), tt.tensor(t), tt.tensor(y), T, alpha)
    assert loss.item() == pytest.approx(_oracle_kd(s, t, y, T, alpha), rel=1e-6)


def test_soft_loss_direction_temperature_scaling_and_zero_at_the_teacher():
    rng = np.random.default_rng(6)
    s, t = rng.standard_normal((4, 6)), rng.standard_normal((4, 6)) * 4
    swapped = _oracle_kd(t, s, np.zeros(4, int), 2.0, 1.0)  # KL(q || p): the wrong direction
    ours = distillation.soft_target_loss(tt.tensor(s), tt.tensor(t), 2.0).item()
    assert ours == pytest.approx(_oracle_kd(s, t, np.zeros(4, int), 2.0, 1.0), rel=1e-6)
    assert abs(ours - swapped) > 1e-3
    assert distillation.soft_target_loss(tt.tensor(t), tt.tensor(t), 3.0).item() == \
        pytest.approx(0.0, abs=1e-6)


def test_distillation_gradient_flows_to_the_student_only():
    rng = np.random.default_rng(7)
    s = tt.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    t = tt.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    T = 2.0
    distillation.distillation_loss(s, t, None, T).backward()
    assert t.grad is None
    # d/ds of T^2 * KL(p || q(s/T)) averaged over N = T * (q - p) / N
    p = np.exp(_log_softmax(t.numpy() / T))
    q = np.exp(_log_softmax(s.numpy() / T))
    np.testing.assert_allclose(s.grad.numpy(), T * (q - p) / 5, atol=1e-6)


def test_distillation_loss_module_form():
    rng = np.random.default_rng(8)
    s, t, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.integers(0, 4, 3)
    kd = distillation.DistillationLoss(temperature=3.0, alpha=0.7)
    assert kd(tt.tensor(s), tt.tensor(t), tt.tensor(y)).item() == \
        pytest.approx(_oracle_kd(s, t, y, 3.0, 0.7), rel=1e-6)
