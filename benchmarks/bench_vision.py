"""Vision benchmarks (module 09): convolution forward + backward and a LeNet training step.

Same rules as the core benchmarks: float32, identical shapes and initial weights (copied from
the torch model), PyTorch eager mode on the same number of threads, interleaved repeats.

Targets (ratio tinytorch / torch; issue 4, tightened by issue 10):

* Conv2d forward + backward, input (32, 3, 32, 32), 16 filters 3x3, padding 1, gradients
  for the input, the weight and the bias: <= 1.5x. The NumPy column is the same im2col + matmul
  written directly on arrays (no graph, no argument checks).
* one LeNet-5 training step on a batch of 64 MNIST-sized images (1x28x28): conv 6@5x5 pad 2,
  ReLU, max-pool 2, conv 16@5x5, ReLU, max-pool 2, 400-120-84-10 with ReLU, cross-entropy,
  SGD with momentum 0.9: <= 1.5x.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from harness import Workload, optional_torch, torch_side

import tinytorch as tt

torch = optional_torch()  # None: the table then shows tinytorch and numpy only

F32 = np.float32


# --------------------------------------------------------------------------- conv2d


def _numpy_conv_fwd_bwd(x, w, b, grad):
    """im2col conv (stride 1, padding 1) and its three gradients, on bare arrays."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.zeros((n, c, h + 2, wd + 2), F32)
    xp[:, :, 1:-1, 1:-1] = x
    s_n, s_c, s_h, s_w = xp.strides
    view = as_strided(xp, (c, kh, kw, n, h, wd), (s_c, s_h, s_w, s_n, s_h, s_w))
    cols = np.ascontiguousarray(view)
    cols = cols.reshape(c * kh * kw, -1)
    w2 = w.reshape(o, -1)
    y = np.empty((n, o, h, wd), F32)
    np.add((w2 @ cols).reshape(o, n, h, wd).transpose(1, 0, 2, 3), b.reshape(1, o, 1, 1), out=y)
    g = np.ascontiguousarray(grad.transpose(1, 0, 2, 3)).reshape(o, -1)
    db = g.sum(axis=1)
    dw = (g @ cols.T).reshape(w.shape)
    dcols = (w2.T @ g).reshape(c, kh, kw, n, h, wd)
    dxp = np.zeros((c, n, h + 2, wd + 2), F32)
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i:i + h, j:j + wd] += dcols[:, i, j]
    return y, dxp[:, :, 1:-1, 1:-1].transpose(1, 0, 2, 3), dw, db


def conv(quick: bool) -> Workload:
    n = 8 if quick else 32
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 3, 32, 32), dtype=F32)
    grad = rng.standard_normal((n, 16, 32, 32), dtype=F32)
    layer = tt.nn.Conv2d(3, 16, 3, padding=1)
    w, b = layer.weight.numpy().copy(), layer.bias.numpy().copy()
    tx, tg = tt.tensor(x, requires_grad=True), tt.tensor(grad)

    def tt_step():
        tx.grad = layer.weight.grad = layer.bias.grad = None
        layer(tx).backward(tg)

    torch_step = None
    if torch is not None:
        player = torch.nn.Conv2d(3, 16, 3, padding=1)
        with torch.no_grad():
            player.weight.copy_(torch.from_numpy(w))
            player.bias.copy_(torch.from_numpy(b))
        px, pg = torch.tensor(x, requires_grad=True), torch.from_numpy(grad)

        def torch_step():
            px.grad = player.weight.grad = player.bias.grad = None
            player(px).backward(pg)

    return Workload(f"conv2d fwd+bwd ({n},3,32,32) 16@3x3 pad 1", tt_step, torch_step,
                    lambda: _numpy_conv_fwd_bwd(x, w, b, grad), target=1.5,
                    note="gradients for input, weight and bias; float32")


# --------------------------------------------------------------------------- LeNet


def lenet(nn):
    """LeNet-5 (LeCun et al. 1998) with ReLU and max-pooling, for 1x28x28 inputs.

    ``nn`` is ``tinytorch.nn`` or ``torch.nn``: the same code builds both models.
    """
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # 6x28x28 -> 6x14x14
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),  # 16x10x10 -> 16x5x5
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def lenet_step(quick: bool) -> Workload:
    batch = 16 if quick else 64
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, 1, 28, 28), dtype=F32)
    y = rng.integers(0, 10, batch)
    model = lenet(tt.nn)
    opt = tt.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    tx, ty = tt.tensor(x), tt.tensor(y)

    def tt_step():
        opt.zero_grad()
        loss = tt.nn.functional.cross_entropy(model(tx), ty)
        loss.backward()
        opt.step()

    torch_step = None
    if torch is not None:
        pmodel = lenet(torch.nn)
        pmodel.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                                for k, v in model.state_dict().items()})
        popt = torch.optim.SGD(pmodel.parameters(), lr=0.01, momentum=0.9)
        px, py = torch.from_numpy(x), torch.from_numpy(y)

        def torch_step():
            popt.zero_grad()
            loss = torch.nn.functional.cross_entropy(pmodel(px), py)
            loss.backward()
            popt.step()

    return Workload(f"LeNet-5 train step, batch {batch}, 1x28x28", tt_step, torch_step,
                    target=1.5, note="2 conv + 2 max-pool + 3 linear, SGD momentum 0.9")


def workloads(quick: bool) -> list[Workload]:
    return [conv(quick), lenet_step(quick)]
