"""Core engine benchmarks: the tensor ops, autograd, an MLP and fused attention.

Each workload does the same work in every framework: float32 everywhere, the same shapes,
the same initial weights (copied from the torch model), the same batches in the same order,
PyTorch eager mode (no ``torch.compile``). The NumPy column is a hand-written lower bound: the
same math with no framework around it (no graph, no Python objects per op).

Targets (ratio tinytorch / torch; issue 2, tightened by issue 10):

* MLP 784-256-128-10 training step (batch 64, Adam): <= 1.25x
* causal scaled_dot_product_attention forward + backward at (2, 4, 256, 32): <= 1.6x
* a 10,000-op scalar loop, with and without requires_grad: <= 1.0x (Python overhead per op
  no larger than PyTorch's dispatcher)
* one epoch of an MLP on scikit-learn's digits (64-128-10, batch 64, Adam): <= 1.5x
"""

from __future__ import annotations

import numpy as np

from harness import Workload, optional_torch, torch_side

import tinytorch as tt

torch = optional_torch()  # None: the table then shows tinytorch and numpy only

F32 = np.float32


# --------------------------------------------------------------------------- matmul


def matmul(quick: bool) -> Workload:
    n = 128 if quick else 512
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n), dtype=F32), rng.standard_normal((n, n), dtype=F32)
    ta, tb = tt.tensor(a), tt.tensor(b)
    pa, pb = (torch.from_numpy(a), torch.from_numpy(b)) if torch else (None, None)
    return Workload(f"matmul {n}x{n}", lambda: ta @ tb, torch_side(lambda: pa @ pb),
                    lambda: a @ b, note="float32, no grad: BLAS against BLAS")


# --------------------------------------------------------------------------- elementwise chains


def elementwise(quick: bool) -> list[Workload]:
    """((x * y + z).exp() * w).sum(): five memory-bound passes over 1M floats."""
    n = 10_000 if quick else 1_000_000
    rng = np.random.default_rng(1)
    x, y, z, w = (rng.standard_normal(n, dtype=F32) * 0.5 for _ in range(4))
    label = "1M" if n == 1_000_000 else f"{n}"

    def np_fwd():
        return float(np.sum(np.exp(x * y + z) * w))

    def np_fwd_bwd():
        e = np.exp(x * y + z)
        s = float(np.sum(e * w))
        ga = w * e  # d s / d(x*y+z)
        return s, ga * y, ga * x, ga, e

    tx, ty, tz, tw = (tt.tensor(v) for v in (x, y, z, w))
    gx, gy, gz, gw = (tt.tensor(v, requires_grad=True) for v in (x, y, z, w))

    def tt_fwd():
        return ((tx * ty + tz).exp() * tw).sum().item()

    def tt_fwd_bwd():
        for t in (gx, gy, gz, gw):
            t.grad = None
        ((gx * gy + gz).exp() * gw).sum().backward()

    torch_fwd = torch_fwd_bwd = None
    if torch is not None:
        px, py, pz, pw = (torch.from_numpy(v) for v in (x, y, z, w))
        qx, qy, qz, qw = (torch.tensor(v, requires_grad=True) for v in (x, y, z, w))

        def torch_fwd():
            return ((px * py + pz).exp() * pw).sum().item()

        def torch_fwd_bwd():
            for t in (qx, qy, qz, qw):
                t.grad = None
            ((qx * qy + qz).exp() * qw).sum().backward()

    return [
        Workload(f"elementwise chain {label}, forward", tt_fwd, torch_fwd, np_fwd,
                 note="((x*y+z).exp()*w).sum(), float32"),
        Workload(f"elementwise chain {label}, fwd+bwd", tt_fwd_bwd, torch_fwd_bwd, np_fwd_bwd,
                 note="the same, with gradients for x, y, z, w"),
    ]


# --------------------------------------------------------------------------- MLP training


