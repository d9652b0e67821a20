"""The one registry of the 20 course modules.

Everything that needs the list of modules (the CLI, the workspace generator, the tests, the
docs) reads it from here; nothing else repeats it.

Each module owns package files. A solution region in a file belongs to the file's owner unless
it names another module: ``# BEGIN SOLUTION 05`` in ``core/tensor_ops.py`` (owned by 01) is
module 05's work (the backward formulas of the ops of modules 01-04 are taught in module 05).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def repo_root() -> Path:
    """The course repository tito works on: ``$TITO_REPO_ROOT`` if set, else this checkout.

    The variable lets tito's own tests run the whole learner journey on a small synthetic
    course in a temporary folder; learners never need it.
    """
    env = os.environ.get("TITO_REPO_ROOT")
    return Path(env).resolve() if env else REPO_ROOT


@dataclass(frozen=True)
class Module:
    number: int
    slug: str
    title: str
    files: tuple[str, ...]  # package files this module owns, relative to the repo root
    prerequisites: tuple[int, ...] = ()
    milestone: str | None = None  # the milestone this module unlocks, if any
    available: bool = True  # False: listed in the course plan, not written yet

    @property
    def key(self) -> str:
        return f"{self.number:02d}"

    @property
    def dirname(self) -> str:
        return f"{self.number:02d}_{self.slug}"

    @property
    def path(self) -> Path:
        return repo_root() / "modules" / self.dirname

    @property
    def tests(self) -> Path:
        return self.path / "tests"

    @property
    def guide(self) -> Path:
        return self.path / "README.md"

    @property
    def lab(self) -> Path:
        return self.path / "lab.py"


def _m(number, slug, title, files, prerequisites=None, milestone=None, available=True):
    if prerequisites is None:
        prerequisites = tuple(range(1, number))
    return Module(number, slug, title, tuple(files), tuple(prerequisites), milestone, available)


MODULES: tuple[Module, ...] = (
    _m(1, "tensor", "Tensor", ["tinytorch/core/tensor.py", "tinytorch/core/tensor_ops.py",
                               "tinytorch/core/creation.py", "tinytorch/core/ops_support.py",
                               "tinytorch/core/ops_elementwise.py",
                               "tinytorch/core/ops_reduce.py", "tinytorch/core/ops_shape.py",
                               "tinytorch/core/ops_index.py", "tinytorch/core/ops_matmul.py",
                               "tinytorch/core/ops_random.py", "tinytorch/core/device.py",
                               "tinytorch/core/dtypes.py", "tinytorch/core/indexing.py",
                               "tinytorch/core/tensor_inplace.py", "tinytorch/core/size.py",
                               "tinytorch/core/compat_api.py", "tinytorch/core/blas_sums.py"]),
    _m(2, "activations", "Activations", ["tinytorch/core/activations.py",
                                         "tinytorch/core/activations_extra.py"]),
    _m(3, "layers", "Layers", ["tinytorch/core/module.py", "tinytorch/core/layers.py",
                               "tinytorch/core/init.py", "tinytorch/core/layers_extra.py",
                               "tinytorch/core/init_extra.py", "tinytorch/core/module_extras.py",
                               "tinytorch/core/param_containers.py",
                               "tinytorch/core/recurrent.py"]),
    _m(4, "losses", "Losses", ["tinytorch/core/losses.py", "tinytorch/core/losses_extra.py",
                               "tinytorch/core/losses_more.py"],
       milestone="01_perceptron"),
    _m(5, "autograd", "Autograd", ["tinytorch/core/autograd.py", "tinytorch/core/torch_arrays.py",
                                   "tinytorch/core/autograd_grad.py", "tinytorch/core/anomaly.py"],
       milestone="02_xor"),
    _m(6, "optimizers", "Optimizers", ["tinytorch/core/optimizers.py",
                                       "tinytorch/core/schedulers.py",
                                       "tinytorch/core/optimizers_extra.py",
                                       "tinytorch/core/schedulers_extra.py"]),
    _m(7, "training", "Training", ["tinytorch/core/training.py", "tinytorch/core/checkpoint.py",
                                   "tinytorch/core/safetensors_io.py",
                                   "tinytorch/utils/health.py"]),
    _m(8, "dataloader", "DataLoader", ["tinytorch/data/dataset.py", "tinytorch/data/dataloader.py",
                                       "tinytorch/data/datasets.py", "tinytorch/data/transforms.py",
                                       "tinytorch/data/compat.py"],
       milestone="03_mlp_digits"),
    _m(9, "spatial", "Spatial (CNNs)", ["tinytorch/core/windows.py", "tinytorch/core/im2col.py",
                                        "tinytorch/core/conv.py", "tinytorch/core/pooling.py",
                                        "tinytorch/core/padding.py", "tinytorch/core/dropout2d.py",
                                        "tinytorch/core/spatial.py",
                                        "tinytorch/core/normalization.py",
                                        "tinytorch/core/conv1d.py",
                                        "tinytorch/core/conv_transpose.py",
                                        "tinytorch/core/resample.py",
                                        "tinytorch/core/pooling_extra.py",
                                        "tinytorch/core/padding_layers.py",
                                        "tinytorch/core/group_norm.py",
                                        "tinytorch/core/patches.py"],
       milestone="04_cnn"),
    _m(10, "tokenization", "Tokenization", ["tinytorch/text/tokenization.py"]),
    _m(11, "embeddings", "Embeddings", ["tinytorch/text/embeddings.py"]),
    _m(12, "attention", "Attention", ["tinytorch/core/attention.py",
                                      "tinytorch/core/flash_attention.py",
                                      "tinytorch/core/multihead_attention.py",
                                      "tinytorch/core/attention_viz.py"]),
    _m(13, "transformers", "Transformers", ["tinytorch/core/layernorm.py",
                                            "tinytorch/models/transformer.py",
                                            "tinytorch/models/gpt.py",
                                            "tinytorch/models/transformer_full.py"],
       milestone="05_transformer"),
    _m(14, "profiling", "Profiling", ["tinytorch/profiling/profiler.py",
                                      "tinytorch/profiling/hooks.py",
                                      "tinytorch/profiling/flops.py",
                                      "tinytorch/profiling/flop_counter.py",
                                      "tinytorch/profiling/latency.py",
                                      "tinytorch/profiling/memory.py",
                                      "tinytorch/profiling/report.py"]),
    _m(15, "quantization", "Quantization", ["tinytorch/optimization/quantization.py",
                                            "tinytorch/optimization/observers.py",
                                            "tinytorch/optimization/fake_quant.py",
                                            "tinytorch/optimization/quantized_layers.py",
                                            "tinytorch/optimization/quantize_api.py",
                                            "tinytorch/quantization.py"]),
    _m(16, "compression", "Compression", ["tinytorch/optimization/compression.py",
                                          "tinytorch/optimization/prune.py",
                                          "tinytorch/optimization/low_rank.py",
                                          "tinytorch/optimization/distillation.py",
                                          "tinytorch/optimization/compression_study.py"]),
    _m(17, "memoization", "Memoization (KV cache)", ["tinytorch/generation/kv_cache.py",
                                                       "tinytorch/generation/cached_forward.py"],
       milestone="06_gpt"),
    _m(18, "acceleration", "Acceleration", ["tinytorch/optimization/acceleration.py",
                                            "tinytorch/optimization/tiled_matmul.py",
                                            "tinytorch/optimization/fused.py",
                                            "tinytorch/optimization/numba_kernels.py"]),
    _m(19, "benchmarking", "Benchmarking", ["tinytorch/benchmarking/benchmark.py",
                                            "tinytorch/benchmarking/stats.py",
                                            "tinytorch/benchmarking/compare.py",
                                            "tinytorch/benchmarking/environment.py",
                                            "tinytorch/benchmarking/isolation.py",
                                            "tinytorch/benchmarking/results.py",
                                            "tinytorch/benchmarking/tinymlperf.py"]),
    _m(20, "capstone", "Capstone", ["tinytorch/capstone/capstone.py",
                                    "tinytorch/capstone/variants.py",
                                    "tinytorch/capstone/pipeline.py",
                                    "tinytorch/capstone/report.py",
                                    "tinytorch/capstone/submission.py",
                                    "tinytorch/capstone/verify.py",
                                    "tinytorch/capstone/board.py",
                                    "tinytorch/capstone/cli.py"],
       milestone="07_mlperf"),
)


def get(number: int | str) -> Module:
    """The module with this number (``3``, ``"03"``, ``"03_layers"`` or ``"layers"`` all work)."""
    text = str(number).strip().lower()
    for m in MODULES:
        if text == m.slug:
            return m
    key, _, slug = text.partition("_")
    try:
        n = int(key)
    except ValueError:
        raise KeyError(f"no module {number!r}: use a number from 1 to {len(MODULES)}") from None
    for m in MODULES:
        if m.number == n:
            if slug and slug != m.slug:  # "01_wrong": a typo, not module 01
                raise KeyError(f"no module {number!r}: module {m.key} is {m.dirname}")
            return m
    raise KeyError(f"no module {number!r}: use a number from 1 to {len(MODULES)}")


def owner_of(path: str) -> Module | None:
    """The module that owns a package file (path relative to the repo root), if any."""
    for m in MODULES:
        if path in m.files:
            return m
    return None
