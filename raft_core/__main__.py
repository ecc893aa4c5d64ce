"""``python -m raft_core`` runs the ``raft`` command line."""

from raft_core.cli import main

main()
