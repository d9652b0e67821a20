"""A training-health coach: warnings, with the fix, for the ways a training run goes wrong.

A run that fails rarely crashes. The loss turns nan, or sits at ``ln(10)`` for an hour, or
creeps up; a layer's gradients blow up or fade to nothing; half the ReLUs stop firing and never
come back. :class:`HealthMonitor` watches for each of these and says, in one warning, which
layer, what it measured, the threshold it crossed, and what to do::

    monitor = tt.utils.health.HealthMonitor(model, optimizer)
    for step, (x, y) in enumerate(loader):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        monitor.check(loss, step)        # after backward, before step: it reads the gradients
        optimizer.step()
    monitor.close()                      # removes its forward hooks (or use it in a `with`)

``Trainer`` runs one for you (``Trainer(..., health=True)``, the default; ``"quiet"`` records
``trainer.health.issues`` without warning; ``False`` turns it off). The checks:

========================  ===============================================================
``nonfinite_loss``        the loss is nan or inf
``plateau``               the loss fell by less than ``plateau_tol`` (relative) between the
                          two halves of the last ``plateau_window`` steps, and is still
                          within ``plateau_progress`` of its start (later flat stretches
                          are convergence: no warning)
``rising_loss``           the second half's mean is ``rising_factor`` times the first's
``exploding_grad``        a layer's gradient norm is above ``explode_norm`` (or inf)
``nonfinite_grad``        a layer's gradient is nan while the loss is finite
``vanishing_grad``        a layer's gradient norm is below ``vanish_ratio`` times the largest
                          layer's (0 included: no gradient reaches it)
``dead_relu``             over at least ``dead_min_samples`` samples, more than
                          ``dead_fraction`` of an ``nn.ReLU``'s units were never positive
``not_optimized``         a parameter of the model is not in the optimizer
(``lr_find``)             :func:`lr_find` suggests a learning rate ``lr_factor`` times away
                          from the optimizer's (a warning of the range test, not a monitor
                          check: run it before training)
========================  ===============================================================

Each warning is a :class:`TrainingHealthWarning` (filter them with
``warnings.filterwarnings("ignore", category=TrainingHealthWarning)``), given once per check and
layer per monitor; that first finding is also kept in ``monitor.issues`` as an :class:`Issue`,
and ``monitor.counts[(kind, layer)]`` says how many checks found it since.
Dead units are seen through forward hooks on ``nn.ReLU`` modules (a ``F.relu`` call inside a
``forward`` has no module to hook); a unit is a feature of a ``(N, F)`` output, a channel of
a ``(N, C, ...)`` one.

For the op that made a nan, see ``tt.autograd.detect_anomaly()``.
"""

from __future__ import annotations

import copy
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

__all__ = ["TrainingHealthWarning", "Issue", "HealthMonitor", "check", "lr_find",
           "LRFindResult", "grad_norms", "monitor_for"]


class TrainingHealthWarning(UserWarning):
    """A training run looks unhealthy; the message says what was measured and what to do."""


@dataclass
class Issue:
    """One finding: ``kind`` (see the module docstring), the layer (or None for the whole
    model), the measured value, the threshold it crossed, the step, and the full message."""

    kind: str
    layer: str | None
    value: float
    threshold: float
    step: int | None
    message: str


def _loss_value(loss) -> float:
    if hasattr(loss, "item"):
        return float(loss.item())
    return float(loss)


def _layer_of(param_name: str) -> str:
    """``"net.0.weight"`` -> ``"net.0"``; a parameter of the root module -> ``"(model)"``."""
    return param_name.rpartition(".")[0] or "(model)"


def grad_norms(model) -> dict:
    """``{layer name: L2 norm of all its parameters' gradients}`` (float64), in model order.

    Parameters without ``.grad`` are left out; a layer whose parameters all lack one is absent.
    """
    sq: dict[str, float] = {}
    for name, p in model.named_parameters():
        if p.grad is None:
            continue
        g = np.asarray(p.grad._data, dtype=np.float64)
        sq[_layer_of(name)] = sq.get(_layer_of(name), 0.0) + float(np.sum(g * g))
    return {layer: math.sqrt(s) if math.isfinite(s) else s for layer, s in sq.items()}


