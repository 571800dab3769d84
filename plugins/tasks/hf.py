"""``hf``: a task from a Hugging Face dataset: a Hub id, a folder written by ``save_to_disk``, or
local data files through a builder (``path=csv,data_files=train:train.csv|test:test.csv``).

::

    harness run --task hf --task-args path=stanfordnlp/imdb,pool_from=train:0.3
    harness run --task hf --task-args path=./my_dataset,test_split=validation,labels=neg|pos

Splits: ``train_split`` (default ``train``), ``test_split`` (``test``) and an optional pool:
``pool_split``, a list of named ``pool`` sources (splits of this dataset or of other datasets,
each with its own columns, like the ``files`` task's), or rows carved from another split by
``pool_from=train:0.3`` (a fraction, or a row count such as ``train:5000``). ``test_from``
carves the test split the same way when the dataset has none. Carving is seeded
(``split_seed``) and disjoint: the rows carved out leave their split.

Columns: ``text_column`` and ``label_column`` (``id_column`` optional: ids are otherwise
``<split>-<row>``). Label names come from a ``ClassLabel`` feature when the label column has one
(``labels=`` must then name the same classes; ``label_map`` renames them), else from
``labels=`` / ``label_map=`` / the labels seen in train. ``revision`` pins a Hub revision;
datasets that need a loading script are refused unless ``trust_remote_code=true``.

Hub datasets are downloaded to the usual Hugging Face cache; saved folders and local files are
memory-mapped, and the pool stays an Arrow column, so pools of millions of rows are never
Python lists. The cache keys of everything trained or selected hash the rows' content, so a
changed dataset is never served from the cache. Every problem is a one-line error naming the
dataset, the split or column, and the fix.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

import harness
from harness.api import LocalPath, LocalPathOrName, Register, StrictModel, Task, TaskDefinition
from harness.errors import UserError
from harness.tabular import DatasetRequest, OpenedDataset, Table, open_dataset
from harness_plugins.tasks.labelled import (
    ColumnOptions,
    RawSplit,
    build_task,
    check_source_names,
    read_labelled,
    split_list,
    split_mapping,
)

CARVE = re.compile(r"^\s*([^:]+?)\s*:\s*([0-9.eE+-]+)\s*$")


def parse_data_files(value: Any) -> Any:
    """``a.csv`` -> ``"a.csv"``; ``a.csv|b.csv`` -> a list; ``train:a.csv|test:b.csv`` -> a
    mapping (the command-line forms); lists and mappings pass through."""
    if not isinstance(value, str):
        return value
    parts = [part.strip() for part in value.split("|") if part.strip()]
    if all(":" in part and not re.match(r"^[A-Za-z]:[\\/]", part) for part in parts):
        return {split.strip(): file.strip() for split, _, file in (p.partition(":") for p in parts)}
    return parts[0] if len(parts) == 1 else parts


@dataclass(frozen=True)
class Carve:
    """Rows carved from ``split``: a ``fraction`` of them, or ``count`` rows."""

    split: str
    fraction: float | None = None
    count: int | None = None

    def size(self, n: int) -> int:
        """How many of ``n`` rows are carved."""
        if self.count is not None:
            return min(self.count, n)
        assert self.fraction is not None
        return int(np.floor(self.fraction * n + 0.5))


def parse_carve(value: Any) -> Any:
    """``"train:0.3"`` (a fraction in (0, 1)) or ``"train:5000"`` (a row count) ->
    :class:`Carve`."""
    if value is None or isinstance(value, Carve):
        return value
    match = CARVE.match(str(value))
    if not match:
        raise ValueError("write SPLIT:FRACTION (e.g. train:0.3) or SPLIT:ROWS (e.g. train:5000)")
    split, amount = match.group(1), match.group(2)
    number = float(amount)
    if 0 < number < 1:
        return Carve(split=split, fraction=number)
    if number >= 1 and number.is_integer():
        return Carve(split=split, count=int(number))
    raise ValueError("the amount must be a fraction between 0 and 1 or a whole number of rows")


class HfPoolSource(StrictModel):
    """One named pool source: a split of the task's dataset, or of another dataset (``path``),
    with its own column mapping; options left out take the task's values."""

    name: str = Field(min_length=1, max_length=64, description="source name, e.g. general")
    split: str | None = Field(default=None, description="split to read (default: train)")
    path: LocalPathOrName | None = Field(
        default=None, description="another dataset (Hub id, save_to_disk folder, or builder)"
    )
    config: str | None = Field(default=None, description="that dataset's configuration name")
    revision: str | None = None
    data_files: dict[str, LocalPath] | list[LocalPath] | LocalPath | None = None
    text_column: str | None = Field(default=None, min_length=1)
    label_column: str | None = Field(default=None, min_length=1)
    id_column: str | Literal[False] | None = None
    label_map: dict[str, str] | None = None
    empty_texts: Literal["error", "drop"] | None = None

    _map_from_string = field_validator("label_map", mode="before")(lambda v: split_mapping(v))
    _files = field_validator("data_files", mode="before")(lambda v: parse_data_files(v))


