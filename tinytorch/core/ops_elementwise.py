"""Module 01 -- more elementwise math: trigonometry, rounding, remainders, special functions.

Each differentiable op is a :class:`~tinytorch.core.autograd.Function`. The one-input ones share
one shape of code: a subclass of :class:`_Unary` names the forward ``f(a)`` and the local
derivative ``df(a, y)`` side by side, and the base class does the bookkeeping::

    class Sin(_Unary):
        f = staticmethod(np.sin)
        df = staticmethod(lambda a, y: np.cos(a))     # dy/da

The public functions below (``sin(input)``) take the tensor first, as PyTorch's do, so the same
function serves ``tt.sin(x)`` and, bound in the Tensor class, ``x.sin()``.

Dtypes follow PyTorch: integer or bool inputs of a float-valued function (sin, exp2, erf ...)
give float32; rounding, sign and remainders keep integers integer. Where the math says nan or
inf (asin(2), log2(0)) the result is nan or inf without a NumPy warning, as in PyTorch.
Ops that are flat almost everywhere (floor, sign, round ...) record a zero gradient, as PyTorch
does, so a graph through them still runs ``backward``.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.autograd import Function
from tinytorch.core.ops_support import as_tensor, check_float, floating, tensor_class, wrap
from tinytorch.core.tensor_ops import _float32_unless_asked

__all__ = [
    "sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan", "sinh", "cosh",
    "asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "erf", "erfc", "erfinv",
    "exp2", "expm1", "log2", "log10", "log1p", "rsqrt", "reciprocal", "square", "sign", "sgn",
    "signbit", "floor", "ceil", "round", "trunc", "fix", "frac", "isnan", "isinf", "isfinite",
    "isposinf", "isneginf", "nan_to_num", "atan2", "arctan2", "remainder", "fmod",
    "floor_divide", "div", "divide", "true_divide", "logaddexp", "logaddexp2", "hypot", "lerp",
    "isclose", "allclose", "deg2rad", "rad2deg", "logit", "xlogy", "sinc", "heaviside",
    "float_power", "addcmul", "addcdiv",
]

_SQRT_PI = float(np.sqrt(np.pi))


# --------------------------------------------------------------------------- special functions


def erf_array(x: np.ndarray) -> np.ndarray:
    """The error function on an array, accurate to float64 rounding (NumPy has none).

    |x| < 2.5: erf(x) = 2/sqrt(pi) e^(-x^2) sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)), a series of
    positive terms (no cancellation); beyond, 1 - erfc(x) from erfc's continued fraction.
    Both run a fixed number of vectorized steps.
    """
    x = np.asarray(x)
    a = np.abs(x).astype(np.float64)
    small = np.minimum(a, 2.5)
    term = small.copy()
    total = small.copy()
    for n in range(1, 60):
        term = term * (2 * small * small) / (2 * n + 1)
        total = total + term
    with np.errstate(over="ignore", invalid="ignore"):
        series = 2 / _SQRT_PI * np.exp(-small * small) * total
        out = np.where(a < 2.5, series, 1.0 - _erfc_tail(np.maximum(a, 2.5)))
    return (np.sign(x) * out).astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


def _erfc_tail(a: np.ndarray) -> np.ndarray:
    """erfc(a) for a >= 2.5: e^(-a^2)/sqrt(pi) / (a + (1/2)/(a + 1/(a + (3/2)/(a + ...))))."""
    f = a.copy()
    for k in range(50, 0, -1):
        f = a + (k / 2) / f
    with np.errstate(over="ignore", under="ignore"):
        return np.exp(-a * a) / _SQRT_PI / f


def _erfc_array(x: np.ndarray) -> np.ndarray:
    """erfc(x) = 1 - erf(x), computed without cancellation where it is tiny (x > 2.5)."""
    x64 = x.astype(np.float64)
    a = np.abs(x64)
    tail = _erfc_tail(np.maximum(a, 2.5))
    pos = np.where(a < 2.5, 1.0 - erf_array(np.minimum(a, 2.5)), tail)  # erfc(|x|)
    out = np.where(np.isnan(x64), np.nan, np.where(x64 >= 0, pos, 2.0 - pos))
    return out.astype(x.dtype, copy=False)


def _erfinv_array(y: np.ndarray) -> np.ndarray:
    """Inverse error function: Giles' approximation (2010), then two Newton steps on erf."""
    y64 = y.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = -np.log((1.0 - y64) * (1.0 + y64))
        wc = w - 2.5
        p_c = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                  -0.00417768164, 0.246640727, 1.50140941):
            p_c = p_c * wc + c
        wt = np.sqrt(np.maximum(w, 5.0)) - 3.0
        p_t = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                  0.00943887047, 1.00167406, 2.83297682):
            p_t = p_t * wt + c
        x = np.where(w < 5.0, p_c, p_t) * y64
        for _ in range(2):  # Newton on erf(x) = y: the approximation is good to ~1e-7
            step = (erf_array(x) - y64) / (2 / _SQRT_PI * np.exp(-x * x))
            x = np.where(np.isfinite(step), x - step, x)
        x = np.where(np.abs(y64) == 1, np.sign(y64) * np.inf, x)
        x = np.where(np.abs(y64) > 1, np.nan, x)
    return x.astype(y.dtype, copy=False)


