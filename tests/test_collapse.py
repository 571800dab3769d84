"""Collapsed models (one predicted class, or near-chance test MCC) are flagged per seed and over
seeds in results.json and in the console, Markdown, HTML and JSON reports."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from test_reports import reports_in_every_format

import harness
from harness.analysis.collapse import COLLAPSE_NOTE, MCC_FLOOR, collapse_summary, detect_collapse
from harness.api import Model
from harness.cli import cli
from harness.evaluation import test_metrics as metrics_of
from harness.plugins import get_plugin_manager
from harness.results import Collapse, Metrics, SeedResult, read_result

LABELS = ["non-toxic", "toxic"]


class ConstantModel(Model):
    """Predicts the first label for every text, whatever it was trained on."""

    name = "constant"
    description = "always the first label"

    def fit(
        self, texts: Sequence[str], labels: np.ndarray, seed: int, progress: Any = None
    ) -> None:
        """Nothing to learn."""

    def predict_proba(self, texts: Sequence[str], progress: Any = None) -> np.ndarray:
        """Probability 1 for label 0."""
        out = np.zeros((len(texts), self.num_labels), dtype=np.float32)
        out[:, 0] = 1.0
        return out

    def save(self, directory: Path) -> None:
        """A marker file (there are no weights)."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "constant.json").write_text("{}")

    def load(self, directory: Path) -> None:
        """Nothing to read."""


class ConstantPlugin:
    """An in-process plugin registering :class:`ConstantModel`."""

    @harness.hookimpl
    def register_models(self, register: Any) -> None:
        register(ConstantModel)


def test_predicted_counts_and_single_class() -> None:
    labels = np.array([0, 0, 0, 1, 1])
    metrics = metrics_of(labels, np.zeros(5, dtype=np.int64), LABELS)
    assert metrics.predicted == {"non-toxic": 5, "toxic": 0}
    found = detect_collapse(metrics, n_gold_labels=2)
    assert found == Collapse(
        kind="single-class", detail="predicts only 'non-toxic' for all 5 test cases"
    )
    # a test split with one label: predicting it everywhere tells nothing
    assert detect_collapse(metrics, n_gold_labels=1) is None


@pytest.mark.parametrize(
    ("mcc", "kind"), [(0.05, "near-chance"), (-0.3, "near-chance"), (MCC_FLOOR, None), (0.8, None)]
)
def test_near_chance_threshold(mcc: float, kind: str | None) -> None:
    metrics = Metrics(
        n=100, accuracy=0.9, macro_f1=0.5, mcc=mcc, predicted={"non-toxic": 95, "toxic": 5}
    )
    found = detect_collapse(metrics, n_gold_labels=2)
    assert (found.kind if found else None) == kind
    if found:
        assert (
            found.detail == f"test MCC {mcc:.3f} < {MCC_FLOOR:g} (predicted: non-toxic 95, toxic 5)"
        )


def test_summary_over_seeds_names_each_flagged_seed() -> None:
    ok = Metrics(n=10, accuracy=1.0, macro_f1=1.0, mcc=1.0)
    seeds = [
        SeedResult(seed=0, test=ok),
        SeedResult(seed=1, test=ok, collapse=Collapse(kind="near-chance", detail="test MCC 0.01")),
        SeedResult(seed=2, skipped="not trained"),
    ]
    assert collapse_summary(seeds) == "collapsed on 1 of 2 seeds: seed 1 test MCC 0.01"
    assert collapse_summary(seeds[:1]) is None


def test_constant_predictor_is_flagged_everywhere(tmp_path: Path) -> None:
    get_plugin_manager().register(ConstantPlugin(), name="constant-plugin")
    out = tmp_path / "runs"
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "run",
            "--model",
            "constant",
            "--task-args",
            "n_train=80,n_test=50,n_pool=0",
            "--interventions",
            "",
            "--seeds",
            "2",
            "--output-dir",
            str(out),
            "-q",
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    (run_dir,) = list(out.iterdir())
    run = read_result(run_dir)
    m0 = run.model("M0")
    for seed in m0.seeds:
        assert seed.collapse is not None and seed.collapse.kind == "single-class"
        assert seed.test is not None and seed.test.predicted["toxic"] == 0
    assert m0.aggregate.collapsed_seeds == [0, 1]
    expected = (
        "collapsed on 2 of 2 seeds: seed 0 predicts only 'non-toxic' for all 50 test cases; "
        "seed 1 predicts only 'non-toxic' for all 50 test cases"
    )
    assert m0.aggregate.collapse == expected
    raw = json.loads((run_dir / "results.json").read_text())
    assert raw["models"][0]["seeds"][0]["collapse"]["kind"] == "single-class"

    # console (printed after the run): a marker in the model table and the one-line reason
    assert "COLLAPSED (seeds 0, 1)" in result.output
    assert "M0 COLLAPSED collapsed on 2 of 2 seeds" in " ".join(result.output.split())
    assert "a collapsed model predicts a single class" in result.output

    reports = reports_in_every_format(run_dir, tmp_path)
    assert "### Collapsed models" in reports["md"]
    assert "⚠ **M0 COLLAPSED** collapsed on 2 of 2 seeds" in reports["md"]
    assert "**M0** ⚠ COLLAPSED" in reports["md"]  # the leaderboard row
    assert "COLLAPSED (seeds 0, 1)" in reports["md"]  # the models table
    assert "⚠ M0 COLLAPSED</span>" in reports["html"]
    assert html.escape(expected, quote=False).replace("'", "&#39;") in reports["html"]
    assert html.escape(COLLAPSE_NOTE).replace("&#x27;", "&#39;") in reports["html"]
    (row,) = json.loads(reports["json"])["rows"]
    assert row["collapse"] == expected
