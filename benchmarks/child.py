"""One workload, one framework, one fresh process: ``python benchmarks/child.py FRAMEWORK ID``.

Run by ``benchmarks/processes.py`` the way a user runs a training script: a plain Python
process that imports one framework, builds the model, runs a few warm-up steps, then a plain
loop of timed steps. The garbage collector stays on, nothing is frozen or tuned. The thread
count comes from the environment the parent sets (``OMP_NUM_THREADS`` and friends, read by
OpenBLAS and PyTorch at import) and, for torch, ``torch.set_num_threads``.

Prints one JSON object on stdout:

    {"framework", "id", "times_ms": [per step], "median_ms", "cpu_median_ms", "baseline_mb",
     "peak_growth_mb",
     "modules": [frameworks imported], "skipped": reason or null, "error": text or null}

``peak_growth_mb`` is the peak resident set size during the steps minus the resident size
after setup (model, optimizer and inputs built): the memory the steps themselves need. On
Linux the kernel's peak counter is reset after setup (``/proc/self/clear_refs``), so the
import and setup peaks do not count; elsewhere ``ru_maxrss`` is used (less exact).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class PeakMemory:
    """Peak RSS growth from now on, in MiB (see the module docstring)."""

    def __init__(self):
        gc.collect()
        self.reset = False
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # resets VmHWM to the current VmRSS
            self.reset = True
        except OSError:
            pass
        rss = _status_kb("VmRSS")
        self.base_kb = rss if rss is not None else self._maxrss_kb()

    @staticmethod
    def _maxrss_kb() -> int:
        r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return r // 1024 if sys.platform == "darwin" else r  # bytes on macOS, KiB on Linux

    def growth_mb(self) -> float:
        peak = _status_kb("VmHWM") if self.reset else None
        if peak is None:
            peak = self._maxrss_kb()
        return max(0, peak - self.base_kb) / 1024


def run(framework: str, spec_id: str, repeats: int, warmup: int, quick: bool,
        threads: int) -> dict:
    import suite

    out = {"framework": framework, "id": spec_id, "times_ms": [], "median_ms": None,
           "baseline_mb": None, "peak_growth_mb": None, "skipped": None, "error": None}
    try:
        spec = suite.get(spec_id)
        out["skipped"] = spec.available(framework)
        if out["skipped"] is None:
            if framework == "torch":
                import torch

                torch.set_num_threads(threads)
            step = spec.build(framework, quick)
            mem = PeakMemory()
            out["baseline_mb"] = mem.base_kb / 1024
            for _ in range(warmup):
                step()
            times, cpu = [], []
            for _ in range(repeats):  # a plain loop, as a training script runs
                t0, c0 = time.perf_counter(), time.process_time()
                step()
                times.append((time.perf_counter() - t0) * 1e3)
                cpu.append((time.process_time() - c0) * 1e3)
            out["peak_growth_mb"] = mem.growth_mb()
            out["times_ms"] = times
            out["median_ms"] = statistics.median(times)
            # CPU time (user + system) of this process: what the step cost when other
            # processes took turns on the cores; a check on a busy machine, not the headline
            out["cpu_median_ms"] = statistics.median(cpu)
    except Exception as e:  # a stubbed module in a learner's workspace, a missing model...
        out["error"] = f"{type(e).__name__}: {e}".splitlines()[0][:200]
        out["traceback"] = traceback.format_exc()[-2000:]
    out["modules"] = sorted(m for m in ("tinytorch", "torch") if m in sys.modules)
    if framework == "tinytorch":
        try:
            from tinytorch import _allocator

            out["allocator"] = _allocator.POLICY
        except ImportError:
            pass
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks/child.py", description=__doc__.splitlines()[0])
    p.add_argument("framework", choices=("tinytorch", "torch"))
    p.add_argument("id")
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", 1)))
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    result = run(args.framework, args.id, args.repeats, args.warmup, args.quick, args.threads)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
