"""A self-contained HTML page for an evaluation report: tables, inline SVG plots, per-question details.

No JavaScript, CDN or plotting library: the plots are small hand-built SVG line and bar charts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from raft_core.io import atomic_open

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
WIDTH, HEIGHT, PAD = 460, 260, 44

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.plots { display: flex; flex-wrap: wrap; gap: 1.5em; }
figure { margin: 0; }
details { margin: 0.3em 0; }
pre { white-space: pre-wrap; background: #f6f6f6; padding: 0.5em; }
.refusal { color: #a60; } .failure { color: #c00; }
"""


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return escape(str(value))


def _judges(runs: Sequence[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for run in runs:
        names.extend(n for n in run.get("metrics", {}) if n not in names)
    return names


def _models(runs: Sequence[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(str(r["model"]) for r in runs))


def _legend(models: Sequence[str], y: int) -> str:
    return "".join(
        f'<rect x="{PAD + 110 * i}" y="{y}" width="10" height="10" fill="{COLOURS[i % len(COLOURS)]}"/>'
        f'<text x="{PAD + 14 + 110 * i}" y="{y + 9}" font-size="11">{escape(m)}</text>'
        for i, m in enumerate(models)
    )


def _axes(title: str, y_max: float, x_labels: Sequence[tuple[float, str]], integer: bool = False) -> list[str]:
    bottom, right = HEIGHT - PAD, WIDTH - 12
    parts = [
        f'<text x="{WIDTH / 2}" y="16" text-anchor="middle" font-size="13">{escape(title)}</text>',
        f'<line x1="{PAD}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#444"/>',
        f'<line x1="{PAD}" y1="{PAD - 16}" x2="{PAD}" y2="{bottom}" stroke="#444"/>',
    ]
    for step in range(5):
        value = y_max * step / 4
        label = f"{value:.0f}" if integer else f"{value:.2f}"
        y = bottom - (bottom - PAD + 16) * step / 4
        parts.append(f'<text x="{PAD - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{label}</text>')
        parts.append(f'<line x1="{PAD}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#eee"/>')
    for x, label in x_labels:
        parts.append(f'<text x="{x:.1f}" y="{bottom + 14}" text-anchor="middle" font-size="10">{escape(label)}</text>')
    return parts


def _y(value: float, y_max: float) -> float:
    bottom = HEIGHT - PAD
    return bottom - (bottom - PAD + 16) * (value / y_max if y_max else 0.0)


def score_plot(runs: Sequence[dict[str, Any]], judge: str) -> str:
    """Line chart: the judge's mean score against top_k, one line per model."""
    ks = sorted({int(r["top_k"]) for r in runs})
    models = _models(runs)
    span = WIDTH - 12 - PAD - 30
    xs = {k: PAD + 15 + (span * i / (len(ks) - 1) if len(ks) > 1 else span / 2) for i, k in enumerate(ks)}
    parts = _axes(f"{judge} score vs top_k", 1.0, [(xs[k], f"k={k}") for k in ks])
    for i, model in enumerate(models):
        colour = COLOURS[i % len(COLOURS)]
        points = [
            (xs[int(r["top_k"])], _y(r["metrics"][judge]["score"], 1.0))
            for r in sorted(runs, key=lambda r: r["top_k"])
            if r["model"] == model and r["metrics"].get(judge, {}).get("score") is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>' for x, y in points)
    parts.append(_legend(models, HEIGHT - 14))
    return _svg(parts, f"{judge} score vs top_k per model")


def refusal_plot(runs: Sequence[dict[str, Any]]) -> str:
    """Grouped bar chart: refusal counts per model, one bar per top_k."""
    models = _models(runs)
    ks = sorted({int(r["top_k"]) for r in runs})
    counts = {(str(r["model"]), int(r["top_k"])): int(r.get("refusals", 0)) for r in runs}
    y_max = float(4 * math.ceil(max([*counts.values(), 1]) / 4))  # ticks at whole counts
    group = (WIDTH - 12 - PAD) / max(len(models), 1)
    bar = group * 0.8 / max(len(ks), 1)
    parts = _axes(
        "refusals per model (bars: top_k)",
        y_max,
        [(PAD + group * (i + 0.5), m) for i, m in enumerate(models)],
        integer=True,
    )
    for i, model in enumerate(models):
        for j, k in enumerate(ks):
            value = counts.get((model, k), 0)
            x, y = PAD + group * (i + 0.1) + bar * j, _y(value, y_max)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar * 0.9:.1f}" height="{HEIGHT - PAD - y:.1f}" '
                f'fill="{COLOURS[j % len(COLOURS)]}"><title>{escape(model)} k={k}: {value}</title></rect>'
            )
    parts.append(_legend([f"k={k}" for k in ks], HEIGHT - 14))
    return _svg(parts, "refusal counts per model")


def _svg(parts: Sequence[str], label: str) -> str:
    body = "".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}">{body}</svg>'
    )


