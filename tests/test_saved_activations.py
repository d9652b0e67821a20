"""What a recorded graph keeps alive: one saved activation per layer, as PyTorch.

A node keeps the edges to its inputs (their producers, shapes and dtypes) and whatever its
backward saved, nothing more. These tests walk a graph and count the distinct arrays it holds.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.core.autograd import _topological_order


def _owner(a: np.ndarray) -> np.ndarray:
    """The array that owns ``a``'s memory (views of one buffer count once)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def held_arrays(loss) -> dict:
    """{id: (shape, [where])} of every array with data that the graph below ``loss`` holds:
    saved for backward, kept on a node, or reachable through a node's inputs."""
    found = {}

    def add(value, where):
        if isinstance(value, np.ndarray):
            if value.size > 1 and not any(value.strides):  # a shape-only shell: no data
                return
            owner = _owner(value)
            found.setdefault(id(owner), (owner.shape, []))[1].append(where)
        elif isinstance(value, (tuple, list)):
            for v in value:
                add(v, where)

    for node in _topological_order(loss.grad_fn):
        add(node.saved_tensors, f"{node.name()}.saved")
        for key, value in vars(node).items():
            add(value, f"{node.name()}.{key}")
        for t in node.inputs:
            if isinstance(t, tt.Tensor):
                add(t._data, f"{node.name()}.inputs")
    return found


def _mlp(sizes):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(tt.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(tt.nn.ReLU())
    return tt.nn.Sequential(*layers)


@pytest.mark.parametrize("sizes", [(20, 16, 8, 4), (20, 32, 32, 32, 4)])
def test_an_mlp_graph_keeps_one_activation_per_layer(sizes):
    tt.manual_seed(0)
    model = _mlp(sizes)
    batch = 6
    x = tt.randn(batch, sizes[0])
    loss = tt.nn.functional.cross_entropy(model(x), tt.randint(0, sizes[-1], (batch,)))
    params = {id(_owner(p._data)) for p in model.parameters()}
    held = held_arrays(loss)
    activations = {k: v for k, v in held.items()
                   if k not in params and k != id(_owner(x._data)) and len(v[0]) == 2}
    # each hidden layer: its ReLU output (saved by ReLU and by the next matmul: one array);
    # the last layer: the softmax probabilities cross-entropy saved. Not the pre-activations.
    n_layers = len(sizes) - 1
    shapes = sorted(v[0] for v in activations.values())
    assert len(activations) == n_layers, (
        f"{len(activations)} activations held for {n_layers} layers: "
        + "; ".join(f"{s} by {w}" for s, w in activations.values()))
    assert shapes == sorted([(batch, s) for s in sizes[1:-1]] + [(batch, sizes[-1])])


def test_a_node_holds_shells_of_its_interior_inputs_and_gradients_still_flow():
    x = tt.tensor([[1.0, -2.0, 3.0]], requires_grad=True)
    h = x * 2.0
    y = h.relu()
    shell = y.grad_fn.inputs[0]
    assert shell is not h and shell.grad_fn is h.grad_fn  # same edge, no data
    assert shell.shape == h.shape and shell.dtype == h.dtype
    assert not any(shell._data.strides)
    assert y.grad_fn.next_functions == (h.grad_fn,)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 0.0, 2.0]])


def test_leaves_are_kept_themselves_so_their_grad_accumulates():
    w = tt.tensor([1.0, 2.0], requires_grad=True)
    b = tt.tensor([0.5, 0.5])
    y = w * b
    assert y.grad_fn.inputs[0] is w and y.grad_fn.inputs[1] is b
