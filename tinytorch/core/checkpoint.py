"""Module 07 -- checkpoints: ``tt.save(obj, path)`` and ``tt.load(path)`` without pickle.

A checkpoint is what lets a run that took hours survive a crash: the model's weights, the
optimizer's state (Adam's moment estimates are as big as the model), the scheduler's position,
and a few numbers such as the epoch. ``torch.save`` writes all of that with :mod:`pickle`,
and unpickling a file runs whatever code the file asks for: loading a checkpoint downloaded
from the internet can take over your machine. TinyTorch stores only data:

* a single ``.npz`` file (a zip of ``.npy`` arrays, readable by plain NumPy);
* every array (Tensor or ndarray) of the nested state is one member, ``a0``, ``a1`` ...;
* one more member, ``__structure__``, holds a JSON description of the tree (dicts, lists,
  tuples, numbers, strings, None) with references to those arrays;
* it is read with ``allow_pickle=False``, so an object array, a pickle or anything else that
  would need code to rebuild is refused, never executed.

The file is written atomically: into a temporary file in the same folder, flushed to disk
(``fsync``), then renamed over the target (``os.replace``, atomic on POSIX and Windows). A crash
or a full disk mid-write leaves the previous checkpoint intact, never half of a new one.

A path ending in ``.safetensors`` is written in that format instead (a flat
``{name: tensor}`` dict such as a ``state_dict``: the format model hubs and PyTorch use, see
``safetensors_io.py``); ``load`` reads either, telling them apart by their first bytes.

What round-trips, exactly (same values, bit for bit, same dtypes):
``Tensor`` (with ``requires_grad``), ``nn.Parameter``, ``np.ndarray``, NumPy scalars,
``dict`` / ``OrderedDict`` (keys: str, int, float, bool, None), ``list``, ``tuple``,
``int``, ``float`` (including nan and inf), ``bool``, ``str``, ``None``.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np

from tinytorch.core import safetensors_io
from tinytorch.core.device import as_device
from tinytorch.core.module import Parameter
from tinytorch.core.tensor import Tensor

__all__ = ["save", "load", "CheckpointError"]

STRUCTURE_KEY = "__structure__"
FORMAT = "tinytorch.checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A file that is not a readable TinyTorch checkpoint; the message says why."""


# --------------------------------------------------------------- tree <-> (JSON, arrays)


