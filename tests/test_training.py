"""Trainer (fit / evaluate / accumulation / schedules / early stopping / checkpoints) and the
text progress bar."""

import io

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.core.progress import ProgressBar, format_time, progress
from tinytorch.core.training import Trainer, accuracy


def _blobs(n=120, seed=0):
    """Three well separated 2-D Gaussian blobs: a problem a small MLP solves in a few epochs."""
    rng = np.random.default_rng(seed)
    centers = np.array([[2.0, 0.0], [-2.0, 1.5], [0.0, -2.5]], dtype=np.float32)
    y = rng.integers(0, 3, n)
    x = (centers[y] + 0.5 * rng.standard_normal((n, 2))).astype(np.float32)
    return x, y


def _batches(x, y, size):
    return [(tt.tensor(x[i:i + size]), tt.tensor(y[i:i + size])) for i in range(0, len(x), size)]


def _mlp(seed=0):
    tt.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))


def _params(model):
    return [p.numpy().copy() for p in model.parameters()]


def test_trainer_learns_a_tiny_problem():
    x, y = _blobs()
    train, val = _batches(x[:90], y[:90], 15), _batches(x[90:], y[90:], 15)
    model = _mlp()
    trainer = Trainer(model, tt.optim.Adam(model.parameters(), lr=0.05), nn.CrossEntropyLoss(),
                      metrics={"accuracy": accuracy}, progress=False)
    history = trainer.fit(train, epochs=15, val_loader=val)
    assert set(history) == {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr",
                            "epoch_time"}
    assert all(len(v) == 15 for v in history.values())
    assert history["train_loss"][-1] < 0.25 * history["train_loss"][0]
    assert history["val_accuracy"][-1] >= 0.95
    assert trainer.epoch == 15 and trainer.global_step == 15 * 6
    # evaluate agrees with the history's last entry and leaves the weights alone
    before = _params(model)
    result = trainer.evaluate(val)
    assert result["loss"] == pytest.approx(history["val_loss"][-1])
    assert all(np.array_equal(a, b) for a, b in zip(before, _params(model)))
    assert model.training


def test_evaluate_uses_eval_mode_and_no_graph():
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append((self.training, tt.is_grad_enabled()))
            return x

    model = nn.Sequential(nn.Linear(2, 3), Probe())
    trainer = Trainer(model, tt.optim.SGD(model.parameters(), lr=0.1), F.cross_entropy,
                      progress=False)
    x, y = _blobs(8)
    trainer.evaluate(_batches(x, y, 4))
    assert seen == [(False, False), (False, False)]
    assert model.training  # back to training mode
    model.eval()
    trainer.evaluate(_batches(x, y, 4))
    assert not model.training  # ... or whatever mode it was in


@pytest.mark.parametrize("k,b", [(2, 4), (4, 3)])
def test_grad_accumulation_equals_one_big_batch(k, b):
    """k accumulated batches of size b == one SGD step on the batch of size k*b."""
    x, y = _blobs(k * b * 3, seed=4)
    small = _mlp(1)
    big = _mlp(1)
    Trainer(small, tt.optim.SGD(small.parameters(), lr=0.3), nn.CrossEntropyLoss(),
            grad_accum_steps=k, progress=False).fit(_batches(x, y, b), epochs=2)
    t_big = Trainer(big, tt.optim.SGD(big.parameters(), lr=0.3), nn.CrossEntropyLoss(),
                    progress=False)
    t_big.fit(_batches(x, y, k * b), epochs=2)
    for p, q in zip(small.parameters(), big.parameters()):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-5, atol=1e-6)
    assert t_big.global_step == 6


def test_grad_accumulation_last_short_group_is_averaged():
    """10 batches with k=4: groups of 4, 4 and 2; the last step averages over its 2 batches."""
    x, y = _blobs(20, seed=5)
    acc, ref = _mlp(2), _mlp(2)
    t = Trainer(acc, tt.optim.SGD(acc.parameters(), lr=0.2), nn.CrossEntropyLoss(),
                grad_accum_steps=4, progress=False)
    t.fit(_batches(x, y, 2), epochs=1)
    assert t.global_step == 3
    ref_trainer = Trainer(ref, tt.optim.SGD(ref.parameters(), lr=0.2), nn.CrossEntropyLoss(),
                          progress=False)
    ref_trainer.fit([(tt.tensor(x[s:e]), tt.tensor(y[s:e])) for s, e in
                     [(0, 8), (8, 16), (16, 20)]], epochs=1)
    for p, q in zip(acc.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-5, atol=1e-6)


