"""The endpoint through the openai client, LiteLLM and raw HTTP: answers with sources, streaming, bad requests."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

QUESTION = "How long do I hold the reset button of the Orbit 7 router?"


def test_openai_client_gets_the_answer_with_scored_sources(serve):
    base = serve()
    client = openai.OpenAI(base_url=f"{base}/v1", api_key="unused")
    reply = client.chat.completions.create(model="anything", messages=[{"role": "user", "content": QUESTION}])
    content = reply.choices[0].message.content
    assert "##begin_quote## The Orbit 7 router restarts when you hold the reset button for ten seconds." in content
    assert reply.model == "raft-echo"
    extra = reply.model_extra
    assert extra["answer"] == "The Orbit 7 router restarts when you hold the reset button for ten seconds."
    sources = extra["sources"]
    assert len(sources) == 3
    first = sources[0]
    assert first["source"] == "manual.pdf" and first["page"] == 3 and first["chunk"] == 0 and len(first["id"]) == 16
    assert first["quotes"] == ["The Orbit 7 router restarts when you hold the reset button for ten seconds."]
    assert first["snippet"].startswith("The Orbit 7 router restarts")
    scores = [s["score"] for s in sources]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1], "BM25 scores, best first"
    assert all(s["quotes"] == [] for s in sources[1:])


def test_streaming_with_the_openai_client_ends_with_answer_and_sources(serve):
    base = serve()
    client = openai.OpenAI(base_url=f"{base}/v1", api_key="unused")
    events = list(
        client.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "When are invoices emailed?"}],
            stream=True,
            extra_body={"top_k": 2},
        )
    )
    pieces = [e.choices[0].delta.content for e in events if e.choices[0].delta.content]
    text = "".join(pieces)
    assert text.startswith("The manual says ##begin_quote## Invoices are emailed on the first day of each month.")
    assert len(pieces) == len(text.split()), "one delta per word the generator streamed"
    assert events[0].choices[0].delta.role == "assistant"
    assert events[-1].choices[0].finish_reason == "stop"
    last = events[-1].model_extra
    assert last["answer"] == "Invoices are emailed on the first day of each month."
    assert [s["source"] for s in last["sources"]][0] == "https://docs.example.com/billing"
    assert len(last["sources"]) == 2, "the request's top_k"


def test_litellm_reaches_the_endpoint_plain_and_streaming(serve):
    import litellm

    base = serve()
    args = {"model": "openai/raft-echo", "api_base": f"{base}/v1", "api_key": "unused"}
    messages = [{"role": "user", "content": "What does the warranty cover?"}]
    reply = litellm.completion(messages=messages, **args)
    assert reply.choices[0].message.content.endswith("<ANSWER>: The warranty covers hardware faults for two years.")
    stream = litellm.completion(messages=messages, stream=True, **args)
    text = "".join(part.choices[0].delta.content or "" for part in stream)
    assert text == reply.choices[0].message.content


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"messages": []}, 400, "messages: List should have at least 1 item"),
        ({"model": "m"}, 400, "messages: Field required"),
        ({"messages": [{"role": "robot", "content": "hi"}]}, 400, "messages.0.role: Input should be"),
        ({"messages": [{"role": "user", "content": 42}]}, 400, "messages.0.content"),
        ({"messages": [{"role": "system", "content": "be brief"}]}, 400, "no user message"),
        ({"messages": [{"role": "user", "content": "   "}]}, 400, "the last user message is empty"),
        ({"messages": [{"role": "user", "content": "x" * 2001}]}, 413, "2001 characters, the limit is 2000"),
        ({"messages": [{"role": "user", "content": "hi"}], "top_k": 0}, 400, "top_k: Input should be greater"),
        ({"messages": [{"role": "user", "content": "explode please"}]}, 500, "the model ran out of memory"),
    ],
)
def test_bad_requests_get_a_clear_error(serve, body, status, message):
    base = serve(max_input_chars=2000)
    response = httpx.post(f"{base}/v1/chat/completions", json=body)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]["message"]


def test_malformed_json_and_oversized_bodies_are_refused_before_parsing(serve):
    base = serve(max_input_chars=100)
    response = httpx.post(
        f"{base}/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400 and "invalid request" in response.json()["error"]["message"]
    huge = json.dumps({"messages": [{"role": "user", "content": "y" * 200_000}]})
    response = httpx.post(f"{base}/v1/chat/completions", content=huge, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "bytes, the limit is" in response.json()["error"]["message"]


def test_the_openai_client_raises_with_the_servers_message(serve):
    client = openai.OpenAI(base_url=f"{serve()}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.BadRequestError, match="no user message"):
        client.chat.completions.create(model="m", messages=[{"role": "assistant", "content": "hello"}])


def test_api_key_is_required_when_set(serve):
    base = serve(api_key="s3cret")
    body = {"messages": [{"role": "user", "content": QUESTION}]}
    assert httpx.post(f"{base}/v1/chat/completions", json=body).status_code == 401
    wrong = httpx.post(f"{base}/v1/chat/completions", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "API key" in wrong.json()["error"]["message"]
    client = openai.OpenAI(base_url=f"{base}/v1", api_key="s3cret")
    assert client.chat.completions.create(model="m", messages=body["messages"]).model_extra["sources"]
    assert httpx.get(f"{base}/").status_code == 200, "the page itself is public; it asks for the key"
