"""A pool made of several named sources: per-source column mappings in the ``files`` task, rows
that keep their source through subset/concat/relabel, selections restricted to named sources,
and per-source / per-label counts in ``results.json`` and the reports (the bad inputs live in
``test_bad_input.py``)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from harness.api import Split
from harness.cli import cli
from harness_plugins.tasks.files import load_files

OK = ["the soup at the cafe was lovely", "thanks for the help today", "see you at the park"]
BAD = ["you are an idiot", "what a stupid clown", "get lost you moron"]
POLICY_OK = ["nobody should call them idiots", "calling people clowns is wrong"]
POLICY_BAD = ["those people are all morons", "they are stupid clowns and fools"]
SOURCES = ["general", "policy"]


def rows(n: int, seed: int, ok: list[str], bad: list[str]) -> list[tuple[str, int]]:
    """``n`` (text, 0/1) rows drawn from the two phrase lists, each made unique."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        label = rng.random() < 0.4
        phrase = rng.choice(bad if label else ok)
        out.append((f"{phrase} {seed}-{i}", int(label)))
    return out


def write_csv(path: Path, header: str, lines: list[str]) -> str:
    """Write a CSV file and return its path."""
    path.write_text(header + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def named(label: int) -> str:
    return "toxic" if label else "non-toxic"


def make_files(tmp: Path) -> dict[str, str]:
    """train/test (text,label with names), a general pool like them, and a policy file with
    other column names, 0/1 labels and its own ids."""
    train = rows(80, 1, OK, BAD)
    test = rows(30, 2, OK, BAD)
    general = rows(60, 3, OK, BAD)
    policy = rows(24, 4, POLICY_OK, POLICY_BAD)
    return {
        "train": write_csv(tmp / "train.csv", "text,label", [f"{t},{named(y)}" for t, y in train]),
        "test": write_csv(tmp / "test.csv", "text,label", [f"{t},{named(y)}" for t, y in test]),
        "general": write_csv(
            tmp / "general.csv", "text,label", [f"{t},{named(y)}" for t, y in general]
        ),
        "policy": write_csv(
            tmp / "policy.csv",
            "guideline,sentence,labels,uid",
            [f"g{i % 3},{t},{y},p{i}" for i, (t, y) in enumerate(policy)],
        ),
    }


def pool_sources(files: dict[str, str]) -> list[dict[str, object]]:
    return [
        {"name": "general", "path": files["general"]},
        {
            "name": "policy",
            "path": files["policy"],
            "text_column": "sentence",
            "label_column": "labels",
            "id_column": "uid",
            "label_map": {0: "non-toxic", 1: "toxic"},
        },
    ]


def test_split_keeps_sources_through_subset_concat_and_relabel() -> None:
    a = Split(ids=["a", "b", "c"], texts=["x", "y", "z"], labels=np.array([0, 1, 0]))
    b = Split(ids=["d"], texts=["w"], labels=np.array([1]), sources=["policy"])
    named_a = Split(a.ids, a.texts, a.labels, sources=["general", "policy", "general"])
    assert a.sources is None and a.source_names() == ["pool"] * 3
    assert named_a.subset([2, 1]).sources == ["general", "policy"]
    assert a.subset([0]).sources is None
    assert named_a.concat(b).sources == ["general", "policy", "general", "policy"]
    assert a.concat(b).sources == ["", "", "", "policy"]
    assert a.concat(a).sources is None
    assert named_a.with_labels(np.array([1, 1, 1])).sources == named_a.sources
    assert named_a.source_counts() == {"general": 2, "policy": 1}
    with pytest.raises(ValueError, match="one entry per row"):
        Split(ids=["a"], texts=["x"], labels=np.array([0]), sources=["p", "q"])


def test_files_pool_sources_have_their_own_columns_and_keep_their_names(tmp_path: Path) -> None:
    files = make_files(tmp_path)
    task = load_files(train=files["train"], test=files["test"], pool=pool_sources(files))
    assert task.label_names == ["non-toxic", "toxic"]
    assert len(task.pool) == 60 + 24
    assert task.pool.source_counts() == {"general": 60, "policy": 24}
    sources = task.pool.sources or []
    assert sources[:60] == ["general"] * 60 and sources[60:] == ["policy"] * 24
    assert task.pool.ids[0] == "general:0" and task.pool.ids[60] == "policy:p0"
    policy_text = [t for t, s in zip(task.pool.texts, sources, strict=True) if s == "policy"]
    assert all(text.endswith(tuple(f"4-{i}" for i in range(24))) for text in policy_text)
    # labels 0/1 of the policy file went through its own label_map
    lines = Path(files["policy"]).read_text(encoding="utf-8").splitlines()[1:]
    raw = [int(line.split(",")[2]) for line in lines]
    assert task.pool.labels[60:].tolist() == raw
    # train and test keep their ids and have no sources; the single-file form still works
    assert task.train.sources is None and task.train.ids[0] == "train-0"
    single = load_files(train=files["train"], test=files["test"], pool=files["general"])
    assert single.pool.sources is None and single.pool.ids[0] == "pool-0"
    assert single.pool.texts == task.pool.texts[:60]


def test_source_options_fall_back_to_the_task_and_id_column_false(tmp_path: Path) -> None:
    files = make_files(tmp_path)
    with_ids = {}
    for split in ("train", "test"):
        lines = Path(files[split]).read_text(encoding="utf-8").splitlines()[1:]
        numbered = [f"{split[:2]}{i},{line}" for i, line in enumerate(lines)]
        with_ids[split] = write_csv(tmp_path / f"{split}_ids.csv", "id,text,label", numbered)
    task = load_files(
        train=with_ids["train"],
        test=with_ids["test"],
        id_column="id",
        pool=[{"name": "general", "path": files["general"], "id_column": False}],
    )
    assert task.train.ids[0] == "tr0" and task.test.ids[0] == "te0"
    assert task.pool.ids[:2] == ["general:0", "general:1"]


def test_a_source_lacking_a_label_gets_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = make_files(tmp_path)
    only_toxic = write_csv(tmp_path / "toxic.csv", "text,label", ["you fool,toxic"])
    task = load_files(
        train=files["train"], test=files["test"], pool=[{"name": "toxic-only", "path": only_toxic}]
    )
    assert len(task.pool) == 1
    assert capsys.readouterr().err == (
        f"warning: {only_toxic}: pool source 'toxic-only' holds no 'non-toxic' examples\n"
    )


def run_config(tmp: Path, files: dict[str, str], interventions: list[dict[str, object]]) -> Path:
    """Write a run config for the two-source task and return its path."""
    import yaml

    config = {
        "task": "files",
        "task_args": {"train": files["train"], "test": files["test"], "pool": pool_sources(files)},
        "specs": [{"ref": "demo"}],
        "model": "bow",
        "model_args": {"buckets": 1024, "dim": 8, "hidden": 8, "epochs": 2},
        "budget": 20,
        "device": "cpu",
        "output_dir": str(tmp / "out"),
        "interventions": interventions,
    }
    path = tmp / "run.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def test_two_source_run_records_per_source_counts(tmp_path: Path) -> None:
    files = make_files(tmp_path)
    config = run_config(
        tmp_path,
        files,
        [
            {"name": "retrain", "params": {"selection": "random"}},
            {"name": "retrain", "params": {"selection": "tfidf"}},
            {"name": "retrain", "params": {"selection": "tfidf", "sources": ["general"]}},
            {"name": "retrain", "params": {"selection": "random", "sources": ["policy"]}},
        ],
    )
    result = CliRunner().invoke(cli, ["run", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "Added to train, per source and label" in result.stdout
    (run_dir,) = list((tmp_path / "out").iterdir())
    data = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    assert data["task"]["pool_sources"] == {"general": 60, "policy": 24}
    rows = {m["id"]: m for m in data["models"]}
    assert list(rows) == [
        "M0",
        "retrain-random",
        "retrain-tfidf",
        "retrain-tfidf-general",
        "retrain-random-policy",
    ]
    for model_id in list(rows)[1:]:
        changes = rows[model_id]["seeds"][0]["changes"]
        added = changes["added_ids"]
        by_id = {source: sum(i.startswith(f"{source}:") for i in added) for source in SOURCES}
        assert changes["source_counts"] == by_id, model_id
        assert sum(changes["source_counts"].values()) == changes["n_selected"] == 20
        per_label = {
            label: sum(c[label] for c in changes["source_label_counts"].values())
            for label in ("non-toxic", "toxic")
        }
        assert per_label == changes["label_counts"]
        for source, counts in changes["source_label_counts"].items():
            assert sum(counts.values()) == changes["source_counts"][source]
    assert rows["retrain-tfidf-general"]["seeds"][0]["changes"]["source_counts"]["policy"] == 0
    assert rows["retrain-random-policy"]["seeds"][0]["changes"]["source_counts"] == {
        "general": 0,
        "policy": 20,
    }
    # the guided retrain pairs with the random one over the same sources only
    pairs = {(c["a"], c["b"]) for c in data["comparisons"] if c["kind"] == "guided-vs-random"}
    assert pairs == {("retrain-tfidf", "retrain-random")}
    markdown = CliRunner().invoke(cli, ["report", str(run_dir), "--format", "md"])
    assert markdown.exit_code == 0, markdown.output
    assert "### Added to train, per source and label" in markdown.stdout
    assert "Pool sources: general 60, policy 24." in markdown.stdout
    html = CliRunner().invoke(cli, ["report", str(run_dir), "--format", "html"])
    assert html.exit_code == 0 and "Added to train, per source and label" in html.stdout
    board = CliRunner().invoke(cli, ["report", str(run_dir), "--format", "json"])
    assert board.exit_code == 0, board.output
    added = {row["row"]: row["added"] for row in json.loads(board.stdout)["rows"]}
    assert added["M0"] == {}
    for model_id in list(rows)[1:]:
        counts = rows[model_id]["seeds"][0]["changes"]["source_label_counts"]
        assert added[model_id] == {
            source: {label: float(n) for label, n in per_label.items()}
            for source, per_label in counts.items()
        }
    # the guided retrain restricted to 'general' has no random retrain from 'general' only
    unjudged = [c for c in data["checks"] if c["id"].startswith("unjudged:")]
    assert [c["model"] for c in unjudged] == ["retrain-tfidf-general"]


def test_planning_reads_only_the_declared_intervention_attributes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from harness.api import Intervention, InterventionContext, InterventionOutcome, Task
    from harness.errors import UserError
    from harness.input_checks import check_pool

    class Draws(Intervention):
        name = "draws"
        uses_pool = True

        def budget_spent(self, run_budget: int) -> int | None:
            return 7

        def apply(self, ctx: InterventionContext) -> InterventionOutcome:
            raise NotImplementedError

    class NamedRetrainButNoPool(Draws):
        name = "retrain"
        uses_pool = False

    pool = Split(["p0", "p1"], ["a", "b"], np.array([0, 1]), sources=["general", "policy"])
    empty = Split([], [], np.zeros(0, dtype=np.int64))
    task = Task("t", ["x", "y"], train=pool, test=pool, pool=empty)
    check_pool(task, 600, [("other", NamedRetrainButNoPool(Draws.Args()))])
    with pytest.raises(UserError, match="draws up to 7 examples from the pool"):
        check_pool(task, 600, [("draws", Draws(Draws.Args()))])
    task.pool = pool
    check_pool(task, 600, [("draws", Draws(Draws.Args()))])
    assert "the pool has 2 examples, fewer than the budget 7: draws adds at most 2" in (
        capsys.readouterr().err
    )


def test_demo_pool_has_a_general_and_a_policy_source() -> None:
    import re

    from harness.config import SpecRef
    from harness.plugins import load_registries
    from harness.specs.loading import flatten_specs, load_suites
    from harness_plugins.tasks.demo import load_demo
    from harness_plugins.tasks.demo_policy import GUIDELINES

    task = load_demo(n_train=300, n_test=100, n_pool=200)
    assert task.pool.source_counts() == {"general": 200, "policy": 300}
    policy = [i for i, s in enumerate(task.pool.source_names()) if s == "policy"]
    labels = task.pool.labels[policy]
    assert 0.35 < labels.mean() < 0.65  # both labels, roughly balanced
    assert len({task.pool.texts[i] for i in policy}) == 300
    guidelines = set(task.metadata["policy_guidelines"].values())
    assert guidelines == set(GUIDELINES)
    # own wording: no policy text equals a spec case or a train/test text, even normalised
    specs = flatten_specs(
        load_suites([SpecRef(ref="demo")], load_registries().spec_sources), task.label_names
    )

    def norm(text: str) -> str:
        return " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower()).split())

    others = {norm(c.text) for s in specs for c in s.train_cases + s.heldout_cases}
    others |= {norm(t) for t in task.train.texts + task.test.texts}
    assert not {norm(task.pool.texts[i]) for i in policy} & others
    # n_pool=0 still means no pool; n_policy sets the policy source alone
    assert len(load_demo(n_train=50, n_test=20, n_pool=0).pool) == 0
    only = load_demo(n_train=50, n_test=20, n_pool=0, n_policy=40).pool
    assert only.source_counts() == {"policy": 40} and only.ids[0] == "policy-0"
    again = load_demo(n_train=300, n_test=100, n_pool=200)
    assert again.pool.texts == task.pool.texts and again.train.texts == task.train.texts


def test_pool_source_paths_in_a_config_are_read_from_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yaml

    (tmp_path / "data").mkdir()
    (tmp_path / "cfg").mkdir()
    (tmp_path / "elsewhere").mkdir()
    make_files(tmp_path / "data")
    sources = pool_sources({"general": "../data/general.csv", "policy": "../data/policy.csv"})
    config = {
        "task": "files",
        "task_args": {"train": "../data/train.csv", "test": "../data/test.csv", "pool": sources},
        "model": "bow",
        "model_args": {"buckets": 512, "dim": 8, "hidden": 8, "epochs": 1},
        "budget": 10,
        "device": "cpu",
        "interventions": [{"name": "retrain", "params": {"sources": ["policy"]}}],
        "output_dir": "out",
    }
    (tmp_path / "cfg" / "run.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    monkeypatch.chdir(tmp_path / "elsewhere")
    result = CliRunner().invoke(cli, ["run", "-q", "--config", "../cfg/run.yaml"])
    assert result.exit_code == 0, result.output
    (run_dir,) = list((tmp_path / "cfg" / "out").iterdir())
    saved = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    paths = [source["path"] for source in saved["task_args"]["pool"]]
    assert paths == [str(tmp_path / "data" / "general.csv"), str(tmp_path / "data" / "policy.csv")]
    data = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    assert data["models"][1]["seeds"][0]["changes"]["source_counts"] == {"general": 0, "policy": 10}


def test_pool_rows_repeating_train_or_test_texts_are_warned_about(tmp_path: Path) -> None:
    files = make_files(tmp_path)
    train_rows = Path(files["train"]).read_text(encoding="utf-8").splitlines()[1:]
    test_rows = Path(files["test"]).read_text(encoding="utf-8").splitlines()[1:]
    general = Path(files["general"])
    general.write_text(
        general.read_text(encoding="utf-8") + "\n".join(train_rows[:7] + test_rows[:2]) + "\n",
        encoding="utf-8",
    )
    config = run_config(tmp_path, files, [{"name": "retrain", "params": {"selection": "random"}}])
    result = CliRunner().invoke(cli, ["run", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert (
        "warning: task 'files': 7 of 93 pool rows (general 7) are texts of the train split "
        "(verbatim)" in result.stderr
    )
    assert "2 of 93 pool rows (general 2) are texts of the test split" in result.stderr
    assert "inflates test accuracy" in result.stderr


def test_a_pool_without_repeats_gets_no_overlap_warning(tmp_path: Path) -> None:
    files = make_files(tmp_path)
    config = run_config(tmp_path, files, [{"name": "retrain", "params": {"selection": "random"}}])
    result = CliRunner().invoke(cli, ["run", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "pool rows" not in result.stderr
