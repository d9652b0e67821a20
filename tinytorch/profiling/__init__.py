"""``tinytorch.profiling`` (module 14): measure where time, FLOPs and bytes go.

* ``profile`` / ``record_function`` -- op-level timing, forward and backward (``tt.profiler``);
* ``FlopCounterMode`` -- FLOPs from real shapes (``tt.utils.flop_counter``);
* ``count_parameters``, ``parameter_bytes``, ``model_size``, ``measure_memory`` -- bytes;
* ``measure_latency`` (median and IQR), ``amdahl_speedup`` -- time and its limits;
* ``profile_layers`` -- one row per layer, as a table, JSON or a bar chart.
"""

from tinytorch.profiling.flop_counter import FlopCounterMode
from tinytorch.profiling.flops import (EXTRA_FLOP_FORMULAS, attention_flops, conv2d_flops,
                                       matmul_flops)
from tinytorch.profiling.latency import (LatencyStats, amdahl_limit, amdahl_speedup,
                                         measure_latency, summarize)
from tinytorch.profiling.memory import (MemoryStats, buffer_bytes, count_parameters,
                                        measure_memory, model_size, parameter_bytes)
from tinytorch.profiling.profiler import (EventList, FunctionEvent, FunctionEventAvg,
                                          ProfilerActivity, profile, record_function)
from tinytorch.profiling.report import LayerProfile, LayerReport, profile_layers

__all__ = ["profile", "record_function", "ProfilerActivity", "EventList", "FunctionEvent",
           "FunctionEventAvg", "FlopCounterMode", "EXTRA_FLOP_FORMULAS", "matmul_flops",
           "conv2d_flops", "attention_flops", "LatencyStats", "measure_latency", "summarize",
           "amdahl_speedup", "amdahl_limit", "MemoryStats", "count_parameters",
           "parameter_bytes", "buffer_bytes", "model_size", "measure_memory", "LayerProfile",
           "LayerReport", "profile_layers"]
