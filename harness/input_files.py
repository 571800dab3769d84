"""Bounded reading of user files: every config, spec file, data table, description file and run
artefact the harness reads goes through :func:`read_bytes` / :func:`read_text` (whole files) or
:func:`open_bounded` (line by line).

A file must be a regular file (a FIFO, device or socket, e.g. a symlink to ``/dev/zero``, is
refused before anything is read) no larger than its :class:`~harness.limits.Limit`; the size is
checked with ``fstat`` before reading and again while reading (a file that grows is cut off at the
limit). Every problem is a one-line :class:`~harness.errors.UserError` naming the file.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from harness.errors import UserError
from harness.limits import FILE_MB, Limit, human_bytes

NOT_REGULAR = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def _kind(mode: int) -> str:
    return NOT_REGULAR.get(stat.S_IFMT(mode), "not a regular file")


def _too_large(path: Path, size: str, limit: Limit, field: str | None) -> UserError:
    return UserError(
        f"the file is {size}, more than the limit of {limit.shown()} for {limit.what}",
        file=path,
        field=field,
        fix=limit.fix(),
    )


def open_bounded(path: Path | str, limit: Limit = FILE_MB, field: str | None = None) -> BinaryIO:
    """Open ``path`` for binary reading after checking that it is a regular file within
    ``limit``; raise a one-line :class:`UserError` naming the file otherwise."""
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        problem = "is a broken symbolic link" if path.is_symlink() else "file not found"
        raise UserError(problem, file=path, field=field, fix="check the path") from None
    except PermissionError:
        raise UserError(
            "permission denied", file=path, field=field, fix="make the file readable (chmod +r)"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket, or a device without a driver
            raise UserError(
                "not a regular file (a socket or device)", file=path, field=field, fix="name a file"
            ) from None
        raise UserError(
            f"cannot read: {exc.strerror or exc}", file=path, field=field, fix="check the path"
        ) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UserError(
                "is a folder, expected a file", file=path, field=field, fix="name a file"
            )
        if not stat.S_ISREG(info.st_mode):
            raise UserError(
                f"not a regular file ({_kind(info.st_mode)})",
                file=path,
                field=field,
                fix="name a regular file (not a pipe, device or socket)",
            )
        if info.st_size > limit.value():
            raise _too_large(path, human_bytes(info.st_size), limit, field)
        if hasattr(os, "O_NONBLOCK"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


READ_CHUNK = 1 << 24
"""Bytes read at a time: a limit of a gigabyte must not allocate a gigabyte for a small file."""


def _read_at_most(handle: BinaryIO, count: int) -> bytes:
    """Up to ``count`` bytes of ``handle`` (less at the end of the file), read in chunks."""
    parts: list[bytes] = []
    left = count
    while left > 0:
        part = handle.read(min(left, READ_CHUNK))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def read_bytes(path: Path | str, limit: Limit = FILE_MB, field: str | None = None) -> bytes:
    """The content of the regular file ``path``, at most ``limit`` bytes (checked before and while
    reading); one-line :class:`UserError` otherwise."""
    path = Path(path)
    maximum = limit.value()
    with open_bounded(path, limit, field) as handle:
        try:
            data = _read_at_most(handle, maximum + 1)
        except OSError as exc:
            raise UserError(
                f"cannot read: {exc.strerror or exc}", file=path, field=field, fix="check the file"
            ) from None
    if len(data) > maximum:
        raise _too_large(path, f"more than {human_bytes(maximum)}", limit, field)
    return data


def decode(data: bytes, path: Path | str, encoding: str = "utf-8", field: str | None = None) -> str:
    """``data`` decoded with ``encoding``; a decoding error names the line and the fix."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError(
            f"not valid {encoding} (byte {exc.start})",
            file=path,
            line=line,
            field=field,
            fix="convert the file to UTF-8 or pass its encoding (e.g. encoding: latin-1)",
        ) from None
    except LookupError:
        raise UserError(
            f"unknown encoding {encoding!r}", file=path, field="encoding", fix="use e.g. utf-8"
        ) from None


def read_text(
    path: Path | str, encoding: str = "utf-8", limit: Limit = FILE_MB, field: str | None = None
) -> str:
    """The decoded text of the regular file ``path`` within ``limit`` (see :func:`read_bytes`)."""
    return decode(read_bytes(path, limit, field), path, encoding, field)


def is_regular_file(path: Path | str) -> bool:
    """Whether ``path`` (following symlinks) is a regular file; never blocks or reads."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False
