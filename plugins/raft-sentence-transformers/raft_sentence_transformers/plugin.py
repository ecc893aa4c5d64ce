"""Hook implementations: the dense retriever and embedding distractor policy this distribution adds to raft-core."""

from raft_core import hookimpl
from raft_sentence_transformers.distractors import EmbeddingPolicy
from raft_sentence_transformers.retriever import DenseRetriever


@hookimpl
def register_retrievers(register):
    register("dense", DenseRetriever, description="Top-k chunks by sentence-transformers embedding similarity.")


@hookimpl
def register_distractor_policies(register):
    register(
        "embedding",
        EmbeddingPolicy,
        description="Hard negatives: nearest chunks by embedding from other documents (sentence-transformers).",
    )
