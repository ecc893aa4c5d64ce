"""Hook implementations: the ``radit`` retriever and the ``raft tune-retriever`` command."""

from raft_core import hookimpl
from raft_radit.retriever import RaditRetriever


@hookimpl
def register_retrievers(register):
    register(
        "radit",
        RaditRetriever,
        description="Dense retriever whose query encoder is tuned from the LM's preference (RA-DIT).",
    )


@hookimpl
def register_commands(cli):
    from raft_radit.command import add_command

    add_command(cli)
