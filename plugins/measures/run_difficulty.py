"""The difficulty of a finished run's data under M0's model family (``harness analyse``).

A difficulty measure that scores held-out examples (``pvi``) is computed at every seed of the run
with models of the run's family trained on the train split (for PVI: ``g'`` is M0 itself, loaded
from the cache, and ``g`` the null model on the empty input):

- per spec: the mean over its D_i cases and over its D_i_heldout cases (each case labelled with
  the spec's label), their difference with a 95% bootstrap interval that resamples templates, and
  M0's held-out failure rate;
- per suite and for the test split: the mean over their cases (for PVI, the V-usable
  information of that set);
- the train split itself, cross-fitted (every example scored by models that did not train on it);
- Spearman's correlation, over specs, of the per-spec means with M0's held-out FR: does the
  measure predict failure?

Cases whose text (after normalisation) is in the train split are left out of the means: the
models trained on them, so their scores would be in-sample. Means over seeds are of per-seed
case values (every seed scores the same cases).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import Field

from harness.api import DifficultyMeasure, ExampleScores, ModelFamily, Spec, Split, StrictModel
from harness.results import RunResult

ANALYSIS_SCHEMA_VERSION = 1
"""Bumped on every incompatible change of :class:`DifficultyAnalysis`."""

BOOTSTRAP_REPLICATES = 2000


Verdict = Literal["held-out easier", "held-out harder", "no clear difference"]


class SpecDifficulty(StrictModel):
    """One spec: the measure's mean over its D_i and D_i_heldout cases, and M0's FR."""

    spec: str
    suite: str
    label: str
    n_train_cases: int = Field(description="D_i cases scored")
    n_heldout: int = Field(description="D_i_heldout cases scored")
    n_excluded: int = Field(description="cases left out: their text is in the train split")
    mean_train_cases: float | None = Field(description="mean over D_i (None: no D_i)")
    mean_heldout: float | None = Field(description="mean over D_i_heldout")
    heldout_minus_train: float | None = None
    ci_low: float | None = Field(default=None, description="95% bootstrap interval (templates)")
    ci_high: float | None = None
    verdict: Verdict | None = None
    fr_m0: float | None = Field(default=None, description="M0's held-out FR, mean over seeds")


class SetDifficulty(StrictModel):
    """The measure's mean over one set of examples (for PVI: its V-usable information)."""

    name: str
    kind: Literal["train", "test", "suite D_i", "suite D_i_heldout", "suite"]
    n: int
    mean: float | None
    std_over_seeds: float | None
    share_negative: float | None = Field(description="share of cases scoring below 0")
    estimate: str = Field(description="how the models were trained against these examples")


class Correlation(StrictModel):
    """Spearman's correlation over specs."""

    x: str
    y: str
    n_specs: int
    rho: float | None
    p: float | None
    note: str = ""


class DifficultyAnalysis(StrictModel):
    """What ``harness analyse RUN_DIR`` reports (``--format json``)."""

    schema_version: int = ANALYSIS_SCHEMA_VERSION
    run_id: str
    task: str
    model: str
    measure: str
    measure_args: dict[str, Any]
    unit: str
    seeds: list[int]
    g_is_m0: bool | None = Field(
        description="the model trained on the train split's texts is M0 at every seed (the "
        "same cache key); None when the run recorded no model hashes"
    )
    sets: list[SetDifficulty]
    specs: list[SpecDifficulty]
    correlations: list[Correlation]
    notes: list[str] = Field(default_factory=list)


@dataclass
class CaseSet:
    """Every spec case of a run as one split labelled with its spec's label."""

    split: Split
    spec_ids: list[str]
    kinds: list[str]
    """``train`` (D_i) or ``heldout`` per case."""
    templates: list[str]
    excluded: np.ndarray
    """Cases whose normalised text is in the train split."""


