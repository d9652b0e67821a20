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
# # Lab 03 -- Layers
#
# You built `Linear`, `Sequential`, `Dropout`, `Flatten` and the `nn.init` functions. This lab
# measures them:
#
# 1. a Linear layer is one matrix product: check it against NumPy;
# 2. where the parameters and the memory of an MLP go, as width and depth grow;
# 3. how forward time grows with width (and how close we are to the bare NumPy matmul);
# 4. why initialisation matters: activation scale through a 20-layer ReLU network;
# 5. dropout's statistics, and moving weights through `state_dict`.
#
# Run it on your code: `tito module lab 3` (`--notebook` opens it in Jupyter).
# `TINYTORCH_QUICK=1` shrinks every experiment to seconds; plots go to `$TINYTORCH_OUT`
# (default `runs/labs/03_layers`). No gradients here: autograd is module 05.

# %%
from tito import labkit
from tito.labkit import best_time, table

# One BLAS thread for steady timings (TINYTORCH_LAB_THREADS=0 keeps NumPy's default) and the
# Agg backend, both set before NumPy is imported: why, in tito/labkit.py.
lab = labkit.setup("03_layers")
QUICK, OUT = lab.quick, lab.out

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tinytorch as tt  # noqa: E402
import tinytorch.nn as nn  # noqa: E402

tt.manual_seed(0)


# %% [markdown]
# ## 1. A Linear layer is `x @ W.T + b`
#
# The weight is stored `(out_features, in_features)`, PyTorch's layout: row `j` holds the
# weights of output unit `j`. Every batch row is multiplied by the same `W.T`.

# %%
layer = nn.Linear(4, 3)
x = tt.randn(5, 4)
y = layer(x)
by_hand = x.numpy() @ layer.weight.numpy().T + layer.bias.numpy()
print(layer)
print("weight", layer.weight.shape, "bias", layer.bias.shape, "-> output", y.shape)
print("max |layer(x) - (x @ W.T + b)| =", float(np.abs(y.numpy() - by_hand).max()))
print("state_dict keys:", list(layer.state_dict()))

# %% [markdown]
# ## 2. Parameters and memory of MLPs
#
# A Linear(in, out) has `in*out + out` parameters. An MLP of depth `L` and width `H` on `D`
# inputs has about `D*H + (L-1)*H^2` of them: the square term dominates, so doubling the
# width quadruples the model. Training needs more than the weights: a gradient of the same
# size, and Adam (module 06) keeps two more buffers, so about 4x the weights' memory.

# %%
def mlp(d_in, width, depth, d_out):
    layers, d = [], d_in
    for _ in range(depth):
        layers += [nn.Linear(d, width), nn.ReLU()]
        d = width
    layers.append(nn.Linear(d, d_out))
    return nn.Sequential(*layers)


rows = []
configs = [(64, 1), (64, 3), (256, 3), (1024, 3), (1024, 6)] if QUICK else \
    [(64, 1), (64, 3), (256, 3), (1024, 3), (1024, 6), (4096, 3)]
for width, depth in configs:
    model = mlp(784, width, depth, 10)
    n = sum(p.numel() for p in model.parameters())
    weight_bytes = sum(p.numpy().nbytes for p in model.parameters())
    rows.append((f"784-{width}x{depth}-10", f"{n:,}", f"{weight_bytes / 2**20:.2f} MiB",
                 f"{4 * weight_bytes / 2**20:.1f} MiB"))
table(["MLP", "parameters", "float32 weights", "training with Adam (~4x)"], rows, key="params")

# %% [markdown]
# ## 3. Forward time against width
#
# A Linear(H, H) on a batch of B rows costs `2*B*H^2` floating point operations. We time
# our layer and the bare NumPy `x @ W.T + b` it wraps: the difference is the framework's
# overhead (argument checks, Tensor wrapping, recording the graph).

# %%
batch = 64 if QUICK else 256
widths = [64, 128, 256, 512] if QUICK else [64, 128, 256, 512, 1024, 2048]
repeat = 3 if QUICK else 15
rows, ours, bare = [], [], []
for h in widths:
    lin = nn.Linear(h, h)
    xb = tt.randn(batch, h)
    w, b = lin.weight.numpy(), lin.bias.numpy()
    t_ours = best_time(lambda: lin(xb), repeat)
    t_np = best_time(lambda: xb.numpy() @ w.T + b, repeat)
    gflops = 2 * batch * h * h / t_ours / 1e9
    ours.append(t_ours)
    bare.append(t_np)
    rows.append((h, f"{t_ours * 1e3:.3f}", f"{t_np * 1e3:.3f}", f"{t_ours / t_np:.2f}x",
                 f"{gflops:.1f}"))
