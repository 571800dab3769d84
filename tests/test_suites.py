"""Per-suite headline: held-out FR of each suite (case-weighted and spec-mean) and of each label
within it, in results.json (over seeds) and in the console, Markdown, HTML and JSON reports."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from test_reports import reports_in_every_format

from harness.aggregate import aggregate
from harness.analysis.suites import run_suite_aggregates, seed_suite_scores, specs_by_suite
from harness.cli import cli
from harness.evaluation import spec_score
from harness.results import (
    Metrics,
    ModelResult,
    RunResult,
    SeedResult,
    SpecInfo,
    SpecScore,
    TaskInfo,
    Timing,
    read_result,
)

OK = Metrics(n=10, accuracy=1.0, macro_f1=1.0, mcc=1.0)


def info(spec_id: str, suite: str, label: str, n: int) -> SpecInfo:
    return SpecInfo(
        id=spec_id, suite=suite, description="", label=label, n_train_cases=0, n_heldout_cases=n
    )


def score(failures: int, n: int) -> SpecScore:
    return spec_score(np.array([1] * failures + [0] * (n - failures)), 0)


SPECS = [
    info("a1", "alpha", "toxic", 10),
    info("a2", "alpha", "non-toxic", 30),
    info("a3", "alpha", "non-toxic", 10),
    info("b1", "beta", "toxic", 4),
]
# failures per seed: seed 0 and seed 1
FAILS = {
    0: {"a1": 5, "a2": 3, "a3": 0, "b1": 2},
    1: {"a1": 1, "a2": 9, "a3": 2, "b1": 4},
}


def seed_result(seed: int) -> SeedResult:
    heldout = {s.id: score(FAILS[seed][s.id], s.n_heldout_cases) for s in SPECS}
    return SeedResult(seed=seed, test=OK, heldout=heldout)


def test_per_seed_suite_scores_by_hand() -> None:
    scores = seed_suite_scores(seed_result(0), SPECS)
    alpha, alpha_labels = scores["alpha"]
    assert (alpha.n_specs, alpha.n_cases, alpha.failures) == (3, 50, 8)
    assert alpha.case_fr == pytest.approx(8 / 50)
    assert alpha.spec_mean_fr == pytest.approx((0.5 + 0.1 + 0.0) / 3)
    assert alpha_labels["non-toxic"].case_fr == pytest.approx(3 / 40)
    assert alpha_labels["non-toxic"].spec_mean_fr == pytest.approx((0.1 + 0.0) / 2)
    assert alpha_labels["toxic"].case_fr == pytest.approx(0.5)
    beta, _ = scores["beta"]
    assert beta.case_fr == beta.spec_mean_fr == pytest.approx(0.5)
    assert list(specs_by_suite(SPECS)) == ["alpha", "beta"]


def test_aggregate_over_seeds_by_hand() -> None:
    agg = aggregate([seed_result(0), seed_result(1)], SPECS)
    alpha = agg.suites["alpha"]
    case = [8 / 50, 12 / 50]
    spec_mean = [(0.5 + 0.1 + 0.0) / 3, (0.1 + 0.3 + 0.2) / 3]
    assert (alpha.n_specs, alpha.n_cases) == (3, 50)
    assert alpha.case_fr == pytest.approx(np.mean(case), abs=1e-6)
    assert alpha.case_fr_std == pytest.approx(np.std(case), abs=1e-6)
    assert alpha.spec_mean_fr == pytest.approx(np.mean(spec_mean), abs=1e-6)
    assert alpha.spec_mean_fr_std == pytest.approx(np.std(spec_mean), abs=1e-6)
    non_toxic = alpha.labels["non-toxic"]
    assert non_toxic.case_fr == pytest.approx(np.mean([3 / 40, 11 / 40]), abs=1e-6)
    assert non_toxic.spec_mean_fr == pytest.approx(np.mean([0.05, 0.25]), abs=1e-6)
    assert agg.suites["beta"].case_fr == pytest.approx(0.75)
    # overall: case-weighted over all 54 cases; spec-mean is the run's mean_fr
    assert agg.case_fr == pytest.approx(np.mean([10 / 54, 16 / 54]), abs=1e-6)
    assert agg.mean_fr == pytest.approx(np.mean([0.275, 0.4]), abs=1e-6)
    assert aggregate([seed_result(0)]).suites == {}  # no specs given: no suites


def test_run_suite_aggregates_recomputes_from_seeds() -> None:
    seeds = [seed_result(0), seed_result(1), SeedResult(seed=2, skipped="no pool")]
    run = RunResult(
        run_id="r",
        harness_version="0",
        config={},
        seeds=[0, 1, 2],
        task=TaskInfo(name="t", label_names=["non-toxic", "toxic"], n_train=1, n_test=1, n_pool=0),
        specs=SPECS,
        models=[
            ModelResult(id="M0", kind="base", seeds=seeds),
            ModelResult(id="skipped", kind="intervention", seeds=seeds[2:]),
        ],
        timing=Timing(started="", finished=""),
    )
    found = run_suite_aggregates(run)
    assert list(found) == ["M0"]
    assert found["M0"] == aggregate(seeds, SPECS).suites


# ---------------------------------------------------------------------------------------------
# End to end: a YAML suite and a csv suite, the demo task and the bow model
# ---------------------------------------------------------------------------------------------

YAML_SUITE = """\
suite: alpha
labels: [non-toxic, toxic]
max_cases: 12
slots:
  thing: [garden, bicycle, kettle, lantern, violin, compass]
