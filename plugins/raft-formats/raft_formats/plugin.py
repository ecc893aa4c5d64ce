"""Hook implementations: the distractor policy, layouts and formatters this distribution adds to raft-core."""

from raft_core import hookimpl
from raft_formats.distractors import RandomPolicy
from raft_formats.formatters import (
    ChatFormatter,
    CompletionFormatter,
    GorillaFormatter,
    HfFormatter,
    OpenAIFormatter,
    ParquetFormatter,
)
from raft_formats.layouts import JsonLayout, MarkdownLayout, RaftLayout, TextLayout, XmlLayout, YamlLayout


@hookimpl
def register_distractor_policies(register):
    register(
        "random",
        RandomPolicy,
        description="Uniform random chunks from other documents (falls back to the oracle's document, with a warning).",
    )


@hookimpl
def register_layouts(register):
    register("raft", RaftLayout, description="RAFT: <DOCUMENT>...</DOCUMENT> per document, then the question.")
    register("json", JsonLayout, description='JSON object {"documents": [...], "question": ...}.')
    register("xml", XmlLayout, description="<documents><document index=...>...</documents><question>... (escaped).")
    register("yaml", YamlLayout, description="YAML mapping with a documents list and the question.")
    register("markdown", MarkdownLayout, description="'## Document n' sections, then '## Question'.")
    register("text", TextLayout, aliases=("plain",), description="'Document n:' paragraphs, then 'Question:'.")


@hookimpl
def register_formatters(register):
    register("chat", ChatFormatter, description="TRL conversational JSONL {id, messages} per split.")
    register("completion", CompletionFormatter, description="TRL prompt/completion JSONL (instruction in the prompt).")
    register("openai", OpenAIFormatter, description="OpenAI fine-tuning JSONL {messages}, validated per row.")
    register("gorilla", GorillaFormatter, description="gorilla RAFT columns (id, type, question, context, ...).")
    register("hf", HfFormatter, description="Hugging Face DatasetDict saved with save_to_disk (needs datasets).")
    register("parquet", ParquetFormatter, description="One parquet file per split (needs pyarrow).")
