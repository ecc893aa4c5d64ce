"""The rouge, exact-match and f1 judges through their entry point."""

import subprocess
import sys

import pytest

from raft_core.components import RunContext
from raft_core.errors import RaftError


@pytest.fixture
def build(plugin_manager, tmp_path):
    def make(name, options=None):
        return plugin_manager.build("judge", name, options, RunContext(workdir=tmp_path))

    return make


def score(judge, predictions, references):
    return judge.score(["q"] * len(predictions), predictions, references, [[]] * len(predictions))


def test_exact_match_squad_normalization_and_tags(build):
    judge = build("exact-match")
    preds = [
        "The Eiffel Tower!",
        "reasoning ##begin_quote## Paris ##end_quote## <ANSWER>: an  eiffel   tower.",
        "Eiffel",
        '"Two years."',
    ]
    refs = ["eiffel tower", "Eiffel Tower", "Eiffel Tower", "<ANSWER>: two years"]
    assert score(judge, preds, refs) == [1.0, 1.0, 0.0, 1.0]
    assert build("em").__class__ is judge.__class__


def test_token_f1_partial_overlap(build):
    judge = build("f1")
    # pred tokens: warranty lasts two years (4); ref: two years (2); common 2 -> P=0.5 R=1 F1=2/3
    f1 = score(judge, ["<ANSWER>: The warranty lasts two years."], ["Two years"])
    assert f1 == [pytest.approx(2 / 3)]
    assert score(judge, ["nothing alike"], ["two years"]) == [0.0]
    assert score(judge, ["The."], ["a"]) == [1.0]  # both normalize to empty


def test_rouge_l_default_and_types(build):
    judge = build("rouge")
    same, partial, none = score(
        judge,
        ["<ANSWER>: returns within thirty days", "returns are accepted", "banana"],
        ["returns within thirty days", "returns are accepted within thirty days", "thirty days"],
    )
    assert same == pytest.approx(1.0)
    assert partial == pytest.approx(2 * (1.0 * 0.5) / 1.5)  # LCS 3 of 3 / 6 tokens
    assert none == 0.0
    rouge2 = build("rouge", {"rouge_type": "rouge2", "measure": "recall"})
    assert score(rouge2, ["returns are accepted"], ["returns are accepted within thirty days"]) == [
        pytest.approx(2 / 5)
    ]


def test_unicode_tokenizer_scores_any_script(build):
    default, unicode = build("rouge"), build("rouge", {"tokenizer": "unicode"})
    preds, refs = ["保修两年", "Die Garantie läuft zwei Jahre"], ["保修三年", "Garantie läuft zwei Jahre"]
    assert score(default, preds, refs)[0] == 0.0  # rouge-score drops non-ASCII characters
    chinese, german = score(unicode, preds, refs)
    assert chinese == pytest.approx(0.75)  # 3 of 4 characters in common
    assert german == pytest.approx(2 * 0.8 * 1.0 / 1.8)  # 'läuft' is one token: 4 of 5


def test_unknown_option_is_an_error(build):
    with pytest.raises(RaftError):
        build("rouge", {"rouge_typ": "rouge1"})


def test_plugin_module_imports_no_heavy_library():
    heavy = ["rouge_score", "nltk", "torch", "transformers"]
    code = f"import sys, raft_rouge.plugin; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
