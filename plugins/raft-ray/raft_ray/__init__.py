"""raft-core executor on Ray: loads, splits and teaches in Ray tasks across a cluster."""

from raft_ray.executor import RayExecutor, RayOptions

__all__ = ["RayExecutor", "RayOptions"]