# --------------------------------------------------------------------------- one-input ops


class _Unary(Function):
    """``y = f(a)`` elementwise; backward multiplies by ``df(a, y)`` = dy/da."""

    f = None
    df = None

    @staticmethod
    def forward(ctx, a):
        fn = ctx.function
        with np.errstate(all="ignore"):  # nan/inf where the math says so, as PyTorch: no warning
            out = fn.f(a)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        with np.errstate(all="ignore"):
            return grad * ctx.function.df(a, out)


def _zero(a, y):
    return np.zeros_like(a)


class Sin(_Unary):
    f = staticmethod(np.sin)
    df = staticmethod(lambda a, y: np.cos(a))


class Cos(_Unary):
    f = staticmethod(np.cos)
    df = staticmethod(lambda a, y: -np.sin(a))


class Tan(_Unary):
    f = staticmethod(np.tan)
    df = staticmethod(lambda a, y: 1 + y * y)


class Asin(_Unary):
    f = staticmethod(np.arcsin)
    df = staticmethod(lambda a, y: 1 / np.sqrt(1 - a * a))


class Acos(_Unary):
    f = staticmethod(np.arccos)
    df = staticmethod(lambda a, y: -1 / np.sqrt(1 - a * a))


class Atan(_Unary):
    f = staticmethod(np.arctan)
    df = staticmethod(lambda a, y: 1 / (1 + a * a))


class Sinh(_Unary):
    f = staticmethod(np.sinh)
    df = staticmethod(lambda a, y: np.cosh(a))


class Cosh(_Unary):
    f = staticmethod(np.cosh)
    df = staticmethod(lambda a, y: np.sinh(a))


class Asinh(_Unary):
    f = staticmethod(np.arcsinh)
    df = staticmethod(lambda a, y: 1 / np.sqrt(a * a + 1))


class Acosh(_Unary):
    f = staticmethod(np.arccosh)
    df = staticmethod(lambda a, y: 1 / np.sqrt(a * a - 1))


class Atanh(_Unary):
    f = staticmethod(np.arctanh)
    df = staticmethod(lambda a, y: 1 / (1 - a * a))


class Erf(_Unary):
    f = staticmethod(erf_array)
    df = staticmethod(lambda a, y: (2 / _SQRT_PI) * np.exp(-a * a))


class Erfc(_Unary):
    f = staticmethod(_erfc_array)
    df = staticmethod(lambda a, y: (-2 / _SQRT_PI) * np.exp(-a * a))


