"""Module 08 -- datasets: what a sample is, and how to ask for many of them at once.

A *dataset* is anything with ``len(ds)`` and ``ds[i]`` (PyTorch's map-style protocol): sample
``i`` is usually a tuple ``(x, y)`` of tensors. The :class:`~tinytorch.data.DataLoader` draws
indices, fetches the samples and stacks them into batches.

Fetching one sample at a time costs a Python call per sample. A dataset whose data already
sits in arrays can do much better: NumPy's fancy indexing, ``X[[3, 17, 42]]``, gathers a whole
batch in one C loop. Datasets that can answer ``ds[index_array]`` with a ready-made batch say
so with ``supports_index_arrays = True`` (:class:`TensorDataset` does); the DataLoader then
skips the per-sample loop and the collate step entirely.
"""

from __future__ import annotations

import math

import numpy as np

from tinytorch.core.creation import Generator, default_generator
from tinytorch.core.tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "TransformDataset", "random_split"]


def _as_index(index):
    """An int stays an int, a slice a slice; a batch index becomes an int64 array (checked)."""
    if isinstance(index, (int, np.integer)):
        return int(index)
    if isinstance(index, slice):
        return index
    if isinstance(index, Tensor):
        index = index._data
    arr = np.asarray(index)
    if arr.ndim == 0 and arr.dtype.kind in "iu":
        return int(arr)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise TypeError(
            f"dataset index: expected an int or a 1-D array of ints, got {type(index).__name__} "
            f"of shape {arr.shape} and dtype {arr.dtype}"
        )
    return arr.astype(np.int64, copy=False)


class Dataset:
    """Base class of map-style datasets: subclasses define ``__len__`` and ``__getitem__``.

    ``__getitem__(i)`` returns sample ``i`` (any structure the collate function can stack:
    tensors, arrays, numbers, or tuples and dicts of them).

    Set ``supports_index_arrays = True`` if ``__getitem__`` also accepts a 1-D array of
    indices and returns the whole batch at once (already stacked, the way ``default_collate``
    would stack the single samples). The DataLoader uses that fast path when it can.
    """

    supports_index_arrays: bool = False

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


class TensorDataset(Dataset):
    """Samples are rows of equally long tensors: ``ds[i] == (t1[i], t2[i], ...)``.

    Args:
        *tensors: Tensors (or arrays) sharing their first dimension, e.g. inputs ``(N, D)``
            and labels ``(N,)``.

    ``ds[i]`` returns a tuple of one row of each tensor; ``ds[idx]`` with a 1-D array (or
    list) of ``B`` indices returns a tuple of batched tensors with first dimension ``B``,
    gathered by fancy indexing without a Python loop.
    """

    supports_index_arrays = True

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor, e.g. TensorDataset(X, y)")
        tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
        for t in tensors:
            if t.ndim == 0:
                raise ValueError("TensorDataset: every tensor needs a first (sample) dimension; "
                                 "got a 0-d tensor")
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) != 1:
            raise ValueError(
                f"TensorDataset: size mismatch between tensors: first dimensions {sizes} (shapes "
                f"{[tuple(t.shape) for t in tensors]}); every tensor must hold one row per sample"
            )
        self.tensors = tensors

    def __getitem__(self, index):
        index = _as_index(index)
        n = len(self)
        if isinstance(index, int):
            if not -n <= index < n:
                raise IndexError(f"TensorDataset: index {index} is out of range for {n} samples")
        elif isinstance(index, np.ndarray) and index.size and (index.min() < -n or index.max() >= n):
            raise IndexError(f"TensorDataset: indices must be in [-{n}, {n}) for {n} samples, got "
                             f"min {index.min()} and max {index.max()}")
        # one gather per tensor: ``t._data[index]`` is a C loop over the whole batch
        return tuple(Tensor(t._data[index]) for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(t.shape)) for t in self.tensors)
        return f"TensorDataset({shapes})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``sub[i] == dataset[indices[i]]``.

    Keeps the parent's fast path: a batch of positions maps to a batch of parent indices with
    one array lookup.
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)

    @property
    def supports_index_arrays(self) -> bool:
        return getattr(self.dataset, "supports_index_arrays", False)

    def __getitem__(self, index):
        index = _as_index(index)
        if isinstance(index, int):
            return self.dataset[int(self.indices[index])]
        if isinstance(index, slice):
            index = np.arange(len(self.indices))[index]
        if self.supports_index_arrays:
            return self.dataset[self.indices[index]]
        return [self.dataset[int(i)] for i in self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


class TransformDataset(Dataset):
    """Apply ``transform`` to the input and ``target_transform`` to the target of each sample.

    Wraps a dataset of ``(x, y)`` samples. It supports index arrays when the wrapped dataset
    does; the transforms then receive whole batches, so use transforms that accept a batch
    (those in :mod:`tinytorch.data.transforms` do, see their docstrings).
    """

    def __init__(self, dataset, transform=None, target_transform=None):
        self.dataset = dataset
        self.transform = transform
        self.target_transform = target_transform

    @property
    def supports_index_arrays(self) -> bool:
        return getattr(self.dataset, "supports_index_arrays", False)

    def __getitem__(self, index):
        x, y = self.dataset[index]
        return apply_transforms(x, y, self.transform, self.target_transform)

    def __len__(self) -> int:
        return len(self.dataset)


def apply_transforms(x, y, transform=None, target_transform=None):
    """``(transform(x), target_transform(y))``, skipping the transforms that are None."""
    if transform is not None:
        x = transform(x)
    if target_transform is not None:
        y = target_transform(y)
    return x, y


def random_split(dataset, lengths, generator: Generator | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random :class:`Subset` s of the given lengths.

    Args:
        lengths: sizes summing to ``len(dataset)``, or fractions summing to 1 (as in PyTorch:
            each gets ``floor(n * frac)`` and the remainder is handed out one by one from the
            first split on).
        generator: a ``tt.Generator`` for a repeatable split (default: the global one, seeded by
            ``tt.manual_seed``).
    """
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1) \
            and sum(lengths) <= 1 + 1e-9:
        sizes = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes
    if any(int(x) != x or x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative integers or fractions "
                         f"summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: the lengths {lengths} sum to {sum(lengths)}, but the "
                         f"dataset has {n} samples")
    rng = (generator or default_generator).rng
    perm = rng.permutation(n)
    offsets = np.cumsum([0] + [int(x) for x in lengths])
    return [Subset(dataset, perm[a:b]) for a, b in zip(offsets[:-1], offsets[1:])]
