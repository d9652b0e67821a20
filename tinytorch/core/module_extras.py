"""What ``nn.Module`` offers beyond the core of module 03, under PyTorch's names.

* Forward hooks: ``register_forward_pre_hook(hook)`` runs ``hook(module, args)`` before
  ``forward`` (a non-None result replaces the arguments); ``register_forward_hook(hook)`` runs
  ``hook(module, args, output)`` after it (a non-None result replaces the output). The usual
  use is reading activations out of a trained network without editing its code. Each
  returns a handle whose ``remove()`` takes the hook off again.
* Lookups by dotted name: ``get_submodule("layer1.0.conv1")``, ``get_parameter("fc.weight")``,
  ``get_buffer("bn.running_mean")``.
* ``half()`` (float16 weights) and ``bfloat16()`` (refused: NumPy has no bfloat16).

``Module`` inherits these from :class:`ModuleExtras`; ``Module.__call__`` takes the hook path
only when a hook is registered, so plain calls stay a direct ``forward``.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict

import numpy as np

__all__ = ["ModuleExtras", "RemovableHandle"]

_ids = itertools.count()


class RemovableHandle:
    """Returned by ``register_*_hook``: ``handle.remove()`` unregisters the hook (also usable
    as ``with module.register_forward_hook(h):``)."""

    def __init__(self, store: OrderedDict):
        self._store, self.id = store, next(_ids)

    def remove(self) -> None:
        self._store.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


class ModuleExtras:
    """Mixin of :class:`tinytorch.core.module.Module`; see the file docstring."""

    def _hook_store(self, kind: str) -> OrderedDict:
        store = self.__dict__.get(kind)
        if store is None:
            store = OrderedDict()
            object.__setattr__(self, kind, store)
        return store

    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """``hook(module, args)`` (``with_kwargs``: ``hook(module, args, kwargs)``) before
        every forward; returning a value replaces ``args`` (``(args, kwargs)``)."""
        store = self._hook_store("_forward_pre_hooks")
        handle = RemovableHandle(store)
        store[handle.id] = (hook, with_kwargs)
        if prepend:
            store.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """``hook(module, args, output)`` (``with_kwargs``: ``hook(module, args, kwargs,
        output)``) after every forward; returning a value replaces the output."""
        store = self._hook_store("_forward_hooks")
        handle = RemovableHandle(store)
        store[handle.id] = (hook, with_kwargs)
        if prepend:
            store.move_to_end(handle.id, last=False)
        return handle

    def _call_with_hooks(self, args, kwargs):
        for hook, with_kwargs in list(self.__dict__.get("_forward_pre_hooks", {}).values()):
            if with_kwargs:
                res = hook(self, args, kwargs)
                if res is not None:
                    if not (isinstance(res, tuple) and len(res) == 2):
                        raise RuntimeError("forward pre-hook with kwargs must return None or "
                                           f"a tuple (args, kwargs), got {type(res).__name__}")
                    args, kwargs = res
            else:
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        output = self.forward(*args, **kwargs)
        for hook, with_kwargs in list(self.__dict__.get("_forward_hooks", {}).values()):
            res = hook(self, args, kwargs, output) if with_kwargs else hook(self, args, output)
            if res is not None:
                output = res
        return output

    # ------------------------------------------------------------------ lookups by name

    def get_submodule(self, target: str):
        """The module at dotted path ``target`` (``""`` is ``self``)."""
        mod = self
        if target == "":
            return mod
        for i, part in enumerate(target.split(".")):
            children = mod.__dict__.get("_modules", {})
            if part not in children:
                raise AttributeError(f"{type(mod).__name__} has no submodule {part!r} "
                                     f"(looking up {target!r}; it has {list(children)})")
            mod = children[part]
        return mod

    def get_parameter(self, target: str):
        """The Parameter at dotted path ``target`` (``"fc.weight"``)."""
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if name not in mod._parameters:
            raise AttributeError(f"{type(mod).__name__} has no parameter {name!r} "
                                 f"(looking up {target!r})")
        return mod._parameters[name]

    def get_buffer(self, target: str):
        """The buffer at dotted path ``target`` (``"bn.running_mean"``)."""
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if name not in mod._buffers:
            raise AttributeError(f"{type(mod).__name__} has no buffer {name!r} "
                                 f"(looking up {target!r})")
        return mod._buffers[name]

    # ------------------------------------------------------------------ dtypes

    def half(self):
        """Floating-point parameters and buffers to float16 (NumPy's half: slow on CPU)."""
        return self._cast(np.float16)

    def bfloat16(self):
        raise TypeError("bfloat16: NumPy has no bfloat16 type, so tinytorch cannot store one; "
                        "keep float32 (module.float()) or use float16 (module.half())")
