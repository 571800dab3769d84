"""Post-run analysis: comparisons, the expected-outcome check and pre-training signals.

The runner calls :func:`analyse` on every finished result with the per-case rows it writes to
``samples.jsonl``; reports read what it adds:

- ``comparisons``: for each pair (default: each guided retrain against the random retrain at the
  same budget, then each intervention against M0) the per-spec exact McNemar test on the same
  held-out cases (discordant pairs pooled over seeds) with Holm's correction across specs, a
  paired bootstrap over templates for the mean failure rate, and means (with std) over seeds.
- ``checks``: the expected-outcome check of DESIGN.md section 1 as PASS/FAIL entries.
- ``signals``: Spearman correlation between a selection's per-spec coverage (a signal available
  before training) and the per-spec failure-rate drop against M0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.results import ModelResult, RunResult
from harness.stats import (
    SpecPairs,
    format_p,
    holm,
    mcnemar_exact_many,
    mean_std,
    paired_bootstrap,
    rounded,
    significant,
    spearman,
)

BASE = "M0"
N_BOOT = 2000


@dataclass
class CaseTable:
    """Held-out failures (prediction != spec label) per model, seed and spec, aligned on the
    case order of each spec; ``templates`` gives each case's cluster for the bootstrap."""

    templates: dict[str, list[str]] = field(default_factory=dict)
    fails: dict[str, dict[int, dict[str, np.ndarray]]] = field(default_factory=dict)

    def get(self, model: str, seed: int, spec: str) -> np.ndarray | None:
        """Failures of ``model`` with ``seed`` on ``spec`` (``None`` when not recorded)."""
        return self.fails.get(model, {}).get(seed, {}).get(spec)


def case_table(samples: Iterable[dict[str, Any]]) -> CaseTable:
    """Build a :class:`CaseTable` from ``samples.jsonl`` rows (only ``set == "heldout"``)."""
    ids: dict[tuple[int, str], list[str]] = {}
    tmpl: dict[tuple[int, str], list[str]] = {}
    raw: dict[tuple[str, int, str], dict[int, bool]] = {}
    for row in samples:
        if row.get("set") != "heldout" or "spec_id" not in row:
            continue
        key = (int(row["seed"]), str(row["spec_id"]))
        case_ids = ids.setdefault(key, [])
        index = len(case_ids)
        case_ids.append(str(row["id"]))
        tmpl.setdefault(key, []).append(str(row.get("template_id") or f"case:{row['id']}"))
        for model, prediction in (row.get("predictions") or {}).items():
            raw.setdefault((model, key[0], key[1]), {})[index] = prediction != row["label"]
    table = CaseTable()
    reference: dict[str, dict[str, int]] = {}
    for seed, spec in sorted(ids):
        if spec not in reference:
            reference[spec] = {case: i for i, case in enumerate(ids[(seed, spec)])}
            table.templates[spec] = tmpl[(seed, spec)]
    for (model, seed, spec), values in raw.items():
        order = reference[spec]
        arr = np.zeros(len(order), dtype=bool)
        seen = np.zeros(len(order), dtype=bool)
        for index, failed in values.items():
            position = order.get(ids[(seed, spec)][index])
            if position is not None:
                arr[position] = failed
                seen[position] = True
        if seen.all():
            table.fails.setdefault(model, {}).setdefault(seed, {})[spec] = arr
    return table


def selection_of(model: ModelResult) -> str | None:
    """The selector name of a retrain row (``params.selection``; falls back to the row id)."""
    value = model.params.get("selection", model.params.get("selector"))
    if isinstance(value, dict):
        value = value.get("name")
    if value is None and model.id.startswith("retrain-"):
        value = model.id.removeprefix("retrain-")
    return str(value) if value is not None else None


def budget_of(model: ModelResult, result: RunResult) -> Any:
    """The budget a retrain row used (its own ``params.budget`` or the run's ``budget``)."""
    value = model.params.get("budget")
    return value if value is not None else result.config.get("budget")


def _trained(model: ModelResult) -> bool:
    return any(s.test is not None for s in model.seeds)


def retrain_pairs(result: RunResult) -> list[tuple[str, str]]:
    """``(guided, random)`` retrain ids at the same budget drawing from the same pool sources
    (guided: selection != random)."""
    retrains = [m for m in result.models if m.intervention == "retrain" and _trained(m)]
    randoms = [m for m in retrains if selection_of(m) == "random"]
    pairs = []
    for guided in retrains:
        if selection_of(guided) in (None, "random"):
            continue
        for random in randoms:
            if budget_of(random, result) == budget_of(guided, result) and random.params.get(
                "sources"
            ) == guided.params.get("sources"):
                pairs.append((guided.id, random.id))
    return pairs


