"""Module 05 -- autograd: the engine that turns recorded forward ops into gradients.

Every differentiable op is a :class:`Function`: a ``forward`` that computes the result on NumPy
arrays and a ``backward`` that maps the gradient of the output to the gradients of the inputs.
``Function.apply`` runs the forward and, when grad mode is on and some input requires grad,
records a node (``y.grad_fn``, named like PyTorch's: ``MulBackward``) that remembers the inputs
and whatever the forward saved with ``ctx.save_for_backward``.

``Tensor.backward()`` then walks that graph once, in reverse topological order, with an explicit
stack (no recursion, so depth never hits Python's recursion limit; cost linear in graph size):

1. sort the nodes so every node comes after the nodes that consume its output;
2. seed the root with ``dL/dL = 1`` (or the gradient the caller passes);
3. for each node, in reverse order, call its ``backward`` and hand the pieces to its inputs,
   summing where one tensor was used more than once and undoing NumPy broadcasting;
4. leaves (tensors created by the user with ``requires_grad=True``) accumulate into ``.grad``.

The forward ops of modules 01-04 live beside their backward formulas; the backward bodies are
module 05's work (``# BEGIN SOLUTION 05``). This file holds the engine itself.
"""

from __future__ import annotations

import functools
import weakref

import numpy as np

__all__ = [
    "Function",
    "Node",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "backward",
    "unbroadcast",
    "gradcheck",
    "GradcheckError",
]

_grad_enabled = True
_anomaly = None  # the checks of core/anomaly.py while anomaly detection is on, else None
_active_profiler = None  # tinytorch/profiling/hooks.py while profiling or counting FLOPs

_Tensor = None  # the Tensor class, looked up once on first use (tensor.py imports this file)
_Shell = None  # the class of a node's shell inputs (see "Shells" below), made with _Tensor


def _tensor_class():
    global _Tensor, _Shell
    if _Tensor is None:
        from tinytorch.core.tensor import Tensor

        # A shell is a Tensor made without Tensor.__init__'s checks (apply fills its slots):
        # calling a class whose __init__ is object's costs a third of object.__new__(Tensor)
        _Shell = type("TensorShell", (Tensor,), {"__slots__": (), "__init__": object.__init__,
                                            "__module__": Tensor.__module__})
        _Tensor = Tensor
    return _Tensor


# --------------------------------------------------------------------------- grad mode


def _set_profiler(dispatcher) -> None:
    """Install (or, with None, remove) the profiler's op hook; see tinytorch/profiling/hooks.py."""
    global _active_profiler
    _active_profiler = dispatcher


def _set_anomaly_hooks(hooks) -> None:
    """Install (or, with None, remove) anomaly detection's checks; see core/anomaly.py."""
    global _anomaly
    _anomaly = hooks


def is_grad_enabled() -> bool:
    """True when new ops record their backward nodes."""
    return _grad_enabled


class set_grad_enabled:
    """Turn recording on or off, as a context manager, a decorator, or a plain call.

    ``with tt.no_grad():`` is used for evaluation and for optimizer updates: nothing computed
    inside records a graph, which saves the memory of every saved activation.
    """

    def __init__(self, mode: bool = True):
        global _grad_enabled
        self._prev = _grad_enabled
        self._mode = bool(mode)
        _grad_enabled = self._mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self._prev
        return False

    def __call__(self, fn):
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class no_grad(set_grad_enabled):
    """Context manager and decorator that disables graph recording."""

    def __init__(self):
        # Unlike set_grad_enabled, the switch happens on __enter__, so that ``@no_grad()`` on a
        # function definition does not switch grad mode off at import time.
        self._mode = False

    def __enter__(self):
        global _grad_enabled
        self._prev = _grad_enabled
        _grad_enabled = False
        return self


class enable_grad(no_grad):
    """Context manager and decorator that re-enables recording inside a ``no_grad`` block."""

    def __init__(self):
        self._mode = True

    def __enter__(self):
        global _grad_enabled
        self._prev = _grad_enabled
        _grad_enabled = True
        return self


# --------------------------------------------------------------------------- nodes and functions


