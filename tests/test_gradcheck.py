"""Every op of the catalogue against central finite differences in float64.

This is the oracle that needs no other framework: if backward disagrees with
(f(x + eps) - f(x - eps)) / 2 eps, the gradient is wrong.
"""

import numpy as np
import pytest

import tinytorch as tt
from op_cases import CASE_IDS, CASES
from tinytorch.autograd import GradcheckError, gradcheck


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_gradcheck(case):
    xs = [tt.tensor(x, requires_grad=i in case.grad_indices())
          for i, x in enumerate(case.inputs(dtype=np.float64))]
    assert gradcheck(case.tt, xs, eps=1e-6, atol=1e-5, rtol=1e-4)


def test_gradcheck_catches_a_wrong_gradient():
    """The checker itself must be able to fail: a Function with a deliberately wrong backward."""

    class BadSquare(tt.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x  # should be 2 * x

    x = tt.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    with pytest.raises(GradcheckError, match="analytic .* vs numerical"):
        gradcheck(lambda t: BadSquare.apply(t), [x])


def test_gradcheck_of_a_long_composite_expression():
    rng = np.random.default_rng(3)
    a = tt.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = tt.tensor(rng.standard_normal((4,)), requires_grad=True)

    def f(a, b):
        h = (a * b + 1).tanh() @ b.reshape(4, 1)
        return (h.exp() / (1 + h * h)).log_softmax(0) + a.mean(dim=1, keepdim=True) * b.var()

    assert gradcheck(f, [a, b])
