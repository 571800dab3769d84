"""Before a data file reaches a reader: it must exist, be a regular file we may read, and not
exceed the size limit. Every path the tabular layer reads goes through :func:`check_data_file`
first (``datasets`` is only ever handed a path that passed it), so a FIFO, a device or a folder
is a one-line error instead of a hang or a traceback.

This is the one place to route through the core's bounded-read helper (size limits, refusing
special files) when it is available; until then the checks are made here with ``os.stat``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from harness.errors import UserError
from harness.tabular.hints import TableHints

MAX_TABLE_BYTES = 64 * 2**30
"""Largest data file the layer reads (64 GiB): Arrow data is memory-mapped, not held in RAM, so
the bound is about disk space and time; it stops a mistyped path such as a disk image."""

FORMAT_NAMES = "a CSV/TSV/JSONL/Parquet/Arrow file"


def check_data_file(path: Path, hints: TableHints) -> os.stat_result:
    """Return the ``stat`` of ``path`` or raise a one-line :class:`UserError` (missing, a folder,
    not readable, not a regular file, empty, too large)."""

    def error(problem: str, fix: str) -> UserError:
        return UserError(problem, file=path, field=hints.field, fix=fix)

    try:
        info = path.stat()
    except FileNotFoundError:
        raise error(
            "file not found",
            "check the path (relative paths in a config file are from its folder, on the "
            "command line from the current folder)",
        ) from None
    except PermissionError:
        raise error("permission denied", "make the file readable (chmod +r)") from None
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror}", "check the path") from None
    if stat.S_ISDIR(info.st_mode):
        raise error("is a folder, expected a data file", f"name {FORMAT_NAMES}")
    if not stat.S_ISREG(info.st_mode):
        raise error(
            "is not a regular file (a pipe, socket or device)",
            f"copy the data to {FORMAT_NAMES} first",
        )
    if not os.access(path, os.R_OK):
        raise error("permission denied", "make the file readable (chmod +r)")
    if info.st_size > MAX_TABLE_BYTES:
        raise error(
            f"the file is {info.st_size / 2**30:.1f} GiB, over the "
            f"{MAX_TABLE_BYTES // 2**30} GiB limit",
            "split it into several files (e.g. several pool sources)",
        )
    return info