def _flatten(obj, arrays: dict, where: str = "obj"):
    """Describe ``obj`` as a JSON-able node; put every array into ``arrays`` under a new key.

    Each node is a small dict with a type tag ``"t"``: ``{"t": "int", "v": 3}``,
    ``{"t": "array", "k": "a0"}``, ``{"t": "dict", "items": [[key_node, value_node], ...]}``.
    Dict keys are nodes too (JSON object keys could only be strings, and an optimizer's
    state is keyed by ints). ``where`` is the path so far, for error messages.
    """
    # BEGIN SOLUTION
    if obj is None:
        return {"t": "none"}
    if isinstance(obj, (bool, str)):  # bool before int: True is an int in Python
        return {"t": type(obj).__name__, "v": obj}
    if isinstance(obj, int):
        return {"t": "int", "v": obj}
    if isinstance(obj, float) and not isinstance(obj, np.generic):  # np.float64 is a float
        return {"t": "float", "v": obj.hex()}  # hex: exact, and covers nan and inf
    if isinstance(obj, (Tensor, np.ndarray, np.generic)):
        arr = obj._data if isinstance(obj, Tensor) else obj
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(arr)
        node = {"t": "array", "k": key}
        if isinstance(obj, Tensor):
            node["t"] = "parameter" if isinstance(obj, Parameter) else "tensor"
            node["requires_grad"] = bool(obj.requires_grad)
        elif isinstance(obj, np.generic):
            node["t"] = "scalar"  # np.float32(1.5) comes back as np.float32, not a 0-d array
        return node
    if isinstance(obj, dict):
        kind = "odict" if isinstance(obj, OrderedDict) else "dict"
        items = []
        for k, v in obj.items():
            if not (k is None or isinstance(k, (str, int, float, bool))):
                raise TypeError(f"save: {where} has a key of type {type(k).__name__}; keys must "
                                "be str, int, float, bool or None")
            items.append([_flatten(k, arrays, where), _flatten(v, arrays, f"{where}[{k!r}]")])
        return {"t": kind, "items": items}
    if isinstance(obj, (list, tuple)):
        return {"t": type(obj).__name__,
                "items": [_flatten(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]}
    raise TypeError(
        f"save: cannot store {where} of type {type(obj).__name__}: a checkpoint holds tensors, "
        "arrays, numbers, strings, None and dicts/lists/tuples of them (save a model through "
        "model.state_dict(), an optimizer through optimizer.state_dict())"
    )
    # END SOLUTION


def _unflatten(node, arrays):
    """Rebuild the object that :func:`_flatten` described (``arrays``: member name -> array)."""
    # BEGIN SOLUTION
    t = node["t"]
    if t == "none":
        return None
    if t in ("bool", "str", "int"):
        return node["v"]
    if t == "float":
        return float.fromhex(node["v"])
    if t in ("array", "tensor", "parameter", "scalar"):
        arr = arrays[node["k"]]
        if t == "tensor":
            return Tensor(arr, requires_grad=node["requires_grad"])
        if t == "parameter":
            return Parameter(arr, requires_grad=node["requires_grad"])
        return arr[()] if t == "scalar" else arr
    if t in ("dict", "odict"):
        pairs = [(_unflatten(k, arrays), _unflatten(v, arrays)) for k, v in node["items"]]
        return OrderedDict(pairs) if t == "odict" else dict(pairs)
    if t in ("list", "tuple"):
        items = [_unflatten(v, arrays) for v in node["items"]]
        return items if t == "list" else tuple(items)
    raise KeyError(t)
    # END SOLUTION


# --------------------------------------------------------------------------- writing


def _atomic_write(path: str, write) -> None:
    """Call ``write(f)`` on a temporary file beside ``path``, then put it in place atomically.

    Either the whole new file is at ``path`` afterwards, or (on any error, or a crash) the
    old one is untouched and no temporary file is left behind.
    """
    # BEGIN SOLUTION
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the name points at them
        os.replace(tmp, path)  # atomic: readers see the old file or the new one
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    # END SOLUTION
    _fsync_dir(folder)


def _fsync_dir(folder: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _safetensors_bytes(obj, metadata) -> bytes:
    if not isinstance(obj, dict):
        raise TypeError(f"save: a .safetensors file holds a flat dict of name -> tensor (a "
                        f"state_dict), got {type(obj).__name__}; save nested checkpoints "
                        "(optimizer state, epochs) to a .pt/.npz path instead")
    arrays = {}
    for k, v in obj.items():
        if not isinstance(k, str) or not isinstance(v, (Tensor, np.ndarray, np.generic)):
            raise TypeError(f"save: a .safetensors file holds str -> tensor only; entry {k!r} "
                            f"is {type(v).__name__}. Save nested checkpoints to a .pt/.npz path")
        arrays[k] = np.asarray(v._data if isinstance(v, Tensor) else v)
    return safetensors_io.dumps(arrays, metadata)


def save(obj, f, *, format: str | None = None, metadata: dict | None = None) -> None:
    """Save a nested state (``model.state_dict()``, ``{"model": ..., "optimizer": ...}``).

    Args:
        obj: tensors, arrays, numbers, strings, None, and dicts/lists/tuples of them.
        f: a path (str or ``os.PathLike``; written exactly there, no suffix added, atomically)
            or a binary file object opened for writing.
        format: ``"safetensors"`` or ``"npz"``; by default safetensors when the path ends in
            ``.safetensors`` (``obj`` must then be a flat dict of name -> tensor), else npz.
        metadata: safetensors only: a ``{str: str}`` dict stored in the header.

    Raises:
        TypeError: ``obj`` contains something that is not data (a function, a Module ...).
    """
    if format is None:
        path = "" if hasattr(f, "write") else os.fspath(f)
        format = "safetensors" if str(path).endswith(".safetensors") else "npz"
    if format == "safetensors":
        raw = _safetensors_bytes(obj, metadata)
        if hasattr(f, "write"):
            f.write(raw)
        else:
            _atomic_write(os.fspath(f), lambda fileobj: fileobj.write(raw))
        return
    if format != "npz":
        raise ValueError(f"save: format must be 'npz' or 'safetensors', got {format!r}")
    if metadata is not None:
        raise TypeError("save: metadata= is only stored in .safetensors files")
    arrays: dict[str, np.ndarray] = {}
    tree = _flatten(obj, arrays)
    for key, arr in arrays.items():
        if arr.dtype.hasobject or arr.dtype.kind not in "biufcSU":
            raise TypeError(f"save: array {key} has dtype {arr.dtype}, which cannot be stored "
                            "without pickle; convert it to a numeric array")
    header = {"format": FORMAT, "version": VERSION, "tree": tree}
    structure = np.frombuffer(json.dumps(header, allow_nan=False).encode("utf-8"), dtype=np.uint8)
    members = {STRUCTURE_KEY: structure, **arrays}

    def write(fileobj):
        np.savez(fileobj, allow_pickle=False, **members)

    if hasattr(f, "write"):
        write(f)
    else:
        _atomic_write(os.fspath(f), write)


# --------------------------------------------------------------------------- reading


def _what_is_it(head: bytes) -> str:
    if head.startswith(b"\x93NUMPY"):
        return "a single .npy array (np.save), not a checkpoint"
    if head[:1] == b"\x80" or head.startswith((b"(dp", b"(lp", b"}q", b"]q")):
        return ("a Python pickle (torch.save or pickle.dump?); TinyTorch never unpickles, "
                "because unpickling can run arbitrary code")
    if not head:
        return "an empty file"
    if len(head) >= 8 and int.from_bytes(head[:8], "little") < 100_000_000:
        return "perhaps a truncated .safetensors file (its header is cut off)"
    return "not a zip/npz archive"


def _read_zip(raw: bytes, name: str) -> dict:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        if any(n.endswith("data.pkl") for n in archive.namelist()):
            raise CheckpointError(
                f"load: {name} was written by torch.save: a pickle inside a zip. TinyTorch never "
                "unpickles (it could run arbitrary code). In PyTorch, save the weights as "
                "safetensors instead: safetensors.torch.save_file(model.state_dict(), "
                "'model.safetensors'), then tt.load('model.safetensors')")
        members = {}
        for info in archive.infolist():
            key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            with archive.open(info) as member:
                data = member.read()  # checks the CRC: a corrupted member raises here
            try:
                members[key] = np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
            except ValueError as e:
                if "pickle" in str(e).lower():
                    raise CheckpointError(
                        f"load: {name}: member {info.filename!r} holds pickled Python objects; "
                        "refusing to unpickle (it could run arbitrary code)") from None
                raise CheckpointError(f"load: {name}: member {info.filename!r} is not a valid "
                                      f".npy array ({e})") from None
        return members
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise CheckpointError(f"load: {name} is truncated or corrupt ({e}); the file was "
                              "probably cut off while copying or downloading: use the "
                              "previous checkpoint") from None


def load(f, map_location=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load what :func:`save` wrote, or a ``.safetensors`` file. Never executes code from the file.

    Args:
        f: a path (str or ``os.PathLike``) or a binary file object opened for reading.
        map_location, weights_only, mmap: PyTorch's arguments, accepted so ``torch.load``
            calls run unchanged. Loading is always weights-only here (nothing in the file is
            ever executed); ``map_location`` may only name the CPU.

    Returns:
        the saved object: the same nesting, types and values (arrays bit-exact).

    Raises:
        FileNotFoundError: there is no file at ``f``.
        CheckpointError (a ValueError): the file is truncated or corrupt, holds pickled
            objects, or is an npz/zip that ``tt.save`` did not write; the message names the file
            and says which.
    """
    if hasattr(f, "read"):
        name, raw = getattr(f, "name", "<file object>"), f.read()
    else:
        name = os.fspath(f)
        if not os.path.exists(name):
            raise FileNotFoundError(f"load: no checkpoint at {name!r} (check the path; "
                                    f"the current folder is {os.getcwd()!r})")
        if os.path.isdir(name):
            raise IsADirectoryError(f"load: {name!r} is a folder, not a checkpoint file")
        with open(name, "rb") as fh:
            raw = fh.read()
    if isinstance(map_location, (str, type(None))) or type(map_location).__name__ == "device":
        as_device(map_location, "load(map_location=...)")
    if safetensors_io.is_safetensors(raw[:9]):
        arrays, _ = safetensors_io.loads(raw, name, CheckpointError)
        return OrderedDict((k, Tensor._wrap(a, None)) for k, a in arrays.items())
    if not raw.startswith(b"PK"):
        raise CheckpointError(f"load: {name} is not a TinyTorch checkpoint: {_what_is_it(raw[:8])}")
    members = _read_zip(raw, name)
    if STRUCTURE_KEY not in members:
        raise CheckpointError(
            f"load: {name} is an npz/zip archive but not a TinyTorch checkpoint (it has no "
            f"{STRUCTURE_KEY!r} entry; members: {sorted(members)[:5]}); read plain arrays with "
            "np.load(path, allow_pickle=False)")
    try:
        header = json.loads(members.pop(STRUCTURE_KEY).tobytes().decode("utf-8"))
        if header.get("format") != FORMAT:
            raise ValueError(f"format {header.get('format')!r}")
        if header.get("version") != VERSION:
            raise CheckpointError(f"load: {name} has checkpoint format version "
                                  f"{header.get('version')}; this TinyTorch reads version "
                                  f"{VERSION}: upgrade tinytorch")
        return _unflatten(header["tree"], members)
    except CheckpointError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"load: {name} has a damaged structure entry ({type(e).__name__}: "
                              f"{e}); it was not written by tt.save or was modified") from None
