"""Module 05 graded tests: every backward at its edge values and with every option.

Two independent oracles, no formula shared with the code under test:

* **finite differences** -- for a smooth function f, df/dx[i] ~ (f(x + h e_i) - f(x - h e_i)) / 2h
  (float64, h = 1e-6). Each case below is a function and ONE combination of its options
  (class weights with label smoothing and ignore_index, pos_weight, softmax along dim 0,
  var with a correction, x @ W.T with a square W, size-1 axes that broadcast, repeated
  indices ...), so a backward that only handles the default options fails here.
* **PyTorch's conventions at the kinks**, where there is no derivative and a choice is made:
  |x|'(0) = 0, relu'(0) = 0, leaky_relu'(0) = slope, clamp passes the gradient ON its bounds,
  clamp with min > max gives everything to max, maximum/minimum split ties half and half,
  d(a^0)/da = 0 even at a = 0, d(a^b)/db = 0 at a = 0, BCE at p exactly 0 or 1 stays finite,
  cross-entropy whose every target is ignored has gradient 0 (not nan).
"""

import numpy as np
import pytest

import tinytorch as tt
import tinytorch.nn.functional as F
from tinytorch.testing import assert_close

H = 1e-6


def _rand(seed, shape, low=None):
    x = np.random.default_rng(seed).standard_normal(shape)
    return x if low is None else np.abs(x) + low


def check_gradients(fn, *arrays, seed=7, rtol=1e-5, atol=1e-7, what="f"):
    """Compare backward of sum(G * fn(*arrays)) with central finite differences."""
    leaves = [tt.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = fn(*leaves)
    g = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(tt.tensor(g))

    def f(*xs):
        with tt.no_grad():
            return float((np.asarray(fn(*[tt.tensor(x) for x in xs]).numpy()) * g).sum())

    for k, a in enumerate(arrays):
        a = np.array(a, dtype=np.float64)
        numeric = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            plus, minus = a.copy(), a.copy()
            plus[i] += H
            minus[i] -= H
            args_p = [plus if j == k else np.array(x, dtype=np.float64) for j, x in enumerate(arrays)]
            args_m = [minus if j == k else np.array(x, dtype=np.float64) for j, x in enumerate(arrays)]
            numeric[i] = (f(*args_p) - f(*args_m)) / (2 * H)
        got = leaves[k].grad
        assert got is not None, f"{what}: input {k} got no gradient"
        assert_close(got, numeric, rtol=rtol, atol=atol,
                     what=f"gradient of {what} w.r.t. input {k} (vs finite differences)",
                     inputs={f"x{j}": x for j, x in enumerate(arrays)})


# ------------------------------------------------------------- losses: options and combos

LOGITS = _rand(0, (6, 4))
TARGET = np.array([0, 3, 1, 2, 1, 3])
WEIGHT = np.array([0.5, 2.0, 1.0, 3.0])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight", [None, WEIGHT], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2, 1.0])
@pytest.mark.parametrize("ignore", [-100, 3], ids=["no-ignored", "ignore3"])
def test_cross_entropy_gradient_every_option_combination(reduction, weight, smoothing, ignore):
    """Class weights x label smoothing x ignore_index x reduction: the smoothing mass of a row
    is weighted by the class weights too, and ignored rows leave the mean's denominator."""
    w = None if weight is None else tt.tensor(weight)
    check_gradients(
        lambda x: F.cross_entropy(x, tt.tensor(TARGET), weight=w, ignore_index=ignore,
                                  reduction=reduction, label_smoothing=smoothing),
        LOGITS, what=f"cross_entropy(weight={weight is not None}, label_smoothing={smoothing}, "
                     f"ignore_index={ignore}, reduction={reduction!r})")


@pytest.mark.parametrize("weight", [None, WEIGHT], ids=["unweighted", "weighted"])
def test_cross_entropy_with_probability_targets(weight):
    p = np.abs(_rand(1, (6, 4))) + 0.1
    p /= p.sum(axis=1, keepdims=True)
    w = None if weight is None else tt.tensor(weight)
    check_gradients(lambda x: F.cross_entropy(x, tt.tensor(p), weight=w, label_smoothing=0.1),
                    LOGITS, what="cross_entropy with class-probability targets")


@pytest.mark.parametrize("pos_weight", [None, np.array([0.5, 3.0, 1.0])], ids=["", "pos_weight"])
@pytest.mark.parametrize("weight", [None, np.array([2.0, 1.0, 0.25])], ids=["", "weight"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_gradient_with_pos_weight_and_weight(pos_weight, weight, reduction):
    y = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.3], [1.0, 1.0, 0.0], [0.0, 0.0, 0.7]])
    pw = None if pos_weight is None else tt.tensor(pos_weight)
    wt = None if weight is None else tt.tensor(weight)
    check_gradients(
        lambda z: F.binary_cross_entropy_with_logits(z, tt.tensor(y), weight=wt, pos_weight=pw,
                                                     reduction=reduction),
        3 * _rand(2, (4, 3)), what="binary_cross_entropy_with_logits")