def case_set(
    specs: Sequence[Spec], label_names: Sequence[str], train_texts: Sequence[str]
) -> CaseSet:
    """Every D_i and D_i_heldout case of ``specs`` as one split."""
    from harness.specs.normalise import normalise_text

    in_train = {normalise_text(text) for text in train_texts}
    ids: list[str] = []
    texts: list[str] = []
    labels: list[int] = []
    spec_ids: list[str] = []
    kinds: list[str] = []
    templates: list[str] = []
    for spec in specs:
        for kind, cases in (("train", spec.train_cases), ("heldout", spec.heldout_cases)):
            for case in cases:
                ids.append(case.id)
                texts.append(case.text)
                labels.append(label_names.index(spec.label))
                spec_ids.append(spec.id)
                kinds.append(kind)
                templates.append(case.template_id or f"case:{case.id}")
    excluded = np.asarray([normalise_text(text) in in_train for text in texts], dtype=bool)
    split = Split(ids=ids, texts=texts, labels=np.asarray(labels, dtype=np.int64))
    return CaseSet(split, spec_ids, kinds, templates, excluded)


def template_bootstrap(
    a: np.ndarray, a_templates: Sequence[str], b: np.ndarray, b_templates: Sequence[str], seed: int
) -> tuple[float, float]:
    """95% percentile interval of ``mean(b) - mean(a)``, resampling templates with replacement
    within each set (each set's cases individually when it has a single template)."""
    rng = np.random.default_rng([seed, 0xD1FF])

    def clusters(values: np.ndarray, names: Sequence[str]) -> list[np.ndarray]:
        groups: dict[str, list[float]] = {}
        for value, name in zip(values.tolist(), names, strict=True):
            groups.setdefault(name, []).append(value)
        if len(groups) < 2:
            return [np.asarray([v]) for v in values.tolist()]
        return [np.asarray(v) for v in groups.values()]

    def draws(groups: list[np.ndarray]) -> np.ndarray:
        sums = np.asarray([g.sum() for g in groups])
        sizes = np.asarray([len(g) for g in groups], dtype=np.float64)
        picks = rng.integers(0, len(groups), size=(BOOTSTRAP_REPLICATES, len(groups)))
        return np.asarray(sums[picks].sum(axis=1) / sizes[picks].sum(axis=1))

    diffs = draws(clusters(b, b_templates)) - draws(clusters(a, a_templates))
    low, high = np.percentile(diffs, [2.5, 97.5])
    return float(low), float(high)


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) else None


def spec_rows(
    specs: Sequence[Spec], cases: CaseSet, values: np.ndarray, fr: dict[str, float]
) -> list[SpecDifficulty]:
    """Per spec: means over D_i and D_i_heldout of the per-case ``values`` (means over seeds),
    the difference with its bootstrap interval, and M0's FR."""
    spec_ids = np.asarray(cases.spec_ids, dtype=object)
    kinds = np.asarray(cases.kinds, dtype=object)
    kept = ~cases.excluded
    rows: list[SpecDifficulty] = []
    for index, spec in enumerate(specs):
        mine = spec_ids == spec.id
        di = np.flatnonzero(mine & (kinds == "train") & kept)
        ho = np.flatnonzero(mine & (kinds == "heldout") & kept)
        mean_di, mean_ho = _mean(values[di]), _mean(values[ho])
        diff = low = high = None
        verdict: Verdict | None = None
        if mean_di is not None and mean_ho is not None:
            diff = mean_ho - mean_di
            low, high = template_bootstrap(
                values[di],
                [cases.templates[i] for i in di],
                values[ho],
                [cases.templates[i] for i in ho],
                seed=index,
            )
            verdict = (
                "held-out easier"
                if low > 0
                else "held-out harder"
                if high < 0
                else "no clear difference"
            )
        rows.append(
            SpecDifficulty(
                spec=spec.id,
                suite=spec.suite,
                label=spec.label,
                n_train_cases=len(di),
                n_heldout=len(ho),
                n_excluded=int((mine & cases.excluded).sum()),
                mean_train_cases=_round(mean_di),
                mean_heldout=_round(mean_ho),
                heldout_minus_train=_round(diff),
                ci_low=_round(low),
                ci_high=_round(high),
                verdict=verdict,
                fr_m0=_round(fr.get(spec.id)),
            )
        )
    return rows


