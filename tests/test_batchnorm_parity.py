"""BatchNorm1d / BatchNorm2d / F.batch_norm against PyTorch (module 09).

Train and eval behaviour must be PyTorch's exactly: batch statistics while training (biased
variance to normalize, unbiased variance into the running estimate), running statistics in
eval mode, momentum (including None: a cumulative average), ``affine=False``,
``track_running_stats=False`` (batch statistics even in eval mode), the keyword-only ``bias``
of PyTorch 2.x, and ``num_batches_tracked``. After loading PyTorch's state_dict, outputs, the
input gradient (through the batch statistics) and the weight and bias gradients must agree
over several steps, and so must the buffers.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.autograd import gradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _rand(shape, seed, scale=1.0, shift=0.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * scale + shift).astype(np.float32)


def bn_pair(cls, num_features, seed=0, **kwargs):
    """Torch and tinytorch BatchNorm with the same (random, non-trivial) weights loaded."""
    th = getattr(torch.nn, cls)(num_features, **kwargs)
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in th.parameters():
            p.copy_(torch.tensor(rng.standard_normal(p.shape).astype(np.float32)))
    ours = getattr(nn, cls)(num_features, **kwargs)
    ours.load_state_dict({k: v.numpy() for k, v in th.state_dict().items()})
    return ours, th


def step_both(ours, th, x, seed):
    """One forward + backward of a random upstream gradient; compare output and all grads."""
    a, b = tt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours(a), th(b)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-4, atol=1e-5,
                               err_msg="forward")
    g = _rand(x.shape, seed + 100)
    out.backward(tt.tensor(g))
    ref.backward(torch.tensor(g))
    # the input gradient through the batch statistics sums to ~0 per channel: compare it
    # with an absolute tolerance scaled to the gradient's size
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-3,
                               atol=1e-5 * max(1.0, np.abs(g).max()), err_msg="input gradient")
    for (name, p), (_, q) in zip(ours.named_parameters(), th.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-3, atol=1e-4,
                                   err_msg=f"{name} gradient")
        p.grad = None
        q.grad = None


def assert_same_buffers(ours, th):
    mine, ref = ours.state_dict(), th.state_dict()
    assert list(mine) == list(ref)
    for k in ref:
        np.testing.assert_allclose(np.asarray(mine[k].numpy(), dtype=np.float64),
                                   ref[k].numpy().astype(np.float64), rtol=1e-5, atol=1e-6,
                                   err_msg=k)


CASES = [
    ("BatchNorm2d", (4, 3, 5, 6), {}),
    ("BatchNorm2d", (3, 2, 4, 4), dict(momentum=0.5)),
    ("BatchNorm2d", (3, 2, 4, 4), dict(momentum=None)),  # cumulative moving average
    ("BatchNorm2d", (2, 3, 3, 5), dict(affine=False)),
    ("BatchNorm2d", (2, 3, 3, 5), dict(bias=False)),
    ("BatchNorm2d", (4, 2, 3, 3), dict(eps=1e-2)),
    ("BatchNorm2d", (4, 2, 3, 3), dict(track_running_stats=False)),
    ("BatchNorm1d", (8, 5), {}),
    ("BatchNorm1d", (2, 4), dict(momentum=0.3)),  # the smallest batch: 2 values per feature
    ("BatchNorm1d", (4, 3, 7), {}),
    ("BatchNorm1d", (4, 3, 7), dict(affine=False, momentum=None)),
    ("BatchNorm1d", (6, 4), dict(track_running_stats=False)),
]


@pytest.mark.parametrize("cls, shape, kwargs", CASES, ids=[f"{c}-{s}-{k}" for c, s, k in CASES])
def test_batchnorm_train_then_eval_matches_torch(cls, shape, kwargs):
    ours, th = bn_pair(cls, shape[1], seed=1, **kwargs)
    for step in range(3):  # several steps: the running statistics compound
        step_both(ours, th, _rand(shape, step, scale=2.0, shift=1.5), step)
        assert_same_buffers(ours, th)
    ours.eval()
    th.eval()
    step_both(ours, th, _rand(shape, 10, scale=3.0, shift=-1.0), 10)
    assert_same_buffers(ours, th)  # eval mode changes no buffer


def test_running_stats_use_the_unbiased_variance_and_momentum():
    """running_var = (1 - m) * 1 + m * var_unbiased, worked out by hand for one batch."""
    x = _rand((5, 2, 3), 2, scale=2.0, shift=1.0)
    bn = nn.BatchNorm1d(2, momentum=0.25)
    bn(tt.tensor(x))
    per_channel = x.transpose(1, 0, 2).reshape(2, -1)
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.25 * per_channel.mean(1), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.75 + 0.25 * per_channel.var(1, ddof=1),
                               rtol=1e-5)
    assert int(bn.num_batches_tracked.item()) == 1
    assert bn.num_batches_tracked.dtype == np.int64


def test_eval_mode_normalizes_with_running_statistics():
    bn = nn.BatchNorm2d(2)
    bn.running_mean.numpy()[...] = [1.0, -2.0]
    bn.running_var.numpy()[...] = [4.0, 0.25]
    bn.weight.numpy()[...] = [2.0, 1.0]
    bn.bias.numpy()[...] = [0.5, 0.0]
    bn.eval()
    x = _rand((1, 2, 2, 2), 3)  # a single image: fine in eval mode
    expected = (x - np.array([1.0, -2.0]).reshape(1, 2, 1, 1)) \
        / np.sqrt(np.array([4.0, 0.25]).reshape(1, 2, 1, 1) + 1e-5) \
        * np.array([2.0, 1.0]).reshape(1, 2, 1, 1) + np.array([0.5, 0.0]).reshape(1, 2, 1, 1)
    np.testing.assert_allclose(bn(tt.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6)


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 5), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4),
       st.sampled_from([0.1, 0.9, None]), st.booleans(), st.integers(0, 2**16))
def test_batchnorm2d_matches_torch_on_random_shapes(n, c, h, w, momentum, affine, seed):
    ours, th = bn_pair("BatchNorm2d", c, seed=seed, momentum=momentum, affine=affine)
    step_both(ours, th, _rand((n, c, h, w), seed, scale=1.5, shift=0.5), seed)
    assert_same_buffers(ours, th)


@pytest.mark.parametrize("training", [True, False])
def test_functional_batch_norm_matches_torch(training):
    x = _rand((4, 3, 2, 5), 4, scale=2.0)
    w, b = _rand((3,), 5), _rand((3,), 6)
    rm, rv = _rand((3,), 7), np.abs(_rand((3,), 8)) + 0.5
    ours_rm, ours_rv = tt.tensor(rm.copy()), tt.tensor(rv.copy())
    th_rm, th_rv = torch.tensor(rm.copy()), torch.tensor(rv.copy())
    a, bt = tt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ow, ob = tt.tensor(w, requires_grad=True), tt.tensor(b, requires_grad=True)
    tw, tb = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    out = F.batch_norm(a, ours_rm, ours_rv, ow, ob, training=training, momentum=0.2, eps=1e-3)
    ref = TF.batch_norm(bt, th_rm, th_rv, tw, tb, training=training, momentum=0.2, eps=1e-3)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-4, atol=1e-5)
    g = _rand(x.shape, 9)
    out.backward(tt.tensor(g))
    ref.backward(torch.tensor(g))
    for mine, theirs, what in ((a, bt, "input"), (ow, tw, "weight"), (ob, tb, "bias")):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-3, atol=1e-5,
                                   err_msg=what)
    np.testing.assert_allclose(ours_rm.numpy(), th_rm.numpy(), rtol=1e-5)
    np.testing.assert_allclose(ours_rv.numpy(), th_rv.numpy(), rtol=1e-5)


def test_state_dict_round_trip_with_torch():
    th = torch.nn.BatchNorm2d(3)
    th(torch.tensor(_rand((4, 3, 2, 2), 11, scale=2.0)))  # non-trivial running stats
    ours = nn.BatchNorm2d(3)
    ours.load_state_dict({k: v.numpy() for k, v in th.state_dict().items()})
    assert_same_buffers(ours, th)
    back = torch.nn.BatchNorm2d(3)
    back.load_state_dict({k: torch.tensor(np.asarray(v.numpy())) for k, v in
                          ours.state_dict().items()})
    assert int(back.num_batches_tracked) == 1


@pytest.mark.parametrize("kwargs", [{}, dict(momentum=None, affine=False), dict(bias=False),
                                    dict(track_running_stats=False)])
def test_repr_and_keys_match_torch(kwargs):
    assert repr(nn.BatchNorm2d(4, **kwargs)) == repr(torch.nn.BatchNorm2d(4, **kwargs))
    assert list(nn.BatchNorm1d(4, **kwargs).state_dict()) == \
        list(torch.nn.BatchNorm1d(4, **kwargs).state_dict())


@pytest.mark.parametrize("shape", [(3, 2), (3, 2, 4), (2, 2, 3, 2)])
def test_batch_norm_gradcheck_train_and_eval(shape):
    rng = np.random.default_rng(12)
    x = tt.tensor(rng.standard_normal(shape) * 2 + 1, requires_grad=True)
    w = tt.tensor(rng.standard_normal(shape[1]), requires_grad=True)
    b = tt.tensor(rng.standard_normal(shape[1]), requires_grad=True)
    rm = tt.tensor(rng.standard_normal(shape[1]))
    rv = tt.tensor(rng.uniform(0.5, 2.0, shape[1]))
    assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (x, w, b))
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False), (x, w, b))
    assert gradcheck(lambda x: F.batch_norm(x, None, None, training=True), (x,))


@pytest.mark.parametrize("make, x_shape, match", [
    (lambda: nn.BatchNorm2d(3), (2, 4, 5, 5), r"\(2, 4, 5, 5\) has 4 channels .* expected 3"),
    (lambda: nn.BatchNorm2d(3), (2, 3, 5), r"expected 4-D \(N, C, H, W\)"),
    (lambda: nn.BatchNorm1d(3), (2, 3, 4, 4), r"2-D \(N, C\) or 3-D \(N, C, L\)"),
    (lambda: nn.BatchNorm1d(3), (1, 3), "more than 1 value per channel"),
])
def test_bad_inputs_raise_helpful_errors(make, x_shape, match):
    with pytest.raises(ValueError, match=match):
        make()(tt.zeros(*x_shape))


def test_single_sample_is_fine_in_eval_mode_and_batch_stats_need_grad_through_mean():
    bn = nn.BatchNorm1d(3).eval()
    assert bn(tt.zeros(1, 3)).shape == (1, 3)
    # in training, sum over the batch of the normalized output is constant: its gradient is 0
    bn.train()
    x = tt.tensor(_rand((6, 3), 13, scale=3.0), requires_grad=True)
    F.batch_norm(x, None, None, training=True).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 0.0, atol=1e-5)
