"""A tiny Llama with a locally trained BPE tokenizer and a ChatML template with ``{% generation %}`` markers,
saved to a folder (no hub access)."""

from __future__ import annotations

from pathlib import Path

from raft_core.prompts import CHATML_GENERATION_TEMPLATE

TINY_CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Retrieval augmented fine tuning teaches a model to read documents and ignore distractors.",
    "Question: what is the capital of France? Answer: Paris is the capital of France.",
    "##begin_quote## quoted text ##end_quote## <ANSWER>: final answer <DOCUMENT> </DOCUMENT>",
    "The warranty lasts two years. Returns are accepted within thirty days of purchase.",
]


def build_tiny_model(path: Path, vocab_size: int = 512, hidden_size: int = 64, layers: int = 2) -> Path:
    """Save a tiny LlamaForCausalLM and a byte-level BPE tokenizer (ChatML template) to ``path``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(TINY_CORPUS * 20, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token="<|endoftext|>",
    )
    fast.chat_template = CHATML_GENERATION_TEMPLATE
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    fast.save_pretrained(path)
    return path
