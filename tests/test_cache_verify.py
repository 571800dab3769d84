"""Verified cache entries: every entry is checked against its manifest (sizes, SHA-256) and its
content when read; a damaged one is warned about by name, taken away and recomputed, never used.
The fault injections of a hostile-input review, as tests: flipped bytes in M0's weights and in a
cached prediction set, an edited selection memo, a prediction outside the label range, a
truncated changes record; the results equal a clean run's apart from timing."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from harness.api import Split
from harness.cache import Cache, model_hash
from harness.cache_entries import (
    MANIFEST,
    DamagedEntry,
    identity,
    quarantine,
    verify,
    write_manifest,
)
from harness.cli import cli
from harness.errors import OutputError, PluginError
from harness.validation import validate
from harness_plugins.models.bow import BowArgs, BowModel

SPLIT = Split(
    ids=[str(i) for i in range(40)],
    texts=["you fool" if i % 2 else "nice day" for i in range(40)],
    labels=np.arange(40) % 2,
)


def tiny() -> BowModel:
    return BowModel(validate(BowArgs, {"epochs": 1, "buckets": 256, "dim": 8, "hidden": 8}), 2)


class Warnings(list[str]):
    def __call__(self, message: str) -> None:
        self.append(message)


def cache_at(root: Path) -> tuple[Cache, Warnings]:
    warnings = Warnings()
    return Cache(root=root, warn=warnings), warnings


def trained(root: Path) -> tuple[Cache, Warnings, BowModel, str, Path]:
    """A cache at ``root`` holding one trained model: the cache, its warnings, the model, its
    key and its entry."""
    cache, warnings = cache_at(root)
    model = cache.train(tiny(), SPLIT, 0, "M0")
    key = model_hash(model)
    assert key is not None
    return cache, warnings, model, key, root / "models" / key


def flip_bytes(path: Path, count: int, seed: int = 0) -> None:
    """XOR ``count`` distinct bytes of ``path`` with 0xFF (skipping a header of 16 bytes)."""
    data = bytearray(path.read_bytes())
    rng = random.Random(seed)
    for i in rng.sample(range(16, len(data)), min(count, len(data) - 16)):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def remanifest(entry: Path) -> None:
    """Rewrite an entry's manifest to match its (edited) files, as a writer would have."""
    manifest = json.loads((entry / MANIFEST).read_text())
    (entry / MANIFEST).unlink()
    write_manifest(entry, manifest["kind"], manifest["key"])


def visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- entries ---------------------------------------------------------------------------------


def test_every_entry_has_a_manifest_that_verifies(tmp_path: Path) -> None:
    cache, warnings = cache_at(tmp_path)
    model = cache.train(tiny(), SPLIT, 0, "M0")
    cache.predict(model, SPLIT.texts, "predicting")
    cache.memo({"step": "x"}, lambda: {"indices": [1, 2]})
    entries = [
        p for folder in ("models", "predictions", "values") for p in (tmp_path / folder).iterdir()
    ]
    assert len(entries) == 3 and not warnings
    for entry in entries:
        manifest = json.loads((entry / MANIFEST).read_text())
        assert manifest["key"] == entry.name
        listed = set(manifest["files"])
        assert listed == {p.name for p in entry.iterdir()} - {MANIFEST}
        verify(entry, manifest["kind"], entry.name)


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda e: flip_bytes(e / "model.safetensors", 4000), "model.safetensors: its content"),
        (lambda e: flip_bytes(e / "model.safetensors", 1), "model.safetensors: its content"),
        (lambda e: (e / "model.safetensors").write_bytes(b"x" * 10), "model.safetensors is 10"),
        (lambda e: (e / "done.json").unlink(), "done.json is missing"),
        (lambda e: (e / "extra.bin").write_bytes(b"1"), "extra.bin is not in manifest.json"),
        (lambda e: (e / MANIFEST).unlink(), "manifest.json is missing"),
        (lambda e: (e / MANIFEST).write_text("{"), "manifest.json is not valid"),
        (
            lambda e: ((e / "config.json").unlink(), (e / "config.json").symlink_to("/dev/zero")),
            "config.json is not a regular file",
        ),
    ],
)
def test_a_damaged_model_is_warned_about_by_name_and_retrained(
    tmp_path: Path, damage, problem: str
) -> None:
    cache, warnings, _, key, entry = trained(tmp_path)
    damage(entry)
    again = cache.train(tiny(), SPLIT, 0, "M0")
    assert cache.trained == 2 and cache.loaded == 0 and cache.damaged == 1
    (warning,) = warnings
    assert warning.startswith(f"cache entry model {key[:12]} (M0, seed 0) is damaged: ")
    assert problem in warning and warning.endswith("recomputing it")
    verify(entry, "model", key)  # the retrained entry took its place
    third = cache.train(tiny(), SPLIT, 0, "M0")
    assert cache.loaded == 1 and len(warnings) == 1
    np.testing.assert_array_equal(
        again.predict_proba(SPLIT.texts), third.predict_proba(SPLIT.texts)
    )
    assert visible(tmp_path / "models") == [key]  # nothing left over
    assert "1 damaged entr(ies) recomputed" in cache.summary()


