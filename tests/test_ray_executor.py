"""The ray executor on a local Ray instance (num_cpus=2, one per module): the same files as
the local executor, and a killed Ray worker's unit retried."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_executors import GRID, run, written

from harness.cli import cli
from harness.plugins import get_plugin_manager

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")


@pytest.fixture(scope="module", autouse=True)
def ray_session() -> Iterator[None]:
    """One local Ray instance for the module (the executor uses it as it is)."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    yield
    ray.shutdown()


def test_ray_gives_the_same_files_as_local(tmp_path: Path) -> None:
    run(tmp_path, "local", *GRID)
    run(tmp_path, "ray", *GRID, "--executor", "ray")
    assert written(tmp_path, "ray") == written(tmp_path, "local")


def test_a_killed_ray_worker_is_retried(tmp_path: Path) -> None:
    get_plugin_manager().register(importlib.import_module("grid_plugins"), name="grid-plugins")
    kill = tmp_path / "kill-once"
    kill.touch()
    args = [*GRID[:-1], f"flaky:mode=kill,marker={kill}", "--seeds", "1", "--executor", "ray"]
    result = CliRunner().invoke(
        cli, [*args, "--output-dir", str(tmp_path / "runs")], env={"HARNESS_PROGRESS": "lines"}
    )
    assert result.exit_code == 0, result.output
    assert "[2/2] flaky-kill (seed 0) will be retried on ray" in result.stderr, result.stderr
    assert "(attempt 2)" in result.stderr
    assert not kill.exists()


def test_a_user_error_in_a_ray_task_is_the_local_one_line(tmp_path: Path) -> None:
    get_plugin_manager().register(importlib.import_module("grid_plugins"), name="grid-plugins")
    marker = tmp_path / "bad"
    marker.touch()
    args = [*GRID[:-1], f"flaky:mode=user,marker={marker}", "--seeds", "1", "--executor", "ray"]
    result = run(tmp_path, "runs", *args, code=2)
    assert own_lines(result.stderr) == [
        "error: params.marker: a bad argument only the unit can see"
    ]
    assert not (tmp_path / "runs").exists(), "nothing written"


def own_lines(stderr: str) -> list[str]:
    """The run's stderr lines without the worker lines Ray forwards to the driver, which may
    arrive late from an earlier test's tasks (``(run_unit pid=...) ...``)."""
    return [line for line in stderr.strip().splitlines() if "(run_unit pid=" not in line]


def test_a_unit_asking_for_more_gpus_than_ray_has(tmp_path: Path) -> None:
    result = run(tmp_path, "runs", *GRID, "--executor", "ray", "--device", "cuda", code=2)
    lines = own_lines(result.stderr)
    assert lines == [
        "error: --device: CUDA was requested but the Ray cluster has no GPU; use --device cpu, "
        "or add GPU nodes to the cluster"
    ], lines
    assert not (tmp_path / "runs").exists(), "nothing written"
