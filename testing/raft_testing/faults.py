"""A fault-injecting RAFT teacher for the local OpenAI-compatible server: a seeded share of replies is broken.

Each question or answer request is drawn (by a hash of its messages and the seed, so a re-run breaks the same
requests) to be faulty with probability ``rate``; a fault is one of :data:`QUESTION_FAULTS` or
:data:`ANSWER_FAULTS`. Re-asks after a bad reply are never broken; a server error is
transient (the retry succeeds). ``injected`` counts what was sent.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from typing import Any

from raft_testing.server import Reply
from raft_testing.teacher import kind, passage

QUESTION_FAULTS = ("refusal", "fragment", "two_sentences", "server_error")
ANSWER_FAULTS = ("made_up_quote", "near_quote", "no_answer_tag", "empty", "server_error")
MADE_UP = "The lighthouse was painted purple by visiting astronauts in 1999."


def first_sentence(text: str) -> str:
    return text.split(". ")[0].rstrip(".") + "."


def questions_for(text: str) -> list[str]:
    """Two questions naming the passage's own first words (distinct passages, distinct questions)."""
    words = " ".join(text.split()[:5])
    return [f"What does the passage say about {words}?", f"Which details are given after {words}?"]


def near_miss(sentence: str) -> str:
    """``sentence`` with one letter of its longest word dropped: a copying slip a repair should undo."""
    word = max(sentence.split(), key=len)
    return sentence.replace(word, word[:-2] + word[-1], 1)


class FaultyTeacher:
    """A responder (``openai_server(FaultyTeacher(rate=0.1))``) writing RAFT questions and answers, some broken."""

    def __init__(self, rate: float = 0.1, seed: int = 0) -> None:
        self.rate = rate
        self.seed = seed
        self.injected: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.errored: set[str] = set()

    def _draw(self, request: dict[str, Any], salt: str) -> float:
        text = json.dumps(request["messages"], sort_keys=True)
        digest = hashlib.sha256(f"{self.seed}:{salt}:{text}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def _fault(self, request: dict[str, Any], what: str, faults: tuple[str, ...], inject: bool) -> str | None:
        if not inject or self._draw(request, "fault") >= self.rate:
            return None
        fault = faults[int(self._draw(request, "which") * len(faults))]
        with self.lock:
            if fault == "server_error":  # transient: the retry of the same request succeeds
                key = json.dumps(request["messages"], sort_keys=True)
                if key in self.errored:
                    return None
                self.errored.add(key)
            self.injected[f"{what}:{fault}"] += 1
        return fault

    def __call__(self, request: dict[str, Any]) -> Reply:
        if kind(request) == "fix":  # a re-ask after a bad reply: answered properly
            return self.reply({**request, "messages": request["messages"][:2]}, inject=False)
        return self.reply(request, inject=True)

    def reply(self, request: dict[str, Any], inject: bool) -> Reply:
        """The reply to a question or answer request; broken (see :data:`QUESTION_FAULTS`...) only if ``inject``."""
        what = kind(request)
        text = passage(request)
        if what == "questions":
            good = "\n".join(questions_for(text))
            fault = self._fault(request, what, QUESTION_FAULTS, inject)
            if fault == "refusal":
                return Reply(content="Sorry, as an AI I cannot comply.")
            if fault == "fragment":
                return Reply(content=f"What doe\n{good}")
            if fault == "two_sentences":
                return Reply(content=f"The passage is long. What is it about?\n{good}")
            if fault == "server_error":
                return Reply(status=500, body={"error": {"message": "injected server error"}})
            return Reply(content=good)
        if what == "answer":
            sentence = first_sentence(text)
            fault = self._fault(request, what, ANSWER_FAULTS, inject)
            if fault == "made_up_quote":
                return Reply(content=f"##begin_quote##{MADE_UP}##end_quote##\n<ANSWER>: purple")
            if fault == "near_quote":
                return Reply(content=f"##begin_quote##{near_miss(sentence)}##end_quote##\n<ANSWER>: {sentence}")
            if fault == "no_answer_tag":
                return Reply(content=f"It says ##begin_quote##{sentence}##end_quote## and that is all.")
            if fault == "empty":
                return Reply(content="")
            if fault == "server_error":
                return Reply(status=500, body={"error": {"message": "injected server error"}})
            return Reply(content=f"The passage says ##begin_quote##{sentence}##end_quote##.\n<ANSWER>: {sentence}")
        return Reply(status=400, body={"error": {"message": f"unexpected request kind {what}"}})
