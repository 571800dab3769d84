"""The content-hash cache: a second identical run trains and predicts nothing; ``--no-cache``;
``harness cache ls`` / ``clear``; damaged entries cost a retrain, not the run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from harness.api import Split
from harness.cache import Cache, model_hash
from harness.cli import cli
from harness.validation import validate
from harness_plugins.models.bow import BowArgs, BowModel

RUN = ["run", "-q", "--model-args", "epochs=2", "--interventions", ""]
RUN += ["--task-args", "n_train=300,n_test=100,n_pool=0"]


def run(tmp_path: Path, out: str, *extra: str) -> dict:
    result = CliRunner().invoke(cli, [*RUN, "--output-dir", str(tmp_path / out), *extra])
    assert result.exit_code == 0, result.output
    (path,) = (tmp_path / out).glob("*/results.json")
    return json.loads(path.read_text())


def forbid(monkeypatch: pytest.MonkeyPatch, *methods: str) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cache should have answered")

    for method in methods:
        monkeypatch.setattr(BowModel, method, fail)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(path))
    return path


def test_second_identical_run_trains_nothing(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run(tmp_path, "a")
    assert len(list((cache / "models").iterdir())) == 1
    assert len(list((cache / "predictions").glob("*/predictions.npy"))) == 1
    forbid(monkeypatch, "fit", "predict_proba", "predict")
    second = run(tmp_path, "b")
    first.pop("timing")
    second.pop("timing")
    assert first == second


def test_no_cache_trains_again_and_writes_nothing(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    original = BowModel.fit
    monkeypatch.setattr(
        BowModel, "fit", lambda self, *a, **k: (calls.append(1), original(self, *a, **k))[1]
    )
    first = run(tmp_path, "a", "--no-cache")
    second = run(tmp_path, "b", "--no-cache")
    assert len(calls) == 2 and not cache.exists()
    first.pop("timing")
    second.pop("timing")
    assert first["models"] == second["models"]  # training is seeded


def test_cache_ls_and_clear(tmp_path: Path, cache: Path) -> None:
    runner = CliRunner()
    assert "is empty" in runner.invoke(cli, ["cache", "ls"]).output
    run(tmp_path, "a")
    listing = runner.invoke(cli, ["cache", "ls"], terminal_width=200)
    assert listing.exit_code == 0 and "bow" in listing.output and "M0" in listing.output
    data = json.loads(runner.invoke(cli, ["cache", "ls", "--json"]).output)
    (entry,) = data["entries"]
    assert entry["purpose"] == "M0" and entry["seed"] == 0 and entry["predictions"] == 1
    assert data["total_bytes"] > entry["size"] > 0
    refused = runner.invoke(cli, ["cache", "clear"], input="n\n")
    assert refused.exit_code == 1 and (cache / "models").exists()
    cleared = runner.invoke(cli, ["cache", "clear", "--yes"])
    assert cleared.exit_code == 0 and "removed" in cleared.output
    assert not (cache / "models").exists() and not (cache / "predictions").exists()
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "keep.txt").write_text("not ours")
    runner.invoke(cli, ["cache", "clear", "--yes", "--cache-dir", str(other)])
    assert (other / "keep.txt").exists()


def test_damaged_entry_is_retrained(tmp_path: Path) -> None:
    split = Split(
        ids=[str(i) for i in range(40)],
        texts=["you fool" if i % 2 else "nice day" for i in range(40)],
        labels=np.arange(40) % 2,
    )
    trainer = Cache(root=tmp_path, enabled=True)
    args = validate(BowArgs, {"epochs": 1})
    first = trainer.train(BowModel(args, 2), split, 0, "M0")
    key = model_hash(first)
    assert key is not None
    (tmp_path / "models" / key / "model.safetensors").write_bytes(b"garbage")
    again = trainer.train(BowModel(args, 2), split, 0, "M0")
    assert trainer.trained == 2 and trainer.loaded == 0
    third = trainer.train(BowModel(args, 2), split, 0, "M0")
    assert trainer.loaded == 1
    np.testing.assert_array_equal(
        again.predict_proba(split.texts), third.predict_proba(split.texts)
    )
    assert "1 model(s) loaded, 2 trained" in trainer.summary()
