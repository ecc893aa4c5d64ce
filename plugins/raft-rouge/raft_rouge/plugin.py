"""Hook implementations: the judges this distribution adds to raft-core."""

from raft_core import hookimpl
from raft_rouge.answers import AnswerCorrectJudge, AnswerTagJudge, CitationJudge
from raft_rouge.judges import ExactMatchJudge, RougeJudge, TokenF1Judge


@hookimpl
def register_judges(register):
    register("rouge", RougeJudge, description="ROUGE (rouge-score) of the final answer; rougeL F-measure by default.")
    register(
        "exact-match",
        ExactMatchJudge,
        aliases=("em",),
        description="Exact match after SQuAD normalization (case, punctuation, articles; answer tags stripped).",
    )
    register(
        "f1",
        TokenF1Judge,
        aliases=("token-f1",),
        description="SQuAD token F1 of the final answer against the reference (answer tags stripped).",
    )
    register(
        "answer-correct",
        AnswerCorrectJudge,
        description="The reference is contained (whole words, SQuAD-normalized) in the text after <ANSWER>: "
        "(the whole reply when the tag is missing).",
    )
    register("answer-tag", AnswerTagJudge, description="The reply has the <ANSWER>: tag RAFT trains.")
    register(
        "citation",
        CitationJudge,
        description="Share of the reply's quoted spans found verbatim in its retrieved chunks (unscored: no quote).",
    )
