"""Anomaly detection (``tt.autograd.detect_anomaly``): the op that first made nan/inf is named,
with the line of user code that created it; off, the engine records nothing.

The core tests use only tinytorch; the last test compares the message with PyTorch's.
"""

import re

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.core import autograd as engine
from tinytorch.core.tensor_ops import Sqrt

# the nan/inf these tests make on purpose also make NumPy warn; that is not what is tested
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _line_of(text: str) -> str:
    """'File "...test_anomaly.py", line N' for the line of this file that contains ``text``."""
    with open(__file__) as f:
        n = next(i for i, line in enumerate(f, 1) if text in line and "_line_of" not in line)
    return f'test_anomaly.py", line {n}'


def test_backward_nan_names_the_op_and_the_forward_line():
    x = tt.tensor([0.0, 4.0], requires_grad=True)
    with tt.autograd.detect_anomaly():
        root = x.sqrt()  # forward finite: sqrt(0) = 0
        loss = (root * 0.0).sum()  # 0 * d sqrt/dx at 0 = 0 * inf = nan in SqrtBackward
        with pytest.raises(RuntimeError) as info:
            loss.backward()
    msg = str(info.value)
    assert msg.startswith("Function 'SqrtBackward' returned nan values in its 0th output.")
    assert _line_of("root = x.sqrt()") in msg and "root = x.sqrt()" in msg
    assert "Usual cause and fix" in msg


def test_backward_inf_is_caught_too():
    x = tt.tensor([0.0, 4.0], requires_grad=True)
    with tt.autograd.set_detect_anomaly(True):
        y = x.sqrt()
        with pytest.raises(RuntimeError, match=r"'SqrtBackward' returned inf values in its 0th"):
            y.sum().backward()


def test_the_first_bad_op_is_named_not_a_later_one():
    # clamp hides log(0) = -inf in forward and passes it a 0 gradient; LogBackward makes
    # 0 / 0 = nan. The ops after it in backward order (Mul by w) must not be blamed, and the ops
    # before it (Sum, Mul by 3, Clamp) pass finite gradients
    x = tt.tensor([0.0, 1.0], requires_grad=True)
    w = tt.tensor([2.0, 2.0], requires_grad=True)
    with tt.autograd.detect_anomaly(check_nan=True):
        h = x * w
        logs = h.log()  # forward -inf at 0 is not an error (only nan is)
        out = (logs.clamp(min=-5.0) * 3.0).sum()
        with pytest.raises(RuntimeError) as info:
            out.backward()
    msg = str(info.value)
    assert msg.startswith("Function 'LogBackward' returned nan values in its 0th output.")
    assert "logs = h.log()" in msg


def test_forward_nan_is_named_with_its_line():
    x = tt.tensor([0.5, 2.0], requires_grad=True)
    with tt.autograd.detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            bad = (x - 1.0).log()  # log(-0.5) = nan
    msg = str(info.value)
    assert msg.startswith("Function 'Log' produced nan values in its forward output from inputs "
                          "without nan.")
    assert _line_of("bad = (x - 1.0).log()") in msg
    assert "clamp" in msg  # the fix


def test_forward_nan_coming_from_the_data_says_so():
    data = tt.tensor([1.0, float("nan")])
    w = tt.tensor([1.0, 1.0], requires_grad=True)
    with tt.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"'Mul' received nan values in its input 0"):
            data * w


def test_user_function_and_autograd_grad_are_checked():
    class Reciprocal(tt.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return 1.0 / a

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            return -grad / (a * a)

    x = tt.tensor([0.0, 2.0], requires_grad=True)  # forward inf (not an error), backward -inf
    with tt.autograd.detect_anomaly():
        y = Reciprocal.apply(x)
        with pytest.raises(RuntimeError, match=r"'ReciprocalBackward' returned inf values"):
            tt.autograd.grad(y.sum(), [x])
    assert issubclass(y.grad_fn.function, Reciprocal)  # a checking subclass, same behaviour


def test_off_by_default_and_restored_after_the_block():
    assert not tt.autograd.is_anomaly_enabled()
    x = tt.tensor([0.0, 4.0], requires_grad=True)
    y = x.sqrt()
    (y * 0.0).sum().backward()  # nan gradient, no error: the mode is off
    assert np.isnan(x.grad.numpy()[0])
    assert "_anomaly_trace" not in vars(y.grad_fn)  # nothing recorded per op when off
    assert y.grad_fn.function is Sqrt  # the op's own class, not anomaly mode's checking one
    assert engine._anomaly is None

    @tt.autograd.detect_anomaly()
    def inside():
        return tt.autograd.is_anomaly_enabled(), tt.autograd.is_anomaly_check_nan_enabled()

    assert inside() == (True, True)
    assert not tt.autograd.is_anomaly_enabled()
    tt.autograd.set_detect_anomaly(True)
    try:
        assert tt.autograd.is_anomaly_enabled()
        with tt.autograd.set_detect_anomaly(False):
            assert not tt.autograd.is_anomaly_enabled()
        assert tt.autograd.is_anomaly_enabled()
    finally:
        tt.autograd.set_detect_anomaly(False)
    assert engine._anomaly is None


def test_check_nan_false_records_lines_without_raising():
    x = tt.tensor([0.0, 4.0], requires_grad=True)
    with tt.autograd.detect_anomaly(check_nan=False):
        assert not tt.autograd.is_anomaly_check_nan_enabled()
        y = x.sqrt()
        (y * 0.0).sum().backward()
    assert "y = x.sqrt()" in "".join(y.grad_fn._anomaly_trace.format())
    assert np.isnan(x.grad.numpy()[0])


def test_healthy_training_step_is_unchanged_under_anomaly_mode():
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((8, 3)).astype(np.float32)
    grads = []
    for mode in (False, True):
        tt.manual_seed(0)
        model = tt.nn.Sequential(tt.nn.Linear(3, 4), tt.nn.ReLU(), tt.nn.Linear(4, 1))
        with tt.autograd.set_detect_anomaly(mode):
            model(tt.tensor(xs)).pow(2).mean().backward()
        grads.append([p.grad.numpy().copy() for p in model.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)


def test_message_matches_pytorch():
    torch = pytest.importorskip("torch")
    xt = torch.tensor([0.0, 4.0], requires_grad=True)
    with pytest.warns(UserWarning), torch.autograd.detect_anomaly():
        yt = (xt.sqrt() * 0.0).sum()
        with pytest.raises(RuntimeError) as theirs:
            yt.backward()
    x = tt.tensor([0.0, 4.0], requires_grad=True)
    with tt.autograd.detect_anomaly():
        y = (x.sqrt() * 0.0).sum()
        with pytest.raises(RuntimeError) as ours:
            y.backward()
    # PyTorch numbers its node classes (SqrtBackward0); the sentence is the same
    want = re.sub(r"Backward\d+", "Backward", str(theirs.value).splitlines()[0])
    assert str(ours.value).splitlines()[0] == want
