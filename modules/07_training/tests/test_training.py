"""Module 07 graded tests: checkpoints (tt.save / tt.load) and the Trainer.

Loaders here are plain lists of (x, y) batches: DataLoader is module 08. Expected weights are
computed with NumPy from the least-squares gradient written out in the test:
for y_hat = x @ W.T + b and loss = mean((y_hat - y)^2) over N samples,
dL/dW = 2/N (y_hat - y).T @ x and dL/db = 2/N sum(y_hat - y).
"""

import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
from tinytorch.core.training import Trainer
from tinytorch.testing import assert_close


def _regression(n=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32) + 0.25).astype(np.float32)
    return x, y


def _batches(x, y, size):
    return [(tt.tensor(x[i:i + size]), tt.tensor(y[i:i + size])) for i in range(0, len(x), size)]


def _linear(seed=0):
    tt.manual_seed(seed)
    return nn.Linear(3, 1)


def _sgd_step_numpy(w, b, x, y, lr):
    """One SGD step on mean squared error over all of x (the formula in the docstring)."""
    err = x @ w.T + b - y
    n = len(x)
    return w - lr * 2 / n * err.T @ x, b - lr * 2 / n * err.sum(axis=0)


# --------------------------------------------------------------------------- checkpoints


def test_save_load_round_trip_is_bit_exact(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = tt.tensor(np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32))
    opt.zero_grad()
    model(x).sum().backward()
    opt.step()  # now the optimizer has momentum buffers
    state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 7,
             "lr": 0.1, "name": "run-1", "best": None}
    tt.save(state, tmp_path / "ckpt.npz")
    back = tt.load(tmp_path / "ckpt.npz")

    assert isinstance(back["model"], OrderedDict) and list(back["model"]) == list(state["model"])
    for k, v in state["model"].items():
        assert back["model"][k].dtype == v.dtype, f"dtype of {k} changed"
        assert back["model"][k].numpy().tobytes() == v.numpy().tobytes(), f"values of {k} changed"
    assert list(back["optimizer"]["state"]) == [0, 1, 2, 3], \
        "the optimizer state is keyed by int parameter indices; they must come back as ints"
    for i, s in state["optimizer"]["state"].items():
        assert back["optimizer"]["state"][i]["momentum_buffer"].tobytes() == \
            s["momentum_buffer"].tobytes()
    assert back["optimizer"]["param_groups"] == state["optimizer"]["param_groups"]
    assert (back["epoch"], back["lr"], back["name"], back["best"]) == (7, 0.1, "run-1", None)
    assert type(back["epoch"]) is int and type(back["lr"]) is float


def test_save_keeps_tuples_lists_and_dtypes(tmp_path):
    obj = {"betas": (0.9, 0.999), "ids": [1, 2, 3], "half": np.ones(3, np.float16),
           "flags": np.array([True, False]), "nan": float("nan")}
    tt.save(obj, tmp_path / "x.npz")
    back = tt.load(tmp_path / "x.npz")
    assert back["betas"] == (0.9, 0.999) and type(back["betas"]) is tuple
    assert back["ids"] == [1, 2, 3] and type(back["ids"]) is list
    assert back["half"].dtype == np.float16 and back["flags"].dtype == np.bool_
    assert np.isnan(back["nan"])


def test_save_is_a_plain_npz_without_pickle(tmp_path):
    tt.save({"w": np.arange(3.0)}, tmp_path / "x.npz")
    with np.load(tmp_path / "x.npz", allow_pickle=False) as z:  # NumPy reads it, no pickle
        assert len(z.files) >= 2, "one member per array plus one describing the structure"


