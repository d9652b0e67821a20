"""Recurrent layers under PyTorch's names: ``nn.RNN``, ``nn.LSTM``, ``nn.GRU`` and their cells.

A recurrent layer reads a sequence one step at a time and carries a hidden state ``h`` (an
LSTM also a cell state ``c``) from step to step:

* RNN:  ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or relu).
* LSTM: gates ``i, f, g, o`` (in that order along the weight rows, as PyTorch stores them);
  ``c' = f*c + i*g``, ``h' = o*tanh(c')``.
* GRU:  gates ``r, z, n``; ``n = tanh(x W_in^T + b_in + r*(h W_hn^T + b_hn))``,
  ``h' = (1-z)*n + z*h``.

Everything is a composition of tensor ops (matmul, sigmoid, tanh, slicing, stack), so the
backward pass through time comes from autograd. The input projections of all steps are done
in one matmul before the loop; only the ``h W_hh^T`` product is per step.

Parameter names, shapes, layouts and initialisation (every weight and bias
U(-1/sqrt(hidden), 1/sqrt(hidden))) are PyTorch's, so a ``state_dict`` moves between the two
frameworks unchanged: ``weight_ih_l{k}`` (gates*hidden, input or D*hidden),
``weight_hh_l{k}`` (gates*hidden, hidden), ``bias_ih_l{k}``, ``bias_hh_l{k}``, with a
``_reverse`` suffix for the backward direction of a bidirectional layer.

Shapes (L steps, N batch, D = 2 if bidirectional else 1):
    input: (L, N, H_in), or (N, L, H_in) with ``batch_first``, or unbatched (L, H_in).
    h_0 / c_0: (D*num_layers, N, H) or (D*num_layers, H) unbatched; zeros when omitted.
    output: (L, N, D*H) (batch_first: (N, L, D*H)), the last layer's h at every step.
    h_n / c_n: (D*num_layers, N, H), the final state of every layer and direction.
"""

from __future__ import annotations

import math

import numpy as np

from tinytorch.core import init
from tinytorch.core.layers import dropout as _dropout
from tinytorch.core.module import Module, Parameter
from tinytorch.core.tensor import Tensor
from tinytorch.core.tensor_functions import stack

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _step(mode: str, xw: Tensor, h: Tensor, c, w_hh: Tensor, b_hh):
    """One time step. ``xw`` is ``x W_ih^T + b_ih`` (N, G*H), already computed for all steps.
    Returns (h', c') (c' is None except for the LSTM)."""
    hw = h @ w_hh.T
    if b_hh is not None:
        hw = hw + b_hh
    H = h.shape[-1]
    if mode == "LSTM":
        gates = xw + hw
        i, f = gates[..., :H].sigmoid(), gates[..., H:2 * H].sigmoid()
        g, o = gates[..., 2 * H:3 * H].tanh(), gates[..., 3 * H:].sigmoid()
        c = f * c + i * g
        return o * c.tanh(), c
    if mode == "GRU":
        # the reset gate multiplies the hidden half of n only (with its bias), as PyTorch
        r = (xw[..., :H] + hw[..., :H]).sigmoid()
        z = (xw[..., H:2 * H] + hw[..., H:2 * H]).sigmoid()
        n = (xw[..., 2 * H:] + r * hw[..., 2 * H:]).tanh()
        return (1 - z) * n + z * h, None
    pre = xw + hw
    return (pre.tanh() if mode == "RNN_TANH" else pre.relu()), None


