"""Shape, index and product ops beyond the catalogue's float cases: integer inputs keep their
dtype, non-differentiable results (indices, nonzero, unique, searchsorted), stable sorting with
ties, einsum's refusals, and the torch.* spellings, against PyTorch."""

import numpy as np
import pytest

import tinytorch as tt

torch = pytest.importorskip("torch")

INT = np.array([[3, 1, 3, 0], [2, 2, 1, 2], [0, 5, 5, 1]])
TIES = np.array([[1.0, 3.0, 1.0, 2.0, 3.0], [0.0, 0.0, 0.0, -1.0, 0.0]], dtype=np.float32)
IDX = np.array([[0, 2], [1, 0], [3, 3]])


def _same(ours, ref, what):
    if isinstance(ref, (tuple, list)):
        assert len(ours) == len(ref), what
        for i, (o, r) in enumerate(zip(ours, ref)):
            _same(o, r, f"{what}[{i}]")
        return
    r = ref.numpy()
    o = ours.numpy()
    assert o.shape == r.shape and o.dtype == r.dtype, f"{what}: {o.shape} {o.dtype} vs torch {r.shape} {r.dtype}"
    np.testing.assert_array_equal(o, r, err_msg=what)


CALLS = {
    "repeat": lambda m, x: x.repeat(2, 1), "tile": lambda m, x: m.tile(x, (1, 2)),
    "repeat_interleave": lambda m, x: x.repeat_interleave(2, dim=1),
    "repeat_interleave_counts": lambda m, x: m.repeat_interleave(m.tensor([1, 0, 2])),
    "flip": lambda m, x: x.flip(1), "roll": lambda m, x: x.roll(2), "tril": lambda m, x: x.tril(1),
    "triu": lambda m, x: m.triu(x, -1), "diagonal": lambda m, x: x.diagonal(1), "diag": lambda m, x: m.diag(x),
    "diag_embed": lambda m, x: m.diag_embed(x), "movedim": lambda m, x: x.movedim(1, 0),
    "unflatten": lambda m, x: x.unflatten(1, (2, 2)), "t": lambda m, x: x.t(),
    "gather": lambda m, x: x.gather(1, m.tensor(IDX)), "scatter": lambda m, x: x.scatter(1, m.tensor(IDX[:, :1]), 9),
    "scatter_add": lambda m, x: x.scatter_add(0, m.tensor(IDX[:, :1]), x[:, :1]),
    "index_select": lambda m, x: x.index_select(1, m.tensor([3, 3, 0])),
    "masked_fill": lambda m, x: x.masked_fill(x > 1, 7), "masked_select": lambda m, x: x.masked_select(x > 1),
    "nonzero": lambda m, x: x.nonzero(), "nonzero_tuple": lambda m, x: m.nonzero(x, as_tuple=True),
    "argwhere": lambda m, x: m.argwhere(x), "where_one_arg": lambda m, x: m.where(x > 2),
    "take_along_dim": lambda m, x: m.take_along_dim(x, m.tensor(IDX), 1),
    "sort": lambda m, x: x.sort(dim=1, stable=True), "sort_desc": lambda m, x: x.sort(dim=1, descending=True, stable=True),
    "sort_dim0_desc": lambda m, x: m.sort(x, dim=0, descending=True, stable=True),
    "argsort": lambda m, x: x.argsort(dim=1, stable=True),
    "argsort_desc": lambda m, x: m.argsort(x, dim=1, descending=True, stable=True),
    "topk_values": lambda m, x: x.topk(2, 1).values, "kthvalue_values": lambda m, x: x.kthvalue(2, 1).values,
    "unique": lambda m, x: m.unique(x), "unique_all": lambda m, x: m.unique(x, return_inverse=True, return_counts=True),
    "unique_dim": lambda m, x: m.unique(x, dim=1),
    "unique_consecutive": lambda m, x: m.unique_consecutive(x, return_inverse=True, return_counts=True),
    "searchsorted": lambda m, x: m.searchsorted(m.tensor([0, 1, 1, 3, 5]), x),
    "searchsorted_right": lambda m, x: m.searchsorted(m.tensor([0, 1, 1, 3, 5]), x, right=True),
    "searchsorted_batched": lambda m, x: m.searchsorted(x.sort(1).values, m.tensor([[1, 2], [0, 3], [5, 6]])),
    "bucketize": lambda m, x: m.bucketize(x, m.tensor([1, 3])),
    "einsum": lambda m, x: m.einsum("ij,kj->ik", x, x), "mm": lambda m, x: m.mm(x, x.t()),
    "outer": lambda m, x: m.outer(x[0], x[1]), "dot": lambda m, x: m.dot(x[0], x[1]),
    "one_hot": lambda m, x: m.nn.functional.one_hot(x), "one_hot_classes": lambda m, x: m.nn.functional.one_hot(x[0], 6),
    "count_nonzero": lambda m, x: m.count_nonzero(x, dim=1), "meshgrid": lambda m, x: m.meshgrid(x[0], x[1], indexing="xy"),
    "hstack": lambda m, x: m.hstack([x, x]), "vstack": lambda m, x: m.vstack([x[0], x[1]]),
    "tensor_split": lambda m, x: m.tensor_split(x, (1, 3), dim=1), "split_list": lambda m, x: m.split(x, [1, 3], 1),
    "unbind": lambda m, x: x.unbind(1), "chunk": lambda m, x: m.chunk(x, 3, 1),
    "floor_divide": lambda m, x: x // 2, "remainder": lambda m, x: x % -2, "diff": lambda m, x: m.diff(x, dim=0),
    "logical_xor": lambda m, x: m.logical_xor(x, x > 2), "logical_not": lambda m, x: m.logical_not(x),
    "add_alpha_int": lambda m, x: m.add(x, x, alpha=3), "rsub": lambda m, x: m.rsub(x, 10),
    "cummax": lambda m, x: m.cummax(x, 1), "cummin": lambda m, x: x.cummin(0),
    "bincount": lambda m, x: m.bincount(x[0]), "bincount_weights": lambda m, x: x[1].bincount(x[0].float(), 7),
    "histc": lambda m, x: m.histc(x, bins=3), "histc_range": lambda m, x: x.histc(4, min=0, max=2),
    "heaviside": lambda m, x: m.heaviside(x, x[0, :1]), "block_diag": lambda m, x: m.block_diag(x, x[0]),
    "cartesian_prod": lambda m, x: m.cartesian_prod(x[0], x[1]), "deg2rad": lambda m, x: m.deg2rad(x),
    "float_power": lambda m, x: x.float_power(2), "cross": lambda m, x: m.cross(x[:, :3], x[:, 1:], dim=1),
}


