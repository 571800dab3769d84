"""Friction around real suites: a seeded train-only cap (``train_limit`` / ``--limit-train``),
``specs validate --config`` checking suites as the run loads them, and a ``specs stats``
suggestion that keeps its ``--option`` flags."""

from __future__ import annotations

import csv
import json
import shlex
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner, Result

from harness.api import Split, Task
from harness.cli import cli
from harness.train_sample import label_quotas, sample_train

OK = ["thanks for the soup", "see you at the park", "what a kind neighbour", "lovely weather"]
BAD = ["you are an idiot", "what a stupid clown", "get lost you moron", "shut up fool"]


def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(cli, args)


def write_split(path: Path, n_ok: int, n_bad: int, tag: str) -> None:
    """Rows of both labels, interleaved with all toxic rows last (so the first N rows of the
    file hold no toxic row when N <= n_ok)."""
    rows = [(f"{OK[i % len(OK)]} {tag}{i}", 0) for i in range(n_ok)]
    rows += [(f"{BAD[i % len(BAD)]} {tag}{i}", 1) for i in range(n_bad)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)


def files_args(folder: Path) -> str:
    write_split(folder / "train.csv", 90, 30, "tr")
    write_split(folder / "test.csv", 20, 20, "te")
    return f"train={folder / 'train.csv'},test={folder / 'test.csv'},label_map=0:non-toxic|1:toxic"


def toy_task(labels: list[int]) -> Task:
    n = len(labels)
    split = Split(ids=[f"r{i}" for i in range(n)], texts=[f"t{i}" for i in range(n)], labels=labels)
    return Task(name="toy", label_names=["a", "b", "c"], train=split, test=split, pool=split)


def test_train_sample_is_stratified_seeded_and_not_the_first_rows() -> None:
    labels = [0] * 60 + [1] * 30 + [2] * 10  # sorted by label: the first rows are all 'a'
    task = toy_task(labels)
    sampled, record = sample_train(task, 20, seed=0)
    assert record is not None
    assert (record.available, record.kept, record.seed) == (100, 20, 0)
    assert record.label_counts == {"a": 12, "b": 6, "c": 2}
    assert record.method == "stratified by label"
    ids = sampled.train.ids
    assert ids != task.train.ids[:20]
    assert ids == sorted(ids, key=lambda i: int(i[1:])), "kept rows stay in file order"
    assert len(sampled.test) == len(sampled.pool) == 100, "test and pool stay whole"
    again, _ = sample_train(task, 20, seed=0)
    other, _ = sample_train(task, 20, seed=1)
    assert again.train.ids == ids and other.train.ids != ids
    assert sample_train(task, 100, seed=0) == (task, None), "nothing to cut"
    assert sample_train(task, None, seed=0) == (task, None)
    # Largest remainder, at least one per label, never more than a label has.
    assert label_quotas(np.array([98, 1, 1]), 10).tolist() == [8, 1, 1]
    assert label_quotas(np.array([5, 5]), 3).tolist() == [2, 1]
    assert label_quotas(np.array([3, 1]), 4).tolist() == [3, 1]


