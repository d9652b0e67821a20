"""Module 08 -- real data sets: the bundled digits, and readers for MNIST and CIFAR-10 files.

* :func:`digits` -- scikit-learn's 1,797 bundled 8x8 handwritten digits: no download, so every
  machine can train on real data (milestone 03). scikit-learn is needed only here and is
  imported lazily: it is not a dependency of the framework.
* :class:`MNIST`, :class:`FashionMNIST` -- the official IDX files (``.gz`` or uncompressed).
* :class:`CIFAR10` -- the official *binary* version (``data_batch_1.bin`` ... ``test_batch.bin``,
  or the ``cifar-10-binary.tar.gz`` archive itself). Never the "python version": its batches are
  pickles, and unpickling a file can run arbitrary code.

Nothing is downloaded: you put the files in a folder and pass it. Every file is checked
against its published checksum before it is parsed (``verify=False`` skips that); a missing
file raises ``FileNotFoundError`` naming the folder, the files expected and where to get them.

Images stay ``uint8`` in memory (a quarter of float32's bytes) and become float32 in [0, 1]
batch by batch, when the DataLoader asks for them.
"""

from __future__ import annotations

import gzip
import hashlib
import tarfile
from pathlib import Path

import numpy as np

from tinytorch.core.tensor import Tensor
from tinytorch.data.dataset import Dataset, TensorDataset, _as_index, apply_transforms

__all__ = ["digits", "parse_idx", "read_idx", "parse_cifar_binary", "file_digest",
           "ChecksumError", "MNIST", "FashionMNIST", "CIFAR10"]


# --------------------------------------------------------------------------- checksums


class ChecksumError(ValueError):
    """A data file does not match its published checksum (corrupt, truncated or different)."""


def file_digest(path, algorithm: str = "md5") -> str:
    """Hex digest of a file, read in 1 MiB chunks (data files can be hundreds of MB)."""
    h = hashlib.new(algorithm, usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _verify(path: Path, expected: str, what: str) -> None:
    """Compare a file with ``expected``: ``"<md5 hex>"`` or ``"<algorithm>:<hex>"``."""
    algorithm, _, digest = expected.rpartition(":")
    algorithm = algorithm or "md5"
    got = file_digest(path, algorithm)
    if got != digest.lower():
        raise ChecksumError(
            f"{what}: {path} does not match its published {algorithm} checksum (expected "
            f"{digest}, got {got}). The file is corrupt, truncated or not the official one: "
            "download it again. If you made or changed it on purpose, pass verify=False."
        )


def _missing(what: str, folder: Path, expected: list[str], source: str) -> FileNotFoundError:
    listing = "\n".join(f"  {name}" for name in expected)
    where = (f"the folder {folder} does not exist" if not folder.is_dir()
             else f"these files are missing from {folder}")
    return FileNotFoundError(
        f"{what}: {where}. Expected:\n{listing}\nDownload them from {source} and put them in "
        f"that folder (nothing is downloaded for you), or pass the folder that holds them."
    )


# --------------------------------------------------------------------------- IDX (MNIST)

# IDX type codes (the third byte of the magic number) -> big-endian NumPy dtypes
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def parse_idx(raw: bytes) -> np.ndarray:
    """Decode one IDX file (the format of MNIST) into an array of its dtype and shape.

    Layout, all integers big-endian::

        bytes 0-1   0x00 0x00
        byte  2     type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                    0x0D float32, 0x0E float64
        byte  3     number of dimensions, n
        4n bytes    the size of each dimension, uint32
        the rest    the values, row-major (C order)

    So an MNIST image file starts ``00 00 08 03 | 60000 | 28 | 28`` and holds
    ``60000 * 28 * 28`` bytes of pixels. Raises ``ValueError`` on a malformed file.
    """
    # BEGIN SOLUTION
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"IDX: not an IDX file (magic bytes {raw[:4].hex(' ')}; expected "
                         "00 00 <type code> <ndim>)")
    dtype, ndim = np.dtype(_IDX_DTYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"IDX: truncated header ({len(raw)} bytes for {ndim} dimensions)")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"IDX: the header says shape {shape} of {dtype.name} "
                         f"({expected} bytes in all), but the file has {len(raw)} bytes")
    values = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))  # native byte order, and a writable copy
    # END SOLUTION


