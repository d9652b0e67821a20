"""nn modules of issue 9 against PyTorch: names, signatures, defaults, reprs, state_dicts, and
the same outputs and gradients when loaded with the same weights.

The functional forms are in the op catalogue (``op_cases_nn.py``); this file checks what only a
module has: its constructor, its printed form, its parameters and how a torch checkpoint
loads into it.
"""

import inspect

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F

torch = pytest.importorskip("torch")

# (constructor arguments, input shape); the same call builds the torch and the tinytorch module
MODULES = {
    "ELU": ((0.5,), (3, 4)), "SELU": ((), (3, 4)), "CELU": ((1.5,), (3, 4)),
    "Softplus": ((2.0, 5.0), (3, 4)), "Softsign": ((), (3, 4)), "Hardtanh": ((-2.0, 0.5), (3, 4)),
    "ReLU6": ((), (3, 4)), "Hardsigmoid": ((), (3, 4)), "Hardswish": ((), (3, 4)),
    "LogSigmoid": ((), (3, 4)), "Mish": ((), (3, 4)), "Tanhshrink": ((), (3, 4)),
    "Softshrink": ((0.3,), (3, 4)), "Hardshrink": ((0.3,), (3, 4)), "PReLU": ((3,), (2, 3, 4)),
    "GLU": ((), (3, 4)), "Threshold": ((0.1, 20.0), (3, 4)), "Softmin": ((1,), (3, 4)),
    "Softmax2d": ((), (2, 3, 2, 2)),
    "Conv1d": ((4, 6, 3, 2, 1, 1, 2), (2, 4, 9)),
    "ConvTranspose2d": ((4, 6, 3, 2, 1, 1, 2), (2, 4, 3, 5)),
    "ConvTranspose1d": ((3, 2, 4, 2), (2, 3, 5)),
    "Upsample": ((None, 2, "bilinear"), (1, 2, 3, 3)),
    "UpsamplingNearest2d": ((None, 3), (1, 2, 2, 3)),
    "UpsamplingBilinear2d": (((5, 4),), (1, 2, 2, 3)),
    "MaxPool1d": ((3, 2, 1), (2, 3, 9)), "AvgPool1d": ((3, 2, 1), (2, 3, 9)),
    "AdaptiveMaxPool2d": (((3, 2),), (2, 3, 7, 5)), "AdaptiveMaxPool1d": ((3,), (2, 3, 7)),
    "AdaptiveAvgPool1d": ((3,), (2, 3, 7)), "Unflatten": ((1, (2, 3)), (4, 6)),
    "GroupNorm": ((2, 4), (2, 4, 3, 3)), "InstanceNorm1d": ((3,), (2, 3, 5)),
    "InstanceNorm2d": ((3, 1e-5, 0.1, True, True), (2, 3, 4, 4)),
    "ReflectionPad2d": ((2,), (1, 2, 4, 5)), "ZeroPad2d": (((1, 2, 0, 3),), (1, 2, 3, 3)),
    "ConstantPad1d": ((2, 3.5), (2, 3, 4)), "ConstantPad2d": (((1, 0, 2, 1), -1.0), (1, 2, 3, 3)),
    "ReplicationPad1d": (((1, 2),), (2, 3, 4)), "ReplicationPad2d": ((1,), (1, 2, 3, 3)),
    "ReflectionPad1d": ((2,), (2, 3, 5)), "CircularPad2d": ((1,), (1, 2, 3, 3)),
    "CircularPad1d": ((2,), (2, 3, 4)), "ZeroPad1d": ((1,), (2, 3, 4)),
    "Unfold": ((2, 1, 1, 2), (2, 3, 5, 4)), "Fold": (((4, 5), 2), (2, 12, 12)),
    "PixelShuffle": ((2,), (1, 8, 2, 3)), "PixelUnshuffle": ((2,), (1, 2, 4, 6)),
}
UNARY = list(MODULES)


def _pair(name):
    args, shape = MODULES[name]
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args)
    ours = getattr(nn, name)(*args)
    sd = {k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()}
    ours.load_state_dict(sd)
    return ours, theirs, shape


@pytest.mark.parametrize("name", UNARY)
def test_module_repr_state_dict_and_outputs_match_torch(name):
    ours, theirs, shape = _pair(name)
    assert repr(ours) == repr(theirs)
    mine, ref = ours.state_dict(), theirs.state_dict()
    assert list(mine) == list(ref), f"{name}: state_dict keys"
    for k in ref:
        assert tuple(mine[k].shape) == tuple(ref[k].shape), f"{name}.{k}"
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32) * 2
    a, b = tt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, z = ours(a), theirs(b)
    assert tuple(y.shape) == tuple(z.shape)
    np.testing.assert_allclose(y.numpy(), z.detach().numpy(), rtol=1e-5, atol=1e-5)
    w = np.random.default_rng(2).standard_normal(tuple(z.shape)).astype(np.float32)
    y.backward(tt.tensor(w))
    z.backward(torch.tensor(w))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (k, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=f"{name}.{k}")


