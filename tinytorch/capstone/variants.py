"""The capstone's models and their optimized variants: how each is made, saved and loaded.

The closed division: a submission names an architecture from :data:`ARCHS` and a variant from
:data:`VARIANTS`, nothing else, so a verifier rebuilds exactly the model that was timed from
the checkpoint alone. Every variant is made from a trained float model:

==============  ===========================================================  ===============
variant         what (module)                                                checkpoint
==============  ===========================================================  ===============
float32         the trained model as it is                                   ``tt.save``
int8_dynamic    int8 Linear weights, activations quantized per batch (15)    ``tt.save``
int8_static     int8 weights and activations, ranges calibrated (15)         ``tt.save``
pruned90        90% of the weights zeroed gradually (50, 75, 90%) with       sparse file (16)
                fine-tuning between, masks kept during fine-tuning (16)
==============  ===========================================================  ===============

The architectures carry ``QuantStub``/``DeQuantStub`` at both ends: identities in float, the
places where static quantization converts in and out of int8.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

__all__ = ["ARCHS", "VARIANTS", "build", "make_variant", "save_variant", "load_variant"]

ARCHS = ("mlp", "cnn")
VARIANTS = ("float32", "int8_dynamic", "int8_static", "pruned90")


def _tt():
    import tinytorch as tt

    return tt


def build(arch: str):
    """A fresh float model of ``arch`` (``"mlp"``: 64-128-10; ``"cnn"``: two 3x3 convs)."""
    tt = _tt()
    nn, Q = tt.nn, tt.quantization
    if arch == "mlp":  # TinyMLPerf's mlp_digits, between the quantization stubs
        return nn.Sequential(Q.QuantStub(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10),
                             Q.DeQuantStub())
    if arch == "cnn":  # TinyMLPerf's cnn_digits: (1, 8, 8) -> 8x4x4 -> 16x2x2 -> 10
        return nn.Sequential(Q.QuantStub(), nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 10), Q.DeQuantStub())
    raise ValueError(f"no capstone architecture {arch!r}; known: {', '.join(ARCHS)}")


def _check_variant(variant: str) -> None:
    if variant not in VARIANTS:
        raise ValueError(f"no capstone variant {variant!r}; known: {', '.join(VARIANTS)}")


def _static(model, calib: np.ndarray):
    """Module 15's static post-training quantization: observe ``calib``, then convert."""
    tt = _tt()
    Q = tt.quantization
    model = copy.deepcopy(model).eval()
    model.qconfig = Q.default_qconfig
    prepared = Q.prepare(model)
    with tt.no_grad():
        prepared(tt.tensor(calib))
    return Q.convert(prepared)


def _prune_gradually(model, finetune, levels=(0.5, 0.75, 0.9)):
    """Module 16: global L1 pruning of every weight to each level in turn, fine-tuning with
    the masks in place after each; the masks are folded in at the end (``prune.remove``)."""
    tt = _tt()
    nn, prune = tt.nn, tt.nn.utils.prune
    model = copy.deepcopy(model)
    layers = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    done = 0.0
    for level in levels:
        # pruning again prunes a share of what is *left* (PyTorch's PruningContainer): from
        # sparsity ``done`` to ``level`` is (level - done) / (1 - done) of the survivors
        prune.global_unstructured([(m, "weight") for m in layers],
                                  pruning_method=prune.L1Unstructured,
                                  amount=(level - done) / (1 - done))
        done = level
        finetune(model)
    for m in layers:
        prune.remove(m, "weight")
    return model.eval()


def make_variant(variant: str, model, calib: np.ndarray, finetune=None):
    """The ``variant`` of a trained float ``model`` (a copy: ``model`` is left as it is).

    ``calib``: training inputs for static quantization's ranges; ``finetune(model)``: a few
    optimizer steps on the training data (pruning needs it).
    """
    tt = _tt()
    _check_variant(variant)
    if variant == "float32":
        return copy.deepcopy(model).eval()
    if variant == "int8_dynamic":
        return tt.quantization.quantize_dynamic(copy.deepcopy(model).eval(), {tt.nn.Linear},
                                                dtype=tt.qint8)
    if variant == "int8_static":
        return _static(model, calib)
    if finetune is None:
        raise ValueError("make_variant('pruned90'): pass finetune(model), the steps that "
                         "recover accuracy between pruning levels")
    return _prune_gradually(model, finetune)


def save_variant(variant: str, model, path) -> int:
    """Write ``model``'s checkpoint for ``variant``; returns the file's size in bytes.

    Pruned weights go to module 16's sparse format (a bitmap and the nonzero values), so the
    file is measurably smaller; the others are ``tt.save`` of the state dict (``.npz``)."""
    tt = _tt()
    _check_variant(variant)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if variant == "pruned90":
        from tinytorch.optimization.compression import save_sparse

        return save_sparse(model, path)
    tt.save(model.state_dict(), str(path))
    return path.stat().st_size


def load_variant(arch: str, variant: str, path):
    """Rebuild ``arch`` as ``variant`` and load the checkpoint at ``path`` (eval mode).

    A quantized variant is built by quantizing a fresh float model (static quantization
    calibrated on zeros: the structure is what matters, the loaded state replaces every
    scale and zero point), then loading the saved int8 state over it.
    """
    tt = _tt()
    _check_variant(variant)
    model = build(arch).eval()
    if variant == "pruned90":
        from tinytorch.optimization.compression import load_sparse

        model.load_state_dict(load_sparse(path))
        return model
    state = tt.load(str(path))
    if variant == "int8_dynamic":
        model = tt.quantization.quantize_dynamic(model, {tt.nn.Linear}, dtype=tt.qint8)
    elif variant == "int8_static":
        shape = (1, 64) if arch == "mlp" else (1, 1, 8, 8)
        model = _static(model, np.linspace(0, 1, int(np.prod(shape)),
                                           dtype=np.float32).reshape(shape))
    model.load_state_dict(state)
    return model.eval()
