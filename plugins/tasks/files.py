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

The pool is one file (``pool: pool.csv``) or a list of named sources, each with its own column
mapping; an option a source leaves out takes the task's value::

    pool:
      - {name: general, path: unlabelled.csv}
      - {name: policy, path: policy_train.csv, text_column: sentence, label_column: labels,
         label_map: {0: non-toxic, 1: toxic}}

Every pool row keeps its source name (``Split.sources``), and its id is ``<source>:<row>`` (or
``<source>:<id>`` with ``id_column``). A source whose labels, after its ``label_map``, fall
outside the task's label set is an error naming the source; a source that lacks one of the
task's labels gets a warning. Source names must be distinct.

Very long texts are kept as they are: models truncate their input (e.g. ``bow`` ``max_tokens``).
"""

from __future__ import annotations

import csv
import difflib
import json
import logging
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import click
import numpy as np
from pydantic import Field, field_validator

import harness
from harness.api import LocalPath, Split, StrictModel, Task, TaskDefinition
from harness.errors import UserError
from harness.input_files import read_bytes
from harness.limits import DATA_MB

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


def _one_character(value: str | None) -> str | None:
    """``tab`` / ``\\t`` -> a tab; anything else must be one character."""
    if value is None:
        return None
    if value.lower() in {"tab", "\\t"}:
        return "\t"
    if len(value) != 1:
        raise ValueError("the delimiter must be one character (or 'tab')")
    return value


SOURCE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class PoolSource(StrictModel):
    """One file of the pool with its source name and its own column mapping; an option left
    out (``null``) takes the task's value of the same name."""

    name: str = Field(
        min_length=1,
        max_length=64,
        description="source name shown in selections and reports, e.g. general, policy",
    )
    path: LocalPath = Field(description="the source's data file (CSV, TSV or JSONL)")
    text_column: str | None = Field(default=None, min_length=1)
    label_column: str | None = Field(default=None, min_length=1)
    id_column: str | Literal[False] | None = Field(
        default=None, description="false: number the rows even when the task sets id_column"
    )
    label_map: dict[str, str] | None = Field(
        default=None, description="raw value -> label name for this file ({} for none)"
    )
    encoding: str | None = None
    delimiter: str | None = None
    empty_texts: Literal["error", "drop"] | None = None

    _map_from_string = field_validator("label_map", mode="before")(lambda v: _split_mapping(v))
    _delimiter = field_validator("delimiter")(lambda v: _one_character(v))


class FilesArgs(StrictModel):
    """Arguments of the ``files`` task (``task_args`` in a config, or ``--task-args k=v,...``)."""

    train: LocalPath = Field(description="training data file (CSV, TSV or JSONL)")
    test: LocalPath = Field(description="test data file (D_train_heldout)")
    pool: list[PoolSource] | LocalPath | None = Field(
        default=None,
        description="unused labelled pool (D_unused): one file, or a list of named sources "
        "[{name, path, text_column, label_column, id_column, label_map, encoding, ...}]",
    )
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
    _delimiter = field_validator("delimiter")(lambda v: _one_character(v))