def test_grad_accumulation_without_len_rescales_the_tail():
    x, y = _blobs(12, seed=6)
    batches = _batches(x, y, 2)  # 6 batches, k=4: a group of 4 and a tail of 2

    class NoLen:
        def __iter__(self):
            return iter(batches)

    a, b = _mlp(3), _mlp(3)
    Trainer(a, tt.optim.SGD(a.parameters(), lr=0.2), nn.CrossEntropyLoss(), grad_accum_steps=4,
            progress=False).fit(NoLen(), epochs=1)
    Trainer(b, tt.optim.SGD(b.parameters(), lr=0.2), nn.CrossEntropyLoss(), grad_accum_steps=4,
            progress=False).fit(batches, epochs=1)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-5, atol=1e-6)


def test_early_stopping_stops_and_remembers_the_best():
    x, y = _blobs(60, seed=2)
    train = _batches(x, y, 20)
    model = _mlp()
    # lr 0 on purpose: the monitored loss never improves after the first epoch
    trainer = Trainer(model, tt.optim.SGD(model.parameters(), lr=0.0), nn.CrossEntropyLoss(),
                      progress=False)
    history = trainer.fit(train, epochs=50, val_loader=train, early_stopping_patience=3)
    assert len(history["val_loss"]) == 4  # the best epoch, then 3 without improvement
    assert trainer.stopped_early and trainer.best_epoch == 1
    # a run that keeps improving is not stopped
    model = _mlp()
    trainer = Trainer(model, tt.optim.Adam(model.parameters(), lr=0.01), nn.CrossEntropyLoss(),
                      metrics={"accuracy": accuracy}, progress=False)
    history = trainer.fit(train, epochs=5, val_loader=train, early_stopping_patience=2,
                          monitor="train_loss")
    assert len(history["train_loss"]) == 5 and not trainer.stopped_early


def test_early_stopping_on_accuracy_maximizes():
    t = Trainer(_mlp(), tt.optim.SGD(_mlp().parameters(), lr=0.1), F.cross_entropy,
                progress=False)
    t.best_score = 0.8
    assert t._is_improvement(0.9, "val_accuracy") and not t._is_improvement(0.7, "val_accuracy")
    assert t._is_improvement(0.7, "val_loss") and not t._is_improvement(0.9, "val_loss")


@pytest.mark.parametrize("when", ["epoch", "step"])
def test_scheduler_per_epoch_or_per_step(when):
    x, y = _blobs(40, seed=3)
    train = _batches(x, y, 10)  # 4 batches per epoch
    model = _mlp()
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    sched = tt.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), scheduler=sched, scheduler_step=when,
                      progress=False)
    history = trainer.fit(train, epochs=3)
    steps = 3 if when == "epoch" else 12
    assert sched.last_epoch == steps
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** steps)
    per_epoch = [0.1, 0.05, 0.025] if when == "epoch" else [0.1, 0.1 * 0.5 ** 4, 0.1 * 0.5 ** 8]
    assert history["lr"] == pytest.approx(per_epoch)


def test_clip_grad_norm_is_applied(monkeypatch):
    import tinytorch.core.training as training

    norms = []
    real = training.clip_grad_norm_

    def spy(params, max_norm):
        total = real(params, max_norm)
        norms.append((float(total), max_norm))
        return total

    monkeypatch.setattr(training, "clip_grad_norm_", spy)
    x, y = _blobs(20)
    model = _mlp()
    Trainer(model, tt.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(),
            clip_grad_norm=0.01, progress=False).fit(_batches(x, y, 10), epochs=1)
    assert len(norms) == 2 and all(n > 0.01 and m == 0.01 for n, m in norms)


def test_checkpoint_resume_continues_identically(tmp_path):
    x, y = _blobs(40, seed=8)
    train = _batches(x, y, 10)

    def build():
        model = _mlp(5)
        opt = tt.optim.Adam(model.parameters(), lr=0.02)
        sched = tt.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6)
        return Trainer(model, opt, nn.CrossEntropyLoss(), scheduler=sched, progress=False)

    straight = build()
    straight.fit(train, epochs=6)
    first = build()
    first.fit(train, epochs=3)
    first.save_checkpoint(tmp_path / "run.ckpt", note="halfway")
    resumed = build()
    assert resumed.load_checkpoint(tmp_path / "run.ckpt") == {"note": "halfway"}
    assert resumed.epoch == 3 and resumed.global_step == 12
    resumed.fit(train, epochs=3)
    for p, q in zip(straight.model.parameters(), resumed.model.parameters()):
        assert p.numpy().tobytes() == q.numpy().tobytes()
    assert resumed.history["train_loss"] == straight.history["train_loss"]
    assert resumed.history["lr"] == straight.history["lr"]


