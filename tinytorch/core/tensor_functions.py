"""Module 01 -- ``tt.cat``, ``tt.stack``, ``tt.where`` and the ``torch.*``-style free functions.

Most are one-line forwards to a Tensor method (``tt.exp(x)`` is ``x.exp()``); ``cat``, ``stack``
and ``where`` take several tensors, so they live here with their shape checks.
"""

from __future__ import annotations

import builtins

import numpy as np

from tinytorch.core import tensor_ops as ops
from tinytorch.core.tensor import Tensor

__all__ = [
    "cat", "concatenate", "stack", "where", "matmul", "exp", "log", "sqrt", "abs", "clip", "clamp",
    "maximum", "minimum", "sum", "mean", "var", "std", "max", "min", "argmax", "argmin",
    "reshape", "flatten", "transpose", "permute", "unsqueeze", "squeeze", "tanh", "sigmoid",
    "relu", "softmax", "log_softmax", "is_tensor", "numel", "add", "sub", "subtract", "mul",
    "multiply", "pow", "neg", "negative", "rsub", "clone", "split", "chunk", "tensor_split",
    "logical_and", "logical_or", "logical_xor", "logical_not", "diff", "broadcast_shapes",
    "clamp_min", "clamp_max", "is_floating_point",
]


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _norm_dim(dim, ndim, op):
    if not -ndim <= dim < ndim:
        raise IndexError(f"{op}: dim {dim} is out of range for tensors with {ndim} dimension(s)")
    return dim % ndim


