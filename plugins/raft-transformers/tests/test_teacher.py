"""The transformers teacher: QA pairs from a local model, resumable cache, repaired answers, estimates.

The tiny model has random weights, so its ``generate`` is wrapped to reply with scripted text (encoded
with its real tokenizer): everything of ours (prompts, batching, decoding, parsing, repair, cache) runs.
"""

import pytest
import torch
from raft_transformers.repair import best_sentence, repair_answer

from raft_core.components import RunContext
from raft_core.prompts import ANSWER_TAG, BEGIN_QUOTE, END_QUOTE, quotes, verbatim_quote_rate
from raft_core.records import Chunk, QAPair

TEXTS = [
    "The warranty lasts two years. Returns are accepted within thirty days of purchase.",
    "The Lumen lamp has 820 lumens. It connects over Wi-Fi to the Halvard Home app.",
]
CHUNKS = [Chunk(text=text, doc_id="d", source=f"s{i}", index=i) for i, text in enumerate(TEXTS)]
REPLIES = {
    "warranty": f"{BEGIN_QUOTE}The warranty lasts two years.{END_QUOTE} So it lasts two years.\n{ANSWER_TAG} Two years",
    "returns": "Returns are accepted for a month. They are accepted within thirty days",
    "lumens": f"The lamp gives {BEGIN_QUOTE}820 lumens of light{END_QUOTE}.\n{ANSWER_TAG} 820 lumens",
    "connect": "",
}
QUESTIONS = {
    "warranty": "Sure, here you go:\n1. How long does the warranty last?\n2) When are returns accepted?\nThanks.",
    "Lumen": "- How bright is the lamp in lumens?\nThe lamp is bright.\n- How does the lamp connect?",
    "Omega": "Omega is the last letter.\nIt comes after psi.",
}


def scripted(chat, calls):
    """Replace the model's generate by one replying from QUESTIONS / REPLIES, recording each batch."""
    tokenizer = chat.tokenizer

    def generate(input_ids, attention_mask=None, max_new_tokens=20, pad_token_id=None, **kwargs):
        calls.append(len(input_ids))
        rows = []
        for ids in input_ids.tolist():
            last = tokenizer.decode(ids).rsplit("<|im_start|>user", 1)[1]
            script = QUESTIONS if "Write 2 questions" in last else REPLIES
            question = last.split("Context:")[0]
            reply = next(text for word, text in script.items() if word in question)
            rows.append(ids + tokenizer(reply + "<|im_end|>", add_special_tokens=False)["input_ids"])
        width = max(len(r) for r in rows)
        return torch.tensor([r + [pad_token_id] * (width - len(r)) for r in rows])

    chat.model.generate = generate


def build(plugin_manager, tmp_path, tiny_model, **options):
    options = {"model": str(tiny_model), "batch_size": 4, **options}
    return plugin_manager.build("teacher", "transformers", options, RunContext(workdir=tmp_path))


def test_questions_answers_and_repairs(plugin_manager, tmp_path, tiny_model):
    teacher = build(plugin_manager, tmp_path, tiny_model)
    calls: list[int] = []
    scripted(teacher.chat, calls)
    pairs = list(teacher.generate(CHUNKS, 2))
    assert calls == [2, 4]  # one batched question call for both chunks, then the four answers
    assert all(isinstance(p, QAPair) for p in pairs)
    assert [p.question for p in pairs] == [
        "How long does the warranty last?",
        "When are returns accepted?",
        "How bright is the lamp in lumens?",
    ]  # the empty answer to "How does the lamp connect?" is dropped
    assert [p.chunk_id for p in pairs] == [CHUNKS[0].id, CHUNKS[0].id, CHUNKS[1].id]
    warranty, returns, lumens = pairs
    assert warranty.answer == REPLIES["warranty"] and warranty.metadata["repaired"] == []
    assert warranty.metadata["verbatim_quote_rate"] == 1.0
    assert returns.metadata["repaired"] == ["answer_tag", "quote"]
    assert returns.answer.endswith(f"{ANSWER_TAG} Returns are accepted for a month.")  # not the cut-off fragment
    assert quotes(returns.answer) == ["Returns are accepted within thirty days of purchase."]
    assert lumens.metadata["repaired"] == ["quote"] and lumens.metadata["model_verbatim_quote_rate"] == 0.0
    assert verbatim_quote_rate(lumens.answer, CHUNKS[1].text) == 0.5
    summary = teacher.summary()
    assert summary["qa_pairs"] == 3 and summary["calls"] == 6 and summary["cache_hits"] == 0
    assert summary["repaired"] == 2 and summary["repaired_quote"] == 2 and summary["repaired_answer_tag"] == 1
    assert summary["empty_answers"] == 1 and summary["verbatim_quote_rate"] == 0.5  # (1.0 + 0.0) / 2
    assert summary["dtype"] in ("float32", "bfloat16") and summary["dtype_reason"] and summary["threads"] >= 1


