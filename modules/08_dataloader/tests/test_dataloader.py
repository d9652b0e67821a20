"""Module 08 graded tests: samplers, batching, collate, the DataLoader, the IDX parser.

Expected values are written out in each test (small worked examples) or computed with NumPy.
The files a reader parses are built here byte by byte from the format's description.
"""

import struct

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
from tinytorch.data import (BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler,
                            TensorDataset, default_collate, parse_idx, random_split)
from tinytorch.testing import assert_close


def _dataset(n, seed=0):
    """Inputs (n, 2) and labels 0..n-1: a label tells which sample a batch row came from."""
    x = np.random.default_rng(seed).standard_normal((n, 2)).astype(np.float32)
    return x, np.arange(n, dtype=np.int64), TensorDataset(x, np.arange(n, dtype=np.int64))


def _labels(loader):
    return [yb.numpy().tolist() for _, yb in loader]


class OneByOne(Dataset):
    """A dataset that can only hand out one sample at a time (no index arrays)."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __getitem__(self, i):
        return tt.tensor(self.x[i]), tt.tensor(self.y[i])

    def __len__(self):
        return len(self.y)


# --------------------------------------------------------------------------- samplers


def test_batch_sampler_cuts_the_order_into_batches():
    sampler = SequentialSampler(range(10))
    assert list(BatchSampler(sampler, 3, drop_last=False)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8],
                                                               [9]]
    assert list(BatchSampler(sampler, 3, drop_last=True)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert list(BatchSampler(sampler, 5, drop_last=True)) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]


@pytest.mark.parametrize("n,batch_size,drop_last,expected", [
    (10, 3, False, 4), (10, 3, True, 3), (9, 3, False, 3), (9, 3, True, 3), (2, 5, False, 1),
    (2, 5, True, 0), (1, 1, False, 1)])
def test_number_of_batches(n, batch_size, drop_last, expected):
    # ceil(n / batch_size) batches, or floor(n / batch_size) when the short one is dropped
    assert len(BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)) == expected
    _, _, ds = _dataset(n)
    loader = DataLoader(ds, batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == expected
    assert len(list(loader)) == expected


def test_random_sampler_is_a_permutation_seeded_by_its_generator():
    a = list(RandomSampler(range(20), generator=tt.Generator().manual_seed(5)))
    b = list(RandomSampler(range(20), generator=tt.Generator().manual_seed(5)))
    assert sorted(a) == list(range(20)), "every index exactly once"
    assert a == b, "the same seed must give the same order"
    assert a != list(range(20)), "a shuffled order should not be the identity"
    g = tt.Generator().manual_seed(5)
    s = RandomSampler(range(20), generator=g)
    first, second = list(s), list(s)
    assert first == a and second != first, "each epoch draws a new order from the generator"


# --------------------------------------------------------------------------- collate


def test_collate_stacks_tuples_of_tensors_and_numbers():
    samples = [(tt.tensor([1.0, 2.0]), 0), (tt.tensor([3.0, 4.0]), 1), (tt.tensor([5.0, 6.0]), 2)]
    xb, yb = default_collate(samples)
    assert_close(xb, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], what="collated inputs")
    assert_close(yb, [0, 1, 2], what="collated labels")
    assert yb.dtype == np.int64, "Python ints collate to an int64 tensor"
    floats = default_collate([0.5, 1.5])
    assert floats.dtype == np.float64, "Python floats collate to float64 (PyTorch's rule)"


def test_collate_dicts_and_arrays():
    samples = [{"image": np.full((2, 2), i, np.float32), "label": i} for i in range(3)]
    batch = default_collate(samples)
    assert set(batch) == {"image", "label"}
    assert batch["image"].shape == (3, 2, 2)
    assert_close(batch["image"], np.stack([np.full((2, 2), i, np.float32) for i in range(3)]),
                 what="collated dict field 'image'")
    assert_close(batch["label"], [0, 1, 2], what="collated dict field 'label'")


# --------------------------------------------------------------------------- the loader


def test_without_shuffle_batches_come_in_order():
    x, y, ds = _dataset(7)
    loader = DataLoader(ds, batch_size=3)
    assert _labels(loader) == [[0, 1, 2], [3, 4, 5], [6]]
    xb, yb = next(iter(loader))
    assert_close(xb, x[:3], what="first batch of inputs", inputs={"x": x})


def test_drop_last_drops_only_the_short_batch():
    _, _, ds = _dataset(7)
    assert _labels(DataLoader(ds, batch_size=3, drop_last=True)) == [[0, 1, 2], [3, 4, 5]]


def test_shuffle_sees_every_sample_once_and_repeats_with_the_same_seed():
    x, y, ds = _dataset(25)
    loader = DataLoader(ds, batch_size=4, shuffle=True, generator=tt.Generator().manual_seed(0))
    epoch1 = sum(_labels(loader), [])
    epoch2 = sum(_labels(loader), [])
    assert sorted(epoch1) == list(range(25)) and sorted(epoch2) == list(range(25))
    assert epoch1 != epoch2, "two epochs should see different orders"
    again = DataLoader(ds, batch_size=4, shuffle=True, generator=tt.Generator().manual_seed(0))
    assert sum(_labels(again), []) == epoch1, "the same seed must repeat the same order"
    for xb, yb in loader:
        assert_close(xb, x[yb.numpy()], what="inputs stay with their labels after shuffling")


def test_index_array_datasets_and_one_by_one_datasets_give_the_same_batches():
    x, y, ds = _dataset(11)
    fast = list(DataLoader(ds, batch_size=4))
    slow = list(DataLoader(OneByOne(x, y), batch_size=4))
    assert len(fast) == len(slow) == 3
    assert all(type(b) is list for b in slow), "default_collate turns (x, y) samples into a list"
    assert all(type(b) is list for b in fast), \
        "the fast path must return what default_collate would: a list [inputs, labels]"
    for (xf, yf), (xs, ys) in zip(fast, slow):
        assert_close(xf, xs, what="batch from ds[index_array] vs collated samples")
        assert_close(yf, ys, what="labels from ds[index_array] vs collated samples")


def test_tensor_dataset_answers_an_index_array_with_a_batch():
    x, y, ds = _dataset(6)
    xb, yb = ds[np.array([5, 0, 2])]
    assert_close(xb, x[[5, 0, 2]], what="TensorDataset[[5, 0, 2]] inputs", inputs={"x": x})
    assert yb.numpy().tolist() == [5, 0, 2]


def test_random_split_partitions_the_dataset():
    _, _, ds = _dataset(10)
    a, b = random_split(ds, [6, 4], generator=tt.Generator().manual_seed(1))
    got = sorted(sum(_labels(DataLoader(a, batch_size=10)), [])
                 + sum(_labels(DataLoader(b, batch_size=10)), []))
    assert len(a) == 6 and len(b) == 4 and got == list(range(10))


def test_training_through_a_dataloader_learns():
    """Modules 03-07 with batches from module 08: logistic regression on separable data."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 2)).astype(np.float32)
    y = (x[:, 0] + 2 * x[:, 1] > 0).astype(np.int64)
    tt.manual_seed(0)
    model = nn.Linear(2, 2)
    opt = tt.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(x, y), batch_size=20, shuffle=True,
                        generator=tt.Generator().manual_seed(0))
    for _ in range(10):
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    acc = float((model(tt.tensor(x)).numpy().argmax(1) == y).mean())
    assert acc >= 0.95, f"accuracy {acc:.3f} after 10 epochs; expected >= 0.95"


