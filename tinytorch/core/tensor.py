"""Module 01 -- Tensor: an n-dimensional array that remembers how it was made.

A :class:`Tensor` wraps a NumPy array (``._data``; ``.numpy()`` shares it) and adds what deep learning needs on top:

* PyTorch's names and conventions (``dim``/``keepdim``, ``view``, ``permute``, ``item``);
* dtypes that mean something: float data is float32 unless you ask for float64, integer data
  (token ids, class labels) stays integer;
* autograd: when an input ``requires_grad``, each op records a node (``y.grad_fn``) so that
  ``loss.backward()`` can compute every gradient (module 05).

The math of each op lives in ``tensor_ops.py`` (forward beside backward); this file is the
user-facing class that checks arguments, gives clear errors and calls ``Op.apply``.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from tinytorch.core import autograd as _autograd
from tinytorch.core import device as _device
from tinytorch.core import dtypes as _dtypes
from tinytorch.core import indexing as _indexing
from tinytorch.core import tensor_inplace as _inp
from tinytorch.core import tensor_ops as ops
from tinytorch.core import ops_elementwise as _ew
from tinytorch.core import ops_reduce as _red
from tinytorch.core import ops_shape as _shp
from tinytorch.core import ops_index as _idx
from tinytorch.core import ops_matmul as _mat
from tinytorch.core import ops_random as _rnd
from tinytorch.core.size import Size

PRINT_PRECISION = [4]  # digits after the point in repr; tt.set_printoptions(precision=) sets it

__all__ = ["Tensor", "as_array"]

_SCALARS = (int, float, bool, np.number, np.bool_)

ReturnTypes = namedtuple("ReturnTypes", ["values", "indices"])


def as_array(data, dtype=None) -> np.ndarray:
    """Convert user data to an ndarray with PyTorch's dtype rules.

    Python floats (and lists of them) become float32; Python ints become int64; bools stay
    bool; NumPy arrays keep their dtype (float64 stays float64 -- ask for float32 if you want
    it). Strings, objects and complex numbers are refused with a message saying what to do.
    """
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, np.ndarray):
        arr = data
    else:
        try:
            arr = np.asarray(data)
        except ValueError as e:  # ragged nested lists
            raise ValueError(
                f"tensor: could not build a tensor from this data ({e}). Nested lists must be "
                "rectangular: every row the same length."
            ) from None
        if arr.dtype == np.float64 and not isinstance(data, np.generic):
            arr = arr.astype(_dtypes.default_float())  # Python floats -> float32 (the default)
    if dtype is not None:
        arr = arr.astype(np.dtype(dtype), copy=False)
    kind = arr.dtype.kind
    if kind not in "fiub":
        raise TypeError(
            f"tensor: unsupported data of dtype {arr.dtype}. Tensors hold numbers: float, int, "
            "unsigned or bool. Convert strings to token ids (module 10) or numbers first; "
            "complex numbers are not supported."
        )
    return arr


def _dim_to_axis(dim, axis, ndim, op):
    """Accept PyTorch's ``dim`` or NumPy's ``axis``; check it is in range; normalize negatives."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}: pass either dim or axis, not both")
        dim = axis
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        return tuple(_dim_to_axis(d, None, ndim, op) for d in dim)
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int (or a tuple of ints), got {dim!r}")
    d = dim
    if not (-max(ndim, 1) <= d < max(ndim, 1)):
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimension(s)")
    # a 0-d tensor accepts dim 0 or -1 (as in PyTorch) and reduces over no axis at all: ()
    return d % ndim if ndim else ()


