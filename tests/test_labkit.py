"""tito.labkit: the setup every lab shares (thread limit, Agg, quick mode, output folder),
its Markdown table and its timer."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tito import labkit


@pytest.fixture
def clean_env(monkeypatch):
    """No lab or BLAS variables set; monkeypatch restores whatever the test changes."""
    for var in ("TINYTORCH_LAB_THREADS", "TINYTORCH_QUICK", "TINYTORCH_OUT", *labkit.THREAD_VARS):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_table_prints_markdown_right_aligned_with_a_blank_line(capsys):
    labkit.table(["a", "b"], [(1, "x"), (2.5, None)])
    assert capsys.readouterr().out == (
        "| a | b |\n"
        "|---:|---:|\n"
        "| 1 | x |\n"
        "| 2.5 | None |\n"
        "\n"
    )


def test_setup_creates_out_and_reads_quick(clean_env, tmp_path):
    out = tmp_path / "plots" / "nested"
    clean_env.setenv("TINYTORCH_OUT", str(out))
    clean_env.setenv("TINYTORCH_QUICK", "1")
    lab = labkit.setup("04_losses")
    assert lab.out == out and out.is_dir()
    assert lab.quick is True and lab.name == "04_losses"
    clean_env.setenv("TINYTORCH_QUICK", "0")
    assert labkit.setup("04_losses").quick is False


def test_setup_defaults_out_to_runs_labs_name(clean_env, tmp_path):
    clean_env.chdir(tmp_path)
    lab = labkit.setup("09_spatial")
    assert lab.out == Path("runs/labs/09_spatial")
    assert (tmp_path / "runs" / "labs" / "09_spatial").is_dir()
    assert lab.quick is False


def test_threads_default_to_one(clean_env):
    assert labkit.limit_threads() == "1"
    assert all(os.environ[v] == "1" for v in labkit.THREAD_VARS)


def test_threads_take_the_requested_count_but_a_preset_variable_wins(clean_env):
    clean_env.setenv("TINYTORCH_LAB_THREADS", "3")
    clean_env.setenv("MKL_NUM_THREADS", "2")
    assert labkit.limit_threads() == "3"
    env = os.environ
    assert (env["OPENBLAS_NUM_THREADS"], env["OMP_NUM_THREADS"], env["MKL_NUM_THREADS"]) == (
        "3", "3", "2")


def test_threads_zero_leaves_blas_alone(clean_env):
    clean_env.setenv("TINYTORCH_LAB_THREADS", "0")
    assert labkit.limit_threads() is None
    assert not any(v in os.environ for v in labkit.THREAD_VARS)


def test_importing_labkit_does_not_load_numpy_or_matplotlib():
    # BLAS reads its thread variables when NumPy loads: a lab must be able to import labkit
    # and call setup() before that happens.
    code = ("import sys, tito.labkit; "
            "print(any(m in sys.modules for m in ('numpy', 'matplotlib')))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert res.stdout.strip() == "False"


def test_best_time_returns_a_positive_float():
    t = labkit.best_time(lambda: sum(range(100)), repeat=2, min_time=0.001)
    assert isinstance(t, float) and t > 0


def test_best_time_with_min_time_zero_times_one_call_per_round():
    calls = []
    labkit.best_time(lambda: calls.append(1), repeat=4, min_time=0)
    assert len(calls) == 1 + 4  # one warm-up call, then one call in each of 4 rounds
