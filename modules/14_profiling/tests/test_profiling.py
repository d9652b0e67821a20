"""Module 14 graded tests: profiling -- FLOPs, bytes, latency statistics, the profiler's table.

Every check plants a model whose numbers are known by hand (an MLP, a grouped convolution, a
float64 copy) and compares exactly: FLOP formulas from the shapes, parameter bytes from the
dtypes, median and IQR from a fake clock whose readings the test chooses.
"""

import json

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn as nn
from tinytorch.profiling import (FlopCounterMode, amdahl_limit, amdahl_speedup, conv2d_flops,
                                 count_parameters, matmul_flops, measure_latency,
                                 measure_memory, model_size, parameter_bytes, profile_layers,
                                 summarize)
from tinytorch.profiling.profiler import FunctionEventAvg, profile, record_function


def mlp(seed=0):
    tt.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


def batch(shape, grad=False, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return tt.tensor(x, requires_grad=grad)


# ----------------------------------------------------------------- FLOP formulas


def test_matmul_flops_is_two_m_n_k_per_batch():
    assert matmul_flops((32, 64), (64, 10)) == 2 * 32 * 10 * 64
    assert matmul_flops((3, 4, 5), (3, 5, 6)) == 2 * 3 * 4 * 6 * 5
    # leading dims broadcast: (2, 1) with (3,) is a batch of 6 products
    assert matmul_flops((2, 1, 4, 5), (3, 5, 6)) == 2 * 6 * 4 * 6 * 5
    assert matmul_flops((7, 5), (5, 1)) == 2 * 7 * 1 * 5
    assert matmul_flops((5,), (5, 3)) == 2 * 1 * 3 * 5  # a vector is one row


def test_conv2d_flops_use_the_output_size_and_channels_per_group():
    # weight (C_out, C_in/groups, kh, kw) = (6, 2, 3, 3); output (N, C_out, Ho, Wo) = (2, 6, 5, 4)
    assert conv2d_flops((2, 4, 9, 8), (6, 2, 3, 3), (2, 6, 5, 4)) == 2 * 2 * 6 * 5 * 4 * 2 * 9
    assert conv2d_flops((1, 3, 8, 8), (8, 3, 1, 1), (1, 8, 8, 8)) == 2 * 8 * 64 * 3


def test_counter_on_an_mlp_forward_counts_every_sample_of_the_batch():
    m, x = mlp(), batch((16, 64))
    with FlopCounterMode(display=False) as fc:
        m(x)
    assert fc.get_total_flops() == 2 * 16 * (64 * 32 + 32 * 10)


def test_counter_forward_and_backward_counts_only_the_gradients_needed():
    m, x = mlp(), batch((16, 64))  # the input needs no gradient
    l1, l2 = 2 * 16 * 64 * 32, 2 * 16 * 32 * 10
    with FlopCounterMode(m, display=False) as fc:
        m(x).sum().backward()
    # layer 1: forward + dW; layer 2: forward + dW + dx (its input comes from layer 1)
    assert fc.get_total_flops() == 2 * l1 + 3 * l2
    counts = fc.get_flop_counts()
    assert sum(counts["Sequential.0"].values()) == 2 * l1
    assert sum(counts["Sequential.2"].values()) == 3 * l2
    assert counts["Global"]["Linear"] == l1 + l2  # nn.Linear is one op, as addmm in PyTorch
    assert counts["Global"]["LinearBackward"] == l1 + 2 * l2
    x = batch((16, 64), grad=True)
    with FlopCounterMode(display=False) as fc:
        m(x).sum().backward()
    assert fc.get_total_flops() == 3 * l1 + 3 * l2


def test_counter_on_a_grouped_strided_conv():
    tt.manual_seed(0)
    conv = nn.Conv2d(4, 6, kernel_size=3, stride=2, padding=1, groups=2)
    x = batch((2, 4, 9, 8))
    with FlopCounterMode(display=False) as fc:
        y = conv(x)
    assert y.shape == (2, 6, 5, 4)
    assert fc.get_total_flops() == 2 * (2 * 6 * 5 * 4) * (4 // 2) * 3 * 3


def test_counter_on_attention():
    q, k, v = batch((2, 3, 5, 4)), batch((2, 3, 6, 4), seed=1), batch((2, 3, 6, 7), seed=2)
    with FlopCounterMode(display=False) as fc:
        nn.functional.scaled_dot_product_attention(q, k, v)
    assert fc.get_total_flops() == 2 * 6 * 5 * 6 * 4 + 2 * 6 * 5 * 6 * 7


def test_counter_table_names_modules_and_ops():
    m, x = mlp(), batch((4, 64))
    with FlopCounterMode(m, display=False) as fc:
        m(x)
    text = fc.get_table()
    assert "Sequential.0" in text and "Linear" in text and "100.00%" in text


# ----------------------------------------------------------------- bytes


def test_parameter_count_and_bytes_follow_the_dtype():
    m = mlp()
    n = 64 * 32 + 32 + 32 * 10 + 10
    assert count_parameters(m) == n
    assert parameter_bytes(m) == 4 * n
    assert parameter_bytes(mlp().double()) == 8 * n
    assert parameter_bytes(mlp().half()) == 2 * n
    size = model_size(m)
    assert size["parameters"] == n and size["total_bytes"] == 4 * n


def test_shared_parameter_is_counted_once():
    tied = nn.Sequential(nn.Linear(8, 8, bias=False), nn.Linear(8, 8, bias=False))
    tied[1].weight = tied[0].weight
    assert count_parameters(tied) == 64 and parameter_bytes(tied) == 256


def test_measure_memory_sees_a_temporary_allocation():
    def work():
        big = np.ones(1_000_000)  # 8 MB, freed before returning
        return float(big.sum())

    stats = measure_memory(work)
    assert stats.result == 1_000_000.0
    assert 8_000_000 <= stats.peak_bytes < 9_000_000
    assert stats.retained_bytes < 100_000


# ----------------------------------------------------------------- latency


class FakeClock:
    """A clock that moves only when the timed function runs: call i takes durations[i]."""

    def __init__(self, durations):
        self.now, self.durations, self.calls = 0.0, list(durations), 0

    def timer(self):
        return self.now

    def fn(self):
        self.now += self.durations[self.calls]
        self.calls += 1


def test_latency_discards_warmup_and_reports_median_and_iqr():
    durations = [5.0, 4.0] + [1.0, 2.0, 3.0, 4.0, 100.0]  # two slow warm-up calls
    clock = FakeClock(durations)
    stats = measure_latency(clock.fn, warmup=2, repeats=5, timer=clock.timer)
    assert clock.calls == 7
    assert stats.samples == (1.0, 2.0, 3.0, 4.0, 100.0)
    assert stats.median == 3.0  # the outlier does not move it; the mean (22) it does
    assert (stats.q1, stats.q3, stats.iqr) == (2.0, 4.0, 2.0)
    assert stats.mean == 22.0 and stats.min == 1.0


def test_summarize_interpolates_quartiles_like_numpy():
    s = summarize([4.0, 1.0, 3.0, 2.0])
    assert s.median == 2.5
    assert s.q1 == pytest.approx(1.75) and s.q3 == pytest.approx(3.25)


def test_amdahl():
    assert amdahl_speedup(0.6, 10) == pytest.approx(1 / (0.4 + 0.06))
    assert amdahl_speedup(0.5, 2) == pytest.approx(4 / 3)
    assert amdahl_speedup(0.0, 100) == 1.0
    assert amdahl_limit(0.9) == pytest.approx(10.0)
    with pytest.raises(ValueError):
        amdahl_speedup(1.5, 2)


# ----------------------------------------------------------------- the profiler


def test_event_averages_sum_counts_and_times():
    a = FunctionEventAvg("MatMul", count=2, cpu_time_total=5.0, self_cpu_time_total=4.0,
                         flops=10)
    b = FunctionEventAvg("MatMul", count=3, cpu_time_total=7.0, self_cpu_time_total=6.0,
                         flops=20)
    a.add(b)
    assert (a.count, a.cpu_time_total, a.self_cpu_time_total, a.flops) == (5, 12.0, 10.0, 30)
    assert a.cpu_time == pytest.approx(12.0 / 5)


def test_profiler_sees_every_forward_and_backward_op():
    m, x = mlp(), batch((8, 64))
    with profile(with_flops=True) as prof:
        for _ in range(3):
            m(x).sum().backward()
    avg = {e.key: e for e in prof.key_averages()}
    assert avg["Linear"].count == 6 and avg["LinearBackward"].count == 6
    assert avg["ReLU"].count == 3 and avg["ReLUBackward"].count == 3
    assert avg["Linear"].flops == 3 * 2 * 8 * (64 * 32 + 32 * 10)
    events = prof.events()
    assert len(events) == sum(e.count for e in avg.values())
    assert avg["Linear"].cpu_time_total == pytest.approx(
        sum(e.cpu_time_total for e in events if e.name == "Linear"))
    assert all(e.cpu_time_total > 0 for e in events)
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=4)
    rows = [ln.split() for ln in table.splitlines() if ln.split() and ln.split()[0] in avg]
    assert len(rows) == 4  # row_limit
    top = sorted(avg.values(), key=lambda e: e.self_cpu_time_total, reverse=True)[:4]
    assert [r[0] for r in rows] == [e.key for e in top]
    assert [int(r[6]) for r in rows] == [e.count for e in top]  # the "# of Calls" column
    assert "Self CPU time total" in table


def test_profiler_groups_by_input_shape():
    m = mlp()
    with profile(record_shapes=True) as prof:
        m(batch((4, 64)))
        m(batch((2, 64)))
    by_shape = [e for e in prof.key_averages(group_by_input_shape=True) if e.key == "Linear"]
    # input, weight (out, in) and bias, as PyTorch records aten::linear
    assert sorted(e.input_shapes for e in by_shape) == [
        ((2, 32), (10, 32), (10,)), ((2, 64), (32, 64), (32,)),
        ((4, 32), (10, 32), (10,)), ((4, 64), (32, 64), (32,))]
    assert all(e.count == 1 for e in by_shape)


def test_record_function_self_time_excludes_its_ops():
    m, x = mlp(), batch((8, 64))
    with profile() as prof:
        with record_function("forward"):
            m(x)
    events = prof.events()
    outer = [e for e in events if e.name == "forward"]
    assert len(outer) == 1
    inner = sum(e.cpu_time_total for e in events if e.name != "forward")
    assert outer[0].self_cpu_time_total == pytest.approx(outer[0].cpu_time_total - inner)
    assert outer[0].cpu_time_total >= inner


# ----------------------------------------------------------------- per-layer report


def test_layer_report_rows(tmp_path):
    m, x = mlp(), batch((16, 64))
    rep = profile_layers(m, x, repeats=2)
    assert [r.name for r in rep.rows] == ["0", "1", "2"]
    assert [r.kind for r in rep.rows] == ["Linear", "ReLU", "Linear"]
    assert [r.parameter_bytes for r in rep.rows] == [4 * (64 * 32 + 32), 0, 4 * (32 * 10 + 10)]
    assert [r.flops for r in rep.rows] == [2 * 16 * 64 * 32, 0, 2 * 16 * 32 * 10]
    assert rep.rows[1].output_shape == (16, 32) and rep.rows[1].output_bytes == 16 * 32 * 4
    rep.to_json(tmp_path / "layers.json")
    data = json.loads((tmp_path / "layers.json").read_text())
    assert data["total_flops"] == 2 * 16 * (64 * 32 + 32 * 10)
    assert data["layers"][0]["parameters"] == 64 * 32 + 32