def test_bad_use_raises_clear_errors(tmp_path):
    model = _mlp()
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="scheduler_step"):
        Trainer(model, opt, F.cross_entropy, scheduler_step="batch")
    with pytest.raises(ValueError, match="grad_accum_steps"):
        Trainer(model, opt, F.cross_entropy, grad_accum_steps=0)
    t = Trainer(model, opt, F.cross_entropy, progress=False)
    x, y = _blobs(8)
    with pytest.raises(TypeError, match="iterator"):
        t.fit(iter(_batches(x, y, 4)), epochs=2)
    with pytest.raises(ValueError, match="needs a val_loader"):
        t.fit(_batches(x, y, 4), epochs=1, early_stopping_patience=1)
    with pytest.raises(ValueError, match="cannot monitor 'val_acc'"):
        t.fit(_batches(x, y, 4), 1, val_loader=_batches(x, y, 4), early_stopping_patience=1,
              monitor="val_acc")
    with pytest.raises(ValueError, match="no batches"):
        t.fit([], epochs=1)
    tt.save({"weights": np.zeros(2)}, tmp_path / "other.npz")
    with pytest.raises(ValueError, match="not a Trainer's"):
        t.load_checkpoint(tmp_path / "other.npz")
    diverge = Trainer(model, tt.optim.SGD(model.parameters(), lr=0.1),
                      lambda out, tgt: (out * float("nan")).sum(), progress=False)
    with pytest.raises(FloatingPointError, match="loss became nan"):
        diverge.fit(_batches(x, y, 4), epochs=1)


def test_accuracy_metric():
    logits = tt.tensor([[2.0, 1.0, 0.0], [0.0, 0.5, 0.1], [0.0, 0.0, 3.0], [1.0, 0.0, 0.0]])
    assert accuracy(logits, tt.tensor([0, 1, 1, 0])) == 0.75
    assert accuracy(tt.tensor([[1.5], [-0.2], [0.3]]), tt.tensor([1.0, 0.0, 0.0])) == \
        pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="do not match"):
        accuracy(logits, tt.tensor([0, 1]))


# --------------------------------------------------------------------------- progress bar


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_progress_bar_draws_in_place_on_a_terminal():
    out, clock = FakeTTY(), Clock()
    bar = ProgressBar(total=4, desc="train", file=out, min_interval=0.0, clock=clock)
    for _ in range(4):
        clock.t += 0.5
        bar.update(1)
        bar.set_postfix(loss=0.123456)
    bar.close()
    text = out.getvalue()
    assert text.count("\r") >= 4 and text.endswith("\n")
    last = text.rstrip("\n").split("\r")[-1]
    assert last.startswith("train 4/4 [") and "100%" in last
    assert "2.0it/s" in last and "00:02" in last and "loss=0.1235" in last
    assert "2/4" in text and "00:01<00:01" in text  # elapsed<remaining mid-way


def test_progress_bar_is_silent_when_not_a_terminal_unless_forced():
    quiet = io.StringIO()
    for _ in progress(range(3), desc="x", file=quiet):
        pass
    assert quiet.getvalue() == ""
    forced = io.StringIO()
    for _ in progress(range(3), desc="x", file=forced, force=True, min_interval=0.0):
        pass
    assert "3/3" in forced.getvalue()
    off = FakeTTY()
    ProgressBar(total=3, file=off, disable=True).update(3)
    assert off.getvalue() == ""


def test_progress_bar_throttles_redraws():
    out, clock = FakeTTY(), Clock()
    bar = ProgressBar(total=1000, file=out, min_interval=1.0, clock=clock)
    for _ in range(999):
        clock.t += 0.001  # 1 ms per step: about one redraw per simulated second
        bar.update(1)
    assert out.getvalue().count("\r") <= 2
    bar.update(1)  # the final state is always drawn
    assert "1000/1000" in out.getvalue()


def test_progress_bar_unknown_total_and_time_format():
    out, clock = FakeTTY(), Clock()
    bar = ProgressBar(file=out, min_interval=0.0, clock=clock)
    clock.t = 2.0
    bar.update(10)
    assert "10it 5.0it/s 00:02" in out.getvalue()
    assert format_time(75.2) == "01:15" and format_time(3725) == "1:02:05"


def test_trainer_draws_a_bar_per_epoch_when_forced(capsys):
    x, y = _blobs(20)
    model = _mlp()
    Trainer(model, tt.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(),
            progress="force").fit(_batches(x, y, 10), epochs=2, val_loader=_batches(x, y, 10))
    err = capsys.readouterr().err
    assert "epoch 1 2/2" in err and "epoch 2 2/2" in err and "val_loss=" in err
    assert err.count("\n") == 2
