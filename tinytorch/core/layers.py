"""Module 03 -- layers: the building blocks networks are stacked from.

* :class:`Linear` -- ``y = x @ W.T + b``, the layer every network has. Its weight is stored
  (out_features, in_features), as PyTorch stores it, so weights move between the two
  frameworks unchanged.
* :class:`Sequential`, :class:`ModuleList`, :class:`ModuleDict` -- containers that register
  their children, so ``parameters()`` and ``state_dict()`` see inside them.
* :class:`Dropout` -- zeroes activations at random while training (inverted dropout: the
  survivors are scaled by ``1 / (1 - p)`` so nothing changes at evaluation time).
* :class:`Identity`, :class:`Flatten` -- small shape helpers.

The functional forms :func:`linear` and :func:`dropout` hold the math; the modules store the
weights and settings and call them, as ``torch.nn.Linear`` calls ``F.linear``. ``linear`` is
one op, :class:`LinearFn` (PyTorch's ``addmm``), whose backward module 05 writes; dropout is
a multiplication by a mask, a tensor op with its own backward.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from itertools import chain

import numpy as np

from tinytorch.core import init
from tinytorch.core.autograd import Function
from tinytorch.core.blas_sums import col_sum
from tinytorch.core.creation import default_generator
from tinytorch.core.module import Module, Parameter
from tinytorch.core.tensor import Tensor

__all__ = ["linear", "LinearFn", "dropout", "Linear", "Identity", "Flatten", "Dropout",
           "Sequential", "ModuleList", "ModuleDict"]


# --------------------------------------------------------------------------- functional forms


class LinearFn(Function):
    """``input @ weight.T + bias`` as one op, as PyTorch's ``addmm``: (*, in) -> (*, out).

    One node where the composition records four (reshape, transpose, matmul, add): every
    leading dim is folded into the rows of one matrix product (so the weight gradient is one
    matmul too, not a batch of them summed after), the bias is added in place into the
    product (a new array the op owns), and its gradient is a column sum. ``linear`` sends
    only inputs that share one float dtype here.
    """

    @staticmethod
    def forward(ctx, x, weight, bias):
        x2 = x.reshape(math.prod(x.shape[:-1]), x.shape[-1])  # (M, in): leading dims as rows
        # BEGIN SOLUTION
        out = np.matmul(x2, weight.T)  # (M, in) @ (in, out) -> (M, out)
        if bias is not None:
            out += bias  # in place (out is new); (out,) broadcasts over the rows
        # END SOLUTION
        ctx.save_for_backward(x2, weight)
        ctx.in_shape = x.shape
        return out.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, grad):
        x2, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        g = grad.reshape(x2.shape[0], weight.shape[0])  # (M, out), as the forward's product
        # BEGIN SOLUTION 05
        dx = np.matmul(g, weight).reshape(ctx.in_shape) if need_x else None  # (M, in)
        dw = np.matmul(g.T, x2) if need_w else None  # (out, M) @ (M, in): weight's layout
        db = col_sum(g) if need_b else None  # g.sum(axis=0): the bias met every row
        # END SOLUTION
        return dx, dw, db


def _fits_linear_fn(x: np.ndarray, weight: np.ndarray, bias) -> bool:
    """True when :class:`LinearFn` takes these arrays: one float dtype for all three, a 2-D
    weight, and a bias of shape (out_features,) or None."""
    return weight.ndim == 2 and x.dtype == weight.dtype and x.dtype.kind == "f" and (
        bias is None or (bias.dtype == weight.dtype and bias.shape == (weight.shape[0],)))


def linear(input, weight, bias=None) -> Tensor:
    """Affine map ``input @ weight.T + bias``.

    Shapes:
        input: (*, in_features) -- any number of leading batch dimensions, or none.
        weight: (out_features, in_features) -- PyTorch's layout: one row per output unit.
        bias: (out_features,) or None.
        returns: (*, out_features).

    One op (:class:`LinearFn`) when input, weight and bias share a float dtype and the bias
    is (out_features,), as in every layer; otherwise (mixed dtypes, which NumPy promotes, or
    a bias of another broadcastable shape) the same math composed of tensor ops.
    """
    if not isinstance(input, Tensor):
        input = Tensor(input)
    if input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        raise ValueError(
            f"linear: input of shape {tuple(input.shape)} has "
            f"{input.shape[-1] if input.ndim else 'no'} features in its last dimension, but the "
            f"weight of shape {tuple(weight.shape)} (out_features, in_features) expects "
            f"{weight.shape[-1]}. Reshape the input (e.g. x.flatten(1)) or build the layer with "
            f"in_features={input.shape[-1] if input.ndim else '?'}."
        )
    if isinstance(weight, Tensor) and (bias is None or isinstance(bias, Tensor)) and \
            _fits_linear_fn(input._data, weight._data, None if bias is None else bias._data):
        return LinearFn.apply(input, weight, bias)
    if input.ndim > 2 and weight.ndim == 2:  # one 2-D product, as LinearFn does
        lead = tuple(input.shape[:-1])
        flat = linear(input.reshape(-1, input.shape[-1]), weight, bias)
        return flat.reshape(lead + (weight.shape[0],))
    out = input @ weight.T  # (*, in) @ (in, out) -> (*, out); a 1-D weight gives (*,)
    if bias is not None:
        out = out + bias
    return out


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False,
            generator=None) -> Tensor:
    """Inverted dropout: zero each element with probability ``p``, scale survivors by 1/(1-p).

    The scaling keeps the expected value of every element unchanged, so a network trained
    with dropout needs no correction at evaluation time (``training=False`` returns the input).
    The mask comes from tinytorch's default generator (``tt.manual_seed`` makes it
    repeatable) or ``generator``. ``inplace`` is accepted for PyTorch compatibility; the
    result is always a new tensor (an in-place write would corrupt the graph).

    Shapes: any; the output has the input's shape.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not isinstance(input, Tensor):
        input = Tensor(input)
    if not training or p == 0.0:
        return input
    rng = (generator if generator is not None else default_generator).rng
    # BEGIN SOLUTION
    if p == 1.0:
        return input * 0.0  # everything dropped (and no division by zero)
    keep = rng.random(input.shape, dtype=np.float32) >= p  # True with probability 1 - p
    scale = np.asarray(1.0 / (1.0 - p), dtype=input.dtype)
    # one multiply by a constant mask: its backward (module 05) routes grad * mask * scale
    return input * Tensor(keep * scale)
    # END SOLUTION


