# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Lab 07 -- Training
#
# You wrote the Trainer (fit, evaluate, gradient accumulation, early stopping) and the
# checkpoint format (tt.save / tt.load: npz + JSON structure, atomic writes). This lab
# measures:
#
# 1. a full training run on scikit-learn's 8x8 digits: curves of loss and accuracy, train vs
#    validation, and where early stopping would stop;
# 2. gradient accumulation: k small batches = one big batch (how close), and what it costs;
# 3. checkpoint size vs parameter count: model only, + SGD momentum, + Adam;
# 4. save and load time, and what a crash mid-save leaves behind.
#
# Run it on your code: `tito module lab 7` (`--notebook` opens it in Jupyter).
# Loaders are lists of (x, y) batches here (DataLoader is module 08). `TINYTORCH_QUICK=1`
# shrinks every experiment; plots go to `$TINYTORCH_OUT` (default `runs/labs/07_training`).

# %%
import os
import tempfile
import time
from pathlib import Path

from tito import labkit
from tito.labkit import table

# One BLAS thread for steady timings (TINYTORCH_LAB_THREADS=0 keeps NumPy's default) and the
# Agg backend, both set before NumPy is imported: why, in tito/labkit.py.
lab = labkit.setup("07_training")
QUICK, OUT = lab.quick, lab.out

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import tinytorch as tt  # noqa: E402
import tinytorch.nn as nn  # noqa: E402
from tinytorch.core.training import Trainer, accuracy  # noqa: E402

rng = np.random.default_rng(0)


def batches(x, y, size, seed=None):
    """A list of (x, y) Tensor batches; shuffled once if ``seed`` is given."""
    idx = np.arange(len(x)) if seed is None else np.random.default_rng(seed).permutation(len(x))
    return [(tt.tensor(x[idx[i:i + size]]), tt.tensor(y[idx[i:i + size]]))
            for i in range(0, len(x), size)]


def mlp(width=128, seed=0):
    tt.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, 10))


digits = load_digits()
X = (digits.data / 16.0).astype(np.float32)
Y = digits.target.astype(np.int64)
perm = rng.permutation(len(X))
X, Y = X[perm], Y[perm]
X_train, Y_train = X[:1200], Y[:1200]
X_val, Y_val = X[1200:1500], Y[1200:1500]
X_test, Y_test = X[1500:], Y[1500:]

# %% [markdown]
# ## 1. A full run: curves, and where early stopping stops
#
# An MLP 64-256-10 with Adam, trained on only 300 images so that it can overfit, batches of
# 32 (one fixed shuffle), validation on 300 other images after every epoch. `progress=True`
# draws a bar per epoch on a terminal (and stays silent in a log). Overfitting shows as a
# training loss that keeps falling while the validation loss turns up; early stopping with
# patience 5 watches `val_loss` and stops 5 epochs after its best.

# %%
epochs = 8 if QUICK else 60
train_loader = batches(X_train[:300], Y_train[:300], 32, seed=1)
val_loader = batches(X_val, Y_val, 300)
model = mlp(256)
trainer = Trainer(model, tt.optim.Adam(model.parameters(), lr=3e-3), nn.CrossEntropyLoss(),
                  metrics={"accuracy": accuracy}, progress=True)
t0 = time.perf_counter()
history = trainer.fit(train_loader, epochs=epochs, val_loader=val_loader)
seconds = time.perf_counter() - t0
best = int(np.argmin(history["val_loss"]))

model2 = mlp(256)
stopper = Trainer(model2, tt.optim.Adam(model2.parameters(), lr=3e-3), nn.CrossEntropyLoss(),
                  metrics={"accuracy": accuracy}, progress=True)
stopped = stopper.fit(train_loader, epochs=epochs, val_loader=val_loader,
                      early_stopping_patience=5)
