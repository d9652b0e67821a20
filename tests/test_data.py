"""tinytorch.data: the DataLoader against torch.utils.data, collate, samplers, splits,
transforms, and the MNIST / CIFAR-10 / digits readers on files written here in the official
formats."""

import gzip
import hashlib
import io
import struct
import sys
import tarfile
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinytorch as tt
from tinytorch.data import (CIFAR10, MNIST, BatchSampler, ChecksumError, Compose, DataLoader,
                            Dataset, FashionMNIST, Flatten, Lambda, Normalize, RandomCrop,
                            RandomHorizontalFlip, RandomSampler, SequentialSampler, Subset,
                            TensorDataset, ToTensor, TransformDataset, default_collate, digits,
                            parse_idx, random_split)

torch = pytest.importorskip("torch")
from torch.utils import data as tdata  # noqa: E402


def _as_np(x):
    """A batch (tinytorch or torch, possibly nested) as NumPy, for comparing structures."""
    if isinstance(x, tt.Tensor):
        return x.numpy()
    if isinstance(x, torch.Tensor):
        return x.numpy()
    if isinstance(x, dict):
        return {k: _as_np(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_as_np(v) for v in x) if not hasattr(x, "_fields") else \
            type(x)(*(_as_np(v) for v in x))
    return x


def _assert_same(a, b):
    """Same nesting, container types, dtypes and values."""
    assert type(a) is type(b) or (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)), \
        (type(a), type(b))
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


