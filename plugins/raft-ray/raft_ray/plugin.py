"""Entry point of raft-ray: registers the ``ray`` executor."""

from __future__ import annotations

from raft_core import hookimpl
from raft_core.hookspecs import Register


@hookimpl
def register_executors(register: Register) -> None:
    from raft_ray.executor import RayExecutor

    register("ray", RayExecutor)
