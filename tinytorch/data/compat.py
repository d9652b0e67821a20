"""The rest of ``torch.utils.data`` that everyday PyTorch programs reach for.

* :class:`IterableDataset` -- a stream of samples (``__iter__`` only, no length needed); the
  DataLoader cuts it into batches in the order it yields.
* :class:`ConcatDataset` -- several map-style datasets one after the other
  (``train_a + train_b`` also builds one, as in PyTorch).
* :class:`WeightedRandomSampler` -- indices drawn with probabilities proportional to
  ``weights`` (the usual fix for an unbalanced data set).
* :func:`get_worker_info` -- ``None``: loading always happens in the calling process.

Worker processes: the DataLoader accepts ``num_workers``, ``pin_memory``,
``persistent_workers``, ``prefetch_factor``, ``timeout`` and ``worker_init_fn`` so PyTorch
programs run unchanged, but it loads every batch in the calling process: the batches (and
their order) are the ones ``num_workers=0`` gives, only not fetched in parallel.
"""

from __future__ import annotations

import bisect

import numpy as np

from tinytorch.data.dataloader import Sampler, _numpy_rng
from tinytorch.data.dataset import Dataset

__all__ = ["IterableDataset", "ConcatDataset", "WeightedRandomSampler", "get_worker_info"]


class IterableDataset(Dataset):
    """A dataset that is a stream: subclasses define ``__iter__`` yielding samples.

    ``DataLoader(stream, batch_size=B)`` groups consecutive samples into batches of ``B``
    (``drop_last`` drops a short final one). A stream has no indices, so ``shuffle`` and
    ``sampler`` are refused, as PyTorch refuses them.
    """

    _stream = True  # what the DataLoader checks (dataloader.py cannot import this file)

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate over it, it "
                        "cannot be indexed")

    def __len__(self) -> int:
        raise TypeError(f"{type(self).__name__} is an IterableDataset and defines no __len__")


class ConcatDataset(Dataset):
    """The samples of each dataset in turn: index ``i`` goes to the dataset it falls in.

    Attributes:
        datasets: the list of parts.
        cumulative_sizes: running totals of their lengths (``bisect`` finds the part of ``i``).
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset parts")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        idx = int(idx)
        if idx < 0:
            if -idx > len(self):
                raise IndexError(f"index {idx} out of range for a ConcatDataset of {len(self)}")
            idx += len(self)
        if idx >= len(self):
            raise IndexError(f"index {idx} out of range for a ConcatDataset of {len(self)}")
        part = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[part - 1] if part else 0
        return self.datasets[part][idx - start]


def _add(self, other):
    return ConcatDataset([self, other])


Dataset.__add__ = _add  # ``ds_a + ds_b``, as torch.utils.data.Dataset defines it


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probability proportional to ``weights``.

    Args:
        weights: one non-negative weight per sample (need not sum to 1).
        num_samples: indices per epoch.
        replacement: draw independently (default); without it, each index at most once.
        generator: a ``tt.Generator`` (default: the global one, so ``tt.manual_seed`` repeats).
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        w = np.asarray(weights.numpy() if hasattr(weights, "numpy") else weights, np.float64)
        if w.ndim != 1 or (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights should be a 1-D sequence of "
                             f"non-negative finite numbers, not all zero; got shape {w.shape}")
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples <= 0:
            raise ValueError(f"WeightedRandomSampler: num_samples should be a positive integer,"
                             f" got {num_samples!r}")
        if not replacement and num_samples > (w > 0).sum():
            raise ValueError(f"WeightedRandomSampler: cannot draw {num_samples} distinct "
                             f"indices from {(w > 0).sum()} with non-zero weight")
        self.weights, self.num_samples = w, num_samples
        self.replacement, self.generator = bool(replacement), generator

    def indices(self) -> np.ndarray:
        rng = _numpy_rng(self.generator)
        return rng.choice(len(self.weights), size=self.num_samples, replace=self.replacement,
                          p=self.weights / self.weights.sum()).astype(np.int64)

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples


def get_worker_info():
    """``None``, as PyTorch returns in the main process: this DataLoader has no workers."""
    return None


def iterate_stream(loader):
    """The batches of a DataLoader over an :class:`IterableDataset` (used by ``__iter__``)."""
    if loader.batch_size is None:
        for sample in loader.dataset:
            yield loader.collate_fn(sample)
        return
    batch = []
    for sample in loader.dataset:
        batch.append(sample)
        if len(batch) == loader.batch_size:
            yield loader.collate_fn(batch)
            batch = []
    if batch and not loader.drop_last:
        yield loader.collate_fn(batch)
