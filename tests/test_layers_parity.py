"""Layers, containers, state dicts and init against PyTorch.

The same architecture is built with ``torch.nn`` and ``tinytorch.nn``; weights are moved
between them through ``state_dict`` (as NumPy arrays, both directions); then outputs, input
gradients and every parameter gradient must agree (rtol 1e-4 values, 1e-3 gradients), the
state_dict keys must be identical, and ``repr`` must print the same string. Dropout and the
init functions are random: their statistics are checked against PyTorch's formulas.
"""

import inspect
import math
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.autograd import gradcheck

torch = pytest.importorskip("torch")


# --------------------------------------------------------------------------- helpers


def torch_to_tt(src, dst):
    """Load a torch model's weights into a tinytorch model, as plain NumPy arrays."""
    dst.load_state_dict({k: v.detach().numpy() for k, v in src.state_dict().items()})


def tt_to_torch(src, dst):
    dst.load_state_dict({k: torch.tensor(v.numpy()) for k, v in src.state_dict().items()})


def _input(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def assert_same_model_behaviour(m_tt, m_th, x, seed=0, target=None):
    """Forward, backward of a random upstream gradient (or a loss), compare everything."""
    a = tt.tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    out, ref = m_tt(a), m_th(b)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-4, atol=1e-5,
                               err_msg="forward")
    if target is None:
        g = np.random.default_rng(seed + 500).standard_normal(out.shape).astype(np.float32)
        out.backward(tt.tensor(g))
        ref.backward(torch.tensor(g))
    else:
        F.cross_entropy(out, tt.tensor(target)).backward()
        torch.nn.functional.cross_entropy(ref, torch.tensor(target)).backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-3, atol=1e-5,
                               err_msg="input gradient")
    grads_th = dict(m_th.named_parameters())
    names = [n for n, _ in m_tt.named_parameters()]
    assert names == list(grads_th), "named_parameters differ from torch's"
    for name, p in m_tt.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        np.testing.assert_allclose(p.grad.numpy(), grads_th[name].grad.numpy(), rtol=1e-3,
                                   atol=1e-5, err_msg=f"gradient of {name}")


def assert_same_state_dict(m_tt, m_th):
    sd_tt, sd_th = m_tt.state_dict(), m_th.state_dict()
    assert list(sd_tt) == list(sd_th), "state_dict keys (or their order) differ from torch's"
    for k in sd_th:
        assert tuple(sd_tt[k].shape) == tuple(sd_th[k].shape), k
        np.testing.assert_array_equal(sd_tt[k].numpy(), sd_th[k].numpy(), err_msg=k)


# --------------------------------------------------------------------------- Linear


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape", [(5, 3), (2, 4, 3), (3,)], ids=str)
def test_linear_matches_torch_with_torch_weights(bias, x_shape):
    torch.manual_seed(0)
    m_th = torch.nn.Linear(3, 4, bias=bias)
    m_tt = nn.Linear(3, 4, bias=bias)
    torch_to_tt(m_th, m_tt)
    assert_same_state_dict(m_tt, m_th)
    assert_same_model_behaviour(m_tt, m_th, _input(x_shape, 1))


def test_linear_weights_go_to_torch_and_back():
    tt.manual_seed(3)
    m_tt = nn.Linear(6, 2)
    m_th = torch.nn.Linear(6, 2)
    tt_to_torch(m_tt, m_th)
    assert_same_state_dict(m_tt, m_th)
    assert_same_model_behaviour(m_tt, m_th, _input((4, 6), 2))


def test_linear_layout_and_float64():
    m = nn.Linear(3, 5, dtype=tt.float64)
    assert m.weight.shape == (5, 3) and m.bias.shape == (5,)
    assert m.weight.dtype == np.float64 and m.weight.requires_grad
    assert isinstance(m.weight, nn.Parameter)
    assert m(tt.randn(2, 3, dtype=tt.float64)).dtype == np.float64
    assert nn.Linear(3, 5, bias=False).bias is None