def _defaults(fn):
    return {k: p.default for k, p in inspect.signature(fn).parameters.items()
            if p.default is not inspect.Parameter.empty}


@pytest.mark.parametrize("name", UNARY + ["SmoothL1Loss", "HuberLoss", "KLDivLoss",
                                          "MarginRankingLoss", "CosineEmbeddingLoss",
                                          "CosineSimilarity", "PairwiseDistance", "Bilinear",
                                          "MaxUnpool2d", "ReLU", "LeakyReLU", "SiLU",
                                          "SoftMarginLoss", "HingeEmbeddingLoss",
                                          "MultiLabelSoftMarginLoss", "TripletMarginLoss",
                                          "PoissonNLLLoss", "GaussianNLLLoss"])
def test_constructor_defaults_equal_torch(name):
    ours = _defaults(getattr(nn, name).__init__)
    theirs = _defaults(getattr(torch.nn, name).__init__)
    for k, v in theirs.items():
        assert k in ours, f"{name}: argument {k} missing"
        assert ours[k] == v, f"{name}: default of {k} is {ours[k]!r}, torch has {v!r}"


@pytest.mark.parametrize("name", [
    "elu", "selu", "celu", "softplus", "softsign", "hardtanh", "relu6", "hardsigmoid",
    "hardswish", "logsigmoid", "mish", "tanhshrink", "softshrink", "hardshrink", "glu",
    "softmin", "smooth_l1_loss", "huber_loss", "kl_div", "margin_ranking_loss",
    "cosine_embedding_loss", "normalize", "conv1d", "conv_transpose2d", "conv_transpose1d",
    "interpolate", "max_pool1d", "avg_pool1d", "max_unpool2d", "relu", "leaky_relu", "silu",
    "soft_margin_loss", "hinge_embedding_loss", "multilabel_soft_margin_loss",
    "triplet_margin_loss", "poisson_nll_loss", "gaussian_nll_loss", "group_norm", "bilinear",
])
def test_functional_defaults_equal_torch(name):
    try:
        theirs = _defaults(getattr(torch.nn.functional, name))
    except ValueError:  # a builtin without a signature: nothing to compare
        pytest.skip("torch gives no signature")
    ours = _defaults(getattr(F, name))
    for k, v in theirs.items():
        if k.startswith("_"):
            continue
        assert k in ours, f"F.{name}: argument {k} missing"
        assert ours[k] == v, f"F.{name}: default of {k} is {ours[k]!r}, torch has {v!r}"


def test_inplace_is_accepted_and_printed_like_torch():
    for name, args in [("ReLU", ()), ("LeakyReLU", (0.2,)), ("SiLU", ()), ("ELU", (1.0,)),
                       ("ReLU6", ()), ("Hardtanh", (-1.0, 1.0)), ("SELU", ()), ("Mish", ()),
                       ("Hardswish", ()), ("Hardsigmoid", ()), ("CELU", (1.0,))]:
        ours = getattr(nn, name)(*args, inplace=True)
        assert repr(ours) == repr(getattr(torch.nn, name)(*args, inplace=True))
        x = tt.tensor([-1.0, 2.0])
        y = ours(x)
        assert y.shape == (2,)
    x = tt.tensor([-1.0, 2.0])
    assert F.relu(x, inplace=True).tolist() == [0.0, 2.0]


