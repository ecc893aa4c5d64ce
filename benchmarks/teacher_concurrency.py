"""LiteLLM teacher: generation wall time against the ideal (calls x latency / concurrency).

Run: .venv/bin/python benchmarks/teacher_concurrency.py [--chunks 64] [--latency 0.2] [--concurrency 32]
Starts a local OpenAI-compatible server (its own process) on 127.0.0.1 that answers every call after
``latency`` seconds, runs the ``litellm`` teacher on synthetic chunks (two-step and batched) and prints
the ratio ideal / measured (1.0 = no overhead beyond the injected latency; target >= 0.9). Side by side,
the same number of bare calls at the same concurrency through plain httpx and through litellm.acompletion
alone: what this machine and server allow, and what litellm's per-call CPU time leaves of it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("RAFT_NO_PROGRESS", "1")

from raft_litellm.teacher import LiteLLMTeacher, TeacherOptions  # noqa: E402
from raft_testing import OpenAIServer, Reply  # noqa: E402

from raft_core.components import RunContext  # noqa: E402
from raft_core.records import Chunk  # noqa: E402

ANSWER = "The passage says ##begin_quote##Fact {i} holds.##end_quote## so it holds.\n<ANSWER>: it holds"


def responder(latency: float, questions: int):
    def reply(request: dict) -> Reply:
        user = request["messages"][-1]["content"]
        if "answer each one" in user:
            items = [{"question": f"What about fact {i}?", "answer": ANSWER.format(i=i)} for i in range(questions)]
            return Reply(content=json.dumps({"items": items}), delay=latency)
        if user.startswith("Write"):
            return Reply(content="\n".join(f"{i + 1}. What about fact {i}?" for i in range(questions)), delay=latency)
        return Reply(content=ANSWER.format(i=0), delay=latency)

    return reply


def run(mode: str, args: argparse.Namespace, base_url: str) -> dict:
    chunks = [
        Chunk(text=" ".join(f"Fact {i} holds for chunk {c}." for i in range(20)), doc_id="d", source="s", index=c)
        for c in range(args.chunks)
    ]
    with tempfile.TemporaryDirectory() as workdir:
        options = TeacherOptions(
            model="openai/bench-model", api_base=base_url, mode=mode, concurrency=args.concurrency, max_retries=0
        )
        os.environ.setdefault("OPENAI_API_KEY", "sk-benchmark")
        teacher = LiteLLMTeacher(options, RunContext(workdir=Path(workdir)))
        started, cpu = time.perf_counter(), time.process_time()
        pairs = sum(1 for _ in teacher.generate(chunks, args.questions))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    summary = teacher.summary()
    ideal = summary["calls"] * args.latency / args.concurrency
    return {"mode": mode, "pairs": pairs, "calls": summary["calls"], "wall_s": wall, "ideal_s": ideal, "cpu_s": cpu}


def bare(client: str, calls: int, args: argparse.Namespace, base_url: str) -> tuple[float, float]:
    """Wall and CPU seconds for ``calls`` answer-sized calls at ``args.concurrency``, with no teacher around them."""
    import httpx
    from raft_litellm.client import import_litellm

    litellm = import_litellm()
    messages = [{"role": "user", "content": "Question: what holds?\n\nContext: " + "Fact 1 holds. " * 20}]

    async def main() -> tuple[float, float]:
        semaphore = asyncio.Semaphore(args.concurrency)
        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=None)) as http:

            async def one() -> None:
                async with semaphore:
                    if client == "httpx":
                        (
                            await http.post(base_url + "/chat/completions", json={"model": "m", "messages": messages})
                        ).json()
                    else:
                        await litellm.acompletion(
                            model="openai/bench-model", api_base=base_url, api_key="sk-benchmark", messages=messages
                        )

            await asyncio.gather(*(one() for _ in range(args.concurrency)))  # warm-up: connections
            started, cpu = time.perf_counter(), time.process_time()
            await asyncio.gather(*(one() for _ in range(calls)))
            return time.perf_counter() - started, time.process_time() - cpu

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=64)
    parser.add_argument("--questions", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    base_url = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(args.latency, args.questions, base_url), daemon=True)
    server.start()  # its own process, as a real server would be: its CPU time is not the teacher's
    try:
        url = base_url.get(timeout=30)
        run("batched", argparse.Namespace(**{**vars(args), "chunks": args.concurrency}), url)  # warm-up
        print(f"latency {args.latency * 1000:.0f} ms, concurrency {args.concurrency}, {args.chunks} chunks")
        calls = 0
        for mode in ("two-step", "batched"):
            chunks = args.chunks * (1 + args.questions) if mode == "batched" else args.chunks  # as many calls
            result = run(mode, argparse.Namespace(**{**vars(args), "chunks": chunks}), url)
            calls = calls or result["calls"]
            ratio = result["ideal_s"] / result["wall_s"]
            print(
                f"teacher {mode:9s} calls {result['calls']:4d}  pairs {result['pairs']:4d}  "
                f"wall {result['wall_s']:.2f} s  ideal {result['ideal_s']:.2f} s  ratio {ratio:.2f}  "
                f"cpu/call {1000 * result['cpu_s'] / result['calls']:.1f} ms"
            )
        ideal = calls * args.latency / args.concurrency
        for client in ("httpx", "litellm"):
            wall, cpu = bare(client, calls, args, url)
            print(
                f"bare {client:12s} calls {calls:4d}              wall {wall:.2f} s  ideal {ideal:.2f} s  "
                f"ratio {ideal / wall:.2f}  cpu/call {1000 * cpu / calls:.1f} ms"
            )
    finally:
        server.terminate()
        server.join()


def serve(latency: float, questions: int, base_url: multiprocessing.Queue) -> None:
    with OpenAIServer(responder(latency, questions)) as server:
        base_url.put(server.base_url)
        server.thread.join()


if __name__ == "__main__":
    main()
