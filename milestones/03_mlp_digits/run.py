"""Milestone 03 -- a multi-layer perceptron reads handwritten digits (Rumelhart, Hinton and
Williams, 1986).

"Learning representations by back-propagating errors" showed that gradient descent through
hidden layers learns useful internal features. Here the whole framework does it on real data:
scikit-learn's 1,797 bundled 8x8 digits (no download), a ``DataLoader`` with seeded shuffling,
a ``Normalize`` transform, an MLP 64-256-10, Adam with a cosine schedule, the ``Trainer`` loop,
and a held-out test set the model never trains on. Target: >= 97% test accuracy in under 30 s
on 2 cores (data loading included), 30 epochs; the run takes seconds, so the standard tier is
the full one. The quick tier trains 15 epochs and is held to its own >= 95%.

Needs modules 01-08.

    python milestones/03_mlp_digits/run.py --out runs/milestones/03_mlp_digits
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # milestones/, for common.py
import common  # noqa: E402

import numpy as np  # noqa: E402

import tinytorch as tt  # noqa: E402
import tinytorch.nn as nn  # noqa: E402
from tinytorch.core.training import Trainer, accuracy  # noqa: E402
from tinytorch.data import DataLoader, Normalize, TransformDataset, digits  # noqa: E402

NAME = "03_mlp_digits"
TITLE = "An MLP reads handwritten digits (Rumelhart, Hinton & Williams, 1986)"
TARGET_ACCURACY = 0.97
TARGET_SECONDS = 30.0
TIER_CONFIG = {"quick": {"epochs": 15}, "standard": {"epochs": 30}, "full": {"epochs": 30}}
TIER_TARGETS = {"quick": {"test accuracy": 0.95, "seconds": TARGET_SECONDS},
                "standard": {"test accuracy": TARGET_ACCURACY, "seconds": TARGET_SECONDS},
                "full": {"test accuracy": TARGET_ACCURACY, "seconds": TARGET_SECONDS}}


def add_arguments(parser):
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs (default 30; 15 with --quick)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam's learning rate")
    parser.add_argument("--hidden", type=int, default=256, help="hidden units")
    parser.add_argument("--label-smoothing", type=float, default=0.1)


def main(argv=None) -> dict:
    with common.Run(NAME, TITLE, argv, add_arguments) as run:
        a = run.args
        epochs = a.epochs or run.tiered(TIER_CONFIG)["epochs"]
        targets = run.tiered(TIER_TARGETS)

        run.stage("data: scikit-learn's bundled 8x8 digits, stratified 80/20 split (seed 0)")
        train_set, test_set = digits()
        x_train = train_set.tensors[0].numpy()
        # standardize each pixel with statistics of the training set only; +0.1 keeps the
        # always-blank border pixels (std 0) from being divided by zero
        normalize = Normalize(x_train.mean(axis=0), x_train.std(axis=0) + 0.1)
        train_loader = DataLoader(TransformDataset(train_set, normalize), batch_size=a.batch_size,
                                  shuffle=True, generator=tt.Generator().manual_seed(run.seed))
        test_loader = DataLoader(TransformDataset(test_set, normalize), batch_size=512)
        print(f"         {len(train_set)} training and {len(test_set)} test images; "
              f"{len(train_loader)} batches of {a.batch_size} per epoch")

        run.stage(f"model: MLP 64 -> {a.hidden} -> 10 (ReLU), Adam lr {a.lr} with a cosine "
                  f"schedule, cross-entropy with label smoothing {a.label_smoothing}")
        model = nn.Sequential(nn.Linear(64, a.hidden), nn.ReLU(), nn.Linear(a.hidden, 10))
        optimizer = tt.optim.Adam(model.parameters(), lr=a.lr)
        scheduler = tt.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
        trainer = Trainer(model, optimizer, nn.CrossEntropyLoss(label_smoothing=a.label_smoothing),
                          scheduler=scheduler, metrics={"accuracy": accuracy})
        n_params = sum(p.numel() for p in model.parameters())
        print(f"         {n_params:,} parameters")

        run.stage(f"training for {epochs} epochs")
        for epoch in range(1, epochs + 1):
            history = trainer.fit(train_loader, 1, val_loader=test_loader)
            if epoch == 1 or epoch % 5 == 0 or epoch == epochs:
                print(f"         epoch {epoch:3d}/{epochs}  train loss "
                      f"{history['train_loss'][-1]:.4f}  train acc "
                      f"{history['train_accuracy'][-1]:.2%}  test acc "
                      f"{history['val_accuracy'][-1]:.2%}  ({run.elapsed():.1f} s)", flush=True)

        run.stage("final evaluation on the held-out test set")
        model.eval()
        x_test, y_test = test_set.tensors
        with tt.no_grad():
            pred = model(normalize(x_test)).numpy().argmax(axis=1)
        test_acc = float(np.mean(pred == y_test.numpy()))
        seconds = run.elapsed()
        wrong = int(np.sum(pred != y_test.numpy()))
        print(f"         {len(y_test) - wrong} of {len(y_test)} test digits right ({wrong} wrong)")
        confusion = np.zeros((10, 10), dtype=np.int64)
        np.add.at(confusion, (y_test.numpy(), pred), 1)

        run.check("test accuracy", test_acc, ">=", targets["test accuracy"], "{:.2%}")
        run.check("seconds (data + training + evaluation)", seconds, "<", targets["seconds"],
                  "{:.1f}")

        h = trainer.history
        ep = list(range(1, epochs + 1))

        def draw_confusion(ax):
            ax.imshow(confusion, cmap="Blues")
            for i in range(10):
                for j in range(10):
                    if confusion[i, j]:
                        ax.text(j, i, str(confusion[i, j]), ha="center", va="center",
                                fontsize=6, color="white" if i == j else "black")
            ax.set_xticks(range(10))
            ax.set_yticks(range(10))

        run.plot([
            common.Panel("loss", {"train": (ep, h["train_loss"]), "test": (ep, h["val_loss"])},
                         title="cross-entropy (with label smoothing)"),
            common.Panel("accuracy", {"train": (ep, h["train_accuracy"]),
                                      "test": (ep, h["val_accuracy"])},
                         hline=targets["test accuracy"], title="accuracy per epoch"),
            common.Panel("true digit", {}, xlabel="predicted digit",
                         title="test confusion matrix", draw=draw_confusion),
        ])
        return run.finish({
            "test_accuracy": test_acc,
            "train_accuracy": h["train_accuracy"][-1],
            "train_seconds": round(float(np.sum(h["epoch_time"])), 3),
            "seconds_to_result": round(seconds, 3),
            "test_errors": wrong, "n_test": len(y_test), "n_train": len(train_set),
            "epochs": epochs, "parameters": n_params,
            "test_accuracy_per_epoch": h["val_accuracy"], "train_loss_per_epoch": h["train_loss"],
            "confusion_matrix": confusion,
        })


if __name__ == "__main__":
    sys.exit(0 if main()["passed"] else 1)
