"""ChatModel decoding: the shared prompt prefix computed once and per-row stop criteria change no reply."""

import pytest
from raft_transformers import chat as chat_module
from raft_transformers.chat import ChatModel
from raft_transformers.models import load_model

SYSTEM = "You answer questions about the Halvard Lumen L2 lamp, briefly, from the manual only. " * 3
QUESTIONS = ["Warranty?", "How do I reset the lamp to its factory settings?", "Where is the status ring?"]
CONVERSATIONS = [[{"role": "system", "content": SYSTEM}, {"role": "user", "content": q}] for q in QUESTIONS]


@pytest.fixture(scope="module")
def chat(tiny_model):
    import torch

    model, tokenizer = load_model(str(tiny_model))
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():  # untrained weights are near zero: every row would say the same; these vary by prompt
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.5)
    return ChatModel(model, tokenizer, max_new_tokens=12)


def test_the_shared_prefix_is_computed_once_and_changes_no_reply(chat, monkeypatch):
    rows = [chat.encode(c) for c in CONVERSATIONS]
    prefix = chat._prefix(rows)
    assert prefix is not None and len(prefix.ids) >= chat_module.MIN_SHARED_PREFIX
    assert all(r[: len(prefix.ids)] == prefix.ids and len(r) > len(prefix.ids) for r in rows)
    shared, failures = chat.generate(CONVERSATIONS, batch_size=3)
    assert failures == []
    monkeypatch.setattr(chat_module, "MIN_SHARED_PREFIX", 10**6)  # every prompt decoded whole, plain left padding
    assert chat._prefix(rows) is None
    assert chat.generate(CONVERSATIONS, batch_size=3) == (shared, [])
    assert [chat.generate([c], batch_size=1)[0][0] for c in CONVERSATIONS] == shared
    assert any(shared), "the tiny model says something"


def test_a_row_stops_as_soon_as_its_reply_is_complete_and_no_earlier(chat):
    full, _ = chat.generate(CONVERSATIONS, batch_size=3)
    lengths = sorted({len(r) for r in full})
    limit = lengths[len(lengths) // 2]  # some replies reach it, others may not

    def stop(text: str) -> bool:
        return len(text.strip()) >= limit

    stopped, failures = chat.generate(CONVERSATIONS, batch_size=3, stop=stop)
    assert failures == []
    for whole, cut in zip(full, stopped, strict=True):
        assert whole.startswith(cut)
        if len(whole) >= limit:
            assert len(cut) >= limit, "not cut before the criterion holds"
            assert len(cut) < len(whole) or whole == cut
        else:
            assert cut == whole, "a row the criterion never stops runs to its end"
    assert stopped != full, "the criterion cut at least one reply"
    shorter, _ = chat.generate(CONVERSATIONS, batch_size=3, max_new_tokens=2)
    assert all(w.startswith(s) for w, s in zip(full, shorter, strict=True)) and shorter != full


def test_rows_that_ended_leave_the_batch_and_the_others_decode_on_unchanged(chat, monkeypatch):
    def stop(text: str) -> bool:  # rows end at different lengths (some never)
        return len(text) >= 6 + 3 * len(text.split())

    monkeypatch.setattr(chat, "max_new_tokens", 20)
    whole, _ = chat.generate(CONVERSATIONS, batch_size=3, stop=stop)
    batches: list[int] = []
    generate = chat.model.generate

    def counting(**kwargs):
        batches.append(len(kwargs["input_ids"]))
        return generate(**kwargs)

    monkeypatch.setattr(chat.model, "generate", counting)
    monkeypatch.setattr(chat, "segment_tokens", 2)
    pieces: dict[int, str] = {}
    progress: list[int] = []
    in_segments, _ = chat.generate(
        CONVERSATIONS,
        batch_size=3,
        advance=progress.append,
        stop=stop,
        on_text=lambda i, t: pieces.__setitem__(i, pieces.get(i, "") + t),
    )
    assert in_segments == whole
    assert sum(progress) == 3 and len([n for n in progress if n]) >= 2, "progress counts rows as they end"
    assert batches[0] == 3 and batches[-1] < 3 and batches == sorted(batches, reverse=True), batches
    for i, reply in enumerate(whole):  # (an incomplete character at the very end is never streamed)
        assert pieces.get(i, "").strip() == reply.rstrip("\ufffd").strip(), "streamed text follows its row"
