"""tinytorch.distributions against torch.distributions: log_prob, entropy, cdf, KL values and
their gradients on the same parameters; sample shapes and sample statistics."""

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.distributions as D

torch = pytest.importorskip("torch")
TD = torch.distributions


def _pair(*arrays):
    return ([tt.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def _close(a, b, tol=1e-5):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


def test_normal_matches_torch_with_gradients():
    rng = np.random.default_rng(0)
    loc, scale = rng.standard_normal(4).astype(np.float32), rng.uniform(0.5, 2, 4).astype(
        np.float32)
    v = rng.standard_normal((3, 4)).astype(np.float32)
    (ol, os_), (tl, ts) = _pair(loc, scale)
    o, t = D.Normal(ol, os_), TD.Normal(tl, ts)
    lo, lt_ = o.log_prob(tt.tensor(v)), t.log_prob(torch.tensor(v))
    _close(lo, lt_)
    _close(o.entropy(), t.entropy())
    _close(o.cdf(tt.tensor(v)), t.cdf(torch.tensor(v)))
    (lo.sum() + o.entropy().sum()).backward()
    (lt_.sum() + t.entropy().sum()).backward()
    _close(ol.grad, tl.grad)
    _close(os_.grad, ts.grad)
    q_o, q_t = D.Normal(0.0, 1.5), TD.Normal(0.0, 1.5)
    _close(D.kl_divergence(o, q_o), TD.kl_divergence(t, q_t))


def test_normal_samples_and_rsample_gradient():
    tt.manual_seed(0)
    loc = tt.tensor([1.0, -2.0], requires_grad=True)
    d = D.Normal(loc, tt.tensor([0.5, 2.0]))
    s = d.sample((20000,))
    assert s.shape == (20000, 2) and not s.requires_grad
    np.testing.assert_allclose(s.numpy().mean(0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(s.numpy().std(0), [0.5, 2.0], rtol=0.03)
    d.rsample((5,)).sum().backward()
    assert loc.grad.tolist() == [5.0, 5.0]


@pytest.mark.parametrize("use_logits", [False, True])
def test_categorical_matches_torch(use_logits):
    rng = np.random.default_rng(1)
    raw = rng.uniform(0.1, 1.0, (3, 5)).astype(np.float32)
    (o_p,), (t_p,) = _pair(raw)
    kw = "logits" if use_logits else "probs"
    o, t = D.Categorical(**{kw: o_p}), TD.Categorical(**{kw: t_p})
    _close(o.probs, t.probs)
    _close(o.logits, t.logits)
    v = np.array([0, 4, 2])
    lo, lt_ = o.log_prob(tt.tensor(v)), t.log_prob(torch.tensor(v))
    _close(lo, lt_)
    _close(o.entropy(), t.entropy())
    (lo.sum() + o.entropy().sum()).backward()
    (lt_.sum() + t.entropy().sum()).backward()
    _close(o_p.grad, t_p.grad, 1e-4)
    q = np.full((3, 5), 0.2, np.float32)
    _close(D.kl_divergence(o, D.Categorical(probs=tt.tensor(q))),
           TD.kl_divergence(t, TD.Categorical(probs=torch.tensor(q))))
    assert o.sample().shape == (3,) and o.sample((7,)).shape == (7, 3)
    assert o.log_prob(tt.tensor([[0], [1]])).shape == (2, 3)


def test_categorical_sample_frequencies():
    tt.manual_seed(0)
    s = D.Categorical(probs=tt.tensor([0.1, 0.6, 0.3])).sample((20000,))
    freq = np.bincount(s.numpy(), minlength=3) / 20000
    np.testing.assert_allclose(freq, [0.1, 0.6, 0.3], atol=0.015)


def test_bernoulli_and_uniform_match_torch():
    p = np.array([0.2, 0.7], np.float32)
    v = np.array([1.0, 0.0], np.float32)
    _close(D.Bernoulli(probs=tt.tensor(p)).log_prob(tt.tensor(v)),
           TD.Bernoulli(probs=torch.tensor(p)).log_prob(torch.tensor(v)), 1e-4)
    _close(D.Bernoulli(logits=tt.tensor(p)).entropy(),
           TD.Bernoulli(logits=torch.tensor(p)).entropy(), 1e-5)
    _close(D.kl_divergence(D.Bernoulli(probs=tt.tensor(p)), D.Bernoulli(probs=tt.tensor(v * 0 +
                                                                                     0.5))),
           TD.kl_divergence(TD.Bernoulli(probs=torch.tensor(p)),
                            TD.Bernoulli(probs=torch.tensor(v * 0 + 0.5))), 1e-4)
    u_o, u_t = D.Uniform(tt.tensor([0.0]), tt.tensor([4.0])), TD.Uniform(torch.tensor([0.0]),
                                                                       torch.tensor([4.0]))
    _close(u_o.log_prob(tt.tensor([1.0])), u_t.log_prob(torch.tensor([1.0])))
    _close(u_o.entropy(), u_t.entropy())
    tt.manual_seed(0)
    s = u_o.sample((1000,))
    assert s.shape == (1000, 1) and 0 <= s.numpy().min() and s.numpy().max() < 4
    b = D.Bernoulli(probs=tt.tensor([0.25])).sample((20000,))
    assert abs(b.numpy().mean() - 0.25) < 0.015


def test_importable_under_torch_name_paths():
    assert tt.distributions is D
    with pytest.raises(ValueError, match="either probs or logits"):
        D.Categorical()