def _shape_arg(shape):
    """``reshape(2, 3)`` and ``reshape((2, 3))`` both mean shape (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


class Tensor:
    """An n-dimensional array with autograd.

    Args:
        data: a number, a (nested) list, a NumPy array or a Tensor.
        dtype: e.g. ``tt.float32``, ``tt.float64``, ``tt.int64``; default from the data.
        requires_grad: record ops on this tensor so ``backward()`` can fill ``.grad``.

    Attributes:
        data: PyTorch's ``.data``: the same values (shared memory) as a Tensor cut from the
            graph. Writing through it (``p.data -= lr * p.grad``) changes ``p`` without being
            recorded. The NumPy array itself is ``._data`` inside the engine; ``.numpy()``
            outside it.
        grad: a Tensor with dL/d(this), filled by ``backward()`` (leaves only, by default).
        grad_fn: the node that created this tensor, or None for a leaf.
    """

    __slots__ = ("_data", "requires_grad", "grad", "grad_fn", "__weakref__", "__dict__")
    # Makes ``ndarray + Tensor`` call Tensor.__radd__ instead of NumPy's elementwise loop.
    __array_priority__ = 1000

    def __init__(self, data, dtype=None, requires_grad: bool = False):
        self._data = as_array(data, dtype)
        self.grad = None
        self.grad_fn = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array, grad_fn):
        """Internal fast constructor: an array the engine just computed, no checks or copies."""
        t = object.__new__(Tensor)
        t._data = array if type(array) is np.ndarray else np.asarray(array)
        t.grad = None
        t.grad_fn = grad_fn
        t.requires_grad = grad_fn is not None
        return t

    # ------------------------------------------------------------------ properties

    @property
    def data(self) -> "Tensor":
        """The same values as a Tensor detached from the graph, sharing memory (as PyTorch).

        In-place writes through it (``p.data.add_(u)``, ``p.data -= lr * p.grad``) change this
        tensor without being recorded by autograd: the classic hand-written optimizer step.
        """
        return Tensor._wrap(self._data, None)

    @data.setter
    def data(self, value) -> None:
        # ``p.data = t`` swaps the values (shape and dtype may change, as in PyTorch). Only a
        # Tensor or an ndarray is accepted: anything else would silently break the engine later.
        if isinstance(value, Tensor):
            arr = value._data
        elif isinstance(value, np.ndarray):
            arr = as_array(value)  # refuses object, string and complex arrays at once
        else:
            raise TypeError(
                f".data: assigned value must be a Tensor (or NumPy array), got "
                f"{type(value).__name__}. Wrap it first: t.data = tt.tensor(value)."
            )
        if self.requires_grad and arr.dtype.kind != "f":
            raise RuntimeError(
                f".data: data set to a tensor that requires gradients must be floating point, "
                f"got {arr.dtype}; convert it first (value.float())")
        self._data = arr

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats a one-element tensor's value, as PyTorch does for 0-d."""
        if spec and self._data.ndim == 0:
            return format(self._data.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return repr(self)


    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def size(self, dim=None):
        """The shape (a ``tt.Size``, a tuple), or the length of one dimension."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        """The rows (``t[0]``, ``t[1]``, ...). Without it Python would index until IndexError,
        and a 0-d tensor would iterate as an empty loop instead of failing."""
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor; use .item() for its value")
        return (self[i] for i in range(self._data.shape[0]))

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(
                f"item: only one-element tensors can be converted to a Python number; "
                f"this one has shape {self.shape}. Index it or reduce it first."
            )
        return self._data.reshape(()).item()

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self._data

    def tolist(self):
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        # NumPy's protocol: np.array(t) asks for a copy (copy=True), np.asarray(t) for none
        # (copy=None). A snapshot like np.array(w) must not change as training updates w.
        arr = self._data if dtype is None else self._data.astype(dtype, copy=False)
        if copy is False and arr is not self._data:
            raise ValueError(f"__array__: a {self.dtype} tensor cannot be viewed as {dtype} "
                             "without a copy")
        return arr.copy() if copy and arr is self._data else arr

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="tensor(",
                               precision=PRINT_PRECISION[0],
                               floatmode="maxprec_equal" if self._data.dtype.kind == "f" else "maxprec")
        extras = []
        if self._data.size == 0 and self._data.ndim != 1:  # "tensor([])" alone hides (0, 3)
            extras.append(f"size={tuple(self._data.shape)}")
        if self._data.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype=tinytorch.{self._data.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    __hash__ = object.__hash__  # identity, as in PyTorch (== is elementwise)

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"bool: the truth value of a tensor with {self._data.size} elements is ambiguous; "
                "use (t == u).all() or .any()."
            )
        return bool(self._data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of one element can be used as an index")
        return int(self.item())

    # ------------------------------------------------------------------ autograd

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Turn gradient tracking on (or off) for this leaf, in place."""
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(
                f"requires_grad: only floating point tensors can require gradients, but this "
                f"tensor is {self._data.dtype}. Convert it first: t.float().requires_grad_()."
            )
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) is only allowed on leaves; use .detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient=None, retain_graph: bool = False) -> None:
        """Fill ``.grad`` of every leaf this tensor depends on with d(self)/d(leaf).

        For a scalar (a loss) no argument is needed. For a tensor of another shape, pass
        ``gradient``: dL/d(self), a tensor of the same shape.
        """
        _autograd.backward(self, gradient, retain_graph)

    def retain_grad(self) -> None:
        """Also keep ``.grad`` on this non-leaf tensor during backward (for inspection)."""
        if self.grad_fn is not None:
            _autograd._retain(self.grad_fn, self)

    def detach(self) -> "Tensor":
        """The same values (shared memory), cut from the graph."""
        return Tensor._wrap(self._data, None)

    def clone(self) -> "Tensor":
        return ops.Clone.apply(self)

    # in-place methods (add_, mul_, zero_, copy_, normal_ ...): tensor_inplace.py has them and
    # PyTorch's rules (writes are counted in _version; leaves that require grad are refused)
    add_, sub_, mul_, div_, pow_, neg_ = _inp.add_, _inp.sub_, _inp.mul_, _inp.div_, _inp.pow_, _inp.neg_
    abs_, exp_, log_, sqrt_, relu_ = _inp.abs_, _inp.exp_, _inp.log_, _inp.sqrt_, _inp.relu_
    sigmoid_, tanh_, clamp_, clip_ = _inp.sigmoid_, _inp.tanh_, _inp.clamp_, _inp.clamp_
    clamp_min_, clamp_max_, addcmul_, addcdiv_ = _inp.clamp_min_, _inp.clamp_max_, _inp.addcmul_, _inp.addcdiv_
    lerp_, masked_fill_, zero_, fill_, copy_ = _inp.lerp_, _inp.masked_fill_, _inp.zero_, _inp.fill_, _inp.copy_
    normal_, uniform_ = _inp.normal_, _inp.uniform_
    subtract_, multiply_, divide_ = _inp.sub_, _inp.mul_, _inp.div_

    @property
    def _version(self) -> int:
        """In-place writes into this tensor's memory so far (PyTorch's version counter)."""
        return _inp.version(self)

    # ------------------------------------------------------------------ dtype

    @property
    def device(self):
        """Where the values live: ``device(type='cpu')``, the only device of this build."""
        return _device.CPU

    is_cuda = False
    is_cpu = True

    def cpu(self) -> "Tensor":
        return self

    def cuda(self, device=None, non_blocking: bool = False) -> "Tensor":
        _device.as_device("cuda" if device is None else device, "Tensor.cuda")
        return self

    def to(self, *args, **kwargs) -> "Tensor":
        """PyTorch's ``.to``: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``,
        ``to(other)``, keywords ``device=``, ``dtype=``, ``non_blocking=``, ``copy=``.

        The device must be the CPU (a clear error otherwise). A new dtype makes a copy
        (gradients flow through float casts); nothing to change returns ``self``, unless
        ``copy=True``.
        """
        dtype, copy = _device.parse_to(args, kwargs, "Tensor.to")
        dtype = self._data.dtype if dtype is None else np.dtype(dtype)
        if dtype == self._data.dtype:
            return self.clone() if copy else self
        if self.requires_grad and dtype.kind == "f":
            return ops.Cast.apply(self, dtype)
        return Tensor._wrap(self._data.astype(dtype), None)

    def type(self, dtype=None, non_blocking: bool = False, **kwargs):
        """``x.type(tt.float32)`` casts (as ``.to``); ``x.type()`` names the type PyTorch's way
        (``'torch.FloatTensor'``); ``x.type('torch.LongTensor')`` casts to the named type."""
        from tinytorch.core import compat_api

        if dtype is None:
            return compat_api.type_name(self)
        if isinstance(dtype, str):
            dtype = compat_api.dtype_of_type_name(dtype)
        elif isinstance(dtype, type) and hasattr(dtype, "_dtype"):  # tt.LongTensor ...
            dtype = dtype._dtype
        return self.to(dtype)

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def long(self):
        return self.to(np.int64)

    def int(self):
        return self.to(np.int32)

    def bool(self):
        return self.to(np.bool_)

    # ------------------------------------------------------------------ arithmetic

    def _binary(self, other, op, name):
        a = self
        if isinstance(other, Tensor):
            if other._data.dtype != self._data.dtype:  # rare: mixed dtypes
                a, other = _zero_dim_follows(self, other)
        elif isinstance(other, _SCALARS):
            # Python scalars stay scalars: they keep the tensor's dtype (float32 * 2.0). NumPy
            # scalars too, as in PyTorch: ``x / np.sqrt(d)`` must not turn float32 into float64
            if isinstance(other, np.generic):
                other = other.item()
        else:
            other = Tensor(other)
        try:
            return op.apply(a, other)
        except ValueError as e:
            if "broadcast" not in str(e):
                raise
            raise ValueError(
                f"{name}: cannot broadcast shapes {tuple(self.shape)} and "
                f"{tuple(np.shape(other._data if isinstance(other, Tensor) else other))}: trailing "
                "dimensions must be equal or 1 (reshape or unsqueeze one operand)"
            ) from None

    def _rbinary(self, other, op, name):
        if isinstance(other, np.generic):
            other = other.item()  # as in _binary: np.float64(2) * x keeps x's float32
        elif not isinstance(other, _SCALARS):
            other = Tensor(other)
        return op.apply(other, self)

    def __add__(self, other):
        return self._binary(other, ops.Add, "add")

    def __radd__(self, other):
        return self._rbinary(other, ops.Add, "add")

    def __sub__(self, other):
        return self._binary(other, ops.Sub, "sub")

    def __rsub__(self, other):
        return self._rbinary(other, ops.Sub, "sub")

    def __mul__(self, other):
        return self._binary(other, ops.Mul, "mul")

    def __rmul__(self, other):
        return self._rbinary(other, ops.Mul, "mul")

    def __truediv__(self, other):
        return self._binary(other, ops.Div, "div")

    def __rtruediv__(self, other):
        return self._rbinary(other, ops.Div, "div")

    def __pow__(self, other):
        return self._binary(other, ops.Pow, "pow")

    def __rpow__(self, other):
        return self._rbinary(other, ops.Pow, "pow")

    # in-place operators: ``x += y`` writes into x's array, as in PyTorch, so that a
    # hand-written ``p -= lr * p.grad`` under no_grad updates the weight itself (Python would
    # otherwise fall back on ``p = p - lr * p.grad`` and rebind the loop variable only)
    def _inplace(self, other, ufunc, op, name):
        other_grad = isinstance(other, Tensor) and other.requires_grad
        if _autograd.is_grad_enabled() and (self.requires_grad or other_grad):
            if self.requires_grad and self.grad_fn is None:
                raise RuntimeError(
                    f"{name}: a leaf tensor that requires grad (a weight) cannot be changed in "
                    "place while gradients are recorded; update it under tt.no_grad()"
                )
            # recorded, and still in place as PyTorch: an alias (b = a; a += w) or a view of a
            # sees the new values; the op works on a copy of the old ones (see tensor_inplace)
            return _inp.inplace(self, lambda t: t._binary(other, op, name), name, other)
        if isinstance(other, np.generic):
            other = other.item()
        src = other._data if isinstance(other, Tensor) else other
        try:
            ufunc(self._data, src, out=self._data, casting="same_kind")
        except (TypeError, ValueError) as e:
            raise type(e)(
                f"{name}: cannot update a tensor of shape {tuple(self.shape)} and dtype "
                f"{self.dtype} in place with an operand of shape {np.shape(src)}: {e}"
            ) from None
        _autograd.note_inplace(self._data, name)  # saved copies of these values are now stale
        return self

    def __iadd__(self, other):
        return self._inplace(other, np.add, ops.Add, "add_")

    def __isub__(self, other):
        return self._inplace(other, np.subtract, ops.Sub, "sub_")

    def __imul__(self, other):
        return self._inplace(other, np.multiply, ops.Mul, "mul_")

    def __itruediv__(self, other):
        return self._inplace(other, np.true_divide, ops.Div, "div_")

    def __neg__(self):
        return ops.Neg.apply(self)

    def __pos__(self):
        return self

    def __matmul__(self, other):
        return self.matmul(other)

    def __rmatmul__(self, other):
        return Tensor(other).matmul(self)

    def add(self, other, *, alpha=1):
        """self + alpha * other (PyTorch's ``alpha``)."""
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other, *, alpha=1):
        """self - alpha * other."""
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other):
        return self * other

    def div(self, other, *, rounding_mode=None):
        """self / other; ``rounding_mode`` "trunc" or "floor" rounds (see ops_elementwise.div)."""
        return self / other if rounding_mode is None else _ew.div(self, other,
                                                                 rounding_mode=rounding_mode)

    def pow(self, other):
        return self ** other

    def neg(self):
        return -self

    def matmul(self, other) -> "Tensor":
        """Matrix product. (n, k) @ (k, m) -> (n, m); leading batch dims broadcast."""
        if not isinstance(other, Tensor):
            other = Tensor(other)
        a, b = self._data.shape, other._data.shape
        if len(a) == 0 or len(b) == 0:
            raise ValueError(f"matmul: both operands need at least 1 dimension, got {a} and {b}")
        ka = a[-1]
        kb = b[-2] if len(b) > 1 else b[0]
        if ka != kb:
            raise ValueError(
                f"matmul: cannot multiply {a} by {b}: inner dimensions {ka} and {kb} differ"
            )
        try:
            return ops.MatMul.apply(self, other)
        except ValueError:
            raise ValueError(
                f"matmul: cannot multiply {a} by {b}: batch dimensions {a[:-2]} and {b[:-2]} "
                "do not broadcast"
            ) from None

    # comparisons: no gradient, bool results
    def _compare(self, other, fn):
        other = other._data if isinstance(other, Tensor) else other
        return Tensor._wrap(fn(self._data, other), None)

    def __eq__(self, other):
        return self._compare(other, np.equal)

    def __ne__(self, other):
        return self._compare(other, np.not_equal)

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    def __invert__(self):
        return Tensor._wrap(np.invert(self._data), None)

    # bitwise on integers, logical on bools (the same thing there), refused on floats: PyTorch
    def __and__(self, other):
        return self._bitwise(other, np.bitwise_and, "&")

    __rand__ = __and__

    def __or__(self, other):
        return self._bitwise(other, np.bitwise_or, "|")

    __ror__ = __or__

    def __xor__(self, other):
        return self._bitwise(other, np.bitwise_xor, "^")

    __rxor__ = __xor__

    def _bitwise(self, other, fn, sym):
        b = other._data if isinstance(other, Tensor) else other
        if self._data.dtype.kind == "f" or np.asarray(b).dtype.kind == "f":
            raise TypeError(f"{sym}: bitwise operations need integer or bool tensors, got "
                            f"{self._data.dtype} and {np.asarray(b).dtype}")
        return Tensor._wrap(np.asarray(fn(self._data, b)), None)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return False

    def element_size(self) -> int:
        return self._data.itemsize

    def eq(self, other):
        return self == other

    # the method names PyTorch code uses for the comparisons, casts and shape questions above
    def ne(self, other):
        return self != other

    def lt(self, other):
        return self < other

    def le(self, other):
        return self <= other

    def gt(self, other):
        return self > other

    def ge(self, other):
        return self >= other

    greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

    def equal(self, other) -> bool:
        """True if ``other`` has the same shape and the same values (``torch.equal``)."""
        b = other._data if isinstance(other, Tensor) else np.asarray(other)
        return self._data.shape == b.shape and bool(np.array_equal(self._data, b))

    def logical_not(self):
        return Tensor._wrap(np.logical_not(self._data), None)

    def logical_and(self, other):
        return self._compare(other, np.logical_and)

    def logical_or(self, other):
        return self._compare(other, np.logical_or)

    def logical_xor(self, other):
        return self._compare(other, np.logical_xor)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def ndimension(self) -> int:
        return self._data.ndim

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self._data.flags.c_contiguous)

    def half(self):
        return self.to(np.float16)

    def byte(self):
        return self.to(np.uint8)

    def char(self):
        return self.to(np.int8)

    def short(self):
        return self.to(np.int16)

    def __contains__(self, value) -> bool:
        """``v in t``: some element equals ``v`` (a number or a broadcastable tensor)."""
        v = value._data if isinstance(value, Tensor) else value
        return bool(np.equal(self._data, v).any())

    # ------------------------------------------------------------------ elementwise math

    def _floating(self):
        # exp/log/sqrt of integers give float32, as in PyTorch (NumPy would give float64);
        # integer tensors never require grad, so nothing is lost by not recording the cast
        if self._data.dtype.kind == "f":
            return self
        return Tensor._wrap(self._data.astype(np.float32), None)

    def exp(self):
        return ops.Exp.apply(self._floating())

    def log(self):
        return ops.Log.apply(self._floating())

    def sqrt(self):
        return ops.Sqrt.apply(self._floating())

    def abs(self):
        return ops.Abs.apply(self)

    __abs__ = abs

    def clip(self, min=None, max=None):
        """Clamp values into [min, max] (either bound may be None, not both)."""
        if min is None and max is None:
            raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
        # NumPy scalar bounds count as Python numbers (PyTorch): int clamped to np.float64(0.5)
        # is float32, not float64
        min, max = (b.item() if isinstance(b, np.generic) else b for b in (min, max))
        return ops.Clip.apply(self, min, max)

    clamp = clip

    def maximum(self, other):
        return ops.Maximum.apply(self, other if isinstance(other, Tensor) else Tensor(other))

    def minimum(self, other):
        return ops.Minimum.apply(self, other if isinstance(other, Tensor) else Tensor(other))

    # activations live in module 02; the methods are here for PyTorch's ``x.relu()`` spelling
    def relu(self):
        from tinytorch.core.activations import relu

        return relu(self)

    def sigmoid(self):
        from tinytorch.core.activations import sigmoid

        return sigmoid(self)

    def tanh(self):
        from tinytorch.core.activations import tanh

        return tanh(self)

    def softmax(self, dim=-1):
        from tinytorch.core.activations import softmax

        return softmax(self, dim)

    def log_softmax(self, dim=-1):
        from tinytorch.core.activations import log_softmax

        return log_softmax(self, dim)

    # ------------------------------------------------------------------ reductions

    def sum(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        """Sum over ``dim`` (an int, a tuple, or None for everything); ``dtype`` casts first."""
        if dtype is not None:
            return self.to(dtype).sum(dim, keepdim, axis=axis, keepdims=keepdims)
        ax = _dim_to_axis(dim, axis, self.ndim, "sum")
        return ops.Sum.apply(self, ax, bool(keepdims if keepdims is not None else keepdim))

    def mean(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        if dtype is not None:
            return self.to(dtype).mean(dim, keepdim, axis=axis, keepdims=keepdims)
        if self._data.dtype.kind != "f":
            raise TypeError(
                f"mean: needs a floating point tensor, got {self.dtype}; call .float() first"
            )
        ax = _dim_to_axis(dim, axis, self.ndim, "mean")
        return ops.Mean.apply(self, ax, bool(keepdims if keepdims is not None else keepdim))

    def var(self, dim=None, keepdim=False, *, unbiased=None, correction=None, axis=None,
            keepdims=None):
        """Variance; unbiased (divides by N - 1) by default, as ``torch.var``."""
        return self._spread(ops.Var, "var", dim, keepdim, unbiased, correction, axis, keepdims)

    def std(self, dim=None, keepdim=False, *, unbiased=None, correction=None, axis=None,
            keepdims=None):
        """Standard deviation, sqrt(var); its gradient is 0 where it is 0, as in PyTorch."""
        return self._spread(ops.Std, "std", dim, keepdim, unbiased, correction, axis, keepdims)

    def _spread(self, op, name, dim, keepdim, unbiased, correction, axis, keepdims):
        if self._data.dtype.kind != "f":  # an integer variance would be silently truncated
            raise TypeError(
                f"{name}: needs a floating point tensor, got {self.dtype}; call .float() first"
            )
        ax = _dim_to_axis(dim, axis, self.ndim, name)
        if correction is None:
            correction = 1 if unbiased is None or unbiased else 0
        return op.apply(self, ax, bool(keepdims if keepdims is not None else keepdim), correction)

    def _extreme(self, dim, keepdim, axis, keepdims, smallest, name):
        if isinstance(dim, Tensor):  # torch.max(a, b): elementwise
            return self.minimum(dim) if smallest else self.maximum(dim)
        ax = _dim_to_axis(dim, axis, self.ndim, name)
        if ax == () and self.ndim == 0:  # a 0-d tensor: the value itself, at index 0
            return ReturnTypes(ops.Clone.apply(self), Tensor._wrap(np.zeros((), np.int64), None))
        if isinstance(ax, tuple):
            raise TypeError(f"{name}: dim must be a single int; use amax/amin for several dims")
        if self._data.size == 0:
            raise RuntimeError(f"{name}: cannot reduce an empty tensor")
        keep = bool(keepdims if keepdims is not None else keepdim)
        values = ops.MaxReduce.apply(self, ax, keep, smallest)
        if ax is None:
            return values
        idx = np.argmin(self._data, axis=ax) if smallest else np.argmax(self._data, axis=ax)
        if keep:
            idx = np.expand_dims(idx, ax)
        return ReturnTypes(values, Tensor._wrap(idx, None))

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """Largest value; with ``dim``, a (values, indices) pair as in PyTorch."""
        return self._extreme(dim, keepdim, axis, keepdims, False, "max")

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """Smallest value; with ``dim``, a (values, indices) pair as in PyTorch."""
        return self._extreme(dim, keepdim, axis, keepdims, True, "min")

    def argmax(self, dim=None, keepdim=False, *, axis=None):
        ax = _dim_to_axis(dim, axis, self.ndim, "argmax")
        ax = None if ax == () else ax  # a 0-d tensor: its only index is 0
        idx = np.argmax(self._data, axis=ax)
        if keepdim and ax is not None:
            idx = np.expand_dims(idx, ax)
        return Tensor._wrap(np.asarray(idx, dtype=np.int64), None)

    def argmin(self, dim=None, keepdim=False, *, axis=None):
        ax = _dim_to_axis(dim, axis, self.ndim, "argmin")
        ax = None if ax == () else ax  # a 0-d tensor: its only index is 0
        idx = np.argmin(self._data, axis=ax)
        if keepdim and ax is not None:
            idx = np.expand_dims(idx, ax)
        return Tensor._wrap(np.asarray(idx, dtype=np.int64), None)

    # ------------------------------------------------------------------ shape

    def reshape(self, *shape) -> "Tensor":
        """Same data, new shape; one dimension may be -1 (inferred)."""
        shape = _shape_arg(shape)
        try:
            out = ops.Reshape.apply(self, shape)
        except ValueError:
            n = self._data.size
            raise ValueError(
                f"reshape: cannot reshape tensor of shape {tuple(self.shape)} ({n} elements) "
                f"into {shape}" + ("" if -1 in shape else f" ({int(np.prod(shape))} elements)")
            ) from None
        if out.requires_grad:  # a view: an in-place write into it is recorded on self
            new, old = out._data.shape, self._data.shape
            _inp.register_whole_view(self, out, lambda b: ops.Reshape.apply(b, new),
                                     lambda r: ops.Reshape.apply(r, old))
        return out

    view = reshape

    def view_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        if self.ndim == 0:
            return self.reshape(1)
        s = start_dim % self.ndim
        e = end_dim % self.ndim
        shape = self.shape[:s] + (-1,) + self.shape[e + 1:]
        if 0 in self.shape:
            shape = self.shape[:s] + (int(np.prod(self.shape[s:e + 1])),) + self.shape[e + 1:]
        return self.reshape(shape)

    def permute(self, *dims) -> "Tensor":
        dims = _shape_arg(dims)
        for d in dims:  # d % ndim below would quietly turn an out-of-range 5 into a valid dim
            _dim_to_axis(d, None, self.ndim, "permute")
        if sorted(d % max(self.ndim, 1) for d in dims) != list(range(self.ndim)):
            raise ValueError(
                f"permute: dims {dims} are not a permutation of the {self.ndim} dims of a tensor "
                f"of shape {tuple(self.shape)}"
            )
        return self._permuted(tuple(d % self.ndim for d in dims))

    def _permuted(self, dims) -> "Tensor":
        out = ops.Permute.apply(self, dims)
        if out.requires_grad:  # a view: an in-place write into it is recorded on self
            _inp.register_whole_view(self, out, lambda b: ops.Permute.apply(b, dims),
                                     lambda r: ops.Permute.apply(r, tuple(
                                         int(i) for i in np.argsort(dims))))  # the inverse
        return out

    def transpose(self, dim0: int = -2, dim1: int = -1) -> "Tensor":
        """Swap two dimensions."""
        n = self.ndim
        if n < 2 and dim0 in (-2, -1) and dim1 in (-2, -1):
            return self
        d0 = _dim_to_axis(dim0, None, n, "transpose")
        d1 = _dim_to_axis(dim1, None, n, "transpose")
        if n == 0:  # transpose(0, 0) of a 0-d tensor, as in PyTorch
            return self
        dims = list(range(n))
        dims[d0], dims[d1] = dims[d1], dims[d0]
        return self._permuted(tuple(dims))

    @property
    def T(self) -> "Tensor":
        return self._permuted(tuple(reversed(range(self.ndim))))

    @property
    def mT(self) -> "Tensor":
        return self.transpose(-2, -1)

    def unsqueeze(self, dim: int) -> "Tensor":
        """Insert a dimension of size 1 at ``dim``."""
        n = self.ndim + 1
        if not -n <= dim < n:
            raise IndexError(f"unsqueeze: dim {dim} out of range for a result with {n} dims")
        d = dim % n
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def squeeze(self, dim=None) -> "Tensor":
        """Remove dimensions of size 1 (only ``dim`` if given; a no-op if it is not 1)."""
        if dim is None:
            return self.reshape(tuple(s for s in self.shape if s != 1))
        if isinstance(dim, (tuple, list)):  # several dims at once; each only if it is 1
            ds = {_dim_to_axis(d, None, self.ndim, "squeeze") for d in dim}
            return self.reshape(tuple(s for i, s in enumerate(self.shape)
                                      if not (i in ds and s == 1)))
        d = _dim_to_axis(dim, None, self.ndim, "squeeze")
        if self.ndim == 0 or self.shape[d] != 1:
            return self
        return self.reshape(self.shape[:d] + self.shape[d + 1:])

    def expand(self, *sizes) -> "Tensor":
        """Broadcast to a larger shape without copying; -1 keeps a dimension."""
        sizes = _shape_arg(sizes)
        pad = len(sizes) - self.ndim
        if pad < 0:
            raise ValueError(f"expand: cannot expand shape {self.shape} to fewer dims {sizes}")
        src = (1,) * pad + self.shape
        shape = tuple(s if n == -1 else n for s, n in zip(src, sizes))
        for s, n in zip(src, shape):
            if s != 1 and s != n:
                raise ValueError(
                    f"expand: cannot expand shape {tuple(self.shape)} to {sizes}: a dimension "
                    f"of size {s} can only expand if it is 1"
                )
        return ops.Expand.apply(self, shape)

    def expand_as(self, other):
        return self.expand(other.shape)

    def contiguous(self):
        return self

    def split(self, split_size, dim: int = 0):
        """Split into chunks of ``split_size`` along ``dim`` (views through indexing)."""
        d = _dim_to_axis(dim, None, self.ndim, "split")
        if isinstance(split_size, int) and split_size <= 0:
            raise ValueError(f"split: split_size must be a positive int, got {split_size}")
        n = self.shape[d]
        sizes = [split_size] * (n // split_size) + ([n % split_size] if n % split_size else []) \
            if isinstance(split_size, int) else list(split_size)
        if sum(sizes) != n:  # a list of sizes must cover the dim exactly, as in PyTorch
            raise ValueError(f"split: sizes {sizes} sum to {sum(sizes)}, not to dim {dim}'s size "
                             f"{n} (shape {tuple(self.shape)})")
        out, start = [], 0
        for s in sizes:
            idx = (slice(None),) * d + (slice(start, start + s),)
            out.append(self[idx])
            start += s
        return tuple(out)

    def chunk(self, chunks: int, dim: int = 0):
        d = _dim_to_axis(dim, None, self.ndim, "chunk")
        size = -(-self.shape[d] // chunks)
        return self.split(size, d)

    # ------------------------------------------------------------------ indexing

    def __getitem__(self, index):
        """PyTorch's indexing rules (see indexing.py): ints, slices (positive steps), None,
        ..., integer index tensors/lists (gather) and boolean masks; gradients scatter back."""
        try:
            basic, advanced = _indexing.split_index(index, self._data.ndim)
            out = ops.GetItem.apply(self, basic)
            if advanced is not None:
                return ops.GetItem.apply(out, advanced)
            if _autograd._grad_enabled and out._data.base is not None and \
                    np.may_share_memory(out._data, self._data):
                # a view (x[0], x[:, 1:]): an in-place write into it is a write into ``self``,
                # recorded there (tensor_inplace.inplace), as PyTorch's view + CopySlices
                _inp.register_view(self, out, basic)
            return out
        except IndexError as e:
            raise IndexError(f"index: {e} (tensor of shape {tuple(self.shape)})") from None

    def __setitem__(self, index, value):
        """``x[index] = value`` (broadcast), in place. Recorded for autograd when ``value`` or
        ``x`` (not a leaf) requires grad, as PyTorch's CopySlices: the gradient reaches the
        value at the written positions and the old ``x`` everywhere else."""
        basic, advanced = _indexing.split_index(index, self._data.ndim)
        value_grad = isinstance(value, Tensor) and value.requires_grad
        if _autograd.is_grad_enabled() and (self.requires_grad or value_grad):
            if self.requires_grad and self.grad_fn is None:
                raise RuntimeError(
                    "setitem: a leaf tensor that requires grad (a weight) cannot be changed in "
                    "place while gradients are recorded; do it under tt.no_grad(), or build a "
                    "new tensor with tt.where/tt.cat")
            _inp.inplace(self, lambda t: _indexing.IndexPut.apply(t, value, basic, advanced),
                         "setitem", value)
            return
        value = value._data if isinstance(value, Tensor) else value
        try:
            if advanced is None:
                self._data[basic] = value
            else:
                self._data[basic][advanced] = value
        except IndexError as e:
            raise IndexError(f"index: {e} (tensor of shape {tuple(self.shape)})") from None
        _autograd.note_inplace(self._data, "setitem")

    # ------------------------------------------------------------------ more of PyTorch's ops
    # Each is a function of core/ops_*.py taking the tensor first: the same function is
    # ``tt.sin(x)`` and, bound here as a method, ``x.sin()``. Formulas and docs live there.
    sin, cos, tan, asin, acos, atan = _ew.sin, _ew.cos, _ew.tan, _ew.asin, _ew.acos, _ew.atan
    arcsin, arccos, arctan, atan2, arctan2 = _ew.asin, _ew.acos, _ew.atan, _ew.atan2, _ew.atan2
    sinh, cosh, asinh, acosh, atanh = _ew.sinh, _ew.cosh, _ew.asinh, _ew.acosh, _ew.atanh
    arcsinh, arccosh, arctanh = _ew.asinh, _ew.acosh, _ew.atanh
    erf, erfc, erfinv = _ew.erf, _ew.erfc, _ew.erfinv
    exp2, expm1, log2, log10, log1p = _ew.exp2, _ew.expm1, _ew.log2, _ew.log10, _ew.log1p
    rsqrt, reciprocal, square = _ew.rsqrt, _ew.reciprocal, _ew.square
    sign, sgn, signbit = _ew.sign, _ew.sgn, _ew.signbit
    floor, ceil, round, trunc, fix = _ew.floor, _ew.ceil, _ew.round, _ew.trunc, _ew.fix
    frac = _ew.frac
    isnan, isinf, isfinite, isposinf = _ew.isnan, _ew.isinf, _ew.isfinite, _ew.isposinf
    isneginf = _ew.isneginf
    nan_to_num, lerp, logaddexp = _ew.nan_to_num, _ew.lerp, _ew.logaddexp
    logaddexp2, hypot = _ew.logaddexp2, _ew.hypot
    remainder, fmod, floor_divide = _ew.remainder, _ew.fmod, _ew.floor_divide
    divide, true_divide, isclose, allclose = div, div, _ew.isclose, _ew.allclose
    __mod__, __floordiv__ = _ew.remainder, _ew.floor_divide
    prod, logsumexp, cumsum, cumprod = _red.prod, _red.logsumexp, _red.cumsum, _red.cumprod
    amax, amin, aminmax, median = _red.amax, _red.amin, _red.aminmax, _red.median
    nanmedian, mode = _red.nanmedian, _red.mode
    norm, count_nonzero, all, any = _red.norm, _red.count_nonzero, _red.all, _red.any
    repeat, tile, repeat_interleave = _shp.repeat, _shp.tile, _shp.repeat_interleave
    roll, rot90 = _shp.roll, _shp.rot90
    flip, fliplr, flipud, tril, triu = _shp.flip, _shp.fliplr, _shp.flipud, _shp.tril, _shp.triu
    trace = _shp.trace
    diagonal, diag, diag_embed = _shp.diagonal, _shp.diag, _shp.diag_embed
    unflatten = _shp.unflatten
    movedim, moveaxis, swapaxes = _shp.movedim, _shp.moveaxis, _shp.swapaxes
    swapdims, t = _shp.swapdims, _shp.t
    broadcast_to, narrow, select, unbind = _shp.broadcast_to, _shp.narrow, _shp.select, _shp.unbind
    gather, scatter, scatter_add = _idx.gather, _idx.scatter, _idx.scatter_add
    index_select = _idx.index_select
    scatter_, scatter_add_ = _idx.scatter_, _idx.scatter_add_
    addcmul, addcdiv, logit, xlogy, sinc = _ew.addcmul, _ew.addcdiv, _ew.logit, _ew.xlogy, _ew.sinc
    heaviside, float_power = _ew.heaviside, _ew.float_power
    deg2rad, rad2deg, nansum, nanmean = _ew.deg2rad, _ew.rad2deg, _red.nansum, _red.nanmean
    logcumsumexp, bincount, histc = _red.logcumsumexp, _red.bincount, _red.histc
    cummax, cummin, cross = _idx.cummax, _idx.cummin, _shp.cross
    masked_fill, masked_select, nonzero = _idx.masked_fill, _idx.masked_select, _idx.nonzero
    argwhere = _idx.argwhere
    take_along_dim, take, sort, argsort = _idx.take_along_dim, _idx.take, _idx.sort, _idx.argsort
    msort = _idx.msort
    topk, kthvalue, unique = _idx.topk, _idx.kthvalue, _idx.unique
    unique_consecutive = _idx.unique_consecutive
    mm, bmm, mv, dot, vdot, inner = _mat.mm, _mat.bmm, _mat.mv, _mat.dot, _mat.vdot, _mat.inner
    outer, ger = _mat.outer, _mat.ger
    addmm, addmv, baddbmm, addbmm = _mat.addmm, _mat.addmv, _mat.baddbmm, _mat.addbmm
    multinomial, bernoulli = _rnd.multinomial, _rnd.bernoulli
    nelement = numel

    def __rmod__(self, other):
        return _ew.remainder(other, self)

    def __rfloordiv__(self, other):
        return _ew.floor_divide(other, self)

    def where(self, condition, other):
        """``tt.where(condition, self, other)``."""
        from tinytorch.core.tensor_functions import where

        return where(condition, self, other)

    def type_as(self, other):
        return self.to(other.dtype)

    def _new(self, fn, size, dtype, device, requires_grad, **kw):
        from tinytorch.core import creation  # creation imports this file

        return getattr(creation, fn)(*size, dtype=dtype or self._data.dtype, device=device,
                                     requires_grad=requires_grad, **kw)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        """Zeros of ``size`` with this tensor's dtype (unless given)."""
        return self._new("zeros", size, dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new("ones", size, dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new("empty", size, dtype, device, requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        return self._new("full", (size, fill_value), dtype, device, requires_grad)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
        """A new tensor from ``data`` (copied) with this tensor's dtype unless given."""
        return self._new("tensor", (data,), dtype, device, requires_grad)


_KIND = {"f": "f", "i": "i", "u": "i", "b": "b"}


def _zero_dim_follows(a, b):
    """PyTorch's promotion rule for a 0-d tensor beside a dimensioned tensor of the same kind
    (float and float, or integer and integer): the 0-d one takes the other's dtype, so
    ``x_f32 - tt.tensor(np.mean(data_f64))`` stays float32. NumPy would widen to float64 and
    silently turn the rest of the model float64. Other pairs keep NumPy's promotion."""
    da, db = a._data, b._data
    if (da.ndim == 0) == (db.ndim == 0) or _KIND[da.dtype.kind] != _KIND[db.dtype.kind]:
        return a, b
    if da.ndim == 0:
        return a.to(db.dtype), b
    return a, b.to(da.dtype)


def _unwrap_index(index):
    """Turn Tensors inside an index into arrays (integer tensors gather, bool tensors mask)."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        arr = np.asarray(index)
        return arr.astype(np.int64) if arr.size == 0 else arr
    return index