class HfTaskArgs(StrictModel):
    """Arguments of the ``hf`` task (``task_args`` in a config, or ``--task-args k=v,...``)."""

    path: LocalPathOrName = Field(
        min_length=1,
        description="Hub id (user/name), a folder written by save_to_disk, or a builder "
        "(csv, json, parquet, arrow) reading data_files",
    )
    name: str | None = Field(default=None, description="dataset configuration (Hub datasets)")
    revision: str | None = Field(default=None, description="Hub revision: branch, tag or commit")
    data_files: dict[str, LocalPath] | list[LocalPath] | LocalPath | None = Field(
        default=None,
        description="local files for path=csv|json|parquet|arrow: FILE, or "
        "train:train.csv|test:test.csv",
    )
    trust_remote_code: bool = Field(
        default=False, description="allow datasets that run a loading script (off: refused)"
    )
    train_split: str = "train"
    test_split: str = "test"
    pool_split: str | None = Field(default=None, description="split used as the pool")
    test_from: Carve | None = Field(
        default=None, description="carve the test split from another: SPLIT:FRACTION or SPLIT:ROWS"
    )
    pool_from: Carve | None = Field(
        default=None, description="carve the pool from another split, e.g. train:0.3"
    )
    split_seed: int = Field(default=0, description="seed of the carving")
    pool: list[HfPoolSource] | None = Field(
        default=None, description="named pool sources [{name, split, path, text_column, ...}]"
    )
    text_column: str = Field(default="text", min_length=1)
    label_column: str = Field(default="label", min_length=1)
    id_column: str | None = Field(default=None, description="default: ids are <split>-<row>")
    labels: list[str] | None = Field(
        default=None, description="label names in index order (default: the ClassLabel's)"
    )
    label_map: dict[str, str] = Field(
        default_factory=dict, description="raw value or class name -> label name"
    )
    empty_texts: Literal["error", "drop"] = "error"
    task_name: str | None = Field(default=None, description="task name shown in reports")

    _labels = field_validator("labels", mode="before")(lambda v: split_list(v))
    _map = field_validator("label_map", mode="before")(lambda v: split_mapping(v))
    _files = field_validator("data_files", mode="before")(lambda v: parse_data_files(v))
    _carves = field_validator("test_from", "pool_from", mode="before")(lambda v: parse_carve(v))

    @model_validator(mode="after")
    def _one_pool(self) -> HfTaskArgs:
        given = [n for n in ("pool_split", "pool_from", "pool") if getattr(self, n) is not None]
        if len(given) > 1:
            raise ValueError(
                f"give one of pool_split, pool_from and pool, not {' and '.join(given)}"
            )
        return self


def _columns(args: HfTaskArgs) -> ColumnOptions:
    return ColumnOptions(
        text_column=args.text_column,
        label_column=args.label_column,
        id_column=args.id_column,
        label_map=dict(args.label_map),
        empty_texts=args.empty_texts,
    )


def _source_columns(args: HfTaskArgs, source: HfPoolSource, index: int) -> ColumnOptions:
    id_column = source.id_column if source.id_column is not None else args.id_column
    return ColumnOptions(
        text_column=source.text_column or args.text_column,
        label_column=source.label_column or args.label_column,
        id_column=None if id_column is False else id_column,
        label_map=dict(source.label_map if source.label_map is not None else args.label_map),
        empty_texts=source.empty_texts or args.empty_texts,
        where=f"task_args.pool[{index}]",
        source=source.name,
    )


