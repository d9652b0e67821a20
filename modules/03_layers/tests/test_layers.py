"""Module 03 graded tests: Linear, Sequential, ModuleList/ModuleDict, Dropout, Flatten, init.

Expected values are computed with NumPy in each test. No backward() here: gradients arrive
in module 05; these tests check forward values, shapes, registration and initialisation.
"""

import math
from collections import OrderedDict

import numpy as np

import tinytorch as tt
import tinytorch.nn as nn
from tinytorch.testing import assert_close


def _set_weights(layer, w, b=None):
    """Write known values into a Linear layer (through load_state_dict, as from a file)."""
    state = {"weight": np.asarray(w, dtype=np.float32)}
    if b is not None:
        state["bias"] = np.asarray(b, dtype=np.float32)
    layer.load_state_dict(state)


# --------------------------------------------------------------------------- Linear


def test_linear_forward_is_x_times_w_transposed_plus_b():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    w = rng.standard_normal((4, 3)).astype(np.float32)  # (out_features, in_features)
    b = rng.standard_normal(4).astype(np.float32)
    layer = nn.Linear(3, 4)
    _set_weights(layer, w, b)
    assert_close(layer(tt.tensor(x)), x @ w.T + b, rtol=1e-5, atol=1e-6,
                 what="Linear(3, 4)(x)", inputs={"x": x, "weight": w, "bias": b})


def test_linear_worked_example():
    layer = nn.Linear(2, 2)
    _set_weights(layer, [[1.0, 2.0], [0.0, -1.0]], [0.5, 0.0])
    x = np.array([[1.0, 1.0], [2.0, 0.0]], dtype=np.float32)
    # row 1: [1*1 + 1*2 + 0.5, 1*0 + 1*(-1) + 0] = [3.5, -1]; row 2: [2 + 0.5, 0] = [2.5, 0]
    assert_close(layer(tt.tensor(x)), [[3.5, -1.0], [2.5, 0.0]], what="Linear(2, 2)(x)",
                 inputs={"x": x})


def test_linear_without_bias_and_with_batch_dimensions():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((2, 3)).astype(np.float32)
    layer = nn.Linear(3, 2, bias=False)
    assert layer.bias is None
    _set_weights(layer, w)
    x = rng.standard_normal((4, 5, 3)).astype(np.float32)  # (batch, positions, features)
    assert_close(layer(tt.tensor(x)), x @ w.T, rtol=1e-5, atol=1e-6,
                 what="Linear(3, 2, bias=False) on a (4, 5, 3) input", inputs={"x": x})
    x1 = rng.standard_normal(3).astype(np.float32)  # one sample, no batch dimension
    assert_close(layer(tt.tensor(x1)), w @ x1, rtol=1e-5, atol=1e-6, what="Linear on (3,)",
                 inputs={"x": x1})


def test_linear_parameters_have_pytorch_layout_and_are_registered():
    layer = nn.Linear(3, 4)
    assert layer.weight.shape == (4, 3), "weight must be (out_features, in_features)"
    assert layer.bias.shape == (4,)
    assert isinstance(layer.weight, nn.Parameter) and layer.weight.requires_grad
    assert layer.weight.dtype == np.float32
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert repr(layer) == "Linear(in_features=3, out_features=4, bias=True)"
    assert repr(nn.Linear(3, 4, bias=False)) == "Linear(in_features=3, out_features=4, bias=False)"


def test_linear_default_init_is_uniform_in_plus_minus_one_over_sqrt_in():
    tt.manual_seed(0)
    layer = nn.Linear(256, 128)
    bound = 1 / math.sqrt(256)
    for name, p in layer.named_parameters():
        assert np.abs(p.numpy()).max() <= bound, f"{name} exceeds 1/sqrt(in_features) = {bound}"
        assert np.abs(p.numpy()).max() > 0.9 * bound, f"{name} does not fill U(-{bound}, {bound})"
    # a uniform on [-b, b] has standard deviation b / sqrt(3)
    assert abs(layer.weight.numpy().std() - bound / math.sqrt(3)) < 0.02 * bound
    assert abs(layer.weight.numpy().mean()) < 0.02 * bound