def read_idx(path) -> np.ndarray:
    """Read an IDX file, gzipped (``.gz``) or not."""
    path = Path(path)
    with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as f:
        try:
            raw = f.read()
        except (OSError, EOFError) as e:  # a truncated or corrupt .gz
            raise ValueError(f"IDX: cannot decompress {path}: {e}") from None
    try:
        return parse_idx(raw)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None


def _to_float_images(pixels: np.ndarray, channel_axis: bool) -> np.ndarray:
    """uint8 (..., H, W) -> float32 in [0, 1], with a channel axis inserted if asked."""
    x = pixels.astype(np.float32) * np.float32(1 / 255)
    return x[..., None, :, :] if channel_axis else x


class _ImageDataset(Dataset):
    """Shared by the readers: ``data`` (uint8 images), ``targets`` (int64), transforms.

    ``ds[i]`` is ``(image, label)``: a float32 image in [0, 1], channels first, and an int64
    label (0-d tensor); ``ds[index_array]`` returns the batch, converted in one step.
    """

    supports_index_arrays = True
    classes: list[str] = []
    _channel_axis = False  # MNIST stores (N, 28, 28) and gains its channel on the way out

    def __init__(self, transform=None, target_transform=None):
        self.transform = transform
        self.target_transform = target_transform

    def __getitem__(self, index):
        index = _as_index(index)
        x = Tensor(_to_float_images(self.data[index], self._channel_axis))
        y = Tensor(self.targets[index])
        return apply_transforms(x, y, self.transform, self.target_transform)

    def __len__(self) -> int:
        return len(self.targets)

    @property
    def class_to_idx(self) -> dict:
        return {c: i for i, c in enumerate(self.classes)}

    def __repr__(self) -> str:
        split = "train" if self.train else "test"
        return (f"{type(self).__name__}(split={split}, n={len(self)}, "
                f"images={tuple(self.data.shape)} uint8, root={str(self.root)!r})")


class MNIST(_ImageDataset):
    """The MNIST handwritten digits from the official IDX files in ``root``.

    Args:
        root: the folder holding ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
            ``t10k-images-idx3-ubyte.gz`` and ``t10k-labels-idx1-ubyte.gz`` (gzipped as
            published, or uncompressed without the ``.gz``). torchvision's layout
            ``root/MNIST/raw/`` is found too.
        train: the 60,000 training images, else the 10,000 test images.
        transform, target_transform: applied to the image (batch) and the label (batch).
        verify: check each ``.gz`` against the official MD5 (uncompressed files have no
            published checksum: their IDX header and exact size are checked instead).
        checksums: replaces the table of expected checksums, ``{file name: md5 hex}``.

    Attributes:
        data: uint8 ``(N, 28, 28)``; targets: int64 ``(N,)``; classes: the class names.
        ``ds[i]`` is ``(image (1, 28, 28) float32 in [0, 1], label)``.
    """

    source = "https://ossci-datasets.s3.amazonaws.com/mnist/ (a mirror of " \
             "http://yann.lecun.com/exdb/mnist/)"
    # the official MD5s of the published files (as torchvision lists them)
    checksums = {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    classes = [str(i) for i in range(10)]
    _channel_axis = True

    def __init__(self, root, train: bool = True, transform=None, target_transform=None,
                 verify: bool = True, checksums: dict | None = None):
        super().__init__(transform, target_transform)
        self.root, self.train = Path(root), bool(train)
        table = self.checksums if checksums is None else checksums
        prefix = "train" if self.train else "t10k"
        names = [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]
        folder = self._folder(names)
        arrays = []
        for name in names:
            path = folder / f"{name}.gz" if (folder / f"{name}.gz").is_file() else folder / name
            if verify and path.name in table:
                _verify(path, table[path.name], type(self).__name__)
            arrays.append(read_idx(path))
        images, labels = arrays
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"{type(self).__name__}: expected images (N, H, W) and labels (N,), "
                             f"got {images.shape} and {labels.shape} in {folder}")
        self.data = images.astype(np.uint8, copy=False)
        self.targets = labels.astype(np.int64)

    def _folder(self, names) -> Path:
        """``root`` or torchvision's ``root/<Name>/raw``: the first holding every file."""
        for folder in (self.root, self.root / type(self).__name__ / "raw"):
            if all((folder / f"{n}.gz").is_file() or (folder / n).is_file() for n in names):
                return folder
        missing = [f"{n}.gz (or {n})" for n in names
                   if not ((self.root / f"{n}.gz").is_file() or (self.root / n).is_file())]
        raise _missing(type(self).__name__, self.root, missing, self.source)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: MNIST's file names and format, clothes instead of digits."""

    source = "https://github.com/zalandoresearch/fashion-mnist (the data/fashion folder)"
    checksums = {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    }
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


