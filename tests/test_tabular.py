"""The tabular layer (harness.tabular): one reader for CSV, TSV, JSON Lines, Parquet and Arrow
files through ``datasets``' builders, exact line numbers, and the files task on top of it (the
one-line errors of the corpus live in ``test_bad_input.py``)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_files_task import TRAIN

from harness.errors import UserError
from harness.tabular import TableHints, read_column_names, read_table
from harness.text_column import TextColumn
from harness_plugins.tasks.files import load_files

ROWS = TRAIN  # the files task's tests' rows
HINTS = TableHints(field="task_args.train", option_prefix="task_args.")


def write_all_formats(tmp: Path, rows: list[tuple[str, str]] = ROWS) -> dict[str, str]:
    """The same rows as CSV, TSV, JSON Lines, Parquet and Arrow (IPC stream) files."""
    texts, labels = [t for t, _ in rows], [y for _, y in rows]
    table = pa.table({"text": texts, "label": labels})
    paths = {
        "csv": tmp / "a.csv",
        "tsv": tmp / "a.tsv",
        "jsonl": tmp / "a.jsonl",
        "parquet": tmp / "a.parquet",
        "arrow": tmp / "a.arrow",
    }
    paths["csv"].write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in rows))
    paths["tsv"].write_text("text\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in rows))
    paths["jsonl"].write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in rows))
    pq.write_table(table, paths["parquet"])
    with pa.OSFile(str(paths["arrow"]), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return {fmt: str(path) for fmt, path in paths.items()}


def test_every_format_gives_the_same_task_and_the_pool_stays_arrow(tmp_path: Path) -> None:
    paths = write_all_formats(tmp_path)
    tasks = {fmt: load_files(train=p, test=p, pool=p) for fmt, p in paths.items()}
    for fmt, task in tasks.items():
        assert task.label_names == ["bad", "ok"], fmt
        assert task.train.texts == [t for t, _ in ROWS] and isinstance(task.train.texts, list)
        assert task.train.labels.tolist() == [1, 1, 1, 0, 0, 0]
        assert isinstance(task.pool.texts, TextColumn) and isinstance(task.pool.ids, TextColumn)
        assert task.pool.texts == task.train.texts and task.pool.ids[0] == "pool-0"
    sources = load_files(
        train=paths["csv"],
        test=paths["csv"],
        pool=[
            {"name": "a", "path": paths["parquet"]},
            {"name": "b", "path": paths["arrow"]},
        ],
    )
    assert isinstance(sources.pool.texts, TextColumn) and len(sources.pool) == 12
    assert sources.pool.source_counts() == {"a": 6, "b": 6} and sources.pool.ids[6] == "b:0"


def test_csv_values_are_kept_exactly_as_written(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text(
        'text,label\nNA,ok\nnull,bad\n007,ok\n"  spaced  ",bad\n"a, ""quoted""\nline",ok\n',
        encoding="utf-8",
    )
    table = read_table(path, HINTS)
    assert table.column("text").to_pylist() == [
        "NA",
        "null",
        "007",
        "  spaced  ",
        'a, "quoted"\nline',
    ]
    assert table.lines().tolist() == [2, 3, 4, 5, 6]


def test_line_numbers_count_blank_lines_and_quoted_newlines(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_text('text,label\n\n"two\nlines",ok\n   \nthird,\n', encoding="utf-8")
    with pytest.raises(UserError) as info:
        load_files(train=str(path), test=str(path))
    assert info.value.one_line().startswith(f"{path}:6: task_args.label_column (label): empty")


def test_rows_with_too_few_fields_are_errors_for_tasks_and_padded_for_spec_tables(
    tmp_path: Path,
) -> None:
    path = tmp_path / "short.csv"
    path.write_text("spec,text,label\na,hello,x\nb,short\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"short.csv:3: task_args.train: the row has 2 fields"):
        read_table(path, HINTS)
    table = read_table(path, HINTS, ragged="pad")
    assert table.string_rows()[1] == {"spec": "b", "text": "short", "label": ""}


def test_a_json_number_too_big_for_arrow_is_read_exactly(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text('{"text": "a", "label": 1e400, "n": 1}\n{"text": "b", "label": 2}\n')
    table = read_table(path, HINTS)
    assert table.python_values("label") == [float("inf"), 2] and table.num_rows == 2


def test_brackets_inside_strings_do_not_stop_the_jsonl_reader(tmp_path: Path) -> None:
    deep = "[" * 200
    path = tmp_path / "brackets.jsonl"
    path.write_text(
        json.dumps({"text": deep, "label": "ok"})
        + "\n"
        + json.dumps({"text": "x", "label": "bad"})
        + "\n"
    )
    table = read_table(path, HINTS)
    assert table.column("text").to_pylist() == [deep, "x"]


def test_mixed_json_types_keep_their_meaning(tmp_path: Path) -> None:
    rows = [{"text": "a", "label": "ok"}, {"text": "b", "label": 1}, {"text": "c", "label": True}]
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    task = load_files(train=str(path), test=str(path), labels=["ok", "1", "true"])
    assert task.train.labels.tolist() == [0, 1, 2]


def test_column_names_without_reading_the_rows(tmp_path: Path) -> None:
    paths = write_all_formats(tmp_path)
    assert read_column_names(paths["csv"], HINTS) == ["text", "label"]
    assert read_column_names(paths["parquet"], HINTS) == ["text", "label"]
    assert read_column_names(paths["jsonl"], HINTS) is None
    assert read_column_names(tmp_path / "missing.csv", HINTS) is None


def test_parquet_nested_text_and_fractional_labels_are_one_line_errors(tmp_path: Path) -> None:
    nested = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"text": [["a", "b"], ["c"]], "label": ["x", "y"]}), nested)
    with pytest.raises(UserError) as info:
        load_files(train=str(nested), test=str(nested))
    line = info.value.one_line()
    assert line.startswith(f"{nested}:1: task_args.text_column (text): the text must be a string")
    assert "nested" in line and "text_column" in line
    scores = tmp_path / "scores.parquet"
    pq.write_table(pa.table({"text": ["a", "b"], "label": [0.25, 0.75]}), scores)
    with pytest.raises(UserError, match="fractional numbers .*0.25"):
        load_files(train=str(scores), test=str(scores))
    whole = tmp_path / "whole.parquet"
    pq.write_table(pa.table({"text": ["a", "b"], "label": [0.0, 1.0]}), whole)
    assert load_files(train=str(whole), test=str(whole)).label_names == ["0", "1"]


def test_special_files_are_refused(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(UserError, match="not a regular file"):
        read_table(fifo, HINTS)


def test_reading_prints_nothing_and_leaves_no_warning(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    paths = write_all_formats(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for path in paths.values():
            read_table(path, HINTS)
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_a_large_pool_is_read_without_python_lists(tmp_path: Path) -> None:
    n = 20_000
    path = tmp_path / "pool.csv"
    path.write_text(
        "text,label\n" + "".join(f"pool text {i},{'ab'[i % 2]}\n" for i in range(n)),
        encoding="utf-8",
    )
    task = load_files(train=str(path), test=str(path), pool=str(path))
    assert isinstance(task.pool.texts, TextColumn) and len(task.pool) == n
    assert task.pool.texts.arrow.num_chunks >= 1 and task.pool.texts[n - 1] == f"pool text {n - 1}"
    assert np.array_equal(task.pool.labels[:4], [0, 1, 0, 1])
