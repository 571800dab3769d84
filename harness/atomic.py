"""Atomic writes: every file the harness writes outside the cache goes through here.

A file is written to a temporary file in the same folder, flushed to disk and renamed over the
target (:func:`atomic_write`); cache entries (folders) are written by
:mod:`harness.cache_entries`. A write that fails (disk full, file-size limit,
permissions) removes what it wrote and raises :class:`~harness.errors.OutputError` (``cannot
write FILE: reason``), so an interrupted or failed write never leaves a half-written file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from harness.errors import OutputError


def current_umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write ``path`` atomically: ``write(handle)`` fills a temporary file in the same folder
    (with the permissions a new file gets), which is synced and renamed over ``path``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o666 & ~current_umask())  # mkstemp makes it 0600
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(path, exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_write`).

    A lone surrogate that slipped through is written as the JSON escape it came from
    (``\\udXXX``) instead of failing the write at the very end of a run."""
    data = text.encode("utf-8", errors="backslashreplace")
    atomic_write(path, lambda handle: handle.write(data))


def atomic_write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Write one JSON object per line (sorted keys), atomically."""
    atomic_write_text(
        path, "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows)
    )
