"""Module 02 (given code) -- the rest of PyTorch's activation zoo, under PyTorch's names.

``activations.py`` holds the activations the course teaches (ReLU, sigmoid, tanh, GELU,
softmax). Real programs reach for many more; they are here, each written the same way as the
taught ones: a forward and its local derivative side by side.

Most of them are *pointwise*: y = f(x) elementwise, so dL/dx = dL/dy * f'(x). For those,
:func:`_pointwise` builds the Function from one NumPy formula that returns both y and f'(x)
(the forward keeps f'(x) for the backward: one array, the size of x).

    activation      f(x)                                   f'(x)
    elu             x if x > 0 else a (e^x - 1)            1 or a e^x
    selu            scale * elu(x, alpha) (fixed consts)   scale * elu'
    celu            max(0, x) + min(0, a (e^(x/a) - 1))    1 or e^(x/a)
    softplus        log(1 + e^(b x)) / b (x if b x > t)    sigmoid(b x) (1 if b x > t)
    softsign        x / (1 + |x|)                          1 / (1 + |x|)^2
    hardtanh        clip(x, lo, hi)                        1 inside (lo, hi), else 0
    hardsigmoid     relu6(x + 3) / 6                       1/6 inside (-3, 3)
    hardswish       x relu6(x + 3) / 6                     (2x + 3) / 6 inside [-3, 3]
    logsigmoid      -softplus(-x) = min(x, 0) - log1p(e^-|x|)   sigmoid(-x)
    mish            x tanh(softplus(x))                    tanh(sp) + x sigmoid(x) (1 - tanh^2)
    tanhshrink      x - tanh(x)                            tanh(x)^2
    softshrink      x -+ l outside [-l, l], else 0         1 outside, else 0
    hardshrink      x outside [-l, l], else 0              1 outside, else 0

Every exponential is of a non-positive number (``exp(-|x|)``) or sits in the branch that
``np.where`` keeps only where it is small, so nothing overflows: logsigmoid(-1e4) is -1e4,
not -inf. ``inplace=True`` is accepted where PyTorch has it and computes out of place (same
values; the input is left as it was -- a deliberate difference, see the README).
"""

from __future__ import annotations

import warnings

import numpy as np

from tinytorch.core.activations import _float_only, _stable_sigmoid, _t, sigmoid, softmax
from tinytorch.core.autograd import Function
from tinytorch.core.module import Module, Parameter
from tinytorch.core.tensor import Tensor