@settings(max_examples=10, deadline=None)
@given(batch=st.lists(st.integers(1, 3), min_size=0, max_size=2), fin=st.integers(1, 6),
       fout=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_linear_any_batch_shape_matches_torch(batch, fin, fout, seed):
    m_th = torch.nn.Linear(fin, fout)
    m_tt = nn.Linear(fin, fout)
    torch_to_tt(m_th, m_tt)
    assert_same_model_behaviour(m_tt, m_th, _input((*batch, fin), seed), seed=seed)


def test_functional_linear_matches_torch_and_gradchecks():
    x, w, b = _input((4, 3), 5), _input((2, 3), 6), _input((2,), 7)
    out = F.linear(tt.tensor(x), tt.tensor(w), tt.tensor(b))
    ref = torch.nn.functional.linear(torch.tensor(x), torch.tensor(w), torch.tensor(b))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(F.linear(tt.tensor(x), tt.tensor(w)).numpy(),
                               torch.nn.functional.linear(torch.tensor(x), torch.tensor(w)).numpy(),
                               rtol=1e-4, atol=1e-6)
    xs = [tt.tensor(a.astype(np.float64), requires_grad=True) for a in (x, w, b)]
    assert gradcheck(F.linear, xs)


def test_linear_shape_error_names_the_shapes():
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 5\) has 5 features.*"
                                         r"\(4, 3\).*expects 3"):
        nn.Linear(3, 4)(tt.randn(2, 5))


# --------------------------------------------------------------------------- models


def mlp(nn_):
    return nn_.Sequential(nn_.Linear(8, 16), nn_.ReLU(), nn_.Linear(16, 16), nn_.Tanh(),
                          nn_.Dropout(0.5), nn_.Linear(16, 5))


def named_mlp(nn_):
    return nn_.Sequential(OrderedDict([("fc1", nn_.Linear(8, 6)), ("act", nn_.GELU()),
                                       ("flat", nn_.Flatten()), ("id", nn_.Identity()),
                                       ("fc2", nn_.Linear(6, 5))]))


def make_nested(nn_):
    """A module with a ModuleList of Sequential blocks and a ModuleDict of heads."""

    class Net(nn_.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn_.Linear(8, 12)
            self.blocks = nn_.ModuleList(
                [nn_.Sequential(nn_.Linear(12, 12), nn_.ReLU()) for _ in range(3)])
            self.heads = nn_.ModuleDict({"cls": nn_.Linear(12, 5),
                                         "aux": nn_.Sequential(nn_.Linear(12, 4), nn_.Sigmoid(),
                                                               nn_.Linear(4, 5))})

        def forward(self, x):
            h = self.embed(x)
            for block in self.blocks:
                h = h + block(h)  # residual
            return self.heads["cls"](h) + self.heads["aux"](h)

    return Net()


MODELS = {"mlp": mlp, "named_mlp": named_mlp, "nested": make_nested}


@pytest.mark.parametrize("name", list(MODELS))
def test_models_match_torch_with_torch_weights(name):
    torch.manual_seed(1)
    m_th, m_tt = MODELS[name](torch.nn), MODELS[name](nn)
    m_th.eval()
    m_tt.eval()  # dropout off: the forward is deterministic
    assert list(m_tt.state_dict()) == list(m_th.state_dict())
    torch_to_tt(m_th, m_tt)
    assert_same_state_dict(m_tt, m_th)
    x = _input((7, 8), 9)
    assert_same_model_behaviour(m_tt, m_th, x,
                                target=np.random.default_rng(10).integers(0, 5, 7))


@pytest.mark.parametrize("name", list(MODELS))
def test_models_match_torch_with_tinytorch_weights(name):
    tt.manual_seed(2)
    m_th, m_tt = MODELS[name](torch.nn).eval(), MODELS[name](nn).eval()
    tt_to_torch(m_tt, m_th)
    assert_same_state_dict(m_tt, m_th)
    assert_same_model_behaviour(m_tt, m_th, _input((3, 8), 11))


@pytest.mark.parametrize("name", list(MODELS))
def test_models_print_like_torch(name):
    assert repr(MODELS[name](nn)) == repr(MODELS[name](torch.nn))


def test_every_layer_prints_like_torch():
    pairs = [
        (nn.Linear(3, 4), torch.nn.Linear(3, 4)),
        (nn.Linear(3, 4, bias=False), torch.nn.Linear(3, 4, bias=False)),
        (nn.Dropout(), torch.nn.Dropout()),
        (nn.Dropout(0.1, inplace=True), torch.nn.Dropout(0.1, inplace=True)),
        (nn.Identity(), torch.nn.Identity()),
        (nn.Flatten(), torch.nn.Flatten()),
        (nn.Flatten(0, 2), torch.nn.Flatten(0, 2)),
        (nn.Sequential(), torch.nn.Sequential()),
        (nn.ModuleList(), torch.nn.ModuleList()),
        (nn.ModuleDict(), torch.nn.ModuleDict()),
        (nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2)]),
         torch.nn.ModuleList([torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), torch.nn.ReLU(),
                              torch.nn.Linear(2, 2)])),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