@dataclass(frozen=True)
class FileOptions:
    """How to read one file: the task's options, or a pool source's own where it sets them.
    ``where`` is the config location of the file's options (for error messages)."""

    text_column: str
    label_column: str
    id_column: str | None
    label_map: dict[str, str]
    encoding: str
    delimiter: str | None
    empty_texts: str
    where: str = "task_args"
    source: str | None = None

    @classmethod
    def of_task(cls, args: FilesArgs) -> FileOptions:
        """The task-level options (train, test, a single pool file)."""
        return cls(
            text_column=args.text_column,
            label_column=args.label_column,
            id_column=args.id_column,
            label_map=dict(args.label_map),
            encoding=args.encoding,
            delimiter=args.delimiter,
            empty_texts=args.empty_texts,
        )

    @classmethod
    def of_source(cls, args: FilesArgs, source: PoolSource, index: int) -> FileOptions:
        """A pool source's options, each falling back to the task's."""
        return cls(
            text_column=source.text_column or args.text_column,
            label_column=source.label_column or args.label_column,
            id_column=(
                None
                if source.id_column is False
                else (source.id_column if source.id_column is not None else args.id_column)
            ),
            label_map=dict(source.label_map if source.label_map is not None else args.label_map),
            encoding=source.encoding or args.encoding,
            delimiter=source.delimiter if source.delimiter is not None else args.delimiter,
            empty_texts=source.empty_texts or args.empty_texts,
            where=f"task_args.pool[{index}]",
            source=source.name,
        )

    def key(self, name: str) -> str:
        """The config field of option ``name`` for this file."""
        return f"{self.where}.{name}"

    def how_to_set(self, name: str, value: str) -> str:
        """How the user sets option ``name`` for this file."""
        if self.source is None:
            return f"pass {name}={value}"
        return f"set {name}: {value} for pool source {self.source!r}"


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

    def __init__(self, split: str, path_text: str, options: FileOptions) -> None:
        self.split = split
        self.path = Path(path_text).expanduser()
        self.options = options
        self.field = options.key("path") if options.source else f"task_args.{split}"

    def error(
        self, problem: str, fix: str, line: int | None = None, field: str | None = None
    ) -> UserError:
        """A one-line error about this file."""
        return UserError(problem, file=self.path, line=line, field=field or self.field, fix=fix)

    def read_text(self) -> str:
        """The decoded text of the file (a regular file within ``HARNESS_MAX_DATA_MB``)."""
        if not self.path.exists() and not self.path.is_symlink():
            raise self.error(
                "file not found",
                "check the path (relative paths in a config file are from its folder, on the "
                "command line from the current folder)",
            )
        if self.path.is_dir():
            raise self.error("is a folder, expected a data file", "name a CSV/TSV/JSONL file")
        data = read_bytes(self.path, DATA_MB, field=self.field)
        if not data.strip():
            raise self.error("the file is empty", "give a file with a header row and data rows")
        encoding = self.options.encoding
        if encoding.lower().replace("_", "-") in {"utf-8", "utf8"} and data.startswith(
            b"\xef\xbb\xbf"
        ):
            encoding = "utf-8-sig"
        try:
            return data.decode(encoding)
        except LookupError:
            raise self.error(
                f"unknown encoding {self.options.encoding!r}",
                "use e.g. encoding=utf-8, latin-1 or cp1252",
                field=self.options.key("encoding"),
            ) from None
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise self.error(
                f"not valid {self.options.encoding} (byte 0x{data[exc.start]:02x} at offset "
                f"{exc.start})",
                (
                    "pass the file's encoding, e.g. --task-args ...,encoding=latin-1 "
                    "(or `encoding: latin-1` under task_args)"
                    if self.options.source is None
                    else self.options.how_to_set("encoding", "latin-1") + " (the file's encoding)"
                ),
                line=line,
            ) from None

    def format(self) -> str:
        """``jsonl`` or the CSV delimiter."""
        if self.options.delimiter is not None:
            return self.options.delimiter
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
            f"{hint}columns: {', '.join(available) or '(none)'}; or "
            + self.options.how_to_set(key, "NAME"),
            field=self.options.key(key),
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


