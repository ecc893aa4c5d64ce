"""Hook implementations: the ``raft serve`` command."""

from raft_core import hookimpl


@hookimpl
def register_commands(cli):
    from raft_serve.command import add_command

    add_command(cli)
