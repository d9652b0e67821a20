"""The torch-level names everyday PyTorch programs use, checked against PyTorch itself:
tt.Size / x.size(), inference_mode, the legacy typed constructors and x.type(),
set_printoptions / set_num_threads / use_deterministic_algorithms, and the
torch.utils.data pieces (worker options accepted, IterableDataset, ConcatDataset,
WeightedRandomSampler)."""

import pickle

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.utils import data as tdata


def test_size_is_a_tuple_with_numel():
    x = tt.zeros(3, 4)
    s = x.size()
    assert isinstance(s, tt.Size) and isinstance(s, tuple)
    assert s == (3, 4) == x.shape and s == tt.Size([3, 4])
    assert s.numel() == 12 and tt.Size([]).numel() == 1
    assert isinstance(s[1:], tt.Size) and s[1:] == (4,) and isinstance(s[0], int)
    assert x.size(-1) == 4 and (s + (1,)) == (3, 4, 1)
    assert pickle.loads(pickle.dumps(s)) == s
    assert tt.zeros(s).shape == (3, 4)
    with pytest.raises(TypeError, match="int"):
        tt.Size([2.5])


def test_inference_mode_is_no_grad_and_a_decorator():
    w = tt.ones(2, requires_grad=True)
    with tt.inference_mode():
        assert not (w * 2).requires_grad and tt.is_inference_mode_enabled()
    assert (w * 2).requires_grad

    @tt.inference_mode()
    def f(a):
        return (a * 2).requires_grad

    assert f(w) is False and (w * 2).requires_grad
    with tt.inference_mode(False):
        assert (w * 2).requires_grad
    with tt.no_grad(), tt.inference_mode(False):
        assert (w * 2).requires_grad  # PyTorch's guard sets grad mode to `not mode`

    @tt.inference_mode(False)
    def g(a):
        return (a * 2).requires_grad

    with tt.no_grad():
        assert g(w) is True


def test_legacy_typed_constructors_and_type_names():
    assert tt.LongTensor([1, 2]).dtype == np.int64
    assert tt.FloatTensor([1, 2]).dtype == np.float32
    assert tt.FloatTensor(2, 3).shape == (2, 3) and tt.FloatTensor(2, 3).sum().item() == 0
    assert tt.LongTensor(5).zero_().view(-1, 1).shape == (5, 1)
    assert isinstance(tt.ones(2), tt.FloatTensor) and not isinstance(tt.ones(2), tt.LongTensor)
    x = tt.ones(2)
    assert x.type() == "torch.FloatTensor" and x.long().type() == "torch.LongTensor"
    assert x.type(tt.float64).dtype == np.float64
    assert x.type("torch.LongTensor").dtype == np.int64
    assert x.type(tt.IntTensor).dtype == np.int32
    assert tt.typename(x) == "torch.FloatTensor"
    with pytest.raises(ValueError, match="invalid type"):
        x.type("torch.NoSuchTensor")
    with pytest.raises(Exception, match="(?i)cpu"):
        tt.FloatTensor([1.0], device="cuda")


def test_process_switches():
    tt.set_printoptions(precision=2)
    try:
        assert repr(tt.tensor([1.23456])) == "tensor([1.23])"
    finally:
        tt.set_printoptions(profile="default")
    assert repr(tt.tensor([1.23456])) == "tensor([1.2346])"
    n = tt.get_num_threads()
    tt.set_num_threads(1)
    assert tt.get_num_threads() == 1
    tt.set_num_threads(max(n, 1))
    with pytest.raises(ValueError):
        tt.set_num_threads(0)
    tt.use_deterministic_algorithms(True)
    assert tt.are_deterministic_algorithms_enabled()
    tt.use_deterministic_algorithms(False)


def test_dataloader_accepts_worker_options_with_identical_batches():
    ds = tdata.TensorDataset(tt.arange(10.0), tt.arange(10))
    plain = [b[1].tolist() for b in tdata.DataLoader(ds, batch_size=4)]
    many = [b[1].tolist() for b in tdata.DataLoader(ds, batch_size=4, num_workers=4,
                                                     pin_memory=True, persistent_workers=True,
                                                     prefetch_factor=2, timeout=5,
                                                     worker_init_fn=lambda i: None)]
    assert plain == many == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert tdata.get_worker_info() is None
    with pytest.raises(ValueError, match="num_workers"):
        tdata.DataLoader(ds, num_workers=-1)


