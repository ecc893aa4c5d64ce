"""The dataset card: ``dataset/README.md`` with the assembly configuration and statistics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from raft_core.io import atomic_open

KINDS = ("oracle", "distractor_only", "refusal")
SPLITS = ("train", "validation", "test")


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def render_card(meta: dict[str, Any], dataset_dir: Path) -> str:
    """Markdown for the dataset metadata written by ``Run.assemble`` (layout, formats, stats, config)."""
    config = meta["config"]
    assemble = config["assemble"]
    stats = meta["stats"]
    by_split = stats.get("split_kinds", {})
    options = assemble.get("distractor_options") or {}
    rows = [
        ("examples", str(stats["examples"])),
        ("seed", str(config["seed"])),
        ("distractor policy", f"`{assemble['distractor']}`" + (f" {options}" if options else "")),
        ("distractors per example (k)", str(assemble["num_distractors"])),
        (
            "oracle probability P (of non-refusal examples)",
            f"{assemble['oracle_probability']} / {_rate(stats['oracle_rate'])}",
        ),
        ("refusal probability R", f"{assemble['refusal_probability']} / {_rate(stats['refusal_rate'])}"),
        ("refusal policy", meta.get("refusal_policy", "n/a")),
        ("refusal answer", assemble["refusal_answer"]),
        ("layout", f"`{meta['layout']}`" + (f" {meta['layout_options']}" if meta.get("layout_options") else "")),
        (
            "split by",
            f"{assemble['splits']['by']} (validation {assemble['splits']['validation']}, "
            f"test {assemble['splits']['test']})",
        ),  # fmt: skip
        ("QA pairs skipped (chunk missing)", str(stats.get("skipped_missing_chunk", 0))),
        *((f"QA pairs dropped ({reason.replace('_', ' ')})", str(n)) for reason, n in stats.get("dropped", {}).items()),
        *_screening_rows(meta.get("screening")),
    ]
    lines = [
        "# RAFT dataset",
        "",
        "Question + oracle chunk + distractor chunks, assembled by raft-core. "
        "Evaluate with the same layout and system prompt (stored in `raft_dataset.json`).",
        "",
        "## Configuration (configured / observed)",
        "",
        "| setting | value |",
        "| --- | --- |",
        *(f"| {name} | {_cell(value)} |" for name, value in rows),
        "",
        "## Examples per split and kind",
        "",
        "| split | " + " | ".join(KINDS) + " | total |",
        "| --- |" + " ---: |" * (len(KINDS) + 1),
    ]
    for split in SPLITS:
        counts = by_split.get(split, {})
        lines.append(
            f"| {split} | " + " | ".join(str(counts.get(k, 0)) for k in KINDS) + f" | {stats['splits'].get(split, 0)} |"
        )
    lines += ["", "## Formats", ""]
    for name, files in meta["formats"].items():
        shown = ", ".join(f"`{_relative(f, dataset_dir)}`" for f in files)
        lines.append(f"- `{name}`: {shown}")
    lines += ["", "## System prompt", "", "```text", meta["system_prompt"], "```", ""]
    return "\n".join(lines)


def _screening_rows(screening: dict[str, Any] | None) -> list[tuple[str, str]]:
    """What ``raft generate`` screened out and the quote precision before and after (from generate_summary.json)."""
    if not screening:
        return []
    quotes = screening["quotes"]
    losses = ", ".join(f"{reason} {n}" for reason, n in screening["losses_by_reason"].items()) or "none"
    return [
        ("teacher pairs / kept after screening", f"{screening['teacher_pairs']} / {screening['kept_pairs']}"),
        ("items lost in generate (by reason)", losses),
        (
            f"quote precision before / after (policy `{quotes['policy']}`)",
            f"{_rate(quotes['precision_before'])} / {_rate(quotes['precision_after'])} "
            f"({quotes['quotes']} quotes: {quotes['verbatim']} verbatim, {quotes['repaired']} repaired, "
            f"{quotes['unverified']} unverified)",
        ),
    ]


def _cell(text: str) -> str:
    """A table cell: pipes escaped, newlines as spaces."""
    return text.replace("|", "\\|").replace("\n", " ")


def _relative(path: str, root: Path) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return path


def write_card(dataset_dir: Path, meta: dict[str, Any]) -> Path:
    """Write ``dataset_dir/README.md`` atomically; return its path."""
    path = dataset_dir / "README.md"
    with atomic_open(path) as handle:
        handle.write(render_card(meta, dataset_dir))
    return path
