"""Hook implementations: the unstructured loader this distribution adds to raft-core."""

from raft_core import hookimpl
from raft_unstructured.loader import UnstructuredLoader


@hookimpl
def register_loaders(register):
    register(
        "unstructured",
        UnstructuredLoader,
        description="File or folder partitioned by unstructured (offline; PDFs by raft-files without its PDF extra).",
    )
