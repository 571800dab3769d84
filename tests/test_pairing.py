"""``harness report RUN_A RUN_B`` pairs the rows of runs that share M0 (same task, specs, model,
seeds and M0 model_hash) and makes the comparisons and checks across them. Runs are synthetic
(see ``test_reports.build_run``): run A holds M0 and a random retrain, run B the same M0 and a
guided retrain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from test_reports import FR, build_run, write_run

from harness.analysis import analyse
from harness.analysis.pairing import RunFiles, analyse_paired, pair_runs, pairing_mismatch
from harness.cli import cli
from harness.results import LeakageReport, LeakageTotals, RunResult, SpecLeakage


def with_hashes(result: RunResult, run_id: str, prefix: str = "m0") -> RunResult:
    """Give the run its own id and M0 a model_hash per seed (``prefix-seed``)."""
    models = []
    for model in result.models:
        if model.id == "M0":
            seeds = [s.model_copy(update={"model_hash": f"{prefix}-{s.seed}"}) for s in model.seeds]
            model = model.model_copy(update={"seeds": seeds})
        models.append(model)
    return result.model_copy(update={"run_id": run_id, "models": models})


def two_runs(
    tmp_path: Path, seeds: tuple[int, ...] = (0, 1), b_hash: str = "m0", **b_config: Any
) -> tuple[Path, Path, dict[tuple[str, int, str], np.ndarray]]:
    """Run A: M0 + retrain-random; run B: M0 + retrain-tfidf (M0's failures are identical)."""
    a, a_samples, a_fails = build_run(
        fr={"M0": FR["M0"], "retrain-random": FR["retrain-random"]}, seeds=seeds
    )
    b, b_samples, b_fails = build_run(
        fr={"M0": FR["M0"], "retrain-tfidf": FR["retrain-tfidf"]}, seeds=seeds
    )
    assert all(np.array_equal(a_fails[k], b_fails[k]) for k in a_fails if k[0] == "M0")
    a = with_hashes(a, "demo-bow-random")
    b = with_hashes(b, "demo-bow-guided", b_hash)
    if b_config:
        b = b.model_copy(update={"config": {**b.config, **b_config}})
    a_dir = write_run(tmp_path / "a", analyse(a, a_samples), a_samples)
    b_dir = write_run(tmp_path / "b", analyse(b, b_samples), b_samples)
    return a_dir, b_dir, {**a_fails, **b_fails}


def test_report_pairs_guided_and_random_retrains_of_two_runs(tmp_path: Path) -> None:
    a_dir, b_dir, fails = two_runs(tmp_path)
    runner = CliRunner()
    # each run alone cannot make the expected-outcome check
    for run_dir in (a_dir, b_dir):
        res = runner.invoke(cli, ["report", str(run_dir), "--check", "--format", "json"])
        assert res.exit_code == 1 and "expected-outcome check SKIP" in res.output
    res = runner.invoke(cli, ["report", str(a_dir), str(b_dir), "--check", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert "paired runs demo-bow-random, demo-bow-guided (they share M0)" in res.stderr
    board = json.loads(res.stdout)
    (run,) = board["runs"]
    assert run["run_id"] == "demo-bow-random+demo-bow-guided" and run["check"] == "PASS"
    assert sorted(r["row"] for r in board["rows"]) == ["M0", "retrain-random", "retrain-tfidf"]
    checks = {c["id"]: c for c in run["checks"]}
    assert checks["paired-runs"]["status"] == "INFO"
    below = checks["fr-below:retrain-tfidf:retrain-random"]
    assert below["status"] == "PASS" and "p resamples seeds and templates" in below["detail"]
    # the comparison is case by case across the runs' samples.jsonl
    merged, _ = analyse_paired(
        [RunFiles(result=_read(d), samples=d / "samples.jsonl") for d in (a_dir, b_dir)]
    )
    comp = next(
        c for c in merged.comparisons if (c["a"], c["b"]) == ("retrain-tfidf", "retrain-random")
    )
    assert comp["paired"] is True
    for seed, counts in zip((0, 1), comp["specs"]["counter-speech"]["per_seed"], strict=True):
        g = fails[("retrain-tfidf", seed, "counter-speech")]
        r = fails[("retrain-random", seed, "counter-speech")]
        assert (counts["broken"], counts["fixed"]) == (int(np.sum(g & ~r)), int(np.sum(~g & r)))
    assert merged.config["row_runs"] == {
        "M0": "demo-bow-random",
        "retrain-random": "demo-bow-random",
        "retrain-tfidf": "demo-bow-guided",
    }
    # the Markdown report shows the merged run, failing examples with every row's prediction
    res = runner.invoke(cli, ["report", str(a_dir), str(b_dir), "--format", "md"])
    assert res.exit_code == 0
    assert "## Run demo-bow-random+demo-bow-guided" in res.output
    assert "ℹ️ INFO rows of runs demo-bow-random, demo-bow-guided compared case by case" in (
        res.output
    )
    # --no-pair keeps the plain leaderboard of two runs
    res = runner.invoke(cli, ["report", str(a_dir), str(b_dir), "--no-pair", "--format", "json"])
    assert res.exit_code == 0
    assert [r["run_id"] for r in json.loads(res.output)["runs"]] == [
        "demo-bow-random",
        "demo-bow-guided",
    ]


def _read(run_dir: Path) -> RunResult:
    from harness.results import read_result

    return read_result(run_dir)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"seeds": (0,)}, "seeds differ ([0, 1] vs [0])"),
        ({"b_hash": "other"}, "M0 model_hash differs at seed 0 (m0-0 vs other-0)"),
        ({"model": "sklearn"}, "config model differs ('bow' vs 'sklearn')"),
    ],
)
def test_runs_that_do_not_share_m0_cannot_be_paired(
    tmp_path: Path, kwargs: dict[str, Any], reason: str
) -> None:
    seeds = kwargs.pop("seeds", (0, 1))
    a_dir, _, _ = two_runs(tmp_path / "x", seeds=(0, 1))
    _, b_dir, _ = two_runs(tmp_path / "y", seeds=seeds, **kwargs)
    runner = CliRunner()
    res = runner.invoke(cli, ["report", str(a_dir), str(b_dir), "--pair", "--format", "json"])
    assert res.exit_code == 2
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith(
        "error: --pair: runs demo-bow-random and demo-bow-guided cannot be paired: " + reason
    )
    # without --pair they make the plain leaderboard, and one line on stderr says why
    res = runner.invoke(cli, ["report", str(a_dir), str(b_dir), "--format", "json"])
    assert res.exit_code == 0 and len(json.loads(res.stdout)["runs"]) == 2
    assert res.stderr == (
        f"not paired (demo-bow-random and demo-bow-guided: {reason}): a plain leaderboard, "
        "each run compared and checked on its own\n"
    )


