"""The ``files`` task: reading the user's CSV / TSV / JSONL files (the error cases live in
``test_bad_input.py``)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import cli
from harness_plugins.tasks.files import load_files

TRAIN = [
    ("you are a lovely person", "ok"),
    ("what a kind thing to say", "ok"),
    ("have a great day", "ok"),
    ("you are an idiot", "bad"),
    ("what a stupid clown", "bad"),
    ("get lost you moron", "bad"),
]


def write(path: Path, text: str, encoding: str = "utf-8") -> str:
    """Write ``text`` and return the path as a string."""
    path.write_text(text, encoding=encoding)
    return str(path)


def csv_text(rows: list[tuple[str, str]], sep: str = ",") -> str:
    """Rows as delimited text with a ``text,label`` header."""
    return "".join(f"{t}{sep}{y}\n" for t, y in [("text", "label"), *rows])


def test_csv_tsv_and_jsonl_give_the_same_task(tmp_path: Path) -> None:
    csv_path = write(tmp_path / "a.csv", csv_text(TRAIN))
    tsv_path = write(tmp_path / "a.tsv", csv_text(TRAIN, "\t"))
    jsonl_path = write(
        tmp_path / "a.jsonl", "".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in TRAIN)
    )
    tasks = [load_files(train=p, test=p) for p in (csv_path, tsv_path, jsonl_path)]
    for task in tasks:
        assert task.label_names == ["bad", "ok"]
        assert task.train.texts == [t for t, _ in TRAIN]
        assert task.train.labels.tolist() == [1, 1, 1, 0, 0, 0]
        assert task.train.ids == [f"train-{i}" for i in range(6)]
        assert len(task.pool) == 0


def test_latin1_file_reads_with_the_encoding_option(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(csv_text([*TRAIN, ("caf\xe9 cr\xe8me", "ok")]).encode("latin-1"))
    task = load_files(train=str(path), test=str(path), encoding="latin-1")
    assert task.train.texts[-1] == "caf\xe9 cr\xe8me"


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv_text(TRAIN).encode())
    assert load_files(train=str(path), test=str(path)).train.texts[0] == TRAIN[0][0]


def test_labels_order_mapping_and_numeric_labels(tmp_path: Path) -> None:
    numeric = [(t, "10" if y == "bad" else "2") for t, y in TRAIN]
    path = write(tmp_path / "n.csv", csv_text(numeric))
    assert load_files(train=path, test=path).label_names == ["2", "10"]
    mapped = load_files(
        train=path, test=path, label_map={"2": "ok", "10": "bad"}, labels=["ok", "bad"]
    )
    assert mapped.label_names == ["ok", "bad"]
    assert mapped.train.labels.tolist() == [0, 0, 0, 1, 1, 1]


def test_jsonl_numbers_and_bools_as_labels(tmp_path: Path) -> None:
    rows = [{"text": t, "label": 1.0 if y == "bad" else 0} for t, y in TRAIN]
    path = write(tmp_path / "n.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    task = load_files(
        train=path, test=path, label_map={"0": "ok", "1": "bad"}, labels=["ok", "bad"]
    )
    assert task.train.labels.tolist() == [0, 0, 0, 1, 1, 1]


def test_empty_texts_can_be_dropped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path / "e.csv", csv_text([*TRAIN, ("", "ok"), ("  ", "bad")]))
    with caplog.at_level(logging.WARNING):
        task = load_files(train=path, test=path, empty_texts="drop")
    assert len(task.train) == 6
    assert task.metadata["dropped_empty_texts"] == {"train": 2, "test": 2}
    assert "dropped 2 rows with empty texts" in caplog.text


def test_quoted_multiline_and_delimiter_in_text(tmp_path: Path) -> None:
    text = 'text,label\n"hello, you\nidiot",bad\n' + csv_text(TRAIN).split("\n", 1)[1]
    path = write(tmp_path / "q.csv", text)
    task = load_files(train=path, test=path)
    assert task.train.texts[0] == "hello, you\nidiot"


def test_ids_from_a_column(tmp_path: Path) -> None:
    text = "id,text,label\n" + "".join(f"x{i},{t},{y}\n" for i, (t, y) in enumerate(TRAIN))
    train = write(tmp_path / "train.csv", text)
    test = write(tmp_path / "test.csv", text.replace(",x", ",y").replace("\nx", "\ny"))
    task = load_files(train=train, test=test, id_column="id")
    assert task.train.ids[0] == "x0" and task.test.ids[0] == "y0"


def test_very_long_texts_are_kept(tmp_path: Path) -> None:
    long_text = "you are an idiot " * 200_000  # 3.4 million characters in one CSV field
    path = write(tmp_path / "train.csv", csv_text([*TRAIN, (long_text.strip(), "bad")]))
    task = load_files(train=path, test=path)
    assert task.train.texts[-1] == long_text.strip()


def test_very_long_texts_run_end_to_end(tmp_path: Path) -> None:
    long_text = "you are an idiot " * 200_000
    rows = [(t, "toxic" if y == "bad" else "non-toxic") for t, y in TRAIN]
    train = write(tmp_path / "train.csv", csv_text([*rows, (long_text, "toxic")]))
    test = write(tmp_path / "test.csv", csv_text([*rows, (long_text, "toxic")]))
    result = CliRunner().invoke(
        cli,
        [
            "run", "-q", "--task", "files", "--task-args", f"train={train},test={test}",
            "--output-dir", str(tmp_path / "out"), "--device", "cpu", "--model-args", "epochs=1",
            "--interventions", "",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (run_dir,) = list((tmp_path / "out").iterdir())
    data = json.loads((run_dir / "results.json").read_text())
    assert data["task"]["n_train"] == 7 and data["task"]["label_names"] == ["non-toxic", "toxic"]


def test_pool_smaller_than_the_budget_is_clamped_with_a_warning(tmp_path: Path) -> None:
    rows = [(t, "toxic" if y == "bad" else "non-toxic") for t, y in TRAIN]
    train = write(tmp_path / "train.csv", csv_text(rows * 3))
    pool = write(tmp_path / "pool.csv", csv_text(rows[1:]))
    result = CliRunner().invoke(
        cli,
        [
            "run", "-q", "--task", "files",
            "--task-args", f"train={train},test={train},pool={pool}",
            "--interventions", "retrain", "--budget", "600", "--model-args", "epochs=1",
            "--device", "cpu", "--output-dir", str(tmp_path / "out"),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "warning: task 'files': the pool has 5 examples, fewer than the budget 600" in (
        result.stderr
    )
    (run_dir,) = list((tmp_path / "out").iterdir())
    data = json.loads((run_dir / "results.json").read_text())
    retrain = data["models"][1]
    assert retrain["seeds"][0]["changes"]["n_selected"] == 5
