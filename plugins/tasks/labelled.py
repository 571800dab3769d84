"""Labelled splits from tables: the column checks, label sets and pool sources shared by the
``files`` and ``hf`` tasks.

A :class:`harness.tabular.Table` becomes a :class:`RawSplit` (texts, ids and raw labels checked
row by row in Arrow, the first problem reported with its line), then a
:class:`harness.api.Split` once the task's label set is known. Pools stay Arrow columns
(:class:`harness.text_column.TextColumn`); train and test become lists.

Checks (each a one-line error naming the file, the line, the option and the fix): a missing text
/ label / id column (close names suggested); an empty or missing text (or ``empty_texts=drop``);
a text that is not a string (a nested Parquet column, a JSON number); an empty or non-scalar
label; a label column of fractional floats; an empty, non-scalar or duplicate id; ids shared by
two splits; labels outside the label set; a train split with one class; pool sources whose
labels fall outside the task's.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import click
import numpy as np

from harness.api import Split, Task
from harness.errors import UserError
from harness.tabular import Table
from harness.tabular.values import first_true, scalar_cells, text_cells
from harness.text_column import TextColumn

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)

SOURCE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


def split_list(value: Any) -> Any:
    """``"a|b|c"`` (the only way to write a list in ``--task-args``) -> ``["a", "b", "c"]``."""
    if isinstance(value, str):
        return [part.strip() for part in value.split("|") if part.strip()]
    return value


def split_mapping(value: Any) -> Any:
    """``"0:neg|1:pos"`` -> ``{"0": "neg", "1": "pos"}``; mappings pass through (keys as str)."""
    from harness.tabular.values import scalar_text

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
        return {scalar_text(k): scalar_text(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class ColumnOptions:
    """How to read one table's columns: the task's options, or a pool source's own where it sets
    them. ``where`` is the config location of these options (for error messages)."""

    text_column: str
    label_column: str
    id_column: str | None
    label_map: Mapping[str, str]
    empty_texts: str
    where: str = "task_args"
    source: str | None = None

    def key(self, name: str) -> str:
        """The config field of option ``name`` for this table."""
        return f"{self.where}.{name}"

    def how_to_set(self, name: str, value: str) -> str:
        """How the user sets option ``name`` for this table."""
        if self.source is None:
            return f"pass {name}={value}"
        return f"set {name}: {value} for pool source {self.source!r}"

    def column_field(self, name: str) -> str:
        """``task_args.text_column (text)``: the option and the column it names."""
        return f"{self.key(name)} ({getattr(self, name)})"


@dataclass
class RawSplit:
    """A split before labels become indices: the table, the rows kept (``rows``: indices into
    the table), their ids and texts, and their labels as ``codes`` into ``values`` (distinct
    labels after ``label_map``, in first-seen order)."""

    table: Table
    options: ColumnOptions
    rows: np.ndarray
    ids: TextColumn
    texts: TextColumn
    codes: np.ndarray
    values: list[str]
    dropped: int = 0

    def __len__(self) -> int:
        return len(self.rows)

    def line(self, position: int) -> int:
        """The line (or row number) of the kept row at ``position``."""
        return self.table.line_of(int(self.rows[position]))

    def first_with(self, label: str) -> int:
        """Position of the first kept row labelled ``label``."""
        return int(np.flatnonzero(self.codes == self.values.index(label))[0])

    def error(
        self, problem: str, fix: str, position: int | None = None, field: str | None = None
    ) -> UserError:
        """A one-line error about this split's table (at a kept row when given)."""
        row = None if position is None else int(self.rows[position])
        return self.table.error(problem, fix, row=row, field=field)