@pytest.mark.parametrize("weight", [None, np.array([2.0, 1.0, 0.25])], ids=["", "weight"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_bce_gradient_with_weight(weight, reduction):
    y = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.3]])
    wt = None if weight is None else tt.tensor(weight)
    p = 1 / (1 + np.exp(-_rand(3, (2, 3))))
    check_gradients(lambda q: F.binary_cross_entropy(q, tt.tensor(y), weight=wt,
                                                     reduction=reduction), p, what="bce")


# ---------------------------------------------------------------- activations: options

@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_gradient_along_every_dim(dim, fn):
    check_gradients(lambda x: getattr(F, fn)(x, dim=dim), _rand(4, (2, 3, 4)),
                    what=f"{fn}(x, dim={dim}) on a (2, 3, 4) input")


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_gradient_both_forms(approximate):
    check_gradients(lambda x: F.gelu(x, approximate=approximate), 2 * _rand(5, (3, 5)),
                    what=f"gelu(approximate={approximate!r})")


@pytest.mark.parametrize("slope", [0.01, 0.3, 2.0])
def test_leaky_relu_gradient(slope):
    x = _rand(6, (3, 4))
    x[np.abs(x) < 1e-3] = 0.5  # away from the kink (the kink is tested below)
    check_gradients(lambda t: F.leaky_relu(t, slope), x, what=f"leaky_relu(slope={slope})")


# ------------------------------------------------------------ reductions: dim x correction

@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2)], ids=str)
@pytest.mark.parametrize("correction", [0, 1, 2])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_gradient_every_dim_and_correction(dim, correction, keepdim, name):
    check_gradients(lambda x: getattr(x, name)(dim=dim, correction=correction, keepdim=keepdim),
                    _rand(8, (3, 2, 4)),
                    what=f"{name}(dim={dim}, correction={correction}, keepdim={keepdim})")


@pytest.mark.parametrize("name, dim", [(n, d) for n in ("sum", "mean", "max", "min")
                                       for d in (None, 0, 1, (0, 1))
                                       if not (n in ("max", "min") and isinstance(d, tuple))],
                         ids=str)
def test_reduction_gradients_over_size_1_axes(name, dim):
    x = _rand(9, (1, 4))
    fn = (lambda t: getattr(t, name)()) if dim is None else \
        (lambda t: getattr(t, name)(dim) if name in ("sum", "mean") else getattr(t, name)(dim)[0])
    check_gradients(fn, x, what=f"{name}(dim={dim}) of a (1, 4) input")


# ----------------------------------------------------------- broadcasting and matmul shapes

SHAPES = [((3, 1), (3, 4)), ((1, 4), (3, 1)), ((), (2, 3)), ((2, 1, 4), (3, 1)),
          ((4,), (3, 4)), ((1, 1), (1,)), ((3, 4), (1,)), ((2, 3, 1), (2, 1, 1))]


