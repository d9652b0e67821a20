"""Module 06 graded tests: every option of every optimizer, alone and combined; every schedule
over its whole range; clipping in every norm.

The oracles are PyTorch's published update rules written out below in NumPy (float64), one
function per optimizer, independent of the code under test. Each optimizer is run for 5 steps
with a different gradient each step (the first step is special for momentum and bias
correction, later steps for the running buffers), on every combination of its options -- an
option that works on SGD but is forgotten on Adam or RMSprop, or that only works when another
one is off (nesterov with weight decay, maximize with weight decay), fails here.
"""

import itertools
import math

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.optim import lr_scheduler
from tinytorch.testing import assert_close

STEPS = 5


def _data(seed=0):
    rng = np.random.default_rng(seed)
    p0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) * (1 + i) for i in range(STEPS)]  # growing: max matters
    grads[2] = grads[2] * 0.05  # a small gradient after big ones: amsgrad's max keeps the old v
    return p0, grads


def _run(opt_cls, kwargs, p0, grads):
    p = tt.tensor(p0.copy(), requires_grad=True)
    opt = opt_cls([p], **kwargs)
    for g in grads:
        p.grad = tt.tensor(g.copy())
        opt.step()
    return p.numpy()


def sgd_oracle(p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
               maximize=False):
    p, buf = p.copy(), None
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


def adam_oracle(p, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                maximize=False, decoupled=False):
    b1, b2 = betas
    p, m, v, vmax = p.copy(), 0.0, 0.0, 0.0
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        denom = np.sqrt(vmax if amsgrad else v) / math.sqrt(1 - b2 ** t) + eps
        p = p - lr / (1 - b1 ** t) * m / denom
    return p


def rmsprop_oracle(p, grads, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                   centered=False, maximize=False):
    p, v, a, buf = p.copy(), 0.0, 0.0, 0.0
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            a = alpha * a + (1 - alpha) * g
            denom = np.sqrt(v - a * a) + eps
        else:
            denom = np.sqrt(v) + eps
        if momentum:
            buf = momentum * buf + g / denom
            p = p - lr * buf
        else:
            p = p - lr * g / denom
    return p


def _combos(options):
    """Every subset of the options: each alone, each pair, ..., all together."""
    names = list(options)
    for r in range(len(names) + 1):
        for subset in itertools.combinations(names, r):
            yield {k: options[k] for k in subset}


def _id(kwargs):
    return ",".join(f"{k}={v}" for k, v in kwargs.items()) or "plain"


SGD_CASES = [c for c in _combos({"momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1,
                                 "nesterov": True, "maximize": True})
             if not (c.get("nesterov") and (not c.get("momentum") or c.get("dampening")))]
ADAM_CASES = list(_combos({"weight_decay": 0.1, "amsgrad": True, "maximize": True,
                           "betas": (0.8, 0.9), "eps": 1e-3}))
RMS_CASES = list(_combos({"weight_decay": 0.1, "momentum": 0.8, "centered": True,
                          "maximize": True, "alpha": 0.9}))


@pytest.mark.parametrize("kwargs", SGD_CASES, ids=_id)
def test_sgd_every_option_combination(kwargs):
    p0, grads = _data(1)
    assert_close(_run(tt.optim.SGD, {"lr": 0.1, **kwargs}, p0, grads),
                 sgd_oracle(p0, grads, 0.1, **kwargs), rtol=1e-9, atol=1e-12,
                 what=f"SGD({_id(kwargs)}) after {STEPS} steps")


@pytest.mark.parametrize("kwargs", ADAM_CASES, ids=_id)
@pytest.mark.parametrize("decoupled", [False, True], ids=["Adam", "AdamW"])
def test_adam_and_adamw_every_option_combination(kwargs, decoupled):
    p0, grads = _data(2)
    cls = tt.optim.AdamW if decoupled else tt.optim.Adam
    kwargs = dict(kwargs)
    if decoupled:
        kwargs.setdefault("weight_decay", 0.0)  # AdamW's default is 0.01: say what we test
    assert_close(_run(cls, {"lr": 0.05, **kwargs}, p0, grads),
                 adam_oracle(p0, grads, 0.05, decoupled=decoupled, **kwargs),
                 rtol=1e-8, atol=1e-10, what=f"{cls.__name__}({_id(kwargs)}) after {STEPS} steps")


