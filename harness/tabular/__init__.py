"""The one tabular reading layer: data files (CSV, TSV, JSON Lines, Parquet, Arrow) and Hugging
Face datasets (Hub ids, ``save_to_disk`` folders, builders with local data files) become
:class:`Table` objects whose columns are Arrow, memory-mapped from a file.

Used by the ``files`` and ``hf`` tasks and the ``csv``, ``hatecheck`` and ``hf`` spec sources::

    from harness.tabular import TableHints, read_table

    table = read_table("pool.csv", TableHints(field="task_args.pool"))
    table.column_names, table.num_rows, table.column("text"), table.line_of(41)

Every problem is a one-line :class:`harness.errors.UserError` naming the file, the line (the
1-based row for Parquet, Arrow and datasets), the config field and the fix. The modules:

- :mod:`~harness.tabular.access`: the checks every path passes before it is read;
- :mod:`~harness.tabular.reader`: one file, by its format;
- :mod:`~harness.tabular.csv_arrow`: CSV/TSV through pyarrow's CSV reader into a memory-mapped
  Arrow file;
- :mod:`~harness.tabular.builders`: JSON Lines, Parquet and Arrow files through ``datasets``'
  builders (after :mod:`~harness.tabular.jsonl_check` for JSON Lines);
- :mod:`~harness.tabular.scan`: the exact line-by-line reading that names a problem's line;
- :mod:`~harness.tabular.datasets_source`: Hugging Face datasets as named splits;
- :mod:`~harness.tabular.values`: cells as text (labels, ids, spec columns);
- :mod:`~harness.tabular.table`: the :class:`Table` itself.
"""

from harness.tabular.datasets_source import DatasetRequest, OpenedDataset, open_dataset
from harness.tabular.hints import TableHints
from harness.tabular.reader import SUFFIX_FORMATS, format_of, read_column_names, read_table
from harness.tabular.table import Table

__all__ = [
    "SUFFIX_FORMATS",
    "DatasetRequest",
    "OpenedDataset",
    "Table",
    "TableHints",
    "format_of",
    "open_dataset",
    "read_column_names",
    "read_table",
]
