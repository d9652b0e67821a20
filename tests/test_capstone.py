"""The capstone (module 20): the report's numbers recomputed from its saved artifacts,
submissions verified (honest accepted; edited accuracy, a lied latency, a swapped checkpoint
rejected, each naming the claim), and the leaderboard built from a folder of submissions.

One tiny pipeline run per session of this file (30 training steps, a 3-step fine-tune per
pruning level). Timings come from a deterministic fake clock (each reading advances 1.0-1.4
ms in a fixed cycle), so verification's timing checks are exact logic, not wall-clock luck:
no test here depends on how fast or loaded the machine is.
"""

import html.parser
import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("sklearn")

from tinytorch.benchmarking import Benchmark  # noqa: E402
from tinytorch.benchmarking.stats import summarize  # noqa: E402
from tinytorch.capstone import pipeline, report  # noqa: E402
from tinytorch.capstone.board import build_board, collect  # noqa: E402
from tinytorch.capstone.cli import main as cli  # noqa: E402
from tinytorch.capstone.submission import make_submission  # noqa: E402
from tinytorch.capstone.variants import VARIANTS, load_variant  # noqa: E402
from tinytorch.capstone.verify import verify  # noqa: E402
from tinytorch.optimization.quantized_layers import state_nbytes  # noqa: E402


class FakeClock:
    """Seconds that advance 1.0, 1.1, ..., 1.4 ms per reading, cyclically."""

    def __init__(self):
        self.t, self.n = 0.0, 0

    def __call__(self) -> float:
        self.t += 1e-3 * (1 + 0.1 * (self.n % 5))
        self.n += 1
        return self.t


def bench():
    return Benchmark(warmup=1, repeats=5, clock=FakeClock())


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("capstone") / "run"
    results = pipeline.run_pipeline(out, arch="mlp", quick=True, bench=bench(),
                                    train_steps=30, finetune_steps=3)
    return out, results


@pytest.fixture(scope="module")
def subs(run, tmp_path_factory):
    out, _ = run
    folder = tmp_path_factory.mktemp("subs")
    make_submission(out, folder / "ada", "int8_dynamic", "Ada")
    make_submission(out, folder / "bob", "float32", "Bob")
    return folder


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


# --------------------------------------------------------------------------- the report


def test_every_reported_number_is_recomputed_from_the_saved_artifacts(run):
    out, results = run
    on_disk = pipeline.load_results(out)
    assert on_disk == json.loads(json.dumps(results))
    assert [v["name"] for v in on_disk["variants"]] == list(VARIANTS)
    data = pipeline.digits_split("mlp")
    recomputed = []
    for v in on_disk["variants"]:
        path = out / v["checkpoint"]
        assert path.stat().st_size == v["checkpoint_bytes"], v["name"]
        model = load_variant("mlp", v["name"], path)
        acc, correct = pipeline.accuracy(model, data["x_test"], data["y_test"])
        assert (acc, correct, v["n_test"]) == (v["accuracy"], v["correct"], 359), v["name"]
        assert state_nbytes(model) == v["state_bytes"], v["name"]
        lat = summarize(v["latency_b1_ms"]["samples"])
        b32 = summarize(v["batch32_ms"]["samples"])
        assert lat.to_dict() == v["latency_b1_ms"]["summary"]
        assert v["throughput_b32"] == pytest.approx(32e3 / b32.median)
        recomputed.append({"name": v["name"], "accuracy": acc, "latency_ms": lat.median,
                           "latency_iqr_ms": lat.iqr, "throughput": 32e3 / b32.median,
                           "state_bytes": state_nbytes(model),
                           "checkpoint_bytes": path.stat().st_size})
    base = recomputed[0]
    md = (out / "report.md").read_text()
    page = (out / "report.html").read_text()
    for r in recomputed:  # the table's derived columns, from first principles
        r["accuracy_change_points"] = (r["accuracy"] - base["accuracy"]) * 100
        r["speedup"] = base["latency_ms"] / r["latency_ms"]
        r["size_ratio"] = base["state_bytes"] / r["state_bytes"]
        r["file_ratio"] = base["checkpoint_bytes"] / r["checkpoint_bytes"]
        cells = report.format_row(r)
        assert "| " + " | ".join(cells) + " |" in md, r["name"]
        assert "".join(f"<td>{c}</td>" for c in cells) in page, r["name"]


def test_quantized_rows_store_int8_and_the_pruned_file_is_smaller(run):
    _, results = run
    rows = {v["name"]: v for v in results["variants"]}
    assert rows["int8_static"]["state_bytes"] < rows["float32"]["state_bytes"] / 3.5
    assert rows["int8_dynamic"]["state_bytes"] < rows["float32"]["state_bytes"] / 3.5
    assert rows["pruned90"]["checkpoint_bytes"] < rows["float32"]["checkpoint_bytes"] / 4
    assert rows["pruned90"]["state_bytes"] == rows["float32"]["state_bytes"]  # dense in memory
    assert set(results["not_applicable"]) == {"kv_cache", "fusion"}


def test_html_report_is_self_contained(run):
    out, _ = run
    page = (out / "report.html").read_text()
    assert "data:image/png;base64," in page
    assert "http://" not in page and "https://" not in page and "<script src" not in page


# --------------------------------------------------------------------------- verification


def test_an_honest_submission_is_accepted(subs, tmp_path):
    v = verify(_copy(subs / "ada", tmp_path / "ada"), bench=bench())
    assert v.passed, v.describe()
    assert [c.claim for c in v.checks] == ["files (SHA-256)", "accuracy", "state_bytes",
                                           "checkpoint_bytes", "throughput_b32",
                                           "latency_b1_ms", "batch32_ms"]


