"""Module 14 -- a per-layer profile of a model: parameters, bytes, activations, FLOPs, time.

``profile_layers(model, x)`` runs the model on ``x`` with forward hooks on every leaf module
(a layer with no children: ``Linear``, ``Conv2d``, ``ReLU`` ...) and returns a
:class:`LayerReport`: one row per layer with

* its parameter count and bytes (``nbytes`` of its own arrays; a weight shared by two layers,
  like a GPT's tied embedding and output head, appears in both rows -- ``model_size`` counts
  it once),
* its output's shape and bytes (the activation it hands on),
* its FLOPs (``FlopCounterMode``, forward only, from the shapes it ran on),
* its forward time: the median over ``repeats`` runs of the whole model (hooks read the clock
  before and after each layer).

The report prints as a table, exports to JSON, and draws a bar chart (matplotlib, imported
only when you ask for the chart: NumPy is the only thing the framework needs).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from time import perf_counter

import numpy as np

from tinytorch.core.autograd import no_grad
from tinytorch.profiling.flop_counter import FlopCounterMode

__all__ = ["LayerProfile", "LayerReport", "profile_layers"]


@dataclass
class LayerProfile:
    name: str
    kind: str
    parameters: int
    parameter_bytes: int
    output_shape: tuple
    output_bytes: int
    flops: int
    time_s: float


@dataclass
class LayerReport:
    rows: list

    @property
    def total_flops(self) -> int:
        return sum(r.flops for r in self.rows)

    @property
    def total_time_s(self) -> float:
        return sum(r.time_s for r in self.rows)

    def table(self) -> str:
        heads = ["layer", "type", "params", "param bytes", "output", "act bytes", "FLOPs",
                 "time (ms)", "% time"]
        total = self.total_time_s or 1.0
        body = [[r.name, r.kind, f"{r.parameters:,}", f"{r.parameter_bytes:,}",
                 "x".join(map(str, r.output_shape)), f"{r.output_bytes:,}", f"{r.flops:,}",
                 f"{r.time_s * 1e3:.3f}", f"{100 * r.time_s / total:.1f}%"] for r in self.rows]
        widths = [max([len(h)] + [len(b[i]) for b in body]) for i, h in enumerate(heads)]
        fmt = lambda cells: "  ".join(c.ljust(w) if i < 2 else c.rjust(w)  # noqa: E731
                                      for i, (c, w) in enumerate(zip(cells, widths)))
        return "\n".join([fmt(heads), "  ".join("-" * w for w in widths)] +
                         [fmt(b) for b in body])

    def to_dict(self) -> dict:
        return {"layers": [dict(asdict(r), output_shape=list(r.output_shape))
                           for r in self.rows],
                "total_flops": self.total_flops, "total_time_s": self.total_time_s}

    def to_json(self, path) -> None:
        with open(path, "w") as f:
            json.dump(self.to_dict(), f, indent=1)

    def bar_chart(self, path, metric: str = "time_s") -> None:
        """One bar per layer of ``metric`` (``"time_s"``, ``"flops"``, ``"parameter_bytes"``,
        ``"output_bytes"``), saved as a PNG at ``path``."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        values = [getattr(r, metric) for r in self.rows]
        fig, ax = plt.subplots(figsize=(max(5, 0.6 * len(values) + 2), 3.5))
        ax.bar(range(len(values)), values, color="tab:blue")
        ax.set_xticks(range(len(values)))
        ax.set_xticklabels([r.name for r in self.rows], rotation=60, ha="right", fontsize=7)
        ax.set_ylabel(metric)
        ax.set_title(f"per-layer {metric}")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)


def _out_bytes(out) -> tuple:
    arr = getattr(out, "_data", None)
    if isinstance(arr, np.ndarray):
        return tuple(arr.shape), int(arr.nbytes)
    if isinstance(out, (tuple, list)) and out:
        return _out_bytes(out[0])
    return (), 0


def profile_layers(model, *inputs, repeats: int = 5, warmup: int = 1) -> LayerReport:
    """Profile each leaf layer of ``model`` on ``inputs`` (forward, under ``no_grad``)."""
    root = type(model).__name__
    leaves = [(name, m) for name, m in model.named_modules()
              if name and not m._modules]
    times = {name: [] for name, _ in leaves}
    outputs: dict = {}
    started: dict = {}
    handles = []
    for name, m in leaves:
        def pre(module, args, name=name):
            started[name] = perf_counter()

        def post(module, args, out, name=name):
            times[name].append(perf_counter() - started[name])
            outputs[name] = _out_bytes(out)

        handles += [m.register_forward_pre_hook(pre), m.register_forward_hook(post)]
    try:
        with no_grad():
            for _ in range(warmup):
                model(*inputs)
            for v in times.values():
                v.clear()
            for _ in range(repeats):
                model(*inputs)
            with FlopCounterMode(model, display=False) as fc:
                model(*inputs)
    finally:
        for h in handles:
            h.remove()
    counts = fc.get_flop_counts()
    rows = []
    for name, m in leaves:
        params = list(m.parameters(recurse=False))
        shape, nbytes = outputs.get(name, ((), 0))
        rows.append(LayerProfile(
            name, type(m).__name__, sum(p.numel() for p in params),
            sum(p.numpy().nbytes for p in params), shape, nbytes,
            sum(counts.get(f"{root}.{name}", {}).values()),
            float(np.median(times[name])) if times[name] else 0.0))
    return LayerReport(rows)
