"""The checks a run is judged by, as PASS / FAIL / SKIP / WARN entries of ``results.checks``.

- ``seeds`` (WARN): the run has one seed, so seed-to-seed variance is not measured.
- Guards (``kind: guard``): every intervention's test accuracy and test macro-F1 against M0;
  only a drop beyond ``check.test_tolerance`` / ``check.macro_f1_tolerance`` points fails (an
  improvement passes). Macro-F1 is guarded too because accuracy hides a minority-class collapse.
- The expected outcome of DESIGN.md section 1 (``kind: expected-outcome``): for every guided
  row M2 with a baseline M1 (rows paired by the :class:`~harness.api.ComparisonRole` their
  interventions declare: a guided retrain and a random retrain at the same budget drawing from
  the same pool sources), the mean held-out spec FR of M2 is below M1 and below M0,
  significant at ``check.alpha`` (the comparison's bootstrap p-value, Holm across these FR
  checks), overall and per suite (``check.suites``, ``check.overall``).
  When a model trained on held-out cases, the FR checks use only the cases unseen by both models
  and say so; every FR check says what its p-value resamples. A guided row with no baseline
  drawing from the same pool sources at its budget gets a WARN entry naming the missing
  baseline (``unjudged:<model>``) instead of being left out silently.

Every entry has ``id``, ``kind``, ``status`` and a one-line ``detail`` that reports print.
"""

from __future__ import annotations

from typing import Any

from harness.analysis.comparisons import (
    BASE,
    UNSEEN_BY_BOTH,
    UNSEEN_EACH,
    RowRoles,
    declared_roles,
    guided_pairs,
    unpaired_guided,
)
from harness.analysis.stats import format_p, holm, rounded, significant
from harness.config import CheckConfig
from harness.display import percent
from harness.errors import UserError
from harness.results import RunResult

OVERALL = "all specs"


def check_settings(result: RunResult) -> CheckConfig:
    """The ``check:`` block of the run's config (defaults for keys it lacks; keys this version
    does not know are ignored, so older and newer results stay readable)."""
    raw = result.config.get("check") or {}
    known = {k: v for k, v in raw.items() if k in CheckConfig.model_fields}
    return CheckConfig.model_validate(known)


def check_suite_names(settings: CheckConfig, suites: list[str]) -> None:
    """Refuse ``check.suites`` entries that name no loaded suite (before anything trains)."""
    for name in settings.suites or []:
        if name not in suites:
            raise UserError(
                f"unknown suite {name!r}",
                field="check.suites",
                fix=f"name one of the loaded suites: {', '.join(sorted(set(suites)))}",
            )


def _pct(value: float | None) -> str:
    """A rate with its % sign, ``n/a`` when missing (check details are stored text)."""
    return percent(value, missing="n/a") + ("" if value is None else "%")


def _signed(points: float) -> str:
    """Signed points with two decimals, without a ``-0.00``."""
    return f"{round(points, 2) + 0.0:+.2f}"


def seed_warning(result: RunResult) -> list[dict[str, Any]]:
    """A WARN entry when the run has one seed (seed variance unmeasured), else nothing."""
    if len(result.seeds) != 1:
        return []
    return [
        {
            "id": "seeds",
            "kind": "seeds",
            "status": "WARN",
            "detail": (
                f"conclusions rest on one seed ({result.seeds[0]}): seed-to-seed variance is not "
                "measured, so intervals and p-values resample templates only and may be too "
                "narrow; run 3 or more seeds (--seeds 3) before trusting a difference"
            ),
        }
    ]


GUARDED = (("accuracy", "test-accuracy", "accuracy"), ("macro_f1", "macro-f1", "macro-F1"))


