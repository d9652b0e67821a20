"""Devices: where a tensor's numbers live, spoken in PyTorch's words.

This build computes on the CPU, with NumPy. PyTorch programs still talk about devices on
every other line (``device = "cuda" if torch.cuda.is_available() else "cpu"``,
``x.to(device)``, ``torch.zeros(3, device=device)``), so the words are all here:

* :class:`device` -- ``tt.device("cpu")``, ``tt.device("cpu:0")``, ``tt.device("cpu", 0)``,
  with PyTorch's ``type``/``index``, ``str``, ``repr`` and ``==``;
* :func:`as_device` -- what every ``device=`` argument and ``.to(...)`` goes through: the CPU is
  accepted, ``cuda``/``mps`` (valid names, just not here) raise one clear error;
* ``tt.cuda``, ``tt.backends``, ``tt.accelerator`` -- the availability questions programs ask,
  all answered "no", and the settings they set (``cudnn.benchmark = True``) accepted.

**One place for the array library.** The engine's array calls go through NumPy, and the
device decides which array module that is: :func:`array_module` returns ``numpy`` for the
CPU. A GPU build would map ``cuda`` to an array library with NumPy's interface (CuPy, say)
here, and teach :func:`as_device` to accept it; nothing else needs to know the list of devices.
"""

from __future__ import annotations

import types

import numpy as np

__all__ = ["device", "as_device", "array_module", "CPU", "cuda", "backends", "accelerator",
           "mps", "get_default_device", "set_default_device", "parse_to", "compile", "autocast",
           "GradScaler", "amp"]

# PyTorch's device types: a name from this list is a valid device that this build lacks
# (a clear "runs on CPU" error), anything else is a typo (PyTorch's "Expected one of" error)
_KNOWN_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                "privateuseone")


class device:
    """A device name: ``type`` ("cpu", "cuda", ...) and an optional ``index``.

    Making one never fails for a real PyTorch device type (``tt.device("cuda")`` is a valid
    object, as in PyTorch); putting a tensor there does, unless it is the CPU.

    >>> tt.device("cpu"), tt.device("cpu:0"), tt.device("cpu", 0)
    (device(type='cpu'), device(type='cpu', index=0), device(type='cpu', index=0))
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device: pass an index only with a device type string")
            self._type, self._index = type.type, type.index
            return
        if isinstance(type, (int, np.integer)) and not isinstance(type, bool):
            # PyTorch reads a bare int as an index on the current accelerator: there is none
            raise RuntimeError(f"device({type}): a bare index means an accelerator device, and "
                               "this build runs on the CPU only; use tt.device('cpu')")
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu' or a tt.device, got "
                            f"{type.__class__.__name__}")
        name, sep, idx = type.partition(":")
        if sep:
            if index is not None:
                raise RuntimeError(f"device: type {type!r} already has an index; do not pass "
                                   "index= as well")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: {type!r}")
            index = int(idx)
        if name not in _KNOWN_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_KNOWN_TYPES)} device type at start "
                               f"of device string: {type}")
        if index is not None and (not isinstance(index, (int, np.integer)) or index < 0):
            raise RuntimeError(f"device: index must be a non-negative int, got {index!r}")
        self._type = name
        self._index = None if index is None else int(index)

    @property
    def type(self) -> str:
        return self._type

    @property
    def index(self):
        return self._index

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self) -> str:
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __eq__(self, other) -> bool:
        # as PyTorch: a device equals a device, never a string (device("cpu") != "cpu")
        if not isinstance(other, device):
            return NotImplemented
        return self._type == other._type and self._index == other._index

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __reduce__(self):
        return (device, (self._type, self._index))

    def __enter__(self):  # ``with tt.device("cpu"):`` -- the default device already
        as_device(self, "with device")
        return self

    def __exit__(self, *exc):
        return False


CPU = device("cpu")


def as_device(dev, where: str = "device") -> device:
    """Check a ``device=`` argument and return the device a tensor will live on.

    ``None``, ``"cpu"``, ``"cpu:0"`` and ``tt.device("cpu")`` all mean the CPU (returned as
    ``device(type='cpu')``, what ``x.device`` says). A valid PyTorch device that this build
    lacks (``"cuda"``, ``"mps"``) raises a RuntimeError that says so and what to write instead.
    """
    if dev is None or dev is CPU:
        return CPU
    d = dev if isinstance(dev, device) else device(dev)
    if d.type == "cpu":
        return CPU
    if d.type == "meta":
        raise RuntimeError(f"{where}: 'meta' tensors (shapes without data) are not supported; "
                           "make a real tensor on the CPU")
    raise RuntimeError(
        f"{where}: {str(d)!r} is not available: this build of tinytorch runs on the CPU only "
        f"(tt.cuda.is_available() is False). Pick the device the PyTorch way, "
        f"device = 'cuda' if tt.cuda.is_available() else 'cpu', or use 'cpu'.")


def get_default_device() -> device:
    return CPU


def set_default_device(dev) -> None:
    """Only the CPU can be the default device in this build (a clear error otherwise)."""
    as_device(dev, "set_default_device")


def array_module(dev=None):
    """The array library that holds a device's data: NumPy for the CPU (the only one today)."""
    as_device(dev)
    return np


