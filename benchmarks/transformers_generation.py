"""transformers generator: wall time to answer N RAG-style prompts by batch size (left padding, greedy).

Run: .venv/bin/python benchmarks/transformers_generation.py [--model smollm2] [--prompts 16] [--batch-sizes 1 4 8]
Prints seconds and answers per second for each batch size and the speed-up against batch size 1 (same prompts),
and whether the greedy answers are identical to batch size 1's.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from raft_transformers.generator import TransformersGenerator
from raft_transformers.options import ModelOptions

from raft_core.components import RunContext

FACTS = [
    "The Lumen L2 lamp has a warm-white LED panel rated at 820 lumens.",
    "The warranty lasts two years from the date of purchase.",
    "Returns are accepted within thirty days if the lamp is in its original packaging.",
    "The Halvard Home app runs on Android 12 or newer and on iOS 16 or newer.",
]
QUESTIONS = ["How bright is the lamp?", "How long is the warranty?", "When can I return it?", "Which phones work?"]


def conversations(n: int) -> list[list[dict[str, str]]]:
    """``n`` prompts of varied length: a few context sentences and a question."""
    result = []
    for i in range(n):
        context = " ".join(FACTS[(i + j) % len(FACTS)] for j in range(1 + i % 4))
        result.append(
            [
                {"role": "system", "content": "Answer the question using the context, in one sentence."},
                {"role": "user", "content": f"Context: {context}\n\nQuestion: {QUESTIONS[i % len(QUESTIONS)]}"},
            ]
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 4, 8])
    args = parser.parse_args()
    prompts = conversations(args.prompts)
    with tempfile.TemporaryDirectory() as work:
        generator = TransformersGenerator(
            ModelOptions(model=args.model, max_new_tokens=args.max_new_tokens), RunContext(workdir=Path(work))
        )
        generator.generate(prompts[:1])  # load and warm up
        baseline: tuple[float, list[str]] | None = None
        print(f"{'batch':>5} {'seconds':>8} {'answers/s':>9} {'speed-up':>8} same-answers")
        for size in args.batch_sizes:
            generator.options.batch_size = size
            start = time.perf_counter()
            answers = generator.generate(prompts)
            seconds = time.perf_counter() - start
            baseline = baseline or (seconds, answers)
            same = sum(a == b for a, b in zip(answers, baseline[1], strict=True))
            rate, speedup = len(prompts) / seconds, baseline[0] / seconds
            print(f"{size:>5} {seconds:>8.1f} {rate:>9.2f} {speedup:>7.2f}x {same}/{len(prompts)}")


if __name__ == "__main__":
    main()
