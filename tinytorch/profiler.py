"""``tt.profiler``: PyTorch's ``torch.profiler`` spelling. A face over :mod:`tinytorch.profiling`."""

from tinytorch.profiling.profiler import (EventList, FunctionEvent, FunctionEventAvg,
                                          ProfilerActivity, profile, record_function)

__all__ = ["profile", "record_function", "ProfilerActivity", "EventList", "FunctionEvent",
           "FunctionEventAvg"]
