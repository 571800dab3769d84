"""Atomic writes: every file and cache entry the harness writes goes through here.

A file is written to a temporary file in the same folder, flushed to disk and renamed over the
target (:func:`atomic_write`); a folder (a cache entry) is filled in a temporary folder and
renamed into place (:func:`atomic_folder`). A write that fails (disk full, file-size limit,
permissions) removes what it wrote and raises :class:`~harness.errors.OutputError` (``cannot
write FILE: reason``), so an interrupted or failed write never leaves a half-written file.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from harness.errors import OutputError


def _umask() -> int:
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
            os.fchmod(handle.fileno(), 0o666 & ~_umask())  # mkstemp makes it 0600
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


@contextmanager
def atomic_folder(target: Path, marker: str) -> Iterator[Path]:
    """Fill a folder atomically: the block writes into the temporary folder it is given, which
    then replaces ``target``. The folder counts as finished when it holds ``marker`` (a file
    the block writes last): when another writer finished ``target`` first (content-addressed
    entries are identical), its folder is kept and ours dropped. A failed write removes the
    temporary folder and raises :class:`~harness.errors.OutputError`."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as exc:
        raise OutputError(target, exc) from None
    try:
        yield tmp
        if (target / marker).exists():
            # another writer stored the same entry first: keep it (it may be being read)
            shutil.rmtree(tmp, ignore_errors=True)
            return
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)  # an unfinished leftover
        try:
            os.replace(tmp, target)
        except OSError:
            if not (target / marker).exists():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # lost a race to an identical entry
    except OSError as exc:  # disk full, file-size limit: Model.save raises OSError
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(target, exc) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
