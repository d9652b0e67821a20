"""Module 18 graded tests: tiled matmul, fused GELU and softmax cross-entropy, measurements.

Every expected value comes from a definition written in plain float64 NumPy in this file
(``ref_gelu``, ``ref_gelu_grad``, ``ref_cross_entropy`` ...) or from NumPy's own ``@``.
Gradients are checked against the explicit formula and against finite differences
(``gradcheck``, module 05). No test looks at a time: the measurement functions are checked
for what they compute (equal results, bytes), never for how fast. Nothing here imports
PyTorch or Numba; their parity tests live in the framework's tests/.
"""

import math

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.autograd import gradcheck
from tinytorch.optimization import acceleration as acc
from tinytorch.optimization.acceleration import (FusedGELU, fused_gelu,
                                                 fused_softmax_cross_entropy, gelu_composed,
                                                 matmul_broadcast, matmul_loops,
                                                 softmax_cross_entropy_composed, tiled_matmul)
from tinytorch.optimization.tiled_matmul import tiled_traffic
from tinytorch.testing import assert_close


def _rand(shape, seed, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# --------------------------------------------------------------------------- NumPy oracles

C, A = math.sqrt(2 / math.pi), 0.044715


def ref_gelu(x):
    x = np.asarray(x, np.float64)
    return 0.5 * x * (1 + np.tanh(C * (x + A * x ** 3)))


def ref_gelu_grad(x):
    """d/dx of ref_gelu, by the product and chain rules."""
    x = np.asarray(x, np.float64)
    t = np.tanh(C * (x + A * x ** 3))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t ** 2) * C * (1 + 3 * A * x ** 2)


def ref_cross_entropy(z, t, reduction="mean"):
    """Per row: log(sum(exp(z))) - z[target], with the max subtracted first; mean or sum."""
    z = np.asarray(z, np.float64)
    m = z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z - m).sum(axis=1)) + m[:, 0]
    per_row = lse - z[np.arange(len(t)), t]
    return per_row.sum() if reduction == "sum" else per_row.mean()


def ref_cross_entropy_grad(z, t, reduction="mean"):
    z = np.asarray(z, np.float64)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(t)), t] -= 1
    return p / len(t) if reduction == "mean" else p


# --------------------------------------------------------------------------- matmul rungs

def test_matmul_loops_on_a_worked_example():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([[5.0, 6.0], [7.0, 8.0]])
    assert_close(matmul_loops(a, b), [[19.0, 22.0], [43.0, 50.0]], what="matmul_loops(a, b)")


@pytest.mark.parametrize("f", [matmul_loops, matmul_broadcast], ids=["loops", "broadcast"])
def test_untiled_rungs_equal_numpy_matmul(f):
    a, b = _rand((5, 7), 0), _rand((7, 3), 1)
    assert_close(f(a, b), a @ b, rtol=1e-12, atol=1e-12, what=f.__name__,
                 inputs={"a": a, "b": b})


@pytest.mark.parametrize("m, k, n, tile", [
    (5, 7, 3, 2),       # every size a non-multiple of the tile: partial edge tiles
    (64, 64, 64, 16),   # a whole number of tiles
    (33, 17, 65, 8),    # long and thin, edges on every axis
    (6, 5, 4, 100),     # one tile bigger than the matrices
    (4, 3, 5, 1),       # one number per tile
])
def test_tiled_matmul_equals_a_at_b(m, k, n, tile):
    a, b = _rand((m, k), m), _rand((k, n), n + 1)
    assert_close(tiled_matmul(a, b, tile), a @ b, rtol=1e-10, atol=1e-10,
                 what=f"tiled_matmul(a, b, tile={tile})", inputs={"a": a.shape, "b": b.shape})


def test_tiled_matmul_keeps_float32():
    a, b = _rand((9, 6), 2, np.float32), _rand((6, 10), 3, np.float32)
    out = tiled_matmul(a, b, 4)
    assert out.dtype == np.float32
    assert_close(out, a.astype(np.float64) @ b, rtol=1e-5, atol=1e-5, what="float32 tiles")