def _seeded_order(n: int, seed: int, split: str) -> np.ndarray:
    digest = hashlib.sha256(f"{seed}|{split}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big")).permutation(n)


def subset_raw(raw: RawSplit, positions: np.ndarray) -> RawSplit:
    """The kept rows of ``raw`` at ``positions`` (in the given order), labels recoded."""
    codes = raw.codes[positions]
    present = np.unique(codes)
    first = [int(np.flatnonzero(codes == c)[0]) for c in present]
    order = present[np.argsort(first)]
    recode = np.zeros(len(raw.values), dtype=np.int64)
    recode[order] = np.arange(len(order))
    return RawSplit(
        table=raw.table,
        options=raw.options,
        rows=raw.rows[positions],
        ids=raw.ids.take(positions),
        texts=raw.texts.take(positions),
        codes=recode[codes],
        values=[raw.values[int(c)] for c in order],
        dropped=raw.dropped,
    )


def carve(
    raw: RawSplit, carves: list[tuple[str, Carve]], seed: int, split: str
) -> dict[str, RawSplit]:
    """Split ``raw`` into the carved parts (disjoint, seeded) and what is left (key ``""``).
    Each part keeps the rows in their original order."""
    n = len(raw)
    order = _seeded_order(n, seed, split)
    out: dict[str, RawSplit] = {}
    start = 0
    for role, spec in carves:
        size = spec.size(n)
        if start + size >= n:
            raise UserError(
                f"carving {size} rows for the {role} split leaves split {split!r} "
                f"({n} rows) with none",
                field=f"task_args.{role}_from",
                fix="carve a smaller share",
            )
        out[role] = subset_raw(raw, np.sort(order[start : start + size]))
        start += size
    out[""] = subset_raw(raw, np.sort(order[start:]))
    return out


def _class_label_names(table: Table, column: str, label_map: Mapping[str, str]) -> list[str] | None:
    names = table.class_names(column)
    if names is None:
        return None
    return list(dict.fromkeys(label_map.get(name, name) for name in names))


def _check_labelled(
    table: Table, options: ColumnOptions, opened: OpenedDataset, split: str
) -> None:
    """A ``ClassLabel`` split whose rows are all -1 has no labels (e.g. a benchmark's test)."""
    import pyarrow.compute as pc

    if (
        options.label_column not in table.column_names
        or table.class_names(options.label_column) is None
    ):
        return
    column = table.column(options.label_column)
    if len(column) and pc.max(column).as_py() is not None and pc.max(column).as_py() < 0:
        raise UserError(
            f"split {split!r} of dataset {opened.ref!r} has no labels (every "
            f"{options.label_column!r} is -1)",
            field=f"{options.key('label_column')} ({options.label_column})",
            fix="use a labelled split, e.g. test_from=train:0.2 to carve a test split from train",
        )


