"""The one hook the autograd engine calls while a profiler or a FLOP counter is listening.

``Function.apply`` and the backward sweep (``core/autograd.py``) check a single module
variable, ``_active_profiler``; it is ``None`` unless something here installed the
dispatcher below, so an unprofiled program pays one comparison per op and nothing more.
While at least one observer (a ``profile()`` or a ``FlopCounterMode``) is attached, every
op's forward and every node's backward runs through :class:`_Dispatcher`, which times the
call and tells each observer what ran, on which shapes, for how long.

An observer is any object with four methods:

* ``op_begin()`` -- an op is about to run (a profiler opens a frame, to subtract nested
  time from its parent's self time);
* ``op_forward(cls, ctx, arrays, kwargs, out, t0, t1)`` -- ``cls.forward`` ran on the NumPy
  ``arrays`` from ``t0`` to ``t1`` (``time.perf_counter_ns``) and returned ``out``;
* ``op_backward(node, grad, t0, t1)`` -- ``node``'s backward ran on ``grad`` (dL/d output).
* ``op_failed()`` -- the op raised (a shape error, say): close what ``op_begin`` opened.

Nothing is patched: the engine asks, the observers answer.
"""

from __future__ import annotations

from time import perf_counter_ns

from tinytorch.core import autograd

__all__ = ["attach", "detach", "observers"]


class _Dispatcher:
    """Runs an op's forward or backward between two clock reads and reports it."""

    def __init__(self):
        self.observers: list = []
        self._timing = None  # the node whose backward the engine's own hook is timing

    def forward(self, cls, ctx, arrays, kwargs):
        obs = self.observers
        for o in obs:
            o.op_begin()
        t0 = perf_counter_ns()
        try:
            out = cls.forward(ctx, *arrays, **kwargs)
        except BaseException:
            for o in reversed(obs):
                o.op_failed()
            raise
        t1 = perf_counter_ns()
        # a backward loop that does not call this hook (yours from module 05) still calls
        # node.function.backward: give the node a function whose backward reports itself
        ctx.function = _timed(cls)
        for o in reversed(obs):  # innermost (last attached) closes its frame first
            o.op_forward(cls, ctx, arrays, kwargs, out, t0, t1)
        return out

    def backward(self, node, grad):
        """The engine's hook: time ``node.function.backward(node, grad)``."""
        prev, self._timing = self._timing, node
        try:
            return self._timed_call(node.function.backward, node, grad)
        finally:
            self._timing = prev

    def _timed_call(self, backward, node, grad):
        obs = list(self.observers)
        for o in obs:
            o.op_begin()
        t0 = perf_counter_ns()
        try:
            grads = backward(node, grad)
        except BaseException:
            for o in reversed(obs):
                o.op_failed()
            raise
        t1 = perf_counter_ns()
        for o in reversed(obs):
            o.op_backward(node, grad, t0, t1)
        return grads


_TIMED: dict = {}  # Function class -> its subclass whose backward reports to the dispatcher


def _timed(function):
    """``function`` with a backward that is timed unless the engine's hook already times it.

    Made once per op class. The node's own ``function`` attribute is set to it while a
    profiler records the node (the class itself is untouched), as anomaly mode does.
    """
    sub = _TIMED.get(function)
    if sub is None:
        def backward(ctx, grad):
            if _DISPATCHER._timing is ctx or not _DISPATCHER.observers:
                return function.backward(ctx, grad)
            return _DISPATCHER._timed_call(function.backward, ctx, grad)

        sub = _TIMED[function] = type(function.__name__, (function,), {
            "backward": staticmethod(backward), "__module__": __name__,
            "__qualname__": function.__qualname__})
    return sub


_DISPATCHER = _Dispatcher()


def observers() -> tuple:
    """The observers listening now, outermost first."""
    return tuple(_DISPATCHER.observers)


def attach(observer) -> None:
    """Start reporting every op to ``observer`` (installs the engine hook if it was off)."""
    _DISPATCHER.observers.append(observer)
    autograd._set_profiler(_DISPATCHER)


def detach(observer) -> None:
    """Stop reporting to ``observer``; the last one out removes the engine hook."""
    obs = _DISPATCHER.observers
    if observer in obs:
        obs.remove(observer)
    if not obs:
        autograd._set_profiler(None)
