"""The process's memory allocator policy, set once when tinytorch is imported.

Why: a training step frees and re-allocates the same multi-megabyte arrays every step (the
im2col matrix, attention scores, activations and their gradients). glibc's ``malloc`` serves
a request above ``M_MMAP_THRESHOLD`` (128 KiB at start, raised dynamically up to 32 MiB) with a
fresh ``mmap`` and gives it back to the OS on ``free``; memory freed at the top of the heap
beyond ``M_TRIM_THRESHOLD`` is given back too. The next step then page-faults every one of
those pages in again and the kernel zeroes them: on this project's 2-core machine that was
most of the time of a LeNet step in a fresh process (20.4 ms, 8.9 ms with the thresholds
raised; PyTorch 7.1 ms). PyTorch keeps its own caches; NumPy relies on ``malloc``.

What: on glibc (Linux), raise both thresholds with ``mallopt`` so that freed blocks stay in
the process and are reused by the next step:

* ``M_MMAP_THRESHOLD`` = 32 MiB (glibc's maximum on 64-bit): blocks below it come from the
  heap and are reused instead of mapped and unmapped;
* ``M_TRIM_THRESHOLD`` = 512 MiB: the heap keeps up to that much free memory on top.

The price: the process keeps the memory its largest step needed (its resident size stays at
the training loop's peak instead of falling between steps), which is what PyTorch's caching
does as well. Arrays above 32 MiB are still mapped and unmapped each time.

Opt out with the environment variable ``TINYTORCH_MALLOC=0`` (set before importing
tinytorch). Explicit ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_`` variables are
respected: then nothing is changed. Other C libraries (macOS, Windows, musl): nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

__all__ = ["configure", "POLICY"]

M_TRIM_THRESHOLD = -1  # glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc caps it at HEAP_MAX_SIZE / 2 = 32 MiB on 64-bit
TRIM_THRESHOLD = 512 * 1024 * 1024

#: what :func:`configure` did: ``"glibc thresholds raised"``, or why it did nothing
POLICY = "not configured"


def _glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (ValueError, OSError, AttributeError):  # not a GNU system
        return False


def configure() -> str:
    """Apply the policy once (idempotent); return a sentence saying what was done."""
    global POLICY
    if POLICY != "not configured":
        return POLICY
    if os.environ.get("TINYTORCH_MALLOC", "1").strip().lower() in ("0", "off", "false", "no"):
        POLICY = "off (TINYTORCH_MALLOC=0)"
    elif "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        POLICY = "left to the MALLOC_*_THRESHOLD_ environment variables"
    elif not _glibc():
        POLICY = "not glibc: allocator left as it is"
    else:
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            ok = (libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
                  and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1)
        except (OSError, AttributeError):
            ok = False
        POLICY = ("glibc thresholds raised (mmap 32 MiB, trim 512 MiB)" if ok
                  else "mallopt failed: allocator left as it is")
    return POLICY
