"""Every loss against PyTorch, with every option: values, input gradients, target gradients.

Both frameworks get the same float32 inputs and the same random upstream gradient (so no error
can hide behind a sum); values must agree to rtol 1e-4, gradients to rtol 1e-3. Then
finite-difference gradient checks in float64, stability on logits of +-1e4, the nn loss
modules (signatures, buffers, repr) and the errors.
"""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.autograd import gradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _compare(tt_fn, torch_fn, arrays, grad_idx=(0,), seed=0, what="loss"):
    """Run ``tt_fn`` and ``torch_fn`` on the same arrays; compare outputs and gradients."""
    ts = [tt.tensor(a, requires_grad=i in grad_idx) for i, a in enumerate(arrays)]
    rs = [torch.tensor(a, requires_grad=i in grad_idx) for i, a in enumerate(arrays)]
    out, ref = tt_fn(*ts), torch_fn(*rs)
    assert out.shape == tuple(ref.shape), f"{what}: shape {out.shape} vs torch {tuple(ref.shape)}"
    assert out.dtype == ref.detach().numpy().dtype, f"{what}: dtype {out.dtype} vs {ref.dtype}"
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-4, atol=1e-6,
                               err_msg=f"{what}: value")
    g = np.random.default_rng(seed + 1000).standard_normal(out.shape).astype(out.dtype)
    out.backward(tt.tensor(g))
    ref.backward(torch.tensor(g))
    for i in grad_idx:
        assert ts[i].grad is not None, f"{what}: input {i} got no gradient"
        np.testing.assert_allclose(ts[i].grad.numpy(), rs[i].grad.numpy(), rtol=1e-3, atol=1e-6,
                                   err_msg=f"{what}: gradient of input {i}")


