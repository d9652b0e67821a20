"""F.linear beside PyTorch on the shapes around the one-op path (LinearFn): zero-size batch
or feature dims, 1-D inputs, and a 1-D weight (which keeps the composition)."""

import numpy as np
import pytest

import tinytorch as tt

torch = pytest.importorskip("torch")

CASES = [((3, 4), (0, 4), (0,)), ((4,), (0, 4), None), ((2, 3, 4), (0, 4), (0,)),
         ((2, 0), (3, 0), (3,)), ((0,), (3, 0), None), ((0, 4), (3, 4), (3,)),
         ((3, 4), (4,), None), ((4,), (4,), None), ((2, 3, 4), (4,), None),
         ((2, 3, 4), (5, 4), (5,)), ((4,), (5, 4), (5,))]


@pytest.mark.parametrize("x_shape, w_shape, b_shape", CASES)
def test_linear_matches_torch_on_edge_shapes(x_shape, w_shape, b_shape):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) if s is not None else None
              for s in (x_shape, w_shape, b_shape)]
    ours = [tt.tensor(a, requires_grad=True) if a is not None else None for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) if a is not None else None for a in arrays]
    y, yt = tt.nn.functional.linear(*ours), torch.nn.functional.linear(*theirs)
    assert tuple(y.shape) == tuple(yt.shape)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(tuple(yt.shape))
    y.backward(tt.tensor(g))
    yt.backward(torch.tensor(g))
    for a, b in zip(ours, theirs):
        if a is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-12)
