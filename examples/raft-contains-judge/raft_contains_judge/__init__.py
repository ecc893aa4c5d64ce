"""Example raft-core plugin: the "contains" judge."""
