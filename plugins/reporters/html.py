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

import re
from typing import Any

from markupsafe import Markup, escape

import harness
from harness.analysis.collapse import COLLAPSE_NOTE
from harness.analysis.stats import format_p
from harness.api import DI_SOURCE, Register, Reporter
from harness.console_layout import model_keys
from harness.display import percent
from harness.leaderboard import build_leaderboard
from harness.report_views import (
    LEAKAGE_COLUMNS,
    LEAKAGE_NOTE,
    NOISE_NOTE,
    SEEN_NOTE,
    SIGNAL_NOTE,
    SUITE_NOTE,
    WALL_TIME_NOTE,
    ReportOptions,
    any_loaded,
    broken_specs,
    check_row,
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
    noise_detection,
    pooled_interval,
    seen_unseen_rows,
    shown_models,
    shown_text,
    suite_rows,
    vs_m0,
    wall_time,
)
from harness.results import RunResult
from harness_plugins.reporters.html_chart import change_chart

MAX_SPEC_COLUMNS = 40

TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>spec-harness report</title>
<style>
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
 padding:16px clamp(10px,3vw,28px);max-width:1500px;color:#1f2328;overflow-wrap:break-word}
h1{font-size:22px}h2{font-size:18px;margin-top:36px;border-bottom:1px solid #d0d7de;
 overflow-wrap:anywhere}h3{font-size:15px;margin-top:22px}
