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
# # Lab 09 -- Spatial: convolution, pooling, batch norm
#
# You built `conv2d_naive` (seven loops), the im2col convolution the framework trains with,
# max/avg pooling through strided views, and batch norm. This lab measures them:
#
# 1. a hand-made filter on a real digit: what a convolution computes;
# 2. naive loops against im2col: the same numbers, and how the time grows with the image;
# 3. the price of im2col: its matrix is kh*kw times larger than the input;
# 4. parameters and FLOPs of a convolution against a dense layer with the same output;
# 5. what pooling and batch norm do: shapes, and the effect of batch norm on training.
#
# Run it on your code: `tito module lab 9` (`--notebook` opens it in Jupyter).
# `TINYTORCH_QUICK=1` shrinks every experiment to seconds; plots go to `$TINYTORCH_OUT`
# (default `runs/labs/09_spatial`).

# %%
from tito import labkit
from tito.labkit import best_time, table

# One BLAS thread for steady timings (TINYTORCH_LAB_THREADS=0 keeps NumPy's default) and the
# Agg backend, both set before NumPy is imported: why, in tito/labkit.py.
lab = labkit.setup("09_spatial")
QUICK, OUT = lab.quick, lab.out

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tinytorch as tt  # noqa: E402
import tinytorch.nn as nn  # noqa: E402
import tinytorch.nn.functional as F  # noqa: E402
from tinytorch.core.conv import conv2d_naive  # noqa: E402
from tinytorch.core.pooling import max_pool2d_naive  # noqa: E402

tt.manual_seed(0)


# %% [markdown]
# ## 1. A filter on a digit
#
# A convolution slides a small filter over the image and, at every position, takes the dot
# product of the filter with the patch under it. A Sobel filter responds to vertical edges:
# positive where brightness rises from left to right, negative where it falls. The same 9
# weights are used at all 36 positions of a 6x6 output: that is weight sharing.

# %%
try:
    from sklearn.datasets import load_digits

    digit = (load_digits().images[0] / 16.0).astype(np.float32)  # a 0, 8x8
except ImportError:  # scikit-learn is optional: draw a ring instead
    yy, xx = np.mgrid[:8, :8]
    digit = (np.abs(np.hypot(yy - 3.5, xx - 3.5) - 2.5) < 1).astype(np.float32)
sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)
sobel_y = sobel_x.T.copy()
x = tt.tensor(digit[None, None])  # (N=1, C=1, 8, 8)
w = tt.tensor(np.stack([sobel_x, sobel_y])[:, None])  # (O=2, C=1, 3, 3)
edges = F.conv2d(x, w)  # (1, 2, 6, 6)
pooled = F.max_pool2d(edges.relu(), 2)  # (1, 2, 3, 3)
print("input", x.shape, "-> conv2d with 2 filters", edges.shape, "-> relu, max_pool2d(2)",
      pooled.shape)
print("naive loops give the same numbers:",
      bool(np.allclose(conv2d_naive(x, w).numpy(), edges.numpy(), atol=1e-6)))

