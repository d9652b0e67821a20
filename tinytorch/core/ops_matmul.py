"""Module 01 -- products: einsum, and PyTorch's named shapes of matmul (mm, bmm, mv, dot, outer,
addmm, baddbmm, addmv, inner, kron is not here).

einsum's gradient is itself an einsum: for ``"ij,jk->ik"``, dL/dA = einsum("ik,jk->ij", dY, B).
In general the gradient of operand k contracts the output gradient with every other operand
into operand k's subscripts. Two cases need care, and are handled:

* a letter repeated inside one operand (a trace, ``"ii->"``; a diagonal, ``"ii->i"``): the
  gradient lives on that diagonal, so it is computed per distinct letter and written onto
  the diagonal of a zero array;
* a letter only operand k has and the output drops (``"ij->i"``): the output does not depend on
  where along it an element sits, so the gradient is broadcast along it.
"""

from __future__ import annotations

import string

import numpy as np

from tinytorch.core.autograd import Function
from tinytorch.core.ops_support import as_tensor, tensor_class

__all__ = ["einsum", "mm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "addmm",
           "baddbmm", "addmv", "addbmm", "chain_matmul", "tensordot", "cdist"]


def _parse(equation: str, shapes):
    """Explicit subscripts, one letter per dim: ellipses expanded, implicit output filled in.

    Returns (input subscripts, output subscript), e.g. "...ij,jk" on (2, 3, 4), (4, 5) gives
    (["Aij", "jk"], "Aik") where A stands for the ellipsis dim.
    """
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f"einsum: the equation {equation!r} has {len(ins)} operand(s), "
                         f"got {len(shapes)} tensor(s)")
    used = set(eq) - set(".,->")
    bad = [c for c in used if c not in string.ascii_letters]
    if bad:
        raise ValueError(f"einsum: subscripts must be letters, got {bad} in {equation!r}")
    spare = [c for c in string.ascii_letters if c not in used]
    n_ell = 0
    for sub, shape in zip(ins, shapes):
        if "..." in sub:
            n_ell = max(n_ell, len(shape) - (len(sub) - 3))
    ell = "".join(spare[:n_ell])
    out_ins = []
    for sub, shape in zip(ins, shapes):
        if "..." in sub:
            k = len(shape) - (len(sub) - 3)
            if k < 0:
                raise ValueError(f"einsum: operand subscripts {sub!r} have more letters than "
                                 f"the operand's {len(shape)} dims")
            sub = sub.replace("...", ell[n_ell - k:] if k else "")
        if len(sub) != len(shape):
            raise ValueError(f"einsum: operand subscripts {sub!r} name {len(sub)} dims but the "
                             f"operand has shape {tuple(shape)}")
        out_ins.append(sub)
    if arrow:
        out = rhs.replace("...", ell)
        if "..." not in rhs and ell and any("..." in s for s in ins):
            # torch requires the ellipsis in the output when the inputs have one
            raise ValueError(f"einsum: output subscripts {rhs!r} must include '...' as the "
                             "inputs do")
    else:  # implicit: ellipsis dims, then letters seen once, alphabetically
        counts = {}
        for s in out_ins:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    for c in out:
        if not any(c in s for s in out_ins):
            raise ValueError(f"einsum: output letter {c!r} does not appear in any input "
                             f"({equation!r})")
    if len(set(out)) != len(out):
        raise ValueError(f"einsum: output subscripts {out!r} repeat a letter")
    return out_ins, out


def _sizes(subs, arrays):
    sizes = {}
    for s, a in zip(subs, arrays):
        for c, n in zip(s, a.shape):
            if sizes.get(c, 1) != 1 and n != 1 and sizes[c] != n:
                raise ValueError(f"einsum: dim {c!r} has size {sizes[c]} in one operand and {n} in "
                                 "another")
            sizes[c] = max(sizes.get(c, 1), n) if c in sizes else n
    return sizes


def _optimize(arrays) -> bool:
    """Let NumPy plan the contraction (order, and BLAS for matmul-like steps) unless the
    operands are tiny, where planning costs more (~0.3 ms) than it saves."""
    return len(arrays) > 2 or sum(a.size for a in arrays) > 10_000


class Einsum(Function):
    """Forward: ``np.einsum``, planned by NumPy for all but tiny operands (``_optimize``)."""

    @staticmethod
    def forward(ctx, *arrays, subs=(), out=""):
        ctx.save_for_backward(*arrays)
        ctx.subs, ctx.out = subs, out
        spec = ",".join(subs) + "->" + out
        res = np.einsum(spec, *arrays, optimize=_optimize(arrays))
        if any(np.shares_memory(res, a) for a in arrays):  # "ij->ji" can return a view
            res = res.copy()
        return res

    @staticmethod
    def backward(ctx, grad):
        arrays = ctx.saved_tensors
        subs, out = ctx.subs, ctx.out
        sizes = _sizes(subs, arrays)
        grads = []
        for k, (sub, a) in enumerate(zip(subs, arrays)):
            if not ctx.needs_input_grad[k]:
                grads.append(None)
                continue
            others = [(s, x) for j, (s, x) in enumerate(zip(subs, arrays)) if j != k]
            seen = set(out).union(*(set(s) for s, _ in others))
            distinct = "".join(dict.fromkeys(sub))  # letters in order, repeats dropped
            kept = "".join(c for c in distinct if c in seen)
            spec = ",".join([out] + [s for s, _ in others]) + "->" + kept
            ops = [grad] + [x for _, x in others]
            g = np.einsum(spec, *ops, optimize=_optimize(ops))
            # letters only this operand has, summed away by the output: broadcast along them
            full = [sizes[c] for c in distinct]
            g = np.broadcast_to(np.expand_dims(g, tuple(i for i, c in enumerate(distinct)
                                                         if c not in seen)), full)
            if len(distinct) != len(sub):  # a repeated letter: write onto the diagonal
                ga = np.zeros(a.shape, grad.dtype)
                diag = np.einsum(f"{sub}->{distinct}", ga)  # a writeable view of the diagonal
                diag[...] = g
                g = ga
            grads.append(g)
        return tuple(grads)


