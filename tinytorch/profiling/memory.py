"""Module 14 -- memory in bytes that exist: parameters, buffers, activations, peak.

* Parameter bytes are the ``nbytes`` of the arrays a model holds (``p.numpy().nbytes``):
  float32 weights are 4 bytes each, float64 8, float16 2. A parameter shared by two layers
  (tied embeddings) is one array and is counted once.
* Activation and peak memory are measured with :mod:`tracemalloc`, which NumPy reports its
  array allocations to: the peak is the most memory that was allocated at once while the
  function ran, above what was allocated when it started.
"""

from __future__ import annotations

import tracemalloc
from dataclasses import dataclass

__all__ = ["count_parameters", "parameter_bytes", "buffer_bytes", "model_size",
           "MemoryStats", "measure_memory"]


def count_parameters(model, trainable_only: bool = False) -> int:
    """Number of scalar parameters (each shared parameter once)."""
    return sum(p.numel() for p in model.parameters()
               if p.requires_grad or not trainable_only)


def parameter_bytes(model) -> int:
    """Bytes of every parameter array, each shared parameter once (``nbytes``, real dtype)."""
    # BEGIN SOLUTION
    return sum(p.numpy().nbytes for p in model.parameters())
    # END SOLUTION


def buffer_bytes(model) -> int:
    """Bytes of the buffers (BatchNorm's running statistics, masks): state that is not learned."""
    return sum(b.numpy().nbytes for b in model.buffers() if b is not None)


def model_size(model) -> dict:
    """Parameter count and bytes, buffer bytes, and their total (what a checkpoint stores)."""
    pb, bb = parameter_bytes(model), buffer_bytes(model)
    return {"parameters": count_parameters(model), "parameter_bytes": pb,
            "buffer_bytes": bb, "total_bytes": pb + bb}


@dataclass(frozen=True)
class MemoryStats:
    """``peak_bytes``: the most allocated at once during the call (above the start);
    ``retained_bytes``: still allocated when it returned (its result, caches it filled)."""

    peak_bytes: int
    retained_bytes: int
    result: object = None


def measure_memory(fn, *args, **kwargs) -> MemoryStats:
    """Run ``fn(*args, **kwargs)`` under tracemalloc and report its peak and retained bytes.

    For a model, ``measure_memory(model, x)`` under ``tt.no_grad()`` is roughly the largest
    pair of live activations; with grad on, it also holds what backward will need (the
    saved activations), which is why training needs more memory than inference.
    """
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    start, _ = tracemalloc.get_traced_memory()
    try:
        result = fn(*args, **kwargs)
        now, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return MemoryStats(max(0, peak - start), max(0, now - start), result)
