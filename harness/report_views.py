"""Views of a run shared by the console and file reporters: spec groups, per-label summaries,
the specs an intervention broke, failing example cases read from ``samples.jsonl``."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.display import shortened
from harness.errors import UserError
from harness.results import ModelResult, RunResult, SpecInfo

GroupBy = Literal["label", "tag", "group", "none"]
WORSE_POINTS = 0.05
"""An FR rise of at least this much (not significant) is listed as 'worse' next to 'broken'."""


@dataclass
class ReportOptions:
    """What ``harness report`` passes to reporters that define an ``options`` attribute."""

    ci: bool = False
    group_by: GroupBy = "label"
    examples: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    """run id -> spec id -> a few failing held-out cases."""


WALL_TIME_NOTE = (
    "wall s: seconds this run spent on the row; cached (s): its models came from the cache, s = "
    "the seconds they took to train; (k/n cached): k of its n models came from the cache"
)
"""Caption text for the wall-time cell of a row whose models came from the cache."""


def wall_time(result: RunResult, model_id: str, missing: str = "-") -> str:
    """The wall-time cell of a model row: this run's seconds; ``cached (s)`` when every model
    of the row came from the cache (``s``: the seconds they took to train, when the cache entry
    records it); ``s (k/n cached)`` when k of its n models did."""
    timing = result.timing
    seconds = timing.seconds.get(model_id)
    if seconds is None:
        return missing
    loaded = timing.loaded_models.get(model_id) or 0
    if not loaded:
        return f"{seconds:.1f}"
    found = [m for m in result.models if m.id == model_id]
    total = sum(1 for s in found[0].seeds if s.test is not None) if found else loaded
    if loaded >= total:
        trained = timing.trained_seconds.get(model_id)
        return "cached" if trained is None else f"cached ({trained:.1f})"
    return f"{seconds:.1f} ({loaded}/{total} cached)"


def any_loaded(result: RunResult) -> bool:
    """Whether some model row of the run came from the cache."""
    return any(result.timing.loaded_models.values())


def shown_text(value: Any) -> Any:
    """A text as a report shows it: at most :data:`harness.display.SHOWN_TEXT_CHARS`
    characters, cut with an ellipsis and the count left out (the full text stays in
    ``samples.jsonl`` and ``results.json``); other values unchanged."""
    return shortened(value) if isinstance(value, str) else value


def shown_models(result: RunResult) -> list[ModelResult]:
    """Model rows that produced numbers (M0 always)."""
    return [m for m in result.models if m.aggregate.mean_fr is not None or m.id == "M0"]


def pooled_interval(model: ModelResult, spec_id: str) -> tuple[float, float] | None:
    """Wilson 95% interval of a spec's FR pooled over the model's seeds (the mean FR over seeds
    equals the pooled rate, since every seed sees the same cases)."""
    from harness.analysis.stats import wilson_interval

    scores = [s.heldout[spec_id] for s in model.seeds if spec_id in s.heldout]
    if not scores:
        return None
    return wilson_interval(sum(x.failures for x in scores), sum(x.n for x in scores))


def vs_m0(result: RunResult) -> dict[str, dict[str, Any]]:
    """Comparison entries against M0, by model id."""
    return {c["a"]: c for c in result.comparisons if c.get("b") == "M0" and "specs" in c}


def group_specs(result: RunResult, by: GroupBy = "label") -> list[tuple[str, list[SpecInfo]]]:
    """Specs in groups (by label, first tag, or group), groups in first-seen order."""
    groups: dict[str, list[SpecInfo]] = {}
    for spec in result.specs:
        if by == "label":
            key = spec.label
        elif by == "tag":
            key = spec.tags[0] if spec.tags else "(no tag)"
        elif by == "group":
            key = spec.group or "(no group)"
        else:
            key = "all specs"
        groups.setdefault(key, []).append(spec)
    return list(groups.items())


def label_summary(result: RunResult) -> list[dict[str, Any]]:
    """Per spec label: number of specs and each model's mean held-out FR over them."""
    rows = []
    for label, specs in group_specs(result, "label"):
        row: dict[str, Any] = {"label": label, "n_specs": len(specs), "fr": {}}
        for model in shown_models(result):
            fr = model.aggregate.heldout_fr
            values = [fr[s.id] for s in specs if s.id in fr]
            row["fr"][model.id] = sum(values) / len(values) if values else None
        rows.append(row)
    return rows


