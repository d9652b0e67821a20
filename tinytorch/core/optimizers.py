"""Module 06 -- optimizers: turning gradients into better weights.

After ``loss.backward()`` every parameter ``p`` holds ``p.grad = dL/dp``. An optimizer decides
how far to move each weight against its gradient. All of them share one loop (``step``): for
every parameter group, for every parameter that has a gradient, update the weight in place.
They differ only in the per-parameter rule and the *state* it keeps between steps:

    optimizer     update (g = gradient)                           state per parameter
    SGD           p -= lr * g                                     none
    SGD momentum  b = mu*b + (1 - dampening)*g;  p -= lr*b        1 buffer the size of p
    RMSprop       v = a*v + (1 - a)*g^2;  p -= lr*g / sqrt(v)     1 buffer (3 if centered
                                                                  and with momentum)
    Adam          m, v = running means of g and g^2, bias-        2 buffers (3 with amsgrad)
                  corrected;  p -= lr * m_hat / (sqrt(v_hat) + eps)
    AdamW         Adam, with the weight decay applied to p        2 buffers
                  directly instead of being added to g

The rules are PyTorch's, line for line (``torch.optim``'s documented pseudocode), so the same
model trained with the same data reaches the same weights in both frameworks. Updates run on
the NumPy arrays (``p._data``, ``p.grad._data``) in place: an optimizer step is not part of the
model's computation, so it records no graph, and in-place updates keep every view of the
weights (a ``state_dict()``, a tied embedding) pointing at the new values.

``state_dict()`` / ``load_state_dict()`` use PyTorch's layout, so a training run can stop and
resume exactly::

    {"state": {0: {"momentum_buffer": array}, 1: {...}},        # by parameter index
     "param_groups": [{"lr": 0.1, "momentum": 0.9, ..., "params": [0, 1]}]}
"""

from __future__ import annotations

import copy
import math
from collections import defaultdict

import numpy as np

from tinytorch.core.autograd import enable_grad, note_inplace
from tinytorch.core.tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "clip_grad_norm_",
           "clip_grad_value_"]


