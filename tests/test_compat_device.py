"""Devices, dtypes and the small semantic points of PyTorch, checked against PyTorch."""

import math

import numpy as np
import pytest

import tinytorch as tt

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("spec", ["cpu", "cpu:0", ("cpu", 0), "cuda", "cuda:1", "mps"])
def test_device_objects_match_torch(spec):
    ours = tt.device(*spec) if isinstance(spec, tuple) else tt.device(spec)
    ref = torch.device(*spec) if isinstance(spec, tuple) else torch.device(spec)
    assert (ours.type, ours.index, str(ours), repr(ours)) == \
        (ref.type, ref.index, str(ref), repr(ref))
    assert tt.device(ours) == ours and hash(tt.device(ours)) == hash(ours)
    assert (ours == "cpu") == (ref == "cpu")  # a device never equals a string, in both


def test_unknown_device_type_is_refused_like_torch():
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        tt.device("gpu")


def test_availability_answers():
    assert tt.cuda.is_available() is False and tt.cuda.device_count() == 0
    assert tt.backends.mps.is_available() is False
    assert tt.accelerator.is_available() is False
    assert tt.accelerator.current_accelerator() is None
    tt.backends.cudnn.benchmark = True  # settings a program sets unconditionally: accepted
    tt.backends.cudnn.deterministic = True
    tt.cuda.manual_seed_all(0)
    device = "cuda" if tt.cuda.is_available() else "cpu"
    assert tt.zeros(2, device=device).device == tt.device("cpu")


FACTORIES = [
    lambda d: tt.zeros(2, 3, device=d), lambda d: tt.ones(2, device=d),
    lambda d: tt.full((2,), 1.5, device=d), lambda d: tt.empty(3, device=d),
    lambda d: tt.arange(5, device=d), lambda d: tt.linspace(0, 1, 5, device=d),
    lambda d: tt.eye(3, device=d), lambda d: tt.rand(2, device=d),
    lambda d: tt.randn(2, device=d), lambda d: tt.randint(0, 5, (3,), device=d),
    lambda d: tt.randperm(4, device=d), lambda d: tt.tensor([1.0], device=d),
    lambda d: tt.zeros_like(tt.ones(2), device=d), lambda d: tt.ones_like(tt.ones(2), device=d),
    lambda d: tt.full_like(tt.ones(2), 3, device=d), lambda d: tt.rand_like(tt.ones(2), device=d),
    lambda d: tt.randn_like(tt.ones(2), device=d), lambda d: tt.empty_like(tt.ones(2), device=d),
    lambda d: tt.as_tensor([1, 2], device=d),
]


@pytest.mark.parametrize("make", FACTORIES)
def test_every_factory_takes_device(make):
    for d in ("cpu", "cpu:0", tt.device("cpu"), None):
        assert make(d).device == tt.device("cpu")
    with pytest.raises(RuntimeError, match="runs on the CPU only"):
        make("cuda")


def test_to_in_all_its_forms():
    x = tt.randn(3)
    assert x.device == tt.device("cpu") and repr(x.device) == "device(type='cpu')"
    assert x.to("cpu") is x and x.to(tt.device("cpu")) is x and x.cpu() is x
    assert x.to(tt.float64).dtype == tt.float64
    assert x.to("cpu", tt.float64).dtype == tt.float64
    assert x.to(device="cpu", dtype=tt.float64, non_blocking=True).dtype == tt.float64
    assert x.to(tt.zeros(1, dtype=tt.float64)).dtype == tt.float64
    assert x.to(tt.float32, copy=True) is not x
    for bad in (lambda: x.to("cuda"), lambda: x.cuda(), lambda: x.to("mps", tt.float64)):
        with pytest.raises(RuntimeError, match="runs on the CPU only"):
            bad()


def test_module_to_and_cpu():
    m = tt.nn.Linear(3, 2)
    assert m.to("cpu") is m and m.cpu() is m and m.to(tt.device("cpu")) is m
    m.to("cpu", tt.float64)
    assert m.weight.dtype == tt.float64
    m.to(dtype=tt.float32)
    assert m.weight.dtype == tt.float32
    with pytest.raises(RuntimeError, match="runs on the CPU only"):
        m.cuda()
    with pytest.raises(TypeError, match="floating point"):
        m.to(tt.int64)