def guard_checks(result: RunResult, settings: CheckConfig) -> list[dict[str, Any]]:
    """For every intervention that trained: test accuracy and macro-F1 against M0, over the
    seeds both trained (mean of the per-seed differences; the worst seed is named)."""
    if BASE not in {m.id for m in result.models}:
        return []
    base = {s.seed: s.test for s in result.model(BASE).seeds if s.test is not None}
    tolerances = {"accuracy": settings.test_tolerance, "macro_f1": settings.macro_f1_tolerance}
    checks: list[dict[str, Any]] = []
    for model in result.models:
        if model.id == BASE:
            continue
        mine = {s.seed: s.test for s in model.seeds if s.test is not None and s.seed in base}
        if not mine:
            continue
        for metric, prefix, words in GUARDED:
            tolerance = tolerances[metric]
            deltas = {
                seed: 100 * (getattr(test, metric) - getattr(base[seed], metric))
                for seed, test in sorted(mine.items())
            }
            delta = sum(deltas.values()) / len(deltas)
            worst = min(deltas, key=lambda seed: deltas[seed])
            ok = delta >= -tolerance - 1e-9
            mean_a = sum(getattr(t, metric) for t in mine.values()) / len(mine)
            mean_m0 = sum(getattr(base[s], metric) for s in mine) / len(mine)
            spread = (
                f", mean over {len(deltas)} seeds; worst seed {worst}: {_signed(deltas[worst])} pt"
                if len(deltas) > 1
                else ""
            )
            checks.append(
                {
                    "id": f"{prefix}:{model.id}",
                    "kind": "guard",
                    "metric": metric,
                    "model": model.id,
                    "status": "PASS" if ok else "FAIL",
                    "delta_points": rounded(delta),
                    "tolerance": tolerance,
                    "worst_seed": worst,
                    "worst_delta_points": rounded(deltas[worst]),
                    "detail": (
                        f"test {words} of {model.id} at most {tolerance:g} points below M0: "
                        f"{_pct(mean_a)} vs {_pct(mean_m0)} (Δ {_signed(delta)} pt{spread})"
                    ),
                }
            )
    return checks


def judged_suites(result: RunResult, settings: CheckConfig) -> list[str | None]:
    """The scopes the FR checks judge: ``None`` for all specs, else a suite name."""
    names = list(dict.fromkeys(s.suite for s in result.specs))
    suites = settings.suites if settings.suites is not None else (names if len(names) > 1 else [])
    scopes: list[str | None] = [None] if settings.overall or not suites else []
    return scopes + [s for s in suites if s in names]


def _scope(comp: dict[str, Any], suite: str | None) -> dict[str, Any]:
    """The comparison's numbers over all specs (``None``) or over one suite's specs."""
    if suite is None or "by_suite" not in comp:
        return comp
    return dict(comp["by_suite"].get(suite) or {})


def _skip(detail: str) -> dict[str, Any]:
    return {
        "id": "expected-outcome",
        "kind": "expected-outcome",
        "status": "SKIP",
        "detail": detail,
    }


def expected_outcome(
    result: RunResult,
    comparisons: list[dict[str, Any]],
    settings: CheckConfig | None = None,
    roles: RowRoles | None = None,
) -> list[dict[str, Any]]:
    """The FR half of the expected-outcome check (the accuracy half is a guard), or one SKIP
    entry when the run has no M0 or no guided row with its baseline (``roles``: declared by
    the rows' interventions, see :func:`harness.analysis.comparisons.declared_roles`)."""
    settings = settings or check_settings(result)
    alpha = settings.alpha
    by_pair = {(c["a"], c["b"]): c for c in comparisons}
    roles = declared_roles(result) if roles is None else roles
    pairs = [(guided, baseline) for guided, baseline, _ in guided_pairs(result, roles)]
    if not pairs or BASE not in {m.id for m in result.models}:
        return [
            _skip(
                "not applicable: needs M0, a guided retrain and a random retrain at the same "
                "budget (in one run, or in runs paired by `harness report RUN_A RUN_B`)"
            )
        ]
    fr_checks: list[dict[str, Any]] = []
    for suite in judged_suites(result, settings):
        for guided, baseline in pairs:
            for other in (baseline, BASE):
                comp = by_pair.get((guided, other), {})
                numbers = _scope(comp, suite)
                boot = numbers.get("bootstrap") or {}
                fr_checks.append(
                    {
                        "id": f"fr-below:{guided}:{other}" + ("" if suite is None else f"@{suite}"),
                        "kind": "expected-outcome",
                        "model": guided,
                        "baseline": other,
                        "suite": suite,
                        "mean_fr": numbers.get("mean_fr_a"),
                        "baseline_mean_fr": numbers.get("mean_fr_b"),
                        "delta": numbers.get("mean_fr_delta"),
                        "ci_low": boot.get("ci_low"),
                        "ci_high": boot.get("ci_high"),
                        "p": boot.get("p"),
                        "n_fixed": numbers.get("n_fixed"),
                        "n_broken": numbers.get("n_broken"),
                        "seeds": comp.get("seeds", []),
                        "cases": comp.get("cases"),
                        "n_seen_excluded": comp.get("n_seen_excluded", 0),
                        "resamples": boot.get("resamples"),
                        "method": comp.get("method"),
                    }
                )
    for item, p_adj in zip(fr_checks, holm([c["p"] for c in fr_checks]), strict=True):
        item["p_holm"] = significant(p_adj)
        delta = item["delta"]
        ok = delta is not None and delta < 0 and p_adj is not None and p_adj < alpha
        item["status"] = "PASS" if ok else "FAIL"
        item["detail"] = _fr_detail(item, p_adj, alpha)
    return fr_checks


