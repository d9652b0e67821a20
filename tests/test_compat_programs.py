"""PyTorch programs run unchanged with tinytorch imported under the name ``torch``.

Each program in ``tests/compat_programs/`` is written for PyTorch (tutorial style: data,
model, loop, a final loss printed as JSON on the last line). It runs twice, each time in a
fresh process: once with PyTorch, once through ``torch_as_tinytorch.py``, which maps every
``torch`` / ``torch.*`` import to ``tinytorch`` / ``tinytorch.*`` and changes nothing else.
Both must finish and end at the same loss, within the spread that different random
initialisations give (programs that start from fixed numbers must agree to float32 rounding).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "compat_programs"
SHIM = HERE / "torch_as_tinytorch.py"

# program -> (relative tolerance on the final loss, why that much)
PROGRAMS = {
    # seeded: unseeded, torch's own final loss ranged 8.87-60.4 over six runs (RMSprop at lr
    # 1e-3 does not always reach the optimum in 2,000 steps) and failed a CI run at 11.48
    "poly_fit.py": (0.05, "each framework's own draws from seed 0; both end near the optimum"),
    "custom_function.py": (1e-4, "a fixed start: only float32 rounding differs"),
    "manual_sgd.py": (1e-4, "a fixed start (weights from NumPy): only rounding differs"),
    "cnn_digits.py": (0.35, "random init and shuffling: 4 epochs on 1,400 digits"),
    "char_mlp_lm.py": (0.10, "the same seed draws different numbers in each framework"),
}


def _start(program: Path, *prefix) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, *map(str, prefix), str(program)], cwd=HERE, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _final(proc: subprocess.Popen, name: str) -> dict:
    try:
        out, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 0, f"{name} failed:\n{err[-3000:]}"
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_matches_torch(name):
    pytest.importorskip("torch")
    if name == "cnn_digits.py":
        pytest.importorskip("sklearn")
    rtol, why = PROGRAMS[name]
    ours, ref = _start(HERE / name, SHIM), _start(HERE / name)  # side by side: two cores
    ours, ref = _final(ours, f"{name} (tinytorch)"), _final(ref, f"{name} (PyTorch)")
    assert abs(ours["final_loss"] - ref["final_loss"]) <= rtol * abs(ref["final_loss"]), (
        f"{name}: tinytorch ends at {ours['final_loss']:.6g}, PyTorch at "
        f"{ref['final_loss']:.6g} (allowed: {rtol:.0%}, {why})")
    if "accuracy" in ref:
        assert ours["accuracy"] >= ref["accuracy"] - 0.05, (ours, ref)


def test_shim_maps_every_torch_import(tmp_path):
    """The shim itself: torch.X is tinytorch.X, and a missing torch.X fails by its name."""
    prog = tmp_path / "p.py"
    prog.write_text(
        "import torch, torch.nn as nn, torch.nn.functional as F, torch.optim as optim\n"
        "from torch.utils.data import DataLoader\n"
        "import tinytorch, tinytorch.nn.functional\n"
        "assert torch is tinytorch and F is tinytorch.nn.functional\n"
        "assert DataLoader is tinytorch.data.DataLoader\n"
        "try:\n    import torch.no_such_module\nexcept ModuleNotFoundError as e:\n"
        "    assert 'torch.no_such_module' in str(e)\n"
        "print('{\"final_loss\": 0}')\n")
    assert _final(_start(prog, SHIM), "shim") == {"final_loss": 0}