class Optimizer:
    """Base class of every optimizer: parameter groups, the step loop, state and checkpoints.

    Args:
        params: an iterable of Tensors (``model.parameters()``), or of dicts that each define a
            parameter group: ``[{"params": body.parameters()}, {"params": head.parameters(),
            "lr": 1e-2}]``. A group's own keys override ``defaults`` for that group only.
        defaults: the hyperparameters (``lr``, ``momentum`` ...) of every group that does not
            set its own.

    Attributes:
        param_groups: list of dicts, each with ``"params"`` (a list of Tensors) and every
            hyperparameter. Schedulers change ``group["lr"]`` here.
        state: per-parameter state (momentum buffers, moment estimates), keyed by the
            parameter itself: ``opt.state[p]["exp_avg"]``.

    Subclasses implement :meth:`_update`, the rule for one parameter.
    """

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Tensors or dicts, got a "
                "single Tensor; pass [t] or model.parameters()"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{type(self).__name__}: params must be an ordered iterable (a list "
                            "or model.parameters()), not a set: the order of parameters must be "
                            "the same in every run for state_dict() to resume correctly")
        groups = list(params)
        if len(groups) == 0:
            raise ValueError(f"{type(self).__name__} got an empty parameter list: did the model "
                             "register its weights as nn.Parameter?")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own hyperparameters (e.g. a new head to fine-tune).

        Keys the group does not set are taken from the optimizer's defaults.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"add_param_group: a parameter group must be a dict, got "
                            f"{type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError("add_param_group: the group has no 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("add_param_group: 'params' must be an ordered iterable, not a set")
        params = list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__} can only optimize Tensors, but parameter "
                                f"{i} of the group is a {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{type(self).__name__} can't optimize a non-leaf Tensor "
                                 f"(parameter {i} was computed by {p.grad_fn.name()}); optimize "
                                 "the leaves it was made from")
            if p._data.dtype.kind != "f":
                raise TypeError(f"{type(self).__name__}: parameter {i} has dtype {p.dtype}; only "
                                "floating point tensors can be optimized")
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or seen & {id(p) for p in params}:
            raise ValueError("some parameters appear in more than one parameter group (or twice "
                             "in one): each weight must be updated by exactly one rule")
        self.param_groups.append(group)

    # ------------------------------------------------------------------ the step loop

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of the last step (``backward`` accumulates into ``.grad``).

        ``set_to_none=True`` (the default, as in PyTorch) drops the arrays instead of filling
        them with zeros: no memory is written, and the next backward allocates fresh ones.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad._data[...] = 0

    def step(self, closure=None):
        """Update every parameter that has a gradient, once.

        Args:
            closure: optional function that re-computes the loss (zero_grad, forward, backward)
                and returns it; it runs with grad mode on, before the update.

        Returns:
            the closure's loss, or None.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for i, p in enumerate(group["params"]):
                if p.grad is None:
                    continue  # not used in this step's loss: leave it (and its state) alone
                grad = p.grad._data
                if grad.shape != p._data.shape:
                    raise ValueError(
                        f"{type(self).__name__}.step: parameter {i} of a group has shape "
                        f"{p._data.shape} but its .grad has shape {grad.shape}; a gradient must "
                        "have the shape of its parameter"
                    )
                self._update(p._data, grad, self.state[p], group)
                # counted as PyTorch's param.add_ under no_grad: a graph that saved the old
                # weights (a GAN's D, stepped before G's backward) now refuses to use them
                note_inplace(p._data, f"{type(self).__name__}.step")
        return loss

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        """Update one parameter in place.

        Args:
            param: the weight's array (``p._data``): write into it, do not rebind it.
            grad: its gradient (``p.grad._data``): read only.
            state: this parameter's state dict (empty on the first step); keep buffers here.
            group: the parameter's group: ``group["lr"]`` and the other hyperparameters.
        """
        raise NotImplementedError(f"{type(self).__name__} must define _update()")

    # ------------------------------------------------------------------ checkpoints

    def state_dict(self) -> dict:
        """The optimizer's state in PyTorch's format (a copy: later steps do not change it).

        Parameters are named by their position across groups (0, 1, 2 ...), never by identity,
        so the dict can be saved and loaded into an optimizer built over a new copy of the model.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for p, s in self.state.items():
            if s and id(p) in index:
                state[index[id(p)]] = {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                       for k, v in s.items()}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters and state saved by :meth:`state_dict`.

        The optimizer must have been built over the same architecture (same groups, same
        number of parameters in each). Arrays are copied and cast to their parameter's dtype;
        values may be NumPy arrays, Tensors, or anything ``np.asarray`` accepts (PyTorch
        tensors exported with ``.numpy()``).
        """
        try:
            saved_groups = state_dict["param_groups"]
            saved_state = state_dict["state"]
        except (KeyError, TypeError):
            raise ValueError("load_state_dict: expected a dict with 'state' and 'param_groups', "
                             "as returned by optimizer.state_dict()") from None
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"load_state_dict: the saved state has {len(saved_groups)} parameter "
                             f"group(s), this optimizer has {len(self.param_groups)}")
        for i, (mine, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(mine["params"]) != len(saved["params"]):
                raise ValueError(
                    f"load_state_dict: parameter group {i} has {len(mine['params'])} parameters "
                    f"here but {len(saved['params'])} in the saved state: was it saved from a "
                    "different model?"
                )
        by_id = {}
        for mine, saved in zip(self.param_groups, saved_groups):
            for p, k in zip(mine["params"], saved["params"]):
                by_id[int(k)] = p
        new_state = defaultdict(dict)
        for k, s in saved_state.items():
            p = by_id.get(int(k))  # int(): a state saved through JSON may have "0" as its key
            if p is None:
                raise ValueError(f"load_state_dict: the saved state names parameter {k}, which "
                                 "no group contains")
            new_state[p] = {name: _state_value(name, v, p) for name, v in s.items()}
        new_groups = []
        for mine, saved in zip(self.param_groups, saved_groups):
            group = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            if isinstance(group.get("betas"), list):
                group["betas"] = tuple(group["betas"])
            group["params"] = mine["params"]
            new_groups.append(group)
        self.state = new_state
        self.param_groups = new_groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        return "\n".join(lines) + "\n)"


def _state_value(name: str, value, param: Tensor):
    """A saved state entry as this optimizer keeps it: step counts as int, buffers as arrays."""
    if isinstance(value, Tensor):
        value = value._data
    if name == "step":
        return int(np.asarray(value).item())  # PyTorch keeps step as a float tensor
    if isinstance(value, (np.ndarray, np.generic)) or hasattr(value, "__array__"):
        arr = np.array(value, copy=True)
        if arr.dtype.kind == "f":
            arr = arr.astype(param._data.dtype, copy=False)
        return arr
    return copy.deepcopy(value)


def _check(name: str, value, ok: bool, rule: str) -> None:
    if not ok:
        raise ValueError(f"Invalid {name} value: {value} ({rule})")


# --------------------------------------------------------------------------- SGD


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, dampening, Nesterov and weight decay.

    PyTorch's rule, for gradient ``g`` of parameter ``p``::

        g = -g                        if maximize
        g = g + weight_decay * p      (L2 penalty, folded into the gradient)
        if momentum:
            b = g                     on the first step (the buffer starts at the gradient)
            b = momentum * b + (1 - dampening) * g   afterwards
            g = g + momentum * b      if nesterov, else g = b
        p = p - lr * g

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: learning rate (PyTorch's default 1e-3).
        momentum: factor ``mu`` of the velocity buffer (0 disables it).
        dampening: scales the new gradient entering the buffer by ``1 - dampening``.
        weight_decay: L2 penalty coefficient.
        nesterov: Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
        maximize: ascend instead of descend.
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False):
        _check("learning rate", lr, lr >= 0.0, "must be >= 0")
        _check("momentum", momentum, momentum >= 0.0, "must be >= 0")
        _check("weight_decay", weight_decay, weight_decay >= 0.0, "must be >= 0")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        # BEGIN SOLUTION
        lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
        g = -grad if group["maximize"] else grad
        if wd != 0:
            g = g + wd * param  # a new array: p.grad itself stays untouched
        if mu != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()  # first step: the buffer is g
            else:
                buf *= mu
                if group["dampening"]:
                    buf += (1 - group["dampening"]) * g
                else:  # (1 - 0) * g is g: no temporary
                    buf += g
            g = g + mu * buf if group["nesterov"] else buf
        param -= lr * g
        # END SOLUTION


# --------------------------------------------------------------------------- Adam, AdamW


class Adam(Optimizer):
    """Adam: per-weight step sizes from running averages of the gradient and its square.

    PyTorch's rule, at step ``t = 1, 2, ...``::

        g = -g                               if maximize
        p = p * (1 - lr * weight_decay)      if decoupled_weight_decay (AdamW)
        g = g + weight_decay * p             otherwise (L2 folded into the gradient)
        m = beta1 * m + (1 - beta1) * g      first moment (mean of g)
        v = beta2 * v + (1 - beta2) * g^2    second moment (mean of g^2)
        v_max = max(v_max, v)                if amsgrad, and v_max replaces v below
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    ``m`` and ``v`` start at zero, so early averages are too small; dividing by
    ``1 - beta^t`` (bias correction) removes that, which is why the very first step moves each
    weight by about ``lr`` whatever the scale of its gradient.

    Args:
        params: parameters or parameter groups.
        lr: learning rate.
        betas: (beta1, beta2), decay rates of the two moving averages.
        eps: added to the denominator so that tiny ``v`` does not blow the step up.
        weight_decay: L2 penalty (or decoupled decay, see ``decoupled_weight_decay``).
        amsgrad: use the running maximum of ``v`` (the AMSGrad variant).
        maximize: ascend instead of descend.
        decoupled_weight_decay: apply weight decay to the weights directly (AdamW).
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False):
        _check("learning rate", lr, lr >= 0.0, "must be >= 0")
        _check("epsilon", eps, eps >= 0.0, "must be >= 0")
        _check("beta parameter at index 0", betas[0], 0.0 <= betas[0] < 1.0, "must be in [0, 1)")
        _check("beta parameter at index 1", betas[1], 0.0 <= betas[1] < 1.0, "must be in [0, 1)")
        _check("weight_decay", weight_decay, weight_decay >= 0.0, "must be >= 0")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        # BEGIN SOLUTION
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        g = -grad if group["maximize"] else grad
        state["step"] += 1
        t = state["step"]
        if wd != 0:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * wd  # AdamW: shrink the weight itself
            else:
                g = g + wd * param
        m, v = state["exp_avg"], state["exp_avg_sq"]
        # every line updates in place through one scratch array (the same arithmetic, in the
        # same order, as the textbook lines in the comments, without their six temporaries)
        tmp = np.multiply(g, 1 - beta1)
        m *= beta1
        m += tmp  # m = beta1 * m + (1 - beta1) * g
        np.multiply(g, g, out=tmp)
        tmp *= 1 - beta2
        v *= beta2
        v += tmp  # v = beta2 * v + (1 - beta2) * g * g
        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        step_size = lr / (1 - beta1 ** t)
        np.sqrt(v, out=tmp)
        tmp /= math.sqrt(1 - beta2 ** t)
        tmp += eps  # denom = sqrt(v) / sqrt(1 - beta2^t) + eps
        np.divide(m, tmp, out=tmp)
        tmp *= step_size
        param -= tmp  # p -= step_size * m / denom
        # END SOLUTION


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    Adam's L2 penalty is added to the gradient and then divided by ``sqrt(v)``, so weights with
    large gradients are barely regularized. AdamW instead shrinks every weight by the same
    factor ``1 - lr * weight_decay`` each step, before the Adam update. Default
    ``weight_decay=1e-2`` as in PyTorch.
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)