specs:
  - id: alpha-kind
    description: Talking about objects is not toxic.
    label: non-toxic
    templates:
      - "My {{ thing }} arrived on Tuesday."
      - "The {{ thing }} is in the hall."
    heldout_templates:
      - "We repaired the {{ thing }} together."
      - "No idiot would hate the {{ thing }}, it is lovely."
  - id: alpha-rude
    description: Calling someone's object garbage to insult them is toxic.
    label: toxic
    templates:
      - "Your {{ thing }} is garbage and so are you, idiot."
    heldout_templates:
      - "Only a moron would own that {{ thing }}."
"""


def write_suites(folder: Path) -> tuple[Path, Path]:
    """A YAML suite (2 specs) and a HateModerate-style csv suite (2 guidelines, 0/1 labels)."""
    yaml_path = folder / "alpha.yaml"
    yaml_path.write_text(YAML_SUITE, encoding="utf-8")
    csv_path = folder / "beta.csv"
    rows = [["guideline", "sentence", "labels", "part"]]
    for i in range(8):
        part = "train" if i < 3 else "test"
        rows.append(["no-slurs", f"you worthless creep number {i}", "1", part])
        rows.append(["no-slurs", f"get lost you pathetic pest {i}", "1", part])
        rows.append(["allow-praise", f"what a generous neighbour {i}", "0", part])
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return yaml_path, csv_path


def hand_suite_numbers(run: RunResult, model_id: str) -> dict[str, tuple[float, float]]:
    """(case-weighted, spec-mean) per suite, computed here from the per-seed spec scores."""
    suites: dict[str, list[str]] = {}
    for spec in run.specs:
        suites.setdefault(spec.suite, []).append(spec.id)
    out = {}
    for suite, ids in suites.items():
        case, mean = [], []
        for seed in run.model(model_id).seeds:
            scores = [seed.heldout[i] for i in ids]
            case.append(sum(s.failures for s in scores) / sum(s.n for s in scores))
            mean.append(float(np.mean([s.failures / s.n for s in scores])))
        out[suite] = (float(np.mean(case)), float(np.mean(mean)))
    return out


def test_two_suites_in_results_and_every_report(tmp_path: Path) -> None:
    yaml_path, csv_path = write_suites(tmp_path)
    config = tmp_path / "run.yaml"
    config.write_text(
        "task: demo\n"
        "task_args: {n_train: 300, n_test: 80, n_pool: 200}\n"
        "model: bow\n"
        "model_args: {epochs: 2}\n"
        "seeds: [0, 1]\n"
        "budget: 50\n"
        "specs:\n"
        f"  - ref: {yaml_path}\n"
        f"  - ref: {csv_path}\n"
        "    source: csv\n"
        "    options: {suite: beta, spec_column: guideline, text_column: sentence,\n"
        "              label_column: labels, label_map: {0: non-toxic, 1: toxic},\n"
        "              split_column: part}\n"
        "interventions:\n"
        "  - {name: retrain, params: {selection: random}}\n"
        f"output_dir: {tmp_path / 'runs'}\n"
    )
    runner = CliRunner()
    result = runner.invoke(cli, ["run", "--config", str(config), "-q"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    (run_dir,) = list((tmp_path / "runs").iterdir())
    run = read_result(run_dir)
    assert {s.suite for s in run.specs} == {"alpha", "beta"}

    # results.json: per model, per suite and per label within it, over both seeds
    for model_id in ("M0", "retrain-random"):
        agg = run.model(model_id).aggregate
        assert set(agg.suites) == {"alpha", "beta"}
        for suite, (case, mean) in hand_suite_numbers(run, model_id).items():
            assert agg.suites[suite].case_fr == pytest.approx(case, abs=1e-6)
            assert agg.suites[suite].spec_mean_fr == pytest.approx(mean, abs=1e-6)
            assert set(agg.suites[suite].labels) == {"non-toxic", "toxic"}
        assert agg.suites["alpha"].n_cases == sum(
            s.n_heldout_cases for s in run.specs if s.suite == "alpha"
        )
        assert agg.collapse is None  # a healthy bow model is not flagged
    raw = json.loads((run_dir / "results.json").read_text())
    assert "case_fr" in raw["models"][0]["aggregate"]["suites"]["beta"]["labels"]["toxic"]

    m0 = run.model("M0").aggregate.suites
    alpha_cell = f"{100 * m0['alpha'].case_fr:.1f} / {100 * m0['alpha'].spec_mean_fr:.1f}"
    beta_toxic = m0["beta"].labels["toxic"]
    beta_cell = f"{100 * beta_toxic.case_fr:.1f} / {100 * beta_toxic.spec_mean_fr:.1f}"

    # console, printed after the run
    assert "Per suite: held-out FR (%), case-weighted / spec-mean" in result.output
    flat = " ".join(result.output.split())
    assert alpha_cell in flat and beta_cell in flat
    assert "all suites" in flat and "case-weighted = the suite's held-out failures" in flat

    reports = reports_in_every_format(run_dir, tmp_path)
    assert "### Per suite: held-out FR (%), case-weighted / spec-mean" in reports["md"]
    md_rows = [line for line in reports["md"].splitlines() if line.startswith("| **alpha**")]
    assert len(md_rows) == 1 and "all labels" in md_rows[0]
    m0_sd = m0["alpha"]
    assert f"{100 * m0_sd.case_fr:.1f} ± {100 * m0_sd.case_fr_std:.1f}" in md_rows[0]
    assert any(
        line.startswith("| beta | toxic |") and f"{100 * beta_toxic.case_fr:.1f}" in line
        for line in reports["md"].splitlines()
    )
    assert "Per suite: held-out FR (%)" in reports["html"]
    assert "<td>beta</td><td>toxic</td>" in reports["html"]
    rows = {row["row"]: row for row in json.loads(reports["json"])["rows"]}
    assert rows["M0"]["suites"]["alpha"]["case_fr"] == m0["alpha"].case_fr
    assert rows["M0"]["suites"]["beta"]["labels"]["toxic"]["spec_mean_fr"] == (
        beta_toxic.spec_mean_fr
    )
    assert rows["M0"]["case_fr"] == run.model("M0").aggregate.case_fr