test = trainer.evaluate(batches(X_test, Y_test, 300))
test_stopped = stopper.evaluate(batches(X_test, Y_test, 300))
table(["run", "epochs run", "best val_loss (epoch)", "final train_loss", "final val_loss",
       "test accuracy", "seconds"],
      [(f"{epochs} epochs", epochs, f"{history['val_loss'][best]:.4f} ({best + 1})",
        f"{history['train_loss'][-1]:.4f}", f"{history['val_loss'][-1]:.4f}",
        f"{test['accuracy']:.3f}", f"{seconds:.2f}"),
       ("early stopping, patience 5", len(stopped["val_loss"]),
        f"{stopper.best_score:.4f} ({stopper.best_epoch})", f"{stopped['train_loss'][-1]:.4f}",
        f"{stopped['val_loss'][-1]:.4f}", f"{test_stopped['accuracy']:.3f}",
        f"{sum(stopped['epoch_time']):.2f}")], key="early-stopping")
print(f"{len(train_loader) * epochs / seconds:.0f} training steps per second "
      f"({seconds / epochs * 1e3:.0f} ms per epoch of {len(train_loader)} batches)")
if best + 1 < epochs:
    print(f"validation loss was lowest at epoch {best + 1} and ended "
          f"{history['val_loss'][-1] / history['val_loss'][best] - 1:+.1%} above it: overfitting")
else:
    print("validation loss was still falling at the last epoch: no overfitting in this run")
print("early stopping " + (f"stopped after epoch {len(stopped['val_loss'])}"
                           if stopper.stopped_early else "never triggered"))

fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.5))
ep = np.arange(1, epochs + 1)
a1.plot(ep, history["train_loss"], label="train")
a1.plot(ep, history["val_loss"], label="validation")
a1.axvline(best + 1, ls="--", c="gray", lw=0.8)
if stopper.stopped_early:
    a1.axvline(len(stopped["val_loss"]), ls=":", c="C3", lw=1, label="early stop")
a1.set_yscale("log")
a1.set_xlabel("epoch")
a1.set_ylabel("cross-entropy")
a1.legend()
a2.plot(ep, history["train_accuracy"], label="train")
a2.plot(ep, history["val_accuracy"], label="validation")
a2.set_xlabel("epoch")
a2.set_ylabel("accuracy")
a2.legend()
fig.tight_layout()
fig.savefig(OUT / "training_curves.png", dpi=120)
plt.close(fig)

# %% [markdown]
# ## 2. Gradient accumulation
#
# `grad_accum_steps=k` runs `k` batches of size `b`, each loss scaled by `1/k`, then one
# optimizer step: the same step as one batch of `k * b` (for a mean loss and equal batch
# sizes), with the activations of only `b` samples alive at a time. Measure both claims:
# the largest weight difference after one epoch of SGD (it should be float32 rounding), and
# the activation memory of one forward pass (the hidden layer's output, which backward
# keeps) against the time per epoch.

# %%
def one_epoch(k, b, repeat=3):
    """Weights after one SGD epoch with k x b accumulation; best epoch time of ``repeat``."""
    best = float("inf")
    for _ in range(repeat):
        model = mlp(256, seed=3)
        trainer = Trainer(model, tt.optim.SGD(model.parameters(), lr=0.1),
                          nn.CrossEntropyLoss(), grad_accum_steps=k, progress=False)
        data = batches(X_train, Y_train, b)
        t0 = time.perf_counter()
        trainer.fit(data, epochs=1)
        best = min(best, time.perf_counter() - t0)
    hidden = model[1](model[0](data[0][0]))  # what backward keeps alive for one batch
    return model, best, hidden.numpy().nbytes


