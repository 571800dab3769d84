"""Difficulty measures: PVI (Ethayarajh et al. 2022) and dataset cartography (Swayamdipta et al.
2020) on generated data with known answers, the training callback of the model contract, their
uses (relabel methods, retrain re-ranking, ``harness analyse``) and their bad input."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from harness.api import Model, ModelFamily, Split, fit_recording_epochs
from harness.cache import Cache, model_hash
from harness.cli import _add_plugin_commands, cli
from harness.errors import UserError
from harness.results import read_result
from harness.runner import torch_threads
from harness.validation import validate
from harness_plugins.interventions.relabel import inject_noise
from harness_plugins.measures.cartography import Cartography, CartographyArgs
from harness_plugins.measures.pvi import Pvi, PviArgs, fold_assignment
from harness_plugins.models.bow import BowArgs, BowModel
from harness_plugins.models.sklearn_model import SklearnArgs, SklearnModel
from harness_plugins.tasks.demo import load_demo

ROOT = Path(__file__).resolve().parent.parent
SMALL_DEMO = "n_train=300,n_test=120,n_pool=400,n_policy=40"
SMALL_BOW = "epochs=3,buckets=4096,dim=16,hidden=16"


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Train as runs do (``bow`` declares one CPU thread): much faster on a busy machine."""
    with torch_threads(1):
        yield


@pytest.fixture
def analyse_cli() -> Iterator[None]:
    """``harness analyse`` on ``cli``, as the console script adds plugin commands."""
    _add_plugin_commands(cli)
    yield
    cli.commands.pop("analyse", None)


def family(cache_dir: Path, label_names: list[str], seed: int = 0, **bow: object) -> ModelFamily:
    """``bow`` models (default arguments unless given) trained through a cache in
    ``cache_dir``."""
    args = validate(BowArgs, bow)
    cache = Cache(cache_dir)
    return cache.model_family(BowModel, lambda: BowModel.create(args, label_names), seed)


def two_word_task(kind: str, n: int = 1000, seed: int = 0) -> Split:
    """Texts of two words from a five-word vocabulary (25 distinct texts). ``keyword``: label 1
    exactly when ``zebra`` is added to the text; ``independent``: labels drawn at random,
    whatever the text."""
    rng = random.Random(seed)
    words = ["alpha", "bravo", "delta", "gamma", "omega"]
    texts, labels = [], []
    for _ in range(n):
        label = int(rng.random() < 0.5)
        text = f"{rng.choice(words)} {rng.choice(words)}"
        if kind == "keyword" and label:
            text += " zebra"
        texts.append(text)
        labels.append(label)
    return Split(ids=[f"x{i}" for i in range(n)], texts=texts, labels=np.asarray(labels))


# --------------------------------------------------------------------------------------------
# PVI


def test_pvi_is_near_zero_when_the_labels_are_independent_of_the_text(tmp_path: Path) -> None:
    scores = Pvi(PviArgs(folds=2)).score(family(tmp_path, ["a", "b"]), two_word_task("independent"))
    # Each fold's g' sees every one of the 25 texts about m = 1000 / 2 / 25 = 20 times with
    # random labels, so it can only learn their empirical label frequencies; on the other fold
    # that costs about 1 / (2 ln 2 m) = 0.04 bits against the prior. 0.1 bits leaves room for
    # the optimiser, and is a tenth of the keyword task's value below.
    assert abs(scores.summary["v_information"]) < 0.1
    assert scores.summary["folds"] == 2 and scores.summary["stratified"] is True


def test_pvi_is_high_when_the_label_is_a_keyword_in_the_text(tmp_path: Path) -> None:
    split = two_word_task("keyword")
    scores = Pvi(PviArgs(folds=2)).score(family(tmp_path, ["a", "b"]), split)
    # The labels are balanced (1 bit of entropy) and fully determined by the text: a model that
    # gives the right label p > 0.9 on held-out examples has PVI > 1 + log2(0.9) = 0.85 bits.
    assert scores.summary["v_information"] > 0.85
    assert scores.summary["share_negative"] == 0.0
    # g, trained on the empty input, knows only the label distribution
    share = split.labels.mean()
    prior = np.where(split.labels == 1, np.log2(share), np.log2(1 - share))
    assert np.allclose(scores.columns["log2_p_empty"], prior, atol=0.1)
    assert np.all(scores.suggested_labels == 1 - split.labels)  # binary: the other label