def test_layer_signatures_match_torch():
    for name in ["Linear", "Dropout", "Flatten", "Sequential", "ModuleList", "ModuleDict"]:
        ours = inspect.signature(getattr(nn, name).__init__).parameters
        theirs = inspect.signature(getattr(torch.nn, name).__init__).parameters
        assert list(ours) == list(theirs), name
        assert [p.default for p in ours.values()] == [p.default for p in theirs.values()], name
    ours = inspect.signature(F.dropout).parameters
    theirs = inspect.signature(torch.nn.functional.dropout).parameters
    assert list(ours)[:4] == list(theirs)  # plus an optional generator=
    for name in ["calculate_gain", "uniform_", "normal_", "constant_", "ones_", "zeros_",
                 "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"]:
        ours = inspect.signature(getattr(nn.init, name)).parameters
        theirs = inspect.signature(getattr(torch.nn.init, name)).parameters
        assert list(ours) == list(theirs), name
        assert [p.default for p in ours.values()] == [p.default for p in theirs.values()], name


# --------------------------------------------------------------------------- containers


def _both(fn):
    """Apply the same container manipulation in both frameworks; return (ours, theirs)."""
    return fn(nn), fn(torch.nn)


def _layers(nn_, n=4):
    return [nn_.Linear(i + 1, i + 2) for i in range(n)]


@pytest.mark.parametrize("op", [
    lambda nn_: nn_.Sequential(*_layers(nn_))[1:3],
    lambda nn_: nn_.Sequential(*_layers(nn_))[::-2],
    lambda nn_: nn_.Sequential(*_layers(nn_)).append(nn_.ReLU()),
    lambda nn_: nn_.Sequential(*_layers(nn_)).insert(1, nn_.ReLU()),
    lambda nn_: nn_.Sequential(*_layers(nn_)).extend([nn_.ReLU(), nn_.Tanh()]),
    lambda nn_: nn_.Sequential(*_layers(nn_)) + nn_.Sequential(nn_.ReLU()),
    lambda nn_: nn_.Sequential(OrderedDict([("a", nn_.Linear(1, 2)), ("b", nn_.ReLU()),
                                            ("c", nn_.Linear(2, 3))]))[1:],
    lambda nn_: nn_.ModuleList(_layers(nn_))[1:3],
    lambda nn_: nn_.ModuleList(_layers(nn_)).append(nn_.ReLU()),
    lambda nn_: nn_.ModuleList(_layers(nn_)) + nn_.ModuleList([nn_.Tanh()]),
    lambda nn_: nn_.ModuleDict([("x", nn_.Linear(1, 2)), ("y", nn_.ReLU())]),
], ids=["seq-slice", "seq-step-slice", "seq-append", "seq-insert", "seq-extend", "seq-add",
        "seq-named-slice", "list-slice", "list-append", "list-add", "dict-pairs"])
def test_container_operations_match_torch(op):
    ours, theirs = _both(op)
    assert type(ours).__name__ == type(theirs).__name__
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_container_deletion_and_setitem_renumber_like_torch():
    def edit(nn_):
        seq = nn_.Sequential(*_layers(nn_, 5))
        del seq[1]
        seq[-1] = nn_.ReLU()
        popped = seq.pop(0)
        lst = nn_.ModuleList(_layers(nn_, 5))
        del lst[1:3]
        lst.insert(1, nn_.Tanh())
        lst[0] = nn_.Identity()
        d = nn_.ModuleDict({"a": nn_.Linear(1, 1), "b": nn_.ReLU()})
        d["c"] = nn_.Tanh()
        del d["a"]
        d.update({"e": nn_.Linear(2, 2)})
        return seq, popped, lst, d

    (seq, popped, lst, d), (seq2, popped2, lst2, d2) = _both(edit)
    assert repr(seq) == repr(seq2) and repr(popped) == repr(popped2)
    assert repr(lst) == repr(lst2) and repr(d) == repr(d2)
    assert list(seq.state_dict()) == list(seq2.state_dict())
    assert list(d.keys()) == list(d2.keys()) and "c" in d and "a" not in d