def _logits(shape, seed, scale=2.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def _class_ids(shape, c, seed, ignore=None, every=3):
    """Class ids in [0, c); every ``every``-th one replaced by ``ignore`` when given."""
    t = np.random.default_rng(seed).integers(0, c, size=shape).astype(np.int64)
    if ignore is not None and t.size > 1:
        flat = t.reshape(-1)
        flat[::every] = ignore
    return t


def _probs(shape, class_dim, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    e = np.exp(x - x.max(axis=class_dim, keepdims=True))
    return (e / e.sum(axis=class_dim, keepdims=True)).astype(np.float32)


# (input shape, target shape): one sample (C,), a batch (N, C), and per-position classes
SHAPES = [((5,), ()), ((7, 5), (7,)), ((3, 5, 4), (3, 4)), ((2, 5, 3, 2), (2, 3, 2))]
REDUCTIONS = ["mean", "sum", "none"]
# (shapes, ignore_index): no ignore_index, the default -100, and a class id used as one; a
# single sample that is ignored is the all-ignored case, tested on its own
SHAPES_IGNORE = [(s, ig) for s in SHAPES for ig in (None, -100, 2) if ig is None or s[1] != ()]
_SI_IDS = [f"in{s[0]}-ignore{ig}" for s, ig in SHAPES_IGNORE]
WEIGHT = np.array([0.5, 2.0, 1.0, 0.25, 1.5], dtype=np.float32)


# --------------------------------------------------------------------------- cross-entropy


@pytest.mark.parametrize("shapes,ignore_index", SHAPES_IGNORE, ids=_SI_IDS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["noweight", "weight"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.15])
def test_cross_entropy_class_ids(shapes, ignore_index, reduction, weighted, label_smoothing):
    in_shape, t_shape = shapes
    x = _logits(in_shape, 1)
    t = _class_ids(t_shape, 5, 2, ignore=ignore_index)
    kw = dict(reduction=reduction, label_smoothing=label_smoothing)
    if ignore_index is not None:
        kw["ignore_index"] = ignore_index
    w_tt = tt.tensor(WEIGHT) if weighted else None
    w_th = torch.tensor(WEIGHT) if weighted else None
    _compare(lambda a: F.cross_entropy(a, tt.tensor(t), weight=w_tt, **kw),
             lambda a: TF.cross_entropy(a, torch.tensor(t), weight=w_th, **kw), [x],
             what=f"cross_entropy {in_shape} {kw} weighted={weighted}")


@pytest.mark.parametrize("in_shape", [(5,), (6, 5), (3, 5, 4), (2, 5, 2, 3)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["noweight", "weight"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_cross_entropy_probability_targets(in_shape, reduction, weighted, label_smoothing):
    x = _logits(in_shape, 3)
    p = _probs(in_shape, 0 if len(in_shape) == 1 else 1, 4)
    kw = dict(reduction=reduction, label_smoothing=label_smoothing)
    w_tt = tt.tensor(WEIGHT) if weighted else None
    w_th = torch.tensor(WEIGHT) if weighted else None
    # gradients of the logits and of the soft labels (distillation trains through them)
    _compare(lambda a, q: F.cross_entropy(a, q, weight=w_tt, **kw),
             lambda a, q: TF.cross_entropy(a, q, weight=w_th, **kw), [x, p], grad_idx=(0, 1),
             what=f"cross_entropy probs {in_shape} {kw} weighted={weighted}")


def test_cross_entropy_with_every_target_ignored_is_nan_with_zero_gradient_like_torch():
    x = _logits((3, 4), 5)
    t = np.full(3, -100)
    a = tt.tensor(x, requires_grad=True)
    loss = F.cross_entropy(a, tt.tensor(t))
    loss.backward()
    b = torch.tensor(x, requires_grad=True)
    ref = TF.cross_entropy(b, torch.tensor(t))
    ref.backward()
    assert np.isnan(loss.item()) and np.isnan(ref.item())
    np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    for fn in (lambda u: F.nll_loss(u, tt.tensor(t)), lambda u: F.cross_entropy(u, tt.tensor(t),
                                                                              label_smoothing=0.1)):
        a.grad = None
        loss = fn(a)
        loss.backward()
        assert np.isnan(loss.item())
        np.testing.assert_array_equal(a.grad.numpy(), np.zeros_like(x))


@settings(max_examples=12, deadline=None)
@given(n=st.integers(1, 4), c=st.integers(2, 6),
       spatial=st.lists(st.integers(1, 3), min_size=0, max_size=2), seed=st.integers(0, 2**16),
       smoothing=st.sampled_from([0.0, 0.1]))
def test_cross_entropy_any_shape_matches_torch(n, c, spatial, seed, smoothing):
    x = _logits((n, c, *spatial), seed)
    t = _class_ids((n, *spatial), c, seed + 1)
    _compare(lambda a: F.cross_entropy(a, tt.tensor(t), label_smoothing=smoothing),
             lambda a: TF.cross_entropy(a, torch.tensor(t), label_smoothing=smoothing), [x],
             what=f"cross_entropy {x.shape}")


# --------------------------------------------------------------------------- nll


@pytest.mark.parametrize("shapes,ignore_index", SHAPES_IGNORE, ids=_SI_IDS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["noweight", "weight"])
def test_nll_loss(shapes, ignore_index, reduction, weighted):
    in_shape, t_shape = shapes
    class_dim = 0 if len(in_shape) == 1 else 1
    x = np.log(_probs(in_shape, class_dim, 6))
    t = _class_ids(t_shape, 5, 7, ignore=ignore_index)
    kw = dict(reduction=reduction)
    if ignore_index is not None:
        kw["ignore_index"] = ignore_index
    w_tt = tt.tensor(WEIGHT) if weighted else None
    w_th = torch.tensor(WEIGHT) if weighted else None
    _compare(lambda a: F.nll_loss(a, tt.tensor(t), weight=w_tt, **kw),
             lambda a: TF.nll_loss(a, torch.tensor(t), weight=w_th, **kw), [x],
             what=f"nll_loss {in_shape} {kw}")


def test_nll_of_log_softmax_is_cross_entropy():
    x = _logits((6, 4), 8)
    t = _class_ids((6,), 4, 9)
    a = tt.tensor(x)
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(a, dim=1), tt.tensor(t)).item(),
                               F.cross_entropy(a, tt.tensor(t)).item(), rtol=1e-6)


# --------------------------------------------------------------------------- regression


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["noweight", "weight"])
def test_regression_losses(name, reduction, weighted):
    x, y = _logits((4, 3), 10), _logits((4, 3), 11)
    y[0, 0] = x[0, 0]  # a zero error: L1's subgradient there is 0 in both
    w = np.abs(_logits((4, 3), 12)) + 0.1
    arrays = [x, y, w] if weighted else [x, y]
    grad_idx = (0, 1, 2) if weighted else (0, 1)

    def run(mod, fn):
        return lambda a, b, *ws: getattr(fn, name)(a, b, reduction=reduction,
                                                   weight=ws[0] if ws else None)

    _compare(run(tt, F), run(torch, TF), arrays, grad_idx=grad_idx,
             what=f"{name} {reduction} weighted={weighted}")


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_regression_losses_warn_on_broadcasting_like_torch(name):
    x, y = _logits((4, 1), 13), _logits((4,), 14)
    with pytest.warns(UserWarning, match=r"\(4, 1\).*\(4,\)"):
        out = getattr(F, name)(tt.tensor(x), tt.tensor(y))
    with pytest.warns(UserWarning):
        ref = getattr(TF, name)(torch.tensor(x), torch.tensor(y))
    np.testing.assert_allclose(out.item(), ref.item(), rtol=1e-5)


# --------------------------------------------------------------------------- binary cross-entropy


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", [None, (3,), (4, 3)], ids=str)
def test_binary_cross_entropy(reduction, weight_shape):
    rng = np.random.default_rng(15)
    p = rng.uniform(0.02, 0.98, size=(4, 3)).astype(np.float32)
    y = rng.uniform(0, 1, size=(4, 3)).astype(np.float32)
    y[0] = [0.0, 1.0, 0.0]  # hard labels too
    arrays, grad_idx = [p, y], (0, 1)
    if weight_shape:
        arrays.append(rng.uniform(0.5, 2, size=weight_shape).astype(np.float32))
        # (torch does not differentiate BCE with respect to weight; we would, by composition)
    _compare(lambda a, b, *w: F.binary_cross_entropy(a, b, weight=w[0] if w else None,
                                                     reduction=reduction),
             lambda a, b, *w: TF.binary_cross_entropy(a, b, weight=w[0] if w else None,
                                                      reduction=reduction),
             arrays, grad_idx=grad_idx, what=f"binary_cross_entropy {reduction} {weight_shape}")


def test_binary_cross_entropy_at_probabilities_0_and_1_is_finite_like_torch():
    """log(0) is clamped at -100 and the gradient's denominator at 1e-12, as in PyTorch."""
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5], dtype=np.float32)
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _compare(lambda a: F.binary_cross_entropy(a, tt.tensor(y), reduction="none"),
                 lambda a: TF.binary_cross_entropy(a, torch.tensor(y), reduction="none"), [p],
                 what="bce at 0 and 1")
    a = tt.tensor(p, requires_grad=True)
    loss = F.binary_cross_entropy(a, tt.tensor(y), reduction="sum")
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(a.grad.numpy()))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["noweight", "weight"])
@pytest.mark.parametrize("pos_weighted", [False, True], ids=["nopos", "pos_weight"])
def test_binary_cross_entropy_with_logits(reduction, weighted, pos_weighted):
    rng = np.random.default_rng(16)
    z = (rng.standard_normal((5, 3)) * 3).astype(np.float32)
    y = rng.uniform(0, 1, size=(5, 3)).astype(np.float32)
    y[1] = [1.0, 0.0, 1.0]
    w = rng.uniform(0.5, 2, size=(5, 3)).astype(np.float32)
    pw = np.array([3.0, 0.5, 1.0], dtype=np.float32)
    arrays, grad_idx = [z, y], (0, 1)
    if weighted:
        arrays.append(w)

    def run(fn, mk):
        return lambda a, b, *ws: fn(a, b, weight=ws[0] if ws else None, reduction=reduction,
                                    pos_weight=mk(pw) if pos_weighted else None)

    _compare(run(F.binary_cross_entropy_with_logits, tt.tensor),
             run(TF.binary_cross_entropy_with_logits, torch.tensor), arrays, grad_idx=grad_idx,
             what=f"bce_with_logits {reduction} weighted={weighted} pos_weight={pos_weighted}")


