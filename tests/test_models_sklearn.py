"""The ``sklearn`` model: TF-IDF + logistic regression, saved without pickle."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from harness.cli import cli
from harness.errors import UserError
from harness.validation import validate
from harness_plugins.models.sklearn_model import SklearnArgs, SklearnModel

NICE = ["you are a great friend", "thanks so much", "what a lovely day", "i like this a lot"]
MEAN = ["you are an idiot", "what a fool", "such a clown", "they are stupid"]
NEUTRAL = ["the bus is late", "it rains today", "see you at noon", "the shop is closed"]


def data(classes: int = 2) -> tuple[list[str], np.ndarray]:
    groups = [NICE, MEAN, NEUTRAL][:classes]
    texts = [t for g in groups for t in g for _ in range(3)]
    labels = np.repeat(np.arange(classes), len(NICE) * 3)
    return texts, labels


def model(num_labels: int = 2, **kwargs: object) -> SklearnModel:
    return SklearnModel(validate(SklearnArgs, kwargs), num_labels=num_labels)


def test_fit_and_predict_binary() -> None:
    texts, labels = data(2)
    m = model()
    m.fit(texts, labels, seed=0)
    probs = m.predict_proba(["you are an idiot", "what a lovely friend"])
    assert probs.shape == (2, 2)
    np.testing.assert_allclose(probs.sum(1), 1.0)
    assert list(probs.argmax(1)) == [1, 0]
    assert m.embed(texts) is None


def test_probabilities_match_scikit_learn() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts, labels = data(3)
    m = model(num_labels=3)
    m.fit(texts, labels, seed=0)
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, max_features=100_000)
    clf = LogisticRegression(C=4.0, max_iter=2000, random_state=0).fit(
        vec.fit_transform(texts), labels
    )
    probe = ["you fool", "the day is lovely", "the bus"]
    np.testing.assert_allclose(
        m.predict_proba(probe), clf.predict_proba(vec.transform(probe)), atol=1e-9
    )


def test_labels_missing_from_training_get_zero_probability() -> None:
    texts, labels = data(2)
    m = model(num_labels=3)
    m.fit(texts, labels, seed=0)
    probs = m.predict_proba(["hello"])
    assert probs.shape == (1, 3) and probs[0, 2] == 0.0


def test_save_load_round_trip_without_pickle(tmp_path: Path) -> None:
    texts, labels = data(3)
    m = model(num_labels=3, ngram_max=3, analyzer="char_wb")
    m.fit(texts, labels, seed=0)
    m.save(tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "classes.npy",
        "coef.npy",
        "config.json",
        "idf.npy",
        "intercept.npy",
        "vocabulary.json",
    ]
    for path in tmp_path.glob("*.npy"):
        np.load(path, allow_pickle=False)  # raises if anything needed pickle
    fresh = model(num_labels=3, ngram_max=3, analyzer="char_wb")
    fresh.load(tmp_path)
    probe = texts + ["completely new words", ""]
    np.testing.assert_array_equal(fresh.predict_proba(probe), m.predict_proba(probe))
    assert json.loads((tmp_path / "config.json").read_text())["model"] == "sklearn"


def test_untrained_model_refuses_to_predict() -> None:
    with pytest.raises(RuntimeError):
        model().predict_proba(["x"])


def test_args_are_validated() -> None:
    with pytest.raises(UserError, match="unknown key 'c'"):
        validate(SklearnArgs, {"c": 1.0}, prefix="model_args.")
    with pytest.raises(UserError, match="model_args.C"):
        validate(SklearnArgs, {"C": -1}, prefix="model_args.")


def test_cli_run_with_sklearn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    result = CliRunner().invoke(
        cli,
        ["run", "-q", "--model", "sklearn", "--interventions", ""]
        + ["--task-args", "n_train=400,n_test=100,n_pool=0"]
        + ["--output-dir", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    (path,) = tmp_path.glob("*/results.json")
    accuracy = json.loads(path.read_text())["models"][0]["seeds"][0]["test"]["accuracy"]
    assert accuracy > 0.8
    (entry,) = (tmp_path / "cache" / "models").iterdir()
    assert (entry / "vocabulary.json").exists()