def test_specs_that_differ_are_named(tmp_path: Path) -> None:
    a_dir, b_dir, _ = two_runs(tmp_path)
    a, b = _read(a_dir), _read(b_dir)
    specs = [
        s.model_copy(update={"n_heldout_cases": 29}) if i == 1 else s for i, s in enumerate(b.specs)
    ]
    b = b.model_copy(update={"specs": specs})
    assert pairing_mismatch(a, b) == "specs differ (spec 'counter-speech': held-out cases 30 vs 29)"
    assert pairing_mismatch(a, a) is None


def test_a_missing_samples_file_is_said_and_leaves_those_rows_unpaired(tmp_path: Path) -> None:
    a_dir, b_dir, _ = two_runs(tmp_path)
    (b_dir / "samples.jsonl").unlink()
    res = CliRunner().invoke(cli, ["report", str(a_dir), str(b_dir), "--format", "json"])
    assert res.exit_code == 0, res.output
    checks = {c["id"]: c for c in json.loads(res.stdout)["runs"][0]["checks"]}
    note = checks["pairing-note-0"]
    assert note["status"] == "WARN"
    assert "samples.jsonl of run demo-bow-guided is missing" in note["detail"]
    below = checks["fr-below:retrain-tfidf:retrain-random"]
    assert below["status"] == "FAIL" and "no paired test (no samples.jsonl)" in below["detail"]


def test_rows_with_the_same_id_in_two_runs_stay_apart_with_their_budgets(tmp_path: Path) -> None:
    a_dir, b_dir, _ = two_runs(tmp_path)
    a, b = _read(a_dir), _read(b_dir)
    random_b = a.model("retrain-random").model_copy(
        update={"params": {"selection": "random", "budget": None}}
    )
    b = b.model_copy(
        update={"models": [*b.models, random_b], "config": {**b.config, "budget": 200}}
    )
    paired = pair_runs([RunFiles(a, a_dir / "samples.jsonl"), RunFiles(b, None)])
    ids = [m.id for m in paired.result.models]
    assert ids == ["M0", "retrain-random", "retrain-tfidf", "retrain-random@demo-bow-guided"]
    renamed = paired.result.model("retrain-random@demo-bow-guided")
    assert renamed.params["budget"] == 200  # the run's budget, recorded on the row
    assert paired.result.model("retrain-tfidf").params.get("budget") is None


