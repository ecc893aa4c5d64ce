"""Ragas judges: scoring wall time at concurrency 1 vs N, against the ideal (calls x latency / concurrency).

Run: .venv/bin/python benchmarks/ragas_concurrency.py [--items 32] [--latency 0.1] [--concurrency 8]
Starts a local OpenAI-compatible server on 127.0.0.1 answering Ragas' faithfulness prompts (JSON of the requested
schema) after ``latency`` seconds, scores ``items`` answers with ``ragas-faithfulness`` (2 LLM calls per item) at
concurrency 1 and N, and prints each wall time, the speed-up and the ratio ideal / measured (1.0 = no overhead).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
os.environ.setdefault("RAFT_NO_PROGRESS", "1")

from raft_ragas.judges import FaithfulnessJudge  # noqa: E402
from raft_ragas.options import RagasOptions  # noqa: E402
from raft_testing import OpenAIServer, Reply  # noqa: E402

from raft_core.components import RunContext  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "ragas_llm", Path(__file__).resolve().parent.parent / "plugins/raft-ragas/tests/ragas_llm.py"
)
ragas_llm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ragas_llm)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    def responder(request: dict) -> Reply:
        reply = ragas_llm.ragas_responder(request)
        reply.delay = args.latency
        return reply

    questions = [f"How long is warranty number {i}?" for i in range(args.items)]
    answers = ["The warranty lasts two years. The warranty covers the screen."] * args.items
    contexts = [["The warranty lasts two years. The warranty covers the battery."]] * args.items
    with OpenAIServer(responder) as server, tempfile.TemporaryDirectory() as tmp:
        results = {}
        for concurrency in (1, args.concurrency):
            options = RagasOptions(
                model="openai/judge", api_base=server.base_url, api_key_env=None, concurrency=concurrency
            )
            judge = FaithfulnessJudge(options, RunContext(workdir=Path(tmp)))
            judge.score(questions[:1], answers[:1], [""], contexts[:1])  # warm-up: imports, client setup
            start = time.perf_counter()
            scores = judge.score(questions, answers, [""] * args.items, contexts)
            elapsed = time.perf_counter() - start
            assert scores == [0.5] * args.items, scores
            ideal = 2 * args.items * args.latency / concurrency
            results[concurrency] = elapsed
            print(
                f"concurrency {concurrency:3d}: {elapsed:6.2f} s, ideal {ideal:6.2f} s, "
                f"ideal/measured {ideal / elapsed:.2f}"
            )
    print(f"speed-up concurrency {args.concurrency} vs 1: {results[1] / results[args.concurrency]:.1f}x")


if __name__ == "__main__":
    main()
