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
# # Lab 08 -- DataLoader
#
# You built samplers, `BatchSampler`, `default_collate`, the `DataLoader` and the IDX parser.
# This lab measures what they cost and what they buy:
#
# 1. a dataset, a sampler and a batch, on the bundled digits;
# 2. one sample at a time vs one fancy-indexing gather per batch: throughput;
# 3. batch size against epoch time and accuracy, training a real MLP;
# 4. the memory of a data set stored as float32 vs uint8, and the price of converting late;
# 5. why we shuffle: the same model trained on data sorted by class;
# 6. augmentation: what `RandomCrop` and `RandomHorizontalFlip` do to an image.
#
# Run it on your code: `tito module lab 8` (`--notebook` opens it in Jupyter).
# `TINYTORCH_QUICK=1` shrinks every experiment to seconds; plots go to `$TINYTORCH_OUT`
# (default `runs/labs/08_dataloader`).

# %%
import time
from functools import partial

from tito import labkit
from tito.labkit import table

# One BLAS thread for steady timings (TINYTORCH_LAB_THREADS=0 keeps NumPy's default) and the
# Agg backend, both set before NumPy is imported: why, in tito/labkit.py.
lab = labkit.setup("08_dataloader")
QUICK, OUT = lab.quick, lab.out

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tinytorch as tt  # noqa: E402
import tinytorch.nn as nn  # noqa: E402
from tinytorch.data import (DataLoader, Dataset, RandomCrop, RandomHorizontalFlip,  # noqa: E402
                            TensorDataset, digits)

tt.manual_seed(0)
# An epoch is long enough to time by itself: one call per round, the fastest of ``repeat``.
best_of = partial(labkit.best_time, min_time=0)


# %% [markdown]
# ## 1. A dataset, a sampler, a batch
#
# `digits()` returns two `TensorDataset`s: 8x8 grey images flattened to 64 floats in [0, 1]
# and int64 labels, split 80/20 per class with a fixed seed. The loader draws a permutation
# (the sampler), cuts it into batches of 64 (the batch sampler), and fetches each batch with
# one `dataset[index_array]` call (the fast path).

# %%
train, test = digits()
loader = DataLoader(train, batch_size=64, shuffle=True, generator=tt.Generator().manual_seed(0))
xb, yb = next(iter(loader))
print(train, "/", test)
print(loader)
print("one batch:", tuple(xb.shape), xb.dtype, tuple(yb.shape), yb.dtype)
print("labels of the first batch:", yb.numpy()[:16].tolist(), "...")
print(f"{len(loader)} batches per epoch = ceil({len(train)} / 64)")


# %% [markdown]
# ## 2. One sample at a time vs one gather per batch
#
# A dataset that only knows `ds[i]` makes the loader call it `B` times per batch and then
# stack `B` small arrays (`default_collate`): `2B` trips through Python per batch. A
# `TensorDataset` answers `ds[[i1, ..., iB]]` with one NumPy gather per tensor. We time a full
# epoch over an MNIST-sized set (784 features) both ways, and NumPy's bare `X[idx]` as the
# bound: the fast path cannot beat the memory copy it has to make.

