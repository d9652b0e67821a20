"""Module 07 -- training: the loop every model runs, written once.

Every training run repeats the same few lines, and each of them is a place to get it subtly
wrong::

    for epoch in range(epochs):
        model.train()
        for x, y in train_loader:
            loss = loss_fn(model(x), y)       # forward
            optimizer.zero_grad()             # forget the last batch's gradients
            loss.backward()                   # compute new ones
            optimizer.step()                  # update the weights
        evaluate(model, val_loader)           # model.eval(), no_grad(): measure, don't learn

:class:`Trainer` is that loop plus what real runs need: gradient accumulation (a batch too big
for memory, taken in ``k`` pieces), gradient clipping, a learning-rate schedule stepped per
batch or per epoch, metrics, early stopping, a history of every number, progress bars and
checkpoints (``tt.save`` / ``tt.load``) to stop and resume.

A *loader* is anything that yields ``(x, y)`` batches and can be iterated once per epoch: a
list of tuples works (``DataLoader`` arrives in module 08).
"""

from __future__ import annotations

import math
import time

import numpy as np

from tinytorch.core.autograd import no_grad
from tinytorch.core.checkpoint import load, save
from tinytorch.core.creation import Generator, default_generator
from tinytorch.core.optimizers import clip_grad_norm_
from tinytorch.core.progress import ProgressBar
from tinytorch.core.tensor import Tensor

__all__ = ["Trainer", "accuracy"]


def accuracy(output, target) -> float:
    """Fraction of correct predictions.

    Multi-class (output ``(N, C)`` logits or probabilities, target ``(N,)`` class ids): the
    argmax of each row. Binary (output ``(N,)`` or ``(N, 1)`` logits, target 0/1): a positive
    logit predicts class 1 (for probabilities from a sigmoid, compare ``output - 0.5``).
    """
    out = output._data if isinstance(output, Tensor) else np.asarray(output)
    tgt = target._data if isinstance(target, Tensor) else np.asarray(target)
    if out.ndim >= 2 and out.shape[-1] > 1:
        pred = out.argmax(axis=-1)
    else:
        pred = (out.reshape(tgt.shape) > 0).astype(tgt.dtype)
    if pred.shape != tgt.shape:
        raise ValueError(f"accuracy: predictions of shape {pred.shape} (from outputs "
                         f"{out.shape}) do not match targets of shape {tgt.shape}")
    return float(np.mean(pred == tgt)) if tgt.size else 0.0


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _batch_size(x, y) -> int:
    for t in (y, x):
        shape = getattr(t, "shape", None)
        if shape:
            return int(shape[0])
    return 1


