"""Optimizers, schedulers and gradient clipping against PyTorch (module 06).

The same two-layer network is built in both frameworks with the same weights; each step both
compute the gradient of the same loss on the same data, and both optimizers update. After
every step the weights must agree (rtol 1e-5): the update rules are PyTorch's, option for
option. Schedules must produce PyTorch's learning-rate sequence, and a state_dict saved
mid-run must resume exactly where an uninterrupted run goes.
"""

import inspect
import itertools
import math

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
from tinytorch.optim import lr_scheduler as sched

torch = pytest.importorskip("torch")

STEPS = 6
RTOL, ATOL = 1e-5, 1e-6


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((16, 5)).astype(np.float32)
    y = rng.standard_normal((16, 3)).astype(np.float32)
    return x, y


def _init_weights(seed=1):
    rng = np.random.default_rng(seed)
    return {"0.weight": rng.uniform(-0.5, 0.5, (8, 5)).astype(np.float32),
            "0.bias": rng.uniform(-0.5, 0.5, (8,)).astype(np.float32),
            "2.weight": rng.uniform(-0.5, 0.5, (3, 8)).astype(np.float32),
            "2.bias": rng.uniform(-0.5, 0.5, (3,)).astype(np.float32)}


def _tt_model(weights):
    m = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
    m.load_state_dict(weights)
    return m


def _torch_model(weights):
    m = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    m.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
    return m


def _tt_step(model, opt, x, y):
    opt.zero_grad()
    loss = ((model(tt.tensor(x)) - tt.tensor(y)) ** 2).mean()
    loss.backward()
    opt.step()


def _torch_step(model, opt, x, y):
    opt.zero_grad()
    loss = ((model(torch.tensor(x)) - torch.tensor(y)) ** 2).mean()
    loss.backward()
    opt.step()


def _groups(model, grouped, lib_lr):
    """All parameters in one group, or two groups (first layer with its own lr)."""
    params = list(model.parameters())
    if not grouped:
        return params
    return [{"params": params[:2], "lr": lib_lr}, {"params": params[2:]}]


def _compare(tt_model, torch_model, what):
    for (name, p), (_, q) in zip(tt_model.named_parameters(), torch_model.named_parameters()):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=RTOL, atol=ATOL,
                                   err_msg=f"{what}: parameter {name}")


def _run_both(tt_cls, torch_cls, kwargs, grouped=False, steps=STEPS):
    weights = _init_weights()
    x, y = _data()
    a, b = _tt_model(weights), _torch_model(weights)
    opt_a = tt_cls(_groups(a, grouped, 0.05), **kwargs)
    opt_b = torch_cls(_groups(b, grouped, 0.05), **kwargs)
    for step in range(steps):
        _tt_step(a, opt_a, x, y)
        _torch_step(b, opt_b, x, y)
        _compare(a, b, f"{tt_cls.__name__}({kwargs}) after step {step + 1}")
    return a, opt_a, b, opt_b


# --------------------------------------------------------------------------- update rules


def _sgd_options():
    out = []
    for mom, damp, wd, nest, maxi in itertools.product([0.0, 0.9], [0.0, 0.3], [0.0, 0.01],
                                                       [False, True], [False, True]):
        if nest and (mom == 0 or damp != 0):
            continue
        out.append(dict(lr=0.1, momentum=mom, dampening=damp, weight_decay=wd, nesterov=nest,
                        maximize=maxi))
    return out


@pytest.mark.parametrize("kwargs", _sgd_options(), ids=lambda k: "-".join(
    f"{n}={v}" for n, v in k.items() if n != "lr"))
def test_sgd_matches_torch(kwargs):
    _run_both(tt.optim.SGD, torch.optim.SGD, kwargs)


@pytest.mark.parametrize("kwargs", [
    dict(lr=0.01),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
    dict(lr=0.01, weight_decay=0.05, amsgrad=True, maximize=True),
])
def test_adam_matches_torch(kwargs):
    _run_both(tt.optim.Adam, torch.optim.Adam, kwargs)


