"""Wrong input into the quantization API fails at once, naming the shapes or values and what to do."""

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.optimization.quantization import int_matmul, quantize

X = np.arange(12, dtype=np.float32).reshape(4, 3)


def test_per_channel_parameters_of_the_wrong_length_name_both_shapes():
    with pytest.raises(ValueError, match=r"\(4, 3\) has 3 channels along axis 1.*\(5,\)"):
        quantize(X, np.ones(5), np.zeros(5), axis=1)


def test_axis_out_of_range_names_the_dimensions():
    with pytest.raises(ValueError, match=r"axis=5 is out of range.*2 dimensions"):
        quantize(X, np.ones(3), np.zeros(3), axis=5)


@pytest.mark.parametrize("scale", [0.0, -0.1, np.inf])
def test_scale_must_be_positive_and_finite(scale):
    with pytest.raises(ValueError, match="scale must be positive and finite"):
        quantize(X, scale, 0)


def test_zero_point_outside_the_dtype_range():
    with pytest.raises(ValueError, match=r"zero_point 300 is outside \[0, 255\]"):
        tt.quantize_per_tensor(tt.tensor(X), 0.1, 300, tt.quint8)


def test_int_matmul_names_mismatched_shapes_and_refuses_floats():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 5\)"):
        int_matmul(np.zeros((2, 3), np.int8), 0, np.zeros((4, 5), np.int8), 0)
    with pytest.raises(TypeError, match="integer arrays"):
        int_matmul(np.zeros((2, 3), np.float32), 0, np.zeros((3, 5), np.int8), 0)
