"""Keeping unstructured offline: its sentence tokenizer downloads spaCy ``en_core_web_sm`` at first use."""

from __future__ import annotations

import functools
import os

QUIET_ENV = {"SCARF_NO_ANALYTICS": "1", "UNSTRUCTURED_DISABLE_NOTICE": "1"}
"""Defaults set by offline runs before unstructured is imported: no analytics ping, no banner on stdout."""


def quiet_unstructured() -> None:
    """Opt out of unstructured's import-time analytics request and its usage banner (unless the user set them)."""
    for name, value in QUIET_ENV.items():
        os.environ.setdefault(name, value)


@functools.cache
def use_local_spacy() -> None:
    """Give unstructured a blank spaCy English pipeline with a sentencizer unless en_core_web_sm is installed.

    unstructured 0.27 installs the model from GitHub the first time it partitions any file and fails
    without network; the blank pipeline splits sentences without a download (no part-of-speech tags,
    so fewer elements are classified as narrative text).
    """
    import spacy
    import unstructured.nlp.tokenize as tokenize

    if spacy.util.is_package("en_core_web_sm") or not hasattr(tokenize, "_get_nlp"):
        return
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    tokenize._get_nlp = lambda: nlp