# --------------------------------------------------------------------------- gradcheck


def _f64(shape, seed, scale=1.0):
    return tt.tensor(np.random.default_rng(seed).standard_normal(shape) * scale,
                     dtype=tt.float64, requires_grad=True)


GRADCHECKS = {
    "cross_entropy": lambda: ([_f64((4, 3), 20)], lambda x: F.cross_entropy(x, tt.tensor([0, 2, 1, 2]))),
    "cross_entropy_all_options": lambda: (
        [_f64((3, 4, 2), 21)],
        lambda x: F.cross_entropy(x, tt.tensor([[0, 3], [-1, 2], [1, 1]]),
                                  weight=tt.tensor([1.0, 0.5, 2.0, 1.5], dtype=tt.float64),
                                  ignore_index=-1, label_smoothing=0.2, reduction="mean")),
    "cross_entropy_probs": lambda: (
        [_f64((3, 4), 22), tt.tensor(_probs((3, 4), 1, 23).astype(np.float64), requires_grad=True)],
        lambda x, p: F.cross_entropy(x, p, label_smoothing=0.1, reduction="sum")),
    "nll_loss": lambda: ([_f64((4, 3), 24)],
                         lambda x: F.nll_loss(x, tt.tensor([0, 2, -100, 2]),
                                              weight=tt.tensor([1.0, 2.0, 0.5], dtype=tt.float64))),
    "mse_loss": lambda: ([_f64((3, 2), 25), _f64((3, 2), 26)], lambda a, b: F.mse_loss(a, b)),
    "l1_loss": lambda: ([_f64((3, 2), 27), _f64((3, 2), 28)],
                        lambda a, b: F.l1_loss(a, b, reduction="sum")),
    "binary_cross_entropy": lambda: (
        [tt.tensor(np.random.default_rng(29).uniform(0.1, 0.9, (3, 2)), requires_grad=True),
         tt.tensor(np.random.default_rng(30).uniform(0, 1, (3, 2)), requires_grad=True)],
        lambda p, y: F.binary_cross_entropy(p, y)),
    "bce_with_logits_pos_weight": lambda: (
        [_f64((3, 2), 31, 3.0),
         tt.tensor(np.random.default_rng(32).uniform(0, 1, (3, 2)), requires_grad=True)],
        lambda z, y: F.binary_cross_entropy_with_logits(
            z, y, pos_weight=tt.tensor([2.0, 0.5], dtype=tt.float64), reduction="none")),
}


