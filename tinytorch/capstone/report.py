"""The capstone report: the before/after table as Markdown and as a self-contained HTML page.

Everything in it is computed from ``results.json`` (its raw samples and recorded bytes) by
:func:`rows_from_results`, so a test can recompute every cell from the saved artifacts.
Plots are PNG files beside the report and embedded in the HTML (base64), so the page needs
no other file and no network.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from tinytorch.capstone.capstone import table_rows

__all__ = ["rows_from_results", "markdown_table", "write_report", "COLUMNS"]

COLUMNS = ("variant", "accuracy", "Δ acc (points)", "latency b=1 ms (IQR)", "speedup",
           "throughput b=32 /s", "state bytes", "size ratio", "checkpoint bytes",
           "file ratio")


def rows_from_results(results: dict) -> list[dict]:
    """The table's rows (:func:`~tinytorch.capstone.capstone.table_rows`) from a results dict."""
    variants = []
    for v in results["variants"]:
        s = v["latency_b1_ms"]["summary"]
        variants.append({"name": v["name"], "accuracy": v["accuracy"],
                         "latency_ms": s["median"], "latency_iqr_ms": s["q3"] - s["q1"],
                         "throughput": v["throughput_b32"], "state_bytes": v["state_bytes"],
                         "checkpoint_bytes": v["checkpoint_bytes"]})
    return table_rows(variants)


def format_row(r: dict) -> list[str]:
    """One row's cells, as both reports print them."""
    return [r["name"], f"{r['accuracy']:.4f}", f"{r['accuracy_change_points']:+.2f}",
            f"{r['latency_ms']:.4f} ({r['latency_iqr_ms']:.4f})", f"{r['speedup']:.2f}x",
            f"{r['throughput']:.0f}", f"{r['state_bytes']:,}", f"{r['size_ratio']:.2f}x",
            f"{r['checkpoint_bytes']:,}", f"{r['file_ratio']:.2f}x"]


def markdown_table(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(format_row(r)) + " |" for r in rows]
    return "\n".join(lines)


def _plots(out: Path, rows: list[dict]) -> list[str]:
    """latency.png (median with IQR bars) and tradeoff.png (bytes vs accuracy); names."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    names = [r["name"] for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    ax = axes[0]
    ax.bar(range(len(rows)), [r["latency_ms"] for r in rows],
           yerr=[r["latency_iqr_ms"] / 2 for r in rows], color="#3b75af", capsize=4)
    ax.set_xticks(range(len(rows)), names, fontsize=8)
    ax.set_ylabel("ms (median, IQR bar)")
    ax.set_title("latency at batch 1")
    ax = axes[1]
    for r in rows:
        ax.scatter(r["checkpoint_bytes"] / 1024, r["accuracy"] * 100, s=40)
        ax.annotate(r["name"], (r["checkpoint_bytes"] / 1024, r["accuracy"] * 100),
                    fontsize=8, xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel("checkpoint KiB")
    ax.set_ylabel("held-out accuracy %")
    ax.set_title("size vs accuracy")
    fig.tight_layout()
    fig.savefig(out / "report.png", dpi=90)
    plt.close(fig)
    return ["report.png"]


def _n_samples(results: dict) -> int:
    return len(results["variants"][0]["latency_b1_ms"]["samples"])


def _html(results: dict, rows: list[dict], images: list[tuple[str, bytes]]) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(c)}</th>" for c in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in format_row(r)) + "</tr>"
                   for r in rows)
    env = results["environment"]
    prof = results["profile"]
    ops = "".join(f"<tr><td>{esc(o['op'])}</td><td>{o['calls']}</td>"
                  f"<td>{o['self_us']:.1f}</td><td>{o['share'] * 100:.1f}%</td></tr>"
                  for o in prof["ops"])
    imgs = "".join(f'<p><img alt="{esc(n)}" src="data:image/png;base64,'
                   f'{base64.b64encode(b).decode()}"></p>' for n, b in images)
    na = "".join(f"<li><b>{esc(k)}</b>: {esc(v)}</li>" for k, v in
                 results["not_applicable"].items())
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>TinyTorch capstone: {esc(results['task'])}</title>
<style>body{{font-family:sans-serif;max-width:70em;margin:2em auto}}
table{{border-collapse:collapse}}td,th{{border:1px solid #bbb;padding:3px 8px;
text-align:right}}td:first-child{{text-align:left}}</style></head><body>
<h1>Capstone report: {esc(results['task'])}</h1>
<p>{results['train_steps']} training steps ({results['train_seconds']:.1f} s);
accuracy on {results['data']['n_test']} held-out digits; latency = median of
{_n_samples(results)} timed calls in alternated rounds, each after
{results['benchmark']['warmup']} warm-up calls (IQR in brackets). Baseline = first row.
quick = {results['quick']}.</p>
<table><tr>{head}</tr>{body}</table>
{imgs}
<h2>Profile of the baseline (one forward, batch {prof['batch']})</h2>
<p>{prof['flops_per_sample']:,.0f} FLOPs per sample.</p>
<table><tr><th>op</th><th>calls</th><th>self µs</th><th>share</th></tr>{ops}</table>
<h2>Not applicable to this model</h2><ul>{na}</ul>
<h2>Machine</h2><p>{esc(str(env.get('cpu')))}, {env.get('cores')} cores, NumPy
{esc(str(env.get('numpy')))}, Python {esc(str(env.get('python')))}, {esc(str(env.get('date')))};
1-minute load {env.get('load_average_1min')}.</p>
</body></html>
"""


def write_report(out, results: dict, plots: bool = True) -> dict:
    """``report.md``, ``report.html`` (and ``report.png``) in ``out``; their names."""
    out = Path(out)
    rows = rows_from_results(results)
    pngs = _plots(out, rows) if plots else []
    prof = results["profile"]
    md = [f"# Capstone report: {results['task']}", "",
          f"{results['train_steps']} training steps ({results['train_seconds']:.1f} s); "
          f"accuracy on {results['data']['n_test']} held-out digits; latency = median of "
          f"{_n_samples(results)} timed calls in alternated rounds (IQR in brackets). "
          f"Baseline = first row. quick = {results['quick']}.", "", markdown_table(rows), ""]
    md += [f"![plots]({p})" for p in pngs] + [""]
    md += [f"Baseline profile (batch {prof['batch']}): "
           f"{prof['flops_per_sample']:,.0f} FLOPs per sample; top ops by self time: "
           + ", ".join(f"{o['op']} {o['share'] * 100:.0f}%" for o in prof["ops"]), ""]
    md += [f"- not applicable, {k}: {v}" for k, v in results["not_applicable"].items()]
    (out / "report.md").write_text("\n".join(md) + "\n")
    images = [(p, (out / p).read_bytes()) for p in pngs]
    (out / "report.html").write_text(_html(results, rows, images))
    return {"markdown": "report.md", "html": "report.html", "plots": pngs}
