"""The outputs of finished units, kept in the run folder while a run goes.

Every unit's :class:`~harness.units.UnitOutput` is written to ``RUN_DIR/units/`` as soon as it
finishes (atomically, one JSON file per unit), so a run that was interrupted, or whose units
failed, can be finished with ``harness run --resume RUN_DIR``: only the units without an output
there run again. A stored output counts only for the same run id, harness version and package
versions. The folder is removed once ``results.json`` is written.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from pydantic import ValidationError

from harness import __version__
from harness.api import StrictModel
from harness.atomic import atomic_write_text
from harness.units import UnitOutput

FOLDER = "units"


class StoredUnit(StrictModel):
    """One finished unit as stored: its output and what it is valid for."""

    run_id: str
    harness_version: str
    versions: dict[str, str]
    key: str
    output: UnitOutput


class UnitStore:
    """The finished units of one run folder."""

    def __init__(self, run_dir: Path, run_id: str, versions: dict[str, str]) -> None:
        self.folder = run_dir / FOLDER
        self.run_id = run_id
        self.versions = versions

    def path(self, key: str) -> Path:
        """The file of unit ``key`` (a readable slug and a hash of the key)."""
        slug = "".join(c if c.isalnum() or c in "-_" else "-" for c in key)[:60].strip("-")
        digest = hashlib.sha256(key.encode()).hexdigest()[:8]
        return self.folder / f"{slug}-{digest}.json"

    def save(self, key: str, output: UnitOutput) -> None:
        """Store a finished unit."""
        stored = StoredUnit(
            run_id=self.run_id,
            harness_version=__version__,
            versions=self.versions,
            key=key,
            output=output,
        )
        atomic_write_text(self.path(key), stored.model_dump_json())

    def load(self, keys: list[str]) -> dict[str, UnitOutput]:
        """The stored outputs of ``keys`` that are valid for this run (others are ignored and
        run again)."""
        found: dict[str, UnitOutput] = {}
        for key in keys:
            path = self.path(key)
            try:
                stored = StoredUnit.model_validate_json(path.read_text(encoding="utf-8"))
            except (OSError, ValueError, ValidationError):
                continue
            if (
                stored.key == key
                and stored.run_id == self.run_id
                and stored.harness_version == __version__
                and stored.versions == self.versions
            ):
                found[key] = stored.output
        return found

    def clear(self) -> None:
        """Remove the folder (the run's results are written)."""
        shutil.rmtree(self.folder, ignore_errors=True)