def load_hf(**kwargs: Any) -> Task:
    """Open the dataset and build the task (see module doc)."""
    args = HfTaskArgs.model_validate(kwargs)
    opened = open_dataset(
        DatasetRequest(
            path=args.path,
            name=args.name,
            revision=args.revision,
            data_files=args.data_files,
            trust_remote_code=args.trust_remote_code,
        )
    )
    columns = _columns(args)
    roles: dict[str, tuple[str, str]] = {"train": (args.train_split, "task_args.train_split")}
    carves: dict[str, list[tuple[str, Carve]]] = {}
    if args.test_from is not None:
        carves.setdefault(args.test_from.split, []).append(("test", args.test_from))
    else:
        roles["test"] = (args.test_split, "task_args.test_split")
    if args.pool_from is not None:
        carves.setdefault(args.pool_from.split, []).append(("pool", args.pool_from))
    elif args.pool_split is not None:
        roles["pool"] = (args.pool_split, "task_args.pool_split")
    named = list(roles.items())
    for i, (role, (split, field)) in enumerate(named):
        earlier = [other for other, (name, _) in named[:i] if name == split]
        if earlier:
            raise UserError(
                f"the {role} split is the {earlier[0]} split ({split!r}): they must not share rows",
                field=field,
                fix=f"name another split, or carve one: {role}_from={split}:0.2",
            )
    for role, (split, field) in roles.items():
        carve_hint = "" if role == "train" else f"; or carve it: {role}_from=train:0.2"
        opened.split(split, field, carve_hint)
    for split, requested in carves.items():
        opened.split(split, f"task_args.{requested[0][0]}_from")
    read: dict[str, RawSplit] = {}

    def raw_of(split: str) -> RawSplit:
        if split not in read:
            table = opened.splits[split]
            _check_labelled(table, columns, opened, split)
            read[split] = read_labelled(table, split, columns)
        return read[split]

    parts: dict[str, RawSplit] = {}
    for split, requested in carves.items():
        pieces = carve(raw_of(split), requested, args.split_seed, split)
        parts.update({role: piece for role, piece in pieces.items() if role})
        read[split] = pieces[""]
    raws: dict[str, RawSplit] = {"train": raw_of(args.train_split)}
    raws["test"] = parts["test"] if "test" in parts else raw_of(roles["test"][0])
    if "pool" in parts:
        raws["pool"] = parts["pool"]
    elif "pool" in roles:
        raws["pool"] = raw_of(roles["pool"][0])
    elif args.pool is not None:
        check_source_names(args.pool)
        for index, source in enumerate(args.pool):
            raws[f"pool:{source.name}"] = _read_source(args, opened, source, index)
    labels = _label_names(args, raws["train"], opened)
    return build_task(
        name=args.task_name or f"hf:{args.path}",
        raws=raws,
        labels=labels,
        labels_field="task_args.labels",
        description=f"Hugging Face dataset {opened.ref}",
        metadata={
            "dataset": opened.ref,
            "fingerprint": opened.fingerprint,
            "splits": {role: raw.table.origin for role, raw in raws.items()},
            "dropped_empty_texts": {role: raw.dropped for role, raw in raws.items()},
        },
    )


def _label_names(args: HfTaskArgs, train: RawSplit, opened: OpenedDataset) -> list[str] | None:
    """``labels=``, or the ``ClassLabel``'s names (after ``label_map``), or ``None`` (the
    labels seen in train). ``labels=`` naming other classes than the ``ClassLabel`` is an
    error."""
    names = _class_label_names(train.table, args.label_column, args.label_map)
    if names is None:
        return args.labels
    if args.labels is not None and set(args.labels) != set(names):
        raise UserError(
            f"column {args.label_column!r} of dataset {opened.ref!r} is a ClassLabel with "
            f"classes {', '.join(names)}, but labels= names {', '.join(args.labels)}",
            field="task_args.labels",
            fix="drop labels= (the ClassLabel's names are used), or rename classes with "
            f"label_map={names[0]}:NEW|...",
        )
    return list(args.labels) if args.labels is not None else names


def _read_source(
    args: HfTaskArgs, opened: OpenedDataset, source: HfPoolSource, index: int
) -> RawSplit:
    prefix = f"task_args.pool[{index}]."
    dataset = opened
    if source.path is not None:
        dataset = open_dataset(
            DatasetRequest(
                path=source.path,
                name=source.config,
                revision=source.revision,
                data_files=source.data_files,
                trust_remote_code=args.trust_remote_code,
                prefix=prefix,
                name_option="config",
            )
        )
    elif source.data_files is not None or source.config is not None:
        raise UserError(
            "config and data_files belong to another dataset, named by path",
            field=prefix.rstrip("."),
            fix="add path: (a Hub id, folder or builder), or drop config/data_files",
        )
    split = source.split or ("train" if source.path is not None else None)
    if split is None:
        raise UserError(
            f"pool source {source.name!r} names no split of dataset {opened.ref!r}",
            field=f"{prefix}split",
            fix=f"set split: one of {', '.join(opened.splits)}",
        )
    table = dataset.split(split, f"{prefix}split", "; or carve it: pool_from=train:0.2")
    options = _source_columns(args, source, index)
    return read_labelled(table, split, options, f"{source.name}:")


@harness.hookimpl
def register_tasks(register: Register[TaskDefinition]) -> None:
    """Register the ``hf`` task."""
    register(
        TaskDefinition(
            name="hf",
            load=load_hf,
            args=HfTaskArgs,
            description="a Hugging Face dataset: Hub id, save_to_disk folder or builder with "
            "data_files (task_args: path, name, revision, train_split, test_split, pool_split, "
            "test_from, pool_from, pool, text_column, label_column, labels, label_map)",
        )
    )