def einsum(equation: str, *operands):
    """Einstein summation, as ``torch.einsum``: ``einsum("bij,bjk->bik", a, b)`` is a batched
    matmul, ``"ii->"`` a trace, ``"...ij->...ji"`` a transpose of the last two dims. Operands
    may also be passed as one list. Differentiable in every operand."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    T = tensor_class()
    ts = [x if isinstance(x, T) else as_tensor(x) for x in operands]
    subs, out = _parse(equation, [tuple(t.shape) for t in ts])
    _sizes(subs, [t._data for t in ts])
    dtypes = {t._data.dtype for t in ts}
    if len(dtypes) > 1:
        raise TypeError(f"einsum: operands must have one dtype, got {sorted(map(str, dtypes))}; "
                        "cast them first (.float(), .double())")
    return Einsum.apply(*ts, subs=tuple(subs), out=out)


# --------------------------------------------------------------------------- named matmuls


def _need(t, ndim, op, what):
    if t.ndim != ndim:
        raise ValueError(f"{op}: {what} must be {ndim}-D, got shape {tuple(t.shape)}")


def mm(input, mat2):
    """(n, k) @ (k, m) -> (n, m); both strictly 2-D (no broadcasting)."""
    a, b = as_tensor(input), as_tensor(mat2)
    _need(a, 2, "mm", "input")
    _need(b, 2, "mm", "mat2")
    return a.matmul(b)


def bmm(input, mat2):
    """(B, n, k) @ (B, k, m) -> (B, n, m); both strictly 3-D with the same batch size."""
    a, b = as_tensor(input), as_tensor(mat2)
    _need(a, 3, "bmm", "input")
    _need(b, 3, "bmm", "mat2")
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"bmm: batch sizes differ: {tuple(a.shape)} and {tuple(b.shape)}")
    return a.matmul(b)


def mv(input, vec):
    """(n, k) @ (k,) -> (n,)."""
    a, v = as_tensor(input), as_tensor(vec)
    _need(a, 2, "mv", "input")
    _need(v, 1, "mv", "vec")
    return a.matmul(v)


def dot(input, other):
    """The inner product of two 1-D tensors of equal length (a 0-d tensor)."""
    a, b = as_tensor(input), as_tensor(other)
    _need(a, 1, "dot", "input")
    _need(b, 1, "dot", "other")
    if a.shape != b.shape:
        raise ValueError(f"dot: lengths differ: {tuple(a.shape)} and {tuple(b.shape)}")
    return a.matmul(b)


vdot = dot


def inner(input, other):
    """Sum over the last dims: (..., k) and (..., k) -> input.shape[:-1] + other.shape[:-1]."""
    a, b = as_tensor(input), as_tensor(other)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, ([-1], [-1]))


def outer(input, vec2):
    """(n,) and (m,) -> (n, m) with out[i, j] = input[i] * vec2[j]."""
    a, b = as_tensor(input), as_tensor(vec2)
    _need(a, 1, "outer", "input")
    _need(b, 1, "outer", "vec2")
    return a.reshape(-1, 1) * b.reshape(1, -1)


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2); input broadcasts to (n, m)."""
    prod = mm(mat1, mat2)
    return _scaled_sum(input, prod, beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec)."""
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * (batch1 @ batch2), batched: (B, n, k), (B, k, m) -> (B, n, m)."""
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]: (B, n, k), (B, k, m) -> (n, m)."""
    return _scaled_sum(input, bmm(batch1, batch2).sum(0), beta, alpha)


def _scaled_sum(input, prod, beta, alpha):
    scaled = prod if alpha == 1 else prod * alpha
    if beta == 0:  # as PyTorch: input is ignored, even its nan and inf
        return scaled
    inp = as_tensor(input)
    return (inp if beta == 1 else inp * beta) + scaled


def chain_matmul(*matrices):
    """m1 @ m2 @ ... (each 2-D)."""
    out = as_tensor(matrices[0])
    for m in matrices[1:]:
        out = mm(out, m)
    return out


def tensordot(a, b, dims=2):
    """Contract the last ``dims`` dims of a with the first of b, or the listed dim pairs."""
    a, b = as_tensor(a), as_tensor(b)
    if isinstance(dims, int):
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = [list(d) if isinstance(d, (list, tuple)) else [d] for d in dims]
    da = [d % a.ndim for d in da]
    db = [d % b.ndim for d in db]
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(a.ndim)]
    sb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(da, db):
        sb[j] = sa[i]
    out = [c for i, c in enumerate(sa) if i not in da]
    out += [c for j, c in enumerate(sb) if j not in db]
    return einsum("".join(sa) + "," + "".join(sb) + "->" + "".join(out), a, b)


def cdist(x1, x2, p: float = 2.0):
    """Pairwise p-norm distances between the rows of x1 (..., P, M) and x2 (..., R, M):
    (..., P, R). The gradient at distance 0 is 0, as PyTorch. Memory: O(P * R * M)."""
    from tinytorch.core.ops_reduce import vector_norm

    a, b = as_tensor(x1), as_tensor(x2)
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-1]:
        raise ValueError(f"cdist: needs (..., P, M) and (..., R, M) with the same M, got "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    return vector_norm(a.unsqueeze(-2) - b.unsqueeze(-3), p, dim=-1)