def test_a_finished_run_resumes_without_loading_the_model(plugin_manager, tmp_path, tiny_model):
    first = build(plugin_manager, tmp_path, tiny_model)
    scripted(first.chat, [])
    pairs = list(first.generate(CHUNKS, 2))
    again = build(plugin_manager, tmp_path, tiny_model)
    assert [p.to_dict() for p in again.generate(CHUNKS, 2)] == [p.to_dict() for p in pairs]
    assert again._chat is None  # every chunk came from the cache
    assert again.summary()["chunks_from_cache"] == 2 and again.summary()["calls"] == 0
    same = [
        "qa_pairs",
        "repaired",
        "repaired_quote",
        "empty_answers",
        "chunks_without_questions",
        "verbatim_quote_rate",
    ]
    assert {k: again.summary()[k] for k in same} == {k: first.summary()[k] for k in same}
    other = build(plugin_manager, tmp_path, tiny_model, max_new_tokens=50)  # other settings, other cache keys
    scripted(other.chat, calls := [])
    assert len(list(other.generate(CHUNKS, 2))) == 3 and sum(calls) == 6


def test_an_interrupted_run_regenerates_only_what_is_missing(plugin_manager, tmp_path, tiny_model):
    first = build(plugin_manager, tmp_path, tiny_model, batch_size=1)
    scripted(first.chat, [])
    stream = first.generate(CHUNKS, 2)
    next(stream)  # the first chunk is finished and cached, then the run is "killed"
    stream.close()
    second = build(plugin_manager, tmp_path, tiny_model, batch_size=1)
    scripted(second.chat, calls := [])
    assert len(list(second.generate(CHUNKS, 2))) == 3
    assert sum(calls) == 3 and second.summary()["chunks_from_cache"] == 1


def test_a_failed_call_leaves_the_chunk_for_the_next_run(plugin_manager, tmp_path, tiny_model):
    teacher = build(plugin_manager, tmp_path, tiny_model)
    scripted(teacher.chat, [])
    working = teacher.chat.model.generate

    def failing(input_ids, **kwargs):
        if any("in lumens?" in teacher.chat.tokenizer.decode(row) for row in input_ids):
            raise RuntimeError("boom")
        return working(input_ids, **kwargs)

    teacher.chat.model.generate = failing
    assert len(list(teacher.generate(CHUNKS, 2))) == 2
    assert teacher.summary()["failed_chunks"] == 1 and teacher.summary()["failed_calls"] == 1
    teacher.chat.model.generate = working
    assert len(list(teacher.generate(CHUNKS, 2))) == 3
    assert teacher.summary()["calls"] == 1  # only the failed answer was asked again


def test_a_chunk_without_questions_is_done_and_counted(plugin_manager, tmp_path, tiny_model):
    chunk = Chunk(text="Omega is the last letter of the Greek alphabet. It follows psi.", doc_id="g", source="g")
    for expected_calls in (1, 0):
        teacher = build(plugin_manager, tmp_path, tiny_model)
        scripted(teacher.chat, [])
        assert list(teacher.generate([chunk], 2)) == []
        summary = teacher.summary()
        assert summary["chunks_without_questions"] == 1 and summary["calls"] == expected_calls
        assert summary["failed_chunks"] == 0 and summary["verbatim_quote_rate"] is None