def test_adamw_default_decay_uses_the_learning_rate():
    p0, grads = _data(3)
    for lr in (0.5, 0.01):
        assert_close(_run(tt.optim.AdamW, {"lr": lr}, p0, grads),
                     adam_oracle(p0, grads, lr, weight_decay=0.01, decoupled=True), rtol=1e-8,
                     what=f"AdamW(lr={lr}) with its default weight_decay=0.01: p *= 1 - lr * wd")


@pytest.mark.parametrize("kwargs", RMS_CASES, ids=_id)
def test_rmsprop_every_option_combination(kwargs):
    p0, grads = _data(4)
    assert_close(_run(tt.optim.RMSprop, {"lr": 0.01, **kwargs}, p0, grads),
                 rmsprop_oracle(p0, grads, 0.01, **kwargs), rtol=1e-8, atol=1e-10,
                 what=f"RMSprop({_id(kwargs)}) after {STEPS} steps")


@pytest.mark.parametrize("cls, kwargs", [
    (tt.optim.SGD, {"momentum": 0.9, "weight_decay": 0.1}),
    (tt.optim.Adam, {"amsgrad": True, "weight_decay": 0.1}),
    (tt.optim.AdamW, {"weight_decay": 0.1}),
    (tt.optim.RMSprop, {"momentum": 0.5, "centered": True}),
], ids=lambda v: getattr(v, "__name__", ""))
def test_zero_gradient_and_zero_lr_edges(cls, kwargs):
    """lr = 0 never moves a weight; a zero gradient with no decay never moves it either."""
    p0, grads = _data(5)
    assert_close(_run(cls, {"lr": 0.0, **kwargs}, p0, grads), p0, rtol=0, atol=0,
                 what=f"{cls.__name__}(lr=0) must leave the weights unchanged")
    plain = {k: v for k, v in kwargs.items() if k != "weight_decay"}
    zeros = [np.zeros_like(g) for g in grads]
    assert_close(_run(cls, {"lr": 0.1, **plain, **({"weight_decay": 0.0} if cls is tt.optim.AdamW else {})},
                      p0, zeros), p0, rtol=0, atol=0,
                 what=f"{cls.__name__}: zero gradients and no decay leave the weights unchanged")


# ------------------------------------------------------------------------------ schedules

def _lrs(make, n_steps=12, lrs=(0.1, 0.03)):
    """The lr of each group before each of n_steps steps (two groups, different base lrs)."""
    a, b = tt.tensor(np.zeros(2), requires_grad=True), tt.tensor(np.zeros(2), requires_grad=True)
    opt = tt.optim.SGD([{"params": [a], "lr": lrs[0]}, {"params": [b], "lr": lrs[1]}], lr=lrs[0])
    sched = make(opt)
    out = []
    for _ in range(n_steps):
        out.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    assert [g["lr"] for g in opt.param_groups] == sched.get_last_lr()
    return np.array(out)


def _expect(fn, n_steps=12, lrs=(0.1, 0.03)):
    return np.array([[fn(t, base) for base in lrs] for t in range(n_steps)])


