"""The training loop on ``accelerate.Accelerator``: same in one process, under DDP, FSDP or across machines."""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from raft_trl import (
    REPORT,
    RESUME_NEUTRAL,
    Precision,
    checkpoints,
    choose_checkpoint,
    choose_precision,
    export_model,
    fingerprint,
    finish_output,
    load_student,
    load_training_data,
    lora_config,
    reset_checkpoints,
    training_chat_template,
)
from rich.markup import escape

from raft_accelerate.encode import collate, encode_rows
from raft_accelerate.options import AccelerateOptions
from raft_core.console import console, progress
from raft_core.errors import RaftError
from raft_core.io import write_json

LAUNCH_NEUTRAL = {"main_process_ip", "main_process_port", "config_file"}
PROGRESS = "raft_progress.json"
"""Written by the main process into a checkpoint folder after every rank saved its state: it is complete."""


def mixed_precision(options: AccelerateOptions, precision: Precision) -> str:
    """accelerate's mixed_precision: the option, or with ``auto`` the autocast ``precision`` asks for."""
    if options.mixed_precision != "auto":
        return options.mixed_precision
    if not precision.autocast:
        return "no"
    return {"bfloat16": "bf16", "float16": "fp16"}[precision.dtype]


def build_accelerator(options: AccelerateOptions, precision: Precision) -> Any:
    import torch
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState
    from accelerate.utils import DataLoaderConfiguration

    AcceleratorState._reset_state()  # an earlier run in this process may have set another mixed_precision
    return Accelerator(
        cpu=not torch.cuda.is_available(),
        gradient_accumulation_steps=options.gradient_accumulation,
        mixed_precision=None if options.config_file else mixed_precision(options, precision),
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True),
    )


def prepare_model(options: AccelerateOptions, fmt: str, precision: Precision) -> tuple[Any, Any, str, str | None]:
    """``(model, tokenizer, base, template note)``: the student, wrapped in LoRA unless full fine-tuning."""
    model, tokenizer, base = load_student(options, precision)
    note = None
    if fmt == "chat" and options.assistant_only_loss:
        template, note = training_chat_template(tokenizer, options.chat_template)
        if template is not None:
            tokenizer.chat_template = template
    config = lora_config(options)
    if config is not None:
        from peft import get_peft_model

        model = get_peft_model(model, config)
    if options.gradient_checkpointing:
        model.gradient_checkpointing_enable()
    return model, tokenizer, base, note


@dataclass
class Session:
    """One process's training: the prepared accelerator objects and the resumable progress ``state``."""

    accelerator: Any
    model: Any
    optimizer: Any
    scheduler: Any
    loader: Any
    total: int
    folder: Path
    state: dict[str, Any] = field(
        default_factory=lambda: {"step": 0, "epoch": 0, "batch": 0, "tokens": 0, "loss_history": []}
    )

    @property
    def main(self) -> bool:
        return self.accelerator.is_main_process


def run_training(options: AccelerateOptions, seed: int, dataset_dir: Path, output_dir: Path) -> Path:
    """Train on this process's share of the data; the main process writes the model and ``raft_training.json``."""
    from accelerate.utils import set_seed
    from raft_transformers import configure_threads

    precision, threads = choose_precision(options), configure_threads()
    accelerator = build_accelerator(options, precision)
    main = accelerator.is_main_process
    console.print(
        f"accelerate: process {accelerator.process_index} of {accelerator.num_processes} on {accelerator.device} "
        f"({accelerator.distributed_type}), {precision.dtype} ({precision.reason}): {precision.describe()}, "
        f"mixed_precision {accelerator.mixed_precision}, {threads} threads",
        soft_wrap=True,
        markup=False,
    )
    if main:
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / REPORT).unlink(missing_ok=True)
        shutil.rmtree(output_dir / "merged", ignore_errors=True)
    set_seed(seed)
    fmt, splits, source = load_training_data(options, dataset_dir)
    model, tokenizer, base, note = prepare_model(options, fmt, precision)
    if note and main:
        console.print(f"accelerate: {escape(note)}", soft_wrap=True)
    examples = encode_rows(fmt, splits["train"], tokenizer, options.max_length, options.assistant_only_loss)
    if not examples:
        raise RaftError(f"no training example left in {source} (all truncated away at max_length?)")
    session = prepare_session(options, seed, accelerator, model, examples, tokenizer.pad_token_id, output_dir)
    checkpoint = resume(session, options, source)
    resumed_tokens = session.state["tokens"]
    seconds = train_steps(session, options)
    ranks = save_model(session, output_dir)
    if not main:
        accelerator.wait_for_everyone()
        return output_dir
    tokenizer.save_pretrained(str(output_dir))
    merged = None
    if options.merge and options.method != "full":
        dtype = "bfloat16" if precision.dtype == "bfloat16" else "float32"
        merged = export_model(output_dir, output_dir / "merged", dtype)
    tokens = session.state["tokens"] - resumed_tokens
    report = {
        "trainer": "accelerate",
        "model": options.model,
        "base_model": base,
        "method": options.method,
        "mode": options.mode,
        "format": fmt,
        "adapter": options.method != "full",
        "data": source,
        "examples": {"train": len(splits["train"])},
        "config": options.model_dump(mode="json") | {"seed": seed, "learning_rate": options.lr()},
        **precision.report(threads),
        "mixed_precision": str(accelerator.mixed_precision),
        "chat_template": note,
        "resumed_from": str(checkpoint) if checkpoint else None,
        "global_step": session.state["step"],
        "world_size": accelerator.num_processes,
        "ranks": ranks,
        "distributed_type": str(accelerator.distributed_type),
        "loss_history": session.state["loss_history"],
        "tokens": tokens,
        "train_seconds": seconds,
        "tokens_per_second": tokens / seconds if seconds else None,
        "merged": str(merged) if merged else None,
    }
    finish_output(output_dir, report)
    accelerator.wait_for_everyone()
    return output_dir


