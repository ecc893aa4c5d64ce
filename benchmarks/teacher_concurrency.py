"""LiteLLM teacher: generation wall time against the ideal (calls x latency / concurrency).

Run: .venv/bin/python benchmarks/teacher_concurrency.py [--chunks 64] [--latency 0.2] [--concurrency 32]
Starts a local OpenAI-compatible server (its own process) on 127.0.0.1 that answers every call after
``latency`` seconds, runs the ``litellm`` teacher on synthetic chunks (two-step and batched) and prints
the ratio ideal / measured (1.0 = no overhead beyond the injected latency; target >= 0.9). Side by side,
the same number of bare calls at the same concurrency through plain httpx and through litellm.acompletion
alone: what this machine and server allow, and what litellm's per-call CPU time leaves of it.

With ``--fanout`` (issue 18): at each of ``--concurrencies`` (64,128), bare httpx, bare aiohttp, the two-step
teacher in one process and in each of ``--processes`` worker processes, side by side, each given ``--calls``
calls. Reported: the wall ratio (ideal / wall, pool start and exit included), the steady-state ratio (the rate of
the middle 80% of the server's request arrivals / concurrency x latency), and each steady-state rate over bare
httpx's and bare aiohttp's.
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

from raft_litellm.client import import_litellm  # noqa: E402
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


def run(mode: str, args: argparse.Namespace, base_url: str, processes: int = 1) -> dict:
    chunks = [
        Chunk(text=" ".join(f"Fact {i} holds for chunk {c}." for i in range(20)), doc_id="d", source="s", index=c)
        for c in range(args.chunks)
    ]
    with tempfile.TemporaryDirectory() as workdir:
        options = TeacherOptions(
            model="openai/bench-model",
            api_base=base_url,
            mode=mode,
            concurrency=args.concurrency,
            max_retries=0,
            processes=processes,
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
    """Wall and CPU seconds for ``calls`` answer-sized calls at ``args.concurrency``, with no teacher around them.

    ``client``: httpx, aiohttp (LiteLLM's transport; httpx's connection pool costs CPU per pooled connection on
    every request, encode/httpx#3215, so at 64+ connections aiohttp is the faster bare client) or litellm.
    """
    import aiohttp
    import httpx

    litellm = import_litellm()
    messages = [{"role": "user", "content": "Question: what holds?\n\nContext: " + "Fact 1 holds. " * 20}]
    body = {"model": "m", "messages": messages}

    async def main() -> tuple[float, float]:
        semaphore = asyncio.Semaphore(args.concurrency)
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        async with (
            httpx.AsyncClient(timeout=30, limits=limits) as http,
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session,
        ):

            async def one() -> None:
                async with semaphore:
                    if client == "httpx":
                        (await http.post(base_url + "/chat/completions", json=body)).json()
                    elif client == "aiohttp":
                        async with session.post(base_url + "/chat/completions", json=body) as response:
                            await response.json()
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
    parser.add_argument("--fanout", action="store_true", help="compare worker processes with bare httpx instead")
    parser.add_argument("--concurrencies", default="64,128", help="with --fanout: concurrencies to run")
    parser.add_argument("--processes", default="2", help="with --fanout: worker process counts beside 1")
    parser.add_argument("--calls", type=int, default=1024, help="with --fanout: calls per line")
    args = parser.parse_args()
    base_url, commands, arrivals = multiprocessing.Queue(), multiprocessing.Queue(), multiprocessing.Queue()
    server = multiprocessing.Process(
        target=serve, args=(args.latency, args.questions, base_url, commands, arrivals), daemon=True
    )
    server.start()  # its own process, as a real server would be: its CPU time is not the teacher's
    try:
        url = base_url.get(timeout=30)
        if args.fanout:
            fanout(args, url, commands, arrivals)
            return
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


def fanout(args: argparse.Namespace, url: str, commands: multiprocessing.Queue, arrivals: multiprocessing.Queue):
    """Bare httpx, the teacher in 1 process and in N processes, at each concurrency, side by side."""
    import_litellm()  # imported before any line is timed, as in a run that has made calls already
    chunks = args.calls // (1 + args.questions)  # two-step: one question call and N answer calls per chunk
    print(f"uptime: {os.getloadavg()}; latency {args.latency * 1000:.0f} ms, {chunks * (1 + args.questions)} calls")
    print("concurrency | client | wall s | wall ratio | steady ratio | / bare httpx | / bare aiohttp | cpu ms/call")
    print("(cpu: this process; with worker processes, the driver's alone)")
    for concurrency in (int(c) for c in args.concurrencies.split(",")):
        ideal_rate = concurrency / args.latency
        settings = argparse.Namespace(**{**vars(args), "concurrency": concurrency, "chunks": chunks})
        lines: list[tuple[str, float, float, float]] = []  # client, wall, steady rate, CPU seconds here
        for client in ["httpx", "aiohttp", *(int(p) for p in ["1", *args.processes.split(",")])]:
            commands.put("clear")
            arrivals.get(timeout=30)
            if isinstance(client, str):
                wall, cpu = bare(client, chunks * (1 + args.questions), settings, url)
                name = f"bare {client}"
            else:
                result = run("two-step", settings, url, processes=client)
                wall, cpu = result["wall_s"], result["cpu_s"]
                name = f"teacher, {client} process" + ("es" if client > 1 else "")
            commands.put("times")
            lines.append((name, wall, steady_rate(arrivals.get(timeout=30)), cpu))
        calls = chunks * (1 + args.questions)
        for name, wall, rate, cpu in lines:
            print(
                f"{concurrency:11d} | {name:20s} | {wall:6.2f} | {calls * args.latency / concurrency / wall:.2f} | "
                f"{rate / ideal_rate:.2f} | {rate / lines[0][2]:.2f} | {rate / lines[1][2]:.2f} | "
                f"{1000 * cpu / calls:.1f}",
                flush=True,
            )
    print(f"uptime: {os.getloadavg()}")


def steady_rate(times: list[float]) -> float:
    """Requests per second over the middle 80% of arrivals (start-up and tail left out)."""
    times = sorted(times)
    first, last = len(times) // 10, len(times) - 1 - len(times) // 10
    return (last - first) / (times[last] - times[first])


def serve(
    latency: float,
    questions: int,
    base_url: multiprocessing.Queue,
    commands: multiprocessing.Queue,
    arrivals: multiprocessing.Queue,
) -> None:
    """The server; on ``times`` from ``commands`` it sends the arrival times since the last ``clear``."""
    times: list[float] = []
    reply = responder(latency, questions)

    def timed(request: dict) -> Reply:
        times.append(time.monotonic())
        return reply(request)

    with OpenAIServer(timed) as server:
        base_url.put(server.base_url)
        for command in iter(commands.get, None):
            arrivals.put(list(times))
            if command == "clear":
                times.clear()


if __name__ == "__main__":
    main()
