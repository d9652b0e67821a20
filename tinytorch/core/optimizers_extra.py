"""Module 06 (given code) -- Adagrad and Adadelta, PyTorch's rules line for line.

Both are ancestors of Adam that adapt a step size per weight from the history of its
gradients (``optimizers.py`` explains the shared loop and the state_dict layout):

    optimizer   update (g = gradient)                                    state per parameter
    Adagrad     s += g^2;  p -= lr_t * g / (sqrt(s) + eps)                sum (+ step)
                lr_t = lr / (1 + (t - 1) lr_decay)
    Adadelta    v = rho v + (1 - rho) g^2                                 square_avg,
                d = sqrt(u + eps) / sqrt(v + eps) * g                     acc_delta (+ step)
                u = rho u + (1 - rho) d^2;  p -= lr * d

Adagrad's sum only grows, so its steps shrink forever (good for sparse features, too
cautious for deep nets); Adadelta replaces the sum with running averages and scales by the
size of recent *updates*, which is why its default lr is 1.0.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.optimizers import Optimizer, _check

__all__ = ["Adagrad", "Adadelta"]


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), PyTorch's rule::

        g = -g if maximize;  g = g + weight_decay * p
        lr_t = lr / (1 + (step - 1) * lr_decay)
        sum = sum + g * g                       (starts at initial_accumulator_value)
        p = p - lr_t * g / (sqrt(sum) + eps)

    Args:
        params: parameters or parameter groups.
        lr: learning rate (PyTorch's default 1e-2).
        lr_decay: the lr shrinks as lr / (1 + (step - 1) * lr_decay).
        weight_decay: L2 penalty added to the gradient.
        initial_accumulator_value: starting value of the sum of squares.
        eps: added to the denominator.
        maximize: ascend instead of descend.
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, foreach=None, *,
                 maximize: bool = False, differentiable: bool = False, fused=None):
        _check("learning rate", lr, lr >= 0.0, "must be >= 0")
        _check("lr_decay", lr_decay, lr_decay >= 0.0, "must be >= 0")
        _check("weight_decay", weight_decay, weight_decay >= 0.0, "must be >= 0")
        _check("initial_accumulator_value", initial_accumulator_value,
               initial_accumulator_value >= 0.0, "must be >= 0")
        _check("epsilon", eps, eps >= 0.0, "must be >= 0")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(param, group["initial_accumulator_value"])
        state["step"] += 1
        g = -grad if group["maximize"] else grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * param
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        s = state["sum"]
        s += g * g
        param -= clr * (g / (np.sqrt(s) + group["eps"]))


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012), PyTorch's rule::

        g = -g if maximize;  g = g + weight_decay * p
        square_avg = rho * square_avg + (1 - rho) * g * g
        delta = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g
        acc_delta = rho * acc_delta + (1 - rho) * delta * delta
        p = p - lr * delta

    Args:
        params: parameters or parameter groups.
        lr: scales the delta (PyTorch's default 1.0: the rule sets its own step size).
        rho: decay of both running averages.
        eps: keeps the square roots away from 0 (and starts the first steps).
        weight_decay: L2 penalty added to the gradient.
        maximize: ascend instead of descend.
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, foreach=None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False):
        _check("learning rate", lr, lr >= 0.0, "must be >= 0")
        _check("rho", rho, 0.0 <= rho <= 1.0, "must be in [0, 1]")
        _check("epsilon", eps, eps >= 0.0, "must be >= 0")
        _check("weight_decay", weight_decay, weight_decay >= 0.0, "must be >= 0")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        rho, eps = group["rho"], group["eps"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            state["acc_delta"] = np.zeros_like(param)
        state["step"] += 1
        g = -grad if group["maximize"] else grad
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * param
        v, u = state["square_avg"], state["acc_delta"]
        v *= rho
        v += (1 - rho) * (g * g)
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u *= rho
        u += (1 - rho) * (delta * delta)
        param -= group["lr"] * delta