table(["width H", "tinytorch ms", "NumPy ms", "overhead", "GFLOP/s"], rows, key="forward-time")

plt.figure(figsize=(5, 3.5))
plt.loglog(widths, np.array(ours) * 1e3, "o-", label="nn.Linear")
plt.loglog(widths, np.array(bare) * 1e3, "s--", label="NumPy x @ W.T + b")
plt.xlabel("width H (Linear(H, H))")
plt.ylabel(f"forward time, batch {batch} (ms)")
plt.title("Forward time grows as H^2")
plt.legend()
plt.tight_layout()
plt.savefig(OUT / "forward_time_vs_width.png", dpi=120)
plt.close()

# %% [markdown]
# ## 4. Initialisation decides whether a deep network can start
#
# Push a random batch through 20 Linear+ReLU layers and record the standard deviation of the
# activations after each one. With N(0, 1) weights each layer multiplies the scale by about
# `sqrt(H/2)`: it explodes. With N(0, 0.01^2) it vanishes. Kaiming's `std = sqrt(2/fan_in)`
# keeps it steady; PyTorch's default (`kaiming_uniform_(a=sqrt(5))`, std `1/sqrt(3 fan_in)`)
# shrinks it by about `1/sqrt(6)` per layer -- fine for shallow nets, one reason deep ones
# add normalisation (module 09).

# %%
depth, width = (10, 128) if QUICK else (20, 512)
schemes = {
    "N(0, 1)": lambda w: nn.init.normal_(w, 0.0, 1.0),
    "N(0, 0.01)": lambda w: nn.init.normal_(w, 0.0, 0.01),
    "PyTorch default": lambda w: None,
    "kaiming_normal_(relu)": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
    "xavier_normal_": lambda w: nn.init.xavier_normal_(w),
}
curves = {}
xb = tt.randn(256, width)
for name, scheme in schemes.items():
    tt.manual_seed(1)
    h, stds = xb, []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(depth):
            lin = nn.Linear(width, width)
            scheme(lin.weight)
            nn.init.zeros_(lin.bias)
            h = lin(h).relu()
            stds.append(float(h.numpy().std()))
    curves[name] = stds
table(["init", "std after layer 1", f"after layer {depth // 2}", f"after layer {depth}"],
      [(k, f"{v[0]:.3g}", f"{v[depth // 2 - 1]:.3g}", f"{v[-1]:.3g}") for k, v in curves.items()],
      key="init")

plt.figure(figsize=(5.5, 3.5))
for name, stds in curves.items():
    plt.semilogy(range(1, depth + 1), np.maximum(stds, 1e-30), "o-", ms=3, label=name)
plt.xlabel("layer")
plt.ylabel("activation std")
plt.title(f"{depth} Linear+ReLU layers of width {width}")
plt.legend(fontsize=7)
plt.tight_layout()
plt.savefig(OUT / "init_activation_scale.png", dpi=120)
plt.close()

# %% [markdown]
# ## 5. Dropout, and weights that travel
#
# Inverted dropout zeroes a fraction `p` and scales the survivors by `1/(1-p)`: the mean is
# unchanged, so evaluation (`model.eval()`) simply turns it off.

# %%
ones = tt.ones(1000, 1000) if not QUICK else tt.ones(200, 200)
rows = []
for p in (0.1, 0.5, 0.9):
    out = nn.Dropout(p)(ones).numpy()
    rows.append((p, f"{np.mean(out == 0):.4f}", f"{out.max():.3f}", f"{out.mean():.4f}"))
table(["p", "fraction zeroed", "survivor value 1/(1-p)", "mean (1.0 expected)"], rows,
      key="dropout")
d = nn.Dropout(0.5).eval()
print("in eval mode dropout returns its input:", d(ones) is ones)

# A state_dict is a flat {dotted name: array} mapping; NumPy's .npz stores it without pickle.
model = mlp(16, 32, 2, 4)
path = OUT / "mlp_weights.npz"
np.savez(path, **{k: v.numpy() for k, v in model.state_dict().items()})
clone = mlp(16, 32, 2, 4)
with np.load(path, allow_pickle=False) as f:
    clone.load_state_dict({k: f[k] for k in f.files})
xb = tt.randn(3, 16)
print("keys:", list(model.state_dict()))
print("same outputs after the round trip:", bool(np.array_equal(model(xb).numpy(), clone(xb).numpy())))
print(f"plots written to {OUT}")