# --------------------------------------------------------------------------- CIFAR-10 (binary)

_CIFAR_RECORD = 1 + 3 * 32 * 32  # one label byte, then 1024 red, 1024 green, 1024 blue bytes


def parse_cifar_binary(raw: bytes, what: str = "CIFAR-10") -> tuple[np.ndarray, np.ndarray]:
    """Decode a CIFAR-10 binary batch: records of ``<1 label byte><3072 pixel bytes>``.

    Pixels are stored channel by channel (R plane, G plane, B plane), each row-major, so a
    record reshapes straight to ``(3, 32, 32)``: channels first, no transpose needed.
    Returns ``(images uint8 (N, 3, 32, 32), labels int64 (N,))``.
    """
    if len(raw) % _CIFAR_RECORD:
        raise ValueError(f"{what}: {len(raw)} bytes is not a whole number of {_CIFAR_RECORD}-byte "
                         "records (label + 3x32x32 pixels); is this the binary version?")
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _CIFAR_RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.size and labels.max() > 9:
        raise ValueError(f"{what}: labels must be 0-9, found {labels.max()}; is this CIFAR-10?")
    return records[:, 1:].reshape(-1, 3, 32, 32).copy(), labels


class CIFAR10(_ImageDataset):
    """CIFAR-10 (60,000 32x32 colour images, 10 classes) from the official binary version.

    Args:
        root: a folder holding ``data_batch_1.bin`` ... ``data_batch_5.bin`` and
            ``test_batch.bin`` (directly or in ``cifar-10-batches-bin/``, as the archive
            unpacks), or holding the archive ``cifar-10-binary.tar.gz`` itself, read without
            unpacking.
        train: the 50,000 training images (five batches), else the 10,000 test images.
        verify: check files against their checksums: the archive against the official MD5
            from the CIFAR page; unpacked ``.bin`` files against SHA-1s (MXNet's table).
        checksums: replaces the table, ``{file name: "md5 hex" or "sha1:hex"}``.

    Attributes:
        data: uint8 ``(N, 3, 32, 32)`` (channels first, as stored); targets: int64 ``(N,)``.
        ``ds[i]`` is ``(image (3, 32, 32) float32 in [0, 1], label)``.
    """

    source = "https://www.cs.toronto.edu/~kriz/cifar.html (the 'CIFAR-10 binary version', " \
             "cifar-10-binary.tar.gz; not the python version)"
    archive = "cifar-10-binary.tar.gz"
    checksums = {
        "cifar-10-binary.tar.gz": "c32a1d4ab5d03f1284b67883e8d87530",  # the CIFAR page's MD5
        "data_batch_1.bin": "sha1:aadd24acce27caa71bf4b10992e9e7b2d74c2540",
        "data_batch_2.bin": "sha1:c0ba65cce70568cd57b4e03e9ac8d2a5367c1795",
        "data_batch_3.bin": "sha1:1dd00a74ab1d17a6e7d73e185b69dbf31242f295",
        "data_batch_4.bin": "sha1:aab85764eb3584312d3c7f65fd2fd016e36a258e",
        "data_batch_5.bin": "sha1:26e2849e66a845b7f1e4614ae70f4889ae604628",
        "test_batch.bin": "sha1:67eb016db431130d61cd03c7ad570b013799c88c",
    }
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck"]

    def __init__(self, root, train: bool = True, transform=None, target_transform=None,
                 verify: bool = True, checksums: dict | None = None):
        super().__init__(transform, target_transform)
        self.root, self.train = Path(root), bool(train)
        table = self.checksums if checksums is None else checksums
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] if self.train else ["test_batch.bin"]
        raws = self._read(names, table, verify)
        parts = [parse_cifar_binary(raw, f"CIFAR10 {name}") for name, raw in zip(names, raws)]
        self.data = np.concatenate([p[0] for p in parts])
        self.targets = np.concatenate([p[1] for p in parts])

    def _read(self, names, table, verify) -> list[bytes]:
        for folder in (self.root, self.root / "cifar-10-batches-bin"):
            if all((folder / n).is_file() for n in names):
                out = []
                for n in names:
                    if verify and n in table:
                        _verify(folder / n, table[n], "CIFAR10")
                    out.append((folder / n).read_bytes())
                return out
        archive = self.root / self.archive
        if archive.is_file():
            if verify and self.archive in table:
                _verify(archive, table[self.archive], "CIFAR10")
            return _read_tar_members(archive, names)
        raise _missing("CIFAR10", self.root, names + [f"(or the archive {self.archive})"],
                       self.source)