class Trainer:
    """Fit a model with an optimizer and a loss; evaluate it; checkpoint it.

    Args:
        model: an ``nn.Module``.
        optimizer: an optimizer over ``model.parameters()``.
        loss_fn: ``loss_fn(output, target)`` returning a scalar Tensor, the *mean* over the
            batch (``nn.CrossEntropyLoss()``, ``F.mse_loss``).
        scheduler: optional learning-rate scheduler, stepped per ``scheduler_step``.
        scheduler_step: ``"epoch"`` (after every epoch) or ``"step"`` (after every optimizer
            step, for warmup schedules measured in steps).
        grad_accum_steps: ``k``: accumulate the gradients of ``k`` batches, then step once.
            Each batch's loss is scaled by ``1/k``, so the step equals one step on a batch
            ``k`` times larger (with equal batch sizes and a mean loss).
        clip_grad_norm: if set, clip the total gradient norm to this before each step.
        metrics: ``{"accuracy": fn}``, each ``fn(output, target) -> float``, averaged over
            samples; reported as ``train_accuracy`` and ``val_accuracy`` in the history.
        progress: draw a progress bar per epoch (only on a terminal); ``"force"`` draws
            even when stderr is not a terminal; False never draws.
        health: the training-health coach (``tt.utils.health``): True warns, with the fix,
            when the loss stops falling or rises, gradients explode or vanish (per layer),
            ReLUs die, or parameters are missing from the optimizer; ``"quiet"`` only records
            them in ``trainer.health.issues``; False turns it off; or pass a configured
            ``HealthMonitor``.

    Attributes:
        history: ``{"train_loss": [...], "val_loss": [...], "lr": [...], ...}``, one entry per
            epoch, kept across ``fit`` calls and in checkpoints.
        epoch: number of epochs completed; ``global_step``: optimizer steps taken.
    """

    def __init__(self, model, optimizer, loss_fn, scheduler=None, scheduler_step: str = "epoch",
                 grad_accum_steps: int = 1, clip_grad_norm: float | None = None,
                 metrics: dict | None = None, progress=True, health=True):
        if scheduler_step not in ("epoch", "step"):
            raise ValueError(f"Trainer: scheduler_step must be 'epoch' or 'step', got "
                             f"{scheduler_step!r}")
        if not isinstance(grad_accum_steps, int) or grad_accum_steps < 1:
            raise ValueError(f"Trainer: grad_accum_steps must be a positive integer, got "
                             f"{grad_accum_steps!r}")
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.scheduler = scheduler
        self.scheduler_step = scheduler_step
        self.grad_accum_steps = grad_accum_steps
        self.clip_grad_norm = clip_grad_norm
        self.metrics = dict(metrics or {})
        self.progress = progress
        self.history: dict[str, list] = {}
        self.epoch = 0
        self.global_step = 0
        self.best_score = None
        self.best_epoch = None
        self.stopped_early = False
        self._train_loader = None  # the last loader fit() saw: its shuffling is checkpointed
        self._pending_loader_rng = None  # loader states from a checkpoint, for the next fit()
        from tinytorch.utils.health import monitor_for

        self.health = monitor_for(health, model, optimizer)  # None when health=False

    # ------------------------------------------------------------------ one epoch

    def _bar(self, loader, desc):
        total = len(loader) if hasattr(loader, "__len__") else None
        return ProgressBar(total=total, desc=desc, disable=not self.progress,
                           force=self.progress == "force")

    def _optimizer_step(self) -> None:
        """Clip, step, clear the gradients, and advance a per-step schedule."""
        if self.health is not None:  # gradient norms (before clipping), dead units
            self.health.check_step(self.global_step)
        if self.clip_grad_norm is not None:
            clip_grad_norm_(self.model.parameters(), self.clip_grad_norm)
        self.optimizer.step()
        self.optimizer.zero_grad()
        self.global_step += 1
        if self.scheduler is not None and self.scheduler_step == "step":
            self.scheduler.step()

    def train_epoch(self, loader, bar=None) -> dict:
        """One pass over ``loader`` in training mode; returns ``{"loss": .., <metric>: ..}``.

        Batches are grouped ``grad_accum_steps`` at a time: each batch's loss is divided by
        the size of its group before ``backward``, and the optimizer steps at the end of each
        group (a last, shorter group included, with its own size).
        """
        self.model.train()
        self.optimizer.zero_grad()
        k = self.grad_accum_steps
        n_batches = len(loader) if hasattr(loader, "__len__") else None
        totals = {name: 0.0 for name in ("loss", *self.metrics)}
        seen = 0
        pending = 0  # batches whose gradients are accumulated but not yet stepped
        for i, (x, y) in enumerate(loader):
            x, y = _tensor(x), _tensor(y)
            group_start = (i // k) * k
            group = k if n_batches is None else min(k, n_batches - group_start)
            # BEGIN SOLUTION
            output = self.model(x)
            loss = self.loss_fn(output, y)
            (loss * (1.0 / group)).backward()  # the average of the group's mean losses
            pending += 1
            if pending == group:
                self._optimizer_step()
                pending = 0
            # END SOLUTION
            b = _batch_size(x, y)
            value = float(loss.item())
            if not math.isfinite(value):
                raise FloatingPointError(
                    f"Trainer: the loss became {value} at epoch {self.epoch + 1}, batch {i}; "
                    "lower the learning rate, clip gradients (clip_grad_norm=1.0) or check the "
                    "data for nan/inf; tt.autograd.detect_anomaly() names the op that made it")
            totals["loss"] += value * b
            if self.health is not None:  # plateau or rising loss
                self.health.check_loss(value, self.global_step)
            with no_grad():
                for name, fn in self.metrics.items():
                    totals[name] += float(fn(output, y)) * b
            seen += b
            if bar is not None:
                bar.update(1, loss=totals["loss"] / seen)
        if pending:
            # an iterable without len() ended mid-group: its losses were scaled by 1/k, not
            # 1/pending; rescale so the step is still the average over the batches it saw
            for p in self.model.parameters():
                if p.grad is not None:
                    p.grad._data *= k / pending
            self._optimizer_step()
        if seen == 0:
            raise ValueError("Trainer: the training loader yielded no batches")
        return {name: total / seen for name, total in totals.items()}

    def evaluate(self, loader) -> dict:
        """Average loss and metrics over ``loader``: eval mode, no graph, weights unchanged.

        Returns ``{"loss": .., <metric>: ..}``, averaged over samples. The model goes back to
        the mode it was in (training, usually) afterwards.
        """
        was_training = self.model.training
        totals = {name: 0.0 for name in ("loss", *self.metrics)}
        seen = 0
        self.model.eval()
        try:
            # BEGIN SOLUTION
            with no_grad():
                for x, y in loader:
                    x, y = _tensor(x), _tensor(y)
                    output = self.model(x)
                    b = _batch_size(x, y)
                    totals["loss"] += float(self.loss_fn(output, y).item()) * b
                    for name, fn in self.metrics.items():
                        totals[name] += float(fn(output, y)) * b
                    seen += b
            # END SOLUTION
        finally:
            self.model.train(was_training)
        if seen == 0:
            raise ValueError("Trainer.evaluate: the loader yielded no batches")
        return {name: total / seen for name, total in totals.items()}

    # ------------------------------------------------------------------ the run

    def _is_improvement(self, score: float, monitor: str) -> bool:
        """True if ``score`` beats the best so far: lower for a loss, higher otherwise."""
        # BEGIN SOLUTION
        if self.best_score is None:
            return True
        return score < self.best_score if "loss" in monitor else score > self.best_score
        # END SOLUTION

    def _record(self, values: dict) -> None:
        for key, value in values.items():
            self.history.setdefault(key, []).append(value)

    def fit(self, train_loader, epochs: int, val_loader=None,
            early_stopping_patience: int | None = None, monitor: str = "val_loss") -> dict:
        """Train for ``epochs`` more epochs; return the history (per-epoch lists).

        Args:
            train_loader: iterable of ``(x, y)`` batches, iterated once per epoch.
            epochs: number of epochs to run (on top of any already done).
            val_loader: optional; evaluated after every epoch (``val_loss``, ``val_<metric>``).
            early_stopping_patience: stop when ``monitor`` has not improved for this many
                epochs in a row.
            monitor: history key watched by early stopping: lower is better when its name
                contains "loss" (``val_loss``), higher otherwise (``val_accuracy``).
        """
        if iter(train_loader) is train_loader and epochs > 1:
            raise TypeError("Trainer.fit: train_loader is an iterator, which is empty after the "
                            "first epoch; pass a list of batches or a DataLoader")
        if early_stopping_patience is not None:
            if monitor.startswith("val_") and val_loader is None:
                raise ValueError(f"Trainer.fit: early stopping monitors {monitor!r}, which needs "
                                 "a val_loader (or monitor a train_ metric)")
            names = {f"{p}_{m}" for p in ("train", "val") for m in ("loss", *self.metrics)}
            if monitor not in names:
                raise ValueError(f"Trainer.fit: cannot monitor {monitor!r}; choose one of "
                                 f"{sorted(names)}")
        self.stopped_early = False
        self._train_loader = train_loader
        if self._pending_loader_rng is not None:  # resuming: replay the loader's shuffling
            _set_generator_states(_loader_generators(train_loader), self._pending_loader_rng,
                                  "the train loader")
            self._pending_loader_rng = None
        waited = 0
        for _ in range(epochs):
            start = time.perf_counter()
            lr = self.optimizer.param_groups[0]["lr"]
            bar = self._bar(train_loader, f"epoch {self.epoch + 1}")
            if self.health is not None:
                self.health.attach()  # forward hooks on the ReLUs: dead units
            try:
                train = self.train_epoch(train_loader, bar)
                row = {f"train_{k}": v for k, v in train.items()}
                if val_loader is not None:
                    row.update({f"val_{k}": v for k, v in self.evaluate(val_loader).items()})
                    bar.set_postfix(**{k: v for k, v in row.items() if k.startswith("val_")})
            finally:
                bar.close()
                if self.health is not None:
                    self.health.close()
            self.epoch += 1
            if self.scheduler is not None and self.scheduler_step == "epoch":
                self.scheduler.step()
            row["lr"] = lr
            row["epoch_time"] = time.perf_counter() - start
            self._record(row)
            if early_stopping_patience is not None:
                score = row[monitor]
                if self._is_improvement(score, monitor):
                    self.best_score, self.best_epoch, waited = score, self.epoch, 0
                else:
                    waited += 1
                    if waited >= early_stopping_patience:
                        self.stopped_early = True
                        break
        return self.history

    def lr_find(self, loader, **kwargs):
        """Learning-rate range test on this model and optimizer; the model, optimizer and
        random state are restored afterwards. Returns an ``LRFindResult``:
        ``result.suggested_lr``, ``result.plot(path)``. See ``tt.utils.health.lr_find``."""
        from tinytorch.utils.health import lr_find

        return lr_find(self.model, self.optimizer, self.loss_fn, loader, **kwargs)

    # ------------------------------------------------------------------ checkpoints

    def state_dict(self) -> dict:
        """Everything needed to resume: model, optimizer, scheduler, counters, history, and
        the state of every random generator (so a resumed run is bit-identical)."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "epoch": self.epoch,
            "global_step": self.global_step,
            "best_score": self.best_score,
            "best_epoch": self.best_epoch,
            "history": self.history,
            "rng": self._rng_state(),
        }

    def _rng_state(self) -> dict:
        """Every random stream the run draws from, so a resumed run draws the same numbers.

        The global generator (initialisation, dropout, augmentation, shuffling by default),
        any ``tt.Generator`` a module keeps as an attribute, and the train loader's own
        generator (``DataLoader(..., generator=g)``). States are uint8 tensors (plain data).
        """
        return {
            "global": default_generator.get_state(),
            "modules": {name: g.get_state() for name, g in _module_generators(self.model)},
            "train_loader": [g.get_state() for g in _loader_generators(self._train_loader)],
        }

    def _load_rng_state(self, rng) -> None:
        default_generator.set_state(rng["global"])
        for name, g in _module_generators(self.model):
            if name in rng.get("modules", {}):
                g.set_state(rng["modules"][name])
        # the loader is not known until fit(): its states wait there
        self._pending_loader_rng = list(rng.get("train_loader") or []) or None

    def save_checkpoint(self, path, **extra) -> None:
        """Write :meth:`state_dict` (plus any ``extra`` metadata) to ``path`` atomically."""
        save({**self.state_dict(), "extra": extra}, path)

    def load_checkpoint(self, path) -> dict:
        """Restore a checkpoint written by :meth:`save_checkpoint`; return its ``extra`` dict.

        Build the Trainer with the same model architecture, optimizer and scheduler types
        first; then ``fit`` continues where the saved run stopped, drawing the same random
        numbers (global generator at once, the train loader's own generator at the next
        ``fit``) as the run that was never interrupted.
        """
        state = load(path)
        keys = state if isinstance(state, dict) else {}
        missing = [k for k in ("model", "optimizer", "epoch", "history") if k not in keys]
        if missing:
            raise ValueError(f"Trainer.load_checkpoint: {path} is a checkpoint but not a "
                             f"Trainer's (missing {missing}); was it written by "
                             "Trainer.save_checkpoint?")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.epoch = state["epoch"]
        self.global_step = state.get("global_step", 0)
        self.best_score = state.get("best_score")
        self.best_epoch = state.get("best_epoch")
        self.history = {k: list(v) for k, v in state["history"].items()}
        if state.get("rng") is not None:
            self._load_rng_state(state["rng"])
        return state.get("extra", {})


def _module_generators(model):
    """(dotted name, Generator) for every ``tt.Generator`` held as a module attribute."""
    for mname, m in model.named_modules():
        for attr, value in vars(m).items():
            if isinstance(value, Generator) and value is not default_generator:
                yield (f"{mname}.{attr}" if mname else attr), value


def _loader_generators(loader) -> list:
    """The distinct ``tt.Generator`` objects a DataLoader shuffles with (not the global one)."""
    found = []
    for obj in (loader, getattr(loader, "sampler", None),
                getattr(getattr(loader, "batch_sampler", None), "sampler", None)):
        g = getattr(obj, "generator", None)
        if isinstance(g, Generator) and g is not default_generator \
                and all(g is not f for f in found):
            found.append(g)
    return found


def _set_generator_states(generators, states, where) -> None:
    if len(generators) != len(states):
        raise ValueError(f"Trainer: the checkpoint has {len(states)} random generator state(s) "
                         f"for {where}, which has {len(generators)}; build the loader as the "
                         "saved run did (same generator= and sampler)")
    for g, st in zip(generators, states):
        g.set_state(st)
