"""Hook specifications: the whole contract between raft-core and its plugins.

Every hook is a ``register_<kind>s(register)`` hook. A plugin implements it and calls
``register(name, cls, aliases=(), description=None)`` once per component it supplies.
``cls`` is a class (not an instance): raft-core instantiates it only after the user
selects it by name, so listing plugins imports nothing heavy. Put heavy imports
(torch, transformers, litellm ...) inside the component's methods or in a module the
class lives in that the hook imports lazily.

Each component class may declare ``Options``, a pydantic model of the options it
accepts; the core validates the user's options against it and reports errors naming
the component and the field. The interfaces the classes implement are in
:mod:`raft_core.components`.
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

hookspec = pluggy.HookspecMarker("raft")

Register = Callable[..., None]
"""``register(name: str, cls: type, *, aliases=(), description: str | None = None)``."""


@hookspec
def register_loaders(register: Register) -> None:
    """Register document loaders (:class:`raft_core.components.Loader`).

    A loader turns a source (a folder, a file, a sitemap URL, a dataset name) into
    :class:`raft_core.records.Document` records and records skipped inputs in an
    :class:`raft_core.records.IngestReport`.
    """


@hookspec
def register_splitters(register: Register) -> None:
    """Register splitters (:class:`raft_core.components.Splitter`).

    A splitter turns one Document into Chunks. The same splitter and settings are
    reused to build the retrieval index at evaluation time.
    """


@hookspec
def register_teachers(register: Register) -> None:
    """Register teachers (:class:`raft_core.components.Teacher`).

    A teacher receives Chunks and yields :class:`raft_core.records.QAPair` records:
    questions about each chunk with chain-of-thought answers quoting it.
    """


@hookspec
def register_filters(register: Register) -> None:
    """Register curation filters (:class:`raft_core.components.Filter`).

    A filter sees the QA pairs ``raft generate`` kept (and their chunks) and names a reason
    for each pair it drops; ``raft curate`` applies the configured filters in order and
    counts every drop by filter and reason in ``curation_report.json``.
    """


@hookspec
def register_distractor_policies(register: Register) -> None:
    """Register distractor policies (:class:`raft_core.components.DistractorPolicy`).

    A policy is fitted on the chunk collection and picks k distractor chunks for an
    oracle chunk.
    """


@hookspec
def register_layouts(register: Register) -> None:
    """Register prompt layouts (:class:`raft_core.components.Layout`).

    A layout renders documents plus a question into the user prompt text. The layout
    name is stored in the dataset metadata so evaluation renders prompts identically.
    """


@hookspec
def register_formatters(register: Register) -> None:
    """Register output formatters (:class:`raft_core.components.Formatter`).

    A formatter writes RAFT examples to disk in one output format (chat messages
    JSONL, prompt/completion, OpenAI fine-tuning JSONL, HF dataset ...).
    """


@hookspec
def register_trainers(register: Register) -> None:
    """Register trainer backends (:class:`raft_core.components.Trainer`).

    A trainer fine-tunes a student model on a formatted dataset folder and returns
    the path of the trained model or adapter.
    """


@hookspec
def register_generators(register: Register) -> None:
    """Register answer generators (:class:`raft_core.components.Generator`).

    A generator answers chat prompts with a model: in-process transformers, or any
    OpenAI-compatible endpoint. Used by evaluation and ``raft chat``.
    """


@hookspec
def register_judges(register: Register) -> None:
    """Register judge metrics (:class:`raft_core.components.Judge`).

    A judge scores predictions against references (and optionally contexts) and
    returns one score in [0, 1] per item, or None for an item it could not score.
    """


@hookspec
def register_retrievers(register: Register) -> None:
    """Register retrievers (:class:`raft_core.components.Retriever`).

    A retriever indexes Chunks and returns the top-k chunks for a query.
    """


@hookspec
def register_executors(register: Register) -> None:
    """Register executors (:class:`raft_core.components.Executor`).

    An executor runs a stage's independent pieces of work (the partitions a loader reads,
    batches of chunks for the teacher) in this process or elsewhere (other processes, a
    cluster), and yields the results in input order so every output is the same as an
    in-process run. The built-in ``local`` executor runs them in-process.
    """


@hookspec
def register_commands(cli: object) -> None:
    """Add sub-commands to the ``raft`` command line.

    Receives the root ``typer.Typer`` application; call ``cli.command()`` on it.
    """