# --------------------------------------------------------------------------- layers


class Linear(Module):
    """Fully connected layer: ``y = x @ W.T + b``.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias (default True).
        dtype: dtype of the weights (default float32).

    Attributes:
        weight: Parameter (out_features, in_features), initialised U(-1/sqrt(in), 1/sqrt(in)).
        bias: Parameter (out_features,), same distribution, or None.

    Shapes: input (*, in_features) -> output (*, out_features).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        dtype = np.dtype(dtype or np.float32)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty((out_features,), dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default init: weight and bias both U(-1/sqrt(in), 1/sqrt(in))."""
        # BEGIN SOLUTION
        # kaiming_uniform_ with a=sqrt(5): gain sqrt(2/6), bound gain*sqrt(3/in) = 1/sqrt(in)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)
        # END SOLUTION

    def forward(self, input) -> Tensor:
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to remove a layer from a model).

    Any constructor arguments are ignored, as in PyTorch.
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    """Flatten dimensions ``start_dim..end_dim`` into one: (N, C, H, W) -> (N, C*H*W).

    The default ``start_dim=1`` keeps the batch dimension, so it sits between convolutional
    layers and a Linear classifier.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input) -> Tensor:
        # BEGIN SOLUTION
        return input.flatten(self.start_dim, self.end_dim)
        # END SOLUTION

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Randomly zero elements with probability ``p`` while training; identity in eval mode.

    Args:
        p: probability of an element being zeroed (default 0.5).
        inplace: accepted for PyTorch compatibility (see :func:`dropout`).
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input) -> Tensor:
        return dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


# --------------------------------------------------------------------------- containers


def _check_module(module, where: str):
    if not isinstance(module, Module) and module is not None:
        raise TypeError(f"{where}: {type(module).__name__} is not a Module subclass")


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: children in order, reached by integer position.

    Children are stored in ``_modules`` (so they are registered); position ``i`` is the
    ``i``-th key, whatever its name. After a deletion the names are renumbered 0..n-1, as
    PyTorch does.
    """

    def _key(self, idx) -> str:
        """The name of the child at integer position ``idx`` (negative counts from the end)."""
        size = len(self)
        idx = int(idx)
        if not -size <= idx < size:
            raise IndexError(f"index {idx} is out of range for a {type(self).__name__} of "
                             f"{size} module(s)")
        return list(self._modules.keys())[idx % size]

    def _slice(self, idx: slice):
        raise NotImplementedError

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self._slice(idx)
        return self._modules[self._key(idx)]

    def __setitem__(self, idx, module) -> None:
        _check_module(module, type(self).__name__)
        setattr(self, self._key(idx), module)

    def __delitem__(self, idx) -> None:
        keys = list(self._modules.keys())[idx] if isinstance(idx, slice) else [self._key(idx)]
        for key in keys:
            delattr(self, key)
        self._modules = OrderedDict((str(i), m) for i, m in enumerate(self._modules.values()))

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add ``module`` at the end (named by its position)."""
        _check_module(module, f"{type(self).__name__}.append")
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        if not isinstance(modules, Iterable):
            raise TypeError(f"{type(self).__name__}.extend should be called with an iterable, "
                            f"but got {type(modules).__name__}")
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module):
        _check_module(module, f"{type(self).__name__}.insert")
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        if index < 0:
            index += n
        for i in range(n, index, -1):
            self._modules[str(i)] = self._modules[str(i - 1)]
        self._modules[str(index)] = module
        return self

    def pop(self, key):
        v = self[key]
        del self[key]
        return v


class Sequential(_ModuleSequence):
    """A chain of modules: the output of each is the input of the next.

    ``Sequential(Linear(2, 8), ReLU(), Linear(8, 1))`` names its children ``"0"``, ``"1"``,
    ``"2"`` (so state_dict keys are ``"0.weight"``, ...); ``Sequential(OrderedDict(...))``
    uses your names. Indexing with an int gives a child, with a slice a new Sequential that
    keeps the children's names.
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for key, module in args[0].items():
                _check_module(module, "Sequential")
                self.add_module(key, module)
        else:
            for idx, module in enumerate(args):
                _check_module(module, "Sequential")
                self.add_module(str(idx), module)

    def _slice(self, idx: slice) -> "Sequential":
        return self.__class__(OrderedDict(list(self._modules.items())[idx]))

    def __add__(self, other) -> "Sequential":
        if not isinstance(other, Sequential):
            raise ValueError("add operator supports only objects of Sequential class, but "
                             f"{type(other)} is given.")
        return Sequential(*self, *other)

    def forward(self, input):
        # BEGIN SOLUTION
        for module in self:
            input = module(input)
        return input
        # END SOLUTION


