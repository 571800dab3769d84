"""Held-out spec cases (D_i_heldout) found in data a model may train on, or in the test split.

A held-out case measures a fix only if no model trained on its text. :func:`find_leakage`
compares every held-out case with

- the task's ``train`` split (every model trains on it),
- every pool source (retraining may select any pool row),
- the D_i cases of every spec (``augment`` and ``patch`` train on them),
- the ``test`` split (the same text then counts in test accuracy and in a spec's FR),

verbatim and after :func:`harness.specs.normalise.normalise_text` (case, whitespace, punctuation,
URLs, @mentions), and counts per spec, per suite and in total. Near-duplicates of D_i cases
(word n-gram Jaccard, :func:`harness.specs.checks.near_duplicates`) are counted as before.

:class:`HeldoutIndex` answers the per-model question the runner asks after training: which
held-out cases did *this* model's training texts contain (its "seen" cases)?
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from harness.api import UNNAMED_SOURCE, Spec, SpecSuite, Task
from harness.results import LeakageCounts, LeakageReport, LeakageTotals, SpecLeakage
from harness.specs.normalise import NORMALISER_DESCRIPTION, normalise_text
from harness.text_column import TextColumn, take_texts

UNNAMED_POOL = UNNAMED_SOURCE
"""The source name of pool rows that carry none."""

CorpusKind = Literal["train", "pool", "test"]


@dataclass(frozen=True)
class Corpus:
    """A set of texts held-out cases are compared with: the train split, one pool source or the
    test split."""

    kind: CorpusKind
    name: str
    texts: Sequence[str]

    @property
    def label(self) -> str:
        """``train``, ``test``, ``pool`` or ``pool/<source>``."""
        if self.kind != "pool" or self.name == UNNAMED_POOL:
            return self.kind
        return f"pool/{self.name}"


def task_corpora(task: Task) -> list[Corpus]:
    """The task's train split, each pool source (rows grouped by ``Split.sources``) and the test
    split. Pool texts are not copied into lists: an Arrow-backed pool gives each source an
    Arrow-backed view of its rows."""
    corpora = [Corpus("train", "train", task.train.texts)]
    pool = task.pool
    if pool.sources is None:
        if len(pool):
            corpora.append(Corpus("pool", UNNAMED_POOL, pool.texts))
    else:
        names = np.asarray([name or UNNAMED_POOL for name in pool.sources], dtype=object)
        for name in sorted(set(names.tolist())):
            rows = np.flatnonzero(names == name)
            corpora.append(Corpus("pool", name, take_texts(pool.texts, rows)))
    corpora.append(Corpus("test", "test", task.test.texts))
    return corpora


def _distinct(texts: Sequence[str]) -> Iterable[str]:
    """The texts to look at once each: a set for a list, the column itself (streamed a chunk at
    a time) for an Arrow-backed one."""
    return texts if isinstance(texts, TextColumn) else set(texts)


class Normaliser:
    """:func:`normalise_text` with a memo, for texts that are compared many times (train rows
    are normalised once per run, not once per model and seed)."""

    def __init__(self) -> None:
        self._memo: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        """The normal form of ``text``."""
        key = self._memo.get(text)
        if key is None:
            key = self._memo[text] = normalise_text(text)
        return key


@dataclass
class SpecDetail:
    """Everything found for one spec: the stored counts plus what the one-line messages need."""

    leakage: SpecLeakage
    d_i_exact: int = 0
    d_i_exact_owners: list[str] = field(default_factory=list)
    d_i_example: str | None = None
    exact: dict[str, int] = field(default_factory=dict)
    """Verbatim matches per corpus label (``train``, ``pool/x``, ``test``)."""
    matched: dict[str, int] = field(default_factory=dict)
    """Matches per corpus label, verbatim or after normalisation."""
    examples: dict[str, str] = field(default_factory=dict)
    """The first held-out text found per corpus kind (``train``, ``pool``, ``test``), so a
    message can show the user which case to look for."""


@dataclass
class LeakageAnalysis:
    """The stored report and the per-spec details behind it."""

    report: LeakageReport
    details: list[SpecDetail]


def _add_counts(total: LeakageCounts, part: LeakageCounts) -> None:
    for name in (
        "n_heldout",
        "leaked",
        "in_training_data",
        "exact",
        "normalised",
        "near",
        "in_train",
        "in_pool",
        "in_test",
        "in_d_i",
        "in_other_d_i",
    ):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    for source, n in part.in_pool_sources.items():
        total.in_pool_sources[source] = total.in_pool_sources.get(source, 0) + n


def totals(specs: Iterable[SpecLeakage]) -> LeakageTotals:
    """Counts summed over ``specs``."""
    total = LeakageTotals()
    for spec in specs:
        _add_counts(total, spec)
        total.n_specs += 1
        total.n_specs_leaking += int(bool(spec.leaked or spec.near))
    total.in_pool_sources = dict(sorted(total.in_pool_sources.items()))
    return total


def find_leakage(
    suites: Sequence[SpecSuite],
    corpora: Sequence[Corpus] = (),
    *,
    ngram: int = 3,
    near_threshold: float = 0.8,
) -> LeakageAnalysis:
    """Compare every held-out case of ``suites`` with ``corpora`` and every spec's D_i."""
    from harness.specs.checks import near_duplicates

    normalise = Normaliser()
    d_i_raw: dict[str, set[str]] = defaultdict(set)
    d_i_norm: dict[str, set[str]] = defaultdict(set)
    d_i_order: dict[str, str] = {}  # first owner by raw text, in load order
    for suite in suites:
        for spec in suite.specs:
            for case in spec.train_cases:
                d_i_raw[case.text].add(spec.id)
                d_i_order.setdefault(case.text, spec.id)
                key = normalise(case.text)
                if key:
                    d_i_norm[key].add(spec.id)
    heldout_raw = {c.text for s in suites for spec in s.specs for c in spec.heldout_cases}
    wanted = {normalise(text) for text in heldout_raw} - {""}
    raw_sets: dict[str, set[str]] = {}
    norm_sets: dict[str, set[str]] = {}
    for corpus in corpora:  # one pass over each corpus's distinct texts
        raw = raw_sets.setdefault(corpus.label, set())
        norm = norm_sets.setdefault(corpus.label, set())
        for text in _distinct(corpus.texts):
            if text in heldout_raw:
                raw.add(text)
            key = normalise_text(text)
            if key in wanted:
                norm.add(key)
    queries = sorted(heldout_raw - d_i_raw.keys())
    flags = near_duplicates(queries, list(d_i_order), n=ngram, threshold=near_threshold)
    near_texts = {text for text, flag in zip(queries, flags, strict=True) if flag}
    kinds = {c.label: c for c in corpora}

    details: list[SpecDetail] = []
    for suite in suites:
        for spec in suite.specs:
            details.append(
                _spec_detail(
                    suite,
                    spec,
                    kinds,
                    raw_sets,
                    norm_sets,
                    near_texts,
                    d_i_raw,
                    d_i_norm,
                    d_i_order,
                    normalise,
                )  # fmt: skip
            )
    specs = [d.leakage for d in details]
    by_suite: dict[str, list[SpecLeakage]] = defaultdict(list)
    for item in specs:
        by_suite[item.suite].append(item)
    sizes = {c.label: len(c.texts) for c in corpora}
    sizes["D_i"] = sum(len(spec.train_cases) for s in suites for spec in s.specs)
    report = LeakageReport(
        normaliser=NORMALISER_DESCRIPTION,
        near_ngram=ngram,
        near_threshold=near_threshold,
        corpora=sizes,
        specs=specs,
        suites={name: totals(items) for name, items in by_suite.items()},
        total=totals(specs),
    )
    return LeakageAnalysis(report=report, details=details)


