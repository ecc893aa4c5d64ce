"""Hook implementations: the Hugging Face datasets loader this distribution adds to raft-core."""

from raft_core import hookimpl
from raft_datasets.loader import HfDatasetLoader


@hookimpl
def register_loaders(register):
    register(
        "hf-dataset",
        HfDatasetLoader,
        description="Rows of a Hugging Face dataset: a save_to_disk folder, a local data file, or a hub name.",
    )