def test_linear_init_is_repeatable_with_a_seed():
    tt.manual_seed(3)
    a = nn.Linear(5, 5).weight.numpy().copy()
    tt.manual_seed(3)
    b = nn.Linear(5, 5).weight.numpy()
    assert_close(b, a, what="weights after the same tt.manual_seed")


# --------------------------------------------------------------------------- Sequential


def _mlp_by_hand(x, w1, b1, w2, b2):
    return np.maximum(x @ w1.T + b1, 0) @ w2.T + b2


def test_sequential_chains_its_layers():
    rng = np.random.default_rng(2)
    w1, b1 = rng.standard_normal((8, 4)), rng.standard_normal(8)
    w2, b2 = rng.standard_normal((3, 8)), rng.standard_normal(3)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    model.load_state_dict({"0.weight": w1, "0.bias": b1, "2.weight": w2, "2.bias": b2})
    x = rng.standard_normal((6, 4)).astype(np.float32)
    assert_close(model(tt.tensor(x)), _mlp_by_hand(x, w1, b1, w2, b2), rtol=1e-4, atol=1e-5,
                 what="Sequential(Linear, ReLU, Linear)(x)", inputs={"x": x})


def test_sequential_is_a_container():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    model = nn.Sequential(*layers)
    assert len(model) == 3
    assert model[0] is layers[0] and model[-1] is layers[2]
    assert list(model) == layers
    head = model[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[1] is layers[1]
    model.append(nn.Sigmoid())
    assert len(model) == 4
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    named = nn.Sequential(OrderedDict([("hidden", nn.Linear(2, 3)), ("out", nn.Linear(3, 1))]))
    assert list(named.state_dict()) == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert named.hidden is named[0]


def test_sequential_prints_like_pytorch():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Dropout(0.1), nn.Linear(3, 1))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Dropout(p=0.1, inplace=False)\n"
        "  (3): Linear(in_features=3, out_features=1, bias=True)\n"
        ")"
    )


# --------------------------------------------------------------------------- ModuleList / ModuleDict


def test_modulelist_and_moduledict_register_their_modules():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(4, 4) for _ in range(2)])
            self.heads = nn.ModuleDict({"a": nn.Linear(4, 1), "b": nn.Linear(4, 2)})

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return self.heads["a"](x)

    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias",
        "heads.a.weight", "heads.a.bias", "heads.b.weight", "heads.b.bias"]
    assert len(net.blocks) == 2 and list(net.heads) == ["a", "b"] and "b" in net.heads
    assert sum(p.numel() for p in net.parameters()) == 2 * (16 + 4) + (4 + 1) + (8 + 2)
    x = np.random.default_rng(3).standard_normal((3, 4)).astype(np.float32)
    expected = x
    for block in net.blocks:
        expected = expected @ block.weight.numpy().T + block.bias.numpy()
    expected = expected @ net.heads["a"].weight.numpy().T + net.heads["a"].bias.numpy()
    assert_close(net(tt.tensor(x)), expected, rtol=1e-4, atol=1e-5, what="Net(x)",
                 inputs={"x": x})


# --------------------------------------------------------------------------- Dropout


def test_dropout_zeroes_a_fraction_p_and_scales_the_rest():
    p = 0.25
    tt.manual_seed(0)
    y = nn.Dropout(p)(tt.ones(100, 1000)).numpy()
    frac = float(np.mean(y == 0))
    assert abs(frac - p) < 0.01, f"Dropout({p}) zeroed {frac:.3f} of the elements"
    survivors = y[y != 0]
    assert_close(survivors, np.full(survivors.shape, 1 / (1 - p), dtype=np.float32),
                 what="surviving elements (inverted dropout scales them by 1/(1-p))")
    assert abs(float(y.mean()) - 1.0) < 0.02, "the mean should be preserved"


