"""``tinytorch.distributions``: the few probability distributions everyday PyTorch code uses.

* :class:`Normal` -- ``rsample`` is differentiable (``loc + eps * scale``: the
  reparameterisation trick of VAEs); ``log_prob``, ``entropy``, ``cdf``.
* :class:`Categorical` -- from ``probs`` or ``logits`` over the last dimension; ``sample``
  (policy-gradient agents), differentiable ``log_prob`` and ``entropy``.
* :class:`Bernoulli`, :class:`Uniform`.
* :func:`kl_divergence` for Normal||Normal, Categorical||Categorical, Bernoulli||Bernoulli.

Everything is a composition of tensor ops, so gradients flow through ``log_prob``,
``entropy`` and ``rsample`` to the parameters; samples come from tinytorch's global generator
(``tt.manual_seed`` repeats them). ``validate_args`` is accepted; values are not validated.
"""

from __future__ import annotations

import math

import numpy as np

import tinytorch as tt
from tinytorch.core.tensor import Tensor

__all__ = ["Distribution", "Normal", "Categorical", "Bernoulli", "Uniform", "kl_divergence"]


def _t(x) -> Tensor:
    if isinstance(x, Tensor):
        return x
    return tt.tensor(np.asarray(x, dtype=np.float32))


def _broadcast(*xs):
    xs = [_t(x) for x in xs]
    shape = np.broadcast_shapes(*(tuple(x.shape) for x in xs))
    return [x if tuple(x.shape) == shape else x.expand(*shape) for x in xs]


class Distribution:
    """Base class: ``batch_shape`` (independent distributions), ``event_shape`` (one draw)."""

    has_rsample = False

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self.batch_shape, self.event_shape = tt.Size(batch_shape), tt.Size(event_shape)

    def _shape(self, sample_shape) -> tuple:
        return tuple(sample_shape) + tuple(self.batch_shape) + tuple(self.event_shape)

    def sample(self, sample_shape=()):
        """A draw of shape ``sample_shape + batch_shape + event_shape``, cut from the graph."""
        with tt.no_grad():
            return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sample")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(batch_shape={tuple(self.batch_shape)})"


class Normal(Distribution):
    """N(loc, scale^2), elementwise over the broadcast shape of ``loc`` and ``scale``."""

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = _broadcast(loc, scale)
        super().__init__(self.loc.shape)

    @property
    def mean(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale ** 2

    def rsample(self, sample_shape=()):
        eps = tt.randn(self._shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        value = _t(value)
        return (-((value - self.loc) ** 2) / (2 * self.scale ** 2) - self.scale.log()
                - 0.5 * math.log(2 * math.pi))

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    def cdf(self, value):
        return 0.5 * (1 + tt.erf((_t(value) - self.loc) / (self.scale * math.sqrt(2))))


class Categorical(Distribution):
    """One of K outcomes (the last dimension of ``probs`` or ``logits``) per batch element.

    ``probs`` need not sum to 1 (they are normalised); ``logits`` are unnormalised log-
    probabilities. ``self.logits`` holds the normalised log-probabilities, as in PyTorch.
    """

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: pass either probs or logits, not both or neither")
        if probs is not None:
            probs = _t(probs)
            self.probs = probs / probs.sum(-1, keepdim=True)
            self.logits = self.probs.clamp(min=float(np.finfo(np.float32).tiny)).log()
        else:
            logits = _t(logits)
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
            self.probs = self.logits.exp()
        self._num_events = self.probs.shape[-1]
        super().__init__(self.probs.shape[:-1])

    def sample(self, sample_shape=()):
        n = int(np.prod(sample_shape)) if len(sample_shape) else 1
        with tt.no_grad():
            flat = self.probs.detach().reshape(-1, self._num_events)
            draws = tt.multinomial(flat, n, replacement=True)  # (batch, n)
            out = draws.T.reshape(tuple(sample_shape) + tuple(self.batch_shape))
        return out

    def log_prob(self, value):
        value = _t(value).long()
        logits = self.logits
        shape = np.broadcast_shapes(tuple(value.shape), tuple(logits.shape[:-1]))
        logits = logits.expand(*shape, self._num_events)
        value = value.expand(*shape) if tuple(value.shape) != shape else value
        return logits.gather(-1, value.unsqueeze(-1)).squeeze(-1)

    def entropy(self):
        return -(self.probs * self.logits).sum(-1)

    @property
    def mean(self):
        raise NotImplementedError("Categorical has no mean (its outcomes are labels)")


class Bernoulli(Distribution):
    """1 with probability ``probs`` (or ``sigmoid(logits)``), else 0, elementwise."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Bernoulli: pass either probs or logits, not both or neither")
        if probs is not None:
            self.probs = _t(probs)
            p = self.probs.clamp(1e-7, 1 - 1e-7)
            self.logits = p.log() - (1 - p).log()
        else:
            self.logits = _t(logits)
            self.probs = self.logits.sigmoid()
        super().__init__(self.probs.shape)

    @property
    def mean(self):
        return self.probs

    def sample(self, sample_shape=()):
        with tt.no_grad():
            u = tt.rand(self._shape(sample_shape), dtype=self.probs.dtype)
            return (u < self.probs.detach()).to(self.probs.dtype)

    def log_prob(self, value):
        value = _t(value).to(self.logits.dtype)
        return -tt.nn.functional.binary_cross_entropy_with_logits(self.logits, value,
                                                                    reduction="none")

    def entropy(self):
        return tt.nn.functional.binary_cross_entropy_with_logits(self.logits, self.probs,
                                                                   reduction="none")


class Uniform(Distribution):
    """Uniform on [low, high), elementwise."""

    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = _broadcast(low, high)
        super().__init__(self.low.shape)

    @property
    def mean(self):
        return (self.low + self.high) / 2

    def rsample(self, sample_shape=()):
        u = tt.rand(self._shape(sample_shape), dtype=self.low.dtype)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        value = _t(value)
        inside = ((value >= self.low) & (value < self.high)).to(self.low.dtype)
        return inside.log() - (self.high - self.low).log()

    def entropy(self):
        return (self.high - self.low).log()


def kl_divergence(p: Distribution, q: Distribution):
    """KL(p || q) for two distributions of the same family (Normal, Categorical, Bernoulli)."""
    if isinstance(p, Normal) and isinstance(q, Normal):
        var_ratio = (p.scale / q.scale) ** 2
        t1 = ((p.loc - q.loc) / q.scale) ** 2
        return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())
    if isinstance(p, Categorical) and isinstance(q, Categorical):
        return (p.probs * (p.logits - q.logits)).sum(-1)
    if isinstance(p, Bernoulli) and isinstance(q, Bernoulli):
        return (p.probs * (p.logits.sigmoid().log() - q.logits.sigmoid().log())
                + (1 - p.probs) * ((-p.logits).sigmoid().log() - (-q.logits).sigmoid().log()))
    raise NotImplementedError(f"kl_divergence({type(p).__name__}, {type(q).__name__}) is not "
                              "implemented here")
