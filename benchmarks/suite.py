"""The user-facing workloads, each written once for any framework with PyTorch's API.

A :class:`Spec` builds, in the process that runs it, the ONE framework it is asked for
(``"tinytorch"`` or ``"torch"``) and returns a zero-argument ``step`` that runs one
repetition. Nothing here imports a framework at module level: the tinytorch process of
``benchmarks/processes.py`` never imports torch, and the torch process never imports tinytorch.

Both sides get the same work: float32, the same shapes, and the same initial weights and
inputs, drawn from NumPy generators seeded by the parameter's name (:func:`init_array`), so
two processes that never talk build identical models.

Targets are the issue-10 ones (tinytorch time / torch time, one thread, separate processes);
``mem_target`` is the largest accepted ratio of peak memory growth (tinytorch / torch).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

F32 = np.float32
FRAMEWORKS = ("tinytorch", "torch")


@dataclass(frozen=True)
class Spec:
    """One workload.

    Attributes:
        id: short key (command line, results file): ``"mlp"``, ``"conv"``, ...
        name: the label shown in tables.
        build: ``build(framework, quick) -> step``; ``step()`` runs one repetition.
        target: largest accepted time ratio tinytorch / torch, or None (informative).
        mem_target: largest accepted ratio of peak memory growth, or None.
        available: ``available(framework) -> None`` if it can run, else why not (a model
            another module has not written yet): the workload is then skipped, not failed.
        note: one line for the table's notes.
        max_repeats / max_warmup: caps on the steps per process for slow workloads (a
            multi-second step needs fewer repetitions for a stable median).
    """

    id: str
    name: str
    build: Callable[[str, bool], Callable[[], object]]
    target: float | None = None
    mem_target: float | None = 2.0
    available: Callable[[str], str | None] = lambda framework: None
    note: str = ""
    max_repeats: int | None = None
    max_warmup: int | None = None


# --------------------------------------------------------------------------- shared helpers


def framework(name: str):
    """The framework module, imported here (and only here) on first use."""
    if name == "tinytorch":
        import tinytorch

        return tinytorch
    if name == "torch":
        import torch

        return torch
    raise ValueError(f"unknown framework {name!r}: use one of {FRAMEWORKS}")


def init_array(name: str, shape, kind: str = "uniform") -> np.ndarray:
    """Deterministic float32 values for a parameter called ``name``: the same in every process.

    ``uniform``: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch's Linear/Conv scale);
    ``normal``: N(0, 0.02) (GPT-2's); ``ones`` / ``zeros``.
    """
    shape = tuple(shape)
    if kind == "ones":
        return np.ones(shape, F32)
    if kind == "zeros":
        return np.zeros(shape, F32)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    if kind == "normal":
        return (rng.standard_normal(shape) * 0.02).astype(F32)
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
    bound = 1.0 / np.sqrt(max(fan_in, 1))
    return rng.uniform(-bound, bound, shape).astype(F32)


def load_weights(fw: str, model, kind: Callable[[str], str] = lambda name: "uniform") -> None:
    """Overwrite every parameter of ``model`` with :func:`init_array` of its name."""
    lib = framework(fw)
    with lib.no_grad():
        for name, p in model.named_parameters():
            p.copy_(as_tensor(fw, init_array(name, p.shape, kind(name))))


def as_tensor(fw: str, array: np.ndarray, requires_grad: bool = False):
    """A framework tensor holding a copy of ``array``."""
    lib = framework(fw)
    return lib.tensor(np.array(array), requires_grad=requires_grad)


def data(seed: int, shape, dtype=F32, high: int | None = None) -> np.ndarray:
    """Deterministic inputs: standard normal floats, or integers in [0, high)."""
    rng = np.random.default_rng(seed)
    if high is not None:
        return rng.integers(0, high, shape).astype(np.int64)
    return rng.standard_normal(shape).astype(dtype)


def _train_step(fw: str, model, opt, x, y):
    """zero_grad, forward, cross-entropy, backward, optimizer step."""
    F = framework(fw).nn.functional

    def step():
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y)
        loss.backward()
        opt.step()

    return step


# --------------------------------------------------------------------------- workloads


def build_mlp(fw: str, quick: bool):
    lib = framework(fw)
    nn = lib.nn
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    load_weights(fw, model)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    return _train_step(fw, model, opt, as_tensor(fw, data(1, (64, 784))),
                       as_tensor(fw, data(2, (64,), high=10)))


def _conv_fwd_bwd(fw: str, layer, x_shape, seed: int):
    load_weights(fw, layer)
    x = as_tensor(fw, data(seed, x_shape), requires_grad=True)
    with framework(fw).no_grad():
        out_shape = tuple(layer(as_tensor(fw, data(seed, (1,) + tuple(x_shape[1:])))).shape)
    g = as_tensor(fw, data(seed + 1, (x_shape[0],) + out_shape[1:]))

    def step():
        x.grad = None
        layer.zero_grad()
        layer(x).backward(g)

    return step


def build_conv(fw: str, quick: bool):
    layer = framework(fw).nn.Conv2d(3, 16, 3, padding=1)
    return _conv_fwd_bwd(fw, layer, (8 if quick else 32, 3, 32, 32), seed=3)


def build_conv_big(fw: str, quick: bool):
    layer = framework(fw).nn.Conv2d(64, 64, 3, padding=1)
    return _conv_fwd_bwd(fw, layer, (8 if quick else 128, 64, 32, 32), seed=5)


def _build_attention(seq: int):
    def build(fw: str, quick: bool):
        lib = framework(fw)
        shape = (2, 4, 64 if quick else seq, 32)
        q, k, v = (as_tensor(fw, data(7 + i, shape), requires_grad=True) for i in range(3))
        go = as_tensor(fw, data(10, shape))
        sdpa = lib.nn.functional.scaled_dot_product_attention

        def step():
            q.grad = k.grad = v.grad = None
            sdpa(q, k, v, is_causal=True).backward(go)

        return step

    return build


def lenet(nn):
    """LeNet-5 with ReLU and max-pooling for 1x28x28 inputs (``nn``: either framework's)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # 6x28x28 -> 6x14x14
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),  # 16x10x10 -> 16x5x5
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def build_lenet(fw: str, quick: bool):
    lib = framework(fw)
    model = lenet(lib.nn)
    load_weights(fw, model)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    batch = 16 if quick else 64
    return _train_step(fw, model, opt, as_tensor(fw, data(11, (batch, 1, 28, 28))),
                       as_tensor(fw, data(12, (batch,), high=10)))


def build_tiny_adds(fw: str, quick: bool):
    n = 200 if quick else 2000
    x = as_tensor(fw, data(13, (4,)), requires_grad=True)
    c = as_tensor(fw, data(14, (4,)))

    def step():
        x.grad = None
        y = x
        for _ in range(n):
            y = y + c
        y.sum().backward()

    return step


# GPT: the tinytorch model is tinytorch.models.GPT; the torch side is the same architecture
# written here (pre-norm blocks, fused qkv, causal SDPA, GELU MLP, tied head), with the same
# parameter names so both load identical weights by name.
GPT_CONFIG = dict(vocab_size=65, d_model=128, n_layers=2, n_heads=4, max_seq_len=64)


def _gpt_kind(name: str) -> str:
    if name.endswith("bias"):
        return "zeros"
    if ".ln" in name or name.startswith("ln_f"):
        return "ones"
    return "normal"


def _torch_gpt(cfg):
    import torch
    from torch import nn

    class MLP(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.fc, self.proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

        def forward(self, x):  # GPT-2's tanh GELU, as tinytorch's GPTBlock
            return self.proj(nn.functional.gelu(self.fc(x), approximate="tanh"))

    class Attention(nn.Module):
        def __init__(self, d, h):
            super().__init__()
            self.h, self.qkv, self.proj = h, nn.Linear(d, 3 * d), nn.Linear(d, d)

        def forward(self, x):
            B, T, C = x.shape
            qkv = self.qkv(x).reshape(B, T, 3, self.h, C // self.h).permute(2, 0, 3, 1, 4)
            y = nn.functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2],
                                                           is_causal=True)
            return self.proj(y.permute(0, 2, 1, 3).reshape(B, T, C))

    class Block(nn.Module):
        def __init__(self, d, h):
            super().__init__()
            self.ln1, self.attn = nn.LayerNorm(d), Attention(d, h)
            self.ln2, self.mlp = nn.LayerNorm(d), MLP(d)

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class GPT(nn.Module):
        def __init__(self, vocab_size, d_model, n_layers, n_heads, max_seq_len):
            super().__init__()
            self.tok_emb = nn.Embedding(vocab_size, d_model)
            self.pos_emb = nn.Embedding(max_seq_len, d_model)
            self.blocks = nn.ModuleList([Block(d_model, n_heads) for _ in range(n_layers)])
            self.ln_f = nn.LayerNorm(d_model)
            self.lm_head = nn.Linear(d_model, vocab_size, bias=False)
            self.lm_head.weight = self.tok_emb.weight

        def forward(self, idx):
            x = self.tok_emb(idx) + self.pos_emb(torch.arange(idx.shape[1]))
            for block in self.blocks:
                x = block(x)
            return self.lm_head(self.ln_f(x))

    return GPT(**cfg)


def _gpt_available(fw: str) -> str | None:
    if fw != "tinytorch":
        return None
    try:
        from tinytorch.models import GPT  # noqa: F401
    except ImportError:
        return "tinytorch.models.GPT does not exist yet"
    return None


def build_gpt(fw: str, quick: bool):
    lib = framework(fw)
    if fw == "tinytorch":
        from tinytorch.models import GPT

        model = GPT(**GPT_CONFIG)
    else:
        model = _torch_gpt(GPT_CONFIG)
    load_weights(fw, model, _gpt_kind)
    opt = lib.optim.AdamW(model.parameters(), lr=3e-4)
    batch, ctx = (4, 16) if quick else (16, 64)
    ids = data(15, (batch, ctx + 1), high=GPT_CONFIG["vocab_size"])
    return _train_step(fw, model, opt, as_tensor(fw, ids[:, :-1]),
                       as_tensor(fw, ids[:, 1:].reshape(-1)))


KV_CONFIG = dict(vocab_size=65, d_model=128, n_layers=4, n_heads=4, max_seq_len=272)
KV_PROMPT = 16


def _torch_generate_cached(model, ids, n: int):
    """Greedy generation with a per-layer key/value cache, written for the torch twin the way
    a PyTorch user writes one (preallocated K and V per layer, the prompt in one pass, then one
    position per step): the same work as tinytorch's ``GPT.generate(use_cache=True)``."""
    import torch
    from torch.nn import functional as F

    B, T = ids.shape
    h, C = model.blocks[0].attn.h, model.tok_emb.weight.shape[1]
    K = [torch.empty(B, h, T + n, C // h) for _ in model.blocks]
    V = [torch.empty(B, h, T + n, C // h) for _ in model.blocks]
    out, new, pos = [ids], ids, 0
    with torch.no_grad():
        for _ in range(n):
            T = new.shape[1]
            x = model.tok_emb(new) + model.pos_emb(torch.arange(pos, pos + T))
            for k, blk in enumerate(model.blocks):
                qkv = blk.attn.qkv(blk.ln1(x)).reshape(B, T, 3, h, C // h).permute(2, 0, 3, 1, 4)
                K[k][:, :, pos:pos + T], V[k][:, :, pos:pos + T] = qkv[1], qkv[2]
                y = F.scaled_dot_product_attention(qkv[0], K[k][:, :, :pos + T],
                                                   V[k][:, :, :pos + T], is_causal=T > 1)
                x = x + blk.attn.proj(y.permute(0, 2, 1, 3).reshape(B, T, C))
                x = x + blk.mlp(blk.ln2(x))
            new = model.lm_head(model.ln_f(x[:, -1:])).argmax(-1)
            out.append(new)
            pos += T
    return torch.cat(out, 1)


def build_kv_generate(fw: str, quick: bool):
    """One step: a 16-token prompt extended greedily by 256 tokens (32 quick), cached."""
    n = 32 if quick else 256
    prompt = data(16, (1, KV_PROMPT), high=KV_CONFIG["vocab_size"])
    if fw == "tinytorch":
        from tinytorch.models import GPT

        model = GPT(**KV_CONFIG)
    else:
        model = _torch_gpt(KV_CONFIG)
    load_weights(fw, model, _gpt_kind)
    model.eval()
    ids = as_tensor(fw, prompt)
    if fw == "tinytorch":
        return lambda: model.generate(ids, n, temperature=0, use_cache=True)
    return lambda: _torch_generate_cached(model, ids, n)


def _kv_cache_available(fw: str) -> str | None:
    if fw != "tinytorch":
        return None
    try:
        from tinytorch.generation import KVCache  # noqa: F401
    except ImportError:
        return "tinytorch.generation.KVCache does not exist yet (module 17)"
    return None


SPECS: list[Spec] = [
    Spec("mlp", "MLP 784-256-128-10 Adam step, batch 64", build_mlp, 1.25,
         note="zero_grad, forward, cross_entropy, backward, Adam"),
    Spec("conv", "Conv2d (32,3,32,32) -> 16@3x3 pad 1, fwd+bwd", build_conv, 1.5,
         note="gradients for input, weight and bias"),
    Spec("attn256", "causal attention (2,4,256,32) fwd+bwd", _build_attention(256), 1.6,
         note="scaled_dot_product_attention(is_causal=True), gradients for q, k, v"),
    Spec("attn512", "causal attention (2,4,512,32) fwd+bwd", _build_attention(512), 1.6),
    Spec("lenet", "LeNet-5 train step, batch 64, SGD momentum", build_lenet, 1.5,
         note="2 conv + 2 max-pool + 3 linear, cross_entropy, SGD(momentum=0.9)"),
    Spec("tiny_adds", "2,000 chained tiny adds + backward", build_tiny_adds, 1.0,
         note="y = y + c on 4-element tensors: per-op overhead"),
    Spec("gpt", "GPT train step (2 layers, d 128, 4 heads, ctx 64, batch 16)", build_gpt,
         1.5, available=_gpt_available, note="vocab 65, AdamW, tied head"),
    Spec("conv_big", "Conv2d(64, 64, 3, pad 1) on (128,64,32,32) fwd+bwd", build_conv_big,
         None, note="a CIFAR-sized layer: memory is the point", max_repeats=5, max_warmup=1),
    Spec("kv_generate", "greedy generation, 256 tokens with the KV cache", build_kv_generate,
         1.5, available=_kv_cache_available, max_repeats=5, max_warmup=1,
         note="4 layers, d 128, 4 heads; 16-token prompt; under no_grad"),
]


def get(spec_id: str) -> Spec:
    for s in SPECS:
        if s.id == spec_id:
            return s
    raise KeyError(f"no workload {spec_id!r}; known: {', '.join(s.id for s in SPECS)}")