def _check_sequence(tensors, dim, op):
    # tt.cat(a, b) (the list forgotten) would iterate a's rows and use b as the dim
    if isinstance(tensors, Tensor) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: expected a list or tuple of tensors and an int dim, as in "
                        f"tt.{op}([a, b], dim=0); got {type(tensors).__name__} and "
                        f"dim={type(dim).__name__}")


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension; all other dimensions must match."""
    _check_sequence(tensors, dim, "cat")
    ts = [_t(x) for x in tensors]
    if not ts:
        raise ValueError("cat: expected a non-empty list of tensors")
    ref = ts[0].shape
    d = _norm_dim(dim, builtins.max(len(ref), 1), "cat")
    for t in ts[1:]:
        if len(t.shape) != len(ref) or builtins.any(
                a != b for i, (a, b) in enumerate(zip(t.shape, ref)) if i != d):
            raise ValueError(
                f"cat: tensors must have the same shape except in dimension {d}: got "
                f"{tuple(ref)} and {tuple(t.shape)}"
            )
    return ops.Cat.apply(*ts, axis=d)


concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """Join tensors of equal shape along a new dimension."""
    _check_sequence(tensors, dim, "stack")
    ts = [_t(x) for x in tensors]
    if not ts:
        raise ValueError("stack: expected a non-empty list of tensors")
    for t in ts[1:]:
        if t.shape != ts[0].shape:
            raise ValueError(
                f"stack: all tensors must have the same shape: got {tuple(ts[0].shape)} and "
                f"{tuple(t.shape)}"
            )
    d = _norm_dim(dim, ts[0].ndim + 1, "stack")
    return ops.Stack.apply(*ts, axis=d)


def where(condition, input=None, other=None) -> Tensor:
    """``input`` where ``condition`` is True, else ``other`` (all three broadcast).
    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``."""
    if input is None and other is None:
        from tinytorch.core.ops_index import nonzero

        return nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise TypeError("where: give both input and other, or neither (where(cond) lists indices)")
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    # NumPy scalars count as Python numbers (PyTorch): where(c, int32, np.int64(3)) is int32
    input, other = (x.item() if isinstance(x, np.generic) else x for x in (input, other))
    a = input if isinstance(input, (Tensor, int, float)) else Tensor(input)
    b = other if isinstance(other, (Tensor, int, float)) else Tensor(other)
    try:
        return ops.Where.apply(cond, a, b)
    except ValueError:
        raise ValueError(
            f"where: condition {cond.shape}, input {np.shape(getattr(a, 'data', a))} and other "
            f"{np.shape(getattr(b, 'data', b))} do not broadcast together"
        ) from None


def matmul(a, b) -> Tensor:
    return _t(a).matmul(b)


def exp(x):
    return _t(x).exp()


def log(x):
    return _t(x).log()


def sqrt(x):
    return _t(x).sqrt()


def abs(x):  # noqa: A001 -- torch.abs
    return _t(x).abs()


def clip(x, min=None, max=None):  # noqa: A002
    return _t(x).clip(min, max)


clamp = clip


def maximum(a, b):
    return _t(a).maximum(b)


def minimum(a, b):
    return _t(a).minimum(b)


def sum(x, dim=None, keepdim=False, *, dtype=None):  # noqa: A001
    return _t(x).sum(dim, keepdim, dtype=dtype)


def mean(x, dim=None, keepdim=False, *, dtype=None):
    return _t(x).mean(dim, keepdim, dtype=dtype)


def var(x, dim=None, keepdim=False, *, unbiased=None, correction=None):
    return _t(x).var(dim, keepdim, unbiased=unbiased, correction=correction)


def std(x, dim=None, keepdim=False, *, unbiased=None, correction=None):
    return _t(x).std(dim, keepdim, unbiased=unbiased, correction=correction)


def max(x, dim=None, keepdim=False):  # noqa: A001
    return _t(x).max(dim, keepdim)


def min(x, dim=None, keepdim=False):  # noqa: A001
    return _t(x).min(dim, keepdim)


def argmax(x, dim=None, keepdim=False):
    return _t(x).argmax(dim, keepdim)


def argmin(x, dim=None, keepdim=False):
    return _t(x).argmin(dim, keepdim)


def reshape(x, *shape):
    return _t(x).reshape(*shape)


def flatten(x, start_dim=0, end_dim=-1):
    return _t(x).flatten(start_dim, end_dim)


def transpose(x, dim0, dim1):
    return _t(x).transpose(dim0, dim1)


def permute(x, *dims):
    return _t(x).permute(*dims)


def unsqueeze(x, dim):
    return _t(x).unsqueeze(dim)


def squeeze(x, dim=None):
    return _t(x).squeeze(dim)


def tanh(x):
    return _t(x).tanh()


def sigmoid(x):
    return _t(x).sigmoid()


def relu(x):
    return _t(x).relu()


def softmax(x, dim=-1):
    return _t(x).softmax(dim)


def log_softmax(x, dim=-1):
    return _t(x).log_softmax(dim)


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def numel(x) -> int:
    return _t(x).numel()




# --------------------------------------------------------------------------- torch.add & co.
# PyTorch's module-level spellings of the operators, with its keyword arguments. ``out=`` (write
# into an existing tensor) is refused: every op here returns a new tensor.


def _no_out(out, op):
    if out is not None:
        raise TypeError(f"{op}: out= is not supported in tinytorch (ops return new tensors); "
                        f"write `result = tt.{op}(...)` instead")


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other."""
    _no_out(out, "add")
    return _t(input).add(other, alpha=alpha)