class Node:
    """A recorded op in the graph: ``y.grad_fn``. It doubles as the ``ctx`` of its Function.

    Attributes:
        inputs: the positional arguments of the op (Tensors and plain values), in order;
            () once a backward pass has freed the graph (so activations are released).
        saved_tensors: what ``forward`` stored with ``save_for_backward`` (NumPy arrays);
            None once a backward pass has freed them.
        needs_input_grad: per input, whether a gradient is wanted (lets backward skip work).
    """

    # Slots for what every node holds; ``__dict__`` for what a forward keeps on ``ctx``
    # (``ctx.axis = axis``). One node is made per op, so this class is on the hot path.
    __slots__ = ("inputs", "saved_tensors", "needs_input_grad", "_saved_at", "__dict__")
    function = None  # set on each Function's node class
    _retain = None  # a weak reference to the tensor whose .grad retain_grad() asked to keep

    def __init__(self):
        # Function.apply skips __init__ (object.__new__ plus two assignments is cheaper);
        # this is for nodes made by hand.
        self.inputs = ()
        self.saved_tensors = ()
        self.needs_input_grad = ()

    def save_for_backward(self, *arrays):
        """Keep what backward will need (arrays or Python values)."""
        self.saved_tensors = arrays
        self._saved_at = _inplace_epoch  # in-place writes after this one invalidate them

    def name(self) -> str:
        return type(self).__name__

    @property
    def next_functions(self):
        """The nodes that produced this node's tensor inputs (None for leaves), like PyTorch's."""
        return tuple(getattr(t, "grad_fn", None) for t in self.inputs if _is_tensor(t))

    def __repr__(self):
        return f"<{type(self).__name__}>"


def _is_tensor(x) -> bool:
    return isinstance(x, _tensor_class())


class Function:
    """Base class of every differentiable op.

    Subclass it with two static methods that work on NumPy arrays::

        class Mul(Function):
            @staticmethod
            def forward(ctx, a, b):          # arrays in, array out
                ctx.save_for_backward(a, b)
                return a * b

            @staticmethod
            def backward(ctx, grad):         # dL/dy in, one dL/d(input) per input out
                a, b = ctx.saved_tensors
                return grad * b, grad * a

        y = Mul.apply(x, w)                  # Tensors in, Tensor out, y.grad_fn is MulBackward

    Positional arguments that are Tensors are unwrapped to their arrays; anything else
    (a Python number, a shape, an axis) is passed through unchanged, and ``backward`` returns
    ``None`` in its place. Keyword arguments are passed to ``forward`` only. ``backward`` may
    return a gradient with the broadcast shape of the output: the engine sums it back down to
    the input's shape (see :func:`unbroadcast`).

    Unlike ``torch.autograd.Function``, forward and backward see NumPy arrays, not Tensors:
    this is the level where the engine works, and it keeps every backward formula plain math.
    """

    _node_class: type = Node

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # ReLUFn -> ReLUBackward: the "Fn" suffix only keeps op classes apart from nn modules
        name = cls.__name__[:-2] if cls.__name__.endswith("Fn") else cls.__name__
        # ``__init__ = object.__init__``: apply makes one node per op, and calling a class whose
        # __init__ is object's is about 3x cheaper than object.__new__(cls) (apply fills the slots)
        cls._node_class = type(f"{name}Backward", (Node,), {
            "__slots__": (), "function": cls, "__init__": object.__init__})
        if not cls.__module__.startswith("tinytorch."):
            # a user's Function (a PyTorch tutorial's): its arrays also answer to Tensor method
            # names (x.clamp(min=0), g.clone(), x.mm(w.t())); see torch_arrays.py
            from tinytorch.core.torch_arrays import torch_style

            for method in ("forward", "backward"):
                f = cls.__dict__.get(method)
                if isinstance(f, staticmethod):
                    setattr(cls, method, staticmethod(torch_style(f.__func__)))

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        # This runs once per op, so it is written for speed: a 10,000-op loop of scalar ops
        # spends most of its time here, not in NumPy (see benchmarks/). One pass over the
        # arguments unwraps the arrays and, when grad mode is on, notes which inputs want a
        # gradient and builds the node's edges (see "Shells" below) in the same loop.
        Tensor = _Tensor or _tensor_class()
        ctx = cls._node_class()
        ctx.saved_tensors = ()
        record = False
        if _grad_enabled:
            arrays = []
            needs = []
            edges = None  # args with interior tensors replaced by shells, once one is met
            for i, a in enumerate(args):
                if isinstance(a, Tensor):
                    d = a._data
                    arrays.append(d)
                    if a.requires_grad:
                        needs.append(True)
                        record = True
                    else:
                        needs.append(False)
                    if a.grad_fn is not None:  # made by another op: hold a shell of it
                        if edges is None:
                            edges = list(args)
                        shell = _Shell()
                        zeros = _SHELL_ARRAYS.get((d.shape, d.dtype))
                        shell._data = _shell_array(d) if zeros is None else zeros
                        shell.grad = None
                        shell.grad_fn = a.grad_fn
                        shell.requires_grad = True
                        edges[i] = shell
                else:
                    arrays.append(a)
                    needs.append(False)
        else:  # no_grad(): nothing is recorded, only the arrays are needed
            arrays = []
            for a in args:
                arrays.append(a._data if isinstance(a, Tensor) else a)
        if _active_profiler is None:
            out = cls.forward(ctx, *arrays, **kwargs)
        else:  # tt.profiler.profile() or FlopCounterMode: time and count this op
            out = _active_profiler.forward(cls, ctx, arrays, kwargs)
        if type(out) is not _ndarray:  # NumPy returns scalars, not 0-d arrays, for 0-d inputs
            out = _asarray(out)
        if _anomaly is not None:  # detect_anomaly(): note the caller's line, check for nan,
            _anomaly.forward(cls, ctx, args, out)  # and have this node's backward checked
        t = _new_object(Tensor)  # Tensor._wrap, inlined
        t._data = out
        t.grad = None
        if record:
            # keep the graph's edges, not the activations: an input made by another op is
            # held as a shell (its producer, shape and dtype, no data); what backward needs
            # of its value the forward saved with save_for_backward
            ctx.inputs = args if edges is None else tuple(edges)
            ctx.needs_input_grad = tuple(needs)
            t.grad_fn = ctx
            t.requires_grad = True
        else:
            t.grad_fn = None
            t.requires_grad = False
        return t


