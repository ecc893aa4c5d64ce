"""One output row per RAFT example, for each row shape a formatter can write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from raft_core.components import Layout
from raft_core.errors import RaftError
from raft_core.records import RaftExample

Row = dict[str, Any]
OPENAI_ROLES = {"system", "developer", "user", "assistant"}


def messages(example: RaftExample, layout: Layout) -> list[dict[str, str]]:
    """System (the layout's instruction), user (rendered context + question), assistant (the answer)."""
    return layout.messages(example.context, example.question, example.answer)


def chat_row(example: RaftExample, layout: Layout) -> Row:
    """TRL conversational: ``{"id", "messages"}``."""
    return {"id": example.id, "messages": messages(example, layout)}


def completion_row(example: RaftExample, layout: Layout) -> Row:
    """TRL prompt/completion without a chat template: instruction, rendered prompt, then the answer.

    The prompt ends with one newline, not a blank line: byte-level BPE tokenizers read a trailing ``"\n\n"``
    as one token alone but as two before the answer's first word, so the prompt's tokens would not prefix
    those of prompt + completion and the loss mask would cut at the wrong place.
    """
    prompt = f"{layout.instruction()}\n\n{layout.render(example.context, example.question)}\n"
    return {"id": example.id, "prompt": prompt, "completion": example.answer}


def openai_row(example: RaftExample, layout: Layout) -> Row:
    """OpenAI fine-tuning JSONL: ``{"messages"}`` only, validated."""
    row = {"messages": messages(example, layout)}
    problem = openai_problem(row)
    if problem:
        raise RaftError(f"formatter 'openai': example {example.id}: {problem}")
    return row


def openai_problem(row: Row) -> str | None:
    """Why ``row`` breaks OpenAI's chat fine-tuning format rules, or None if it does not.

    Rules: only a ``messages`` key (``tools``/``parallel_tool_calls`` allowed), a non-empty
    list of ``{"role", "content"}`` messages with known roles and non-empty string content,
    at least one assistant message, and ``weight`` (assistant only) 0 or 1.
    """
    extra = set(row) - {"messages", "tools", "parallel_tool_calls"}
    if extra:
        return f"unexpected keys {sorted(extra)}"
    msgs = row.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return "'messages' must be a non-empty list"
    for number, msg in enumerate(msgs, 1):
        if not isinstance(msg, dict) or msg.get("role") not in OPENAI_ROLES:
            return f"message {number}: role must be one of {sorted(OPENAI_ROLES)}"
        if set(msg) - {"role", "content", "name", "weight"}:
            return f"message {number}: unexpected keys {sorted(set(msg) - {'role', 'content', 'name', 'weight'})}"
        if not isinstance(msg.get("content"), str) or not msg["content"].strip():
            return f"message {number} ({msg['role']}): content must be a non-empty string"
        if "weight" in msg and (msg["role"] != "assistant" or msg["weight"] not in (0, 1)):
            return f"message {number}: weight must be 0 or 1 on assistant messages"
    if not any(m["role"] == "assistant" for m in msgs):
        return "no assistant message"
    return None


def gorilla_row(example: RaftExample, layout: Layout) -> Row:
    """The gorilla RAFT reference columns; ``context`` nests titles and sentences in one list each, as there."""
    return {
        "id": example.id,
        "type": "general",
        "question": example.question,
        "context": {"title": [["placeholder_title"] * len(example.context)], "sentences": [list(example.context)]},
        "oracle_context": example.oracle_text,
        "cot_answer": example.answer,
        "instruction": layout.render(example.context, example.question),
    }


ROWS: dict[str, Callable[[RaftExample, Layout], Row]] = {
    "chat": chat_row,
    "completion": completion_row,
    "openai": openai_row,
    "gorilla": gorilla_row,
}
