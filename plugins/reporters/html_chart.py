"""The HTML report's chart: per spec, each intervention's change of the held-out FR against M0,
with its 95% interval and a significance mark (a forest plot, one lane per model).

Every lane is a small inline SVG (``viewBox``, stretched to its column by CSS, strokes that do
not scale), and every text is HTML next to it, so the chart reflows from a phone's 375 px to a
wide screen without a horizontal scroll and without shrinking its text. Spec names are HTML
and wrap. Model colours come from a colour-blind-safe palette (Okabe & Ito) without its red, the
colour that means "broken" on the page; each lane also carries the model's key, so nothing rests
on colour alone.
"""

from __future__ import annotations

import math
from typing import Any

from harness.analysis.stats import format_p
from harness.report_views import CHANGE_NOTE, group_specs, shown_models, spec_changes
from harness.results import RunResult

MAX_CHART_SPECS = 80
PALETTE = [
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#332288",  # indigo (Tol)
    "#44AA99",  # teal (Tol)
    "#888888",  # grey
]
"""Model colours: Okabe & Ito's colour-blind-safe palette without vermillion and reddish purple
(the two nearest the red that marks "broken") and yellow (unreadable on white), then Tol's
indigo and teal and a grey. Past eight models the colours repeat; the lane keys tell the models
apart."""
MARK = {"fixed": "▼", "broken": "▲"}
WIDTH = 1000
"""Width of every lane's ``viewBox``; CSS stretches it to the column."""


def nice_limit(value: float) -> float:
    """The smallest of 5, 10, 20, 25, 50 and 100 points that is at least ``value``."""
    for limit in (5.0, 10.0, 20.0, 25.0, 50.0):
        if value <= limit:
            return limit
    return 100.0


def _points(value: float | None) -> str:
    """Signed points with a true minus sign (no ``−0.0``)."""
    if value is None:
        return "–"
    return f"{round(100 * value, 1) + 0.0:+.1f}".replace("-", "−")


def change_chart(run: RunResult, keys: dict[str, str]) -> dict[str, Any]:
    """Plain data for the change chart of ``run`` (texts are escaped by the template):
    ``models`` (the picker: index, key, id, colour), ``specs`` (id, label, M0's FR, one lane
    per model: dot and interval positions in ``viewBox`` units, status, mark, value, tooltip),
    ``ticks`` (position in percent and label), ``note`` and ``truncated``."""
    changes = {(c.model, c.spec): c for c in spec_changes(run)}
    models = [m.id for m in shown_models(run) if any(k[0] == m.id for k in changes)]
    colours = {model: PALETTE[i % len(PALETTE)] for i, model in enumerate(models)}
    extent = [
        abs(value)
        for c in changes.values()
        for value in (c.delta, c.low, c.high)
        if value is not None and math.isfinite(value)
    ]
    limit = nice_limit(100 * max(extent, default=0.0))

    def x(value: float) -> float:
        return round(WIDTH / 2 + (100 * value / limit) * WIDTH / 2, 1)

    m0 = run.model("M0").aggregate.heldout_fr if any(m.id == "M0" for m in run.models) else {}
    specs = [s for _, group in group_specs(run, "label") for s in group]
    rows = []
    for spec in specs[:MAX_CHART_SPECS]:
        lanes = []
        for index, model in enumerate(models):
            change = changes.get((model, spec.id))
            if change is None or change.delta is None:
                continue
            interval = (
                f" [{_points(change.low)}, {_points(change.high)}]"
                if change.low is not None and change.high is not None
                else ""
            )
            verdict = {"fixed": "fixed", "broken": "broken", "unchanged": "not significant"}
            tested = verdict.get(change.status, "not tested")
            holm = f", Holm p = {format_p(change.p_holm)}" if change.p_holm is not None else ""
            lanes.append(
                {
                    "index": index,
                    "key": keys.get(model, model),
                    "model": model,
                    "colour": colours[model],
                    "x": x(change.delta),
                    "low": None if change.low is None else x(change.low),
                    "high": None if change.high is None else x(change.high),
                    "status": change.status,
                    "solid": change.status in MARK,
                    "mark": MARK.get(change.status, ""),
                    "value": _points(change.delta),
                    "title": f"{model} on {spec.id}: {_points(change.delta)} pt{interval} vs M0, "
                    f"{tested}{holm}",
                }
            )
        if lanes:
            fr = m0.get(spec.id)
            rows.append(
                {
                    "id": spec.id,
                    "label": spec.label,
                    "m0": "–" if fr is None else f"{100 * fr:.1f}",
                    "lanes": lanes,
                }
            )
    ticks = [
        {"left": round(50 + 50 * t / limit, 3), "label": f"{t:+g}".replace("-", "−")}
        for t in (-limit, -limit / 2, 0.0, limit / 2, limit)
    ]
    return {
        "models": [
            {"index": i, "key": keys.get(m, m), "id": m, "colour": colours[m]}
            for i, m in enumerate(models)
        ],
        "specs": rows,
        "ticks": ticks,
        "grid": [x(t / 100) for t in (-limit, -limit / 2, limit / 2, limit)],
        "zero": x(0.0),
        "width": WIDTH,
        "note": CHANGE_NOTE,
        "truncated": len(specs) > MAX_CHART_SPECS,
        "n_specs": len(specs),
    }