# ----------------------------------------------------------------- what programs ask about


def _false(*args, **kwargs) -> bool:
    return False


def _no_accelerator(name):
    def fail(*args, **kwargs):
        raise RuntimeError(f"{name}: no accelerator is available; this build of tinytorch runs "
                           "on the CPU only")
    return fail


class _Settings(types.ModuleType):
    """A namespace that accepts any setting (``cudnn.benchmark = True``) and reads it back.

    Settings that only tune a GPU library change nothing on the CPU; refusing them would stop
    programs that set them unconditionally.
    """

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return None


cuda = types.ModuleType("tinytorch.cuda", "CUDA: not in this build (answers as PyTorch does "
                                          "without a GPU).")
cuda.is_available = _false
cuda.is_initialized = _false
cuda.is_bf16_supported = _false
cuda.device_count = lambda: 0
cuda.manual_seed = lambda seed: None  # PyTorch ignores it silently without CUDA
cuda.manual_seed_all = lambda seed: None
cuda.synchronize = lambda device=None: None
cuda.empty_cache = lambda: None
cuda.current_device = _no_accelerator("cuda.current_device")
cuda.get_device_name = _no_accelerator("cuda.get_device_name")
cuda.set_device = _no_accelerator("cuda.set_device")

mps = types.ModuleType("tinytorch.mps", "Apple MPS: not in this build.")
mps.is_available = _false
mps.manual_seed = lambda seed: None
mps.synchronize = lambda: None
mps.empty_cache = lambda: None

backends = types.ModuleType("tinytorch.backends", "Backend switches: accepted, no effect on CPU.")
backends.mps = types.ModuleType("tinytorch.backends.mps")
backends.mps.is_available = _false
backends.mps.is_built = _false
backends.cuda = _Settings("tinytorch.backends.cuda")
backends.cuda.is_built = _false
backends.cuda.matmul = _Settings("tinytorch.backends.cuda.matmul")
backends.cudnn = _Settings("tinytorch.backends.cudnn")
backends.cudnn.is_available = _false
backends.cudnn.enabled = True
backends.cudnn.benchmark = False
backends.cudnn.deterministic = False
backends.mkldnn = _Settings("tinytorch.backends.mkldnn")

accelerator = types.ModuleType("tinytorch.accelerator", "The current accelerator: none.")
accelerator.is_available = _false
accelerator.device_count = lambda: 0
accelerator.current_accelerator = lambda check_available=False: None


# ----------------------------------------------------------------- .to(...) arguments


