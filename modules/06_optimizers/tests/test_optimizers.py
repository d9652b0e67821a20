"""Module 06 graded tests: SGD (momentum, Nesterov, weight decay), Adam, AdamW, RMSprop,
parameter groups, state_dict, the learning-rate schedules and gradient clipping.

Each expected value is computed in the test with NumPy, from the update rule written out
(the same rule as in the guide). Gradients are set by hand (``p.grad = ...``) so that a
failure points at the update, not at autograd; one test at the end trains with backward()
(module 05) to check the pieces work together.
"""

import math

import numpy as np

import tinytorch as tt
import tinytorch.nn as nn
from tinytorch.optim import lr_scheduler
from tinytorch.testing import assert_close

RNG_SHAPE = (3, 4)


def _param_and_grads(seed=0, steps=4):
    """A parameter and a different gradient for each step (float32, deterministic)."""
    rng = np.random.default_rng(seed)
    p0 = rng.standard_normal(RNG_SHAPE).astype(np.float32)
    grads = [rng.standard_normal(RNG_SHAPE).astype(np.float32) for _ in range(steps)]
    return p0, grads


def _run(opt_factory, p0, grads):
    """Apply the optimizer for len(grads) steps with the given gradients; return p's values."""
    p = tt.tensor(p0.copy(), requires_grad=True)
    opt = opt_factory([p])
    for g in grads:
        p.grad = tt.tensor(g)
        opt.step()
    return p.numpy()


# --------------------------------------------------------------------------- SGD


def test_sgd_worked_example():
    # p = [1, 2], g = [0.5, -1], lr = 0.1  ->  p - lr * g = [0.95, 2.1]
    p = tt.tensor([1.0, 2.0], requires_grad=True)
    p.grad = tt.tensor([0.5, -1.0])
    tt.optim.SGD([p], lr=0.1).step()
    assert_close(p, [0.95, 2.1], what="SGD(lr=0.1) step on p=[1, 2] with grad [0.5, -1]")


def test_sgd_updates_in_place():
    p = tt.tensor([1.0, 2.0], requires_grad=True)
    view = p.numpy()  # a state_dict shares this array: the update must write into it
    p.grad = tt.tensor([1.0, 1.0])
    tt.optim.SGD([p], lr=0.5).step()
    assert p.numpy() is view, \
        "the optimizer must update p in place (writing into its array), not rebind it"
    assert_close(view, [0.5, 1.5], what="p after SGD(lr=0.5) step")


def test_sgd_momentum_buffer_starts_at_first_gradient():
    p0, grads = _param_and_grads(1, steps=4)
    lr, mu = 0.1, 0.9
    p, buf = p0.copy(), None
    for g in grads:
        buf = g.copy() if buf is None else mu * buf + g  # dampening 0
        p = p - lr * buf
    got = _run(lambda ps: tt.optim.SGD(ps, lr=lr, momentum=mu), p0, grads)
    assert_close(got, p, rtol=1e-5, what="SGD(momentum=0.9) after 4 steps",
                 inputs={"p0": p0, "grad at step 1": grads[0]})


def test_sgd_nesterov_with_weight_decay():
    p0, grads = _param_and_grads(2, steps=4)
    lr, mu, wd = 0.05, 0.8, 0.1
    p, buf = p0.copy(), None
    for g in grads:
        d = g + wd * p                           # L2 penalty folded into the gradient
        buf = d.copy() if buf is None else mu * buf + d
        p = p - lr * (d + mu * buf)              # Nesterov: look ahead along the buffer
    got = _run(lambda ps: tt.optim.SGD(ps, lr=lr, momentum=mu, weight_decay=wd, nesterov=True),
               p0, grads)
    assert_close(got, p, rtol=1e-5, what="SGD(momentum=0.8, weight_decay=0.1, nesterov=True)",
                 inputs={"p0": p0})


