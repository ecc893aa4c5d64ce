"""Batch API jobs through LiteLLM's files/batches API (OpenAI, Azure, hosted vLLM and others it covers).

Requests are written as JSONL (``custom_id`` = the call's cache key), uploaded, and run as a batch; every job
is stored in ``<workdir>/teacher/batches.json`` the moment it exists (before it is created, with its input
file id, so a kill between the two is found again by listing the provider's batches). A rerun polls the
stored jobs instead of submitting again. Replies go into the call cache priced at the batch rate; requests a
failed, expired or partial batch left unanswered are resubmitted, at most ``batch_max_resubmits`` times.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raft_core.calls import CallCache
from raft_core.components import RunContext
from raft_core.costs import Ledger
from raft_core.errors import RaftError
from raft_core.io import atomic_open, write_json
from raft_litellm.client import Endpoint, batch_price, count_tokens, describe, import_litellm
from raft_litellm.mode import Request

if TYPE_CHECKING:
    from raft_litellm.teacher import TeacherOptions

TERMINAL = {"completed", "failed", "expired", "cancelled"}
ENDPOINT = "/v1/chat/completions"


class BatchJobs:
    """The batch jobs of one work directory: submit, remember, poll, collect into the call cache."""

    def __init__(
        self, folder: Path, cache: CallCache, ledger: Ledger, options: TeacherOptions, context: RunContext
    ) -> None:
        self.folder = folder
        self.path = folder / "batches.json"
        self.cache = cache
        self.ledger = ledger
        self.options = options
        self.context = context
        self.jobs: list[dict[str, Any]] = self._load()
        resumed = sum(not j.get("collected") for j in self.jobs)
        self.stats = {"submitted": 0, "resumed": resumed, "requests": 0, "answered": 0, "errors": 0, "given_up": 0}
        self.reasons: dict[str, str] = {}
        # litellm's afile_content makes a coroutine it never awaits (harmless); keep its warning off the user's screen
        warnings.filterwarnings("ignore", message="coroutine 'OpenAIFilesAPI.afile_content' was never awaited")

    def _load(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        try:
            return list(json.loads(self.path.read_text(encoding="utf-8"))["jobs"])
        except (ValueError, KeyError, TypeError) as error:
            raise RaftError(f"{self.path}: not a batch job list ({error}); move it away to start over") from None

    def _save(self) -> None:
        write_json(self.path, {"jobs": self.jobs})

    def summary(self) -> dict[str, Any]:
        return {**self.stats, "jobs": [{k: j.get(k) for k in ("id", "status", "counts")} for j in self.jobs]}

    def say(self, line: str) -> None:
        """A progress line on stderr (also when it is not a terminal), unless RAFT_NO_PROGRESS is set."""
        if not os.environ.get("RAFT_NO_PROGRESS"):
            from raft_core.console import console

            console.print(line, highlight=False, markup=False)

    # -- the loop --------------------------------------------------------------------------

    async def answer(self, requests: dict[str, Request]) -> set[str]:
        """Get ``requests`` answered into the cache; return the keys given up on (after resubmits)."""
        submissions = 0
        while True:
            await self._finish_open_jobs()
            missing = {k: r for k, r in requests.items() if ("call", k) not in self.cache}
            if not missing:
                return set()
            if submissions > self.options.batch_max_resubmits:
                self.stats["given_up"] += len(missing)
                return set(missing)
            for endpoint, group in _by_endpoint(missing).items():
                await self._submit(endpoint, group)
            submissions += 1

    async def _finish_open_jobs(self) -> None:
        for job in [j for j in self.jobs if not j.get("collected")]:
            if job.get("id") is None:
                await self._find_created(job)
            if job.get("id") is None:
                job["collected"] = True  # never created: its requests count as missing
                job["status"] = "not created"
                self._save()
                continue
            await self._wait(job)

    # -- submitting ------------------------------------------------------------------------

    async def _submit(self, endpoint: Endpoint, group: dict[str, Request]) -> None:
        litellm = import_litellm()
        name, provider, *_ = litellm.get_llm_provider(endpoint.model)
        supported = set(litellm.OPENAI_COMPATIBLE_BATCH_AND_FILES_PROVIDERS) | {"openai", "azure", "vertex_ai"}
        if provider not in supported:
            raise RaftError(
                f"batch_api: provider '{provider}' of {endpoint.model} has no Batch API in LiteLLM "
                f"(supported: {', '.join(sorted(supported))}); set batch_api: false"
            )
        number = len(self.jobs) + 1
        requests_file = self.folder / "batches" / f"{number:04d}-requests.jsonl"
        with atomic_open(requests_file) as handle:
            for key, request in group.items():
                body = {"model": name, "messages": request.messages, **request.params}
                handle.write(json.dumps({"custom_id": key, "method": "POST", "url": ENDPOINT, "body": body}) + "\n")
        connection = endpoint.connection()
        with requests_file.open("rb") as handle:
            uploaded = await litellm.acreate_file(
                file=handle, purpose="batch", custom_llm_provider=provider, **connection
            )
        job = {
            "id": None,
            "input_file_id": uploaded.id,
            "model": endpoint.model,
            "api_base": endpoint.api_base,
            "api_key_env": endpoint.api_key_env,
            "api_version": endpoint.api_version,
            "provider": provider,
            "requests": len(group),
            "keys": list(group),
            "status": "uploaded",
        }
        self.jobs.append(job)
        self._save()  # before creating it: a kill now is found again by its input file id
        batch = await litellm.acreate_batch(
            completion_window="24h",
            endpoint=ENDPOINT,
            input_file_id=uploaded.id,
            custom_llm_provider=provider,
            metadata={"raft": "teacher"},
            **connection,
        )
        job.update(id=batch.id, status=batch.status, submitted_at=time.time())
        self._save()
        self.stats["submitted"] += 1
        self.stats["requests"] += len(group)
        self.say(f"batch {batch.id}: submitted {len(group)} requests to {endpoint.model}")

    async def _find_created(self, job: dict[str, Any]) -> None:
        """The batch created from ``job``'s input file by a run killed before it stored the id, if any."""
        litellm = import_litellm()
        endpoint = _endpoint(job)
        try:
            page = await litellm.alist_batches(custom_llm_provider=job["provider"], **endpoint.connection())
        except Exception as error:  # noqa: BLE001 - a provider without listing: resubmit instead
            self.say(f"batch: cannot list batches to find an interrupted one ({describe(error, endpoint)})")
            return
        for batch in getattr(page, "data", None) or []:
            if getattr(batch, "input_file_id", None) == job["input_file_id"]:
                job.update(id=batch.id, status=batch.status)
                self._save()
                return

    # -- polling and collecting ------------------------------------------------------------

    async def _wait(self, job: dict[str, Any]) -> None:
        litellm = import_litellm()
        endpoint = _endpoint(job)
        shown = None
        while True:
            batch = await litellm.aretrieve_batch(
                batch_id=job["id"], custom_llm_provider=job["provider"], **endpoint.connection()
            )
            counts = getattr(batch, "request_counts", None)
            job["counts"] = {
                "total": getattr(counts, "total", None),
                "completed": getattr(counts, "completed", None),
                "failed": getattr(counts, "failed", None),
            }
            job["status"] = batch.status
            line = f"batch {job['id']}: {batch.status}, {job['counts']['completed']}/{job['counts']['total']} done"
            if line != shown:
                self.say(line)
                shown = line
            if batch.status in TERMINAL:
                break
            await asyncio.sleep(self.options.batch_poll_seconds)
        for file_id in (getattr(batch, "output_file_id", None), getattr(batch, "error_file_id", None)):
            if file_id:
                await self._collect(job, endpoint, file_id)
        job["collected"] = True
        self._save()
        answered = sum(("call", k) in self.cache for k in job["keys"])
        if answered < len(job["keys"]):
            self.say(f"batch {job['id']}: {batch.status}; {len(job['keys']) - answered} requests left unanswered")

    async def _collect(self, job: dict[str, Any], endpoint: Endpoint, file_id: str) -> None:
        litellm = import_litellm()
        content = await litellm.afile_content(
            file_id=file_id, custom_llm_provider=job["provider"], **endpoint.connection()
        )
        for line in content.content.decode("utf-8").splitlines():
            if line.strip():
                self._record(json.loads(line), job["model"])
        self.cache.sync()

    def _record(self, result: dict[str, Any], model: str) -> None:
        """One line of an output or error file: a reply into the cache, or the reason it failed."""
        key = result.get("custom_id")
        response = result.get("response") or {}
        body = response.get("body") or {}
        if not key or response.get("status_code") != 200 or not body.get("choices"):
            self.stats["errors"] += 1
            error = result.get("error") or body.get("error") or {}
            self.reasons[str(key)] = str(error.get("message") if isinstance(error, dict) else error)
            return
        if ("call", key) in self.cache:
            return
        text = body["choices"][0].get("message", {}).get("content") or ""
        usage = body.get("usage") or {}
        prompt = usage.get("prompt_tokens") or 0
        completion = usage.get("completion_tokens") or 0
        if not prompt:
            self.stats["usage_missing"] = self.stats.get("usage_missing", 0) + 1
            completion = count_tokens(model, text=text) if text else 0
        cost = batch_price(model, prompt, completion)
        self.cache.put_call(key, model, text, prompt, completion, cost, batch=True)
        self.ledger.record(model, prompt, completion, cost)
        self.stats["answered"] += 1


def _endpoint(job: dict[str, Any]) -> Endpoint:
    return Endpoint(job["model"], job.get("api_base"), job.get("api_key_env"), job.get("api_version"))


def _by_endpoint(requests: dict[str, Request]) -> dict[Endpoint, dict[str, Request]]:
    """Requests grouped by endpoint: a batch goes to one model at one address."""
    groups: dict[Endpoint, dict[str, Request]] = {}
    for key, request in requests.items():
        groups.setdefault(request.endpoint, {})[key] = request
    return groups
