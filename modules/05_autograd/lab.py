# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 05 lab: what backpropagation costs
#
# Your engine records a node per op during the forward pass and sweeps the graph once in
# reverse topological order. This lab measures what that design buys and what it costs:
#
# 1. **the graph**: what a recorded expression looks like, node by node;
# 2. **memory**: the graph keeps every array a backward formula needs, so memory grows with
#    depth; `no_grad()` keeps none of it, and backward frees it;
# 3. **time**: a backward pass costs about twice the forward (each matmul needs two);
# 4. **depth**: a recursive engine dies at Python's recursion limit; ours walks a
#    10,000-op chain;
# 5. **shared subgraphs**: an engine that walks every *path* is exponential in depth; one
#    topological sweep is linear;
# 6. **why not finite differences**: `gradcheck` needs two forward passes per input element,
#    backprop one backward for all of them.
#
# Run: `tito module lab 5` (your code; `--notebook` for Jupyter); `--quick`: seconds; plots go to
# `TINYTORCH_OUT` (default `runs/labs/05_autograd`). Every number printed is measured.

# %%
import sys
import time
import tracemalloc

from tito import labkit
from tito.labkit import table

# One BLAS thread for steady timings (TINYTORCH_LAB_THREADS=0 keeps NumPy's default) and the
# Agg backend, both set before NumPy is imported: why, in tito/labkit.py.
lab = labkit.setup("05_autograd")
QUICK, OUT = lab.quick, lab.out

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tinytorch as tt  # noqa: E402
from tinytorch.autograd import unbroadcast  # noqa: E402
from tinytorch.core.autograd import _topological_order  # noqa: E402

rng = np.random.default_rng(0)
labkit.print_context(lab)

# %% [markdown]
# ## 1. A recorded graph
#
# Every op on a tensor that requires grad returns a tensor whose `grad_fn` is a node named
# after the op (`MulBackward`); the node remembers its inputs and what its forward saved.
# `_topological_order` lists the nodes so that each comes after the nodes it reads from: the
# backward sweep runs that list from the end.

# %%
x = tt.tensor([[1.0, -2.0, 3.0]], requires_grad=True)
w = tt.tensor([[0.5], [0.25], [-1.0]], requires_grad=True)
h = x @ w  # (1, 1)
loss = (h.tanh() * h).sum() + x.exp().mean()
order = _topological_order(loss.grad_fn)
print(f"loss = {loss.item():.4f}; {len(order)} nodes, in the order backward visits them "
      "(reversed):")
for node in reversed(order):
    ins = [("leaf" if t.grad_fn is None else t.grad_fn.name()) if isinstance(t, tt.Tensor)
           else repr(t) for t in node.inputs]
    print(f"  {node.name():<16} inputs: {', '.join(ins)}")
loss.backward()
print("x.grad =", np.array2string(x.grad.numpy(), precision=4))
print("w.grad =", np.array2string(w.grad.numpy().T, precision=4), "(transposed)")

# %% [markdown]
# `h` feeds two ops (`tanh` and the product), so its node receives two gradients; the sweep
# adds them before `MatMulBackward` runs. That is the whole reason for the topological order.
#
# ## 2. Memory kept by the graph
#
# A stack of `depth` layers `h = tanh(h @ W)` on a (batch, width) float32 input. Each layer
# records a MatMul node (which saves its two inputs) and a Tanh node (which saves its output),
# so the graph holds about one activation per op until backward frees it. We measure it two
# ways: summing the bytes of the arrays the nodes saved, and asking Python's allocator
# (`tracemalloc`) how much memory the forward pass left allocated.

# %%
batch, width = (64, 64) if QUICK else (256, 512)
depths = [1, 2, 4, 8, 16] if QUICK else [1, 2, 4, 8, 16, 32, 64]
max_depth = depths[-1]
weights = [tt.tensor((rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32),
                     requires_grad=True) for _ in range(max_depth)]
x_in = tt.tensor(rng.standard_normal((batch, width)).astype(np.float32))


def forward(depth):
    h = x_in
    for w_ in weights[:depth]:
        h = (h @ w_).tanh()
    return h.sum()


def saved_bytes(nodes):
    """Bytes of the distinct arrays that ``nodes`` hold in ``saved_tensors``."""
    seen, total = set(), 0
    for node in nodes:
        for a in node.saved_tensors or ():  # None once backward has freed them
            if isinstance(a, np.ndarray) and id(a) not in seen:
                seen.add(id(a))
                total += a.nbytes
    return total


