"""``files``: a task read from the user's own data files: CSV, TSV, JSON Lines, Parquet or Arrow.

Each split is one file; the format follows the suffix (``.csv``, ``.tsv``/``.tab``,
``.jsonl``/``.ndjson``, ``.parquet``, ``.arrow``/``.feather``) unless ``delimiter`` is given
(then the file is CSV with that delimiter). Files are read by :mod:`harness.tabular` through
``datasets``' builders; the pool stays an Arrow column (memory-mapped), so pools of millions of
rows are never Python lists. Every problem in the data is a one-line error naming the file, the
line (the row number for Parquet and Arrow) and the fix:

- a file that is missing, a folder, unreadable, not a regular file, empty, or has no data rows;
- bytes that are not valid in ``encoding`` (default utf-8; tweet corpora are often latin-1 or
  cp1252: pass ``encoding=latin-1``). A UTF-8 byte-order mark is accepted;
- a CSV row with more or fewer fields than the header, a repeated header name, invalid JSON;
- a missing text / label / id column (close names are suggested);
- a text that is not a string (e.g. a nested Parquet column) and labels that are not classes
  (lists, fractional numbers);
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
      - {name: general, path: unlabelled.parquet}
      - {name: policy, path: policy_train.csv, text_column: sentence, label_column: labels,
         label_map: {0: non-toxic, 1: toxic}}

Every pool row keeps its source name (``Split.sources``), and its id is ``<source>:<row>`` (or
``<source>:<id>`` with ``id_column``). A source whose labels, after its ``label_map``, fall
outside the task's label set is an error naming the source; a source that lacks one of the
task's labels gets a warning. Source names must be distinct.

Very long texts are kept as they are: models truncate their input (e.g. ``bow`` ``max_tokens``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, field_validator

import harness
from harness.api import LocalPath, Register, StrictModel, Task, TaskDefinition
from harness.tabular import TableHints, read_table
from harness_plugins.tasks.labelled import (
    ColumnOptions,
    RawSplit,
    build_task,
    check_source_names,
    read_labelled,
    split_list,
    split_mapping,
)


def _one_character(value: str | None) -> str | None:
    """``tab`` / ``\\t`` -> a tab; anything else must be one character."""
    if value is None:
        return None
    if value.lower() in {"tab", "\\t"}:
        return "\t"
    if len(value) != 1:
        raise ValueError("the delimiter must be one character (or 'tab')")
    return value


class PoolSource(StrictModel):
    """One file of the pool with its source name and its own column mapping; an option left
    out (``null``) takes the task's value of the same name."""

    name: str = Field(
        min_length=1,
        max_length=64,
        description="source name shown in selections and reports, e.g. general, policy",
    )
    path: LocalPath = Field(description="the source's data file (CSV, TSV, JSONL, Parquet, Arrow)")
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

    _map_from_string = field_validator("label_map", mode="before")(lambda v: split_mapping(v))
    _delimiter = field_validator("delimiter")(lambda v: _one_character(v))


class FilesArgs(StrictModel):
    """Arguments of the ``files`` task (``task_args`` in a config, or ``--task-args k=v,...``)."""

    train: LocalPath = Field(description="training data file (CSV, TSV, JSONL, Parquet or Arrow)")
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

    _labels_from_string = field_validator("labels", mode="before")(lambda v: split_list(v))
    _map_from_string = field_validator("label_map", mode="before")(lambda v: split_mapping(v))
    _delimiter = field_validator("delimiter")(lambda v: _one_character(v))


@dataclass(frozen=True)
class FileOptions:
    """How to read one file: its encoding and delimiter, and its columns (the task's options,
    or a pool source's own where it sets them)."""

    columns: ColumnOptions
    encoding: str
    delimiter: str | None

    @classmethod
    def of_task(cls, args: FilesArgs) -> FileOptions:
        """The task-level options (train, test, a single pool file)."""
        columns = ColumnOptions(
            text_column=args.text_column,
            label_column=args.label_column,
            id_column=args.id_column,
            label_map=dict(args.label_map),
            empty_texts=args.empty_texts,
        )
        return cls(columns, args.encoding, args.delimiter)

    @classmethod
    def of_source(cls, args: FilesArgs, source: PoolSource, index: int) -> FileOptions:
        """A pool source's options, each falling back to the task's."""
        id_column = source.id_column if source.id_column is not None else args.id_column
        columns = ColumnOptions(
            text_column=source.text_column or args.text_column,
            label_column=source.label_column or args.label_column,
            id_column=None if id_column is False else id_column,
            label_map=dict(source.label_map if source.label_map is not None else args.label_map),
            empty_texts=source.empty_texts or args.empty_texts,
            where=f"task_args.pool[{index}]",
            source=source.name,
        )
        delimiter = source.delimiter if source.delimiter is not None else args.delimiter
        return cls(columns, source.encoding or args.encoding, delimiter)

    def hints(self, field: str) -> TableHints:
        """How errors about the file name its settings (``field`` names the file)."""
        columns = self.columns

        def set_option(name: str, value: str) -> str:
            if name != "encoding":
                return columns.how_to_set(name, value)
            if columns.source is None:
                return (
                    f"pass the file's encoding, e.g. --task-args ...,{name}={value} "
                    f"(or `{name}: {value}` under task_args)"
                )
            return columns.how_to_set(name, value) + " (the file's encoding)"

        return TableHints(field=field, option_prefix=f"{columns.where}.", set_option=set_option)


def read_split(
    split: str, path: str, options: FileOptions, id_prefix: str | None = None
) -> RawSplit:
    """Read and check one split file."""
    field = options.columns.key("path") if options.columns.source else f"task_args.{split}"
    table = read_table(
        path, options.hints(field), encoding=options.encoding, delimiter=options.delimiter
    )
    return read_labelled(table, split, options.columns, id_prefix)


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
    return build_task(
        name=args.name or "files",
        raws=raws,
        labels=args.labels,
        labels_field="task_args.labels",
        description=f"user data from {args.train}",
        metadata={
            "files": {k: str(v.table.origin) for k, v in raws.items()},
            "dropped_empty_texts": {k: v.dropped for k, v in raws.items()},
        },
    )


@harness.hookimpl
def register_tasks(register: Register[TaskDefinition]) -> None:
    """Register the ``files`` task."""
    register(
        TaskDefinition(
            name="files",
            load=load_files,
            args=FilesArgs,
            description="your own CSV/TSV/JSONL/Parquet/Arrow files: train, test and an "
            "optional pool, one file or a list of named sources (task_args: train, test, pool, "
            "text_column, label_column, id_column, labels, label_map, encoding)",
        )
    )