@pytest.mark.parametrize("step_size, gamma", [(1, 0.5), (3, 0.1), (5, 0.9)])
def test_step_lr_whole_range(step_size, gamma):
    assert_close(_lrs(lambda o: lr_scheduler.StepLR(o, step_size, gamma)),
                 _expect(lambda t, b: b * gamma ** (t // step_size)), rtol=1e-12,
                 what=f"StepLR(step_size={step_size}, gamma={gamma}): lr per step, two groups")


@pytest.mark.parametrize("t_max, eta_min", [(10, 0.0), (4, 0.01), (7, 0.005)])
def test_cosine_annealing_whole_range(t_max, eta_min):
    assert_close(_lrs(lambda o: lr_scheduler.CosineAnnealingLR(o, t_max, eta_min=eta_min)),
                 _expect(lambda t, b: eta_min + (b - eta_min) * (1 + math.cos(math.pi * t / t_max)) / 2),
                 rtol=1e-9, atol=1e-12,
                 what=f"CosineAnnealingLR(T_max={t_max}, eta_min={eta_min}) (past T_max it rises)")


@pytest.mark.parametrize("start, end, total", [(0.25, 1.0, 4), (1.0, 0.1, 6), (0.5, 0.0, 1)])
def test_linear_lr_whole_range(start, end, total):
    assert_close(_lrs(lambda o: lr_scheduler.LinearLR(o, start, end, total)),
                 _expect(lambda t, b: b * (start + (end - start) * min(t, total) / total)),
                 rtol=1e-9, atol=1e-12,
                 what=f"LinearLR({start}, {end}, total_iters={total}): constant after total_iters")


@pytest.mark.parametrize("warmup, total, min_lr", [(3, 8, 0.0), (0, 5, 0.001), (4, 6, 0.002)])
def test_warmup_cosine_whole_range(warmup, total, min_lr):
    def want(t, b):
        if t < warmup:
            return b * (t + 1) / warmup
        prog = min(1.0, (t - warmup) / (total - warmup))
        return min_lr + (b - min_lr) * (1 + math.cos(math.pi * prog)) / 2
    assert_close(_lrs(lambda o: lr_scheduler.WarmupCosineLR(o, warmup, total, min_lr=min_lr)),
                 _expect(want), rtol=1e-9, atol=1e-12,
                 what=f"WarmupCosineLR({warmup}, {total}, min_lr={min_lr}): starts at base/warmup, "
                      "stays at min_lr after total_steps")


def test_lambda_lr_one_function_or_one_per_group():
    f, g = (lambda t: 0.9 ** t), (lambda t: 1.0 / (t + 1))
    assert_close(_lrs(lambda o: lr_scheduler.LambdaLR(o, f)), _expect(lambda t, b: b * f(t)),
                 rtol=1e-12, what="LambdaLR(one function for both groups)")
    got = _lrs(lambda o: lr_scheduler.LambdaLR(o, [f, g]))
    want = np.array([[0.1 * f(t), 0.03 * g(t)] for t in range(12)])
    assert_close(got, want, rtol=1e-12, what="LambdaLR([f, g]): group i uses function i")


# ------------------------------------------------------------------------------- clipping

def _grads_params(seed=6):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (5,), (1,)]
    ps = [tt.tensor(np.zeros(s), requires_grad=True) for s in shapes]
    gs = [rng.standard_normal(s) * 3 for s in shapes]
    gs[1][2] = -40.0  # the largest |g| is negative
    for p, g in zip(ps, gs):
        p.grad = tt.tensor(g.copy())
    return ps, gs


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, 0.5, float("inf")])
@pytest.mark.parametrize("max_norm", [1.0, 1e6])
def test_clip_grad_norm_every_norm_type(norm_type, max_norm):
    ps, gs = _grads_params()
    flat = np.concatenate([g.ravel() for g in gs])
    total = np.abs(flat).max() if math.isinf(norm_type) else \
        (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    got = tt.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    assert_close(got, total, rtol=1e-6, what=f"the {norm_type}-norm returned by clip_grad_norm_")
    coef = min(1.0, max_norm / (total + 1e-6))  # never scaled UP
    for p, g in zip(ps, gs):
        assert_close(p.grad, g * coef, rtol=1e-6,
                     what=f"gradient after clip_grad_norm_(max_norm={max_norm}, norm_type={norm_type})")


@pytest.mark.parametrize("clip", [0.5, 2.0, 100.0])
def test_clip_grad_value_both_sides(clip):
    ps, gs = _grads_params(7)
    tt.nn.utils.clip_grad_value_(ps, clip)
    for p, g in zip(ps, gs):
        assert_close(p.grad, np.clip(g, -clip, clip), rtol=0, atol=0,
                     what=f"clip_grad_value_({clip}) clamps into [-{clip}, {clip}]")