@pytest.mark.parametrize("name", list(GRADCHECKS))
def test_gradcheck(name):
    inputs, fn = GRADCHECKS[name]()
    assert gradcheck(fn, inputs)


# --------------------------------------------------------------------------- stability


def test_extreme_logits_give_finite_losses_and_gradients_without_warnings():
    big = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [0.0, 1e4, -1e4]], dtype=np.float32)
    ids = tt.tensor([1, 0, 2])
    soft = tt.tensor(_probs((3, 3), 1, 33))
    cases = {
        "cross_entropy": (lambda x: F.cross_entropy(x, ids),
                          lambda x: TF.cross_entropy(x, torch.tensor(ids.numpy()))),
        "cross_entropy_smoothing": (lambda x: F.cross_entropy(x, ids, label_smoothing=0.1),
                                    lambda x: TF.cross_entropy(x, torch.tensor(ids.numpy()),
                                                               label_smoothing=0.1)),
        "cross_entropy_probs": (lambda x: F.cross_entropy(x, soft),
                                lambda x: TF.cross_entropy(x, torch.tensor(soft.numpy()))),
        "nll_of_log_softmax": (lambda x: F.nll_loss(F.log_softmax(x, dim=1), ids),
                               lambda x: TF.nll_loss(TF.log_softmax(x, dim=1),
                                                     torch.tensor(ids.numpy()))),
        "bce_with_logits": (
            lambda x: F.binary_cross_entropy_with_logits(x, tt.tensor(np.eye(3, dtype=np.float32)),
                                                         pos_weight=tt.tensor([2.0, 1.0, 0.5])),
            lambda x: TF.binary_cross_entropy_with_logits(
                x, torch.eye(3), pos_weight=torch.tensor([2.0, 1.0, 0.5]))),
        "bce_of_sigmoid": (lambda x: F.binary_cross_entropy(x.sigmoid(), tt.tensor(np.eye(3, dtype=np.float32))),
                           lambda x: TF.binary_cross_entropy(x.sigmoid(), torch.eye(3))),
        "mse": (lambda x: F.mse_loss(x, tt.zeros(3, 3)), lambda x: TF.mse_loss(x, torch.zeros(3, 3))),
    }
    for name, (f_tt, f_torch) in cases.items():
        a = tt.tensor(big, requires_grad=True)
        with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
            warnings.simplefilter("error")
            loss = f_tt(a)
            loss.backward()
        assert np.isfinite(loss.item()) and np.all(np.isfinite(a.grad.numpy())), name
        b = torch.tensor(big, requires_grad=True)
        ref = f_torch(b)
        ref.backward()
        np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-4, err_msg=name)
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-3, atol=1e-6, err_msg=name)


