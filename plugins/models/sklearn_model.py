"""``sklearn``: TF-IDF n-grams + logistic regression, a strong and fast classical baseline.

It is a plain :class:`~harness.api.Model`, not a torch model: interventions that tune parameters
(patching) skip it with a reason. It is saved without pickle: the vocabulary as JSON and the idf
weights, coefficients and intercepts as ``.npy`` files (``allow_pickle=False``).

``class_weight`` (``balanced`` or ``{label: weight}`` by label name) is passed to
``LogisticRegression`` (names mapped to label indices; see :mod:`harness.class_weights`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

import harness
from harness.api import ClassWeight, Model, Register, StrictModel, Texts

if TYPE_CHECKING:
    from harness.progress import Progress


NO_TOKEN = "<no input>"
"""The one feature of a model fitted on texts without any token: longer than any character
n-gram (at most 5) and holding a space, which no word token does, so no text produces it."""


class SklearnArgs(StrictModel):
    """Arguments of the ``sklearn`` model (``--model-args``)."""

    ngram_max: int = Field(default=2, ge=1, le=5, description="longest word n-gram")
    analyzer: Literal["word", "char_wb"] = Field(default="word", description="n-grams of what")
    min_df: int = Field(default=1, ge=1, description="drop n-grams seen in fewer texts")
    max_features: int | None = Field(default=100_000, ge=1, description="vocabulary cap")
    sublinear_tf: bool = Field(default=True, description="1 + log(tf) instead of tf")
    C: float = Field(default=4.0, gt=0, description="inverse regularisation strength")
    max_iter: int = Field(default=2000, ge=10)
    class_weight: ClassWeight = Field(
        default=None,
        description="LogisticRegression class_weight: balanced or {label: weight}",
    )


class SklearnModel(Model[SklearnArgs]):
    """TF-IDF + LogisticRegression (lbfgs); probabilities computed from the stored weights."""

    name = "sklearn"
    description = "scikit-learn TF-IDF n-grams + logistic regression (no patching)"
    Args = SklearnArgs

    _vectorizer: Any = None
    coef: np.ndarray | None = None
    """Fitted weights, ``(n_classes or 1, n_features)`` (``None`` until fitted or loaded)."""
    intercept: np.ndarray | None = None
    classes: np.ndarray | None = None

    def _new_vectorizer(self, vocabulary: list[str] | None = None) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        args: SklearnArgs = self.args
        return TfidfVectorizer(
            analyzer=args.analyzer,
            ngram_range=(1, args.ngram_max),
            min_df=1 if vocabulary is not None else args.min_df,
            max_features=None if vocabulary is not None else args.max_features,
            sublinear_tf=args.sublinear_tf,
            lowercase=True,
            dtype=np.float64,
            vocabulary=vocabulary,
        )

    def fit(
        self, texts: Texts, labels: np.ndarray, seed: int, progress: Progress | None = None
    ) -> None:
        """Fit the vectoriser and the classifier on ``texts``/``labels``."""
        from sklearn.linear_model import LogisticRegression

        from harness.class_weights import sklearn_class_weight

        args: SklearnArgs = self.args
        y = np.asarray(labels, dtype=np.int64)
        self._vectorizer = self._new_vectorizer()
        try:
            features = self._vectorizer.fit_transform(list(texts))
        except ValueError as exc:
            if "empty vocabulary" not in str(exc):
                raise
            # No text holds a token (e.g. the empty input a null model is fitted on): one
            # feature no text can produce, so the classifier learns the label prior alone.
            self._vectorizer = self._new_vectorizer([NO_TOKEN])
            features = self._vectorizer.fit_transform(list(texts))
        classes = np.unique(y)
        if len(classes) < 2:
            self.classes = classes
            self.coef = np.zeros((1, features.shape[1]))
            self.intercept = np.zeros(1)
            return
        classifier = LogisticRegression(
            C=args.C,
            max_iter=args.max_iter,
            class_weight=sklearn_class_weight(args.class_weight, self.label_names, y),
            random_state=seed,
        )
        classifier.fit(features, y)
        self.coef = np.asarray(classifier.coef_, dtype=np.float64)
        self.intercept = np.asarray(classifier.intercept_, dtype=np.float64)
        self.classes = np.asarray(classifier.classes_, dtype=np.int64)

    def _features(self, texts: Sequence[str]) -> Any:
        if self._vectorizer is None or self.coef is None:
            raise RuntimeError("the sklearn model is not trained; call fit() or load() first")
        return self._vectorizer.transform(list(texts))

    def predict_proba(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Class probabilities ``(n, num_labels)``; labels absent from training get 0."""
        out = np.zeros((len(texts), self.num_labels), dtype=np.float64)
        if len(texts) == 0:
            return out
        features = self._features(texts)
        assert self.coef is not None and self.intercept is not None and self.classes is not None
        scores = np.asarray(features @ self.coef.T) + self.intercept
        if len(self.classes) == 1:
            probs = np.ones((len(texts), 1))
        elif len(self.classes) == 2:
            positive = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            probs = np.stack([1.0 - positive, positive], axis=1)
        else:
            scores -= scores.max(axis=1, keepdims=True)
            exp = np.exp(scores)
            probs = exp / exp.sum(axis=1, keepdims=True)
        out[:, self.classes] = probs
        return out

    def embed(self, texts: Sequence[str]) -> np.ndarray | None:
        """TF-IDF rows are sparse and vocabulary-sized, so this model offers no embedding."""
        return None

    def save(self, directory: Path) -> None:
        """Write ``vocabulary.json``, ``idf.npy``, ``coef.npy``, ``intercept.npy``,
        ``classes.npy`` and ``config.json`` (no pickle)."""
        if self._vectorizer is None or self.coef is None:
            raise RuntimeError("the sklearn model is not trained; nothing to save")
        assert self.intercept is not None and self.classes is not None
        directory.mkdir(parents=True, exist_ok=True)
        vocabulary = self._vectorizer.vocabulary_
        terms = [""] * len(vocabulary)
        for term, index in vocabulary.items():
            terms[index] = term
        (directory / "vocabulary.json").write_text(json.dumps(terms, ensure_ascii=False))
        np.save(directory / "idf.npy", np.asarray(self._vectorizer.idf_), allow_pickle=False)
        np.save(directory / "coef.npy", self.coef, allow_pickle=False)
        np.save(directory / "intercept.npy", self.intercept, allow_pickle=False)
        np.save(directory / "classes.npy", self.classes, allow_pickle=False)
        self.save_info(directory)

    def load(self, directory: Path) -> None:
        """Rebuild the vectoriser (fixed vocabulary + idf) and the weights from :meth:`save`."""
        terms = json.loads((directory / "vocabulary.json").read_text())
        vectorizer = self._new_vectorizer(terms)
        vectorizer.idf_ = np.load(directory / "idf.npy", allow_pickle=False)
        self._vectorizer = vectorizer
        self.coef = np.load(directory / "coef.npy", allow_pickle=False)
        self.intercept = np.load(directory / "intercept.npy", allow_pickle=False)
        self.classes = np.load(directory / "classes.npy", allow_pickle=False)


@harness.hookimpl
def register_models(register: Register[type[Model]]) -> None:
    """Register the ``sklearn`` model."""
    register(SklearnModel)
