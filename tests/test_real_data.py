"""The real-data walkthrough (``docs/real-data.md``) end to end, with its own configs
(``examples/real-data/run.yaml`` and ``later.yaml``) on small files in the formats of public
data written by :mod:`harness.example_data`: a tweet corpus with two pool sources, a
HateCheck-format suite and a HateModerate-format suite, with one held-out text planted in the
general pool and one in the test split. Checked: ``specs validate --config``, the run's
``results.json`` (per-suite aggregates, leakage totals, seen / unseen FR of the retrains that
selected the planted text, per-source counts, the augment row, the one-seed warning), every
reporter, progress lines on a non-terminal stderr, and a later run paired with the first by
``harness report RUN_A RUN_B`` (and two runs that do not share M0, refused)."""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from harness.cli import cli
from harness.example_data import write_example_data
from harness.results import RunResult, read_result
from harness.specs.normalise import normalise_text

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "real-data"
DOC = ROOT / "docs" / "real-data.md"
BUDGET = 150
SUITES = {"hatecheck": (8, 112), "hatemoderate": (8, 80)}
"""Suite -> (specs, held-out cases) of the generated files."""


@dataclass
class Experiment:
    """The walkthrough's files and the outputs of its commands."""

    project: Path
    planted: dict[str, Any]
    validate: Result
    first: Result
    later: Result
    first_dir: Path
    later_dir: Path


def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(cli, args, env={"COLUMNS": "160"})


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> Experiment:
    """Generate the files next to copies of the two configs, validate, run both configs from
    another folder (so paths resolve from the config's folder) with progress as plain lines."""
    root = tmp_path_factory.mktemp("real-data")
    project = root / "project"
    project.mkdir()
    for name in ("run.yaml", "later.yaml"):
        shutil.copy(EXAMPLE / name, project / name)
    paths = write_example_data(project / "data")
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    out, cache = root / "runs", root / "cache"
    common = ["--output-dir", str(out), "--cache-dir", str(cache)]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(elsewhere)
        patch.setenv("HARNESS_CACHE_DIR", str(cache))
        validate = invoke(["specs", "validate", "--config", "../project/run.yaml"])
        patch.setenv("HARNESS_PROGRESS", "auto")
        first = invoke(["run", "--config", "../project/run.yaml", *common])
        assert first.exit_code == 0, first.output
        first_dir = only_new_run(out, set())
        later = invoke(["run", "--config", "../project/later.yaml", *common])
        assert later.exit_code == 0, later.output
        later_dir = only_new_run(out, {first_dir})
    planted = json.loads(paths["planted"].read_text(encoding="utf-8"))
    return Experiment(project, planted, validate, first, later, first_dir, later_dir)


def only_new_run(out: Path, known: set[Path]) -> Path:
    (run_dir,) = [p for p in out.iterdir() if p not in known]
    return run_dir


