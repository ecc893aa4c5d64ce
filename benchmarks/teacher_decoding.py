"""transformers teacher decoding: the quickstart's teacher calls decoded the old way vs the teacher's way now.

Run: nice .venv/bin/python benchmarks/teacher_decoding.py [--model smollm2] [--questions 2] [--batch-size 32]

Both run in one process on one loaded model, over the quickstart's chunks (``raft ingest`` of
``samples/corpus`` into a temporary folder) and the teacher's own prompts:
- old: plain ``model.generate``, left padding, batches of 8, every row decoded to ``max_new_tokens`` (160) unless
  the whole batch ends (what the teacher did before per-row stops and the shared prefix).
- new: ``ChatModel.generate`` as the teacher calls it: per-row stops (N questions listed; ``<ANSWER>:`` line
  done), question calls capped at N x ``question_tokens``, the prompt prefix all calls share computed once.
The answer calls of both use the old run's questions, so the replies can be compared one by one: the script
prints seconds per phase, the ratio, the load average, and how many parsed question lists and answers match.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from raft_transformers.teacher import TransformersTeacher, _questions, answer_complete, questions_complete

from raft_core.components import RunContext
from raft_core.openmp import busy_wait_policy
from raft_core.records import Chunk

ROOT = Path(__file__).resolve().parents[1]


def load_average() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def quickstart_chunks(work: Path) -> list[Chunk]:
    """The quickstart's chunks, from a real ``raft ingest``."""
    raft = Path(sys.executable).parent / "raft"
    command = [str(raft), "ingest", "--config", str(ROOT / "configs" / "quickstart.yaml"), "--workdir", str(work)]
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lines = (work / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    return [Chunk.from_dict(json.loads(line)) for line in lines if line.strip()]


def plain_generate(chat, conversations, batch_size: int, max_new_tokens: int) -> list[str]:
    """The old decoding: length-sorted batches, left padding, no stop but end-of-sequence."""
    import torch

    order = sorted(range(len(conversations)), key=lambda i: len(chat.render(conversations[i])))
    out = [""] * len(conversations)
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        encoded = chat.tokenizer(
            [chat.render(conversations[i]) for i in batch], return_tensors="pt", padding=True, add_special_tokens=False
        )
        with torch.inference_mode():
            output = chat.model.generate(
                **encoded, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=chat.tokenizer.pad_token_id
            )
        texts = chat.tokenizer.batch_decode(output[:, encoded["input_ids"].shape[1] :], skip_special_tokens=True)
        for i, text in zip(batch, texts, strict=True):
            out[i] = text.strip()
    return out


def timed(label: str, function, *args, **kwargs):
    before = load_average()
    start = time.perf_counter()
    result = function(*args, **kwargs)
    seconds = time.perf_counter() - start
    print(f"{label:28} {seconds:7.1f} s   load {before} -> {load_average()}", flush=True)
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--questions", type=int, default=2, help="questions per chunk (the quickstart's: 2)")
    parser.add_argument("--max-new-tokens", type=int, default=160)
    parser.add_argument("--batch-size", type=int, default=32, help="the new teacher's batch size")
    parser.add_argument("--old-batch-size", type=int, default=8)
    parser.add_argument(
        "--variants",
        nargs="+",
        default=["old", "new"],
        help="old, new, or new:N (new, rows leaving the batch every N tokens; N >= max-new-tokens: never); the "
        "first is the baseline whose questions all answer calls use",
    )
    args = parser.parse_args()
    busy_wait_policy()  # as `raft` does: before torch starts its OpenMP threads
    n = args.questions
    with tempfile.TemporaryDirectory() as work:
        chunks = quickstart_chunks(Path(work) / "ingest")
        options = TransformersTeacher.Options(
            model=args.model, max_new_tokens=args.max_new_tokens, batch_size=args.batch_size
        )
        teacher = TransformersTeacher(options, RunContext(workdir=Path(work)))
        chat = teacher.chat
        compute = chat.compute
        print(f"{len(chunks)} chunks, {n} questions each, {compute['dtype']}, {compute['threads']} threads, ", end="")
        print(f"OMP_WAIT_POLICY {os.environ.get('OMP_WAIT_POLICY', 'default')}")
        asking = [teacher.question_messages(c.text, n) for c in chunks]
        default_segment = chat.segment_tokens

        def run(variant: str, conversations, questions: bool) -> tuple[float, list[str]]:
            label = f"{variant} {'questions' if questions else 'answers'}"
            if variant == "old":
                return timed(label, plain_generate, chat, conversations, args.old_batch_size, args.max_new_tokens)
            chat.segment_tokens = int(variant.partition(":")[2] or default_segment)
            settings = {"stop": partial(questions_complete, n=n), "max_new_tokens": teacher.question_budget(n)}
            seconds, (replies, _) = timed(
                label,
                chat.generate,
                conversations,
                args.batch_size,
                **(settings if questions else {"stop": answer_complete}),
            )
            return seconds, replies

        seconds: dict[str, float] = {}
        replies: dict[str, tuple[list[str], list[str]]] = {}
        answering = []
        for variant in args.variants:
            seconds[variant], asked = run(variant, asking, True)
            if not answering:
                pairs = [(c, q) for c, reply in zip(chunks, asked, strict=True) for q in _questions(reply, n)]
                answering = [teacher.answer_messages(c.text, q) for c, q in pairs]
            answer_seconds, answers = run(variant, answering, False)
            seconds[variant] += answer_seconds
            replies[variant] = (asked, answers)
    first = args.variants[0]
    base_q, base_a = replies[first]
    print(f"\n{len(asking)} question calls, {len(answering)} answer calls; load average now {load_average()}")
    for variant in args.variants:
        asked, answers = replies[variant]
        same_q = sum(_questions(a, n) == _questions(b, n) for a, b in zip(base_q, asked, strict=True))
        same_a = sum(a == b for a, b in zip(base_a, answers, strict=True))
        cut = sum(a.startswith(b) and a != b for a, b in zip(base_a, answers, strict=True))
        print(
            f"{variant:10} {seconds[variant]:7.1f} s  {seconds[variant] / seconds[first]:.2f}x {first}; same parsed "
            f"questions {same_q}/{len(asking)}, identical answers {same_a}/{len(answering)} (+{cut} cut after the "
            "answer line)"
        )


if __name__ == "__main__":
    main()