class Erfinv(_Unary):
    f = staticmethod(_erfinv_array)
    df = staticmethod(lambda a, y: (_SQRT_PI / 2) * np.exp(y * y))


class Exp2(_Unary):
    f = staticmethod(np.exp2)
    df = staticmethod(lambda a, y: y * np.log(2.0))


class Expm1(_Unary):
    f = staticmethod(np.expm1)
    df = staticmethod(lambda a, y: y + 1)


class Log2(_Unary):
    f = staticmethod(np.log2)
    df = staticmethod(lambda a, y: 1 / (a * np.log(2.0)))


class Log10(_Unary):
    f = staticmethod(np.log10)
    df = staticmethod(lambda a, y: 1 / (a * np.log(10.0)))


class Log1p(_Unary):
    f = staticmethod(np.log1p)
    df = staticmethod(lambda a, y: 1 / (1 + a))


class Rsqrt(_Unary):
    f = staticmethod(lambda a: 1 / np.sqrt(a))
    df = staticmethod(lambda a, y: -0.5 * y * y * y)


class Reciprocal(_Unary):
    f = staticmethod(lambda a: 1 / a)
    df = staticmethod(lambda a, y: -y * y)


class Square(_Unary):
    f = staticmethod(np.square)
    df = staticmethod(lambda a, y: 2 * a)


class Sinc(_Unary):
    """sin(pi x) / (pi x), 1 at x = 0 (the normalised sinc, as PyTorch)."""

    f = staticmethod(np.sinc)
    df = staticmethod(lambda a, y: np.where(a == 0, 0, (np.cos(np.pi * a) - y) / a))


class Frac(_Unary):
    f = staticmethod(lambda a: a - np.trunc(a))
    df = staticmethod(lambda a, y: np.ones_like(a))


class Sign(_Unary):
    # sign(nan) = 0, as PyTorch (NumPy says nan)
    f = staticmethod(lambda a: np.where(np.isnan(a), 0, np.sign(a)).astype(a.dtype))
    df = staticmethod(_zero)


class Floor(_Unary):
    f = staticmethod(np.floor)
    df = staticmethod(_zero)


class Ceil(_Unary):
    f = staticmethod(np.ceil)
    df = staticmethod(_zero)


class Trunc(_Unary):
    f = staticmethod(np.trunc)
    df = staticmethod(_zero)


class Round(Function):
    """Round half to even (PyTorch's and NumPy's rule), to ``decimals`` places; zero gradient."""

    @staticmethod
    def forward(ctx, a, decimals=0):
        ctx.shape = a.shape
        return np.round(a, decimals)

    @staticmethod
    def backward(ctx, grad):
        return np.zeros(ctx.shape, grad.dtype), None


class NanToNum(Function):
    """nan -> ``nan``, +inf -> ``posinf``, -inf -> ``neginf`` (default: the dtype's extremes).
    The gradient passes where the input was finite, as in PyTorch."""

    @staticmethod
    def forward(ctx, a, nan=0.0, posinf=None, neginf=None):
        ctx.save_for_backward(np.isfinite(a))
        return np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        (finite,) = ctx.saved_tensors
        return grad * finite, None, None, None


def _float_unary(op, name, doc):
    def fn(input):
        return op.apply(floating(input))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