p,li,figcaption,summary,p code,li code{overflow-wrap:anywhere}td.note{min-width:14em}
table{border-collapse:separate;border-spacing:0;margin:0;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto;max-width:100%;margin:8px 0 14px;border-left:1px solid #d0d7de}
th,td{border:1px solid #d0d7de;border-left:0;padding:3px 7px;vertical-align:top;background:#fff}
th{background:#f6f8fa;text-align:left}td.n{text-align:right;white-space:nowrap}
tr+tr>td,tbody>tr:first-child>td{border-top:0}
.sticky th:first-child,.sticky td:first-child{position:sticky;left:0;z-index:1;
 box-shadow:1px 0 0 #d0d7de;min-width:9em;max-width:16em}
.flag{display:block;font-size:12px}th{white-space:nowrap}th.spec{white-space:normal}
th.spec{min-width:5.5em;max-width:10em;overflow-wrap:normal;font-weight:600}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th:after{content:" \2195";color:#8c959f;font-size:11px}
tr.group td{background:#eef2f6;font-weight:600}
.fixed{color:#0a5a2a;background:#dafbe1}.broken{color:#82071e;background:#ffebe9;font-weight:600}
.unchanged{color:#57606a}.PASS{color:#116329;font-weight:700}.FAIL{color:#82071e;font-weight:700}
.SKIP,.WARN{color:#7d5400;font-weight:700}.INFO{color:#0969da;font-weight:700}
.muted{color:#57606a;font-size:12px}
.desc{min-width:12em;max-width:28em}.ok{color:#116329}.bad{color:#82071e}
ul.checks{list-style:none;padding-left:0}ul.checks li{margin:3px 0}
details{margin:4px 0}summary{cursor:pointer}
td.what{min-width:11em;max-width:34em}
details.detail{margin:2px 0 0;font-size:12px;color:#424a53}
details.detail summary{color:#57606a}
figure.changes{margin:10px 0 18px}
.pick{display:flex;flex-wrap:wrap;gap:4px 14px;margin:0 0 8px;font-size:13px}
.pick label{white-space:nowrap;cursor:pointer}.pick b{font-variant-numeric:tabular-nums}
.sw{display:inline-block;width:.8em;height:.8em;border-radius:50%;margin:0 3px 0 2px;
 vertical-align:-1px}
.pick button{font:inherit;font-size:12px;padding:0 6px}
.crow{display:grid;grid-template-columns:minmax(7rem,14rem) minmax(0,1fr);gap:2px 12px;
 padding:5px 0;border-top:1px solid #eef2f6}
.crow .name code{font-weight:600}
.lane,.axis{display:grid;grid-template-columns:1.6em minmax(0,1fr) 5.4em;gap:0 6px;
 align-items:center;min-height:15px}
.lane[hidden]{display:none}
.lane .key{font-size:11px;font-weight:700;text-align:right}
.lane svg{display:block;width:100%;height:12px;overflow:visible}
.lane .val{font-size:12px;text-align:right;white-space:nowrap;padding:0 2px;
 font-variant-numeric:tabular-nums}
.lane .val.unchanged{background:none}
.ticks{position:relative;height:16px;font-size:11px;color:#57606a}
.ticks span{position:absolute;top:0;transform:translateX(-50%);white-space:nowrap}
.ticks span:first-child{transform:none}.ticks span:last-child{transform:translateX(-100%)}
.axisrow{position:sticky;top:0;background:#fff;z-index:2;border-bottom:1px solid #d0d7de}
@media (max-width:640px){.crow{grid-template-columns:minmax(0,1fr)}
 .crow .axis-spacer{display:none}}
</style>
</head>
<body>
<h1>spec-harness report</h1>
<p class="muted">{{ runs|length }} run(s). FR = failure rate on held-out spec cases (%, lower is
better). Click a column header to sort; tables scroll sideways inside their frame.</p>

<h2 id="leaderboard">Leaderboard</h2>
{% if board_constant %}<p class="muted">{% for c in board_constant %}{{ c.name }}: <b>{{ c.value
}}</b>{% if not loop.last %} · {% endif %}{% endfor %} (the same in every row)</p>{% endif %}
<div class="scroll"><table class="sortable sticky" id="leaderboard-table">
<thead><tr><th>row</th>{% for c in board_columns %}<th>{{ c }}</th>{% endfor %}<th>seeds</th>
<th>test acc</th><th>macro-F1</th><th>MCC</th><th>mean FR</th><th>worst FR</th>
{% for s in board_specs %}<th class="spec" title="{{ s.description }}">{{ s.key|breakable }}</th>
{% endfor %}</tr></thead>
<tbody>
{% for r in board_rows %}<tr><td><b>{{ r.row }}</b>
{% if r.collapse %} <span class="broken flag" title="{{ r.collapse }}">⚠ COLLAPSED</span>
{% endif %}{% for f in r.flags %}<span class="broken flag">{{ f }}</span>{% endfor %}</td>
{% for v in r.varying %}<td>{{ v }}</td>{% endfor %}<td class="n">{{ r.n_seeds }}</td>
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
{% if run.check_rows %}<div class="scroll"><table class="checks">
<thead><tr><th>status</th><th>check</th><th>Δ pt</th><th>95% CI</th><th>Holm p</th></tr>
</thead><tbody>
{% for c in run.check_rows %}<tr><td><span class="{{ c.status }}">{{ c.status }}</span></td>
<td class="what">{{ c.what|breakable }}<details class="detail"><summary>in full</summary>
{{ c.detail }}</details></td><td class="n">{{ c.delta }}</td><td class="n">{{ c.ci }}</td>
<td class="n">{{ c.p }}</td></tr>
{% endfor %}</tbody></table></div>
<p class="muted">Δ in points: FR checks, the guided retrain's mean spec FR minus the baseline's
(they pass when Δ &lt; 0 and Holm p &lt; α); guards, the test metric minus M0's (they fail
below the tolerance).</p>{% endif %}
<ul class="checks">
{% for c in run.check_notes %}<li><span class="{{ c.status }}">{{ c.status }}</span> {{ c.detail
}}</li>
{% endfor %}{% if not run.check_rows and not run.check_notes %}<li class="muted">not computed</li>
{% endif %}</ul>

{% if run.chart.specs %}<h3 id="chart-{{ loop.index }}">Change against M0, per spec</h3>
<figure class="changes" id="changes-{{ loop.index }}">
<div class="pick" role="group" aria-label="models shown">{% for m in run.chart.models %}
<label><input type="checkbox" checked data-model="m{{ m.index }}"><i class="sw"
 style="background:{{ m.colour }}"></i><b>{{ m.key }}</b> {{ m.id }}</label>{% endfor %}
<button type="button" data-pick="all">all</button><button type="button"
 data-pick="none">none</button></div>
<div class="crow axisrow"><div class="axis-spacer muted">spec · M0 FR</div>
<div class="axis"><span></span><div class="ticks">{% for t in run.chart.ticks %}<span
 style="left:{{ t.left }}%">{{ t.label }}</span>{% endfor %}</div><span class="muted">Δ pt</span>
</div></div>
{% for s in run.chart.specs %}<div class="crow"><div class="name"><code>{{ s.id|breakable }}</code>
<span class="muted">{{ s.label }} · M0 {{ s.m0 }}%</span></div><div class="lanes">
{% for l in s.lanes %}<div class="lane" data-model="m{{ l.index }}" title="{{ l.title }}">
<span class="key" style="color:{{ l.colour }}">{{ l.key }}</span><svg class="lane-plot"
 viewBox="0 0 {{ run.chart.width }} 12" preserveAspectRatio="none" role="img"
 aria-label="{{ l.title }}">{% for g in run.chart.grid %}<line x1="{{ g }}" x2="{{ g }}" y1="0"
 y2="12" stroke="#e1e4e8" vector-effect="non-scaling-stroke"/>{% endfor %}<line
 x1="{{ run.chart.zero }}" x2="{{ run.chart.zero }}" y1="0" y2="12" stroke="#57606a"
 vector-effect="non-scaling-stroke"/>{% if l.low is not none %}<line x1="{{ l.low }}"
 x2="{{ l.high }}" y1="6" y2="6" stroke="{{ l.colour }}" stroke-width="2"
 vector-effect="non-scaling-stroke"/>{% endif %}<line class="dot" x1="{{ l.x }}" x2="{{ l.x }}"
 y1="6" y2="6" stroke="{{ l.colour }}" stroke-width="10" stroke-linecap="round"
 vector-effect="non-scaling-stroke"/>{% if not l.solid %}<line class="hollow" x1="{{ l.x }}"
 x2="{{ l.x }}" y1="6" y2="6" stroke="#fff" stroke-width="5" stroke-linecap="round"
 vector-effect="non-scaling-stroke"/>{% endif %}</svg><span class="val {{ l.status }}">{{ l.mark
}}{{ l.value }}</span></div>
{% endfor %}</div></div>
{% endfor %}
<figcaption class="muted">{{ run.chart.note[0]|upper }}{{ run.chart.note[1:] }}. Dots: mean
change over seeds; lines: the interval; keys and colours: the models above (untick one to hide
it).{% if run.chart.truncated %} Showing the first {{ run.chart.specs|length }} of
{{ run.chart.n_specs }} specs; the tables below hold all.{% endif %}</figcaption>
</figure>{% endif %}

<h3 id="models-{{ loop.index }}">Models</h3>
<div class="scroll"><table class="sortable sticky">
<thead><tr><th>model</th><th>test acc</th><th>macro-F1</th><th>MCC</th><th>mean FR</th>
<th>worst FR</th><th>FR on D_i</th><th>FR on D_i_heldout</th><th>gap</th><th>wall s</th>
<th>note</th></tr></thead>
<tbody>{% for m in run.models %}<tr><td><b>{{ m.id }}</b></td>
{% for c in m.cells %}<td class="n" data-v="{{ c.v }}">{{ c.t }}</td>{% endfor %}
<td class="note{% if m.flagged %} broken{% endif %}">{{ m.note }}</td></tr>{% endfor %}</tbody>
</table></div>
<p class="muted">gap = FR on D_i_heldout minus FR on D_i (generalisation gap).{% if run.wall_note %}
{{ run.wall_note }}.{% endif %}</p>
{% if run.collapsed %}<h3 id="collapsed-{{ loop.index }}">Collapsed models</h3>
<ul>{% for c in run.collapsed %}<li><span class="broken">⚠ {{ c.model }} COLLAPSED</span>
{{ c.text }}</li>{% endfor %}</ul>
<p class="muted">{{ collapse_note }}</p>{% endif %}

{% if run.seen %}<h3 id="seen-{{ loop.index }}">Seen / unseen held-out cases</h3>
<div class="scroll"><table class="sortable sticky"><thead><tr><th>model</th>
<th>seen cases / seed</th><th>FR seen</th><th>unseen FR</th><th>mean FR (all)</th></tr></thead>
<tbody>{% for r in run.seen %}<tr><td><b>{{ r.model }}</b></td>
{% for c in r.cells %}<td class="n" data-v="{{ c.v }}">{{ c.t }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></div>
<p class="muted">{{ run.seen_note }}.</p>{% endif %}

{% if run.leakage %}<h3 id="leakage-{{ loop.index }}">Leakage: held-out cases found elsewhere</h3>
<div class="scroll"><table class="sticky"><thead><tr><th>suite</th><th>specs affected</th>
{% for h in run.leakage_columns %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for r in run.leakage %}<tr><td>{{ r.name }}</td><td class="n">{{ r.specs }}</td>
{% for v in r["values"] %}<td class="n">{{ v }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table></div>
{% for r in run.leakage if r.sources %}<p class="muted">Per pool source ({{ r.name }}):
{{ r.sources }}.</p>{% endfor %}
{% for line in run.leakage_worst %}<p>{{ line }}.</p>{% endfor %}
<p class="muted">{{ run.leakage_note }}.</p>{% endif %}

<h3 id="specs-{{ loop.index }}">Per-spec failure rate (%)</h3>
<p class="muted">Interventions show the change against M0 in points, marked
<span class="fixed">▼ fixed</span> / <span class="broken">▲ broken</span> when an exact McNemar
test on the same cases is significant with Holm's correction across specs, else
<span class="unchanged">unchanged</span>. [low–high]: Wilson 95% interval pooled over seeds.</p>
<div class="scroll"><table class="sortable specs sticky">
<thead><tr><th>spec</th><th>{{ run.group_by }}</th><th>description</th><th>tags</th><th>n</th>
{% for m in run.model_ids %}<th>{{ m }}</th>{% endfor %}</tr></thead>
<tbody>{% for s in run.specs %}<tr><td><code>{{ s.id|breakable }}</code></td><td>{{ s.group }}</td>
<td class="desc">{{ s.description }}</td><td>{{ s.tags }}</td><td class="n">{{ s.n }}</td>
{% for c in s.cells %}<td class="n {{ c.status }}" data-v="{{ c.v }}"
 title="{{ c.title }}">{{ c.t }}
{% if c.ci %}<br><span class="muted">{{ c.ci }}</span>{% endif %}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></div>

{% if run.labels %}<h3>Per label: mean FR (%)</h3>
<div class="scroll"><table class="sticky"><thead><tr><th>label</th><th>specs</th>
{% for m in run.model_ids %}<th>{{ m }}</th>{% endfor %}</tr></thead><tbody>
{% for l in run.labels %}<tr><td>{{ l.label }}</td><td class="n">{{ l.n }}</td>
{% for v in l.frs %}<td class="n">{{ v }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></div>{% endif %}

{% if run.suites %}<h3 id="suites-{{ loop.index }}">Per suite: held-out FR (%),
case-weighted / spec-mean</h3>
<div class="scroll"><table class="suites sticky"><thead><tr><th>suite</th><th>label</th>
<th>specs</th><th>cases</th>{% for m in run.model_ids %}<th>{{ m }}</th>{% endfor %}</tr></thead>
<tbody>{% for r in run.suites %}<tr{% if r.kind != "label" %} class="group"{% endif %}>
<td>{{ r.suite }}</td><td>{{ r.label }}</td><td class="n">{{ r.n_specs }}</td>
<td class="n">{{ r.n_cases }}</td>{% for c in r.cells %}<td class="n" data-v="{{ c.v }}">{{ c.t }}
</td>{% endfor %}</tr>{% endfor %}</tbody></table></div>
<p class="muted">{{ run.suite_note }}</p>{% endif %}

{% if run.drawn %}<h3 id="drawn-{{ loop.index }}">Added to train, per source and label</h3>
<div class="scroll"><table class="sticky"><thead><tr><th>model</th><th>source</th><th>added</th>
{% for l in run.label_names %}<th>{{ l }}</th>{% endfor %}</tr></thead><tbody>
{% for d in run.drawn %}<tr>
<td>{% if d.first %}<b>{{ d.model }}</b>{% endif %}</td><td>{{ d.source }}</td>
{% for c in d.cells %}<td class="n">{{ c }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table></div>
<p class="muted">{{ run.drawn_note }}</p>{% endif %}

{% if run.noise %}<h3 id="noise-{{ loop.index }}">Label-noise detection</h3>
<div class="scroll"><table class="sortable sticky"><thead><tr><th>model</th><th>against</th>
<th>k</th><th>precision@k</th><th>random set</th><th>recall</th></tr></thead><tbody>
{% for r in run.noise %}<tr><td><b>{{ r.model }}</b></td><td>{{ r.against }}</td>
{% for c in r.cells %}<td class="n" data-v="{{ c.v }}">{{ c.t }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></div>
<p class="muted">{{ run.noise_note }}</p>{% endif %}

{% if run.comparisons %}<h3 id="comparisons-{{ loop.index }}">
Comparisons (A vs B on the same cases and seeds)</h3>
<div class="scroll"><table class="sortable sticky"><thead><tr><th>A</th><th>B</th><th>seeds</th>
<th>Δ test acc</th><th>Δ mean FR</th><th>95% CI</th><th>p</th><th>specs fixed</th>
<th>specs broken</th></tr></thead>
<tbody>{% for c in run.comparisons %}<tr><td>{{ c.a }}</td><td>{{ c.b }}</td>
{% for x in c.cells %}<td class="n" data-v="{{ x.v }}">{{ x.t }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></div>
<p class="muted">Points; negative Δ FR: A fails less. Method:
{% for m in run.methods %}{{ m }}{% if not loop.last %} | {% endif %}{% endfor %}.</p>{% endif %}

{% if run.broken is not none %}<h3 id="broken-{{ loop.index }}">
Specs broken by an intervention (vs M0)</h3>
<ul>{% for b in run.broken %}<li class="{{ b.cls }}">{{ b.text }}</li>
{% else %}<li>none</li>{% endfor %}</ul>{% endif %}

{% if run.signals %}<h3>Pre-training signal</h3>
<div class="scroll"><table class="sticky"><thead><tr><th>model</th><th>signal</th><th>specs</th>
<th>ρ</th><th>p</th></tr></thead><tbody>{% for s in run.signals %}<tr><td>{{ s.model }}</td>
<td>{{ s.signal }}</td><td class="n">{{ s.n }}</td><td class="n">{{ s.rho }}</td>
<td class="n">{{ s.p }}</td></tr>{% endfor %}</tbody></table></div>
<p class="muted">{{ signal_note }}</p>{% endif %}

{% if run.examples %}<h3 id="examples-{{ loop.index }}">
Failing examples (held-out cases, first seed)</h3>
{% for e in run.examples %}<details><summary><code>{{ e.spec }}</code> ({{ e.cases|length }}
cases)</summary><div class="scroll"><table><thead><tr><th>text</th><th>expected</th>
{% for m in run.model_ids %}<th>{{ m }}</th>{% endfor %}</tr></thead><tbody>
{% for c in e.cases %}<tr><td class="desc">{{ c.text }}</td><td>{{ c.label }}</td>
{% for p in c.preds %}<td class="{{ p.cls }}">{{ p.text }}</td>{% endfor %}
</tr>{% endfor %}</tbody></table></div></details>
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
  document.querySelectorAll("figure.changes").forEach(function (fig) {
    var boxes = fig.querySelectorAll(".pick input");
    function show(box) {
      fig.querySelectorAll('.lane[data-model="' + box.getAttribute("data-model") + '"]')
        .forEach(function (lane) { lane.hidden = !box.checked; });
    }
    boxes.forEach(function (box) { box.addEventListener("change", function () { show(box); }); });
    fig.querySelectorAll(".pick button").forEach(function (button) {
      button.addEventListener("click", function () {
        boxes.forEach(function (box) {
          box.checked = button.getAttribute("data-pick") === "all";
          show(box);
        });
      });
    });
  });
})();
</script>
</body>
</html>
"""


BREAK_AFTER = re.compile(r"([-_:/.|])")


def breakable(text: Any) -> Markup:
    """``text`` HTML-escaped (and capped, as every shown text), with a line-break opportunity
    (``<wbr>``) after each ``-``, ``_``, ``:``, ``/``, ``.`` and ``|``, so that a long id wraps
    at its separators instead of overflowing or breaking mid-word."""
    parts = BREAK_AFTER.split(shown_text(str(text)))
    return Markup("").join(
        escape(part) + (Markup("<wbr>") if BREAK_AFTER.fullmatch(part) else "") for part in parts
    )


def _finalize(value: Any) -> Any:
    """Every value the template prints: capped (:func:`shown_text`); markup made here (by
    :func:`breakable`, from escaped parts) passes as it is."""
    return value if isinstance(value, Markup) else shown_text(value)


def _pct(value: float | None) -> str:
    return percent(value)


def _points(value: float | None) -> str:
    """Signed points, one decimal, never ``-0.0``."""
    return "–" if value is None else f"{round(100 * value, 1) + 0.0:+.1f}"


def _cell(value: float | None, text: str | None = None) -> dict[str, Any]:
    return {"v": "" if value is None else f"{value:.6g}", "t": text or _pct(value)}


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
            autoescape=True, undefined=jinja2.StrictUndefined, finalize=_finalize
        )
        env.filters["breakable"] = breakable
        board = build_leaderboard(runs)
        specs = board.specs[:MAX_SPEC_COLUMNS]
        identity = {
            "task": [r.task for r in board.rows],
            "model": [r.model for r in board.rows],
            "run": [r.run_id for r in board.rows],
        }
        constant = [
            {"name": name, "value": values[0]}
            for name, values in identity.items()
            if values and len(set(values)) == 1
        ]
        varying = [name for name in identity if name not in {c["name"] for c in constant}]
        board_rows = [
            {
                "row": r.row,
                "varying": [identity[name][i] for name in varying],
                "flags": r.flags,
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
            for i, r in enumerate(board.rows)
        ]
        return env.from_string(TEMPLATE).render(
            runs=runs,
            board_constant=constant,
            board_columns=varying,
            board_specs=specs,
            n_board_specs=len(board.specs),
            specs_truncated=len(board.specs) > len(specs),
            board_rows=board_rows,
            run_views=[self.run_view(run) for run in runs],
            collapse_note=COLLAPSE_NOTE,
            signal_note=SIGNAL_NOTE[0].upper() + SIGNAL_NOTE[1:] + ".",
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
                        mark = {"fixed": "▼", "broken": "▲"}.get(str(item.get("status")), "")
                        text += f" ({mark}{_points(item.get('delta'))})"
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
        signals = [
            {
                "model": s["model"],
                "signal": s["signal"],
                "n": s["n_specs"],
                "rho": "undefined" if s.get("rho") is None else f"{s['rho']:+.2f}",
                "p": "–" if s.get("rho") is None else format_p(s.get("p")),
            }
            for s in run.signals
        ]
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
        noise = [
            {
                "model": row.model,
                "against": row.against,
                "cells": [
                    _cell(row.k, count_text(row.k)),
                    _cell(
                        row.precision,
                        _pct(row.precision)
                        + (
                            f" ± {_pct(row.precision_std)}" if row.precision_std is not None else ""
                        ),
                    ),
                    _cell(row.random_precision),
                    _cell(row.recall),
                ],
            }
            for row in noise_detection(run)
        ]
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
            **self.check_view(run),
            "chart": change_chart(run, model_keys([m.id for m in models])),
            "wall_note": WALL_TIME_NOTE[0].upper() + WALL_TIME_NOTE[1:] if any_loaded(run) else "",
            "models": model_rows,
            "model_ids": model_ids,
            "group_by": group_by,
            "specs": spec_rows,
            "labels": labels,
            "label_names": list(run.task.label_names),
            "drawn": drawn,
            "drawn_note": " ".join(note for note in notes if note),
            "noise": noise,
            "noise_note": (
                "In %" + (" (mean ± std over seeds)" if multi else "") + f"; {NOISE_NOTE}."
            ),
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

    def check_view(self, run: RunResult) -> dict[str, Any]:
        """The checks: a row per FR check and guard (FR checks first) with its full text, and
        the warnings, skips and notes as a list."""
        rows, notes = [], []
        for check in run.checks:
            status, detail = str(check.get("status", "?")), str(check.get("detail", ""))
            row = check_row(check)
            if row is None:
                notes.append({"status": status, "detail": detail})
                continue
            what, delta, ci, p = row
            rows.append(
                {
                    "order": 0 if check.get("kind") == "expected-outcome" else 1,
                    "status": status,
                    "what": what,
                    "delta": delta.replace("-", "−"),
                    "ci": ci.replace("-", "−"),
                    "p": p,
                    "detail": detail,
                }
            )
        rows.sort(key=lambda row: row["order"])
        return {"check_rows": rows, "check_notes": notes}

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