def test_an_unloadable_but_intact_entry_is_kept(tmp_path: Path, monkeypatch) -> None:
    """Verified files a plugin cannot load (say, out of memory) are not damage: the model is
    trained again, the entry stays for other processes."""
    cache, warnings = cache_at(tmp_path)
    key = model_hash(cache.train(tiny(), SPLIT, 0, "M0"))
    assert key is not None

    def fail(self, directory: Path) -> None:
        raise MemoryError("no memory left")

    monkeypatch.setattr(BowModel, "load", fail)
    cache.train(tiny(), SPLIT, 0, "M0")
    assert cache.trained == 2 and cache.damaged == 0
    (warning,) = warnings
    assert warning.startswith(f"cannot read cache entry model {key[:12]}")
    assert "MemoryError: no memory left" in warning
    verify(tmp_path / "models" / key, "model", key)


def test_predictions_damaged_or_out_of_the_label_range_are_recomputed(tmp_path: Path) -> None:
    cache, warnings = cache_at(tmp_path)
    model = cache.train(tiny(), SPLIT, 0, "M0")
    clean = cache.predict(model, SPLIT.texts, "predicting M0")
    (entry,) = (tmp_path / "predictions").iterdir()
    path = entry / "predictions.npy"
    flip_bytes(path, 1, seed=3)
    assert np.array_equal(cache.predict(model, SPLIT.texts, "predicting M0"), clean)
    assert "predictions.npy: its content does not match" in warnings[-1]
    assert warnings[-1].startswith(f"cache entry predictions {entry.name[:12]} (predicting M0)")
    # A value outside the label range, in an entry whose manifest matches it.
    bad = clean.copy()
    bad[3] = 7
    np.save(path, bad, allow_pickle=False)
    remanifest(entry)
    assert np.array_equal(cache.predict(model, SPLIT.texts, "predicting M0"), clean)
    assert "a value 7 outside the label range 0..1" in warnings[-1]
    np.save(path, clean[:5], allow_pickle=False)  # too few values
    remanifest(entry)
    assert np.array_equal(cache.predict(model, SPLIT.texts, "predicting M0"), clean)
    assert "5 values for 40 texts" in warnings[-1]
    np.save(path, clean.astype(np.float32), allow_pickle=False)
    remanifest(entry)
    assert np.array_equal(cache.predict(model, SPLIT.texts, "predicting M0"), clean)
    assert "values of type float32" in warnings[-1]
    assert cache.damaged == 4 and cache.predicted == 5 and cache.predictions_cached == 0
    assert np.array_equal(cache.predict(model, SPLIT.texts, "predicting M0"), clean)
    assert cache.predictions_cached == 1 and len(warnings) == 4


def test_a_model_predicting_outside_its_labels_is_a_one_line_plugin_error(
    tmp_path: Path, monkeypatch
) -> None:
    cache, _ = cache_at(tmp_path)
    model = cache.train(tiny(), SPLIT, 0, "M0")
    monkeypatch.setattr(
        BowModel, "predict", lambda self, texts, progress=None: np.full(len(texts), 2)
    )
    with pytest.raises(PluginError, match=r"model 'bow' predicted a value 2 outside the label"):
        cache.predict(model, SPLIT.texts, "predicting M0")
    assert not (tmp_path / "predictions").exists()


def test_an_edited_memo_is_recomputed(tmp_path: Path) -> None:
    cache, warnings = cache_at(tmp_path)
    calls = []

    def compute() -> dict:
        calls.append(1)
        return {"indices": [3, 1, 4], "summary": {"n": 3}}

    recipe = {"step": "retrain-selection", "seed": 0}
    first = cache.memo(recipe, compute)
    (entry,) = (tmp_path / "values").iterdir()
    value = entry / "value.json"
    value.write_text(value.read_text().replace("[3, 1, 4]", "[3, 1, 5]"))
    assert cache.memo(recipe, compute) == first and len(calls) == 2
    (warning,) = warnings
    assert warning.startswith(f"cache entry value {entry.name[:12]} (retrain-selection)")
    value.write_text("{")  # invalid JSON with a manifest that matches it
    remanifest(entry)
    assert cache.memo(recipe, compute) == first and len(calls) == 3
    assert "value.json is not valid JSON" in warnings[-1]
    assert cache.memo(recipe, compute) == first and len(calls) == 3