def test_dropout_is_the_identity_in_eval_mode_and_for_p_zero():
    x = np.random.default_rng(4).standard_normal((4, 6)).astype(np.float32)
    drop = nn.Dropout(0.5)
    drop.eval()
    assert_close(drop(tt.tensor(x)), x, what="Dropout(0.5) in eval mode", inputs={"x": x})
    assert_close(nn.Dropout(0.0)(tt.tensor(x)), x, what="Dropout(0.0)", inputs={"x": x})
    model = nn.Sequential(nn.Linear(6, 6), nn.Dropout(0.5))
    model.eval()
    assert not model[1].training, "model.eval() must reach the Dropout inside"


def test_dropout_is_repeatable_with_a_seed():
    x = tt.ones(20, 20)
    tt.manual_seed(5)
    a = nn.Dropout(0.5)(x).numpy()
    tt.manual_seed(5)
    b = nn.Dropout(0.5)(x).numpy()
    assert_close(b, a, what="two dropout masks after the same tt.manual_seed")
    assert repr(nn.Dropout(0.2)) == "Dropout(p=0.2, inplace=False)"


# --------------------------------------------------------------------------- Flatten, Identity


def test_flatten_keeps_the_batch_dimension():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    assert_close(nn.Flatten()(tt.tensor(x)), x.reshape(2, 60), what="Flatten()(x)")
    assert_close(nn.Flatten(1, 2)(tt.tensor(x)), x.reshape(2, 12, 5), what="Flatten(1, 2)(x)")
    assert_close(nn.Flatten(0)(tt.tensor(x)), x.reshape(120), what="Flatten(0)(x)")
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


def test_identity_returns_its_input():
    x = np.random.default_rng(6).standard_normal((3, 2)).astype(np.float32)
    assert_close(nn.Identity()(tt.tensor(x)), x, what="Identity()(x)")


# --------------------------------------------------------------------------- init


def test_calculate_gain():
    cases = {("linear", None): 1.0, ("sigmoid", None): 1.0, ("tanh", None): 5 / 3,
             ("relu", None): math.sqrt(2), ("leaky_relu", 0.2): math.sqrt(2 / (1 + 0.04)),
             ("leaky_relu", None): math.sqrt(2 / (1 + 0.01 ** 2)), ("selu", None): 0.75}
    for (name, param), expected in cases.items():
        got = nn.init.calculate_gain(name, param)
        assert abs(got - expected) < 1e-12, f"calculate_gain({name!r}, {param}) = {got}, " \
                                             f"expected {expected}"


def test_fans_of_linear_and_conv_weights():
    assert nn.init._calculate_fan_in_and_fan_out(tt.zeros(4, 3)) == (3, 4)
    # a conv weight (out_channels, in_channels, kh, kw): fans include the 3x3 receptive field
    assert nn.init._calculate_fan_in_and_fan_out(tt.zeros(8, 2, 3, 3)) == (18, 72)


def test_kaiming_and_xavier_match_their_formulas():
    g = tt.Generator().manual_seed(0)
    w = tt.zeros(400, 300)
    nn.init.kaiming_uniform_(w, nonlinearity="relu", generator=g)
    bound = math.sqrt(2) * math.sqrt(3 / 300)  # gain * sqrt(3 / fan_in)
    assert np.abs(w.numpy()).max() <= bound and np.abs(w.numpy()).max() > 0.99 * bound
    nn.init.kaiming_normal_(w, nonlinearity="relu", generator=g)
    std = math.sqrt(2 / 300)
    assert abs(w.numpy().std() - std) < 0.02 * std, f"kaiming_normal_ std {w.numpy().std()} vs {std}"
    assert nn.init.xavier_uniform_(w, generator=g) is w
    a = math.sqrt(6 / (300 + 400))
    assert np.abs(w.numpy()).max() <= a and np.abs(w.numpy()).max() > 0.99 * a
    nn.init.xavier_normal_(w, gain=2.0, generator=g)
    std = 2.0 * math.sqrt(2 / 700)
    assert abs(w.numpy().std() - std) < 0.02 * std
    nn.init.zeros_(w)
    assert np.all(w.numpy() == 0)
    nn.init.ones_(w)
    assert np.all(w.numpy() == 1)