def traced(fn):
    """(result, bytes still allocated after fn) as seen by tracemalloc."""
    tracemalloc.start()
    tracemalloc.clear_traces()
    start = tracemalloc.get_traced_memory()[0]
    out = fn()
    kept = tracemalloc.get_traced_memory()[0] - start
    tracemalloc.stop()
    return out, kept


MiB = 2**20
act_mib = batch * width * 4 / MiB
print(f"batch {batch}, width {width}: one activation is {act_mib:.3f} MiB")
mem_rows = []
for depth in depths:
    out, kept_grad = traced(lambda: forward(depth))
    graph = _topological_order(out.grad_fn)  # kept, to look at the same nodes after backward
    nodes = len(graph)
    saved = saved_bytes(graph)
    with tt.no_grad():
        _, kept_nograd = traced(lambda: forward(depth))
    out.backward()
    after_bw = saved_bytes(graph)  # what those nodes still hold after the sweep
    for w_ in weights:
        w_.grad = None
    del out, graph
    mem_rows.append((depth, nodes, saved / MiB, kept_grad / MiB, kept_nograd / MiB, after_bw / MiB))
table(["depth", "nodes", "saved by the nodes (MiB)", "allocated by the forward, grad on (MiB)",
       "under `no_grad()` (MiB)", "saved after `backward()` (MiB)"],
      [(r[0], r[1], f"{r[2]:.2f}", f"{r[3]:.2f}", f"{r[4]:.3f}", f"{r[5]:.2f}") for r in mem_rows],
      key="memory")

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot([r[0] for r in mem_rows], [r[3] for r in mem_rows], "o-",
        label="kept after forward (grad on)")
ax.plot([r[0] for r in mem_rows], [r[2] for r in mem_rows], "s--", label="saved by the nodes")
ax.plot([r[0] for r in mem_rows], [r[4] for r in mem_rows], "^-", label="kept under no_grad()")
ax.set_xlabel("depth (layers of tanh(h @ W))")
ax.set_ylabel("MiB")
ax.set_title(f"graph memory, batch {batch} x width {width}, float32")
ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()
fig.savefig(OUT / "graph_memory.png", dpi=120)
plt.close(fig)

# %% [markdown]
# Memory grows linearly with depth: every layer keeps its activations alive for backward.
# This, not the weights, is what runs out first when you train a deep network with a large
# batch, and it is what PyTorch's activation checkpointing trades for recomputation. Under
# `no_grad()` (evaluation, optimizer steps) nothing is kept but the result, and after
# `backward()` the nodes have freed their saved arrays (which is why a second backward needs
# `retain_graph=True`).
#
# ## 3. Backward versus forward time
#
# For `Y = X @ W` the backward computes `dX = G @ W^T` and `dW = X^T @ G`: two products of
# the same size as the forward's one. So a network dominated by matmuls should take about
# twice as long backward as forward. A network of tiny ops is dominated instead by the
# fixed cost per node (Python), in both directions.

# %%
width_t = 64 if QUICK else 256
batches = [8, 64] if QUICK else [8, 64, 256, 1024]
layers = 4
ws = [tt.tensor((rng.standard_normal((width_t, width_t)) / np.sqrt(width_t)).astype(np.float32),
                requires_grad=True) for _ in range(layers)]
bs = [tt.tensor(np.zeros(width_t, np.float32), requires_grad=True) for _ in range(layers)]
repeat = 3 if QUICK else 7


def mlp(xb):
    h = xb
    for w_, b_ in zip(ws, bs):
        h = (h @ w_ + b_).relu()
    return h.mean()


def time_fwd_bwd(make_loss):
    """Best-of-``repeat`` seconds for building the graph (forward), for backward, and for the
    forward under no_grad."""
    fwd = bwd = nog = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = make_loss()
        t1 = time.perf_counter()
        out.backward()
        t2 = time.perf_counter()
        with tt.no_grad():
            t3 = time.perf_counter()
            make_loss()
            t4 = time.perf_counter()
        fwd, bwd, nog = min(fwd, t1 - t0), min(bwd, t2 - t1), min(nog, t4 - t3)
    return fwd, bwd, nog


print(f"MLP: {layers} x (Linear {width_t}->{width_t} + ReLU), float32")
ratio_rows, mlp_rows = [], []
for b in batches:
    xb = tt.tensor(rng.standard_normal((b, width_t)).astype(np.float32))
    fwd, bwd, nog = time_fwd_bwd(lambda: mlp(xb))
    ratio_rows.append((f"MLP batch {b}", bwd / fwd))
    mlp_rows.append((b, f"{fwd * 1e3:.3f}", f"{nog * 1e3:.3f}", f"{bwd * 1e3:.3f}",
                     f"{bwd / fwd:.2f}"))