class HealthMonitor:
    """Watch a training run; warn (``TrainingHealthWarning``) with the fix when it goes wrong.

    Args:
        model: the ``nn.Module`` being trained (its ``nn.ReLU`` modules get a forward hook).
        optimizer: optional; lets the monitor name the learning rate and find parameters the
            optimizer does not update.
        warn: False records ``issues`` without warning (Trainer's ``health="quiet"``).
        grad_every: check gradients and dead units every this many calls (the loss: always).
        plateau_window, plateau_tol, plateau_progress, rising_factor: the loss checks (see
            the module table).
        explode_norm, vanish_ratio: the per-layer gradient-norm thresholds.
        dead_fraction, dead_min_samples: the dead-ReLU check.
    """

    def __init__(self, model, optimizer=None, *, warn: bool = True, grad_every: int = 10,
                 plateau_window: int = 100, plateau_tol: float = 0.01,
                 plateau_progress: float = 0.1,
                 rising_factor: float = 1.5, explode_norm: float = 1e3,
                 vanish_ratio: float = 1e-5, dead_fraction: float = 0.5,
                 dead_min_samples: int = 64):
        if plateau_window < 4 or plateau_window % 2:
            raise ValueError(f"HealthMonitor: plateau_window must be an even number >= 4, got "
                             f"{plateau_window}")
        self.model = model
        self.optimizer = optimizer
        self.warn = warn
        self.grad_every = max(1, int(grad_every))
        self.plateau_window = plateau_window
        self.plateau_tol = plateau_tol
        self.plateau_progress = plateau_progress
        self.rising_factor = rising_factor
        self.explode_norm = explode_norm
        self.vanish_ratio = vanish_ratio
        self.dead_fraction = dead_fraction
        self.dead_min_samples = dead_min_samples
        self.issues: list[Issue] = []  # the first finding of each (kind, layer)
        self.counts: dict = {}  # (kind, layer) -> how many checks found it
        self.losses: list[float] = []  # finite losses seen (the recent ones in a long run)
        self._calls = 0
        self._handles = []
        self._active: dict = {}  # (ReLU name, units) -> [ever-positive per unit, samples]
        self._start = None  # mean loss of the first plateau_window / 2 steps
        self._checked_optimizer = False
        self._finite_loss = None  # this check()'s loss was finite (None: not given)

    # ------------------------------------------------------------------ plumbing

    def attach(self) -> "HealthMonitor":
        """Put a forward hook on every ``nn.ReLU`` of the model (done by ``check`` too)."""
        if self._handles:
            return self
        from tinytorch.core.activations import ReLU

        for name, m in self.model.named_modules():
            if type(m) is ReLU:
                self._handles.append(m.register_forward_hook(self._relu_hook(name or "(model)")))
        return self

    def close(self) -> None:
        """Remove the forward hooks (findings and unit counts stay, for the next attach)."""
        for h in self._handles:
            h.remove()
        self._handles = []

    def __enter__(self):
        return self.attach()

    def __exit__(self, *exc):
        self.close()
        return False

    def _relu_hook(self, name):
        def hook(module, args, output):
            if not module.training:
                return None
            out = output._data
            if out.ndim < 2:  # one sample of (F,)
                out, n = out[None], 1
            else:
                n = out.shape[0]
            axes = tuple(a for a in range(out.ndim) if a != 1)  # unit: feature or channel
            fired = (out > 0).any(axis=axes)
            key = (name, fired.shape)  # one ReLU module reused at several widths: each apart
            rec = self._active.get(key)
            if rec is None:
                self._active[key] = [fired, n]
            else:
                rec[0] |= fired
                rec[1] += n
            return None

        return hook

    def _report(self, kind, layer, value, threshold, step, message) -> None:
        key = (kind, layer)
        self.counts[key] = self.counts.get(key, 0) + 1
        if self.counts[key] > 1:
            return  # said once; counted, so a long run's list stays short
        self.issues.append(Issue(kind, layer, float(value), float(threshold), step, message))
        if self.warn:
            warnings.warn(message, TrainingHealthWarning, stacklevel=4)

    def _lr(self) -> str:
        if self.optimizer is None:
            return "the learning rate"
        return f"the learning rate (now {self.optimizer.param_groups[0]['lr']:g})"

    # ------------------------------------------------------------------ the checks

    def check(self, loss=None, step: int | None = None) -> list:
        """Record ``loss`` and run the checks due; returns the new issues (first findings).

        Call it after ``loss.backward()`` and before ``optimizer.step()`` / ``zero_grad()``:
        the gradient checks read ``.grad``. ``loss`` may be a Tensor, a float, or None.
        """
        self.attach()
        start = len(self.issues)
        step = self._calls if step is None else step
        finite = None
        if loss is not None:
            self.check_loss(loss, step)
            finite = math.isfinite(_loss_value(loss))
        self.check_step(step, finite)
        return self.issues[start:]

    def check_step(self, step: int | None = None, finite_loss: bool | None = None) -> None:
        """The gradient and dead-unit checks, every ``grad_every`` calls (no hooks attached:
        ``Trainer`` attaches them for the length of ``fit``). Skipped when the loss was not
        finite: its gradients say nothing more."""
        self._finite_loss = finite_loss
        if finite_loss is not False and self._calls % self.grad_every == 0:
            self.check_gradients(step)
            self.check_dead_units(step)
        self._calls += 1

    def check_loss(self, loss, step: int | None = None) -> None:
        """The loss checks: nan/inf now; no progress or a rise over the last
        ``plateau_window`` steps."""
        value = _loss_value(loss)
        if not math.isfinite(value):
            self._report(
                "nonfinite_loss", None, value, 0.0, step,
                f"loss is {value} at step {step}. Fix: lower {self._lr()} (try "
                "lr_find), clip gradients (torch-style clip_grad_norm_(params, 1.0)), check the "
                "batch for nan/inf, and run one step under tt.autograd.detect_anomaly() to name "
                "the op that made it.")
            return
        self.losses.append(value)
        w = self.plateau_window
        if self._start is None and len(self.losses) >= w // 2:
            self._start = float(np.mean(self.losses[: w // 2]))
        if len(self.losses) > 10 * w + 10_000:
            del self.losses[: -10 * w]  # a long run: keep the recent ones (memory stays flat)
        if len(self.losses) < w:
            return
        recent = self.losses[-w:]
        first, second = float(np.mean(recent[: w // 2])), float(np.mean(recent[w // 2:]))
        if second > self.rising_factor * first and first > 0:
            self._report(
                "rising_loss", None, second / first, self.rising_factor, step,
                f"loss is rising: its mean over the last {w // 2} steps is {second:.4g}, "
                f"{second / first:.2f}x the {w // 2} before ({first:.4g}; threshold "
                f"{self.rising_factor}x). Fix: lower {self._lr()} by 3-10x (lr_find suggests "
                "one), or add warmup / clip gradients.")
            return
        start = self._start
        if second < (1.0 - self.plateau_progress) * start:
            return  # it has learned something: a flat stretch now is convergence, not a bug
        drop = (first - second) / abs(first) if first else 0.0
        if drop < self.plateau_tol:
            self._report(
                "plateau", None, drop, self.plateau_tol, step,
                f"loss is not falling: {first:.4g} -> {second:.4g} between the two halves of "
                f"the last {w} steps, a relative drop of {drop:.2%} (threshold "
                f"{self.plateau_tol:.2%}), and within {self.plateau_progress:.0%} of where it "
                f"started ({start:.4g}). Fix: raise {self._lr()} (lr_find suggests one), check "
                "that the optimizer holds model.parameters() and that zero_grad(), backward() "
                "and step() all run each step, that the labels match the inputs, and that the "
                "model can fit one batch (train on it alone: the loss should go to ~0).")

    def check_gradients(self, step: int | None = None) -> None:
        """Per-layer gradient norms: exploding (or nan/inf), vanishing; untrained parameters."""
        self._check_optimizer(step)
        norms = grad_norms(self.model)
        if not norms:
            return
        finite = [v for v in norms.values() if math.isfinite(v)]
        top = max(finite) if finite else 0.0
        for layer, n in norms.items():
            if math.isnan(n):
                # with a nan loss this is no news (the loss check, or Trainer's error, says
                # so); with a finite one, an op's backward made it
                if self._finite_loss:
                    self._report(
                        "nonfinite_grad", layer, n, 0.0, step,
                        f"gradient of layer '{layer}' is nan at step {step} although the loss "
                        "is finite. Fix: run the step under tt.autograd.detect_anomaly(): it "
                        "names the op whose backward made the nan and the line that called it "
                        "(sqrt or pow at 0, log near 0, 0/0 are the usual ones).")
                continue
            if not math.isfinite(n) or n > self.explode_norm:
                self._report(
                    "exploding_grad", layer, n, self.explode_norm, step,
                    f"gradients explode in layer '{layer}': norm {n:.4g} at step {step} "
                    f"(threshold {self.explode_norm:g}). Fix: lower {self._lr()}, clip gradients "
                    "(Trainer(clip_grad_norm=1.0) or clip_grad_norm_), check the initialisation "
                    "(nn.init.kaiming_uniform_ / xavier) and that the loss is a mean, not a sum.")
        if len(finite) < len(norms):
            return  # nan or inf somewhere: reported above; ratios to it mean nothing
        if top == 0.0:
            self._report(
                "vanishing_grad", None, 0.0, self.vanish_ratio, step,
                f"every layer's gradient is 0 at step {step}. Fix: call check() after "
                "loss.backward() and before zero_grad(); if it is there, the loss does not "
                "depend on the parameters (a .detach(), .numpy() or no_grad() in forward) or "
                "every unit is dead.")
            return
        if len(norms) < 2:
            return
        for layer, n in norms.items():
            if math.isfinite(n) and n < self.vanish_ratio * top:
                self._report(
                    "vanishing_grad", layer, n, self.vanish_ratio * top, step,
                    f"gradients vanish in layer '{layer}': norm {n:.3g} at step {step}, "
                    f"{n / top:.2g} of the largest layer's ({top:.3g}; threshold "
                    f"{self.vanish_ratio:g}x). Fix: use ReLU/GELU rather than sigmoid/tanh in "
                    "deep stacks, a variance-preserving init (kaiming for ReLU, xavier for "
                    "tanh), normalisation (nn.LayerNorm / nn.BatchNorm1d) or residual "
                    "connections; a norm of exactly 0 means no gradient reaches the layer (a "
                    ".detach(), or dead units before it).")

    def check_dead_units(self, step: int | None = None) -> None:
        """Dead ReLUs: units never positive over the samples seen since the last check."""
        for key, (fired, n) in list(self._active.items()):
            name = key[0]
            if n < self.dead_min_samples:
                continue  # too few samples to call a unit dead; keep counting
            dead = 1.0 - float(fired.mean())
            if dead > self.dead_fraction:
                self._report(
                    "dead_relu", name, dead, self.dead_fraction, step,
                    f"dead ReLUs in layer '{name}': {dead:.0%} of its {fired.size} units were "
                    f"never active over the last {n} samples (threshold "
                    f"{self.dead_fraction:.0%}); a dead unit outputs 0, gets 0 gradient and "
                    f"never recovers. Fix: lower {self._lr()} (one big step can push the "
                    "biases below every input), initialise with nn.init.kaiming_uniform_ and "
                    "zero biases, normalise the inputs, or use nn.LeakyReLU(0.01) / nn.GELU.")
            del self._active[key]

    def _check_optimizer(self, step) -> None:
        if self._checked_optimizer or self.optimizer is None:
            return
        self._checked_optimizer = True
        held = {id(p) for g in self.optimizer.param_groups for p in g["params"]}
        missing = [n for n, p in self.model.named_parameters()
                   if p.requires_grad and id(p) not in held]
        if missing:
            self._report(
                "not_optimized", _layer_of(missing[0]), len(missing), 0, step,
                f"{len(missing)} trainable parameter(s) of the model are not in the optimizer, "
                f"so they never change (first: '{missing[0]}'). Fix: build the optimizer over "
                "this model's parameters, after the model (SGD(model.parameters(), lr=...)), "
                "and again if you replace a layer.")


def check(monitor_or_model, loss=None, step: int | None = None, **kwargs) -> list:
    """One-line form for a hand-written loop: ``tt.utils.health.check(monitor, loss, step)``.

    Pass the :class:`HealthMonitor` you keep across steps (the plateau check needs the loss
    history). Given a model instead, the monitor is made on first use and stored on it as
    ``model._health_monitor`` (``kwargs`` go to the constructor then).
    """
    if isinstance(monitor_or_model, HealthMonitor):
        return monitor_or_model.check(loss, step)
    model = monitor_or_model
    monitor = model.__dict__.get("_health_monitor")
    if monitor is None:
        monitor = HealthMonitor(model, **kwargs)
        object.__setattr__(model, "_health_monitor", monitor)
    return monitor.check(loss, step)


def monitor_for(health, model, optimizer):
    """Trainer's ``health=`` argument -> a HealthMonitor or None."""
    if isinstance(health, HealthMonitor):
        return health
    if health is False or health is None:
        return None
    if health is True or health == "quiet":
        return HealthMonitor(model, optimizer, warn=health is True)
    raise ValueError(f"Trainer: health must be True, 'quiet', False or a HealthMonitor, got "
                     f"{health!r}")


# --------------------------------------------------------------------------- lr range test


@dataclass
class LRFindResult:
    """What :func:`lr_find` measured: ``lrs[i]`` was used for the step whose loss is
    ``losses[i]`` (smoothed in ``smoothed``); ``suggested_lr`` is a tenth of the lr at the
    smoothed loss's minimum. ``float(result)`` is the suggestion."""

    lrs: list = field(default_factory=list)
    losses: list = field(default_factory=list)
    smoothed: list = field(default_factory=list)
    suggested_lr: float = float("nan")
    current_lr: float | None = None

    def __float__(self) -> float:
        return float(self.suggested_lr)

    def plot(self, path=None):
        """Loss against learning rate (log scale), the suggestion marked; a matplotlib Figure,
        written to ``path`` when given. Needs matplotlib."""
        try:
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError("LRFindResult.plot needs matplotlib: pip install matplotlib") \
                from None
        fig = Figure(figsize=(6, 4))
        ax = fig.subplots()
        ax.plot(self.lrs, self.losses, alpha=0.3, label="loss")
        ax.plot(self.lrs, self.smoothed, label="smoothed")
        ax.axvline(self.suggested_lr, color="C3", ls="--",
                   label=f"suggested {self.suggested_lr:.2g}")
        if self.current_lr:
            ax.axvline(self.current_lr, color="C2", ls=":", label=f"current {self.current_lr:.2g}")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("training loss")
        ax.legend()
        if path is not None:
            fig.savefig(path, dpi=110, bbox_inches="tight")
        return fig


def _batches(loader):
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ValueError("lr_find: the loader yielded no batches")


def lr_find(model, optimizer, loss_fn, loader, *, start_lr: float = 1e-7, end_lr: float = 10.0,
            num_iter: int = 100, beta: float = 0.98, diverge: float = 4.0,
            lr_factor: float = 10.0, warn: bool = True) -> LRFindResult:
    """Learning-rate range test (Smith 2015; fastai's ``lr_find``): train ``num_iter`` steps
    with the learning rate growing geometrically from ``start_lr`` to ``end_lr``, record the
    loss, then put the model, optimizer and global random generator back as they were.

    The suggestion is a tenth of the lr at the smoothed loss's minimum: near the minimum the
    run is about to diverge, far below it every step is wasted. If the optimizer's lr is more
    than ``lr_factor`` times away from the suggestion, a ``TrainingHealthWarning`` says so
    (``warn=False``: no warning).

    The loss is smoothed over one pass of a short loader (up to 32 batches, so a small data
    set's batch-to-batch differences cancel), else by a bias-corrected moving average with
    ``beta``. The run stops early once the smoothed loss exceeds ``diverge`` times its best.
    """
    from tinytorch.core.creation import default_generator
    from tinytorch.core.tensor import Tensor

    if not 0 < start_lr < end_lr:
        raise ValueError(f"lr_find: need 0 < start_lr < end_lr, got {start_lr} and {end_lr}")
    if num_iter < 5:
        raise ValueError(f"lr_find: num_iter must be at least 5, got {num_iter}")
    model_state = copy.deepcopy(model.state_dict())
    opt_state = optimizer.state_dict()  # already a copy
    rng_state = default_generator.get_state()
    was_training = model.training
    current = optimizer.param_groups[0]["lr"]
    result = LRFindResult(current_lr=current)
    ratio = (end_lr / start_lr) ** (1.0 / (num_iter - 1))
    avg, best = 0.0, math.inf
    n_batches = len(loader) if hasattr(loader, "__len__") else 0
    window = n_batches if 1 < n_batches <= 32 else 0
    try:
        model.train()
        batches = _batches(loader)
        for i in range(num_iter):
            lr = start_lr * ratio ** i
            for g in optimizer.param_groups:
                g["lr"] = lr
            x, y = next(batches)
            x = x if isinstance(x, Tensor) else Tensor(x)
            y = y if isinstance(y, Tensor) else Tensor(y)
            loss = loss_fn(model(x), y)
            value = float(loss.item())
            if not math.isfinite(value):
                break
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if window:  # a short loader: the mean over one pass cancels batch-to-batch noise
                smooth = float(np.mean((result.losses + [value])[-window:]))
            else:
                avg = beta * avg + (1 - beta) * value
                smooth = avg / (1 - beta ** (i + 1))  # bias-corrected moving average
            result.lrs.append(lr)
            result.losses.append(value)
            result.smoothed.append(smooth)
            if i >= max(window - 1, 0):  # the first means cover less than one pass
                best = min(best, smooth)
            if smooth > diverge * best:
                break
    finally:
        model.load_state_dict(model_state)
        optimizer.load_state_dict(opt_state)
        default_generator.set_state(rng_state)
        model.train(was_training)
        optimizer.zero_grad()
    result.suggested_lr = _suggest(result.lrs, result.smoothed, max(window - 1, 0))
    if warn and math.isfinite(result.suggested_lr) and current:
        off = max(current / result.suggested_lr, result.suggested_lr / current)
        if off > lr_factor:
            side = "high" if current > result.suggested_lr else "low"
            warnings.warn(
                f"learning rate far off: the optimizer's lr {current:g} is {off:.0f}x too {side} "
                f"for the range test's suggestion {result.suggested_lr:.2g} (threshold "
                f"{lr_factor:g}x). Fix: set lr={result.suggested_lr:.2g} (for g in "
                "optimizer.param_groups: g['lr'] = ...), or build the optimizer with it; "
                "result.plot('lr_find.png') shows the curve.", TrainingHealthWarning,
                stacklevel=2)
    return result


def _suggest(lrs, smoothed, skip: int = 0) -> float:
    """A tenth of the lr where the smoothed loss was lowest (fastai's ``minimum`` rule).

    At the minimum the steps are already about as large as the loss allows (a few times more
    and it diverges); a tenth of it is fast and still safe. The steepest-slope point, the other
    usual rule, is easily fooled by batch-to-batch noise on a small data set.
    """
    if len(lrs) < skip + 3:
        return float("nan")
    return float(lrs[skip + int(np.argmin(smoothed[skip:]))]) / 10.0
