"""``files``: a task read from the user's own CSV / TSV / JSONL files.

Each split is one file with a header row (CSV/TSV) or one JSON object per line (JSONL); the format
follows the suffix (``.csv``, ``.tsv``/``.tab``, ``.jsonl``/``.ndjson``) unless ``delimiter`` is
given. Every problem in the data is a one-line error naming the file, the line and the fix:

- a file that is missing, a folder, unreadable, empty, or has no data rows;
- bytes that are not valid in ``encoding`` (default utf-8; tweet corpora are often latin-1 or
  cp1252: pass ``encoding=latin-1``). A UTF-8 byte-order mark is accepted;
- a missing text / label / id column (close names are suggested);
- a label outside the label set (``labels``, or else the labels seen in ``train``), after
  ``label_map`` is applied;
- an empty or missing text (empty field, whitespace, JSON ``null`` / ``NaN``): an error by default;
  ``empty_texts=drop`` drops those rows instead and logs how many were dropped per file;
- a duplicate id inside a split or across splits (with ``id_column``; otherwise ids are
  ``<split>-<row>``);
- a train split with a single class.

Very long texts are kept as they are: models truncate their input (e.g. ``bow`` ``max_tokens``).
"""

from __future__ import annotations

import csv
import difflib
import json
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator

import harness
from harness.api import Split, StrictModel, Task, TaskDefinition
from harness.errors import UserError

log = logging.getLogger(__name__)