def _spec_detail(
    suite: SpecSuite,
    spec: Spec,
    corpora: dict[str, Corpus],
    raw_sets: dict[str, set[str]],
    norm_sets: dict[str, set[str]],
    near_texts: set[str],
    d_i_raw: dict[str, set[str]],
    d_i_norm: dict[str, set[str]],
    d_i_order: dict[str, str],
    normalise: Normaliser,
) -> SpecDetail:
    leakage = SpecLeakage(spec_id=spec.id, suite=suite.name, n_heldout=len(spec.heldout_cases))
    detail = SpecDetail(leakage=leakage)
    owners: set[str] = set()
    for case in spec.heldout_cases:
        text, key = case.text, normalise(case.text)
        exact_hits = [label for label, raw in raw_sets.items() if text in raw]
        hits = [label for label, norm in norm_sets.items() if key and key in norm]
        in_d_i_exact = text in d_i_raw
        in_d_i = in_d_i_exact or bool(key and key in d_i_norm)
        leakage.in_pool += int(any(corpora[label].kind == "pool" for label in hits))
        for label in exact_hits:
            detail.exact[label] = detail.exact.get(label, 0) + 1
        for label in hits:
            detail.matched[label] = detail.matched.get(label, 0) + 1
            corpus = corpora[label]
            detail.examples.setdefault(corpus.kind, text)
            if corpus.kind == "pool":
                sources = leakage.in_pool_sources
                sources[corpus.name] = sources.get(corpus.name, 0) + 1
            elif corpus.kind == "train":
                leakage.in_train += 1
            else:
                leakage.in_test += 1
        if in_d_i_exact:
            detail.d_i_exact += 1
            owners.add(d_i_order[text])
            detail.d_i_example = detail.d_i_example or text
        if in_d_i:
            leakage.in_d_i += 1
            spec_owners = d_i_raw.get(text, set()) | (d_i_norm.get(key, set()) if key else set())
            leakage.in_other_d_i += int(bool(spec_owners - {spec.id}))
        trainable = in_d_i or any(corpora[label].kind != "test" for label in hits)
        if trainable or hits:
            leakage.leaked += 1
            leakage.in_training_data += int(trainable)
            if exact_hits or in_d_i_exact:
                leakage.exact += 1
            else:
                leakage.normalised += 1
            leakage.example = leakage.example or text
        if text in near_texts:
            leakage.near += 1
    detail.d_i_exact_owners = sorted(owners)
    leakage.in_pool_sources = dict(sorted(leakage.in_pool_sources.items()))
    return detail


