"""The core call cache (whole rows, shared across processes, resumable) and the cost ledger and estimate."""

from __future__ import annotations

import json
import multiprocessing

import pytest

from raft_core.calls import CallCache, call_key
from raft_core.costs import Ledger, PlannedCalls, estimate
from raft_core.errors import DataFileError


def test_call_key_depends_on_model_messages_and_params_only():
    messages = [{"role": "user", "content": "hi"}]
    key = call_key("m", messages, {"temperature": 0, "max_tokens": 5})
    assert key == call_key("m", [dict(messages[0])], {"max_tokens": 5, "temperature": 0})
    assert key != call_key("m2", messages, {"temperature": 0, "max_tokens": 5})
    assert key != call_key("m", messages, {"temperature": 1, "max_tokens": 5})
    assert key != call_key("m", [{"role": "user", "content": "hi!"}], {"temperature": 0, "max_tokens": 5})


def test_rows_survive_reopening_and_a_torn_last_line_is_cut(tmp_path):
    path = tmp_path / "teacher" / "calls.jsonl"
    with CallCache(path) as cache:
        cache.put_call("k1", "m", "reply one", 10, 3, 0.5)
        cache.put({"kind": "chunk", "key": "c1", "pairs": []})
        assert cache.get("k1")["text"] == "reply one" and cache.hits == 1
    with path.open("a") as handle:
        handle.write('{"kind": "call", "key": "k2", "te')  # a write cut short by a power loss
    with CallCache(path) as cache:
        assert cache.get("k1")["completion_tokens"] == 3
        assert ("chunk", "c1") in cache and ("call", "c1") not in cache
        assert cache.get("k2") is None
        cache.put_call("k3", "m", "after", 1, 1)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["key"] for r in rows] == ["k1", "c1", "k3"]


def test_a_row_torn_by_a_killed_writer_is_cut_before_another_process_appends(tmp_path):
    path = tmp_path / "calls.jsonl"
    with CallCache(path) as survivor:  # opened before the other writer died: its open-time repair is past
        survivor.put_call("k1", "m", "one", 1, 1)
        with path.open("a") as killed:  # another process killed in the middle of its row
            killed.write('{"kind": "call", "key": "k2", "text": "half a ro')
        survivor.put_call("k3", "m", "three", 1, 1)
    with CallCache(path) as reader:
        assert reader.get("k1") and reader.get("k3") and reader.get("k2") is None


def test_a_malformed_row_inside_the_file_names_the_file(tmp_path):
    path = tmp_path / "calls.jsonl"
    path.write_text('{"kind": "call", "key": "a", "text": "x"}\nnot json\n{"kind": "call", "key": "b"}\n')
    with pytest.raises(DataFileError, match=r"calls.jsonl:2: invalid line"):
        CallCache(path).open()
    path.write_text('{"key": "a"}\n')
    with pytest.raises(DataFileError, match=r"calls.jsonl:1: not a cache row"):
        CallCache(path).refresh()


def _append_many(path: str, worker: int, rows: int) -> None:
    with CallCache(path) as cache:
        for i in range(rows):
            cache.put_call(f"{worker}-{i}", "m", f"{worker}" * 70_000, i, i)  # far above PIPE_BUF (4 KiB)


def test_processes_appending_at_once_never_interleave_rows(tmp_path):
    path = tmp_path / "calls.jsonl"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_append_many, args=(str(path), w, 40)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    cache = CallCache(path)
    assert len(cache.refresh()) == 4 * 40
    for key, row in cache.of_kind("call").items():
        assert row["text"] == key.split("-")[0] * 70_000


def test_a_shared_cache_sees_rows_another_process_appended(tmp_path):
    path = tmp_path / "calls.jsonl"
    with CallCache(path, shared=True) as reader:
        assert reader.get("0-1") is None
        process = multiprocessing.get_context("fork").Process(target=_append_many, args=(str(path), 0, 2))
        process.start()
        process.join(30)
        assert reader.get("0-1")["prompt_tokens"] == 1
    with CallCache(path) as private:
        private.rows.clear()  # not shared: a miss does not re-read the file
        assert private.get("0-1") is None


def test_ledger_counts_per_model_and_keeps_unknown_prices_unknown():
    ledger = Ledger()
    ledger.record("gpt", 100, 10, 0.25)
    ledger.record("gpt", 50, 5, 0.25)
    ledger.record("gpt", 50, 5, None, cached=True)
    assert ledger.to_dict() == {
        "calls": 2,
        "cached_calls": 1,
        "prompt_tokens": 150,
        "completion_tokens": 15,
        "cost": 0.5,
        "models": {"gpt": {"calls": 2, "cached_calls": 1, "prompt_tokens": 150, "completion_tokens": 15, "cost": 0.5}},
    }
    worker = Ledger()
    worker.record("local", 7, 7, None)
    ledger.merge(worker)
    ledger.merge(Ledger.from_dict(worker.to_dict()))
    totals = ledger.totals()
    assert totals["calls"] == 4 and totals["prompt_tokens"] == 164
    assert totals["cost"] is None, "a model without a price makes the total unknown, not smaller"
    assert ledger.models["gpt"].cost == 0.5


def test_estimate_prices_each_model_online_and_as_a_batch():
    def price(model, prompt, completion):
        return {"a": 0.001, "b": 0.01}.get(model) and (prompt + completion) * {"a": 0.001, "b": 0.01}[model]

    def batch_price(model, prompt, completion):
        online = price(model, prompt, completion)
        return None if online is None else online / 2

    parts = [PlannedCalls("a", 10, 1000, 300), PlannedCalls("b", 30, 3000, 7500), PlannedCalls("b", 0, 0, 0)]
    found = estimate(parts, price, batch_price, max_tokens=512)
    assert found["calls"] == 40 and found["prompt_tokens"] == 4000
    assert found["estimated_completion_tokens"] == 7800 and found["max_completion_tokens"] == 40 * 512
    assert found["cost"] == pytest.approx(1.3 + 105.0)
    assert found["batch_cost"] == pytest.approx(found["cost"] / 2)
    assert found["models"]["b"]["calls"] == 30 and found["models"]["a"]["batch_cost"] == pytest.approx(0.65)
    unknown = estimate([*parts, PlannedCalls("c", 1, 10, 10)], price)
    assert unknown["cost"] is None and unknown["models"]["a"]["cost"] == pytest.approx(1.3)
    assert "batch_cost" not in unknown
