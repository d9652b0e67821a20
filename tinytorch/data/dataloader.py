"""Module 08 -- the DataLoader: indices -> batches, one epoch at a time.

Three small pieces, as in PyTorch:

* a **sampler** decides the order of sample indices for one epoch
  (:class:`SequentialSampler`: 0, 1, 2, ...; :class:`RandomSampler`: a fresh permutation);
* a :class:`BatchSampler` cuts that order into lists of ``batch_size`` indices
  (``drop_last=True`` drops a short final batch);
* the :class:`DataLoader` fetches each list of indices and **collates** the samples into
  batched tensors (:func:`default_collate` stacks them).

The fetch is where speed is won or lost. Asking a dataset for ``B`` samples one by one and
stacking them costs ``B`` Python calls per batch; a dataset that supports index arrays
(``TensorDataset``) returns the batch with one fancy-indexing gather per tensor instead.

    loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True,
                        generator=tt.Generator().manual_seed(0))
    for xb, yb in loader:        # xb: (64, D), yb: (64,)
        ...
"""

from __future__ import annotations

import collections.abc

import numpy as np

from tinytorch.core.creation import Generator, default_generator
from tinytorch.core.tensor import Tensor

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "BatchSampler", "DataLoader", "default_collate"]


def _numpy_rng(generator) -> np.random.Generator:
    """The NumPy generator behind a ``tt.Generator`` (or a NumPy one); the global one if None."""
    if generator is None:
        return default_generator.rng
    if isinstance(generator, Generator):
        return generator.rng
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"generator: expected a tt.Generator, got {type(generator).__name__} "
                    "(make one with tt.Generator().manual_seed(0))")


# --------------------------------------------------------------------------- samplers


class Sampler:
    """Yields the sample indices of one epoch. ``iter(sampler)`` starts a new epoch."""

    def __iter__(self):
        raise NotImplementedError

    def indices(self) -> np.ndarray:
        """The indices of one new epoch as an int64 array (default: collect ``iter(self)``)."""
        return np.fromiter(iter(self), dtype=np.int64)


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1, the same every epoch."""

    def __init__(self, data_source):
        self.data_source = data_source

    def indices(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A new random order every epoch.

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw indices independently (duplicates possible) instead of a permutation.
        num_samples: how many indices per epoch (default ``len(data_source)``). Without
            replacement and more than ``len(data_source)``, whole permutations are chained.
        generator: a ``tt.Generator``; each epoch advances it, so two epochs differ but a run
            seeded the same way repeats exactly. Default: the global generator
            (``tt.manual_seed``).
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator=None):
        self.data_source = data_source
        self.replacement = bool(replacement)
        self._num_samples = num_samples
        self.generator = generator
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError(f"RandomSampler: num_samples should be a positive integer, got "
                             f"{num_samples!r}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def indices(self) -> np.ndarray:
        n, k = len(self.data_source), self.num_samples
        rng = _numpy_rng(self.generator)
        # BEGIN SOLUTION
        if self.replacement:
            return rng.integers(0, n, size=k, dtype=np.int64)
        # a permutation visits every sample exactly once; chain several if more are asked for
        rounds = -(-k // n) if n else 0
        perms = [rng.permutation(n) for _ in range(rounds)]
        return np.concatenate(perms)[:k].astype(np.int64) if perms else np.empty(0, np.int64)
        # END SOLUTION

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a new random order every epoch (e.g. a validation fold)."""

    def __init__(self, indices, generator=None):
        self.idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        self.generator = generator

    def indices(self) -> np.ndarray:
        return self.idx[_numpy_rng(self.generator).permutation(len(self.idx))]

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return len(self.idx)


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    ``list(BatchSampler(SequentialSampler(range(10)), 3, drop_last=False))`` is
    ``[[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]``; with ``drop_last=True`` the short ``[9]`` goes.
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size should be a positive integer, got "
                             f"{batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a bool, got {drop_last!r}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        # the whole epoch's order as one array, then cut into slices: no per-index Python step
        order = self.sampler.indices() if hasattr(self.sampler, "indices") \
            else np.fromiter(iter(self.sampler), dtype=np.int64)
        # BEGIN SOLUTION
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        for start in range(0, stop, self.batch_size):
            yield order[start:start + self.batch_size].tolist()
        # END SOLUTION

    def __len__(self) -> int:
        n = len(self.sampler)
        # BEGIN SOLUTION
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)  # ceil
        # END SOLUTION


# --------------------------------------------------------------------------- collate


def _stack(arrays) -> Tensor:
    try:
        return Tensor(np.stack(arrays))
    except ValueError:
        shapes = sorted({tuple(np.shape(a)) for a in arrays})
        raise ValueError(
            f"default_collate: cannot stack samples of different shapes {shapes[:4]}; make every "
            "sample the same shape (pad or crop them), or pass your own collate_fn"
        ) from None