def missing_column(table: Table, options: ColumnOptions, key: str) -> UserError:
    """The error for a column that is not in the table."""
    column = getattr(options, key)
    available = table.column_names
    close = difflib.get_close_matches(column, available, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    return table.error(
        f"no column {column!r}",
        f"{hint}columns: {', '.join(available) or '(none)'}; or " + options.how_to_set(key, "NAME"),
        field=options.key(key),
    )


@dataclass
class RowProblem:
    """A problem found in one row; the earliest row (then the earliest check) is reported."""

    row: int
    order: int
    problem: str
    fix: str
    field: str


def _text_fix(table: Table, kind: str) -> str:
    if kind in ("list", "dict"):
        return (
            "the column is nested: flatten it to one string per row, or set text_column to a "
            "column of strings"
        )
    if table.layout is not None and table.layout.fmt == "jsonl":
        return "quote the text in the JSON"
    return "set text_column to a column of strings"


def read_labelled(
    table: Table, split: str, options: ColumnOptions, id_prefix: str | None = None
) -> RawSplit:
    """Check ``table``'s columns row by row (see module doc) and return the kept rows. Row ids
    are ``<split>-<row>``, or the ``id_column`` values; ``id_prefix`` (e.g. ``policy:``)
    replaces ``<split>-`` and is put in front of column ids too."""
    import pyarrow as pa

    needed = ["text_column", "label_column"] + (["id_column"] if options.id_column else [])
    for key in needed:
        if getattr(options, key) not in table.column_names:
            raise missing_column(table, options, key)
    problems: list[RowProblem] = []
    texts = text_cells(table, options.text_column)
    text_field = options.column_field("text_column")
    if texts.bad_row is not None:
        problems.append(
            RowProblem(
                texts.bad_row,
                0,
                f"the text must be a string, got {texts.bad_kind}",
                _text_fix(table, texts.bad_kind),
                text_field,
            )
        )
    keep = np.ones(table.num_rows, dtype=bool)
    dropped = 0
    if options.empty_texts == "drop":
        keep &= ~texts.missing
        dropped = int(texts.missing.sum())
    else:
        row = first_true(texts.missing)
        if row is not None:
            problems.append(
                RowProblem(
                    row,
                    0,
                    "empty or missing text",
                    "fill it in, remove the row, or "
                    + options.how_to_set("empty_texts", "drop")
                    + " to drop such rows",
                    text_field,
                )
            )
    labels = scalar_cells(table, options.label_column)
    label_field = options.column_field("label_column")
    _scalar_problems(problems, labels, keep, 1, "label", label_field, table, options)
    ids: pa.ChunkedArray | None = None
    if options.id_column:
        id_cells = scalar_cells(table, options.id_column)
        _scalar_problems(
            problems, id_cells, keep, 2, "id", options.column_field("id_column"), table, options
        )
        ids = id_cells.strings
    if problems:
        worst = min(problems, key=lambda p: (p.row, p.order))
        raise table.error(worst.problem, worst.fix, row=worst.row, field=worst.field)
    rows = np.flatnonzero(keep).astype(np.int64)
    if not len(rows):
        why = f" ({dropped} rows with empty texts dropped)" if dropped else ""
        raise table.error(
            f"the file has no data rows{why}", "give the split at least one labelled example"
        )
    if dropped:
        log.warning("%s: dropped %d rows with empty texts", table.origin, dropped)
    if ids is not None:
        kept_ids = ids.take(pa.array(rows)) if dropped else ids
        _check_unique(kept_ids, rows, table, options)
        id_column = _prefixed(kept_ids, id_prefix or "")
    else:
        id_column = _prefixed(
            pa.chunked_array([pa.array(rows).cast(pa.large_string())]), id_prefix or f"{split}-"
        )
    kept_labels = labels.strings.take(pa.array(rows)) if dropped else labels.strings
    codes, values = _label_codes(kept_labels, options.label_map)
    kept_texts = texts.strings.take(pa.array(rows)) if dropped else texts.strings
    return RawSplit(
        table=table,
        options=options,
        rows=rows,
        ids=TextColumn(id_column),
        texts=TextColumn(kept_texts),
        codes=codes,
        values=values,
        dropped=dropped,
    )


def _scalar_problems(
    problems: list[RowProblem],
    cells: Any,
    keep: np.ndarray,
    order: int,
    what: str,
    field: str,
    table: Table,
    options: ColumnOptions,
) -> None:
    row = first_true(cells.missing & keep)
    if row is not None:
        fix = (
            "give every row a label, or remove the row"
            if what == "label"
            else ("give every row an id, or drop id_column")
        )
        problems.append(RowProblem(row, order, f"empty or missing {what}", fix, field))
    if cells.bad_row is not None and keep[cells.bad_row]:
        kinds = "a string, number or true/false" if what == "label" else "a string or a number"
        problems.append(
            RowProblem(
                cells.bad_row,
                order,
                f"the {what} must be {kinds}, got {cells.bad_value!r:.40}",
                f"write one {what} per row",
                field,
            )
        )
    if what == "label" and cells.fraction_row is not None and keep[cells.fraction_row]:
        problems.append(
            RowProblem(
                cells.fraction_row,
                order,
                f"the label column holds fractional numbers (e.g. {cells.fraction_value!r}), "
                "not classes",
                "give class labels (names or whole numbers), or map them with label_map",
                field,
            )
        )


def _prefixed(strings: pa.ChunkedArray, prefix: str) -> pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    strings = strings.cast(pa.large_string())
    if not prefix:
        return strings
    return pc.binary_join_element_wise(
        pa.scalar(prefix, pa.large_string()), strings, pa.scalar("", pa.large_string())
    )


def _check_unique(
    ids: pa.ChunkedArray, rows: np.ndarray, table: Table, options: ColumnOptions
) -> None:
    """Ids are unique within the split (checked in Arrow; located in Python when not)."""
    import pyarrow.compute as pc

    if len(pc.unique(ids)) == len(ids):
        return
    seen: dict[str, int] = {}
    for position, case_id in enumerate(ids.to_pylist()):
        if case_id in seen:
            earlier = table.line_of(int(rows[seen[case_id]]))
            raise table.error(
                f"duplicate id {case_id!r} (also on line {earlier})",
                "make ids unique, or drop id_column to number the rows",
                row=int(rows[position]),
                field=options.column_field("id_column"),
            )
        seen[case_id] = position


def _label_codes(
    labels: pa.ChunkedArray, label_map: Mapping[str, str]
) -> tuple[np.ndarray, list[str]]:
    """Per-row codes into the distinct labels (after ``label_map``, first-seen order)."""
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(labels)
    if encoded.num_chunks:
        dictionary = encoded.chunks[0].dictionary.to_pylist()
        raw_codes = np.concatenate(
            [
                np.asarray(c.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
                for c in encoded.chunks
            ]
        )
    else:
        dictionary, raw_codes = [], np.zeros(0, dtype=np.int64)
    if not len(raw_codes):
        return np.zeros(0, dtype=np.int64), []
    order = np.unique(raw_codes, return_index=True)
    first_seen = [dictionary[int(code)] for code in order[0][np.argsort(order[1])]]
    mapped = [label_map.get(raw, raw) for raw in first_seen]
    values = list(dict.fromkeys(mapped))
    translate = np.zeros(len(dictionary), dtype=np.int64)
    for raw, name in zip(first_seen, mapped, strict=True):
        translate[dictionary.index(raw)] = values.index(name)
    return translate[raw_codes], values


def label_field(options: ColumnOptions) -> str:
    """The label column's config field, with the column name."""
    return options.column_field("label_column")


def to_split(raw: RawSplit, label_names: Sequence[str], fix_hint: str, lazy: bool) -> Split:
    """``raw`` with labels as indices into ``label_names``; ``lazy``: keep ids and texts as
    Arrow columns (pools), else lists (train, test)."""
    index = {name: i for i, name in enumerate(label_names)}
    outside = [value for value in raw.values if value not in index]
    if outside:
        position = min(raw.first_with(value) for value in outside)
        label = raw.values[int(raw.codes[position])]
        close = difflib.get_close_matches(label, list(label_names), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise raw.error(
            f"label {label!r} is not in the label set ({', '.join(label_names)})",
            f"{hint}{fix_hint}",
            position,
            field=label_field(raw.options),
        )
    lookup = np.asarray([index[value] for value in raw.values], dtype=np.int64)
    labels = lookup[raw.codes] if len(raw.codes) else np.zeros(0, dtype=np.int64)
    sources = None if raw.options.source is None else [raw.options.source] * len(raw)
    if lazy:
        return Split(ids=raw.ids, texts=raw.texts, labels=labels, sources=sources)
    return Split(ids=raw.ids.to_list(), texts=raw.texts.to_list(), labels=labels, sources=sources)


def label_names_of(
    train: RawSplit, labels: Sequence[str] | None, field: str
) -> tuple[list[str], str]:
    """The task's label names (``labels``, else the sorted labels seen in train; numbers in
    numeric order) and the fix to suggest for a label outside them."""
    if labels is not None:
        names = list(labels)
        if len(set(names)) != len(names) or len(names) < 2:
            raise UserError(
                "labels must name at least two distinct labels",
                field=field,
                fix="e.g. labels=non-toxic|toxic",
            )
        return names, "add it to labels, map it with label_map, or fix the row"
    seen = set(train.values)
    numeric = all(label.lstrip("-").isdigit() for label in seen)
    names = sorted(seen, key=lambda x: (int(x), x) if numeric else (0, x))
    return names, "the label set is the labels seen in train; pass labels=a|b|... or label_map"


def check_ids_across(raws: Mapping[str, RawSplit]) -> None:
    """Splits read with an ``id_column`` must not share ids."""
    import pyarrow as pa
    import pyarrow.compute as pc

    earlier: list[tuple[str, RawSplit]] = []
    for name, raw in raws.items():
        if not raw.options.id_column:
            continue
        for other_name, other in earlier:
            shared = pc.is_in(
                raw.ids.arrow,
                value_set=pa.concat_arrays(
                    [chunk for chunk in other.ids.arrow.chunks] or [pa.array([], pa.large_string())]
                ),
            )
            position = first_true(np.asarray(shared.to_numpy(zero_copy_only=False), dtype=bool))
            if position is None:
                continue
            case_id = raw.ids[position]
            other_position = int(pc.index(other.ids.arrow, case_id).as_py())
            raise raw.error(
                f"id {case_id!r} is also in {other_name} (line {other.line(other_position)})",
                "splits must not share examples; remove the overlap",
                position,
                field=raw.options.column_field("id_column"),
            )
        earlier.append((name, raw))


def check_train_classes(train: RawSplit, labels: Split, label_names: Sequence[str]) -> None:
    """Training needs at least two classes."""
    present = sorted({label_names[i] for i in np.unique(labels.labels).tolist()})
    if len(present) < 2:
        raise train.error(
            f"the train split holds a single class ({present[0]!r})",
            "training needs examples of at least two labels",
        )


def check_source_labels(raw: RawSplit, label_names: Sequence[str]) -> None:
    """A named pool source must hold the task's labels (after its ``label_map``): labels outside
    the set are an error naming the source and the fix; a label the source lacks is a warning
    (a policy file may hold one class only)."""
    options = raw.options
    seen = raw.values
    outside = [label for label in seen if label not in label_names]
    if outside:
        position = raw.first_with(outside[0])
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
        raise raw.error(
            f"pool source {options.source!r} has label(s) {', '.join(map(repr, outside))}, "
            f"not in the task's label set ({', '.join(label_names)})",
            fix,
            position,
            field=options.key("label_map") if options.label_map else label_field(options),
        )
    missing = [label for label in label_names if label not in seen]
    if missing:
        click.echo(
            f"warning: {raw.table.origin}: pool source {options.source!r} holds no "
            f"{', '.join(map(repr, missing))} examples",
            err=True,
        )


def check_source_names(sources: Sequence[Any], field: str = "task_args.pool") -> None:
    """Source names are distinct words (letters, digits, ``.``, ``_``, ``-``)."""
    if not sources:
        raise UserError(
            "the list of pool sources is empty",
            field=field,
            fix="list at least one {name: ..., path: ...} source, or leave pool out",
        )
    seen: dict[str, int] = {}
    for index, source in enumerate(sources):
        where = f"{field}[{index}].name"
        if not re.match(SOURCE_NAME, source.name):
            raise UserError(
                f"pool source name {source.name!r} is not a plain word",
                field=where,
                fix="use letters, digits, '.', '_' or '-', e.g. general, policy",
            )
        if source.name in seen:
            raise UserError(
                f"duplicate pool source name {source.name!r} (also {field}[{seen[source.name]}])",
                field=where,
                fix="give every pool source its own name",
            )
        seen[source.name] = index


def build_task(
    name: str,
    raws: Mapping[str, RawSplit],
    labels: Sequence[str] | None,
    labels_field: str,
    description: str,
    metadata: dict[str, Any],
) -> Task:
    """The :class:`Task` of checked raw splits ``train``, ``test`` and ``pool`` or
    ``pool:<source>`` (pool parts in order)."""
    label_names, fix_hint = label_names_of(raws["train"], labels, labels_field)
    check_ids_across(raws)
    train = to_split(raws["train"], label_names, fix_hint, lazy=False)
    check_train_classes(raws["train"], train, label_names)
    for key, raw in raws.items():
        if key.startswith("pool:"):
            check_source_labels(raw, label_names)
    test = to_split(raws["test"], label_names, fix_hint, lazy=False)
    pool = Split(ids=[], texts=[], labels=np.zeros(0, dtype=np.int64))
    for key, raw in raws.items():
        if key == "pool" or key.startswith("pool:"):
            part = to_split(raw, label_names, fix_hint, lazy=True)
            pool = part if not len(pool) else pool.concat(part)
    return Task(
        name=name,
        label_names=label_names,
        train=train,
        test=test,
        pool=pool,
        description=description,
        metadata=metadata,
    )


EmptyTexts = Literal["error", "drop"]
