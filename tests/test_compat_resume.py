"""Crash-exact resume: a run killed mid-epoch and resumed from its last checkpoint, in a new
process, ends with weights bit-identical to the run that was never interrupted.

Every random stream matters: weight init and dropout draw from the global generator, the
DataLoader shuffles with a generator of its own. The training script runs in subprocesses; the
crashing one kills itself with SIGKILL in the middle of an epoch (no cleanup, no atexit), as a
preempted job would die.
"""

import shutil
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tinytorch as tt

SCRIPT = textwrap.dedent('''
    import os, signal, sys
    import numpy as np
    import tinytorch as tt
    import tinytorch.nn as nn
    from tinytorch.core.training import Trainer
    from tinytorch.data import DataLoader, TensorDataset

    mode, ckpt, out = sys.argv[1], sys.argv[2], sys.argv[3]
    EPOCHS, KILL_AT = 4, 2  # the crashing run dies inside epoch KILL_AT + 1

    tt.manual_seed(0)
    rs = np.random.default_rng(0)  # a small fixed data set: 256 samples of 20 features
    X = rs.standard_normal((256, 20)).astype(np.float32)
    y = (X[:, :3].sum(1) > 0).astype(np.int64) + (X[:, 3] > 1)
    loader = DataLoader(TensorDataset(tt.tensor(X), tt.tensor(y)), batch_size=32, shuffle=True,
                        generator=tt.Generator().manual_seed(1))
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 3))
    opt = tt.optim.Adam(model.parameters(), lr=1e-2)
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), progress=False)

    if mode == "resume":
        tt.randn(7)  # a new process may draw other numbers before it resumes: harmless
        trainer.load_checkpoint(ckpt)
    if mode == "crash":
        steps = {"n": 0}
        forward = model.forward

        def dying_forward(x):  # SIGKILL halfway through epoch KILL_AT + 1
            steps["n"] += 1
            if steps["n"] == KILL_AT * len(loader) + len(loader) // 2:
                os.kill(os.getpid(), signal.SIGKILL)
            return forward(x)

        model.forward = dying_forward
    while trainer.epoch < EPOCHS:
        trainer.fit(loader, epochs=1)
        trainer.save_checkpoint(ckpt)
    tt.save(model.state_dict(), out)
''')


def _run(folder, mode, ckpt, out):
    script = folder / "train.py"
    script.write_text(SCRIPT)
    return subprocess.run([sys.executable, str(script), mode, str(ckpt), str(out)],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def crashed(tmp_path_factory):
    """(folder, weights of the uninterrupted run, checkpoint left by the killed run)."""
    if not hasattr(signal, "SIGKILL"):
        pytest.skip("needs POSIX signals")
    folder = tmp_path_factory.mktemp("resume")
    full = _run(folder, "full", folder / "full.ckpt", folder / "full.npz")
    assert full.returncode == 0, full.stderr
    ckpt = folder / "crash.ckpt"
    crash = _run(folder, "crash", ckpt, folder / "never.npz")
    assert crash.returncode == -signal.SIGKILL, (crash.returncode, crash.stderr)
    assert not (folder / "never.npz").exists()
    return folder, tt.load(folder / "full.npz"), ckpt


def _resume(folder, ckpt):
    work = folder / "resumed.ckpt"  # a copy: the resumed run writes its own checkpoints
    shutil.copyfile(ckpt, work)
    resumed = _run(folder, "resume", work, folder / "resumed.npz")
    assert resumed.returncode == 0, resumed.stderr
    return tt.load(folder / "resumed.npz")


def test_killed_and_resumed_run_is_bit_identical(crashed):
    folder, full, ckpt = crashed
    assert tt.load(ckpt)["epoch"] == 2  # the last checkpoint before the crash
    resumed = _resume(folder, ckpt)
    assert list(full) == list(resumed)
    for k in full:
        assert np.array_equal(full[k].numpy(), resumed[k].numpy()), f"{k} differs after resume"


def test_without_rng_state_the_resumed_run_differs(crashed):
    """The test above can fail: dropping the random states from the checkpoint breaks it."""
    folder, full, ckpt = crashed
    state = tt.load(ckpt)
    del state["rng"]
    stripped = folder / "stripped.ckpt"
    tt.save(state, stripped)
    resumed = _resume(folder, stripped)
    assert any(not np.array_equal(full[k].numpy(), resumed[k].numpy()) for k in full)


def test_rng_state_round_trip():
    g = tt.Generator().manual_seed(3)
    state = g.get_state()
    assert state.dtype == tt.uint8 and state.shape == (40,)
    first = tt.randn(5, generator=g).numpy().copy()
    g.set_state(state)
    assert np.array_equal(tt.randn(5, generator=g).numpy(), first)
    s = tt.get_rng_state()
    a = tt.rand(3).numpy().copy()
    tt.set_rng_state(s)
    assert np.array_equal(tt.rand(3).numpy(), a)
    with pytest.raises(ValueError, match="40 bytes"):
        g.set_state(tt.zeros(5056, dtype=tt.uint8))  # a PyTorch state: a different generator
