"""What a cache folder holds, and in what state: the entries ``harness cache ls`` lists and
``harness cache verify`` checks (and, with ``--remove``, cleans up).

Every item under ``models/``, ``values/`` and ``predictions/`` is one of:

- an **entry** (a folder with a ``manifest.json``): ``ok`` or ``damaged`` (with what is wrong);
  the cheap check (listings) compares sizes, the full one (``verify``) also hashes every file
  and reads what the run reads (metadata, changes records, values, predictions in the label
  range of their model);
- a **legacy** entry written by a spec-harness from before entries were verified (a model folder
  without a manifest, a ``values/*.json`` or ``predictions/*.npy`` file): never read by this
  version (its keys differ), kept for an older version sharing the cache until removed;
- a **temporary** item (its name starts with ``.``): an entry being written by a process now, or
  left behind by one that was killed, or a damaged entry being deleted.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.cache import (
    DONE,
    DYNAMICS_KIND,
    FOLDERS,
    KINDS,
    PREDICTIONS_KIND,
    VALUE,
    entry_info,
    read_dynamics,
    read_model_files,
    read_predictions,
)
from harness.cache_entries import (
    DamagedEntry,
    Identity,
    identity,
    quarantine,
    read_entry_json,
    remove_folder,
    verify,
)

State = Literal["ok", "damaged", "legacy", "temporary"]

STALE_TEMPORARY_SECONDS = 3600.0
"""A temporary item older than this is taken for a leftover of a killed writer (``verify
--remove`` deletes it); a younger one may be a write in progress on another host."""


def item_size(path: Path) -> int:
    """Bytes of the files at or under ``path`` (never following symlinks)."""
    try:
        if not path.is_dir() or path.is_symlink():
            return path.lstat().st_size
        return sum(p.lstat().st_size for p in path.rglob("*") if not p.is_dir())
    except OSError:
        return 0


@dataclass
class Item:
    """One item of the cache folder."""

    folder: str
    """``models``, ``values`` or ``predictions``."""
    name: str
    path: Path
    state: State
    kind: str | None = None
    """The kind its manifest names (``None`` for legacy and temporary items)."""
    problem: str | None = None
    """What is wrong with a damaged entry."""
    size: int = 0
    age_seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    """A model entry's ``done.json`` (what it is, purpose, seed, created)."""
    seen: Identity | None = None
    """The identity of the folder that was checked (only that folder is ever removed)."""

    @property
    def model_key(self) -> str:
        """The key of the model an entry belongs to (a prediction or training-dynamics entry:
        its model's)."""
        return self.name.split("-", 1)[0] if self.folder == "predictions" else self.name


@dataclass
class Inventory:
    """Every item of a cache folder, with totals."""

    root: Path
    items: list[Item]
    seconds: float = 0.0
    """Seconds the check took."""

    def of(self, state: State, folder: str | None = None) -> list[Item]:
        """The items in ``state`` (in ``folder`` only, when given)."""
        return [i for i in self.items if i.state == state and folder in (None, i.folder)]

    @property
    def total_bytes(self) -> int:
        """Bytes of everything listed."""
        return sum(i.size for i in self.items)


def _children(folder: Path) -> Iterator[Path]:
    try:
        yield from sorted(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return


def _check(item: Item, full: bool, num_labels: dict[str, int]) -> None:
    """Set ``item``'s state: verify the entry (``full``: hashes and content too)."""
    kinds = KINDS[item.folder]
    try:
        manifest = verify(item.path, kinds, item.name, full=full)
        item.kind = manifest.kind
        if item.folder == "models":
            info, _ = (
                read_model_files(item.path, manifest, manifest.kind)
                if full
                else (entry_info(item.path), None)
            )
            item.info = info
        elif full and item.folder == "values":
            read_entry_json(item.path, VALUE, manifest)
        elif full and manifest.kind == PREDICTIONS_KIND:
            read_predictions(item.path, manifest, None, num_labels.get(item.model_key))
        elif full and manifest.kind == DYNAMICS_KIND:
            read_dynamics(item.path, manifest, None, num_labels.get(item.model_key))
        item.state = "ok"
    except DamagedEntry as damage:
        item.state, item.problem = "damaged", damage.problem
    except OSError as exc:
        item.state, item.problem = "damaged", f"cannot be read ({exc.strerror or exc})"


def scan(root: Path, full: bool = False) -> Inventory:
    """Every item of the cache folder ``root`` and its state; ``full`` verifies every entry
    completely (reads and hashes everything), else sizes only."""
    started = time.perf_counter()
    now = time.time()
    items: list[Item] = []
    for folder in FOLDERS:
        for path in _children(root / folder):
            item = Item(folder, path.name, path, "temporary", size=item_size(path))
            try:
                item.age_seconds = max(0.0, now - path.lstat().st_mtime)
            except OSError:
                continue  # gone meanwhile
            item.seen = identity(path)
            if path.name.startswith("."):
                item.state = "temporary"
            elif path.is_dir() and not path.is_symlink() and (path / "manifest.json").exists():
                item.state = "ok"  # checked below, models first (predictions need num_labels)
            elif folder == "models" and path.is_dir() and (path / DONE).exists():
                item.state, item.info = "legacy", entry_info(path)
            elif (folder, path.suffix) in (("values", ".json"), ("predictions", ".npy")):
                item.state = "legacy"
            else:
                item.state, item.problem = "damaged", "not an entry of this cache (no manifest)"
            items.append(item)
    labels: dict[str, int] = {}
    for item in items:
        if item.state == "ok" and item.folder == "models":
            _check(item, full, labels)
            value = item.info.get("num_labels")
            if item.state == "ok" and isinstance(value, int) and value > 0:
                labels[item.name] = value
    for item in items:
        if item.state == "ok" and item.folder != "models":
            _check(item, full, labels)
    return Inventory(root, items, time.perf_counter() - started)


def remove(item: Item) -> bool:
    """Remove a damaged, legacy or stale temporary item (a damaged entry only if it is still the
    folder that was checked; a temporary one only when older than
    :data:`STALE_TEMPORARY_SECONDS`). Returns whether it was removed."""
    if item.state == "ok" or item.seen is None:
        return False
    if item.state == "temporary" and item.age_seconds < STALE_TEMPORARY_SECONDS:
        return False
    if item.state == "damaged":
        return quarantine(item.path, item.seen)
    if identity(item.path) != item.seen:
        return False
    try:
        remove_folder(item.path)
    except OSError:
        return False
    return not os.path.lexists(item.path)