def _data(n, d=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    y = np.arange(n, dtype=np.int64)  # the label is the sample's index: orders are visible
    return x, y


class PerSample(Dataset):
    """The same samples without index-array support: forces the per-sample + collate path."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __getitem__(self, i):
        return tt.tensor(self.x[i]), tt.tensor(self.y[i])

    def __len__(self):
        return len(self.y)


# --------------------------------------------------------------------------- against torch


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), batch_size=st.integers(1, 12), drop_last=st.booleans())
def test_batches_equal_torch_without_shuffle(n, batch_size, drop_last):
    x, y = _data(n)
    ours = DataLoader(TensorDataset(x, y), batch_size=batch_size, drop_last=drop_last)
    theirs = tdata.DataLoader(tdata.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                              batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    got, want = [_as_np(b) for b in ours], [_as_np(b) for b in theirs]
    assert len(got) == len(want) == len(ours)
    for a, b in zip(got, want):
        _assert_same(a, b)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 40), batch_size=st.integers(1, 12), drop_last=st.booleans(),
       seed=st.integers(0, 2**16))
def test_shuffled_epoch_has_torchs_batch_sizes_and_every_sample_once(n, batch_size, drop_last,
                                                                      seed):
    x, y = _data(n)
    ours = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True,
                      drop_last=drop_last, generator=tt.Generator().manual_seed(seed))
    theirs = tdata.DataLoader(tdata.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                              batch_size=batch_size, shuffle=True, drop_last=drop_last,
                              generator=torch.Generator().manual_seed(seed))
    sizes = [len(yb) for _, yb in ours]
    assert sizes == [len(yb) for _, yb in theirs]
    seen = np.concatenate([yb.numpy() for _, yb in ours]) if sizes else np.empty(0, np.int64)
    assert len(np.unique(seen)) == len(seen)  # no sample twice
    if not drop_last:
        assert sorted(seen.tolist()) == list(range(n))  # every sample exactly once
    for xb, yb in ours:  # inputs travel with their labels
        np.testing.assert_array_equal(xb.numpy(), x[yb.numpy()])


def test_shuffle_is_seeded_repeatable_and_differs_across_epochs():
    x, y = _data(50)
    ds = TensorDataset(x, y)

    def epochs(loader, k=3):
        return [np.concatenate([yb.numpy() for _, yb in loader]) for _ in range(k)]

    a = epochs(DataLoader(ds, batch_size=8, shuffle=True, generator=tt.Generator().manual_seed(7)))
    b = epochs(DataLoader(ds, batch_size=8, shuffle=True, generator=tt.Generator().manual_seed(7)))
    for ea, eb in zip(a, b):
        np.testing.assert_array_equal(ea, eb)
    assert not np.array_equal(a[0], a[1]) and not np.array_equal(a[1], a[2])
    assert not np.array_equal(a[0], np.arange(50))
    for e in a:
        assert sorted(e.tolist()) == list(range(50))
    c = epochs(DataLoader(ds, batch_size=8, shuffle=True, generator=tt.Generator().manual_seed(8)))
    assert not np.array_equal(a[0], c[0])


def test_shuffle_without_a_generator_follows_tt_manual_seed():
    x, y = _data(30)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True)
    tt.manual_seed(123)
    first = np.concatenate([yb.numpy() for _, yb in loader])
    second = np.concatenate([yb.numpy() for _, yb in loader])
    tt.manual_seed(123)
    again = np.concatenate([yb.numpy() for _, yb in loader])
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("shuffle", [False, True])
def test_fast_path_and_per_sample_path_give_the_same_batches(shuffle):
    x, y = _data(23)
    fast = DataLoader(TensorDataset(x, y), batch_size=5, shuffle=shuffle,
                      generator=tt.Generator().manual_seed(3))
    slow = DataLoader(PerSample(x, y), batch_size=5, shuffle=shuffle,
                      generator=tt.Generator().manual_seed(3))
    assert fast.uses_fast_path and not slow.uses_fast_path
    for a, b in zip(fast, slow, strict=True):
        _assert_same(_as_np(a), _as_np(b))


def test_fast_path_is_one_fetch_per_batch():
    x, y = _data(20)
    calls = []

    class Counting(TensorDataset):
        def __getitem__(self, index):
            calls.append(index)
            return super().__getitem__(index)

    batches = list(DataLoader(Counting(x, y), batch_size=6))
    assert len(batches) == len(calls) == 4
    assert all(isinstance(c, np.ndarray) for c in calls)


def test_a_custom_collate_fn_gets_the_list_of_samples():
    x, y = _data(7)
    got = list(DataLoader(TensorDataset(x, y), batch_size=3,
                          collate_fn=lambda samples: len(samples)))
    assert got == [3, 3, 1]


def test_batch_size_none_yields_single_samples_like_torch():
    x, y = _data(4)
    ours = list(DataLoader(TensorDataset(x, y), batch_size=None))
    theirs = list(tdata.DataLoader(tdata.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                                   batch_size=None))
    assert len(ours) == len(theirs) == 4
    for (xa, ya), (xb, yb) in zip(ours, theirs):
        np.testing.assert_array_equal(xa.numpy(), xb.numpy())
        assert int(ya.item()) == int(yb.item())


def test_sampler_and_batch_sampler_arguments_like_torch():
    x, y = _data(10)
    ds = TensorDataset(x, y)
    order = [9, 0, 8, 1, 7, 2, 6, 3, 5, 4]
    got = [yb.numpy().tolist() for _, yb in DataLoader(ds, batch_size=4, sampler=order)]
    assert got == [[9, 0, 8, 1], [7, 2, 6, 3], [5, 4]]
    batches = [[0, 1], [5, 6, 7], [2]]
    loader = DataLoader(ds, batch_sampler=batches)
    assert len(loader) == 3
    assert [yb.numpy().tolist() for _, yb in loader] == batches
    tds = tdata.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    bad = [dict(sampler=order, shuffle=True), dict(batch_sampler=batches, batch_size=2),
           dict(batch_sampler=batches, shuffle=True), dict(batch_sampler=batches, drop_last=True),
           dict(batch_sampler=batches, sampler=order), dict(batch_size=None, drop_last=True)]
    for kwargs in bad:
        with pytest.raises(ValueError):
            tdata.DataLoader(tds, **kwargs)
        with pytest.raises(ValueError):
            DataLoader(ds, **kwargs)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 30), batch_size=st.integers(1, 9), drop_last=st.booleans())
def test_batch_sampler_equals_torchs(n, batch_size, drop_last):
    ours = BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)
    theirs = tdata.BatchSampler(tdata.SequentialSampler(range(n)), batch_size, drop_last)
    assert len(ours) == len(theirs)
    assert list(ours) == list(theirs)


def test_random_sampler_options():
    g = tt.Generator().manual_seed(0)
    s = RandomSampler(range(5), num_samples=12, generator=g)
    idx = list(s)
    assert len(idx) == len(s) == 12
    assert sorted(idx[:5]) == list(range(5)) and sorted(idx[5:10]) == list(range(5))
    r = list(RandomSampler(range(3), replacement=True, num_samples=50, generator=g))
    assert len(r) == 50 and set(r) <= {0, 1, 2}
    with pytest.raises(ValueError):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(ValueError):
        BatchSampler(range(3), 0, False)


# --------------------------------------------------------------------------- collate


def test_default_collate_matches_torch_on_nested_samples():
    rng = np.random.default_rng(0)
    Point = namedtuple("Point", ["xy", "label"])
    cases = [
        [(rng.standard_normal(3).astype(np.float32), 1) for _ in range(4)],  # (array, int)
        [{"x": rng.standard_normal((2, 2)), "y": 0.5, "ok": True} for _ in range(3)],  # dict
        [[1.5, 2, np.float32(3)] for _ in range(2)],  # list of numbers
        [Point(rng.standard_normal(2).astype(np.float32), 3) for _ in range(3)],  # namedtuple
        [("a", np.int64(4)), ("b", np.int64(5))],  # strings stay a list
        [{"pair": (np.ones(2, np.float32), 7)} for _ in range(2)],  # dict of tuple
    ]
    for samples in cases:
        ours = default_collate(samples)
        theirs = tdata.default_collate(samples)
        _assert_same(_as_np(ours), _as_np(theirs))


def test_default_collate_stacks_tensors_and_explains_ragged_samples():
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(4)]
    out = default_collate([(tt.tensor(x), tt.tensor(i)) for i, x in enumerate(xs)])
    assert isinstance(out, list) and out[0].shape == (4, 2, 3) and out[1].dtype == np.int64
    np.testing.assert_array_equal(out[0].numpy(), np.stack(xs))
    with pytest.raises(ValueError, match="different shapes"):
        default_collate([tt.zeros(2), tt.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([(1, 2), (1,)])


# --------------------------------------------------------------------------- datasets


def test_tensor_dataset_int_and_array_indexing_and_errors():
    x, y = _data(6)
    ds = TensorDataset(x, y)
    xi, yi = ds[2]
    assert xi.shape == (3,) and yi.shape == () and int(yi.item()) == 2
    xb, yb = ds[np.array([4, 1, 1])]
    np.testing.assert_array_equal(xb.numpy(), x[[4, 1, 1]])
    assert yb.numpy().tolist() == [4, 1, 1]
    xl, _ = ds[[0, 5]]
    assert xl.shape == (2, 3)
    xt, _ = ds[tt.tensor([3])]
    assert xt.shape == (1, 3)
    xs, ys = ds[1:4]  # slices too, as torch's TensorDataset
    np.testing.assert_array_equal(xs.numpy(), x[1:4])
    assert ys.numpy().tolist() == [1, 2, 3]
    assert Subset(ds, [5, 4, 3])[1:][1].numpy().tolist() == [4, 3]
    with pytest.raises(ValueError, match="size mismatch"):
        TensorDataset(x, y[:5])
    with pytest.raises(IndexError):
        ds[6]
    with pytest.raises(IndexError):
        ds[np.array([0, 9])]
    with pytest.raises(TypeError):
        ds[np.array([0.5])]


def test_subset_keeps_the_fast_path_and_maps_indices():
    x, y = _data(10)
    sub = Subset(TensorDataset(x, y), [7, 3, 5])
    assert len(sub) == 3 and sub.supports_index_arrays
    assert int(sub[0][1].item()) == 7
    assert sub[np.array([2, 0])][1].numpy().tolist() == [5, 7]
    assert [yb.numpy().tolist() for _, yb in DataLoader(sub, batch_size=2)] == [[7, 3], [5]]
    assert not Subset(PerSample(x, y), [1]).supports_index_arrays


def test_random_split_lengths_fractions_and_determinism():
    ds = TensorDataset(*_data(10))
    a = random_split(ds, [3, 7], generator=tt.Generator().manual_seed(0))
    b = random_split(ds, [3, 7], generator=tt.Generator().manual_seed(0))
    assert [len(s) for s in a] == [3, 7]
    np.testing.assert_array_equal(a[0].indices, b[0].indices)
    assert sorted(np.concatenate([s.indices for s in a]).tolist()) == list(range(10))
    c = random_split(ds, [3, 7], generator=tt.Generator().manual_seed(1))
    assert not np.array_equal(a[1].indices, c[1].indices)
    # fractions: floor, then the remainder round-robin from the first split (torch's rule)
    fr = random_split(TensorDataset(*_data(11)), [0.5, 0.3, 0.2],
                      generator=tt.Generator().manual_seed(0))
    theirs = tdata.random_split(range(11), [0.5, 0.3, 0.2],
                                generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in fr] == [len(s) for s in theirs]
    with pytest.raises(ValueError, match="sum"):
        random_split(ds, [3, 3])


# --------------------------------------------------------------------------- transforms


def test_to_tensor_normalize_flatten_compose():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(2, 4, 4, 3), dtype=np.uint8)  # (N, H, W, C) from a file
    t = ToTensor(channels_last=True)(img)
    assert t.dtype == np.float32 and t.shape == (2, 3, 4, 4)
    np.testing.assert_allclose(t.numpy(), np.moveaxis(img, -1, 1) / 255.0, rtol=1e-6)
    mean, std = [0.5, 0.4, 0.3], [0.2, 0.25, 0.5]
    got = Normalize(mean, std)(t)
    want = (t.numpy() - np.array(mean).reshape(3, 1, 1)) / np.array(std).reshape(3, 1, 1)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(Normalize(mean, std)(t[0]).numpy(), want[0], rtol=1e-5, atol=1e-6)
    flat = rng.standard_normal((5, 3)).astype(np.float32)  # (N, D): channels are the last dim
    np.testing.assert_allclose(Normalize(mean, std)(flat).numpy(), (flat - mean) / np.array(std),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="channel"):
        Normalize([0.5, 0.5], [1, 1])(t)
    pipeline = Compose([ToTensor(channels_last=True), Normalize(0.5, 0.5), Flatten(),
                        Lambda(lambda v: v * 2)])
    out = pipeline(img)
    assert out.shape == (2, 48)
    np.testing.assert_allclose(out.numpy(), 2 * ((np.moveaxis(img, -1, 1) / 255.0 - 0.5) / 0.5)
                               .reshape(2, -1), rtol=1e-5, atol=1e-6)
    assert Flatten()(tt.zeros(3, 4, 4)).shape == (48,)


def test_random_horizontal_flip_per_image():
    rng = np.random.default_rng(1)
    batch = rng.standard_normal((64, 2, 3, 5)).astype(np.float32)
    np.testing.assert_array_equal(RandomHorizontalFlip(1.0)(batch).numpy(), batch[..., ::-1])
    np.testing.assert_array_equal(RandomHorizontalFlip(0.0)(batch).numpy(), batch)
    out = RandomHorizontalFlip(0.5, generator=tt.Generator().manual_seed(0))(batch).numpy()
    flipped = np.array([np.array_equal(o, b[..., ::-1]) for o, b in zip(out, batch)])
    kept = np.array([np.array_equal(o, b) for o, b in zip(out, batch)])
    assert np.all(flipped ^ kept) and 10 < flipped.sum() < 54  # each image on its own
    single = batch[0, 0]  # (H, W)
    assert RandomHorizontalFlip(1.0)(single).shape == (3, 5)


def test_random_crop_windows_of_the_padded_image():
    rng = np.random.default_rng(2)
    batch = rng.standard_normal((40, 3, 6, 6)).astype(np.float32)
    np.testing.assert_array_equal(RandomCrop(6)(batch).numpy(), batch)  # full size: identity
    out = RandomCrop(6, padding=2, generator=tt.Generator().manual_seed(0))(batch).numpy()
    assert out.shape == (40, 3, 6, 6)
    padded = np.pad(batch, ((0, 0), (0, 0), (2, 2), (2, 2)))
    offsets = []
    for o, p in zip(out, padded):  # each crop is one window of its own padded image
        hits = [(i, j) for i in range(5) for j in range(5)
                if np.array_equal(o, p[:, i:i + 6, j:j + 6])]
        assert hits, "a crop is not a window of the padded image"
        offsets.append(hits[0])
    assert len(set(offsets)) > 5  # offsets are drawn per image
    assert RandomCrop((2, 3))(batch[0]).shape == (3, 2, 3)
    with pytest.raises(ValueError, match="larger"):
        RandomCrop(7)(batch)


def test_transform_dataset_applies_to_batches_in_the_fast_path():
    x, y = _data(8)
    ds = TransformDataset(TensorDataset(x, y), transform=Lambda(lambda v: v * 10),
                          target_transform=Lambda(lambda t: t + 100))
    loader = DataLoader(ds, batch_size=4)
    assert loader.uses_fast_path
    xb, yb = next(iter(loader))
    np.testing.assert_allclose(xb.numpy(), x[:4] * 10)
    assert yb.numpy().tolist() == [100, 101, 102, 103]


# --------------------------------------------------------------------------- IDX (MNIST)


def _idx_bytes(arr: np.ndarray) -> bytes:
    """An IDX file as the format's documentation specifies it (big-endian header and data)."""
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
             np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}
    head = bytes([0, 0, codes[arr.dtype], arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return head + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def _md5(raw: bytes) -> str:
    return hashlib.md5(raw).hexdigest()


def _write_mnist(folder, n_train=7, n_test=3, gz=True, seed=0):
    """Small MNIST-format files; returns (arrays, checksum table of what was written)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays, table = {}, {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        for kind, arr in (("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)):
            raw = _idx_bytes(arr)
            name = f"{prefix}-{kind}"
            if gz:
                raw, name = gzip.compress(raw, mtime=0), name + ".gz"
            (folder / name).write_bytes(raw)
            table[name] = _md5(raw)
        arrays[prefix] = (images, labels)
    return arrays, table


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_parse_idx_every_type_code(dtype):
    rng = np.random.default_rng(0)
    arr = (rng.standard_normal((3, 4, 2)) * 50).astype(dtype)
    got = parse_idx(_idx_bytes(arr))
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative
    np.testing.assert_array_equal(got, arr)


def test_parse_idx_rejects_malformed_files():
    good = _idx_bytes(np.zeros((2, 3), np.uint8))
    with pytest.raises(ValueError, match="not an IDX"):
        parse_idx(b"\x01\x02" + good[2:])
    with pytest.raises(ValueError, match="bytes"):
        parse_idx(good[:-1])
    with pytest.raises(ValueError, match="header"):
        parse_idx(good[:6])


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_reads_official_files_gz_and_raw(tmp_path, gz):
    arrays, table = _write_mnist(tmp_path, gz=gz)
    for train, prefix in ((True, "train"), (False, "t10k")):
        ds = MNIST(tmp_path, train=train, checksums=table)
        images, labels = arrays[prefix]
        assert ds.data.dtype == np.uint8 and ds.targets.dtype == np.int64
        np.testing.assert_array_equal(ds.data, images)
        np.testing.assert_array_equal(ds.targets, labels)
        x, y = ds[1]
        assert x.shape == (1, 28, 28) and x.dtype == np.float32
        np.testing.assert_allclose(x.numpy()[0], images[1] / 255.0, rtol=1e-6)
        assert int(y.item()) == labels[1]
        xb, yb = next(iter(DataLoader(ds, batch_size=2)))
        assert xb.shape == (2, 1, 28, 28) and yb.numpy().tolist() == labels[:2].tolist()
        assert 0.0 <= xb.numpy().min() and xb.numpy().max() <= 1.0


def test_mnist_checksums_default_table_wrong_checksum_and_opt_out(tmp_path):
    _, table = _write_mnist(tmp_path)
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte.gz.*md5.*verify=False"):
        MNIST(tmp_path)  # our small files are not the official ones
    bad = dict(table, **{"train-labels-idx1-ubyte.gz": "0" * 32})
    with pytest.raises(ChecksumError, match="train-labels"):
        MNIST(tmp_path, checksums=bad)
    assert len(MNIST(tmp_path, verify=False)) == 7
    assert len(FashionMNIST(tmp_path, train=False, verify=False)) == 3
    with pytest.raises(ChecksumError):
        FashionMNIST(tmp_path)


def test_mnist_missing_folder_and_files_say_what_to_do(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as e:
        MNIST(missing)
    msg = str(e.value)
    assert str(missing) in msg and "does not exist" in msg
    assert "train-images-idx3-ubyte.gz" in msg and "train-labels-idx1-ubyte.gz" in msg
    assert "http" in msg
    _write_mnist(tmp_path / "half")
    (tmp_path / "half" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte") as e:
        MNIST(tmp_path / "half", train=False, verify=False)
    assert "t10k-images" not in str(e.value)


def test_mnist_finds_torchvisions_folder_layout_and_rejects_corrupt_gz(tmp_path):
    _, table = _write_mnist(tmp_path / "MNIST" / "raw")
    assert len(MNIST(tmp_path, checksums=table)) == 7
    path = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(ValueError):
        MNIST(tmp_path, verify=False)


# --------------------------------------------------------------------------- CIFAR-10 binary


def _cifar_batch(n, seed):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    # the binary version: per record one label byte, then the R, G and B planes, row-major
    raw = b"".join(bytes([lab]) + img.tobytes() for lab, img in zip(labels, images))
    return images, labels, raw


def _write_cifar(folder, sha1=False):
    folder.mkdir(parents=True, exist_ok=True)
    files, table = {}, {}
    for i, name in enumerate([f"data_batch_{k}.bin" for k in range(1, 6)] + ["test_batch.bin"]):
        images, labels, raw = _cifar_batch(2 + i % 2, seed=i)
        (folder / name).write_bytes(raw)
        files[name] = (images, labels)
        table[name] = "sha1:" + hashlib.sha1(raw).hexdigest() if sha1 else _md5(raw)
    return files, table


@pytest.mark.parametrize("sha1", [False, True])
def test_cifar10_reads_binary_batches(tmp_path, sha1):
    files, table = _write_cifar(tmp_path, sha1=sha1)
    train = CIFAR10(tmp_path, train=True, checksums=table)
    want = np.concatenate([files[f"data_batch_{k}.bin"][0] for k in range(1, 6)])
    np.testing.assert_array_equal(train.data, want)
    np.testing.assert_array_equal(
        train.targets, np.concatenate([files[f"data_batch_{k}.bin"][1] for k in range(1, 6)]))
    assert train.targets.dtype == np.int64 and len(train) == 12
    test = CIFAR10(tmp_path, train=False, checksums=table)
    x, y = test[1]
    assert x.shape == (3, 32, 32) and x.dtype == np.float32
    np.testing.assert_allclose(x.numpy(), files["test_batch.bin"][0][1] / 255.0, rtol=1e-6)
    assert int(y.item()) == files["test_batch.bin"][1][1]
    assert test.classes[0] == "airplane" and len(test.classes) == 10


def test_cifar10_from_the_archive_and_from_its_unpacked_folder(tmp_path):
    files, table = _write_cifar(tmp_path / "build" / "cifar-10-batches-bin")
    assert len(CIFAR10(tmp_path / "build", train=False, checksums=table)) == 3
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in files:
            tar.add(tmp_path / "build" / "cifar-10-batches-bin" / name,
                    arcname=f"cifar-10-batches-bin/{name}")
    (tmp_path / "arch").mkdir()
    (tmp_path / "arch" / "cifar-10-binary.tar.gz").write_bytes(buf.getvalue())
    ds = CIFAR10(tmp_path / "arch", checksums={"cifar-10-binary.tar.gz": _md5(buf.getvalue())})
    assert len(ds) == 12
    np.testing.assert_array_equal(ds.data[:2], files["data_batch_1.bin"][0])
    with pytest.raises(ChecksumError, match="cifar-10-binary.tar.gz"):
        CIFAR10(tmp_path / "arch")  # the official MD5 does not match our small archive


def test_cifar10_wrong_checksum_missing_files_and_bad_sizes(tmp_path):
    _, table = _write_cifar(tmp_path)
    with pytest.raises(ChecksumError, match="test_batch.bin.*sha1"):
        CIFAR10(tmp_path, train=False)  # the default (real) table
    with pytest.raises(ChecksumError):
        CIFAR10(tmp_path, train=False, checksums={"test_batch.bin": "1" * 32})
    assert len(CIFAR10(tmp_path, train=False, verify=False)) == 3
    (tmp_path / "data_batch_3.bin").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_1.bin") as e:
        CIFAR10(tmp_path, checksums=table)
    assert str(tmp_path) in str(e.value) and "cifar-10-binary.tar.gz" in str(e.value)
    (tmp_path / "test_batch.bin").write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match="records"):
        CIFAR10(tmp_path, train=False, verify=False)


# --------------------------------------------------------------------------- digits


def test_digits_shapes_dtypes_ranges_and_stratified_split():
    train, test = digits()
    x, y = train.tensors
    xt, yt = test.tensors
    assert x.shape == (1438, 64) and xt.shape == (359, 64)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert 0.0 <= x.numpy().min() and x.numpy().max() <= 1.0 and x.numpy().max() == 1.0
    assert set(y.numpy().tolist()) == set(range(10)) == set(yt.numpy().tolist())
    # stratified: every class is ~20% test
    frac = np.bincount(yt.numpy(), minlength=10) / (np.bincount(y.numpy(), minlength=10)
                                                  + np.bincount(yt.numpy(), minlength=10))
    assert np.all(np.abs(frac - 0.2) < 0.01)
    img, _ = digits(flatten=False)
    assert img.tensors[0].shape == (1438, 1, 8, 8)


def test_digits_split_is_deterministic_and_seeded():
    a_train, a_test = digits(seed=0)
    b_train, b_test = digits(seed=0)
    np.testing.assert_array_equal(a_train.tensors[0].numpy(), b_train.tensors[0].numpy())
    np.testing.assert_array_equal(a_test.tensors[1].numpy(), b_test.tensors[1].numpy())
    c_train, _ = digits(seed=1)
    assert not np.array_equal(a_train.tensors[1].numpy(), c_train.tensors[1].numpy())
    # train and test together are exactly the 1797 images, each once
    both = np.concatenate([a_train.tensors[0].numpy(), a_test.tensors[0].numpy()])
    from sklearn.datasets import load_digits
    ref = (load_digits().images.reshape(-1, 64) / 16.0).astype(np.float32)
    key = lambda a: sorted(map(bytes, a))  # noqa: E731
    assert key(both) == key(ref)


def test_digits_without_scikit_learn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        digits()
