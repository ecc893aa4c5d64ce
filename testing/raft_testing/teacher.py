"""A scripted RAFT teacher for the local OpenAI-compatible server (raft_testing.server), for tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from raft_core.records import Chunk
from raft_testing.server import Reply

SECRET = "sk-raft-test-4f1d9c2b7e"  # the API key the tests send; it must never reach a file
KEY_ENV = "RAFT_LITELLM_TEST_KEY"


def chunks(count: int = 3) -> list[Chunk]:
    return [
        Chunk(
            text=f"Chunk {i}. The lighthouse of Port {i} was built in 18{i}0. It is red.",
            doc_id="d",
            source="s",
            index=i,
        )
        for i in range(count)
    ]


def kind(request: dict[str, Any]) -> str:
    """Which teacher call this is: questions, answer, batched, or fix (a re-ask after a bad reply)."""
    last = request["messages"][-1]["content"]
    if last.startswith("Your reply could not be used"):
        return "fix"
    if "answer each one" in last:
        return "batched"
    return "questions" if last.startswith("Write") else "answer"


def passage(request: dict[str, Any]) -> str:
    return request["messages"][1]["content"].rsplit("Passage:\n", 1)[-1].split("Context: ", 1)[-1].split("\n\n")[0]


def good_answer(request: dict[str, Any]) -> str:
    sentence = passage(request).split(". ")[1]
    return f"The context says ##begin_quote##{sentence}##end_quote##, so that is it.\n<ANSWER>: {sentence}"


QUESTIONS = "Here are the questions:\n\n1. When was the lighthouse built?\n2) What colour is it?\n\n- Where is it?\n"


def teacher_responder(overrides: Callable[[dict[str, Any], str], Reply | None] | None = None) -> Callable:
    """Questions (numbered, bulleted, blank lines, more than asked), quoted answers, JSON batches."""

    def respond(request: dict[str, Any]) -> Reply:
        what = kind(request)
        if overrides is not None and (reply := overrides(request, what)) is not None:
            return reply
        if what == "questions":
            return Reply(content=QUESTIONS)
        if what == "batched":
            items = [{"question": q, "answer": good_answer(request)} for q in ("When was it built?", "What colour?")]
            return Reply(content="```json\n" + json.dumps({"items": items}) + "\n```")
        return Reply(content=good_answer(request))

    return respond
