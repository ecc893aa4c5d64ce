"""The ``trl`` trainer: supervised fine-tuning (or continued pre-training) with TRL's SFTTrainer."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from rich.markup import escape

from raft_core.components import Trainer
from raft_core.console import console, progress
from raft_core.errors import RaftError
from raft_trl.modeling import Precision
from raft_trl.options import FinetuneOptions


class TrlOptions(FinetuneOptions):
    """Options of the ``trl`` trainer."""

    packing: bool = Field(False, description="Pack several examples into each max_length sequence.")
    packing_strategy: Literal["bfd", "wrapped"] = Field(
        "bfd",
        description="bfd: whole examples, padding-free (fast with FlashAttention); wrapped: fixed-length "
        "blocks cut anywhere, examples attend to each other (faster with plain attention).",
    )
    group_by_length: bool = Field(
        True, description="Without packing, batch examples of similar length together (less padding, faster)."
    )
    liger_kernel: bool | Literal["auto"] = Field(
        "auto",
        description="Liger's fused Triton kernels (TRL use_liger_kernel; CUDA only). auto: on when a GPU is used "
        "and liger-kernel is installed; true without them is an error.",
    )
    report_to: list[str] = Field(
        default_factory=list, description="Experiment trackers (wandb, tensorboard, mlflow ...); missing ones warned."
    )


def use_liger(wanted: bool | str, cuda: bool) -> bool:
    """Whether to pass TRL's ``use_liger_kernel``: ``auto`` with a GPU and liger-kernel installed."""
    import importlib.util

    installed = importlib.util.find_spec("liger_kernel") is not None
    if wanted is True and not (cuda and installed):
        missing = " and ".join(m for m, ok in (("a CUDA GPU", cuda), ("the liger-kernel package", installed)) if not ok)
        raise RaftError(f"trainer option liger_kernel: true needs {missing}; use liger_kernel: auto")
    return bool(wanted) and cuda and installed


def available_reporters(wanted: list[str]) -> list[str]:
    """The trackers of ``wanted`` that are installed; one warning per missing one."""
    from transformers.integrations import get_available_reporting_integrations

    installed = set(get_available_reporting_integrations())
    missing = [name for name in wanted if name not in installed]
    for name in missing:
        console.print(f"[yellow]warning:[/] report_to {escape(name)}: not installed, not reporting to it")
    return [name for name in wanted if name in installed]


def console_logger() -> Any:
    """A Trainer callback printing each log line to the raft console (stderr), replacing the stdout printer."""
    from transformers import TrainerCallback

    class ConsoleLogger(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any) -> None:
            if state.is_world_process_zero and logs:
                shown = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in logs.items())
                console.print(f"trl: step {state.global_step}/{state.max_steps}: {escape(shown)}", soft_wrap=True)

    return ConsoleLogger()


def step_progress() -> Any:
    """A Trainer callback driving a raft progress bar over the optimizer steps (plain lines in logs);
    ``close()`` ends it when training stops early."""
    from transformers import TrainerCallback

    class StepProgress(TrainerCallback):
        def __init__(self) -> None:
            self.stack = contextlib.ExitStack()
            self.advance: Any = None

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if state.is_world_process_zero:
                remaining = state.max_steps - state.global_step
                self.advance = self.stack.enter_context(progress("trl: training steps", remaining))

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if self.advance is not None:
                self.advance()

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.close()

        def close(self) -> None:
            self.advance = None
            self.stack.close()

    return StepProgress()


def loss_history(log_history: list[dict[str, Any]]) -> list[dict[str, float]]:
    """``[{step, loss}]`` of the training log."""
    return [{"step": e["step"], "loss": e["loss"]} for e in log_history if "loss" in e and "step" in e]


