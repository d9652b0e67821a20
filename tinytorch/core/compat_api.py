"""The torch-level switches and legacy names everyday PyTorch programs call.

None of these change what tinytorch computes; each exists so a PyTorch program runs with only
the import swapped, and each says in its docstring what it does here:

* :class:`inference_mode` -- ``no_grad`` (there is no separate inference-tensor kind here).
* ``FloatTensor``, ``LongTensor``, ... -- the legacy typed constructors and ``isinstance``
  checks: ``tt.LongTensor([1, 2])`` is ``tt.tensor([1, 2], dtype=tt.int64)``.
* :func:`set_printoptions` -- how tensors print (NumPy's print options underneath).
* :func:`set_num_threads` / :func:`get_num_threads` -- the BLAS thread pool, through
  ``threadpoolctl`` when it is installed.
* :func:`use_deterministic_algorithms` -- recorded; every op here is deterministic already.
"""

from __future__ import annotations

import os

import numpy as np

from tinytorch.core import autograd as _ag
from tinytorch.core.tensor import Tensor

__all__ = ["inference_mode", "is_inference_mode_enabled", "FloatTensor", "DoubleTensor",
           "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "ByteTensor", "CharTensor",
           "BoolTensor", "set_printoptions", "set_num_threads", "get_num_threads",
           "set_num_interop_threads", "get_num_interop_threads", "use_deterministic_algorithms",
           "are_deterministic_algorithms_enabled", "typename", "equal"]


class inference_mode(_ag.no_grad):  # noqa: N801 -- PyTorch's name
    """``with tt.inference_mode():`` / ``@tt.inference_mode()``: no graph is recorded.

    PyTorch also marks the results as inference tensors (faster, never usable in autograd
    later); here it is exactly ``no_grad``. ``inference_mode(False)`` turns recording on, as
    PyTorch's does (its guard sets grad mode to ``not mode``).
    """

    def __init__(self, mode: bool = True):
        self._mode = not mode  # grad mode inside the block

    def __enter__(self):
        self._prev = _ag.is_grad_enabled()
        _ag._grad_enabled = self._mode  # False (the usual) off; inference_mode(False): on
        return self


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()`` (here: whenever recording is off)."""
    return not _ag.is_grad_enabled()


# --------------------------------------------------------------------------- legacy typed tensors

# PyTorch's legacy type name of each dtype, for x.type() and the typed constructors
TYPE_NAMES = {np.dtype(np.float32): "FloatTensor", np.dtype(np.float64): "DoubleTensor",
              np.dtype(np.float16): "HalfTensor", np.dtype(np.int64): "LongTensor",
              np.dtype(np.int32): "IntTensor", np.dtype(np.int16): "ShortTensor",
              np.dtype(np.int8): "CharTensor", np.dtype(np.uint8): "ByteTensor",
              np.dtype(np.bool_): "BoolTensor"}


class _TypedMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and np.dtype(obj.dtype) == cls._dtype


class _Typed(metaclass=_TypedMeta):
    _dtype = np.dtype(np.float32)

    def __new__(cls, *args, **kwargs):
        """``T(2, 3)`` or ``T((2, 3))`` -> zeros of that shape (PyTorch leaves them
        uninitialised); ``T([1, 2])`` / ``T(array)`` / ``T(tensor)`` -> a copy as this type."""
        from tinytorch.core.creation import tensor

        if kwargs.get("device") not in (None, "cpu"):
            from tinytorch.core.device import as_device

            as_device(kwargs["device"])  # raises the CPU-only error for cuda/mps
        if not args:
            return Tensor(np.zeros((0,), cls._dtype))
        if all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            return Tensor(np.zeros(args, cls._dtype))
        if len(args) == 1 and type(args[0]).__name__ in ("Size", "tuple") and \
                all(isinstance(a, int) for a in args[0]):
            return Tensor(np.zeros(tuple(args[0]), cls._dtype))
        if len(args) != 1:
            raise TypeError(f"{cls.__name__}: expected sizes (ints) or one sequence of data, "
                            f"got {args!r}")
        data = args[0]
        if isinstance(data, Tensor):
            return data.detach().to(cls._dtype)
        return tensor(data, dtype=cls._dtype)


def _typed(name, dt):
    return _TypedMeta(name, (_Typed,), {"_dtype": np.dtype(dt), "__doc__":
                      f"Legacy ``torch.{name}``: a {np.dtype(dt)} tensor; also an "
                      f"``isinstance`` check for that dtype."})


FloatTensor = _typed("FloatTensor", np.float32)
DoubleTensor = _typed("DoubleTensor", np.float64)
HalfTensor = _typed("HalfTensor", np.float16)
LongTensor = _typed("LongTensor", np.int64)
IntTensor = _typed("IntTensor", np.int32)
ShortTensor = _typed("ShortTensor", np.int16)
CharTensor = _typed("CharTensor", np.int8)
ByteTensor = _typed("ByteTensor", np.uint8)
BoolTensor = _typed("BoolTensor", np.bool_)
_BY_NAME = {c.__name__: c for c in (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor,
                                    ShortTensor, CharTensor, ByteTensor, BoolTensor)}


def type_name(t: Tensor) -> str:
    """``x.type()`` with no argument: PyTorch's legacy name, e.g. ``'torch.FloatTensor'``."""
    return "torch." + TYPE_NAMES.get(np.dtype(t.dtype), "Tensor")


