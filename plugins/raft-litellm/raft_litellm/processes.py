"""Fan the teacher's online calls out over worker processes (``processes`` > 1) that share one call cache.

One event loop spends a few milliseconds of CPU on each call (LiteLLM builds the request and parses the reply),
so at high concurrency and short latencies it runs out of CPU before the endpoint runs out of capacity. Worker
processes (:class:`concurrent.futures.ProcessPoolExecutor`, ``spawn`` start method, :mod:`raft_litellm.worker`)
each run their own loop with an even share of ``concurrency``, ``rpm`` and ``tpm``, and their own AIMD limit and
circuit breaker over that share: a burst of 429s reaches every process, so each halves its share and the total
halves too; a dead server or a wrong key trips each breaker after its own run of failures, and the first one
that trips stops the stage with its line.

The driver hands out contiguous slices of chunks in order, yields each chunk's pairs in chunk order as its
finished-chunk row appears in the shared cache (progress and ``generate_summary.json`` stay live), and counts
calls, tokens and cost from the cache's new call rows. A worker that dies (``kill -9``, out of memory) breaks
the pool: the driver starts a new one and sends the unfinished chunks again, whose answered calls then come from
the cache. A driver killed with ``kill -9`` takes its workers with it (each watches its parent).
"""

from __future__ import annotations

import math
import multiprocessing
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from raft_core.costs import Ledger, ModelUsage
from raft_core.cpus import usable_cores
from raft_core.errors import RaftError
from raft_core.records import Chunk
from raft_litellm import worker
from raft_litellm.mode import Taught

if TYPE_CHECKING:
    from raft_litellm.teacher import LiteLLMTeacher, TeacherOptions

LOOP_CONCURRENCY = 64  # calls in flight one event loop keeps up with at ~200 ms replies (benchmarks/README.md)
SLICE_WINDOWS = 8  # a slice holds this many windows of one process's concurrency (its tail idles part of one)
POLL_SECONDS = 0.2  # how often the driver reads the cache for rows the workers appended
MAX_RESTARTS = 2  # new pools after a worker died, before the stage gives up


def resolve_processes(options: TeacherOptions) -> int:
    """``processes`` as a number: ``auto`` is 1 with ``batch_api``, on 2 cores or fewer, or at concurrency up to
    :data:`LOOP_CONCURRENCY`; else one process per that many calls in flight, at most one less than the cores."""
    if options.processes != "auto":
        return options.processes
    if options.batch_api:
        return 1
    return max(1, min(usable_cores() - 1, math.ceil(options.concurrency / LOOP_CONCURRENCY)))


