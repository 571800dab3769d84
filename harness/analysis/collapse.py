"""Flag models that collapsed: a single predicted class on the test split, or a test MCC near 0.

On imbalanced data (say 5% of one label) a model can learn to predict the majority label for
everything and still show high accuracy. Its spec failure rates then measure a constant, not
a classifier, so the runner flags such a model per seed (``SeedResult.collapse``) and over seeds
(``Aggregate.collapse``), and every report prints the flag as text with a one-line reason.

A seed is flagged when the test split holds at least two labels and either

- ``single-class``: every test case gets the same predicted label, or
- ``near-chance``: the Matthews correlation on the test split is below :data:`MCC_FLOOR`.
  MCC is 0 for a constant or a random guess at any class balance (accuracy is not) and 1 for a
  perfect classifier; a random guess on 1,000 binary test cases scatters by about
  ``1 / sqrt(1000) ≈ 0.03``, so 0.1 is about three standard deviations above chance.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.results import Collapse, Metrics, SeedResult

MCC_FLOOR = 0.1
"""A test MCC below this flags a model as near chance (see the module docstring)."""


def _counts_text(predicted: dict[str, int]) -> str:
    return ", ".join(f"{label} {count}" for label, count in predicted.items())


def detect_collapse(metrics: Metrics | None, n_gold_labels: int) -> Collapse | None:
    """The :class:`Collapse` of a seed with test ``metrics`` (``None`` when it is fine, or when
    the test split holds fewer than two labels and nothing can be told)."""
    if metrics is None or metrics.n == 0 or n_gold_labels < 2:
        return None
    used = {label: count for label, count in metrics.predicted.items() if count}
    if len(used) == 1:
        (label,) = used
        return Collapse(
            kind="single-class",
            detail=f"predicts only {label!r} for all {metrics.n} test cases",
        )
    if metrics.mcc < MCC_FLOOR:
        spread = f" (predicted: {_counts_text(metrics.predicted)})" if metrics.predicted else ""
        return Collapse(
            kind="near-chance",
            detail=f"test MCC {metrics.mcc:.3f} < {MCC_FLOOR:g}{spread}",
        )
    return None


def collapsed_seeds(seeds: Sequence[SeedResult]) -> list[int]:
    """The seeds whose model is flagged."""
    return [s.seed for s in seeds if s.collapse is not None]


def collapse_summary(seeds: Sequence[SeedResult]) -> str | None:
    """One line over seeds, e.g. ``collapsed on 1 of 3 seeds: seed 2 predicts only 'ok' for
    all 1000 test cases`` (``None`` when no seed is flagged)."""
    trained = [s for s in seeds if s.test is not None]
    flagged = [s for s in trained if s.collapse is not None]
    if not flagged:
        return None
    reasons = "; ".join(f"seed {s.seed} {s.collapse.detail}" for s in flagged if s.collapse)
    plural = "s" if len(trained) != 1 else ""
    return f"collapsed on {len(flagged)} of {len(trained)} seed{plural}: {reasons}"


COLLAPSE_NOTE = (
    "a collapsed model predicts a single class on the test split, or separates the classes "
    f"hardly better than chance (test MCC < {MCC_FLOOR:g}); its spec failure rates measure "
    "that, not what it learned (on skewed labels try class_weight: balanced)"
)
"""The one-line explanation reports print under the list of collapsed models."""