sin = _float_unary(Sin, "sin", "sin(x), elementwise; d/dx = cos(x). Int inputs give float32.")
cos = _float_unary(Cos, "cos", "cos(x), elementwise; d/dx = -sin(x).")
tan = _float_unary(Tan, "tan", "tan(x), elementwise; d/dx = 1 + tan(x)^2.")
asin = arcsin = _float_unary(Asin, "asin", "arcsin(x) for x in [-1, 1] (nan outside).")
acos = arccos = _float_unary(Acos, "acos", "arccos(x) for x in [-1, 1] (nan outside).")
atan = arctan = _float_unary(Atan, "atan", "arctan(x); d/dx = 1 / (1 + x^2).")
sinh = _float_unary(Sinh, "sinh", "sinh(x); d/dx = cosh(x).")
cosh = _float_unary(Cosh, "cosh", "cosh(x); d/dx = sinh(x).")
asinh = arcsinh = _float_unary(Asinh, "asinh", "arsinh(x); d/dx = 1 / sqrt(x^2 + 1).")
acosh = arccosh = _float_unary(Acosh, "acosh", "arcosh(x) for x >= 1 (nan below).")
atanh = arctanh = _float_unary(Atanh, "atanh", "artanh(x) for x in (-1, 1); +-inf at +-1.")
erf = _float_unary(Erf, "erf", "The error function 2/sqrt(pi) int_0^x e^(-t^2) dt.")
erfc = _float_unary(Erfc, "erfc", "1 - erf(x), accurate where it is tiny (large x).")
erfinv = _float_unary(Erfinv, "erfinv", "The inverse of erf on (-1, 1); +-inf at +-1.")
exp2 = _float_unary(Exp2, "exp2", "2 ** x, elementwise.")
expm1 = _float_unary(Expm1, "expm1", "exp(x) - 1, accurate for small x.")
log2 = _float_unary(Log2, "log2", "log base 2; -inf at 0, nan below.")
log10 = _float_unary(Log10, "log10", "log base 10; -inf at 0, nan below.")
log1p = _float_unary(Log1p, "log1p", "log(1 + x), accurate for small x.")
rsqrt = _float_unary(Rsqrt, "rsqrt", "1 / sqrt(x); inf at 0.")
reciprocal = _float_unary(Reciprocal, "reciprocal", "1 / x; int inputs give float32.")


def square(input):
    """x * x; integers stay integer (bool becomes int64, as in PyTorch)."""
    a = as_tensor(input)
    if a._data.dtype == np.bool_:
        a = wrap(a._data.astype(np.int64))
    return Square.apply(a) if a._data.dtype.kind == "f" else wrap(np.square(a._data))


def sign(input):
    """-1, 0 or +1 by the sign of x (0 for nan, as PyTorch; bool stays bool); zero gradient."""
    a = as_tensor(input)
    if a._data.dtype == np.bool_:
        return wrap(a._data.copy())
    return Sign.apply(a) if a._data.dtype.kind == "f" else wrap(np.sign(a._data))


sgn = sign


def signbit(input):
    """True where the sign bit is set (also for -0.0)."""
    return wrap(np.signbit(as_tensor(input)._data))


def _rounding(op, name, what):
    def fn(input):
        a = as_tensor(input)
        if a._data.dtype == np.bool_:
            raise TypeError(f"{name}: not defined for bool tensors; convert with .int() first")
        return op.apply(a) if a._data.dtype.kind == "f" else wrap(a._data.copy())

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"{what}, elementwise; integers are returned unchanged. Zero gradient."
    return fn


floor = _rounding(Floor, "floor", "The largest integer <= x")
ceil = _rounding(Ceil, "ceil", "The smallest integer >= x")
trunc = fix = _rounding(Trunc, "trunc", "x rounded toward zero")


def round(input, decimals: int = 0):  # noqa: A001 -- torch.round
    """x rounded to ``decimals`` places, halves to even (round(2.5) = 2, as PyTorch)."""
    a = as_tensor(input)
    if a._data.dtype == np.bool_:
        raise TypeError("round: not defined for bool tensors; convert with .int() first")
    if a._data.dtype.kind != "f":
        return wrap(np.round(a._data, decimals)) if decimals < 0 else wrap(a._data.copy())
    return Round.apply(a, int(decimals))


def frac(input):
    """x - trunc(x): the fractional part, with x's sign. Floating point tensors only."""
    a = as_tensor(input)
    check_float(a, "frac")
    return Frac.apply(a)


def isnan(input):
    """True where x is nan (never for integers)."""
    return wrap(np.isnan(as_tensor(input)._data))