def test_sgd_leaves_the_gradient_unchanged():
    # weight decay and maximize change the step, not p.grad: other code (clipping, logging,
    # a second optimizer) reads the same gradient after step()
    p = tt.tensor([1.0, -2.0], requires_grad=True)
    p.grad = tt.tensor([0.5, 0.5])
    tt.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1).step()
    assert_close(p.grad, [0.5, 0.5], what="p.grad after SGD(weight_decay=0.1).step()")
    tt.optim.SGD([p], lr=0.1, maximize=True).step()
    assert_close(p.grad, [0.5, 0.5], what="p.grad after SGD(maximize=True).step()")


def test_sgd_dampening_and_maximize():
    p0, grads = _param_and_grads(3, steps=3)
    lr, mu, damp = 0.1, 0.9, 0.5
    p, buf = p0.copy(), None
    for g in grads:
        d = -g                                    # maximize: climb the gradient
        buf = d.copy() if buf is None else mu * buf + (1 - damp) * d
        p = p - lr * buf
    got = _run(lambda ps: tt.optim.SGD(ps, lr=lr, momentum=mu, dampening=damp, maximize=True),
               p0, grads)
    assert_close(got, p, rtol=1e-5, what="SGD(momentum=0.9, dampening=0.5, maximize=True)")


def test_sgd_rejects_bad_hyperparameters():
    p = tt.zeros(2, requires_grad=True)
    for kwargs in (dict(lr=-0.1), dict(lr=0.1, momentum=-1.0), dict(lr=0.1, nesterov=True)):
        try:
            tt.optim.SGD([p], **kwargs)
        except ValueError:
            continue
        raise AssertionError(f"SGD(**{kwargs}) should raise ValueError")


# --------------------------------------------------------------------------- Adam family


def _adam_numpy(p0, grads, lr, b1, b2, eps, wd=0.0, amsgrad=False, decoupled=False):
    p = p0.astype(np.float64)
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    vmax = np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        g = g.astype(np.float64)
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if amsgrad:
            vmax = np.maximum(vmax, v)
        m_hat = m / (1 - b1 ** t)
        v_hat = (vmax if amsgrad else v) / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


def test_adam_first_step_moves_each_weight_by_lr():
    # bias correction: m_hat = g, v_hat = g^2 after step 1, so the step is lr * g / |g|
    p = tt.tensor([1.0, 1.0, 1.0], requires_grad=True)
    p.grad = tt.tensor([1e-4, -3.0, 50.0])
    tt.optim.Adam([p], lr=0.01).step()
    assert_close(p, [0.99, 1.01, 0.99], rtol=1e-4,
                 what="Adam(lr=0.01) first step (gradients of very different sizes)",
                 inputs={"grad": [1e-4, -3.0, 50.0]})


def test_adam_matches_the_formula():
    p0, grads = _param_and_grads(4, steps=5)
    want = _adam_numpy(p0, grads, lr=0.01, b1=0.9, b2=0.999, eps=1e-8)
    got = _run(lambda ps: tt.optim.Adam(ps, lr=0.01), p0, grads)
    assert_close(got, want, rtol=1e-5, atol=1e-6, what="Adam(lr=0.01) after 5 steps",
                 inputs={"p0": p0})


def test_adam_weight_decay_and_amsgrad():
    p0, grads = _param_and_grads(5, steps=5)
    want = _adam_numpy(p0, grads, lr=0.02, b1=0.8, b2=0.99, eps=1e-6, wd=0.1, amsgrad=True)
    got = _run(lambda ps: tt.optim.Adam(ps, lr=0.02, betas=(0.8, 0.99), eps=1e-6,
                                        weight_decay=0.1, amsgrad=True), p0, grads)
    assert_close(got, want, rtol=1e-5, atol=1e-6,
                 what="Adam(betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, amsgrad=True)")


