"""A user's ``autograd.Function`` written the PyTorch way runs unchanged.

Its forward and backward get NumPy arrays that also answer to Tensor method names
(``clamp``, ``clone``, ``mm``, ``t``, ``unsqueeze``, ``expand_as``, ``sum(dim)``): the
examples of PyTorch's own documentation, checked against PyTorch.
"""

import numpy as np
import pytest

import tinytorch as tt

torch = pytest.importorskip("torch")


def _functions(lib):
    class MyReLU(lib.autograd.Function):  # PyTorch tutorial: two_layer_net_custom_function
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[input < 0] = 0
            return grad_input

    class LinearFunction(lib.autograd.Function):  # PyTorch docs: "Extending PyTorch"
        @staticmethod
        def forward(ctx, input, weight, bias=None):
            ctx.save_for_backward(input, weight, bias)
            output = input.mm(weight.t())
            if bias is not None:
                output += bias.unsqueeze(0).expand_as(output)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            input, weight, bias = ctx.saved_tensors
            grad_input = grad_weight = grad_bias = None
            if ctx.needs_input_grad[0]:
                grad_input = grad_output.mm(weight)
            if ctx.needs_input_grad[1]:
                grad_weight = grad_output.t().mm(input)
            if bias is not None and ctx.needs_input_grad[2]:
                grad_bias = grad_output.sum(0)
            return grad_input, grad_weight, grad_bias

    return MyReLU, LinearFunction


def test_pytorch_documentation_functions_match_torch():
    rng = np.random.default_rng(0)
    data = [rng.standard_normal(s) for s in ((4, 3), (2, 3), (2,))]
    results = []
    for lib in (tt, torch):
        relu, linear = _functions(lib)
        x, w, b = (lib.tensor(d, requires_grad=True) for d in data)
        y = relu.apply(linear.apply(x, w, b))
        y.pow(2).sum().backward()
        results.append([y.detach().numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_the_arrays_stay_numpy_arrays():
    seen = {}

    class Probe(tt.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            seen["forward"] = a
            return np.sum(a, axis=0) + a.sum(dim=0, keepdim=False)  # both spellings

        @staticmethod
        def backward(ctx, g):
            seen["backward"] = g
            return np.broadcast_to(2 * g, (3, 2))

    x = tt.ones(3, 2, requires_grad=True)
    y = Probe.apply(x)
    y.sum().backward()
    assert isinstance(seen["forward"], np.ndarray) and isinstance(seen["backward"], np.ndarray)
    assert type(y.numpy()) is np.ndarray and type(x.grad.numpy()) is np.ndarray
    np.testing.assert_array_equal(y.numpy(), [6.0, 6.0])
    np.testing.assert_array_equal(seen["forward"].transpose(0, 1).shape, (2, 3))  # torch's swap
