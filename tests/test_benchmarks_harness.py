"""The benchmark harness (benchmarks/harness.py, benchmarks/run.py) runs end to end.

No timing is asserted (the machine is shared; speed is shown by ``benchmarks/run.py``, never
tested): only that workloads run, medians and ratios are computed, targets are judged, errors
are reported instead of crashing, and the table, JSON and markdown are written.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture()
def bench(monkeypatch):
    """(harness, run) from benchmarks/, imported as ``python benchmarks/run.py`` imports them."""
    monkeypatch.syspath_prepend(str(BENCH))
    harness = importlib.import_module("harness")
    spec = importlib.util.spec_from_file_location("_tinytorch_bench_run", BENCH / "run.py")
    run = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, run)
    spec.loader.exec_module(run)
    return harness, run


def _tiny(harness):
    a = np.arange(64, dtype=np.float32).reshape(8, 8)
    return [
        harness.Workload("tiny matmul", lambda: a @ a, lambda: a @ a, lambda: a @ a, target=1e9,
                         note="same work on every side"),
        harness.Workload("impossible target", lambda: a.sum(), lambda: a.sum(), target=0.0),
        harness.Workload("no torch side", lambda: a + 1, None, lambda: a + 1),
    ]


def test_run_gives_medians_ratios_and_verdicts(bench):
    harness, _ = bench
    results = harness.run(_tiny(harness), repeats=3, warmup=1, threads=None)
    assert [r.name for r in results] == ["tiny matmul", "impossible target", "no torch side"]
    first, impossible, no_torch = results
    assert all(len(v) == 3 for v in first.samples.values())
    assert first.tinytorch_ms > 0 and first.torch_ms > 0 and first.numpy_ms > 0
    assert first.ratio == pytest.approx(first.tinytorch_ms / first.torch_ms)
    assert first.met is True
    assert impossible.met is False and impossible.numpy_ms is None
    assert no_torch.torch_ms is None and no_torch.ratio is None and no_torch.met is None


def test_a_failing_workload_is_reported_and_the_others_still_run(bench):
    harness, _ = bench

    def stub():
        raise NotImplementedError("module 05 (autograd) is not implemented yet")

    ws = [harness.Workload("stubbed", stub, lambda: None, target=1.5), *_tiny(harness)[:1]]
    broken, ok = harness.run(ws, repeats=2, warmup=1, threads=None)
    assert broken.error.startswith("NotImplementedError: module 05")
    assert broken.tinytorch_ms is None and broken.met is None
    assert ok.error is None and ok.tinytorch_ms > 0
    table = harness.format_table([broken, ok])
    assert "stubbed" in table and "error" in table


def test_table_json_and_markdown(bench, tmp_path):
    harness, _ = bench
    results = harness.run(_tiny(harness), repeats=2, warmup=0, threads=None)
    table = harness.format_table(results)
    for column in ("workload", "tinytorch ms", "torch ms", "numpy ms", "ratio tt/torch",
                   "target", "met?"):
        assert column in table.splitlines()[0]
    assert "tiny matmul" in table and "NO" in table and "yes" in table

    info = harness.machine_info(2)
    harness.write_json(results, tmp_path / "r.json", info)
    payload = json.loads((tmp_path / "r.json").read_text())
    assert payload["machine"]["numpy"] == np.__version__ and payload["machine"]["cores"]
    rows = {r["name"]: r for r in payload["results"]}
    assert rows["impossible target"]["met"] is False
    assert rows["tiny matmul"]["ratio"] == pytest.approx(results[0].ratio)

    md = harness.to_markdown(results, info)
    assert md.startswith("| workload | tinytorch ms |")
    assert "| impossible target |" in md and "Machine:" in md


def test_print_table_without_and_with_rich(bench, capsys):
    harness, _ = bench
    results = harness.run(_tiny(harness)[:1], repeats=1, warmup=0, threads=None)
    harness.print_table(results, harness.machine_info(1))
    assert "tiny matmul" in capsys.readouterr().out


_TINY_MODULE = '''
import numpy as np
from harness import Workload

def workloads(quick):
    n = 4 if quick else 64
    a = np.ones((n, n), dtype=np.float32)
    return [Workload(f"square {n}", lambda: a @ a, lambda: a @ a, lambda: a @ a, target=100.0),
            Workload("sum only", lambda: a.sum(), None)]
'''


def test_run_py_discovers_bench_modules_and_writes_reports(bench, tmp_path, capsys):
    _, run = bench
    (tmp_path / "bench_tiny.py").write_text(_TINY_MODULE)
    js, md = tmp_path / "out.json", tmp_path / "out.md"
    code = run.main(["--mode", "interleaved", "--quick", "--threads", "0", "--dir", str(tmp_path), "--json", str(js),
                     "--markdown", str(md)])
    assert code == 0
    out = capsys.readouterr().out
    assert "square 4" in out and "sum only" in out
    names = [r["name"] for r in json.loads(js.read_text())["results"]]
    assert names == ["square 4", "sum only"]
    assert "| square 4 |" in md.read_text()

    quick = ["--mode", "interleaved", "--quick", "--threads", "0", "--dir", str(tmp_path)]
    assert run.main([*quick, "--only", "square"]) == 0
    out = capsys.readouterr().out
    assert "square 4" in out and "sum only" not in out
    assert run.main([*quick, "--only", "nothing-matches"]) == 2


def test_a_broken_bench_module_is_an_error_row_not_a_crash(bench, tmp_path, capsys):
    _, run = bench
    (tmp_path / "bench_tiny.py").write_text(_TINY_MODULE)
    broken = "import tinytorch\nraise ImportError('no layers yet')\n"
    (tmp_path / "bench_broken.py").write_text(broken)
    js = tmp_path / "out.json"
    code = run.main(["--mode", "interleaved", "--quick", "--threads", "0", "--dir", str(tmp_path), "--json", str(js)])
    assert code == 1  # something raised: the exit status says so
    rows = {r["name"]: r for r in json.loads(js.read_text())["results"]}
    assert rows["bench_broken.py"]["error"] == "ImportError: no layers yet"
    assert rows["square 4"]["error"] is None and rows["square 4"]["tinytorch_ms"] > 0


def test_the_core_benchmarks_run_in_quick_mode(bench, tmp_path):
    """Every workload of bench_core.py runs (tiny sizes, one repeat): the suite cannot rot."""
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    _, run = bench
    js = tmp_path / "core.json"
    code = run.main(["--mode", "interleaved", "--quick", "--threads", "0", "--only", "core", "--repeats", "1",
                     "--warmup", "0", "--json", str(js)])
    results = json.loads(js.read_text())["results"]
    assert [r["name"] for r in results if r["error"]] == []
    assert code == 0
    names = " ".join(r["name"] for r in results)
    for expected in ("matmul", "elementwise", "MLP", "digits", "SDPA", "scalar loop"):
        assert expected in names