def test_container_access():
    layers = _layers(nn, 3)
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and seq[0] is layers[0] and seq[-1] is layers[2]
    assert list(seq) == layers
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    lst = nn.ModuleList(layers)
    assert len(lst) == 3 and lst[-2] is layers[1] and list(lst) == layers
    lst += [nn.ReLU()]
    assert len(lst) == 4
    d = nn.ModuleDict({"a": layers[0]})
    assert d["a"] is layers[0] and list(d) == ["a"] and len(d) == 1
    assert d.pop("a") is layers[0] and len(d) == 0
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.Linear(1, 1), lambda x: x)
    with pytest.raises(TypeError, match="not a Module"):
        lst.append(np.zeros(2))


def test_a_plain_python_list_of_layers_is_invisible_but_modulelist_registers():
    class Bad(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 2)]

    class Good(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2)])

    assert len(list(Bad().parameters())) == 0
    assert [n for n, _ in Good().named_parameters()] == ["layers.0.weight", "layers.0.bias"]


# --------------------------------------------------------------------------- Module behaviour


def test_module_traversal_matches_torch():
    ours, theirs = make_nested(nn), make_nested(torch.nn)
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters())
    ours.eval()
    assert not any(m.training for m in ours.modules())
    ours.train()
    assert all(m.training for m in ours.modules())


def test_shared_submodule_state_dict_keys_match_torch():
    def shared(nn_):
        lin = nn_.Linear(2, 2)
        return nn_.Sequential(lin, nn_.ReLU(), lin)

    ours, theirs = _both(shared)
    assert list(ours.state_dict()) == list(theirs.state_dict())  # both names, as torch
    assert len(list(ours.parameters())) == len(list(theirs.parameters())) == 2  # counted once
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})


def test_state_dict_prefix_and_keep_vars_like_torch():
    ours, theirs = nn.Linear(2, 3), torch.nn.Linear(2, 3)
    assert list(ours.state_dict(prefix="m.")) == list(theirs.state_dict(prefix="m."))
    assert ours.state_dict(keep_vars=True)["weight"] is ours.weight
    assert ours.state_dict()["weight"].requires_grad is False


def test_assigning_a_plain_tensor_to_a_weight_raises_like_torch():
    m = nn.Linear(2, 3)
    with pytest.raises(TypeError, match="'weight'.*Parameter or None expected"):
        m.weight = tt.zeros(3, 2)
    with pytest.raises(TypeError):
        torch.nn.Linear(2, 3).weight = torch.zeros(3, 2)
    m.bias = None  # allowed: the layer now has no bias
    assert m.bias is None and list(m.state_dict()) == ["weight"]
    m.weight = nn.Parameter(np.ones((3, 2), dtype=np.float32))
    np.testing.assert_array_equal(m(tt.ones(1, 2)).numpy(), [[2.0, 2.0, 2.0]])
    with pytest.raises(KeyError, match="must be non-empty and without dots"):
        m.add_module("a.b", nn.ReLU())


def test_zero_grad():
    m = mlp(nn)
    F.cross_entropy(m(tt.randn(4, 8)), tt.tensor([0, 1, 2, 3])).backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


# --------------------------------------------------------------------------- load_state_dict


def test_load_state_dict_accepts_torch_tensors_and_arrays():
    m_th, m_tt = mlp(torch.nn), mlp(nn)
    m_tt.load_state_dict(m_th.state_dict())  # torch tensors convert through __array__
    assert_same_state_dict(m_tt, m_th)


