"""Module 06 -- learning-rate schedules: how the step size changes over a training run.

A scheduler owns no weights. It rewrites ``group["lr"]`` in its optimizer's parameter groups
each time you call ``scheduler.step()`` (once per epoch, or once per batch: your choice, stick
to it). Every schedule here is a function of one integer, ``last_epoch``, the number of times
``step()`` has been called::

    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    sched = tt.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
    for epoch in range(100):
        train_one_epoch(model, opt)      # uses group["lr"]
        sched.step()                     # then move to the next lr

The values equal PyTorch's. PyTorch computes most schedules recursively (each lr from the
previous one, so that schedulers can be chained); here each is computed in closed form from
the base lr and ``last_epoch``, which gives the same numbers (to the last bit or two of a
float64) when ``step()`` is called once per step, and is easier to read.

Construction sets ``group["initial_lr"]`` (the base lr) and applies the value at
``last_epoch = 0``, as PyTorch does: a ``LinearLR`` warmup starts at ``start_factor * lr``
before the first optimizer step.
"""

from __future__ import annotations

import math
from bisect import bisect_right

from tinytorch.core.optimizers import Optimizer

__all__ = ["LRScheduler", "LambdaLR", "StepLR", "CosineAnnealingLR", "LinearLR",
           "WarmupCosineLR", "SequentialLR"]