def test_adam_state_keeps_step_and_moments():
    p0, grads = _param_and_grads(6, steps=2)
    p = tt.tensor(p0.copy(), requires_grad=True)
    opt = tt.optim.Adam([p], lr=0.01, betas=(0.9, 0.99))
    for g in grads:
        p.grad = tt.tensor(g)
        opt.step()
    state = opt.state[p]
    assert state["step"] == 2, f"state['step'] should count the steps taken: {state['step']}"
    assert_close(state["exp_avg"], 0.9 * 0.1 * grads[0] + 0.1 * grads[1], rtol=1e-5,
                 what="state['exp_avg'] (m) after 2 steps")
    assert_close(state["exp_avg_sq"], 0.99 * 0.01 * grads[0] ** 2 + 0.01 * grads[1] ** 2,
                 rtol=1e-5, what="state['exp_avg_sq'] (v) after 2 steps")


def test_adamw_decays_weights_directly():
    p0, grads = _param_and_grads(7, steps=5)
    want = _adam_numpy(p0, grads, lr=0.01, b1=0.9, b2=0.999, eps=1e-8, wd=0.5, decoupled=True)
    got = _run(lambda ps: tt.optim.AdamW(ps, lr=0.01, weight_decay=0.5), p0, grads)
    assert_close(got, want, rtol=1e-5, atol=1e-6, what="AdamW(lr=0.01, weight_decay=0.5)")
    # with a zero gradient, AdamW shrinks the weight by exactly (1 - lr * wd): the decay is
    # applied to the weight, not folded into the gradient (Adam would add wd * p to g and
    # then normalise it away, moving the weight by about lr whatever wd is)
    p = tt.tensor([2.0], requires_grad=True)
    p.grad = tt.tensor([0.0])
    tt.optim.AdamW([p], lr=0.1, weight_decay=0.5).step()
    assert_close(p, [2.0 * (1 - 0.1 * 0.5)], what="AdamW step with zero gradient")


def test_adamw_default_weight_decay():
    p = tt.zeros(1, requires_grad=True)
    assert tt.optim.AdamW([p]).param_groups[0]["weight_decay"] == 1e-2


# --------------------------------------------------------------------------- RMSprop


def _rmsprop_numpy(p0, grads, lr, alpha, eps, momentum=0.0, centered=False, wd=0.0):
    p = p0.astype(np.float64)
    v = np.zeros_like(p)
    a = np.zeros_like(p)
    buf = np.zeros_like(p)
    for g in grads:
        g = g.astype(np.float64) + wd * p
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            a = alpha * a + (1 - alpha) * g
            denom = np.sqrt(v - a * a) + eps
        else:
            denom = np.sqrt(v) + eps
        if momentum > 0:
            buf = momentum * buf + g / denom
            p = p - lr * buf
        else:
            p = p - lr * g / denom
    return p


def test_rmsprop_plain():
    p0, grads = _param_and_grads(8, steps=5)
    want = _rmsprop_numpy(p0, grads, lr=0.01, alpha=0.99, eps=1e-8)
    got = _run(lambda ps: tt.optim.RMSprop(ps, lr=0.01), p0, grads)
    assert_close(got, want, rtol=1e-5, atol=1e-6, what="RMSprop(lr=0.01) after 5 steps")


def test_rmsprop_centered_with_momentum_and_weight_decay():
    p0, grads = _param_and_grads(9, steps=5)
    want = _rmsprop_numpy(p0, grads, lr=0.01, alpha=0.9, eps=1e-8, momentum=0.5,
                          centered=True, wd=0.01)
    got = _run(lambda ps: tt.optim.RMSprop(ps, lr=0.01, alpha=0.9, momentum=0.5, centered=True,
                                           weight_decay=0.01), p0, grads)
    assert_close(got, want, rtol=1e-5, atol=1e-6,
                 what="RMSprop(alpha=0.9, momentum=0.5, centered=True, weight_decay=0.01)")