# --------------------------------------------------------------------------- IDX files


def test_parse_idx_worked_example():
    # magic 00 00 08 02 (uint8, 2 dims), sizes 2 and 3 (big-endian uint32), then 6 bytes
    raw = bytes([0, 0, 0x08, 2]) + struct.pack(">II", 2, 3) + bytes([1, 2, 3, 4, 5, 255])
    arr = parse_idx(raw)
    assert arr.dtype == np.uint8 and arr.shape == (2, 3)
    assert arr.tolist() == [[1, 2, 3], [4, 5, 255]]


def test_parse_idx_big_endian_int32_and_labels():
    raw = bytes([0, 0, 0x0C, 1]) + struct.pack(">I", 3) + struct.pack(">iii", 1, -2, 70000)
    arr = parse_idx(raw)
    assert arr.tolist() == [1, -2, 70000], "int32 values are big-endian in IDX files"
    labels = bytes([0, 0, 0x08, 1]) + struct.pack(">I", 4) + bytes([7, 2, 1, 0])
    assert parse_idx(labels).tolist() == [7, 2, 1, 0]


def test_parse_idx_rejects_a_truncated_file():
    raw = bytes([0, 0, 0x08, 2]) + struct.pack(">II", 2, 3) + bytes([1, 2, 3])
    with pytest.raises(ValueError):
        parse_idx(raw)


def test_digits_is_ready_to_train():
    pytest.importorskip("sklearn")
    from tinytorch.data import digits

    train, test = digits()
    x, y = train.tensors
    assert x.shape[1] == 64 and x.dtype == np.float32 and y.dtype == np.int64
    assert 0.0 <= float(x.numpy().min()) and float(x.numpy().max()) <= 1.0
    assert len(train) + len(test) == 1797


# --------------------------------------------- every option, alone and combined; edge inputs

@pytest.mark.parametrize("n, num_samples", [(5, 12), (5, 5), (5, 3), (1, 4), (7, None)])
def test_random_sampler_without_replacement_any_num_samples(n, num_samples):
    """Without replacement: num_samples > n chains permutations (each block of n is one)."""
    s = RandomSampler(list(range(n)), num_samples=num_samples, generator=tt.Generator().manual_seed(0))
    k = n if num_samples is None else num_samples
    got = list(s)
    assert len(got) == k == len(s), f"RandomSampler(n={n}, num_samples={num_samples}): {k} indices"
    for start in range(0, k, n):
        block = got[start:start + n]
        assert len(set(block)) == len(block) and set(block) <= set(range(n)), \
            f"without replacement each run of {n} indices is part of one permutation: {got}"


