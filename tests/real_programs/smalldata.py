"""Small local stand-ins for the torchvision pieces the real programs import.

The real programs download MNIST / FashionMNIST / CIFAR-10 through ``torchvision``; these
tests run offline and in seconds, so each program's ``from torchvision import ...`` line is
replaced by ``from smalldata import ...`` and nothing else. The classes keep torchvision's
shapes and call signatures (``datasets.MNIST(root, train=, download=, transform=)`` yielding
``(image, label)``; ``ToTensor`` gives a float (C, H, W) tensor in [0, 1]) but hold small data:
scikit-learn's 8x8 digits scaled up to 28x28, and CIFAR-shaped images drawn from a seeded
class-dependent pattern. Written against the ``torch`` API only, so it runs under PyTorch and
under tinytorch imported as ``torch`` alike.
"""

import numpy as np
import torch
from torch.utils.data import Dataset

N_TRAIN, N_TEST = 384, 256  # digits per split: enough to learn something, small enough for CPU


def _digits_28x28():
    """sklearn's 1,797 digits (8x8, 0..16) as uint8 28x28 images: 3x nearest upscale + 2 px pad."""
    from sklearn.datasets import load_digits

    d = load_digits()
    imgs = np.kron(d.images, np.ones((3, 3))) * (255.0 / 16.0)
    imgs = np.pad(imgs, ((0, 0), (2, 2), (2, 2))).astype(np.uint8)
    return imgs, d.target.astype(np.int64)


class ToTensor:
    """uint8 (H, W) or (H, W, C) array -> float32 tensor (C, H, W) in [0, 1], as torchvision."""

    def __call__(self, pic):
        a = np.asarray(pic, dtype=np.float32) / 255.0
        a = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
        return torch.tensor(np.ascontiguousarray(a))


class Normalize:
    def __init__(self, mean, std):
        self.mean, self.std = mean, std

    def __call__(self, t):
        mean = torch.tensor(self.mean, dtype=t.dtype).view(-1, 1, 1)
        std = torch.tensor(self.std, dtype=t.dtype).view(-1, 1, 1)
        return (t - mean) / std


class Compose:
    def __init__(self, ts):
        self.ts = ts

    def __call__(self, x):
        for t in self.ts:
            x = t(x)
        return x


class Lambda:
    def __init__(self, f):
        self.f = f

    def __call__(self, x):
        return self.f(x)


class transforms:  # noqa: N801 -- stands for the module torchvision.transforms
    ToTensor, Normalize, Compose, Lambda = ToTensor, Normalize, Compose, Lambda


class _ImageDataset(Dataset):
    def __init__(self, images, labels, transform=None, target_transform=None):
        self.data, self.targets = images, labels
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        img, label = self.data[i], int(self.targets[i])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return img, label


class MNIST(_ImageDataset):
    """torchvision.datasets.MNIST's signature; the images are sklearn digits at 28x28."""

    def __init__(self, root, train=True, download=False, transform=None, target_transform=None):
        imgs, labels = _digits_28x28()
        sl = slice(0, N_TRAIN) if train else slice(1797 - N_TEST, 1797)
        super().__init__(imgs[sl], labels[sl], transform, target_transform)


FashionMNIST = MNIST


class CIFAR10(_ImageDataset):
    """torchvision.datasets.CIFAR10's signature; 32x32x3 uint8 images whose colour and stripe
    direction depend on the class (plus noise), so a small network can learn them."""

    def __init__(self, root, train=True, download=False, transform=None, n=None):
        n = n or (256 if train else 128)
        rng = np.random.default_rng(0 if train else 1)
        labels = rng.integers(0, 10, n)
        yy, xx = np.mgrid[0:32, 0:32]
        imgs = np.empty((n, 32, 32, 3), np.float64)
        for i, c in enumerate(labels):
            stripes = np.sin((xx if c % 2 else yy) * (0.3 + 0.1 * (c // 2)))
            colour = np.array([c % 3, (c // 3) % 3, c % 4], np.float64) / 3.0
            noise = 0.15 * rng.standard_normal((32, 32, 3))
            imgs[i] = 0.5 + 0.25 * stripes[..., None] * colour + noise
        super().__init__((np.clip(imgs, 0, 1) * 255).astype(np.uint8), labels, transform)


class datasets:  # noqa: N801 -- stands for the module torchvision.datasets
    MNIST, FashionMNIST, CIFAR10 = MNIST, FashionMNIST, CIFAR10


def save_image(tensor, path, nrow=8):
    """torchvision.utils.save_image without an image library: writes the array as .npy."""
    np.save(str(path) + ".npy", tensor.detach().cpu().numpy())
