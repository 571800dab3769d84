"""Executors: the same results.json whatever runs the units and in which order; failed and
killed units retried or reported, and ``--resume`` finishes the grid; bad executor input."""

from __future__ import annotations

import importlib
import json
import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import harness
from harness.api import Executor, Register
from harness.cli import cli
from harness.grid import Grid
from harness.plugins import get_plugin_manager

GRID = [
    "run", "--device", "cpu", "--seeds", "2", "--budget", "20",
    "--task-args", "n_train=200,n_test=60,n_pool=200",
    "--model-args", "buckets=512,dim=8,hidden=8,epochs=2",
    "--interventions", "retrain:selection=random,retrain:selection=tfidf,patch",
]  # fmt: skip
"""A small demo grid: 2 seeds x (M0 + 3 interventions) = 8 units."""


def run(tmp_path: Path, name: str, *args: str, code: int = 0) -> Any:
    """``harness run`` into ``tmp_path/name``; the click result."""
    result = CliRunner().invoke(cli, [*args, "--output-dir", str(tmp_path / name), "-q"])
    assert result.exit_code == code, result.output
    return result


def written(tmp_path: Path, name: str) -> tuple[dict[str, Any], bytes]:
    """The run's results.json (without ``timing``) and samples.jsonl."""
    (run_dir,) = list((tmp_path / name).iterdir())
    result = json.loads((run_dir / "results.json").read_text())
    result.pop("timing")
    return result, (run_dir / "samples.jsonl").read_bytes()


class ShuffledExecutor(Executor):
    """Runs a random ready unit in this process at every step."""

    name = "shuffled"
    description = "ready units in random order"

    @property
    def in_process(self) -> bool:
        return True

    def execute(self, grid: Grid) -> None:
        rng = random.Random(7)
        while not grid.done and (ready := grid.ready()):
            grid.run_here(rng.choice(ready))


class ShuffledPlugin:
    @harness.hookimpl
    def register_executors(self, register: Register[type[Executor]]) -> None:
        register(ShuffledExecutor)


def test_any_executor_and_order_gives_the_same_files(tmp_path: Path) -> None:
    get_plugin_manager().register(ShuffledPlugin(), name="shuffled-executor")
    run(tmp_path, "local", *GRID)
    run(tmp_path, "jobs", *GRID, "--jobs", "2")
    run(tmp_path, "shuffled", *GRID, "--executor", "shuffled")
    local = written(tmp_path, "local")
    assert [m["id"] for m in local[0]["models"]] == [
        "M0",
        "retrain-random",
        "retrain-tfidf",
        "patch",
    ]
    assert written(tmp_path, "jobs") == local
    assert written(tmp_path, "shuffled") == local
    (run_dir,) = list((tmp_path / "jobs").iterdir())
    assert not (run_dir / "units").exists(), "finished units are removed with the results"


def test_the_cache_off_gives_the_same_files_in_process_and_in_workers(tmp_path: Path) -> None:
    # workers share a scratch cache when the cache is off; the files must not tell
    run(tmp_path, "local", *GRID, "--no-cache")
    run(tmp_path, "jobs", *GRID, "--no-cache", "--jobs", "2")
    local = written(tmp_path, "local")
    assert written(tmp_path, "jobs") == local
    patched = next(m for m in local[0]["models"] if m["id"] == "patch")
    assert all(seed["model_hash"] for seed in patched["seeds"])


def flaky_grid(tmp_path: Path) -> list[str]:
    get_plugin_manager().register(importlib.import_module("grid_plugins"), name="grid-plugins")
    kill, fail = tmp_path / "kill-once", tmp_path / "failing"
    kill.touch()
    fail.touch()
    steps = f"flaky:mode=kill,marker={kill},flaky:mode=fail,marker={fail}"
    return [*GRID[:-1], steps, "--seeds", "1"]