class _Count(tdata.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


def test_iterable_dataset_batches_in_stream_order():
    assert [b.tolist() for b in tdata.DataLoader(_Count(7), batch_size=3)] == \
        [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in tdata.DataLoader(_Count(7), batch_size=3, drop_last=True)] == \
        [[0, 1, 2], [3, 4, 5]]
    assert list(tdata.DataLoader(_Count(3), batch_size=None)) == [0, 1, 2]
    with pytest.raises(ValueError, match="shuffle"):
        tdata.DataLoader(_Count(3), shuffle=True)


def test_concat_dataset_and_plus():
    a = tdata.TensorDataset(tt.arange(3))
    b = tdata.TensorDataset(tt.arange(10, 12))
    c = a + b
    assert isinstance(c, tdata.ConcatDataset) and len(c) == 5
    assert [c[i][0].item() for i in range(5)] == [0, 1, 2, 10, 11]
    assert c[-1][0].item() == 11 and c.cumulative_sizes == [3, 5]
    with pytest.raises(IndexError):
        c[5]
    assert [b[0].tolist() for b in tdata.DataLoader(c, batch_size=2)] == [[0, 1], [2, 10], [11]]


def test_weighted_random_sampler_follows_weights():
    s = tdata.WeightedRandomSampler([0.0, 1.0, 3.0], num_samples=4000,
                                    generator=tt.Generator().manual_seed(0))
    idx = np.array(list(s))
    assert len(s) == 4000 and set(idx.tolist()) <= {1, 2}
    assert abs((idx == 2).mean() - 0.75) < 0.03
    u = tdata.WeightedRandomSampler(tt.tensor([1.0, 1.0, 1.0]), 3, replacement=False)
    assert sorted(u) == [0, 1, 2]
    with pytest.raises(ValueError):
        tdata.WeightedRandomSampler([1.0, -1.0], 2)
    with pytest.raises(ValueError, match="distinct"):
        tdata.WeightedRandomSampler([1.0, 0.0], 2, replacement=False)


def test_same_behaviour_as_torch():
    torch = pytest.importorskip("torch")
    assert tuple(torch.zeros(3, 4).size()) == tt.zeros(3, 4).size()
    assert torch.Size([3, 4]).numel() == tt.Size([3, 4]).numel()
    for t_name in ("FloatTensor", "LongTensor", "IntTensor", "DoubleTensor", "BoolTensor"):
        assert getattr(torch, t_name)([1, 0]).numpy().dtype == getattr(tt, t_name)([1, 0]).dtype
        assert getattr(torch, t_name)([1, 0]).type() == getattr(tt, t_name)([1, 0]).type()
    ta, tb = torch.utils.data.TensorDataset(torch.arange(3)), torch.utils.data.TensorDataset(
        torch.arange(10, 12))
    assert [x[0].item() for x in ta + tb] == [x[0].item() for x in
                                              tdata.TensorDataset(tt.arange(3)) +
                                              tdata.TensorDataset(tt.arange(10, 12))]


def test_forward_hooks_read_and_replace_activations():
    import tinytorch.nn as nn

    m = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    seen = {}
    h1 = m[0].register_forward_hook(lambda mod, args, out: seen.update(fc1=out.shape))
    h2 = m[2].register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    x = tt.randn(5, 4)
    y = m(x)
    assert seen == {"fc1": (5, 3)}
    np.testing.assert_allclose(y.numpy(), np.broadcast_to(m[2].bias.numpy(), (5, 2)), rtol=1e-6)
    h1.remove()
    h2.remove()
    assert not np.allclose(m(x).numpy(), y.numpy())
    with m.register_forward_hook(lambda mod, args, out: out * 0):
        assert m(x).abs().sum().item() == 0
    assert m(x).abs().sum().item() > 0
    kw = m[0].register_forward_hook(lambda mod, a, k, out: out + 1, with_kwargs=True)
    np.testing.assert_allclose(m[0](x).numpy(), (x @ m[0].weight.T + m[0].bias + 1).numpy(),
                               rtol=1e-5)
    kw.remove()


def test_lookups_by_dotted_name_and_half():
    import tinytorch.nn as nn

    m = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    assert m.get_submodule("1") is m[1] and m.get_submodule("") is m
    assert m.get_parameter("0.weight") is m[0].weight
    assert m.get_buffer("1.running_mean") is m[1].running_mean
    with pytest.raises(AttributeError, match="no submodule"):
        m.get_submodule("7")
    assert nn.Linear(2, 2).half().weight.dtype == np.float16
    with pytest.raises(TypeError, match="bfloat16"):
        nn.Linear(2, 2).bfloat16()


def test_autograd_grad_returns_without_touching_dot_grad():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    xs, ws = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    res = []
    for lib in (tt, torch):
        x, w = lib.tensor(xs, requires_grad=True), lib.tensor(ws, requires_grad=True)
        h = x * w
        y = (h ** 2).sum()
        gx, gh = lib.autograd.grad(y, [x, h], retain_graph=True)
        assert x.grad is None and w.grad is None
        z = (x * 2).sum()
        (gz,) = lib.autograd.grad([z], [x], grad_outputs=[lib.tensor(3.0)])
        res.append([gx.detach().numpy(), gh.detach().numpy(), gz.detach().numpy()])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-5)
    x = tt.ones(2, requires_grad=True)
    x.grad = tt.full((2,), 7.0)
    unused = tt.ones(2, requires_grad=True)
    assert tt.autograd.grad((x * 2).sum(), x)[0].tolist() == [2.0, 2.0]
    assert x.grad.tolist() == [7.0, 7.0]  # untouched
    with pytest.raises(RuntimeError, match="allow_unused"):
        tt.autograd.grad((x * 2).sum(), [x, unused])
    assert tt.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)[1] is None
    with pytest.raises(NotImplementedError, match="double backward"):
        tt.autograd.grad((x * 2).sum(), x, create_graph=True)


