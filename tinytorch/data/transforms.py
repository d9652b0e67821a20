"""Module 08 -- transforms: small functions applied to each input before the model sees it.

Two jobs: **preprocessing** (convert bytes to floats, normalize each channel to mean 0 and
standard deviation 1) and **augmentation** (random flips and crops: the same picture seen
slightly differently each epoch, which fights overfitting for free).

Every transform here takes a Tensor or a NumPy array and returns a Tensor, and works on a
single sample or on a whole batch, so it can run inside the DataLoader's fast path:

* images are channels-first: one image is ``(C, H, W)`` (or ``(H, W)``), a batch is
  ``(N, C, H, W)``; random transforms draw independently for every image of a batch;
* flat feature vectors are ``(D,)`` or ``(N, D)``.

Randomness comes from a ``tt.Generator`` passed as ``generator=`` (default: the global one,
seeded by ``tt.manual_seed``).
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.tensor import Tensor
from tinytorch.data.dataloader import _numpy_rng

__all__ = ["Compose", "ToTensor", "Normalize", "Flatten", "Lambda", "RandomHorizontalFlip",
           "RandomCrop"]


def _array(x) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _as_batch(arr: np.ndarray, name: str):
    """View images as a batch ``(N, C, H, W)``; also return how to undo it."""
    if arr.ndim == 2:  # (H, W)
        return arr[None, None], lambda out: out[0, 0]
    if arr.ndim == 3:  # (C, H, W)
        return arr[None], lambda out: out[0]
    if arr.ndim == 4:  # (N, C, H, W)
        return arr, lambda out: out
    raise ValueError(f"{name}: expected an image (H, W) or (C, H, W), or a batch (N, C, H, W); "
                     f"got shape {arr.shape}")


class Compose:
    """Apply transforms one after the other: ``Compose([ToTensor(), Normalize(0.5, 0.5)])``."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class ToTensor:
    """Raw data -> float32 Tensor; ``uint8`` pixels (0..255) are scaled to [0, 1].

    Args:
        channels_last: the input is ``(..., H, W, C)`` (how image files store pixels); move the
            channels first, giving ``(..., C, H, W)`` as torchvision's ``ToTensor`` does. The
            readers in :mod:`tinytorch.data.datasets` already return channels first.
    """

    def __init__(self, channels_last: bool = False):
        self.channels_last = channels_last

    def __call__(self, x) -> Tensor:
        arr = _array(x)
        if self.channels_last:
            if arr.ndim < 3:
                raise ValueError(f"ToTensor(channels_last=True): expected (..., H, W, C), got "
                                 f"shape {arr.shape}")
            arr = np.moveaxis(arr, -1, -3)
        if arr.dtype == np.uint8:
            return Tensor(arr.astype(np.float32) / np.float32(255))
        return Tensor(arr.astype(np.float32, copy=False))

    def __repr__(self) -> str:
        return f"ToTensor(channels_last={self.channels_last})"


class Normalize:
    """``(x - mean) / std``, per channel.

    ``mean`` and ``std`` are numbers (the same for every value) or sequences of one value per
    channel. Channels are dimension -3 of images ``(C, H, W)`` / ``(N, C, H, W)``, and the last
    dimension of flat inputs ``(D,)`` / ``(N, D)``.
    """

    def __init__(self, mean, std):
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.asarray(std, dtype=np.float32)
        if np.any(self.std == 0):
            raise ValueError(f"Normalize: std must be non-zero, got {std}")

    def __call__(self, x) -> Tensor:
        arr = _array(x).astype(np.float32, copy=False)
        mean, std = self.mean, self.std
        if mean.ndim or std.ndim:
            c = max(mean.size, std.size)
            axis = -3 if arr.ndim >= 3 else -1
            if arr.shape[axis] != c:
                raise ValueError(f"Normalize: {c} channel statistics for an input of shape "
                                 f"{arr.shape}, whose channel dimension ({axis}) has "
                                 f"{arr.shape[axis]}")
            shape = (c, 1, 1) if axis == -3 else (c,)  # broadcasts against the channel axis
            mean = np.broadcast_to(mean.reshape(-1), (c,)).reshape(shape)
            std = np.broadcast_to(std.reshape(-1), (c,)).reshape(shape)
        return Tensor((arr - mean) / std)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class Flatten:
    """Flatten the last ``sample_dims`` dimensions: an image ``(C, H, W)`` becomes ``(C*H*W,)``
    and a batch ``(N, C, H, W)`` becomes ``(N, C*H*W)`` (for an MLP).

    Set ``sample_dims=2`` for images without a channel dimension, ``(H, W)`` / ``(N, H, W)``.
    """

    def __init__(self, sample_dims: int = 3):
        self.sample_dims = sample_dims

    def __call__(self, x) -> Tensor:
        arr = _array(x)
        if arr.ndim < self.sample_dims:
            raise ValueError(f"Flatten(sample_dims={self.sample_dims}): input of shape "
                             f"{arr.shape} has fewer dimensions")
        lead = arr.shape[:arr.ndim - self.sample_dims]
        return Tensor(arr.reshape(lead + (-1,)))

    def __repr__(self) -> str:
        return f"Flatten(sample_dims={self.sample_dims})"


