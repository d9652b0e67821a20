"""Module 16 -- the digits experiments: pruning to 90% and distillation, measured.

One source for the two places that report module 16's targets on the digits MLP (issue 13):
the lab (``modules/16_compression/lab.py``, which also plots and explains) and the benchmark
(``benchmarks/compression.py``, which records three seeds in a committed results file).

* :func:`load_digits` -- the bundled digits, pixels standardized with *training* statistics;
* :func:`mlp`, :func:`train`, :func:`accuracy` -- an MLP 64-H-10, Adam on mini-batches (cross-
  entropy, or :func:`~tinytorch.optimization.distillation.distillation_loss` given a teacher),
  accuracy on the held-out split;
* :func:`prune_to` -- global magnitude pruning of every weight matrix up to a target sparsity
  (the amount is computed from the sparsity measured now, since a second prune acts on what is
  still alive);
* :func:`pruning_study` -- one-shot 90% vs gradual 50% -> 75% -> 90%, the same fine-tuning
  epochs either way, from copies of one trained teacher;
* :func:`mask_sparsity` -- sparsity counted from the ``*_mask`` buffers themselves;
* :func:`student_hidden`, :func:`distillation_study` -- a student with at most a quarter of the
  teacher's parameters, trained from the same initialisation and batch order twice: from the
  labels, and from the teacher.

The constants below are the recipe both use (the lab's quick mode shrinks them). Every
number is measured on the models at run time; nothing here prints.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.data import digits
from tinytorch.nn.utils import prune
from tinytorch.optimization import compression, distillation

# The recipe of the lab and the benchmark (issue 13 calibrates on a digits MLP 64-128/256-10).
TEACHER_HIDDEN = 256
TEACHER_EPOCHS = 20
FINETUNE = (3, 3, 9)  # gradual pruning: epochs after 50%, 75%, 90% (one-shot: their sum)
STUDENT_SHARE = 0.25  # the student's parameters, at most this share of the teacher's
STUDENT_EPOCHS = 40  # 20 left the distilled student 1.1-1.4 points short (benchmark notes)
TEMPERATURE, ALPHA = 4.0, 0.9

__all__ = ["TEACHER_HIDDEN", "TEACHER_EPOCHS", "FINETUNE", "STUDENT_SHARE", "STUDENT_EPOCHS",
           "TEMPERATURE", "ALPHA", "Digits", "load_digits", "mlp", "accuracy", "train", "prune_to", "mask_sparsity",
           "pruning_study", "student_hidden", "distillation_study"]


@dataclass
class Digits:
    """Standardized digits as arrays: ``x_*`` (N, 64) float32, ``y_*`` (N,) int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_digits(train_limit: int | None = None) -> Digits:
    """1,438 training and 359 held-out digits (``digits()``'s fixed split), standardized.

    Mean and spread come from the training digits only; ``+ 0.1`` on the spread keeps the
    blank border pixels (spread ~0) from being blown up. ``train_limit`` keeps the first
    digits only (the lab's quick mode).
    """
    train_set, test_set = digits()
    x_train, y_train = train_set.tensors[0].numpy(), train_set.tensors[1].numpy()
    x_test, y_test = test_set.tensors[0].numpy(), test_set.tensors[1].numpy()
    mu, sd = x_train.mean(axis=0), x_train.std(axis=0) + 0.1
    x_train, x_test = (x_train - mu) / sd, (x_test - mu) / sd
    if train_limit is not None:
        x_train, y_train = x_train[:train_limit], y_train[:train_limit]
    return Digits(x_train, y_train, x_test, y_test)


def mlp(hidden: int) -> nn.Sequential:
    """``Linear(64, hidden) -> ReLU -> Linear(hidden, 10)``: 75 * hidden + 10 parameters."""
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def accuracy(model, data: Digits) -> float:
    """Share of the held-out digits classified right (eval mode, no graph)."""
    model.eval()
    with tt.no_grad():
        pred = model(tt.tensor(data.x_test)).numpy().argmax(axis=1)
    model.train()
    return float(np.mean(pred == data.y_test))


def train(model, data: Digits, epochs: int, rng: np.random.Generator, lr: float = 2e-3,
          batch: int = 64, teacher=None, temperature: float = 4.0, alpha: float = 0.9):
    """Adam on shuffled mini-batches (order from ``rng``); returns ``model``.

    With a ``teacher``, the loss is ``distillation_loss(student, teacher, labels, temperature,
    alpha)``; the teacher only runs forward, under ``no_grad``.
    """
    opt = tt.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        order = rng.permutation(len(data.x_train))
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            xb, yb = tt.tensor(data.x_train[idx]), tt.tensor(data.y_train[idx])
            out = model(xb)
            if teacher is None:
                loss = F.cross_entropy(out, yb)
            else:
                with tt.no_grad():
                    soft = teacher(xb)
                loss = distillation.distillation_loss(out, soft, yb, temperature, alpha)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


