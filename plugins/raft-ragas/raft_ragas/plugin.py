"""Hook implementations: the Ragas judges this distribution adds to raft-core."""

from raft_core import hookimpl
from raft_ragas.judges import AnswerCorrectnessJudge, ContextPrecisionJudge, ContextRecallJudge, FaithfulnessJudge


@hookimpl
def register_judges(register):
    register(
        "ragas-faithfulness",
        FaithfulnessJudge,
        description="Ragas faithfulness: share of answer statements supported by the retrieved chunks (LLM).",
    )
    register(
        "ragas-answer-correctness",
        AnswerCorrectnessJudge,
        description="Ragas answer correctness: statement F1 vs the reference plus embedding similarity (LLM).",
    )
    register(
        "ragas-context-precision",
        ContextPrecisionJudge,
        description="Ragas context precision: are the top-ranked retrieved chunks the useful ones (LLM).",
    )
    register(
        "ragas-context-recall",
        ContextRecallJudge,
        description="Ragas context recall: share of reference statements found in the retrieved chunks (LLM).",
    )