def test_an_edited_accuracy_is_rejected_by_name(subs, tmp_path):
    d = _copy(subs / "bob", tmp_path / "bob")
    sub = json.loads((d / "submission.json").read_text())
    sub["claims"]["accuracy"] += 1 / 359  # one more digit right than the model gets
    (d / "submission.json").write_text(json.dumps(sub))
    v = verify(d, bench=bench())
    assert not v.passed and v.failed == ["accuracy"]
    assert "REJECTED: accuracy" in v.describe()


def test_a_claimed_latency_twice_too_good_is_rejected_by_name(subs, tmp_path):
    d = _copy(subs / "bob", tmp_path / "bob")
    sub = json.loads((d / "submission.json").read_text())
    for k in ("median", "q1", "q3"):
        sub["claims"]["latency_b1_ms"][k] /= 2
    (d / "submission.json").write_text(json.dumps(sub))
    v = verify(d, bench=bench())
    assert v.failed == ["latency_b1_ms"]


def test_a_swapped_checkpoint_is_rejected_by_its_hash(run, subs, tmp_path):
    out, _ = run
    d = _copy(subs / "bob", tmp_path / "bob")
    shutil.copyfile(out / "checkpoints" / "pruned90.npz", d / "model.npz")
    v = verify(d, bench=bench())
    assert v.failed == ["files (SHA-256)"]
    assert "model.npz" in v.checks[0].measured
    assert len(v.checks) == 1  # the swapped file is never loaded


@pytest.mark.parametrize("their_calibration_ms, passes", [(1e-3, True), (1e3, False)])
def test_claims_from_another_machine_are_scaled_by_the_calibration(subs, tmp_path,
                                                                   their_calibration_ms, passes):
    """Their machine timed the calibration workload 1e-3 ms (a machine vastly faster than this
    one: their claims scale up and hold) or 1e3 ms (vastly slower: scaled down, they fail)."""
    d = _copy(subs / "bob", tmp_path / "bob")
    sub = json.loads((d / "submission.json").read_text())
    sub["environment"]["cpu"] = "another machine"
    sub["calibration_ms"]["median"] = their_calibration_ms
    (d / "submission.json").write_text(json.dumps(sub))
    v = verify(d, bench=bench())
    assert not v.same_machine and v.passed == passes
    here = v.scale * their_calibration_ms  # this machine's calibration median
    assert 1.0 <= here <= 1.4  # the fake clock's readings: 1.0-1.4 ms apart
    if not passes:
        assert v.failed == ["latency_b1_ms", "batch32_ms"]
        assert "scaled x" in v.checks[-1].note


def test_cli_verify_exit_codes(subs, tmp_path, capsys):
    d = _copy(subs / "bob", tmp_path / "bob")
    (d / "report.md").write_text("edited")
    assert cli(["verify", str(d)]) == 1
    assert "report.md: SHA-256 differs" in capsys.readouterr().out
    assert cli(["verify", str(tmp_path / "nothing")]) == 2


# --------------------------------------------------------------------------- the board


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.scripts = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            self.links.append(attrs["href"])
        if tag == "script":
            self.scripts.append(attrs.get("src"))


def test_board_ranks_verified_submissions_and_links_their_reports(subs, tmp_path):
    folder = _copy(subs, tmp_path / "class")
    for name in ("ada", "bob"):
        assert verify(folder / name, bench=bench()).passed
    _copy(folder / "bob", folder / "eve")
    sub = json.loads((folder / "eve" / "submission.json").read_text())
    sub["name"], sub["claims"]["accuracy"] = "Eve", 1.0
    (folder / "eve" / "submission.json").write_text(json.dumps(sub))  # stale verification
    _copy(subs / "bob", folder / "new")  # never verified
    rows, skipped = collect(folder)
    assert sorted(r["name"] for r in rows) == ["Ada", "Bob"]
    assert dict(skipped).keys() == {"eve", "new"}
    page_path = build_board(folder, tmp_path / "board.html")
    page = page_path.read_text()
    parser = _Links()
    parser.feed(page)
    assert len(parser.links) == 2 and all((tmp_path / h).is_file() for h in parser.links)
    assert parser.scripts == [None, None]  # inline only: no library, no network
    assert "function sortBy" in page and page.count('onclick="sortBy(this)"') == 11
    data = json.loads(page.split("const BOARD = ")[1].split(";</script>")[0])
    accs = [r["accuracy"] for r in data]
    assert accs == sorted(accs, reverse=True)
    assert "Eve" not in [r["name"] for r in data]


def test_pipeline_rejects_a_baseline_other_than_float(tmp_path):
    with pytest.raises(ValueError, match="baseline"):
        pipeline.run_pipeline(tmp_path, variants=("int8_static",))


def test_claim_holds_up_to_the_noise_bound_and_accepts_conservative_claims():
    from tinytorch.capstone import claim_holds

    c = {"median": 1.0, "q1": 0.75, "q3": 1.25}  # bound with tolerance 0.5: 1.875, exactly
    assert claim_holds(c, 1.875) and claim_holds(c, 1.0) and claim_holds(c, 0.1)
    assert not claim_holds(c, 1.88)
    assert claim_holds(c, 1.25, tolerance=0) and not claim_holds(c, 1.26, tolerance=0)
    with pytest.raises(ValueError):
        claim_holds(c, 1.0, tolerance=-1)