def parse_to(args, kwargs, where: str = "to"):
    """Read PyTorch's ``.to`` arguments; return ``(dtype or None, copy)``.

    Accepted, as ``Tensor.to`` and ``Module.to`` accept them::

        .to(dtype)            .to(device)             .to(device, dtype)
        .to(other_tensor)     .to(device=..., dtype=...)    non_blocking=, copy=

    A device is a string, a :class:`device` or None; it is checked (the CPU, or a clear
    error) and otherwise needs no action on this CPU-only build. ``other_tensor`` stands for
    its device and dtype.
    """
    kwargs = dict(kwargs)
    dev = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    copy = bool(kwargs.pop("copy", False))
    if kwargs:
        raise TypeError(f"{where}() got unexpected keyword argument(s) {sorted(kwargs)}")
    args = list(args)
    if args and hasattr(args[0], "_data") and hasattr(args[0], "grad_fn"):  # .to(other)
        other = args.pop(0)
        dtype = other.dtype if dtype is None else dtype
    elif args and (args[0] is None or isinstance(args[0], (str, device))):
        dev = args.pop(0)
    if args and (args[0] is None or isinstance(args[0], (str, device))):
        raise TypeError(f"{where}(): got two devices")
    if args and dtype is None:
        dtype = args.pop(0)
    if args and isinstance(args[0], bool):  # .to(dtype, non_blocking, copy), positionally
        args.pop(0)
        if args and isinstance(args[0], bool):
            copy = args.pop(0)
    if args:
        raise TypeError(f"{where}(): could not understand the arguments {tuple(args)}; use "
                        ".to(device), .to(dtype), .to(device, dtype) or .to(other_tensor)")
    as_device(dev, where)
    return dtype, copy


def compile(model=None, **kwargs):  # noqa: A001 -- torch.compile
    """``torch.compile``: there is no compiler in this build; the model is returned unchanged.

    PyTorch's compile only makes a model faster, never changes its results, so a program that
    calls it runs the same here. Works as a decorator too (``@tt.compile``).
    """
    if model is None:
        return lambda m: m
    return model


# ----------------------------------------------------------------- mixed precision


class autocast:
    """``torch.autocast``: accepted, and a no-op: every op keeps computing in its own dtype.

    Mixed precision trades accuracy for speed on GPUs; on this CPU build there is no speed to
    gain, so a program's ``with tt.autocast(device_type=..., dtype=tt.bfloat16):`` block runs
    in float32 (as PyTorch itself does when the device it names is absent: it disables
    autocast). Works as a decorator too.
    """

    def __init__(self, device_type: str = "cpu", dtype=None, enabled: bool = True,
                 cache_enabled=None):
        self.device_type, self.dtype, self.enabled = device_type, dtype, False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        return fn


class GradScaler:
    """``torch.amp.GradScaler``, always disabled here (as PyTorch's without CUDA): ``scale``
    returns the loss unchanged, ``step`` is ``optimizer.step()``, the rest does nothing."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True):
        self._enabled = False

    def scale(self, outputs):
        return outputs

    def unscale_(self, optimizer) -> None:
        pass

    def step(self, optimizer, *args, **kwargs):
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None) -> None:
        pass

    def get_scale(self) -> float:
        return 1.0

    def is_enabled(self) -> bool:
        return False

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state_dict) -> None:
        pass


amp = types.ModuleType("tinytorch.amp", "Mixed precision: accepted, computes in full precision.")
amp.autocast = autocast
amp.GradScaler = GradScaler
cuda.amp = amp


def _register_namespaces() -> None:
    """Make ``import tinytorch.backends.cudnn as cudnn`` (and ``tinytorch.cuda.amp`` ...) work:
    these namespaces are modules made here, so they are registered under their names."""
    import importlib.machinery
    import sys

    for name, mod in (("tinytorch.cuda", cuda), ("tinytorch.cuda.amp", amp),
                      ("tinytorch.amp", amp), ("tinytorch.mps", mps),
                      ("tinytorch.backends", backends), ("tinytorch.backends.cudnn", backends.cudnn),
                      ("tinytorch.backends.cuda", backends.cuda),
                      ("tinytorch.backends.mps", backends.mps),
                      ("tinytorch.backends.mkldnn", backends.mkldnn),
                      ("tinytorch.accelerator", accelerator)):
        if mod.__spec__ is None:
            mod.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
            mod.__path__ = []  # a package: its children (backends.cudnn) can be imported
        sys.modules.setdefault(name, mod)


_register_namespaces()