def test_losses_as_modules_match_torch():
    rng = np.random.default_rng(3)
    x, y = (rng.standard_normal((4, 5)).astype(np.float32) for _ in range(2))
    lab = np.array([1.0, -1.0, 1.0, -1.0], dtype=np.float32)
    cases = [
        ("SmoothL1Loss", dict(beta=0.5), (x, y)),
        ("HuberLoss", dict(delta=0.3, reduction="sum"), (x, y)),
        ("KLDivLoss", dict(reduction="batchmean"), (x, np.abs(y))),
        ("KLDivLoss", dict(reduction="none", log_target=True), (x, y)),
        ("MarginRankingLoss", dict(margin=0.2), (x[:, 0], y[:, 0], lab)),
        ("CosineEmbeddingLoss", dict(margin=0.1, reduction="none"), (x, y, lab)),
        ("CosineSimilarity", dict(dim=0), (x, y)), ("PairwiseDistance", dict(p=3.0), (x, y)),
        ("SoftMarginLoss", {}, (x[:, 0], lab)),
        ("HingeEmbeddingLoss", dict(margin=0.5, reduction="sum"), (x[:, 0], lab)),
        ("MultiLabelSoftMarginLoss", {}, (x, (y > 0).astype(np.float32))),
        ("TripletMarginLoss", dict(margin=0.5, swap=True), (x, y, x[::-1].copy())),
        ("PoissonNLLLoss", dict(log_input=False, full=True), (np.abs(x), np.round(np.abs(y) * 3))),
        ("GaussianNLLLoss", dict(full=True), (x, y, np.abs(y) + 0.1)),
    ]
    for name, kw, arrs in cases:
        ours, theirs = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
        assert repr(ours) == repr(theirs)
        got = ours(*[tt.tensor(a) for a in arrs])
        want = theirs(*[torch.tensor(a) for a in arrs])
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def test_kl_div_mean_warns_like_torch():
    x = tt.tensor(np.zeros((2, 3), dtype=np.float32))
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(x, x.exp())


def test_logsigmoid_and_softplus_stay_finite_at_extremes():
    x = np.array([-1e4, -100.0, 0.0, 100.0, 1e4], dtype=np.float32)
    for ours, theirs in [(F.logsigmoid, torch.nn.functional.logsigmoid),
                         (F.softplus, torch.nn.functional.softplus),
                         (F.mish, torch.nn.functional.mish), (F.elu, torch.nn.functional.elu),
                         (F.selu, torch.nn.functional.selu)]:
        a = tt.tensor(x, requires_grad=True)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            y = ours(a)
            y.sum().backward()
        b = torch.tensor(x, requires_grad=True)
        z = theirs(b)
        z.sum().backward()
        np.testing.assert_allclose(y.numpy(), z.detach().numpy(), rtol=1e-6, atol=1e-38)
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-38)


def test_bilinear_matches_torch():
    torch.manual_seed(0)
    theirs = torch.nn.Bilinear(3, 4, 5)
    ours = nn.Bilinear(3, 4, 5)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(4)
    x1 = rng.standard_normal((2, 6, 3)).astype(np.float32)
    x2 = rng.standard_normal((2, 6, 4)).astype(np.float32)
    a1, a2 = tt.tensor(x1, requires_grad=True), tt.tensor(x2, requires_grad=True)
    b1, b2 = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
    y, z = ours(a1, a2), theirs(b1, b2)
    np.testing.assert_allclose(y.numpy(), z.detach().numpy(), rtol=1e-5, atol=1e-5)
    y.sum().backward()
    z.sum().backward()
    for p, q in [(a1, b1), (a2, b2), (ours.weight, theirs.weight), (ours.bias, theirs.bias)]:
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-5)
    bound = 1 / np.sqrt(3)
    fresh = nn.Bilinear(3, 4, 5).weight.numpy()
    assert np.abs(fresh).max() <= bound and fresh.std() > bound / 3


def test_fresh_layers_are_initialised_in_torch_ranges():
    """Torch's default init ranges: kaiming_uniform a=sqrt(5) gives |w| < 1/sqrt(fan_in)."""
    for ours, fan_in in [(nn.Conv1d(4, 8, 3, groups=2), 2 * 3),
                         (nn.ConvTranspose2d(4, 6, 3, groups=2), 3 * 9),
                         (nn.ConvTranspose1d(3, 5, 4), 5 * 4)]:
        w, b = ours.weight.numpy(), ours.bias.numpy()
        bound = 1 / np.sqrt(fan_in)
        assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
        assert w.std() > bound / 3  # not all zeros
    assert nn.PReLU().weight.tolist() == [0.25]