def default_pairs(result: RunResult) -> list[tuple[str, str, str]]:
    """``(a, b, kind)``: guided vs random retrains, then every intervention vs M0."""
    pairs = [(g, r, "guided-vs-random") for g, r in retrain_pairs(result)]
    ids = {m.id for m in result.models}
    if BASE in ids:
        pairs += [(m.id, BASE, "vs-M0") for m in result.models if m.id != BASE and _trained(m)]
    return pairs


def _status(p_holm: float | None, broken: int, fixed: int, alpha: float) -> str | None:
    if p_holm is None:
        return None
    if p_holm < alpha and fixed > broken:
        return "fixed"
    if p_holm < alpha and broken > fixed:
        return "broken"
    return "unchanged"


def _cluster_pairs(diff: np.ndarray, templates: list[str], n_seeds: int) -> SpecPairs:
    names = sorted(set(templates))
    index = {name: i for i, name in enumerate(names)}
    units = np.array([index[t] for t in templates], dtype=np.int64)
    if len(names) < 2:  # a single template gives no variance: fall back to cases
        units = np.arange(len(templates))
        names = list(range(len(templates)))  # type: ignore[arg-type]
    d = np.bincount(units, weights=diff, minlength=len(names))
    n = np.bincount(units, minlength=len(names)).astype(float) * n_seeds
    return SpecPairs(diff=d, n=n)


