"""Assemble stage at scale: peak RSS and wall time for 1M synthetic chunks (~1 KB) and 100k QA pairs.

Run: .venv/bin/python benchmarks/assemble_streaming.py [--chunks 1000000] [--questions 100000] [--modes ...]
Writes chunks.jsonl and qa.jsonl into a temporary work directory (~1.2 GB for 1M chunks), then runs the assemble
stage (random distractors, k=4, chat formatter) once per mode, each in its own process so peak RSS is its own:
  pipeline   the current Run.assemble (streaming: offset index into chunks.jsonl)
  in-memory  the previous Run.assemble (every chunk in a dict, the policy fitted on the full list), the baseline
and prints wall time, peak RSS and their ratio to the baseline. Target: < 2 GB and < 5 min on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from raft_testing.assembly_samples import write_synthetic_workdir

from raft_core.assemble import AssemblyStats, assemble
from raft_core.config import RunConfig
from raft_core.io import read_records, write_jsonl
from raft_core.pipeline import Run
from raft_core.plugins import PluginManager
from raft_core.records import QAPair, RaftExample


def in_memory_assemble(run: Run) -> None:
    """The assemble stage as it was before streaming: all chunks in memory."""
    cfg = run.config.assemble
    chunks = {c.id: c for c in run.chunks()}
    policy = run.build("distractor", cfg.distractor, cfg.distractor_options)
    policy.fit(list(chunks.values()))
    layout = run.build("layout", cfg.layout, cfg.layout_options)
    formatter = run.build("formatter", "chat", None)
    qa = read_records(run.path("qa.jsonl"), QAPair)
    dataset = run.path("dataset")
    write_jsonl(dataset / "examples.jsonl", assemble(qa, chunks, policy, cfg, run.config.seed, AssemblyStats()))
    formatter.write(read_records(dataset / "examples.jsonl", RaftExample), layout, dataset / "chat")


def measure(mode: str, workdir: Path) -> None:
    """Child process: run one mode and print its wall time and peak RSS as JSON."""
    manager = PluginManager()
    manager.load_entrypoints()
    config = RunConfig(workdir=str(workdir), seed=1, assemble={"num_distractors": 4, "formats": ["chat"]})
    run = Run(config, manager)
    started = time.perf_counter()
    run.assemble() if mode == "pipeline" else in_memory_assemble(run)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"mode": mode, "seconds": seconds, "peak_rss_mb": peak_mb}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--questions", type=int, default=100_000)
    parser.add_argument("--chunk-chars", type=int, default=1000)
    parser.add_argument("--modes", nargs="+", default=["in-memory", "pipeline"], choices=["in-memory", "pipeline"])
    parser.add_argument("--child", nargs=2, metavar=("MODE", "WORKDIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return measure(args.child[0], Path(args.child[1]))
    with tempfile.TemporaryDirectory(prefix="raft-assemble-bench-") as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        write_synthetic_workdir(workdir, args.chunks // 10, 10, args.questions, chunk_chars=args.chunk_chars)
        size = (workdir / "chunks.jsonl").stat().st_size / 2**20
        print(f"{args.chunks:,} chunks ({size:,.0f} MiB), {args.questions:,} QA pairs, "
              f"written in {time.perf_counter() - started:.0f} s; k=4, random distractors, chat format")  # fmt: skip
        env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
        results = []
        for mode in args.modes:
            command = [sys.executable, __file__, "--child", mode, str(workdir)]
            out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    base = results[0]
    print(f"{'mode':<10} {'seconds':>8} {'peak RSS MiB':>13} {'time x':>7} {'RSS x':>6}")
    for r in results:
        print(f"{r['mode']:<10} {r['seconds']:8.1f} {r['peak_rss_mb']:13.0f} "
              f"{r['seconds'] / base['seconds']:7.2f} {r['peak_rss_mb'] / base['peak_rss_mb']:6.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