def read_split(
    split: str, path_text: str, options: FileOptions, id_prefix: str | None = None
) -> RawSplit:
    """Read one split file, checking columns, texts, labels and ids. Row ids are
    ``<split>-<row>``, or the ``id_column`` values; ``id_prefix`` (e.g. ``policy:``) replaces
    ``<split>-`` and is put in front of column ids too."""
    source = DataFile(split, path_text, options)
    header, rows = source.rows()
    needed = [("text_column", options.text_column), ("label_column", options.label_column)]
    if options.id_column:
        needed.append(("id_column", options.id_column))
    if header:
        for key, column in needed:
            if column not in header:
                raise source.missing_column(column, header, key)
    out = RawSplit([], [], [], [], source)
    seen_ids: dict[str, int] = {}
    text_field = f"{options.key('text_column')} ({options.text_column})"
    label_field = f"{options.key('label_column')} ({options.label_column})"
    id_field = f"{options.key('id_column')} ({options.id_column})"
    for number, row in enumerate(rows):
        for key, column in needed:
            if column not in row.values:
                raise source.missing_column(column, sorted(map(str, row.values)), key)
        text = row.values[options.text_column]
        if _is_missing(text):
            if options.empty_texts == "drop":
                out.dropped += 1
                continue
            raise source.error(
                "empty or missing text",
                "fill it in, remove the row, or "
                + options.how_to_set("empty_texts", "drop")
                + " to drop such rows",
                line=row.line,
                field=text_field,
            )
        if not isinstance(text, str):
            raise source.error(
                f"the text must be a string, got {type(text).__name__}",
                "quote the text in the JSON",
                line=row.line,
                field=text_field,
            )
        if not _encodable(text):
            raise source.error(
                "the text holds an invalid unicode escape (a lone surrogate such as \\ud800)",
                "fix the escape or remove the row",
                line=row.line,
                field=text_field,
            )
        label = row.values[options.label_column]
        if _is_missing(label):
            raise source.error(
                "empty or missing label",
                "give every row a label, or remove the row",
                line=row.line,
                field=label_field,
            )
        if not _is_scalar(label):
            raise source.error(
                f"the label must be a string, number or true/false, got {label!r:.40}",
                "write one label per row",
                line=row.line,
                field=label_field,
            )
        raw_label = _label_text(label)
        if options.id_column:
            raw_id = row.values[options.id_column]
            if _is_missing(raw_id):
                raise source.error(
                    "empty or missing id",
                    "give every row an id, or drop id_column",
                    line=row.line,
                    field=id_field,
                )
            if not _is_scalar(raw_id):
                raise source.error(
                    f"the id must be a string or a number, got {raw_id!r:.40}",
                    "write one id per row",
                    line=row.line,
                    field=id_field,
                )
            case_id = _label_text(raw_id)
            if case_id in seen_ids:
                raise source.error(
                    f"duplicate id {case_id!r} (also on line {seen_ids[case_id]})",
                    "make ids unique, or drop id_column to number the rows",
                    line=row.line,
                    field=id_field,
                )
            seen_ids[case_id] = row.line
            case_id = f"{id_prefix or ''}{case_id}"
        else:
            case_id = f"{id_prefix}{number}" if id_prefix else f"{split}-{number}"
        out.ids.append(case_id)
        out.texts.append(text)
        out.labels.append(options.label_map.get(raw_label, raw_label))
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
    options = raw.source.options
    for i, (label, line) in enumerate(zip(raw.labels, raw.lines, strict=True)):
        if label not in index:
            close = difflib.get_close_matches(label, label_names, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise raw.source.error(
                f"label {label!r} is not in the label set ({', '.join(label_names)})",
                f"{hint}{fix_hint}",
                line=line,
                field=f"{options.key('label_column')} ({options.label_column})",
            )
        labels[i] = index[label]
    sources = None if options.source is None else [options.source] * len(raw.ids)
    return Split(ids=raw.ids, texts=raw.texts, labels=labels, sources=sources)


def check_source_labels(raw: RawSplit, label_names: list[str]) -> None:
    """A named pool source must hold the task's labels (after its ``label_map``): labels
    outside the set are an error naming the source and the fix; a label the source lacks is a
    warning (a policy file may hold one class only)."""
    options = raw.source.options
    seen = list(dict.fromkeys(raw.labels))
    outside = [label for label in seen if label not in label_names]
    if outside:
        line = raw.lines[raw.labels.index(outside[0])]
        mapped = [label for label in outside if label in options.label_map.values()]
        if mapped:
            fix = (
                f"label_map for pool source {options.source!r} must map to the task's labels "
                f"({', '.join(label_names)}), not {mapped[0]!r}"
            )
        else:
            example = (
                "{"
                + ", ".join(f"{a}: {b}" for a, b in zip(outside, label_names, strict=True))
                + "}"
                if len(outside) == len(label_names)
                else "{" + f"{outside[0]}: {label_names[0]}" + "}"
            )
            fix = f"{options.how_to_set('label_map', example)}, or fix the rows"
        raise raw.source.error(
            f"pool source {options.source!r} has label(s) {', '.join(map(repr, outside))}, "
            f"not in the task's label set ({', '.join(label_names)})",
            fix,
            line=line,
            field=options.key("label_map") if options.label_map else label_field(options),
        )
    missing = [label for label in label_names if label not in seen]
    if missing:
        click.echo(
            f"warning: {raw.source.path}: pool source {options.source!r} holds no "
            f"{', '.join(map(repr, missing))} examples",
            err=True,
        )


def label_field(options: FileOptions) -> str:
    """The label column's config field, with the column name."""
    return f"{options.key('label_column')} ({options.label_column})"


def check_source_names(sources: list[PoolSource]) -> None:
    """Source names are distinct words (letters, digits, ``.``, ``_``, ``-``)."""
    if not sources:
        raise UserError(
            "the list of pool sources is empty",
            field="task_args.pool",
            fix="list at least one {name: ..., path: ...} source, or leave pool out",
        )
    seen: dict[str, int] = {}
    for index, source in enumerate(sources):
        field = f"task_args.pool[{index}].name"
        if not re.match(SOURCE_NAME, source.name):
            raise UserError(
                f"pool source name {source.name!r} is not a plain word",
                field=field,
                fix="use letters, digits, '.', '_' or '-', e.g. general, policy",
            )
        if source.name in seen:
            raise UserError(
                f"duplicate pool source name {source.name!r} (also task_args.pool"
                f"[{seen[source.name]}])",
                field=field,
                fix="give every pool source its own name",
            )
        seen[source.name] = index


def read_pool(args: FilesArgs) -> dict[str, RawSplit]:
    """The pool file, or every named pool source (keyed ``pool:<name>``)."""
    if args.pool is None:
        return {}
    if isinstance(args.pool, str):
        return {"pool": read_split("pool", args.pool, FileOptions.of_task(args))}
    check_source_names(args.pool)
    return {
        f"pool:{source.name}": read_split(
            "pool", source.path, FileOptions.of_source(args, source, i), f"{source.name}:"
        )
        for i, source in enumerate(args.pool)
    }


def load_files(**kwargs: Any) -> Task:
    """Read the ``train``, ``test`` and optional ``pool`` files into a :class:`Task`."""
    args = FilesArgs.model_validate(kwargs)
    task_options = FileOptions.of_task(args)
    raws = {
        "train": read_split("train", args.train, task_options),
        "test": read_split("test", args.test, task_options),
    }
    raws.update(read_pool(args))
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
    owner: dict[str, tuple[str, int]] = {}
    for split_name, raw in raws.items():
        if not raw.source.options.id_column:
            continue
        for case_id, line in zip(raw.ids, raw.lines, strict=True):
            if case_id in owner and owner[case_id][0] != split_name:
                other, other_line = owner[case_id]
                raise raw.source.error(
                    f"id {case_id!r} is also in {other} (line {other_line})",
                    "splits must not share examples; remove the overlap",
                    line=line,
                    field=f"{raw.source.options.key('id_column')} ({raw.source.options.id_column})",
                )
            owner.setdefault(case_id, (split_name, line))
    train = _to_split(raws["train"], label_names, fix_hint)
    present = sorted({label_names[i] for i in train.labels.tolist()})
    if len(present) < 2:
        raise raws["train"].source.error(
            f"the train split holds a single class ({present[0]!r})",
            "training needs examples of at least two labels",
        )
    for name, raw in raws.items():
        if name.startswith("pool:"):
            check_source_labels(raw, label_names)
    splits = {
        name: _to_split(raw, label_names, fix_hint) for name, raw in raws.items() if name != "train"
    }
    pools = [split for name, split in splits.items() if name == "pool" or name.startswith("pool:")]
    pool = Split(ids=[], texts=[], labels=np.zeros(0, dtype=np.int64))
    for part in pools:
        pool = part if not len(pool) else pool.concat(part)
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
            description="your own CSV/TSV/JSONL files: train, test and an optional pool, one "
            "file or a list of named sources (task_args: train, test, pool, text_column, "
            "label_column, id_column, labels, label_map, encoding)",
        )
    )
