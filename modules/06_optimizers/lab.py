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
# # Lab 06 -- Optimizers
#
# You wrote SGD (with momentum, Nesterov, weight decay), Adam, AdamW, RMSprop, the learning
# rate schedules and gradient clipping. This lab measures:
#
# 1. what each optimizer costs in memory (state per parameter) and time per step;
# 2. how they move on a narrow curved valley (the Rosenbrock function): trajectories;
# 3. how fast they train a real network (an MLP on scikit-learn's 8x8 digits): loss curves;
# 4. why Adam needs bias correction: the first steps with and without it;
# 5. what the schedules look like, and what warmup + cosine does to a training run.
#
# Run it on your code: `tito module lab 6` (`--notebook` opens it in Jupyter).
# `TINYTORCH_QUICK=1` shrinks every experiment; plots go to `$TINYTORCH_OUT` (default
# `runs/labs/06_optimizers`).

# %%
import time

from tito import labkit
from tito.labkit import table

# One BLAS thread for steady timings (TINYTORCH_LAB_THREADS=0 keeps NumPy's default) and the
# Agg backend, both set before NumPy is imported: why, in tito/labkit.py.
lab = labkit.setup("06_optimizers")
QUICK, OUT = lab.quick, lab.out

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tinytorch as tt  # noqa: E402
import tinytorch.nn as nn  # noqa: E402
import tinytorch.nn.functional as F  # noqa: E402
from tinytorch.optim import lr_scheduler  # noqa: E402

rng = np.random.default_rng(0)


OPTIMIZERS = {
    "SGD": lambda ps, lr=None: tt.optim.SGD(ps, lr=lr or 0.1),
    "SGD momentum 0.9": lambda ps, lr=None: tt.optim.SGD(ps, lr=lr or 0.1, momentum=0.9),
    "SGD Nesterov": lambda ps, lr=None: tt.optim.SGD(ps, lr=lr or 0.1, momentum=0.9,
                                                     nesterov=True),
    "RMSprop": lambda ps, lr=None: tt.optim.RMSprop(ps, lr=lr or 1e-3),
    "RMSprop centered+mom.": lambda ps, lr=None: tt.optim.RMSprop(ps, lr=lr or 1e-3,
                                                                  momentum=0.9, centered=True),
    "Adam": lambda ps, lr=None: tt.optim.Adam(ps, lr=lr or 1e-3),
    "Adam amsgrad": lambda ps, lr=None: tt.optim.Adam(ps, lr=lr or 1e-3, amsgrad=True),
    "AdamW": lambda ps, lr=None: tt.optim.AdamW(ps, lr=lr or 1e-3),
}

# %% [markdown]
# ## 1. Memory and time per step
#
# Each optimizer keeps state for every weight between steps. Count the bytes of every array
# in `opt.state` after one step, divide by the bytes of the parameters: that ratio is the
# optimizer's memory multiplier. For a 7-billion-parameter model in float32 (28 GB of
# weights), Adam's 2x adds 56 GB before a single activation is stored. Time one step too:
# every state array is read and written each step, so the update is memory-bound.

