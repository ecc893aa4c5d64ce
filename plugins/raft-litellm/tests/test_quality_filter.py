"""The llm-quality curation filter against a real OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

from raft_litellm.quality import QualityFilter
from raft_testing import Reply
from raft_testing.teacher import KEY_ENV

from raft_core.components import RunContext
from raft_core.records import Chunk, QAPair


def test_low_scores_are_dropped_and_unscorable_pairs_kept(openai_server, tmp_path):
    def respond(request):
        prompt = request["messages"][0]["content"]
        assert "Passage: The lighthouse is red." in prompt  # the pair's own chunk is shown to the judge
        if "colour" in prompt:
            return Reply(content="0.9")
        if "weather" in prompt:
            return Reply(content="0.1")
        return Reply(content="I would rather not say.")

    server = openai_server(respond)
    chunk = Chunk(text="The lighthouse is red.", doc_id="d", source="s")
    pairs = [QAPair(question=q, answer="<ANSWER>: red", chunk_id=chunk.id) for q in ("colour?", "weather?", "odd?")]
    options = {"model": "openai/judge", "api_base": server.base_url, "api_key_env": KEY_ENV, "max_invalid_retries": 1}
    quality = QualityFilter(QualityFilter.Options(**options, threshold=0.5), RunContext(workdir=tmp_path))
    assert quality.drop(pairs, {chunk.id: chunk}) == [None, "low_quality", None]
    assert quality.unscored == 1
    assert len(server.requests) == 1 + 1 + 2  # the unparsable verdict was re-asked once
