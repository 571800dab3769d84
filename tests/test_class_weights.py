"""``class_weight`` for bow, hf and sklearn: the weighted loss against a hand computation, the
arguments passed to LogisticRegression, planning-time label checks and the cache key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import harness.class_weights
from harness.api import Model, NoArgs
from harness.cache import Cache
from harness.cli import cli
from harness.errors import UserError
from harness.testing import make_tiny_bert
from harness.validation import validate
from harness_plugins.models.bow import BowArgs, BowModel
from harness_plugins.models.hf import HfArgs, HfModel
from harness_plugins.models.sklearn_model import SklearnArgs, SklearnModel

LABELS = ["non-toxic", "toxic"]
TEXTS = [
    "you are kind",
    "what a lovely day",
    "thanks friend",
    "nice people",
    "good morning all",
    "i like this",
    "you idiot",
    "stupid clown",
]
Y = np.array([0, 0, 0, 0, 0, 0, 1, 1])  # 6 non-toxic, 2 toxic


def hand_loss(logits: np.ndarray, target: np.ndarray, weights: np.ndarray) -> float:
    """mean_i(w[y_i] * -log softmax(logits_i)[y_i]), written out in numpy."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    per_example = -log_probs[np.arange(len(target)), target]
    return float(np.mean(weights[target] * per_example))


