"""Hook implementations: the splitters this distribution adds to raft-core."""

from raft_core import hookimpl
from raft_splitters.recursive import RecursiveSplitter
from raft_splitters.semantic import SemanticSplitter
from raft_splitters.tokens import TokenSplitter


@hookimpl
def register_splitters(register):
    register(
        "recursive",
        RecursiveSplitter,
        description="Recursive character splitter (langchain): paragraphs, lines, words; sizes in characters.",
    )
    register(
        "token",
        TokenSplitter,
        description="Recursive splitter with sizes in tokens (tiktoken encoding or Hugging Face tokenizer).",
    )
    register(
        "semantic",
        SemanticSplitter,
        description="Breakpoints between sentence embeddings (langchain SemanticChunker); chunk_size a maximum.",
    )
