"""Hook implementations: the curation filter this distribution adds to raft-core."""

from raft_core import hookimpl


@hookimpl
def register_filters(register):
    from raft_datasketch.filters import MinHashFilter

    register(
        "near-duplicates",
        MinHashFilter,
        aliases=("minhash",),
        description="Drops questions nearly repeating an earlier one in the dataset (MinHash LSH, datasketch).",
    )