@pytest.mark.parametrize("kwargs", [dict(lr=0.01), dict(lr=0.01, weight_decay=0.3, amsgrad=True)])
def test_adamw_matches_torch(kwargs):
    _run_both(tt.optim.AdamW, torch.optim.AdamW, kwargs)


@pytest.mark.parametrize("centered,momentum,wd", list(itertools.product(
    [False, True], [0.0, 0.9], [0.0, 0.01])))
def test_rmsprop_matches_torch(centered, momentum, wd):
    _run_both(tt.optim.RMSprop, torch.optim.RMSprop,
              dict(lr=0.01, centered=centered, momentum=momentum, weight_decay=wd))


@pytest.mark.parametrize("name,kwargs", [
    ("SGD", dict(lr=0.01, momentum=0.9)),
    ("Adam", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.005, momentum=0.5)),
])
def test_param_groups_with_their_own_lr_match_torch(name, kwargs):
    a, opt_a, b, opt_b = _run_both(getattr(tt.optim, name), getattr(torch.optim, name), kwargs,
                                   grouped=True)
    assert [g["lr"] for g in opt_a.param_groups] == [0.05, kwargs["lr"]]


def test_defaults_equal_torch():
    for name in ("SGD", "Adam", "AdamW", "RMSprop"):
        mine = inspect.signature(getattr(tt.optim, name)).parameters
        theirs = inspect.signature(getattr(torch.optim, name)).parameters
        for arg, p in mine.items():
            if arg != "params":
                assert arg in theirs, f"{name}: torch has no argument {arg}"
                assert p.default == theirs[arg].default, f"{name}.{arg} default"


def test_state_dict_has_torch_layout():
    a, opt_a, b, opt_b = _run_both(tt.optim.Adam, torch.optim.Adam, dict(lr=0.01, amsgrad=True),
                                   grouped=True, steps=2)
    mine, theirs = opt_a.state_dict(), opt_b.state_dict()
    assert sorted(mine["state"]) == sorted(theirs["state"]) == [0, 1, 2, 3]
    for k in mine["state"]:
        assert list(mine["state"][k]) == list(theirs["state"][k])
        assert mine["state"][k]["step"] == int(theirs["state"][k]["step"])
        for name in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            np.testing.assert_allclose(mine["state"][k][name], theirs["state"][k][name].numpy(),
                                       rtol=1e-4, atol=1e-7)
    for g_mine, g_theirs in zip(mine["param_groups"], theirs["param_groups"]):
        assert g_mine["params"] == g_theirs["params"]
        for key, value in g_mine.items():
            assert g_theirs[key] == value, key


def test_torch_state_dict_loads_and_continues_like_torch():
    """Adam state exported from PyTorch (as arrays) resumes in tinytorch exactly as in torch."""
    weights = _init_weights()
    x, y = _data()
    b = _torch_model(weights)
    opt_b = torch.optim.Adam(b.parameters(), lr=0.01, weight_decay=0.01)
    for _ in range(3):
        _torch_step(b, opt_b, x, y)
    a = _tt_model({k: v.detach().numpy().copy() for k, v in b.state_dict().items()})
    opt_a = tt.optim.Adam(a.parameters(), lr=0.5)  # lr comes back from the state dict
    sd = opt_b.state_dict()
    opt_a.load_state_dict({"state": {k: {n: (t.numpy().copy() if hasattr(t, "numpy") else t)
                                         for n, t in s.items()} for k, s in sd["state"].items()},
                           "param_groups": sd["param_groups"]})
    assert opt_a.param_groups[0]["lr"] == 0.01
    for _ in range(3):
        _tt_step(a, opt_a, x, y)
        _torch_step(b, opt_b, x, y)
    _compare(a, b, "Adam resumed from torch's state")


# --------------------------------------------------------------------------- resume