# --------------------------------------------------------------------------- nn loss modules


MODULE_CASES = [
    ("MSELoss", {}, "reg"), ("MSELoss", {"reduction": "sum"}, "reg"),
    ("L1Loss", {"reduction": "none"}, "reg"),
    ("CrossEntropyLoss", {}, "ids"),
    ("CrossEntropyLoss", {"weight": WEIGHT[:4], "ignore_index": 1, "label_smoothing": 0.1,
                          "reduction": "sum"}, "ids"),
    ("CrossEntropyLoss", {"label_smoothing": 0.2}, "probs"),
    ("NLLLoss", {"weight": WEIGHT[:4], "reduction": "mean"}, "logp"),
    ("NLLLoss", {"ignore_index": 0, "reduction": "none"}, "logp"),
    ("BCELoss", {}, "prob01"), ("BCELoss", {"weight": WEIGHT[:4]}, "prob01"),
    ("BCEWithLogitsLoss", {}, "logit01"),
    ("BCEWithLogitsLoss", {"weight": WEIGHT[:4], "pos_weight": WEIGHT[1:5], "reduction": "sum"},
     "logit01"),
]


def _module_inputs(kind):
    rng = np.random.default_rng(40)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    if kind == "reg":
        return x, rng.standard_normal((6, 4)).astype(np.float32)
    if kind == "ids":
        return x, rng.integers(0, 4, 6)
    if kind == "probs":
        return x, _probs((6, 4), 1, 41)
    if kind == "logp":
        return np.log(_probs((6, 4), 1, 42)), rng.integers(0, 4, 6)
    if kind == "prob01":
        return rng.uniform(0.05, 0.95, (6, 4)).astype(np.float32), rng.uniform(0, 1, (6, 4)).astype(np.float32)
    return x, (rng.uniform(0, 1, (6, 4)) > 0.5).astype(np.float32)


