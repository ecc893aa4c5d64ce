"""The ``ray`` executor: a stage's pieces of work as Ray tasks, results yielded in input order.

Items are grouped into tasks; Ray retries a task whose worker died (``max_retries``), and the
work itself is resumable (teachers record every answered call in the work directory), so a
retried task repeats no recorded call. Workers must see the same paths as the driver (one
machine, or a shared filesystem for the source and the work directory).
"""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from raft_core.components import Executor
from raft_core.errors import RaftError

FORWARDED_PREFIXES = ("RAFT_", "HF_", "TRANSFORMERS_", "LITELLM_", "TOKENIZERS_")
"""Environment variables sent to workers by default (offline switches, caches, plugin selection)."""


class RayOptions(BaseModel):
    """Where the cluster is and how work is cut into tasks."""

    model_config = ConfigDict(extra="forbid")

    address: str | None = Field(
        None,
        description="Cluster to join: 'auto' (the one `ray start` runs here), 'HOST:6379', 'ray://HOST:10001'; "
        "default: start a local cluster for this run.",
    )
    num_cpus: int | None = Field(None, gt=0, description="CPUs of the local cluster (only without address).")
    tasks_per_cpu: int = Field(4, gt=0, description="Tasks per cluster CPU the items are spread over.")
    max_retries: int = Field(3, ge=0, description="Retries of a task whose worker or node died.")
    connect_timeout: float = Field(10.0, gt=0, description="Seconds to wait for the cluster's port to answer.")
    forward_env: list[str] = Field(
        default_factory=list,
        description="More environment variables to send to workers (e.g. the teacher's API key variable); "
        "RAFT_*, HF_*, TRANSFORMERS_*, LITELLM_* and TOKENIZERS_* are always sent.",
    )


def _run_task(function: Callable[[Any], Any], items: list[Any], cwd: str) -> list[Any]:
    """Runs in a Ray worker: the driver's relative paths resolve as on the driver."""
    if os.path.isdir(cwd):
        os.chdir(cwd)
    return [function(item) for item in items]


class RayExecutor(Executor):
    """Ray tasks on a local or remote cluster; results in input order, failed workers retried."""

    Options = RayOptions
    remote: ClassVar[bool] = True

    def __init__(self, options: BaseModel, context: Any) -> None:
        super().__init__(options, context)
        self._started = False

    def _environment(self) -> dict[str, str]:
        options: RayOptions = self.options  # type: ignore[assignment]
        names = {n for n in os.environ if n.startswith(FORWARDED_PREFIXES)} | set(options.forward_env)
        env = {name: os.environ[name] for name in sorted(names) if name in os.environ}
        env["RAFT_NO_PROGRESS"] = "1"  # the driver shows progress; workers' bars would interleave
        return env

    def _connect(self) -> Any:
        import ray

        if ray.is_initialized():
            return ray
        options: RayOptions = self.options  # type: ignore[assignment]
        settings: dict[str, Any] = {
            "include_dashboard": False,
            "logging_level": "ERROR",
            "runtime_env": {"env_vars": self._environment()},
        }
        if options.address:
            settings["address"] = options.address
        else:
            settings["num_cpus"] = options.num_cpus
        where = f"the Ray cluster at {options.address}" if options.address else "a local Ray cluster"
        if options.address and options.address != "auto":
            _check_reachable(options.address, options.connect_timeout)
        try:
            try:
                ray.init(**settings)  # in the main thread: Ray's driver does not work when started from another
            except Exception:
                if options.address:
                    raise
                ray.shutdown()  # a local node can miss Ray's fixed 30 s start window on a busy machine: once more
                ray.init(**settings)
        except Exception as error:
            raise RaftError(
                f"executor 'ray': could not start or join {where}: {type(error).__name__}: {error}"
            ) from None
        self._started = True
        return ray

    def map(self, function: Callable[[Any], Any], items: Sequence[Any], description: str) -> Iterator[Any]:
        if not items:
            return
        ray = self._connect()
        options: RayOptions = self.options  # type: ignore[assignment]
        cpus = max(int(ray.cluster_resources().get("CPU", 1)), 1)
        size = max(math.ceil(len(items) / (cpus * options.tasks_per_cpu)), 1)
        groups = [list(items[i : i + size]) for i in range(0, len(items), size)]
        task = ray.remote(_run_task).options(max_retries=options.max_retries, retry_exceptions=False)
        shared = ray.put(function)
        refs = [task.remote(shared, group, os.getcwd()) for group in groups]
        index = {ref: number for number, ref in enumerate(refs)}
        finished: dict[int, list[Any]] = {}
        waiting = list(refs)
        following = 0
        with self.context.progress(f"{description} (ray, {len(groups)} tasks)", len(items)) as advance:
            while following < len(refs):
                ready, waiting = ray.wait(waiting, num_returns=1)
                for ref in ready:
                    number = index[ref]
                    finished[number] = self._result(ray, ref, groups[number])
                    advance(len(groups[number]))
                while following in finished:
                    yield from finished.pop(following)
                    following += 1

    @staticmethod
    def _result(ray: Any, ref: Any, group: list[Any]) -> list[Any]:
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as error:
            cause = error.cause if isinstance(getattr(error, "cause", None), BaseException) else error
            if isinstance(cause, RaftError):
                raise RaftError(str(cause)) from None
            raise RaftError(
                f"executor 'ray': a task of {len(group)} item(s) failed: {type(cause).__name__}: {cause}"
            ) from None
        except ray.exceptions.RayError as error:
            raise RaftError(
                f"executor 'ray': a task of {len(group)} item(s) was lost after its retries: {error}"
            ) from None

    def close(self) -> None:
        if self._started:
            import ray

            ray.shutdown()
            self._started = False


def _check_reachable(address: str, timeout: float) -> None:
    """One clear line when nothing answers at ``address`` (``ray.init`` would wait a long time)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise RaftError(f"executor 'ray': address {address!r} is not 'auto', 'HOST:PORT' or 'ray://HOST:PORT'")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as error:
        raise RaftError(
            f"executor 'ray': cannot reach the Ray cluster at {address} ({error.strerror or error}); "
            "is `ray start --head` running there? (execute.options.address)"
        ) from None