# --------------------------------------------------------------------------- the shared parts


def test_parameter_groups_use_their_own_lr():
    a = tt.tensor([1.0], requires_grad=True)
    b = tt.tensor([1.0], requires_grad=True)
    opt = tt.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad, b.grad = tt.tensor([1.0]), tt.tensor([1.0])
    opt.step()
    assert_close(a, [0.9], what="group 0 (default lr=0.1)")
    assert_close(b, [0.5], what="group 1 (its own lr=0.5)")


def test_parameters_without_grad_are_skipped_and_zero_grad_clears():
    a = tt.tensor([1.0], requires_grad=True)
    b = tt.tensor([1.0], requires_grad=True)
    opt = tt.optim.Adam([a, b], lr=0.1)
    a.grad = tt.tensor([1.0])
    opt.step()
    assert_close(b, [1.0], what="a parameter with grad None must not move")
    assert len(opt.state[b]) == 0, "no state should be created for a parameter never updated"
    opt.zero_grad()
    assert a.grad is None, "zero_grad() sets .grad to None by default"


def test_state_dict_round_trip_resumes_exactly():
    p0, grads = _param_and_grads(10, steps=6)
    straight = _run(lambda ps: tt.optim.Adam(ps, lr=0.05), p0, grads)

    p = tt.tensor(p0.copy(), requires_grad=True)
    opt = tt.optim.Adam([p], lr=0.05)
    for g in grads[:3]:
        p.grad = tt.tensor(g)
        opt.step()
    saved = opt.state_dict()
    assert saved["param_groups"][0]["params"] == [0] and saved["state"][0]["step"] == 3
    q = tt.tensor(p.numpy().copy(), requires_grad=True)
    opt2 = tt.optim.Adam([q], lr=0.05)
    opt2.load_state_dict(saved)
    for g in grads[3:]:
        q.grad = tt.tensor(g)
        opt2.step()
    assert_close(q, straight, rtol=0, atol=0, what="resumed Adam vs uninterrupted Adam")


# --------------------------------------------------------------------------- schedules


def _lrs(make, steps, lr=0.1):
    p = tt.zeros(1, requires_grad=True)
    opt = tt.optim.SGD([p], lr=lr)
    sched = make(opt)
    out = [opt.param_groups[0]["lr"]]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(opt.param_groups[0]["lr"])
    assert sched.get_last_lr() == [out[-1]]
    return np.array(out)


def test_step_lr():
    got = _lrs(lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 9)
    want = [0.1 * 0.5 ** (t // 3) for t in range(10)]
    assert_close(got, want, rtol=1e-12, what="StepLR(step_size=3, gamma=0.5) lrs, steps 0..9")


def test_cosine_annealing_lr():
    got = _lrs(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.01), 10)
    want = [0.01 + (0.1 - 0.01) * (1 + math.cos(math.pi * t / 10)) / 2 for t in range(11)]
    assert_close(got, want, rtol=1e-12, what="CosineAnnealingLR(T_max=10, eta_min=0.01)")


def test_linear_lr_warmup():
    got = _lrs(lambda o: lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=4), 6)
    want = [0.1 * (0.25 + 0.75 * min(t, 4) / 4) for t in range(7)]
    assert_close(got, want, rtol=1e-12, what="LinearLR(start_factor=0.25, total_iters=4)")
    default = _lrs(lambda o: lr_scheduler.LinearLR(o), 0)
    assert_close(default, [0.1 / 3], rtol=1e-12, what="LinearLR defaults start at lr / 3")


def test_warmup_cosine_lr():
    got = _lrs(lambda o: lr_scheduler.WarmupCosineLR(o, warmup_steps=3, total_steps=8,
                                                     min_lr=0.001), 10)
    want = []
    for t in range(11):
        if t < 3:
            want.append(0.1 * (t + 1) / 3)
        else:
            prog = min(1.0, (t - 3) / 5)
            want.append(0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * prog)) / 2)
    assert_close(got, want, rtol=1e-12, what="WarmupCosineLR(warmup_steps=3, total_steps=8)")