def test_a_truncated_or_invalid_changes_record_is_a_damaged_entry(tmp_path: Path) -> None:
    cache, warnings = cache_at(tmp_path)
    base = cache.train(tiny(), SPLIT, 0, "M0")
    builds = []

    def build() -> tuple[BowModel, dict]:
        builds.append(1)
        model = tiny()
        model.fit(SPLIT.texts, SPLIT.labels, 1)
        return model, {"steps": 3, "note": "patched"}

    recipe = {"method": "patch", "seed": 0}
    _, changes = cache.derive(base, recipe, tiny, build, "patch")
    key = cache.derived_key(model_hash(base) or "", recipe)
    entry = tmp_path / "models" / key
    record = entry / "changes.json"
    record.write_text(record.read_text()[:10])
    assert cache.derive(base, recipe, tiny, build, "patch")[1] == changes
    assert len(builds) == 2 and "changes.json is 10 bytes" in warnings[-1]
    assert warnings[-1].startswith(f"cache entry derived model {key[:12]} (patch, seed 0)")
    record.write_text(record.read_text()[:10])
    remanifest(entry)
    assert cache.derive(base, recipe, tiny, build, "patch")[1] == changes
    assert len(builds) == 3 and "changes.json is not valid JSON" in warnings[-1]
    record.write_text("[1, 2]")
    remanifest(entry)
    assert cache.derive(base, recipe, tiny, build, "patch")[1] == changes
    assert "changes.json is not a JSON object" in warnings[-1]
    assert cache.derive(base, recipe, tiny, build, "patch")[1] == changes
    assert len(builds) == 4 and cache.damaged == 3


def test_cache_reads_are_bounded(tmp_path: Path, monkeypatch) -> None:
    cache, warnings = cache_at(tmp_path)
    cache.memo({"step": "big"}, lambda: "x" * (2 << 20))
    (entry,) = (tmp_path / "values").iterdir()
    monkeypatch.setenv("HARNESS_MAX_CACHE_MB", "1")
    # an intact entry above the limit is not read, and not removed either
    assert cache.memo({"step": "big"}, lambda: "x" * (2 << 20)) == "x" * (2 << 20)
    (warning,) = warnings
    assert warning.startswith(f"cannot read cache entry value {entry.name[:12]} (big)")
    assert "value.json is 2.0 MiB, more than the limit of 1 MiB" in warning
    assert "HARNESS_MAX_CACHE_MB" in warning and cache.damaged == 0
    verify(entry, "value", entry.name)
    (entry / MANIFEST).write_bytes(b" " * (2 << 20))
    with pytest.raises(
        DamagedEntry, match="manifest.json is 2.0 MiB, more than the limit of 1 MiB"
    ):
        verify(entry, "value", entry.name)


def test_a_manifest_for_another_entry_is_damage(tmp_path: Path) -> None:
    cache, warnings = cache_at(tmp_path)
    cache.memo({"step": "a"}, lambda: 1)
    cache.memo({"step": "b"}, lambda: 2)
    a, b = (tmp_path / "values" / cache.value_key({"step": s}) for s in "ab")
    shutil.rmtree(b)
    shutil.copytree(a, b)  # an entry copied under another key
    assert cache.memo({"step": "b"}, lambda: 2) == 2
    assert "manifest.json describes another entry (value " in warnings[-1]


# -- many writers ----------------------------------------------------------------------------


def test_losing_the_race_uses_the_first_finished_entry(tmp_path: Path) -> None:
    cache, warnings, first, key, entry = trained(tmp_path)
    manifest_before = (entry / MANIFEST).read_bytes()
    # Another process trained the same unit with a different outcome (say, on a GPU) and
    # finished second: its entry is dropped and it goes on with the first one's model.
    other = tiny()
    other.fit(SPLIT.texts, SPLIT.labels, 99)
    used, _ = cache._store(other, entry, "M0", 0)
    assert used is not other
    np.testing.assert_array_equal(used.predict_proba(SPLIT.texts), first.predict_proba(SPLIT.texts))
    assert (entry / MANIFEST).read_bytes() == manifest_before
    assert visible(tmp_path / "models") == [key] and not warnings


