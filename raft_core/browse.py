"""`raft inspect`: one static HTML page to browse a dataset, what it kept and what it dropped.

Every example of ``dataset/examples.jsonl`` and every item ``raft generate`` or ``raft curate`` dropped
(``failures.jsonl``, ``curation_drops.jsonl``) becomes a row; the page filters them by text, split, kind and
decision (state kept in the URL hash, e.g. ``#split=test&q=lamp``), marks the oracle document and highlights
quoted spans. Texts are carried as JSON and set with ``textContent``: nothing from the data becomes markup.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from raft_core.io import atomic_open, iter_jsonl
from raft_core.prompts import quotes
from raft_core.quotes import NormalisedText

Segments = list[list[Any]]  # [[text, highlighted], ...]


def highlight(text: str, spans: list[str]) -> Segments:
    """``text`` cut into segments, those matching one of ``spans`` (normalised) flagged for highlighting."""
    target = NormalisedText(text)
    marks: list[tuple[int, int]] = []
    for span in spans:
        needle = NormalisedText(span).text
        found = target.text.find(needle) if needle else -1
        if found >= 0:
            marks.append((target.origin[found], target.origin[found + len(needle) - 1] + 1))
    segments: Segments = []
    position = 0
    for start, end in sorted(marks):
        if start < position:
            continue
        if start > position:
            segments.append([text[position:start], False])
        segments.append([text[start:end], True])
        position = end
    if position < len(text):
        segments.append([text[position:], False])
    return segments


def example_row(example: dict[str, Any]) -> dict[str, Any]:
    spans = quotes(example["answer"])
    return {
        "decision": "kept",
        "split": example.get("split", ""),
        "kind": example.get("kind", ""),
        "id": example["id"],
        "question": example["question"],
        "answer": highlight(example["answer"], spans),
        "context": [
            {"oracle": chunk_id == example.get("oracle_chunk_id"), "text": highlight(text, spans)}
            for text, chunk_id in zip(example["context"], example["context_ids"], strict=True)
        ],
    }


def dropped_row(row: dict[str, Any], stage: str) -> dict[str, Any]:
    reason = row.get("reason") or row.get("kind") or "dropped"
    return {
        "decision": f"dropped: {row.get('kind') or row.get('reason')}",
        "split": "",
        "kind": stage,
        "id": row.get("id") or row.get("chunk_id", ""),
        "question": row.get("question") or "",
        "answer": [[str(reason), False]],
        "context": [],
    }


def collect(workdir: Path) -> list[dict[str, Any]]:
    """The rows of the page: examples, then generate's and curation's drops."""
    rows = [example_row(e) for e in iter_jsonl(workdir / "dataset" / "examples.jsonl")]
    for name, stage in (("failures.jsonl", "generate"), ("curation_drops.jsonl", "curate")):
        if (workdir / name).exists():
            rows += [dropped_row(r, stage) for r in iter_jsonl(workdir / name)]
    return rows


def render(rows: list[dict[str, Any]], title: str) -> str:
    data = json.dumps(rows, ensure_ascii=False).replace("<", "\\u003c")  # no tag can open or close in the data
    return PAGE.replace("__TITLE__", _escape(title)).replace("__DATA__", data)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_page(workdir: Path, output: Path) -> tuple[Path, int]:
    """Write the page for ``workdir`` to ``output`` (atomically); return its path and row count."""
    rows = collect(workdir)
    with atomic_open(output) as handle:
        handle.write(render(rows, f"RAFT dataset: {workdir}"))
    return output, len(rows)


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1rem 2rem;color:#222}
#controls{position:sticky;top:0;background:#fff;padding:.5rem 0;border-bottom:1px solid #ddd}
#controls input{width:24rem}.row{border-bottom:1px solid #eee;padding:.4rem 0}
.tag{display:inline-block;font-size:12px;background:#eef;border-radius:3px;padding:0 .3rem;margin-right:.3rem}
.dropped .tag.decision{background:#fdd}.doc{white-space:pre-wrap;border-left:3px solid #ccc;margin:.3rem 0;
padding-left:.5rem}.doc.oracle{border-color:#2a2;background:#f3fff3}mark{background:#ffe58a}
.answer{white-space:pre-wrap}
</style></head><body>
<h1>__TITLE__</h1>
<div id="controls">
<input id="q" type="search" placeholder="search questions and answers">
<select id="split"><option value="">any split</option></select>
<select id="kind"><option value="">any kind</option></select>
<select id="decision"><option value="">any decision</option></select>
<span id="count"></span></div>
<div id="rows"></div>
<script type="application/json" id="data">__DATA__</script>
<script>
const rows = JSON.parse(document.getElementById("data").textContent);
const fields = ["split", "kind", "decision"];
for (const f of fields) {
  const select = document.getElementById(f);
  for (const v of [...new Set(rows.map(r => r[f]).filter(Boolean))].sort()) {
    const o = document.createElement("option"); o.value = v; o.textContent = v; select.appendChild(o);
  }
}
function segments(parent, parts) {
  for (const [text, marked] of parts) {
    const node = document.createElement(marked ? "mark" : "span"); node.textContent = text; parent.appendChild(node);
  }
}
function row(r) {
  const div = document.createElement("details");
  div.className = "row " + (r.decision === "kept" ? "kept" : "dropped");
  const summary = document.createElement("summary");
  for (const [cls, text] of [["decision", r.decision], ["split", r.split], ["kind", r.kind]]) {
    if (!text) continue;
    const tag = document.createElement("span"); tag.className = "tag " + cls; tag.textContent = text;
    summary.appendChild(tag);
  }
  const q = document.createElement("span"); q.className = "question"; q.textContent = r.question;
  summary.appendChild(q); div.appendChild(summary);
  const answer = document.createElement("div"); answer.className = "answer"; segments(answer, r.answer);
  div.appendChild(answer);
  for (const doc of r.context) {
    const d = document.createElement("div"); d.className = "doc" + (doc.oracle ? " oracle" : "");
    segments(d, doc.text); div.appendChild(d);
  }
  return div;
}
function show() {
  const state = Object.fromEntries(fields.concat(["q"]).map(f => [f, document.getElementById(f).value]));
  const query = state.q.toLowerCase();
  const text = r => (r.question + " " + r.answer.map(s => s[0]).join("")).toLowerCase();
  const match = r => fields.every(f => !state[f] || r[f] === state[f]) && (!query || text(r).includes(query));
  const shown = rows.filter(match);
  const list = document.getElementById("rows"); list.replaceChildren(...shown.slice(0, 500).map(row));
  document.getElementById("count").textContent = shown.length + " of " + rows.length + " rows";
  const hash = new URLSearchParams(Object.entries(state).filter(([, v]) => v)).toString();
  if (location.hash.slice(1) !== hash) history.replaceState(null, "", hash ? "#" + hash : location.pathname);
}
const initial = new URLSearchParams(location.hash.slice(1));
for (const f of fields.concat(["q"])) {
  const el = document.getElementById(f); el.value = initial.get(f) || ""; el.addEventListener("input", show);
}
show();
</script></body></html>
"""
