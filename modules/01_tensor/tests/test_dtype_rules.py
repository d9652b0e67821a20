"""Module 01 graded tests: the dtype of every op's result, for every pair of operand kinds.

PyTorch's promotion rule, written out here independently of the code (NumPy alone differs:
it gives float64 for ``int64 tensor * 0.5``, ``int64 / int64`` and ``int64 with float32``):

* kinds are ordered bool < integer < floating;
* two tensors: the higher kind wins; within one kind the wider dtype (int32 + int64 -> int64,
  float32 + float64 -> float64); so int64 with float32 is float32, NOT NumPy's float64;
* a tensor with a Python number (bool, int, float, or a NumPy scalar such as np.float64(0.5)):
  the number only matters if its kind is higher than the tensor's, and then it brings the
  default dtype of its kind: float32 for a float, int64 for an int;
* ``/`` always gives a float (float32 unless an operand is float64).

The ops tried: + - * / ** and clip/clamp (scalar bounds), maximum, minimum, where. Values are
compared with a float64 NumPy computation.
"""

import operator

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.testing import assert_close

KIND = {"b": 0, "i": 1, "u": 1, "f": 2}


def _kind(dtype):
    return KIND[np.dtype(dtype).kind]


def expected_dtype(a, b, true_divide=False):
    """PyTorch's result dtype for op(a, b); a and b are np arrays (tensors) or scalars."""
    tensors = [np.asarray(x).dtype for x in (a, b) if isinstance(x, np.ndarray)]
    scalars = [x for x in (a, b) if not isinstance(x, np.ndarray)]
    top = max(_kind(d) for d in tensors)
    out = np.result_type(*[d for d in tensors if _kind(d) == top])
    for s in scalars:
        k = 0 if isinstance(s, (bool, np.bool_)) else 1 if isinstance(s, (int, np.integer)) else 2
        if k > _kind(out):
            out = np.dtype([np.bool_, np.int64, np.float32][k])
    if true_divide and _kind(out) < 2:
        out = np.dtype(np.float32)
    return np.dtype(out)


TENSORS = {
    "bool": np.array([True, False, True]),
    "int32": np.array([3, -2, 5], np.int32),
    "int64": np.array([4, 0, -3]),
    "float32": np.array([0.5, -1.5, 2.0], np.float32),
    "float64": np.array([1.25, 2.0, -0.5]),
}
SCALARS = {"True": True, "2": 2, "0.5": 0.5, "np.float64(0.5)": np.float64(0.5),
           "np.int64(3)": np.int64(3), "np.float32(1.5)": np.float32(1.5)}


def _pairs():
    for na, a in TENSORS.items():
        for nb, b in TENSORS.items():
            yield f"{na}-{nb}", a, b
        for nb, b in SCALARS.items():
            yield f"{na}-{nb}", a, b


PAIRS = list(_pairs())
BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul}


def _t(x):
    return tt.tensor(x) if isinstance(x, np.ndarray) else x


@pytest.mark.parametrize("name, a, b", PAIRS, ids=[p[0] for p in PAIRS])
def test_arithmetic_result_dtype(name, a, b):
    for sym, op in BINARY.items():
        if sym == "-" and (np.asarray(a).dtype == bool or np.asarray(b).dtype == bool):
            continue  # subtracting booleans is an error in PyTorch
        want = expected_dtype(a, b)
        got = op(_t(a), _t(b))
        assert got.dtype == want, f"{name}: a {sym} b has dtype {got.dtype}, PyTorch gives {want}"
        assert_close(got.numpy(), op(np.asarray(a).astype(want), np.asarray(b).astype(want)),
                     rtol=1e-6, what=f"{name}: a {sym} b (computed in {want})")
        if not isinstance(b, np.ndarray):  # and the reflected form: 2 * t
            assert op(b, _t(a)).dtype == want, f"{name}: b {sym} a gives {op(b, _t(a)).dtype}"
    want = expected_dtype(a, b, true_divide=True)
    safe_b = np.where(np.asarray(b) == 0, 1, b) if isinstance(b, np.ndarray) else (b or 1)
    got = _t(a) / _t(safe_b)
    assert got.dtype == want, f"{name}: a / b has dtype {got.dtype}, PyTorch gives {want}"
    assert_close(got.numpy().astype(np.float64),
                 np.asarray(a, np.float64) / np.asarray(safe_b, np.float64), rtol=1e-6,
                 what=f"{name}: a / b")


@pytest.mark.parametrize("name, a, b", PAIRS, ids=[p[0] for p in PAIRS])
def test_maximum_minimum_where_result_dtype(name, a, b):
    want = expected_dtype(a, b)
    cond = np.array([True, False, True])
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    b_t = _t(b) if isinstance(b, np.ndarray) else tt.tensor(np.full(3, b))
    if isinstance(b, np.ndarray):
        for fname, ref in (("maximum", np.maximum), ("minimum", np.minimum)):
            got = getattr(tt, fname)(_t(a), b_t)
            assert got.dtype == want, f"{name}: {fname}(a, b) has dtype {got.dtype}, PyTorch: {want}"
            assert_close(got.numpy().astype(np.float64), ref(a64, b64), what=f"{fname}(a, b)")
    got = tt.where(tt.tensor(cond), _t(a), _t(b))
    assert got.dtype == want, f"{name}: where(c, a, b) has dtype {got.dtype}, PyTorch gives {want}"
    assert_close(got.numpy().astype(np.float64), np.where(cond, a64, b64), what="where(c, a, b)")


@pytest.mark.parametrize("tname", [k for k in TENSORS if k != "bool"])  # no clamp on bool
@pytest.mark.parametrize("lo, hi", [(0.5, None), (None, 2.5), (0, 2), (-1, 0.5), (2.5, 0.5),
                                    (1, 1), (np.float64(0.5), None)], ids=repr)
def test_clip_result_dtype_and_values(tname, lo, hi):
    """clamp(int tensor, 0.5) is float32; clamp(int tensor, 0, 2) stays int; min > max gives max."""
    a = TENSORS[tname]
    want = a.dtype
    for bound in (lo, hi):
        if bound is not None:
            want = expected_dtype(np.asarray(a, want), bound)
    got = _t(a).clip(lo, hi)
    assert got.dtype == want, f"clip({tname}, {lo}, {hi}) has dtype {got.dtype}, PyTorch: {want}"
    ref = np.asarray(a, np.float64)
    if lo is not None:
        ref = np.maximum(ref, lo)
    if hi is not None:
        ref = np.minimum(ref, hi)  # applied last: with min > max every value becomes max
    assert_close(got.numpy().astype(np.float64), ref, what=f"clip({tname}, {lo}, {hi})")
    got2 = tt.clamp(_t(a), lo, hi) if hasattr(tt, "clamp") else got
    assert got2.dtype == want


@pytest.mark.parametrize("tname", [k for k in TENSORS if k != "bool"])
@pytest.mark.parametrize("exponent", [2, 0.5, np.float64(2.0), 0, True])
def test_pow_result_dtype(tname, exponent):
    a = TENSORS[tname]
    base = np.abs(a) + (1 if a.dtype.kind != "f" else 0.5)
    base = base.astype(a.dtype)
    want = expected_dtype(base, exponent)
    got = _t(base) ** exponent
    assert got.dtype == want, f"{tname} ** {exponent!r} has dtype {got.dtype}, PyTorch: {want}"
    assert_close(got.numpy().astype(np.float64), np.asarray(base, np.float64) ** float(exponent),
                 rtol=1e-6, what=f"{tname} ** {exponent!r}")
