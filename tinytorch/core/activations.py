"""Module 02 -- activations: the nonlinearities that let stacked layers learn curves.

Each activation is a Function (forward here, module 02; backward beside it, module 05) plus a
functional form (``relu(x)``) and an ``nn`` module (``nn.ReLU()``) for use in ``Sequential``.

Numerical care, because real logits get large:
* ``sigmoid`` never computes ``exp`` of a large positive number (no overflow warnings, no NaN);
* ``softmax`` and ``log_softmax`` subtract the row maximum first, so logits of +-1e4 are fine.
"""

from __future__ import annotations

import math

import numpy as np

from tinytorch.core.autograd import Function
from tinytorch.core.module import Module
from tinytorch.core.tensor import Tensor

__all__ = [
    "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "silu", "softmax", "log_softmax", "erf",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "SiLU", "Softmax", "LogSoftmax",
]


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, vectorized (NumPy has none; SciPy is not a dependency).

    Abramowitz & Stegun 7.1.26: a rational approximation with absolute error below 1.5e-7,
    about float32's resolution, so GELU in float32 matches PyTorch's to rounding.
    """
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    with np.errstate(over="ignore"):  # a * a overflows to inf for |x| > 1.8e19: exp(-inf) = 0
        return sign * (1.0 - poly * np.exp(-a * a))


def _stable_sigmoid(x: np.ndarray) -> np.ndarray:
    # exp(-|x|) is at most 1, so nothing can overflow: s = sigmoid(|x|) = 1 / (1 + e), and
    # sigmoid(-|x|) = e / (1 + e) = e * s (one division for both branches)
    e = np.exp(-np.abs(x))
    s = 1.0 / (1.0 + e)
    return np.where(x >= 0, s, e * s).astype(x.dtype, copy=False)


class ReLUFn(Function):
    @staticmethod
    def forward(ctx, x):
        # BEGIN SOLUTION
        out = np.maximum(x, 0).astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        (out,) = ctx.saved_tensors
        return grad * (out > 0)
        # END SOLUTION


class LeakyReLUFn(Function):
    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        # BEGIN SOLUTION
        ctx.save_for_backward(x)
        ctx.slope = negative_slope
        return np.where(x > 0, x, x * negative_slope).astype(x.dtype, copy=False)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        (x,) = ctx.saved_tensors
        return grad * np.where(x > 0, 1.0, ctx.slope), None
        # END SOLUTION


class SigmoidFn(Function):
    @staticmethod
    def forward(ctx, x):
        # BEGIN SOLUTION
        out = _stable_sigmoid(x)
        ctx.save_for_backward(out)
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        (s,) = ctx.saved_tensors
        return grad * s * (1 - s)
        # END SOLUTION


class TanhFn(Function):
    @staticmethod
    def forward(ctx, x):
        # BEGIN SOLUTION
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        (t,) = ctx.saved_tensors
        return grad * (1 - t * t)
        # END SOLUTION


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class GELUFn(Function):
    """GELU(x) = x * Phi(x), Phi the standard normal CDF; ``approximate='tanh'`` uses
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as GPT-2 did.

    The cube is written ``x * x * x``: NumPy computes float32 ``x ** 3`` with a generic
    ``pow`` per element, measured about 500 times slower than two multiplications."""

    @staticmethod
    def forward(ctx, x, approximate="none"):
        # BEGIN SOLUTION
        ctx.approximate = approximate
        if approximate == "tanh":
            # GPT's MLP runs this on its widest activation: every step in place (out=), two
            # arrays (t and out) instead of eight temporaries; same operations, same order,
            # so the same bits as the one-line formula
            t = np.multiply(x, x, out=np.empty_like(x))
            t *= x  # x^3, not x ** 3 (docstring)
            t *= 0.044715
            t += x
            t *= _SQRT_2_OVER_PI  # inner = sqrt(2/pi) (x + 0.044715 x^3)
            np.tanh(t, out=t)
            t += 1.0
            t *= 0.5  # s = (1 + t) / 2, a sigmoid: the backward needs only s
            out = np.multiply(x, t, out=np.empty_like(x))  # x s = 0.5 x (1 + t)
            ctx.save_for_backward(x, t)
        else:
            cdf = 0.5 * (1.0 + erf(x * _INV_SQRT_2))  # Phi(x)
            out = x * cdf
            # keep Phi(x) for the backward: recomputing erf there cost more than the whole
            # rest of the GELU backward (erf is ~16 passes over the array)
            ctx.save_for_backward(x, cdf)
        return out.astype(x.dtype, copy=False)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        x, saved = ctx.saved_tensors
        if ctx.approximate == "tanh":
            # with s = (1 + t) / 2, tanh's 1 - t^2 is 4 s (1 - s), and
            #   d/dx [x s] = s + x * 4 s (1 - s) * 0.5 inner' = s + x s (1 - s) 2 inner',
            # inner' = sqrt(2/pi) (1 + 3 * 0.044715 x^2): nine passes, in place in d and q.
            # s (1 - s) multiplies before x does: where GELU saturates it is 0, and x^3
            # (which overflows float16 from |x| = 40) is never formed, so no inf * 0 = nan
            s = saved
            d = np.multiply(x, x, out=np.empty_like(x))
            d *= 2 * _SQRT_2_OVER_PI * 3 * 0.044715
            d += 2 * _SQRT_2_OVER_PI  # 2 inner'
            q = np.subtract(1.0, s, out=np.empty_like(x))
            q *= s
            d *= q
            d *= x
            d += s
            if grad.dtype == d.dtype:
                return np.multiply(d, grad, out=d), None
        else:
            cdf = saved
            pdf = _INV_SQRT_2PI * np.exp(-0.5 * x * x)
            d = cdf + x * pdf  # d/dx x Phi(x) = Phi(x) + x phi(x)
        return grad * d, None
        # END SOLUTION


class SiLUFn(Function):
    """SiLU (swish): x * sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        # BEGIN SOLUTION
        s = _stable_sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        x, s = ctx.saved_tensors
        return grad * s * (1 + x * (1 - s))
        # END SOLUTION