fig, axes = plt.subplots(1, 4, figsize=(9, 2.6))
for ax, img, title in zip(axes, [digit, edges.numpy()[0, 0], edges.numpy()[0, 1], pooled.numpy()[0, 0]],
                          ["digit (8x8)", "Sobel x (6x6)", "Sobel y (6x6)",
                           "relu + max-pool (3x3)"]):
    if title.startswith("Sobel"):  # signed: white is 0, red rising, blue falling brightness
        lim = float(np.abs(img).max())
        ax.imshow(img, cmap="bwr", vmin=-lim, vmax=lim, interpolation="nearest")
    else:
        ax.imshow(img, cmap="gray_r", interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.axis("off")
fig.tight_layout()
fig.savefig(OUT / "sobel_on_a_digit.png", dpi=120)
plt.close(fig)

# %% [markdown]
# ## 2. Seven loops against one matrix multiply
#
# `conv2d_naive` performs `N * O * Ho * Wo * C * kh * kw` multiply-adds, one Python step
# each. `conv2d` copies the patches into a matrix (im2col) and does them all in one BLAS
# call. Same arithmetic, same answer; the table times both on a batch of 2 images, 3 -> 8
# channels, 3x3 filters, padding 1, growing the image side.

# %%
sizes = [4, 8, 12] if QUICK else [4, 8, 16, 24, 32]
repeat = 2 if QUICK else 3
rows, naive_ms, fast_ms = [], [], []
for s in sizes:
    xs = tt.randn(2, 3, s, s)
    ws, bs = tt.randn(8, 3, 3, 3), tt.randn(8)
    slow = conv2d_naive(xs, ws, bs, padding=1)
    fast = F.conv2d(xs, ws, bs, padding=1)
    diff = float(np.abs(slow.numpy() - fast.numpy()).max())
    t_naive = best_time(lambda: conv2d_naive(xs, ws, bs, padding=1), 1 if s > 16 else repeat)
    t_fast = best_time(lambda: F.conv2d(xs, ws, bs, padding=1), repeat * 3)
    macs = 2 * 8 * s * s * 3 * 9
    naive_ms.append(t_naive * 1e3)
    fast_ms.append(t_fast * 1e3)
    rows.append((f"{s}x{s}", f"{macs:,}", f"{t_naive * 1e3:.1f}", f"{t_fast * 1e3:.3f}",
                 f"{t_naive / t_fast:,.0f}x", f"{diff:.1e}"))
table(["image", "multiply-adds", "naive ms", "im2col ms", "speed-up", "max |difference|"], rows,
      key="naive")

plt.figure(figsize=(5, 3.5))
plt.loglog([s * s for s in sizes], naive_ms, "o-", label="conv2d_naive (7 loops)")
plt.loglog([s * s for s in sizes], fast_ms, "s-", label="conv2d (im2col + matmul)")
plt.xlabel("pixels per image (H*W)")
plt.ylabel("forward time (ms)")
plt.title("Loops pay Python for every multiply-add;\nim2col pays a fixed overhead, then BLAS",
          fontsize=9)
plt.legend(fontsize=8)
plt.tight_layout()
plt.savefig(OUT / "naive_vs_im2col.png", dpi=120)
plt.close()

# The max-pool has its course path too.
xp = tt.randn(2, 3, 8, 8)
print("max_pool2d_naive == max_pool2d:",
      bool(np.array_equal(max_pool2d_naive(xp, 2).numpy(), F.max_pool2d(xp, 2).numpy())))

# %% [markdown]
# ## 3. The memory price of im2col
#
# Every output pixel gets its own column of `C*kh*kw` numbers, so the im2col matrix holds
# about `kh*kw` times as many numbers as the (padded) input: a 3x3 filter copies each pixel 9
# times, a 7x7 one 49 times. The table measures it for a batch of 32 RGB 32x32 images
# (CIFAR-sized), "same" padding, stride 1 and 2.

# %%
from tinytorch.core.im2col import BATCH_SECOND, im2col, to_layout  # noqa: E402

n_img = 8 if QUICK else 32
xin = np.random.default_rng(0).standard_normal((n_img, 3, 32, 32)).astype(np.float32)
rows = []
for k in (1, 3, 5, 7):
    for stride in (1, 2):
        p = k // 2
        ho = (32 + 2 * p - k) // stride + 1
        xw = to_layout(xin, (p, p, p, p), BATCH_SECOND)
        cols = im2col(xw, BATCH_SECOND, (k, k), (ho, ho), (stride, stride), (1, 1))
        rows.append((f"{k}x{k}", stride, f"{xin.nbytes / 2**20:.2f} MiB",
                     f"{cols.nbytes / 2**20:.2f} MiB", f"{cols.nbytes / xin.nbytes:.1f}x"))
table(["kernel", "stride", "input", "im2col matrix", "blow-up"], rows, key="im2col-memory")

# %% [markdown]
# ## 4. Convolution against a dense layer
#
# A convolution from C to O channels has `O*C*kh*kw + O` parameters whatever the image size,
# and costs `2*O*C*kh*kw` FLOPs per output pixel. A dense layer producing the same output
# from the same input connects every input number to every output number. For the layers of
# LeNet-5 on a 28x28 digit:

# %%
layers = [  # (name, C, H, W, O, k, padding, output side)
    ("conv1 1->6, 5x5, pad 2", 1, 28, 28, 6, 5, 2, 28),
    ("conv2 6->16, 5x5", 6, 14, 14, 16, 5, 0, 10),
    ("3x3 conv 3->16, pad 1, CIFAR", 3, 32, 32, 16, 3, 1, 32),
    ("3x3 conv 64->64, pad 1, 56x56", 64, 56, 56, 64, 3, 1, 56),
]
rows = []
for name, c, h, w_, o, k, p, side in layers:
    conv_params = o * c * k * k + o
    conv_flops = 2 * o * c * k * k * side * side
    n_in, n_out = c * h * w_, o * side * side
    dense_params = n_in * n_out + n_out
    dense_flops = 2 * n_in * n_out
    layer = nn.Conv2d(c, o, k, padding=p)
    assert sum(q.numel() for q in layer.parameters()) == conv_params  # the formula is right
    rows.append((name, f"{conv_params:,}", f"{dense_params:,}",
                 f"{dense_params / conv_params:,.0f}x", f"{conv_flops / 1e6:,.2f}",
                 f"{dense_flops / 1e6:,.0f}"))
table(["layer", "conv params", "dense params", "ratio", "conv MFLOPs", "dense MFLOPs"], rows,
      key="conv-vs-dense")

# %% [markdown]
# ## 5. Pooling, and what batch norm does to training
#
# Shapes through LeNet-5, then the same small CNN trained on the 8x8 digits with and
# without batch norm, from the same initial weights and the same batches.

# %%
lenet5 = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                       nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                       nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                       nn.Linear(84, 10))
h = tt.randn(1, 1, 28, 28)
rows = []
for layer in lenet5:
    h = layer(h)
    n = sum(q.numel() for q in layer.parameters())
    rows.append((type(layer).__name__, str(tuple(h.shape)), f"{n:,}"))