table(["batch", "forward ms", "`no_grad` forward ms", "backward ms", "backward / forward"],
      mlp_rows, key="mlp-time")

chain_ops = 200 if QUICK else 500  # the graph keeps every intermediate: ops x length x 4 bytes
print(f"\nelementwise chain: {chain_ops} ops of y = y * 1.0001 on a vector")
chain_rows = []
for n in ([10, 10_000] if QUICK else [10, 1_000, 100_000]):
    v = tt.tensor(rng.standard_normal(n).astype(np.float32), requires_grad=True)

    def chain():
        y = v
        for _ in range(chain_ops):
            y = y * 1.0001
        return y.sum()

    fwd, bwd, nog = time_fwd_bwd(chain)
    ratio_rows.append((f"chain n={n:,}", bwd / fwd))
    chain_rows.append((f"{n:,}", f"{fwd * 1e3:.3f}", f"{nog * 1e3:.3f}", f"{bwd * 1e3:.3f}",
                       f"{bwd / fwd:.2f}", f"{bwd / (chain_ops + 1) * 1e6:.2f}"))
    chain_nograd_x = fwd / nog  # the last (longest) vector's: grad on versus no_grad
table(["vector length", "forward ms", "`no_grad` forward ms", "backward ms", "backward / forward",
       "us per node (backward)"], chain_rows, key="chain-time")
lab.record("chain-nograd-x", f"{chain_nograd_x:.0f}x")

# %% [markdown]
# Read the two tables differently. In the MLP, the matmuls dominate and backward costs about
# two forwards once the batch is large enough to amortize the per-node Python overhead. In the
# elementwise chain each op is cheap; what the forward pays for is *memory*: with grad on,
# every intermediate is kept by the graph, so each op writes a fresh buffer, while under
# `no_grad()` (and in backward, which frees as it goes) buffers are released and reused.
# Compare the forward and no_grad columns for the long vectors.

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.barh([r[0] for r in ratio_rows], [r[1] for r in ratio_rows], color="tab:green")
ax.axvline(2.0, color="k", ls="--", lw=1, label="2x (two matmuls per matmul)")
ax.invert_yaxis()
ax.set_xlabel("backward time / forward time")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(OUT / "backward_vs_forward.png", dpi=120)
plt.close(fig)

# %% [markdown]
# ## 4. Depth: recursion versus an explicit stack
#
# The shortest way to write a topological sort is recursive (micrograd's `build_topo`): visit
# the inputs, then append yourself. Each level of the graph is one Python stack frame, and
# Python stops at `sys.getrecursionlimit()` frames. A chain of n ops is n levels deep. Raising
# the limit is not a fix: past the C stack's size the interpreter crashes instead of raising.
# Our engine keeps its own stack in a list, so depth is only a matter of memory.

# %%


def recursive_topo(root):
    """micrograd-style: correct, short, and limited by Python's recursion depth."""
    order, seen = [], set()

    def visit(node):
        if node is None or id(node) in seen:
            return
        seen.add(id(node))
        for inp in node.inputs:
            if isinstance(inp, tt.Tensor):
                visit(inp.grad_fn)
        order.append(node)

    visit(root)
    return order


limit = sys.getrecursionlimit()
print(f"sys.getrecursionlimit() = {limit}")
lab.record("recursion-limit", str(limit))
depth_rows, depth_table = [], []
for n in [100, 500, 900, 1000, 2000, 10_000]:
    c = tt.tensor(np.array([1.0]), requires_grad=True)  # float64: 10,000 roundings stay small
    y = c
    for _ in range(n):
        y = y * 1.0001
    try:
        recursive_topo(y.grad_fn)
        rec = "ok"
    except RecursionError:
        rec = "RecursionError"
    t0 = time.perf_counter()
    y.backward()
    ours = time.perf_counter() - t0
    ok = np.isclose(c.grad.numpy()[0], 1.0001 ** n, rtol=1e-4)
    depth_rows.append((n, rec, ours))
    depth_table.append((f"{n:,}", rec, f"ok, {ours * 1e3:.1f} ms" if ok else "WRONG"))
table(["chain length", "recursive topological sort", "our backward"], depth_table,
      key="recursion")
lab.record("us-per-node", f"{depth_rows[-1][2] / depth_rows[-1][0] * 1e6:.1f} us")

# %% [markdown]
# ## 5. Shared subgraphs: per path versus once per node
#
# `y = y * 0.5 + y * 0.5`, repeated k times, computes the same value but gives every level two
# paths to the level below: 2^k paths from the output to the input. An engine that pushes each
# gradient straight down to the inputs, recursively (the "avoid" list of our style guide),
# runs a node once per *path*. A topological sweep first sums everything that arrives at a
# node, then runs it once. Count the backward calls.