def test_estimate_counts_calls_and_prompt_tokens(plugin_manager, tmp_path, tiny_model):
    teacher = build(plugin_manager, tmp_path, tiny_model)
    estimate = teacher.estimate(CHUNKS, 3)
    assert estimate["calls"] == 8 and estimate["cached_chunks"] == 0
    assert estimate["prompt_tokens"] > 2 * sum(len(c.text) for c in CHUNKS) // 4
    assert teacher._chat is None  # the tokenizer is enough
    zero_shot = build(plugin_manager, tmp_path, tiny_model, few_shot=False).estimate(CHUNKS, 3)
    assert zero_shot["prompt_tokens"] < estimate["prompt_tokens"]


def test_unknown_options_are_errors(plugin_manager, tmp_path, tiny_model):
    from raft_core.errors import RaftError

    with pytest.raises(RaftError, match="questions_per_chunk"):
        build(plugin_manager, tmp_path, tiny_model, questions_per_chunk=3)


def test_repair_is_deterministic():
    chunk = "Alpha is first. The warranty lasts two years. Omega is last."
    assert best_sentence(chunk, "how long is the warranty? two years") == "The warranty lasts two years."
    good = f"{BEGIN_QUOTE}alpha is  FIRST.{END_QUOTE} {ANSWER_TAG} Alpha"
    assert repair_answer(good, chunk) == (good, [])
    fixed, repairs = repair_answer(f"{BEGIN_QUOTE}Alpha is second.{END_QUOTE}", chunk)
    assert repairs == ["answer_tag", "quote"] and fixed.startswith(f"{BEGIN_QUOTE}Alpha is first.{END_QUOTE}")
    assert fixed.endswith(f"{ANSWER_TAG} Alpha is second.")


RAMBLING = [
    "What is the warranty?\n\nThe warranty lasts two years. What is covered? Everything.\nIs it long?\nMore?",
    "1. How long is the warranty?\n2. How long is the warranty?\nThe lamp.\n3) Who made it?\nWhen?",
    "Who designed the lamp?",
    *QUESTIONS.values(),
]


@pytest.mark.parametrize("full", RAMBLING)
def test_a_question_reply_stops_where_its_questions_are_known(full):
    from raft_transformers.teacher import _questions, questions_complete

    for n in (1, 2, 3):
        cuts = [full[:end] for end in range(len(full) + 1) if questions_complete(full[:end], n)]
        for cut in cuts:  # decoding stops at the first; whatever followed would not change the questions
            assert _questions(cut.strip(), n) == _questions(full.strip(), n), (cut, n)
        if cuts:
            assert len(cuts[0]) < len(full) and cuts[0].endswith("\n")


def test_an_answer_reply_stops_at_the_end_of_its_answer_line():
    from raft_transformers.teacher import answer_complete

    reply = f"The context says {BEGIN_QUOTE}two years{END_QUOTE}.\n{ANSWER_TAG} Two years.\nThe question asks"
    ends = [end for end in range(len(reply) + 1) if answer_complete(reply[:end])]
    assert reply[: ends[0]].endswith(f"{ANSWER_TAG} Two years.\n")
    assert not answer_complete(f"{ANSWER_TAG}\n") and answer_complete(f"{ANSWER_TAG}\nTwo years.\n")
    assert not answer_complete("No tag here.\nNone at all.\n")


def test_question_calls_get_a_short_budget_and_every_call_a_stop(plugin_manager, tmp_path, tiny_model):
    teacher = build(plugin_manager, tmp_path, tiny_model, max_new_tokens=100, question_tokens=12)
    scripted(teacher.chat, [])
    teacher.chat.segment_tokens = 1000  # one generate call per batch: its budget is the call's
    seen = []
    scripted_generate = teacher.chat.model.generate

    def generate(input_ids, **kwargs):
        seen.append((len(input_ids), kwargs["max_new_tokens"], len(kwargs["stopping_criteria"])))
        return scripted_generate(input_ids, **kwargs)

    teacher.chat.model.generate = generate
    assert len(list(teacher.generate(CHUNKS, 2))) == 3
    assert seen == [(2, 24, 1), (4, 100, 1)]  # 2 questions x 12 tokens, then the answers' full budget
    assert teacher.estimate(CHUNKS, 2)["max_completion_tokens"] == 0  # all cached now
    fresh = build(plugin_manager, tmp_path / "fresh", tiny_model, max_new_tokens=100, question_tokens=12)
    assert fresh.estimate(CHUNKS, 2)["max_completion_tokens"] == 2 * 24 + 4 * 100