def unjudged_warnings(result: RunResult, roles: RowRoles) -> list[dict[str, Any]]:
    """A WARN entry for every guided row the FR checks leave out because no baseline of its
    group draws from the same pool sources at the same budget (when some other guided row is
    judged; with none, the SKIP entry says so), naming the baseline that would judge it."""
    if not guided_pairs(result, roles):
        return []
    entries = []
    for model_id, role in unpaired_guided(result, roles):
        where = f"pool sources {', '.join(role.sources)}" if role.sources else "every pool source"
        entries.append(
            {
                "id": f"unjudged:{model_id}",
                "kind": "expected-outcome",
                "status": "WARN",
                "model": model_id,
                "detail": (
                    f"{model_id} is not judged by the expected-outcome check: no "
                    f"{role.baseline_name} at budget {role.budget} draws from the same "
                    f"candidates ({where}); add {role.baseline_hint} to compare it"
                ),
            }
        )
    return entries


def _fr_detail(item: dict[str, Any], p_adj: float | None, alpha: float) -> str:
    delta = item["delta"]
    ci = (
        f", 95% CI [{100 * item['ci_low']:+.1f}, {100 * item['ci_high']:+.1f}]"
        if item["ci_low"] is not None
        else ""
    )
    p_text = (
        "no paired test (no samples.jsonl)"
        if p_adj is None
        else f"p={format_p(item['p'])}, Holm p={format_p(p_adj)}"
    )
    where = "" if item["suite"] is None else f" on suite {item['suite']}"
    notes = []
    if item["resamples"]:
        notes.append(f"p resamples {item['resamples']}")
    if item["cases"] == UNSEEN_BY_BOTH:
        notes.append(
            f"on held-out cases unseen by both models ({item['n_seen_excluded']} case-seed "
            "pairs seen in training left out)"
        )
    elif item["cases"] == UNSEEN_EACH:
        notes.append("on each model's own unseen held-out cases")
    return (
        f"mean spec FR of {item['model']} below {item['baseline']}{where} (alpha {alpha:g}): "
        f"{_pct(item['mean_fr'])} vs {_pct(item['baseline_mean_fr'])} "
        f"(Δ {'n/a' if delta is None else f'{100 * delta:+.1f} pt'}{ci}; {p_text}; "
        f"specs fixed/broken {item['n_fixed']}/{item['n_broken']})"
        + "".join(f"; {note}" for note in notes)
    )


def run_checks(
    result: RunResult, comparisons: list[dict[str, Any]], roles: RowRoles | None = None
) -> list[dict[str, Any]]:
    """Every check of a run, in report order: the seed warning, guards, guided rows left
    unjudged, the expected outcome (``roles``: as in :func:`expected_outcome`)."""
    settings = check_settings(result)
    roles = declared_roles(result) if roles is None else roles
    return (
        seed_warning(result)
        + guard_checks(result, settings)
        + unjudged_warnings(result, roles)
        + expected_outcome(result, comparisons, settings, roles)
    )