def prepare_session(
    options: AccelerateOptions,
    seed: int,
    accelerator: Any,
    model: Any,
    examples: list[dict],
    pad_id: int,
    output_dir: Path,
) -> Session:
    """Batches, optimizer and scheduler, prepared by the accelerator (sharded over processes)."""
    import torch
    from transformers import get_scheduler

    loader = torch.utils.data.DataLoader(
        examples,
        batch_size=options.batch_size,
        shuffle=True,
        collate_fn=lambda batch: collate(batch, pad_id),
        generator=torch.Generator().manual_seed(seed),
    )
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=options.lr(), weight_decay=options.weight_decay)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    steps_per_epoch = max(1, math.ceil(len(loader) / options.gradient_accumulation))
    total = options.max_steps if options.max_steps > 0 else math.ceil(options.epochs * steps_per_epoch)
    scheduler = get_scheduler(
        options.lr_scheduler, optimizer, num_warmup_steps=options.warmup_steps, num_training_steps=total
    )
    accelerator.register_for_checkpointing(scheduler)
    return Session(accelerator, model, optimizer, scheduler, loader, total, output_dir / "checkpoints")


def resume(session: Session, options: AccelerateOptions, source: str) -> Path | None:
    """Load the newest complete checkpoint made with the same options and data (stale ones are removed)."""
    accelerator, folder = session.accelerator, session.folder
    key = fingerprint(options, source, RESUME_NEUTRAL | LAUNCH_NEUTRAL)
    checkpoint, stale = choose_checkpoint(options.resume, folder, checkpoints(folder, PROGRESS), key)
    accelerator.wait_for_everyone()
    if session.main:
        reset_checkpoints(folder, stale, key)
    if checkpoint:
        accelerator.load_state(str(checkpoint))
        session.state = json.loads((checkpoint / PROGRESS).read_text(encoding="utf-8"))
        if session.main:
            console.print(f"accelerate: resuming from {escape(str(checkpoint))} (step {session.state['step']})")
    return checkpoint


def save_checkpoint(session: Session, options: AccelerateOptions) -> None:
    """Every rank saves its state; the main process then marks the folder complete and prunes old ones."""
    accelerator, state = session.accelerator, session.state
    target = session.folder / f"step-{state['step']}"
    accelerator.save_state(str(target))
    accelerator.wait_for_everyone()
    if session.main:
        write_json(target / PROGRESS, state)
        limit = options.save_total_limit
        for old in checkpoints(session.folder, PROGRESS)[:-limit] if limit else []:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


def train_steps(session: Session, options: AccelerateOptions) -> float:
    """Optimizer steps from ``session.state`` up to ``session.total``, logging and checkpointing; seconds taken."""
    import torch

    accelerator, model, loader = session.accelerator, session.model, session.loader
    state, total = session.state, session.total
    model.train()
    started = time.perf_counter()
    running, micro = 0.0, 0
    with progress("accelerate: training", total - state["step"]) as advance:
        while state["step"] < total:
            loader.set_epoch(state["epoch"])
            batches = accelerator.skip_first_batches(loader, state["batch"]) if state["batch"] else loader
            for batch in batches:
                with accelerator.accumulate(model):
                    loss = model(**batch).loss
                    accelerator.backward(loss)
                    session.optimizer.step()
                    if accelerator.sync_gradients:
                        session.scheduler.step()
                    session.optimizer.zero_grad()
                state["batch"] += 1
                running, micro = running + loss.detach().float().item(), micro + 1
                state["tokens"] += int(accelerator.gather(batch["attention_mask"].sum()).sum().item())
                if not accelerator.sync_gradients:
                    continue
                state["step"] += 1
                advance()
                mean = accelerator.gather(torch.tensor([running / micro], device=accelerator.device)).mean().item()
                running, micro = 0.0, 0
                if state["step"] % options.logging_steps == 0 or state["step"] == total:
                    state["loss_history"].append({"step": state["step"], "loss": mean})
                    if session.main:
                        console.print(f"accelerate: step {state['step']}/{total} loss {mean:.4f}", soft_wrap=True)
                if state["step"] % options.save_steps == 0:
                    save_checkpoint(session, options)
                if state["step"] >= total:
                    break
            else:
                state["epoch"], state["batch"] = state["epoch"] + 1, 0
    return time.perf_counter() - started


def save_model(session: Session, output_dir: Path) -> list[dict[str, Any]]:
    """Save the (unwrapped) model from the main process; returns every rank's device and pid."""
    from accelerate.utils import gather_object

    accelerator = session.accelerator
    ranks = gather_object([{"rank": accelerator.process_index, "device": str(accelerator.device), "pid": os.getpid()}])
    accelerator.wait_for_everyone()
    unwrapped = accelerator.unwrap_model(session.model)
    unwrapped.save_pretrained(
        str(output_dir),
        is_main_process=session.main,
        state_dict=accelerator.get_state_dict(session.model),
    )
    return ranks
