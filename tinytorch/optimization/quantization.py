"""Integer quantization: int8 numbers, their scale and zero point, and integer arithmetic.

A float tensor x becomes a tensor of small integers q and two numbers, PyTorch's definition::

    q = clamp(round(x / scale) + zero_point, qmin, qmax)        (quantize)
    x ~ (q - zero_point) * scale                                (dequantize)

``scale`` is the float step between neighbouring integers; ``zero_point`` is the integer that
stands for 0.0 (so a zero -- padding, a ReLU's output -- is represented exactly). With 8 bits
a tensor is stored in a quarter of float32's bytes, and the error of one number is at most
scale / 2 when it lies inside the range.

Two families of choices:
* *symmetric* (zero_point fixed: 0 for qint8) or *affine* (the range [min, max] mapped onto
  [qmin, qmax] exactly, zero_point wherever 0.0 falls): weights are roughly centred, so they
  are quantized symmetrically; activations after a ReLU are all >= 0, so they use affine uint8;
* *per tensor* (one scale) or *per channel* (one scale per output channel: a channel of small
  weights keeps its resolution instead of sharing the step of the largest channel).

The integers are real NumPy ``int8`` / ``uint8`` arrays (``QTensor.int_repr()``): the memory
counted by ``.nbytes`` is the memory used. Matrix products of quantized tensors run on the
integers with int32 accumulation (:func:`int_matmul`) and are then *requantized* to the next
layer's scale (:func:`requantize`), as an int8 inference engine does.
"""

from __future__ import annotations

import numpy as np

__all__ = ["QDtype", "qint8", "quint8", "qint32", "per_tensor_affine", "per_tensor_symmetric",
           "per_channel_affine", "per_channel_symmetric", "qrange", "calculate_qparams",
           "quantize", "dequantize", "QTensor", "quantize_per_tensor", "quantize_per_channel",
           "int_matmul", "requantize", "quantize_bias", "FLOAT32_EPS"]


class QDtype:
    """A quantized dtype, PyTorch's ``torch.qint8`` / ``torch.quint8`` / ``torch.qint32``.

    It names the integer storage (``storage``: a NumPy integer type) and its full range; it is
    not a NumPy dtype itself, because a quantized tensor is integers *plus* a scale and zero
    point (a :class:`QTensor`), not plain integers.
    """

    def __init__(self, name: str, storage):
        self.name, self.storage = name, storage
        info = np.iinfo(storage)
        self.qmin, self.qmax = int(info.min), int(info.max)
        self.is_floating_point, self.is_signed = False, info.min < 0

    @property
    def itemsize(self) -> int:
        return np.dtype(self.storage).itemsize

    @property
    def dtype(self):
        # NumPy reads a dtype-like object's ``.dtype``: ``tt.zeros(2, dtype=tt.qint8)`` lands
        # here and gets a message that says what to do instead (as core/dtypes.py does)
        raise TypeError(f"{self!r} is a quantized dtype: a plain tensor cannot hold it. "
                        f"Quantize a float tensor with tt.quantize_per_tensor(x, scale, "
                        f"zero_point, {self!r}) (or a model with tt.quantization); its "
                        f"integers are a {np.dtype(self.storage)} array (x.int_repr())")

    def __repr__(self):
        return f"tinytorch.{self.name}"

    def __reduce__(self):  # copy.deepcopy and pickle keep the one sentinel
        return (_named_qdtype, (self.name,))


qint8 = QDtype("qint8", np.int8)
quint8 = QDtype("quint8", np.uint8)
qint32 = QDtype("qint32", np.int32)
_QDTYPES = {d.name: d for d in (qint8, quint8, qint32)}


def _named_qdtype(name):
    return _QDTYPES[name]


# quantization schemes under PyTorch's names (``torch.per_tensor_affine`` ...)
per_tensor_affine = "per_tensor_affine"
per_tensor_symmetric = "per_tensor_symmetric"
per_channel_affine = "per_channel_affine"
per_channel_symmetric = "per_channel_symmetric"
_SCHEMES = (per_tensor_affine, per_tensor_symmetric, per_channel_affine, per_channel_symmetric)

FLOAT32_EPS = float(np.finfo(np.float32).eps)  # the smallest scale an observer returns


def _as_qdtype(dtype) -> QDtype:
    if isinstance(dtype, QDtype):
        return dtype
    for d in _QDTYPES.values():
        if dtype is d.storage or dtype == d.name:
            return d
    raise TypeError(f"expected a quantized dtype (tt.qint8, tt.quint8 or tt.qint32), "
                    f"got {dtype!r}")