@pytest.mark.parametrize("make", [
    lambda p: tt.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda p: tt.optim.Adam(p, lr=0.01, amsgrad=True),
    lambda p: tt.optim.AdamW(p, lr=0.01),
    lambda p: tt.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
], ids=["sgd", "adam", "adamw", "rmsprop"])
def test_state_dict_round_trip_resumes_identically(make):
    weights = _init_weights()
    x, y = _data()
    straight = _tt_model(weights)
    opt = make(straight.parameters())
    for _ in range(6):
        _tt_step(straight, opt, x, y)

    first = _tt_model(weights)
    opt1 = make(first.parameters())
    for _ in range(3):
        _tt_step(first, opt1, x, y)
    model_sd = {k: v.numpy().copy() for k, v in first.state_dict().items()}
    opt_sd = opt1.state_dict()
    for _ in range(2):  # keep training the original: the saved dicts must not change
        _tt_step(first, opt1, x, y)

    resumed = _tt_model(model_sd)
    opt2 = make(resumed.parameters())
    opt2.load_state_dict(opt_sd)
    for _ in range(3):
        _tt_step(resumed, opt2, x, y)
    for (name, p), (_, q) in zip(straight.named_parameters(), resumed.named_parameters()):
        assert np.array_equal(p.numpy(), q.numpy()), f"{name} differs after resuming"


def test_load_state_dict_rejects_another_architecture():
    a = _tt_model(_init_weights())
    opt = tt.optim.SGD(a.parameters(), lr=0.1, momentum=0.9)
    _tt_step(opt=opt, model=a, x=_data()[0], y=_data()[1])
    other = tt.optim.SGD(list(a.parameters())[:2], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="group 0 has 2 parameters here but 4"):
        other.load_state_dict(opt.state_dict())


# --------------------------------------------------------------------------- schedules


def _lr_sequences(make_tt, make_torch, steps=40, groups=((0.1,),)):
    """lr of every group after each of ``steps`` scheduler steps, in both frameworks."""
    lrs = [g[0] for g in groups]
    p_tt = [tt.zeros(2, requires_grad=True) for _ in lrs]
    p_th = [torch.zeros(2, requires_grad=True) for _ in lrs]
    opt_tt = tt.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(p_tt, lrs)], lr=1.0)
    opt_th = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(p_th, lrs)], lr=1.0)
    s_tt, s_th = make_tt(opt_tt), make_torch(opt_th)
    got, want = [s_tt.get_last_lr()], [s_th.get_last_lr()]
    for _ in range(steps):
        opt_tt.step()
        opt_th.step()
        s_tt.step()
        s_th.step()
        got.append(s_tt.get_last_lr())
        want.append(s_th.get_last_lr())
        assert [g["lr"] for g in opt_tt.param_groups] == got[-1]
    return np.array(got), np.array(want)


def _warmup_cosine_lambda(warmup, total, base, min_lr):
    def f(t):
        if t < warmup:
            return (t + 1) / warmup
        p = min(1.0, (t - warmup) / (total - warmup))
        return (min_lr + (base - min_lr) * (1 + math.cos(math.pi * p)) / 2) / base
    return f


