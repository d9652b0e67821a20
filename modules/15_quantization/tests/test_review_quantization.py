"""Module 15, review tests (issue 13): edges the first tests did not pin down.

Each closes a class of mistakes an independent reviewer planted and the other tests let
through: the rounding mode of requantize (half to even, like quantize, not half up), the
int32 matmul past float32's exact range (no float32 BLAS shortcut), and the straight-through
gradient at the edges of the range (decided on the rounded integer, not on x). Expected
values are NumPy formulas or worked by hand; no PyTorch.
"""

import numpy as np

import tinytorch as tt
from tinytorch.optimization.quantization import int_matmul, requantize


def test_requantize_rounds_half_to_even():
    # a multiplier of exactly 0.5 puts every odd accumulator on a tie
    acc = np.array([[1, 3, 5, 7, -1, -3, -5]], np.int32)
    got = requantize(acc, 0.5, 1.0, 100, tt.quint8)
    np.testing.assert_array_equal(got, [[100, 102, 102, 104, 100, 98, 98]])  # 0.5 -> 0, 1.5 -> 2
    # per channel (the multiplier along the last axis): 0.5 and 0.25 of the same sums
    acc2 = np.array([[5, 6], [-5, -6], [3, 2]], np.int32)
    got2 = requantize(acc2, np.array([0.5, 0.25]), 1.0, 0, tt.qint8)
    np.testing.assert_array_equal(got2, [[2, 2], [-2, -2], [2, 0]])


def test_int_matmul_is_exact_where_float32_is_not():
    # every product has the same sign and K = 4096: the sums pass 2^26, where float32's step
    # is 8, so any float32 shortcut loses the low bits; int32 (and the int64 oracle) do not
    rng = np.random.default_rng(0)
    a = rng.integers(128, 256, (3, 4096)).astype(np.uint8)
    b = rng.integers(-128, -63, (4096, 5)).astype(np.int8)
    zb = np.array([0, 1, -1, 2, 0])
    got = int_matmul(a, 0, b, zb)
    ref = a.astype(np.int64) @ (b.astype(np.int64) - zb)
    assert np.abs(ref).max() > 2 ** 26 and np.abs(ref).max() < 2 ** 31
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, ref)


def test_fake_quant_straight_through_gradient_at_the_range_edges():
    # scale 0.5, integers -4..3: representable [-2.0, 1.5]. The gradient passes where the
    # *rounded* integer is inside the range (PyTorch's rule): 1.7 rounds to 3 (inside, though
    # past 1.5), 1.75 to 4 (a tie: half to even; clamped), -2.2 to -4 (inside), -2.3 to -5
    x = tt.tensor(np.array([1.5, 1.7, 1.75, 1.8, -2.2, -2.3, 0.25, 0.75, -0.25], np.float32),
                  requires_grad=True)
    y = tt.fake_quantize_per_tensor_affine(x, 0.5, 0, -4, 3)
    np.testing.assert_allclose(y.numpy(), [1.5, 1.5, 1.5, 1.5, -2.0, -2.0, 0.0, 1.0, 0.0])
    (y * tt.tensor(np.arange(1.0, 10.0, dtype=np.float32))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 2, 0, 0, 5, 0, 7, 8, 9])