def qrange(dtype, reduce_range: bool = False) -> tuple[int, int]:
    """(qmin, qmax) of ``dtype``; ``reduce_range`` drops one bit (qint8 -64..63, quint8
    0..127), as PyTorch's x86 kernels ask for activations so that a 16-bit intermediate
    sum of two products cannot overflow."""
    d = _as_qdtype(dtype)
    if reduce_range:
        return d.qmin // 2, d.qmax // 2
    return d.qmin, d.qmax


def calculate_qparams(min_val, max_val, dtype=quint8, qscheme=per_tensor_affine,
                      quant_min=None, quant_max=None, eps: float = FLOAT32_EPS):
    """(scale, zero_point) that map the observed range [min_val, max_val] onto [qmin, qmax].

    ``min_val`` / ``max_val``: scalars, or arrays with one entry per channel. The range is
    first widened to contain 0 (0.0 must be representable exactly). Then, as PyTorch's
    observers do (computed in float32)::

        symmetric:  scale = max(|min|, |max|) / ((qmax - qmin) / 2),  zero_point = 0
                    (128 for quint8: the middle of 0..255)
        affine:     scale = (max - min) / (qmax - qmin),
                    zero_point = clamp(qmin - round(min / scale), qmin, qmax)

    ``scale`` is at least ``eps``, so an all-zero tensor gets a tiny step instead of a
    division by zero. Returns float32 and int64 arrays of ``min_val``'s shape.
    """
    d = _as_qdtype(dtype)
    if qscheme not in _SCHEMES:
        raise ValueError(f"calculate_qparams: qscheme must be one of {_SCHEMES}, got {qscheme!r}")
    qmin = d.qmin if quant_min is None else int(quant_min)
    qmax = d.qmax if quant_max is None else int(quant_max)
    lo = np.minimum(np.asarray(min_val, np.float32), np.float32(0))
    hi = np.maximum(np.asarray(max_val, np.float32), np.float32(0))
    if np.any(lo > hi):
        raise ValueError(f"calculate_qparams: min_val {min_val} > max_val {max_val}")
    # BEGIN SOLUTION
    if qscheme in (per_tensor_symmetric, per_channel_symmetric):
        amax = np.maximum(-lo, hi)
        scale = np.maximum(amax / np.float32((qmax - qmin) / 2), np.float32(eps))
        # the integer for 0.0: 0 in int8, the middle of the range in uint8 (128 for 0..255)
        mid = 0 if d is not quint8 else (128 if (qmin, qmax) == (0, 255) else (qmin + qmax) // 2)
        zero_point = np.full(np.shape(scale), mid, dtype=np.int64)
    else:
        scale = np.maximum((hi - lo) / np.float32(qmax - qmin), np.float32(eps))
        zero_point = qmin - np.round(lo / scale).astype(np.int64)
        zero_point = np.clip(zero_point, qmin, qmax)
    # END SOLUTION
    return np.asarray(scale, np.float32), np.asarray(zero_point, np.int64)


def _broadcast(param, ndim: int, axis, shape_of=None):
    """A per-channel parameter (C,) shaped to broadcast along ``axis`` of an ndim array.

    ``shape_of`` (the array's shape) lets a wrong axis or a wrong number of channels fail here,
    naming both shapes, instead of as a bare NumPy broadcasting error further on.
    """
    param = np.asarray(param)
    if axis is None or param.ndim == 0:
        return param
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis={axis} is out of range for an input with {ndim} dimensions "
                         f"{tuple(shape_of) if shape_of is not None else ''}; pass the channel "
                         f"axis, e.g. 0 for a Linear/Conv2d weight".replace(" ;", ";"))
    if shape_of is not None and param.size not in (1, shape_of[axis]):
        raise ValueError(f"input {tuple(shape_of)} has {shape_of[axis]} channels along axis "
                         f"{axis}, got per-channel parameters of shape {param.shape}: pass one "
                         f"scale and zero point per channel")
    shape = [1] * ndim
    shape[axis] = -1
    return param.reshape(shape)