SCHEDULES = {
    "step": (lambda o: sched.StepLR(o, step_size=7, gamma=0.5),
             lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5)),
    "cosine": (lambda o: sched.CosineAnnealingLR(o, T_max=20, eta_min=1e-3),
               lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=20, eta_min=1e-3)),
    "cosine-to-zero": (lambda o: sched.CosineAnnealingLR(o, T_max=30),
                       lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=30)),
    "linear-default": (lambda o: sched.LinearLR(o),
                       lambda o: torch.optim.lr_scheduler.LinearLR(o)),
    "linear-decay": (lambda o: sched.LinearLR(o, start_factor=1.0, end_factor=0.05,
                                              total_iters=25),
                     lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=1.0,
                                                                 end_factor=0.05, total_iters=25)),
    "lambda": (lambda o: sched.LambdaLR(o, lambda t: 0.95 ** t),
               lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda t: 0.95 ** t)),
    "warmup-cosine": (lambda o: sched.WarmupCosineLR(o, warmup_steps=5, total_steps=30),
                      lambda o: torch.optim.lr_scheduler.LambdaLR(
                          o, _warmup_cosine_lambda(5, 30, 1.0, 0.0))),
    "sequential": (lambda o: sched.SequentialLR(
        o, [sched.LinearLR(o, start_factor=0.1, total_iters=5),
            sched.CosineAnnealingLR(o, T_max=25, eta_min=1e-4)], milestones=[5]),
        lambda o: torch.optim.lr_scheduler.SequentialLR(
            o, [torch.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=5),
                torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=25, eta_min=1e-4)],
            milestones=[5])),
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_matches_torch(name):
    make_tt, make_torch = SCHEDULES[name]
    got, want = _lr_sequences(make_tt, make_torch, steps=45, groups=((0.1,), (0.02,)))
    # closed form here, recursion in torch: equal up to the last bits of a float64
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15, err_msg=name)


def test_warmup_cosine_closed_form():
    p = tt.zeros(1, requires_grad=True)
    opt = tt.optim.AdamW([p], lr=3e-4)
    s = sched.WarmupCosineLR(opt, warmup_steps=4, total_steps=12, min_lr=1e-5)
    lrs = [s.get_last_lr()[0]]
    for _ in range(15):
        s.step()
        lrs.append(s.get_last_lr()[0])
    want = [_warmup_cosine_lambda(4, 12, 3e-4, 1e-5)(t) * 3e-4 for t in range(16)]
    np.testing.assert_allclose(lrs, want, rtol=1e-12)
    assert lrs[3] == pytest.approx(3e-4) and lrs[12:] == [pytest.approx(1e-5)] * 4


@pytest.mark.parametrize("name", ["step", "cosine", "sequential"])
def test_scheduler_state_dict_resumes(name):
    make_tt, _ = SCHEDULES[name]

    def fresh():
        p = tt.zeros(1, requires_grad=True)
        opt = tt.optim.SGD([p], lr=0.1)
        return opt, make_tt(opt)

    opt, s = fresh()
    for _ in range(8):
        s.step()
    saved_opt, saved = opt.state_dict(), s.state_dict()
    straight = []
    for _ in range(10):
        s.step()
        straight.append(s.get_last_lr())
    opt2, s2 = fresh()
    opt2.load_state_dict(saved_opt)
    s2.load_state_dict(saved)
    resumed = []
    for _ in range(10):
        s2.step()
        resumed.append(s2.get_last_lr())
    assert resumed == straight