class _RNNBase(Module):
    """The shared machinery of RNN, LSTM and GRU: parameters, layers, directions, dropout."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__()
        if proj_size:
            raise NotImplementedError("LSTM proj_size is not supported here; use proj_size=0 "
                                      "and a Linear layer on the output instead")
        if not 0 <= dropout <= 1:
            raise ValueError(f"dropout should be a number in range [0, 1], got {dropout}")
        if num_layers < 1 or hidden_size < 1:
            raise ValueError(f"num_layers ({num_layers}) and hidden_size ({hidden_size}) "
                             "must be at least 1")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, 0
        dt = np.dtype(dtype or np.float32)
        G, D = _GATES[mode], 2 if bidirectional else 1
        for layer in range(num_layers):
            fan_in = input_size if layer == 0 else D * hidden_size
            for suffix in ("", "_reverse")[:D]:
                setattr(self, f"weight_ih_l{layer}{suffix}",
                        Parameter(np.empty((G * hidden_size, fan_in), dt)))
                setattr(self, f"weight_hh_l{layer}{suffix}",
                        Parameter(np.empty((G * hidden_size, hidden_size), dt)))
                if bias:
                    setattr(self, f"bias_ih_l{layer}{suffix}",
                            Parameter(np.empty((G * hidden_size,), dt)))
                    setattr(self, f"bias_hh_l{layer}{suffix}",
                            Parameter(np.empty((G * hidden_size,), dt)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's init: every weight and bias U(-1/sqrt(hidden), 1/sqrt(hidden))."""
        k = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -k, k)

    def flatten_parameters(self) -> None:
        """PyTorch packs the weights into one buffer for cuDNN; nothing to do on NumPy."""

    def _params(self, layer: int, suffix: str):
        g = lambda name: getattr(self, f"{name}_l{layer}{suffix}", None)  # noqa: E731
        return g("weight_ih"), g("weight_hh"), g("bias_ih"), g("bias_hh")

    def forward(self, input, hx=None):
        if not isinstance(input, Tensor):
            input = Tensor(input)
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: expected input (L, N, {self.input_size})"
                             f" (or (L, {self.input_size}) unbatched), got {tuple(input.shape)}")
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        L, N = x.shape[0], x.shape[1]
        D = 2 if self.bidirectional else 1
        h0, c0 = self._initial_state(hx, N, batched, x)
        states_h, states_c = [], []
        for layer in range(self.num_layers):
            outs = []
            for d, suffix in enumerate(("", "_reverse")[:D]):
                w_ih, w_hh, b_ih, b_hh = self._params(layer, suffix)
                xw = x @ w_ih.T  # all steps at once: (L, N, G*H)
                if b_ih is not None:
                    xw = xw + b_ih
                k = layer * D + d
                h, c = h0[k], (c0[k] if c0 is not None else None)
                steps = range(L - 1, -1, -1) if d else range(L)
                hs = [None] * L
                for t in steps:
                    h, c = _step(self.mode, xw[t], h, c, w_hh, b_hh)
                    hs[t] = h
                outs.append(stack(hs, 0))
                states_h.append(h)
                states_c.append(c)
            x = outs[0] if D == 1 else stack(outs, 2).flatten(2)  # (L, N, D*H)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = _dropout(x, self.dropout, True)
        h_n = stack(states_h, 0)
        out = x
        if batched and self.batch_first:
            out = out.transpose(0, 1)
        if not batched:
            out, h_n = out.squeeze(1), h_n.squeeze(1)
        if self.mode == "LSTM":
            c_n = stack(states_c, 0)
            return out, (h_n, c_n if batched else c_n.squeeze(1))
        return out, h_n

    def _initial_state(self, hx, N, batched, x):
        D = 2 if self.bidirectional else 1
        shape = (D * self.num_layers, N, self.hidden_size)
        zeros = lambda: Tensor(np.zeros(shape, dtype=x.dtype))  # noqa: E731
        if hx is None:
            return zeros(), (zeros() if self.mode == "LSTM" else None)
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise ValueError("LSTM expects hx as a tuple (h_0, c_0)")
            h0, c0 = hx
        else:
            h0, c0 = hx, None
        fix = lambda s: s if batched else s.unsqueeze(1)  # noqa: E731
        h0 = fix(h0)
        c0 = fix(c0) if c0 is not None else None
        for name, s in (("h_0", h0), ("c_0", c0)):
            if s is not None and tuple(s.shape) != shape:
                raise ValueError(f"{type(self).__name__}: expected {name} of shape "
                                 f"{shape if batched else (shape[0], shape[2])}, got "
                                 f"{tuple(s.shape) if batched else (s.shape[0], s.shape[2])}")
        return h0, c0

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(_RNNBase):
    """Elman RNN: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (``nonlinearity='relu'``:
    relu). Returns ``(output, h_n)``; see the module docstring for shapes."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(_RNNBase):
    """Long short-term memory. Returns ``(output, (h_n, c_n))``; ``hx`` is ``(h_0, c_0)``."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype)


class GRU(_RNNBase):
    """Gated recurrent unit. Returns ``(output, h_n)``."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)


class _CellBase(Module):
    """One step of a recurrent layer, applied by the caller's own loop (``nn.LSTMCell`` ...).
    Parameters ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` as PyTorch names them."""

    def __init__(self, mode, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.bias = bias
        dt, G = np.dtype(dtype or np.float32), _GATES[mode]
        self.weight_ih = Parameter(np.empty((G * hidden_size, input_size), dt))
        self.weight_hh = Parameter(np.empty((G * hidden_size, hidden_size), dt))
        if bias:
            self.bias_ih = Parameter(np.empty((G * hidden_size,), dt))
            self.bias_hh = Parameter(np.empty((G * hidden_size,), dt))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        k = 1.0 / math.sqrt(hidden_size)
        for p in self.parameters():
            init.uniform_(p, -k, k)

    def forward(self, input, hx=None):
        if not isinstance(input, Tensor):
            input = Tensor(input)
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        zeros = lambda: Tensor(np.zeros((x.shape[0], self.hidden_size), x.dtype))  # noqa: E731
        if self.mode == "LSTM":
            h, c = hx if hx is not None else (zeros(), zeros())
            if not batched:
                h, c = h.unsqueeze(0), c.unsqueeze(0)
        else:
            h, c = (hx if hx is not None else zeros()), None
            if not batched:
                h = h.unsqueeze(0)
        xw = x @ self.weight_ih.T
        if self.bias_ih is not None:
            xw = xw + self.bias_ih
        h, c = _step(self.mode, xw, h, c, self.weight_hh, self.bias_hh)
        if not batched:
            h, c = h.squeeze(0), (c.squeeze(0) if c is not None else None)
        return (h, c) if self.mode == "LSTM" else h


class RNNCell(_CellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity


class LSTMCell(_CellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, bias, device, dtype)


class GRUCell(_CellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, bias, device, dtype)