def samples(run_dir: Path) -> list[dict[str, Any]]:
    lines = (run_dir / "samples.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def pool_labels(project: Path) -> dict[str, str]:
    """Pool id (``<source>:<id>``) -> label name, read from the generated files."""
    labels = {}
    tweets = {"0": "non-hateful", "1": "hateful"}
    policy = {"nothate": "non-hateful", "hate": "hateful"}
    for source, name, mapping in (
        ("general", "general.csv", tweets),
        ("policy", "policy_annotated.csv", policy),
        ("policy2", "policy_batch2.csv", policy),
    ):
        with (project / "data" / "pool" / name).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                labels[f"{source}:{row['id']}"] = mapping[row["label"]]
    return labels


def pool_id_of(project: Path, text: str) -> str:
    """The pool id of the general-pool row whose text is ``text``."""
    with (project / "data" / "pool" / "general.csv").open(encoding="utf-8", newline="") as handle:
        (found,) = [row["id"] for row in csv.DictReader(handle) if row["tweet"] == text]
    return f"general:{found}"


def test_the_doc_shows_the_tested_configs() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for name in ("run.yaml", "later.yaml"):
        text = (EXAMPLE / name).read_text(encoding="utf-8")
        assert f"```yaml\n{text}```" in doc, f"docs/real-data.md must show {name} as it is"


def test_example_files_have_the_public_formats(tmp_path: Path) -> None:
    paths = write_example_data(tmp_path)
    again = write_example_data(tmp_path / "again")
    for name, path in paths.items():
        assert path.read_bytes() == again[name].read_bytes(), f"{name} is not deterministic"

    def header(name: str) -> list[str]:
        with paths[name].open(encoding="utf-8", newline="") as handle:
            return next(csv.reader(handle))

    assert header("hatecheck") == [
        "",
        "functionality",
        "case_id",
        "test_case",
        "label_gold",
        "target_ident",
        "templ_id",
        "case_templ",
    ]
    assert header("hatemoderate_train") == ["guideline", "text", "labels"]
    assert header("hatemoderate_test") == ["guideline", "sentence", "labels"]
    assert len(header("guidelines")) > 2
    assert header("train") == header("test") == header("general_pool") == ["id", "label", "tweet"]
    with paths["train"].open(encoding="utf-8", newline="") as handle:
        labels = [row["label"] for row in csv.DictReader(handle)]
    assert 0.04 <= labels.count("1") / len(labels) <= 0.08, "about 6% hateful"
    # every HateModerate guideline has both labels in both files
    for name in ("hatemoderate_train", "hatemoderate_test"):
        with paths[name].open(encoding="utf-8", newline="") as handle:
            pairs = {(row["guideline"], row["labels"]) for row in csv.DictReader(handle)}
        assert len(pairs) == 8


def test_specs_validate_config_finds_the_planted_texts(experiment: Experiment) -> None:
    result = experiment.validate
    assert result.exit_code == 0, result.output
    assert "ok: 2 suite(s), 16 spec(s), 400 case(s), 2 warning(s)" in result.stdout
    err = result.stderr
    assert "leakage: suite 'hatecheck': none of 112 held-out case(s) found" in err
    assert (
        "leakage: suite 'hatemoderate': 2 of 80 held-out case(s) found elsewhere, 1 in data a "
        "model may train on (2 of 8 spec(s) affected): train 0, pool 1 (general 1), D_i 0, "
        "test 1; 1 verbatim, 1 only after normalisation" in err
    )
    pool_spec = experiment.planted["general_pool"]["spec"]
    test_spec = experiment.planted["test"]["spec"]
    assert f"{pool_spec}: 1 of 10 held-out case(s) appear in the task's pool (general 1" in err
    assert f"{test_spec}: 1 of 10 held-out case(s) appear in the test split (1 verbatim" in err


def test_progress_lines_when_stderr_is_not_a_terminal(experiment: Experiment) -> None:
    err = experiment.first.stderr.splitlines()
    units = ["M0", "retrain-random-general", "retrain-tfidf-general", "retrain-random"]
    units += ["retrain-tfidf", "augment-budget"]
    for i, unit in enumerate(units, start=1):
        assert any(line.endswith(f"[{i}/6] {unit} (seed 0) started") for line in err), err
        assert any(f"[{i}/6] {unit} (seed 0) finished in " in line for line in err), err
    assert "started" not in experiment.first.stdout
    # each unit is announced once ("[i/6] name (seed 0) started"), not again without its number
    assert not [line for line in err if line.endswith(" retrain-tfidf (seed 0)")], err
    # a row with a label of its own (later.yaml) is named by it in every line
    later = experiment.later.stderr
    assert "[2/2] retrain-tfidf-batch2 (seed 0) started" in later
    assert "training retrain-tfidf-batch2 (seed 0, 1350 examples)" in later
    assert "training retrain-tfidf (" not in later


def test_results_per_suite_leakage_and_counts(experiment: Experiment) -> None:
    run = read_result(experiment.first_dir)
    assert [m.id for m in run.models] == [
        "M0",
        "retrain-random-general",
        "retrain-tfidf-general",
        "retrain-random",
        "retrain-tfidf",
        "augment-budget",
    ]
    assert run.task.pool_sources == {"general": 1201, "policy": 126}

    # per-suite aggregates, recomputed from the per-spec scores
    for model in run.models:
        (seed,) = model.seeds
        for suite, (n_specs, n_cases) in SUITES.items():
            got = model.aggregate.suites[suite]
            ids = [s.id for s in run.specs if s.suite == suite]
            scores = [seed.heldout[i] for i in ids]
            assert (got.n_specs, got.n_cases) == (n_specs, n_cases)
            case_fr = sum(s.failures for s in scores) / sum(s.n for s in scores)
            assert got.case_fr == pytest.approx(case_fr, abs=1e-6)
            spec_mean = sum(s.failures / s.n for s in scores) / len(scores)
            assert got.spec_mean_fr == pytest.approx(spec_mean, abs=1e-6)
            assert set(got.labels) == {"hateful", "non-hateful"}

    # leakage totals: the two planted texts, nothing else
    assert run.leakage is not None
    total = run.leakage.total
    assert (total.n_heldout, total.leaked, total.in_training_data) == (192, 2, 1)
    assert (total.in_pool, total.in_pool_sources, total.in_test, total.in_train) == (
        1,
        {"general": 1},
        1,
        0,
    )
    assert (total.exact, total.normalised, total.near, total.n_specs_leaking) == (1, 1, 0, 2)
    assert run.leakage.suites["hatecheck"].leaked == 0
    leaking = {s.spec_id: s for s in run.leakage.specs if s.leaked}
    pool_spec = experiment.planted["general_pool"]["spec"]
    test_spec = experiment.planted["test"]["spec"]
    assert set(leaking) == {pool_spec, test_spec}
    assert leaking[pool_spec].in_pool_sources == {"general": 1}
    assert leaking[pool_spec].normalised == 1 and leaking[test_spec].exact == 1

    # per-source and per-label counts of every intervention, checked against the pool files
    labels = pool_labels(experiment.project)
    for model in run.models[1:]:
        changes = model.seeds[0].changes
        counts = changes["source_label_counts"]
        if model.intervention == "augment":
            assert changes["source_counts"] == {"D_i": BUDGET}
            assert sum(counts["D_i"].values()) == BUDGET
            continue
        added = changes["added_ids"]
        assert len(added) == len(set(added)) == BUDGET
        expected: dict[str, dict[str, int]] = {}
        for pool_id in added:
            source = pool_id.split(":", 1)[0]
            per_label = expected.setdefault(source, {})
            per_label[labels[pool_id]] = per_label.get(labels[pool_id], 0) + 1
        nonzero = {s: {k: v for k, v in c.items() if v} for s, c in counts.items()}
        assert {s: c for s, c in nonzero.items() if c} == expected
        assert changes["source_counts"] == {s: sum(c.values()) for s, c in counts.items()}
        assert set(counts) == {"general", "policy"}, "a source it did not draw from counts 0"
        if model.params.get("sources") == ["general"]:
            assert set(expected) == {"general"}

    # the one-seed warning, and the expected-outcome check made for both guided retrains
    statuses = {c["id"]: c["status"] for c in run.checks}
    assert statuses["seeds"] == "WARN"
    for guided, random in (
        ("retrain-tfidf-general", "retrain-random-general"),
        ("retrain-tfidf", "retrain-random"),
    ):
        for scope in ("", "@hatecheck", "@hatemoderate"):
            assert statuses[f"fr-below:{guided}:{random}{scope}"] in {"PASS", "FAIL"}
            assert statuses[f"fr-below:{guided}:M0{scope}"] in {"PASS", "FAIL"}
    assert not [c for c in run.checks if c["status"] == "SKIP"]
    assert not [c for c in run.checks if c["id"].startswith("unjudged:")]


def seen_models(run: RunResult, pool_id: str) -> set[str]:
    """The rows that added ``pool_id`` to their training data."""
    return {m.id for m in run.models if pool_id in m.seeds[0].changes.get("added_ids", [])}


def test_seen_and_unseen_fr_of_the_retrain_that_selected_the_planted_text(
    experiment: Experiment,
) -> None:
    run = read_result(experiment.first_dir)
    planted = experiment.planted["general_pool"]
    spec = planted["spec"]
    pool_id = pool_id_of(experiment.project, planted["written_as"])
    selected = seen_models(run, pool_id)
    # the text is a near copy of its spec's D_i: guided selection from the general pool finds it
    assert "retrain-tfidf-general" in selected
    rows = [r for r in samples(experiment.first_dir) if r["set"] == "heldout"]
    (row,) = [r for r in rows if r["text"] == planted["heldout_text"]]
    assert row["spec_id"] == spec
    assert normalise_text(row["text"]) == normalise_text(planted["written_as"])
    assert set(row["seen_by"]) == selected
    assert all(r["seen_by"] == [] for r in rows if r is not row), "nothing else was trained on"

    spec_rows = [r for r in rows if r["spec_id"] == spec]
    for model in run.models:
        seed = model.seeds[0]
        if model.id not in selected:
            assert seed.n_seen == {} and seed.heldout_unseen == {}
            continue
        assert seed.n_seen == {spec: 1}
        unseen = [r for r in spec_rows if r is not row]
        failures = sum(r["predictions"][model.id] != r["label"] for r in unseen)
        assert seed.heldout_unseen[spec].n == len(unseen) == 9
        assert seed.heldout_unseen[spec].failures == failures
        agg = model.aggregate
        assert agg.n_seen == 1
        assert agg.seen_fr == float(row["predictions"][model.id] != row["label"])
        others = [seed.heldout[s.id].fr for s in run.specs if s.id != spec]
        expected = (sum(others) + failures / 9) / len(run.specs)
        assert agg.unseen_mean_fr == pytest.approx(expected, abs=1e-6)


def report(run_dirs: list[Path], fmt: str, target: Path, *extra: str) -> tuple[Result, str]:
    done = invoke(["report", *map(str, run_dirs), "--format", fmt, "-o", str(target), *extra])
    return done, target.read_text(encoding="utf-8") if target.exists() else ""


def test_every_reporter_renders_the_experiment(experiment: Experiment, tmp_path: Path) -> None:
    run = read_result(experiment.first_dir)
    m0 = run.model("M0").aggregate.suites
    cells = {
        suite: f"{100 * m0[suite].case_fr:.1f} / {100 * m0[suite].spec_mean_fr:.1f}"
        for suite in SUITES
    }
    tfidf = run.model("retrain-tfidf").seeds[0].changes["source_label_counts"]
    console = " ".join(experiment.first.stdout.split())
    for text in (
        "Per suite: held-out FR (%), case-weighted / spec-mean",
        *cells.values(),
        "Added to train, per source and label",
        "Seen / unseen held-out cases",
        "Leakage: held-out cases found in train, pool, D_i or test",
        "suite hatemoderate: 2 of 80 held-out case(s) found elsewhere",
        "WARN conclusions rest on one seed (0)",
        "augment-budget",
        "pool sources: general 1201, policy 126",
    ):
        assert text in console, text

    done, md = report([experiment.first_dir], "md", tmp_path / "report.md")
    assert done.exit_code == 0, done.output
    for suite, cell in cells.items():
        assert any(
            line.startswith(f"| **{suite}** | all labels |") and cell in line
            for line in md.splitlines()
        ), suite
    assert "| hatemoderate | 2 of 8 | 80 | 2 | 1 | 0 | 1 | 0 | 1 | 1 | 1 | 0 |" in md
    assert "Per pool source: hatemoderate: general 1; all suites: general 1." in md
    policy = tfidf["policy"]
    assert (
        f"|  | policy | {policy['non-hateful'] + policy['hateful']} | {policy['non-hateful']} | "
        f"{policy['hateful']} |" in md
    )
    assert "| **augment-budget** | D\\_i | 150 |" in md
    assert "⚠️ WARN conclusions rest on one seed (0)" in md
    assert "### Seen / unseen held-out cases" in md
    assert "| **retrain-tfidf-general** | 1 |" in md

    done, page = report([experiment.first_dir], "html", tmp_path / "report.html")
    assert done.exit_code == 0, done.output
    for text in (
        'id="suites-1"',
        'id="leakage-1"',
        'id="seen-1"',
        'id="drawn-1"',
        "conclusions rest on one seed (0)",
        "augment-budget",
        *cells.values(),
    ):
        assert text in page, text

    done, raw = report([experiment.first_dir], "json", tmp_path / "report.json")
    assert done.exit_code == 0, done.output
    board = json.loads(raw)
    (summary,) = board["runs"]
    assert summary["leakage"]["leaked"] == 2 and summary["leakage"]["in_pool"] == 1
    assert any(c["id"] == "seeds" and c["status"] == "WARN" for c in summary["checks"])
    rows = {r["row"]: r for r in board["rows"]}
    assert rows["M0"]["suites"]["hatecheck"]["case_fr"] == m0["hatecheck"].case_fr
    assert rows["retrain-tfidf-general"]["n_seen"] == 1
    assert rows["retrain-tfidf"]["added"]["policy"] == {k: float(v) for k, v in policy.items()}
    augment = run.model("augment-budget").seeds[0].changes["source_label_counts"]["D_i"]
    assert rows["augment-budget"]["added"] == {"D_i": {k: float(v) for k, v in augment.items()}}


def test_a_later_run_is_paired_with_the_first(experiment: Experiment, tmp_path: Path) -> None:
    later = read_result(experiment.later_dir)
    assert later.task.pool_sources == {"general": 1201, "policy": 126, "policy2": 63}
    skipped = [c for c in later.checks if c["id"] == "expected-outcome"]
    assert [c["status"] for c in skipped] == ["SKIP"], "alone it has no random retrain"

    runs = [experiment.first_dir, experiment.later_dir]
    done, raw = report(runs, "json", tmp_path / "paired.json")
    assert done.exit_code == 0, done.output
    assert "paired runs" in done.stderr
    board = json.loads(raw)
    (merged,) = board["runs"]
    statuses = {c["id"]: c["status"] for c in merged["checks"]}
    assert statuses["paired-runs"] == "INFO"
    assert "expected-outcome" not in statuses, "no SKIP once the runs are paired"
    for scope in ("", "@hatecheck", "@hatemoderate"):
        assert statuses[f"fr-below:retrain-tfidf-batch2:retrain-random{scope}"] in {"PASS", "FAIL"}
    rows = {r["row"] for r in board["rows"]}
    assert {"M0", "retrain-random", "retrain-tfidf", "retrain-tfidf-batch2"} <= rows

    done, md = report(runs, "md", tmp_path / "paired.md")
    assert done.exit_code == 0, done.output
    assert "Pool sources: general 1201, policy 126, policy2 63." in md
    assert "| **retrain-tfidf-batch2** | general |" in md and "|  | policy2 |" in md
    check = invoke(["report", *map(str, runs), "--check"])
    assert check.exit_code in (0, 1), check.output
    assert "SKIP" not in check.output


def test_runs_that_do_not_share_m0_are_not_paired(
    experiment: Experiment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the same config on a train file with one label corrected: another M0
    other = tmp_path / "other"
    shutil.copytree(experiment.project, other)
    train = other / "data" / "tweets" / "train.csv"
    lines = train.read_text(encoding="utf-8").splitlines(keepends=True)
    row = next(i for i, line in enumerate(lines) if line.split(",")[1] == "0")
    fields = lines[row].split(",", 2)
    lines[row] = ",".join([fields[0], "1", fields[2]])
    train.write_text("".join(lines), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    done = invoke(["run", "--config", str(other / "later.yaml"), "-q", "--output-dir", "runs"])
    assert done.exit_code == 0, done.output
    (third,) = list((tmp_path / "runs").iterdir())

    paired = invoke(["report", str(experiment.first_dir), str(third), "--pair"])
    assert paired.exit_code == 2
    (line,) = paired.output.strip().splitlines()
    assert line.startswith("error: --pair: runs ") and "cannot be paired: M0 model_hash" in line
    plain = invoke(["report", str(experiment.first_dir), str(third), "-o", "board.md"])
    assert plain.exit_code == 0, plain.output
    assert "not paired (" in plain.stderr and "M0 model_hash differs at seed 0" in plain.stderr
