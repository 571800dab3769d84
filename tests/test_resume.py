"""Interrupted runs: a run killed with SIGKILL midway is finished by ``harness run --resume`` and
gives the same results as an uninterrupted run, reusing the models it had already trained."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import cli

ARGS = [
    "run", "-q", "--limit", "300", "--seeds", "3", "--device", "cpu",
    "--interventions", "retrain", "--budget", "50", "--model-args", "epochs=3",
]  # fmt: skip
"""Enough work (M0 and a retrained model for each of three seeds) that a kill after the first
trained model lands midway."""
UNITS = 6
"""Models the run trains: M0 and the retrained model, per seed."""

HARNESS = [sys.executable, "-c", "from harness.cli import main; main()"]


def without_timing(path: Path) -> dict:
    """``results.json`` without its ``timing`` block (the only part allowed to differ)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    data.pop("timing")
    return data


def finished_models(cache: Path) -> list[Path]:
    """Model cache entries that finished (renamed into place with their manifest)."""
    return sorted((cache / "models").glob("[!.]*/manifest.json"))


def run_until_first_model_then_kill(out: Path, cache: Path) -> None:
    """Start a run in a subprocess and SIGKILL it as soon as the first model is in the cache."""
    env = {**os.environ, "HARNESS_CACHE_DIR": str(cache)}
    proc = subprocess.Popen(
        [*HARNESS, *ARGS, "--output-dir", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 240
    try:
        while not finished_models(cache):
            if proc.poll() is not None:
                pytest.fail(f"the run ended before any model was cached: {proc.stderr.read()!r}")
            if time.monotonic() > deadline:
                pytest.fail("no model was cached within 240 s")
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


def test_killed_run_resumes_to_the_same_results(tmp_path: Path, monkeypatch) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    run_until_first_model_then_kill(out, cache)

    (run_dir,) = list(out.iterdir())
    assert (run_dir / "config.json").is_file(), "config.json must be written before any work"
    assert not (run_dir / "results.json").exists(), "the kill did not land midway"
    first = finished_models(cache)
    assert 1 <= len(first) < UNITS
    first_mtimes = {p: p.stat().st_mtime_ns for p in first}

    monkeypatch.setenv("HARNESS_CACHE_DIR", str(cache))
    resumed = CliRunner().invoke(cli, ["run", "-q", "--resume", str(run_dir)])
    assert resumed.exit_code == 0, resumed.output
    assert (run_dir / "results.json").is_file()
    # The models finished before the kill were loaded, not trained again.
    assert {p: p.stat().st_mtime_ns for p in first} == first_mtimes
    assert len(finished_models(cache)) == UNITS
    # Nothing half-written is left in the run folder.
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "config.json",
        "results.json",
        "samples.jsonl",
    ]

    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "fresh-cache"))
    clean = CliRunner().invoke(cli, [*ARGS, "--output-dir", str(tmp_path / "clean")])
    assert clean.exit_code == 0, clean.output
    (clean_dir,) = list((tmp_path / "clean").iterdir())
    assert clean_dir.name == run_dir.name
    assert without_timing(run_dir / "results.json") == without_timing(clean_dir / "results.json")
    assert (run_dir / "samples.jsonl").read_bytes() == (clean_dir / "samples.jsonl").read_bytes()


def test_resume_removes_leftover_temporary_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = CliRunner().invoke(
        cli, ["run", "-q", "--limit", "150", "--interventions", "", "--output-dir", str(out)]
    )
    assert first.exit_code == 0, first.output
    (run_dir,) = list(out.iterdir())
    (run_dir / ".results.json.abc123.tmp").write_text("{half")
    again = CliRunner().invoke(cli, ["run", "-q", "--resume", str(run_dir)])
    assert again.exit_code == 0, again.output
    assert not list(run_dir.glob(".*"))


@pytest.mark.parametrize(
    ("make", "extra", "expected"),
    [
        (lambda d: None, [], "no such run folder"),
        (lambda d: d.mkdir(), [], "not a run folder (no config.json)"),
        (lambda d: (d.mkdir(), (d / "config.json").write_text("{oops")), [], "not valid JSON"),
        (
            lambda d: (d.mkdir(), (d / "config.json").write_text('{"modle": "bow"}')),
            [],
            "unknown key 'modle'",
        ),
        (lambda d: None, ["--seeds", "2"], "--seeds cannot be combined with --resume"),
        (lambda d: None, ["--no-cache"], "--no-cache cannot be combined with --resume"),
    ],
)
def test_bad_resume_targets_are_one_line_errors(
    tmp_path: Path, make, extra: list[str], expected: str
) -> None:
    run_dir = tmp_path / "runs" / "x"
    run_dir.parent.mkdir()
    make(run_dir)
    before = sorted(tmp_path.rglob("*"))
    result = CliRunner().invoke(cli, ["run", "--resume", str(run_dir), *extra])
    assert result.exit_code == 2, result.output
    assert expected in result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert sorted(tmp_path.rglob("*")) == before


def _tiny_model_and_split():
    import numpy as np

    from harness.api import Split
    from harness_plugins.models.bow import BowArgs, BowModel

    split = Split(
        ids=["a", "b", "c", "d"],
        texts=["you idiot", "nice day", "stupid clown", "lovely person"],
        labels=np.array([1, 0, 1, 0]),
    )
    return BowModel(BowArgs(epochs=1, buckets=64, dim=4, hidden=4), 2, "cpu"), split


def test_two_runs_sharing_a_cache_keep_the_first_finished_entry(tmp_path: Path) -> None:
    from harness.cache import Cache

    trainer = Cache(root=tmp_path / "cache")
    model, split = _tiny_model_and_split()
    trainer.train(model, split, 0, "M0")
    (entry,) = (tmp_path / "cache" / "models").iterdir()
    before = (entry / "done.json").stat().st_mtime_ns
    # A second process that trained the same unit concurrently stores it after the first.
    other, _ = _tiny_model_and_split()
    other.fit(split.texts, split.labels, 0)
    trainer._store(other, entry, "M0", 0)
    assert (entry / "done.json").stat().st_mtime_ns == before
    assert sorted(p.name for p in entry.parent.iterdir()) == [entry.name]