class FanOut:
    """Teaches chunks in ``processes`` worker processes; keeps their latest reports for the summary."""

    def __init__(self, teacher: LiteLLMTeacher, processes: int) -> None:
        self.teacher = teacher
        self.processes = processes
        self.share = max(1, teacher.options.concurrency // processes)
        self.restarts = 0
        self.reports: dict[int, worker.SliceReport] = {}  # the latest of each process, dead ones' included
        self.live: set[int] = set()  # processes of the current pool that reported

    def worker_options(self) -> TeacherOptions:
        """The teacher's options with this process's share of the limits (unset fields stay unset)."""
        options = self.teacher.options
        update: dict[str, Any] = {"processes": 1, "concurrency": self.share}
        for name in ("rpm", "tpm"):
            if getattr(options, name) is not None:
                update[name] = getattr(options, name) / self.processes
        return options.model_copy(update=update)

    def teach(self, chunks: Sequence[Chunk], n: int) -> Iterator[Taught]:
        """Each chunk's result in chunk order: finished ones from the cache, the others as workers finish them."""
        cache = self.teacher.cache
        keys = [self.teacher.chunk_key(chunk, n) for chunk in chunks]
        earlier = {key for key in keys if ("chunk", key) in cache}
        owners: dict[int, Future[worker.SliceReport]] = {}
        unfinished: dict[str, Taught] = {}  # chunks a worker gave back incomplete (a call failed for good)
        context = multiprocessing.get_context("spawn")
        stop = context.Event()
        pool: ProcessPoolExecutor | None = None

        def missing(i: int) -> bool:
            """Not finished, not given back, and not in a slice that a worker answered."""
            owner = owners.get(i)
            answered = owner is not None and owner.done() and owner.exception() is None
            return ("chunk", keys[i]) not in cache and keys[i] not in unfinished and not answered

        try:
            position = 0
            while position < len(chunks):
                key = keys[position]
                row = cache.get(key, "chunk")
                future = owners.get(position)
                if row is not None or key in unfinished:
                    yield Taught.from_row(row, cached=key in earlier) if row is not None else unfinished.pop(key)
                    position += 1
                elif future is None or _broken(future):
                    if pool is not None:
                        self._restarted()
                        pool.shutdown(wait=True)
                    self._ingest(cache.refresh())
                    pool = ProcessPoolExecutor(
                        self.processes,
                        mp_context=context,
                        initializer=worker.start,
                        initargs=(self.worker_options(), str(self.teacher.context.workdir), stop),
                    )
                    self._submit(pool, chunks, [i for i in range(position, len(chunks)) if missing(i)], n, owners)
                elif future.done():
                    unfinished.update(self._absorb(future))
                    self._ingest(cache.refresh())
                    if ("chunk", key) not in cache and key not in unfinished:
                        raise RaftError(f"teacher worker finished chunk {chunks[position].id} without recording it")
                else:
                    wait([future], timeout=POLL_SECONDS)
                    self._ingest(cache.refresh())
            for future in dict.fromkeys(owners.values()):  # the reports of slices whose chunks were all read early
                if not _broken(future):
                    self._absorb(future)
            self._ingest(cache.refresh())
        finally:
            stop.set()  # workers cancel a running slice: what they answered is in the cache
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    def _submit(
        self,
        pool: ProcessPoolExecutor,
        chunks: Sequence[Chunk],
        positions: list[int],
        n: int,
        owners: dict[int, Future[worker.SliceReport]],
    ) -> None:
        """Contiguous slices of ``positions``, in order, at most :data:`SLICE_WINDOWS` windows each."""
        size = max(1, min(math.ceil(len(positions) / self.processes), SLICE_WINDOWS * self.share))
        for start in range(0, len(positions), size):
            part = positions[start : start + size]
            future = pool.submit(worker.teach_slice, [chunks[i] for i in part], n)
            owners.update(dict.fromkeys(part, future))

    def _restarted(self) -> None:
        self.live.clear()
        self.restarts += 1
        if self.restarts <= MAX_RESTARTS:
            return
        where = f"answered calls are kept in {self.teacher.cache.path}: rerun to resume, or set processes: 1"
        if not self.reports:  # not one slice came back: they die while starting
            raise RaftError(
                f"teacher worker processes died while starting, {self.restarts} times (see their errors above; "
                "a script that runs the teacher needs `if __name__ == '__main__':`); " + where
            )
        raise RaftError(f"teacher worker processes died {self.restarts} times (killed, or out of memory); " + where)

    def _absorb(self, future: Future[worker.SliceReport]) -> dict[str, Taught]:
        """A finished slice's incomplete chunks; its report kept. A worker's error is raised as one line."""
        try:
            report = future.result()
        except RaftError:  # a tripped breaker (StageStopped), a missing key, an unreadable cache: already one line
            raise
        except Exception as error:
            message = " ".join(str(error).split())
            raise RaftError(f"teacher worker process failed: {type(error).__name__}: {message}") from error
        known = self.reports.get(report.pid)
        if known is None or known.slices < report.slices:  # a process's totals only grow
            self.reports[report.pid] = report
        self.live.add(report.pid)
        return report.incomplete

    def _ingest(self, rows: list[dict[str, Any]]) -> None:
        """Count the calls workers appended to the cache (the driver makes none): live calls, tokens and cost."""
        for row in rows:
            if row["kind"] == "call":
                self.teacher.ledger.record(row["model"], row["prompt_tokens"], row["completion_tokens"], row["cost"])

    def totals(self) -> tuple[Counter[str], dict[str, Any], int, dict[str, Any]]:
        """Client counters, usage (calls from the cache, cached calls from the workers), invalid replies and the
        concurrency block: ``now`` summed over the current processes, ``lowest`` of any one process."""
        client: Counter[str] = Counter()
        ledger = Ledger()
        ledger.merge(self.teacher.ledger)
        for report in self.reports.values():
            client.update(report.client)
            ledger.merge(Ledger({m: ModelUsage(cached_calls=c) for m, c in report.cached_calls.items()}))
        reports = list(self.reports.values())
        live = [self.reports[pid] for pid in self.live]
        concurrency = {
            "configured": self.teacher.options.concurrency,
            "per_process": self.share,
            "now": sum(r.limit["now"] for r in live) + self.share * (self.processes - len(live)),
            "lowest": min((r.limit["lowest"] for r in reports), default=self.share),
            "cuts": sum(r.limit["cuts"] for r in reports),
            "pauses": sum(r.limit["pauses"] for r in reports),
        }
        return client, ledger.to_dict(), sum(r.invalid_replies for r in reports), concurrency


def _broken(future: Future[Any]) -> bool:
    return future.done() and isinstance(future.exception(), BrokenProcessPool)