def test_a_damaged_entry_in_the_way_of_a_writer_is_replaced(tmp_path: Path) -> None:
    cache, warnings, first, key, entry = trained(tmp_path)
    flip_bytes(entry / "model.safetensors", 10)
    used, _ = cache._store(first, entry, "M0", 0)
    assert used is first and "is damaged" in warnings[-1]
    verify(entry, "model", key)
    assert visible(tmp_path / "models") == [key]


def test_quarantine_leaves_a_newer_entry_alone(tmp_path: Path) -> None:
    entry = tmp_path / "values" / "k"
    entry.mkdir(parents=True)
    seen = identity(entry)
    assert seen is not None
    os.rename(entry, tmp_path / "values" / "old")
    entry.mkdir()  # another process put a new entry in its place
    assert not quarantine(entry, seen) and entry.exists()
    assert quarantine(entry, identity(entry) or seen) and not entry.exists()
    assert visible(tmp_path / "values") == ["old"]  # renamed away, then deleted: nothing else


def test_a_failed_write_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    cache, _ = cache_at(tmp_path)

    def full(self, directory: Path) -> None:
        (directory / "model.safetensors").write_bytes(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(BowModel, "save", full)
    with pytest.raises(OutputError, match="No space left on device"):
        cache.train(tiny(), SPLIT, 0, "M0")
    assert visible(tmp_path / "models") == []


# -- runs and the command line -----------------------------------------------------------------

RUN = ["run", "-q", "--model-args", "epochs=1", "--interventions", "retrain,patch"]
RUN += ["--task-args", "n_train=200,n_test=60,n_pool=200", "--budget", "40"]


def run(tmp_path: Path, cache: Path, name: str) -> tuple[dict, str]:
    result = CliRunner().invoke(
        cli,
        [*RUN, "--output-dir", str(tmp_path / name), "--cache-dir", str(cache)],
        terminal_width=400,
    )
    assert result.exit_code == 0, result.output
    (path,) = (tmp_path / name).glob("*/results.json")
    data = json.loads(path.read_text())
    data.pop("timing")
    data.pop("run_id", None)
    data["config"].pop("cache_dir", None)
    data["config"].pop("output_dir", None)
    return data, result.stderr


def entries(cache: Path, folder: str) -> list[Path]:
    return sorted(p for p in (cache / folder).iterdir() if not p.name.startswith("."))


def test_fault_injections_are_detected_named_and_recomputed(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    clean, _ = run(tmp_path, cache, "clean")
    m0 = next(
        e
        for e in entries(cache, "models")
        if json.loads((e / "done.json").read_text())["purpose"] == "M0"
    )
    patch = next(e for e in entries(cache, "models") if (e / "changes.json").exists())
    (selection,) = entries(cache, "values")
    m0_predictions = next(e for e in entries(cache, "predictions") if e.name.startswith(m0.name))
    other_predictions = next(e for e in entries(cache, "predictions") if e != m0_predictions)
    before = {f: [e.name for e in entries(cache, f)] for f in ("models", "values", "predictions")}

    flip_bytes(m0 / "model.safetensors", 4000)
    flip_bytes(m0_predictions / "predictions.npy", 1, seed=7)
    memo = selection / "value.json"
    memo.write_text(
        re.sub(r'"indices": \[(\d+)', lambda m: f'"indices": [{int(m[1]) + 1}', memo.read_text())
    )
    # a value outside the label range, in an entry whose manifest was rewritten to match: the
    # content check catches what the hashes cannot
    bad = np.load(other_predictions / "predictions.npy")
    bad[0] = 9
    np.save(other_predictions / "predictions.npy", bad, allow_pickle=False)
    remanifest(other_predictions)
    (patch / "changes.json").write_text((patch / "changes.json").read_text()[:20])

    damaged, stderr = run(tmp_path, cache, "damaged")
    assert damaged == clean
    warnings = [line for line in stderr.splitlines() if line.startswith("warning: cache entry")]
    assert len(warnings) == 5, stderr
    expected = {
        f"model {m0.name[:12]} (M0, seed 0)": "model.safetensors: its content does not match",
        f"predictions {m0_predictions.name[:12]}": "predictions.npy: its content does not match",
        f"value {selection.name[:12]} (retrain-selection)": "value.json",
        f"predictions {other_predictions.name[:12]}": "a value 9 outside the label range 0..1",
        f"derived model {patch.name[:12]}": "changes.json is 20 bytes",
    }
    for name, problem in expected.items():
        assert any(f"cache entry {name}" in w and problem in w for w in warnings), (name, stderr)

    repaired, stderr = run(tmp_path, cache, "repaired")
    assert repaired == clean and "warning" not in stderr
    after = {f: [e.name for e in entries(cache, f)] for f in ("models", "values", "predictions")}
    assert after == before
    assert not [p for p in cache.rglob(".*")], "temporary or quarantined items left behind"
    check = CliRunner().invoke(cli, ["cache", "verify", "--cache-dir", str(cache)])
    assert check.exit_code == 0
    assert re.search(r"verified \d+ entries .*: \d+ ok$", check.output.strip()), check.output


def test_cache_verify_and_ls_show_damaged_legacy_and_temporary_items(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    cache, _ = cache_at(root)
    model = cache.train(tiny(), SPLIT, 0, "M0")
    cache.predict(model, SPLIT.texts, "predicting")
    key = model_hash(model) or ""
    # what an older spec-harness left: a model folder without a manifest, .npy and .json files
    legacy = root / "models" / ("0" * 32)
    legacy.mkdir()
    (legacy / "done.json").write_text('{"model": "bow", "purpose": "M0", "seed": 1}')
    (root / "predictions" / f"{'0' * 32}-{'1' * 32}.npy").write_bytes(b"old")
    (root / "values").mkdir()
    (root / "values" / f"{'2' * 32}.json").write_text("[]")
    temporary = root / "models" / f".{key}.abc123"
    temporary.mkdir()
    os.utime(temporary, (0, 0))  # left by a writer killed long ago
    flip_bytes(root / "models" / key / "model.safetensors", 1)
    runner = CliRunner()

    listing = json.loads(
        runner.invoke(cli, ["cache", "ls", "--json", "--cache-dir", str(root)]).output
    )
    states = {e["key"]: e["state"] for e in listing["entries"]}
    assert states == {key: "ok", "0" * 32: "legacy"}  # ls checks sizes only
    assert (listing["legacy"], listing["temporary"], listing["damaged"]) == (3, 1, 0)

    check = runner.invoke(cli, ["cache", "verify", "--cache-dir", str(root)])
    assert check.exit_code == 1
    assert f"damaged    models/{key}: model.safetensors: its content does not match" in check.output
    assert "legacy     values/" in check.output and "temporary  models/." in check.output
    assert "1 damaged, 3 legacy, 1 temporary" in check.output

    removed = runner.invoke(cli, ["cache", "verify", "--remove", "--cache-dir", str(root)])
    assert removed.exit_code == 0 and "removed 5 item(s)" in removed.output
    assert visible(root / "models") == [] and visible(root / "values") == []
    (prediction,) = visible(root / "predictions")  # the prediction set of the damaged model
    assert prediction.startswith(key)
    again = runner.invoke(cli, ["cache", "verify", "--cache-dir", str(root), "--json"])
    assert again.exit_code == 0 and json.loads(again.output)["items"] == []


def test_a_read_error_is_not_damage(tmp_path: Path, monkeypatch) -> None:
    """A file that cannot be read now (a stale NFS handle, an I/O error) says nothing about the
    entry: warned about, recomputed, and the entry stays."""
    import errno

    import harness.cache_entries

    cache, warnings = cache_at(tmp_path)
    key = model_hash(cache.train(tiny(), SPLIT, 0, "M0")) or ""

    real_hash = harness.cache_entries.file_sha256

    def stale(path: Path, sync: bool = False) -> str:
        if not sync:  # reading (writers hash and sync what they wrote)
            raise OSError(errno.ESTALE, "Stale file handle")
        return real_hash(path, sync)

    monkeypatch.setattr(harness.cache_entries, "file_sha256", stale)
    cache.train(tiny(), SPLIT, 0, "M0")
    assert cache.trained == 2 and cache.damaged == 0 and len(warnings) == 1
    assert "cannot read cache entry model" in warnings[0] and "Stale file handle" in warnings[0]
    monkeypatch.undo()
    verify(tmp_path / "models" / key, "model", key)


def test_a_rename_reported_failed_after_it_happened_is_not_an_error(
    tmp_path: Path, monkeypatch
) -> None:
    """NFS may answer a retransmitted rename with ENOENT although the first one went through:
    the writer reads the entry, finds it intact (its own) and goes on."""
    import errno

    cache, warnings = cache_at(tmp_path)
    real_rename = os.rename

    def rename_then_fail(src: str | Path, dst: str | Path) -> None:
        real_rename(src, dst)
        if Path(dst).parent.name == "values":
            raise FileNotFoundError(errno.ENOENT, "No such file or directory")

    monkeypatch.setattr(os, "rename", rename_then_fail)
    assert cache.memo({"step": "nfs"}, lambda: [1, 2]) == [1, 2]
    (entry,) = (tmp_path / "values").iterdir()
    verify(entry, "value", entry.name)
    assert not warnings