class Lambda:
    """Wrap any function as a transform: ``Lambda(lambda x: x * 2)``."""

    def __init__(self, fn):
        if not callable(fn):
            raise TypeError(f"Lambda: expected a callable, got {type(fn).__name__}")
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)

    def __repr__(self) -> str:
        return f"Lambda({getattr(self.fn, '__name__', 'fn')})"


class RandomHorizontalFlip:
    """Mirror images left-right with probability ``p`` (each image of a batch on its own)."""

    def __init__(self, p: float = 0.5, generator=None):
        if not 0 <= p <= 1:
            raise ValueError(f"RandomHorizontalFlip: p must be in [0, 1], got {p}")
        self.p = p
        self.generator = generator

    def __call__(self, x) -> Tensor:
        batch, undo = _as_batch(_array(x), "RandomHorizontalFlip")
        flip = _numpy_rng(self.generator).random(batch.shape[0]) < self.p  # (N,)
        # flip the width axis of every image, keep the ones not chosen: one vectorized select
        out = np.where(flip[:, None, None, None], batch[..., ::-1], batch)
        return Tensor(undo(out))

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class RandomCrop:
    """Cut a random ``size`` window out of each image, after zero-padding its borders.

    Args:
        size: ``(h, w)`` of the crop, or one int for a square.
        padding: pixels of ``fill`` added on every side first (CIFAR's classic augmentation
            is ``RandomCrop(32, padding=4)``: shifts of up to 4 pixels in each direction).
        fill: the padding value.
        generator: the ``tt.Generator`` drawing the offsets.

    A batch ``(N, C, H, W)`` gets one offset per image, gathered in a single fancy-indexing
    step (no loop over the images).
    """

    def __init__(self, size, padding: int = 0, fill: float = 0, generator=None):
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.padding = int(padding)
        self.fill = fill
        self.generator = generator

    def __call__(self, x) -> Tensor:
        batch, undo = _as_batch(_array(x), "RandomCrop")
        p, (h, w) = self.padding, self.size
        if p:
            batch = np.pad(batch, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=self.fill)
        n, _, hp, wp = batch.shape
        if h > hp or w > wp:
            raise ValueError(f"RandomCrop: crop {self.size} is larger than the (padded) image "
                             f"{(hp, wp)}")
        rng = _numpy_rng(self.generator)
        top = rng.integers(0, hp - h + 1, size=n)  # (N,)
        left = rng.integers(0, wp - w + 1, size=n)
        rows = (top[:, None] + np.arange(h))[:, None, :, None]  # (N, 1, h, 1)
        cols = (left[:, None] + np.arange(w))[:, None, None, :]  # (N, 1, 1, w)
        imgs = np.arange(n)[:, None, None, None]  # (N, 1, 1, 1)
        chans = np.arange(batch.shape[1])[None, :, None, None]  # (1, C, 1, 1)
        out = batch[imgs, chans, rows, cols]  # broadcast to (N, C, h, w)
        return Tensor(undo(out))

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"