def collapsed_models(result: RunResult) -> list[tuple[str, str]]:
    """``(model id, one-line summary)`` of every model row that collapsed on some seed
    (a single predicted class or near-chance test MCC; see :mod:`harness.analysis.collapse`)."""
    return [(m.id, m.aggregate.collapse) for m in result.models if m.aggregate.collapse]


SUITE_NOTE = (
    "case-weighted = the suite's held-out failures / its held-out cases (a spec with more cases "
    "weighs more); spec-mean = the mean of its specs' FRs (every spec weighs the same)"
)
"""What the two per-suite figures are; every report prints it under the per-suite table."""


@dataclass
class SuiteRow:
    """One row of the per-suite table: a suite, a label within it, or all suites together."""

    suite: str
    label: str | None
    n_specs: int
    n_cases: int
    fr: dict[str, tuple[float | None, float | None]]
    """model id -> (case-weighted FR, spec-mean FR), means over seeds."""
    std: dict[str, tuple[float | None, float | None]]
    """model id -> standard deviations over seeds of the same two."""
    kind: Literal["suite", "label", "all"] = "suite"


def suite_rows(result: RunResult) -> list[SuiteRow]:
    """Per suite, then per label within it, each shown model's case-weighted and spec-mean
    held-out FR; with two or more suites a last row for all specs together."""
    from harness.analysis.suites import suite_aggregates

    models = shown_models(result)
    per_model = {
        m.id: m.aggregate.suites or suite_aggregates(m.seeds, result.specs) for m in models
    }
    names = list(dict.fromkeys(spec.suite for spec in result.specs))
    rows: list[SuiteRow] = []
    for name in names:
        first = next((v[name] for v in per_model.values() if name in v), None)
        if first is None:
            continue
        order = {label: i for i, label in enumerate(result.task.label_names)}
        labels = sorted(first.labels, key=lambda label: (order.get(label, len(order)), label))
        groups: list[tuple[str | None, Any]] = [(None, first)]
        groups += [(label, first.labels[label]) for label in labels]
        for label, shape in groups:
            row = SuiteRow(
                suite=name,
                label=label,
                n_specs=shape.n_specs,
                n_cases=shape.n_cases,
                fr={},
                std={},
                kind="suite" if label is None else "label",
            )
            for model_id, suites in per_model.items():
                found = suites.get(name)
                group = found if found is None or label is None else found.labels.get(label)
                if group is not None:
                    row.fr[model_id] = (group.case_fr, group.spec_mean_fr)
                    row.std[model_id] = (group.case_fr_std, group.spec_mean_fr_std)
            rows.append(row)
    if len(names) > 1:
        measured = [spec for spec in result.specs if spec.n_heldout_cases > 0]
        rows.append(
            SuiteRow(
                suite="all suites",
                label=None,
                n_specs=len(measured),
                n_cases=sum(spec.n_heldout_cases for spec in measured),
                fr={m.id: (m.aggregate.case_fr, m.aggregate.mean_fr) for m in models},
                std={m.id: (m.aggregate.case_fr_std, m.aggregate.mean_fr_std) for m in models},
                kind="all",
            )
        )
    return rows


def collapse_mark(model: ModelResult) -> str | None:
    """``COLLAPSED (seeds ...)`` for a model row flagged on some seed, else ``None``."""
    seeds = model.aggregate.collapsed_seeds
    if not model.aggregate.collapse:
        return None
    return f"COLLAPSED (seed{'s' if len(seeds) != 1 else ''} {', '.join(map(str, seeds))})"


