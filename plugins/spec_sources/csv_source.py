"""``csv``: specs from CSV, TSV or JSONL files with a column mapping.

One row per case. Options (see ``specs/README.md``) map the spec, text and label columns, label
values to the task's label names, and choose how rows split into D_i / D_i_heldout: a split
column, a separate held-out file (e.g. HateModerate-style train and test files), or a seeded
split of each spec's template ids (or rows).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import harness
from harness.api import Register, SpecSource, SpecSuite
from harness_plugins.spec_sources.tabular import TableOptions, load_table_files, parse_options


class CsvSource(SpecSource):
    """Specs from a CSV/TSV/JSONL file: ``--specs csv:cases.csv`` or a config entry with
    ``source: csv`` and ``options`` (column mapping, label mapping, split)."""

    name = "csv"
    description = "CSV/TSV/JSONL rows with a column mapping (spec, text, label, split, template)"
    Options = TableOptions
    suffixes = (".csv", ".tsv", ".jsonl", ".parquet", ".arrow")

    def load(self, ref: str, options: dict[str, Any], *, seed: int = 0) -> list[SpecSuite]:
        """Load the table at path ``ref``."""
        opts = parse_options(options)
        return [load_table_files(Path(ref), opts, seed)]


@harness.hookimpl
def register_spec_sources(register: Register[SpecSource]) -> None:
    """Register the ``csv`` source."""
    register(CsvSource())
