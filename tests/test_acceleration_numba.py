"""Module 18's compiled rung: every Numba kernel equals its NumPy twin (when Numba is installed).

Numba is an optional extra (``pip install -e ".[accel]"``); without it these tests skip and
one test checks the error says how to install it. Kernels compile on first call and are
cached next to their file (``cache=True``), so a second run skips the compile. Sizes are
small: the tests check values, never times.
"""

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.optimization import numba_kernels as nk
from tinytorch.optimization.fused import fused_gelu, fused_softmax_cross_entropy


def _rand(shape, seed, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def test_without_numba_every_kernel_says_how_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_numba(name, *args, **kwargs):
        if name == "numba" or name.startswith("numba."):
            raise ImportError("No module named 'numba'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_numba)
    monkeypatch.setattr(nk, "_COMPILED", {})
    with pytest.raises(ImportError, match=r"pip install -e '\.\[accel\]'"):
        nk.gelu_numba(np.ones(3))
    with pytest.raises(ImportError, match="accel"):
        nk.tiled_matmul_numba(np.ones((2, 2)), np.ones((2, 2)))


numba = pytest.importorskip("numba")


def test_gelu_kernels_equal_the_fused_op():
    x_np, g = _rand((5, 7), 0) * 3, _rand((5, 7), 1)
    x = tt.tensor(x_np, requires_grad=True)
    fused_gelu(x).backward(tt.tensor(g))
    y, t = nk.gelu_numba(x_np, return_tanh=True)
    np.testing.assert_allclose(y, fused_gelu(tt.tensor(x_np)).numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(nk.gelu_backward_numba(x_np, t, g), x.grad.numpy(),
                               rtol=1e-12, atol=1e-14)


def test_numba_gelu_autograd_op():
    x_np = _rand((3, 4), 2)
    x = tt.tensor(x_np, requires_grad=True)
    nk.numba_gelu(x).sum().backward()
    x2 = tt.tensor(x_np, requires_grad=True)
    fused_gelu(x2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_kernels_equal_the_fused_op(reduction):
    z, t = _rand((9, 5), 3) * 5, np.random.default_rng(4).integers(0, 5, 9)
    x = tt.tensor(z, requires_grad=True)
    loss = fused_softmax_cross_entropy(x, t, reduction=reduction)
    loss.backward()
    got, p = nk.softmax_cross_entropy_numba(z, t, reduction=reduction)
    assert got == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(nk.softmax_cross_entropy_backward_numba(p, t, 1.0, reduction),
                               x.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("m, k, n, tile", [(7, 5, 9, 3), (16, 16, 16, 8), (3, 4, 2, 64)])
def test_tiled_matmul_kernel_equals_a_at_b(m, k, n, tile):
    a, b = _rand((m, k), 5), _rand((k, n), 6)
    np.testing.assert_allclose(nk.tiled_matmul_numba(a, b, tile), a @ b, rtol=1e-12,
                               atol=1e-12)


def test_compare_compiled_rows_agree():
    from tinytorch.optimization.acceleration import compare_compiled

    m = compare_compiled(rows=8, cols=16, classes=4, n=16, tile=8, repeat=1)
    assert len(m.rows) == 4
    assert max(m.column("max err")) < 1e-10
    assert m.info["compile_seconds"] > 0
