"""Validation of teacher and judge replies: answers, batched JSON items, verdicts."""

from __future__ import annotations

import json
import re
from typing import Any

from raft_core import prompts

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)
_NUMBER = re.compile(r"^\s*(?:score\s*[:=]?\s*)?([01](?:\.\d+)?|\.\d+)\s*$", re.IGNORECASE)
_VERDICT = re.compile(r"\b(YES|NO)\b", re.IGNORECASE)
ITEM_KEYS = ("items", "qa", "pairs", "questions", "data", "results")


def answer_problem(answer: str) -> str | None:
    """Why a CoT answer is unusable (no ``<ANSWER>:`` or nothing after it); ``None`` when it is fine."""
    if prompts.ANSWER_TAG not in answer:
        return f"the answer does not contain {prompts.ANSWER_TAG}"
    if not prompts.extract_answer(answer):
        return f"nothing follows {prompts.ANSWER_TAG}"
    return None


def load_json(text: str) -> Any:
    """JSON from a model reply: plain, inside a code fence, or the outermost object/array in prose."""
    candidates = [text.strip(), *(m.strip() for m in _FENCE.findall(text))]
    for opening, closing in ("{}", "[]"):
        start, end = text.find(opening), text.rfind(closing)
        if 0 <= start < end:
            candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            continue
    raise ValueError("the reply is not JSON")


def batched_items(text: str, limit: int) -> tuple[list[tuple[str, str]], list[str]]:
    """Valid (question, answer) items of a batched reply, capped at ``limit``, and why others were dropped.

    Raises ``ValueError`` when the reply holds no list of items at all.
    """
    data = load_json(text)
    if isinstance(data, dict):
        data = next((data[k] for k in ITEM_KEYS if isinstance(data.get(k), list)), None)
        if data is None:
            raise ValueError(f"the JSON object has no list under any of {', '.join(ITEM_KEYS)}")
    if not isinstance(data, list):
        raise ValueError("the JSON is not a list of items")
    items: list[tuple[str, str]] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, item in enumerate(data, 1):
        if not isinstance(item, dict):
            problems.append(f"item {number} is not an object")
            continue
        question = str(item.get("question") or "").strip()
        answer = str(item.get("answer") or item.get("cot_answer") or "").strip()
        problem = "it has no question" if len(question) < 5 else answer_problem(answer)
        if problem is None and question.lower() in seen:
            problem = "it repeats a question"
        if problem is not None:
            problems.append(f"item {number}: {problem}")
            continue
        seen.add(question.lower())
        items.append((question, answer))
        if len(items) >= limit:
            break
    return items, problems


def parse_verdict(text: str) -> float | None:
    """A judge's score: a number in [0, 1], or YES (1.0) / NO (0.0) as the only verdict word; else ``None``."""
    text = text.strip().strip(".*` ")
    number = _NUMBER.match(text)
    if number:
        value = float(number.group(1))
        return value if 0.0 <= value <= 1.0 else None
    verdicts = {v.upper() for v in _VERDICT.findall(text.splitlines()[-1] if text else "")}
    if not verdicts:
        verdicts = {v.upper() for v in _VERDICT.findall(text)}
    if len(verdicts) != 1:
        return None
    return 1.0 if verdicts == {"YES"} else 0.0