def test_parameter_list_and_dict_register_like_torch():
    import tinytorch.nn as nn

    torch = pytest.importorskip("torch")

    def build(lib):
        m = lib.nn.Module()
        m.scales = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(
            lib.zeros(3))])
        m.gains = lib.nn.ParameterDict({"enc": lib.nn.Parameter(lib.ones(1))})
        m.scales.append(lib.nn.Parameter(lib.ones(4)))
        m.gains["dec"] = lib.nn.Parameter(lib.ones(5))
        return m

    ours, ref = build(tt), build(torch)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert [tuple(p.shape) for p in ours.parameters()] == \
        [tuple(p.shape) for p in ref.parameters()]
    assert len(ours.scales) == 3 and "enc" in ours.gains and list(ours.gains) == ["enc", "dec"]
    assert isinstance(nn.ParameterList([tt.ones(2)])[0], nn.Parameter)
    assert isinstance(ours.scales[1:], nn.ParameterList)


def test_method_forms_of_comparisons_casts_and_shape_questions_match_torch():
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, 2.0], [3.0, 2.0]], np.float32)
    b = np.array([[2.0, 2.0], [1.0, 5.0]], np.float32)
    ta, tb, oa, ob = torch.tensor(a), torch.tensor(b), tt.tensor(a), tt.tensor(b)
    for name in ("ne", "lt", "le", "gt", "ge", "greater", "less_equal", "logical_and",
                 "logical_or", "logical_xor"):
        np.testing.assert_array_equal(getattr(oa, name)(ob).numpy(),
                                      getattr(ta, name)(tb).numpy())
    assert oa.gt(2).tolist() == ta.gt(2).tolist()
    np.testing.assert_array_equal(oa.logical_not().numpy(), ta.logical_not().numpy())
    assert oa.equal(oa.clone()) and not oa.equal(ob) and not oa.equal(oa[0])
    assert tt.equal(oa, oa) == torch.equal(ta, ta)
    assert oa.reshape_as(tt.zeros(4)).shape == (4,) and oa.ndimension() == 2
    assert oa.is_contiguous() and not oa.T.is_contiguous()
    for name in ("half", "byte", "char", "short"):
        assert getattr(oa, name)().dtype == getattr(ta, name)().numpy().dtype
    assert (3.0 in oa) == (3.0 in ta) and (7.0 in oa) == (7.0 in ta)
