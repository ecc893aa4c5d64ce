pytest_plugins = ["raft_core.testing"]