def test_conv_transpose_output_size_and_errors():
    layer = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    x = tt.tensor(np.ones((1, 2, 4, 4), dtype=np.float32))
    assert layer(x).shape == (1, 3, 7, 7)
    assert layer(x, output_size=(8, 8)).shape == (1, 3, 8, 8)
    with pytest.raises(ValueError, match="valid sizes range from 7 to 8"):
        layer(x, output_size=(9, 9))
    with pytest.raises(ValueError, match="output padding must be smaller"):
        F.conv_transpose2d(x, layer.weight, output_padding=2, stride=2)
    with pytest.raises(ValueError, match="has 3 channels, but the weight"):
        F.conv_transpose2d(tt.tensor(np.ones((1, 3, 4, 4), dtype=np.float32)), layer.weight)
    with pytest.raises(ValueError, match="zeros"):
        nn.ConvTranspose2d(2, 3, 3, padding_mode="reflect")


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    """<conv2d(z, W), x> == <z, conv_transpose2d(x, W)> for every z, x: the definition."""
    rng = np.random.default_rng(5)
    w = tt.tensor(rng.standard_normal((4, 3, 3, 2)))  # conv2d: 6 -> 4 channels (groups 2)
    z = tt.tensor(rng.standard_normal((2, 6, 9, 8)))
    y = F.conv2d(z, w, stride=2, padding=1, dilation=(1, 2), groups=2)
    x = tt.tensor(rng.standard_normal(y.shape))
    back = F.conv_transpose2d(x, w, stride=2, padding=1, dilation=(1, 2), groups=2,
                              output_padding=(z.shape[2] - ((y.shape[2] - 1) * 2 - 2 + 3),
                                              z.shape[3] - ((y.shape[3] - 1) * 2 - 2 + 2 * 1 + 1)))
    assert back.shape == z.shape
    assert np.isclose(float((y * x).sum()), float((z * back).sum()), rtol=1e-10)


def test_conv1d_padding_modes_match_torch():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 10)).astype(np.float32)
    for mode in ("zeros", "reflect", "replicate", "circular"):
        torch.manual_seed(0)
        theirs = torch.nn.Conv1d(3, 4, 3, padding=2, padding_mode=mode)
        ours = nn.Conv1d(3, 4, 3, padding=2, padding_mode=mode)
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
        np.testing.assert_allclose(ours(tt.tensor(x)).numpy(),
                                   theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5,
                                   err_msg=mode)
    same = nn.Conv1d(3, 4, 4, padding="same", dilation=2)
    assert same(tt.tensor(x)).shape == (2, 4, 10)
    with pytest.raises(ValueError, match="strided"):
        nn.Conv1d(3, 4, 3, stride=2, padding="same")


def test_max_pool_indices_and_unpool_round_trip_like_torch():
    x = np.round(np.random.default_rng(7).standard_normal((2, 3, 6, 7)) * 2).astype(np.float32) / 2
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    out, idx = pool(tt.tensor(x))
    t_out, t_idx = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    assert idx.dtype == tt.int64 and np.array_equal(idx.numpy(), t_idx.numpy())  # ties: first wins
    back = unpool(out, idx, output_size=x.shape)
    ref = torch.nn.MaxUnpool2d(2)(t_out, t_idx, output_size=x.shape)
    assert np.array_equal(back.numpy(), ref.numpy())
    one, one_idx = F.max_pool2d(tt.tensor(x[0]), 3, 2, 1, return_indices=True)  # unbatched
    t_one, t_one_idx = torch.nn.functional.max_pool2d(torch.tensor(x[0]), 3, 2, 1,
                                                      return_indices=True)
    assert np.array_equal(one_idx.numpy(), t_one_idx.numpy()) and one.shape == tuple(t_one.shape)
    with pytest.raises(ValueError, match="invalid output_size"):
        unpool(out, idx, output_size=(20, 20))


def test_interpolate_refuses_what_it_does_not_do():
    x = tt.tensor(np.ones((1, 1, 2, 2), dtype=np.float32))
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners option"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="needs a 4-D input"):
        F.interpolate(tt.tensor(np.ones((1, 1, 4), dtype=np.float32)), scale_factor=2,
                      mode="bilinear")


def test_prelu_single_slope_learns_like_torch():
    x = np.random.default_rng(8).standard_normal((4, 3, 2)).astype(np.float32)
    ours, theirs = nn.PReLU(), torch.nn.PReLU()
    y, z = ours(tt.tensor(x)), theirs(torch.tensor(x))
    (y * y).sum().backward()
    (z * z).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match="3 slopes but the input"):
        F.prelu(tt.tensor(np.ones((2, 4), dtype=np.float32)),
                tt.tensor(np.ones(3, dtype=np.float32)))


def test_parameter_vector_round_trip_matches_torch():
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    ours = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    vec = nn.utils.parameters_to_vector(ours.parameters())
    ref = torch.nn.utils.parameters_to_vector(theirs.parameters())
    np.testing.assert_array_equal(vec.numpy(), ref.detach().numpy())
    (vec * vec).sum().backward()  # differentiable, as in torch
    assert np.array_equal(ours[0].weight.grad.numpy(), 2 * ours[0].weight.numpy())
    nn.utils.vector_to_parameters(tt.tensor(np.arange(26, dtype=np.float32)), ours.parameters())
    assert ours[1].bias.tolist() == [24.0, 25.0] and ours[0].weight.numpy()[0, 1] == 1.0
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        nn.utils.vector_to_parameters(np.zeros(26), ours.parameters())