def summary_table(runs: Sequence[dict[str, Any]]) -> str:
    """One row per model x top_k: each judge's score, precision and unscored count, refusals, failures, recall@k."""
    judges = _judges(runs)
    head = ["model", "top_k"]
    for judge in judges:
        head += [f"{judge} score", f"{judge} precision", f"{judge} unscored"]
    head += ["refusals", "refusal rate", "failures", "recall@k"]
    rows = []
    for run in runs:
        cells = [run["model"], run["top_k"]]
        for judge in judges:
            metric = run.get("metrics", {}).get(judge, {})
            cells += [
                _with_ci(metric.get("score"), metric.get("ci95")),
                metric.get("precision"),
                metric.get("unscored"),
            ]
        cells += [run.get("refusals"), run.get("refusal_rate"), run.get("failures", 0), run.get("recall_at_k")]
        rows.append("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in cells) + "</tr>")
    header = "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"
    return f"<table>{header}{''.join(rows)}</table>"


def _with_ci(value: Any, ci: Sequence[float] | None) -> str:
    return f"{_fmt(value)} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci and value is not None else _fmt(value)


def comparison_table(comparisons: Sequence[dict[str, Any]]) -> str:
    """Paired comparisons: a − b per question with its bootstrap 95% interval, wins / losses / ties of a."""
    if not comparisons:
        return ""
    head = ["a", "b", "top_k", "metric", "a − b [95% CI]", "wins", "losses", "ties", "questions"]
    rows = []
    for c in comparisons:
        diff = _with_ci(c.get("diff"), c.get("ci95"))
        cells = [c["a"], c["b"], c["top_k"], c["metric"], diff, c["wins"], c["losses"], c["ties"], c["n"]]
        rows.append("<tr>" + "".join(f"<td>{_fmt(x)}</td>" for x in cells) + "</tr>")
    header = "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"
    return f"<h2>Paired comparisons</h2><table>{header}{''.join(rows)}</table>"


def details_section(run: dict[str, Any]) -> str:
    """Collapsible per-question details of one model at one top_k."""
    items = []
    for number, item in enumerate(run.get("details", []), 1):
        scores = ", ".join(f"{escape(n)}={_fmt(s)}" for n, s in item.get("scores", {}).items())
        flags = ""
        if item.get("refusal"):
            flags += ' <span class="refusal">[refusal]</span>'
        if item.get("error"):
            flags += ' <span class="failure">[failed]</span>'
        body = [
            f"<p><b>Reference:</b> {escape(str(item.get('reference', '')))}</p>",
            f"<p><b>Prediction:</b> {escape(str(item.get('prediction', '')))}</p>",
            f"<p><b>Scores:</b> {scores or '–'}</p>",
        ]
        if "oracle_retrieved" in item:
            body.append(f"<p><b>Oracle chunk retrieved:</b> {'yes' if item['oracle_retrieved'] else 'no'}</p>")
        if item.get("error"):
            body.append(f"<p class='failure'><b>Generator error:</b> {escape(str(item['error']))}</p>")
        texts = item.get("retrieved_text") or item.get("retrieved", [])
        body.append("<p><b>Retrieved:</b></p><ol>" + "".join(f"<li>{escape(str(t))}</li>" for t in texts) + "</ol>")
        body.append(f"<pre>{escape(str(item.get('output', '')))}</pre>")
        items.append(
            f"<details><summary>{number}. {escape(str(item.get('question', '')))}{flags}</summary>"
            f"{''.join(body)}</details>"
        )
    title = f"{escape(str(run['model']))}, top_k={escape(str(run['top_k']))}"
    return f"<details><summary><b>{title}</b> ({len(items)} questions)</summary>{''.join(items)}</details>"


def render_html(report: dict[str, Any]) -> str:
    """The whole report page as one HTML string."""
    runs = report.get("runs", [])
    plots = [score_plot(runs, judge) for judge in _judges(runs)] + ([refusal_plot(runs)] if runs else [])
    recall = report.get("retrieval_recall")
    recall_html = (
        "<h2>Retrieval recall@k</h2><table><tr><th>top_k</th><th>oracle chunk retrieved</th></tr>"
        + "".join(f"<tr><td>{escape(str(k))}</td><td>{_fmt(v)}</td></tr>" for k, v in recall.items())
        + "</table>"
        if recall
        else ""
    )
    info = ", ".join(
        f"{escape(key)}: {escape(str(report[key]))}" for key in ("retriever", "layout", "questions") if key in report
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>raft eval report</title>"
        f"<style>{STYLE}</style></head><body><h1>raft eval report</h1><p>{info}</p>"
        "<p>precision = mean score over the questions the model answered (did not refuse); [low, high] = "
        "bootstrap 95% interval; failed generations are left unscored, never 0.</p>"
        f"<h2>Results</h2>{summary_table(runs)}{comparison_table(report.get('comparisons', []))}{recall_html}"
        f"<h2>Plots</h2><div class='plots'>{''.join(f'<figure>{p}</figure>' for p in plots)}</div>"
        f"<h2>Per-question details</h2>{''.join(details_section(r) for r in runs)}</body></html>\n"
    )


def write_html_report(report: dict[str, Any], path: Path) -> Path:
    """Write :func:`render_html` of ``report`` to ``path`` (atomically)."""
    with atomic_open(path) as handle:
        handle.write(render_html(report))
    return Path(path)
