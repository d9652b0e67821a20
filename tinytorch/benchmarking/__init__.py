"""Module 19 -- benchmarking: honest timings (warm-up, repeats, median and IQR, outliers),
the environment beside them, and TinyMLPerf, a fixed suite of tasks trained to quality targets.

    from tinytorch.benchmarking import Benchmark
    m = Benchmark(warmup=3, repeats=20).measure("step", step)
    m.summary.median, m.summary.iqr, m.summary.outliers
"""

from tinytorch.benchmarking.benchmark import Benchmark, Measurement, time_calls
# the submodule ``compare`` keeps its name (its function compare() is not re-exported here)
from tinytorch.benchmarking.compare import (Comparison, compare_results, score, suite_score,
                                            within_noise)
from tinytorch.benchmarking.stats import Summary, iqr, median, quantile, summarize, tukey_fences

__all__ = ["Benchmark", "Measurement", "time_calls", "Summary", "summarize", "quantile",
           "median", "iqr", "tukey_fences", "Comparison", "compare_results",
           "within_noise", "score", "suite_score"]