def test_pvi_of_other_data_uses_m0_itself_as_g_prime(tmp_path: Path) -> None:
    train, test = two_word_task("keyword", 400), two_word_task("keyword", 100, seed=1)
    args = validate(BowArgs, {"epochs": 2})
    cache = Cache(tmp_path)
    m0 = cache.train(BowModel.create(args, ["a", "b"]), train, seed=3, purpose="M0")
    fam = cache.model_family(BowModel, lambda: BowModel.create(args, ["a", "b"]), 3)
    trained_before = cache.trained
    scores = Pvi(PviArgs(null_model="prior")).score(fam, train, test)
    assert cache.trained == trained_before  # g' came from the cache; prior: no g to train
    assert cache.helper_loaded == 1
    expected = np.log2(m0.predict_proba(test.texts)[np.arange(100), test.labels])
    assert np.allclose(scores.columns["log2_p_text"], expected, atol=1e-6)
    assert scores.summary["folds"] is None and scores.summary["n_fit"] == 400


def test_cross_fitting_scores_every_example_once_from_models_that_did_not_see_it() -> None:
    labels = np.asarray([0] * 30 + [1] * 12)
    folds, stratified = fold_assignment(labels, 4, seed=0)
    assert stratified and sorted(set(folds.tolist())) == [0, 1, 2, 3]
    for fold in range(4):  # every fold holds both labels in their proportion
        assert 2 <= (labels[folds == fold] == 1).sum() <= 4
    few = np.asarray([0] * 20 + [1] * 2)  # a label rarer than the folds: plain folds
    assert fold_assignment(few, 4, seed=0)[1] is False
    with pytest.raises(UserError, match="too few for 5 cross-fitting folds"):
        fold_assignment(np.asarray([0, 1] * 4), 5, seed=0)


# --------------------------------------------------------------------------------------------
# Training dynamics


def test_bow_reports_every_epoch_without_changing_training() -> None:
    split = two_word_task("keyword", 200)
    args = validate(BowArgs, {"epochs": 3})
    seen: list[tuple[int, tuple[int, ...]]] = []

    def on_epoch_end(epoch: int, probabilities: np.ndarray) -> None:
        seen.append((epoch, probabilities.shape))
        assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)

    recorded = BowModel.create(args, ["a", "b"])
    recorded.fit(split.texts, split.labels, 0, on_epoch_end=on_epoch_end)
    plain = BowModel.create(args, ["a", "b"])
    plain.fit(split.texts, split.labels, 0)
    assert seen == [(0, (200, 2)), (1, (200, 2)), (2, (200, 2))]
    assert np.allclose(recorded.predict_proba(split.texts), plain.predict_proba(split.texts))


def test_recorded_epochs_are_cached_with_the_training(tmp_path: Path) -> None:
    split = two_word_task("keyword", 200)
    args = validate(BowArgs, {"epochs": 2})
    cache = Cache(tmp_path)
    first = cache.record_epochs(BowModel.create(args, ["a", "b"]), split, 0, "cartography")
    assert first.shape == (2, 200, 2) and cache.trained == 1
    again = cache.record_epochs(BowModel.create(args, ["a", "b"]), split, 0, "cartography")
    assert cache.trained == 1 and np.array_equal(first, again)
    # the model trained while recording is the cache's model of that training
    model = cache.train(BowModel.create(args, ["a", "b"]), split, 0, "M0")
    assert cache.trained == 1 and cache.loaded == 1
    assert np.allclose(model.predict_proba(split.texts), first[-1], atol=1e-6)
    assert model_hash(model) is not None


