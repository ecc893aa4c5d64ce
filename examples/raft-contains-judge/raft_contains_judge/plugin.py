"""Hook implementations: what this distribution adds to raft-core."""

from raft_contains_judge.judge import ContainsJudge
from raft_core import hookimpl


@hookimpl
def register_judges(register):
    register("contains", ContainsJudge, description="Reference answer contained in the prediction.")
