"""Two-step mode: one call writes a chunk's questions, then one call per question writes its answer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from raft_core import prompts
from raft_core.costs import PLACEHOLDER_QUESTION, TOKENS_PER_ANSWER, TOKENS_PER_QUESTION, PlannedCalls
from raft_core.questions import question_problem
from raft_core.records import Chunk
from raft_litellm.client import CallFailed, Messages, count_tokens
from raft_litellm.mode import Asker, Mode, Outcome
from raft_litellm.parsing import answer_problem

PARSE_LIMIT = 100  # question lines read from one reply before validation picks the first N usable ones


def question_messages(chunk: str, n: int) -> Messages:
    return [
        {"role": "system", "content": prompts.QUESTION_SYSTEM},
        {"role": "user", "content": prompts.QUESTION_USER.format(n=n, chunk=chunk)},
    ]


def answer_messages(chunk: str, question: str) -> Messages:
    return [
        {"role": "system", "content": prompts.ANSWER_SYSTEM},
        {"role": "user", "content": prompts.ANSWER_USER.format(question=question, chunk=chunk)},
    ]


class TwoStep(Mode):
    """Questions from the question endpoint, answers concurrently from the answer endpoint."""

    name = "two-step"

    async def teach(self, asker: Asker, chunk: Chunk, n: int) -> Outcome:
        outcome = Outcome()
        messages = question_messages(chunk.text, n)
        try:
            questions, reason, reply = await asker.valid(self.question, messages, _questions(n), self.params, outcome)
        except CallFailed as error:
            outcome.fail(chunk, "call_error", str(error))
            outcome.complete = False
            return outcome
        if questions is None:
            outcome.fail(chunk, "invalid_questions", reason, reply)
            return outcome
        for line in prompts.parse_questions(reply, limit=PARSE_LIMIT):
            if line not in questions and (problem := question_problem(line)) is not None:
                reason = f"question rejected before answering: {problem.replace('_', ' ')}"
                outcome.fail(chunk, problem, reason, question=line)
        answers = await asyncio.gather(
            *(self._answer(asker, chunk, q, outcome) for q in questions), return_exceptions=True
        )
        for answer in answers:
            if isinstance(answer, BaseException) and not isinstance(answer, CallFailed):
                raise answer  # Deferred (every answer request of the chunk is collected first) or a bug
        for question, answer in zip(questions, answers, strict=True):
            if isinstance(answer, CallFailed):
                outcome.fail(chunk, "call_error", str(answer), question=question)
                outcome.complete = False
            elif answer is not None:
                outcome.pairs.append(self.pair(chunk, question, answer, self.answer.model))
        return outcome

    async def _answer(self, asker: Asker, chunk: Chunk, question: str, outcome: Outcome) -> str | None:
        messages = answer_messages(chunk.text, question)
        answer, reason, reply = await asker.valid(self.answer, messages, _answer, self.params, outcome)
        if answer is None:
            outcome.fail(chunk, "invalid_answer", reason, reply, question)
        return answer

    def plan(self, chunks: Sequence[Chunk], n: int) -> list[PlannedCalls]:
        questions, answers = self.question.model, self.answer.model
        return [
            PlannedCalls(
                questions,
                len(chunks),
                sum(count_tokens(questions, question_messages(c.text, n)) for c in chunks),
                len(chunks) * n * TOKENS_PER_QUESTION,
            ),
            PlannedCalls(
                answers,
                len(chunks) * n,
                n * sum(count_tokens(answers, answer_messages(c.text, PLACEHOLDER_QUESTION)) for c in chunks),
                len(chunks) * n * TOKENS_PER_ANSWER,
            ),
        ]


def _questions(n: int) -> Callable[[str], tuple[list[str] | None, str]]:
    def check(reply: str) -> tuple[list[str] | None, str]:
        lines = prompts.parse_questions(reply, limit=PARSE_LIMIT)
        found = [q for q in lines if question_problem(q) is None][:n]
        usable = "no usable question found; write one question per line, each a single sentence ending with '?'"
        return (found, "") if found else (None, usable)

    return check


def _answer(reply: str) -> tuple[str | None, str]:
    problem = answer_problem(reply)
    return (reply.strip(), "") if problem is None else (None, problem)
