"""The Tensor's public face: creation, dtypes, seeding, conversion, printing, indexing."""

import numpy as np
import pytest

import tinytorch as tt


def test_creation_functions_shapes_and_dtypes():
    assert tt.zeros(2, 3).shape == (2, 3) and tt.zeros((2, 3)).dtype == tt.float32
    assert tt.ones(4).numpy().sum() == 4
    assert tt.full((2, 2), 7.0).numpy().tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert tt.full((2,), 3).dtype == tt.int64
    assert tt.arange(5).dtype == tt.int64 and tt.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert tt.arange(1, 2, 0.5).dtype == tt.float32
    assert tt.eye(3).numpy().trace() == 3
    assert tt.zeros_like(tt.ones(2, dtype=tt.float64)).dtype == tt.float64
    assert tt.randn(3, 4).dtype == tt.float32 and tt.randn(3, dtype=tt.float64).dtype == tt.float64
    r = tt.rand(1000)
    assert 0 <= r.numpy().min() and r.numpy().max() < 1
    assert tt.randint(0, 5, size=(100,)).dtype == tt.int64
    assert sorted(tt.randperm(6).tolist()) == list(range(6))
    assert tt.Tensor(np.arange(3)).dtype == tt.int64
    assert tt.Tensor([1.0, 2.0]).dtype == tt.float32


def test_tensor_copies_data_but_Tensor_wraps():
    a = np.zeros(3, dtype=np.float32)
    t = tt.tensor(a)
    a[0] = 5
    assert t.numpy()[0] == 0


def test_manual_seed_makes_runs_repeatable_and_generators_are_independent():
    tt.manual_seed(123)
    a = tt.randn(5).numpy().copy()
    tt.manual_seed(123)
    b = tt.randn(5).numpy().copy()
    np.testing.assert_array_equal(a, b)
    g1, g2 = tt.Generator().manual_seed(7), tt.Generator().manual_seed(7)
    np.testing.assert_array_equal(tt.rand(4, generator=g1).numpy(), tt.rand(4, generator=g2).numpy())


def test_item_numpy_detach_size():
    t = tt.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert t[0, 0].item() == 1.5 and isinstance(t[0, 0].item(), float)
    assert t.numpy() is t.numpy()  # shared, not copied
    d = t.data  # PyTorch's .data: a detached Tensor sharing memory
    assert isinstance(d, tt.Tensor) and not d.requires_grad and np.shares_memory(d.numpy(), t.numpy())
    assert t.size() == (2, 2) and t.size(1) == 2 and t.numel() == 4 and len(t) == 2
    assert t.ndim == 2 and t.dim() == 2
    assert float(tt.tensor(2.5)) == 2.5 and int(tt.tensor(3)) == 3


def test_repr_like_pytorch():
    assert repr(tt.tensor([1.0, 2.5])) == "tensor([1.0, 2.5])"
    assert repr(tt.tensor([1, 2])) == "tensor([1, 2])"
    assert "requires_grad=True" in repr(tt.tensor([1.0], requires_grad=True))
    assert "dtype=tinytorch.float64" in repr(tt.tensor([1.0], dtype=tt.float64))


def test_comparisons_give_bool_tensors_without_grad():
    x = tt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == tt.bool and not m.requires_grad
    assert m.tolist() == [False, True, True]
    assert (x == x).all().item()
    assert {x: 1}[x] == 1  # hashable by identity


def test_max_with_dim_returns_values_and_indices_like_torch():
    x = tt.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    v, i = x.max(dim=1)
    assert v.tolist() == [5.0, 7.0] and i.tolist() == [1, 0]
    assert x.max(dim=0).indices.tolist() == [1, 0, 1]
    assert x.max().item() == 7.0 and x.argmax().item() == 3
    assert x.min(dim=1, keepdim=True).values.shape == (2, 1)
    assert tt.max(x, tt.tensor(4.0)).tolist() == [[4.0, 5.0, 4.0], [7.0, 4.0, 4.0]]


def test_numpy_axis_keepdims_spelling_is_accepted():
    x = tt.randn(2, 3)
    np.testing.assert_allclose(x.sum(axis=1, keepdims=True).numpy(), x.sum(dim=1, keepdim=True).numpy())
    with pytest.raises(TypeError, match="either dim or axis"):
        x.sum(dim=0, axis=1)


def test_ndarray_on_the_left_defers_to_tensor():
    x = tt.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([2.0, 3.0], dtype=np.float32) * x
    assert isinstance(y, tt.Tensor) and y.requires_grad


def test_to_and_casts():
    x = tt.tensor([1.5, 2.5], requires_grad=True)
    y = x.double()
    assert y.dtype == tt.float64 and y.requires_grad
    y.sum().backward()
    assert x.grad.dtype == tt.float32
    assert x.long().tolist() == [1, 2] and x.long().dtype == tt.int64
