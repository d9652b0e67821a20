"""``tt.autograd.grad``: gradients of outputs with respect to chosen inputs, returned
instead of accumulated into ``.grad``.

    dx, = tt.autograd.grad(loss, [x])      # loss must depend on x; x.grad is untouched

It reuses the one backward pass of the engine: every leaf the outputs depend on has its
``.grad`` set aside, the sweep runs (non-leaf inputs keep their gradient through the
``retain_grad`` mechanism), the gradients of the inputs are read off, and every ``.grad`` is
put back as it was. So, as in PyTorch, no ``.grad`` anywhere changes.

Not supported: ``create_graph=True`` (higher-order gradients). The engine's backward formulas
compute on NumPy arrays, so a gradient is not itself differentiable here; asking for it
raises rather than returning a gradient silently cut from the graph.
"""

from __future__ import annotations

import numpy as np

from tinytorch.core import autograd as _ag

__all__ = ["grad"]


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused=None, is_grads_batched: bool = False,
         materialize_grads: bool = False):
    """d(sum of outputs * grad_outputs) / d(each input), as a tuple with one entry per input.

    Args:
        outputs: a tensor or sequence of tensors to differentiate.
        inputs: a tensor or sequence of tensors (leaves or intermediate results).
        grad_outputs: dL/d(output) per output; may be None for scalar outputs.
        retain_graph: keep the graph for another backward (default: ``create_graph``).
        allow_unused: return None for an input the outputs do not depend on (else an error);
            ``materialize_grads=True`` returns zeros instead.
    """
    if create_graph:
        raise NotImplementedError(
            "autograd.grad(create_graph=True): tinytorch's backward computes on NumPy arrays, "
            "so gradients cannot be differentiated again (no double backward). Compute the "
            "higher-order term by hand, or use PyTorch for it.")
    if is_grads_batched:
        raise NotImplementedError("autograd.grad(is_grads_batched=True) is not supported; "
                                  "loop over the grad_outputs instead")
    outputs, inputs = _as_list(outputs), _as_list(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    gouts = [None] * len(outputs) if grad_outputs is None else _as_list(grad_outputs)
    if len(gouts) != len(outputs):
        raise ValueError(f"autograd.grad: {len(gouts)} grad_outputs for {len(outputs)} outputs")
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} does not require grad (create it with "
                               "requires_grad=True)")
    retain = bool(retain_graph)

    # every leaf the sweep will write to: set its .grad aside
    leaves = {}
    for out in outputs:
        if out.grad_fn is None:
            if out.requires_grad:
                leaves[id(out)] = out
            continue
        for node in _ag._topological_order(out.grad_fn):
            for inp, needed in zip(node.inputs, node.needs_input_grad):
                if needed and inp.grad_fn is None:
                    leaves[id(inp)] = inp
    for x in inputs:
        if x.grad_fn is None:
            leaves[id(x)] = x
    kept = {k: t.grad for k, t in leaves.items()}
    interior = [(x, x.grad_fn, x.grad_fn._retain, x.grad) for x in inputs if x.grad_fn is not None]
    try:
        for t in leaves.values():
            t.grad = None
        for x, node, _, _ in interior:
            x.grad = None
            _ag._retain(node, x)
        for k, (out, g) in enumerate(zip(outputs, gouts)):
            if out.requires_grad:
                _ag.backward(out, g, retain_graph=retain or k < len(outputs) - 1)
        result = []
        for i, x in enumerate(inputs):
            g = x.grad
            if g is None:
                if not allow_unused:
                    raise RuntimeError(
                        f"autograd.grad: input {i} was not used to compute the outputs. "
                        "Pass allow_unused=True to get None for it (materialize_grads=True: "
                        "zeros).")
                if materialize_grads:
                    g = type(x)._wrap(np.zeros_like(x._data), None) if hasattr(type(x), "_wrap") \
                        else None
            result.append(g)
        return tuple(result)
    finally:
        for k, t in leaves.items():
            t.grad = kept[k]
        for x, node, old_retain, old_grad in interior:
            node._retain = old_retain
            x.grad = old_grad
