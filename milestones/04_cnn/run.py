"""Milestone 04 -- a convolutional network reads handwritten digits (LeCun, Bottou, Bengio and
Haffner, 1998).

"Gradient-based learning applied to document recognition" trained LeNet-5 -- convolution,
subsampling, convolution, subsampling, a small classifier -- end to end with backpropagation,
and read cheques for the US banking system. Here the same idea runs on your framework: a
LeNet-style CNN (LeNet's conv -> pool -> conv -> pool -> classifier, with today's 3x3 filters,
batch norm, ReLU and max-pooling) on scikit-learn's bundled 8x8 digits, with random one-pixel
shifts as augmentation, AdamW, label smoothing and a cosine schedule.

Targets on the 359 held-out test digits, per tier (``TIER_TARGETS``): full (``--full``, 30
epochs, the historical run) >= 98.5% (at most 5 mistakes) in under 60 s on 2 cores, data
loading included; standard (the default, 15 epochs) >= 98.0% in under 60 s; quick (4 epochs,
a smoke run) >= 93%. In every tier every convolution weight must be trained (its gradient is
non-zero and it moved). Besides ``metrics.json`` and ``curves.png`` the run draws
``filters.png`` (the learned first-layer filters) and ``feature_maps.png`` (what the first
two convolution blocks see in one test digit).

The same script trains on MNIST or CIFAR-10 when you have the files (nothing is downloaded):

    python milestones/04_cnn/run.py                                   # digits, standard
    python milestones/04_cnn/run.py --full                            # digits, 30 epochs
    python milestones/04_cnn/run.py --data ~/data/mnist --dataset mnist --epochs 3
    python milestones/04_cnn/run.py --data ~/data/cifar --dataset cifar10 --epochs 10

Needs modules 01-09.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # milestones/, for common.py
import common  # noqa: E402

import numpy as np  # noqa: E402

import tinytorch as tt  # noqa: E402
import tinytorch.nn as nn  # noqa: E402
from tinytorch.core.training import Trainer, accuracy  # noqa: E402
from tinytorch.data import (CIFAR10, MNIST, ChecksumError, Compose, DataLoader,  # noqa: E402
                            RandomCrop, RandomHorizontalFlip, TransformDataset, digits)

NAME = "04_cnn"
TITLE = "A convolutional network reads handwritten digits (LeCun et al., 1998)"
TARGET_SECONDS = 60.0
# the digits target is the issue's; MNIST's is LeNet-5's own 1998 result (99.05%); CIFAR-10's
# is a modest bar for a network this small trained for minutes on a CPU
TARGETS = {"digits": 0.985, "mnist": 0.99, "cifar10": 0.75}
# the bundled digits per tier: epochs and targets (MNIST and CIFAR-10 keep TARGETS in every
# tier; their epochs are 1 with --quick, else 3 and 10)
TIER_CONFIG = {"quick": {"epochs": 4}, "standard": {"epochs": 15}, "full": {"epochs": 30}}
TIER_TARGETS = {"quick": {"test accuracy": 0.93, "seconds": TARGET_SECONDS},
                "standard": {"test accuracy": 0.98, "seconds": TARGET_SECONDS},
                "full": {"test accuracy": TARGETS["digits"], "seconds": TARGET_SECONDS}}

HOW_TO_GET = {
    "mnist": (
        "MNIST: download the four files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,\n"
        "  t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz from\n"
        "  https://ossci-datasets.s3.amazonaws.com/mnist/ (a mirror of yann.lecun.com/exdb/mnist)\n"
        "  into one folder, e.g.\n"
        "    mkdir -p ~/data/mnist && cd ~/data/mnist && for f in train-images-idx3-ubyte \\\n"
        "      train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do\n"
        "      curl -O https://ossci-datasets.s3.amazonaws.com/mnist/$f.gz; done\n"
        "  then pass --data ~/data/mnist --dataset mnist. Keep them gzipped: their MD5s are\n"
        "  checked."
    ),
    "cifar10": (
        "CIFAR-10: download the *binary version* cifar-10-binary.tar.gz (162 MB) from\n"
        "  https://www.cs.toronto.edu/~kriz/cifar.html into a folder, e.g.\n"
        "    mkdir -p ~/data/cifar && cd ~/data/cifar && \\\n"
        "      curl -O https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz\n"
        "  then pass --data ~/data/cifar --dataset cifar10 (the archive is read without\n"
        "  unpacking; an unpacked cifar-10-batches-bin/ folder works too). Not the python\n"
        "  version: its batches are pickles, which tinytorch never loads."
    ),
}


def add_arguments(parser):
    parser.add_argument("--dataset", choices=["digits", "mnist", "cifar10"], default=None,
                        help="digits (bundled, the default), or mnist / cifar10 with --data")
    parser.add_argument("--data", type=Path, default=None,
                        help="folder holding the MNIST or CIFAR-10 files (see --dataset)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs (digits: 15, 30 with --full, 4 with --quick; "
                             "mnist: 3; cifar10: 10)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3, help="AdamW's peak learning rate")
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--width", type=int, default=32,
                        help="channels of the first two convolutions (the third has twice)")
    parser.add_argument("--limit", type=int, default=None,
                        help="train on the first N images only (mnist / cifar10 smoke runs)")
    parser.add_argument("--no-verify", action="store_true",
                        help="skip the checksums of the MNIST / CIFAR-10 files")


# --------------------------------------------------------------------------- the network


def lenet(in_channels: int, image_size: int, width: int = 32, classes: int = 10):
    """LeNet-style CNN: two convolution stages, each ending in a 2x2 max-pool, then a linear
    classifier. For a 1x8x8 digit: 1x8x8 -> 32x8x8 -> 32x8x8 -> pool 32x4x4 -> 64x4x4 ->
    pool 64x2x2 -> 256 features -> 10 logits.

    Batch norm after each convolution keeps every channel's activations centred and scaled,
    so the network trains quickly at a high learning rate (module 09).
    """
    side = image_size // 4  # two 2x2 poolings
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(in_channels, width, 3, padding=1)), ("bn1", nn.BatchNorm2d(width)),
        ("relu1", nn.ReLU()),
        ("conv2", nn.Conv2d(width, width, 3, padding=1)), ("bn2", nn.BatchNorm2d(width)),
        ("relu2", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
        ("conv3", nn.Conv2d(width, 2 * width, 3, padding=1)),
        ("bn3", nn.BatchNorm2d(2 * width)), ("relu3", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(2 * width * side * side, classes)),
    ]))


def conv_layers(model) -> dict:
    return {name: m for name, m in model.named_children() if isinstance(m, nn.Conv2d)}


# --------------------------------------------------------------------------- data


def load_data(args, seed: int):
    """(train dataset with augmentation, test dataset, image shape, class names)."""
    dataset = args.dataset or ("digits" if args.data is None else None)
    if dataset is None:
        raise SystemExit("04_cnn: --data needs --dataset mnist or --dataset cifar10")
    if dataset != "digits" and args.data is None:
        raise SystemExit(f"04_cnn: --dataset {dataset} needs --data DIR, the folder with the "
                         f"files.\n{HOW_TO_GET[dataset]}")
    gen = tt.Generator().manual_seed(seed + 1)
    if dataset == "digits":
        train, test = digits(flatten=False)  # (N, 1, 8, 8) in [0, 1]
        # a random shift of up to one pixel in each direction: 9 versions of every digit
        return dataset, TransformDataset(train, RandomCrop(8, padding=1, generator=gen)), test, \
            (1, 8, 8), [str(i) for i in range(10)]
    reader = MNIST if dataset == "mnist" else CIFAR10
    try:
        train = reader(args.data, train=True, verify=not args.no_verify)
        test = reader(args.data, train=False, verify=not args.no_verify)
    except FileNotFoundError as e:
        raise SystemExit(f"04_cnn: {e}\n\nHow to get the files:\n{HOW_TO_GET[dataset]}") from None
    except ChecksumError as e:
        raise SystemExit(f"04_cnn: {e}\n(on the command line: --no-verify)\n\n"
                         f"How to get the official files:\n{HOW_TO_GET[dataset]}") from None
    if args.limit:
        train.data, train.targets = train.data[:args.limit], train.targets[:args.limit]
    if dataset == "mnist":
        train.transform = RandomCrop(28, padding=2, generator=gen)
        shape = (1, 28, 28)
    else:  # CIFAR's classic augmentation: shifts of up to 4 pixels and mirror images
        train.transform = Compose([RandomCrop(32, padding=4, generator=gen),
                                   RandomHorizontalFlip(generator=gen)])
        shape = (3, 32, 32)
    return dataset, train, test, shape, list(train.classes)


# --------------------------------------------------------------------------- pictures


def draw_filters(model, path: Path) -> None:
    """The first layer's filters: each (C, 3, 3) kernel as a small image."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w = model.conv1.weight.numpy()  # (out, in, 3, 3)
    n = w.shape[0]
    cols = 8
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.2 + 0.5))
    for k, ax in enumerate(np.ravel(axes)):
        ax.axis("off")
        if k >= n:
            continue
        if w.shape[1] == 3:  # colour filters: scale each to [0, 1] and show as RGB
            f = w[k].transpose(1, 2, 0)
            f = (f - f.min()) / (np.ptp(f) + 1e-12)
            ax.imshow(f, interpolation="nearest")
        else:
            lim = np.abs(w[k, 0]).max()
            ax.imshow(w[k, 0], cmap="bwr", vmin=-lim, vmax=lim, interpolation="nearest")
        ax.set_title(str(k), fontsize=7)
    fig.suptitle("learned first-layer filters (conv1; red positive, blue negative)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def draw_feature_maps(model, image: np.ndarray, label: str, path: Path, n_maps: int = 8) -> None:
    """One test image and what the first two convolution blocks make of it (after ReLU)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model.eval()
    with tt.no_grad():
        h1 = model.relu1(model.bn1(model.conv1(tt.tensor(image[None]))))
        h2 = model.relu2(model.bn2(model.conv2(h1)))
    n_maps = min(n_maps, h1.shape[1])
    maps = [("input", image), *[(f"conv1 #{k}", h1.numpy()[0, k]) for k in range(n_maps)],
            *[(f"conv2 #{k}", h2.numpy()[0, k]) for k in range(n_maps)]]
    cols = n_maps + 1
    fig, axes = plt.subplots(2, cols, figsize=(cols * 1.1, 2.9))
    for r in range(2):
        for c in range(cols):
            ax = axes[r, c]
            ax.axis("off")
            if c == 0 and r == 0:
                img = image.transpose(1, 2, 0) if image.shape[0] == 3 else image[0]
                ax.imshow(img, cmap=None if image.shape[0] == 3 else "gray_r",
                          interpolation="nearest")
                ax.set_title(f"digit {label}" if image.shape[0] == 1 else label, fontsize=7)
            elif c > 0:
                title, m = maps[1 + (c - 1) + r * n_maps]
                ax.imshow(m, cmap="viridis", interpolation="nearest")
                ax.set_title(title, fontsize=5)
    fig.suptitle(f"feature maps of one test image: conv1 block (top), conv2 block (bottom), "
                 f"first {n_maps} channels each", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --------------------------------------------------------------------------- the run


def main(argv=None) -> dict:
    with common.Run(NAME, TITLE, argv, add_arguments) as run:
        a = run.args
        dataset, train_set, test_set, shape, classes = load_data(a, run.seed)
        default_epochs = {"digits": run.tiered(TIER_CONFIG)["epochs"],
                          "mnist": 1 if run.quick else 3,
                          "cifar10": 1 if run.quick else 10}[dataset]
        epochs = a.epochs or default_epochs
        target = (run.tiered(TIER_TARGETS)["test accuracy"] if dataset == "digits"
                  else TARGETS[dataset])
        run.stage(f"data: {dataset}, {len(train_set)} training and {len(test_set)} test images "
                  f"of shape {shape}")
        train_loader = DataLoader(train_set, batch_size=a.batch_size, shuffle=True,
                                  generator=tt.Generator().manual_seed(run.seed))
        test_loader = DataLoader(test_set, batch_size=500)

        model = lenet(shape[0], shape[1], a.width, len(classes))
        n_params = sum(p.numel() for p in model.parameters())
        steps = epochs * len(train_loader)
        optimizer = tt.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
        scheduler = tt.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
        trainer = Trainer(model, optimizer, nn.CrossEntropyLoss(label_smoothing=a.label_smoothing),
                          scheduler=scheduler, scheduler_step="step",
                          metrics={"accuracy": accuracy})
        run.stage(f"model: LeNet-style CNN, {n_params:,} parameters; AdamW lr {a.lr} "
                  f"(cosine over {steps} steps), weight decay {a.weight_decay}, label "
                  f"smoothing {a.label_smoothing}")
        print("         " + str(model).replace("\n", "\n         "))

        # Evidence that the convolutions learn: their gradients on a first batch, and a copy
        # of their weights to compare with after training.
        convs = conv_layers(model)
        before = {name: m.weight.numpy().copy() for name, m in convs.items()}
        xb, yb = next(iter(train_loader))
        model.zero_grad()
        nn.CrossEntropyLoss()(model(xb), yb).backward()
        first_grad = {name: {"weight_grad_norm": float(np.linalg.norm(m.weight.grad.numpy())),
                             "weight_grad_nonzero_fraction":
                                 float(np.mean(m.weight.grad.numpy() != 0))}
                      for name, m in convs.items()}
        model.zero_grad()

        run.stage(f"training for {epochs} epochs of {len(train_loader)} batches")
        for epoch in range(1, epochs + 1):
            h = trainer.fit(train_loader, 1, val_loader=test_loader)
            if epoch == 1 or epoch % 5 == 0 or epoch == epochs:
                print(f"         epoch {epoch:3d}/{epochs}  train loss {h['train_loss'][-1]:.4f}"
                      f"  train acc {h['train_accuracy'][-1]:.2%}  test acc "
                      f"{h['val_accuracy'][-1]:.2%}  ({run.elapsed():.1f} s)", flush=True)

        run.stage("final evaluation on the held-out test set")
        model.eval()
        preds, labels = [], []
        with tt.no_grad():
            for x, y in test_loader:
                preds.append(model(x).numpy().argmax(axis=1))
                labels.append(y.numpy())
        pred, y_test = np.concatenate(preds), np.concatenate(labels)
        test_acc = float(np.mean(pred == y_test))
        wrong = int(np.sum(pred != y_test))
        seconds = run.elapsed()
        print(f"         {len(y_test) - wrong} of {len(y_test)} test images right ({wrong} wrong)")

        moved = {name: float(np.mean(m.weight.numpy() != before[name])) for name, m in convs.items()}
        change = {name: float(np.linalg.norm(m.weight.numpy() - before[name])
                              / np.linalg.norm(before[name])) for name, m in convs.items()}
        trained_fraction = min(min(moved.values()),
                               min(g["weight_grad_nonzero_fraction"] for g in first_grad.values()))
        for name in convs:
            grad_norm = first_grad[name]["weight_grad_norm"]
            print(f"         {name}: first-batch |grad| {grad_norm:.3g}, "
                  f"{moved[name]:.0%} of weights moved, relative change {change[name]:.2f}")

        run.check("test accuracy", test_acc, ">=", target, "{:.2%}")
        if dataset == "digits":
            run.check("seconds (data + training + evaluation)", seconds, "<",
                      run.tiered(TIER_TARGETS)["seconds"], "{:.1f}")
        run.check("conv weights trained (grad non-zero and moved)", trained_fraction, ">=", 1.0,
                  "{:.0%}")

        hist = trainer.history
        ep = list(range(1, epochs + 1))
        run.plot([
            common.Panel("loss", {"train": (ep, hist["train_loss"]),
                                  "test": (ep, hist["val_loss"])},
                         title="cross-entropy (with label smoothing)"),
            common.Panel("accuracy", {"train": (ep, hist["train_accuracy"]),
                                      "test": (ep, hist["val_accuracy"])},
                         hline=target, title="accuracy per epoch"),
        ])
        filters_png, maps_png = run.out / "filters.png", run.out / "feature_maps.png"
        draw_filters(model, filters_png)
        image, label = test_set[0]
        draw_feature_maps(model, np.asarray(image.numpy()), classes[int(label.item())], maps_png)

        return run.finish({
            "dataset": dataset,
            "test_accuracy": test_acc,
            "test_errors": wrong, "n_test": int(len(y_test)), "n_train": len(train_set),
            "train_accuracy": hist["train_accuracy"][-1],
            "seconds_to_result": round(seconds, 3),
            "train_seconds": round(float(np.sum(hist["epoch_time"])), 3),
            "epochs": epochs, "parameters": n_params,
            "conv_first_batch_grad": first_grad,
            "conv_weights_moved_fraction": moved,
            "conv_weights_relative_change": change,
            "test_accuracy_per_epoch": hist["val_accuracy"],
            "train_loss_per_epoch": hist["train_loss"],
        }, extra={"filters_plot": filters_png.name, "feature_maps_plot": maps_png.name})


if __name__ == "__main__":
    sys.exit(0 if main()["passed"] else 1)
