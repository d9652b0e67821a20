"""Module 03 (infrastructure) -- ``nn.Module`` and ``nn.Parameter``.

A Module is a container that knows its own parameters: assigning ``self.weight = Parameter(..)``
or ``self.fc = Linear(..)`` in ``__init__`` registers it, so ``parameters()`` finds every weight
of a whole network, ``state_dict()`` names them with dotted paths (``"0.weight"``,
``"encoder.fc.bias"``) exactly as PyTorch does, and ``train()``/``eval()`` reach every layer.

This file is given, not written, in the course: the layers of module 03 and everything after
stand on it. Its guide explains how the registration works (``__setattr__``).
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np

from tinytorch.core.module_extras import ModuleExtras
from tinytorch.core.tensor import Tensor, as_array

__all__ = ["Module", "Parameter"]

_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Parameter(Tensor):
    """A Tensor that is a learnable weight: ``requires_grad=True`` and registered by Modules.

    Ops on a Parameter return plain Tensors; only the leaf itself is a Parameter.
    """

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.zeros((0,), dtype=np.float32)
        # as_array: the dtype rules of tt.tensor (a list of Python floats is float32)
        arr = data._data if isinstance(data, Tensor) else as_array(data)
        if arr.dtype.kind != "f":
            arr = arr.astype(np.float32)
        super().__init__(arr, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module(ModuleExtras):  # hooks, get_submodule, half(): module_extras.py
    """Base class of every layer and model. Subclasses define ``forward``; call the module."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ registration

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() is called: add "
                "super().__init__() at the top of your module's __init__"
            )
        if name in self._buffers and (value is None or isinstance(value, Tensor)) \
                and not isinstance(value, Parameter):
            self._buffers[name] = value  # reassigning a buffer keeps it a buffer, as in PyTorch
            return
        if not isinstance(value, (Parameter, Module)):
            # as in PyTorch: a registered weight or child can be replaced, or set to None (no
            # such weight), but not silently turned into a plain attribute that state_dict,
            # parameters() and the optimizer would no longer see
            for store, kind in ((self._parameters, "nn.Parameter"), (self._modules, "nn.Module"),
                                (self._buffers, "Tensor")):
                if name in store:
                    if value is not None:
                        raise TypeError(
                            f"cannot assign {type(value).__name__!r} as {name!r} of "
                            f"{type(self).__name__} ({kind} or None expected); to change the "
                            f"values of a weight, write into it under tt.no_grad(): "
                            f"m.{name}.copy_(new_values), or wrap it: "
                            f"{'tt.tensor' if kind == 'Tensor' else 'nn.Parameter'}(new_values)"
                        )
                    store[name] = None
                    return
        # clear the name from the other registries only: replacing a weight or a child keeps
        # its place in the ordered registry, so state_dict keys keep PyTorch's order
        if isinstance(value, Parameter):
            target = self._parameters
        elif isinstance(value, Module):
            target = self._modules
        else:
            target = None
        for store in (self._parameters, self._buffers, self._modules):
            if store is not target:
                store.pop(name, None)
        if target is None:
            object.__setattr__(self, name, value)
            return
        target[name] = value
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        # only called when normal lookup fails: look in the registries
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param) -> None:
        """Register a Parameter (or None, meaning 'this layer has no such weight')."""
        if param is None:
            self._parameters[name] = None
            self.__dict__.pop(name, None)
        elif not isinstance(param, Parameter):  # a plain attribute: parameters() would miss it
            raise TypeError(f"register_parameter: {name!r} must be an nn.Parameter or None, got "
                            f"{type(param).__name__}; wrap it: nn.Parameter(tensor)")
        else:
            setattr(self, name, param)

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Register state that is saved in state_dict but not trained (BatchNorm's running mean)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, got "
                            f"{type(tensor).__name__}; wrap it: tt.tensor(value)")
        if name in self._parameters or name in self._modules:
            raise KeyError(f"register_buffer: attribute {name!r} already exists")
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name: str, module) -> None:
        """Register a child module (or None) under ``name``, as ``self.name = module`` does."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"add_module: module name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f"add_module: module name must be non-empty and without dots, got "
                           f"{name!r} (dots separate the levels of state_dict keys)")
        if name in self.__dict__ or name in self._parameters or name in self._buffers:
            raise KeyError(f"add_module: attribute {name!r} already exists")
        self._modules[name] = module

    register_module = add_module

    # ------------------------------------------------------------------ traversal

    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """(dotted name, module) for this module and every descendant, parents first.

        A module reachable by two paths is listed once unless ``remove_duplicate=False``
        (state_dict lists it under both names, as PyTorch does).
        """
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                       remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def named_parameters(self, prefix: str = "", recurse: bool = True):
        """(dotted name, Parameter) pairs; a parameter shared by two layers is listed once."""
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mprefix, m in mods:
            for name, p in m._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mprefix}.{name}" if mprefix else name), p

    def parameters(self, recurse: bool = True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True):
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mprefix, m in mods:
            for name, b in m._buffers.items():
                if b is not None:
                    yield (f"{mprefix}.{name}" if mprefix else name), b

    def buffers(self, recurse: bool = True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------------ modes and grads

    def train(self, mode: bool = True) -> "Module":
        """Training mode (dropout active, batch norm uses batch statistics) for every layer."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad._data[...] = 0

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def apply(self, fn) -> "Module":
        """Call ``fn(m)`` on every submodule, then on self (used for custom initialisation)."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def _cast(self, dtype) -> "Module":
        for m in self.modules():
            for p in m._parameters.values():
                if p is not None:
                    p._data = p._data.astype(dtype)
                    if p.grad is not None:
                        p.grad._data = p.grad._data.astype(dtype)
            for k, b in m._buffers.items():
                if b is not None and b._data.dtype.kind == "f":
                    b._data = b._data.astype(dtype)
        return self

    def float(self) -> "Module":
        return self._cast(np.float32)

    def double(self) -> "Module":
        return self._cast(np.float64)

    def to(self, *args, **kwargs) -> "Module":
        """PyTorch's ``model.to(device)``, ``.to(dtype)``, ``.to(device, dtype)``: the device
        must be the CPU (checked, clear error otherwise); a dtype casts every parameter and
        floating buffer, in place."""
        from tinytorch.core.device import parse_to

        dtype, _ = parse_to(args, kwargs, "Module.to")
        if dtype is not None:
            dt = np.dtype(dtype)
            if dt.kind != "f":
                raise TypeError(f"Module.to: only floating point dtypes are allowed, got {dt}")
            self._cast(dt)
        return self

    def cpu(self) -> "Module":
        return self

    def cuda(self, device=None) -> "Module":
        from tinytorch.core.device import as_device

        as_device("cuda" if device is None else device, "Module.cuda")
        return self

    # ------------------------------------------------------------------ state

    def state_dict(self, *, destination=None, prefix: str = "",
                   keep_vars: bool = False) -> "OrderedDict[str, Tensor]":
        """Every parameter and persistent buffer by dotted name, in PyTorch's order and layout.

        The tensors share memory with the module (detached unless ``keep_vars``): copy them to
        keep a snapshot. ``prefix`` is prepended to every key (``prefix="model."``).
        """
        out = OrderedDict() if destination is None else destination
        for mprefix, m in self.named_modules(remove_duplicate=False):
            p_ = prefix + (f"{mprefix}." if mprefix else "")
            for name, p in m._parameters.items():
                if p is not None:
                    out[p_ + name] = p if keep_vars else p.detach()
            for name, b in m._buffers.items():
                if b is not None and name not in m._non_persistent:
                    out[p_ + name] = b if keep_vars else b.detach()
        return out

    def _state_targets(self):
        targets = OrderedDict()
        for mprefix, m in self.named_modules(remove_duplicate=False):
            p_ = f"{mprefix}." if mprefix else ""
            for name, p in m._parameters.items():
                if p is not None:
                    targets[p_ + name] = p
            for name, b in m._buffers.items():
                if b is not None and name not in m._non_persistent:
                    targets[p_ + name] = b
        return targets

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy values into this module's parameters and buffers.

        Values may be Tensors or NumPy arrays (weights exported from PyTorch with
        ``{k: v.numpy() for k, v in model.state_dict().items()}`` load directly). Keys and
        shapes are checked first, so a mismatch changes nothing and names the offending key.
        Values are cast to the existing parameter's dtype.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"load_state_dict: expected a dict of name -> tensor (from "
                            f"state_dict() or tt.load), got {type(state_dict).__name__}")
        targets = self._state_targets()
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing key(s): {', '.join(missing)}")
            if unexpected:
                parts.append(f"unexpected key(s): {', '.join(unexpected)}")
            raise KeyError(
                f"load_state_dict for {type(self).__name__}: " + "; ".join(parts)
                + ". Check that the architecture matches the one that produced the weights."
            )
        arrays = {}
        for k, t in targets.items():
            if k not in state_dict:
                continue
            v = state_dict[k]
            arr = v._data if isinstance(v, Tensor) else np.asarray(v)
            if arr.shape != t._data.shape:
                raise ValueError(
                    f"load_state_dict for {type(self).__name__}: size mismatch for {k!r}: the "
                    f"checkpoint has shape {tuple(arr.shape)}, this model has {tuple(t._data.shape)}"
                )
            arrays[k] = arr
        for k, arr in arrays.items():
            targets[k]._data[...] = arr  # in place: views of the weights stay valid
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ calling and printing

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        d = self.__dict__
        if d.get("_forward_hooks") or d.get("_forward_pre_hooks"):
            return self._call_with_hooks(args, kwargs)  # only while a hook is registered
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, m in self._modules.items():
            sub = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {sub}")
        main = type(self).__name__ + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._modules)
                      | set(self._buffers))