class ModuleList(_ModuleSequence):
    """A list of modules, registered (unlike a plain Python list, whose layers would be
    invisible to ``parameters()``). It has no forward: you decide how to call them."""

    def __init__(self, modules: Iterable | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _slice(self, idx: slice) -> "ModuleList":
        return self.__class__(list(self._modules.values())[idx])

    def __iadd__(self, modules) -> "ModuleList":
        return self.extend(modules)

    def __add__(self, other) -> "ModuleList":
        return ModuleList(chain(self, other))

    def __repr__(self) -> str:
        """Like PyTorch's: runs of identical children are shown once, ``(0-2): 3 x Linear(..)``."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return type(self).__name__ + "()"
        blocks = []  # [start, end, repr]
        for i, r in enumerate(reprs):
            if blocks and blocks[-1][2] == r:
                blocks[-1][1] = i
            else:
                blocks.append([i, i, r])
        lines = []
        for start, end, r in blocks:
            head = f"({start}): " if start == end else f"({start}-{end}): {end - start + 1} x "
            lines.append((head + r).replace("\n", "\n  "))
        return type(self).__name__ + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules (insertion-ordered), registered under their keys."""

    def __init__(self, modules: Mapping | Iterable | None = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str):
        return self._modules[key]

    def __setitem__(self, key: str, module) -> None:
        _check_module(module, "ModuleDict")
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str):
        v = self[key]
        del self[key]
        return v

    def update(self, modules) -> None:
        """Add modules from a mapping (or ModuleDict) or an iterable of (key, module) pairs."""
        if isinstance(modules, (Mapping, ModuleDict)):
            for key, module in modules.items():
                self[key] = module
            return
        if not isinstance(modules, Iterable):
            raise TypeError("ModuleDict.update should be called with an iterable of key/value "
                            f"pairs, but got {type(modules).__name__}")
        for j, pair in enumerate(modules):
            if not isinstance(pair, Iterable) or len(pair) != 2:
                raise ValueError(f"ModuleDict update sequence element #{j} must be a "
                                 "(key, module) pair")
            self[pair[0]] = pair[1]