def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other."""
    _no_out(out, "sub")
    return _t(input).sub(other, alpha=alpha)


subtract = sub


def rsub(input, other, *, alpha=1):
    """other - alpha * input."""
    scaled = _t(input) if alpha == 1 else _t(input) * alpha
    return other - scaled


def mul(input, other, *, out=None):
    _no_out(out, "mul")
    return _t(input) * other


multiply = mul


def pow(input, exponent, *, out=None):  # noqa: A001 -- torch.pow
    """input ** exponent; ``input`` may be a number when ``exponent`` is a tensor."""
    _no_out(out, "pow")
    if not isinstance(input, Tensor) and isinstance(exponent, Tensor):
        return input ** exponent
    return _t(input) ** exponent


def neg(input, *, out=None):
    _no_out(out, "neg")
    return -_t(input)


negative = neg


def clone(input):
    return _t(input).clone()


def split(tensor, split_size_or_sections, dim: int = 0):
    """Chunks of ``split_size`` along ``dim``, or of the listed sizes."""
    return _t(tensor).split(split_size_or_sections, dim)


def chunk(input, chunks: int, dim: int = 0):
    return _t(input).chunk(chunks, dim)


def tensor_split(input, indices_or_sections, dim: int = 0):
    """Split into ``n`` nearly equal parts (the first ``size % n`` one longer), or at indices."""
    x = _t(input)
    d = _norm_dim(dim, builtins.max(x.ndim, 1), "tensor_split")
    size = x.shape[d]
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        if n <= 0:
            raise ValueError(f"tensor_split: number of sections must be positive, got {n}")
        q, r = divmod(size, n)
        bounds = np.cumsum([q + 1] * r + [q] * (n - r))[:-1].tolist()
    else:
        bounds = [int(i) for i in indices_or_sections]
    edges = [0] + bounds + [size]
    return tuple(x[(slice(None),) * d + (slice(a, builtins.max(a, b)),)]
                 for a, b in zip(edges[:-1], edges[1:]))


def _logical(fn):
    def op(input, other=None):
        a = _t(input)._data
        if fn is np.logical_not:
            return Tensor._wrap(fn(a), None)
        return Tensor._wrap(fn(a, _t(other)._data), None)

    op.__name__ = op.__qualname__ = fn.__name__
    op.__doc__ = f"Elementwise {fn.__name__.replace('_', ' ')} of the truth values (bool result)."
    return op


logical_and = _logical(np.logical_and)
logical_or = _logical(np.logical_or)
logical_xor = _logical(np.logical_xor)
logical_not = _logical(np.logical_not)


def diff(input, n: int = 1, dim: int = -1):
    """Differences of neighbours along ``dim``, ``n`` times: [1, 4, 9] -> [3, 5]."""
    x = _t(input)
    d = _norm_dim(dim, x.ndim, "diff")
    for _ in range(n):
        m = x.shape[d]
        if m == 0:
            break
        lo = (slice(None),) * d + (slice(0, m - 1),)
        hi = (slice(None),) * d + (slice(1, m),)
        x = x[hi] - x[lo] if x.dtype != np.bool_ else Tensor._wrap(x[hi]._data != x[lo]._data, None)
    return x


def broadcast_shapes(*shapes):
    """The shape that tensors of these shapes broadcast to."""
    try:
        return tuple(np.broadcast_shapes(*[(s,) if isinstance(s, int) else tuple(s)
                                           for s in shapes]))
    except ValueError:
        raise ValueError(f"broadcast_shapes: shapes {shapes} do not broadcast") from None


def clamp_min(input, min):  # noqa: A002
    return _t(input).clip(min, None)


def clamp_max(input, max):  # noqa: A002
    return _t(input).clip(None, max)


def is_floating_point(input) -> bool:
    return _t(input)._data.dtype.kind == "f"


# The rest of PyTorch's everyday functions are defined by op family in core/ops_*.py (each takes
# the tensor first, so Tensor binds the same function as a method); here they join the face.
from tinytorch.core import ops_elementwise as _ops_elementwise  # noqa: E402
from tinytorch.core import ops_index as _ops_index  # noqa: E402
from tinytorch.core import ops_matmul as _ops_matmul  # noqa: E402
from tinytorch.core import ops_random as _ops_random  # noqa: E402
from tinytorch.core import ops_reduce as _ops_reduce  # noqa: E402
from tinytorch.core import ops_shape as _ops_shape  # noqa: E402
from tinytorch.core.ops_elementwise import *  # noqa: E402,F401,F403
from tinytorch.core.ops_index import *  # noqa: E402,F401,F403
from tinytorch.core.ops_matmul import *  # noqa: E402,F401,F403
from tinytorch.core.ops_random import *  # noqa: E402,F401,F403
from tinytorch.core.ops_reduce import *  # noqa: E402,F401,F403
from tinytorch.core.ops_shape import *  # noqa: E402,F401,F403

__all__ += [n for mod in (_ops_elementwise, _ops_reduce, _ops_shape, _ops_index, _ops_matmul,
                          _ops_random) for n in mod.__all__ if n not in __all__]