def quantize(x, scale, zero_point, dtype=qint8, axis=None, quant_min=None, quant_max=None):
    """q = clamp(round(x / scale) + zero_point, qmin, qmax) as an integer array of ``dtype``.

    ``scale``/``zero_point`` are scalars, or (C,) arrays with ``axis`` naming the channel axis
    of ``x``. Rounding is half to even (NumPy's and PyTorch's). Values outside the range
    saturate at qmin/qmax instead of wrapping around. Like PyTorch's CPU kernels, x / scale is
    computed as x * (1 / scale) in float32 (the two differ in the last bit now and then, which
    moves a value sitting exactly on a .5 tie).
    """
    d = _as_qdtype(dtype)
    qmin = d.qmin if quant_min is None else int(quant_min)
    qmax = d.qmax if quant_max is None else int(quant_max)
    x = np.asarray(x, np.float32)
    s = _broadcast(np.asarray(scale, np.float32), x.ndim, axis, x.shape)
    z = _broadcast(np.asarray(zero_point, np.int64), x.ndim, axis, x.shape)
    if not np.all(np.isfinite(s) & (s > 0)):
        raise ValueError(f"quantize: scale must be positive and finite, got {np.asarray(scale)}; "
                         f"compute it with calculate_qparams (or an observer), which floors it "
                         f"at eps")
    if np.any((z < qmin) | (z > qmax)):
        raise ValueError(f"quantize: zero_point {np.asarray(zero_point)} is outside "
                         f"[{qmin}, {qmax}], the range of {d}")
    # BEGIN SOLUTION
    q = np.round(x * (np.float32(1) / s)) + z  # x * (1/scale), in float32: PyTorch's kernels
    return np.clip(q, qmin, qmax).astype(d.storage)
    # END SOLUTION


def dequantize(q, scale, zero_point, axis=None) -> np.ndarray:
    """x ~ (q - zero_point) * scale, float32 (the integers widened before subtracting, so
    uint8 - 128 does not wrap)."""
    q = np.asarray(q)
    s = _broadcast(np.asarray(scale, np.float32), q.ndim, axis)
    z = _broadcast(np.asarray(zero_point, np.int64), q.ndim, axis)
    # BEGIN SOLUTION
    return ((q.astype(np.int32) - z).astype(np.float32) * s).astype(np.float32)
    # END SOLUTION


class QTensor:
    """A quantized tensor: integer storage plus its scale and zero point.

    PyTorch's quantized tensor (``torch.quantize_per_tensor(x, s, z, torch.qint8)``) under the
    same method names: ``int_repr()`` the integers, ``dequantize()`` back to float,
    ``q_scale()``/``q_zero_point()`` (per tensor), ``q_per_channel_scales()``/
    ``q_per_channel_zero_points()``/``q_per_channel_axis()`` (per channel).
    It holds no gradient: quantized inference runs under no grad.
    """

    def __init__(self, int_repr: np.ndarray, scale, zero_point, dtype, axis=None):
        self._q = np.asarray(int_repr)
        self.dtype = _as_qdtype(dtype)
        if self._q.dtype != self.dtype.storage:
            raise TypeError(f"QTensor: integers of dtype {self._q.dtype} do not match "
                            f"{self.dtype} (stored as {np.dtype(self.dtype.storage)})")
        self.scale = np.asarray(scale, np.float32)
        self.zero_point = np.asarray(zero_point, np.int64)
        self.axis = axis
        if axis is None and (self.scale.size != 1 or self.zero_point.size != 1):
            raise ValueError("QTensor: a per-tensor quantized tensor has one scale and one "
                             f"zero point, got {self.scale.size} and {self.zero_point.size}")

    @property
    def shape(self):
        return self._q.shape

    @property
    def ndim(self) -> int:
        return self._q.ndim

    @property
    def is_quantized(self) -> bool:
        return True

    @property
    def nbytes(self) -> int:
        """Bytes of the integers plus the scale and zero point(s) stored beside them."""
        return self._q.nbytes + self.scale.nbytes + self.zero_point.nbytes

    def size(self, dim=None):
        return self._q.shape if dim is None else self._q.shape[dim]

    def int_repr(self):
        from tinytorch.core.tensor import Tensor

        return Tensor(self._q)

    def dequantize(self):
        from tinytorch.core.tensor import Tensor

        return Tensor(dequantize(self._q, self.scale, self.zero_point, self.axis))

    def numpy(self) -> np.ndarray:
        """The dequantized values (float32), as ``x.dequantize().numpy()``."""
        return dequantize(self._q, self.scale, self.zero_point, self.axis)

    def qscheme(self) -> str:
        return per_tensor_affine if self.axis is None else per_channel_affine

    def q_scale(self) -> float:
        self._per_tensor("q_scale")
        return float(self.scale.reshape(-1)[0])

    def q_zero_point(self) -> int:
        self._per_tensor("q_zero_point")
        return int(self.zero_point.reshape(-1)[0])

    def q_per_channel_scales(self):
        from tinytorch.core.tensor import Tensor

        return Tensor(self.scale.astype(np.float64))

    def q_per_channel_zero_points(self):
        from tinytorch.core.tensor import Tensor

        return Tensor(self.zero_point)

    def q_per_channel_axis(self) -> int:
        return self.axis

    def _per_tensor(self, what):
        if self.axis is not None:
            raise RuntimeError(f"{what}: this tensor is quantized per channel (axis "
                               f"{self.axis}); use q_per_channel_scales()/zero_points()")

    def reshape(self, *shape):
        if self.axis is not None:
            raise RuntimeError("reshape of a per-channel quantized tensor would lose its axis")
        return QTensor(self._q.reshape(*shape), self.scale, self.zero_point, self.dtype)

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        s = list(self._q.shape)
        end = end_dim % len(s)
        return self.reshape(s[:start_dim] + [-1] + s[end + 1:])

    def __repr__(self):
        how = (f"scale={self.q_scale():.6g}, zero_point={self.q_zero_point()}"
               if self.axis is None else f"per channel along axis {self.axis}")
        return f"QTensor(shape={self.shape}, dtype={self.dtype}, {how})"


