"""Module 14 -- ``tt.profiler.profile()``: where the time of a forward and backward goes, op by op.

PyTorch's shape::

    with tt.profiler.profile(record_shapes=True) as prof:
        loss = model(x).sum()
        loss.backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))

Every op's forward is timed inside ``Function.apply`` and every node's backward inside the
engine's backward sweep (the hook in ``hooks.py``), so the table lists forward ops under the
op's name (``MatMul``, ``Conv2d``, ``ReLU``) and their gradients under the backward node's
name (``MatMulBackward``, ``Conv2dBackward``), as PyTorch lists ``aten::mm`` and
``MmBackward0``. ``record_function("name")`` adds a labelled range of your own (a layer, a
training phase); its *self* time is what its ops do not account for (Python overhead).

Times are wall-clock on the CPU (``time.perf_counter_ns``), reported in microseconds like
PyTorch's ``FunctionEvent`` fields; the table formats them as us/ms/s.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from time import perf_counter_ns

import numpy as np

from tinytorch.profiling import hooks
from tinytorch.profiling.flops import (BACKWARD_FLOPS, FORWARD_FLOPS, op_name,
                                       shapes_of)

__all__ = ["profile", "record_function", "ProfilerActivity", "FunctionEvent",
           "FunctionEventAvg", "EventList"]

_ACTIVE: list = []  # the profile() objects recording now, outermost first


class ProfilerActivity:
    """PyTorch's activity names; tinytorch runs on the CPU only."""
    CPU = "CPU"
    CUDA = "CUDA"


@dataclass
class FunctionEvent:
    """One timed call: an op's forward, a node's backward, or a ``record_function`` range.

    Times in microseconds. ``cpu_time_total`` is the call's wall time; ``self_cpu_time_total``
    is that minus the time of the events nested inside it.
    """

    name: str
    cpu_time_total: float
    self_cpu_time_total: float
    start_us: float = 0.0
    input_shapes: tuple = ()
    flops: int = 0
    is_backward: bool = False
    count: int = 1

    @property
    def key(self) -> str:
        return self.name


@dataclass
class FunctionEventAvg:
    """Every event with one key (name, and input shapes if grouped by them), summed."""

    key: str
    count: int = 0
    cpu_time_total: float = 0.0
    self_cpu_time_total: float = 0.0
    input_shapes: tuple = ()
    flops: int = 0
    is_backward: bool = False

    @property
    def cpu_time(self) -> float:
        """Average time per call (us)."""
        return self.cpu_time_total / self.count if self.count else 0.0

    @property
    def self_cpu_time(self) -> float:
        return self.self_cpu_time_total / self.count if self.count else 0.0

    def add(self, event) -> "FunctionEventAvg":
        """Fold one more event (or average) with the same key into this one."""
        # BEGIN SOLUTION
        self.count += event.count
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        self.flops += event.flops
        # END SOLUTION
        return self


def _format_us(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _format_flops(n: int) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.3f}{unit}"
    return str(n)


