"""Anomaly detection: find the op that first made a nan (or inf), and the line that called it.

A nan in the loss, or in a gradient, says that *something* went wrong, not where. With anomaly
detection on, as in PyTorch::

    with tt.autograd.detect_anomaly():
        loss = model(x).log().mean()     # forward: the first op whose output holds a new nan
        loss.backward()                  # backward: the first op whose gradient holds nan/inf

the engine does two extra things for every op:

* **forward**: it remembers the line of *your* code that called the op (a short traceback),
  and checks the op's output. The first op that turns finite inputs into nan raises
  ``RuntimeError: Function 'Log' produced nan values in its forward output ...`` with that line.
  (inf in a forward output is not an error: ``masked_fill(mask, -inf)`` makes it on purpose.)
* **backward**: after each op's backward, it checks the gradients it returned (the recorded
  node's ``function`` is a subclass whose ``backward`` checks, so any backward loop does).
  The first one holding nan or inf raises, with PyTorch's wording,
  ``RuntimeError: Function 'LogBackward' returned nan values in its 0th output.``, followed by
  the forward line that created the op. "0th output" is the gradient for the op's input 0.

It is a debugging mode: recording a traceback per op makes a step several times slower. Off,
it costs the engine one comparison per op (``_anomaly is not None`` in ``Function.apply``).
"""

from __future__ import annotations

import functools
import os
import sys
import traceback

import numpy as np

from tinytorch.core import autograd as _engine

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # tinytorch/
_MAX_FRAMES = 6  # the last few frames of the user's stack are the ones that locate the line

_check_nan = True

# what usually makes each op's nan, and the fix (shown after the traceback)
_HINTS = {
    "Log": "log of a negative number is nan and log(0) is -inf: clamp the input first "
           "(x.clamp(min=1e-12).log()), or use a fused op (F.log_softmax, F.cross_entropy, "
           "F.binary_cross_entropy_with_logits) instead of log(softmax(x)) or log(sigmoid(x))",
    "Sqrt": "sqrt of a negative number is nan, and the gradient of sqrt at 0 is inf: add a small "
            "eps inside (x + 1e-12).sqrt() or clamp the input",
    "Pow": "a negative base to a fractional power is nan; 0 to a negative power is inf",
    "Div": "0/0 is nan and x/0 is inf: add eps to the denominator or mask the zero entries",
    "Exp": "exp overflows float32 above about 88: subtract the maximum first "
           "(x - x.max(dim, keepdim=True)), or use the fused F.log_softmax / F.cross_entropy",
    "Mul": "0 * inf is nan: an inf upstream (exp overflow, log(0), x/0) met a zero",
}


def _user_stack() -> traceback.StackSummary:
    """The last few frames of the caller's stack, the engine's own frames at its end left out
    (``tensor.__add__ -> ops -> apply`` is not what the user wrote). Source lines are read only
    when an error is formatted."""
    f = sys._getframe(2)  # above forward_hook and Function.apply
    while f is not None and f.f_code.co_filename.startswith(_PACKAGE_DIR):
        f = f.f_back
    frames = []
    while f is not None and len(frames) < _MAX_FRAMES:
        frames.append((f, f.f_lineno))
        f = f.f_back
    frames.reverse()
    return traceback.StackSummary.extract(frames, lookup_lines=False)


def _format(frames) -> str:
    if not frames:
        return "  (no Python frames outside tinytorch were found)\n"
    return "".join(traceback.format_list(frames))


def _op_name(function) -> str:
    name = function.__name__
    return name[:-2] if name.endswith("Fn") else name


def _hint(op: str) -> str:
    hint = _HINTS.get(op)
    return f"\nUsual cause and fix: {hint}." if hint else ""


def _bad_kind(arr) -> str | None:
    """"nan", "inf" or None for a gradient array (anything else is not checked)."""
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "fc":
        return None
    if np.isnan(arr).any():
        return "nan"
    if np.isinf(arr).any():
        return "inf"
    return None


# --------------------------------------------------------------------------- engine hooks
# The engine calls forward_hook only while anomaly mode is on (``_engine._anomaly`` is _HOOKS).