def test_tiled_matmul_really_tiles():
    """Every (i, j, k) tile triple is one kernel call on at most tile x tile pieces, and the
    kernel's in-place writes are what C ends up holding."""
    m, k, n, tile = 10, 7, 9, 4
    a, b = _rand((m, k), 4), _rand((k, n), 5)
    calls = []

    def kernel(at, bt, ct):
        calls.append((at.shape, bt.shape, ct.shape))
        ct += at @ bt

    out = tiled_matmul(a, b, tile, kernel=kernel)
    tiles = math.ceil(m / tile) * math.ceil(n / tile) * math.ceil(k / tile)
    assert len(calls) == tiles, f"expected {tiles} tile products (3 x 3 x 2), got {len(calls)}"
    for at, bt, ct in calls:
        assert max(at + bt + ct) <= tile, f"a tile larger than {tile}: {at}, {bt}, {ct}"
        assert at[1] == bt[0] and ct == (at[0], bt[1]), f"mismatched tiles {at} {bt} {ct}"
    # each output tile sums over every k-tile: the areas of the A tiles add up to M*K per
    # column of output tiles
    assert sum(at[0] * at[1] for at, _, _ in calls) == m * k * math.ceil(n / tile)
    assert_close(out, a @ b, rtol=1e-10, atol=1e-10, what="tiled_matmul with a custom kernel")


