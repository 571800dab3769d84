"""Progress as plain lines when stderr is not a terminal, and training time kept with cached
models (``trained in / loaded in`` after a rerun or a resume)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from harness.cli import cli
from harness.progress import LineTask, Progress, clock

SMALL = [
    "run", "--device", "cpu", "--task-args", "n_train=200,n_test=60,n_pool=200",
    "--interventions", "retrain", "--budget", "20", "--model-args", "epochs=1",
]  # fmt: skip


def test_line_task_is_throttled_and_gives_an_eta() -> None:
    lines: list[str] = []
    now = [0.0]
    task = LineTask(lines.append, "training bow", 100, interval=10, now=lambda: now[0])
    for _ in range(20):  # 20 steps in 4 s: under the interval, no line
        now[0] += 0.2
        task.advance()
    assert lines == []
    now[0] = 10.0  # 20 steps done after 10 s: 80 to go at 0.5 s each
    task.advance(5)
    assert lines == ["training bow: 25/100 (25%), 0:10 elapsed, ETA 0:30"]
    now[0] = 12.0
    task.advance(75)  # within the interval again: no line
    assert len(lines) == 1
    task.finish()
    assert lines[-1] == "training bow: 100/100 (100%) in 0:12"


def test_a_short_loop_prints_nothing_but_units_do() -> None:
    out = io.StringIO()
    progress = Progress(Console(file=out, width=200), mode="auto", interval=30)
    assert progress.lines, "a console that is not a terminal gets plain lines"
    with progress.unit("M0 (seed 0)", 1, 3), progress.task("training bow", 10) as handle:
        for _ in range(10):
            handle.advance()
    text = out.getvalue().splitlines()
    assert len(text) == 2
    assert text[0].endswith("[1/3] M0 (seed 0) started")
    assert text[1].endswith("[1/3] M0 (seed 0) finished in 0:00")


def test_progress_styles(monkeypatch: pytest.MonkeyPatch) -> None:
    quiet = io.StringIO()
    assert not Progress(Console(file=quiet), enabled=False).enabled
    monkeypatch.setenv("HARNESS_PROGRESS", "off")
    assert Progress(Console(file=io.StringIO())).style == "off"
    monkeypatch.setenv("HARNESS_PROGRESS", "lines")
    assert Progress(Console(file=io.StringIO(), force_terminal=True)).style == "lines"
    monkeypatch.setenv("HARNESS_PROGRESS", "auto")
    assert Progress(Console(file=io.StringIO(), force_terminal=True)).style == "bars"
    assert clock(3725) == "1:02:05"


def test_run_prints_progress_lines_when_stderr_is_not_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_PROGRESS", "auto")
    monkeypatch.setenv("HARNESS_PROGRESS_INTERVAL", "0")
    result = CliRunner().invoke(cli, [*SMALL, "--output-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    err = result.stderr.splitlines()
    for unit in ("[1/2] M0 (seed 0)", "[2/2] retrain-random (seed 0)"):
        assert any(line.endswith(f"{unit} started") for line in err), err
        assert any(f"{unit} finished in " in line for line in err), err
    steps = [line for line in err if "training bow: " in line and "elapsed" in line]
    assert steps and all("/" in line for line in steps), "step lines give done/total"
    assert "started" not in result.stdout, "progress goes to stderr, not into the report"

    quiet = CliRunner().invoke(cli, [*SMALL, "-q", "--output-dir", str(tmp_path / "runs")])
    assert quiet.exit_code == 0 and quiet.stderr == ""


def _timing(run_dir: Path) -> dict:
    return json.loads((run_dir / "results.json").read_text(encoding="utf-8"))["timing"]


def test_rerun_and_resume_keep_the_training_time_of_cached_models(
    tmp_path: Path, isolated_cache: Path
) -> None:
    out = tmp_path / "runs"
    first = CliRunner().invoke(cli, [*SMALL, "--output-dir", str(out)])
    assert first.exit_code == 0, first.output
    (run_dir,) = list(out.iterdir())
    before = _timing(run_dir)
    assert before["loaded_models"] == {"M0": 0, "retrain-random": 0}
    assert before["trained_seconds"]["M0"] > 0
    stored = [
        json.loads(p.read_text())["train_seconds"]
        for p in (isolated_cache / "models").glob("*/done.json")
    ]
    assert sorted(stored) == sorted(before["trained_seconds"].values())

    for args in ([*SMALL, "--output-dir", str(out)], ["run", "--resume", str(run_dir)]):
        again = CliRunner().invoke(cli, args, env={"COLUMNS": "250"})
        assert again.exit_code == 0, again.output
        after = _timing(run_dir)
        assert after["loaded_models"] == {"M0": 1, "retrain-random": 1}
        assert after["trained_seconds"] == before["trained_seconds"], "original training time"
        assert f"cached ({before['trained_seconds']['M0']:.1f})" in again.stdout
        assert "s = the seconds they took to train" in " ".join(again.stdout.split())


def test_a_cache_entry_without_a_stored_training_time_shows_unknown(
    tmp_path: Path, isolated_cache: Path
) -> None:
    out = tmp_path / "runs"
    assert CliRunner().invoke(cli, [*SMALL, "--output-dir", str(out)]).exit_code == 0
    from harness.cache_entries import MANIFEST, write_manifest

    for done in (isolated_cache / "models").glob("*/done.json"):
        info = json.loads(done.read_text())
        info.pop("train_seconds")
        done.write_text(json.dumps(info))
        # an entry written without the time (its manifest matches, so it is not damaged)
        manifest = json.loads((done.parent / MANIFEST).read_text())
        (done.parent / MANIFEST).unlink()
        write_manifest(done.parent, manifest["kind"], manifest["key"])
    again = CliRunner().invoke(cli, [*SMALL, "--output-dir", str(out)], env={"COLUMNS": "250"})
    assert again.exit_code == 0, again.output
    (run_dir,) = list(out.iterdir())
    assert _timing(run_dir)["trained_seconds"] == {"M0": None, "retrain-random": None}
    m0 = next(line for line in again.stdout.splitlines() if line.startswith("M0 "))
    assert m0.rstrip().endswith("cached"), m0
