"""``hf``: specs from a Hugging Face dataset, with the same column mapping as the ``csv`` source.

``ref`` is a dataset name on the Hub (``datasets.load_dataset(ref, config)``) or a local folder
written by ``Dataset.save_to_disk`` / ``DatasetDict.save_to_disk`` (memory-mapped in place),
opened by :func:`harness.tabular.open_dataset` like the ``hf`` task's datasets.
With a ``DatasetDict``, ``train_split`` rows become D_i and ``heldout_split`` rows D_i_heldout;
without ``heldout_split``, the ``csv`` split options apply (split column or seeded template split).
Integer labels of a ``ClassLabel`` column are turned into their names. Line numbers in errors are
1-based row numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

import harness
from harness.api import Register, SpecSource, SpecSuite
from harness.errors import UserError
from harness.tabular import DatasetRequest, OpenedDataset, Table, open_dataset
from harness.validation import validate
from harness_plugins.spec_sources.tabular import (
    Row,
    TableBuilder,
    TableOptions,
    require_columns,
)


class HfOptions(TableOptions):
    """:class:`TableOptions` plus where to find the dataset."""

    config: str | None = Field(default=None, description="dataset configuration name")
    revision: str | None = None
    train_split: str = "train"
    heldout_split: str | None = Field(default=None, description="split of D_i_heldout rows")


def _load(ref: str, opts: HfOptions) -> OpenedDataset:
    request = DatasetRequest(
        path=ref,
        name=opts.config,
        revision=opts.revision,
        prefix="options.",
        name_option="config",
        path_field=None,
    )
    return open_dataset(request)


def _rows(
    table: Table,
    ref: str,
    opts: TableOptions,
    split: str | None,
    overrides: set[str] | None = None,
) -> list[Row]:
    require_columns(table.column_names, opts, ref, overrides)
    return [
        Row(values, ref, number, split, opts if overrides else None)
        for number, values in enumerate(table.string_rows(), start=1)
    ]


class HfSource(SpecSource):
    """Specs from a Hugging Face dataset (Hub name or local ``save_to_disk`` folder)."""

    name = "hf"
    description = "Hugging Face dataset (name or save_to_disk folder) with a column mapping"
    Options = HfOptions
    accepts_names = True

    def load(self, ref: str, options: dict[str, Any], *, seed: int = 0) -> list[SpecSuite]:
        """Load the dataset ``ref`` and map its rows to specs."""
        opts = validate(HfOptions, options, prefix="specs.options.")
        if opts.heldout_path():
            raise UserError(
                "a held-out file is for csv suites; a dataset's held-out rows come from a split",
                file=ref,
                field="options.heldout_file" if opts.heldout_file else "options.heldout.file",
                fix="set heldout_split: NAME (the heldout block may still rename its columns)",
            )
        if opts.heldout is not None and not opts.heldout_split:
            raise UserError(
                "the heldout block renames the held-out split's columns, but no heldout_split "
                "is set",
                file=ref,
                field="options.heldout",
                fix="set heldout_split: NAME, or drop the heldout block",
            )
        data = _load(ref, opts)
        if data.is_dict:
            splits = list(data.splits)
            wanted = [opts.train_split] + ([opts.heldout_split] if opts.heldout_split else [])
            for name in wanted:
                if name not in splits:
                    raise UserError(
                        f"the dataset has no split {name!r}",
                        file=ref,
                        field="options.train_split"
                        if name == opts.train_split
                        else "options.heldout_split",
                        fix=f"splits: {', '.join(splits)}",
                    )
            if opts.heldout_split:
                rows = _rows(data.splits[opts.train_split], ref, opts, "train")
                overrides = set(opts.heldout_overrides())
                heldout_opts = opts.for_heldout()
                heldout = data.splits[opts.heldout_split]
                rows += _rows(heldout, ref, heldout_opts, "heldout", overrides)
            else:
                rows = _rows(data.splits[opts.train_split], ref, opts, None)
        else:
            if opts.heldout_split:
                raise UserError(
                    "heldout_split needs a dataset with splits (a DatasetDict)",
                    file=ref,
                    field="options.heldout_split",
                    fix="drop heldout_split and use split_column or the template split",
                )
            rows = _rows(data.splits["train"], ref, opts, None)
        if not rows:
            raise UserError("the dataset has no rows", file=ref, fix="check the split")
        default_suite = Path(ref).name or ref
        return [TableBuilder(opts, ref, default_suite, seed).build(rows)]


@harness.hookimpl
def register_spec_sources(register: Register[SpecSource]) -> None:
    """Register the ``hf`` source."""
    register(HfSource())