def test_tiled_matmul_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(5, 2\)"):
        tiled_matmul(np.ones((3, 4)), np.ones((5, 2)))
    with pytest.raises(ValueError, match="2-D"):
        tiled_matmul(np.ones((2, 3, 4)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="tile"):
        tiled_matmul(np.ones((2, 2)), np.ones((2, 2)), tile=0)


def test_tiled_traffic_counts_bytes():
    got = tiled_traffic(64, 64, 64, 16, itemsize=8)
    assert got["naive"] == 2 * 64 ** 3 * 8
    # 4 column tiles each read all of A, 4 row tiles each read all of B, C written once
    assert got["tiled"] == (4 * 64 * 64 + 4 * 64 * 64 + 64 * 64) * 8
    assert got["tiles"] == 64
    assert got["ratio"] == pytest.approx(got["naive"] / got["tiled"])


# --------------------------------------------------------------------------- fused GELU

def test_fused_gelu_forward_matches_the_formula():
    x = _rand((2, 3, 4), 6) * 3
    assert_close(fused_gelu(tt.tensor(x)), ref_gelu(x), rtol=1e-12, atol=1e-12,
                 what="fused_gelu(x)", inputs={"x": x})


def test_fused_gelu_keeps_dtype_and_shape():
    x = tt.tensor(_rand((3, 5), 7, np.float32))
    y = fused_gelu(x)
    assert y.dtype == tt.float32 and tuple(y.shape) == (3, 5)
    assert_close(y, ref_gelu(x.numpy()), rtol=1e-5, atol=1e-6, what="float32 fused_gelu")


def test_fused_gelu_backward_matches_the_derivative():
    x_np, g = _rand((4, 6), 8) * 3, _rand((4, 6), 9)
    x = tt.tensor(x_np, requires_grad=True)
    fused_gelu(x).backward(tt.tensor(g))
    assert_close(x.grad, g * ref_gelu_grad(x_np), rtol=1e-10, atol=1e-12,
                 what="dL/dx of fused_gelu", inputs={"x": x_np, "dL/dy": g})


def test_fused_gelu_gradcheck():
    x = tt.tensor(_rand((3, 4), 10) * 2, requires_grad=True)
    assert gradcheck(fused_gelu, (x,))


def test_fused_gelu_is_one_node_and_equals_the_composition():
    x = tt.tensor(_rand((5, 4), 11), requires_grad=True)
    y = fused_gelu(x)
    assert y.grad_fn is not None and "FusedGELU" in type(y.grad_fn).__name__
    assert_close(y, gelu_composed(x), rtol=1e-12, atol=1e-12, what="fused vs composed")


def test_fused_gelu_module():
    m = FusedGELU()
    x = _rand((2, 5), 12)
    assert_close(m(tt.tensor(x)), ref_gelu(x), rtol=1e-12, atol=1e-12, what="FusedGELU()(x)")
    assert list(m.parameters()) == []


def test_fused_gelu_refuses_integers():
    with pytest.raises(TypeError, match="float"):
        fused_gelu(tt.tensor(np.arange(3)))


# --------------------------------------------------------------------------- fused softmax-CE

@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_fused_cross_entropy_forward(reduction):
    z, t = _rand((6, 5), 13) * 2, np.array([0, 4, 2, 2, 1, 3])
    got = fused_softmax_cross_entropy(tt.tensor(z), t, reduction=reduction)
    assert got.ndim == 0
    assert_close(got, ref_cross_entropy(z, t, reduction), rtol=1e-12, atol=1e-12,
                 what=f"fused_softmax_cross_entropy(reduction={reduction!r})",
                 inputs={"logits": z, "target": t})


def test_fused_cross_entropy_is_stable_for_large_logits():
    z, t = np.array([[1000.0, 0.0, -1000.0], [0.0, 800.0, 1.0]]), np.array([2, 1])
    got = fused_softmax_cross_entropy(tt.tensor(z), t).item()
    assert math.isfinite(got), "exp(1000) overflowed: subtract the row max first"
    assert got == pytest.approx(ref_cross_entropy(z, t))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_fused_cross_entropy_backward_is_softmax_minus_onehot(reduction):
    z, t = _rand((7, 4), 14), np.array([3, 0, 1, 1, 2, 0, 3])
    x = tt.tensor(z, requires_grad=True)
    fused_softmax_cross_entropy(x, t, reduction=reduction).backward()
    assert_close(x.grad, ref_cross_entropy_grad(z, t, reduction), rtol=1e-10, atol=1e-12,
                 what=f"dloss/dlogits ({reduction})", inputs={"logits": z, "target": t})


def test_fused_cross_entropy_backward_scales_by_the_incoming_gradient():
    z, t = _rand((3, 4), 15), np.array([1, 2, 0])
    x = tt.tensor(z, requires_grad=True)
    (fused_softmax_cross_entropy(x, t) * 2.5).backward()
    assert_close(x.grad, 2.5 * ref_cross_entropy_grad(z, t), rtol=1e-10, atol=1e-12,
                 what="dloss/dlogits when the loss is scaled by 2.5")


def test_fused_cross_entropy_gradcheck():
    t = np.array([1, 0, 2, 2])
    x = tt.tensor(_rand((4, 3), 16), requires_grad=True)
    assert gradcheck(lambda a: fused_softmax_cross_entropy(a, t), (x,))


def test_composed_cross_entropy_equals_fused():
    z, t = _rand((5, 6), 17), np.array([5, 0, 3, 3, 1])
    x1, x2 = tt.tensor(z, requires_grad=True), tt.tensor(z, requires_grad=True)
    l1, l2 = fused_softmax_cross_entropy(x1, t), softmax_cross_entropy_composed(x2, t)
    l1.backward()
    l2.backward()
    assert l1.item() == pytest.approx(l2.item(), rel=1e-12)
    assert_close(x1.grad, x2.grad, rtol=1e-10, atol=1e-12, what="fused vs composed gradient")


def test_fused_cross_entropy_bad_targets():
    z = tt.tensor(_rand((3, 4), 18))
    with pytest.raises(IndexError, match=r"\[0, 4\)"):
        fused_softmax_cross_entropy(z, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match="target"):
        fused_softmax_cross_entropy(z, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        fused_softmax_cross_entropy(tt.tensor(_rand((2, 3, 4), 19)), np.array([0, 1]))


# --------------------------------------------------------------------------- measurements

def test_compare_matmul_every_rung_agrees():
    m = acc.compare_matmul(sizes=(8, 20), tile=6, loops_up_to=8, repeat=1)
    methods = {(r[0], r[1]) for r in m.rows}
    assert methods == {(8, "python loops"), (8, "numpy broadcast"), (8, "tiled"), (8, "blas"),
                       (20, "numpy broadcast"), (20, "tiled"), (20, "blas")}
    assert max(m.column("max err")) < 1e-10
    assert all(s > 0 for s in m.column("seconds"))
    assert "| n | method |" in m.markdown()


def test_compare_conv_agrees_and_counts_the_column_bytes():
    m = acc.compare_conv(batch=1, channels=2, size=5, out_channels=3, kernel=3, repeat=1)
    assert m.row(method="im2col + matmul")[3] < 1e-10
    # im2col copies every pixel once per kernel offset: C*k*k rows, N*Ho*Wo columns, float64
    assert m.info["cols_bytes"] == 2 * 3 * 3 * 1 * 5 * 5 * 8
    assert m.info["input_bytes"] == 1 * 2 * 5 * 5 * 8


def test_compare_fusion_agrees_and_fused_allocates_less():
    m = acc.compare_fusion(rows=16, cols=64, classes=5, repeat=1, dtype=np.float64)
    for op in ("gelu", "softmax-CE"):
        fused, composed = m.row(op=op, version="fused"), m.row(op=op, version="composed")
        assert fused[4] < 1e-12 and fused[5] < 1e-12, f"{op}: fused differs from composed"
        assert fused[3] < composed[3], f"{op}: fused peak {fused[3]} >= composed {composed[3]}"


def test_compare_dtypes_counts_bytes_and_orders_errors():
    m = acc.compare_dtypes(n=32, repeat=1)
    assert m.column("dtype") == ["float64", "float32", "float16"]
    assert m.column("bytes") == [2 * 32 * 32 * 8, 2 * 32 * 32 * 4, 2 * 32 * 32 * 2]
    e64, e32, e16 = m.column("max rel err")
    assert e64 == 0 and 0 < e32 < 1e-5 < e16 < 1e-2


def test_thread_scaling_reports_each_count():
    pytest.importorskip("threadpoolctl")
    m = acc.thread_scaling(n=32, threads=(1,), repeat=1)
    assert m.column("threads asked") == [1]
    assert m.row(**{"threads asked": 1})[3] == 1.0


def test_compiled_rung_loops_equal_the_oracles_without_numba():
    """The compiled rung's kernels are plain Python loops that Numba compiles as written, so
    running them in the interpreter (tiny sizes, no Numba needed) checks their arithmetic:
    GELU and its derivative, the row-wise softmax cross-entropy (loss with the max added
    back, large logits included) and its gradient, and the tiled loop with edge tiles."""
    from tinytorch.optimization import numba_kernels as nk

    x, g = (_rand((11,), 20) * 3), _rand((11,), 21)
    y, t, dx = np.empty(11), np.empty(11), np.empty(11)
    nk._gelu_fwd(x, y, t)
    nk._gelu_bwd(x, t, g, dx)
    assert_close(y, ref_gelu(x), rtol=1e-12, atol=1e-14, what="compiled-rung GELU loop")
    assert_close(dx, g * ref_gelu_grad(x), rtol=1e-12, atol=1e-14,
                 what="compiled-rung GELU backward loop")

    z = _rand((4, 5), 22) * 3 + np.array([[0.0], [50.0], [-30.0], [900.0]])  # shifted rows
    tgt = np.array([4, 0, 2, 2])
    p, losses = np.empty_like(z), np.empty(4)
    nk._ce_fwd(z, tgt, p, losses)
    assert_close(losses.mean(), ref_cross_entropy(z, tgt), rtol=1e-12, atol=1e-12,
                 what="compiled-rung cross-entropy loop (mean of its per-row losses)")
    for scale, reduction in ((2.5 / 4, "mean"), (2.5, "sum")):
        grad = np.empty_like(z)
        nk._ce_bwd(p, tgt, scale, grad)
        assert_close(grad, 2.5 * ref_cross_entropy_grad(z, tgt, reduction), rtol=1e-10,
                     atol=1e-12, what=f"compiled-rung cross-entropy backward ({reduction})")

    a, b = _rand((7, 5), 23), _rand((5, 9), 24)
    c = np.zeros((7, 9))
    nk._tiled_mm(a, b, c, 3)
    assert_close(c, a @ b, rtol=1e-12, atol=1e-12, what="compiled-rung tiled loop, tile 3")


def test_compiled_rung_without_numba_says_how_to_install():
    if acc.numba_available():
        pytest.skip("Numba is installed: the compiled rung is tested in tests/")
    with pytest.raises(ImportError, match=r"pip install -e '\.\[accel\]'"):
        acc.compare_compiled()
