"""The recipe search of the RAFT vs DSF study, on the validation split only (the test split is never looked at).

Runs each recipe of RECIPES that has no result yet (``raft_vs_dsf.py --split validation --tag NAME ...``;
trained models and replies are reused), then tables every validation result found in studies/results/, the
ones tried by hand included, into recipe_search.md and recipe_search.json: every configuration, not the best.

    python studies/recipe_search.py               # run what is missing, then table everything
    python studies/recipe_search.py --table-only  # table what exists
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

STUDIES = Path(__file__).resolve().parent
sys.path.insert(0, str(STUDIES))

import raft_vs_dsf  # noqa: E402

QUESTIONS = ["--max-questions", "48"]
RECIPES: dict[str, list[str]] = {
    "A": ["--steps", "20"],  # LoRA r16, lr 1e-3, 20 steps of 8, P=0.8, 2 bm25 distractors, CoT, answer-only loss
    "B-lr3e-4": ["--steps", "20", "--lr", "3e-4", "--arms", "base", "raft"],
    "C-short": ["--steps", "20", "--answers", "short", "--arms", "base", "raft"],
    "D-1ep": ["--steps", "48", "--max-questions", "96"],  # one epoch of the 384 train examples
}


def table(results: dict[str, dict]) -> tuple[str, list[dict]]:
    """Markdown table and rows: per recipe and top_k, answer-correct of each arm and RAFT's paired differences."""
    rows = []
    for tag, result in sorted(results.items()):
        for k in sorted({r["top_k"] for r in result["runs"]}):
            runs = {r["model"]: r for r in result["runs"] if r["top_k"] == k}
            diffs = {
                (c["a"], c["b"]): c
                for c in result["comparisons"]
                if c["metric"] == "answer-correct" and c["top_k"] == k
            }
            row = {"tag": tag, "recipe": result["recipe"]["key"], "questions": result["held_out_questions"], "top_k": k}
            for arm in ("base", "dsf", "raft"):
                metric = runs.get(arm, {}).get("metrics", {}).get("answer-correct")
                row[arm] = metric["score"] if metric else None
            for other in ("base", "dsf"):
                c = diffs.get(("raft", other))
                row[f"raft-{other}"] = [c["diff"], *(c["ci95"] or [None, None])] if c else None
            row["raft answer-tag"] = runs.get("raft", {}).get("metrics", {}).get("answer-tag", {}).get("score")
            rows.append(row)

    def cell(value: object) -> str:
        if value is None:
            return "–"
        if isinstance(value, list):
            return f"{value[0]:+.3f} [{value[1]:+.3f}, {value[2]:+.3f}]" if value[1] is not None else f"{value[0]:+.3f}"
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    keys = list(rows[0]) if rows else []
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(cell(row[k]) for k in keys) + " |" for row in rows]
    return "\n".join(lines) + "\n", rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table-only", action="store_true")
    parser.add_argument("--out", type=Path, default=STUDIES / "results")
    args = parser.parse_args()
    if not args.table_only:
        for tag, flags in RECIPES.items():
            if not (args.out / f"raft_vs_dsf_validation_{tag}.json").is_file():
                raft_vs_dsf.main(["--split", "validation", *QUESTIONS, "--tag", tag, "--out", str(args.out), *flags])
    results = {
        path.stem.removeprefix("raft_vs_dsf_validation_"): json.loads(path.read_text(encoding="utf-8"))
        for path in args.out.glob("raft_vs_dsf_validation_*.json")
    }
    text, rows = table(results)
    (args.out / "recipe_search.md").write_text(text, encoding="utf-8")
    (args.out / "recipe_search.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