table(["layer", "output shape", "parameters"], rows)

try:
    from tinytorch.data import digits

    train_set, test_set = digits(flatten=False)
    xtr, ytr = train_set.tensors[0].numpy(), train_set.tensors[1].numpy()
    xte, yte = test_set.tensors[0].numpy(), test_set.tensors[1].numpy()
except ImportError:  # no scikit-learn: a synthetic two-class problem
    rng = np.random.default_rng(0)
    xtr = rng.random((512, 1, 8, 8)).astype(np.float32)
    ytr = (xtr[:, 0, :, :4].sum(axis=(1, 2)) > xtr[:, 0, :, 4:].sum(axis=(1, 2))).astype(np.int64)
    xte, yte = xtr[:128], ytr[:128]


def small_cnn(batch_norm: bool):
    norm = (lambda c: nn.BatchNorm2d(c)) if batch_norm else (lambda c: nn.Identity())
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), norm(16), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), norm(32), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 2 * 2, 10))


epochs = 3 if QUICK else 10
histories = {}
for use_bn in (False, True):
    tt.manual_seed(0)
    model = small_cnn(use_bn)
    opt = tt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    order = np.random.default_rng(0)
    losses, accs = [], []
    for _ in range(epochs):
        model.train()
        perm = order.permutation(len(xtr))
        total = 0.0
        for i in range(0, len(xtr), 64):
            idx = perm[i:i + 64]
            loss = F.cross_entropy(model(tt.tensor(xtr[idx])), tt.tensor(ytr[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        losses.append(total / len(xtr))
        model.eval()
        with tt.no_grad():
            accs.append(float(np.mean(model(tt.tensor(xte)).numpy().argmax(1) == yte)))
    histories["with batch norm" if use_bn else "without"] = (losses, accs)
table(["model", "train loss after 1 epoch", f"after {epochs}", "test accuracy"],
      [(k, f"{v[0][0]:.3f}", f"{v[0][-1]:.3f}", f"{v[1][-1]:.2%}") for k, v in histories.items()],
      key="batchnorm")

fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
for name, (losses, accs) in histories.items():
    axes[0].plot(range(1, epochs + 1), losses, "o-", ms=3, label=name)
    axes[1].plot(range(1, epochs + 1), accs, "o-", ms=3, label=name)
axes[0].set_ylabel("train loss")
axes[1].set_ylabel("test accuracy")
for ax in axes:
    ax.set_xlabel("epoch")
    ax.legend(fontsize=8)
fig.suptitle("Same CNN, SGD lr 0.1 momentum 0.9: with and without batch norm", fontsize=9)
fig.tight_layout()
fig.savefig(OUT / "batchnorm_training.png", dpi=120)
plt.close(fig)
print(f"plots written to {OUT}")