def test_crash_during_write_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    tt.save({"epoch": 1}, path)
    before = path.read_bytes()

    def crash(src, dst):
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        tt.save({"epoch": 2}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before, "a failed save must leave the previous file untouched"
    assert os.listdir(tmp_path) == ["ckpt.npz"], \
        f"the temporary file must be removed after a failed save: {os.listdir(tmp_path)}"
    assert tt.load(path) == {"epoch": 1}


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        tt.load(tmp_path / "missing.npz")


def test_truncated_file_raises_value_error(tmp_path):
    path = tmp_path / "ckpt.npz"
    tt.save({"w": np.zeros(100, np.float32)}, path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="ckpt.npz"):
        tt.load(path)


RAN = []


def _side_effect():
    RAN.append(True)


class _Payload:
    def __reduce__(self):
        return (_side_effect, ())


def test_pickle_file_raises_and_runs_nothing(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps({"weights": _Payload()}))
    with pytest.raises(ValueError, match="model.pt"):
        tt.load(path)
    assert RAN == [], "loading must never unpickle: the file's code ran"


def test_foreign_npz_raises_value_error(tmp_path):
    path = tmp_path / "arrays.npz"
    np.savez(path, w=np.ones(2))
    with pytest.raises(ValueError, match="arrays.npz"):
        tt.load(path)


# --------------------------------------------------------------------------- Trainer


def test_one_epoch_is_one_sgd_step_per_batch():
    x, y = _regression(8)
    model = _linear()
    w, b = model.weight.numpy().copy(), model.bias.numpy().copy()
    trainer = Trainer(model, tt.optim.SGD(model.parameters(), lr=0.1), nn.MSELoss(),
                      progress=False)
    history = trainer.fit(_batches(x, y, 4), epochs=1)
    for s in (0, 4):
        w, b = _sgd_step_numpy(w, b, x[s:s + 4], y[s:s + 4], 0.1)
    assert_close(model.weight, w, rtol=1e-5, what="weight after 1 epoch of 2 batches",
                 inputs={"x": x})
    assert_close(model.bias, b, rtol=1e-5, what="bias after 1 epoch of 2 batches")
    assert list(history) == ["train_loss", "lr", "epoch_time"] and len(history["train_loss"]) == 1


def test_grad_accumulation_averages():
    """grad_accum_steps=k with batches of b: the same step as one batch of k * b."""
    x, y = _regression(12, seed=1)
    model = _linear(1)
    w, b = model.weight.numpy().copy(), model.bias.numpy().copy()
    trainer = Trainer(model, tt.optim.SGD(model.parameters(), lr=0.1), nn.MSELoss(),
                      grad_accum_steps=3, progress=False)
    trainer.fit(_batches(x, y, 4), epochs=1)
    assert trainer.global_step == 1, "3 batches with grad_accum_steps=3 make one optimizer step"
    w, b = _sgd_step_numpy(w, b, x, y, 0.1)
    assert_close(model.weight, w, rtol=1e-5,
                 what="weight after 3 accumulated batches of 4 (= one step on all 12)")
    assert_close(model.bias, b, rtol=1e-5, what="bias after 3 accumulated batches")


def test_fit_learns_and_records_history():
    x, y = _regression(64, seed=2)
    model = _linear(2)
    trainer = Trainer(model, tt.optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
                      nn.MSELoss(), progress=False)
    val = _batches(x[:16], y[:16], 8)
    history = trainer.fit(_batches(x, y, 16), epochs=40, val_loader=val)
    assert len(history["train_loss"]) == 40 and len(history["val_loss"]) == 40
    assert history["train_loss"][-1] < 1e-4 * history["train_loss"][0], history["train_loss"]
    assert_close(model.weight, [[1.0, -2.0, 0.5]], atol=1e-2, what="learned weight")


def test_evaluate_is_the_mean_loss_and_changes_nothing():
    x, y = _regression(10, seed=3)
    model = _linear(3)
    w = model.weight.numpy().copy()
    trainer = Trainer(model, tt.optim.SGD(model.parameters(), lr=0.1), nn.MSELoss(),
                      metrics={"mae": lambda out, tgt: float(np.abs(out.numpy() - tgt.numpy()).mean())},
                      progress=False)
    result = trainer.evaluate(_batches(x, y, 4))  # batches of 4, 4 and 2: weight by size
    pred = x @ w.T + model.bias.numpy()
    assert_close(result["loss"], ((pred - y) ** 2).mean(), rtol=1e-5,
                 what="evaluate()['loss'] (mean over all samples)")
    assert_close(result["mae"], np.abs(pred - y).mean(), rtol=1e-5, what="evaluate()['mae']")
    assert_close(model.weight, w, what="weights after evaluate (must not change)")
    assert model.weight.grad is None, "evaluate must not compute gradients"
    assert model.training, "evaluate must put the model back in training mode"


def test_evaluate_records_no_graph():
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(tt.is_grad_enabled())
            return x

    x, y = _regression(8, seed=7)
    model = nn.Sequential(_linear(7), Probe())
    Trainer(model, tt.optim.SGD(model.parameters(), lr=0.1), nn.MSELoss(),
            progress=False).evaluate(_batches(x, y, 4))
    assert seen == [False, False], \
        "evaluate must run the model under tt.no_grad(): no graph, no saved activations"


def test_early_stopping_keeps_going_while_the_loss_improves():
    x, y = _regression(32, seed=8)
    data = _batches(x, y, 8)
    model = _linear(8)
    trainer = Trainer(model, tt.optim.SGD(model.parameters(), lr=0.02), nn.MSELoss(),
                      progress=False)
    history = trainer.fit(data, epochs=6, val_loader=data, early_stopping_patience=1)
    assert all(b < a for a, b in zip(history["val_loss"], history["val_loss"][1:])), \
        f"this run's val_loss falls every epoch: {history['val_loss']}"
    assert len(history["val_loss"]) == 6, \
        "a falling val_loss is an improvement every epoch: early stopping must not stop"


def test_early_stopping_on_accuracy_wants_it_higher():
    x, y = _regression(8, seed=9)
    model = _linear(9)
    trainer = Trainer(model, tt.optim.SGD(model.parameters(), lr=0.1), nn.MSELoss(),
                      progress=False)
    trainer.best_score = 0.8
    assert trainer._is_improvement(0.9, "val_accuracy") and \
        not trainer._is_improvement(0.7, "val_accuracy"), "higher accuracy is better"
    assert trainer._is_improvement(0.7, "val_loss") and \
        not trainer._is_improvement(0.9, "val_loss"), "lower loss is better"


def test_early_stopping():
    x, y = _regression(8, seed=4)
    model = _linear(4)
    trainer = Trainer(model, tt.optim.SGD(model.parameters(), lr=0.0), nn.MSELoss(),
                      progress=False)
    data = _batches(x, y, 8)
    history = trainer.fit(data, epochs=30, val_loader=data, early_stopping_patience=2)
    assert len(history["val_loss"]) == 3, \
        f"with a flat val_loss and patience 2, training stops after 3 epochs, ran {history}"


@pytest.mark.parametrize("when,steps", [("epoch", 2), ("step", 6)])
def test_scheduler_steps_per_epoch_or_per_batch(when, steps):
    x, y = _regression(12, seed=5)
    model = _linear(5)
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    sched = tt.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    Trainer(model, opt, nn.MSELoss(), scheduler=sched, scheduler_step=when,
            progress=False).fit(_batches(x, y, 4), epochs=2)
    assert_close(opt.param_groups[0]["lr"], 0.1 * 0.5 ** steps,
                 what=f"lr after 2 epochs of 3 batches, scheduler_step={when!r}")


def test_checkpoint_resume(tmp_path):
    x, y = _regression(16, seed=6)
    data = _batches(x, y, 8)

    def build():
        model = _linear(6)
        return Trainer(model, tt.optim.Adam(model.parameters(), lr=0.05), nn.MSELoss(),
                       progress=False)

    straight = build()
    straight.fit(data, epochs=4)
    half = build()
    half.fit(data, epochs=2)
    half.save_checkpoint(tmp_path / "half.ckpt")
    resumed = build()
    resumed.load_checkpoint(tmp_path / "half.ckpt")
    assert resumed.epoch == 2
    resumed.fit(data, epochs=2)
    assert_close(resumed.model.weight, straight.model.weight, rtol=0, atol=0,
                 what="weights: 2 epochs + save/load + 2 epochs vs 4 epochs straight")


# ------------------------------------------------- edge cases: uneven groups, scalars, flags


def _accumulated_steps_numpy(w, b, x, y, lr, batch, k):
    """SGD where each step averages the gradients of up to k batches (a last, shorter group
    averages over its own size), each batch's gradient being that of its mean loss."""
    starts = list(range(0, len(x), batch))
    for g in range(0, len(starts), k):
        group = starts[g:g + k]
        gw, gb = np.zeros_like(w), np.zeros_like(b)
        for s in group:
            xs, ys = x[s:s + batch], y[s:s + batch]
            err = xs @ w.T + b - ys
            gw += 2 / len(xs) * err.T @ xs
            gb += 2 / len(xs) * err.sum(axis=0)
        w, b = w - lr * gw / len(group), b - lr * gb / len(group)
    return w, b, -(-len(starts) // k)


@pytest.mark.parametrize("n_batches,k", [(5, 2), (7, 3), (2, 4), (3, 1)])
@pytest.mark.parametrize("sized", [True, False], ids=["list", "generator"])
def test_grad_accumulation_when_groups_do_not_divide_evenly(n_batches, k, sized):
    """5 batches with k=2 make groups of 2, 2 and 1: three steps, the last one the gradient of
    that single batch (averaged over its own size, not divided by k). The same must hold for
    a loader without len() (a generator), where the group size is only known at the end."""
    x, y = _regression(4 * n_batches, seed=10 + k)
    model = _linear(10)
    w, b = model.weight.numpy().astype(np.float64), model.bias.numpy().astype(np.float64)
    trainer = Trainer(model, tt.optim.SGD(model.parameters(), lr=0.1), nn.MSELoss(),
                      grad_accum_steps=k, progress=False)
    batches = _batches(x, y, 4)
    trainer.train_epoch(batches if sized else (bt for bt in batches))
    w, b, steps = _accumulated_steps_numpy(w, b, x, y, 0.1, 4, k)
    assert trainer.global_step == steps, \
        f"{n_batches} batches with grad_accum_steps={k}: {steps} optimizer steps (a last, " \
        f"shorter group steps too), got {trainer.global_step}"
    assert_close(model.weight, w, rtol=1e-4, atol=1e-6,
                 what=f"weight after {n_batches} batches, grad_accum_steps={k}")
    assert_close(model.bias, b, rtol=1e-4, atol=1e-6,
                 what=f"bias after {n_batches} batches, grad_accum_steps={k}")
    assert all(p.grad is None or not np.any(p.grad.numpy()) for p in model.parameters()), \
        "after the epoch no accumulated gradient may be left over for the next epoch"


def test_save_keeps_numpy_scalars_and_their_types(tmp_path):
    """NumPy scalars (what .item()-less code and np.mean return) come back as the same NumPy
    scalar type, not as Python floats nor as 0-d arrays; a 0-d array stays a 0-d array."""
    obj = {"f64": np.float64(1.25), "f32": np.float32(1.5), "i64": np.int64(-3),
           "b": np.bool_(True), "zero_d": np.array(2.5, np.float32), "py_float": 0.1,
           "py_int": 7, "py_bool": False, "empty": np.zeros((0, 3), np.float32),
           "empty_list": [], "empty_tuple": (), "empty_dict": {}, 3: "int key", None: 1}
    tt.save(obj, tmp_path / "s.npz")
    back = tt.load(tmp_path / "s.npz")
    assert list(back) == list(obj), "keys (and their order, and int/None keys) must come back"
    for key, value in obj.items():
        got = back[key]
        assert type(got) is type(value), \
            f"{key!r}: saved a {type(value).__name__}, loaded a {type(got).__name__}"
        if isinstance(value, np.ndarray):
            assert got.shape == value.shape and got.dtype == value.dtype and \
                np.array_equal(got, value), f"{key!r}: array changed"
        elif isinstance(value, np.generic):
            assert got.dtype == value.dtype and got == value, f"{key!r}: {got!r} != {value!r}"
        else:
            assert got == value, f"{key!r}: {got!r} != {value!r}"


@pytest.mark.parametrize("requires_grad", [True, False])
def test_save_keeps_tensor_kind_and_requires_grad(tmp_path, requires_grad):
    t = tt.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=requires_grad)
    p = nn.Parameter(tt.tensor(np.ones(2, np.float32)), requires_grad=requires_grad)
    tt.save({"t": t, "p": p, "i": tt.tensor(np.arange(3))}, tmp_path / "t.npz")
    back = tt.load(tmp_path / "t.npz")
    assert type(back["t"]) is type(t) and type(back["p"]) is nn.Parameter, \
        f"a Tensor comes back as a Tensor and a Parameter as a Parameter: " \
        f"{type(back['t']).__name__}, {type(back['p']).__name__}"
    assert back["t"].requires_grad is requires_grad and back["p"].requires_grad is requires_grad, \
        f"requires_grad={requires_grad} must survive save/load"
    assert back["i"].dtype == tt.tensor(np.arange(3)).dtype and not back["i"].requires_grad
    assert np.array_equal(back["t"].numpy(), t.numpy()) and back["t"].shape == (2, 3)