def compare(
    result: RunResult,
    table: CaseTable | None,
    a_id: str,
    b_id: str,
    kind: str = "custom",
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Compare model ``a_id`` against ``b_id`` on the seeds both trained (negative deltas mean
    that ``a`` fails less)."""
    a, b = result.model(a_id), result.model(b_id)
    seeds_a = {s.seed: s for s in a.seeds if s.test is not None}
    seeds_b = {s.seed: s for s in b.seeds if s.test is not None}
    seeds = sorted(set(seeds_a) & set(seeds_b))
    entry: dict[str, Any] = {"a": a_id, "b": b_id, "kind": kind, "seeds": seeds}
    if not seeds:
        entry["skipped"] = "no seed where both models were trained"
        return entry
    spec_ids = [s.id for s in result.specs if all(s.id in seeds_a[x].heldout for x in seeds)]
    spec_ids = [i for i in spec_ids if all(i in seeds_b[x].heldout for x in seeds)]
    acc_delta = [seeds_a[x].test.accuracy - seeds_b[x].test.accuracy for x in seeds]  # type: ignore[union-attr]
    fr_delta = [
        float(np.mean([seeds_a[x].heldout[i].fr - seeds_b[x].heldout[i].fr for i in spec_ids]))
        if spec_ids
        else 0.0
        for x in seeds
    ]
    acc_mean, acc_std = mean_std(acc_delta)
    fr_mean, fr_std = mean_std(fr_delta)
    paired = table is not None and all(
        table.get(m, x, i) is not None for m in (a_id, b_id) for x in seeds for i in spec_ids
    )
    per_spec: dict[str, dict[str, Any]] = {}
    p_values: list[float | None]
    clusters: list[SpecPairs] = []
    for spec in spec_ids:
        fr_a = float(np.mean([seeds_a[x].heldout[spec].fr for x in seeds]))
        fr_b = float(np.mean([seeds_b[x].heldout[spec].fr for x in seeds]))
        item: dict[str, Any] = {"fr_a": rounded(fr_a), "fr_b": rounded(fr_b)}
        item["delta"] = rounded(fr_a - fr_b)
        if paired and table is not None:
            fa = np.array([table.get(a_id, x, spec) for x in seeds])
            fb = np.array([table.get(b_id, x, spec) for x in seeds])
            item.update(broken=int(np.sum(fa & ~fb)), fixed=int(np.sum(~fa & fb)))
            diff = (fa.astype(np.int64) - fb.astype(np.int64)).sum(axis=0).astype(float)
            clusters.append(_cluster_pairs(diff, table.templates[spec], len(seeds)))
        per_spec[spec] = item
    if paired and spec_ids:
        p_values = mcnemar_exact_many(
            np.array([per_spec[i]["broken"] for i in spec_ids]),
            np.array([per_spec[i]["fixed"] for i in spec_ids]),
        ).tolist()
        for spec, p in zip(spec_ids, p_values, strict=True):
            per_spec[spec]["p"] = significant(p)
    else:
        p_values = [None] * len(spec_ids)
    for spec, p_adj in zip(spec_ids, holm(p_values), strict=True):
        item = per_spec[spec]
        item["p_holm"] = significant(p_adj)
        item["status"] = _status(p_adj, item.get("broken", 0), item.get("fixed", 0), alpha)
    mean_a = float(np.mean([per_spec[i]["fr_a"] for i in spec_ids])) if spec_ids else None
    mean_b = float(np.mean([per_spec[i]["fr_b"] for i in spec_ids])) if spec_ids else None
    entry.update(
        test_accuracy_delta=rounded(acc_mean),
        test_accuracy_delta_std=rounded(acc_std),
        mean_fr_a=rounded(mean_a),
        mean_fr_b=rounded(mean_b),
        mean_fr_delta=rounded(fr_mean),
        mean_fr_delta_std=rounded(fr_std),
        paired=paired,
        alpha=alpha,
        method=(
            "exact McNemar per spec on the same held-out cases (discordant pairs pooled over "
            "seeds), Holm across specs; paired bootstrap over templates for the mean FR"
        ),
        n_fixed=sum(1 for i in spec_ids if per_spec[i]["status"] == "fixed"),
        n_broken=sum(1 for i in spec_ids if per_spec[i]["status"] == "broken"),
        specs=per_spec,
    )
    if paired and clusters:
        boot = paired_bootstrap(clusters, n_boot=N_BOOT, seed=0)
        entry["bootstrap"] = {
            "delta": rounded(boot.delta),
            "ci_low": rounded(boot.ci_low),
            "ci_high": rounded(boot.ci_high),
            "p": significant(boot.p_value),
            "n_boot": boot.n_boot,
            "unit": "template",
        }
    return entry


def check_config(result: RunResult) -> tuple[float, float]:
    """``(test_tolerance in points, alpha)`` from the run config (defaults 1.5 and 0.05)."""
    check = result.config.get("check") or {}
    return float(check.get("test_tolerance", 1.5)), float(check.get("alpha", 0.05))


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def expected_outcome(result: RunResult, comparisons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The expected-outcome check (DESIGN.md section 1) as PASS/FAIL (or one SKIP) entries.

    For every guided retrain M2 with a random retrain M1 at the same budget: test accuracy of M1
    and of M2 within ``test_tolerance`` points of M0; mean held-out spec FR of M2 below M1 and
    below M0, significant at ``alpha`` (paired bootstrap over templates, Holm across these FR
    checks).
    """
    tolerance, alpha = check_config(result)
    by_pair = {(c["a"], c["b"]): c for c in comparisons}
    pairs = retrain_pairs(result)
    if not pairs or BASE not in {m.id for m in result.models}:
        return [
            {
                "id": "expected-outcome",
                "status": "SKIP",
                "detail": "not applicable: needs M0, a guided retrain and a random retrain at "
                "the same budget",
            }
        ]
    checks: list[dict[str, Any]] = []
    for model_id in dict.fromkeys(x for pair in pairs for x in pair):
        comp = by_pair.get((model_id, BASE), {})
        delta = comp.get("test_accuracy_delta")
        m0_acc = result.model(BASE).aggregate.accuracy
        ok = delta is not None and abs(100 * delta) <= tolerance + 1e-9
        checks.append(
            {
                "id": f"test-accuracy:{model_id}",
                "status": "PASS" if ok else "FAIL",
                "detail": (
                    f"test accuracy of {model_id} within {tolerance:g} points of M0: "
                    f"{_pct(result.model(model_id).aggregate.accuracy)} vs {_pct(m0_acc)} "
                    + ("(not compared)" if delta is None else f"(Δ {100 * delta:+.2f} pt)")
                ),
                "model": model_id,
                "delta_points": rounded(None if delta is None else 100 * delta),
                "tolerance": tolerance,
            }
        )
    fr_checks: list[dict[str, Any]] = []
    for guided, random in pairs:
        for other in (random, BASE):
            comp = by_pair.get((guided, other), {})
            boot = comp.get("bootstrap") or {}
            fr_checks.append(
                {
                    "id": f"fr-below:{guided}:{other}",
                    "model": guided,
                    "baseline": other,
                    "mean_fr": comp.get("mean_fr_a"),
                    "baseline_mean_fr": comp.get("mean_fr_b"),
                    "delta": comp.get("mean_fr_delta"),
                    "ci_low": boot.get("ci_low"),
                    "ci_high": boot.get("ci_high"),
                    "p": boot.get("p"),
                    "n_fixed": comp.get("n_fixed"),
                    "n_broken": comp.get("n_broken"),
                }
            )
    for item, p_adj in zip(fr_checks, holm([c["p"] for c in fr_checks]), strict=True):
        item["p_holm"] = significant(p_adj)
        delta = item["delta"]
        ok = delta is not None and delta < 0 and p_adj is not None and p_adj < alpha
        item["status"] = "PASS" if ok else "FAIL"
        ci = (
            f", 95% CI [{100 * item['ci_low']:+.1f}, {100 * item['ci_high']:+.1f}]"
            if item["ci_low"] is not None
            else ""
        )
        p_text = (
            "no paired test"
            if p_adj is None
            else f"p={format_p(item['p'])}, Holm p={format_p(p_adj)}"
        )
        item["detail"] = (
            f"mean spec FR of {item['model']} below {item['baseline']} (alpha {alpha:g}): "
            f"{_pct(item['mean_fr'])} vs {_pct(item['baseline_mean_fr'])} "
            f"(Δ {'n/a' if delta is None else f'{100 * delta:+.1f} pt'}{ci}; {p_text}; "
            f"specs fixed/broken {item['n_fixed']}/{item['n_broken']})"
        )
        checks.append(item)
    return checks


def coverage_signals(result: RunResult) -> list[dict[str, Any]]:
    """Spearman between each intervention's per-spec coverage (``changes["coverage"]``) and the
    per-spec FR drop against M0 (``FR(M0) - FR(model)``), over the seeds both trained."""
    if BASE not in {m.id for m in result.models}:
        return []
    base = {s.seed: s for s in result.model(BASE).seeds if s.test is not None}
    signals: list[dict[str, Any]] = []
    for model in result.models:
        if model.id == BASE:
            continue
        seeds = [
            s
            for s in model.seeds
            if s.test is not None and s.seed in base and isinstance(s.changes.get("coverage"), dict)
        ]
        if not seeds:
            continue
        for signal in ("mean_similarity", "n"):
            xs: list[float] = []
            ys: list[float] = []
            points: dict[str, list[float | None]] = {}
            for spec in result.specs:
                values = [s.changes["coverage"].get(spec.id, {}).get(signal) for s in seeds]
                drops = [
                    base[s.seed].heldout[spec.id].fr - s.heldout[spec.id].fr
                    for s in seeds
                    if spec.id in s.heldout and spec.id in base[s.seed].heldout
                ]
                if any(v is None for v in values) or len(drops) != len(seeds):
                    continue
                x, y = float(np.mean(values)), float(np.mean(drops))
                xs.append(x)
                ys.append(y)
                points[spec.id] = [rounded(x), rounded(y)]
            if not xs:
                continue
            rho = spearman(xs, ys)
            signals.append(
                {
                    "model": model.id,
                    "signal": f"coverage.{signal}",
                    "target": "fr_drop_vs_M0",
                    "n_specs": len(xs),
                    "rho": rounded(rho[0]) if rho else None,
                    "p": significant(rho[1]) if rho else None,
                    "points": points,
                }
            )
    return signals


def analyse(
    result: RunResult,
    samples: Iterable[dict[str, Any]] | None = None,
    pairs: list[tuple[str, str, str]] | None = None,
) -> RunResult:
    """Return ``result`` with ``comparisons``, ``checks`` and ``signals`` filled in.

    ``samples``: the rows of ``samples.jsonl`` (needed for the paired tests; without them only
    the differences of means are reported). ``pairs``: ``(a, b, kind)`` to compare instead of
    :func:`default_pairs`.
    """
    _, alpha = check_config(result)
    table = case_table(samples) if samples is not None else None
    ids = {m.id for m in result.models}
    comparisons = [
        compare(result, table, a, b, kind, alpha)
        for a, b, kind in (pairs if pairs is not None else default_pairs(result))
        if a in ids and b in ids
    ]
    return result.model_copy(
        update={
            "comparisons": comparisons,
            "checks": expected_outcome(result, comparisons),
            "signals": coverage_signals(result),
        }
    )