def broken_specs(result: RunResult) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """For each intervention: specs it BROKE against M0 (FR significantly higher after Holm) and
    specs that got worse by at least 5 points without significance."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for model_id, comp in vs_m0(result).items():
        broken, worse = [], []
        for spec_id, item in comp["specs"].items():
            entry = {"spec": spec_id, **item}
            if item.get("status") == "broken":
                broken.append(entry)
            elif (item.get("delta") or 0.0) >= WORSE_POINTS:
                worse.append(entry)
        out[model_id] = {"broken": broken, "worse": worse}
    return out


@dataclass
class DrawnRow:
    """What one intervention added to training from one source (``source`` ``"all"``: from
    every source together), as means over the seeds it ran."""

    model: str
    source: str
    n: float
    labels: dict[str, float]


def drawn_counts(result: RunResult) -> list[DrawnRow]:
    """Per intervention whose ``changes`` record ``source_label_counts`` (retrain, augment, ...):
    the examples it added per source and label, means over its seeds; a source it did not
    draw from is listed with zeros; an ``all`` row follows when there are several sources."""
    labels = list(result.task.label_names)
    rows: list[DrawnRow] = []
    for model in result.models:
        records = [
            s.changes["source_label_counts"]
            for s in model.seeds
            if isinstance(s.changes.get("source_label_counts"), dict)
        ]
        if not records:
            continue
        sources = list(dict.fromkeys(name for record in records for name in record))
        per_source: dict[str, dict[str, float]] = {}
        for name in sources:
            per_source[name] = {
                label: sum(float((r.get(name) or {}).get(label, 0)) for r in records) / len(records)
                for label in labels
            }
            rows.append(DrawnRow(model.id, name, sum(per_source[name].values()), per_source[name]))
        if len(sources) > 1:
            total = {label: sum(c[label] for c in per_source.values()) for label in labels}
            rows.append(DrawnRow(model.id, "all", sum(total.values()), total))
    return rows


NOISE_NOTE = (
    "precision@k: the share of an intervention's k label flips that hit a known mislabelled "
    "train example (the noise the run injected, or the task's own list); random set: a random "
    "flip set with the same per-label counts, scored the same way"
)


@dataclass
class NoiseRow:
    """How well one intervention's label flips found known mislabelled train examples (a
    relabelling with injected noise), over the seeds that record it."""

    model: str
    method: str
    against: str
    """Which mislabelled examples the flips are scored against: ``injected`` (the noise the
    run injected) or ``known`` (the task's own list)."""
    k: float
    precision: float
    precision_std: float | None
    random_precision: float | None
    recall: float | None
    n_seeds: int


def noise_detection(result: RunResult) -> list[NoiseRow]:
    """Per intervention whose ``changes`` record ``precision_at_k`` (``relabel`` with
    ``inject_noise``, or on a task that lists its mislabelled examples): precision@k of its flips
    against the known mislabelled examples, with the same-size random flip set's, means over
    seeds."""
    rows: list[NoiseRow] = []
    for model in result.models:
        seeds = [
            s.changes
            for s in model.seeds
            if isinstance(s.changes.get("precision_at_k"), (int, float))
        ]
        if not seeds:
            continue
        precision = [float(c["precision_at_k"]) for c in seeds]
        baseline = [
            float(c["random_precision_at_k"])
            for c in seeds
            if isinstance(c.get("random_precision_at_k"), (int, float))
        ]
        recall = [float(c["recall"]) for c in seeds if isinstance(c.get("recall"), (int, float))]
        noise = seeds[0].get("noise")
        against = noise.get("evaluated_against") if isinstance(noise, dict) else None
        rows.append(
            NoiseRow(
                model=model.id,
                method=str(seeds[0].get("method", "")),
                against=str(against or "-"),
                k=sum(float(c.get("n_flipped", c.get("k", 0)) or 0) for c in seeds) / len(seeds),
                precision=sum(precision) / len(precision),
                precision_std=statistics.pstdev(precision) if len(precision) > 1 else None,
                random_precision=sum(baseline) / len(baseline) if baseline else None,
                recall=sum(recall) / len(recall) if recall else None,
                n_seeds=len(seeds),
            )
        )
    return rows


def count_text(value: float) -> str:
    """A count, or a mean count over seeds with one decimal when it is not whole."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def iter_samples(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a ``samples.jsonl`` (a regular file within ``HARNESS_MAX_DATA_MB``; a bad line is
    a one-line error naming the line)."""
    from harness.input_files import open_bounded
    from harness.limits import DATA_MB

    with open_bounded(path, DATA_MB) as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise UserError(
                    "not a JSON object", file=path, line=number, fix="re-run to regenerate it"
                ) from None
            except RecursionError:
                raise UserError(
                    "nested too deeply", file=path, line=number, fix="re-run to regenerate it"
                ) from None
            if not isinstance(row, dict):
                raise UserError(
                    "not a JSON object", file=path, line=number, fix="re-run to regenerate it"
                )
            yield row


def failing_examples(
    samples: Path | Iterable[dict[str, Any]] | None, result: RunResult, per_spec: int = 3
) -> dict[str, list[dict[str, Any]]]:
    """A few held-out cases per spec that models fail (first seed), each with every model's
    prediction: those failed by the most models first (M0 breaks ties), one per template before
    a second from the same template. ``samples``: a ``samples.jsonl`` path (nothing when it does
    not exist) or its rows."""
    if samples is None or (
        isinstance(samples, Path) and not samples.exists() and not samples.is_symlink()
    ):
        return {}
    rows = iter_samples(samples) if isinstance(samples, Path) else samples
    seed = result.seeds[0] if result.seeds else None
    pool: dict[str, list[tuple[int, int, int, dict[str, Any]]]] = {}
    for order, row in enumerate(rows):
        if row.get("set") != "heldout" or row.get("seed") != seed:
            continue
        predictions = row.get("predictions") or {}
        failed = [m for m, p in predictions.items() if p != row.get("label")]
        if not failed:
            continue
        key = (-len(failed), 0 if "M0" in failed else 1, order)
        pool.setdefault(str(row.get("spec_id")), []).append((*key, row))
    out: dict[str, list[dict[str, Any]]] = {}
    for spec_id, items in pool.items():
        items.sort(key=lambda item: item[:3])
        chosen: list[dict[str, Any]] = []
        templates: set[Any] = set()
        for *_, row in items:  # one case per template first, for variety
            if len(chosen) < per_spec and row.get("template_id") not in templates:
                templates.add(row.get("template_id"))
                chosen.append(row)
        for *_, row in items:
            if len(chosen) < per_spec and all(row is not c for c in chosen):
                chosen.append(row)
        out[spec_id] = [
            {
                "id": shown_text(row.get("id")),
                "text": shown_text(row.get("text", "")),
                "template_id": shown_text(row.get("template_id")),
                "label": shown_text(row.get("label")),
                "predictions": {
                    shown_text(k): shown_text(v) for k, v in (row.get("predictions") or {}).items()
                },
            }
            for row in chosen
        ]
    return out


GUARD_WORDS = {"accuracy": "acc", "macro_f1": "macro-F1"}


def guard_flags(result: RunResult) -> dict[str, str]:
    """Per model id, a textual marker for its failed guards, e.g. ``GUARD FAIL: acc -68.0 pt,
    macro-F1 -41.3 pt vs M0`` (a drop beyond the ``check:`` tolerance; not colour alone)."""
    drops: dict[str, list[str]] = {}
    for check in result.checks:
        if check.get("kind") != "guard" or check.get("status") != "FAIL":
            continue
        delta = check.get("delta_points")
        word = GUARD_WORDS.get(str(check.get("metric")), str(check.get("metric")))
        drops.setdefault(str(check.get("model")), []).append(
            f"{word} {'?' if delta is None else f'{delta:+.1f}'} pt"
        )
    return {model: f"GUARD FAIL: {', '.join(items)} vs M0" for model, items in drops.items()}


def model_note(result: RunResult, model: ModelResult) -> str:
    """The note cell of a model row: why it was skipped, whether it collapsed, and its failed
    guards."""
    parts = [model.skipped or "", collapse_mark(model) or "", guard_flags(result).get(model.id, "")]
    return "; ".join(p for p in parts if p)


def comparison_methods(result: RunResult) -> list[str]:
    """The distinct ``method`` texts of the run's comparisons (how CIs and p-values are made)."""
    return list(dict.fromkeys(str(c["method"]) for c in result.comparisons if c.get("method")))


def any_seen(result: RunResult) -> bool:
    """Whether some model trained on the text of some held-out case."""
    return any(m.aggregate.n_seen for m in result.models)


def seen_unseen_rows(result: RunResult) -> list[dict[str, Any]]:
    """Per trained model: held-out cases it trained on (``n_seen``, summed over seeds, and
    ``per_seed``), FR on them (``seen_fr``), mean spec FR on the rest (``unseen_fr``) and on all
    cases (``mean_fr``). Empty when no model saw any held-out case."""
    if not any_seen(result):
        return []
    rows = []
    for model in shown_models(result):
        agg = model.aggregate
        n_seeds = sum(1 for s in model.seeds if s.test is not None) or 1
        rows.append(
            {
                "model": model.id,
                "n_seen": agg.n_seen,
                "per_seed": agg.n_seen / n_seeds,
                "seen_fr": agg.seen_fr,
                "unseen_fr": agg.unseen_mean_fr,
                "mean_fr": agg.mean_fr,
            }
        )
    return rows


SEEN_NOTE = (
    "seen: held-out cases whose text (normalised: case, punctuation, URLs, @mentions) is in that "
    "model's training data; FR seen pools those cases; unseen FR = mean spec FR on the other "
    "held-out cases (the FR to compare)"
)


def leakage_overview(result: RunResult, worst: int = 3) -> list[str]:
    """Plain lines on the leakage findings stored with the run: one per suite (and the total
    over several suites), then the specs with most leaked cases. Empty for results written
    before the harness stored leakage."""
    from harness.specs.leakage import summary_line, where_found, worst_specs

    leakage = result.leakage
    if leakage is None:
        return []
    checked = list(leakage.corpora)
    lines = [summary_line(f"suite {name}", c, checked) for name, c in leakage.suites.items()]
    if len(leakage.suites) > 1:
        lines.append(summary_line("all suites", leakage.total, checked))
    specs = worst_specs(leakage, None, worst)
    if specs:
        lines.append(
            "most affected: "
            + ", ".join(
                f"{s.spec_id} ({s.leaked} of {s.n_heldout}: {where_found(s)})" for s in specs
            )
        )
    return lines


LEAKAGE_COLUMNS = (
    ("held-out", "n_heldout"),
    ("found", "leaked"),
    ("in training data", "in_training_data"),
    ("train", "in_train"),
    ("pool", "in_pool"),
    ("D_i", "in_d_i"),
    ("test", "in_test"),
    ("verbatim", "exact"),
    ("only normalised", "normalised"),
    ("near D_i", "near"),
)
"""Columns of the leakage table: header and :class:`harness.results.LeakageCounts` field."""


def leakage_table(result: RunResult) -> list[dict[str, Any]]:
    """One row per suite (and ``all suites`` over several): ``name``, ``specs`` (affected of
    all), ``values`` (one per :data:`LEAKAGE_COLUMNS`) and ``sources`` (pool source counts,
    when the pool has named sources). Empty without stored leakage."""
    leakage = result.leakage
    if leakage is None:
        return []
    items = list(leakage.suites.items())
    if len(items) > 1:
        items.append(("all suites", leakage.total))
    return [
        {
            "name": name,
            "specs": f"{counts.n_specs_leaking} of {counts.n_specs}",
            "values": [getattr(counts, field) for _, field in LEAKAGE_COLUMNS],
            "sources": ", ".join(
                f"{source} {n}" for source, n in counts.in_pool_sources.items() if source != "pool"
            ),
        }
        for name, counts in items
    ]


LEAKAGE_NOTE = (
    "held-out cases whose text occurs verbatim or after normalisation (case, punctuation, "
    "whitespace, URLs, @mentions) in the train split, a pool source, some spec's D_i or the test "
    "split; near D_i: word n-gram near-duplicates of a D_i case; a case can count in several "
    "columns"
)


@dataclass
class SpecChange:
    """One intervention's change of one spec's held-out FR against M0, for the charts."""

    model: str
    spec: str
    delta: float | None
    low: float | None
    high: float | None
    status: str
    """``fixed`` / ``broken`` (significant, exact McNemar with Holm), ``unchanged``, or ``""``
    when untested (no paired cases)."""
    p_holm: float | None


def spec_changes(result: RunResult) -> list[SpecChange]:
    """Every intervention's change against M0 on every spec, with Newcombe's 95% interval for
    the paired difference (:func:`harness.analysis.stats.paired_difference_interval`) from the mean
    counts per seed of cases both models fail, only A fails and only M0 fails (the same cases
    at every seed are not counted as new ones); the significance is the comparison's (McNemar
    at each seed, combined across seeds, Holm across specs)."""
    from harness.analysis.stats import paired_difference_interval

    sizes = {spec.id: spec.n_heldout_cases for spec in result.specs}
    out = []
    for model_id, comp in vs_m0(result).items():
        k = max(1, len(comp.get("seeds") or []))
        for spec_id, item in comp["specs"].items():
            delta = item.get("delta")
            low = high = None
            if delta is not None and "broken" in item and "fixed" in item:
                seeds = item.get("per_seed") or []
                n = sum(s["n"] for s in seeds) / len(seeds) if seeds else sizes.get(spec_id, 0)
                broken, fixed = item["broken"] / k, item["fixed"] / k
                both = max(0.0, n * float(item.get("fr_b") or 0.0) - fixed)
                if n > 0:
                    low, high = paired_difference_interval(both, broken, fixed, n)
            out.append(
                SpecChange(
                    model=model_id,
                    spec=spec_id,
                    delta=delta,
                    low=low,
                    high=high,
                    status=str(item.get("status") or ""),
                    p_holm=item.get("p_holm"),
                )
            )
    return out


CHANGE_NOTE = (
    "change of each spec's held-out FR against M0, in points, with Newcombe's 95% interval "
    "for a paired difference (from the mean counts per seed); ▼ fixed / ▲ broken: significant "
    "by the exact McNemar test on the same cases (combined across seeds, Holm across specs); "
    "a hollow dot is not significant"
)
"""What the change chart shows (HTML reports)."""


def check_row(check: dict[str, Any]) -> tuple[str, str, str, str] | None:
    """``(what, Δ, 95% CI, Holm p)`` of a guard or FR check for compact check tables; ``None``
    for an entry whose detail is the message (a warning, a skip, a note)."""
    from harness.analysis.stats import format_p

    kind, status = check.get("kind"), check.get("status")
    if kind == "guard":
        words = CHECK_WORDS.get(str(check.get("metric")), str(check.get("metric")))
        delta = check.get("delta_points")
        return (
            f"{words} {check.get('model')} ≥ M0 − {check.get('tolerance', 0):g}",
            "-" if delta is None else f"{delta:+.1f}",
            "",
            "",
        )
    if kind == "expected-outcome" and status in ("PASS", "FAIL") and "baseline" in check:
        suite = check.get("suite")
        low, high = check.get("ci_low"), check.get("ci_high")
        delta = check.get("delta")
        return (
            f"mean FR {check.get('model')} < {check.get('baseline')}"
            + (f" on {suite}" if suite else ""),
            "-" if delta is None else f"{100 * delta:+.1f}",
            "" if low is None or high is None else f"[{100 * low:+.1f}, {100 * high:+.1f}]",
            format_p(check.get("p_holm")),
        )
    return None


CHECK_WORDS = {"accuracy": "test acc", "macro_f1": "macro-F1"}


SIGNAL_NOTE = (
    "a pre-training signal is known before any training: how well the data an intervention "
    "added covers each spec (coverage.n: pool examples drawn for the spec; "
    "coverage.mean_similarity: their mean selector score). ρ: Spearman correlation across specs "
    "between the signal and the spec's FR drop vs M0 (positive: better-covered specs improved "
    "more, the hypothesis of DESIGN.md §1)"
)
"""What the pre-training signal table shows (every report prints it under the table)."""