def _array(x) -> np.ndarray:
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


def quantize_per_tensor(input, scale: float, zero_point: int, dtype) -> QTensor:
    """``torch.quantize_per_tensor``: one scale and zero point for the whole tensor."""
    s, z = np.float32(scale), np.int64(zero_point)
    return QTensor(quantize(_array(input), s, z, dtype), s, z, dtype)


def quantize_per_channel(input, scales, zero_points, axis: int, dtype) -> QTensor:
    """``torch.quantize_per_channel``: one (scale, zero_point) per slice along ``axis``."""
    x = _array(input)
    s, z = np.asarray(_array(scales), np.float32), np.asarray(_array(zero_points), np.int64)
    axis = axis % x.ndim
    if s.shape != (x.shape[axis],) or z.shape != s.shape:
        raise ValueError(f"quantize_per_channel: input {x.shape} has {x.shape[axis]} channels "
                         f"along axis {axis}, got {s.size} scales and {z.size} zero points")
    return QTensor(quantize(x, s, z, dtype, axis), s, z, dtype, axis)


def int_matmul(a_q: np.ndarray, a_zero_point, b_q: np.ndarray, b_zero_point) -> np.ndarray:
    """sum_k (a[i, k] - a_zp) * (b[k, j] - b_zp), exactly, in int32.

    ``a_q`` (M, K) and ``b_q`` (K, N) are int8/uint8; ``b_zero_point`` may be a (N,) array
    (per-channel weights). A product of two 8-bit numbers needs 16 bits and a sum of K of them
    up to 16 + log2(K) bits, so the integers are widened to int32 *before* multiplying:
    an int8 @ int8 product in int8 would wrap around after the first few terms. NumPy has no
    int8 BLAS, so this is a plain integer loop inside NumPy -- exact, but slower than a
    float32 BLAS matmul of the same shape.
    """
    a_q, b_q = np.asarray(a_q), np.asarray(b_q)
    if a_q.ndim != 2 or b_q.ndim != 2 or a_q.shape[1] != b_q.shape[0]:
        raise ValueError(f"int_matmul: expected a_q (M, K) and b_q (K, N), got {a_q.shape} "
                         f"and {b_q.shape}")
    if a_q.dtype.kind not in "iu" or b_q.dtype.kind not in "iu":
        raise TypeError(f"int_matmul: expected integer arrays (quantize them first), got "
                        f"{a_q.dtype} and {b_q.dtype}")
    # BEGIN SOLUTION
    a = a_q.astype(np.int32) - np.int32(a_zero_point)
    b = b_q.astype(np.int32) - np.asarray(b_zero_point, np.int32)
    return np.matmul(a, b)  # (M, N) int32
    # END SOLUTION


def quantize_bias(bias, input_scale, weight_scale) -> np.ndarray:
    """The float bias as int32 in units of the accumulator, input_scale * weight_scale
    (per output channel when the weight scale is), so it is added to the int32 sums."""
    acc_scale = np.float64(input_scale) * np.asarray(weight_scale, np.float64)
    return np.round(np.asarray(bias, np.float64) / acc_scale).astype(np.int32)


def requantize(acc: np.ndarray, acc_scale, out_scale, out_zero_point, dtype=quint8) -> np.ndarray:
    """int32 accumulators -> integers of the output's scale.

    An accumulator counts units of ``acc_scale`` (input scale x weight scale, per output
    channel along the last axis when the weights are per channel); the output counts units of
    ``out_scale``. So q_out = clamp(round(acc * acc_scale / out_scale) + out_zero_point).
    Integer engines apply the float multiplier acc_scale / out_scale as a fixed-point
    multiply and shift; here it is one float64 multiply.
    """
    d = _as_qdtype(dtype)
    # BEGIN SOLUTION
    m = np.asarray(acc_scale, np.float64) / np.float64(out_scale)
    q = np.round(acc * m) + np.int64(out_zero_point)
    return np.clip(q, d.qmin, d.qmax).astype(d.storage)
    # END SOLUTION
