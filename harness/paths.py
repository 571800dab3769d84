"""Checks on the folders a run will write to, done before any work starts (so that a bad
``--output-dir`` or ``--cache-dir`` is a one-line error, not a traceback after training)."""

from __future__ import annotations

import os
from pathlib import Path

from harness.errors import UserError


def check_writable_folder(path: Path, field: str) -> None:
    """Raise a :class:`UserError` unless ``path`` is, or can be created as, a writable folder.

    Nothing is created: the nearest existing ancestor must be a folder we may write to.
    """
    current = path
    while not current.exists():
        if current.is_symlink():
            raise UserError("is a broken symbolic link", file=current, field=field, fix="fix it")
        parent = current.parent
        if parent == current:
            break
        current = parent
    if current.exists() and not current.is_dir():
        raise UserError(
            "is a file, expected a folder" if current == path else f"{current} is not a folder",
            file=path,
            field=field,
            fix="name a folder (it is created if missing)",
        )
    if current.exists() and not os.access(current, os.W_OK | os.X_OK):
        raise UserError(
            f"permission denied: cannot write to {current}",
            file=path,
            field=field,
            fix="choose a folder you can write to",
        )
