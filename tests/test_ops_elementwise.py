"""Elementwise ops beyond the catalogue's float32 cases: integer and bool inputs, edge values
(nan, inf, the ends of a domain), Python's sign rules, against PyTorch."""

import math

import numpy as np
import pytest

import tinytorch as tt

torch = pytest.importorskip("torch")

UNARY = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
         "erf", "erfc", "erfinv", "exp2", "expm1", "log2", "log10", "log1p", "rsqrt",
         "reciprocal", "square", "sign", "sgn", "signbit", "floor", "ceil", "round", "trunc",
         "frac", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "nan_to_num"]

INPUTS = {
    "int": np.array([3, -2, 0, 1, -1, 7]),
    "bool": np.array([True, False, True]),
    "edges": np.array([0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 0.5, np.inf, -np.inf, np.nan, 1e30, -7.25],
                      dtype=np.float32),
}


def _run(mod, name, x):
    try:
        return getattr(mod, name)(mod.tensor(x)), None
    except (RuntimeError, TypeError) as e:
        return None, e


@pytest.mark.parametrize("kind", sorted(INPUTS))
@pytest.mark.parametrize("name", UNARY)
def test_unary_values_and_dtypes_match_torch(name, kind):
    x = INPUTS[kind]
    ref, ref_err = _run(torch, name, x)
    ours, err = _run(tt, name, x)
    if ref_err is not None:  # torch refuses (frac of an int, floor of a bool): so do we
        assert err is not None, f"{name}({kind}): torch raises {ref_err}, we returned {ours}"
        return
    assert err is None, f"{name}({kind}): {err}"
    ref = ref.numpy()
    assert ours.dtype == ref.dtype and ours.shape == ref.shape, f"{name}({kind})"
    np.testing.assert_allclose(ours.numpy().astype(np.float64), ref.astype(np.float64),
                               rtol=2e-6, atol=1e-6, equal_nan=True, err_msg=f"{name}({kind})")


def test_erf_family_is_accurate_in_float64():
    x = np.linspace(-6, 6, 241)
    np.testing.assert_allclose(tt.erf(tt.tensor(x)).numpy(), [math.erf(v) for v in x],
                               rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(tt.erfc(tt.tensor(x)).numpy(), [math.erfc(v) for v in x],
                               rtol=1e-12, atol=1e-300)
    y = np.linspace(-0.999999, 0.999999, 101)
    np.testing.assert_allclose(tt.erf(tt.erfinv(tt.tensor(y))).numpy(), y, rtol=1e-12, atol=1e-14)
    assert tt.erfinv(tt.tensor([1.0, -1.0, 1.5])).tolist()[:2] == [math.inf, -math.inf]
    assert math.isnan(tt.erfinv(tt.tensor([1.5])).item())


@pytest.mark.parametrize("op", ["remainder", "fmod", "floor_divide", "atan2", "hypot",
                                "logaddexp", "div_trunc", "div_floor"])
@pytest.mark.parametrize("a, b", [
    ([7, -7, 7, -7, 0], [3, 3, -3, -3, 5]),                       # int / int
    ([7.5, -7.5, 7.5, -7.5, 0.0], [2.0, 2.0, -2.0, -2.0, 3.0]),   # float / float
    ([7, -7, 7, -7, 0], 2),                                       # int / Python int
    ([7, -7, 7, -7, 0], 2.5),                                     # int / Python float: float32
    ([7.5, -7.5, 7.5], 2),
])
def test_binary_sign_rules_and_dtypes_match_torch(op, a, b):
    def call(mod):
        x = mod.tensor(a)
        y = mod.tensor(b) if isinstance(b, list) else b
        if op.startswith("div_"):
            return mod.div(x, y, rounding_mode=op[4:])
        return getattr(mod, op)(x, y)

    try:
        ref = call(torch)
    except (RuntimeError, TypeError) as e:
        if "must be Tensor" in str(e):  # torch wants a tensor; we also take a number
            return
        with pytest.raises((TypeError, RuntimeError, ValueError)):
            call(tt)
        return
    ours = call(tt)
    assert ours.dtype == ref.numpy().dtype, f"{op}({a}, {b})"
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6, atol=1e-6)


def test_python_operators_follow_python_sign_rule():
    x = tt.tensor([-7, 7, -8])
    assert (x % 3).tolist() == [-7 % 3, 7 % 3, -8 % 3]
    assert (x // 3).tolist() == [-7 // 3, 7 // 3, -8 // 3]
    assert (10 % tt.tensor([3, -3])).tolist() == [1, -2]
    assert (10 // tt.tensor([3, -3])).tolist() == [3, -4]
    assert (tt.tensor([5.5]) % -2).tolist() == [5.5 % -2]


def test_flat_ops_give_zero_gradient_but_let_backward_run():
    x = tt.tensor([0.3, -1.7, 2.2], requires_grad=True)
    (x.floor() + x.ceil() + x.round() + x.sign() + x // 0.5).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_isclose_and_allclose_match_torch():
    a = np.array([1.0, 1.00001, np.nan, np.inf], dtype=np.float32)
    b = np.array([1.0, 1.0, np.nan, np.inf], dtype=np.float32)
    for nan in (False, True):
        assert tt.isclose(tt.tensor(a), tt.tensor(b), equal_nan=nan).tolist() == \
            torch.isclose(torch.tensor(a), torch.tensor(b), equal_nan=nan).tolist()
        assert tt.allclose(tt.tensor(a), tt.tensor(b), equal_nan=nan) == \
            torch.allclose(torch.tensor(a), torch.tensor(b), equal_nan=nan)
    assert tt.tensor(a).isclose(tt.tensor(b), rtol=0, atol=0).tolist() == [True, False, False, True]


def test_errors_name_what_went_wrong():
    with pytest.raises(ValueError, match="rounding_mode"):
        tt.div(tt.tensor([1.0]), 2, rounding_mode="round")
    with pytest.raises(ValueError, match=r"\(3,\) and \(2,\)"):
        tt.remainder(tt.ones(3), tt.ones(2))
    with pytest.raises(TypeError, match="floating point"):
        tt.lerp(tt.tensor([1, 2]), tt.tensor([3, 4]), 0.5)
    with pytest.raises(TypeError, match="bool"):
        tt.floor(tt.tensor([True]))


def test_integer_division_by_zero_raises_as_python_and_torch():
    for op in (lambda x: x // 0, lambda x: x % tt.tensor([1, 0]), lambda x: tt.fmod(x, 0),
               lambda x: x.div(0, rounding_mode="trunc")):
        with pytest.raises(ZeroDivisionError, match="integer division by zero"):
            op(tt.tensor([3, 4]))
    assert (tt.tensor([3.0]) // 0).tolist() == [float("inf")]  # floats: inf, as torch