def test_limit_train_runs_on_a_sample_and_records_it(tmp_path: Path) -> None:
    args = files_args(tmp_path)
    base = ["run", "-q", "--task", "files", "--task-args", args, "--specs", "demo",
            "--model-args", "epochs=1", "--interventions", "retrain", "--budget", "0",
            "--device", "cpu", "--output-dir", str(tmp_path / "runs")]  # fmt: skip
    result = CliRunner().invoke(cli, [*base, "--limit-train", "40"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "train: 40 of 120 rows (stratified by label, seed 0: non-toxic 30, toxic 10)" in (
        result.output
    )
    (run_dir,) = list((tmp_path / "runs").iterdir())
    data = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    assert data["config"]["train_limit"] == 40
    assert data["task"]["n_train"] == 40 and data["task"]["n_test"] == 40
    assert data["task"]["train_sample"] == {
        "method": "stratified by label",
        "seed": 0,
        "available": 120,
        "kept": 40,
        "label_counts": {"non-toxic": 30, "toxic": 10},
    }
    markdown = invoke(["report", str(run_dir), "--format", "md"])
    assert "Trained on 40 of 120 train rows (stratified by label, seed 0" in markdown.output
    # The cap is part of what the run id hashes; without it the run id is another one.
    assert invoke(base).exit_code == 0
    assert len(list((tmp_path / "runs").iterdir())) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--limit-train", "1"], "--limit-train: Input should be greater than or equal to 2"),
        (["--limit-train", "x"], "--limit-train: 'x' is not a valid integer"),
    ],
)
def test_bad_train_limits_are_one_line_errors(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = invoke(["run", "-q", "--output-dir", str(tmp_path / "runs"), *args])
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert message in line
    assert not (tmp_path / "runs").exists()


def test_resume_refuses_limit_train(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    result = invoke(["run", "--resume", str(tmp_path / "run"), "--limit-train", "10"])
    assert result.exit_code == 2
    assert "--limit-train cannot be combined with --resume" in result.output


def hatemoderate(folder: Path, heldout_text: str = "held {g} {i}") -> None:
    """HateModerate-shaped suite files: train (text), test (sentence), guidelines (3 columns)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "train.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["guideline", "text", "labels"])
        writer.writerows([g, f"train {g} {i}", 1] for g in ("g1", "g2") for i in range(12))
    with (folder / "test.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["guideline", "sentence", "labels"])
        writer.writerows(
            [g, heldout_text.format(g=g, i=i), 1] for g in ("g1", "g2") for i in range(12)
        )


def write_config(project: Path, extra_options: str = "") -> Path:
    (project / "data").mkdir(parents=True, exist_ok=True)
    files_args(project / "data")
    hatemoderate(project / "suites")
    config = project / "configs" / "run.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        "task: files\n"
        "task_args: {train: ../data/train.csv, test: ../data/test.csv, pool: ../data/pool.csv,"
        " label_map: {0: non-toxic, 1: toxic}}\n"
        "specs:\n"
        "  - ref: ../suites/train.csv\n"
        "    source: csv\n"
        "    options:\n"
        "      spec_column: guideline\n"
        "      label_column: labels\n"
        "      label_map: {0: non-toxic, 1: toxic}\n"
        "      heldout: {file: test.csv, text_column: sentence}\n" + extra_options,
        encoding="utf-8",
    )
    return config


def test_specs_validate_config_checks_the_suites_as_the_run_loads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    config = write_config(project)
    write_split(project / "data" / "pool.csv", 10, 10, "po")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    result = invoke(["specs", "validate", "--config", "../project/configs/run.yaml"])
    assert result.exit_code == 0, result.output
    assert "ok: 1 suite(s), 2 spec(s), 48 case(s), 0 warning(s)" in result.output
    assert "none of 24 held-out case(s) found in train, pool, test, D_i" in result.stderr

    # The same file without the config's options does not load: the config is what matters.
    alone = invoke(["specs", "validate", str(project / "suites" / "train.csv")])
    assert alone.exit_code == 2

    # A held-out text planted in the pool is found, because the config's task is loaded.
    with (project / "data" / "pool.csv").open("a", encoding="utf-8") as handle:
        handle.write("held g1 3,1\n")
    leaked = invoke(["specs", "validate", "--config", str(config)])
    assert leaked.exit_code == 0, leaked.output
    assert "g1: 1 of 12 held-out case(s) appear in the task's pool" in leaked.stderr
    assert "1 of 24 held-out case(s) found elsewhere" in leaked.stderr

    # Errors of the config's own suites are findings (file:line: spec: message), exit 2.
    config.write_text(config.read_text().replace("{0: non-toxic, 1: toxic}}", "{0: a, 1: b}}"))
    wrong = invoke(["specs", "validate", "--config", str(config)])
    assert wrong.exit_code == 2
    errors = [line for line in wrong.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: {project / 'suites' / 'train.csv'}:{line}: {spec}: label 'toxic' is not one of "
        "the task's labels; use one of: a, b"
        for line, spec in ((2, "g1"), (14, "g2"))
    ]

    # What the run checks after loading: a check naming a suite that is not loaded.
    config.write_text(
        config.read_text().replace("{0: a, 1: b}}", "{0: non-toxic, 1: toxic}}")
        + "check: {suites: [hatemoderate]}\n"
    )
    unknown = invoke(["specs", "validate", "--config", str(config)])
    assert unknown.exit_code == 2
    assert "unknown suite 'hatemoderate'" in unknown.stderr


def test_specs_validate_config_bad_input(tmp_path: Path) -> None:
    config = write_config(tmp_path / "project")
    nothing = invoke(["specs", "validate"])
    assert nothing.exit_code == 2
    assert "PATHS: nothing to check; give spec files or suite names, or --config" in nothing.output
    both = invoke(["specs", "validate", "--config", str(config), "--task", "demo"])
    assert both.exit_code == 2
    (line,) = both.output.strip().splitlines()
    assert "--task and --task-args cannot be combined with --config" in line
    missing = invoke(["specs", "validate", "--config", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2
    assert len(missing.output.strip().splitlines()) == 1
    config.write_text(config.read_text().replace("../data/train.csv", "../data/trian.csv"))
    bad_path = invoke(["specs", "validate", "--config", str(config)])
    assert bad_path.exit_code == 2
    (line,) = bad_path.output.strip().splitlines()
    assert f"{tmp_path / 'project' / 'data' / 'trian.csv'}: task_args.train: file not found" in line


def test_specs_stats_suggests_a_validate_command_that_keeps_its_flags(tmp_path: Path) -> None:
    hatemoderate(tmp_path / "suites", heldout_text="train {g} {i}")  # held-out = D_i: warnings
    options = [
        "--source", "csv", "--option", "spec_column=guideline", "--option", "label_column=labels",
        "--option", "label_map={0: non-toxic, 1: toxic}",
        "--option", "heldout={file: test.csv, text_column: sentence}", "--seed", "3",
    ]  # fmt: skip
    path = str(tmp_path / "suites" / "train.csv")
    stats = CliRunner().invoke(cli, ["specs", "stats", path, *options], env={"COLUMNS": "400"})
    assert stats.exit_code == 0, stats.output
    line = next(text for text in stats.output.splitlines() if "run `harness specs validate" in text)
    command = line.split("`")[1]
    assert command == shlex.join(["harness", "specs", "validate", path, *options])
    suggested = invoke(shlex.split(command)[1:])
    assert suggested.exit_code == 0, suggested.output
    assert "ok: 1 suite(s), 2 spec(s), 48 case(s), 2 warning(s)" in suggested.stdout
    assert "g1: 12 of 12 held-out case(s) have the same text as a D_i case" in suggested.stderr


def test_argument_flags_merge_into_the_config_key_by_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--model-args / --task-args merge into the config's mapping key by key: the file's other
    keys stay (their paths read from the file's folder), the flag's paths are read from the
    current folder; a flag for another plugin replaces the mapping."""
    folder = tmp_path / "data"
    folder.mkdir()
    files_args(folder)
    config = tmp_path / "run.yaml"
    config.write_text(
        "task: files\n"
        "task_args: {train: data/train.csv, test: data/test.csv,"
        " label_map: {0: non-toxic, 1: toxic}}\n"
        "model: bow\n"
        "model_args: {epochs: 2, class_weight: balanced}\n",
        encoding="utf-8",
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "test.csv").write_bytes((folder / "test.csv").read_bytes())
    monkeypatch.chdir(elsewhere)
    base = ["run", "--config", str(config), "--print-config"]
    merged = invoke([*base, "--model-args", "epochs=1", "--task-args", "test=test.csv"])
    assert merged.exit_code == 0 and merged.stderr == "", merged.output
    printed = yaml.safe_load(merged.stdout)
    assert printed["model_args"] == {"epochs": 1, "class_weight": "balanced"}
    assert printed["task_args"]["train"] == str(folder / "train.csv")  # the file's folder
    assert printed["task_args"]["test"] == str(elsewhere / "test.csv")  # the current folder
    assert printed["task_args"]["label_map"] == {"0": "non-toxic", "1": "toxic"}
    other_model = invoke([*base, "--model", "sklearn", "--model-args", "C=2"])
    assert other_model.exit_code == 0 and other_model.stderr == "", other_model.output
    assert yaml.safe_load(other_model.stdout)["model_args"] == {"C": 2}
    # a mistake in a key the flag gives names the flag; one in the file's keys, file and line
    bad_flag = invoke([*base, "--task-args", "text_column=5"])
    assert bad_flag.exit_code == 2
    assert bad_flag.stderr.startswith("error: --task-args text_column: Input should be a valid")
    config.write_text(
        config.read_text(encoding="utf-8").replace("epochs: 2", "epochs: x"), encoding="utf-8"
    )
    bad_file = invoke([*base, "--model-args", "class_weight=balanced"])
    assert bad_file.exit_code == 2
    assert bad_file.stderr.startswith(f"error: {config}:4: model_args.epochs: Input should be")
