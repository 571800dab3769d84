"""Checks of a run: the one-sided accuracy guard, guards on every intervention (accuracy and
macro-F1), the one-seed warning, what each FR check says it resamples, and comparisons on the
held-out cases unseen by both models. Runs are synthetic (see ``test_reports.build_run``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from rich.console import Console
from test_leakage import planted, read_run, run_planted  # noqa: F401 (planted: a fixture)
from test_reports import ACC, build_run, write_run

from harness.analysis import analyse
from harness.cli import cli
from harness.console import print_result
from harness.leaderboard import build_leaderboard, check_status
from harness.results import Metrics, ModelResult, RunResult
from harness_plugins.reporters.html import HtmlReporter
from harness_plugins.reporters.json_report import JsonReporter
from harness_plugins.reporters.markdown import MarkdownReporter


def checks_by_id(result: RunResult) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in result.checks}


def with_check_config(result: RunResult, **check: Any) -> RunResult:
    return result.model_copy(update={"config": {**result.config, "check": check}})


def set_test_metrics(model: ModelResult, **metrics: float) -> ModelResult:
    seeds = [
        s.model_copy(update={"test": Metrics(**{**s.test.model_dump(), **metrics})})  # type: ignore[union-attr]
        for s in model.seeds
    ]
    return model.model_copy(update={"seeds": seeds})


def add_patch_row(result: RunResult, samples: list[dict[str, Any]], **metrics: float) -> RunResult:
    """Add a non-retrain intervention row ``patch`` (a copy of retrain-tfidf's failures) with
    the given test metrics at every seed."""
    source = result.model("retrain-tfidf")
    patch = set_test_metrics(
        source.model_copy(update={"id": "patch", "intervention": "patch", "params": {}}),
        **metrics,
    )
    for row in samples:
        row["predictions"]["patch"] = row["predictions"]["retrain-tfidf"]
    return result.model_copy(update={"models": [*result.models, patch]})


# --------------------------------------------------------------------------------------------
# guards
# --------------------------------------------------------------------------------------------


def test_accuracy_guard_is_one_sided_an_improvement_passes() -> None:
    # retrain-tfidf 3 points above M0, retrain-random 1.5 below (the edge), both pass
    acc = dict(ACC, **{"retrain-tfidf": 0.98, "retrain-random": 0.935})
    result, samples, _ = build_run(acc=acc)
    checks = checks_by_id(analyse(result, samples))
    better = checks["test-accuracy:retrain-tfidf"]
    assert better["status"] == "PASS" and better["delta_points"] == pytest.approx(3.0)
    assert "at most 1.5 points below M0" in better["detail"] and "Δ +3.00 pt" in better["detail"]
    assert checks["test-accuracy:retrain-random"]["status"] == "PASS"  # exactly -1.5
    # a drop of 1.6 points fails
    acc["retrain-random"] = 0.934
    result, samples, _ = build_run(acc=acc)
    assert checks_by_id(analyse(result, samples))["test-accuracy:retrain-random"]["status"] == (
        "FAIL"
    )


def test_every_intervention_is_guarded_and_a_minority_collapse_fails_on_macro_f1(
    tmp_path: Path,
) -> None:
    result, samples, _ = build_run()
    # a patch that keeps accuracy (-1 point) but collapses macro-F1 (0.94 -> 0.60)
    result = add_patch_row(result, samples, accuracy=0.94, macro_f1=0.60)
    analysed = analyse(result, samples)
    checks = checks_by_id(analysed)
    assert checks["test-accuracy:patch"]["status"] == "PASS"
    f1 = checks["macro-f1:patch"]
    assert f1["status"] == "FAIL" and f1["kind"] == "guard"
    assert f1["delta_points"] == pytest.approx(-34.0) and f1["tolerance"] == 3.0
    assert "test macro-F1 of patch at most 3 points below M0: 60.0% vs 94.0%" in f1["detail"]
    assert "worst seed 0: -34.00 pt" in f1["detail"]
    # the retrains are guarded on macro-F1 too; the expected-outcome FR checks still pass
    assert checks["macro-f1:retrain-tfidf"]["status"] == "PASS"
    assert checks["fr-below:retrain-tfidf:M0"]["status"] == "PASS"
    assert check_status(analysed) == "FAIL"
    # flagged in every table with words, not colour alone
    flag = "GUARD FAIL: macro-F1 -34.0 pt vs M0"
    console = Console(record=True, width=250)
    print_result(analysed, console)
    out = console.export_text()
    assert flag in out
    rows = out.splitlines()
    assert any(r.split()[:1] == ["FAIL"] and "macro-F1 patch ≥ M0 − 3" in r for r in rows)
    assert flag in MarkdownReporter().render([analysed])
    page = HtmlReporter().render([analysed])
    assert page.count(flag) == 2  # the leaderboard row and the models table
    board = build_leaderboard([analysed])
    assert [r.flags for r in board.rows if r.row == "patch"] == [[flag]]
    assert [r.flags for r in board.rows if r.row == "M0"] == [[]]
    # the tolerance comes from the run's check config
    lenient = analyse(with_check_config(result, macro_f1_tolerance=40), samples)
    assert checks_by_id(lenient)["macro-f1:patch"]["status"] == "PASS"
    # `harness report --check` fails on the guard alone
    run_dir = write_run(tmp_path, analysed, samples)
    res = CliRunner().invoke(cli, ["report", str(run_dir), "--check", "--format", "json"])
    assert res.exit_code == 1
    assert "FAIL test macro-F1 of patch" in res.output


def test_a_collapsed_accuracy_fails_its_guard() -> None:
    result, samples, _ = build_run()
    result = add_patch_row(result, samples, accuracy=0.30, macro_f1=0.25)
    checks = checks_by_id(analyse(result, samples))
    assert checks["test-accuracy:patch"]["status"] == "FAIL"
    assert checks["test-accuracy:patch"]["delta_points"] == pytest.approx(-65.0)
    assert checks["macro-f1:patch"]["status"] == "FAIL"


# --------------------------------------------------------------------------------------------
# seeds
# --------------------------------------------------------------------------------------------


def test_one_seed_warns_and_every_check_says_what_its_p_value_resamples() -> None:
    result, samples, _ = build_run(seeds=(0,))
    analysed = analyse(result, samples)
    first = analysed.checks[0]
    assert first["id"] == "seeds" and first["status"] == "WARN"
    assert "conclusions rest on one seed (0)" in first["detail"]
    assert "seed-to-seed variance is not measured" in first["detail"]
    fr_checks = [c for c in analysed.checks if c["id"].startswith("fr-below")]
    assert fr_checks and all(
        "p resamples templates only (one seed)" in c["detail"] for c in fr_checks
    )
    comp = analysed.comparisons[0]
    assert "seed-to-seed variance not measured" in comp["method"]
    # the warning does not change the overall status
    statuses = {c["status"] for c in analysed.checks if c["id"] != "seeds"}
    assert check_status(analysed) == ("FAIL" if "FAIL" in statuses else "PASS")
    # ... and reaches every report
    console = Console(record=True, width=250)
    print_result(analysed, console)
    assert "WARN conclusions rest on one seed" in console.export_text()
    assert "⚠️ WARN conclusions rest on one seed" in MarkdownReporter().render([analysed])
    assert 'class="WARN">WARN</span> conclusions rest on one seed' in HtmlReporter().render(
        [analysed]
    )
    board = json.loads(JsonReporter().render([analysed]))
    assert board["runs"][0]["checks"][0]["status"] == "WARN"
    # several seeds: no warning, and the checks say the seeds are resampled
    several = analyse(*build_run(seeds=(0, 1, 2))[:2])
    assert "seeds" not in checks_by_id(several)
    assert all(
        "p resamples seeds and templates (3 seeds)" in c["detail"]
        for c in several.checks
        if c["id"].startswith("fr-below")
    )


def test_a_guided_retrain_without_a_matching_random_one_is_named_not_dropped() -> None:
    # a second guided retrain drawing only from the 'general' source, and one with its own
    # budget: the random retrain draws from every source at the run's budget, so neither can
    # be judged against it; each gets a WARN naming the baseline to add, and the run's status
    # is unchanged
    result, samples, _ = build_run()
    tfidf = result.model("retrain-tfidf")
    general = tfidf.model_copy(
        update={"id": "retrain-tfidf-general", "params": {**tfidf.params, "sources": ["general"]}}
    )
    own_budget = tfidf.model_copy(
        update={"id": "retrain-bm25-300", "params": {"selection": "bm25", "budget": 300}}
    )
    for row in samples:
        for new in ("retrain-tfidf-general", "retrain-bm25-300"):
            row["predictions"][new] = row["predictions"]["retrain-tfidf"]
    plain = analyse(result, [dict(r) for r in samples])
    result = result.model_copy(update={"models": [*result.models, general, own_budget]})
    analysed = analyse(result, samples)
    checks = checks_by_id(analysed)
    warned = checks["unjudged:retrain-tfidf-general"]
    assert warned["status"] == "WARN" and warned["kind"] == "expected-outcome"
    assert warned["detail"] == (
        "retrain-tfidf-general is not judged by the expected-outcome check: no random retrain "
        f"at budget {result.config['budget']} draws from the same candidates (pool sources "
        "general); add a retrain with {selection: random, sources: [general]} to compare it"
    )
    assert checks["unjudged:retrain-bm25-300"]["detail"].endswith(
        "no random retrain at budget 300 draws from the same candidates (every pool source); "
        "add a retrain with {selection: random, budget: 300} to compare it"
    )
    assert "unjudged:retrain-tfidf" not in checks
    assert not any(c.startswith("fr-below:retrain-tfidf-general") for c in checks)
    assert check_status(analysed) == check_status(plain)
    assert "- ⚠️ WARN retrain-tfidf-general is not judged" in MarkdownReporter().render([analysed])
    # with no pair at all the SKIP entry says it, without a WARN per guided retrain
    alone = result.model_copy(
        update={"models": [m for m in result.models if m.id != "retrain-random"]}
    )
    alone_checks = checks_by_id(analyse(alone, samples))
    assert alone_checks["expected-outcome"]["status"] == "SKIP"
    assert not [c for c in alone_checks if c.startswith("unjudged:")]


# --------------------------------------------------------------------------------------------
# seen / unseen held-out cases
# --------------------------------------------------------------------------------------------


def mark_seen(samples: list[dict[str, Any]], model: str, spec: str, template: str) -> int:
    """Record that ``model`` trained on every held-out case of ``template`` (all seeds)."""
    count = 0
    for row in samples:
        row.setdefault("seen_by", [])
        if row["set"] == "heldout" and row["template_id"] == template and row["spec_id"] == spec:
            row["seen_by"] = [model]
            count += 1
    return count


def test_comparisons_use_only_cases_unseen_by_both_models() -> None:
    result, samples, fails = build_run()
    n_seen = mark_seen(samples, "retrain-tfidf", "neutral-mention", "neutral-mention-t0")
    assert n_seen == 20  # 10 cases x 2 seeds
    analysed = analyse(result, samples)
    comps = {(c["a"], c["b"]): c for c in analysed.comparisons}
    comp = comps[("retrain-tfidf", "M0")]
    assert comp["cases"] == "held-out cases unseen by both models"
    assert comp["n_seen_excluded"] == 20
    item = comp["specs"]["neutral-mention"]
    unseen = np.arange(30) >= 10  # template t0 holds cases 0-9
    for seed, counts in zip((0, 1), item["per_seed"], strict=True):
        a, b = (
            fails[("retrain-tfidf", seed, "neutral-mention")],
            fails[("M0", seed, "neutral-mention")],
        )
        assert counts["n"] == 20
        assert counts["broken"] == int(np.sum(a & ~b & unseen))
        assert counts["fixed"] == int(np.sum(~a & b & unseen))
    expected_a = np.mean(
        [fails[("retrain-tfidf", s, "neutral-mention")][unseen].mean() for s in (0, 1)]
    )
    assert item["fr_a"] == pytest.approx(expected_a, abs=1e-6)
    # other specs keep every case
    assert all(c["n"] == 30 for c in comp["specs"]["insult"]["per_seed"])
    # the FR checks say so; a comparison without the model that saw cases is untouched
    detail = checks_by_id(analysed)["fr-below:retrain-tfidf:M0"]["detail"]
    assert "on held-out cases unseen by both models (20 case-seed pairs seen in training" in detail
    assert comps[("retrain-random", "M0")]["cases"] == "all held-out cases"
    assert comps[("retrain-random", "M0")]["n_seen_excluded"] == 0


def test_empty_or_missing_seen_by_changes_nothing() -> None:
    result, samples, _ = build_run()
    plain = analyse(result, samples)
    for row in samples:
        row["seen_by"] = []
    assert analyse(result, samples) == plain
    # seen by a model that is not part of a comparison: that comparison is untouched
    mark_seen(samples, "someone-else", "insult", "insult-t1")
    assert analyse(result, samples).comparisons == plain.comparisons


def test_unpaired_comparisons_fall_back_to_each_models_unseen_scores() -> None:
    """Without samples.jsonl, the per-seed ``heldout_unseen`` scores of the results (filled by
    the leakage check) replace the held-out FR of a model that saw cases."""
    result, _, _ = build_run()
    seeds = []
    for s in result.model("retrain-tfidf").seeds:
        unseen = dict(s.heldout)
        unseen["neutral-mention"] = unseen["neutral-mention"].model_copy(update={"fr": 0.0})
        seeds.append(
            s.model_copy(update={"heldout_unseen": unseen, "n_seen": {"neutral-mention": 10}})
        )
    models = [
        m.model_copy(update={"seeds": seeds}) if m.id == "retrain-tfidf" else m
        for m in result.models
    ]
    analysed = analyse(result.model_copy(update={"models": models}), None)
    comp = next(c for c in analysed.comparisons if (c["a"], c["b"]) == ("retrain-tfidf", "M0"))
    assert comp["cases"] == "each model's own unseen held-out cases (not paired)"
    assert comp["specs"]["neutral-mention"]["fr_a"] == 0.0
    assert comp["specs"]["insult"]["fr_a"] == pytest.approx(
        np.mean([s.heldout["insult"].fr for s in seeds]), abs=1e-6
    )
    check = checks_by_id(analysed)["fr-below:retrain-tfidf:M0"]
    assert (
        check["status"] == "FAIL" and "on each model's own unseen held-out cases" in check["detail"]
    )


# --------------------------------------------------------------------------------------------
# suites
# --------------------------------------------------------------------------------------------


def two_suites(result: RunResult) -> RunResult:
    """The first two specs (both non-toxic) in suite 'policy', the other two in 'functional'."""
    specs = [
        s.model_copy(update={"suite": "policy" if i < 2 else "functional"})
        for i, s in enumerate(result.specs)
    ]
    return result.model_copy(update={"specs": specs})


def test_fr_checks_judge_every_suite_and_all_specs_by_default() -> None:
    result, samples, _ = build_run()
    analysed = analyse(two_suites(result), samples)
    comp = next(c for c in analysed.comparisons if (c["a"], c["b"]) == ("retrain-tfidf", "M0"))
    policy = comp["by_suite"]["policy"]
    expected = np.mean([comp["specs"][s]["fr_a"] for s in ("neutral-mention", "counter-speech")])
    assert policy["mean_fr_a"] == pytest.approx(expected, abs=1e-6)
    assert policy["n_specs"] == 2 and policy["n_fixed"] == 2 and policy["n_broken"] == 0
    assert comp["by_suite"]["functional"]["n_broken"] == 1
    checks = checks_by_id(analysed)
    fr_ids = [c["id"] for c in analysed.checks if c["id"].startswith("fr-below")]
    assert fr_ids == [
        "fr-below:retrain-tfidf:retrain-random",
        "fr-below:retrain-tfidf:M0",
        "fr-below:retrain-tfidf:retrain-random@policy",
        "fr-below:retrain-tfidf:M0@policy",
        "fr-below:retrain-tfidf:retrain-random@functional",
        "fr-below:retrain-tfidf:M0@functional",
    ]
    on_policy = checks["fr-below:retrain-tfidf:M0@policy"]
    assert on_policy["status"] == "PASS" and on_policy["suite"] == "policy"
    assert "below M0 on suite policy" in on_policy["detail"]
    assert on_policy["ci_low"] <= on_policy["delta"] <= on_policy["ci_high"]
    # the guided model broke the functional suite's threat spec: that suite fails
    assert checks["fr-below:retrain-tfidf:M0@functional"]["status"] == "FAIL"
    # Holm across all six FR checks
    fr_checks = [c for c in analysed.checks if c["id"].startswith("fr-below")]
    smallest = min(fr_checks, key=lambda c: c["p"])
    assert smallest["p_holm"] == pytest.approx(min(1.0, 6 * smallest["p"]), rel=1e-3)


def test_check_suites_option_names_the_suites_judged() -> None:
    result, samples, _ = build_run()
    result = with_check_config(two_suites(result), suites=["policy"], overall=False)
    fr_ids = [c["id"] for c in analyse(result, samples).checks if c["id"].startswith("fr-below")]
    assert fr_ids == [
        "fr-below:retrain-tfidf:retrain-random@policy",
        "fr-below:retrain-tfidf:M0@policy",
    ]


def test_unknown_check_suite_is_refused_before_training(tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("limit: 60\ncheck: {suites: [nope]}\ninterventions: []\n", encoding="utf-8")
    res = CliRunner().invoke(
        cli, ["run", "--config", str(config), "--output-dir", str(tmp_path / "runs")]
    )
    assert res.exit_code == 2
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "check.suites: unknown suite 'nope'; name one of the loaded suites: demo" in lines[0]
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_run_with_planted_leakage_compares_on_unseen_cases(
    planted: dict[str, str],  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    """End to end with the leakage check's planted task: M0 saw one held-out insult (in train),
    the random retrain that took the whole pool saw three more; its comparison with M0 leaves
    those four out."""
    result = run_planted(planted, tmp_path / "runs")
    assert result.exit_code == 0, result.output
    data, samples = read_run(tmp_path / "runs")
    (comp,) = [c for c in data["comparisons"] if (c["a"], c["b"]) == ("retrain-random", "M0")]
    assert comp["cases"] == "held-out cases unseen by both models"
    assert comp["n_seen_excluded"] == 4
    (insult,) = comp["specs"]["insult"]["per_seed"]
    assert insult["n"] == 6
    unseen = [
        r
        for r in samples
        if r["set"] == "heldout" and r["spec_id"] == "insult" and not r["seen_by"]
    ]
    assert len(unseen) == 6
    fails_a = sum(r["predictions"]["retrain-random"] != r["label"] for r in unseen)
    assert comp["specs"]["insult"]["fr_a"] == pytest.approx(fails_a / 6, abs=1e-6)
    assert comp["specs"]["praise"]["per_seed"][0]["n"] == 10  # nothing seen there