big_batch = 240
reference, t_ref, mem_ref = one_epoch(1, big_batch)
rows = [(f"1 x {big_batch}", "-", f"{mem_ref / 1024:.0f}", f"{t_ref * 1e3:.1f}")]
for k in (2, 4, 8):
    model, t, mem = one_epoch(k, big_batch // k)
    diff = max(float(np.abs(p.numpy() - q.numpy()).max())
               for p, q in zip(model.parameters(), reference.parameters()))
    rows.append((f"{k} x {big_batch // k}", f"{diff:.1e}", f"{mem / 1024:.0f}",
                 f"{t * 1e3:.1f}"))
table(["k x b", f"max abs weight difference vs 1 x {big_batch}",
       "hidden activations of one batch, KiB", "epoch ms (best of 3)"], rows,
      key="accumulation")

# %% [markdown]
# ## 3. Checkpoint size vs parameter count
#
# A checkpoint stores the weights (4 bytes each in float32) plus the optimizer's state: none
# for plain SGD, one buffer per weight with momentum, two with Adam. The npz container adds a
# small header per array and the JSON structure. Measure the file sizes for MLPs of growing
# width, after one optimizer step (so the state exists).

# %%
widths = [16, 128, 1024] if QUICK else [16, 128, 1024, 4096]
tmp = Path(tempfile.mkdtemp(prefix="lab07-"))
rows, sizes = [], []
for width in widths:
    model = mlp(width)
    n = sum(p.numel() for p in model.parameters())
    row = [width, f"{n:,}", f"{n * 4 / 2**20:.3f}"]
    for name, make in (("model only", None),
                       ("+ SGD momentum", lambda ps: tt.optim.SGD(ps, lr=0.1, momentum=0.9)),
                       ("+ Adam", lambda ps: tt.optim.Adam(ps))):
        state = {"model": model.state_dict(), "epoch": 1}
        if make is not None:
            opt = make(model.parameters())
            model.zero_grad()
            nn.CrossEntropyLoss()(model(tt.tensor(X[:32])), tt.tensor(Y[:32])).backward()
            opt.step()
            state["optimizer"] = opt.state_dict()
        path = tmp / f"w{width}.npz"
        tt.save(state, path)
        size = path.stat().st_size
        row.append(f"{size / 2**20:.3f} ({size / (n * 4):.2f}x)")
        sizes.append((n, name, size))
    rows.append(row)
table(["width", "parameters", "weights MiB", "model only MiB", "+ SGD momentum MiB",
       "+ Adam MiB"], rows, key="checkpoint-size")

fig, ax = plt.subplots(figsize=(5, 3.5))
for name, marker in (("model only", "o"), ("+ SGD momentum", "s"), ("+ Adam", "^")):
    pts = [(n, s) for n, nm, s in sizes if nm == name]
    ax.loglog([p[0] for p in pts], [p[1] for p in pts], marker + "-", label=name)
ax.set_xlabel("parameters")
ax.set_ylabel("checkpoint bytes")
ax.legend()
fig.tight_layout()
fig.savefig(OUT / "checkpoint_size.png", dpi=120)
plt.close(fig)

# %% [markdown]
# ## 4. Save and load time; a crash mid-save
#
# Saving writes every byte once, then `fsync` waits until the disk has it: the cost is the
# file size over the disk's bandwidth plus one flush. Then simulate a crash: make the final
# `os.replace` fail after the new file was fully written, and check what is on disk.

# %%
model = mlp(1024 if QUICK else 4096)
opt = tt.optim.Adam(model.parameters())
model.zero_grad()
nn.CrossEntropyLoss()(model(tt.tensor(X[:32])), tt.tensor(Y[:32])).backward()
opt.step()
state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}
path = tmp / "ckpt.npz"
t0 = time.perf_counter()
tt.save(state, path)
t_save = time.perf_counter() - t0
t0 = time.perf_counter()
back = tt.load(path)
t_load = time.perf_counter() - t0
exact = all(back["model"][k].numpy().tobytes() == v.numpy().tobytes() for k, v in state["model"].items())
size = path.stat().st_size
table(["file MiB", "save ms (incl. fsync)", "load ms", "save MB/s", "bit-exact round trip"],
      [(f"{size / 2**20:.1f}", f"{t_save * 1e3:.1f}", f"{t_load * 1e3:.1f}",
        f"{size / t_save / 1e6:.0f}", exact)], key="save-load")

real_replace = os.replace


def crash(src, dst):
    raise OSError("simulated power cut before the rename")


os.replace = crash
try:
    tt.save({"epoch": 4, "model": mlp(8).state_dict()}, path)
except OSError as e:
    outcome = str(e)
finally:
    os.replace = real_replace
survivor = tt.load(path)
print(f"save failed ({outcome}); the file on disk still holds epoch {survivor['epoch']}; "
      f"files in the folder: {sorted(p.name for p in tmp.iterdir())}")
for p in tmp.iterdir():
    p.unlink()
tmp.rmdir()

# %%
print(f"plots written to {OUT.resolve()}")