class EventList(list):
    """A list of events (``prof.events()``) or of their averages (``prof.key_averages()``)."""

    def key_averages(self, group_by_input_shape: bool = False) -> "EventList":
        """One :class:`FunctionEventAvg` per name (per name and input shapes if grouped),
        in order of first appearance."""
        groups: dict = {}
        for e in self:
            key = (e.key, tuple(e.input_shapes)) if group_by_input_shape else e.key
            avg = groups.get(key)
            if avg is None:
                avg = groups[key] = FunctionEventAvg(
                    e.key, input_shapes=tuple(e.input_shapes) if group_by_input_shape else (),
                    is_backward=e.is_backward)
            avg.add(e)
        return EventList(groups.values())

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg("Total")
        for e in self:
            total.add(e)
        return total

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self)

    def table(self, sort_by: str | None = None, row_limit: int = 100,
              max_name_column_width: int = 55, header: str | None = None,
              top_level_events_only: bool = False) -> str:
        """PyTorch's profiler table: name, self CPU (% and time), CPU total (% and time),
        CPU time per call, number of calls (and input shapes / FLOPs when recorded).

        ``sort_by``: any numeric attribute, largest first: ``"self_cpu_time_total"``,
        ``"cpu_time_total"``, ``"cpu_time"`` (per call), ``"count"``, ``"flops"``.
        """
        rows = list(self)
        if sort_by is not None:
            if not rows or not isinstance(getattr(rows[0], sort_by, None), (int, float)):
                if rows:
                    raise ValueError(
                        f"table: cannot sort by {sort_by!r}; use one of 'self_cpu_time_total', "
                        "'cpu_time_total', 'cpu_time', 'count', 'flops'")
            rows.sort(key=lambda e: getattr(e, sort_by), reverse=True)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        self_total = self.self_cpu_time_total or 1.0
        shapes = any(e.input_shapes for e in self)
        flops = any(e.flops for e in self)
        heads = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total",
                 "CPU time avg", "# of Calls"]
        if shapes:
            heads.append("Input Shapes")
        if flops:
            heads.append("Total FLOPs")
        body = []
        for e in rows:
            name = e.key if len(e.key) <= max_name_column_width else \
                e.key[:max_name_column_width - 3] + "..."
            r = [name, f"{100 * e.self_cpu_time_total / self_total:.2f}%",
                 _format_us(e.self_cpu_time_total),
                 f"{100 * e.cpu_time_total / self_total:.2f}%",
                 _format_us(e.cpu_time_total), _format_us(e.cpu_time), str(e.count)]
            if shapes:
                r.append(str(list(map(list, e.input_shapes))) if e.input_shapes else "[]")
            if flops:
                r.append(_format_flops(e.flops))
            body.append(r)
        widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(heads)]
        rule = "  ".join("-" * w for w in widths)

        def line(cells):
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(cells, widths)))

        out = ([header] if header else []) + [rule, line(heads), rule]
        out += [line(r) for r in body] + [rule,
                                         f"Self CPU time total: {_format_us(self_total)}"]
        return "\n".join(out)

    def export_json(self, path) -> None:
        """The events (or averages) as a JSON list of dicts, times in microseconds."""
        rows = []
        for e in self:
            rows.append({"name": e.key, "count": e.count,
                         "cpu_time_total_us": e.cpu_time_total,
                         "self_cpu_time_total_us": e.self_cpu_time_total,
                         "input_shapes": [list(s) for s in e.input_shapes],
                         "flops": int(e.flops), "is_backward": bool(e.is_backward)})
        with open(path, "w") as f:
            json.dump(rows, f, indent=1)