def test_init_extras_have_the_right_distribution():
    g = tt.Generator().manual_seed(0)
    w = nn.init.trunc_normal_(tt.zeros(200, 300), std=0.02, a=-0.04, b=0.04, generator=g)
    v = w.numpy()
    assert v.min() >= -0.04 and v.max() <= 0.04
    assert abs(v.std() - 0.0176) < 0.001  # a N(0, 0.02) cut at 2 std has std 0.88 * 0.02
    q = nn.init.orthogonal_(tt.zeros(4, 2, 3), gain=2.0, generator=g).numpy().reshape(4, 6)
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(4), atol=1e-5)
    tall = nn.init.orthogonal_(tt.zeros(6, 3), generator=g).numpy()
    np.testing.assert_allclose(tall.T @ tall, np.eye(3), atol=1e-5)
    assert nn.init.eye_(tt.zeros(2, 3)).tolist() == [[1, 0, 0], [0, 1, 0]]
    with pytest.raises(ValueError, match="2 or more dimensions"):
        nn.init.orthogonal_(tt.zeros(3))


def test_module_utilities_tutorials_use():
    model = nn.Sequential(nn.Conv1d(2, 4, 3), nn.PReLU(4), nn.Flatten(), nn.Linear(4 * 6, 3))
    names = [n for n, _ in model.named_modules()]
    assert names == ["", "0", "1", "2", "3"]
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Sequential" and "PReLU" in seen
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    out = model(tt.tensor(np.ones((5, 2, 8), dtype=np.float32)))
    out.sum().backward()
    model.zero_grad(set_to_none=True)
    assert all(p.grad is None for p in model.parameters())
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "3.weight", "3.bias"]


def test_instance_norm_running_stats_like_torch():
    x = np.random.default_rng(9).standard_normal((4, 3, 5, 5)).astype(np.float32) * 2 + 1
    ours = nn.InstanceNorm2d(3, track_running_stats=True)
    theirs = torch.nn.InstanceNorm2d(3, track_running_stats=True)
    for _ in range(3):
        ours(tt.tensor(x))
        theirs(torch.tensor(x))
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=k)
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(ours(tt.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(),
                               rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)


def _dcgan(nn_, nz=8, ngf=4, ndf=4, nc=3):
    """The official DCGAN example's generator and discriminator, scaled down (16x16 images)."""
    g = nn_.Sequential(
        nn_.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False), nn_.BatchNorm2d(ngf * 4),
        nn_.ReLU(True),
        nn_.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn_.BatchNorm2d(ngf * 2),
        nn_.ReLU(True),
        nn_.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False), nn_.Tanh())
    d = nn_.Sequential(
        nn_.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn_.LeakyReLU(0.2, inplace=True),
        nn_.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn_.BatchNorm2d(ndf * 2),
        nn_.LeakyReLU(0.2, inplace=True),
        nn_.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False), nn_.Sigmoid())
    return g, d


def test_dcgan_example_matches_torch_with_the_same_weights():
    torch.manual_seed(0)
    tg, td = _dcgan(torch.nn)
    og, od = _dcgan(nn)
    assert repr(og) == repr(tg) and repr(od) == repr(td)
    for ours, theirs in ((og, tg), (od, td)):
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    z = np.random.default_rng(10).standard_normal((5, 8, 1, 1)).astype(np.float32)
    fake_t = tg(torch.tensor(z))
    fake_o = og(tt.tensor(z))
    assert fake_o.shape == (5, 3, 16, 16)
    np.testing.assert_allclose(fake_o.numpy(), fake_t.detach().numpy(), rtol=1e-4, atol=1e-5)
    loss_t = torch.nn.BCELoss()(td(fake_t).view(-1), torch.ones(5))
    loss_o = nn.BCELoss()(od(fake_o).view(-1), tt.ones(5))
    np.testing.assert_allclose(loss_o.item(), loss_t.item(), rtol=1e-5)
    loss_t.backward()
    loss_o.backward()
    for (k, p), (_, q) in zip(og.named_parameters(), tg.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-3, atol=1e-5, err_msg=k)


def test_data_parallel_wraps_like_torch_on_one_device():
    torch.manual_seed(0)
    theirs = torch.nn.DataParallel(torch.nn.Linear(3, 2))
    ours = nn.DataParallel(nn.Linear(3, 2))
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["module.weight", "module.bias"]
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.ones((4, 3), dtype=np.float32)
    np.testing.assert_allclose(ours(tt.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-6)