@pytest.mark.parametrize("data", ["INT", "TIES"])
@pytest.mark.parametrize("call", sorted(CALLS))
def test_ops_match_torch_on_ints_and_ties(call, data):
    x = INT if data == "INT" else TIES
    try:
        ref = CALLS[call](torch, torch.tensor(x))
    except (RuntimeError, TypeError, IndexError) as e:
        with pytest.raises((RuntimeError, TypeError, ValueError, IndexError)):
            CALLS[call](tt, tt.tensor(x))
        return
    _same(CALLS[call](tt, tt.tensor(x)), ref, f"{call}({data})")


def test_einsum_refuses_clearly():
    a = tt.ones(2, 3)
    with pytest.raises(ValueError, match="2 operand"):
        tt.einsum("ij,jk->ik", a)
    with pytest.raises(ValueError, match="shape \\(2, 3\\)"):
        tt.einsum("ijk->i", a)
    with pytest.raises(ValueError, match="size 3 in one operand and 4"):
        tt.einsum("ij,jk->ik", a, tt.ones(4, 2))
    with pytest.raises(ValueError, match="does not appear"):
        tt.einsum("ij->iz", a)
    with pytest.raises(TypeError, match="one dtype"):
        tt.einsum("ij,ij->", a, tt.ones(2, 3, dtype=tt.float64))