def test_killed_and_failing_units_then_resume(tmp_path: Path) -> None:
    args = [*flaky_grid(tmp_path), "--jobs", "2", "--output-dir", str(tmp_path / "runs")]
    result = CliRunner().invoke(cli, args, env={"HARNESS_PROGRESS": "lines"})
    assert result.exit_code == 1, result.output
    err = result.stderr
    # the killed worker is reported, replaced, and its unit retried
    assert "flaky-kill (seed 0) will be retried on worker" in err, err
    assert "died (killed by SIGKILL)" in err and "(attempt 2)" in err
    assert not (tmp_path / "kill-once").exists(), "the killed unit's first attempt ran"
    # the unit that keeps failing is reported while the others finish
    assert "error: 1 of 3 unit(s) did not finish" in err
    assert "flaky-fail (seed 0): RuntimeError: failing while failing exists after 2 attempts" in err
    assert "harness run --resume" in err
    (run_dir,) = list((tmp_path / "runs").iterdir())
    assert not (run_dir / "results.json").exists(), "no results from an incomplete grid"
    details = next((run_dir / "units").glob("flaky-fail*.error.txt")).read_text()
    assert "Traceback" in details and "attempt 2" in details

    (tmp_path / "failing").unlink()  # the cause is fixed: finish the grid
    lines = {"HARNESS_PROGRESS": "lines"}
    again = CliRunner().invoke(cli, ["run", "--resume", str(run_dir), "--jobs", "1"], env=lines)
    assert again.exit_code == 0, again.output
    finished = json.loads((run_dir / "results.json").read_text())
    assert [m["id"] for m in finished["models"]] == ["M0", "flaky-kill", "flaky-fail"]
    # only the missing unit ran; the others were kept from the interrupted run
    started = [line.split("] ", 1)[1] for line in again.stderr.splitlines() if "started" in line]
    assert started == ["flaky-fail (seed 0) started"], again.stderr
    assert "2 from the interrupted run" in again.stderr


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_user_error_in_a_unit_is_one_line_everywhere(tmp_path: Path, jobs: str) -> None:
    get_plugin_manager().register(importlib.import_module("grid_plugins"), name="grid-plugins")
    marker = tmp_path / "bad"
    marker.touch()
    args = [*GRID[:-1], f"flaky:mode=user,marker={marker}", "--seeds", "1", "--jobs", jobs]
    result = run(tmp_path, "runs", *args, code=2)
    assert result.stderr.strip().splitlines() == [
        "error: params.marker: a bad argument only the unit can see"
    ]
    assert not (tmp_path / "runs").exists(), "nothing written"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--jobs", "0"], "error: --jobs: --jobs must be 1 or more, got 0"),
        (["--executor", "nope"], "error: executor.name: unknown executor 'nope'"),
        (["--executor-args", "max_retries=-1"], "error: --executor-args max_retries:"),
        (["--executor-args", "adress=auto"], "error: executor.adress:"),
    ],
)
def test_bad_executor_input(tmp_path: Path, flags: list[str], message: str) -> None:
    result = run(tmp_path, "runs", *GRID, *flags, code=2)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), lines
    assert not (tmp_path / "runs").exists(), "nothing written"


def test_ray_not_installed_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a)
    )
    result = run(tmp_path, "runs", *GRID, "--executor", "ray", code=2)
    assert result.stderr.strip().splitlines() == [
        "error: executor.name: executor ray needs the ray package, which is not installed; "
        "pip install 'spec-harness[ray]' (or pip install ray), or use --executor local"
    ]


def test_gpus_that_are_not_there(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.errors import UserError
    from harness_plugins.executors.local import gpu_slots

    assert gpu_slots(4, 0.5, 2) == [[0], [0], [1], [1]]
    assert gpu_slots(2, 2, 4) == [[0, 1], [2, 3]]
    assert gpu_slots(3, 0, 0) == [[], [], []]
    with pytest.raises(UserError, match="this machine has none"):
        gpu_slots(1, 1, 0)
    with pytest.raises(UserError, match="use at most --jobs 1"):
        gpu_slots(2, 1, 1)


def test_cuda_without_a_gpu_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = run(tmp_path, "runs", *GRID, "--device", "cuda", "--jobs", "2", code=2)
    assert result.stderr.strip().splitlines() == [
        "error: --device: CUDA was requested but no GPU is available; use --device cpu"
    ]
    assert not (tmp_path / "runs").exists(), "nothing written"


def test_unreachable_ray_address_is_one_line_in_bounded_time(tmp_path: Path) -> None:
    """In a process of its own: the abandoned connection attempt keeps retrying in a
    background thread (Ray cannot cancel it), and its C++ logs must not reach the terminal."""
    import subprocess
    import sys
    import time

    pytest.importorskip("ray", reason="the ray extra is not installed")
    address = "ray://127.0.0.1:9"  # nothing listens on the discard port
    command = [
        sys.executable,
        "-c",
        "from harness.cli import main; main()",
        *GRID,
        "--output-dir",
        str(tmp_path / "runs"),
    ]
    command += ["--executor", "ray", "--executor-args", f"address={address},connect_timeout_s=2"]
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert time.monotonic() - start < 60, "the connection attempt was bounded"
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(
        f"error: executor.address: cannot connect to the Ray cluster at '{address}': no answer "
        "within 2 s"
    ), lines
    assert not (tmp_path / "runs").exists(), "nothing written"