def dtype_of_type_name(name: str):
    """``x.type('torch.LongTensor')``: the dtype a legacy type name stands for."""
    short = name.rsplit(".", 1)[-1]
    if short not in _BY_NAME:
        raise ValueError(f"invalid type: {name!r} (expected e.g. 'torch.FloatTensor' or a dtype)")
    return _BY_NAME[short]._dtype


def typename(obj) -> str:
    """``torch.typename``: the legacy type name of a tensor, else the qualified class name."""
    if isinstance(obj, Tensor):
        return type_name(obj)
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


# --------------------------------------------------------------------------- process switches

_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=np.inf, edgeitems=3, linewidth=80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """How tensors print: PyTorch's options, applied to NumPy's print options (which
    tinytorch's ``repr`` uses). ``sci_mode=False`` turns scientific notation off."""
    opts = dict(_PROFILES[profile]) if profile else {}
    for k, v in (("precision", precision), ("threshold", threshold),
                 ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if v is not None:
            opts[k] = v
    if "precision" in opts:
        from tinytorch.core import tensor as _tensor

        _tensor.PRINT_PRECISION[0] = int(opts["precision"])
    if sci_mode is not None:
        opts["suppress"] = not sci_mode
    if "threshold" in opts and opts["threshold"] == np.inf:
        opts["threshold"] = np.iinfo(np.int64).max
    np.set_printoptions(**opts)


_threads = {"intra": None, "interop": 1}


def set_num_threads(n: int) -> None:
    """Limit the BLAS thread pool to ``n`` threads (via ``threadpoolctl`` when installed;
    otherwise only recorded: set ``OMP_NUM_THREADS`` before starting Python instead)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {n!r}")
    _threads["intra"] = n
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=n, user_api="blas")


def get_num_threads() -> int:
    """The thread count set with :func:`set_num_threads`, else ``OMP_NUM_THREADS`` or the
    number of CPUs."""
    if _threads["intra"] is not None:
        return _threads["intra"]
    env = os.environ.get("OMP_NUM_THREADS", "")
    return int(env) if env.isdigit() and int(env) > 0 else (os.cpu_count() or 1)


def set_num_interop_threads(n: int) -> None:
    """Recorded only: tinytorch runs ops one after another in the calling thread."""
    _threads["interop"] = int(n)


def get_num_interop_threads() -> int:
    return _threads["interop"]


_deterministic = {"on": False, "warn_only": False}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Recorded for :func:`are_deterministic_algorithms_enabled`. Every tinytorch op is
    deterministic on the same inputs (NumPy on one machine), so nothing else changes."""
    _deterministic.update(on=bool(mode), warn_only=bool(warn_only))


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic["on"]


def equal(input, other) -> bool:
    """``torch.equal``: the same shape and the same values (a Python bool)."""
    return Tensor(input).equal(other) if not isinstance(input, Tensor) else input.equal(other)
