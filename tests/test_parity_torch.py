"""Every op of the catalogue against PyTorch: forward values and gradients of every input.

Both frameworks get the same float32 inputs and the same upstream gradient (random, so no
error can hide behind a sum); values must agree to rtol 1e-4, gradients to rtol 1e-3.
"""

import numpy as np
import pytest

import tinytorch as tt
from op_cases import CASE_IDS, CASES

torch = pytest.importorskip("torch")


def _run_tt(case, xs, w_seed=1):
    ts = [tt.tensor(x, requires_grad=i in case.grad_indices()) for i, x in enumerate(xs)]
    out = case.tt(*ts)
    w = np.random.default_rng(w_seed).standard_normal(out.shape).astype(np.float32)
    out.backward(tt.tensor(w))
    return out.numpy(), [t.grad.numpy() if t.grad is not None else None for t in ts], w


def _run_torch(case, xs, w):
    ts = [torch.tensor(x, requires_grad=i in case.grad_indices()) for i, x in enumerate(xs)]
    out = case.torch(*ts)
    out.backward(torch.tensor(w))
    return out.detach().numpy(), [t.grad.numpy() if t.grad is not None else None for t in ts]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_forward_and_backward_match_torch(case):
    xs = case.inputs()
    out, grads, w = _run_tt(case, xs)
    ref_out, ref_grads = _run_torch(case, xs, w)
    assert out.shape == ref_out.shape, f"{case}: shape {out.shape} vs torch {ref_out.shape}"
    assert out.dtype == ref_out.dtype, f"{case}: dtype {out.dtype} vs torch {ref_out.dtype}"
    np.testing.assert_allclose(out, ref_out, rtol=1e-4, atol=1e-5, err_msg=f"{case}: forward")
    for i in case.grad_indices():
        assert grads[i] is not None, f"{case}: input {i} got no gradient"
        assert grads[i].shape == xs[i].shape
        np.testing.assert_allclose(grads[i], ref_grads[i], rtol=1e-3, atol=1e-5,
                                   err_msg=f"{case}: gradient of input {i}")


def test_extreme_logits_stay_finite_like_torch():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], dtype=np.float32)
    t = np.array([1, 0])
    for name, f_tt, f_torch in [
        ("softmax", lambda a: a.softmax(-1), lambda a: a.softmax(-1)),
        ("log_softmax", lambda a: a.log_softmax(-1), lambda a: a.log_softmax(-1)),
        ("sigmoid", lambda a: a.sigmoid(), lambda a: a.sigmoid()),
        ("cross_entropy", lambda a: tt.nn.functional.cross_entropy(a, t),
         lambda a: torch.nn.functional.cross_entropy(a, torch.tensor(t))),
    ]:
        a = tt.tensor(x, requires_grad=True)
        with np.errstate(over="raise", invalid="raise", divide="raise"):  # no warnings either
            y = f_tt(a)
            y.sum().backward()
        b = torch.tensor(x, requires_grad=True)
        yr = f_torch(b)
        yr.sum().backward()
        assert np.all(np.isfinite(y.numpy())) and np.all(np.isfinite(a.grad.numpy())), name
        np.testing.assert_allclose(y.numpy(), yr.detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-3, atol=1e-5, err_msg=name)


def test_dtype_rules_match_torch():
    cases = [
        (lambda m: m.tensor([1.0, 2.0]), "float literal"),
        (lambda m: m.tensor([1, 2]), "int literal"),
        (lambda m: m.tensor([True, False]), "bool literal"),
        (lambda m: m.tensor(np.zeros(2)), "float64 array"),
        (lambda m: m.tensor([1, 2]) / 2, "int / int"),
        (lambda m: m.tensor([1, 2]) * 2.5, "int * float"),
        (lambda m: m.tensor([1, 2]) * 2, "int * int"),
        (lambda m: m.tensor([1.0, 2.0]) * 2, "float32 * int"),
        (lambda m: m.arange(5), "arange int"),
        (lambda m: m.arange(0.0, 1.0, 0.25), "arange float"),
        (lambda m: m.tensor([1.0], dtype=m.float64) + m.tensor([1.0]), "float64 + float32"),
    ]
    for make, what in cases:
        ours = make(tt).dtype
        theirs = str(make(torch).dtype).replace("torch.", "")
        assert str(ours) == theirs, f"{what}: tinytorch {ours} vs torch {theirs}"


def test_int_tensors_stay_int_through_indexing_and_shape_ops():
    ids = tt.tensor([[3, 1, 4], [1, 5, 9]])
    assert ids.dtype == tt.int64
    for t in (ids[0], ids.reshape(-1), ids.T, tt.cat([ids, ids]), ids.max(dim=1).values):
        assert t.dtype == tt.int64


def test_fully_masked_attention_rows_match_torch():
    rng = np.random.default_rng(5)
    q = rng.standard_normal((3, 4)).astype(np.float32)
    mask = np.zeros((3, 3), dtype=bool)
    mask[1] = True
    ours = tt.nn.functional.scaled_dot_product_attention(
        tt.tensor(q), tt.tensor(q), tt.tensor(q), attn_mask=tt.tensor(mask))
    theirs = torch.nn.functional.scaled_dot_product_attention(
        torch.tensor(q), torch.tensor(q), torch.tensor(q), attn_mask=torch.tensor(mask))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