def prune_to(model, target: float) -> None:
    """Global magnitude pruning of every weight matrix up to ``target`` sparsity.

    ``global_unstructured`` prunes a fraction of what is still alive, so from sparsity ``now``
    the amount is ``(target - now) / (1 - now)``: 50% -> 75% is 0.5, 75% -> 90% is 0.6.
    """
    now = compression.sparsity_report(model, weights_only=True).global_sparsity
    prune.global_unstructured(compression.prunable(model), pruning_method=prune.L1Unstructured,
                              amount=float((target - now) / (1 - now)))


def mask_sparsity(model) -> dict:
    """Zeros of the ``*_mask`` buffers: ``{"pruned", "total", "sparsity"}`` over all masks.

    Counted from the masks, not from the weights: a weight that happens to be 0 but is not
    masked would be pruned by nothing.
    """
    pruned = total = 0
    for name, buf in model.named_buffers():
        if name.endswith("_mask"):
            m = buf.numpy()
            pruned += int(np.count_nonzero(m == 0))
            total += int(m.size)
    return {"pruned": pruned, "total": total, "sparsity": pruned / total if total else 0.0}


def pruning_study(teacher, data: Digits, rng: np.random.Generator,
                  finetune: tuple = FINETUNE, target: float = 0.9) -> dict:
    """One-shot vs gradual pruning of copies of ``teacher`` to ``target`` sparsity.

    * one-shot: prune to ``target`` at once, fine-tune ``sum(finetune)`` epochs;
    * gradual: 50% -> 75% -> ``target``, fine-tuning ``finetune[i]`` epochs after step ``i``.

    Both fine-tunings draw their batch order from ``rng`` (one-shot first). Returns the dense
    accuracy, the one-shot accuracy right after the cut and after fine-tuning, the gradual
    ``curve`` (sparsity, accuracy) after every cut and every fine-tuning, both pruned models
    (``one_shot_model``, ``gradual_model``) and the gradual model's mask sparsity.
    """
    dense = accuracy(teacher, data)
    one = copy.deepcopy(teacher)
    prune_to(one, target)
    one_cut = accuracy(one, data)
    train(one, data, sum(finetune), rng)
    one_tuned = accuracy(one, data)

    grad = copy.deepcopy(teacher)
    curve = [(0.0, dense)]
    for step, epochs in zip((0.5, 0.75, target), finetune):
        prune_to(grad, step)
        curve.append((step, accuracy(grad, data)))  # right after the cut
        train(grad, data, epochs, rng)
        curve.append((step, accuracy(grad, data)))  # after fine-tuning
    return {"dense": dense, "one_shot_cut": one_cut, "one_shot_tuned": one_tuned,
            "gradual_tuned": curve[-1][1], "curve": curve, "one_shot_model": one,
            "gradual_model": grad, "one_shot_masks": mask_sparsity(one),
            "gradual_masks": mask_sparsity(grad)}


def student_hidden(teacher, share: float = STUDENT_SHARE, cap: int | None = None) -> int:
    """The widest ``mlp(h)`` with at most ``share`` of ``teacher``'s parameters (75h + 10 of
    them), or ``cap`` if smaller."""
    h = int((share * compression.count_parameters(teacher) - 10) // 75)
    return h if cap is None else min(h, cap)


def distillation_study(teacher, data: Digits, hidden: int, epochs: int, seed: int,
                       temperature: float = TEMPERATURE, alpha: float = ALPHA,
                       lr: float = 2e-3) -> dict:
    """A student ``mlp(hidden)`` trained twice from one initialisation and batch order
    (``seed``): from the labels (cross-entropy) and from ``teacher`` (distillation loss).

    Returns both accuracies, the teacher's, the parameter ratio student / teacher and both
    students (``plain_model``, ``distilled_model``).
    """
    tt.manual_seed(seed)
    plain = mlp(hidden)
    init = copy.deepcopy(plain)
    train(plain, data, epochs, np.random.default_rng(seed), lr=lr)
    distilled = train(init, data, epochs, np.random.default_rng(seed), lr=lr, teacher=teacher,
                      temperature=temperature, alpha=alpha)
    return {"teacher": accuracy(teacher, data), "plain": accuracy(plain, data),
            "distilled": accuracy(distilled, data),
            "student_params": compression.count_parameters(distilled),
            "teacher_params": compression.count_parameters(teacher),
            "params_ratio": compression.count_parameters(distilled)
            / compression.count_parameters(teacher),
            "plain_model": plain, "distilled_model": distilled}