# %%


def per_path_backward(t, grad, counter):
    """The naive engine: recurse into each input with its share of the gradient."""
    node = t.grad_fn
    if node is None:
        t.grad = grad if t.grad is None else t.grad + grad
        return
    counter[0] += 1
    grads = node.function.backward(node, grad)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for inp, g in zip(node.inputs, grads):
        if isinstance(inp, tt.Tensor) and inp.requires_grad and g is not None:
            per_path_backward(inp, unbroadcast(np.asarray(g), inp.shape), counter)


ks = list(range(1, 11)) if QUICK else list(range(1, 17))
path_rows = []
for k in ks:
    def build():
        x0 = tt.tensor(np.array([1.0]), requires_grad=True)
        y = x0
        for _ in range(k):
            y = y * 0.5 + y * 0.5
        return x0, y

    x0, y = build()
    counter = [0]
    t0 = time.perf_counter()
    per_path_backward(y, np.ones(1), counter)
    naive_t = time.perf_counter() - t0
    naive_grad = x0.grad
    x0, y = build()
    nodes = len(_topological_order(y.grad_fn))
    t0 = time.perf_counter()
    y.backward()
    topo_t = time.perf_counter() - t0
    assert np.allclose(naive_grad, x0.grad.numpy()), "both engines must agree"
    path_rows.append((k, nodes, counter[0], naive_t, topo_t))
path_headers = ["k", "nodes", "per-path engine: backward calls", "ms", "topological sweep: calls",
                "ms"]
path_table = [(k, nodes, f"{calls:,}", f"{nt * 1e3:.2f}", nodes, f"{tt_ * 1e3:.2f}")
              for k, nodes, calls, nt, tt_ in path_rows]
table(path_headers, path_table)
# the guide quotes every fourth level and the last two
lab.record_table("per-path", path_headers,
                 [r for r in path_table if r[0] % 4 == 0 or r[0] >= ks[-1] - 2 and r[0] % 2 == 0])

fig, ax = plt.subplots(figsize=(6, 4))
ax.semilogy([r[0] for r in path_rows], [r[2] for r in path_rows], "o-", label="per-path recursion")
ax.semilogy([r[0] for r in path_rows], [r[1] for r in path_rows], "s-", label="topological sweep")
ax.set_xlabel("k (stacked diamonds)")
ax.set_ylabel("backward calls")
ax.set_title("y = y*0.5 + y*0.5, k times")
ax.legend()
ax.grid(alpha=0.3, which="both")
fig.tight_layout()
fig.savefig(OUT / "per_path_vs_topological.png", dpi=120)
plt.close(fig)

# %% [markdown]
# The per-path engine doubles its work with every level; at k = 40 it would need 10^12 calls.
# Real networks are full of shared subgraphs (residual connections, a weight used at every
# time step), so this is not a corner case.
#
# ## 6. Why backpropagation: gradcheck's cost
#
# Finite differences give every partial derivative without any calculus, and `gradcheck`
# uses them to verify your backward formulas: `(L(x + eps) - L(x - eps)) / (2 eps)` for each
# element. That is two forward passes *per input element*. Backprop gets all of them from one
# backward pass. Here on `L = sum(tanh(x @ W))` with x of n elements (float64):

# %%
W = tt.tensor(rng.standard_normal((8, 8)))
gc_rows = []
for n_rows in ([2, 16] if QUICK else [2, 16, 128]):
    xg = tt.tensor(rng.standard_normal((n_rows, 8)), requires_grad=True)
    fn = lambda t: (t @ W).tanh()  # noqa: E731
    t0 = time.perf_counter()
    tt.autograd.gradcheck(fn, [xg])
    t_gc = time.perf_counter() - t0
    t0 = time.perf_counter()
    fn(xg).sum().backward()
    t_bp = time.perf_counter() - t0
    gc_rows.append((xg.numel(), t_gc, t_bp))
table(["input elements", "gradcheck ms", "one forward + backward ms", "ratio"],
      [(f"{n:,}", f"{g * 1e3:.2f}", f"{b * 1e3:.3f}", f"{g / b:.0f}") for n, g, b in gc_rows],
      key="gradcheck")

# %% [markdown]
# The ratio grows with the number of inputs: a model with a million parameters would need two
# million forward passes per step. gradcheck is a test tool (small inputs, float64), and
# backpropagation is what makes training possible.

# %%
print("plots written:", ", ".join(sorted(p.name for p in OUT.glob("*.png"))))