# %%
class OneByOne(Dataset):
    """The same data, served one sample at a time (what a dataset of files looks like)."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __getitem__(self, i):
        return tt.Tensor(self.x[i]), tt.Tensor(self.y[i])

    def __len__(self):
        return len(self.y)


n_samples = 6_000 if QUICK else 60_000
rng = np.random.default_rng(0)
X = rng.random((n_samples, 784), dtype=np.float32)
Y = rng.integers(0, 10, n_samples)


def epoch(loader):
    for _ in loader:
        pass


def numpy_epoch(batch_size):
    perm = rng.permutation(n_samples)
    for s in range(0, n_samples, batch_size):
        idx = perm[s:s + batch_size]
        X[idx], Y[idx]


rows, speed = [], {"one by one + collate": [], "fancy index (fast path)": [], "bare NumPy": []}
batch_sizes = [16, 64, 256] if QUICK else [16, 64, 256, 1024]
repeat = 1 if QUICK else 5
for bs in batch_sizes:
    g = tt.Generator().manual_seed(0)
    slow = DataLoader(OneByOne(X, Y), batch_size=bs, shuffle=True, generator=g)
    fast = DataLoader(TensorDataset(X, Y), batch_size=bs, shuffle=True, generator=g)
    t_slow = best_of(lambda: epoch(slow), repeat)
    t_fast = best_of(lambda: epoch(fast), repeat)
    t_np = best_of(lambda: numpy_epoch(bs), repeat)
    for k, t in zip(speed, (t_slow, t_fast, t_np)):
        speed[k].append(n_samples / t)
    rows.append((bs, f"{t_slow * 1e3:.0f}", f"{t_fast * 1e3:.1f}", f"{t_np * 1e3:.1f}",
                 f"{n_samples / t_slow:,.0f}", f"{n_samples / t_fast:,.0f}",
                 f"{t_slow / t_fast:.0f}x"))
print(f"one epoch over {n_samples:,} samples of 784 float32 features, shuffled")
table(["batch", "one-by-one ms", "fast path ms", "bare NumPy ms", "one-by-one samples/s",
       "fast path samples/s", "speed-up"], rows, key="loader")

plt.figure(figsize=(5, 3.5))
for name, s in speed.items():
    plt.loglog(batch_sizes, s, "o-", label=name)
plt.xlabel("batch size")
plt.ylabel("samples per second")
plt.title("Loading throughput")
plt.legend(fontsize=8)
plt.tight_layout()
plt.savefig(OUT / "loader_throughput.png", dpi=120)
plt.close()


# %% [markdown]
# ## 3. Batch size against epoch time and accuracy
#
# Every optimizer step costs a fixed overhead (Python, one graph, one update of every
# parameter) plus work proportional to the batch. Small batches pay the overhead many times
# per epoch; large ones amortize it but take fewer steps, so after the same number of epochs
# they have learned less. We train the same MLP (64-128-10, Adam, lr 1e-3 scaled with the
# batch) for a fixed number of epochs at each batch size.

# %%
def mlp(seed):
    tt.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


def accuracy(model, ds):
    x, y = ds.tensors
    with tt.no_grad():
        return float((model(x).numpy().argmax(1) == y.numpy()).mean())


def train_epochs(model, loader, epochs, lr):
    opt = tt.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    losses, times = [], []
    for _ in range(epochs):
        t0, total, count = time.perf_counter(), 0.0, 0
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, count = total + loss.item() * len(yb), count + len(yb)
        times.append(time.perf_counter() - t0)
        losses.append(total / count)
    return losses, times


epochs = 2 if QUICK else 8
bs_list = [8, 32, 128, 512] if QUICK else [4, 16, 64, 256, 1024]
rows, epoch_ms, accs = [], [], []
for bs in bs_list:
    model = mlp(0)
    loader = DataLoader(train, batch_size=bs, shuffle=True,
                        generator=tt.Generator().manual_seed(0))
    lr = 1e-3 * min(np.sqrt(bs / 32), 4)  # a larger batch tolerates a larger step
    losses, times = train_epochs(model, loader, epochs, lr)
    ms = 1e3 * min(times)
    acc = accuracy(model, test)
    epoch_ms.append(ms)
    accs.append(acc)
    rows.append((bs, len(loader), f"{ms:.0f}", f"{ms * 1e3 / len(loader):.0f}",
                 f"{len(train) / ms * 1e3:,.0f}", f"{losses[-1]:.3f}", f"{acc:.3f}"))
print(f"MLP 64-128-10 on digits, {epochs} epochs per batch size")
table(["batch", "steps/epoch", "epoch ms", "us/step", "samples/s", "final train loss",
       "test accuracy"], rows, key="batch-size")

fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
ax[0].loglog(bs_list, epoch_ms, "o-")
ax[0].set_xlabel("batch size")
ax[0].set_ylabel("epoch time (ms)")
ax[0].set_title("Overhead per step dominates small batches")
ax[1].semilogx(bs_list, accs, "o-")
ax[1].set_xlabel("batch size")
ax[1].set_ylabel(f"test accuracy after {epochs} epochs")
ax[1].set_title("...but large batches take fewer steps")
plt.tight_layout()
plt.savefig(OUT / "batch_size_vs_epoch_time.png", dpi=120)
plt.close()


# %% [markdown]
# ## 4. Memory: float32 vs uint8
#
# A pixel is a byte. Stored as float32 it takes four. The readers (`MNIST`, `CIFAR10`) keep
# `uint8` and convert each batch to float32 in [0, 1] when the loader asks for it. We allocate
# both forms and measure their size, and time that late conversion over one epoch.

# %%
shapes = {"MNIST train (60000, 28, 28)": (60_000, 28, 28),
          "CIFAR-10 train (50000, 3, 32, 32)": (50_000, 3, 32, 32)}
rows = []
for name, shape in shapes.items():
    n_alloc = shape[0] // 10 if QUICK else shape[0]  # quick: a tenth, scaled up below
    raw = rng.integers(0, 256, size=(n_alloc,) + shape[1:], dtype=np.uint8)
    as_float = raw.astype(np.float32) / 255
    scale = shape[0] / n_alloc
    t_convert = best_of(lambda: [raw[i:i + 128].astype(np.float32) * np.float32(1 / 255)
                                 for i in range(0, n_alloc, 128)], 1 if QUICK else 3) * scale
    rows.append((name, f"{raw.nbytes * scale / 2**20:.0f} MiB",
                 f"{as_float.nbytes * scale / 2**20:.0f} MiB",
                 f"{as_float.nbytes / raw.nbytes:.0f}x", f"{t_convert * 1e3:.0f} ms"))
    del raw, as_float
table(["data set", "uint8", "float32", "ratio", "convert per epoch (batches of 128)"], rows,
      key="uint8")


# %% [markdown]
# ## 5. Why shuffle?
#
# Sort the training set by label and train without shuffling: each epoch the model sees
# 140-odd zeros, then ones, ... and each stretch pulls the weights towards "everything is a
# 9" just before we measure. Shuffled batches mix the classes, so each step's gradient is an
# unbiased estimate of the whole data set's.

# %%
x_tr, y_tr = train.tensors
order = np.argsort(y_tr.numpy(), kind="stable")
sorted_train = TensorDataset(x_tr.numpy()[order], y_tr.numpy()[order])
curves = {}
for name, ds, shuffle in (("sorted by label, no shuffle", sorted_train, False),
                          ("shuffled every epoch", train, True)):
    model = mlp(0)
    loader = DataLoader(ds, batch_size=32, shuffle=shuffle,
                        generator=tt.Generator().manual_seed(0))
    accs_epoch = []
    for _ in range(3 if QUICK else 8):
        train_epochs(model, loader, 1, 1e-3)
        accs_epoch.append(accuracy(model, test))
    curves[name] = accs_epoch
table(["training order", "test accuracy after epoch 1", "after the last epoch"],
      [(k, f"{v[0]:.3f}", f"{v[-1]:.3f}") for k, v in curves.items()], key="shuffle")

plt.figure(figsize=(5, 3.5))
for name, v in curves.items():
    plt.plot(range(1, len(v) + 1), v, "o-", label=name)
plt.xlabel("epoch")
plt.ylabel("test accuracy")
plt.title("The order of the samples matters")
plt.legend(fontsize=8)
plt.tight_layout()
plt.savefig(OUT / "shuffle_vs_sorted.png", dpi=120)
plt.close()


# %% [markdown]
# ## 6. Augmentation
#
# `RandomCrop(8, padding=1)` shifts each image by up to one pixel, `RandomHorizontalFlip`
# mirrors half of them (fine for clothes and photos; for digits a mirrored 2 is not a 2, so
# we show it but would not train with it). Both act on a whole batch at once, with one random
# draw per image.

# %%
images, _ = digits(flatten=False)[0].tensors
batch = images.numpy()[:8]  # (8, 1, 8, 8)
g = tt.Generator().manual_seed(0)
rows_img = [batch, RandomCrop(8, padding=1, generator=g)(batch).numpy(),
            RandomHorizontalFlip(0.5, generator=g)(batch).numpy()]
fig, axes = plt.subplots(3, 8, figsize=(8, 3.3))
for r, (label, imgs) in enumerate(zip(["original", "crop, pad 1", "flip p=0.5"], rows_img)):
    for c in range(8):
        axes[r, c].imshow(imgs[c, 0], cmap="gray_r")
        axes[r, c].set_xticks([])
        axes[r, c].set_yticks([])
    axes[r, 0].set_ylabel(label, fontsize=8)
plt.tight_layout()
plt.savefig(OUT / "augmentation.png", dpi=120)
plt.close()
changed = [float(np.mean(np.any(im != batch, axis=(1, 2, 3)))) for im in rows_img[1:]]
print(f"images changed by the crop: {changed[0]:.0%}, by the flip: {changed[1]:.0%}")
print(f"plots written to {OUT}")