def test_dtype_names_as_torch():
    assert tt.int == tt.int32 and tt.long == tt.int64 and tt.float == tt.float32
    assert tt.tensor([1.5]).int().dtype == tt.int32
    for name in ("float16", "half", "float32", "float64", "double", "int8", "int16", "int32",
                 "int64", "uint8", "bool", "complex64", "cfloat", "bfloat16"):
        assert hasattr(tt, name), name
    with pytest.raises(TypeError, match="bfloat16 is not supported"):
        tt.zeros(2, dtype=tt.bfloat16)
    with pytest.raises(TypeError, match="bfloat16 is not supported"):
        tt.ones(2).to(tt.bfloat16)
    with pytest.raises(TypeError, match="complex"):
        tt.zeros(2, dtype=tt.complex64)
    assert tt.finfo(tt.float32).eps == torch.finfo(torch.float32).eps


def test_default_dtype():
    assert tt.get_default_dtype() == tt.float32
    tt.set_default_dtype(tt.float64)
    try:
        assert tt.zeros(2).dtype == tt.float64 and tt.randn(2).dtype == tt.float64
    finally:
        tt.set_default_dtype(tt.float32)
    with pytest.raises(TypeError):
        tt.set_default_dtype(tt.int64)


def test_from_numpy_shares_memory():
    a = np.zeros(3, np.float32)
    t = tt.from_numpy(a)
    a[0] = 5
    assert t.numpy()[0] == 5
    t.add_(1)
    assert a[1] == 1


def test_semantic_points_match_torch():
    assert f"{tt.tensor(math.pi):.4f}" == f"{torch.tensor(math.pi):.4f}"
    with pytest.raises(TypeError):
        f"{tt.tensor([1.0, 2.0]):.4f}"
    a, b = [6, 3, -4], [3, 5, 7]
    for op in (lambda x, y: x & y, lambda x, y: x | y, lambda x, y: x ^ y, lambda x, y: ~x):
        np.testing.assert_array_equal(op(tt.tensor(a), tt.tensor(b)).numpy(),
                                      op(torch.tensor(a), torch.tensor(b)).numpy())
    with pytest.raises(TypeError):
        tt.tensor([1.0]) & tt.tensor([1.0])
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        tt.zeros(2).clip(None, None)
    with pytest.raises(TypeError, match="bool"):
        tt.linspace(0, 1, 3, dtype=tt.bool)
    assert tt.is_floating_point(tt.zeros(1)) and not tt.ones(1, dtype=tt.int64).is_floating_point()


def test_pow_exponent_gradient_matches_torch():
    base, expo = [-2.0, 0.0, 0.0, 0.0, 3.0, 2.0], [2.0, 2.0, 0.0, -1.0, 0.5, -0.5]
    grads = []
    for lib in (tt, torch):
        a = lib.tensor(base, requires_grad=True)
        b = lib.tensor(expo, requires_grad=True)
        (a ** b).sum().backward()
        grads.append((a.grad.numpy(), b.grad.numpy()))
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)  # nan and inf where torch has them


def test_what_gpu_programs_call_on_the_way_runs():
    """nanoGPT-style code: torch.compile, autocast blocks, a disabled GradScaler, and
    ``import torch.backends.cudnn as cudnn`` (the ImageNet example)."""
    import importlib

    cudnn = importlib.import_module("tinytorch.backends.cudnn")
    assert cudnn is tt.backends.cudnn
    assert importlib.import_module("tinytorch.cuda.amp").GradScaler is tt.amp.GradScaler
    model = tt.nn.Linear(3, 1)
    assert tt.compile(model) is model
    opt = tt.optim.SGD(model.parameters(), lr=0.1)
    scaler = tt.cuda.amp.GradScaler(enabled=True)
    before = model.weight.numpy().copy()
    with tt.autocast(device_type="cpu", dtype=tt.bfloat16):
        loss = model(tt.ones(2, 3)).sum()
    assert loss.dtype == tt.float32  # no lower precision here
    scaler.scale(loss).backward()
    scaler.unscale_(opt)
    scaler.step(opt)
    scaler.update()
    assert not np.array_equal(before, model.weight.numpy())


def test_default_dtype_reaches_python_floats():
    tt.set_default_dtype(tt.float64)
    try:
        assert tt.tensor([1.0]).dtype == tt.float64 and tt.tensor(2.5).dtype == tt.float64
        assert tt.tensor([1]).dtype == tt.int64
    finally:
        tt.set_default_dtype(tt.float32)
    assert tt.tensor([1.0]).dtype == tt.float32


def test_default_device_and_device_context():
    assert tt.get_default_device() == tt.device("cpu")
    tt.set_default_device("cpu")
    with tt.device("cpu"):
        assert tt.zeros(1).device == tt.device("cpu")
    with pytest.raises(RuntimeError, match="CPU only"):
        tt.set_default_device("cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        with tt.device("cuda"):
            pass
