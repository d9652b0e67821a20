"""``FlopCounterMode``: count the FLOPs a block of code performs, in PyTorch's shape.

    from tinytorch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(model, display=False) as fc:
        model(x).sum().backward()          # forward and backward both counted
    fc.get_total_flops()                    # an int, equal to PyTorch's for the same model
    fc.get_flop_counts()                    # {"Global": {"MatMul": ...}, "MLP.fc1": {...}}

Counting happens in the autograd engine's op hook (see ``hooks.py``): every op that has a
formula in ``flops.py`` adds its count, computed from the shapes it actually ran on. Names of
the inner keys are the op's (``"MatMul"``, ``"Conv2d"``, ``"SDPA"``) and its backward node's
(``"MatMulBackward"``).

Per-module counts: PyTorch tracks modules through global module hooks; tinytorch's
``Module`` has only per-module hooks, so pass the model (``FlopCounterMode(model)``, the
``mods`` argument PyTorch also accepts) to get one entry per submodule, named the way
PyTorch names them (``"Sequential"``, ``"Sequential.0"``). Backward FLOPs go to the modules
whose forward recorded the op. Without ``mods`` there is the ``"Global"`` entry only.
"""

from __future__ import annotations

from collections import defaultdict

from tinytorch.profiling import hooks
from tinytorch.profiling.flops import BACKWARD_FLOPS, FORWARD_FLOPS, op_name, shapes_of

__all__ = ["FlopCounterMode"]

_SUFFIXES = ["", "K", "M", "B", "T"]


class FlopCounterMode:
    """Counts FLOPs of every matmul, convolution and attention op run inside the ``with``.

    Args:
        mods: a module or list of modules whose submodules get their own counts.
        depth: how many levels of submodules ``get_table`` shows.
        display: print the table when the block ends (PyTorch's default).
        custom_mapping: extra formulas: ``{FunctionClass: f(arg_shapes, out_shape)}`` for a
            forward, ``{FunctionClass._node_class: f(arg_shapes, out_shape, needs)}`` for its
            backward (see ``flops.EXTRA_FLOP_FORMULAS``).
    """

    def __init__(self, mods=None, depth: int = 2, display: bool = True, custom_mapping=None):
        self.flop_counts: dict = defaultdict(lambda: defaultdict(int))
        self.depth, self.display = depth, display
        if mods is not None and not isinstance(mods, (list, tuple)):
            mods = [mods]
        self.mods = list(mods or [])
        for m in self.mods:  # fail here, not with an AttributeError when the block starts
            if not hasattr(m, "named_modules"):
                raise TypeError(f"FlopCounterMode: mods must be nn.Module(s), got "
                                f"{type(m).__name__} {m!r:.40}; pass the model: "
                                f"FlopCounterMode(model)")
        self._forward = dict(FORWARD_FLOPS)
        self._backward = {f._node_class: b for f, b in BACKWARD_FLOPS.items()}
        for key, f in (custom_mapping or {}).items():
            if not isinstance(key, type) or not callable(f):
                raise TypeError(f"FlopCounterMode: custom_mapping maps an op's Function class "
                                f"to a formula f(arg_shapes, out_shape), got {key!r}: {f!r}; "
                                f"see flops.EXTRA_FLOP_FORMULAS for examples")
            if getattr(key, "function", None) is not None:  # a backward node class
                self._backward[key] = f
            else:
                self._forward[key] = f
        self._parents: list[str] = []
        self._handles: list = []

    # ------------------------------------------------------------------ results

    def get_total_flops(self) -> int:
        return sum(self.flop_counts["Global"].values())

    def get_flop_counts(self) -> dict:
        """``{module name: {op name: FLOPs}}``; ``"Global"`` holds everything."""
        return {k: dict(v) for k, v in self.flop_counts.items()}

    def get_table(self, depth: int | None = None) -> str:
        """A text table: each module's FLOPs and share of the total, op by op."""
        depth = self.depth if depth is None else depth
        total = self.get_total_flops()
        index = max(0, min(len(_SUFFIXES) - 1, (len(str(total)) - 2) // 3))

        def fmt(n):
            return f"{n / 1000 ** index:.3f}{_SUFFIXES[index]}"

        def pct(n):
            return f"{n / total:.2%}" if total else "0%"

        rows = []
        names = ["Global"] + sorted(k for k in self.flop_counts if k != "Global")
        for name in names:
            level = 0 if name == "Global" else name.count(".") + 1
            if level > depth or name not in self.flop_counts:
                continue
            pad = " " * level
            counts = self.flop_counts[name]
            rows.append((pad + name, fmt(sum(counts.values())), pct(sum(counts.values()))))
            rows += [(pad + " - " + op, fmt(v), pct(v)) for op, v in counts.items()]
        if not rows:
            rows = [("Global", "0", "0%")]
        header = ("Module", "FLOP", "% Total")
        w = [max(len(r[i]) for r in rows + [header]) for i in range(3)]
        lines = [f"{header[0]:<{w[0]}}  {header[1]:>{w[1]}}  {header[2]:>{w[2]}}",
                 "  ".join("-" * n for n in w)]
        lines += [f"{a:<{w[0]}}  {b:>{w[1]}}  {c:>{w[2]}}" for a, b, c in rows]
        return "\n".join(lines)

    # ------------------------------------------------------------------ context manager

    def __enter__(self):
        self.flop_counts.clear()
        self._parents = []
        for root in self.mods:
            for name, m in root.named_modules(prefix=type(root).__name__):
                self._handles.append(m.register_forward_pre_hook(self._enter_module(name)))
                self._handles.append(m.register_forward_hook(self._exit_module(name)))
        hooks.attach(self)
        return self

    def __exit__(self, *exc):
        hooks.detach(self)
        for h in self._handles:
            h.remove()
        self._handles = []
        if self.display:
            print(self.get_table(self.depth))
        return False

    def _enter_module(self, name):
        def pre_hook(module, args):
            self._parents.append(name)
        return pre_hook

    def _exit_module(self, name):
        def post_hook(module, args, output):
            if self._parents and self._parents[-1] == name:
                self._parents.pop()
        return post_hook

    # ------------------------------------------------------------------ the engine's reports

    def _add(self, op: str, flops: int, parents) -> None:
        self.flop_counts["Global"][op] += flops
        for p in set(parents):
            self.flop_counts[p][op] += flops

    def op_begin(self) -> None:
        pass

    def op_failed(self) -> None:
        pass

    def op_forward(self, cls, ctx, arrays, kwargs, out, t0, t1) -> None:
        formula = self._forward.get(cls)
        if formula is None:
            return
        out_shape = getattr(out, "shape", ())
        named = {k: kwargs[k] for k in getattr(formula, "keywords", ()) if k in kwargs}
        self._add(op_name(cls), int(formula(shapes_of(arrays), out_shape, **named)),
                  self._parents)
        if self._parents:
            ctx._flop_parents = tuple(self._parents)  # backward counts go to the same modules

    def op_backward(self, node, grad, t0, t1) -> None:
        formula = self._backward.get(type(node))
        if formula is None:
            return
        named = {k: getattr(node, k) for k in getattr(formula, "keywords", ()) if hasattr(node, k)}
        flops = formula(shapes_of(node.inputs), grad.shape, node.needs_input_grad, **named)
        self._add(type(node).__name__, int(flops), node.__dict__.get("_flop_parents", ()))