# --------------------------------------------------------------------------- clipping


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    rng = np.random.default_rng(7)
    grads = [rng.standard_normal(s).astype(np.float32) for s in [(4, 3), (3,), (2, 2, 2)]]
    ps = [tt.zeros(g.shape, requires_grad=True) for g in grads]
    qs = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for p, q, g in zip(ps, qs, grads):
        p.grad = tt.tensor(g.copy())
        q.grad = torch.tensor(g.copy())
    ps.append(tt.zeros(3, requires_grad=True))  # no grad: skipped
    total = tt.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    want = torch.nn.utils.clip_grad_norm_(qs, max_norm, norm_type=norm_type)
    assert isinstance(total, tt.Tensor) and total.dtype == tt.float32
    np.testing.assert_allclose(total.item(), want.item(), rtol=1e-5)
    for p, q in zip(ps, qs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_value_matches_torch():
    g = np.random.default_rng(3).standard_normal((5, 4)).astype(np.float32)
    p, q = tt.zeros(5, 4, requires_grad=True), torch.zeros(5, 4, requires_grad=True)
    p.grad, q.grad = tt.tensor(g.copy()), torch.tensor(g.copy())
    tt.nn.utils.clip_grad_value_(p, 0.3)
    torch.nn.utils.clip_grad_value_(q, 0.3)
    np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_clip_grad_norm_nonfinite():
    p = tt.zeros(2, requires_grad=True)
    p.grad = tt.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        tt.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


# --------------------------------------------------------------------------- bad input


def test_bad_arguments_raise_clear_errors():
    w = tt.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match="learning rate"):
        tt.optim.SGD([w], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        tt.optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta parameter at index 1"):
        tt.optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="empty parameter list"):
        tt.optim.Adam([])
    with pytest.raises(TypeError, match="not a set"):
        tt.optim.SGD({w}, lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        tt.optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        tt.optim.SGD([w * 2], lr=0.1)
    with pytest.raises(TypeError, match="not an Optimizer"):
        sched.StepLR(object(), step_size=2)
    opt = tt.optim.SGD([w], lr=0.1)
    w.grad = tt.zeros(4)
    with pytest.raises(ValueError, match=r"shape \(3,\) but its .grad has shape \(4,\)"):
        opt.step()


def test_zero_grad_and_closure():
    w = tt.tensor([1.0, -2.0], requires_grad=True)
    opt = tt.optim.SGD([w], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 5.0
    np.testing.assert_array_equal(w.numpy(), [0.0, 0.0])  # w - 0.5 * 2w
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert w.grad is None
    opt.add_param_group({"params": tt.zeros(2, requires_grad=True), "lr": 0.1})
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["momentum"] == 0.0
    assert "Parameter Group 1" in repr(opt)


# --------------------------------------------------------------------------- any shapes

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_SHAPES = st.lists(st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple), min_size=1,
                   max_size=4)


@settings(max_examples=25, deadline=None)
@given(shapes=_SHAPES, seed=st.integers(0, 2 ** 16), max_norm=st.floats(0.01, 10.0),
       norm_type=st.sampled_from([1.0, 2.0, 2.5, float("inf")]))
def test_clip_grad_norm_any_shapes_matches_torch(shapes, seed, max_norm, norm_type):
    rng = np.random.default_rng(seed)
    grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    ps = [tt.zeros(*s, requires_grad=True) if s else tt.tensor(0.0, requires_grad=True)
          for s in shapes]
    qs = [torch.zeros(s, requires_grad=True) for s in shapes]
    for p, q, g in zip(ps, qs, grads):
        p.grad, q.grad = tt.tensor(g.copy()), torch.tensor(g.copy())
    total = tt.nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
    want = torch.nn.utils.clip_grad_norm_(qs, max_norm, norm_type)
    np.testing.assert_allclose(total.item(), want.item(), rtol=1e-5)
    for p, q in zip(ps, qs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)


@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple),
       seed=st.integers(0, 2 ** 16), name=st.sampled_from(["SGD", "Adam", "AdamW", "RMSprop"]))
def test_any_shape_parameter_matches_torch(shape, seed, name):
    """One parameter of any shape, random gradients for 5 steps: the same values as torch."""
    rng = np.random.default_rng(seed)
    p0 = rng.standard_normal(shape).astype(np.float32)
    kwargs = {"SGD": dict(lr=0.1, momentum=0.9, weight_decay=0.01), "Adam": dict(lr=0.01),
              "AdamW": dict(lr=0.01), "RMSprop": dict(lr=0.01, centered=True)}[name]
    p = tt.tensor(p0.copy(), requires_grad=True)
    q = torch.tensor(p0.copy(), requires_grad=True)
    a, b = getattr(tt.optim, name)([p], **kwargs), getattr(torch.optim, name)([q], **kwargs)
    for _ in range(5):
        g = rng.standard_normal(shape).astype(np.float32)
        p.grad, q.grad = tt.tensor(g.copy()), torch.tensor(g.copy())
        a.step()
        b.step()
    np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=RTOL, atol=ATOL)