def isinf(input):
    """True where x is +inf or -inf."""
    return wrap(np.isinf(as_tensor(input)._data))


def isposinf(input):
    return wrap(np.isposinf(as_tensor(input)._data))


def isneginf(input):
    return wrap(np.isneginf(as_tensor(input)._data))


def isfinite(input):
    """True where x is neither inf nor nan."""
    return wrap(np.isfinite(as_tensor(input)._data))


def nan_to_num(input, nan: float = 0.0, posinf=None, neginf=None):
    """Replace nan, +inf and -inf by finite numbers (default: 0 and the dtype's max/min)."""
    a = as_tensor(input)
    if a._data.dtype.kind != "f":
        return wrap(a._data.copy())
    return NanToNum.apply(a, nan, posinf, neginf)


# --------------------------------------------------------------------------- two-input ops


class Atan2(Function):
    """atan2(a, b): the angle of the point (b, a), in (-pi, pi]."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _float32_unless_asked(np.arctan2(a, b), a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        with np.errstate(all="ignore"):
            r2 = a * a + b * b
            return grad * b / r2, -grad * a / r2


def _no_int_zero_division(a, b, op):
    """Integer division by zero has no answer: raise, as Python and PyTorch do (NumPy would
    quietly give 0)."""
    if np.result_type(a, b).kind in "iub" and np.any(np.asarray(b) == 0):
        raise ZeroDivisionError(f"{op}: integer division by zero")


class Remainder(Function):
    """a - b * floor(a / b): the result has b's sign (Python's ``%``, PyTorch's remainder)."""

    @staticmethod
    def forward(ctx, a, b):
        _no_int_zero_division(a, b, "remainder")
        ctx.save_for_backward(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _float32_unless_asked(np.remainder(a, b), a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return grad, -grad * np.floor(a / b)


class Fmod(Function):
    """a - b * trunc(a / b): the result has a's sign (C's fmod)."""

    @staticmethod
    def forward(ctx, a, b):
        _no_int_zero_division(a, b, "fmod")
        ctx.save_for_backward(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _float32_unless_asked(np.fmod(a, b), a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return grad, -grad * np.trunc(a / b)


class RoundedDiv(Function):
    """a / b rounded toward zero ("trunc") or down ("floor"); integers stay integer.
    The result is flat in a and b almost everywhere: zero gradient, as PyTorch's div."""

    @staticmethod
    def forward(ctx, a, b, mode="floor"):
        ctx.shapes = (np.shape(a), np.shape(b))
        _no_int_zero_division(a, b, "div")
        with np.errstate(divide="ignore", invalid="ignore"):
            ints = np.result_type(a, b).kind in "iub"
            if ints and mode == "floor":
                return np.floor_divide(a, b)
            if ints:  # trunc of an integer quotient, without a float round trip
                q = np.floor_divide(a, b)
                return q + ((q < 0) & (q * b != a))
            q = np.true_divide(a, b)
            return _float32_unless_asked(np.floor(q) if mode == "floor" else np.trunc(q), a, b)

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        return np.zeros(sa, grad.dtype), np.zeros(sb, grad.dtype), None


class LogAddExp(Function):
    """log(e^a + e^b) without overflow: max + log1p(e^-|a - b|). ``base2`` for log2(2^a + 2^b)."""

    @staticmethod
    def forward(ctx, a, b, base2=False):
        scale = np.log(2.0) if base2 else 1.0
        m = np.maximum(a, b)
        with np.errstate(invalid="ignore", over="ignore"):
            d = np.where(np.isinf(m), 0, -np.abs(a - b)) * scale  # both -inf (or +inf): no nan
            out = m + np.log1p(np.exp(d)) / scale
        ctx.save_for_backward(a, b, out)
        ctx.scale = scale
        return _float32_unless_asked(out.astype(np.result_type(a, b), copy=False), a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        with np.errstate(all="ignore"):  # d/da = e^a / (e^a + e^b) = e^(a - out)
            return grad * np.exp((a - out) * ctx.scale), grad * np.exp((b - out) * ctx.scale), None


class Hypot(Function):
    """sqrt(a^2 + b^2) (NumPy's hypot scales to avoid overflow)."""

    @staticmethod
    def forward(ctx, a, b):
        out = _float32_unless_asked(np.hypot(a, b), a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        with np.errstate(all="ignore"):
            return grad * a / out, grad * b / out


class Lerp(Function):
    """start + weight * (end - start)."""

    @staticmethod
    def forward(ctx, start, end, weight):
        ctx.save_for_backward(start, end, weight)
        return _float32_unless_asked(start + weight * (end - start), start, end)

    @staticmethod
    def backward(ctx, grad):
        start, end, weight = ctx.saved_tensors
        return grad * (1 - weight), grad * weight, grad * (end - start)


def _pair(input, other, op, name, *extra):
    """Apply a two-input op with the Tensor's operand rules (Python scalars keep the tensor's
    dtype, a 0-d tensor follows a dimensioned one, broadcast errors name both shapes)."""
    T = tensor_class()
    if isinstance(input, T):
        return input._binary(other, op, name) if not extra else \
            _with_extra(input, other, op, name, extra)
    if isinstance(other, T):  # tt.remainder(5, x): the number on the left
        return other._rbinary(input, op, name) if not extra else \
            _with_extra(as_tensor(input), other, op, name, extra)
    return _pair(as_tensor(input), other, op, name, *extra)


def _with_extra(a, b, op, name, extra):
    b = b if isinstance(b, type(a)) or np.isscalar(b) else as_tensor(b)
    try:
        return op.apply(a, b, *extra)
    except ValueError as e:
        if "broadcast" not in str(e):
            raise
        raise ValueError(f"{name}: cannot broadcast shapes {tuple(a.shape)} and "
                         f"{tuple(np.shape(getattr(b, '_data', b)))}") from None


def _float_pair(input, other, name):
    """Inputs of a function PyTorch defines for floating tensors only (atan2 of ints: float32)."""
    a, b = as_tensor(input), other
    if a._data.dtype.kind != "f":
        a = floating(a)
        if isinstance(b, type(a)) and b._data.dtype.kind != "f":
            b = floating(b)
    return a, b


def atan2(input, other):
    """The angle of the point (other, input), elementwise, in radians in (-pi, pi]."""
    a, b = _float_pair(input, other, "atan2")
    return _pair(a, b, Atan2, "atan2")


arctan2 = atan2


def remainder(input, other):
    """input % other with Python's sign rule: the result takes the divisor's sign."""
    return _pair(input, other, Remainder, "remainder")


def fmod(input, other):
    """C's fmod: the result takes the dividend's sign (fmod(-3, 2) = -1, remainder gives 1)."""
    return _pair(input, other, Fmod, "fmod")


def div(input, other, *, rounding_mode=None, out=None):
    """input / other. ``rounding_mode``: None (true division, ints give float32), "trunc"
    (toward zero) or "floor" (down, Python's //); rounded modes keep integers integer."""
    if out is not None:
        raise TypeError("div: out= is not supported in tinytorch (ops return new tensors); "
                        "write `result = tt.div(...)` instead")
    if rounding_mode is None:
        return as_tensor(input) / other
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got "
                         f"{rounding_mode!r}")
    return _pair(input, other, RoundedDiv, "div", rounding_mode)


divide = true_divide = div


def floor_divide(input, other):
    """input // other, rounding down (Python's rule); integers stay integer."""
    return div(input, other, rounding_mode="floor")


def logaddexp(input, other):
    """log(exp(input) + exp(other)), computed without overflow."""
    a = as_tensor(input)
    check_float(a, "logaddexp")
    return _pair(a, as_tensor(other), LogAddExp, "logaddexp", False)


def logaddexp2(input, other):
    """log2(2^input + 2^other), computed without overflow."""
    a = as_tensor(input)
    check_float(a, "logaddexp2")
    return _pair(a, as_tensor(other), LogAddExp, "logaddexp2", True)


def hypot(input, other):
    """sqrt(input^2 + other^2), without overflow for large inputs."""
    a = as_tensor(input)
    check_float(a, "hypot")
    return _pair(a, as_tensor(other), Hypot, "hypot")


def lerp(input, end, weight):
    """input + weight * (end - input); ``weight`` a number or a tensor (all broadcast)."""
    a, b = as_tensor(input), as_tensor(end)
    check_float(a, "lerp")
    if a._data.dtype != b._data.dtype:
        raise TypeError(f"lerp: input and end must have the same dtype, got {a.dtype} and "
                        f"{b.dtype}")
    T = type(a)
    w = weight if isinstance(weight, T) else float(weight)
    try:
        return Lerp.apply(a, b, w)
    except ValueError as e:
        raise ValueError(f"lerp: input {tuple(a.shape)}, end {tuple(b.shape)} and weight "
                         f"{tuple(np.shape(getattr(w, '_data', w)))} do not broadcast") from e


def isclose(input, other, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False):
    """|input - other| <= atol + rtol * |other|, elementwise (bool)."""
    a, b = as_tensor(input), as_tensor(other)
    return wrap(np.isclose(a._data, b._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol: float = 1e-5, atol: float = 1e-8,
             equal_nan: bool = False) -> bool:
    """True if every element is close (see :func:`isclose`); shapes must broadcast."""
    a, b = as_tensor(input), as_tensor(other)
    try:
        return bool(np.allclose(a._data, b._data, rtol=rtol, atol=atol, equal_nan=equal_nan))
    except ValueError:
        raise ValueError(f"allclose: shapes {tuple(a.shape)} and {tuple(b.shape)} do not "
                         "broadcast") from None


# --------------------------------------------------------------------------- composed ops
# Written with ops that already carry their gradients, so these need no backward of their own.


def deg2rad(input):
    """Degrees to radians (int inputs give float32)."""
    return floating(input) * (np.pi / 180)


def rad2deg(input):
    """Radians to degrees."""
    return floating(input) * (180 / np.pi)


def logit(input, eps=None):
    """log(p / (1 - p)), the inverse of sigmoid; with ``eps``, p is first clamped into
    [eps, 1 - eps] (so the gradient is 0 outside, as PyTorch)."""
    p = floating(input)
    if eps is not None:
        p = p.clip(eps, 1 - eps)
    with np.errstate(divide="ignore"):
        return (p / (1 - p)).log()


def xlogy(input, other):
    """input * log(other), defined as 0 where input is 0 (even where other is 0)."""
    from tinytorch.core.tensor_functions import where  # the face of module 01, loaded after

    x, y = floating(input), floating(other)
    with np.errstate(divide="ignore", invalid="ignore"):
        return where(x == 0, 0.0, x * y.log())


def sinc(input):
    """sin(pi x) / (pi x), with sinc(0) = 1."""
    return Sinc.apply(floating(input))


def heaviside(input, values):
    """The step function: 0 below 0, 1 above, ``values`` at exactly 0. No gradient."""
    a, v = as_tensor(input), as_tensor(values)
    return wrap(np.heaviside(a._data, v._data).astype(np.result_type(a._data, v._data)))


def float_power(input, exponent):
    """input ** exponent computed in float64, as PyTorch."""
    base = as_tensor(input).to(np.float64)
    if isinstance(exponent, tensor_class()):
        exponent = exponent.to(np.float64)
    return base ** exponent


def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2 (all broadcast)."""
    prod = as_tensor(tensor1) * tensor2
    return as_tensor(input) + (prod if value == 1 else prod * value)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2 (Adam's update has this shape)."""
    quot = as_tensor(tensor1) / tensor2
    return as_tensor(input) + (quot if value == 1 else quot * value)
