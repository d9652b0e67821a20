"""Module 07 -- the ``.safetensors`` format: weights that move between frameworks, no pickle.

Model hubs publish weights as ``.safetensors``, a format designed to be read without running
any code. It is simple enough to write by hand::

    [ 8 bytes: N, the header's length, unsigned little-endian ]
    [ N bytes: a JSON object, padded with spaces                ]
    [ the raw bytes of every tensor, one after the other        ]

The header maps each tensor's name to ``{"dtype": "F32", "shape": [out, in],
"data_offsets": [begin, end]}`` (offsets into the byte buffer after the header), plus an
optional ``"__metadata__": {str: str}``. Values are little-endian, C order. ``tt.save`` writes
this format when the file name ends in ``.safetensors``; ``tt.load`` recognises it by its
content. A state_dict saved by PyTorch (``safetensors.torch.save_file``) loads into the
matching tinytorch model, and back, bit for bit.

bfloat16 tensors (common on the hubs) are widened to float32 on load: every bfloat16 value is
exactly a float32 whose low 16 bits are zero, so nothing is lost.
"""

from __future__ import annotations

import json
from collections import OrderedDict

import numpy as np

__all__ = ["is_safetensors", "dumps", "loads"]

# safetensors dtype code <-> NumPy dtype (little-endian)
_CODES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
          "I8": "i1", "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?"}
_NAMES = {np.dtype(v): k for k, v in _CODES.items()}
_MAX_HEADER = 100_000_000  # as the reference implementation: a bigger header is an attack


def is_safetensors(head: bytes) -> bool:
    """True if ``head`` (the file's first bytes, 9 or more) starts like a safetensors file."""
    if len(head) < 9:
        return False
    n = int.from_bytes(head[:8], "little")
    return 2 <= n <= _MAX_HEADER and head[8:9] == b"{"


def dumps(tensors: dict, metadata: dict | None = None) -> bytes:
    """Serialise ``{name: array}`` (arrays of NumPy numbers) to safetensors bytes.

    Tensors are laid out largest element size first, then by name (the reference
    implementation's order), so every tensor starts aligned to its element size.
    """
    header: dict = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("save: safetensors metadata must map str to str")
        header["__metadata__"] = dict(metadata)
    arrays = []
    for name, arr in tensors.items():
        dt = arr.dtype.newbyteorder("<") if arr.dtype.byteorder == ">" else arr.dtype
        if dt not in _NAMES:
            raise TypeError(f"save: {name!r} has dtype {arr.dtype}, which safetensors cannot "
                            f"store; supported: {', '.join(str(d) for d in _NAMES)}")
        arrays.append((name, np.asarray(arr, dtype=dt, order="C")))  # keeps 0-d as 0-d
    arrays.sort(key=lambda kv: (-kv[1].dtype.itemsize, kv[0]))
    offset = 0
    for name, arr in arrays:
        header[name] = {"dtype": _NAMES[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # pad: the byte buffer starts 8-aligned
    return b"".join([len(text).to_bytes(8, "little"), text] + [a.tobytes() for _, a in arrays])


def loads(raw: bytes, name: str = "<bytes>", error=ValueError) -> tuple[OrderedDict, dict]:
    """Parse safetensors bytes; return ``({name: array}, metadata)``, arrays in file order.

    Every length and offset is checked before any data is read: a truncated or forged file
    raises ``error`` naming the file and the problem, never reads out of bounds.
    """
    if len(raw) < 8:
        raise error(f"load: {name} is too short to be a safetensors file")
    n = int.from_bytes(raw[:8], "little")
    if n > _MAX_HEADER or 8 + n > len(raw):
        raise error(f"load: {name} is truncated or not a safetensors file (header length {n}, "
                    f"file length {len(raw)})")
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise error(f"load: {name} has a damaged safetensors header ({e})") from None
    if not isinstance(header, dict):
        raise error(f"load: {name}: the safetensors header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    buf = memoryview(raw)[8 + n:]
    entries = []
    for key, info in header.items():
        try:
            code, shape, (begin, end) = info["dtype"], tuple(info["shape"]), info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise error(f"load: {name}: entry {key!r} of the header is malformed") from None
        if code == "BF16":
            itemsize = 2
        elif code in _CODES:
            itemsize = np.dtype(_CODES[code]).itemsize
        else:
            raise error(f"load: {name}: tensor {key!r} has dtype {code}, which tinytorch cannot "
                        f"hold (supported: {', '.join(_CODES)}, and BF16 as float32)")
        if not all(isinstance(s, int) and s >= 0 for s in shape):
            raise error(f"load: {name}: tensor {key!r} has an invalid shape {list(shape)}")
        count = int(np.prod(shape, dtype=np.int64))
        if not (0 <= begin <= end <= len(buf)) or end - begin != count * itemsize:
            raise error(f"load: {name}: tensor {key!r} (shape {list(shape)}, {code}) has data "
                        f"offsets [{begin}, {end}] that do not fit its size or the file "
                        f"({len(buf)} data bytes): the file is truncated or corrupt")
        entries.append((begin, key, code, shape))
    out = OrderedDict()
    for begin, key, code, shape in sorted(entries, key=lambda e: e[0]):
        count = int(np.prod(shape, dtype=np.int64))
        if code == "BF16":
            bits = np.frombuffer(buf, dtype="<u2", count=count, offset=begin)
            arr = (bits.astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(buf, dtype=_CODES[code], count=count, offset=begin)
            arr = arr.astype(arr.dtype.newbyteorder("="), copy=True)  # native, writable
        out[key] = arr.reshape(shape)
    return out, metadata
