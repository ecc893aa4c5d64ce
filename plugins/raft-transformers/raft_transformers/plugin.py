"""Hook implementations: the components this distribution adds to raft-core."""
