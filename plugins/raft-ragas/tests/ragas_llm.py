"""A scripted judge LLM for the OpenAI test server: it reads the Ragas prompt (output schema title in the
system message, the item as JSON after the last 'input:') and answers with JSON of that schema.

A statement counts as supported by a text when every word of it occurs in the text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from raft_testing import Reply


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def supported(statement: str, text: str) -> bool:
    return words(statement) <= words(text)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=\.)\s+", text) if s.strip()]


def prompt_parts(request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(schema title, item input) of a Ragas request."""
    messages = request["messages"]  # a re-ask appends the bad reply and a correction request
    system = messages[0]["content"]
    user = next(m["content"] for m in messages if m["role"] == "user" and "input: " in m["content"])
    title = re.search(r'"title": "(\w+)",\s*"type": "object"\s*}\s*Make sure', system)
    item = user.rsplit("input: ", 1)[1].rsplit("Output:", 1)[0]
    return (title.group(1) if title else ""), json.loads(item)


def answer(schema: str, item: dict[str, Any]) -> dict[str, Any]:
    if schema == "StatementGeneratorOutput":
        return {"statements": sentences(item["answer"])}
    if schema == "NLIStatementOutput":
        return {
            "statements": [
                {"statement": s, "reason": "toy", "verdict": int(supported(s, item["context"]))}
                for s in item["statements"]
            ]
        }
    if schema == "ContextPrecisionOutput":
        return {"reason": "toy", "verdict": int(any(supported(s, item["context"]) for s in sentences(item["answer"])))}
    if schema == "ContextRecallOutput":
        return {
            "classifications": [
                {"statement": s, "reason": "toy", "attributed": int(supported(s, item["context"]))}
                for s in sentences(item["answer"])
            ]
        }
    if schema == "ClassificationWithReason":
        truth = " ".join(item["ground_truth"])
        answer_text = " ".join(item["answer"])
        return {
            "TP": [{"statement": s, "reason": "toy"} for s in item["answer"] if supported(s, truth)],
            "FP": [{"statement": s, "reason": "toy"} for s in item["answer"] if not supported(s, truth)],
            "FN": [{"statement": s, "reason": "toy"} for s in item["ground_truth"] if not supported(s, answer_text)],
        }
    raise AssertionError(f"unexpected Ragas prompt schema {schema!r}")


def ragas_responder(request: dict[str, Any]) -> Reply:
    """Scripted replies; questions mentioning 'broken' get malformed JSON, 'slow' ones answer after 2 s,
    'flaky' ones get malformed JSON on their first request only."""
    if request["_path"].endswith("/embeddings"):
        return Reply()  # the server answers with its toy bag-of-words embeddings
    schema, item = prompt_parts(request)
    question = str(item.get("question", ""))
    if "broken" in question:
        return Reply('{"statements": [unterminated')
    if "slow" in question:
        return Reply(json.dumps(answer(schema, item)), delay=2.0)
    return Reply(json.dumps(answer(schema, item)))
