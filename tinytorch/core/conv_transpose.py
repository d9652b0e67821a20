"""Module 09 (given code) -- transposed convolution: the layer that upsamples in a decoder.

A convolution maps an image z to a smaller x; its gradient with respect to z maps an x-sized
gradient back onto z's grid. A *transposed* convolution is that map used as a forward:
``conv_transpose2d(x, W)`` is exactly ``d conv2d(z, W) / d z`` applied to x. So it is built
from the same two pieces as ``conv.py``, in the opposite order:

    forward:   cols = W^T @ x          (one matmul per group)      then col2im  -> z
    backward:  dx = W @ im2col(dz),    dW = x @ im2col(dz)^T       (no col2im at all)

Shapes are PyTorch's: input (N, C_in, H, W); weight (C_in, C_out / groups, kh, kw) (the
conv2d layout of the convolution being transposed, whose output channels are our inputs);
output (N, C_out, Ho, Wo) with

    Ho = (H - 1) * sh - 2 * ph + dh * (kh - 1) + output_padding_h + 1

``output_padding`` adds rows at the bottom/right that no window reaches (they hold only the
bias): it picks one of the several output sizes a strided convolution maps to the same H.
"""

from __future__ import annotations

import math

import numpy as np

from tinytorch.core import init
from tinytorch.core.autograd import Function
from tinytorch.core.im2col import BATCH_SECOND, _inverse, col2im, im2col, to_layout
from tinytorch.core.module import Module, Parameter
from tinytorch.core.tensor import Tensor
from tinytorch.core.windows import _as_image, _pair, _unbatch

__all__ = ["conv_transpose2d", "conv_transpose1d", "ConvTranspose2d", "ConvTranspose1d"]