def set_row(name: str, kind: Any, per_seed: list[np.ndarray], estimate: str) -> SetDifficulty:
    """The mean of a set of examples over seeds (``per_seed``: the case values of each seed)."""
    means = [float(v.mean()) for v in per_seed if len(v)]
    pooled = np.concatenate(per_seed) if per_seed else np.zeros(0)
    return SetDifficulty(
        name=name,
        kind=kind,
        n=int(len(per_seed[0])) if per_seed else 0,
        mean=_round(float(np.mean(means))) if means else None,
        std_over_seeds=_round(float(np.std(means))) if len(means) > 1 else None,
        share_negative=_round(float((pooled < 0).mean())) if len(pooled) else None,
        estimate=estimate,
    )


def correlations(rows: Sequence[SpecDifficulty]) -> list[Correlation]:
    """Spearman of M0's held-out FR with the mean over D_i (known before any fix is trained:
    the pre-training signal) and with the mean over D_i_heldout (the same cases the FR counts,
    so a strong negative correlation is expected by construction)."""
    from harness.analysis.stats import significant, spearman

    out: list[Correlation] = []
    notes = {
        "mean_train_cases": "D_i and D_i_heldout share no template: does difficulty on the "
        "guiding cases predict failure on the held-out ones?",
        "mean_heldout": "the same cases FR counts: negative by construction (a case M0 fails "
        "has a low probability of its label)",
    }
    for x in ("mean_train_cases", "mean_heldout"):
        pairs = [
            (float(getattr(row, x)), float(row.fr_m0))
            for row in rows
            if getattr(row, x) is not None and row.fr_m0 is not None
        ]
        found = spearman([a for a, _ in pairs], [b for _, b in pairs]) if pairs else None
        out.append(
            Correlation(
                x=x,
                y="fr_m0",
                n_specs=len(pairs),
                rho=_round(found[0]) if found else None,
                p=significant(found[1]) if found else None,
                note=notes[x],
            )
        )
    return out


def m0_failure_rates(result: RunResult, base: str) -> dict[str, float]:
    """M0's held-out FR per spec, mean over the seeds it was evaluated at."""
    seeds = [s for s in result.model(base).seeds if s.heldout]
    out: dict[str, float] = {}
    for spec in result.specs:
        values = [s.heldout[spec.id].fr for s in seeds if spec.id in s.heldout]
        if values:
            out[spec.id] = float(np.mean(values))
    return out


@dataclass
class SeedScores:
    """What the measure gave at one seed."""

    train: ExampleScores
    test: ExampleScores
    cases: ExampleScores
    g_key: str | None


def score_seed(
    measure: DifficultyMeasure[Any], family: ModelFamily, train: Split, test: Split, cases: Split
) -> SeedScores:
    """The measure at one seed: the train split cross-fitted, the test split and the spec
    cases with models trained on the train split."""
    from harness.cache import model_hash

    g = family.train(train, "analyse: model on the train split")
    return SeedScores(
        train=measure.score(family, train),
        test=measure.score(family, train, test),
        cases=measure.score(family, train, cases),
        g_key=model_hash(g),
    )


def suite_sets(
    specs: Sequence[Spec], cases: CaseSet, per_seed: list[np.ndarray]
) -> list[SetDifficulty]:
    """Per suite: the mean over its D_i, its D_i_heldout and all its cases."""
    suites = list(dict.fromkeys(spec.suite for spec in specs))
    spec_suite = {spec.id: spec.suite for spec in specs}
    kinds = np.asarray(cases.kinds, dtype=object)
    kept = ~cases.excluded
    rows: list[SetDifficulty] = []
    estimate = "models trained on the train split"
    for suite in suites:
        mine = np.asarray([spec_suite[s] == suite for s in cases.spec_ids], dtype=bool) & kept
        for kind, name, mask in (
            ("suite D_i", f"{suite}: D_i", mine & (kinds == "train")),
            ("suite D_i_heldout", f"{suite}: D_i_heldout", mine & (kinds == "heldout")),
            ("suite", f"{suite}: all cases", mine),
        ):
            if mask.any():
                rows.append(set_row(name, kind, [v[mask] for v in per_seed], estimate))
    return rows
