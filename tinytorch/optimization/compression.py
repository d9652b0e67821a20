"""Module 16 -- compression: how sparse a model is, and storing it in the bytes it needs.

Pruning (``prune.py``) zeroes weights through masks; this file measures and cashes in:

* :func:`sparsity_report` -- per tensor and global: how many entries are zero, read from the
  weights the model actually uses (``weight_orig * weight_mask`` for a pruned layer);
* :func:`effective_state_dict` -- the ``state_dict`` as if every pruning were made permanent
  (``prune.remove``): one ``weight`` per layer holding the masked values, no ``_orig``/``_mask``
  pair (which together take *twice* the dense bytes);
* :func:`save_sparse` / :func:`load_sparse` -- a checkpoint that stores a sparse tensor as a
  bitmap of where the nonzeros are (1 bit per entry, ``np.packbits``) plus the nonzero values,
  or as a dense array when that is smaller. At 90% sparsity a float32 weight costs
  0.1 * 4 + 1/8 = 0.525 bytes per entry instead of 4: 7.6x smaller, measured on the file;
* :func:`prunable` -- the (module, "weight") pairs of a model's Linear/Conv layers, the usual
  argument of ``prune.global_unstructured``; :func:`count_parameters`.

Checkpoints are ``.npz`` read with ``allow_pickle=False`` and written atomically, like
``tt.save``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field

import numpy as np

from tinytorch.core.module import Module
from tinytorch.core.tensor import Tensor

__all__ = ["sparsity", "SparsityReport", "sparsity_report", "effective_state_dict",
           "sparse_encode", "sparse_decode", "save_sparse", "load_sparse", "prunable",
           "count_parameters", "nonzero_parameters"]

_SEP = "::"  # separates a tensor's name from the part of its encoding in the .npz


def _arr(t) -> np.ndarray:
    return t._data if isinstance(t, Tensor) else np.asarray(t)


def sparsity(t) -> float:
    """The fraction of entries of ``t`` (Tensor or array) that are exactly zero."""
    a = _arr(t)
    return float(np.count_nonzero(a == 0) / a.size) if a.size else 0.0


def _effective(module: Module, name: str) -> np.ndarray | None:
    """The values a layer computes with: ``<name>_orig * <name>_mask`` when pruned."""
    orig, mask = module._parameters.get(name + "_orig"), module._buffers.get(name + "_mask")
    if orig is not None and mask is not None:
        return orig._data * mask._data
    p = module._parameters.get(name)
    return None if p is None else p._data


def _pruned_names(module: Module) -> list[str]:
    return [n[:-5] for n in module._parameters
            if n.endswith("_orig") and n[:-5] + "_mask" in module._buffers]


@dataclass
class SparsityReport:
    """Zeros per tensor (``rows``: name, zeros, total, sparsity) and over all of them."""

    rows: list[dict] = field(default_factory=list)

    @property
    def zeros(self) -> int:
        return sum(r["zeros"] for r in self.rows)

    @property
    def total(self) -> int:
        return sum(r["total"] for r in self.rows)

    @property
    def global_sparsity(self) -> float:
        return self.zeros / self.total if self.total else 0.0

    def __getitem__(self, name: str) -> dict:
        for r in self.rows:
            if r["name"] == name:
                return r
        raise KeyError(f"no tensor {name!r} in the report; names: "
                       f"{[r['name'] for r in self.rows]}")

    def table(self) -> str:
        """A plain-text table, one line per tensor and a global line."""
        width = max([len(r["name"]) for r in self.rows] + [6])
        lines = [f"{'tensor':<{width}}  {'zeros':>9}  {'total':>9}  sparsity"]
        for r in self.rows:
            lines.append(f"{r['name']:<{width}}  {r['zeros']:>9,}  {r['total']:>9,}  "
                         f"{r['sparsity']:8.2%}")
        lines.append(f"{'global':<{width}}  {self.zeros:>9,}  {self.total:>9,}  "
                     f"{self.global_sparsity:8.2%}")
        return "\n".join(lines)


def sparsity_report(model: Module, weights_only: bool = False) -> SparsityReport:
    """Count the zeros of every tensor the model computes with, per tensor and globally.

    A pruned weight is reported under its own name (``"0.weight"``) with the values
    ``weight_orig * weight_mask``; ``weights_only`` skips 1-D tensors (biases, norms).
    """
    report = SparsityReport()
    for prefix, m in model.named_modules():
        pruned = set(_pruned_names(m))
        names = [n for n in m._parameters if not (n.endswith("_orig") and n[:-5] in pruned)]
        names += sorted(pruned)
        for n in names:
            a = _effective(m, n)
            if a is None or (weights_only and a.ndim < 2):
                continue
            zeros = int(np.count_nonzero(a == 0))
            report.rows.append({"name": f"{prefix}.{n}" if prefix else n, "zeros": zeros,
                                "total": int(a.size),
                                "sparsity": zeros / a.size if a.size else 0.0})
    return report


def effective_state_dict(model: Module) -> dict:
    """``model.state_dict()`` with each pruned ``X_orig``/``X_mask`` pair folded into ``X``.

    The model is not changed (``prune.remove`` would do the same in place). The result loads
    into an unpruned copy of the architecture with ``load_state_dict``.
    """
    state = model.state_dict()
    out = {}
    for key, value in state.items():
        prefix, _, leaf = key.rpartition(".")
        base = f"{prefix}.{leaf[:-5]}" if prefix else leaf[:-5]
        if leaf.endswith("_orig") and (base + "_mask") in state:
            out[base] = Tensor(_arr(value) * _arr(state[base + "_mask"]))
        elif leaf.endswith("_mask") and (base + "_orig") in state:
            continue
        else:
            out[key] = value
    return out


# --------------------------------------------------------------------------- sparse files


def sparse_encode(a: np.ndarray) -> dict:
    """The cheaper of two encodings of an array: ``{"dense": a}`` or a bitmap + values.

    Bitmap encoding: ``bitmap`` = ``np.packbits`` of ``a != 0`` (1 bit per entry), ``values``
    = the nonzero entries in row-major order, ``shape``. Its bytes: ``size / 8 + nnz *
    itemsize`` against ``size * itemsize`` dense, so it wins above ~1/(8 * itemsize) = 3%
    sparsity for float32.
    """
    a = np.ascontiguousarray(a)
    nz = a != 0
    bitmap = np.packbits(nz.reshape(-1))
    values = a[nz]
    if bitmap.nbytes + values.nbytes + 8 * a.ndim >= a.nbytes:
        return {"dense": a}
    return {"bitmap": bitmap, "values": values, "shape": np.asarray(a.shape, dtype=np.int64)}


def sparse_decode(parts: dict) -> np.ndarray:
    """Inverse of :func:`sparse_encode`."""
    if "dense" in parts:
        return parts["dense"]
    shape = tuple(int(s) for s in parts["shape"])
    size = int(np.prod(shape, dtype=np.int64))
    nz = np.unpackbits(parts["bitmap"], count=size).astype(bool)
    out = np.zeros(size, dtype=parts["values"].dtype)
    out[nz] = parts["values"]
    return out.reshape(shape)


def save_sparse(obj, path, compressed: bool = False) -> int:
    """Save a model (its :func:`effective_state_dict`) or a state dict, sparse tensors as
    bitmap + values; returns the file's size in bytes.

    ``compressed``: zip-deflate the arrays too (``np.savez_compressed``). The default is off
    so that the bytes saved are the format's, not zlib's.
    """
    state = effective_state_dict(obj) if isinstance(obj, Module) else dict(obj)
    arrays = {}
    for name, value in state.items():
        if _SEP in name:
            raise ValueError(f"save_sparse: tensor name {name!r} contains {_SEP!r}")
        for part, arr in sparse_encode(_arr(value)).items():
            arrays[f"{name}{_SEP}{part}"] = arr
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            (np.savez_compressed if compressed else np.savez)(f, **arrays)
        os.replace(tmp, path)  # atomic: a crash leaves the old file or the new, never half
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return os.path.getsize(path)


def load_sparse(path) -> dict:
    """Read a :func:`save_sparse` file back into a dense state dict ``{name: Tensor}``."""
    grouped: dict[str, dict] = {}
    with np.load(os.fspath(path), allow_pickle=False) as z:
        for key in z.files:
            name, _, part = key.rpartition(_SEP)
            grouped.setdefault(name, {})[part] = z[key]
    return {name: Tensor(sparse_decode(parts)) for name, parts in grouped.items()}


# --------------------------------------------------------------------------- helpers


def prunable(model: Module, types: tuple | None = None) -> list:
    """``[(module, "weight"), ...]`` for every layer with a >= 2-D weight (Linear, Conv...),
    or only for layers of ``types``."""
    out = []
    for _, m in model.named_modules():
        if types is not None and not isinstance(m, types):
            continue
        w = m._parameters.get("weight", m._parameters.get("weight_orig"))
        if w is not None and w.ndim >= 2:
            out.append((m, "weight"))
    return out


def count_parameters(model: Module) -> int:
    """Number of trainable numbers (a pruned weight counts its ``_orig`` in full)."""
    return sum(p.numel() for p in model.parameters())


def nonzero_parameters(model: Module) -> int:
    """Number of parameters a sparse file must store: the nonzeros of the effective weights."""
    report = sparsity_report(model)
    return report.total - report.zeros