class HeldoutIndex:
    """The normalised texts of every held-out case, to find the cases a model trained on.

    ``seen(texts)`` returns the normal forms of held-out cases that occur among ``texts`` (a
    model's training texts); :meth:`seen_mask` turns them into a per-case mask of one spec."""

    def __init__(self, specs: Sequence[Spec], normalise: Normaliser | None = None) -> None:
        self.normalise = normalise or Normaliser()
        self.keys: dict[str, list[str]] = {
            spec.id: [self.normalise(c.text) for c in spec.heldout_cases] for spec in specs
        }
        self.all_keys: set[str] = {k for keys in self.keys.values() for k in keys if k}

    def seen(self, texts: Iterable[str]) -> frozenset[str]:
        """The held-out normal forms that occur (normalised) among ``texts``."""
        found: set[str] = set()
        if not self.all_keys:
            return frozenset()
        for text in texts:
            key = self.normalise(text)
            if key in self.all_keys:
                found.add(key)
        return frozenset(found)

    def seen_mask(self, spec_id: str, seen: frozenset[str]) -> list[bool]:
        """For each held-out case of ``spec_id`` (in order), whether its normal form is in
        ``seen``."""
        return [bool(key) and key in seen for key in self.keys[spec_id]]


def describe_counts(counts: LeakageCounts) -> str:
    """Where leaked held-out cases were found, in one phrase:
    ``train 1, pool 3 (general 2, policy 1), D_i 0, test 1; 2 verbatim, 3 only after
    normalisation; 1 near-duplicate of D_i``."""
    pool = f"pool {counts.in_pool}"
    named = {k: v for k, v in counts.in_pool_sources.items() if k != UNNAMED_POOL}
    if named:
        pool += " (" + ", ".join(f"{name} {n}" for name, n in named.items()) + ")"
    return (
        f"train {counts.in_train}, {pool}, D_i {counts.in_d_i}, test {counts.in_test}; "
        f"{counts.exact} verbatim, {counts.normalised} only after normalisation; "
        f"{counts.near} near-duplicate(s) of D_i"
    )


def where_found(counts: LeakageCounts) -> str:
    """The places with leaked cases, e.g. ``pool 3, train 1, test 1`` (``-`` for none)."""
    parts = [
        f"{name} {n}"
        for name, n in (
            ("train", counts.in_train),
            ("pool", counts.in_pool),
            ("D_i", counts.in_d_i),
            ("test", counts.in_test),
            ("near D_i", counts.near),
        )
        if n
    ]
    return ", ".join(parts) or "-"


def summary_line(name: str, counts: LeakageTotals, checked: Sequence[str] = ()) -> str:
    """One line for a suite (or the run): how many held-out cases were found where
    (``checked``: the corpora compared with, named in the line when nothing was found)."""
    if not counts.leaked and not counts.near:
        where = ", ".join(checked) if checked else "train, pool, D_i or test"
        return (
            f"{name}: none of {counts.n_heldout} held-out case(s) found in {where} (verbatim "
            "or normalised), no near-duplicates of D_i"
        )
    return (
        f"{name}: {counts.leaked} of {counts.n_heldout} held-out case(s) found elsewhere, "
        f"{counts.in_training_data} in data a model may train on "
        f"({counts.n_specs_leaking} of {counts.n_specs} spec(s) affected): "
        + describe_counts(counts)
    )


def worst_specs(report: LeakageReport, suite: str | None = None, n: int = 3) -> list[SpecLeakage]:
    """The ``n`` specs (of ``suite``, or of all) with the most leaked, then near, cases."""
    specs = [
        s for s in report.specs if (suite is None or s.suite == suite) and (s.leaked or s.near)
    ]
    specs.sort(key=lambda s: (-s.in_training_data, -s.leaked, -s.near, s.spec_id))
    return specs[:n]
