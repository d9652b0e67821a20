"""The profiler's engine hook and the profiling package's extras (module 14).

The hook must be off (None) whenever nothing listens, survive exceptions, serve a profiler
and a FLOP counter at once, and never change what an op computes."""

import json

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
from tinytorch.core import autograd
from tinytorch.profiling import EXTRA_FLOP_FORMULAS, FlopCounterMode, profile_layers
from tinytorch.profiling.hooks import observers


def _mlp():
    tt.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3))


def _x(shape=(4, 6), grad=False):
    return tt.tensor(np.random.default_rng(0).standard_normal(shape).astype(np.float32),
                     requires_grad=grad)


def test_hook_is_off_outside_and_removed_after_an_exception():
    assert autograd._active_profiler is None
    with pytest.raises(ValueError):
        with tt.profiler.profile():
            assert autograd._active_profiler is not None
            raise ValueError("boom")
    assert autograd._active_profiler is None and observers() == ()


def test_profiler_and_flop_counter_listen_together_and_results_are_unchanged():
    m, x = _mlp(), _x(grad=True)
    ref = m(x)
    ref.sum().backward()
    ref_grad = x.grad.numpy().copy()
    x.grad = None
    with tt.profiler.profile() as prof, FlopCounterMode(display=False) as fc:
        out = m(x)
        out.sum().backward()
    assert autograd._active_profiler is None
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_array_equal(x.grad.numpy(), ref_grad)
    assert fc.get_total_flops() == 3 * 2 * 4 * (6 * 5 + 5 * 3)
    names = {e.key for e in prof.key_averages()}
    assert {"Linear", "LinearBackward", "Tanh", "TanhBackward"} <= names


def test_nested_profiles_both_record_and_the_outer_keeps_listening():
    m, x = _mlp(), _x()
    with tt.profiler.profile() as outer:
        with tt.profiler.profile() as inner:
            m(x)
        m(x)
    assert sum(e.count for e in inner.key_averages() if e.key == "Linear") == 2
    assert sum(e.count for e in outer.key_averages() if e.key == "Linear") == 4


def test_record_function_outside_a_profile_does_nothing_and_works_as_decorator():
    @tt.profiler.record_function("step")
    def step(m, x):
        return m(x)

    m, x = _mlp(), _x()
    step(m, x)  # no profiler: no error
    with tt.profiler.profile() as prof:
        step(m, x)
    assert [e.count for e in prof.key_averages() if e.key == "step"] == [1]


def test_table_rejects_an_unknown_sort_key_and_exports(tmp_path):
    m, x = _mlp(), _x()
    with tt.profiler.profile(record_shapes=True) as prof:
        m(x)
    with pytest.raises(ValueError, match="cannot sort by"):
        prof.key_averages().table(sort_by="gpu_time")
    prof.export_chrome_trace(tmp_path / "trace.json")
    trace = json.loads((tmp_path / "trace.json").read_text())["traceEvents"]
    assert len(trace) == len(prof.events()) and all(ev["ph"] == "X" for ev in trace)
    prof.key_averages().export_json(tmp_path / "ops.json")
    assert {r["name"] for r in json.loads((tmp_path / "ops.json").read_text())} >= {"Linear"}


def test_extra_formulas_count_norms_when_asked():
    ln, x = nn.LayerNorm(6), _x()
    with FlopCounterMode(display=False) as fc:
        ln(x)
    assert fc.get_total_flops() == 0  # as PyTorch: norms are not counted by default
    with FlopCounterMode(display=False, custom_mapping=EXTRA_FLOP_FORMULAS) as fc:
        ln(x)
    assert fc.get_total_flops() == 7 * 4 * 6


def test_layer_report_bar_chart_is_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    rep = profile_layers(_mlp(), _x(), repeats=1)
    rep.bar_chart(tmp_path / "layers.png", metric="flops")
    assert (tmp_path / "layers.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class _Boom(autograd.Function):
    @staticmethod
    def forward(ctx, x):
        raise ValueError("boom")


def test_an_op_that_raises_leaves_the_profile_consistent():
    m, x = _mlp(), _x()
    with tt.profiler.profile() as prof:
        with tt.profiler.record_function("outer"):
            with pytest.raises(ValueError, match="boom"):
                _Boom.apply(_x())
            assert len(prof._stack) == 1  # only "outer" is open
            m(x)
    events = prof.events()
    outer = [e for e in events if e.name == "outer"][0]
    inner = sum(e.cpu_time_total for e in events if e.name != "outer")
    assert outer.self_cpu_time_total == pytest.approx(outer.cpu_time_total - inner)


def _learner_sweep(loss):
    """A backward sweep written without the profiler hook, as a learner's module 05 may be:
    it only calls node.function.backward(node, grad)."""
    order = autograd._topological_order(loss.grad_fn)
    grads = {loss.grad_fn: np.ones_like(loss.numpy())}
    for node in reversed(order):
        g = grads.pop(node, None)
        if g is None:
            continue
        out = node.function.backward(node, g)
        out = out if isinstance(out, tuple) else (out,)
        for inp, gi, need in zip(node.inputs, out, node.needs_input_grad):
            if need and gi is not None and inp.grad_fn is not None:
                gi = autograd.unbroadcast(np.asarray(gi), inp.shape)
                grads[inp.grad_fn] = grads.get(inp.grad_fn, 0) + gi


def test_backward_is_timed_once_by_the_engine_and_also_by_a_loop_without_the_hook():
    m, x = _mlp(), _x()
    with tt.profiler.profile() as prof:
        m(x).sum().backward()  # the engine's loop: its hook times each node once
    engine = {e.key: e.count for e in prof.key_averages()}
    assert engine["LinearBackward"] == 2 and engine["TanhBackward"] == 1
    with tt.profiler.profile() as prof, FlopCounterMode(display=False) as fc:
        _learner_sweep(m(x).sum())
    learner = {e.key: e.count for e in prof.key_averages()}
    assert learner == engine
    # forward, dW of both layers, dX of the second (the data needs no gradient)
    assert fc.get_total_flops() == 3 * 2 * 4 * (6 * 5 + 5 * 3) - 2 * 4 * 6 * 5