class SoftmaxFn(Function):
    """softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m), with m = max_j x_j for stability."""

    @staticmethod
    def forward(ctx, x, axis=-1):
        # BEGIN SOLUTION
        out = np.exp(x - np.max(x, axis=axis, keepdims=True))  # largest exponent: exp(0) = 1
        out /= np.sum(out, axis=axis, keepdims=True)  # in place: no third buffer
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        (y,) = ctx.saved_tensors
        # Jacobian-vector product without the (n x n) Jacobian: y * (g - <g, y>)
        gy = grad * y
        gy -= y * np.sum(gy, axis=ctx.axis, keepdims=True)
        return gy, None
        # END SOLUTION


class LogSoftmaxFn(Function):
    """log_softmax(x) = (x - m) - log(sum exp(x - m)): never takes the log of a tiny number."""

    @staticmethod
    def forward(ctx, x, axis=-1):
        # BEGIN SOLUTION
        out = x - np.max(x, axis=axis, keepdims=True)
        out -= np.log(np.sum(np.exp(out), axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad):
        # BEGIN SOLUTION 05
        (out,) = ctx.saved_tensors
        return grad - np.exp(out) * np.sum(grad, axis=ctx.axis, keepdims=True), None
        # END SOLUTION


# --------------------------------------------------------------------------- functional forms


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _axis(x, dim):
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"softmax: dim must be an int, got {dim!r}")
    n = x.ndim
    if not -max(n, 1) <= dim < max(n, 1):
        raise IndexError(f"softmax: dim {dim} is out of range for a tensor with {n} dimension(s)")
    return dim % n if n else 0


def _float_only(x, name):
    if x._data.dtype.kind != "f":
        raise TypeError(f"{name}: needs a floating point tensor, got {x.dtype}; call .float() first")


def relu(x, inplace: bool = False) -> Tensor:
    """max(x, 0), elementwise. ``inplace`` is accepted for PyTorch code and computes out of
    place (same values)."""
    return ReLUFn.apply(_t(x))


def leaky_relu(x, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return LeakyReLUFn.apply(_t(x), negative_slope)


def sigmoid(x) -> Tensor:
    """1 / (1 + exp(-x)), computed without overflow."""
    x = _t(x)
    _float_only(x, "sigmoid")
    return SigmoidFn.apply(x)


def tanh(x) -> Tensor:
    x = _t(x)
    _float_only(x, "tanh")
    return TanhFn.apply(x)


def gelu(x, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit; ``approximate='tanh'`` for GPT-2's approximation."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    x = _t(x)
    _float_only(x, "gelu")
    return GELUFn.apply(x, approximate)


def silu(x, inplace: bool = False) -> Tensor:
    x = _t(x)
    _float_only(x, "silu")
    return SiLUFn.apply(x)


def softmax(x, dim: int = -1) -> Tensor:
    """Probabilities along ``dim`` (they sum to 1); stable for logits of any size."""
    x = _t(x)
    _float_only(x, "softmax")
    return SoftmaxFn.apply(x, _axis(x, dim))


def log_softmax(x, dim: int = -1) -> Tensor:
    """log(softmax(x)) computed directly, which stays finite where softmax underflows to 0."""
    x = _t(x)
    _float_only(x, "log_softmax")
    return LogSoftmaxFn.apply(x, _axis(x, dim))


# --------------------------------------------------------------------------- nn modules


class ReLU(Module):
    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace  # accepted as in PyTorch; computed out of place

    def forward(self, x):
        return relu(x)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x):
        return leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    def forward(self, x):
        return sigmoid(x)


class Tanh(Module):
    def forward(self, x):
        return tanh(x)


class GELU(Module):
    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        return gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace  # accepted as in PyTorch; computed out of place

    def forward(self, x):
        return silu(x)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Softmax(Module):
    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return log_softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
