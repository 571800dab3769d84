"""Fixtures: a private cache folder, and the plugin loaded even from a source checkout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import harness_example_plugin
import pytest

from harness.plugins import get_plugin_manager, reset_plugin_manager


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep trained models and predictions out of the user's cache."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(cache))
    return cache


@pytest.fixture(autouse=True)
def example_plugin() -> Iterator[None]:
    """Load plugins afresh; register this package in-process when it is not installed (so
    ``pytest tests`` also works from a source checkout)."""
    reset_plugin_manager()
    pm = get_plugin_manager()
    if not pm.has_plugin("example"):
        pm.register(harness_example_plugin, name="example")
    yield
    reset_plugin_manager()