class LRScheduler:
    """Base class: keeps ``last_epoch`` and writes ``get_lr()`` into the optimizer's groups.

    Args:
        optimizer: the optimizer whose learning rates this schedule sets.
        last_epoch: index of the last step taken; -1 (the default) starts a new schedule.
            To resume, prefer ``load_state_dict`` with a saved ``state_dict()``.

    Subclasses implement :meth:`get_lr`: the list of learning rates (one per parameter group)
    at step ``self.last_epoch``, usually from ``self.base_lrs``.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: {type(optimizer).__name__} is not an "
                            "Optimizer; pass the optimizer whose lr this schedule should set")
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when "
                               "resuming a scheduler with last_epoch >= 0: load the optimizer's "
                               "state_dict first, or start with last_epoch=-1")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Apply the schedule's value at step 0 (``last_epoch`` goes from -1 to 0)."""
        self._step_count = 0
        self.step()

    def get_lr(self) -> list[float]:
        """The learning rate of each parameter group at step ``self.last_epoch``."""
        raise NotImplementedError(f"{type(self).__name__} must define get_lr()")

    def get_last_lr(self) -> list[float]:
        """The learning rates the last ``step()`` wrote (one per parameter group)."""
        return list(self._last_lr)

    def step(self, epoch: int | None = None) -> None:
        """Advance the schedule by one step (or jump to ``epoch``) and update the optimizer.

        Call it after ``optimizer.step()``.
        """
        self._step_count += 1
        self.last_epoch = self.last_epoch + 1 if epoch is None else int(epoch)
        values = self.get_lr()
        if len(values) != len(self.optimizer.param_groups):
            raise ValueError(f"{type(self).__name__}.get_lr returned {len(values)} values for "
                             f"{len(self.optimizer.param_groups)} parameter groups")
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        """Everything but the optimizer: ``last_epoch``, ``base_lrs`` and the hyperparameters.

        As in PyTorch; save it next to the optimizer's state_dict.
        """
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a schedule saved by :meth:`state_dict` (continue where it stopped)."""
        self.__dict__.update({k: (list(v) if k in ("base_lrs", "_last_lr") else v)
                              for k, v in state_dict.items()})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self.get_last_lr()})"


class LambdaLR(LRScheduler):
    """``lr = base_lr * lr_lambda(last_epoch)``: any schedule you can write as a factor.

    Args:
        optimizer: the optimizer.
        lr_lambda: a function of the step index returning a multiplicative factor, or a list
            with one function per parameter group. (Functions are not saved by
            ``state_dict()``: rebuild the scheduler with the same function, then load.)
    """

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1):
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"Expected {n} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        # BEGIN SOLUTION
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]
        # END SOLUTION

    def state_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` steps: ``base_lr * gamma^(t // step_size)``.

    The classic "divide by 10 at epochs 30, 60, 90" schedule of ImageNet training.
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1):
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size}")
        self.step_size = int(step_size)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        # BEGIN SOLUTION
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]
        # END SOLUTION


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from ``base_lr`` down to ``eta_min`` over ``T_max`` steps.

    ``lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2``

    Fast at first, gentle near the end (where small steps settle into a minimum). Stepped past
    ``T_max`` the cosine continues, rising again, as PyTorch's does.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1):
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive integer, got {T_max}")
        self.T_max = int(T_max)
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        # BEGIN SOLUTION
        cos = math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base - self.eta_min) * (1 + cos) / 2 for base in self.base_lrs]
        # END SOLUTION


class LinearLR(LRScheduler):
    """Scale the lr linearly from ``start_factor`` to ``end_factor`` over ``total_iters`` steps.

    ``lr_t = base_lr * (start + (end - start) * min(t, total_iters) / total_iters)``; constant
    afterwards. With the defaults (1/3 -> 1 over 5 steps) it is a short linear warmup.
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1):
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and "
                             "less or equal to 1.")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = int(total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        # BEGIN SOLUTION
        t = min(self.total_iters, self.last_epoch)
        factor = self.start_factor + (self.end_factor - self.start_factor) * t / self.total_iters
        return [base * factor for base in self.base_lrs]
        # END SOLUTION


class WarmupCosineLR(LRScheduler):
    """Linear warmup, then cosine decay: the schedule of most transformer training runs.

    For step ``t`` (one ``step()`` per optimizer step)::

        t <  warmup_steps:  lr = base_lr * (t + 1) / warmup_steps
        t >= warmup_steps:  p = min(1, (t - warmup_steps) / (total_steps - warmup_steps))
                            lr = min_lr + (base_lr - min_lr) * (1 + cos(pi * p)) / 2

    The first step already uses ``base_lr / warmup_steps`` (not 0, which would waste it); the
    lr reaches ``base_lr`` on the last warmup step and ``min_lr`` at ``total_steps``, and
    stays there. Why warm up: Adam's second-moment estimate is noisy for the first few
    hundred steps, and large early steps can push a freshly initialised network somewhere it
    never recovers from.

    Args:
        optimizer: the optimizer.
        warmup_steps: number of warmup steps (0 for none).
        total_steps: the step at which the cosine reaches ``min_lr``.
        min_lr: the final learning rate (absolute, the same for every group).
    """

    def __init__(self, optimizer: Optimizer, warmup_steps: int, total_steps: int,
                 min_lr: float = 0.0, last_epoch: int = -1):
        if warmup_steps < 0 or total_steps <= warmup_steps:
            raise ValueError(f"WarmupCosineLR: need 0 <= warmup_steps < total_steps, got "
                             f"warmup_steps={warmup_steps}, total_steps={total_steps}")
        self.warmup_steps = int(warmup_steps)
        self.total_steps = int(total_steps)
        self.min_lr = min_lr
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        # BEGIN SOLUTION
        t = self.last_epoch
        if t < self.warmup_steps:
            return [base * (t + 1) / self.warmup_steps for base in self.base_lrs]
        progress = min(1.0, (t - self.warmup_steps) / (self.total_steps - self.warmup_steps))
        cos = math.cos(math.pi * progress)
        return [self.min_lr + (base - self.min_lr) * (1 + cos) / 2 for base in self.base_lrs]
        # END SOLUTION


class SequentialLR(LRScheduler):
    """Run schedulers one after another: ``schedulers[i]`` from ``milestones[i-1]`` on.

    ``SequentialLR(opt, [LinearLR(opt, 0.1, total_iters=5), CosineAnnealingLR(opt, 95)],
    milestones=[5])`` is a 5-step warmup followed by cosine decay; at each milestone the next
    scheduler starts again from its own step 0. Same semantics as PyTorch's.
    """

    def __init__(self, optimizer: Optimizer, schedulers: list, milestones: list,
                 last_epoch: int = -1):
        if len(schedulers) < 1:
            raise ValueError("SequentialLR expects at least one scheduler, but got no scheduler.")
        for i, s in enumerate(schedulers):
            if getattr(s, "optimizer", None) is not optimizer:
                raise ValueError(f"SequentialLR expects all schedulers to belong to the same "
                                 f"optimizer, but scheduler {i} ({type(s).__name__}) does not")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR expects one milestone fewer than schedulers, got "
                             f"{len(schedulers)} schedulers and {len(milestones)} milestones")
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # each scheduler applied its own step 0 when it was built: undo that, then apply the
        # first scheduler's step 0 only
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for s in self._schedulers:
            s.last_epoch -= 1
        self._schedulers[bisect_right(self._milestones, 0)]._initial_step()
        self._last_lr = self._schedulers[bisect_right(self._milestones, 0)].get_last_lr()

    def step(self) -> None:
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler.step(0)  # a scheduler that takes over starts at its own step 0
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def get_lr(self) -> list[float]:
        return self._schedulers[bisect_right(self._milestones, self.last_epoch)].get_lr()

    def state_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        out["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return out

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        inner = state.pop("_schedulers")
        self.__dict__.update(state)
        for s, sd in zip(self._schedulers, inner):
            s.load_state_dict(sd)
