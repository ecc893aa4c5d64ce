"""raft serve: requests/s and p50/p95 latency at concurrency 1, 4 and 16, batching on vs off, side by side.

Run: .venv/bin/python benchmarks/serve_batching.py [--model smollm2] [--requests 16] [--max-new-tokens 32]

One process ingests the sample corpus (configs/quickstart.yaml's loader and splitter), loads the model once and
serves it twice on 127.0.0.1: batching on (--max-batch 16, 20 ms window) and off (--max-batch 1: one generate
call per request, the baseline). For each concurrency, closed-loop clients (httpx, one thread each) send the
same questions to the baseline server, then to the batching one. Prints requests/s, p50/p95 latency, mean batch
size, the speed-up against the baseline, how many answers equal the baseline's (greedy; left padding can change
a few tokens), and the load average before and after (the machine may be shared: compare ratios, not seconds).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import uvicorn
from raft_serve import ServeSettings, create_app

from raft_core.chat import open_session
from raft_core.config import load_config
from raft_core.pipeline import Run
from raft_core.plugins import get_plugin_manager

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "How bright is the Lumen L2 lamp?",
    "How long does the warranty last?",
    "Can I return the lamp after three weeks?",
    "Which phones can run the Halvard Home app?",
    "What should I do if the lamp flickers?",
    "When was the company founded?",
    "How do I pair the lamp with the app?",
    "Does the warranty cover water damage?",
]


def native_bf16() -> bool:
    """Whether the CPU has bfloat16 matrix instructions (AMX or AVX512-BF16)."""
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        return False
    return bool({"amx_bf16", "avx512_bf16"} & set(flags.split()))


def start(app) -> tuple[uvicorn.Server, str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"


def drive(base: str, concurrency: int, requests: int) -> tuple[float, list[float], dict[str, str]]:
    """Wall seconds, per-request latencies and answers of ``requests`` questions sent by ``concurrency`` clients."""
    questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(requests)]
    latencies: list[float] = []
    answers: dict[str, str] = {}
    with httpx.Client(timeout=None) as client:  # a loaded machine may take minutes per request

        def ask(question: str) -> None:
            began = time.perf_counter()
            reply = client.post(
                f"{base}/v1/chat/completions", json={"messages": [{"role": "user", "content": question}]}
            )
            reply.raise_for_status()
            latencies.append(time.perf_counter() - began)
            answers[question] = reply.json()["choices"][0]["message"]["content"]

        began = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(ask, questions))
        return time.perf_counter() - began, latencies, answers


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument(
        "--requests", type=int, default=16, help="Requests per concurrency level and mode (at least the concurrency)."
    )
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], help="Default: bfloat16 where the CPU has it.")
    args = parser.parse_args()
    dtype = args.dtype or ("bfloat16" if native_bf16() else "float32")
    print(f"load average before: {os.getloadavg()}; dtype {dtype} (native bf16: {native_bf16()})", flush=True)
    with tempfile.TemporaryDirectory() as work:
        config = load_config(
            ROOT / "configs" / "quickstart.yaml", {"workdir": work, "load.source": str(ROOT / "samples" / "corpus")}
        )
        run = Run(config, get_plugin_manager())
        run.ingest()
        options = {"max_new_tokens": args.max_new_tokens, "dtype": dtype, "batch_size": 16}
        session = open_session(run, args.model, "transformers", options)
        session.generator.generate([session.retrieve(QUESTIONS[0], 3)[1]])  # load and warm up
        servers = {
            mode: start(create_app(session, ServeSettings(model_name=args.model, max_batch=size)))
            for mode, size in (("off", 1), ("on", 16))
        }
        print(
            f"{'conc':>4} {'mode':>4} {'req/s':>7} {'p50 s':>7} {'p95 s':>7} {'batch':>6} {'speed-up':>8} same",
            flush=True,
        )
        for concurrency in args.concurrency:
            baseline: tuple[float, dict[str, str]] | None = None
            for mode in ("off", "on"):
                base = servers[mode][1]
                before = httpx.get(f"{base}/health").json()["batches"]
                requests = max(args.requests, concurrency)
                seconds, latencies, answers = drive(base, concurrency, requests)
                health = httpx.get(f"{base}/health").json()
                sizes = health["batch_sizes"][-(health["batches"] - before) :]
                rate = requests / seconds
                baseline = baseline or (rate, answers)
                same = sum(answers[q] == baseline[1][q] for q in answers)
                print(
                    f"{concurrency:>4} {mode:>4} {rate:>7.2f} {percentile(latencies, 50):>7.2f} "
                    f"{percentile(latencies, 95):>7.2f} {statistics.mean(sizes):>6.1f} {rate / baseline[0]:>7.2f}x "
                    f"{same}/{len(answers)}",
                    flush=True,
                )
        for server, _ in servers.values():
            server.should_exit = True
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
