"""Before a data file reaches a reader: it must exist, be a regular file we may read, and stay
within ``HARNESS_MAX_DATA_MB`` (:data:`harness.limits.DATA_MB`). Every path the tabular layer
reads goes through :func:`check_data_file` first, which opens it with the core's bounded reader
(:func:`harness.input_files.open_bounded`: a FIFO, device or socket is refused before anything
is read); pyarrow and ``datasets`` are only ever handed a path that passed, and the exact
line-by-line reading of :mod:`harness.tabular.scan` reads through
:func:`harness.input_files.read_bytes`.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import UserError
from harness.input_files import open_bounded
from harness.limits import DATA_MB
from harness.tabular.hints import TableHints

FORMAT_NAMES = "a CSV/TSV/JSONL/Parquet/Arrow file"


def check_data_file(path: Path, hints: TableHints) -> None:
    """Raise a one-line :class:`UserError` unless ``path`` is a readable regular file within the
    data size limit (missing, a folder, not readable, a pipe or device, too large)."""
    if not path.exists() and not path.is_symlink():
        raise UserError(
            "file not found",
            file=path,
            field=hints.field,
            fix="check the path (relative paths in a config file are from its folder, on the "
            "command line from the current folder)",
        )
    if path.is_dir():
        raise UserError(
            "is a folder, expected a data file",
            file=path,
            field=hints.field,
            fix=f"name {FORMAT_NAMES}",
        )
    with open_bounded(path, DATA_MB, field=hints.field):
        pass