def _read_tar_members(archive: Path, names: list[str]) -> list[bytes]:
    """The bytes of the named members of a .tar.gz, found by base name; nothing is extracted
    to disk, so a hostile archive cannot write outside the folder."""
    with tarfile.open(archive, "r:gz") as tar:
        members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
        missing = [n for n in names if n not in members]
        if missing:
            raise ValueError(f"CIFAR10: {archive} has no {', '.join(missing)}; is it "
                             "cifar-10-binary.tar.gz?")
        return [tar.extractfile(members[n]).read() for n in names]


# --------------------------------------------------------------------------- digits (bundled)


def digits(test_fraction: float = 0.2, seed: int = 0, flatten: bool = True):
    """scikit-learn's bundled 8x8 digits, split into ``(train, test)`` TensorDatasets.

    1,797 grey images of the digits 0-9 (16 grey levels, scaled here to float32 in [0, 1]),
    int64 labels. The split is stratified (each digit is split ``1 - test_fraction`` /
    ``test_fraction`` on its own, so both sides have the same class balance) and fixed by
    ``seed``: the same call returns the same split on every machine. With the defaults:
    1,438 training and 359 test samples.

    Args:
        test_fraction: the share of each class held out for testing.
        seed: seeds the split (a local NumPy generator: global random state is untouched).
        flatten: images as ``(N, 64)`` vectors (for an MLP), else ``(N, 1, 8, 8)`` (for a CNN).
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError(
            "digits() needs scikit-learn, which ships the 8x8 digits data set (no download). "
            "Install it with: pip install scikit-learn (or pip install -e '.[course]'). "
            "The framework itself does not depend on it."
        ) from None
    if not 0 < test_fraction < 1:
        raise ValueError(f"digits: test_fraction must be in (0, 1), got {test_fraction}")
    raw = load_digits()
    images = (raw.images / 16.0).astype(np.float32)  # (1797, 8, 8), pixel values 0..16
    labels = raw.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    test_idx = []
    for c in np.unique(labels):  # ten classes: a loop over classes, not samples
        idx = rng.permutation(np.flatnonzero(labels == c))
        test_idx.append(idx[:int(round(len(idx) * test_fraction))])
    test_idx = np.sort(np.concatenate(test_idx))
    train_mask = np.ones(len(labels), dtype=bool)
    train_mask[test_idx] = False
    train_idx = rng.permutation(np.flatnonzero(train_mask))
    test_idx = rng.permutation(test_idx)
    x = images.reshape(-1, 64) if flatten else images[:, None]
    return (TensorDataset(Tensor(x[train_idx]), Tensor(labels[train_idx])),
            TensorDataset(Tensor(x[test_idx]), Tensor(labels[test_idx])))

