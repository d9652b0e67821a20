"""``tinytorch.data`` (module 08): datasets, the DataLoader, transforms, real data sets.

PyTorch spreads these over ``torch.utils.data`` and ``torchvision``; here they share one home::

    from tinytorch.data import DataLoader, TensorDataset, digits
    train, test = digits()                          # bundled 8x8 digits, no download
    loader = DataLoader(train, batch_size=64, shuffle=True)
    for xb, yb in loader:                           # xb (64, 64) float32, yb (64,) int64
        ...

A face: it only re-exports what ``dataset.py``, ``dataloader.py``, ``transforms.py`` and
``datasets.py`` define.
"""

from tinytorch.data import transforms
from tinytorch.data.dataloader import (BatchSampler, DataLoader, RandomSampler, Sampler,
                                       SequentialSampler, SubsetRandomSampler, default_collate)
from tinytorch.data.dataset import Dataset, Subset, TensorDataset, TransformDataset, random_split
from tinytorch.data.compat import (ConcatDataset, IterableDataset, WeightedRandomSampler,
                                   get_worker_info)
from tinytorch.data.datasets import (CIFAR10, MNIST, ChecksumError, FashionMNIST, digits,
                                     file_digest, parse_cifar_binary, parse_idx, read_idx)
from tinytorch.data.transforms import (Compose, Flatten, Lambda, Normalize, RandomCrop,
                                       RandomHorizontalFlip, ToTensor)

__all__ = ["Dataset", "TensorDataset", "Subset", "TransformDataset", "random_split", "Sampler",
           "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler",
           "DataLoader", "default_collate", "transforms", "Compose", "ToTensor", "Normalize",
           "Flatten", "Lambda", "RandomHorizontalFlip", "RandomCrop", "digits", "MNIST",
           "FashionMNIST", "CIFAR10", "ChecksumError", "file_digest", "parse_idx", "read_idx",
           "parse_cifar_binary"]
__all__ += ["IterableDataset", "ConcatDataset", "WeightedRandomSampler", "get_worker_info"]