def test_scheduler_state_dict_round_trip():
    p = tt.zeros(1, requires_grad=True)
    opt = tt.optim.SGD([p], lr=0.1)
    sched = lr_scheduler.StepLR(opt, step_size=2)
    for _ in range(5):
        sched.step()
    state = sched.state_dict()
    assert state["last_epoch"] == 5 and "optimizer" not in state
    opt2 = tt.optim.SGD([tt.zeros(1, requires_grad=True)], lr=0.1)
    sched2 = lr_scheduler.StepLR(opt2, step_size=2)
    sched2.load_state_dict(state)
    sched.step()
    sched2.step()
    assert sched2.get_last_lr() == sched.get_last_lr()


# --------------------------------------------------------------------------- clipping


def test_clip_grad_norm():
    a = tt.zeros(2, requires_grad=True)
    b = tt.zeros(1, requires_grad=True)
    a.grad, b.grad = tt.tensor([3.0, 0.0]), tt.tensor([4.0])  # total norm sqrt(9 + 16) = 5
    total = tt.nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert_close(total, 5.0, what="clip_grad_norm_ returns the norm before clipping")
    coef = 1.0 / (5.0 + 1e-6)
    assert_close(a.grad, [3.0 * coef, 0.0], what="a.grad after clipping to norm 1")
    assert_close(b.grad, [4.0 * coef], what="b.grad after clipping to norm 1")
    # under the limit: unchanged
    a.grad = tt.tensor([0.3, 0.4])
    assert_close(tt.nn.utils.clip_grad_norm_([a], max_norm=1.0), 0.5, what="norm of [0.3, 0.4]")
    assert_close(a.grad, [0.3, 0.4], what="a gradient under max_norm is not scaled")


def test_clip_grad_norm_inf_and_value():
    rng = np.random.default_rng(11)
    g = rng.standard_normal((4, 5)).astype(np.float32)
    p = tt.zeros(4, 5, requires_grad=True)
    p.grad = tt.tensor(g.copy())
    total = tt.nn.utils.clip_grad_norm_(p, max_norm=0.1, norm_type=float("inf"))
    assert_close(total, np.abs(g).max(), what="inf-norm of the gradient", inputs={"grad": g})
    assert_close(p.grad, g * (0.1 / (np.abs(g).max() + 1e-6)), rtol=1e-5,
                 what="gradient clipped to inf-norm 0.1")
    p.grad = tt.tensor(g.copy())
    tt.nn.utils.clip_grad_value_([p], 0.5)
    assert_close(p.grad, np.clip(g, -0.5, 0.5), what="clip_grad_value_(0.5)", inputs={"grad": g})


# --------------------------------------------------------------------------- together


def test_optimizers_train_a_linear_regression():
    """With backward() (module 05): every optimizer drives a least-squares loss down."""
    rng = np.random.default_rng(12)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = (x @ np.array([[1.5], [-2.0], [0.5]], dtype=np.float32) + 0.3).astype(np.float32)
    for name, make in [("SGD+momentum", lambda ps: tt.optim.SGD(ps, lr=0.05, momentum=0.9)),
                       ("Adam", lambda ps: tt.optim.Adam(ps, lr=0.05)),
                       ("RMSprop", lambda ps: tt.optim.RMSprop(ps, lr=0.01))]:
        tt.manual_seed(0)
        model = nn.Linear(3, 1)
        opt = make(model.parameters())
        losses = []
        for _ in range(150):
            opt.zero_grad()
            loss = ((model(tt.tensor(x)) - tt.tensor(y)) ** 2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[-1] < 0.01 * losses[0], f"{name}: loss {losses[0]:.3f} -> {losses[-1]:.3f}"
