"""Planted bugs per module, for the mutation check (``tito/mutations.py``).

Run by ``tests/test_mutations.py``.

Each entry is an exact snippet of the reference and the bug that replaces it. Good mutants
imitate a learner's real mistakes: a wrong sign, swapped operands, a forgotten un-broadcast, a
missing stability shift, keepdim ignored. Each must make at least one of its module's tests
fail; a snippet that stops occurring exactly once in the reference fails the test suite, so
update the entry when the code it names changes.

Instructor-only: ``tito release`` blanks this file in the student copy (the snippets are
pieces of the solutions). Modules whose tests do not exist yet are skipped by the kill check;
their snippets are still checked.
"""

from tito.mutations import Mutation

OPS = "tinytorch/core/tensor_ops.py"
ACT = "tinytorch/core/activations.py"
LOSS = "tinytorch/core/losses.py"
AUTOGRAD = "tinytorch/core/autograd.py"

CATALOG: dict[int, list[Mutation]] = {
    1: [
        Mutation("sub-swapped", OPS, "np.subtract(a, b)", "np.subtract(b, a)",
                 "a - b computed as b - a"),
        Mutation("sum-ignores-keepdim", OPS, "np.sum(a, axis=axis, keepdims=keepdim)",
                 "np.sum(a, axis=axis)", "sum(dim, keepdim=True) drops the axis"),
        Mutation("permute-ignores-dims", OPS, "return np.transpose(a, dims)",
                 "return np.transpose(a)", "permute reverses the axes whatever dims says"),
    ],
    2: [
        Mutation("relu-identity", ACT, "out = np.maximum(x, 0).astype(x.dtype, copy=False)",
                 "out = x.copy()", "relu returns its input"),
        Mutation("softmax-no-shift", ACT,
                 "shifted = x - np.max(x, axis=axis, keepdims=True)\n        e = np.exp(shifted)",
                 "shifted = x\n        e = np.exp(shifted)",
                 "softmax without the max shift overflows on large logits"),
    ],
    4: [
        Mutation("ce-sign", LOSS, "per_row = -np.sum(a * logp, axis=1)",
                 "per_row = np.sum(a * logp, axis=1)", "cross-entropy with the wrong sign"),
    ],
    5: [
        Mutation("sub-backward-sign", OPS, "return grad, -grad", "return grad, grad",
                 "d(a - b)/db = +1"),
        Mutation("mul-backward-swapped", OPS,
                 "ga = grad * b if ctx.needs_input_grad[0] else None",
                 "ga = grad * a if ctx.needs_input_grad[0] else None",
                 "d(a * b)/da taken as a instead of b"),
        Mutation("permute-backward-not-inverted", OPS,
                 "return np.transpose(grad, np.argsort(ctx.dims)), None",
                 "return np.transpose(grad, ctx.dims), None",
                 "permute's gradient applies dims again instead of their inverse"),
        Mutation("unbroadcast-keeps-size1-axes", AUTOGRAD,
                 "axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)",
                 "axes = ()", "un-broadcast forgets axes of size 1"),
    ],
}