@pytest.mark.parametrize("sa, sb", SHAPES, ids=str)
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "maximum", "pow"])
def test_broadcast_gradients_sum_over_every_broadcast_axis(sa, sb, op):
    """A size-1 axis that was stretched, and a leading axis that was added, both sum back."""
    fns = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
           "/": lambda a, b: a / b, "maximum": lambda a, b: a.maximum(b),
           "pow": lambda a, b: a ** b}
    a = _rand(10, sa, low=0.5 if op == "pow" else None)
    b = _rand(11, sb, low=0.5 if op == "/" else None)
    check_gradients(fns[op], a, b, what=f"a {op} b with shapes {sa} and {sb}")


@pytest.mark.parametrize("fn, sa, sb", [
    (lambda x, w: x @ w.T, (2, 3), (3, 3)),  # a square W: a missing transpose is not a shape error
    (lambda x, w: x @ w.T, (4, 3), (2, 3)),
    (lambda a, b: a @ b, (3, 3), (3, 3)),
    (lambda a, b: a @ b, (2, 3, 4), (4, 5)),
    (lambda a, b: a @ b, (4,), (4, 3)),
    (lambda a, b: a @ b, (2, 3, 4), (4,)),
    (lambda a, b: a @ b, (4,), (4,)),
    (lambda a, b: a @ b, (2, 1, 3, 4), (3, 4, 2)),
    (lambda a, b: a.T @ b, (3, 3), (3, 2)),
], ids=lambda v: str(v) if isinstance(v, tuple) else "")
def test_matmul_gradients_every_shape(fn, sa, sb):
    check_gradients(fn, _rand(12, sa), _rand(13, sb), what=f"matmul of {sa} and {sb}")


@pytest.mark.parametrize("index", [[0, 0, 2], ([1, 1, 0], [2, 2, 2]), (slice(None), [2, 2, 0]),
                                   (0, [1, 1]), (slice(None), None, 1)], ids=str)
def test_getitem_gradient_with_repeated_indices(index):
    """x[[0, 0, 2]] uses row 0 twice: its gradient is the sum of both uses."""
    check_gradients(lambda x: x[index], _rand(14, (3, 4)), what=f"x[{index}]")


def test_getitem_gradient_boolean_mask():
    x = _rand(15, (3, 4))
    mask = x > 0
    check_gradients(lambda t: t[tt.tensor(mask)], x, what="x[mask]")


@pytest.mark.parametrize("exponent", [0, 1, 2, 3, 0.5, -1, -2.5])
def test_pow_gradient_scalar_exponents(exponent):
    check_gradients(lambda x: x ** exponent, _rand(16, (2, 3), low=0.3), what=f"x ** {exponent}")


# ---------------------------------------------------------------------- the engine itself

def test_engine_sums_gradients_of_a_node_used_many_times():
    """y feeds three consumers (two of them the same op): dz/dy sums all three paths."""
    def fn(x):
        y = x * 2.0
        return (y * y + y.exp() * y) * y
    check_gradients(fn, _rand(17, (2, 3)), what="(y*y + exp(y)*y) * y with y = 2x")

    def diamond(a, b):
        h = a * b
        left, right = h + a, h * b
        return left * right + h
    check_gradients(diamond, _rand(18, (3,)), _rand(19, (3,)), what="diamond graph")


# ------------------------------------------------------ PyTorch's choices at the kinks

