"""The training-health coach (``tt.utils.health``): each warning on a tiny model made to fail
that way, each with a healthy control that stays silent, and its place in ``Trainer``."""

import warnings

import numpy as np
import pytest

import tinytorch as tt
from tinytorch import nn
from tinytorch.core.training import Trainer
from tinytorch.utils.health import (HealthMonitor, TrainingHealthWarning, check, grad_norms,
                                    lr_find)

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # nan made on purpose


def _data(n=64, d=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    y = (x @ rng.standard_normal((d, 1)) + 0.5).astype(np.float32)
    return x, y


def _batches(x, y, b=16):
    return [(tt.tensor(x[i:i + b]), tt.tensor(y[i:i + b])) for i in range(0, len(x), b)]


def _mlp(seed=0, d=4, h=16):
    tt.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, 1))


def _run(model, optimizer, steps, monitor, x, y):
    """A hand-written loop calling ``check`` where the docs say; returns the warnings."""
    batches = _batches(x, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for step in range(steps):
            bx, by = batches[step % len(batches)]
            loss = nn.functional.mse_loss(model(bx), by)
            optimizer.zero_grad()
            loss.backward()
            check(monitor, loss, step)
            optimizer.step()
    return [w for w in caught if issubclass(w.category, TrainingHealthWarning)]


def _kinds(monitor):
    return {i.kind for i in monitor.issues}


def test_healthy_run_is_silent():
    x, y = _data()
    model = _mlp()
    opt = tt.optim.SGD(model.parameters(), lr=0.05)
    mon = HealthMonitor(model, opt, grad_every=1, plateau_window=20)
    assert _run(model, opt, 60, mon, x, y) == []
    assert mon.issues == [] and len(mon.losses) == 60


def test_nonfinite_loss_warns_with_the_fix():
    model = _mlp()
    mon = HealthMonitor(model)
    with pytest.warns(TrainingHealthWarning, match=r"loss is nan at step 3.*detect_anomaly"):
        check(mon, tt.tensor(float("nan")), 3)
    assert [i.kind for i in mon.issues] == ["nonfinite_loss"]


def test_plateau_when_the_optimizer_does_not_move_the_model():
    x, y = _data()
    model = _mlp()
    opt = tt.optim.SGD(model.parameters(), lr=1e-7)  # far too low: nothing moves
    mon = HealthMonitor(model, opt, grad_every=100, plateau_window=20)
    caught = _run(model, opt, 30, mon, x, y)
    assert [str(w.message)[:21] for w in caught] == ["loss is not falling: "]
    (issue,) = mon.issues  # first found at step 19 (a full window), kept once
    assert issue.kind == "plateau" and issue.value < issue.threshold == 0.01
    assert issue.step == 19 and mon.counts[("plateau", None)] > 1  # counted, not re-warned
    assert "raise the learning rate (now 1e-07)" in issue.message
    # a run that learned, then flattened at its floor (noisy targets, a linear model), is
    # converging: no warning; without the progress rule (plateau_progress=1) it would warn
    noisy = y + np.random.default_rng(5).standard_normal(y.shape).astype(np.float32)
    for progress, want in ((0.1, set()), (1.0, {"plateau"})):
        tt.manual_seed(0)
        linear = nn.Linear(4, 1)
        opt2 = tt.optim.SGD(linear.parameters(), lr=0.2)
        mon2 = HealthMonitor(linear, opt2, grad_every=100, plateau_window=20,
                             plateau_progress=progress)
        _run(linear, opt2, 60, mon2, x, noisy)
        assert _kinds(mon2) == want and mon2.losses[-1] < 0.2 * mon2.losses[0]


def test_rising_loss_with_too_high_a_learning_rate():
    x, y = _data()
    model = _mlp()
    opt = tt.optim.SGD(model.parameters(), lr=0.3)  # bounces, climbing, on this problem
    mon = HealthMonitor(model, opt, grad_every=100, plateau_window=8)
    caught = _run(model, opt, 14, mon, x, y)
    rising = next(i for i in mon.issues if i.kind == "rising_loss")
    assert rising.value > rising.threshold == 1.5
    assert "lower the learning rate (now 0.3)" in rising.message
    assert sum("loss is rising" in str(w.message) for w in caught) == 1  # said once ...
    assert mon.counts[("rising_loss", None)] > 1  # ... counted every time


def test_exploding_gradients_are_named_per_layer():
    x, y = _data()
    model = _mlp()
    opt = tt.optim.SGD(model.parameters(), lr=0.5)  # diverges within a few steps
    mon = HealthMonitor(model, opt, grad_every=1, plateau_window=100, explode_norm=1e3)
    caught = _run(model, opt, 10, mon, x, y)
    explode = {i.layer: i for i in mon.issues if i.kind == "exploding_grad"}
    assert set(explode) == {"0", "2"}
    assert all(i.value > i.threshold == 1e3 for i in explode.values())
    assert "gradients explode in layer '0'" in explode["0"].message
    assert "clip" in explode["0"].message
    assert "nonfinite_loss" in _kinds(mon)  # then the loss overflows
    assert len(caught) == len(mon.issues)


def test_vanishing_gradients_in_a_deep_sigmoid_stack_name_the_first_layers():
    tt.manual_seed(0)
    layers = []
    for _ in range(8):
        lin = nn.Linear(8, 8)
        lin.weight.data.mul_(0.1)  # small weights: each sigmoid layer shrinks the gradient
        layers += [lin, nn.Sigmoid()]
    model = nn.Sequential(*layers, nn.Linear(8, 1))
    x = tt.tensor(np.random.default_rng(1).standard_normal((16, 8)).astype(np.float32))
    model(x).pow(2).mean().backward()
    mon = HealthMonitor(model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mon.check()
    vanished = [i.layer for i in mon.issues if i.kind == "vanishing_grad"]
    norms = grad_norms(model)
    assert vanished[0] == "0" and "16" not in vanished  # the last layer gets the large ones
    assert norms["0"] < 1e-5 * max(norms.values())
    assert str(caught[0].message).startswith("gradients vanish in layer '0': norm ")
    assert len(caught) == len(vanished)


def test_zero_gradients_everywhere_say_where_to_call_check():
    model = _mlp()
    for p in model.parameters():
        p.grad = tt.zeros_like(p)
    with pytest.warns(TrainingHealthWarning, match=r"every layer's gradient is 0.*after "
                                                   r"loss.backward\(\)"):
        HealthMonitor(model).check()


def test_dead_relus_are_named_by_layer_with_the_fraction():
    x, y = _data()
    model = _mlp(h=10)
    model[0].bias.data.fill_(-100.0)  # every pre-activation negative: the ReLU never fires
    opt = tt.optim.SGD(model.parameters(), lr=0.01)
    mon = HealthMonitor(model, opt, grad_every=4, dead_min_samples=64)
    caught = _run(model, opt, 5, mon, x, y)  # 4 batches of 16 = 64 samples, then the check
    (issue,) = [i for i in mon.issues if i.kind == "dead_relu"]
    assert issue.layer == "1" and issue.value == 1.0 and issue.threshold == 0.5
    assert "100% of its 10 units" in issue.message and "LeakyReLU" in issue.message
    assert any("dead ReLUs in layer '1'" in str(w.message) for w in caught)
    mon.close()
    assert not model[1].__dict__.get("_forward_hooks")  # the hooks are gone
    # half dead is under the threshold; the same model with a normal bias is silent
    healthy = _mlp(h=10)
    mon2 = HealthMonitor(healthy, grad_every=4)
    _run(healthy, tt.optim.SGD(healthy.parameters(), lr=0.01), 5, mon2, x, y)
    assert "dead_relu" not in _kinds(mon2)


def test_parameters_missing_from_the_optimizer():
    x, y = _data()
    model = _mlp()
    other = _mlp(seed=1)
    opt = tt.optim.SGD(other.parameters(), lr=0.05)  # built over another model
    mon = HealthMonitor(model, opt, grad_every=1, plateau_window=20)
    caught = _run(model, opt, 2, mon, x, y)
    said = str(caught[0].message)
    assert "4 trainable parameter(s) of the model are not in the optimizer" in said


def test_lr_find_suggests_a_rate_that_trains_and_restores_everything():
    x, y = _data()
    loader = _batches(x, y)
    model = _mlp()
    opt = tt.optim.SGD(model.parameters(), lr=1e-6)
    before = [p.numpy().copy() for p in model.parameters()]
    rng_before = tt.get_rng_state().numpy().copy()
    with pytest.warns(TrainingHealthWarning, match=r"learning rate far off: the optimizer's lr "
                                                   r"1e-06 is \d+x too low"):
        result = lr_find(model, opt, nn.MSELoss(), loader, num_iter=60)
    for a, p in zip(before, model.parameters()):
        np.testing.assert_array_equal(a, p.numpy())
    assert opt.param_groups[0]["lr"] == 1e-6
    np.testing.assert_array_equal(rng_before, tt.get_rng_state().numpy())
    lr = float(result)
    assert 1e-4 < lr < 1.0 and len(result.lrs) == len(result.losses) >= 20

    def final_loss(rate):
        m = _mlp()
        o = tt.optim.SGD(m.parameters(), lr=rate)
        for step in range(40):
            bx, by = loader[step % 4]
            loss = nn.functional.mse_loss(m(bx), by)
            o.zero_grad()
            loss.backward()
            o.step()
        return float(loss.item())

    assert final_loss(lr) < 0.5 * final_loss(1e-6)
    # a rate near the suggestion does not warn
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingHealthWarning)
        lr_find(model, tt.optim.SGD(model.parameters(), lr=lr), nn.MSELoss(), loader,
                num_iter=60)


def test_lr_find_plot():
    pytest.importorskip("matplotlib")
    x, y = _data()
    model = _mlp()
    result = lr_find(model, tt.optim.SGD(model.parameters(), lr=0.01), nn.MSELoss(),
                     _batches(x, y), num_iter=30, warn=False)
    fig = result.plot()  # (path=...: fig.savefig; not drawn here, it costs a second)
    (ax,) = fig.axes
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), result.smoothed)
    assert ax.get_xscale() == "log" and "suggested" in ax.get_legend_handles_labels()[1][2]


