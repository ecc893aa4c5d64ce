"""Hook implementations: the components this distribution adds to raft-core (nothing heavy imported here)."""

from raft_core import hookimpl
from raft_transformers.generator import TransformersGenerator
from raft_transformers.teacher import TransformersTeacher


@hookimpl
def register_generators(register):
    register(
        "transformers",
        TransformersGenerator,
        description="Local Hugging Face model (folder, PEFT adapter, hub name or 'smollm2'): batched chat generation.",
    )


@hookimpl
def register_teachers(register):
    register(
        "transformers",
        TransformersTeacher,
        description="Offline teacher on a local model (default 'smollm2'): RAFT prompts, resumable, repairs tags.",
    )