__all__ = [
    "elu", "selu", "celu", "softplus", "softsign", "hardtanh", "relu6", "hardsigmoid",
    "hardswish", "logsigmoid", "mish", "tanhshrink", "softshrink", "hardshrink", "prelu", "glu",
    "softmin", "threshold",
    "ELU", "SELU", "CELU", "Softplus", "Softsign", "Hardtanh", "ReLU6", "Hardsigmoid",
    "Hardswish", "LogSigmoid", "Mish", "Tanhshrink", "Softshrink", "Hardshrink", "PReLU", "GLU",
    "Softmin", "Softmax2d", "Threshold",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _softplus0(z):
    """log(1 + e^z) without overflow: max(z, 0) + log1p(e^-|z|)."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _pointwise(name: str, formula, doc: str):
    """A Function for y = f(x) elementwise; ``formula(x, **params) -> (y, f'(x))``."""

    def forward(ctx, x, **params):
        with np.errstate(over="ignore"):  # exp in a branch np.where throws away
            y, d = formula(x, **params)
        ctx.save_for_backward(np.asarray(d, dtype=x.dtype))
        return np.asarray(y, dtype=x.dtype)

    def backward(ctx, grad):
        (d,) = ctx.saved_tensors
        return grad * d

    return type(name, (Function,), {"__doc__": doc, "forward": staticmethod(forward),
                                    "backward": staticmethod(backward)})


def _elu(x, alpha, scale=1.0):
    e = alpha * np.exp(np.minimum(x, 0))  # a e^x on the negative side, never overflows
    pos = x > 0
    return scale * np.where(pos, x, e - alpha), scale * np.where(pos, 1.0, e)


def _celu(x, alpha):
    e = np.exp(np.minimum(x, 0) / alpha)
    pos = x > 0
    return np.where(pos, x, alpha * (e - 1)), np.where(pos, 1.0, e)


def _softplus(x, beta, threshold):
    z = x * beta
    linear = z > threshold  # PyTorch: revert to the identity where b x > threshold
    return np.where(linear, x, _softplus0(z) / beta), np.where(linear, 1.0, _stable_sigmoid(z))


def _softsign(x):
    a = 1.0 + np.abs(x)
    return x / a, 1.0 / (a * a)


def _hardtanh(x, min_val, max_val):
    return np.clip(x, min_val, max_val), (x > min_val) & (x < max_val)


def _hardsigmoid(x):
    return np.clip(x + 3.0, 0.0, 6.0) / 6.0, ((x > -3.0) & (x < 3.0)) / 6.0


def _hardswish(x):
    inside = (x >= -3.0) & (x <= 3.0)  # PyTorch's gradient: x/3 + 1/2 on [-3, 3], 1 above
    d = np.where(x > 3.0, 1.0, np.where(inside, x / 3.0 + 0.5, 0.0))
    return x * np.clip(x + 3.0, 0.0, 6.0) / 6.0, d


def _logsigmoid(x):
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x))), _stable_sigmoid(-x)


def _mish(x):
    t = np.tanh(_softplus0(x))
    return x * t, t + x * _stable_sigmoid(x) * (1.0 - t * t)


def _tanhshrink(x):
    t = np.tanh(x)
    return x - t, t * t


def _softshrink(x, lambd):
    out = (x > lambd) | (x < -lambd)
    return np.where(out, x - np.sign(x) * lambd, 0.0), out


def _threshold(x, threshold, value):
    keep = x > threshold
    return np.where(keep, x, value), keep


def _hardshrink(x, lambd):
    out = (x > lambd) | (x < -lambd)
    return np.where(out, x, 0.0), out


ELUFn = _pointwise("ELUFn", _elu, "ELU; SELU is a scaled ELU with fixed constants.")
CELUFn = _pointwise("CELUFn", _celu, "CELU: ELU made continuously differentiable in alpha.")
SoftplusFn = _pointwise("SoftplusFn", _softplus, "A smooth ReLU: log(1 + e^(beta x)) / beta.")
SoftsignFn = _pointwise("SoftsignFn", _softsign, "x / (1 + |x|): a tanh with polynomial tails.")
HardtanhFn = _pointwise("HardtanhFn", _hardtanh, "clip(x, min_val, max_val); ReLU6 is (0, 6).")
HardsigmoidFn = _pointwise("HardsigmoidFn", _hardsigmoid, "A piecewise-linear sigmoid.")
HardswishFn = _pointwise("HardswishFn", _hardswish, "x * hardsigmoid(x) (MobileNetV3).")
LogSigmoidFn = _pointwise("LogSigmoidFn", _logsigmoid, "log(sigmoid(x)), finite for any x.")
MishFn = _pointwise("MishFn", _mish, "x * tanh(softplus(x)).")
TanhshrinkFn = _pointwise("TanhshrinkFn", _tanhshrink, "x - tanh(x).")
SoftshrinkFn = _pointwise("SoftshrinkFn", _softshrink, "Soft thresholding by lambd.")
HardshrinkFn = _pointwise("HardshrinkFn", _hardshrink, "Hard thresholding by lambd.")
ThresholdFn = _pointwise("ThresholdFn", _threshold, "x above threshold, else value.")