class _NumpyMLP:
    """The NumPy bound for the MLP workloads: Linear+ReLU layers, fused softmax cross-entropy,
    Adam (PyTorch's defaults), written directly on arrays."""

    def __init__(self, weights, lr):
        self.params = [p.copy() for p in weights]  # W1, b1, W2, b2, ...
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t, self.lr = 0, lr

    def step(self, x, y):
        acts = [x]
        n_layers = len(self.params) // 2
        for i in range(n_layers):
            w, b = self.params[2 * i], self.params[2 * i + 1]
            h = acts[-1] @ w.T + b
            acts.append(np.maximum(h, 0) if i < n_layers - 1 else h)
        logits = acts[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(shifted)
        p /= p.sum(axis=1, keepdims=True)
        g = p
        g[np.arange(len(y)), y] -= 1
        g /= len(y)
        grads = [None] * len(self.params)
        for i in reversed(range(n_layers)):
            grads[2 * i] = g.T @ acts[i]
            grads[2 * i + 1] = g.sum(axis=0)
            if i:
                g = (g @ self.params[2 * i]) * (acts[i] > 0)
        self.t += 1
        b1, b2, eps = 0.9, 0.999, 1e-8
        for p_, g_, m, v in zip(self.params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g_
            v *= b2
            v += (1 - b2) * g_ * g_
            denom = np.sqrt(v / (1 - b2 ** self.t)) + eps
            p_ -= (self.lr / (1 - b1 ** self.t)) * m / denom


def _mlp_pair(sizes, lr, seed):
    """A torch MLP and a tinytorch MLP with identical weights, their Adams, and the weights."""
    tt_layers, weights = [], []
    torch_model = None
    if torch is not None:
        torch.manual_seed(seed)
        mods = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            mods.append(torch.nn.Linear(a, b))
            if i < len(sizes) - 2:
                mods.append(torch.nn.ReLU())
        torch_model = torch.nn.Sequential(*mods)
        weights = [p.detach().numpy().copy() for p in torch_model.parameters()]
    else:
        rng = np.random.default_rng(seed)
        for a, b in zip(sizes[:-1], sizes[1:]):
            bound = 1 / np.sqrt(a)
            weights += [rng.uniform(-bound, bound, (b, a)).astype(F32),
                        rng.uniform(-bound, bound, b).astype(F32)]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layer = tt.nn.Linear(a, b)
        with tt.no_grad():
            layer.weight.copy_(weights[2 * i])
            layer.bias.copy_(weights[2 * i + 1])
        tt_layers.append(layer)
        if i < len(sizes) - 2:
            tt_layers.append(tt.nn.ReLU())
    tt_model = tt.nn.Sequential(*tt_layers)
    tt_opt = tt.optim.Adam(tt_model.parameters(), lr=lr)
    torch_opt = torch.optim.Adam(torch_model.parameters(), lr=lr) if torch is not None else None
    return tt_model, tt_opt, torch_model, torch_opt, weights


def _tt_step(model, opt, x, y):
    opt.zero_grad()
    loss = tt.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


def _torch_step(model, opt, x, y):
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


def mlp_step(quick: bool) -> Workload:
    """One training step of a 784-256-128-10 MLP on a batch of 64 (Adam, cross-entropy)."""
    sizes, batch = (784, 256, 128, 10), 64
    rng = np.random.default_rng(2)
    x = rng.standard_normal((batch, sizes[0]), dtype=F32)
    y = rng.integers(0, sizes[-1], batch)
    state = {}

    def setup():
        tm, to, pm, po, weights = _mlp_pair(sizes, 1e-3, seed=0)
        state.update(tt=(tm, to, tt.tensor(x), tt.tensor(y)), np=_NumpyMLP(weights, 1e-3))
        if torch is not None:
            state["torch"] = (pm, po, torch.from_numpy(x), torch.from_numpy(y))

    return Workload(
        "MLP 784-256-128-10 step (batch 64, Adam)",
        lambda: _tt_step(*state["tt"]), torch_side(lambda: _torch_step(*state["torch"])),
        lambda: state["np"].step(x, y), target=1.25, setup=setup,
        note="zero_grad, forward, cross_entropy, backward, Adam step")


def digits_epoch(quick: bool) -> Workload:
    """One epoch of a 64-128-10 MLP on scikit-learn's digits (1797 images 8x8), batch 64."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    data = (digits.data / 16.0).astype(F32)  # (1797, 64) pixel values 0..16 -> [0, 1]
    labels = digits.target.astype(np.int64)
    if quick:
        data, labels = data[:256], labels[:256]
    order = np.random.default_rng(3).permutation(len(data))  # the same shuffle for all sides
    data, labels = data[order], labels[order]
    batch = 64
    starts = range(0, len(data), batch)
    state = {}

    def setup():
        tm, to, pm, po, weights = _mlp_pair((64, 128, 10), 1e-3, seed=0)
        state["tt"] = (tm, to, [(tt.tensor(data[s:s + batch]), tt.tensor(labels[s:s + batch]))
                                for s in starts])
        state["np"] = _NumpyMLP(weights, 1e-3)
        if torch is not None:
            state["torch"] = (pm, po, [(torch.from_numpy(data[s:s + batch]),
                                        torch.from_numpy(labels[s:s + batch])) for s in starts])

    def tt_epoch():
        model, opt, batches = state["tt"]
        for xb, yb in batches:
            _tt_step(model, opt, xb, yb)

    def torch_epoch():
        model, opt, batches = state["torch"]
        for xb, yb in batches:
            _torch_step(model, opt, xb, yb)

    def np_epoch():
        for s in starts:
            state["np"].step(data[s:s + batch], labels[s:s + batch])

    return Workload(f"digits MLP epoch ({len(data)} images, batch 64)", tt_epoch,
                    torch_side(torch_epoch), np_epoch, target=1.5, setup=setup,
                    note="64-128-10, Adam; batches pre-sliced, same order on every side")


# --------------------------------------------------------------------------- attention


def attention(quick: bool) -> Workload:
    """Causal scaled_dot_product_attention, forward + backward, (batch, heads, seq, dim)."""
    shape = (2, 4, 64, 32) if quick else (2, 4, 256, 32)
    rng = np.random.default_rng(4)
    q, k, v = (rng.standard_normal(shape, dtype=F32) for _ in range(3))
    go = rng.standard_normal(shape, dtype=F32)
    tq, tk, tv = (tt.tensor(a, requires_grad=True) for a in (q, k, v))
    tgo = tt.tensor(go)
    scale = 1 / float(np.sqrt(shape[-1]))  # a Python float: keeps float32 (NEP 50)
    causal = np.tril(np.ones((shape[-2], shape[-2]), dtype=bool))  # (L, S), L == S

    def tt_run():
        for t in (tq, tk, tv):
            t.grad = None
        out = tt.nn.functional.scaled_dot_product_attention(tq, tk, tv, is_causal=True)
        out.backward(tgo)

    def np_run():
        s = np.where(causal, (q @ np.swapaxes(k, -1, -2)) * scale, -np.inf)
        p = np.exp(s - s.max(axis=-1, keepdims=True))
        p /= p.sum(axis=-1, keepdims=True)
        out = p @ v
        dv = np.swapaxes(p, -1, -2) @ go
        dp = go @ np.swapaxes(v, -1, -2)
        ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True)) * scale
        return out, ds @ k, np.swapaxes(ds, -1, -2) @ q, dv

    torch_run = None
    if torch is not None:
        pq, pk, pv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
        pgo = torch.from_numpy(go)

        def torch_run():
            for t in (pq, pk, pv):
                t.grad = None
            out = torch.nn.functional.scaled_dot_product_attention(pq, pk, pv, is_causal=True)
            out.backward(pgo)

    return Workload(f"causal SDPA fwd+bwd {shape}", tt_run, torch_run, np_run, target=1.6,
                    note="float32; torch picks its own CPU kernel (flash attention)")


# --------------------------------------------------------------------------- Python overhead


def scalar_loop(quick: bool) -> list[Workload]:
    """x = x * 1.0001 + 0.0001, 5,000 times: 10,000 tiny ops, all Python overhead."""
    steps = 500 if quick else 5_000
    ops = 2 * steps

    def make(lib, requires_grad, backward=False):
        def body():
            x0 = lib.tensor(1.0, requires_grad=requires_grad)
            x = x0
            for _ in range(steps):
                x = x * 1.0001 + 0.0001
            if backward:
                x.backward()
            return x

        return body

    def np_loop():
        x = np.array(1.0, dtype=F32)
        for _ in range(steps):
            x = x * F32(1.0001) + F32(0.0001)
        return x

    tn = torch if torch is not None else None
    return [
        Workload(f"scalar loop {ops:,} ops, no grad", make(tt, False),
                 tn and make(tn, False), np_loop, target=1.0,
                 note="0-d float32 tensor; x = x*1.0001 + 0.0001"),
        Workload(f"scalar loop {ops:,} ops, requires_grad", make(tt, True),
                 tn and make(tn, True), np_loop, target=1.0,
                 note=f"the same, recording a graph of {ops:,} nodes"),
        Workload(f"scalar loop {ops:,} ops, requires_grad + backward", make(tt, True, True),
                 tn and make(tn, True, True), None,
                 note=f"then backward through the {ops:,}-node chain"),
    ]


def workloads(quick: bool) -> list[Workload]:
    return [
        matmul(quick),
        *elementwise(quick),
        mlp_step(quick),
        digits_epoch(quick),
        attention(quick),
        *scalar_loop(quick),
    ]