# %%
width = 256 if QUICK else 1024
tt.manual_seed(0)
model = nn.Sequential(nn.Linear(784, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                      nn.Linear(width, 10))
params = list(model.parameters())
n_params = sum(p.numel() for p in params)
param_bytes = sum(p.numpy().nbytes for p in params)
for p in params:
    p.grad = tt.tensor(rng.standard_normal(p.shape).astype(np.float32) * 1e-3)
repeat = 3 if QUICK else 20

rows, mem_ratio = [], {}
for name, make in OPTIMIZERS.items():
    snapshot = [p.numpy().copy() for p in params]
    opt = make(params)
    opt.step()
    state_bytes = sum(v.nbytes for s in opt.state.values() for v in s.values()
                      if isinstance(v, np.ndarray))
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        opt.step()
        best = min(best, time.perf_counter() - t0)
    for p, s in zip(params, snapshot):
        p.numpy()[...] = s
    mem_ratio[name] = state_bytes / param_bytes
    rows.append((name, f"{state_bytes / 2**20:.2f}", f"{state_bytes / param_bytes:.2f}x",
                 f"{best * 1e3:.2f}"))
print(f"MLP 784-{width}-{width}-10: {n_params:,} parameters, {param_bytes / 2**20:.2f} MiB")
table(["optimizer", "state MiB", "state / params", "step ms"], rows, key="memory")

# %% [markdown]
# ## 2. A narrow curved valley: Rosenbrock
#
# `f(x, y) = (1 - x)^2 + 100 (y - x^2)^2` has its minimum at (1, 1) at the bottom of a long
# curved valley whose walls are 100 times steeper than its floor. Plain SGD must use a small
# learning rate (or it bounces off the walls) and then crawls along the floor; momentum
# builds speed along the floor; Adam divides each coordinate by its own gradient scale.

# %%
def rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


steps = 300 if QUICK else 3000
settings = [("SGD", lambda ps: tt.optim.SGD(ps, lr=1e-3)),
            ("SGD momentum 0.9", lambda ps: tt.optim.SGD(ps, lr=1e-3, momentum=0.9)),
            ("RMSprop", lambda ps: tt.optim.RMSprop(ps, lr=1e-2)),
            ("Adam", lambda ps: tt.optim.Adam(ps, lr=5e-2))]
paths, rows = {}, []
for name, make in settings:
    p = tt.tensor([-1.5, 2.0], dtype=tt.float64, requires_grad=True)
    opt = make([p])
    path = [p.numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        rosenbrock(p).backward()
        opt.step()
        path.append(p.numpy().copy())
    paths[name] = np.array(path)
    dist = np.linalg.norm(np.array(path) - [1.0, 1.0], axis=1)
    reached = np.argmax(dist < 0.1) if (dist < 0.1).any() else None
    rows.append((name, f"{rosenbrock(tt.tensor(path[-1])).item():.2e}",
                 f"({path[-1][0]:.3f}, {path[-1][1]:.3f})",
                 reached if reached is not None else f"> {steps}"))
table(["optimizer", f"f after {steps} steps", "final point", "steps to within 0.1 of (1, 1)"],
      rows, key="rosenbrock")

xs, ys = np.meshgrid(np.linspace(-2, 2, 200), np.linspace(-1, 3, 200))
fig, ax = plt.subplots(figsize=(6, 4.5))
ax.contour(xs, ys, np.log10((1 - xs) ** 2 + 100 * (ys - xs ** 2) ** 2 + 1e-3), levels=20,
           cmap="Greys", linewidths=0.6)
for name, path in paths.items():
    ax.plot(path[:, 0], path[:, 1], lw=1.2, label=name)
ax.plot([1], [1], "k*", ms=10)
ax.set_title(f"Rosenbrock, {steps} steps from (-1.5, 2)")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(OUT / "rosenbrock_paths.png", dpi=120)
plt.close(fig)

# %% [markdown]
# ## 3. Training a real network: an MLP on 8x8 digits
#
# 1,797 handwritten digits (scikit-learn's bundled copy, no download), 64 pixels each, an MLP
# 64-128-10 and minibatches of 64. Each optimizer at the learning rate usually recommended
# for it. Watch the first epochs: adaptive methods are fast early; SGD with momentum catches
# up.

# %%
from sklearn.datasets import load_digits  # noqa: E402

digits = load_digits()
X = (digits.data / 16.0).astype(np.float32)
Y = digits.target.astype(np.int64)
perm = rng.permutation(len(X))
X, Y = X[perm], Y[perm]
X_train, Y_train, X_test, Y_test = X[:1400], Y[:1400], X[1400:], Y[1400:]
epochs = 3 if QUICK else 20
batch = 64

curves, rows = {}, []
for name in ("SGD", "SGD momentum 0.9", "RMSprop", "Adam", "AdamW"):
    tt.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = OPTIMIZERS[name](net.parameters())
    order = np.random.default_rng(1)
    losses = []
    t0 = time.perf_counter()
    for epoch in range(epochs):
        idx = order.permutation(len(X_train))
        for s in range(0, len(idx), batch):
            b = idx[s:s + batch]
            loss = F.cross_entropy(net(tt.tensor(X_train[b])), tt.tensor(Y_train[b]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    seconds = time.perf_counter() - t0
    with tt.no_grad():
        acc = (net(tt.tensor(X_test)).argmax(dim=1).numpy() == Y_test).mean()
    curves[name] = losses
    rows.append((name, f"{np.mean(losses[-20:]):.4f}", f"{acc:.3f}", f"{seconds:.2f}"))
table(["optimizer", f"train loss (last 20 batches, {epochs} epochs)", "test accuracy",
       "seconds"], rows, key="digits")

fig, ax = plt.subplots(figsize=(6, 4))
for name, losses in curves.items():
    smooth = np.convolve(losses, np.ones(10) / 10, mode="valid")
    ax.plot(smooth, label=name, lw=1.2, ls="--" if name == "AdamW" else "-")
ax.set_yscale("log")
ax.set_xlabel("optimizer step")
ax.set_ylabel("training loss (10-step average)")
ax.set_title("MLP on digits")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(OUT / "digits_convergence.png", dpi=120)
plt.close(fig)

# %% [markdown]
# ## 4. Adam's bias correction
#
# `m` and `v` start at 0, so after one step `m = 0.1 g` and `v = 0.001 g^2`: without
# correction the first step is `lr * 0.1 g / (0.032 |g|) = 3.2 lr`, more than three times
# the intended size, and the ratio drifts over the first few hundred steps. Measure it: a
# weight with a constant gradient, the actual step of our Adam vs the step computed from the
# same `m`, `v` without the correction.

# %%
p = tt.zeros(1, requires_grad=True)
opt = tt.optim.Adam([p], lr=1e-3)
rows = []
for t in range(1, 1001):
    before = p.numpy().copy()
    p.grad = tt.tensor([0.5])
    opt.step()
    st = opt.state[p]
    uncorrected = 1e-3 * st["exp_avg"][0] / (np.sqrt(st["exp_avg_sq"][0]) + 1e-8)
    if t in (1, 2, 5, 10, 100, 1000):
        rows.append((t, f"{abs(p.numpy()[0] - before[0]):.3e}", f"{uncorrected:.3e}"))
table(["step t", "Adam step (corrected)", "same m, v without correction"], rows,
      key="bias-correction")

# %% [markdown]
# ## 5. Learning-rate schedules
#
# The shape of the learning rate over a run, with our schedulers stepped once per optimizer
# step (base lr 0.1, 100 steps). Then a real comparison: the digits MLP with Adam at a
# constant lr vs the same peak lr with a 10% warmup and cosine decay to 0, at a modest and at
# a large learning rate. A schedule spends part of the run at small lrs: it can only pay off
# where the constant lr is too large to settle.

# %%
total = 100
shapes = {
    "StepLR(30, 0.5)": lambda o: lr_scheduler.StepLR(o, step_size=30, gamma=0.5),
    "CosineAnnealingLR(100)": lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=total),
    "LinearLR(0.1, 1, 20)": lambda o: lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=20),
    "WarmupCosineLR(10, 100)": lambda o: lr_scheduler.WarmupCosineLR(o, warmup_steps=10,
                                                                     total_steps=total),
}
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, make in shapes.items():
    o = tt.optim.SGD([tt.zeros(1, requires_grad=True)], lr=0.1)
    s = make(o)
    lrs = [s.get_last_lr()[0]]
    for _ in range(total):
        o.step()
        s.step()
        lrs.append(s.get_last_lr()[0])
    ax.plot(lrs, label=name)
ax.set_xlabel("step")
ax.set_ylabel("learning rate")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(OUT / "schedules.png", dpi=120)
plt.close(fig)

rows = []
steps_per_epoch = -(-len(X_train) // batch)
results = {}
for lr in (3e-3, 3e-2):
    for use_schedule in (False, True):
        tt.manual_seed(0)
        net = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
        opt = tt.optim.Adam(net.parameters(), lr=lr)
        total_steps = epochs * steps_per_epoch
        sched = lr_scheduler.WarmupCosineLR(opt, warmup_steps=max(1, total_steps // 10),
                                            total_steps=total_steps) if use_schedule else None
        order = np.random.default_rng(1)
        for epoch in range(epochs):
            idx = order.permutation(len(X_train))
            for s in range(0, len(idx), batch):
                b = idx[s:s + batch]
                loss = F.cross_entropy(net(tt.tensor(X_train[b])), tt.tensor(Y_train[b]))
                opt.zero_grad()
                loss.backward()
                opt.step()
                if sched is not None:
                    sched.step()
        with tt.no_grad():
            train_loss = F.cross_entropy(net(tt.tensor(X_train)), tt.tensor(Y_train)).item()
            acc = float((net(tt.tensor(X_test)).argmax(dim=1).numpy() == Y_test).mean())
        results[lr, use_schedule] = (train_loss, acc)
        rows.append((f"Adam lr {lr:g}", "warmup 10% + cosine" if use_schedule else "constant",
                     f"{train_loss:.4f}", f"{acc:.3f}"))
table(["run", "schedule", f"train loss after {epochs} epochs (full set)", "test accuracy"],
      rows, key="schedules")
for lr in (3e-3, 3e-2):
    (l0, a0), (l1, a1) = results[lr, False], results[lr, True]
    print(f"lr {lr:g}: the schedule {'lowered' if l1 < l0 else 'did not lower'} the final "
          f"training loss ({l0:.4f} -> {l1:.4f}) and "
          f"{'raised' if a1 > a0 else 'did not raise'} test accuracy ({a0:.3f} -> {a1:.3f})")

# %% [markdown]
# ## What to take away
#
# * Memory: SGD keeps nothing, momentum one copy of the weights, Adam two (three with
#   amsgrad). The optimizer step itself is cheap next to forward and backward, but its
#   state can outweigh the model.
# * On curved valleys, momentum and per-coordinate scaling (RMSprop, Adam) beat plain SGD
#   by orders of magnitude in steps.
# * Bias correction makes Adam's first steps the size you asked for.
# * A schedule is not free: warmup and decay spend steps at small learning rates. It pays
#   where the peak lr is large (fast progress early, small steps to settle at the end); at a
#   modest lr on a small problem a constant lr can end ahead. The printed lines above say
#   which happened in your run.

# %%
print(f"plots written to {OUT.resolve()}")
