"""Shared fixtures: every test gets its own cache folder and a fresh plugin manager."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.plugins import reset_plugin_manager


@pytest.fixture(autouse=True)
def isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Point the model/prediction cache at a per-test folder."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(cache))
    return cache


@pytest.fixture(autouse=True)
def no_progress_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs in tests write to a captured (non-terminal) stderr, where progress would be printed
    as plain lines; keep test output quiet (tests of those lines set ``HARNESS_PROGRESS``)."""
    monkeypatch.setenv("HARNESS_PROGRESS", "off")


@pytest.fixture(autouse=True)
def fresh_plugin_manager() -> Iterator[None]:
    """Rebuild the plugin manager for each test so in-process plugins do not leak."""
    reset_plugin_manager()
    yield
    reset_plugin_manager()
