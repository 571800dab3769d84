"""``json`` reporter: the merged, versioned leaderboard as JSON."""

from __future__ import annotations

import json
from typing import Any

import harness
from harness.api import Register, Reporter
from harness.leaderboard import build_leaderboard


class JsonReporter(Reporter):
    """The merged leaderboard as JSON (``kind``, ``schema_version``, ``runs``, ``specs``,
    ``rows``), deterministic (sorted keys)."""

    name = "json"
    description = "merged, versioned leaderboard as JSON"
    suffix = ".json"

    def render(self, runs: list[Any]) -> str:
        """Return the leaderboard JSON text."""
        board = build_leaderboard(runs)
        return json.dumps(board.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"


@harness.hookimpl
def register_reporters(register: Register[type[Reporter]]) -> None:
    """Register the ``json`` reporter."""
    register(JsonReporter)