def test_trainer_warns_by_default_quiet_records_false_is_off():
    x, y = _data()
    loader = _batches(x, y)

    def dead_model():
        m = _mlp(h=10)
        m[0].bias.data.fill_(-100.0)
        return m

    m = dead_model()
    t = Trainer(m, tt.optim.SGD(m.parameters(), lr=0.01), nn.MSELoss(), progress=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t.fit(loader, epochs=12)  # 48 steps: checks every 10 steps, 64 samples needed
    said = [str(w.message) for w in caught if w.category is TrainingHealthWarning]
    assert any(m.startswith("dead ReLUs in layer '1': 100% of its 10 units") for m in said)
    assert any(m.startswith("gradients vanish in layer '0': norm 0 ") for m in said)
    assert not m[1].__dict__.get("_forward_hooks")  # fit removes its hooks
    t.train_epoch(loader)
    assert not m[1].__dict__.get("_forward_hooks")  # and train_epoch alone adds none

    m = dead_model()
    t = Trainer(m, tt.optim.SGD(m.parameters(), lr=0.01), nn.MSELoss(), progress=False,
                health="quiet")
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingHealthWarning)
        t.fit(loader, epochs=12)
    assert "dead_relu" in _kinds(t.health)

    m = dead_model()
    t = Trainer(m, tt.optim.SGD(m.parameters(), lr=0.01), nn.MSELoss(), progress=False,
                health=False)
    assert t.health is None
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrainingHealthWarning)
        t.fit(loader, epochs=2)
    with pytest.raises(ValueError, match="health must be"):
        Trainer(m, tt.optim.SGD(m.parameters(), lr=0.01), nn.MSELoss(), health="loud")