class profile:
    """Record every op's forward and backward time (and shapes, FLOPs) inside a ``with``.

    Args (PyTorch's): ``activities`` (CPU only here), ``record_shapes`` (keep each op's input
    shapes, so ``key_averages(group_by_input_shape=True)`` can split by them),
    ``with_flops`` (count FLOPs per event with ``flops.py``'s formulas), ``enabled``.
    ``profile_memory`` and ``with_stack`` are accepted and ignored (see ``memory.py`` for
    memory).
    """

    def __init__(self, activities=None, *, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False,
                 with_flops: bool = False, with_modules: bool = False, enabled: bool = True,
                 schedule=None, on_trace_ready=None, use_cuda=None):
        if activities is not None and any(str(a).upper().endswith("CUDA") for a in activities):
            raise RuntimeError("profile: tinytorch runs on the CPU only; use "
                               "activities=[ProfilerActivity.CPU] (or leave it out)")
        self.record_shapes, self.with_flops, self.enabled = record_shapes, with_flops, enabled
        self._events: list[FunctionEvent] = []
        self._stack: list[list] = []  # per open event: [time spent in events nested in it]
        self._t0 = 0

    # ------------------------------------------------------------------ context manager

    def __enter__(self):
        if self.enabled:
            self._events, self._stack = [], []
            self._t0 = perf_counter_ns()
            _ACTIVE.append(self)
            hooks.attach(self)
        return self

    def __exit__(self, *exc):
        if self.enabled:
            hooks.detach(self)
            if self in _ACTIVE:
                _ACTIVE.remove(self)
        return False

    def start(self):
        return self.__enter__()

    def stop(self):
        self.__exit__(None, None, None)

    def step(self):
        """PyTorch's schedule step; every step is recorded here."""

    # ------------------------------------------------------------------ results

    def events(self) -> EventList:
        """Every recorded call, in the order they finished."""
        return EventList(self._events)

    def key_averages(self, group_by_input_shape: bool = False) -> EventList:
        return EventList(self._events).key_averages(group_by_input_shape)

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self._events)

    def export_chrome_trace(self, path) -> None:
        """Write the events in Chrome's trace format (open in chrome://tracing or Perfetto)."""
        trace = [{"name": e.name, "ph": "X", "ts": e.start_us, "dur": e.cpu_time_total,
                  "pid": 0, "tid": 1 if e.is_backward else 0,
                  "cat": "backward" if e.is_backward else "cpu_op",
                  "args": {"input_shapes": [list(s) for s in e.input_shapes]}}
                 for e in self._events]
        with open(path, "w") as f:
            json.dump({"traceEvents": trace}, f)

    # ------------------------------------------------------------------ the engine's reports

    def op_begin(self) -> None:
        self._stack.append([0])

    def op_failed(self) -> None:
        if self._stack:
            self._stack.pop()

    def _close(self, name, t0, t1, shapes, flops, backward) -> None:
        children = self._stack.pop()[0] if self._stack else 0
        total = t1 - t0
        if self._stack:
            self._stack[-1][0] += total  # the enclosing event's self time excludes this one
        self._events.append(FunctionEvent(
            name, total / 1e3, (total - children) / 1e3, (t0 - self._t0) / 1e3,
            shapes if self.record_shapes else (), flops, backward))

    def op_forward(self, cls, ctx, arrays, kwargs, out, t0, t1) -> None:
        shapes = flops = 0
        if self.record_shapes or self.with_flops:
            shapes = tuple(a.shape for a in arrays if isinstance(a, np.ndarray))
        if self.with_flops and cls in FORWARD_FLOPS:
            flops = int(FORWARD_FLOPS[cls](shapes_of(arrays), getattr(out, "shape", ())))
        self._close(op_name(cls), t0, t1, shapes or (), flops, False)

    def op_backward(self, node, grad, t0, t1) -> None:
        shapes = (grad.shape,) if self.record_shapes else ()
        flops = 0
        function = type(node).function  # the op's class (node.function may be a wrapper)
        if self.with_flops and function in BACKWARD_FLOPS:
            flops = int(BACKWARD_FLOPS[function](shapes_of(node.inputs), grad.shape,
                                                      node.needs_input_grad))
        self._close(type(node).__name__, t0, t1, shapes, flops, True)

    def _range_begin(self) -> int:
        self.op_begin()
        return perf_counter_ns()

    def _range_end(self, name, t0) -> None:
        self._close(name, t0, perf_counter_ns(), (), 0, False)


class record_function:
    """Label a block of code in the profile: ``with record_function("attention"): ...``.

    Its event's total is the block's wall time; its self time is what the ops inside do not
    account for. Outside a ``profile()`` it does nothing. Works as a decorator too.
    """

    def __init__(self, name: str, args=None):
        self.name = name
        self._open: list = []

    def __enter__(self):
        self._open = [(p, p._range_begin()) for p in _ACTIVE]
        return self

    def __exit__(self, *exc):
        for p, t0 in reversed(self._open):
            p._range_end(self.name, t0)
        self._open = []
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with record_function(self.name):
                return fn(*args, **kwargs)
        return wrapper
