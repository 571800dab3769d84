"""``html`` reporter: ONE self-contained page (inline CSS, JS and SVG; no CDN, no network).

The page holds the merged leaderboard (sortable columns), and per run: the expected-outcome
check, a per-spec failure-rate bar chart (a bar per model, Wilson whiskers) as inline SVG, the
model summary, the per-spec table (sortable, change against M0 coloured), the per-label summary,
what each intervention added to training per source and label, comparisons, broken specs,
coverage signals and a few failing cases per spec.

Rendering uses a jinja2 environment with autoescape on, so every text from specs, data or
configs is HTML-escaped; a Content-Security-Policy forbids loading anything from outside.
"""

from __future__ import annotations

from typing import Any

import harness
from harness.api import DI_SOURCE, Register, Reporter
from harness.collapse import COLLAPSE_NOTE
from harness.leaderboard import build_leaderboard
from harness.report_views import (
    LEAKAGE_COLUMNS,
    LEAKAGE_NOTE,
    SEEN_NOTE,
    SUITE_NOTE,
    ReportOptions,
    broken_specs,
    collapse_mark,
    collapsed_models,
    comparison_methods,
    count_text,
    drawn_counts,
    group_specs,
    guard_flags,
    label_summary,
    leakage_overview,
    leakage_table,
    model_note,
    pooled_interval,
    seen_unseen_rows,
    shown_models,
    shown_text,
    suite_rows,
    vs_m0,
    wall_time,
)
from harness.results import RunResult
from harness.stats import format_p

MAX_CHART_SPECS = 80
MAX_SPEC_COLUMNS = 40
PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2", "#9d755d", "#eeca3b"]

TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>spec-harness report</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1f2328}
h1{font-size:22px}h2{font-size:18px;margin-top:36px;border-bottom:1px solid #d0d7de}
h3{font-size:15px;margin-top:22px}
table{border-collapse:collapse;margin:8px 0 14px;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto;max-width:100%}
th,td{border:1px solid #d0d7de;padding:3px 7px;vertical-align:top}
th{background:#f6f8fa;text-align:left}td.n{text-align:right;white-space:nowrap}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th:after{content:" \2195";color:#8c959f;font-size:11px}
tr.group td{background:#eef2f6;font-weight:600}
.fixed{color:#116329;background:#dafbe1}.broken{color:#82071e;background:#ffebe9;font-weight:600}
.unchanged{color:#57606a}.PASS{color:#116329;font-weight:700}.FAIL{color:#82071e;font-weight:700}
.SKIP{color:#9a6700;font-weight:700}.WARN{color:#9a6700;font-weight:700}.INFO{color:#0969da;font-weight:700}.muted{color:#57606a;font-size:12px}
.desc{max-width:420px}.ok{color:#116329}.bad{color:#82071e}
ul.checks{list-style:none;padding-left:0}ul.checks li{margin:3px 0}
details{margin:4px 0}summary{cursor:pointer}
svg text{font:11px system-ui,sans-serif;fill:#1f2328}
</style>
</head>
<body>
<h1>spec-harness report</h1>
<p class="muted">{{ runs|length }} run(s). FR = failure rate on held-out spec cases (%, lower is
better). Click a column header to sort.</p>

<h2 id="leaderboard">Leaderboard</h2>
<div class="scroll"><table class="sortable" id="leaderboard-table">
<thead><tr><th>task</th><th>model</th><th>row</th><th>run</th><th>seeds</th><th>test acc</th>
<th>macro-F1</th><th>MCC</th><th>mean FR</th><th>worst FR</th>
{% for s in board_specs %}<th title="{{ s.description }}">{{ s.key }}</th>{% endfor %}</tr></thead>
<tbody>
{% for r in board_rows %}<tr><td>{{ r.task }}</td><td>{{ r.model }}</td><td><b>{{ r.row }}</b>
{% if r.collapse %} <span class="broken" title="{{ r.collapse }}">⚠ COLLAPSED</span>{% endif %}
{% for f in r.flags %}<br><span class="broken">{{ f }}</span>{% endfor %}</td>
<td>{{ r.run_id }}</td><td class="n">{{ r.n_seeds }}</td>
{% for c in r.cells %}<td class="n" data-v="{{ c.v }}">{{ c.t }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></div>
{% if specs_truncated %}<p class="muted">Showing {{ board_specs|length }} of {{ n_board_specs }}
spec columns; the JSON report holds all.</p>{% endif %}

{% for run in run_views %}
<section class="run">
<h2 id="run-{{ loop.index }}">Run {{ run.run_id }}</h2>
<p class="muted">task <b>{{ run.task }}</b>, model <b>{{ run.model }}</b>, seeds {{ run.seeds }},
{{ run.n_specs }} specs, spec-harness {{ run.version }}</p>

<h3 id="check-{{ loop.index }}">Expected-outcome check</h3>
<ul class="checks">
{% for c in run.checks %}<li><span class="{{ c.status }}">{{ c.status }}</span> {{ c.detail }}</li>
{% else %}<li class="muted">not computed</li>{% endfor %}
</ul>

<h3 id="chart-{{ loop.index }}">Per-spec failure rate by model</h3>
<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{{ run.chart.width }}"
 height="{{ run.chart.height }}" viewBox="0 0 {{ run.chart.width }} {{ run.chart.height }}"
 role="img" aria-label="held-out failure rate per spec and model">
{% for item in run.chart.legend %}<rect x="{{ item.x }}" y="{{ item.y }}" width="12" height="12"
 fill="{{ item.color }}"/><text x="{{ item.x + 16 }}" y="{{ item.y + 10 }}">{{ item.name }}</text>
{% endfor %}
{% for g in run.chart.grid %}<line x1="{{ g.x }}" y1="{{ run.chart.top }}" x2="{{ g.x }}"
 y2="{{ run.chart.bottom }}" stroke="#d0d7de"/><text x="{{ g.x }}" y="{{ run.chart.bottom + 14 }}"
 text-anchor="middle">{{ g.label }}</text>
{% endfor %}
{% for row in run.chart.rows %}<text x="{{ run.chart.left - 6 }}" y="{{ row.y }}"
 text-anchor="end"><title>{{ row.title }}</title>{{ row.label }}</text>
{% for b in row.bars %}<rect class="bar" x="{{ run.chart.left }}" y="{{ b.y }}" width="{{ b.w }}"
 height="{{ b.h }}" fill="{{ b.color }}"><title>{{ b.title }}</title></rect>
{% if b.ci %}<line x1="{{ b.ci[0] }}" x2="{{ b.ci[1] }}" y1="{{ b.y + b.h / 2 }}"
 y2="{{ b.y + b.h / 2 }}" stroke="#1f2328" stroke-width="1"/>{% endif %}
{% endfor %}{% endfor %}
</svg>
<p class="muted">Bars: mean FR over seeds; whiskers: Wilson 95% interval pooled over seeds.
{% if run.chart.truncated %}Showing the first {{ run.chart.rows|length }} of {{ run.n_specs }}
specs.{% endif %}</p>

<h3 id="models-{{ loop.index }}">Models</h3>
<table class="sortable">
<thead><tr><th>model</th><th>test acc</th><th>macro-F1</th><th>MCC</th><th>mean FR</th>
<th>worst FR</th><th>FR on D_i</th><th>FR on D_i_heldout</th><th>gap</th><th>wall s</th>
<th>note</th></tr></thead>
<tbody>{% for m in run.models %}<tr><td><b>{{ m.id }}</b></td>
{% for c in m.cells %}<td class="n" data-v="{{ c.v }}">{{ c.t }}</td>{% endfor %}
<td{% if m.flagged %} class="broken"{% endif %}>{{ m.note }}</td></tr>{% endfor %}</tbody></table>
<p class="muted">gap = FR on D_i_heldout minus FR on D_i (generalisation gap).</p>
{% if run.collapsed %}<h3 id="collapsed-{{ loop.index }}">Collapsed models</h3>
<ul>{% for c in run.collapsed %}<li><span class="broken">⚠ {{ c.model }} COLLAPSED</span>
{{ c.text }}</li>{% endfor %}</ul>
<p class="muted">{{ collapse_note }}</p>{% endif %}

{% if run.seen %}<h3 id="seen-{{ loop.index }}">Seen / unseen held-out cases</h3>
<table class="sortable"><thead><tr><th>model</th><th>seen cases / seed</th><th>FR seen</th>
<th>unseen FR</th><th>mean FR (all)</th></tr></thead>
<tbody>{% for r in run.seen %}<tr><td><b>{{ r.model }}</b></td>
{% for c in r.cells %}<td class="n" data-v="{{ c.v }}">{{ c.t }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
<p class="muted">{{ run.seen_note }}.</p>{% endif %}

{% if run.leakage %}<h3 id="leakage-{{ loop.index }}">Leakage: held-out cases found elsewhere</h3>
<div class="scroll"><table><thead><tr><th>suite</th><th>specs affected</th>
{% for h in run.leakage_columns %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for r in run.leakage %}<tr><td>{{ r.name }}</td><td class="n">{{ r.specs }}</td>
{% for v in r["values"] %}<td class="n">{{ v }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table></div>
{% for r in run.leakage if r.sources %}<p class="muted">Per pool source ({{ r.name }}):
{{ r.sources }}.</p>{% endfor %}
{% for line in run.leakage_worst %}<p>{{ line }}.</p>{% endfor %}
<p class="muted">{{ run.leakage_note }}.</p>{% endif %}

<h3 id="specs-{{ loop.index }}">Per-spec failure rate (%)</h3>
<p class="muted">Interventions show the change against M0 in points, coloured
<span class="fixed">fixed</span> / <span class="broken">broken</span> /
<span class="unchanged">unchanged</span> by an exact McNemar test on the same cases with Holm's
correction across specs. [low–high]: Wilson 95% interval pooled over seeds.</p>
<div class="scroll"><table class="sortable specs">
<thead><tr><th>{{ run.group_by }}</th><th>spec</th><th>description</th><th>tags</th><th>n</th>
{% for m in run.model_ids %}<th>{{ m }}</th>{% endfor %}</tr></thead>
<tbody>{% for s in run.specs %}<tr><td>{{ s.group }}</td><td><code>{{ s.id }}</code></td>
<td class="desc">{{ s.description }}</td><td>{{ s.tags }}</td><td class="n">{{ s.n }}</td>
{% for c in s.cells %}<td class="n {{ c.status }}" data-v="{{ c.v }}"
 title="{{ c.title }}">{{ c.t }}
{% if c.ci %}<br><span class="muted">{{ c.ci }}</span>{% endif %}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></div>

{% if run.labels %}<h3>Per label: mean FR (%)</h3>
<table><thead><tr><th>label</th><th>specs</th>{% for m in run.model_ids %}<th>{{ m }}</th>
{% endfor %}</tr></thead><tbody>{% for l in run.labels %}<tr><td>{{ l.label }}</td>
<td class="n">{{ l.n }}</td>{% for v in l.frs %}<td class="n">{{ v }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>{% endif %}

{% if run.suites %}<h3 id="suites-{{ loop.index }}">Per suite: held-out FR (%),
case-weighted / spec-mean</h3>
<div class="scroll"><table class="suites"><thead><tr><th>suite</th><th>label</th>
<th>specs</th><th>cases</th>{% for m in run.model_ids %}<th>{{ m }}</th>{% endfor %}</tr></thead>
<tbody>{% for r in run.suites %}<tr{% if r.kind != "label" %} class="group"{% endif %}>
<td>{{ r.suite }}</td><td>{{ r.label }}</td><td class="n">{{ r.n_specs }}</td>
<td class="n">{{ r.n_cases }}</td>{% for c in r.cells %}<td class="n" data-v="{{ c.v }}">{{ c.t }}
</td>{% endfor %}</tr>{% endfor %}</tbody></table></div>
<p class="muted">{{ run.suite_note }}</p>{% endif %}

{% if run.drawn %}<h3 id="drawn-{{ loop.index }}">Added to train, per source and label</h3>
<table><thead><tr><th>model</th><th>source</th><th>added</th>{% for l in run.label_names %}
<th>{{ l }}</th>{% endfor %}</tr></thead><tbody>{% for d in run.drawn %}<tr>
<td>{% if d.first %}<b>{{ d.model }}</b>{% endif %}</td><td>{{ d.source }}</td>
{% for c in d.cells %}<td class="n">{{ c }}</td>{% endfor %}</tr>{% endfor %}</tbody></table>
<p class="muted">{{ run.drawn_note }}</p>{% endif %}

{% if run.comparisons %}<h3 id="comparisons-{{ loop.index }}">
Comparisons (A vs B on the same cases and seeds)</h3>
<table class="sortable"><thead><tr><th>A</th><th>B</th><th>seeds</th><th>Δ test acc</th>
<th>Δ mean FR</th><th>95% CI</th><th>p</th><th>specs fixed</th><th>specs broken</th></tr></thead>
<tbody>{% for c in run.comparisons %}<tr><td>{{ c.a }}</td><td>{{ c.b }}</td>
{% for x in c.cells %}<td class="n" data-v="{{ x.v }}">{{ x.t }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
<p class="muted">Points; negative Δ FR: A fails less. Method:
{% for m in run.methods %}{{ m }}{% if not loop.last %} | {% endif %}{% endfor %}.</p>{% endif %}

{% if run.broken is not none %}<h3 id="broken-{{ loop.index }}">
Specs broken by an intervention (vs M0)</h3>
<ul>{% for b in run.broken %}<li class="{{ b.cls }}">{{ b.text }}</li>
{% else %}<li>none</li>{% endfor %}</ul>{% endif %}

{% if run.signals %}<h3>Pre-training signal</h3><ul>{% for s in run.signals %}<li>{{ s }}</li>
{% endfor %}</ul>{% endif %}

{% if run.examples %}<h3 id="examples-{{ loop.index }}">
Failing examples (held-out cases, first seed)</h3>
{% for e in run.examples %}<details><summary><code>{{ e.spec }}</code> ({{ e.cases|length }}
cases)</summary><table><thead><tr><th>text</th><th>expected</th>{% for m in run.model_ids %}
<th>{{ m }}</th>{% endfor %}</tr></thead><tbody>{% for c in e.cases %}<tr><td>{{ c.text }}</td>
<td>{{ c.label }}</td>{% for p in c.preds %}<td class="{{ p.cls }}">{{ p.text }}</td>{% endfor %}
</tr>{% endfor %}</tbody></table></details>
{% endfor %}{% endif %}
</section>
{% endfor %}

<script>
(function () {
  function key(cell) {
    var v = cell.getAttribute("data-v");
    if (v === null) { v = cell.textContent.trim(); }
    var n = parseFloat(v);
    return (v !== "" && !isNaN(n) && isFinite(v)) ? n : v.toLowerCase();
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead th").forEach(function (th, col) {
      th.addEventListener("click", function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var asc = th.getAttribute("data-dir") !== "asc";
        table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("data-dir"); });
        th.setAttribute("data-dir", asc ? "asc" : "desc");
        rows.sort(function (a, b) {
          var x = key(a.cells[col]), y = key(b.cells[col]);
          if (typeof x === typeof y) { return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1); }
          return typeof x === "number" ? -1 : 1;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
</script>
</body>
</html>
"""


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _points(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:+.1f}"


def _cell(value: float | None, text: str | None = None) -> dict[str, Any]:
    return {"v": "" if value is None else f"{value:.6g}", "t": text or _pct(value)}


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def chart(run: RunResult) -> dict[str, Any]:
    """Geometry of the grouped horizontal bar chart (all numbers; texts are escaped later)."""
    models = shown_models(run)
    specs = [s for _, group in group_specs(run, "label") for s in group][:MAX_CHART_SPECS]
    left, plot_w, bar_h, gap = 220, 680, 10, 10
    legend, x, line = [], left, 0
    for i, model in enumerate(models):
        width = 24 + 7 * len(model.id)
        if x + width > left + plot_w and x > left:
            x, line = left, line + 1
        legend.append(
            {"x": x, "y": 6 + 18 * line, "name": model.id, "color": PALETTE[i % len(PALETTE)]}
        )
        x += width
    top = 34 + 18 * line
    scale = plot_w / 100.0
    rows, y = [], top
    for spec in specs:
        bars = []
        for i, model in enumerate(models):
            value = model.aggregate.heldout_fr.get(spec.id)
            if value is None:
                continue
            interval = pooled_interval(model, spec.id)
            bars.append(
                {
                    "y": y + i * bar_h,
                    "h": bar_h - 2,
                    "w": round(100 * value * scale, 2),
                    "color": PALETTE[i % len(PALETTE)],
                    "title": f"{model.id} on {spec.id}: FR {_pct(value)}%",
                    "ci": [
                        round(left + 100 * interval[0] * scale, 2),
                        round(left + 100 * interval[1] * scale, 2),
                    ]
                    if interval
                    else None,
                }
            )
        height = max(1, len(models)) * bar_h
        rows.append(
            {
                "y": y + height / 2 + 4,
                "label": _short(spec.id),
                "title": f"{spec.id} ({spec.label}): {spec.description}",
                "bars": bars,
            }
        )
        y += height + gap
    grid = [{"x": left + p * scale, "label": f"{p}%"} for p in (0, 25, 50, 75, 100)]
    return {
        "width": left + plot_w + 30,
        "height": y + 24,
        "left": left,
        "top": top - 4,
        "bottom": y - gap + 4,
        "rows": rows,
        "legend": legend,
        "grid": grid,
        "truncated": len(run.specs) > len(specs),
    }


class HtmlReporter(Reporter):
    """One self-contained HTML page: sortable leaderboard, charts, per-spec detail."""

    name = "html"
    description = "self-contained HTML page (inline CSS/JS/SVG): leaderboard, charts, examples"
    suffix = ".html"
    suffixes = (".htm",)
    aliases = ("htm",)
    takes_options = True

    def __init__(self) -> None:
        self.options = ReportOptions()

    def render(self, runs: list[Any]) -> str:
        """Render the page for ``runs``."""
        import jinja2

        env = jinja2.Environment(
            autoescape=True, undefined=jinja2.StrictUndefined, finalize=shown_text
        )
        board = build_leaderboard(runs)
        specs = board.specs[:MAX_SPEC_COLUMNS]
        board_rows = [
            {
                "task": r.task,
                "model": r.model,
                "row": r.row,
                "flags": r.flags,
                "run_id": r.run_id,
                "n_seeds": r.n_seeds,
                "collapse": r.collapse or "",
                "cells": [
                    _cell(r.accuracy),
                    _cell(r.macro_f1),
                    _cell(r.mcc, "–" if r.mcc is None else f"{r.mcc:.3f}"),
                    _cell(r.mean_fr),
                    _cell(r.worst_fr),
                    *[_cell(r.spec_fr.get(s.key)) for s in specs],
                ],
            }
            for r in board.rows
        ]
        return env.from_string(TEMPLATE).render(
            runs=runs,
            board_specs=specs,
            n_board_specs=len(board.specs),
            specs_truncated=len(board.specs) > len(specs),
            board_rows=board_rows,
            run_views=[self.run_view(run) for run in runs],
            collapse_note=COLLAPSE_NOTE,
        )

    def run_view(self, run: RunResult) -> dict[str, Any]:
        """Plain data for one run's section."""
        models = shown_models(run)
        comps = vs_m0(run)
        multi = len(run.seeds) > 1
        model_rows = []
        for m in run.models:
            agg = m.aggregate
            gap = (
                None
                if agg.mean_fr is None or agg.mean_train_fr is None
                else agg.mean_fr - agg.mean_train_fr
            )
            seconds = run.timing.seconds.get(m.id)
            std = f" ± {_pct(agg.mean_fr_std)}" if multi and agg.mean_fr_std else ""
            model_rows.append(
                {
                    "id": m.id,
                    "note": model_note(run, m),
                    "flagged": m.id in guard_flags(run) or bool(collapse_mark(m)),
                    "cells": [
                        _cell(agg.accuracy),
                        _cell(agg.macro_f1),
                        _cell(agg.mcc, "–" if agg.mcc is None else f"{agg.mcc:.3f}"),
                        _cell(agg.mean_fr, _pct(agg.mean_fr) + std),
                        _cell(agg.worst_fr),
                        _cell(agg.mean_train_fr),
                        _cell(agg.mean_fr),
                        _cell(gap, _points(gap)),
                        {
                            "v": "" if seconds is None else f"{seconds:.3f}",
                            "t": wall_time(run, m.id, missing="–"),
                        },
                    ],
                }
            )
        spec_rows = []
        group_by = self.options.group_by
        for group, specs in group_specs(run, group_by):
            for spec in specs:
                cells = []
                for m in models:
                    value = m.aggregate.heldout_fr.get(spec.id)
                    interval = pooled_interval(m, spec.id) if value is not None else None
                    item = comps.get(m.id, {}).get("specs", {}).get(spec.id)
                    text, status, title = _pct(value), "", f"{m.id}: FR {_pct(value)}%"
                    if item is not None:
                        text += f" ({_points(item.get('delta'))})"
                        status = item.get("status") or ""
                        p = item.get("p_holm")
                        title += f"; vs M0 {status or 'untested'}" + (
                            f", Holm p={format_p(p)}" if p is not None else ""
                        )
                    cells.append(
                        {
                            "v": "" if value is None else f"{value:.6g}",
                            "t": text,
                            "status": status,
                            "title": title,
                            "ci": f"[{_pct(interval[0])}–{_pct(interval[1])}]" if interval else "",
                        }
                    )
                spec_rows.append(
                    {
                        "group": group,
                        "id": spec.id,
                        "description": spec.description,
                        "tags": ", ".join(spec.tags),
                        "n": spec.n_heldout_cases,
                        "cells": cells,
                    }
                )
        labels = (
            [
                {
                    "label": row["label"],
                    "n": row["n_specs"],
                    "frs": [_pct(row["fr"].get(m.id)) for m in models],
                }
                for row in label_summary(run)
            ]
            if len({s.label for s in run.specs}) > 1
            else []
        )
        comparisons = []
        for c in run.comparisons:
            if "specs" not in c:
                continue
            boot = c.get("bootstrap") or {}
            delta_std = c.get("mean_fr_delta_std")
            comparisons.append(
                {
                    "a": c["a"],
                    "b": c["b"],
                    "cells": [
                        {"v": len(c["seeds"]), "t": str(len(c["seeds"]))},
                        _cell(c.get("test_accuracy_delta"), _points(c.get("test_accuracy_delta"))),
                        _cell(
                            c.get("mean_fr_delta"),
                            _points(c.get("mean_fr_delta"))
                            + (
                                f" ± {_pct(delta_std)}"
                                if len(c["seeds"]) > 1 and delta_std is not None
                                else ""
                            ),
                        ),
                        {
                            "v": boot.get("ci_low", ""),
                            "t": f"[{_points(boot['ci_low'])}, {_points(boot['ci_high'])}]"
                            if boot
                            else "–",
                        },
                        {"v": boot.get("p", ""), "t": format_p(boot["p"]) if boot else "–"},
                        {"v": c.get("n_fixed", ""), "t": str(c.get("n_fixed", "–"))},
                        {"v": c.get("n_broken", ""), "t": str(c.get("n_broken", "–"))},
                    ],
                }
            )
        broken: list[dict[str, str]] | None = None
        if comps:
            broken = []
            for model_id, found in broken_specs(run).items():
                for e in found["broken"]:
                    broken.append(
                        {
                            "cls": "broken",
                            "text": f"{model_id} BROKE {e['spec']}: FR {_pct(e['fr_b'])}% → "
                            f"{_pct(e['fr_a'])}% (Holm p={format_p(e.get('p_holm'))})",
                        }
                    )
                for e in found["worse"]:
                    broken.append(
                        {
                            "cls": "unchanged",
                            "text": f"{model_id} worse on {e['spec']}, not significant: FR "
                            f"{_pct(e['fr_b'])}% → {_pct(e['fr_a'])}%",
                        }
                    )
        signals = []
        for s in run.signals:
            rho = s.get("rho")
            rho_text = (
                "undefined" if rho is None else f"ρ = {rho:+.2f} (p = {format_p(s.get('p'))})"
            )
            signals.append(
                f"{s['model']}: Spearman({s['signal']}, FR drop vs M0) over {s['n_specs']} "
                f"specs: {rho_text}"
            )
        drawn, previous = [], None
        drawn_rows = drawn_counts(run)
        for drawn_row in drawn_rows:
            drawn.append(
                {
                    "first": drawn_row.model != previous,
                    "model": drawn_row.model,
                    "source": drawn_row.source,
                    "cells": [count_text(drawn_row.n)]
                    + [count_text(drawn_row.labels[label]) for label in run.task.label_names],
                }
            )
            previous = drawn_row.model
        sizes = ", ".join(f"{k} {v}" for k, v in run.task.pool_sources.items())
        notes = [f"Means over {len(run.seeds)} seeds." if len(run.seeds) > 1 else ""]
        notes.append(f"Pool sources: {sizes}." if sizes else f"Pool: {run.task.n_pool} examples.")
        if any(drawn_row.source == DI_SOURCE for drawn_row in drawn_rows):
            notes.append(f"{DI_SOURCE}: the specs' own train-side cases.")
        model_ids = [m.id for m in models]
        examples = []
        per_spec = self.options.examples.get(run.run_id) or {}
        for spec in run.specs:
            cases = per_spec.get(spec.id)
            if not cases:
                continue
            rows = []
            for case in cases:
                preds = []
                for model_id in model_ids:
                    p = case.get("predictions", {}).get(model_id)
                    ok = p == case.get("label")
                    preds.append(
                        {
                            "cls": "" if p is None else ("ok" if ok else "bad"),
                            "text": "–" if p is None else ("✔ " if ok else "✘ ") + str(p),
                        }
                    )
                rows.append(
                    {"text": case.get("text", ""), "label": case.get("label", ""), "preds": preds}
                )
            examples.append({"spec": spec.id, "cases": rows})
        return {
            **self.seen_and_leakage(run),
            "run_id": run.run_id,
            "task": run.task.name,
            "model": str(run.config.get("model", "?")),
            "seeds": ", ".join(map(str, run.seeds)),
            "version": run.harness_version,
            "n_specs": len(run.specs),
            "checks": [
                {"status": str(c.get("status", "?")), "detail": str(c.get("detail", ""))}
                for c in run.checks
            ],
            "chart": chart(run),
            "models": model_rows,
            "model_ids": model_ids,
            "group_by": group_by,
            "specs": spec_rows,
            "labels": labels,
            "label_names": list(run.task.label_names),
            "drawn": drawn,
            "drawn_note": " ".join(note for note in notes if note),
            "comparisons": comparisons,
            "methods": comparison_methods(run),
            "broken": broken,
            "signals": signals,
            "examples": examples,
            "collapsed": [{"model": m, "text": t} for m, t in collapsed_models(run)],
            "suites": self.suite_view(run),
            "suite_note": (
                f"Means over {len(run.seeds)} seed(s)"
                + (" (± standard deviation over seeds)" if multi else "")
                + f"; {SUITE_NOTE}."
            ),
        }

    def suite_view(self, run: RunResult) -> list[dict[str, Any]]:
        """Rows of the per-suite table: case-weighted / spec-mean FR per model."""
        multi = len(run.seeds) > 1
        out = []
        for row in suite_rows(run):
            cells = []
            for m in shown_models(run):
                if m.id not in row.fr:
                    cells.append({"v": "", "t": "–"})
                    continue
                texts = [
                    _pct(v) + (f" ± {_pct(sd)}" if multi and None not in (v, sd) else "")
                    for v, sd in zip(row.fr[m.id], row.std[m.id], strict=True)
                ]
                case_fr = row.fr[m.id][0]
                cells.append(
                    {"v": "" if case_fr is None else f"{case_fr:.6g}", "t": " / ".join(texts)}
                )
            out.append(
                {
                    "suite": row.suite or "(no suite)",
                    "label": row.label or "all labels",
                    "kind": row.kind,
                    "n_specs": row.n_specs,
                    "n_cases": row.n_cases,
                    "cells": cells,
                }
            )
        return out

    def seen_and_leakage(self, run: RunResult) -> dict[str, Any]:
        """Plain data for the seen / unseen table and the leakage section of one run."""
        seen = [
            {
                "model": r["model"],
                "cells": [
                    {"v": f"{r['per_seed']:g}", "t": f"{r['per_seed']:g}"},
                    _cell(r["seen_fr"]),
                    _cell(r["unseen_fr"]),
                    _cell(r["mean_fr"]),
                ],
            }
            for r in seen_unseen_rows(run)
        ]
        worst = [line for line in leakage_overview(run) if line.startswith("most affected")]
        return {
            "seen": seen,
            "seen_note": SEEN_NOTE[0].upper() + SEEN_NOTE[1:],
            "leakage": leakage_table(run),
            "leakage_columns": [name for name, _ in LEAKAGE_COLUMNS],
            "leakage_worst": [line[0].upper() + line[1:] for line in worst],
            "leakage_note": LEAKAGE_NOTE[0].upper() + LEAKAGE_NOTE[1:],
        }


@harness.hookimpl
def register_reporters(register: Register[type[Reporter]]) -> None:
    """Register the ``html`` reporter."""
    register(HtmlReporter)
