"""The transformers generator through its entry point: one reply per conversation, system roles, failures."""

import subprocess
import sys

import pytest
import torch
from raft_transformers.chat import accepts_system, merge_system

from raft_core.components import RunContext

NO_SYSTEM_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

CONVERSATIONS = [
    [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "What is the warranty?"}],
    [{"role": "user", "content": "The quick brown fox jumps over the lazy dog. " * 6}],
    [{"role": "user", "content": "Returns?"}],
]


@pytest.fixture
def generator(plugin_manager, tiny_model, tmp_path):
    options = {"model": str(tiny_model), "max_new_tokens": 6, "batch_size": 2}
    return plugin_manager.build("generator", "transformers", options, RunContext(workdir=tmp_path))


def test_one_reply_per_conversation_in_order(generator, plugin_manager):
    assert plugin_manager.get("generator", "transformers").distribution == "raft-transformers"
    batched = generator.generate(CONVERSATIONS)
    assert len(batched) == 3 and all(isinstance(r, str) for r in batched) and generator.failures == []
    singles = [generator.generate([c])[0] for c in CONVERSATIONS]
    assert batched == singles  # greedy, left padding: batching and length sorting change nothing
    assert generator.chat.tokenizer.padding_side == "left"
    from raft_transformers import choose_dtype

    summary = generator.summary()  # what eval/report.json records about the run
    assert summary["dtype"] == choose_dtype("auto")[0] == str(generator.chat.model.dtype).removeprefix("torch.")
    assert summary["dtype_reason"].startswith("auto:") and summary["threads"] >= 1


def test_stream_passes_each_reply_token_by_token_to_its_index(generator):
    pieces: dict[int, list[str]] = {}
    outputs = generator.stream(CONVERSATIONS, lambda index, text: pieces.setdefault(index, []).append(text))
    assert outputs == generator.generate(CONVERSATIONS)
    for index, output in enumerate(outputs):
        assert "".join(pieces.get(index, [])).strip() == output, index
    assert max(len(p) for p in pieces.values()) > 1, "text arrives in several pieces, not once at the end"


def test_failing_items_are_isolated_and_reported(generator):
    model = generator.chat.model
    real_generate = model.generate
    boom = generator.chat.tokenizer("Returns?", add_special_tokens=False)["input_ids"]

    def generate(input_ids, **kwargs):
        for row in input_ids.tolist():
            if any(row[i : i + len(boom)] == boom for i in range(len(row))):
                raise RuntimeError("out of memory")
        return real_generate(input_ids=input_ids, **kwargs)

    model.generate = generate
    outputs = generator.generate(CONVERSATIONS)
    assert len(outputs) == 3 and outputs[2] == ""
    assert generator.failures == [(2, "RuntimeError: out of memory")]
    assert generator.generate(CONVERSATIONS[:2]) and generator.failures == []


def test_system_role_is_merged_when_the_template_rejects_it(generator):
    tokenizer = generator.chat.tokenizer
    assert accepts_system(tokenizer)
    tokenizer.chat_template = NO_SYSTEM_TEMPLATE
    assert not accepts_system(tokenizer)
    generator.chat.system_ok = accepts_system(tokenizer)
    prompt = generator.chat.render(CONVERSATIONS[0])
    assert prompt.startswith("<|im_start|>user\nAnswer briefly.\n\nWhat is the warranty?<|im_end|>")
    assert prompt.endswith("<|im_start|>assistant\n")
    assert len(generator.generate(CONVERSATIONS)) == 3 and generator.failures == []


def test_merge_system_without_a_user_message():
    assert merge_system([{"role": "system", "content": "S"}]) == [{"role": "user", "content": "S"}]
    assert merge_system([{"role": "user", "content": "U"}]) == [{"role": "user", "content": "U"}]


def test_sampling_is_seeded_by_the_run(plugin_manager, tiny_model, tmp_path):
    options = {"model": str(tiny_model), "max_new_tokens": 8, "temperature": 1.0}
    first = plugin_manager.build("generator", "transformers", options, RunContext(workdir=tmp_path, seed=3))
    again = plugin_manager.build("generator", "transformers", options, RunContext(workdir=tmp_path, seed=3))
    assert first.generate(CONVERSATIONS) == again.generate(CONVERSATIONS) == first.generate(CONVERSATIONS)


def test_listing_the_plugin_imports_nothing_heavy():
    code = (
        "import sys, raft_transformers.plugin\n"
        "heavy = {'torch', 'transformers', 'peft', 'filelock'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_adapter_folder_is_merged_for_generation(plugin_manager, tiny_model, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    peft_model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_model),
        LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False),
    )
    peft_model.save_pretrained(tmp_path / "adapter")
    options = {"model": str(tmp_path / "adapter"), "max_new_tokens": 6}
    generator = plugin_manager.build("generator", "transformers", options, RunContext(workdir=tmp_path))
    outputs = generator.generate(CONVERSATIONS)
    assert len(outputs) == 3 and generator.failures == []
    assert type(generator.chat.model).__name__ == "LlamaForCausalLM"  # merged: no peft wrapper left
    prompt = generator.chat.tokenizer(generator.chat.render(CONVERSATIONS[2]), return_tensors="pt")
    merged = generator.chat.model(**prompt).logits
    assert torch.allclose(merged, peft_model.eval()(**prompt).logits, atol=1e-5)