def test_damaged_recorded_epochs_are_recomputed(tmp_path: Path) -> None:
    split = two_word_task("keyword", 100)
    args = validate(BowArgs, {"epochs": 2})
    warnings: list[str] = []
    cache = Cache(tmp_path, warn=warnings.append)
    first = cache.record_epochs(BowModel.create(args, ["a", "b"]), split, 0, "cartography")
    (entry,) = (tmp_path / "predictions").glob("*-epochs")
    data = bytearray((entry / "dynamics.npy").read_bytes())
    data[-1] ^= 0xFF
    (entry / "dynamics.npy").write_bytes(bytes(data))
    again = cache.record_epochs(BowModel.create(args, ["a", "b"]), split, 0, "cartography")
    assert cache.damaged == 1 and len(warnings) == 1 and "training dynamics" in warnings[0]
    assert cache.trained == 2 and np.array_equal(first, again)


def test_cartography_marks_flipped_demo_labels_as_hard_to_learn(tmp_path: Path) -> None:
    task = load_demo(n_train=600, n_test=10, n_pool=0, noise=0.0)
    labels, flipped = inject_noise(task.train.labels, 0.1, seed=0, num_labels=2)
    scores = Cartography(CartographyArgs()).score(
        family(tmp_path, task.label_names), task.train.with_labels(labels)
    )
    k = len(flipped)
    precision = len(set(scores.order()[:k].tolist()) & set(flipped.tolist())) / k
    # A random set of k = 60 of the 600 examples holds 6 of the 60 flips on average (precision
    # 0.10, standard deviation 0.04); the 60 most hard-to-learn hold at least half of them
    # (measured: 0.97, 0.88, 0.87 at seeds 0, 1, 2), a margin of 0.4 over random.
    assert precision >= 0.5
    confidence, variability = scores.values, scores.columns["variability"]
    assert np.all((confidence >= 0) & (confidence <= 1)) and np.all(variability >= 0)
    chosen = scores.order()[:k]
    assert confidence[chosen].mean() < 0.5 < confidence.mean()
    assert scores.summary["epochs"] == 6


def test_cartography_needs_two_epochs(tmp_path: Path) -> None:
    split = two_word_task("keyword", 100)
    with pytest.raises(UserError, match="at least 2 epochs; model 'bow' reported 1"):
        Cartography(CartographyArgs()).score(family(tmp_path, ["a", "b"], epochs=1), split)


def test_measures_say_what_a_model_lacks() -> None:
    assert Cartography.model_problem(BowModel) is None
    assert "does not report its training epochs" in str(Cartography.model_problem(SklearnModel))
    assert Pvi.model_problem(SklearnModel) is None

    class LabelsOnly(SklearnModel):
        provides_probabilities = False

    assert "gives no class probabilities" in str(Pvi.model_problem(LabelsOnly))
    with pytest.raises(TypeError, match="supports_epoch_callback"):
        fit_recording_epochs(SklearnModel.create(SklearnArgs(), ["a", "b"]), Split([], [], []), 0)


def test_sklearn_fits_the_empty_input_as_the_label_prior() -> None:
    model: Model = SklearnModel.create(SklearnArgs(), ["a", "b"])
    model.fit([""] * 10, np.asarray([0, 0, 0, 1, 1, 1, 1, 1, 1, 1]), seed=0)
    assert np.allclose(model.predict_proba(["", "any text at all"]), [[0.3, 0.7]] * 2, atol=0.01)


# --------------------------------------------------------------------------------------------
# Uses in a run, and bad input


def run(tmp_path: Path, *args: str) -> object:
    return CliRunner().invoke(
        cli, ["run", "--quiet", "--seeds", "1", "--output-dir", str(tmp_path / "runs"), *args]
    )


