"""Hook implementations: the BM25 retriever and distractor policy this distribution adds to raft-core."""

from raft_bm25.distractors import Bm25Policy
from raft_bm25.filters import EasinessFilter
from raft_bm25.retriever import Bm25Retriever
from raft_core import hookimpl


@hookimpl
def register_retrievers(register):
    register("bm25", Bm25Retriever, description="BM25 top-k chunks (bm25s).")


@hookimpl
def register_distractor_policies(register):
    register(
        "bm25",
        Bm25Policy,
        description="Hard negatives: highest-BM25 chunks for the oracle text from other documents (bm25s).",
    )


@hookimpl
def register_filters(register):
    register(
        "easiness",
        EasinessFilter,
        description="Drops questions whose oracle chunk BM25 ranks first by a wide margin (too easy to teach reading).",
    )