class PReLUFn(Function):
    """PReLU: max(0, x) + w * min(0, x) with a learned slope per channel (axis 1).

    ``w`` arrives already shaped to broadcast against x ((C, 1, 1) for (N, C, H, W)); its
    gradient sums dL/dy * min(0, x) over every position that shares the slope.
    """

    @staticmethod
    def forward(ctx, x, w):
        neg = np.minimum(x, 0)
        ctx.save_for_backward(x, neg, w)
        return (np.maximum(x, 0) + w * neg).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, neg, w = ctx.saved_tensors
        dx = grad * np.where(x > 0, 1.0, w).astype(grad.dtype, copy=False)
        return dx, grad * neg  # the engine sums dw back down to w's broadcast shape


# --------------------------------------------------------------------------- functional forms


def _float(x, name):
    x = _t(x)
    _float_only(x, name)
    return x


def elu(input, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return ELUFn.apply(_float(input, "elu"), alpha=float(alpha))


def selu(input, inplace: bool = False) -> Tensor:
    """Self-normalizing ELU: scale * elu(x, alpha), alpha ~ 1.6733, scale ~ 1.0507."""
    return ELUFn.apply(_float(input, "selu"), alpha=_SELU_ALPHA, scale=_SELU_SCALE)


def celu(input, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return CELUFn.apply(_float(input, "celu"), alpha=float(alpha))


def softplus(input, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta; x itself where beta x > threshold (no overflow)."""
    return SoftplusFn.apply(_float(input, "softplus"), beta=float(beta),
                            threshold=float(threshold))


def softsign(input) -> Tensor:
    return SoftsignFn.apply(_float(input, "softsign"))


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    if max_val <= min_val:
        raise ValueError(f"hardtanh: max_val ({max_val}) must be greater than min_val "
                         f"({min_val})")
    return HardtanhFn.apply(_float(input, "hardtanh"), min_val=min_val, max_val=max_val)


def relu6(input, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0)


def hardsigmoid(input, inplace: bool = False) -> Tensor:
    return HardsigmoidFn.apply(_float(input, "hardsigmoid"))


def hardswish(input, inplace: bool = False) -> Tensor:
    return HardswishFn.apply(_float(input, "hardswish"))


def logsigmoid(input) -> Tensor:
    """log(sigmoid(x)), stable: -1e4 at x = -1e4 (log(sigmoid(x)) would give -inf)."""
    return LogSigmoidFn.apply(_float(input, "logsigmoid"))


def mish(input, inplace: bool = False) -> Tensor:
    return MishFn.apply(_float(input, "mish"))


def tanhshrink(input) -> Tensor:
    return TanhshrinkFn.apply(_float(input, "tanhshrink"))


def softshrink(input, lambd: float = 0.5) -> Tensor:
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be >= 0, got {lambd}")
    return SoftshrinkFn.apply(_float(input, "softshrink"), lambd=float(lambd))


def hardshrink(input, lambd: float = 0.5) -> Tensor:
    return HardshrinkFn.apply(_float(input, "hardshrink"), lambd=float(lambd))


def threshold(input, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else ``value`` (ReLU is threshold(x, 0, 0))."""
    return ThresholdFn.apply(_float(input, "threshold"), threshold=threshold, value=value)


def prelu(input, weight) -> Tensor:
    """PReLU with ``weight`` of shape (1,) (one slope) or (C,) (one per channel, axis 1)."""
    x, w = _float(input, "prelu"), _t(weight)
    if w.ndim != 1:
        raise ValueError(f"prelu: weight must be 1-D, got shape {tuple(w.shape)}")
    c = w.shape[0]
    if c != 1:
        channels = x.shape[1] if x.ndim >= 2 else (x.shape[0] if x.ndim == 1 else 1)
        if channels != c:
            raise ValueError(f"prelu: weight has {c} slopes but the input of shape "
                             f"{tuple(x.shape)} has {channels} channels (axis 1)")
        if x.ndim >= 2:  # (C,) -> (C, 1, ..., 1) so it lines up with axis 1
            w = w.reshape((c,) + (1,) * (x.ndim - 2))
    return PReLUFn.apply(x, w)


def glu(input, dim: int = -1) -> Tensor:
    """Gated linear unit: split x in halves a, b along ``dim``; a * sigmoid(b)."""
    x = _float(input, "glu")
    if x.ndim == 0:
        raise ValueError("glu: cannot halve a 0-d tensor")
    if x.shape[dim] % 2:
        raise ValueError(f"glu: halving only works on an even dimension, but dim {dim} of "
                         f"shape {tuple(x.shape)} has size {x.shape[dim]}")
    a, b = x.chunk(2, dim=dim)
    return a * sigmoid(b)


def softmin(input, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x) along ``dim``: the smallest entry gets the largest probability."""
    x = _float(input, "softmin")
    if dim is None:  # PyTorch's legacy implicit dim: 0 for 0-D, 1-D and 3-D input, else 1
        dim = 0 if x.ndim in (0, 1, 3) else 1
    out = softmax(-x, dim)
    return out if dtype is None else out.to(dtype)


# --------------------------------------------------------------------------- nn modules


def _inplace_repr(inplace: bool) -> str:
    return "inplace=True" if inplace else ""


class ELU(Module):
    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return elu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    def forward(self, input):
        return celu(input, self.alpha)


class SELU(Module):
    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return selu(input)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class Softplus(Module):
    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: float | None = None, max_value: float | None = None):
        super().__init__()
        if min_value is not None or max_value is not None:  # PyTorch's deprecated spellings
            warnings.warn("keyword argument `min_value`/`max_value` is deprecated and renamed to "
                          "`min_val`/`max_val`", FutureWarning, stacklevel=2)
            min_val = min_val if min_value is None else min_value
            max_val = max_val if max_value is None else max_value
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace
        if max_val <= min_val:
            raise ValueError(f"Hardtanh: max_val ({max_val}) must be greater than min_val "
                             f"({min_val})")

    def forward(self, input):
        return hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self):
        return (f"min_val={self.min_val}, max_val={self.max_val}"
                + (", inplace=True" if self.inplace else ""))


class ReLU6(Hardtanh):
    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class _Stateless(Module):
    """An activation with no arguments but PyTorch's optional ``inplace``."""

    _fn = None

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self)._fn(input)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class Hardsigmoid(_Stateless):
    _fn = staticmethod(hardsigmoid)

    def extra_repr(self):
        return ""  # PyTorch does not print inplace for this one


class Hardswish(Hardsigmoid):
    _fn = staticmethod(hardswish)


class Mish(_Stateless):
    _fn = staticmethod(mish)


class Softsign(Module):
    def forward(self, input):
        return softsign(input)


class LogSigmoid(Module):
    def forward(self, input):
        return logsigmoid(input)


class Tanhshrink(Module):
    def forward(self, input):
        return tanhshrink(input)


class Softshrink(Module):
    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return softshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(Softshrink):
    def forward(self, input):
        return hardshrink(input, self.lambd)


class Threshold(Module):
    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return threshold(input, self.threshold, self.value)

    def extra_repr(self):
        return (f"threshold={self.threshold}, value={self.value}"
                + (", inplace=True" if self.inplace else ""))


class PReLU(Module):
    """Leaky ReLU with a learned slope: ``weight`` (num_parameters,), initialised to ``init``.

    ``num_parameters`` is 1 (one slope for everything) or the number of channels (axis 1).
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        dt = np.dtype(dtype or np.float32)
        self.weight = Parameter(np.full((num_parameters,), init, dtype=dt))

    def reset_parameters(self) -> None:
        self.weight._data[...] = self.init

    def forward(self, input):
        return prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class GLU(Module):
    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmin(Module):
    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return softmin(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels of every pixel: (N, C, H, W) or (C, H, W), axis -3."""

    def forward(self, input):
        x = _t(input)
        if x.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected a 3-D or 4-D input, got shape "
                             f"{tuple(x.shape)}")
        return softmax(x, -3)

