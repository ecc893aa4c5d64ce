"""RAFT teacher prompts and the parsing of what teachers and students write.

Shared by every teacher, judge and the evaluation so that tags are handled one way.
"""

from __future__ import annotations

import re

BEGIN_QUOTE = "##begin_quote##"
END_QUOTE = "##end_quote##"
ANSWER_TAG = "<ANSWER>:"

QUESTION_SYSTEM = (
    "You are a synthetic question generator. Given a passage, write questions that a user "
    "could ask and that the passage answers. Write one question per line, no numbering, "
    "no answers, nothing else."
)

QUESTION_USER = "Write {n} questions about this passage.\n\nPassage:\n{chunk}"

ANSWER_SYSTEM = "You are a helpful assistant that answers questions using only the given context."

ANSWER_USER = (
    "Question: {question}\n\nContext: {chunk}\n\n"
    "Answer this question using the context. Instructions:\n"
    "- First reason step by step about how to answer.\n"
    "- Copy the sentences of the context that support the answer verbatim between "
    f"{BEGIN_QUOTE} and {END_QUOTE}.\n"
    "- Explain how the quotes lead to the answer.\n"
    f"- End with {ANSWER_TAG} followed by a short, self-contained final answer."
)

BATCHED_SYSTEM = (
    "You are a synthetic question and answer generator. Given a passage, write questions that a user could "
    "ask and that the passage answers, and answer each one using only the passage. Reply with JSON only."
)

BATCHED_USER = (
    "Write {n} questions about this passage and answer each one. Each answer must:\n"
    "- reason step by step about how to answer;\n"
    f"- copy the supporting sentences of the passage verbatim between {BEGIN_QUOTE} and {END_QUOTE};\n"
    f"- end with {ANSWER_TAG} followed by a short, self-contained final answer.\n"
    'Reply with a JSON object {{"items": [{{"question": "...", "answer": "..."}}]}} and nothing else.\n\n'
    "Passage:\n{chunk}"
)

FIX_REPLY = "Your reply could not be used: {reason}. Write it again, following the instructions exactly."

_NUMBERING = re.compile(r"^\s*(?:[-*\u2022]|\(?\d+[.)\]:]|Q\d*[.:)]|Question\s*\d*[.:)])\s*", re.IGNORECASE)
_QUOTE = re.compile(re.escape(BEGIN_QUOTE) + r"(.*?)" + re.escape(END_QUOTE), re.DOTALL)
_WS = re.compile(r"\s+")


def parse_questions(text: str, limit: int) -> list[str]:
    """Questions from a teacher reply: strip numbering/bullets, drop blanks and duplicates, cap at ``limit``."""
    questions: list[str] = []
    seen: set[str] = set()
    for line in text.splitlines():
        question = _NUMBERING.sub("", line).strip().strip('"').strip()
        if len(question) < 5 or question.lower().startswith(("here are", "sure", "questions:")):
            continue
        key = question.lower()
        if key in seen:
            continue
        seen.add(key)
        questions.append(question)
        if len(questions) >= limit:
            break
    return questions


def extract_answer(text: str) -> str:
    """The final answer of a CoT reply: the text after the last ``<ANSWER>:``, else the whole reply."""
    if ANSWER_TAG in text:
        text = text.rsplit(ANSWER_TAG, 1)[1]
    return text.replace(BEGIN_QUOTE, "").replace(END_QUOTE, "").strip()


def quotes(text: str) -> list[str]:
    """Every ``##begin_quote## ... ##end_quote##`` span of a reply."""
    return [q.strip() for q in _QUOTE.findall(text) if q.strip()]


def _normalise(text: str) -> str:
    return _WS.sub(" ", text).strip().lower()


def quote_is_verbatim(quote: str, chunk: str) -> bool:
    """Whether ``quote`` occurs in ``chunk`` (whitespace and case insensitive)."""
    return _normalise(quote) in _normalise(chunk)


def verbatim_quote_rate(answer: str, chunk: str) -> float | None:
    """Share of the answer's quotes found verbatim in ``chunk``; ``None`` when it has no quote."""
    spans = quotes(answer)
    if not spans:
        return None
    return sum(quote_is_verbatim(q, chunk) for q in spans) / len(spans)


_REFUSAL = re.compile(
    r"\b(i (?:do not|don't|cannot|can't) know|(?:do|does) not (?:contain|mention|provide|say)|"
    r"(?:cannot|can't|unable to) (?:be )?(?:answer(?:ed)?|find|found|determined?)|"
    r"not (?:mentioned|stated|specified)\b|not provided in|"
    r"(?:there is|there's|contains?|provides?|gives?|has|have) no (?:information|mention)\b|i(?: am|'m) not sure)",
    re.IGNORECASE,
)


def is_refusal(text: str) -> bool:
    """Whether a model's final answer declines to answer ("I don't know", "not mentioned" ...)."""
    return bool(_REFUSAL.search(extract_answer(text)))


CHATML_GENERATION_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "{{ '<|im_start|>assistant\n' }}{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{{ '\n' }}"
    "{% else %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
"""ChatML (SmolLM2, Qwen) with ``{% generation %}`` markers around each assistant answer and its ``<|im_end|>``:
what assistant-only training losses need (TRL ``assistant_only_loss``, ``return_assistant_tokens_mask``)."""
