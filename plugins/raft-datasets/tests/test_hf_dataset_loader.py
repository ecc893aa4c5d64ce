"""The hf-dataset loader on datasets saved with save_to_disk and on local data files."""

import json

import pytest
from pydantic import ValidationError
from raft_datasets.loader import HfDatasetLoader

from raft_core.components import RunContext
from raft_core.errors import RaftError
from raft_core.records import IngestReport

ROWS = [
    {"id": "a", "title": "Tides", "text": "High water comes later at the north pier."},
    {"id": "b", "title": "Empty", "text": ""},
    {"id": "c", "title": "Fees", "text": "Berths are paid daily."},
]


def load(tmp_path, source, **options):
    report = IngestReport()
    loader = HfDatasetLoader(HfDatasetLoader.Options(**options), RunContext(workdir=tmp_path / "run"))
    return list(loader.load(str(source), report)), report


def test_dataset_saved_to_disk(tmp_path):
    from datasets import Dataset

    Dataset.from_list(ROWS).save_to_disk(str(tmp_path / "saved"))
    documents, report = load(tmp_path, tmp_path / "saved")
    assert [(d.id, d.title, d.text) for d in documents] == [(r["id"], r["title"], r["text"]) for r in ROWS[::2]]
    assert documents[1].metadata == {"type": "hf-dataset", "split": "train", "row": 2}
    assert report.counts == {"row": 2}
    assert [(s.path, s.reason) for s in report.skipped] == [(f"{tmp_path / 'saved'}#1", "no text in field 'text'")]


def test_dataset_dict_split_choice(tmp_path):
    from datasets import Dataset, DatasetDict

    body = [{"body": f"train row {i}"} for i in range(3)]
    DatasetDict({"train": Dataset.from_list(body), "test": Dataset.from_list([{"body": "test row"}])}).save_to_disk(
        str(tmp_path / "dict")
    )
    documents, _ = load(tmp_path, tmp_path / "dict", text_field="body", max_rows=2)
    assert [d.text for d in documents] == ["train row 0", "train row 1"]
    documents, _ = load(tmp_path, tmp_path / "dict", text_field="body", split="test")
    assert [(d.text, d.title, d.metadata["split"]) for d in documents] == [("test row", "", "test")]
    with pytest.raises(RaftError, match=r"no split 'validation' \(splits: train, test\)"):
        load(tmp_path, tmp_path / "dict", text_field="body", split="validation")
    with pytest.raises(RaftError, match=r"no column 'text' \(columns: body\)"):
        load(tmp_path, tmp_path / "dict")


@pytest.mark.parametrize("streaming", [False, True])
def test_local_jsonl_file(tmp_path, streaming):
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    documents, report = load(tmp_path, data, streaming=streaming)
    assert [d.id for d in documents] == ["a", "c"] and documents[0].source == str(data)
    assert report.counts == {"row": 2} and len(report.skipped) == 1


def test_bad_sources_are_errors_naming_them(tmp_path):
    (tmp_path / "table.xlsx").write_bytes(b"x")
    with pytest.raises(RaftError, match="table.xlsx: unknown data file type"):
        load(tmp_path, tmp_path / "table.xlsx")
    # a hub name: HF_HUB_OFFLINE is set by the test environment, so this fails without a download
    with pytest.raises(RaftError, match="cannot load dataset 'raft-core-tests/no-such-dataset'"):
        load(tmp_path, "raft-core-tests/no-such-dataset", split="train")
    with pytest.raises(ValidationError):
        HfDatasetLoader.Options(text_column="body")


def test_folder_of_data_files_gives_one_split_per_file_name(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.jsonl").write_text('{"text": "a training row"}\n')
    (tmp_path / "data" / "test.jsonl").write_text('{"text": "a test row"}\n')
    documents, _ = load(tmp_path, tmp_path / "data")
    assert [d.text for d in documents] == ["a training row"]
    documents, _ = load(tmp_path, tmp_path / "data", split="test")
    assert [d.text for d in documents] == ["a test row"]
    assert (tmp_path / "run" / "cache" / "datasets").is_dir()
