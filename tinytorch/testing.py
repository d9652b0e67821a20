"""``tinytorch.testing``: assertions whose failure tells a learner what went wrong.

``assert_close(got, expected, inputs={...})`` fails with the inputs, the expected value, the
value received and where they differ most, so a graded test reads as a worked example.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.tensor import Tensor

__all__ = ["assert_close", "to_numpy"]


def to_numpy(x) -> np.ndarray:
    """Array of a Tensor, a NumPy array, a number or a nested list (or a torch tensor)."""
    if isinstance(x, Tensor):
        return x._data
    if hasattr(x, "detach") and hasattr(x, "numpy"):  # a torch tensor, without importing torch
        return x.detach().numpy()
    return np.asarray(x)


def _fmt(a, limit=400) -> str:
    s = np.array2string(np.asarray(a), precision=5, threshold=50, edgeitems=3)
    return s if len(s) <= limit else s[:limit] + " ..."


def assert_close(got, expected, *, rtol: float = 1e-5, atol: float = 1e-6, what: str = "result",
                 inputs: dict | None = None, check_dtype: bool = False) -> None:
    """Raise AssertionError unless ``got`` matches ``expected`` in shape and value.

    Args:
        got, expected: Tensors, arrays or numbers.
        what: what is being compared, e.g. ``"relu(x)"`` or ``"x.grad"``.
        inputs: named inputs to print on failure, e.g. ``{"x": x}``.
        check_dtype: also require the same dtype.
    """
    g, e = to_numpy(got), to_numpy(expected)

    def fail(reason):
        # formatted only on failure: printing arrays costs more than comparing them
        lines = []
        for name, v in (inputs or {}).items():
            arr = to_numpy(v)
            lines.append(f"  input {name} (shape {tuple(arr.shape)}):\n    " + _fmt(arr).replace("\n", "\n    "))
        body = "\n".join(lines)
        raise AssertionError(
            f"{what}: {reason}\n{body}\n  expected:\n    " + _fmt(e).replace("\n", "\n    ")
            + "\n  got:\n    " + _fmt(g).replace("\n", "\n    ")
        )

    if got is None:
        fail("got None (is the function still a stub, or did backward not fill .grad?)")
    if g.shape != e.shape:
        fail(f"shape {tuple(g.shape)} differs from expected {tuple(e.shape)}")
    if check_dtype and g.dtype != e.dtype:
        fail(f"dtype {g.dtype} differs from expected {e.dtype}")
    if g.dtype.kind == "b" or e.dtype.kind == "b":
        bad = g != e
    else:
        with np.errstate(invalid="ignore"):
            bad = ~np.isclose(g.astype(np.float64), e.astype(np.float64), rtol=rtol, atol=atol,
                              equal_nan=True)
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0]) if g.ndim else ()
        fail(f"{int(np.sum(bad))} of {bad.size} values differ (first at index {idx}: expected "
             f"{e[idx] if e.ndim else e}, got {g[idx] if g.ndim else g}; rtol={rtol}, atol={atol})")