class ConvTranspose2dFn(Function):
    """x (N, Cin, H, W), w (Cin, Cout/G, kh, kw), b (Cout,) or None -> (N, Cout, Ho, Wo)."""

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, output_padding, dilation, groups):
        n, cin, h, wd = x.shape
        _, cog, kh, kw = w.shape
        (sh, sw), (ph, pw), (oh, ow), (dh, dw) = stride, padding, output_padding, dilation
        cout = cog * groups
        ho = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oh + 1
        wo = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + ow + 1
        order = BATCH_SECOND  # (C, N, H, W): rows stay contiguous
        og, kg = cin // groups, cog * kh * kw
        wmat = w.reshape(cin, kg)  # conv2d's (O, C/G*kh*kw), with O = our Cin
        g = np.ascontiguousarray(x.transpose(order)).reshape(cin, -1)  # (Cin, N*H*W)
        cols = np.empty((cout * kh * kw, n * h * wd), dtype=np.result_type(x, w))
        for i in range(groups):  # W^T @ x: conv2d's dcols
            np.matmul(wmat[i * og:(i + 1) * og].T, g[i * og:(i + 1) * og],
                      out=cols[i * kg:(i + 1) * kg])
        padded = (n, cout, ho + 2 * ph, wo + 2 * pw)  # z with conv2d's padding around it
        zp = col2im(cols, tuple(padded[a] for a in order), order, (kh, kw), (h, wd), stride,
                    dilation)
        z = zp.transpose(_inverse(order))[:, :, ph:ph + ho, pw:pw + wo]
        out = np.ascontiguousarray(z) if b is None else z + b.reshape(1, cout, 1, 1)
        ctx.save_for_backward(g, wmat)
        ctx.conf = (x.shape, w.shape, stride, padding, dilation, groups)
        return out.astype(cols.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        g, wmat = ctx.saved_tensors
        x_shape, w_shape, stride, (ph, pw), dilation, groups = ctx.conf
        n, cin, h, wd = x_shape
        _, cog, kh, kw = w_shape
        og, kg = cin // groups, cog * kh * kw
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        order = BATCH_SECOND
        # dz's windows, read exactly where the forward wrote them: conv2d(dz, W)'s columns
        cols = im2col(to_layout(grad, (ph, ph, pw, pw), order), order, (kh, kw), (h, wd),
                      stride, dilation)  # (Cout*kh*kw, N*H*W)
        dx = dw = db = None
        if need_x:
            dxm = np.empty((cin, n * h * wd), dtype=grad.dtype)
            for i in range(groups):
                np.matmul(wmat[i * og:(i + 1) * og], cols[i * kg:(i + 1) * kg],
                          out=dxm[i * og:(i + 1) * og])
            dx = dxm.reshape(cin, n, h, wd).transpose(_inverse(order))
        if need_w:
            dwm = np.empty((cin, kg), dtype=grad.dtype)
            for i in range(groups):
                dwm[i * og:(i + 1) * og] = g[i * og:(i + 1) * og] @ cols[i * kg:(i + 1) * kg].T
            dw = dwm.reshape(w_shape)
        if need_b:
            db = grad.sum(axis=(0, 2, 3))
        return dx, dw, db, None, None, None, None, None


def _output_padding(output_size, in_hw, kernel, stride, padding, dilation, op):
    """The output_padding that makes the output ``output_size`` (PyTorch's rule)."""
    size = tuple(output_size)[-2:]
    pads = []
    for s, n, k, st, p, d in zip(size, in_hw, kernel, stride, padding, dilation):
        smallest = (n - 1) * st - 2 * p + d * (k - 1) + 1
        if not smallest <= s < smallest + st:
            raise ValueError(f"{op}: requested an output size of {size}, but valid sizes range "
                             f"from {smallest} to {smallest + st - 1} (for an input of "
                             f"{tuple(in_hw)})")
        pads.append(s - smallest)
    return tuple(pads)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """Transposed 2-D convolution, PyTorch's ``F.conv_transpose2d`` (see the module docstring).

    Args:
        input: (N, C_in, H, W) or (C_in, H, W).
        weight: (C_in, C_out / groups, kh, kw).
        bias: (C_out,) or None.
        stride, padding, output_padding, dilation: ints or pairs; ``output_padding`` must be
            smaller than the stride or the dilation.
        groups: as in conv2d.
    """
    op = "conv_transpose2d"
    x, unbatched = _as_image(input, op)
    weight = weight if isinstance(weight, Tensor) else Tensor(weight)
    if weight.ndim != 4:
        raise ValueError(f"{op}: weight must be 4-D (in_channels, out_channels/groups, kh, kw), "
                         f"got shape {tuple(weight.shape)}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    stride, dilation = _pair(stride, "stride", op), _pair(dilation, "dilation", op)
    padding = _pair(padding, "padding", op, minimum=0)
    output_padding = _pair(output_padding, "output_padding", op, minimum=0)
    cin, cog, kh, kw = weight.shape
    if x.shape[1] != cin:
        raise ValueError(f"{op}: input of shape {tuple(x.shape)} has {x.shape[1]} channels, but "
                         f"the weight of shape {tuple(weight.shape)} expects {cin} "
                         f"(weight.shape[0])")
    if cin % groups:
        raise ValueError(f"{op}: in_channels={cin} must be divisible by groups={groups}")
    for o, s, d in zip(output_padding, stride, dilation):
        if o >= s and o >= d:
            raise ValueError(f"{op}: output padding must be smaller than either stride or "
                             f"dilation, but got output_padding={output_padding}, "
                             f"stride={stride}, dilation={dilation}")
    if bias is not None:
        bias = bias if isinstance(bias, Tensor) else Tensor(bias)
        if tuple(bias.shape) != (cog * groups,):
            raise ValueError(f"{op}: bias must have shape ({cog * groups},), got "
                             f"{tuple(bias.shape)}")
    h, w = x.shape[2:]
    for n, k, s, p, d, o in zip((h, w), (kh, kw), stride, padding, dilation, output_padding):
        if (n - 1) * s - 2 * p + d * (k - 1) + o + 1 < 1:
            raise ValueError(f"{op}: padding {padding} is too large for an input of "
                             f"{(h, w)}: the output would be empty")
    out = ConvTranspose2dFn.apply(x, weight, bias, stride, padding, output_padding, dilation,
                                  int(groups))
    return _unbatch(out, unbatched)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """Transposed 1-D convolution: (N, C_in, L) -> (N, C_out, Lo), through the 2-D op on a
    height-1 image. weight (C_in, C_out / groups, k)."""
    x = input if isinstance(input, Tensor) else Tensor(input)
    weight = weight if isinstance(weight, Tensor) else Tensor(weight)
    if x.ndim not in (2, 3) or weight.ndim != 3:
        raise ValueError(f"conv_transpose1d: expected input (N, C, L) or (C, L) and weight "
                         f"(C_in, C_out/groups, k); got {tuple(x.shape)} and "
                         f"{tuple(weight.shape)}")
    one = lambda v: (1, _single(v))  # noqa: E731
    out = conv_transpose2d(x.unsqueeze(-2), weight.unsqueeze(-2), bias, one(stride),
                           (0, _single(padding)), (0, _single(output_padding)), groups,
                           one(dilation))
    return out.squeeze(-2)


def _single(v):
    return v[0] if isinstance(v, (tuple, list)) else v


class _ConvTransposeNd(Module):
    _dims = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__()
        op = type(self).__name__
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{op}: in_channels={in_channels} and out_channels={out_channels} "
                             f"must both be divisible by groups={groups}")
        if padding_mode != "zeros":
            raise ValueError(f"Only \"zeros\" padding mode is supported for {op}")
        tup = (lambda v, name, m=1: _pair(v, name, op, m)) if self._dims == 2 else \
            (lambda v, name, m=1: (_pair(v, name, op, m)[1],))
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = tup(kernel_size, "kernel_size")
        self.stride, self.dilation = tup(stride, "stride"), tup(dilation, "dilation")
        self.padding = tup(padding, "padding", 0)
        self.output_padding = tup(output_padding, "output_padding", 0)
        self.groups, self.padding_mode = groups, padding_mode
        dt = np.dtype(dtype or np.float32)
        self.weight = Parameter(np.empty((in_channels, out_channels // groups)
                                         + self.kernel_size, dtype=dt))
        if bias:
            self.bias = Parameter(np.empty((out_channels,), dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's: kaiming_uniform_(a=sqrt(5)) -- fan_in is weight.shape[1] * kernel area,
        i.e. out_channels / groups * kh * kw for a transposed conv -- and the bias
        U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _output_padding(self, input, output_size):
        if output_size is None:
            return self.output_padding
        x = input if isinstance(input, Tensor) else Tensor(input)
        k = self._dims
        size = tuple(int(s) for s in output_size)[-k:]
        if k == 1:
            return (_output_padding((1,) + size, (1, x.shape[-1]), (1,) + self.kernel_size,
                                    (1,) + self.stride, (0,) + self.padding,
                                    (1,) + self.dilation, type(self).__name__)[1],)
        return _output_padding(size, x.shape[-2:], self.kernel_size, self.stride, self.padding,
                               self.dilation, type(self).__name__)

    def extra_repr(self) -> str:
        k = self._dims
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * k:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * k:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * k:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class ConvTranspose2d(_ConvTransposeNd):
    """``torch.nn.ConvTranspose2d``: weight (in_channels, out_channels / groups, kh, kw).

    ``forward(input, output_size=None)``: pass ``output_size`` to pick among the output sizes a
    strided layer can produce (it sets output_padding for this call)."""

    def forward(self, input, output_size=None) -> Tensor:
        return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups,
                                self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """``torch.nn.ConvTranspose1d``: weight (in_channels, out_channels / groups, k)."""

    _dims = 1

    def forward(self, input, output_size=None) -> Tensor:
        return conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups,
                                self.dilation)