# --------------------------------------------------------------------------- RMSprop


class RMSprop(Optimizer):
    """RMSprop: divide each gradient by a running root-mean-square of its recent values.

    PyTorch's rule::

        g = -g                                   if maximize
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g^2        running mean of g^2
        if centered:
            a = alpha * a + (1 - alpha) * g      running mean of g
            denom = sqrt(v - a^2) + eps          (an estimate of the standard deviation)
        else:
            denom = sqrt(v) + eps
        if momentum:
            b = momentum * b + g / denom;  p = p - lr * b    (b starts at zero)
        else:
            p = p - lr * g / denom

    Args:
        params: parameters or parameter groups.
        lr: learning rate (PyTorch's default 1e-2).
        alpha: smoothing constant of the running averages.
        eps: added to the denominator.
        weight_decay: L2 penalty.
        momentum: momentum factor (0 disables the buffer).
        centered: normalize by the variance of g instead of its raw second moment.
        maximize: ascend instead of descend.
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False):
        _check("learning rate", lr, lr >= 0.0, "must be >= 0")
        _check("epsilon", eps, eps >= 0.0, "must be >= 0")
        _check("momentum", momentum, momentum >= 0.0, "must be >= 0")
        _check("weight_decay", weight_decay, weight_decay >= 0.0, "must be >= 0")
        _check("alpha", alpha, alpha >= 0.0, "must be >= 0")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        # BEGIN SOLUTION
        lr, alpha, eps, mu = group["lr"], group["alpha"], group["eps"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            if mu > 0:
                state["momentum_buffer"] = np.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(param)
        g = -grad if group["maximize"] else grad
        state["step"] += 1
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * param
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * (g * g)
        if group["centered"]:
            a = state["grad_avg"]
            a *= alpha
            a += (1 - alpha) * g
            denom = np.sqrt(v - a * a) + eps
        else:
            denom = np.sqrt(v) + eps
        if mu > 0:
            buf = state["momentum_buffer"]
            buf *= mu
            buf += g / denom
            param -= lr * buf
        else:
            param -= lr * (g / denom)
        # END SOLUTION


# --------------------------------------------------------------------------- gradient clipping


def _with_grads(parameters) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so that their combined norm is at most ``max_norm``.

    The total norm treats every gradient of every parameter as one long vector:
    ``total = (sum_p ||g_p||^q)^(1/q)`` for ``norm_type`` q (``inf``: the largest ``|g|``).
    If it exceeds ``max_norm``, every gradient is multiplied by
    ``max_norm / (total + 1e-6)``: the direction of the step is kept, only its length shrinks.
    This is what keeps one exploding batch (a huge loss, an RNN unrolled too long) from
    throwing the weights far away.

    Args:
        parameters: a Tensor or an iterable of Tensors (``model.parameters()``); those
            without ``.grad`` are skipped.
        max_norm: the largest allowed total norm.
        norm_type: q of the q-norm (2.0 by default; ``float("inf")`` for the max-norm).
        error_if_nonfinite: raise if the total norm is nan or inf instead of scaling by it.

    Returns:
        the total norm of the gradients *before* clipping, as a 0-d Tensor (log it: a rising
        gradient norm is an early sign of divergence).
    """
    params = _with_grads(parameters)
    if not params:
        return Tensor(np.array(0.0, dtype=np.float32))
    dtype = params[0].grad._data.dtype
    # BEGIN SOLUTION
    norm_type = float(norm_type)
    grads = [p.grad._data for p in params]
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        # the norm of the per-parameter norms is the norm of everything concatenated
        per_param = np.array([np.linalg.norm(g.ravel().astype(np.float64), norm_type)
                              for g in grads])
        total = float(np.linalg.norm(per_param, norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           "gradients is non-finite, so it cannot be clipped; set "
                           "error_if_nonfinite=False to scale by it anyway")
    coef = min(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g *= coef  # in place: the .grad arrays the optimizer will read
    # END SOLUTION
    return Tensor(np.array(total, dtype=dtype))


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]``, in place.

    Cruder than :func:`clip_grad_norm_`: it changes the direction of the step.
    """
    # BEGIN SOLUTION
    clip_value = float(clip_value)
    for p in _with_grads(parameters):
        np.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)
    # END SOLUTION
