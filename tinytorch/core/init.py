"""Module 03 -- weight initialisation: where a network starts decides whether it can learn.

A layer's output is a sum of ``fan_in`` products ``w * x``. If each weight has variance
``Var(w)`` and each input variance ``Var(x)``, the sum has variance ``fan_in * Var(w) * Var(x)``:
too large a ``Var(w)`` and activations grow layer after layer until they overflow; too small
and they shrink to zero, and so do the gradients. The schemes here pick ``Var(w)`` so the
signal keeps its size:

* Xavier/Glorot (2010), for tanh/sigmoid nets: ``Var(w) = gain^2 * 2 / (fan_in + fan_out)``;
* Kaiming/He (2015), for ReLU nets (ReLU zeroes half its input, so double the variance):
  ``Var(w) = gain^2 / fan``, with ``gain = sqrt(2)`` for ReLU.

A uniform ``U(-b, b)`` has variance ``b^2 / 3``, so a uniform version with standard deviation
``std`` uses the bound ``b = sqrt(3) * std``.

Every function here matches ``torch.nn.init``: same names, signatures, defaults and formulas.
They fill a tensor in place (its array ``._data``, without recording a graph) and return it. Random
draws come from tinytorch's default generator (``tt.manual_seed`` makes them repeatable) or
from the ``generator`` you pass.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from tinytorch.core.creation import default_generator

__all__ = [
    "calculate_gain", "uniform_", "normal_", "constant_", "ones_", "zeros_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
]

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d", "sigmoid")


def _rng(generator):
    return (generator if generator is not None else default_generator).rng


def _fill(tensor, values):
    """Write ``values`` into ``tensor._data`` in place, keeping its dtype; return the tensor."""
    tensor._data[...] = values
    return tensor


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The factor by which a nonlinearity shrinks the standard deviation of its input.

    ``linear``/``conv*``/``sigmoid``: 1; ``tanh``: 5/3; ``relu``: sqrt(2);
    ``leaky_relu`` with slope ``param`` (default 0.01): sqrt(2 / (1 + slope^2)); ``selu``: 3/4.
    """
    # BEGIN SOLUTION
    if nonlinearity in _LINEAR_FNS:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")
    # END SOLUTION


def _calculate_fan_in_and_fan_out(tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight laid out as PyTorch lays it out.

    A Linear weight is (out_features, in_features): fan_in = in, fan_out = out. A convolution
    weight is (out_channels, in_channels, k1, k2, ...): each output sums over
    ``in_channels * k1 * k2 ...`` inputs, so both fans are multiplied by the receptive field.
    """
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(got shape {shape}); a bias has no fan: initialise it with uniform_ or zeros_"
        )
    # BEGIN SOLUTION
    receptive_field = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    fan_in = shape[1] * receptive_field
    fan_out = shape[0] * receptive_field
    return fan_in, fan_out
    # END SOLUTION


def _calculate_correct_fan(tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _no_elements(tensor) -> bool:
    if tensor._data.size == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


# --------------------------------------------------------------------------- plain fills


def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    """Fill with samples of the uniform distribution U(a, b)."""
    return _fill(tensor, _rng(generator).uniform(a, b, size=tensor.shape))


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    """Fill with samples of the normal distribution N(mean, std^2)."""
    return _fill(tensor, _rng(generator).normal(mean, std, size=tensor.shape))


def constant_(tensor, val: float):
    """Fill with the value ``val``."""
    return _fill(tensor, val)


def ones_(tensor):
    """Fill with 1."""
    return _fill(tensor, 1)


def zeros_(tensor):
    """Fill with 0."""
    return _fill(tensor, 0)


# --------------------------------------------------------------------------- Xavier / Glorot


def xavier_uniform_(tensor, gain: float = 1.0, generator=None):
    """U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))`` (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    # BEGIN SOLUTION
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std  # a uniform on [-a, a] has standard deviation a / sqrt(3)
    return uniform_(tensor, -a, a, generator)
    # END SOLUTION


def xavier_normal_(tensor, gain: float = 1.0, generator=None):
    """N(0, std^2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    # BEGIN SOLUTION
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)
    # END SOLUTION


# --------------------------------------------------------------------------- Kaiming / He


def kaiming_uniform_(tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None):
    """U(-bound, bound) with ``bound = gain * sqrt(3 / fan)`` (He et al., 2015).

    Args:
        a: the negative slope of the leaky ReLU that follows (0 means plain ReLU).
        mode: ``"fan_in"`` keeps the size of activations in the forward pass,
            ``"fan_out"`` the size of gradients in the backward pass.
        nonlinearity: its name, for :func:`calculate_gain`.

    ``nn.Linear`` calls this with ``a=sqrt(5)``: gain = sqrt(2 / 6) = sqrt(1/3), hence
    ``bound = 1 / sqrt(fan_in)`` -- PyTorch's default Linear initialisation.
    """
    if _no_elements(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    # BEGIN SOLUTION
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)
    # END SOLUTION


def kaiming_normal_(tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None):
    """N(0, std^2) with ``std = gain / sqrt(fan)`` (He et al., 2015)."""
    if _no_elements(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    # BEGIN SOLUTION
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)
    # END SOLUTION
