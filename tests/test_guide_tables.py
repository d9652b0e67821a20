"""The module guides' measured tables are written from the labs' results files, never by hand.

Charter: every number in the README or a guide is written by a command from a results file,
with machine and date, and a test fails when they disagree. For the module guides the command
is ``python -m tito.guide_tables`` (see tito/guide_tables.py): ``--collect NN`` runs lab NN in
full mode into ``modules/NN_slug/results/lab.json``, ``--write`` renders the guide's
``<!-- lab:KEY:start -->`` ... ``<!-- lab:KEY:end -->`` sections from it.
"""

import json

import pytest

from tito import guide_tables, labkit, registry

#: Modules whose guide still quotes hand-typed measurements in "Systems analysis" (tables
#: outside lab markers). Converting one: name the lab's tables (``table(..., key=...)``),
#: replace the guide's tables by markers, ``--collect NN``, ``--write``, and remove it here.
#: (None left. 10 and 11 quote no measured table: their guides point to the lab's output.)
KNOWN_GAPS: set[int] = set()

CONVERTED = [m for m in registry.MODULES
             if m.available and m.guide.is_file() and m.number not in KNOWN_GAPS]


def test_every_guide_matches_its_results_file():
    problems = guide_tables.check(modules=[])  # drift only; hand-typed tables below
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module", CONVERTED, ids=[m.dirname for m in CONVERTED])
def test_a_converted_guide_has_no_hand_typed_measured_table(module):
    text = module.guide.read_text()
    rows = guide_tables.hand_typed_tables(text)
    assert not rows, (f"{module.dirname}/README.md: a hand-typed table in 'Systems analysis' "
                      "(name it in the lab and put it between lab markers):\n" + "\n".join(rows))
    if guide_tables.MARKER.search(text):
        path = guide_tables.results_path(module)
        assert path.is_file(), (f"{module.dirname}: no results/lab.json; run "
                                f"`{guide_tables.command([module.number])}`")
        data = json.loads(path.read_text())
        assert not data["quick"], f"{module.dirname}: results measured in quick mode"
        assert data["machine"] and data["date"], f"{module.dirname}: results without machine/date"


def test_known_gaps_are_still_gaps():
    """A converted module still listed here hides nothing, but the list should say the truth."""
    done = [m.dirname for m in registry.MODULES if m.number in KNOWN_GAPS
            and not guide_tables.hand_typed_tables(m.guide.read_text())]
    assert not done, f"no hand-typed table left, remove from KNOWN_GAPS: {done}"


# --------------------------------------------------------------------------- the mechanism


def test_a_named_table_and_figure_are_recorded_with_machine_and_date(tmp_path, capsys):
    lab = labkit.Lab(name="99_demo", out=tmp_path, quick=True, threads="1")
    labkit.table(["a", "b"], [(1, "2.0")])
    plain = capsys.readouterr().out
    lab.record_table("t", ["a", "b"], [(1, "2.0")])  # record without printing
    assert capsys.readouterr().out == ""
    labkit._write_result("tables", "u", {"headers": ["x"], "rows": [["3"]]}, lab)
    lab.record("fig", "1.93x")
    data = json.loads((tmp_path / labkit.RESULTS_FILE).read_text())
    assert data["lab"] == "99_demo" and data["quick"] is True and data["date"]
    assert data["machine"] and data["tables"]["t"] == {"headers": ["a", "b"],
                                                       "rows": [["1", "2.0"]]}
    assert data["figures"] == {"fig": "1.93x"}
    assert plain == "| a | b |\n|---:|---:|\n| 1 | 2.0 |\n\n"  # unchanged for learners


def test_render_rewrites_tables_and_inline_figures_and_reports_missing_keys():
    data = {"tables": {"t": {"headers": ["a"], "rows": [["5"]]}}, "figures": {"f": "2.5x"},
            "date": "2026-12-01", "command": "python -m tito.guide_tables --collect 99",
            "machine": "CPU, 2 cores | Python 3 | NumPy 2 | 2026-12-01", "quick": False,
            "cores": 2, "load_average": [1.5, 1, 1], "threads": "1"}
    text = ("x <!-- lab:f:start -->1.0x<!-- lab:f:end --> y\n<!-- lab:t:start -->\n| a |\n"
            "<!-- lab:t:end -->\n<!-- lab:gone:start -->\n<!-- lab:gone:end -->\n")
    new, missing = guide_tables.render(text, data)
    assert "x <!-- lab:f:start -->2.5x<!-- lab:f:end --> y" in new
    assert "| a |\n|---:|\n| 5 |\n\nMeasured 2026-12-01 by `python -m tito.guide_tables " \
           "--collect 99` (full mode, load average 1.5 on 2 cores" in new
    assert missing == ["gone"]
    assert guide_tables.render(new, data)[0] == new  # idempotent
    assert guide_tables.render_table({"headers": ["max |d|"], "rows": [["1"]]}).startswith(
        "| max \\|d\\| |")  # a pipe inside a cell would split the Markdown column


def test_hand_typed_tables_are_found_only_in_systems_analysis_outside_markers():
    text = ("## The math\n| a |\n## Systems analysis\n<!-- lab:t:start -->\n| 1 |\n"
            "<!-- lab:t:end -->\n<!-- exact -->\n| bytes |\n|---|\n\n```\n| code |\n```\n"
            "| 9.1 ms |\n## Next\n| b |\n")
    assert guide_tables.hand_typed_tables(text) == ["| 9.1 ms |"]
