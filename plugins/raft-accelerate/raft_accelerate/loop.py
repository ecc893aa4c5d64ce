"""The training loop on ``accelerate.Accelerator``: same in one process, under DDP, FSDP or across machines."""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from pathlib import Path
from typing import Any

from raft_trl.modeling import (
    REPORT,
    RESUME_NEUTRAL,
    checkpoints,
    choose_checkpoint,
    fingerprint,
    finish_output,
    reset_checkpoints,
)
from rich.markup import escape

from raft_accelerate.trainer import AccelerateOptions
from raft_core.console import console, progress
from raft_core.errors import RaftError
from raft_core.io import write_json

LAUNCH_NEUTRAL = {"main_process_ip", "main_process_port", "config_file"}
PROGRESS = "raft_progress.json"
"""Written by the main process into a checkpoint folder after every rank saved its state: it is complete."""


def build_accelerator(options: AccelerateOptions) -> Any:
    import torch
    from accelerate import Accelerator
    from accelerate.utils import DataLoaderConfiguration

    return Accelerator(
        cpu=not torch.cuda.is_available(),
        gradient_accumulation_steps=options.gradient_accumulation,
        mixed_precision=None if options.config_file else options.mixed_precision,
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True),
    )


def prepare_model(options: AccelerateOptions, fmt: str) -> tuple[Any, Any, str, str | None]:
    """``(model, tokenizer, base, template note)``: the student, wrapped in LoRA unless full fine-tuning."""
    from raft_trl.data import training_chat_template
    from raft_trl.modeling import load_student, lora_config

    model, tokenizer, base = load_student(options)
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


def run_training(options: AccelerateOptions, seed: int, dataset_dir: Path, output_dir: Path) -> Path:
    """Train on this process's share of the data; the main process writes the model and ``raft_training.json``."""
    import torch
    from accelerate.utils import gather_object, set_seed
    from raft_trl.data import load_training_data
    from transformers import get_scheduler

    from raft_accelerate.encode import collate, encode_rows

    accelerator = build_accelerator(options)
    main = accelerator.is_main_process
    console.print(
        f"accelerate: process {accelerator.process_index} of {accelerator.num_processes} on {accelerator.device} "
        f"({accelerator.distributed_type})",
        soft_wrap=True,
    )
    folder = output_dir / "checkpoints"
    if main:
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / REPORT).unlink(missing_ok=True)
        shutil.rmtree(output_dir / "merged", ignore_errors=True)
    set_seed(seed)
    fmt, splits, source = load_training_data(options, dataset_dir)
    model, tokenizer, base, note = prepare_model(options, fmt)
    if note and main:
        console.print(f"accelerate: {escape(note)}", soft_wrap=True)
    examples = encode_rows(fmt, splits["train"], tokenizer, options.max_length, options.assistant_only_loss)
    if not examples:
        raise RaftError(f"no training example left in {source} (all truncated away at max_length?)")
    loader = torch.utils.data.DataLoader(
        examples,
        batch_size=options.batch_size,
        shuffle=True,
        collate_fn=lambda batch: collate(batch, tokenizer.pad_token_id),
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

    state = {"step": 0, "epoch": 0, "batch": 0, "tokens": 0, "loss_history": []}
    key = fingerprint(options, source, RESUME_NEUTRAL | LAUNCH_NEUTRAL)
    checkpoint, stale = choose_checkpoint(options.resume, folder, checkpoints(folder, PROGRESS), key)
    accelerator.wait_for_everyone()
    if main:
        reset_checkpoints(folder, stale, key)
    if checkpoint:
        accelerator.load_state(str(checkpoint))
        state = json.loads((checkpoint / PROGRESS).read_text(encoding="utf-8"))
        if main:
            console.print(f"accelerate: resuming from {escape(str(checkpoint))} (step {state['step']})")
    resumed_tokens = state["tokens"]

    def save_checkpoint() -> None:
        target = folder / f"step-{state['step']}"
        accelerator.save_state(str(target))
        accelerator.wait_for_everyone()
        if main:
            write_json(target / PROGRESS, state)
            limit = options.save_total_limit
            for old in checkpoints(folder, PROGRESS)[:-limit] if limit else []:
                shutil.rmtree(old, ignore_errors=True)
        accelerator.wait_for_everyone()

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
                    optimizer.step()
                    if accelerator.sync_gradients:
                        scheduler.step()
                    optimizer.zero_grad()
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
                    if main:
                        console.print(f"accelerate: step {state['step']}/{total} loss {mean:.4f}", soft_wrap=True)
                if state["step"] % options.save_steps == 0:
                    save_checkpoint()
                if state["step"] >= total:
                    break
            else:
                state["epoch"], state["batch"] = state["epoch"] + 1, 0
    seconds = time.perf_counter() - started

    ranks = gather_object([{"rank": accelerator.process_index, "device": str(accelerator.device), "pid": os.getpid()}])
    accelerator.wait_for_everyone()
    unwrapped = accelerator.unwrap_model(model)
    unwrapped.save_pretrained(
        str(output_dir),
        is_main_process=main,
        state_dict=accelerator.get_state_dict(model),
    )
    if not main:
        accelerator.wait_for_everyone()
        return output_dir
    tokenizer.save_pretrained(str(output_dir))
    merged = None
    if options.merge and options.method != "full":
        from raft_trl.export import export_model

        dtype = "bfloat16" if options.dtype == "bfloat16" else "float32"
        merged = export_model(output_dir, output_dir / "merged", dtype)
    tokens = state["tokens"] - resumed_tokens
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
        "chat_template": note,
        "resumed_from": str(checkpoint) if checkpoint else None,
        "global_step": state["step"],
        "world_size": accelerator.num_processes,
        "ranks": ranks,
        "distributed_type": str(accelerator.distributed_type),
        "loss_history": state["loss_history"],
        "tokens": tokens,
        "train_seconds": seconds,
        "tokens_per_second": tokens / seconds if seconds else None,
        "merged": str(merged) if merged else None,
    }
    finish_output(output_dir, report)
    accelerator.wait_for_everyone()
    return output_dir