def test_shape_errors_name_shapes_and_dims():
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        tt.ones(2, 3).repeat(2)
    with pytest.raises(ValueError, match="at least 2 dims"):
        tt.ones(3).tril()
    with pytest.raises(ValueError, match=r"index shape \(3, 2\) exceeds .* \(2, 2\)"):
        tt.ones(2, 2).gather(1, tt.tensor(IDX))
    with pytest.raises(IndexError, match="out of range for dim 1 of size 2"):
        tt.ones(3, 2).gather(1, tt.tensor(IDX))
    with pytest.raises(ValueError, match=r"\(4,\) .* \(2, 3\)"):
        tt.ones(2, 3).masked_fill(tt.tensor([True] * 4), 0.0)
    with pytest.raises(ValueError, match="do not multiply"):
        tt.ones(2, 6).unflatten(1, (4, -1))
    with pytest.raises(ValueError, match="mm: mat2 must be 2-D"):
        tt.mm(tt.ones(2, 3), tt.ones(3))


def test_torch_spellings_refuse_out_and_new_tensors_follow_their_source():
    a = tt.ones(2, dtype=tt.float64)
    with pytest.raises(TypeError, match="out= is not supported"):
        tt.add(a, a, out=a)
    assert a.nelement() == 2 and tt.numel(a) == 2
    for t in (a.new_zeros(3), a.new_ones((2, 2)), a.new_empty(1), a.new_full((2,), 4.0), a.new_tensor([1, 2])):
        assert t.dtype == tt.float64 and not t.requires_grad
    assert a.new_tensor([1, 2], dtype=tt.int64).dtype == tt.int64
    assert a.new_zeros(2, requires_grad=True).requires_grad
    x = tt.tensor([1.0, -2.0], requires_grad=True)
    assert x.where(x > 0, tt.zeros(2)).tolist() == [1.0, 0.0]
    assert tt.ones(2).type_as(a).dtype == tt.float64


def test_sort_is_stable_in_both_directions():
    x = tt.tensor([2, 1, 2, 1, 2])
    assert x.sort().indices.tolist() == [1, 3, 0, 2, 4]
    assert x.sort(descending=True).indices.tolist() == [0, 2, 4, 1, 3]
    y = tt.tensor([1.0, float("nan"), 0.0])
    assert y.sort(descending=True).indices.tolist() == torch.tensor([1.0, float("nan"), 0.0]).sort(descending=True).indices.tolist()


def test_inplace_scatter_matches_torch_and_follows_inplace_rules():
    idx = np.array([[0, 1], [2, 0]])
    for name, args in [("scatter_", (1, idx, 5.0)), ("scatter_add_", (0, idx, np.ones((2, 2), np.float32)))]:
        ours, ref = tt.zeros(3, 3), torch.zeros(3, 3)
        dim, i, src = args
        getattr(ours, name)(dim, tt.tensor(i), tt.tensor(src) if isinstance(src, np.ndarray) else src)
        getattr(ref, name)(dim, torch.tensor(i), torch.tensor(src) if isinstance(src, np.ndarray) else src)
        np.testing.assert_array_equal(ours.numpy(), ref.numpy(), err_msg=name)
        assert ours._version == 1
    w = tt.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="scatter_: a leaf tensor that requires grad"):
        w.scatter_(0, tt.tensor([0]), 2.0)
    h = w * 2  # a non-leaf: recorded, gradient flows around the overwritten place
    h.scatter_(0, tt.tensor([1]), 0.0)
    h.sum().backward()
    assert w.grad.tolist() == [2.0, 0.0, 2.0]


@pytest.mark.parametrize("eq, shapes", [
    ("bhqd,bhkd->bhqk", [(2, 3, 40, 16), (2, 3, 30, 16)]),   # big enough for NumPy's planner
    ("ij,jk,kl->il", [(30, 40), (40, 50), (50, 20)]),
    ("bii->bi", [(4, 60, 60)]),
])
def test_einsum_large_operands_take_the_planned_path_and_match_torch(eq, shapes):
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    ours = [tt.tensor(x, requires_grad=True) for x in xs]
    ref = [torch.tensor(x, requires_grad=True) for x in xs]
    y, r = tt.einsum(eq, *ours), torch.einsum(eq, *ref)
    w = rng.standard_normal(r.shape).astype(np.float32)
    y.backward(tt.tensor(w))
    r.backward(torch.tensor(w))
    np.testing.assert_allclose(y.numpy(), r.detach().numpy(), rtol=1e-4, atol=1e-4)
    for o, t in zip(ours, ref):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-4)