@pytest.mark.parametrize("n", [1, 2, 3])
def test_random_sampler_with_replacement_reaches_every_index(n):
    s = RandomSampler(list(range(n)), replacement=True, num_samples=400,
                      generator=tt.Generator().manual_seed(1))
    got = list(s)
    assert len(got) == 400 and set(got) == set(range(n)), \
        f"replacement=True draws from all of 0..{n - 1} (the last index included): {sorted(set(got))}"
    assert all(isinstance(i, int) for i in got[:3])


@pytest.mark.parametrize("n", [0, 1, 5, 6, 7, 12])
@pytest.mark.parametrize("batch_size", [1, 3, 6, 20])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_sampler_and_loader_every_size_and_drop_last(n, batch_size, drop_last):
    """len() and the batches agree, for sizes that divide evenly and ones that do not."""
    full, rest = divmod(n, batch_size)
    expected = [list(range(i, min(i + batch_size, n))) for i in range(0, n, batch_size)]
    if drop_last and rest:
        expected = expected[:-1]
    bs = BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)
    assert list(bs) == expected, f"BatchSampler(n={n}, {batch_size}, drop_last={drop_last})"
    assert len(bs) == len(expected), \
        f"len(BatchSampler(n={n}, batch_size={batch_size}, drop_last={drop_last})) = {len(expected)}"
    if n:
        x, y, ds = _dataset(n)
        for data in (ds, OneByOne(x, y)):
            loader = DataLoader(data, batch_size=batch_size, drop_last=drop_last)
            assert len(loader) == len(expected) and _labels(loader) == expected, \
                f"DataLoader(n={n}, batch_size={batch_size}, drop_last={drop_last})"


def test_shuffled_loader_with_drop_last_drops_only_the_short_batch():
    x, y, ds = _dataset(10)
    loader = DataLoader(ds, batch_size=4, shuffle=True, drop_last=True,
                        generator=tt.Generator().manual_seed(2))
    batches = _labels(loader)
    assert [len(b) for b in batches] == [4, 4] and len(loader) == 2
    assert len(set(sum(batches, []))) == 8


def test_collate_every_scalar_kind_keeps_pytorchs_dtype():
    from collections import namedtuple

    assert default_collate([True, False]).dtype == tt.tensor(np.array([True])).dtype, \
        "Python bools collate to bool (bool is an int in Python: test it first)"
    assert default_collate([1, 2]).dtype == tt.tensor(np.array([1], np.int64)).dtype
    assert default_collate([0.5, 1.5]).dtype == tt.tensor(np.array([1.0])).dtype, \
        "Python floats collate to float64, as PyTorch"
    for scalar in (np.int64(3), np.float32(0.5), np.int32(2), np.bool_(True)):
        got = default_collate([scalar, scalar])
        assert got.shape == (2,) and got.numpy().dtype == np.asarray(scalar).dtype, \
            f"NumPy scalars ({type(scalar).__name__}) collate to a (B,) tensor of their dtype"
    Pair = namedtuple("Pair", "image label")
    got = default_collate([Pair(np.zeros(2, np.float32), 1), Pair(np.ones(2, np.float32), 0)])
    assert type(got) is Pair and got.image.shape == (2, 2) and got.label.numpy().tolist() == [1, 0], \
        "namedtuple samples come back as the same namedtuple of batches"


def test_fast_path_and_collate_give_the_same_structure():
    """A dataset answering index arrays must give what default_collate gives: a list."""
    x, y, ds = _dataset(6)
    fast = next(iter(DataLoader(ds, batch_size=4)))
    slow = next(iter(DataLoader(OneByOne(x, y), batch_size=4)))
    assert type(fast) is type(slow) is list, \
        f"batches of (x, y) samples are lists, as default_collate makes: {type(fast).__name__}"
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype and np.array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("code, dtype", [(0x08, np.uint8), (0x09, np.int8), (0x0B, ">i2"),
                                         (0x0C, ">i4"), (0x0D, ">f4"), (0x0E, ">f8")])
def test_parse_idx_every_type_is_native_and_writable(code, dtype):
    values = (np.arange(6) - 2).astype(dtype).reshape(2, 3)
    raw = bytes([0, 0, code, 2]) + struct.pack(">II", 2, 3) + values.tobytes()
    got = parse_idx(raw)
    assert got.shape == (2, 3) and np.array_equal(got, values.astype(values.dtype.newbyteorder("=")))
    assert got.dtype.isnative, f"type 0x{code:02X}: the result is in native byte order"
    assert got.flags.writeable, "the array is a writable copy, not a view of the file's bytes"
    got[0, 0] = 1  # a transform that edits in place must not fail
