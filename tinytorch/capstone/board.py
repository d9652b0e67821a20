"""A leaderboard that needs no server: one static HTML page from a folder of submissions.

    tito benchmark board submissions/        # -> submissions/index.html

Each subfolder holding a ``submission.json`` is a row. Only **verified** submissions are
ranked: those with a ``verification.json`` that accepted the very ``submission.json`` now in
the folder (its SHA-256 recorded at verification time) and whose files still hash as
submitted. The others are listed below the table with the reason, unranked. Clicking a
column header sorts by it (a few lines of plain JavaScript in the page; no library, no
network); each row links the submission's own report.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

from tinytorch.capstone.capstone import hash_mismatches
from tinytorch.capstone.submission import SUBMISSION_FILE, load_submission
from tinytorch.capstone.verify import read_verification

__all__ = ["collect", "build_board"]

BOARD_COLUMNS = (("name", "text"), ("task", "text"), ("variant", "text"),
                 ("accuracy", "num"), ("latency b=1 ms", "num"), ("IQR ms", "num"),
                 ("throughput b=32 /s", "num"), ("state bytes", "num"),
                 ("checkpoint bytes", "num"), ("machine", "text"), ("report", "text"))

_SORT_JS = """
function sortBy(th){
  const table=th.closest('table'), body=table.tBodies[0], col=th.cellIndex;
  const num=th.dataset.type==='num', asc=th.dataset.dir!=='asc';
  for(const h of table.tHead.rows[0].cells) delete h.dataset.dir;
  th.dataset.dir=asc?'asc':'desc';
  const rows=Array.from(body.rows);
  rows.sort((a,b)=>{
    const x=a.cells[col].dataset.v, y=b.cells[col].dataset.v;
    const c=num?(parseFloat(x)-parseFloat(y)):x.localeCompare(y);
    return asc?c:-c;});
  for(const r of rows) body.appendChild(r);
}
"""


def collect(folder) -> tuple[list[dict], list[tuple[str, str]]]:
    """(verified rows, [(subfolder, why it is not ranked)]) from ``folder``'s subfolders."""
    folder = Path(folder)
    rows, skipped = [], []
    for sub_dir in sorted(p for p in folder.iterdir() if (p / SUBMISSION_FILE).is_file()):
        try:
            sub = load_submission(sub_dir)
        except ValueError as e:
            skipped.append((sub_dir.name, str(e)))
            continue
        record = read_verification(sub_dir)
        if record is None:
            skipped.append((sub_dir.name, "not verified (or submission.json changed since): "
                                          f"run tito benchmark verify {sub_dir}"))
            continue
        if not record["verdict"]["passed"]:
            skipped.append((sub_dir.name, "rejected: " + ", ".join(record["failed"])))
            continue
        bad = hash_mismatches(sub_dir, sub["files"])
        if bad:
            skipped.append((sub_dir.name, "files changed since verification: "
                                          + "; ".join(bad)))
            continue
        c, env = sub["claims"], sub.get("environment", {})
        lat = c["latency_b1_ms"]
        rows.append({"name": sub["name"], "task": sub["task"], "variant": sub["variant"],
                     "accuracy": c["accuracy"], "latency_ms": lat["median"],
                     "iqr_ms": lat["q3"] - lat["q1"], "throughput": c["throughput_b32"],
                     "state_bytes": c["state_bytes"], "checkpoint_bytes": c["checkpoint_bytes"],
                     "machine": f"{env.get('cpu', '?')} ({env.get('cores', '?')} cores)",
                     "report": f"{sub_dir.name}/{sub['report']}", "folder": sub_dir.name})
    return rows, skipped


def _cell(value, text=None) -> str:
    shown = html.escape(str(value if text is None else text))
    return f'<td data-v="{html.escape(str(value))}">{shown}</td>'


def build_board(folder, out=None, title: str = "TinyTorch capstone leaderboard") -> Path:
    """Write the board for ``folder`` (default ``folder/index.html``); its path.

    Rows start sorted by accuracy, then by latency (higher accuracy first, faster first)."""
    folder = Path(folder)
    out = Path(out) if out else folder / "index.html"
    rows, skipped = collect(folder)
    rows.sort(key=lambda r: (-r["accuracy"], r["latency_ms"]))
    link_base = Path(os.path.relpath(folder.resolve(), out.parent.resolve()))
    head = "".join(f'<th data-type="{t}" onclick="sortBy(this)">{html.escape(n)}</th>'
                   for n, t in BOARD_COLUMNS)
    body = []
    for r in rows:
        href = html.escape((link_base / r["report"]).as_posix())
        body.append("<tr>" + _cell(r["name"]) + _cell(r["task"]) + _cell(r["variant"])
                    + _cell(r["accuracy"], f"{r['accuracy']:.4f}")
                    + _cell(r["latency_ms"], f"{r['latency_ms']:.4f}")
                    + _cell(r["iqr_ms"], f"{r['iqr_ms']:.4f}")
                    + _cell(r["throughput"], f"{r['throughput']:.0f}")
                    + _cell(r["state_bytes"], f"{r['state_bytes']:,}")
                    + _cell(r["checkpoint_bytes"], f"{r['checkpoint_bytes']:,}")
                    + _cell(r["machine"])
                    + f'<td data-v="{href}"><a href="{href}">report</a></td></tr>')
    unranked = "".join(f"<li>{html.escape(n)}: {html.escape(why)}</li>" for n, why in skipped)
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:80em;margin:2em auto}}
table{{border-collapse:collapse}}td,th{{border:1px solid #bbb;padding:3px 8px}}
th{{cursor:pointer;background:#eee}}th[data-dir=asc]::after{{content:" ▲"}}
th[data-dir=desc]::after{{content:" ▼"}}</style>
<script>{_SORT_JS}</script></head><body>
<h1>{html.escape(title)}</h1>
<p>{len(rows)} verified submission(s): every number re-measured by
<code>tito benchmark verify</code> (accuracy on the held-out digits, bytes, latency within its
claimed spread). Click a column to sort.</p>
<table id="board"><thead><tr>{head}</tr></thead><tbody>
{chr(10).join(body)}
</tbody></table>
<h2>Not ranked</h2><ul>{unranked or "<li>none</li>"}</ul>
<script>const BOARD = {json.dumps(rows)};</script>
</body></html>
"""
    out.write_text(page)
    return out
