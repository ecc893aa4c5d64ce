"""The ``accelerate`` trainer on the tiny model: one process, two real CPU processes, resume, masks, configs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from raft_accelerate.encode import IGNORE, encode_chat, encode_completion
from raft_accelerate.launch import launch_command
from raft_accelerate.trainer import AccelerateTrainer
from raft_testing.training_samples import chat_rows, make_workdir
from raft_trl.data import training_chat_template

from raft_core.components import RunContext
from raft_core.errors import RaftError

FAST = {"batch_size": 4, "logging_steps": 1, "save_steps": 1000, "learning_rate": 5e-3}
CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "accelerate"


def make_trainer(tmp_path: Path, model: Path, **options) -> AccelerateTrainer:
    options = FAST | options
    return AccelerateTrainer(AccelerateTrainer.Options(model=str(model), **options), RunContext(tmp_path, seed=5))


def report(output: Path) -> dict:
    return json.loads((output / "raft_training.json").read_text())


def test_lora_in_one_process_loss_decreases(tiny_model: Path, tmp_path: Path) -> None:
    dataset = make_workdir(tmp_path, n=16)
    out = make_trainer(tmp_path, tiny_model, max_steps=10).train(dataset, tmp_path / "model")
    data = report(out)
    assert (out / "adapter_model.safetensors").is_file() and (out / "tokenizer_config.json").is_file()
    assert data["world_size"] == 1 and data["global_step"] == 10 and data["format"] == "chat"
    losses = [entry["loss"] for entry in data["loss_history"]]
    assert len(losses) == 10 and sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 - 0.25
    assert data["tokens"] > 0


def test_two_cpu_processes_really_run(tiny_model: Path, tmp_path: Path) -> None:
    """num_processes=2 re-launches with `accelerate launch`: two ranks (two pids) train and checkpoint together."""
    dataset = make_workdir(tmp_path, n=16)
    out = make_trainer(tmp_path, tiny_model, num_processes=2, max_steps=3, save_steps=2).train(
        dataset, tmp_path / "model"
    )
    data = report(out)
    assert data["world_size"] == 2 and [r["rank"] for r in data["ranks"]] == [0, 1]
    assert len({r["pid"] for r in data["ranks"]}) == 2 and "MULTI_CPU" in data["distributed_type"]
    assert data["global_step"] == 3 and (out / "adapter_model.safetensors").is_file()
    assert (out / "checkpoints" / "step-2" / "raft_progress.json").is_file()


def test_fsdp_without_gpu_says_so(tiny_model: Path, tmp_path: Path) -> None:
    dataset = make_workdir(tmp_path, n=4)
    with pytest.raises(RaftError, match="fsdp: true needs GPUs"):
        make_trainer(tmp_path, tiny_model, fsdp=True, num_processes=2).train(dataset, tmp_path / "model")


def test_resume_continues_exactly(tiny_model: Path, tmp_path: Path) -> None:
    """Stopped at step 2 and resumed to 4 gives the losses of an uninterrupted 4-step run (constant lr)."""
    dataset = make_workdir(tmp_path, n=16)
    constant = {"lr_scheduler": "constant", "save_steps": 2}
    straight = report(make_trainer(tmp_path, tiny_model, max_steps=4, **constant).train(dataset, tmp_path / "a"))
    first = make_trainer(tmp_path, tiny_model, max_steps=2, **constant).train(dataset, tmp_path / "model")
    assert (first / "checkpoints" / "step-2" / "raft_progress.json").is_file()
    data = report(make_trainer(tmp_path, tiny_model, max_steps=4, **constant).train(dataset, first))
    assert data["resumed_from"].endswith("step-2") and data["global_step"] == 4
    assert [entry["step"] for entry in data["loss_history"]] == [1, 2, 3, 4]
    resumed = [entry["loss"] for entry in data["loss_history"]]
    assert resumed == pytest.approx([entry["loss"] for entry in straight["loss_history"]], abs=1e-5)
    changed = make_trainer(tmp_path, tiny_model, max_steps=2, lora_r=4, **constant).train(dataset, first)
    assert report(changed)["resumed_from"] is None  # other options: the old checkpoints are not reused


def test_full_finetune_on_completion_and_pretrain(tiny_model: Path, tmp_path: Path) -> None:
    dataset = make_workdir(tmp_path, n=8, fmt="completion")
    full = report(make_trainer(tmp_path, tiny_model, method="full", max_steps=2).train(dataset, tmp_path / "full"))
    assert full["format"] == "completion" and full["adapter"] is False
    assert (tmp_path / "full" / "model.safetensors").is_file()
    pre = report(make_trainer(tmp_path, tiny_model, mode="pretrain", max_steps=2).train(dataset, tmp_path / "pre"))
    assert pre["format"] == "text" and pre["global_step"] == 2


def test_labels_only_on_assistant_answer(tiny_model: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    tokenizer.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    )
    template, note = training_chat_template(tokenizer, None)
    assert template is not None and "ChatML" in note
    tokenizer.chat_template = template
    messages = chat_rows(1)[0]["messages"]
    example = encode_chat(messages, tokenizer, 1024, assistant_only=True)
    kept = [i for i, label in zip(example["input_ids"], example["labels"], strict=True) if label != IGNORE]
    assert tokenizer.decode(kept) == messages[2]["content"] + "<|im_end|>"
    completion = encode_completion("Q?\n", " A.", tokenizer, 1024, completion_only=True)
    kept = [i for i, label in zip(completion["input_ids"], completion["labels"], strict=True) if label != IGNORE]
    assert tokenizer.decode(kept) == " A.<|im_end|>"


def test_launch_command_flags(tmp_path: Path) -> None:
    options = AccelerateTrainer.Options(num_processes=4, num_machines=2, machine_rank=1, main_process_ip="10.0.0.1")
    cmd = launch_command(options, {"x": 1})
    joined = " ".join(cmd)
    assert "--num_processes 8 --num_machines 2 --machine_rank 1" in joined and "--multi_gpu" in joined
    assert "--main_process_ip 10.0.0.1" in joined and cmd[-3:] == ["--module", "raft_accelerate.worker", '{"x": 1}']
    fsdp = " ".join(launch_command(AccelerateTrainer.Options(num_processes=2, fsdp=True), {}))
    assert "--use_fsdp" in fsdp and "--multi_gpu" not in fsdp
    config = tmp_path / "c.yaml"
    shutil.copy(CONFIGS / "multi-gpu-ddp.yaml", config)
    own = launch_command(AccelerateTrainer.Options(config_file=config), {})
    assert own[3:5] == ["--config_file", str(config)] and "--num_processes" not in own


@pytest.mark.parametrize("name", ["multi-gpu-ddp.yaml", "fsdp.yaml", "multi-node.yaml"])
def test_shipped_accelerate_configs_load(name: str) -> None:
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(CONFIGS / name))
    assert config.num_processes >= 2 and config.distributed_type.value in {"MULTI_GPU", "FSDP"}


def test_mixed_precision_auto_follows_the_precision() -> None:
    from raft_accelerate.loop import mixed_precision
    from raft_trl import Precision

    auto = AccelerateTrainer.Options()
    bf16 = Precision("bfloat16", "auto: CPU has amx_bf16", "bfloat16", autocast=True)
    fp32 = Precision("float32", "auto: no bf16", "float32", autocast=False)
    assert mixed_precision(auto, bf16) == "bf16" and mixed_precision(auto, fp32) == "no"
    assert mixed_precision(AccelerateTrainer.Options(mixed_precision="no"), bf16) == "no"
    cmd = launch_command(AccelerateTrainer.Options(num_processes=2, dtype="float32"), {})
    assert cmd[cmd.index("--mixed_precision") + 1] == "no"


def test_bfloat16_lora_loop_records_its_precision(tiny_model: Path, tmp_path: Path) -> None:
    dataset = make_workdir(tmp_path, n=4)
    data = report(make_trainer(tmp_path, tiny_model, max_steps=2, dtype="bfloat16").train(dataset, tmp_path / "m"))
    assert data["dtype"] == "bfloat16" and data["mixed_precision"] == "bf16" and data["global_step"] == 2
    assert "frozen base weights, float32 adapter" in data["precision"] and data["threads"] >= 1
