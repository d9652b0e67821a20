"""Indexing with PyTorch's rules: ``x[0, :, [1, 2]]`` on a (3, 4, 5) tensor is (4, 2).

NumPy and PyTorch agree on slices, ``None``, ``...``, integer arrays and boolean masks, and
disagree on one thing: an integer *beside* an index array. NumPy counts the integer as one
more advanced index (an array of shape ()), so in ``x[0, :, [1, 2]]`` the two advanced
indices are separated by a slice and NumPy moves their broadcast dimension to the front:
(2, 4). PyTorch applies integers first, as plain selections that drop their dimension, and
only then the index arrays: ``x[0][:, [1, 2]]``, shape (4, 2).

So a PyTorch index is split in two NumPy indices, applied one after the other:

1. ``basic``: the integers, slices, ``None`` and ``...``, with ``slice(None)`` standing in for
   each index array (a boolean mask of k dims stands for k dims). It makes a view.
2. ``advanced``: the index arrays alone, at the dims they index in that view, ``slice(None)``
   elsewhere. With no integers left among them, NumPy's placement rule is PyTorch's.

Also as PyTorch: negative slice steps are refused (``x.flip(dim)`` reverses), and a 0-d
integer tensor indexes like an integer.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core.autograd import Function

__all__ = ["split_index", "IndexPut"]


def _is_int(i) -> bool:
    return isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))


def _normalize(index):
    """The index as a tuple of items: arrays for lists and tensors, ints for 0-d int arrays."""
    items = index if type(index) is tuple else (index,)
    out = []
    for i in items:
        if hasattr(i, "_data") and hasattr(i, "grad_fn"):  # a Tensor
            i = i._data
        if isinstance(i, list):
            i = np.asarray(i)
            if i.size == 0:
                i = i.astype(np.int64)
        if isinstance(i, np.ndarray) and i.ndim == 0 and i.dtype.kind in "iu":
            i = int(i)
        if type(i) is slice and i.step is not None and i.step <= 0:
            raise ValueError("step must be greater than zero (PyTorch refuses negative and zero "
                             "slice steps; reverse with x.flip(dim))")
        if isinstance(i, np.ndarray) and i.dtype.kind not in "iub":
            raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors, "
                             f"got {i.dtype}")
        out.append(i)
    return tuple(out)


def split_index(index, ndim: int):
    """PyTorch's ``index`` for a tensor of ``ndim`` dims as ``(basic, advanced)`` NumPy indices.

    ``advanced`` is None when the index has no index arrays (then ``basic`` is the whole
    index) or when NumPy's rule already gives PyTorch's answer (no integer beside an array):
    ``basic`` is then the index itself, to be used in one step.
    """
    items = _normalize(index)
    arrays = [i for i in items if isinstance(i, np.ndarray)]
    if not arrays or not any(_is_int(i) for i in items) or \
            any(isinstance(i, (bool, np.bool_)) for i in items):
        return items, None
    # how many dims the Ellipsis stands for
    consumed = sum(i.ndim if isinstance(i, np.ndarray) and i.dtype == bool else
                   0 if i is None or i is Ellipsis else 1 for i in items)
    basic, placed, dim = [], [], 0  # dim: position in the view that ``basic`` makes
    for i in items:
        if _is_int(i):
            basic.append(i)
        elif i is None:
            basic.append(None)
            dim += 1
        elif i is Ellipsis:
            k = ndim - consumed
            basic.append(Ellipsis)
            dim += max(k, 0)
        elif type(i) is slice:
            basic.append(i)
            dim += 1
        else:  # an index array: k dims for a k-dim mask, one for integers
            k = i.ndim if i.dtype == bool else 1
            basic.extend([slice(None)] * k)
            placed.append((dim, i))
            dim += k
    advanced = []
    for pos, arr in placed:
        advanced.extend([slice(None)] * (pos - len(advanced) - _width(advanced)))
        advanced.append(arr)
    return tuple(basic), tuple(advanced)


def _width(items) -> int:
    """Extra dims covered by boolean masks in ``items`` beyond one each."""
    return sum(i.ndim - 1 for i in items if isinstance(i, np.ndarray) and i.dtype == bool)


class IndexPut(Function):
    """``x[index] = v`` recorded for autograd (PyTorch's ``CopySlices``).

    The result is ``x`` with the indexed positions replaced by ``v`` (broadcast). Its gradient
    reaches ``x`` everywhere except those positions (they were overwritten), and ``v`` at
    exactly those positions (summed over where ``v`` was broadcast, by the engine).
    """

    @staticmethod
    def forward(ctx, a, v, basic, advanced):
        ctx.basic, ctx.advanced = basic, advanced
        out = a.copy()
        target = out[basic]
        if advanced is None:
            out[basic] = v
        else:
            target[advanced] = v
        ctx.v_shape = np.shape(v)
        return out

    @staticmethod
    def backward(ctx, grad):
        ga = gv = None
        if ctx.needs_input_grad[0]:
            ga = grad.copy()
            if ctx.advanced is None:
                ga[ctx.basic] = 0
            else:
                ga[ctx.basic][ctx.advanced] = 0
        if ctx.needs_input_grad[1]:
            gv = grad[ctx.basic] if ctx.advanced is None else grad[ctx.basic][ctx.advanced]
            if gv.ndim > len(ctx.v_shape):  # broadcast along new leading dims: sum them
                gv = gv.sum(axis=tuple(range(gv.ndim - len(ctx.v_shape))))
        return ga, gv, None, None