def _grads(fn, *arrays):
    leaves = [tt.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    fn(*leaves).sum().backward()
    return [leaf.grad for leaf in leaves]


KINKS = [
    ("abs", lambda x: x.abs(), [[-1.0, 0.0, 1.0]], [[-1.0, 0.0, 1.0]]),
    ("relu", lambda x: F.relu(x), [[-1.0, 0.0, 1.0]], [[0.0, 0.0, 1.0]]),
    ("leaky_relu(0.2)", lambda x: F.leaky_relu(x, 0.2), [[-1.0, 0.0, 1.0]], [[0.2, 0.2, 1.0]]),
    ("clip(-1, 1) on its bounds", lambda x: x.clip(-1.0, 1.0),
     [[-2.0, -1.0, 0.0, 1.0, 2.0]], [[0.0, 1.0, 1.0, 1.0, 0.0]]),
    ("clip(0, None)", lambda x: x.clip(0.0, None), [[-1.0, 0.0, 1.0]], [[0.0, 1.0, 1.0]]),
    ("clip(None, 0)", lambda x: x.clip(None, 0.0), [[-1.0, 0.0, 1.0]], [[1.0, 1.0, 0.0]]),
    ("clip(1, -1): min > max, every value becomes max", lambda x: x.clip(1.0, -1.0),
     [[-2.0, -1.0, 0.0, 1.0, 2.0]], [[0.0] * 5]),
    ("clamp with tensor bounds, min > max: the gradient goes to max",
     lambda x, lo, hi: x.clip(lo, hi),
     [[-2.0, 0.0, 2.0], [1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]],
     [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]),
    ("clamp with tensor bounds, x on them", lambda x, lo, hi: x.clip(lo, hi),
     [[-1.0, 0.0, 1.0, 3.0], [-1.0, -1.0, -1.0, -1.0], [1.0, 1.0, 1.0, 1.0]],
     [[1.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]),
    ("maximum splits ties", lambda a, b: a.maximum(b),
     [[1.0, 2.0, 3.0], [1.0, 1.0, 4.0]], [[0.5, 1.0, 0.0], [0.5, 0.0, 1.0]]),
    ("minimum splits ties", lambda a, b: a.minimum(b),
     [[1.0, 2.0, 3.0], [1.0, 1.0, 4.0]], [[0.5, 0.0, 1.0], [0.5, 1.0, 0.0]]),
    ("a ** b at a = 0 (b = 0, b = 2) and b = 0", lambda a, b: a ** b,
     [[0.0, 0.0, 2.0], [0.0, 2.0, 0.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, np.log(2.0)]]),
    ("x ** 0 at x = 0", lambda x: x ** 0, [[0.0, 1.0]], [[0.0, 0.0]]),
    ("sqrt'(4), exp'(0), log'(1)", lambda x: x.sqrt() + x.exp() + x.log(),
     [[4.0, 1.0]], [[0.25 + np.exp(4.0) + 0.25, 0.5 + np.e + 1.0]]),
]


@pytest.mark.parametrize("name, fn, inputs, expected", KINKS, ids=[k[0] for k in KINKS])
def test_gradients_at_the_kinks_follow_pytorch(name, fn, inputs, expected):
    for k, (got, want) in enumerate(zip(_grads(fn, *inputs), expected)):
        assert_close(got, want, what=f"{name}: gradient w.r.t. input {k}",
                     inputs={f"x{j}": x for j, x in enumerate(inputs)})


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_bce_gradient_at_probabilities_exactly_0_and_1_is_finite(reduction):
    """p = 0 with y = 0 and p = 1 with y = 1 are perfect predictions: gradient 0, not nan
    (PyTorch divides by max(p (1 - p), 1e-12))."""
    p = tt.tensor(np.array([0.0, 1.0, 0.25, 0.75]), requires_grad=True)
    y = np.array([0.0, 1.0, 1.0, 0.0])
    F.binary_cross_entropy(p, tt.tensor(y), reduction=reduction).backward()
    q = np.array([0.25, 0.75])
    want = np.concatenate([[0.0, 0.0], (q - y[2:]) / (q * (1 - q))])
    assert_close(p.grad, want / (4 if reduction == "mean" else 1),
                 what=f"d bce/dp at p = [0, 1, .25, .75], reduction={reduction!r}",
                 inputs={"p": p.detach(), "y": y})


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weight", [None, WEIGHT], ids=["unweighted", "weighted"])
def test_cross_entropy_every_target_ignored_gives_zero_gradient(smoothing, weight):
    x = tt.tensor(LOGITS[:2], requires_grad=True)
    w = None if weight is None else tt.tensor(weight)
    loss = F.cross_entropy(x, tt.tensor([-100, -100]), weight=w, label_smoothing=smoothing)
    loss.backward()
    assert np.all(np.isfinite(x.grad.numpy())) and not np.any(x.grad.numpy()), \
        f"every target ignored: the gradient is 0 everywhere (PyTorch), got {x.grad.numpy()}"
