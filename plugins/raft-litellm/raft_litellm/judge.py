"""The ``llm`` judge: an LLM grades each prediction against the reference (YES/NO or a number in [0, 1])."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field, field_validator

from raft_core import prompts
from raft_core.components import ItemFailure, Judge, RunContext
from raft_litellm.client import CallFailed, Endpoint, LLMClient, Messages
from raft_litellm.driver import ordered_results
from raft_litellm.options import ClientOptions
from raft_litellm.parsing import parse_verdict

JUDGE_PROMPT = """You are given a question, a teacher's answer (the reference) and a student's answer.
Decide whether the student's answer is correct according to the teacher's answer:
1. Key words and numerical values must match the teacher's answer exactly.
2. The student's answer must not contain conflicting statements.
3. The student's answer may contain more information than the teacher's, as long as it is accurate.
Reply YES if the student's answer meets all of the criteria, otherwise NO. Output only YES or NO.

Question: {question}
Teacher's answer: {reference}
Student's answer: {prediction}"""
FIELDS = ("question", "reference", "prediction", "contexts")


class JudgeOptions(ClientOptions):
    temperature: float | None = Field(0.0, ge=0, le=2, description="Sampling temperature (0: greedy).")
    max_tokens: int | None = Field(16, gt=0, description="Maximum completion tokens of a verdict.")
    prompt: str = Field(
        JUDGE_PROMPT,
        description="Template with {question}, {reference}, {prediction} and optionally {contexts}; the judge "
        "must answer YES/NO or a number in [0, 1].",
    )
    max_invalid_retries: int = Field(2, ge=0, description="Re-asks after a reply with no verdict, then unscored.")

    @field_validator("prompt")
    @classmethod
    def _known_fields(cls, prompt: str) -> str:
        try:
            prompt.format(**dict.fromkeys(FIELDS, ""))
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"the prompt may use only {{{'}, {'.join(FIELDS)}}}: {error}") from error
        return prompt


class LLMJudge(Judge):
    """One verdict per item; unusable verdicts are re-asked, then the item is unscored (``None``, never 0)."""

    Options = JudgeOptions

    def __init__(self, options: JudgeOptions, context: RunContext) -> None:
        super().__init__(options, context)
        self.options: JudgeOptions = options
        self.client = LLMClient(options)
        self.endpoint = Endpoint(options.model, options.api_base, options.api_key_env, options.api_version)

    def score(
        self,
        questions: Sequence[str],
        predictions: Sequence[str],
        references: Sequence[str],
        contexts: Sequence[Sequence[str]],
    ) -> list[float | None]:
        self.endpoint.api_key()  # a missing key fails before any call
        self.failures = []
        self.client.reset()
        items = zip(questions, predictions, references, contexts, strict=True)
        jobs = (self._job(i, q, p, r, c) for i, (q, p, r, c) in enumerate(items))
        with self.context.progress(f"Judging ({self.options.model})", len(questions)) as advance:
            scores: list[float | None] = []
            for value in ordered_results(jobs, self.options.concurrency):
                scores.append(value)
                advance()
        return scores

    def _job(self, index: int, question: str, prediction: str, reference: str, contexts: Sequence[str]) -> Any:
        content = self.options.prompt.format(
            question=question,
            reference=reference,
            prediction=prediction,
            contexts="\n\n".join(contexts),
        )

        async def verdict() -> float | None:
            messages: Messages = [{"role": "user", "content": content}]
            reply = ""
            try:
                for _ in range(self.options.max_invalid_retries + 1):
                    reply = (await self.client.complete(self.endpoint, messages, self.client.params())).text
                    value = parse_verdict(reply)
                    if value is not None:
                        return value
                    fix = prompts.FIX_REPLY.format(reason="answer YES or NO (or a number between 0 and 1) only")
                    messages = [*messages, {"role": "assistant", "content": reply}, {"role": "user", "content": fix}]
            except CallFailed as error:
                self.failures.append(ItemFailure(index, str(error)))
                return None
            self.failures.append(ItemFailure(index, f"no verdict in the judge's reply: {reply[:200]!r}"))
            return None

        return verdict
