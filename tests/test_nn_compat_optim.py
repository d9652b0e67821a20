"""Adagrad, Adadelta and the extra schedules (issue 9) against PyTorch.

Same harness as ``test_optim_parity.py``: the same network in both frameworks, the same data,
weights compared after every step; schedules compared lr by lr; state_dicts resume exactly.
"""

import itertools

import numpy as np
import pytest

import tinytorch as tt
from test_optim_parity import (_data, _init_weights, _lr_sequences, _run_both, _tt_model,
                               _tt_step)
from tinytorch.optim import lr_scheduler as sched

torch = pytest.importorskip("torch")
TS = torch.optim.lr_scheduler


@pytest.mark.parametrize("kwargs", [
    dict(zip(("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "maximize"), v))
    for v in itertools.product([0.05], [0.0, 0.1], [0.0, 0.01], [0.0, 0.3], [False, True])
] + [{}])
def test_adagrad_matches_torch(kwargs):
    _run_both(tt.optim.Adagrad, torch.optim.Adagrad, kwargs)


@pytest.mark.parametrize("kwargs", [
    dict(zip(("lr", "rho", "eps", "weight_decay", "maximize"), v))
    for v in itertools.product([1.0, 0.5], [0.9, 0.5], [1e-6, 1e-3], [0.0, 0.01], [False, True])
] + [{}])
def test_adadelta_matches_torch(kwargs):
    _run_both(tt.optim.Adadelta, torch.optim.Adadelta, kwargs)


@pytest.mark.parametrize("name", ["Adagrad", "Adadelta"])
def test_param_groups_and_defaults_match_torch(name):
    _run_both(getattr(tt.optim, name), getattr(torch.optim, name), {}, grouped=True)
    p_tt, p_th = [tt.zeros(2, requires_grad=True)], [torch.zeros(2, requires_grad=True)]
    ours = getattr(tt.optim, name)(p_tt).param_groups[0]
    theirs = getattr(torch.optim, name)(p_th).param_groups[0]
    for key in ("lr", "eps", "weight_decay", "rho", "lr_decay", "initial_accumulator_value",
                "maximize"):
        assert ours.get(key) == theirs.get(key), f"{name} default {key}"


@pytest.mark.parametrize("make", [
    lambda p: tt.optim.Adagrad(p, lr=0.1, lr_decay=0.05, initial_accumulator_value=0.1),
    lambda p: tt.optim.Adadelta(p, lr=0.7, weight_decay=0.01),
], ids=["adagrad", "adadelta"])
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
    resumed = _tt_model(model_sd)
    opt2 = make(resumed.parameters())
    opt2.load_state_dict(opt_sd)
    for _ in range(3):
        _tt_step(resumed, opt2, x, y)
    for (name, p), (_, q) in zip(straight.named_parameters(), resumed.named_parameters()):
        assert np.array_equal(p.numpy(), q.numpy()), f"{name} differs after resuming"


@pytest.mark.parametrize("name", ["Adagrad", "Adadelta"])
def test_torch_state_dict_loads_and_continues_like_torch(name):
    """State saved by torch (its keys: sum / square_avg, acc_delta, step) resumes here."""
    from test_optim_parity import _torch_model, _torch_step, _compare

    weights = _init_weights()
    x, y = _data()
    b = _torch_model(weights)
    opt_b = getattr(torch.optim, name)(b.parameters(), lr=0.3)
    for _ in range(3):
        _torch_step(b, opt_b, x, y)
    a = _tt_model({k: v.detach().numpy().copy() for k, v in b.state_dict().items()})
    opt_a = getattr(tt.optim, name)(a.parameters())
    sd = opt_b.state_dict()
    opt_a.load_state_dict({"state": {k: {n: t.numpy().copy() for n, t in s.items()}
                                     for k, s in sd["state"].items()},
                           "param_groups": sd["param_groups"]})
    assert set(opt_a.state_dict()["state"][0]) == set(sd["state"][0])
    for _ in range(3):
        _tt_step(a, opt_a, x, y)
        _torch_step(b, opt_b, x, y)
    _compare(a, b, f"{name} resumed from torch's state")


SCHEDULES = {
    "exponential": (lambda o: sched.ExponentialLR(o, gamma=0.9),
                    lambda o: TS.ExponentialLR(o, gamma=0.9)),
    "multistep": (lambda o: sched.MultiStepLR(o, milestones=[20, 5, 12], gamma=0.3),
                  lambda o: TS.MultiStepLR(o, milestones=[20, 5, 12], gamma=0.3)),
    "constant": (lambda o: sched.ConstantLR(o, factor=0.5, total_iters=7),
                 lambda o: TS.ConstantLR(o, factor=0.5, total_iters=7)),
    "polynomial": (lambda o: sched.PolynomialLR(o, total_iters=30, power=2.0),
                   lambda o: TS.PolynomialLR(o, total_iters=30, power=2.0)),
    "warm-restarts": (lambda o: sched.CosineAnnealingWarmRestarts(o, T_0=7, eta_min=1e-3),
                      lambda o: TS.CosineAnnealingWarmRestarts(o, T_0=7, eta_min=1e-3)),
    "warm-restarts-mult": (lambda o: sched.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
                           lambda o: TS.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2)),
    "onecycle": (lambda o: sched.OneCycleLR(o, max_lr=[0.5, 0.1], total_steps=45),
                 lambda o: TS.OneCycleLR(o, max_lr=[0.5, 0.1], total_steps=45)),
    "onecycle-linear-3phase": (
        lambda o: sched.OneCycleLR(o, max_lr=0.4, epochs=5, steps_per_epoch=9, pct_start=0.25,
                                   anneal_strategy="linear", three_phase=True),
        lambda o: TS.OneCycleLR(o, max_lr=0.4, epochs=5, steps_per_epoch=9, pct_start=0.25,
                                anneal_strategy="linear", three_phase=True)),
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_matches_torch(name):
    make_tt, make_torch = SCHEDULES[name]
    got, want = _lr_sequences(make_tt, make_torch, steps=45, groups=((0.1,), (0.02,)))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15, err_msg=name)


def test_onecycle_cycles_momentum_and_beta1_like_torch():
    for opt_name, key in (("SGD", "momentum"), ("Adam", "betas")):
        p_tt, p_th = [tt.zeros(2, requires_grad=True)], [torch.zeros(2, requires_grad=True)]
        kw = {"momentum": 0.9} if opt_name == "SGD" else {}
        o_tt = getattr(tt.optim, opt_name)(p_tt, lr=0.1, **kw)
        o_th = getattr(torch.optim, opt_name)(p_th, lr=0.1, **kw)
        s_tt = sched.OneCycleLR(o_tt, max_lr=1.0, total_steps=10)
        s_th = TS.OneCycleLR(o_th, max_lr=1.0, total_steps=10)
        for _ in range(10):
            assert o_tt.param_groups[0][key] == pytest.approx(o_th.param_groups[0][key])
            o_tt.step(), o_th.step(), s_tt.step(), s_th.step()
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        s_tt.step()


def test_reduce_lr_on_plateau_matches_torch():
    losses = [1.0, 0.9, 0.95, 0.97, 0.96, 0.99, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3,
              1.4, 1.5, 0.1, 0.2, 0.3, 0.3, 0.3, 0.3, 0.3]
    for kw in ({"patience": 2}, {"patience": 1, "factor": 0.5, "cooldown": 2, "min_lr": 0.02},
               {"mode": "max", "patience": 0, "threshold_mode": "abs", "threshold": 0.05}):
        p_tt, p_th = [tt.zeros(2, requires_grad=True)], [torch.zeros(2, requires_grad=True)]
        o_tt, o_th = tt.optim.SGD(p_tt, lr=0.1), torch.optim.SGD(p_th, lr=0.1)
        s_tt, s_th = sched.ReduceLROnPlateau(o_tt, **kw), TS.ReduceLROnPlateau(o_th, **kw)
        for i, loss in enumerate(losses):
            s_tt.step(tt.tensor(loss))
            s_th.step(loss)
            assert s_tt.get_last_lr() == pytest.approx(s_th.get_last_lr()), (kw, i)
        resumed = sched.ReduceLROnPlateau(tt.optim.SGD([tt.zeros(2, requires_grad=True)], lr=1))
        resumed.load_state_dict(s_tt.state_dict())
        assert resumed.best == s_tt.best and resumed.num_bad_epochs == s_tt.num_bad_epochs


def test_bad_arguments_raise_like_torch():
    p = [tt.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match="lr_decay"):
        tt.optim.Adagrad(p, lr_decay=-1)
    with pytest.raises(ValueError, match="rho"):
        tt.optim.Adadelta(p, rho=1.5)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        sched.ReduceLROnPlateau(tt.optim.SGD(p, lr=0.1), factor=2)
    with pytest.raises(ValueError, match="total_steps OR"):
        sched.OneCycleLR(tt.optim.SGD(p, lr=0.1, momentum=0.9), max_lr=1.0)
    with pytest.raises(ValueError, match="momentum or beta1"):
        sched.OneCycleLR(tt.optim.Adagrad(p), max_lr=1.0, total_steps=5)