_new_object = object.__new__
_ndarray = np.ndarray
_asarray = np.asarray
_SHELL_ARRAYS: dict = {}  # (shape, dtype) -> a read-only zero-strided array of that shape


def _shell_array(d: np.ndarray) -> np.ndarray:
    """One zero broadcast to ``d``'s shape and dtype (no memory per element), cached."""
    key = (d.shape, d.dtype)
    arr = _SHELL_ARRAYS.get(key)
    if arr is None:
        if len(_SHELL_ARRAYS) > 4096:  # many distinct shapes (varying lengths): start over
            _SHELL_ARRAYS.clear()
        arr = _SHELL_ARRAYS[key] = np.broadcast_to(np.zeros((), d.dtype), d.shape)
    return arr


# Shells. A node's ``inputs`` hold, for every input made by another op, a *shell* of it
# (built in Function.apply): a Tensor with that input's ``grad_fn``, shape and dtype (all the
# engine needs to route a gradient to it) but not its data: its array is one zero broadcast
# to the shape (_shell_array). Holding the tensor itself would keep every intermediate result
# alive until backward, even those no backward formula reads (``relu`` needs its output, not
# its input; ``a + b`` needs neither): about two activations per layer where one is enough.


# --------------------------------------------------------------------------- the engine


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` down to ``shape``, undoing NumPy broadcasting.

    Broadcasting copies an input along new leading axes and along axes of size 1; each copy
    received a share of the gradient, so the input's gradient is the sum over those axes.
    Example: ``x`` of shape (3, 1) added to ``y`` of shape (2, 3, 4) gives a (2, 3, 4) grad;
    ``x`` gets it summed over axis 0 (new) and axis 2 (size 1 in ``x``), kept as (3, 1).
    """
    # BEGIN SOLUTION 05
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)
    # END SOLUTION


def _topological_order(root: Node) -> list:
    """Nodes reachable from ``root``, each after every node that feeds it (root last).

    Iterative depth-first search with an explicit stack: a node is emitted once all of its
    inputs' nodes are, so a shared subgraph is visited once however many paths lead to it.
    """
    # BEGIN SOLUTION 05
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        # only inputs that require grad can have a grad_fn (a non-leaf always requires grad)
        for inp, needed in zip(node.inputs, node.needs_input_grad):
            if needed and inp.grad_fn is not None and inp.grad_fn not in visited:
                stack.append((inp.grad_fn, False))
    return order
    # END SOLUTION


def _accumulate_leaf(tensor, grad: np.ndarray) -> None:
    """Add ``grad`` into a leaf's ``.grad`` (a Tensor), creating it on first use.

    The first gradient is copied: backward formulas may hand the same array to several inputs
    (``a + b`` returns ``grad`` for both), and an optimizer that scales ``p.grad`` in place
    must not change another parameter's gradient. The copy takes the leaf's dtype and memory
    layout (C order for a weight), in one pass, so the optimizer streams through both alike.
    """
    Tensor = _Tensor or _tensor_class()
    if tensor.grad is None:
        buf = np.empty_like(tensor._data)
        np.copyto(buf, grad, casting="unsafe")
        tensor.grad = Tensor._wrap(buf, None)
    else:
        if grad.dtype != tensor._data.dtype:
            grad = grad.astype(tensor._data.dtype)
        tensor.grad._data = tensor.grad._data + grad


def backward(tensor, gradient=None, retain_graph: bool = False) -> None:
    """Compute d(tensor)/d(leaf) for every leaf that requires grad; accumulate into ``.grad``.

    Args:
        tensor: the output to differentiate (usually a scalar loss).
        gradient: dL/d(tensor), same shape as ``tensor``; may be omitted for a scalar (then 1).
        retain_graph: keep the saved arrays so backward can run through this graph again.
    """
    Tensor = _tensor_class()
    if not tensor.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad and has no grad_fn, so there is nothing "
            "to differentiate. Create the inputs with requires_grad=True (or call "
            "x.requires_grad_()) before computing the output, and do not compute it under no_grad()."
        )
    if gradient is None:
        if tensor._data.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for a scalar output, but this "
                f"output has shape {tuple(tensor.shape)}. Reduce it first (y.sum().backward()) or "
                f"pass the gradient dL/dy explicitly: y.backward(tt.ones_like(y))."
            )
        grad = np.ones_like(tensor._data)
    else:
        grad = gradient._data if isinstance(gradient, Tensor) else np.asarray(gradient)
        if grad.shape != tensor._data.shape:
            raise ValueError(
                f"backward: gradient has shape {tuple(grad.shape)} but the output has shape "
                f"{tuple(tensor.shape)}; they must match."
            )
        grad = grad.astype(tensor._data.dtype, copy=False)

    root = tensor.grad_fn
    if root is None:  # a leaf: its gradient is the seed itself
        _accumulate_leaf(tensor, grad)
        return
    _run_backward(root, grad, retain_graph)


def _run_backward(root: Node, grad: np.ndarray, retain_graph: bool) -> None:
    """One reverse sweep over the graph below ``root``."""
    # BEGIN SOLUTION 05
    order = _topological_order(root)
    grads = {root: grad}  # node -> dL/d(its output), summed over every consumer
    for node in reversed(order):
        g = grads.pop(node, None)
        if g is None:  # no path from the root reached this node's output
            continue
        if node.saved_tensors is None:
            raise RuntimeError(
                f"backward: trying to backward through the graph a second time ({node.name()} "
                "already freed its saved arrays). Call .backward(retain_graph=True) the first "
                "time if you need to backward twice, or recompute the forward."
            )
        if _inplace_epoch and node.saved_tensors and \
                getattr(node, "_saved_at", None) != _inplace_epoch:
            _check_saved(node)  # something was written in place since the forward saved
        if node._retain is not None:
            t = node._retain()
            if t is not None:
                _accumulate_leaf(t, g)
        if _active_profiler is None:
            input_grads = node.function.backward(node, g)
        else:  # profiling: time this node's backward (profiling/hooks.py)
            input_grads = _active_profiler.backward(node, g)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if len(input_grads) < len(node.inputs):  # zip would drop the missing ones silently
            _check_arity(node, input_grads)
        for inp, ig, needed in zip(node.inputs, input_grads, node.needs_input_grad):
            if not needed or ig is None:
                continue
            if type(ig) is not _ndarray:
                ig = np.asarray(ig)
            if ig.shape != inp._data.shape:
                ig = _fit(node, inp, ig)  # unbroadcast, or name the op whose shape is wrong
            producer = inp.grad_fn
            if producer is None:  # a leaf that requires grad
                _accumulate_leaf(inp, ig)
            else:
                prev = grads.get(producer)
                grads[producer] = ig if prev is None else prev + ig
        if not retain_graph:
            if node.saved_tensors:
                node.saved_tensors = None  # frees the saved arrays; marks the node as used
                node.inputs = ()  # and lets the input tensors (activations) go, like PyTorch
            elif False in node.needs_input_grad:
                # a node that saved nothing (add, sum) keeps its edges, as PyTorch backwards
                # through it again; but not the inputs no gradient goes to (a data batch)
                node.inputs = _needed_only(node.inputs, node.needs_input_grad)
    # END SOLUTION


def _needed_only(inputs: tuple, needs: tuple) -> tuple:
    """``inputs`` with None in place of those no gradient goes to (see _run_backward)."""
    if len(inputs) == 2:  # most ops: a list comprehension's frame costs 10x this, per node
        a, b = inputs
        return (a if needs[0] else None, b if needs[1] else None)
    return tuple([a if n else None for a, n in zip(inputs, needs)])


def _check_arity(node: Node, input_grads: tuple) -> None:
    """A backward must return one gradient per positional input (None where none is due)."""
    if True in node.needs_input_grad[len(input_grads):]:
        raise RuntimeError(
            f"backward: {node.name()}.backward returned {len(input_grads)} gradient(s) for "
            f"{len(node.inputs)} inputs; return a tuple with one entry per input of forward "
            "(None for inputs that are not tensors, such as an axis or a shape)"
        )


def _fit(node: Node, inp, grad: np.ndarray) -> np.ndarray:
    """Sum a gradient in the output's broadcast shape down to ``inp``'s (:func:`unbroadcast`).

    Any other shape is a bug in ``node``'s backward: reshaping it would silently scramble the
    gradient when the sizes happen to agree, so it is an error that names the op.
    """
    shape = inp._data.shape
    try:
        if np.broadcast_shapes(shape, grad.shape) == grad.shape:
            return unbroadcast(grad, shape)
    except ValueError:
        pass
    if grad.size == inp._data.size and [d for d in grad.shape if d != 1] == [d for d in shape
                                                                             if d != 1]:
        return grad.reshape(shape)  # the same values, only size-1 dims added or dropped
    k = next(i for i, t in enumerate(node.inputs) if t is inp)
    raise ValueError(
        f"backward: {node.name()}.backward returned a gradient of shape {tuple(grad.shape)} "
        f"for input {k} of shape {tuple(shape)}; a gradient has its input's shape (or the "
        "output's broadcast shape, which is summed down)"
    )


# --------------------------------------------------------------------------- gradient checking


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when analytic and numerical gradients disagree."""


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              seed: int = 0, raise_exception: bool = True) -> bool:
    """Check the backward of ``fn`` against central finite differences, in float64.

    ``fn(*inputs)`` returns a Tensor of any shape. We differentiate the scalar
    ``L = sum(fn(*inputs) * W)`` with a fixed random ``W`` (so every output element matters and
    errors cannot cancel), and compare, for every input that requires grad and every element,

        analytic  dL/dx[i]   (from backward)
        numerical (L(x[i] + eps) - L(x[i] - eps)) / (2 eps)

    Inputs are converted to float64 copies first: in float32, rounding error of the finite
    difference is about 1e-7 / eps, the same size as the gradients themselves.

    Returns True, or raises :class:`GradcheckError` showing both values side by side.
    """
    Tensor = _tensor_class()
    xs = []
    for x in inputs:
        if isinstance(x, Tensor):
            t = Tensor._wrap(np.array(x._data, dtype=np.float64), None)
            t.requires_grad = x.requires_grad
            xs.append(t)
        else:
            xs.append(x)
    with set_grad_enabled(True):
        out = fn(*xs)
    if not isinstance(out, Tensor) or not out.requires_grad:
        raise TypeError(f"gradcheck: fn must return a Tensor that depends on an input with "
                        f"requires_grad=True, got {type(out).__name__}")
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(out._data.shape)

    def loss_value():
        with no_grad():
            return float(np.sum(fn(*xs)._data * w))

    for x in xs:
        if isinstance(x, Tensor):
            x.grad = None
    out.backward(Tensor._wrap(w.astype(out._data.dtype), None))

    for k, x in enumerate(xs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        analytic = np.zeros_like(x._data) if x.grad is None else x.grad._data
        numeric = np.zeros_like(x._data)
        flat = x._data.reshape(-1)  # a view: writing into it perturbs x
        for i in range(flat.size):
            orig = flat[i]
            flat[i] = orig + eps
            plus = loss_value()
            flat[i] = orig - eps
            minus = loss_value()
            flat[i] = orig
            numeric.reshape(-1)[i] = (plus - minus) / (2 * eps)
        bad = ~np.isclose(analytic, numeric, atol=atol, rtol=rtol)
        if bad.any():
            idx = np.unravel_index(int(np.argmax(np.abs(analytic - numeric))), analytic.shape)
            msg = (
                f"gradcheck: input {k} (shape {tuple(x.shape)}): {int(bad.sum())} of {bad.size} "
                f"gradient entries differ.\n  worst at index {tuple(int(i) for i in idx)}: "
                f"analytic {analytic[idx]:.8g} vs numerical {numeric[idx]:.8g}\n"
                f"  analytic:\n{np.array2string(analytic, precision=5)}\n"
                f"  numerical:\n{np.array2string(numeric, precision=5)}"
            )
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


# --------------------------------------------------------------------------- in-place writes
#
# PyTorch keeps a version counter on every tensor and refuses to backward through a node whose
# saved tensor was modified in place since: the gradient would use the new values silently.
# Here the counter lives with the memory, not the Tensor object: an in-place write records the
# array that owns the memory (the root of its views), so a write through a view, ``.data`` or
# ``detach()`` counts too. Saving costs one integer (the global write count, ``_inplace_epoch``);
# only when writes happened since does backward look the saved arrays up. A saved array keeps
# its root alive, so the root's id cannot be reused by another array before the check; an
# entry goes when its memory is freed.

_inplace_epoch = 0  # in-place writes so far, process-wide
_writes: dict = {}  # id(root array) -> [version, [(epoch, op name), ... the last 4]]
_forgotten_before = 0  # the table was cleared at this epoch: older saves cannot be checked


def _root(arr: np.ndarray) -> np.ndarray:
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def version_of(array: np.ndarray) -> int:
    """How many in-place writes the memory of ``array`` has had (``t._version``)."""
    rec = _writes.get(id(_root(array)))
    return 0 if rec is None else rec[0]


def note_inplace(array: np.ndarray, op: str) -> None:
    """Record an in-place write into ``array`` by ``op`` (``"add_"``): bumps its version."""
    global _inplace_epoch, _forgotten_before
    _inplace_epoch += 1
    if len(_writes) > 100_000:  # bounded memory in very long runs: forget, never misreport
        _writes.clear()
        _forgotten_before = _inplace_epoch
    root = _root(array)
    key = id(root)
    rec = _writes.get(key)
    if rec is None:
        rec = _writes[key] = [0, []]
        # forget the entry when the memory is freed (before its id can be reused)
        weakref.finalize(root, _writes.pop, key, None).atexit = False
    rec[0] += 1
    rec[1].append((_inplace_epoch, op))
    del rec[1][:-4]


def _check_saved(node: Node) -> None:
    saved_at = getattr(node, "_saved_at", None)
    if saved_at is None or saved_at < _forgotten_before:
        return
    for k, s in enumerate(node.saved_tensors):
        if not isinstance(s, np.ndarray):
            continue
        rec = _writes.get(id(_root(s)))
        if rec is None:
            continue
        later = [op for epoch, op in rec[1] if epoch > saved_at]
        if later:
            raise RuntimeError(
                f"backward: one of the variables needed for gradient computation has been "
                f"modified by an inplace operation: [{s.dtype} tensor of shape {tuple(s.shape)}], "
                f"saved by {node.name()} (saved tensor {k}), was changed by "
                f"{', '.join(dict.fromkeys(later))}; it is at version {rec[0]}; expected version "
                f"{rec[0] - len(later)}. Do the in-place update after backward(), use the "
                "out-of-place form (y = y + 1 instead of y.add_(1)), or .clone() the tensor "
                "before changing it.")


def _retain(node: Node, tensor) -> None:
    node._retain = weakref.ref(tensor)