def default_collate(batch):
    """Stack a list of samples into one batch, keeping the samples' structure.

    * Tensors / NumPy arrays of shape ``S`` -> one Tensor of shape ``(B, *S)``;
    * Python ints -> int64 Tensor ``(B,)``; floats -> float64 ``(B,)`` (as PyTorch);
      bools -> bool; NumPy scalars keep their dtype;
    * tuples/lists of fields -> a list with each field collated (PyTorch returns a list for
      tuple samples too); namedtuples stay namedtuples;
    * dicts -> a dict with each key collated;
    * strings -> left as they are (a sequence of strings).
    """
    if not batch:
        raise ValueError("default_collate: got an empty batch")
    elem = batch[0]
    # BEGIN SOLUTION
    if isinstance(elem, Tensor):
        return _stack([b._data for b in batch])
    if isinstance(elem, (np.ndarray, np.generic)):
        return _stack([np.asarray(b) for b in batch])
    if isinstance(elem, bool):
        return Tensor(np.array(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([b[key] for b in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(b) != len(elem) for b in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of "
                               "equal size")
        return [default_collate(field) for field in zip(*batch)]
    raise TypeError(f"default_collate: samples must hold tensors, arrays, numbers, strings, "
                    f"dicts or sequences; found {type(elem).__name__} (pass a collate_fn)")
    # END SOLUTION


# --------------------------------------------------------------------------- the loader


class DataLoader:
    """Iterate over a dataset in batches.

    Args:
        dataset: a map-style dataset (``len`` and ``[i]``).
        batch_size: samples per batch; ``None`` yields single samples, unbatched.
        shuffle: a new random order every epoch (a :class:`RandomSampler`).
        sampler: a custom order of indices (excludes ``shuffle``).
        batch_sampler: yields whole lists of indices (excludes ``batch_size``, ``shuffle``,
            ``sampler`` and ``drop_last``).
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        collate_fn: turns a list of samples into a batch (default :func:`default_collate`).
        generator: the ``tt.Generator`` that shuffles (default: the global one).

    ``len(loader)`` is the number of batches per epoch. When the dataset supports index
    arrays and no custom ``collate_fn`` is given, each batch is fetched with one
    ``dataset[index_array]`` call instead of a per-sample loop; the result is the same batch
    ``default_collate`` would build (tuple samples become lists, as in PyTorch).
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool = False, sampler=None,
                 batch_sampler=None, drop_last: bool = False, collate_fn=None, generator=None,
                 num_workers: int = 0, pin_memory: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, prefetch_factor=None,
                 persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True):
        # num_workers ... in_order: PyTorch's worker-process options, accepted so programs run
        # unchanged; batches are loaded here, in this process (see tinytorch/data/compat.py)
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers option should be a non-negative integer, "
                             f"got {num_workers!r}")
        if getattr(dataset, "_stream", False):  # an IterableDataset: no indices to order
            if shuffle or sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle, "
                                 "sampler and batch_sampler (a stream has no indices to order)")
            self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
            self.sampler = self.batch_sampler = None
            self.generator, self._auto_collation = generator, batch_size is not None
            self._custom_collate = collate_fn is not None
            self.collate_fn = collate_fn if collate_fn is not None else \
                (default_collate if self._auto_collation else _no_collate)
            return
        # the same argument rules as torch.utils.data.DataLoader
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle "
                             "(the sampler already decides the order)")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is "
                             "mutually exclusive with drop_last")
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle \
                else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self._auto_collation = batch_sampler is not None
        self._custom_collate = collate_fn is not None
        self.collate_fn = collate_fn if collate_fn is not None else \
            (default_collate if self._auto_collation else _no_collate)

    @property
    def uses_fast_path(self) -> bool:
        """True when batches come from one ``dataset[index_array]`` call each."""
        return (self._auto_collation and not self._custom_collate
                and bool(getattr(self.dataset, "supports_index_arrays", False)))

    def _fetch(self, indices):
        """The batch for one list of indices."""
        # BEGIN SOLUTION
        if self.uses_fast_path:
            batch = self.dataset[np.asarray(indices, dtype=np.int64)]
            # what default_collate makes of tuple samples: a list of batched fields
            return list(batch) if isinstance(batch, tuple) else batch
        return self.collate_fn([self.dataset[i] for i in indices])
        # END SOLUTION

    def __iter__(self):
        if self.sampler is None and self.batch_sampler is None:  # an IterableDataset
            from tinytorch.data.compat import iterate_stream

            yield from iterate_stream(self)
            return
        if not self._auto_collation:
            for i in self.sampler:
                yield self.collate_fn(self.dataset[i])
            return
        for indices in self.batch_sampler:
            yield self._fetch(indices)

    def __len__(self) -> int:
        if self.sampler is None and self.batch_sampler is None:  # a stream: its own length
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self._auto_collation:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __repr__(self) -> str:
        return (f"DataLoader(n={len(self.dataset)}, batch_size={self.batch_size}, "
                f"batches={len(self)}, sampler={type(self.sampler).__name__}, "
                f"drop_last={self.drop_last}, fast_path={self.uses_fast_path})")


def _no_collate(sample):
    """batch_size=None: samples pass through unbatched."""
    return sample