def test_trainer_lr_find_and_nan_error_point_at_the_tools():
    x, y = _data()
    m = _mlp()
    t = Trainer(m, tt.optim.SGD(m.parameters(), lr=0.05), nn.MSELoss(), progress=False)
    result = t.lr_find(_batches(x, y), num_iter=30, warn=False)
    assert result.current_lr == 0.05 and np.isfinite(result.suggested_lr)
    bad = Trainer(m, tt.optim.SGD(m.parameters(), lr=0.05),
                  lambda out, tgt: (out * float("nan")).mean(), progress=False)
    with pytest.raises(FloatingPointError, match="detect_anomaly"):
        bad.fit(_batches(x, y), epochs=1)


def test_the_coach_does_not_change_training():
    x, y = _data()
    weights = []
    for health in (True, False):
        m = _mlp()
        t = Trainer(m, tt.optim.SGD(m.parameters(), lr=0.05), nn.MSELoss(), progress=False,
                    health=health, clip_grad_norm=1.0)
        t.fit(_batches(x, y), epochs=3)
        weights.append([p.numpy().copy() for p in m.parameters()])
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_check_on_a_model_keeps_one_monitor_and_nan_gradients_point_at_anomaly_mode():
    model = _mlp()
    x = tt.tensor(np.zeros((2, 4), np.float32))
    loss = model(x).sum()
    loss.backward()
    model[0].weight.grad.numpy()[0, 0] = np.nan  # a finite loss with a nan gradient
    with pytest.warns(TrainingHealthWarning, match=r"gradient of layer '0' is nan.*"
                                                   r"detect_anomaly"):
        check(model, loss, 0)
    monitor = model.__dict__["_health_monitor"]
    assert check(model, loss, 1) == [] and monitor.losses == [loss.item()] * 2
    assert "_health_monitor" not in str(list(model.state_dict()))