def capture_losses(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record every call of the shared weighted loss (inputs and the returned loss)."""
    calls: list[dict[str, Any]] = []
    original = harness.class_weights.weighted_cross_entropy

    def spy(logits: Any, target: Any, weights: Any) -> Any:
        loss = original(logits, target, weights)
        calls.append(
            {
                "logits": logits.detach().float().cpu().numpy().copy(),
                "target": target.detach().cpu().numpy().copy(),
                "weights": None if weights is None else weights.detach().cpu().numpy().copy(),
                "loss": float(loss.detach()),
            }
        )
        return loss

    monkeypatch.setattr(harness.class_weights, "weighted_cross_entropy", spy)
    return calls


# ---------------------------------------------------------------------------------------------
# The argument
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, None),
        ("balanced", "balanced"),
        ({"toxic": 5}, {"toxic": 5.0}),
        ("toxic:5|non-toxic:0.5", {"toxic": 5.0, "non-toxic": 0.5}),
        ("none", None),
    ],
)
def test_class_weight_forms(given: Any, expected: Any) -> None:
    assert validate(BowArgs, {"class_weight": given}).class_weight == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"toxic": -1}, "must be positive"),
        ({"toxic": "heavy"}, "not a number"),
        ("heavy", "balanced"),
        ({}, "non-empty"),
    ],
)
def test_bad_class_weight_is_one_line(given: Any, message: str) -> None:
    with pytest.raises(UserError, match=message) as info:
        validate(BowArgs, {"class_weight": given}, prefix="model_args.")
    assert "model_args.class_weight" in str(info.value)


def test_balanced_is_scikit_learns_definition_on_the_fitted_data() -> None:
    weights = harness.class_weights.class_weight_vector("balanced", LABELS, Y)
    assert weights is not None
    np.testing.assert_allclose(weights, [8 / (2 * 6), 8 / (2 * 2)])
    # three labels, one absent from the fitted data: n_classes counts the present ones
    three = harness.class_weights.class_weight_vector("balanced", ["a", "b", "c"], Y)
    np.testing.assert_allclose(three, [8 / (2 * 6), 8 / (2 * 2), 1.0])
    named = harness.class_weights.class_weight_vector({"toxic": 3}, LABELS, Y)
    np.testing.assert_allclose(named, [1.0, 3.0])


# ---------------------------------------------------------------------------------------------
# bow and hf: the loss of a batch against a hand computation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("class_weight", "expected"), [("balanced", [8 / 12, 8 / 4]), ({"toxic": 4.0}, [1.0, 4.0])]
)
def test_bow_weights_the_loss_as_specified(
    monkeypatch: pytest.MonkeyPatch, class_weight: Any, expected: list[float]
) -> None:
    calls = capture_losses(monkeypatch)
    args = validate(BowArgs, {"class_weight": class_weight, "epochs": 1, "batch_size": 8})
    BowModel(args, 2, label_names=LABELS).fit(TEXTS, Y, seed=0)
    (call,) = calls  # one epoch, one batch of all 8 examples
    np.testing.assert_allclose(call["weights"], expected, rtol=1e-6)
    assert sorted(call["target"].tolist()) == sorted(Y.tolist())
    assert call["loss"] == pytest.approx(
        hand_loss(call["logits"], call["target"], np.array(expected)), rel=1e-5
    )
    unweighted = hand_loss(call["logits"], call["target"], np.ones(2))
    assert abs(call["loss"] - unweighted) > 1e-4  # the weights changed the loss


def test_bow_without_class_weight_is_the_plain_mean_cross_entropy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = capture_losses(monkeypatch)
    BowModel(validate(BowArgs, {"epochs": 1, "batch_size": 8}), 2).fit(TEXTS, Y, seed=0)
    (call,) = calls
    assert call["weights"] is None
    assert call["loss"] == pytest.approx(
        hand_loss(call["logits"], call["target"], np.ones(2)), rel=1e-5
    )


def test_hf_weights_the_loss_as_specified(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder = make_tiny_bert(tmp_path / "bert", " ".join(TEXTS).split(), layers=1, hidden=32)
    calls = capture_losses(monkeypatch)
    args = validate(
        HfArgs,
        {
            "pretrained": str(folder),
            "class_weight": "balanced",
            "epochs": 1,
            "batch_size": 8,
            "max_length": 16,
        },
    )
    HfModel(args, 2, label_names=LABELS).fit(TEXTS, Y, seed=0)
    (call,) = calls
    expected = np.array([8 / 12, 8 / 4])
    np.testing.assert_allclose(call["weights"], expected, rtol=1e-6)
    assert call["loss"] == pytest.approx(
        hand_loss(call["logits"], call["target"], expected), rel=1e-5
    )


def test_balanced_weights_raise_minority_recall_on_imbalanced_data() -> None:
    rng = np.random.default_rng(0)
    majority = ["have a nice day", "thanks for the help", "see you at lunch", "great game"]
    minority = ["you are a worthless idiot", "go away idiot"]
    texts, labels = [], []
    for i in range(400):
        toxic = i % 20 == 0  # 5% toxic
        base = (minority if toxic else majority)[int(rng.integers(2 if toxic else 4))]
        noise = " ".join(rng.choice(["day", "lunch", "idiot", "game", "help"], 2))
        texts.append(f"{base} {noise}")
        labels.append(int(toxic))
    y = np.array(labels)
    probe = [f"{minority[i % 2]} {w}" for i, w in enumerate(["day", "game", "help", "lunch"])]

    def toxic_share(class_weight: Any) -> float:
        args = validate(BowArgs, {"class_weight": class_weight, "epochs": 1})
        model = BowModel(args, 2, label_names=LABELS)
        model.fit(texts, y, seed=0)
        return float(model.predict_proba(probe)[:, 1].mean())

    # one epoch: unweighted, the rare label loses on its own texts; balanced, it wins
    assert toxic_share(None) < 0.4
    assert toxic_share("balanced") > 0.6


# ---------------------------------------------------------------------------------------------
# sklearn passes them to LogisticRegression
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("class_weight", "passed"),
    [("balanced", "balanced"), ({"toxic": 3}, {0: 1.0, 1: 3.0}), (None, None)],
)
def test_sklearn_passes_class_weight_to_logistic_regression(
    monkeypatch: pytest.MonkeyPatch, class_weight: Any, passed: Any
) -> None:
    import sklearn.linear_model
    from sklearn.linear_model import LogisticRegression

    seen: list[Any] = []

    class Spy(LogisticRegression):  # type: ignore[misc]
        def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
            seen.append(self.class_weight)
            return super().fit(X, y, sample_weight)

    monkeypatch.setattr(sklearn.linear_model, "LogisticRegression", Spy)
    model = SklearnModel(validate(SklearnArgs, {"class_weight": class_weight}), 2, "cpu", LABELS)
    model.fit(TEXTS, Y, seed=0)
    assert seen == [passed]


def test_sklearn_class_weight_matches_logistic_regression_fitted_directly() -> None:
    from sklearn.linear_model import LogisticRegression

    model = SklearnModel(validate(SklearnArgs, {"class_weight": {"toxic": 3}}), 2, "cpu", LABELS)
    model.fit(TEXTS, Y, seed=0)
    features = model._vectorizer.transform(TEXTS)
    direct = LogisticRegression(C=4.0, max_iter=2000, class_weight={0: 1, 1: 3}).fit(features, Y)
    np.testing.assert_allclose(model.coef, direct.coef_, atol=1e-6)
    unweighted = LogisticRegression(C=4.0, max_iter=2000).fit(features, Y)
    assert not np.allclose(model.coef, unweighted.coef_, atol=1e-3)


# ---------------------------------------------------------------------------------------------
# Planning, construction and the cache key
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["bow", "sklearn"])
def test_unknown_label_is_refused_at_planning(tmp_path: Path, model: str) -> None:
    out = tmp_path / "runs"
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "--output-dir",
            str(out),
            "--model",
            model,
            "--model-args",
            "class_weight=toxc:5",
            "--task-args",
            "n_train=60,n_test=20,n_pool=0",
            "--interventions",
            "",
        ],
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "model_args.class_weight" in lines[0]
    assert "'toxc'" in lines[0] and "non-toxic, toxic" in lines[0]
    assert not out.exists()


def test_run_with_class_weight_from_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text(
        "task_args: {n_train: 200, n_test: 60, n_pool: 0}\n"
        "model_args: {epochs: 1, class_weight: {toxic: 2.5}}\n"
        "interventions: []\n"
        f"output_dir: {tmp_path / 'runs'}\n"
    )
    result = CliRunner().invoke(cli, ["run", "--config", str(config), "-q"])
    assert result.exit_code == 0, result.output
    (run_dir,) = list((tmp_path / "runs").iterdir())
    assert '"class_weight"' in (run_dir / "config.json").read_text()


def test_class_weight_is_part_of_the_cache_key() -> None:
    from harness.api import Split

    split = Split(ids=[str(i) for i in range(8)], texts=TEXTS, labels=Y)
    trainer = Cache(enabled=False)

    def key(class_weight: Any, labels: list[str] = LABELS) -> str:
        args = validate(BowArgs, {"class_weight": class_weight})
        return trainer.training_key(BowModel(args, 2, label_names=labels), split, 0)

    keys = {key(None), key("balanced"), key({"toxic": 2}), key({"toxic": 3})}
    assert len(keys) == 4
    # the same weights by name on a task whose labels come in the other order differ too
    assert key({"toxic": 2}) != key({"toxic": 2}, ["toxic", "non-toxic"])
    assert key(None) == key(None, ["toxic", "non-toxic"])


def test_create_serves_constructors_without_label_names() -> None:
    class OldStyle(Model):
        name = "old-style"

        def __init__(self, args: Any, num_labels: int, device: str = "cpu") -> None:
            super().__init__(args, num_labels, device)

        def fit(self, texts: Any, labels: Any, seed: int, progress: Any = None) -> None: ...
        def predict_proba(self, texts: Any, progress: Any = None) -> np.ndarray:
            return np.zeros((len(texts), self.num_labels))

        def save(self, directory: Path) -> None: ...
        def load(self, directory: Path) -> None: ...

    old = OldStyle.create(NoArgs(), LABELS)
    assert old.label_names == LABELS and old.num_labels == 2
    new = BowModel.create(BowArgs(), LABELS)
    assert new.label_names == LABELS
    assert BowModel(BowArgs(), 3).label_names == ["0", "1", "2"]