SUFFIX_FORMATS = {
    ".csv": ",",
    ".tsv": "\t",
    ".tab": "\t",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
"""File suffix -> CSV delimiter, or ``jsonl``."""

MAX_FIELD_CHARS = 2**31 - 1
"""The csv module's field limit is raised so that very long texts never fail to parse."""


def _split_list(value: Any) -> Any:
    """``"a|b|c"`` (the only way to write a list in ``--task-args``) -> ``["a", "b", "c"]``."""
    if isinstance(value, str):
        return [part.strip() for part in value.split("|") if part.strip()]
    return value


def _split_mapping(value: Any) -> Any:
    """``"0:neg|1:pos"`` -> ``{"0": "neg", "1": "pos"}``; mappings pass through (keys as str)."""
    if isinstance(value, str):
        out: dict[str, str] = {}
        for part in value.split("|"):
            if not part.strip():
                continue
            raw, sep, name = part.partition(":")
            if not sep:
                raise ValueError(f"expected value:label pairs separated by '|', got {part!r}")
            out[raw.strip()] = name.strip()
        return out
    if isinstance(value, dict):
        return {_label_text(k): _label_text(v) for k, v in value.items()}
    return value


class FilesArgs(StrictModel):
    """Arguments of the ``files`` task (``task_args`` in a config, or ``--task-args k=v,...``)."""

    train: str = Field(description="training data file (CSV, TSV or JSONL)")
    test: str = Field(description="test data file (D_train_heldout)")
    pool: str | None = Field(default=None, description="unused labelled pool (D_unused)")
    text_column: str = Field(default="text", min_length=1)
    label_column: str = Field(default="label", min_length=1)
    id_column: str | None = Field(default=None, description="default: ids are <split>-<row>")
    labels: list[str] | None = Field(
        default=None,
        description="label names in index order (a|b|c on the command line); "
        "default: the sorted labels seen in train",
    )
    label_map: dict[str, str] = Field(
        default_factory=dict,
        description="raw value -> label name, e.g. 0:non-toxic|1:toxic",
    )
    encoding: str = Field(default="utf-8", description="text encoding, e.g. latin-1, cp1252")
    delimiter: str | None = Field(
        default=None, description="CSV delimiter (default: from the suffix; 'tab' for a tab)"
    )
    empty_texts: Literal["error", "drop"] = Field(
        default="error", description="what to do with empty/missing texts"
    )
    name: str | None = Field(default=None, description="task name shown in reports")

    _labels_from_string = field_validator("labels", mode="before")(lambda v: _split_list(v))
    _map_from_string = field_validator("label_map", mode="before")(lambda v: _split_mapping(v))

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.lower() in {"tab", "\\t"}:
            return "\t"
        if len(value) != 1:
            raise ValueError("the delimiter must be one character (or 'tab')")
        return value


@dataclass
class Row:
    """One data row: the physical line where it ends, and its raw fields."""

    line: int
    values: dict[str, Any]


def _label_text(value: Any) -> str:
    """A raw label value as text: JSON numbers/bools as JSON writes them, ``1.0`` as ``1``."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value) if not isinstance(value, (int, float)) else str(value)


def _is_scalar(value: Any) -> bool:
    """A string, bool, int or finite float (what a label or an id may be)."""
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, (str, int))


def _encodable(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8 (JSON ``\\ud800`` escapes decode to lone
    surrogates, which cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_missing(value: Any) -> bool:
    """Empty string, whitespace, JSON null or a NaN float."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


class DataFile:
    """Reads one split file into rows, with every problem as a one-line :class:`UserError`."""

    def __init__(self, split: str, path_text: str, args: FilesArgs) -> None:
        self.split = split
        self.path = Path(path_text).expanduser()
        self.args = args
        self.field = f"task_args.{split}"

    def error(
        self, problem: str, fix: str, line: int | None = None, field: str | None = None
    ) -> UserError:
        """A one-line error about this file."""
        return UserError(problem, file=self.path, line=line, field=field or self.field, fix=fix)

    def read_text(self) -> str:
        """The decoded text of the file."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            raise self.error(
                "file not found", "check the path (relative to the current folder)"
            ) from None
        except IsADirectoryError:
            raise self.error(
                "is a folder, expected a data file", "name a CSV/TSV/JSONL file"
            ) from None
        except PermissionError:
            raise self.error("permission denied", "make the file readable (chmod +r)") from None
        except OSError as exc:
            raise self.error(f"cannot read: {exc.strerror}", "check the path") from None
        if not data.strip():
            raise self.error("the file is empty", "give a file with a header row and data rows")
        encoding = self.args.encoding
        if encoding.lower().replace("_", "-") in {"utf-8", "utf8"} and data.startswith(
            b"\xef\xbb\xbf"
        ):
            encoding = "utf-8-sig"
        try:
            return data.decode(encoding)
        except LookupError:
            raise self.error(
                f"unknown encoding {self.args.encoding!r}",
                "use e.g. encoding=utf-8, latin-1 or cp1252",
                field="task_args.encoding",
            ) from None
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise self.error(
                f"not valid {self.args.encoding} (byte 0x{data[exc.start]:02x} at offset "
                f"{exc.start})",
                "pass the file's encoding, e.g. --task-args ...,encoding=latin-1 "
                "(or `encoding: latin-1` under task_args)",
                line=line,
            ) from None

    def format(self) -> str:
        """``jsonl`` or the CSV delimiter."""
        if self.args.delimiter is not None:
            return self.args.delimiter
        found = SUFFIX_FORMATS.get(self.path.suffix.lower())
        if found is None:
            raise self.error(
                f"cannot tell the format from the suffix {self.path.suffix or '(none)'!r}",
                "use .csv, .tsv or .jsonl, or pass delimiter=, (or delimiter=tab)",
            )
        return found

    def rows(self) -> tuple[list[str], Iterator[Row]]:
        """The column names and an iterator over the data rows."""
        text = self.read_text()
        fmt = self.format()
        if fmt == "jsonl":
            return [], self._jsonl_rows(text)
        return self._csv_rows(text, fmt)

    def _jsonl_rows(self, text: str) -> Iterator[Row]:
        for number, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise self.error(
                    f"not valid JSON: {exc.msg} (column {exc.colno})",
                    "write one JSON object per line",
                    line=number,
                ) from None
            except RecursionError:
                raise self.error(
                    "the JSON is nested too deeply", "write flat objects", line=number
                ) from None
            if not isinstance(value, dict):
                raise self.error(
                    f"expected a JSON object, got {type(value).__name__}",
                    'write one object per line, e.g. {"text": "...", "label": "..."}',
                    line=number,
                )
            yield Row(number, value)

    def _csv_rows(self, text: str, delimiter: str) -> tuple[list[str], Iterator[Row]]:
        csv.field_size_limit(MAX_FIELD_CHARS)
        reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter, strict=False)
        try:
            header = next(reader)
        except StopIteration:
            raise self.error("the file is empty", "give a header row and data rows") from None
        except csv.Error as exc:
            raise self.error(
                f"cannot parse the header: {exc}", "check the quoting", line=1
            ) from None
        header = [name.strip() for name in header]
        duplicates = sorted({name for name in header if header.count(name) > 1 and name})
        if duplicates:
            raise self.error(
                f"column {duplicates[0]!r} appears twice in the header",
                "give every column a unique name",
                line=1,
            )

        def generate() -> Iterator[Row]:
            while True:
                try:
                    record = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise self.error(
                        f"cannot parse the row: {exc}",
                        "check the quoting and the delimiter",
                        line=reader.line_num,
                    ) from None
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue
                if len(record) != len(header):
                    raise self.error(
                        f"the row has {len(record)} fields but the header has {len(header)}",
                        "quote fields that contain the delimiter, or pass the right delimiter",
                        line=reader.line_num,
                    )
                yield Row(reader.line_num, dict(zip(header, record, strict=True)))

        return header, generate()

    def missing_column(self, column: str, available: list[str], key: str) -> UserError:
        """The error for a column that is not in the file."""
        close = difflib.get_close_matches(column, available, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        return self.error(
            f"no column {column!r}",
            f"{hint}columns: {', '.join(available) or '(none)'}; or pass {key}=NAME",
            field=f"task_args.{key}",
        )


@dataclass
class RawSplit:
    """A split before labels are turned into indices."""

    ids: list[str]
    texts: list[str]
    labels: list[str]
    lines: list[int]
    source: DataFile
    dropped: int = 0


def read_split(split: str, path_text: str, args: FilesArgs) -> RawSplit:
    """Read one split file, checking columns, texts, labels and ids."""
    source = DataFile(split, path_text, args)
    header, rows = source.rows()
    needed = [("text_column", args.text_column), ("label_column", args.label_column)]
    if args.id_column:
        needed.append(("id_column", args.id_column))
    if header:
        for key, column in needed:
            if column not in header:
                raise source.missing_column(column, header, key)
    out = RawSplit([], [], [], [], source)
    seen_ids: dict[str, int] = {}
    for number, row in enumerate(rows):
        for key, column in needed:
            if column not in row.values:
                raise source.missing_column(column, sorted(map(str, row.values)), key)
        text = row.values[args.text_column]
        if _is_missing(text):
            if args.empty_texts == "drop":
                out.dropped += 1
                continue
            raise source.error(
                "empty or missing text",
                "fill it in, remove the row, or pass empty_texts=drop to drop such rows",
                line=row.line,
                field=f"task_args.text_column ({args.text_column})",
            )
        if not isinstance(text, str):
            raise source.error(
                f"the text must be a string, got {type(text).__name__}",
                "quote the text in the JSON",
                line=row.line,
                field=f"task_args.text_column ({args.text_column})",
            )
        if not _encodable(text):
            raise source.error(
                "the text holds an invalid unicode escape (a lone surrogate such as \\ud800)",
                "fix the escape or remove the row",
                line=row.line,
                field=f"task_args.text_column ({args.text_column})",
            )
        label = row.values[args.label_column]
        if _is_missing(label):
            raise source.error(
                "empty or missing label",
                "give every row a label, or remove the row",
                line=row.line,
                field=f"task_args.label_column ({args.label_column})",
            )
        if not _is_scalar(label):
            raise source.error(
                f"the label must be a string, number or true/false, got {label!r:.40}",
                "write one label per row",
                line=row.line,
                field=f"task_args.label_column ({args.label_column})",
            )
        raw_label = _label_text(label)
        if args.id_column:
            raw_id = row.values[args.id_column]
            if _is_missing(raw_id):
                raise source.error(
                    "empty or missing id",
                    "give every row an id, or drop id_column",
                    line=row.line,
                    field=f"task_args.id_column ({args.id_column})",
                )
            if not _is_scalar(raw_id):
                raise source.error(
                    f"the id must be a string or a number, got {raw_id!r:.40}",
                    "write one id per row",
                    line=row.line,
                    field=f"task_args.id_column ({args.id_column})",
                )
            case_id = _label_text(raw_id)
            if case_id in seen_ids:
                raise source.error(
                    f"duplicate id {case_id!r} (also on line {seen_ids[case_id]})",
                    "make ids unique, or drop id_column to number the rows",
                    line=row.line,
                    field=f"task_args.id_column ({args.id_column})",
                )
            seen_ids[case_id] = row.line
        else:
            case_id = f"{split}-{number}"
        out.ids.append(case_id)
        out.texts.append(text)
        out.labels.append(args.label_map.get(raw_label, raw_label))
        out.lines.append(row.line)
    if not out.ids:
        why = f" ({out.dropped} rows with empty texts dropped)" if out.dropped else ""
        raise source.error(
            f"the file has no data rows{why}", "give the split at least one labelled example"
        )
    if out.dropped:
        log.warning("%s: dropped %d rows with empty texts", source.path, out.dropped)
    return out


def _to_split(raw: RawSplit, label_names: list[str], fix_hint: str) -> Split:
    index = {name: i for i, name in enumerate(label_names)}
    labels = np.zeros(len(raw.labels), dtype=np.int64)
    for i, (label, line) in enumerate(zip(raw.labels, raw.lines, strict=True)):
        if label not in index:
            close = difflib.get_close_matches(label, label_names, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise raw.source.error(
                f"label {label!r} is not in the label set ({', '.join(label_names)})",
                f"{hint}{fix_hint}",
                line=line,
                field=f"task_args.label_column ({raw.source.args.label_column})",
            )
        labels[i] = index[label]
    return Split(ids=raw.ids, texts=raw.texts, labels=labels)


def load_files(**kwargs: Any) -> Task:
    """Read the ``train``, ``test`` and optional ``pool`` files into a :class:`Task`."""
    args = FilesArgs.model_validate(kwargs)
    raws = {
        "train": read_split("train", args.train, args),
        "test": read_split("test", args.test, args),
    }
    if args.pool is not None:
        raws["pool"] = read_split("pool", args.pool, args)
    if args.labels is not None:
        label_names = list(args.labels)
        if len(set(label_names)) != len(label_names) or len(label_names) < 2:
            raise UserError(
                "labels must name at least two distinct labels",
                field="task_args.labels",
                fix="e.g. labels=non-toxic|toxic",
            )
        fix_hint = "add it to labels, map it with label_map, or fix the row"
    else:
        seen = set(raws["train"].labels)
        numeric = all(label.lstrip("-").isdigit() for label in seen)
        label_names = sorted(seen, key=lambda x: (int(x), x) if numeric else (0, x))
        fix_hint = "the label set is the labels seen in train; pass labels=a|b|... or label_map"
    if args.id_column:
        owner: dict[str, tuple[str, int]] = {}
        for split_name, raw in raws.items():
            for case_id, line in zip(raw.ids, raw.lines, strict=True):
                if case_id in owner and owner[case_id][0] != split_name:
                    other, other_line = owner[case_id]
                    raise raw.source.error(
                        f"id {case_id!r} is also in {other} (line {other_line})",
                        "splits must not share examples; remove the overlap",
                        line=line,
                        field=f"task_args.id_column ({args.id_column})",
                    )
                owner.setdefault(case_id, (split_name, line))
    train = _to_split(raws["train"], label_names, fix_hint)
    present = sorted({label_names[i] for i in train.labels.tolist()})
    if len(present) < 2:
        raise raws["train"].source.error(
            f"the train split holds a single class ({present[0]!r})",
            "training needs examples of at least two labels",
        )
    splits = {"train": train}
    splits.update(
        {
            name: _to_split(raw, label_names, fix_hint)
            for name, raw in raws.items()
            if name != "train"
        }
    )
    pool = splits.get("pool") or Split(ids=[], texts=[], labels=np.zeros(0, dtype=np.int64))
    name = args.name or "files"
    return Task(
        name=name,
        label_names=label_names,
        train=train,
        test=splits["test"],
        pool=pool,
        description=f"user data from {args.train}",
        metadata={
            "files": {k: str(v.source.path) for k, v in raws.items()},
            "dropped_empty_texts": {k: v.dropped for k, v in raws.items()},
        },
    )


@harness.hookimpl
def register_tasks(register: Any) -> None:
    """Register the ``files`` task."""
    register(
        TaskDefinition(
            name="files",
            load=load_files,
            args=FilesArgs,
            description="your own CSV/TSV/JSONL files: train, test and an optional pool "
            "(task_args: train, test, pool, text_column, label_column, id_column, labels, "
            "label_map, encoding)",
        )
    )
