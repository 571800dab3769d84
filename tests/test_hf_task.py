"""The ``hf`` task: datasets built here and saved with ``save_to_disk``, local data files read
through a builder (``path=csv``), carved splits, pool sources, label names from a ClassLabel,
and content-hash cache keys (the error corpus lives in ``test_bad_input.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import cli
from harness.errors import UserError
from harness.text_column import TextColumn
from harness_plugins.tasks.hf import load_hf

datasets = pytest.importorskip("datasets")

GOOD = ["what a lovely day", "thanks for the help", "see you at the park", "great food here"]
BAD = ["you are an idiot", "what a stupid clown", "get lost you moron", "shut up you fool"]


def rows(n: int, offset: int = 0) -> dict[str, list[object]]:
    """``n`` rows alternating the two classes (0 = neg, 1 = pos), each text unique."""
    texts, labels = [], []
    for i in range(offset, offset + n):
        label = i % 2
        texts.append(f"{(BAD if label else GOOD)[i % 4]} {i}")
        labels.append(label)
    return {"text": texts, "label": labels}


def pairs(data: dict[str, list[object]]) -> list[tuple[object, object]]:
    """``(text, label)`` of every row."""
    return list(zip(data["text"], data["label"], strict=True))


def save_dict(tmp: Path, splits: dict[str, int], class_label: bool = True) -> str:
    """A DatasetDict with the given split sizes, saved to disk; returns its folder."""
    label = datasets.ClassLabel(names=["neg", "pos"]) if class_label else datasets.Value("int64")
    features = datasets.Features({"text": datasets.Value("string"), "label": label})
    offset, parts = 0, {}
    for name, size in splits.items():
        parts[name] = datasets.Dataset.from_dict(rows(size, offset), features=features)
        offset += size
    folder = tmp / "dataset"
    datasets.DatasetDict(parts).save_to_disk(str(folder))
    return str(folder)


def test_saved_dataset_dict_with_class_label_names(tmp_path: Path) -> None:
    folder = save_dict(tmp_path, {"train": 40, "test": 10, "extra": 30})
    task = load_hf(path=folder, pool_split="extra")
    assert task.label_names == ["neg", "pos"]
    assert (len(task.train), len(task.test), len(task.pool)) == (40, 10, 30)
    assert task.train.texts[:2] == [f"{GOOD[0]} 0", f"{BAD[1]} 1"]
    assert task.train.labels[:4].tolist() == [0, 1, 0, 1]
    assert isinstance(task.pool.texts, TextColumn) and task.pool.ids[0] == "extra-0"
    assert task.metadata["dataset"] == folder and task.metadata["fingerprint"]
    renamed = load_hf(path=folder, label_map="neg:non-toxic|pos:toxic")
    assert renamed.label_names == ["non-toxic", "toxic"] and len(renamed.pool) == 0
    assert load_hf(path=folder, labels="pos|neg").label_names == ["pos", "neg"]


def test_pool_and_test_carved_from_train_are_disjoint_and_seeded(tmp_path: Path) -> None:
    folder = save_dict(tmp_path, {"train": 100})
    task = load_hf(path=folder, test_from="train:0.2", pool_from="train:30")
    assert (len(task.train), len(task.test), len(task.pool)) == (50, 20, 30)
    ids = [set(task.train.ids), set(task.test.ids), set(task.pool.ids)]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    assert ids[0] | ids[1] | ids[2] == {f"train-{i}" for i in range(100)}
    again = load_hf(path=folder, test_from="train:0.2", pool_from="train:30")
    assert again.test.ids == task.test.ids and again.pool.ids == task.pool.ids
    other = load_hf(path=folder, test_from="train:0.2", pool_from="train:30", split_seed=1)
    assert other.test.ids != task.test.ids
    for split in (task.train, task.test):  # rows keep their order in the dataset
        assert list(split.ids) == sorted(split.ids, key=lambda i: int(i.split("-")[1]))


def test_local_data_files_through_a_builder(tmp_path: Path) -> None:
    def write(name: str, data: dict[str, list[object]]) -> str:
        path = tmp_path / name
        path.write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in pairs(data)))
        return str(path)

    train, test = write("train.csv", rows(20)), write("test.csv", rows(6, 20))
    task = load_hf(path="csv", data_files=f"train:{train}|test:{test}", labels="0|1")
    assert (len(task.train), len(task.test)) == (20, 6) and task.label_names == ["0", "1"]
    jsonl = tmp_path / "train.jsonl"
    jsonl.write_text(
        "".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in pairs(rows(10)))
    )
    single = load_hf(path="json", data_files=str(jsonl), test_from="train:0.3")
    assert (len(single.train), len(single.test)) == (7, 3)


def test_pool_sources_from_splits_and_other_datasets(tmp_path: Path) -> None:
    folder = save_dict(tmp_path, {"train": 40, "test": 10, "unlabelled": 20})
    other = tmp_path / "other"
    policy = {"sentence": [f"policy {t}" for t in rows(12)["text"]], "labels": ["no", "yes"] * 6}
    datasets.Dataset.from_dict(policy).save_to_disk(str(other))
    single = tmp_path / "extra.parquet"
    datasets.Dataset.from_dict(rows(5, 500)).to_parquet(str(single))
    task = load_hf(
        path=folder,
        pool=[
            {"name": "general", "split": "unlabelled"},
            {
                "name": "policy",
                "path": str(other),
                "text_column": "sentence",
                "label_column": "labels",
                "label_map": {"no": "neg", "yes": "pos"},
            },
            {"name": "extra", "path": str(single), "label_map": {"0": "neg", "1": "pos"}},
        ],
    )
    assert task.pool.source_counts() == {"general": 20, "policy": 12, "extra": 5}
    assert task.pool.ids[0] == "general:0" and task.pool.ids[20] == "policy:0"
    assert task.pool.labels[20:24].tolist() == [0, 1, 0, 1]
    assert task.pool.texts[32] == rows(5, 500)["text"][0]
    assert isinstance(task.pool.texts, TextColumn)


def test_errors_name_the_dataset_the_split_or_column_and_the_fix(tmp_path: Path) -> None:
    folder = save_dict(tmp_path, {"train": 20, "test": 6})

    def error(**kwargs: object) -> str:
        with pytest.raises(UserError) as info:
            load_hf(path=folder, **kwargs)
        return info.value.one_line()

    assert "task_args.test_split: dataset" in error(test_split="validation")
    assert "no split 'validation'; splits: train, test; or carve it" in error(
        test_split="validation"
    )
    assert "no column 'sentence'" in error(text_column="sentence")
    line = error(labels="toxic|non-toxic")
    assert "task_args.labels" in line and "ClassLabel with classes neg, pos" in line
    with pytest.raises(ValueError, match="a fraction between 0 and 1"):
        load_hf(path=folder, pool_from="train:1.5")
    assert "leaves split 'train' (20 rows) with none" in error(pool_from="train:20")
    assert "is the train split" in error(test_split="train")
    if not datasets.__version__.startswith(("2.", "3.")):  # scripts cannot run at all
        with pytest.raises(UserError, match="task_args.trust_remote_code: datasets .* runs no"):
            load_hf(path="someone/scripted", trust_remote_code=True)


def test_hub_id_while_offline_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError) as info:
        load_hf(path="someone/no-such-dataset-here")
    line = info.value.one_line()
    assert line.startswith("task_args.path: dataset 'someone/no-such-dataset-here'")
    assert "offline (HF_HUB_OFFLINE=1)" in line and "save_to_disk" in line


def test_a_changed_dataset_is_never_served_from_the_cache(tmp_path: Path) -> None:
    """Cache keys hash the rows' content: re-running the same config on a changed pool file
    selects and trains again; the unchanged file is served from the cache."""
    train = tmp_path / "train.csv"
    lines = [f"{t},{'toxic' if y else 'non-toxic'}" for t, y in pairs(rows(40))]
    train.write_text("text,label\n" + "\n".join(lines) + "\n")
    pool = tmp_path / "pool.csv"
    pool_rows = [f"{t},{'toxic' if y else 'non-toxic'}" for t, y in pairs(rows(30, 40))]
    pool.write_text("text,label\n" + "\n".join(pool_rows) + "\n")
    files = f"train:{train}|test:{train}|pool:{pool}"
    args = [
        "run", "-q", "--task", "hf",
        "--task-args", f"path=csv,data_files={files},pool_split=pool",
        "--interventions", "retrain", "--budget", "10", "--model-args", "epochs=1",
        "--device", "cpu", "--limit", "40", "--output-dir", str(tmp_path / "out"),
    ]  # fmt: skip

    def run() -> tuple[str, list[str], dict[str, int]]:
        before = set((tmp_path / "out").glob("*"))
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        (run_dir,) = (set((tmp_path / "out").glob("*")) - before) or before
        data = json.loads((run_dir / "results.json").read_text())
        retrain = data["models"][1]["seeds"][0]
        return run_dir.name, retrain["changes"]["added_ids"], data["timing"]["loaded_models"]

    run_id, first, loaded = run()
    assert sum(loaded.values()) == 0 and len(first) == 10
    same_id, again, loaded = run()
    assert (same_id, again) == (run_id, first) and list(loaded.values()) == [1, 1]  # cached
    changed = [line.replace(" ", "  ", 1) for line in pool_rows]  # same ids, other texts
    pool.write_text("text,label\n" + "\n".join(changed) + "\n")
    new_id, _, loaded = run()
    assert new_id != run_id  # the run id hashes the files' content too
    assert list(loaded.values()) == [1, 0]  # M0 (same train) cached; the retrain trains again


def test_hub_id_while_offline_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["run", "--task", "hf", "--task-args", "path=someone/sst2", "--output-dir", str(out)]
    )
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: task_args.path: dataset 'someone/sst2' is not in the local")
    assert not out.exists()