@pytest.mark.parametrize("edit,error,pattern", [
    (lambda sd: sd.pop("2.bias"), KeyError, r"missing key\(s\): 2\.bias"),
    (lambda sd: sd.__setitem__("9.weight", np.zeros(3)), KeyError, r"unexpected key\(s\): 9\.weight"),
    (lambda sd: sd.__setitem__("2.weight", np.zeros((16, 15))), ValueError,
     r"size mismatch for '2\.weight'.*\(16, 15\).*\(16, 16\)"),
], ids=["missing", "unexpected", "shape"])
def test_load_state_dict_errors_name_the_key_and_change_nothing(edit, error, pattern):
    m = mlp(nn)
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    sd = {k: v.numpy() + 1 for k, v in m.state_dict().items()}
    edit(sd)
    with pytest.raises(error, match=pattern):
        m.load_state_dict(sd)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=f"{k} changed by a failed load")


def test_load_state_dict_non_strict_reports_keys_like_torch():
    sd = {k: v.numpy() for k, v in mlp(torch.nn).state_dict().items()}
    sd.pop("0.bias")
    sd["extra"] = np.zeros(1)
    res = mlp(nn).load_state_dict(sd, strict=False)
    ref = mlp(torch.nn).load_state_dict({k: torch.tensor(v) for k, v in sd.items()}, strict=False)
    assert res.missing_keys == ref.missing_keys and res.unexpected_keys == ref.unexpected_keys


def test_load_state_dict_keeps_dtype_and_storage():
    m = nn.Linear(2, 2)
    w = m.weight
    m.load_state_dict({"weight": np.ones((2, 2)), "bias": np.zeros(2)})  # float64 arrays
    assert m.weight is w and w.dtype == np.float32
    np.testing.assert_array_equal(w.numpy(), np.ones((2, 2)))


# --------------------------------------------------------------------------- Dropout


def test_dropout_statistics_match_inverted_dropout():
    p = 0.3
    x = tt.ones(200, 500)
    tt.manual_seed(0)
    y = nn.Dropout(p)(x).numpy()
    zero_frac = np.mean(y == 0)
    assert abs(zero_frac - p) < 0.01  # 100k Bernoulli draws: std of the fraction ~0.0015
    np.testing.assert_allclose(y[y != 0], 1 / (1 - p), rtol=1e-6)  # survivors scaled
    assert abs(y.mean() - 1.0) < 0.02  # the expected value is preserved


def test_dropout_eval_is_identity_and_training_flag_follows_the_model():
    m = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.9))
    x = tt.randn(3, 4)
    m.eval()
    np.testing.assert_array_equal(m(x).numpy(), m[0](x).numpy())
    d = nn.Dropout(0.5).eval()
    assert d(x) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_dropout_is_repeatable_with_a_seed_and_a_generator():
    x = tt.ones(50, 20)
    tt.manual_seed(7)
    a = nn.Dropout(0.5)(x).numpy()
    tt.manual_seed(7)
    b = nn.Dropout(0.5)(x).numpy()
    c = nn.Dropout(0.5)(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)
    g1, g2 = tt.Generator().manual_seed(3), tt.Generator().manual_seed(3)
    np.testing.assert_array_equal(F.dropout(x, 0.5, generator=g1).numpy(),
                                  F.dropout(x, 0.5, generator=g2).numpy())


def test_dropout_gradient_is_the_mask_times_the_scale():
    x = tt.tensor(_input((30, 10), 12), requires_grad=True)
    tt.manual_seed(1)
    y = F.dropout(x, 0.25)
    y.sum().backward()
    kept = y.numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.75, rtol=1e-6)
    np.testing.assert_allclose(y.numpy()[kept], x.numpy()[kept] / 0.75, rtol=1e-6)


def test_dropout_edge_probabilities_and_errors():
    x = tt.randn(4, 5)
    np.testing.assert_array_equal(F.dropout(x, 1.0).numpy(), np.zeros((4, 5)))
    assert F.dropout(x, 1.0).dtype == x.dtype
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(bad)
        with pytest.raises(ValueError, match="between 0 and 1"):
            F.dropout(x, bad)


def test_flatten_and_identity_match_torch():
    x = _input((2, 3, 4, 5), 13)
    for args in [(), (0,), (1, 2), (2, -1), (0, -1)]:
        assert_same_model_behaviour(nn.Flatten(*args), torch.nn.Flatten(*args), x)
    assert_same_model_behaviour(nn.Identity(3, foo=1), torch.nn.Identity(3, foo=1), x)


# --------------------------------------------------------------------------- init


@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None)])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert nn.init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-12)