@pytest.mark.parametrize("name,kwargs,kind", MODULE_CASES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(MODULE_CASES)])
def test_loss_modules_match_torch(name, kwargs, kind):
    def build(mod, mk):
        return getattr(mod.nn, name)(**{k: mk(v) if isinstance(v, np.ndarray) else v
                                        for k, v in kwargs.items()})

    crit_tt, crit_th = build(tt, tt.tensor), build(torch, torch.tensor)
    x, t = _module_inputs(kind)
    _compare(lambda a: crit_tt(a, tt.tensor(t)), lambda a: crit_th(a, torch.tensor(t)), [x],
             what=f"nn.{name}({kwargs})")
    assert repr(crit_tt) == repr(crit_th)
    assert list(crit_tt.state_dict()) == list(crit_th.state_dict())  # weight buffers, as torch
    for k, v in crit_th.state_dict().items():
        np.testing.assert_array_equal(crit_tt.state_dict()[k].numpy(), v.numpy())


def test_loss_module_signatures_match_torch():
    import inspect

    for name in ["MSELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss"]:
        ours = list(inspect.signature(getattr(nn, name).__init__).parameters)
        theirs = list(inspect.signature(getattr(torch.nn, name).__init__).parameters)
        assert ours == theirs, name
    for name in ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "binary_cross_entropy",
                 "binary_cross_entropy_with_logits"]:
        ours = inspect.signature(getattr(F, name)).parameters
        theirs = inspect.signature(getattr(TF, name)).parameters
        assert list(ours) == list(theirs), name
        assert [p.default for p in ours.values()] == [p.default for p in theirs.values()], name


@pytest.mark.parametrize("size_average,reduce", itertools.product([None, True, False], repeat=2))
def test_legacy_size_average_and_reduce_map_like_torch(size_average, reduce):
    if size_average is None and reduce is None:
        assert nn.MSELoss().reduction == "mean"
        return
    with pytest.warns(UserWarning, match="deprecated"):
        ours = nn.MSELoss(size_average=size_average, reduce=reduce).reduction
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.MSELoss(size_average=size_average, reduce=reduce).reduction
    assert ours == theirs


# --------------------------------------------------------------------------- errors


def test_loss_errors_name_the_problem():
    x = tt.randn(4, 3)
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.cross_entropy(x, tt.tensor([0, 1, 2, 0]), reduction="avg")
    with pytest.raises(ValueError, match=r"weight must have one entry per class, shape \(3,\)"):
        F.cross_entropy(x, tt.tensor([0, 1, 2, 0]), weight=tt.ones(4))
    with pytest.raises(ValueError, match=r"\(3,\) \(C,\) is one sample and needs a 0-d target"):
        F.cross_entropy(tt.randn(3), tt.tensor([1]))
    with pytest.raises(ValueError, match=r"probability targets must have the input's shape \(4, 3\)"):
        F.cross_entropy(x, tt.rand(4, 2))
    with pytest.raises(IndexError, match="target 3 is out of range for 3 classes"):
        F.nll_loss(x, tt.tensor([0, 1, 3, 0]))
    with pytest.raises(ValueError, match=r"nll_loss: input of shape \(4, 3\).*got \(3,\)"):
        F.nll_loss(x, tt.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"target of shape \(4,\) differs from the input shape \(4, 1\)"):
        F.binary_cross_entropy(tt.rand(4, 1), tt.rand(4))
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*with_logits"):
        F.binary_cross_entropy(tt.tensor([0.5, 1.5]), tt.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(2,\) does not broadcast"):
        F.binary_cross_entropy_with_logits(x, tt.rand(4, 3), pos_weight=tt.ones(2))
    with pytest.raises(TypeError, match="floating point"):
        F.mse_loss(tt.tensor([1, 2]), tt.tensor([1, 2]))
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