def forward_hook(function, ctx, args, out) -> None:
    """After an op's forward: remember the caller's line; raise on the first new nan."""
    frames = _user_stack()
    ctx._anomaly_trace = frames
    ctx.function = _checked(function)  # the engine's node.function.backward(...) checks
    if not _check_nan or out.dtype.kind not in "fc" or not np.isnan(out).any():
        return
    op = _op_name(function)
    bad = [k for k, a in enumerate(args) if _bad_kind(getattr(a, "_data", None)) == "nan"]
    if bad:
        cause = (f"Function '{op}' received nan values in its input {bad[0]}, which no op "
                 "recorded under anomaly mode produced: it is data, a parameter, or a value "
                 "computed outside autograd (an optimizer step, an in-place write to .data). "
                 "Check the batch (np.isnan(x.numpy()).any()) and the parameters after the last "
                 "optimizer step (lower the learning rate or clip gradients).")
    else:
        cause = (f"Function '{op}' produced nan values in its forward output from inputs without "
                 "nan.")
    raise RuntimeError(f"{cause}\nForward call that produced them (most recent call last):\n"
                       f"{_format(frames)}{_hint(op).lstrip()}".rstrip())


def backward_hook(node, grad, input_grads) -> None:
    """After an op's backward (``grad`` in, ``input_grads`` out): raise on nan or inf out."""
    if not _check_nan:
        return
    for k, g in enumerate(input_grads):
        kind = _bad_kind(np.asarray(g) if isinstance(g, float) else g)
        if kind is None:
            continue
        op = _op_name(node.function) if node.function is not None else node.name()
        frames = getattr(node, "_anomaly_trace", None)
        received = (f"the gradient it received was finite, so '{op}'.backward made the {kind}"
                    if _bad_kind(grad) is None else "the gradient it received already held "
                    "nan/inf: check the gradient passed to backward()")
        where = ("Traceback of forward call that caused the error (most recent call last):\n"
                 f"{_format(frames)}" if frames is not None else
                 "(this op was recorded before anomaly mode was turned on, so its forward line "
                 "is unknown: turn it on before the forward pass)\n")
        raise RuntimeError(f"Function '{node.name()}' returned {kind} values in its {k}th "
                           f"output.\n{where}"
                           f"That is the gradient for input {k} of '{op}'; {received}.{_hint(op)}")


# --------------------------------------------------------------------------- the switch


def is_anomaly_enabled() -> bool:
    """True while anomaly detection is on."""
    return _engine._anomaly is not None


def is_anomaly_check_nan_enabled() -> bool:
    """True while anomaly detection is on and checks values for nan (``check_nan=True``)."""
    return _engine._anomaly is not None and _check_nan


class set_detect_anomaly:
    """Turn anomaly detection on or off: a plain call, or a context manager (like PyTorch).

    ``tt.autograd.set_detect_anomaly(True)`` leaves it on until ``set_detect_anomaly(False)``;
    ``with tt.autograd.set_detect_anomaly(True):`` restores the previous state on exit.
    ``check_nan=False`` only records forward lines (no nan/inf checks).
    """

    def __init__(self, mode: bool, check_nan: bool = True):
        global _check_nan
        self._prev = (_engine._anomaly is not None, _check_nan)
        _check_nan = bool(check_nan)
        _engine._set_anomaly_hooks(_HOOKS if mode else None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global _check_nan
        mode, _check_nan = self._prev
        _engine._set_anomaly_hooks(_HOOKS if mode else None)
        return False


class detect_anomaly(set_detect_anomaly):
    """Context manager (and decorator) that turns anomaly detection on inside its block."""

    def __init__(self, check_nan: bool = True):
        self._check = bool(check_nan)

    def __enter__(self):
        global _check_nan
        self._prev = (_engine._anomaly is not None, _check_nan)
        _check_nan = self._check
        _engine._set_anomaly_hooks(_HOOKS)
        return self

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self._check):
                return fn(*args, **kwargs)

        return wrapper


@functools.lru_cache(maxsize=None)
def _checked(function):
    """``function`` with a backward that checks what it returns (a subclass, made once).

    The node's ``function`` is swapped for it while anomaly mode records the node, so the
    check runs whichever backward loop walks the graph (yours in module 05 included).
    """

    def backward(ctx, grad):
        input_grads = function.backward(ctx, grad)
        backward_hook(ctx, grad, input_grads if isinstance(input_grads, tuple)
                      else (input_grads,))
        return input_grads

    return type(function.__name__, (function,),
                {"backward": staticmethod(backward), "__module__": __name__,
                 "__qualname__": function.__qualname__})


class _Hooks:
    """What the engine calls while anomaly mode is on (one object, so one global to test)."""

    forward = staticmethod(forward_hook)


_HOOKS = _Hooks()
