"""A second corpus of real text nobody on this project wrote: the libpng manual shipped by Debian
(/usr/share/doc/libpng16-16/libpng-manual.txt.gz), with cloze questions built from its sentences offline.

Each question quotes one sentence of a chunk with one distinctive word blanked out; the answer is that word.
The manual's chunks share a technical vocabulary (png_* calls, chunk names, options), so a lexical retriever
returns confusable chunks beside the one holding the sentence.
"""

from __future__ import annotations

import gzip
import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

MANUAL = Path("/usr/share/doc/libpng16-16/libpng-manual.txt.gz")
BLANK = "_____"
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_WORD = re.compile(r"\b[A-Za-z][A-Za-z0-9_]{5,}\b")


@dataclass
class Cloze:
    question: str
    answer: str
    sentence: str
    chunk_id: str


def write_corpus(folder: Path, manual: Path = MANUAL) -> Path:
    """Decompress the manual into ``folder`` as plain text; a clear error where the package is not installed."""
    if not manual.is_file():
        raise SystemExit(f"{manual} not found: install Debian's libpng16-16 package, or pass another manual")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / manual.name.removesuffix(".gz")
    target.write_text(gzip.decompress(manual.read_bytes()).decode("utf-8", errors="replace"), encoding="utf-8")
    return target


def sentences(text: str) -> list[str]:
    """Prose sentences of a chunk on one line each (40 to 220 characters, mostly letters)."""
    flat = " ".join(text.split())
    out = []
    for sentence in _SENTENCE.split(flat):
        letters = sum(c.isalpha() or c == " " for c in sentence)
        if 40 <= len(sentence) <= 220 and letters > 0.85 * len(sentence):
            out.append(sentence)
    return out


def cloze_questions(chunks: Sequence[object], limit: int, seed: int) -> list[Cloze]:
    """Up to ``limit`` cloze questions, at most one per chunk: in a random prose sentence, the word rarest in
    the whole manual (ties: the longest) is blanked; words that occur once in the sentence only."""
    counts = Counter(w.lower() for c in chunks for w in _WORD.findall(c.text))
    rng = random.Random(seed)
    questions = []
    for chunk in rng.sample(list(chunks), len(chunks)):
        candidates = sentences(chunk.text)
        if not candidates:
            continue
        sentence = rng.choice(candidates)
        words = [w for w in _WORD.findall(sentence) if sentence.count(w) == 1]
        if not words:
            continue
        word = min(words, key=lambda w: (counts[w.lower()], -len(w)))
        masked = sentence.replace(word, BLANK)
        question = f'Which word is missing from this sentence of the libpng manual: "{masked}"'
        questions.append(Cloze(question, word, sentence, chunk.id))
        if len(questions) >= limit:
            break
    return questions


def cot_answer(cloze: Cloze) -> str:
    """A RAFT answer for a cloze question: quote the full sentence, then the word."""
    return (
        f"The document says: ##begin_quote##{cloze.sentence}##end_quote## "
        f"So the missing word is {cloze.answer}.\n<ANSWER>: {cloze.answer}"
    )