def test_a_different_pool_pairs_but_a_different_test_split_does_not(tmp_path: Path) -> None:
    """The second run may add a pool source (its task arguments differ): M0's model_hash covers
    the training data, and the test rows of samples.jsonl show the test split is the same."""
    a_dir, b_dir, _ = two_runs(tmp_path, task_args={"pool": ["general.csv", "policy.csv"]})
    for run_dir in (a_dir, b_dir):  # both runs scored the same test case
        with (run_dir / "samples.jsonl").open("a", encoding="utf-8") as handle:
            row = {"seed": 0, "set": "test", "id": "t1", "text": "hello", "label": "toxic"}
            handle.write(json.dumps({**row, "predictions": {"M0": "toxic"}}) + "\n")
    runner = CliRunner()
    res = runner.invoke(cli, ["report", str(a_dir), str(b_dir), "--pair", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["runs"][0]["check"] == "PASS"
    # a test row with another text: not the same test split
    text = (b_dir / "samples.jsonl").read_text(encoding="utf-8").replace('"hello"', '"bye"')
    (b_dir / "samples.jsonl").write_text(text, encoding="utf-8")
    res = runner.invoke(cli, ["report", str(a_dir), str(b_dir), "--pair", "--format", "json"])
    assert res.exit_code == 2
    assert "cannot be paired: test split differs (the test rows of their samples.jsonl)" in (
        res.output
    )
    # without samples.jsonl the task arguments must be equal
    (b_dir / "samples.jsonl").unlink()
    res = runner.invoke(cli, ["report", str(a_dir), str(b_dir), "--pair", "--format", "json"])
    assert res.exit_code == 2
    assert "config task_args differs (None vs {'pool': ['general.csv', 'policy.csv']}) and" in (
        res.output
    )


def leakage(corpora: list[str], in_pool: int) -> LeakageReport:
    """A leakage report over ``corpora`` with ``in_pool`` held-out cases found in source
    ``policy2`` (0: nothing found)."""
    found = {"leaked": in_pool, "in_training_data": in_pool, "exact": in_pool}
    found |= {"in_pool": in_pool, "in_pool_sources": {"policy2": in_pool} if in_pool else {}}
    spec = SpecLeakage(spec_id="insult", suite="demo", n_heldout=30, **found)
    return LeakageReport(
        normaliser="v1",
        near_ngram=3,
        near_threshold=0.8,
        corpora={name: 100 for name in corpora},
        specs=[spec],
        suites={"demo": LeakageTotals(n_heldout=30, n_specs=1, **found)},
        total=LeakageTotals(n_heldout=30, n_specs=1, **found),
    )


def test_paired_report_lists_every_pool_source_and_says_when_leakage_differs() -> None:
    a, a_samples, _ = build_run(fr={"M0": FR["M0"], "retrain-random": FR["retrain-random"]})
    b, b_samples, _ = build_run(fr={"M0": FR["M0"], "retrain-tfidf": FR["retrain-tfidf"]})
    a = with_hashes(a, "run-a")
    b = with_hashes(b, "run-b")
    a = a.model_copy(
        update={
            "task": a.task.model_copy(update={"pool_sources": {"general": 50, "policy": 10}}),
            "leakage": leakage(["train", "pool/general", "pool/policy"], 0),
        }
    )
    b_task = b.task.model_copy(update={"pool_sources": {"general": 50, "policy": 12, "policy2": 5}})

    # the later run found nothing in its new source: one leakage section over every corpus
    clean = b.model_copy(
        update={"task": b_task, "leakage": leakage(["train", "pool/general", "pool/policy2"], 0)}
    )
    paired = pair_runs([RunFiles(a, None), RunFiles(clean, None)])
    assert paired.result.task.pool_sources == {"general": 50, "policy": 10, "policy2": 5}
    assert paired.result.leakage is not None
    assert list(paired.result.leakage.corpora) == [
        "train",
        "pool/general",
        "pool/policy",
        "pool/policy2",
    ]
    assert list(a.leakage.corpora) == ["train", "pool/general", "pool/policy"]  # not changed
    assert [n for n in paired.notes if "pool source" in n] == [
        "pool source 'policy' has 10 rows in run run-a and 12 in run run-b"
    ]
    assert not [n for n in paired.notes if "leakage" in n]

    # it found a held-out case in it: the report says so instead of showing run A's counts only
    leaky = clean.model_copy(update={"leakage": leakage(["train", "pool/policy2"], 2)})
    paired = pair_runs([RunFiles(a, None), RunFiles(leaky, None)])
    (note,) = [n for n in paired.notes if "leakage" in n]
    assert note.startswith(
        "the leakage checks of run run-b found other counts (its pool differs); the leakage "
        "section shows run run-a's; run run-b: all suites: 2 of 30 held-out case(s) found "
        "elsewhere"
    )
    assert "pool 2 (policy2 2)" in note
    merged, _ = analyse_paired([RunFiles(a, None), RunFiles(leaky, None)])
    assert any(c["status"] == "WARN" and c["detail"] == note for c in merged.checks)