@pytest.mark.parametrize("shape", [(4, 3), (8, 3, 5), (6, 2, 3, 3), (1, 1)], ids=str)
def test_fans_match_torch(shape):
    assert nn.init._calculate_fan_in_and_fan_out(tt.zeros(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))


def _expected_std(name, shape, **kw):
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))
    if name.startswith("xavier"):
        return kw.get("gain", 1.0) * math.sqrt(2.0 / (fan_in + fan_out))
    fan = fan_in if kw.get("mode", "fan_in") == "fan_in" else fan_out
    gain = torch.nn.init.calculate_gain(kw.get("nonlinearity", "leaky_relu"), kw.get("a", 0))
    return gain / math.sqrt(fan)


@pytest.mark.parametrize("name,kw", [
    ("kaiming_uniform_", {}), ("kaiming_uniform_", {"a": math.sqrt(5)}),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", {}), ("kaiming_normal_", {"nonlinearity": "tanh", "mode": "fan_out"}),
    ("xavier_uniform_", {}), ("xavier_uniform_", {"gain": 2.0}),
    ("xavier_normal_", {}), ("xavier_normal_", {"gain": 0.5}),
])
def test_init_distributions_follow_torch_formulas(name, kw):
    shape = (300, 200, 3)  # 180k samples: the sample std is within ~0.3% of the true one
    w = tt.zeros(*shape)
    out = getattr(nn.init, name)(w, generator=tt.Generator().manual_seed(0), **kw)
    assert out is w and w.dtype == np.float32
    std = _expected_std(name, shape, **kw)
    assert abs(w.numpy().mean()) < 0.01 * std
    assert w.numpy().std() == pytest.approx(std, rel=0.01)
    if name.endswith("uniform_"):
        bound = math.sqrt(3.0) * std
        assert np.abs(w.numpy()).max() <= bound * (1 + 1e-6)
        assert np.abs(w.numpy()).max() > 0.99 * bound


def test_linear_default_init_is_torch_default():
    tt.manual_seed(4)
    m = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (m.weight, m.bias):
        assert np.abs(p.numpy()).max() <= bound
        assert np.abs(p.numpy()).max() > 0.98 * bound
    assert m.weight.numpy().std() == pytest.approx(bound / math.sqrt(3), rel=0.01)
    tt.manual_seed(4)
    np.testing.assert_array_equal(nn.Linear(400, 300).weight.numpy(), m.weight.numpy())  # repeatable


def test_plain_inits():
    w = nn.Parameter(np.zeros((100, 100), dtype=np.float32))
    assert nn.init.uniform_(w, -2, 3) is w
    assert w.numpy().min() >= -2 and w.numpy().max() < 3 and abs(w.numpy().mean() - 0.5) < 0.05
    nn.init.normal_(w, 1.0, 0.5, generator=tt.Generator().manual_seed(1))
    assert w.numpy().mean() == pytest.approx(1.0, abs=0.02) and w.numpy().std() == pytest.approx(0.5, rel=0.02)
    np.testing.assert_array_equal(nn.init.constant_(w, 0.25).numpy(), 0.25)
    np.testing.assert_array_equal(nn.init.ones_(w).numpy(), 1.0)
    np.testing.assert_array_equal(nn.init.zeros_(w).numpy(), 0.0)
    assert w.requires_grad and w.grad_fn is None  # in place on the leaf, nothing recorded


def test_init_errors_like_torch():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(tt.zeros(3))
    with pytest.raises(ValueError, match="Mode fan_mid not supported"):
        nn.init.kaiming_normal_(tt.zeros(3, 3), mode="fan_mid")
    with pytest.raises(ValueError, match="Unsupported nonlinearity softsign"):
        nn.init.calculate_gain("softsign")
    with pytest.warns(UserWarning, match="zero-element"):
        nn.init.kaiming_uniform_(tt.zeros(0, 3))


def test_replacing_a_layer_or_weight_keeps_its_place_like_torch():
    def replace(nn_):
        m = named_mlp(nn_)
        m.fc1 = nn_.Linear(8, 6)  # fine-tuning: swap a layer
        return m

    ours, theirs = _both(replace)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    m = nn.Linear(2, 3)
    m.weight = nn.Parameter(np.zeros((3, 2), dtype=np.float32))
    assert list(m.state_dict()) == ["weight", "bias"]
