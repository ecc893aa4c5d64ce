"""Trainer throughput: tokens/s of raft-trl's ``trl`` trainer vs a bare TRL SFTTrainer script, and packing vs not.

Run: OMP_NUM_THREADS=2 .venv/bin/python benchmarks/trainer_throughput.py [--steps 30] [--hidden 256] [--repeats 3]
Same tiny local Llama, same chat data (RAFT-like: 1 to 6 documents per question, so lengths vary), same
settings (LoRA r=16, batch 8, max_length 512, assistant-only loss, lr, seed) for all; tokens are the non-padding
input tokens the Trainer counted, time is the ``trainer.train()`` call. Variants: ``bare`` (a hand-written TRL
script), ``ours`` (the trl trainer with its defaults: batches grouped by length), ``ours_random`` (random batches
as in the bare script: our overhead alone), ``ours_packed`` (packing, bfd), ``ours_wrapped`` (packing, wrapped).
Runs alternate so drift hits all; the median of ``--repeats`` runs is compared. Prints ours/bare (target >= 1.0)
and packing/no-packing ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from raft_testing import OFFLINE_ENV, build_tiny_model
from raft_testing.training_samples import make_workdir
from raft_trl.trainer import TrlTrainer

from raft_core.components import RunContext

SETTINGS = {"batch_size": 8, "learning_rate": 2e-4, "max_length": 512, "lora_r": 16, "lora_alpha": 32}


def ours(model: Path, dataset: Path, out: Path, steps: int, **variant: bool | str) -> float:
    """tokens/s of the raft ``trl`` trainer (its own report: tokens / trainer.train() seconds)."""
    options = TrlTrainer.Options(
        model=str(model), max_steps=steps, save_steps=10_000, logging_steps=10, **variant, **SETTINGS
    )
    folder = TrlTrainer(options, RunContext(workdir=out, seed=0)).train(dataset, out)
    return json.loads((folder / "raft_training.json").read_text())["tokens_per_second"]


def bare(model: Path, dataset: Path, out: Path, steps: int) -> float:
    """tokens/s of the script a TRL user writes by hand (same settings)."""
    import torch
    from datasets import load_dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    tokenizer = AutoTokenizer.from_pretrained(model)
    train = load_dataset("json", data_files=str(dataset / "train.jsonl"), split="train").remove_columns("id")
    config = SFTConfig(
        output_dir=str(out),
        max_steps=steps,
        per_device_train_batch_size=SETTINGS["batch_size"],
        learning_rate=SETTINGS["learning_rate"],
        max_length=SETTINGS["max_length"],
        assistant_only_loss=True,
        logging_steps=10,
        save_strategy="no",
        report_to="none",
        seed=0,
        use_cpu=True,
        bf16=False,
        activation_checkpointing=False,
        include_num_input_tokens_seen="non_padding",
        disable_tqdm=True,
    )
    lora = LoraConfig(
        r=SETTINGS["lora_r"], lora_alpha=SETTINGS["lora_alpha"], lora_dropout=0.05, target_modules="all-linear"
    )
    trainer = SFTTrainer(
        model=AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32),
        args=config,
        train_dataset=train,
        processing_class=tokenizer,
        peft_config=lora,
    )
    started = time.perf_counter()
    trainer.train()
    return trainer.state.num_input_tokens_seen / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--examples", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--distractors", type=int, default=5)
    args = parser.parse_args()
    os.environ.update(OFFLINE_ENV)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = build_tiny_model(root / "model", vocab_size=512, hidden_size=args.hidden, layers=args.layers)
        dataset = make_workdir(root / "work", n=args.examples, distractors=args.distractors)
        runs = {
            "bare": lambda out: bare(model, dataset, out, args.steps),
            "ours": lambda out: ours(model, dataset, out, args.steps),
            "ours_random": lambda out: ours(model, dataset, out, args.steps, group_by_length=False),
            "ours_packed": lambda out: ours(model, dataset, out, args.steps, packing=True),
            "ours_wrapped": lambda out: ours(model, dataset, out, args.steps, packing=True, packing_strategy="wrapped"),
        }
        results: dict[str, list[float]] = {name: [] for name in runs}
        for repeat in range(args.repeats):
            order = list(runs) if repeat % 2 == 0 else list(reversed(runs))
            for name in order:
                results[name].append(runs[name](root / f"{name}{repeat}"))
    median = {name: statistics.median(values) for name, values in results.items()}
    for name, values in results.items():
        print(f"{name:<12} tokens/s: " + ", ".join(f"{v:,.0f}" for v in values) + f"  (median {median[name]:,.0f})")
    print(f"ours / bare TRL SFTTrainer: {median['ours'] / median['bare']:.3f}  (target >= 1.0)")
    print(f"ours with random batches / bare: {median['ours_random'] / median['bare']:.3f}  (overhead only)")
    print(f"packing / no packing (ours, random batches): {median['ours_packed'] / median['ours_random']:.3f}")
    print(f"packing / no packing (ours, length-grouped): {median['ours_packed'] / median['ours']:.3f}")
    print(f"wrapped packing / no packing (ours, random batches): {median['ours_wrapped'] / median['ours_random']:.3f}")


if __name__ == "__main__":
    main()