def test_the_example_config_runs_relabel_methods_the_rerank_and_analyse(
    tmp_path: Path, analyse_cli: None
) -> None:
    config = ROOT / "examples" / "difficulty.yaml"
    flags = ["--config", str(config), "--task-args", SMALL_DEMO, "--model-args", SMALL_BOW]
    result = run(tmp_path, *flags, "--budget", "60")
    assert result.exit_code == 0, result.output
    (run_dir,) = list((tmp_path / "runs").iterdir())
    found = read_result(run_dir)
    methods = ["rrf", "borda", "cleanlab", "pvi", "cartography", "random"]
    for method in methods:
        (seed,) = found.model(f"relabel-{method}-noise0.1").seeds
        assert seed.changes["n_flipped"] == 100
        assert 0 <= seed.changes["precision_at_k"] <= 1
        assert seed.changes["noise"]["evaluated_against"] == "injected"
    pvi = found.model("relabel-pvi-noise0.1").seeds[0].changes
    assert pvi["measure"]["folds"] == 5 and pvi["measure"]["unit"] == "bits"
    assert pvi["precision_at_k"] > pvi["random_precision_at_k"]
    rerank = found.model("retrain-tfidf-pvi").seeds[0].changes["rerank"]
    assert rerank["measure"] == "pvi" and rerank["n_scored"] >= 60
    assert rerank["mean_selected"] <= rerank["mean_scored"]  # hardest first
    assert found.model("retrain-tfidf-pvi").seeds[0].changes["n_selected"] == 60

    for fmt in ("md", "html"):
        report = CliRunner().invoke(cli, ["report", str(run_dir), "--format", fmt])
        assert report.exit_code == 0, report.output
        assert "Label-noise detection" in report.output
        assert "relabel-cartography-noise0.1" in report.output
    console = CliRunner().invoke(cli, ["report", str(run_dir)], env={"COLUMNS": "120"})
    assert "Label-noise detection" in console.output and "precision@k" in console.output

    out = tmp_path / "difficulty.json"
    analysed = CliRunner().invoke(cli, ["analyse", str(run_dir), "--quiet", "-o", str(out)])
    assert analysed.exit_code == 0, analysed.output
    report = json.loads(out.read_text())
    assert report["g_is_m0"] is True and report["measure"] == "pvi"
    assert [s["name"] for s in report["sets"]][:2] == ["train", "test"]
    assert {row["spec"] for row in report["specs"]} == {s.id for s in found.specs}
    assert all(row["fr_m0"] is not None for row in report["specs"])
    assert [c["x"] for c in report["correlations"]] == ["mean_train_cases", "mean_heldout"]
    markdown = CliRunner().invoke(cli, ["analyse", str(run_dir), "--quiet", "--format", "md"])
    assert markdown.exit_code == 0, markdown.output
    assert "## Does it predict failure?" in markdown.output
    assert "| counter-speech |" in markdown.output


BAD_INPUT = [
    (
        ["--model", "sklearn", "--model-args", "", "--interventions", "relabel:method=cartography"],
        "interventions (relabel-cartography).params.method: relabel method 'cartography' cannot "
        "work with model 'sklearn', which does not report its training epochs",
    ),
    (
        ["--interventions", "relabel:method=pvi,method_args={folds: 1}"],
        "method_args: folds: Input should be greater than or equal to 2",
    ),
    (["--interventions", "relabel:method=pvx"], "unknown relabel method 'pvx'; did you mean pvi?"),
    (
        ["--interventions", "relabel:method=rrf,method_args={folds: 5}"],
        "method 'rrf' takes no method_args",
    ),
    (
        ["--interventions", "retrain:selection=tfidf,rerank=cartography"],
        "measure 'cartography' scores only the examples its model trains on",
    ),
]


@pytest.mark.parametrize(("flags", "message"), BAD_INPUT)
def test_bad_difficulty_input_is_one_line_and_writes_nothing(
    tmp_path: Path, flags: list[str], message: str
) -> None:
    result = run(tmp_path, "--task-args", SMALL_DEMO, *flags)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert message in lines[0]
    assert not (tmp_path / "runs").exists()


def test_analyse_refuses_a_measure_that_cannot_score_spec_cases(
    tmp_path: Path, analyse_cli: None
) -> None:
    result = run(
        tmp_path, "--task-args", SMALL_DEMO, "--model-args", SMALL_BOW, "--interventions", ""
    )
    assert result.exit_code == 0, result.output
    (run_dir,) = list((tmp_path / "runs").iterdir())
    refused = CliRunner().invoke(cli, ["analyse", str(run_dir), "--measure", "cartography"])
    assert refused.exit_code == 2
    assert refused.output.strip() == (
        "error: --measure: measure 'cartography' scores only the examples its model trains on, "
        "not spec cases; use a measure that scores held-out cases: pvi"
    )
    folds = CliRunner().invoke(cli, ["analyse", str(run_dir), "--measure-args", "folds=1"])
    assert folds.exit_code == 2 and "--measure-args.folds: " in folds.output
    assert len(folds.output.strip().splitlines()) == 1
