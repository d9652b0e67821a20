"""What a timing depends on, written beside it: CPU, cores, NumPy and its BLAS, threads.

A number without its machine is not a result. The same MLP step takes 2 ms on one laptop and
9 ms on a shared server; the same NumPy runs 3x faster with OpenBLAS's AVX-512 kernels than
with a generic build; four BLAS threads on a two-core machine busy with other work are slower
than one. :func:`capture` records all of that (and the load other processes put on the
machine) so a results file can be read -- and two results files compared -- with the
context in view.
"""

from __future__ import annotations

import datetime
import io
import os
import platform
import sys
from contextlib import redirect_stdout
from importlib import metadata

from tinytorch.benchmarking.isolation import THREAD_VARS

__all__ = ["cpu_model", "blas_info", "load_average", "capture"]


def cpu_model() -> str:
    """The CPU's marketing name (Linux: /proc/cpuinfo), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def blas_info() -> dict:
    """NumPy's BLAS: from threadpoolctl when installed (library, version, threads, CPU
    architecture it picked), else the build configuration NumPy reports about itself."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threadpool_info = None
    if threadpool_info is not None:
        pools = [{k: p.get(k) for k in ("internal_api", "version", "num_threads",
                                        "architecture", "threading_layer")}
                 for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            return {"source": "threadpoolctl", "pools": pools}
    import numpy as np

    try:  # NumPy >= 1.26 returns a dict; older versions only print
        config = np.show_config(mode="dicts")
        blas = config.get("Build Dependencies", {}).get("blas", {})
        return {"source": "numpy.show_config", "name": blas.get("name"),
                "version": blas.get("version")}
    except TypeError:
        text = io.StringIO()
        with redirect_stdout(text):
            np.show_config()
        return {"source": "numpy.show_config", "text": text.getvalue()[:2000]}


def load_average() -> float | None:
    """The 1-minute load average (runnable processes): above the core count, timings wait."""
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


def capture() -> dict:
    """Everything above, plus the date, Python, library versions and thread variables."""
    import numpy as np

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "numpy": np.__version__,
        "tinytorch": _version("tinytorch"),
        "torch": _version("torch"),
        "blas": blas_info(),
        "thread_env": {v: os.environ.get(v) for v in THREAD_VARS},
        "load_average_1min": load_average(),
        "executable": sys.executable,
    }