def check_truncation(trainer: Any, splits: dict[str, list], max_length: int) -> None:
    """Say how many examples TRL dropped because ``max_length`` cut off their whole answer; none left is an error."""
    for split, dataset in (("train", trainer.train_dataset), ("validation", trainer.eval_dataset)):
        if dataset is None or not hasattr(dataset, "__len__"):
            continue
        before, after = len(splits.get(split) or []), len(dataset)
        if after == 0 and before:
            raise RaftError(
                f"trl: all {before} {split} examples are longer than max_length={max_length} tokens up to their "
                "answer, so truncation left nothing to learn: raise train.options.max_length (or use fewer or "
                "shorter distractor chunks)"
            )
        if after < before:
            console.print(
                f"[yellow]trl: {before - after} of {before} {split} examples dropped: max_length={max_length} "
                "tokens cut off their whole answer (raise train.options.max_length)[/yellow]",
                soft_wrap=True,
            )


@dataclass
class Prepared:
    """An SFTTrainer ready to train, with what the report needs to say about it."""

    trainer: Any
    tokenizer: Any
    base: str
    format: str
    source: str
    examples: dict[str, int]
    template_note: str | None
    precision: Precision
    threads: int
    steps: Any
    """The step-progress callback (closed when training ends or fails)."""


class TrlTrainer(Trainer):
    """SFT with LoRA / QLoRA / full fine-tuning on the chat or prompt/completion dataset, or pre-training on text."""

    Options = TrlOptions
    options: TrlOptions

    def sft_config(self, output_dir: Path, fmt: str, precision: Precision) -> Any:
        """The SFTConfig for this run (use_cpu without a GPU; autocast as ``precision`` says)."""
        import torch
        from trl import SFTConfig

        opts, cuda = self.options, torch.cuda.is_available()
        # transformers 5 renamed gradient_checkpointing (TRL defaults it to True) to activation_checkpointing
        fields = SFTConfig.__dataclass_fields__
        checkpointing = "activation_checkpointing" if "activation_checkpointing" in fields else "gradient_checkpointing"
        grouped = opts.group_by_length and not opts.packing
        sampling = (
            {"train_sampling_strategy": "group_by_length" if grouped else "random"}
            if "train_sampling_strategy" in fields
            else {"group_by_length": grouped}
        )
        return SFTConfig(
            output_dir=str(output_dir / "checkpoints"),
            num_train_epochs=opts.epochs,
            max_steps=opts.max_steps,
            learning_rate=opts.lr(),
            lr_scheduler_type=opts.lr_scheduler,
            warmup_steps=opts.warmup_steps,
            per_device_train_batch_size=opts.batch_size,
            per_device_eval_batch_size=opts.batch_size,
            gradient_accumulation_steps=opts.gradient_accumulation,
            max_length=opts.max_length,
            packing=opts.packing,
            packing_strategy=opts.packing_strategy,
            assistant_only_loss=opts.assistant_only_loss and fmt == "chat",
            completion_only_loss=opts.assistant_only_loss if fmt == "completion" else None,
            seed=self.seed,
            data_seed=self.seed,
            logging_steps=opts.logging_steps,
            save_strategy="steps",
            save_steps=opts.save_steps,
            save_total_limit=opts.save_total_limit,
            eval_strategy="no",
            report_to=available_reporters(opts.report_to) or "none",
            use_cpu=not cuda,
            bf16=precision.autocast and precision.dtype == "bfloat16",
            fp16=precision.autocast and precision.dtype == "float16",
            include_num_input_tokens_seen="non_padding",
            use_liger_kernel=use_liger(opts.liger_kernel, cuda),
            disable_tqdm=True,
            dataset_num_proc=None,
            **{checkpointing: opts.gradient_checkpointing},
            **sampling,
        )

    @property
    def seed(self) -> int:
        return self.options.seed if self.options.seed is not None else self.context.seed

    def prepare(self, dataset_dir: Path, output_dir: Path) -> Prepared:
        """Read the data, load the student, install a training chat template if needed, build the SFTTrainer."""
        import datasets
        from raft_transformers import configure_threads
        from transformers import PrinterCallback, set_seed
        from trl import SFTTrainer

        from raft_trl.data import load_training_data, training_chat_template
        from raft_trl.modeling import choose_precision, load_student, lora_config

        opts = self.options
        fmt, splits, source = load_training_data(opts, Path(dataset_dir))
        set_seed(self.seed)
        precision, threads = choose_precision(opts), configure_threads()
        console.print(
            f"trl: {precision.dtype} ({precision.reason}): {precision.describe()}; {threads} threads",
            soft_wrap=True,
            markup=False,
        )
        model, tokenizer, base = load_student(opts, precision)
        template_note = None
        if fmt == "chat" and opts.assistant_only_loss:
            template, template_note = training_chat_template(tokenizer, opts.chat_template)
            if template is not None:
                tokenizer.chat_template = template
                console.print(f"trl: {escape(template_note)}", soft_wrap=True)
        eval_rows, steps = splits.get("validation"), step_progress()
        trainer = SFTTrainer(
            model=model,
            args=self.sft_config(Path(output_dir), fmt, precision),
            train_dataset=datasets.Dataset.from_list(splits["train"]),
            eval_dataset=datasets.Dataset.from_list(eval_rows) if eval_rows else None,
            processing_class=tokenizer,
            peft_config=lora_config(opts),
            callbacks=[console_logger(), steps],
        )
        trainer.remove_callback(PrinterCallback)
        check_truncation(trainer, splits, opts.max_length)
        attention = str(getattr(trainer.model.config, "_attn_implementation", ""))
        if opts.packing and opts.packing_strategy == "bfd" and "flash" not in attention:
            console.print(
                f"trl: packing 'bfd' is padding-free: with {escape(attention or 'this')} attention each batch is one "
                "long sequence, slower than no packing (benchmarks/trainer_throughput.py); packing_strategy: wrapped "
                "is faster but lets packed examples attend to each other",
                soft_wrap=True,
            )
        examples = {k: len(v) for k, v in splits.items()}
        return Prepared(trainer, tokenizer, base, fmt, source, examples, template_note, precision, threads, steps)

    def train(self, dataset_dir: Path, output_dir: Path) -> Path:
        """Fine-tune, save the adapter (or model) and tokenizer into ``output_dir``, then ``raft_training.json``."""
        from raft_trl.export import export_model
        from raft_trl.modeling import (
            RESUME_NEUTRAL,
            checkpoints,
            choose_checkpoint,
            fingerprint,
            finish_output,
            reset_checkpoints,
            start_output,
            tokens_seen,
        )

        opts, output_dir = self.options, Path(output_dir)
        start_output(output_dir)
        prepared = self.prepare(Path(dataset_dir), output_dir)
        trainer = prepared.trainer
        folder = output_dir / "checkpoints"
        key = fingerprint(opts, prepared.source, RESUME_NEUTRAL)
        checkpoint, stale = choose_checkpoint(opts.resume, folder, checkpoints(folder, "trainer_state.json"), key)
        reset_checkpoints(folder, stale, key)
        if checkpoint:
            console.print(f"trl: resuming from {escape(str(checkpoint))}", soft_wrap=True)
        started = time.perf_counter()
        try:
            result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
        finally:
            prepared.steps.close()
        seconds = time.perf_counter() - started
        metrics = dict(result.metrics)
        if trainer.eval_dataset is not None:
            metrics.update(trainer.evaluate())
        tokens = int(trainer.state.num_input_tokens_seen or 0) - tokens_seen(checkpoint)
        trainer.save_model(str(output_dir))
        prepared.tokenizer.save_pretrained(str(output_dir))
        merged = None
        if opts.merge and opts.method != "full":
            dtype = "bfloat16" if prepared.precision.dtype == "bfloat16" else "float32"
            merged = export_model(output_dir, output_dir / "merged", dtype)
        report = {
            "trainer": "trl",
            "model": opts.model,
            "base_model": prepared.base,
            "method": opts.method,
            "mode": opts.mode,
            "format": prepared.format,
            "adapter": opts.method != "full",
            "data": prepared.source,
            "examples": prepared.examples,
            "config": opts.model_dump(mode="json") | {"seed": self.seed, "learning_rate": opts.lr()},
            **prepared.precision.report(prepared.threads),
            "chat_template": prepared.template_note,
            "resumed_from": str(checkpoint) if checkpoint else None,
            "global_step": trainer.state.global_step,
            "metrics": metrics,
            "loss_history": loss_history(trainer.state.log_history),
            "tokens": tokens,
            "train_seconds": seconds,
            "tokens_per_second": tokens / seconds if seconds else None,
            "merged": str(merged) if merged else None,
        }
        return finish_output(output_dir, report)
