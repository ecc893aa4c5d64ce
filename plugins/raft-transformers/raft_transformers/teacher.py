"""The ``transformers`` teacher: RAFT questions and CoT answers from a local model, offline and resumable."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from pydantic import Field

from raft_core import prompts
from raft_core.calls import CallCache, call_key
from raft_core.components import Teacher
from raft_core.costs import PLACEHOLDER_QUESTION
from raft_core.records import Chunk, QAPair
from raft_transformers.options import ModelOptions
from raft_transformers.repair import repair_answer

if TYPE_CHECKING:
    from raft_transformers.chat import ChatModel, Messages, Stop

EXAMPLE_CHUNK = (
    "The Eiffel Tower is a wrought-iron lattice tower in Paris, France. It was designed by Gustave Eiffel's "
    "company and completed in 1889 for the World's Fair. It is 330 metres tall."
)
EXAMPLE_QUESTIONS = ["Who designed the Eiffel Tower?", "When was the Eiffel Tower completed?"]
# A sentence as final answer: with a bare year here, SmolLM2-135M answered every question with a year.
EXAMPLE_ANSWER = (
    f"The question asks who designed the tower. The context says: {prompts.BEGIN_QUOTE}It was designed by Gustave "
    f"Eiffel's company{prompts.END_QUOTE}. So the tower was designed by the company of Gustave Eiffel.\n"
    f"{prompts.ANSWER_TAG} Gustave Eiffel's company designed the Eiffel Tower."
)


class TeacherOptions(ModelOptions):
    few_shot: bool = Field(True, description="Show one worked example before each prompt (small models need it).")
    question_tokens: int = Field(
        32,
        ge=1,
        description="New tokens a question call may use per question asked (at most max_new_tokens): questions "
        "are short, and a reply that has not listed them by then is rambling.",
    )


class TransformersTeacher(Teacher):
    """One question call per chunk, then one answer call per question, batched, with a local model.

    Every model output and every finished chunk is appended to the core's call cache
    ``<workdir>/teacher/calls.jsonl`` (:class:`raft_core.calls.CallCache`), keyed by a hash of model,
    generation settings and prompt: a killed run resumes without regenerating.
    Answers lacking ``<ANSWER>:`` or a verbatim quote are repaired (see :mod:`raft_transformers.repair`).
    A question reply stops once it lists its N questions (at most N x ``question_tokens`` new tokens), an answer
    once its ``<ANSWER>:`` line is finished, so one rambling row does not keep a whole batch decoding.
    """

    Options = TeacherOptions

    def __init__(self, options: TeacherOptions, context) -> None:
        super().__init__(options, context)
        self._chat: ChatModel | None = None
        self._cache: CallCache | None = None
        self._compute: dict[str, Any] | None = None
        self.stats: Counter[str] = Counter()
        self.raw_rates: list[float] = []

    @property
    def chat(self) -> ChatModel:
        if self._chat is None:
            self._chat = self.options.load_chat(self.context.seed)
        return self._chat

    @property
    def cache(self) -> CallCache:
        if self._cache is None:
            self._cache = CallCache(self.context.workdir / "teacher" / "calls.jsonl")
        return self._cache

    # -- prompts ---------------------------------------------------------------------------

    def question_messages(self, chunk: str, n: int) -> Messages:
        messages = [{"role": "system", "content": prompts.QUESTION_SYSTEM}]
        if self.options.few_shot:
            messages += [
                {"role": "user", "content": prompts.QUESTION_USER.format(n=n, chunk=EXAMPLE_CHUNK)},
                {"role": "assistant", "content": "\n".join(EXAMPLE_QUESTIONS[:n] or EXAMPLE_QUESTIONS)},
            ]
        return [*messages, {"role": "user", "content": prompts.QUESTION_USER.format(n=n, chunk=chunk)}]

    def answer_messages(self, chunk: str, question: str) -> Messages:
        messages = [{"role": "system", "content": prompts.ANSWER_SYSTEM}]
        if self.options.few_shot:
            example = prompts.ANSWER_USER.format(question=EXAMPLE_QUESTIONS[0], chunk=EXAMPLE_CHUNK)
            messages += [{"role": "user", "content": example}, {"role": "assistant", "content": EXAMPLE_ANSWER}]
        return [*messages, {"role": "user", "content": prompts.ANSWER_USER.format(question=question, chunk=chunk)}]

    @property
    def compute(self) -> dict[str, Any]:
        """How the model runs (dtype resolved from ``auto``, its reason, threads)."""
        if self._compute is None:
            self._compute = self._chat.compute if self._chat is not None else self.options.compute()
        return self._compute

    @property
    def settings(self) -> dict[str, Any]:
        """Generation settings that change a reply (part of every cache key); the dtype as resolved from auto."""
        settings = self.options.model_dump(include={"max_new_tokens", "temperature", "few_shot", "question_tokens"})
        return settings | {"dtype": self.compute["dtype"]}

    def question_budget(self, n: int) -> int:
        """New tokens a call asking ``n`` questions may use."""
        return min(self.options.max_new_tokens, n * self.options.question_tokens)

    def chunk_key(self, chunk: Chunk, n: int) -> str:
        """Key of a finished chunk: its id and text, N and the settings."""
        return call_key(
            self.options.model,
            [{"role": "chunk", "content": chunk.id + "\x1f" + chunk.text}],
            {
                **self.settings,
                "questions": n,
            },
        )

    # -- generation ------------------------------------------------------------------------

    def generate(self, chunks: Sequence[Chunk], questions_per_chunk: int) -> Iterator[QAPair]:
        self.stats, self.raw_rates = Counter(), []
        with self.cache as cache, self.context.progress("Teacher", len(chunks)) as advance:
            size = self.options.batch_size
            for start in range(0, len(chunks), size):
                window = chunks[start : start + size]
                keys = [self.chunk_key(c, questions_per_chunk) for c in window]
                todo = [c for c, k in zip(window, keys, strict=True) if ("chunk", k) not in cache]
                self.stats["chunks_from_cache"] += len(window) - len(todo)
                if todo:
                    self._teach(todo, questions_per_chunk, cache)
                for key in keys:
                    record = cache.of_kind("chunk").get(key)
                    if record is None:
                        self.stats["failed_chunks"] += 1
                    else:
                        self.stats["chunks_without_questions"] += record.get("questions") == 0
                        self.stats["empty_answers"] += record.get("empty_answers", 0)
                        for row in record["pairs"]:
                            yield self._count(QAPair.from_dict(row))
                    advance()

    def _complete(
        self,
        kind: str,
        conversations: list[Messages],
        cache: CallCache,
        stop: Stop,
        max_new_tokens: int | None = None,
    ) -> list[str | None]:
        """Model replies to ``conversations`` (cached ones reused); ``None`` marks a failed generation. A reply
        ends once ``stop(text)`` holds (or at ``max_new_tokens``, default the option). Progress counts replies
        as they end, as ``kind`` (``question`` or ``answer``) calls."""
        model = self.options.model
        keys = [call_key(model, c, self.settings) for c in conversations]
        missing = [i for i, k in enumerate(keys) if ("call", k) not in cache]
        self.stats["cache_hits"] += len(keys) - len(missing)
        if missing:
            with self.context.progress(f"Teacher {kind} calls", len(missing)) as advance:
                texts, failures = self.chat.generate(
                    [conversations[i] for i in missing],
                    self.options.batch_size,
                    advance,
                    stop=stop,
                    max_new_tokens=max_new_tokens,
                )
            self.stats["calls"] += len(missing)
            self.stats["failed_calls"] += len(failures)
            failed = {j for j, _ in failures}
            for j, i in enumerate(missing):
                if j not in failed:
                    prompt = self.chat.count_tokens(conversations[i])
                    completion = len(self.chat.tokenizer(texts[j], add_special_tokens=False)["input_ids"])
                    cache.put_call(keys[i], model, texts[j], prompt, completion, 0.0)
        calls = cache.of_kind("call")
        return [calls[k]["text"] if k in calls else None for k in keys]

    def _teach(self, chunks: list[Chunk], n: int, cache: CallCache) -> None:
        """Question and answer calls for ``chunks``; each fully answered chunk is recorded in the cache."""
        replies = self._complete(
            "question",
            [self.question_messages(c.text, n) for c in chunks],
            cache,
            partial(questions_complete, n=n),
            self.question_budget(n),
        )
        questions = [_questions(r, n) if r is not None else [] for r in replies]
        asked = [(c, q) for c, qs in zip(chunks, questions, strict=True) for q in qs]
        answering = [self.answer_messages(c.text, q) for c, q in asked]
        answers = iter(self._complete("answer", answering, cache, answer_complete))
        for chunk, reply, chunk_questions in zip(chunks, replies, questions, strict=True):
            chunk_answers = [next(answers) for _ in chunk_questions]
            if reply is None or None in chunk_answers:
                continue  # a failed call: not recorded, so the next run retries this chunk
            pairs = [self._pair(chunk, q, a) for q, a in zip(chunk_questions, chunk_answers, strict=True) if a.strip()]
            cache.put(
                {
                    "kind": "chunk",
                    "key": self.chunk_key(chunk, n),
                    "questions": len(chunk_questions),
                    "empty_answers": len(chunk_questions) - len(pairs),
                    "pairs": [p.to_dict() for p in pairs],
                }
            )
        cache.sync()

    def _pair(self, chunk: Chunk, question: str, raw: str) -> QAPair:
        answer, repairs = repair_answer(raw, chunk.text)
        metadata = {
            "teacher": "transformers",
            "model": self.options.model,
            "verbatim_quote_rate": prompts.verbatim_quote_rate(answer, chunk.text),
            "model_verbatim_quote_rate": prompts.verbatim_quote_rate(raw, chunk.text),
            "repaired": repairs,
        }
        return QAPair(question=question, answer=answer, chunk_id=chunk.id, metadata=metadata)

    def _count(self, pair: QAPair) -> QAPair:
        self.stats["qa_pairs"] += 1
        repairs = pair.metadata.get("repaired", [])
        self.stats["repaired"] += bool(repairs)
        for repair in repairs:
            self.stats[f"repaired_{repair}"] += 1
        if pair.metadata.get("model_verbatim_quote_rate") is not None:
            self.raw_rates.append(pair.metadata["model_verbatim_quote_rate"])
        return pair

    def summary(self) -> dict[str, Any]:
        """Calls made, cache reuse, failures, repairs, and the share of the model's own quotes found verbatim."""
        keys = ["qa_pairs", "calls", "cache_hits", "chunks_from_cache", "failed_calls", "failed_chunks"]
        keys += ["chunks_without_questions", "empty_answers", "repaired", "repaired_answer_tag", "repaired_quote"]
        return {
            "teacher": "transformers",
            "model": self.options.model,
            **{k: self.stats[k] for k in keys},
            "answers_with_model_quotes": len(self.raw_rates),
            "verbatim_quote_rate": sum(self.raw_rates) / len(self.raw_rates) if self.raw_rates else None,
            **self.compute,
        }

    def estimate(self, chunks: Sequence[Chunk], questions_per_chunk: int) -> dict[str, Any]:
        """Calls and prompt tokens (counted with the model's tokenizer; answers use a placeholder question)."""
        from raft_transformers.chat import ChatModel
        from raft_transformers.models import load_tokenizer

        tokenizer = load_tokenizer(self.options.model, trust_remote_code=self.options.trust_remote_code)
        counter = ChatModel(None, tokenizer)
        self.cache.refresh()
        todo = [c for c in chunks if ("chunk", self.chunk_key(c, questions_per_chunk)) not in self.cache]
        tokens = sum(
            counter.count_tokens(self.question_messages(c.text, questions_per_chunk))
            + questions_per_chunk * counter.count_tokens(self.answer_messages(c.text, PLACEHOLDER_QUESTION))
            for c in todo
        )
        calls = len(todo) * (1 + questions_per_chunk)
        return {
            "teacher": "transformers",
            "model": self.options.model,
            "chunks": len(chunks),
            "cached_chunks": len(chunks) - len(todo),
            "calls": calls,
            "prompt_tokens": tokens,
            "max_completion_tokens": len(todo) * self.question_budget(questions_per_chunk)
            + len(todo) * questions_per_chunk * self.options.max_new_tokens,
            "cost": 0.0,
        }


def _questions(reply: str, n: int) -> list[str]:
    """The first ``n`` lines of ``reply`` that are questions (small models mix in statements)."""
    return [q for q in prompts.parse_questions(reply, limit=10 * n + 10) if q.endswith("?")][:n]


def questions_complete(text: str, n: int) -> bool:
    """Whether a question reply decoded so far already holds its ``n`` questions on finished lines (what
    follows cannot change which questions are kept)."""
    return len(_questions(text[: text.rfind("\n") + 1], n)) >= n


def answer_complete(text: str) -> bool:
    """Whether an answer reply decoded so far has finished its ``<ANSWER>:`` line (the answer format's end)."""
    _, tag, rest = text.partition(prompts.ANSWER_TAG)
    return bool(tag) and "\n" in rest.lstrip()
