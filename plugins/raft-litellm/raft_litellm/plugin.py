"""Hook implementations: the components this distribution adds to raft-core (nothing heavy imported here)."""

from raft_core import hookimpl
from raft_litellm.generator import LiteLLMGenerator
from raft_litellm.judge import LLMJudge
from raft_litellm.quality import QualityFilter
from raft_litellm.teacher import LiteLLMTeacher


@hookimpl
def register_teachers(register):
    register(
        "litellm",
        LiteLLMTeacher,
        description="Any LiteLLM provider (OpenAI, Azure, vLLM, Ollama...): async, rate-limited, cached, resumable.",
    )


@hookimpl
def register_generators(register):
    register(
        "litellm",
        LiteLLMGenerator,
        description="Answers through any LiteLLM provider, concurrently, with retries; failures recorded.",
    )


@hookimpl
def register_judges(register):
    register(
        "llm",
        LLMJudge,
        description="LLM-as-judge over LiteLLM (YES/NO or a number in [0, 1]); malformed verdicts are unscored.",
    )


@hookimpl
def register_filters(register):
    register(
        "llm-quality",
        QualityFilter,
        description="An LLM scores each QA pair's answerability and quality against its passage; low scores dropped.",
    )
