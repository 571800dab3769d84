"""Tests of the example plugin: its items are registered, work, and run end to end."""

from __future__ import annotations

import csv
import importlib.metadata
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import cli
from harness.config import SpecRef
from harness.plugins import load_registries
from harness.results import read_result
from harness.specs.loading import load_suites

RUN_CONFIG = Path(__file__).resolve().parent.parent / "run.yaml"


def test_entry_point_is_declared_when_installed() -> None:
    entry_points = {ep.name: ep for ep in importlib.metadata.entry_points(group="harness")}
    if "example" not in entry_points:
        pytest.skip("harness-example-plugin is not installed (running from a source checkout)")
    assert entry_points["example"].value == "harness_example_plugin"
    assert entry_points["example"].dist is not None
    assert entry_points["example"].dist.name == "harness-example-plugin"


def test_list_shows_every_item_with_its_plugin() -> None:
    result = CliRunner().invoke(cli, ["list", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    ours = {
        kind: {row["name"] for row in rows if row["plugin"] == "example"}
        for kind, rows in listed.items()
    }
    assert ours["tasks"] == {"reviews"}
    assert ours["specs"] == {"reviews", "example-suites:PATH"}
    assert ours["selectors"] == {"keyword-overlap"}
    assert ours["reporters"] == {"failure-csv"}


def test_task_is_small_and_labelled() -> None:
    task = load_registries().tasks.get("example/reviews").load()
    assert task.label_names == ["negative", "positive"]
    assert (len(task.train), len(task.test), len(task.pool)) == (300, 150, 300)
    assert set(task.train.labels.tolist()) == {0, 1}
    negated = [t for t in task.pool.texts if " not " in t]
    assert negated, "the pool must hold the rare negated reviews"


def test_shipped_suite_compiles_by_qualified_name() -> None:
    sources = load_registries().spec_sources
    (suite,) = load_suites([SpecRef(ref="example/reviews")], sources)
    assert suite.name == "reviews"
    ids = {spec.id for spec in suite.specs}
    assert ids == {"plain-praise", "plain-complaint", "negated-complaint", "negated-praise"}
    for spec in suite.specs:
        assert spec.train_cases and spec.heldout_cases
        held = {case.text for case in spec.heldout_cases}
        assert held.isdisjoint(case.text for case in spec.train_cases)


def test_selector_ranks_shared_words_first() -> None:
    cls = load_registries().selectors.get("keyword-overlap")
    selector = cls(cls.Args())
    pool = ["the kettle is not flimsy", "nothing in common here", "the phone is great"]
    ((indices, scores),) = selector.top_k(pool, [["The kettle is not flimsy."]], k=2, seed=0)
    assert indices.tolist() == [0, 2]
    assert scores.tolist() == [1.0, 0.5]


def test_run_config_uses_the_selector_and_the_reporter(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    args = ["run", "--config", str(RUN_CONFIG), "--output-dir", str(runs), "--quiet"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    (run_dir,) = list(runs.iterdir())
    run = read_result(run_dir)
    assert run.task.name == "reviews"
    keywords = run.model("retrain-keywords")
    assert keywords.params["selection"] == "example/keyword-overlap"
    assert keywords.seeds[0].test is not None, keywords.skipped
    reporter = load_registries().reporters.get("failure-csv")()
    rows = list(csv.DictReader(io.StringIO(reporter.render([run]))))
    assert len(rows) == 3 * len(run.specs)
    assert {row["model"] for row in rows} == {"M0", "retrain-random", "retrain-keywords"}
    assert {row["spec"] for row in rows} == {spec.id for spec in run.specs}
    assert all(int(row["n"]) > 0 and 0.0 <= float(row["failure_rate"]) <= 1.0 for row in rows)
    report = CliRunner().invoke(cli, ["report", str(run_dir), "--format", "failure-csv"])
    assert report.exit_code == 0, report.output
    assert report.stdout.splitlines()[0] == "run_id,model,spec,label,n,failures,failure_rate"
