"""``markdown`` reporter: a leaderboard and per-run detail that render well on GitHub.

Every text from specs, data or configs goes through :func:`md` (HTML-escaped, Markdown
punctuation backslash-escaped, newlines folded), so it shows as text.
"""

from __future__ import annotations

import html
import re
from typing import Any

import harness
from harness.analysis.collapse import COLLAPSE_NOTE
from harness.analysis.stats import format_p
from harness.api import DI_SOURCE, Register, Reporter
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

MAX_SPEC_COLUMNS = 20
MARK = {"fixed": " ▼", "broken": " ▲", "unchanged": ""}
"""Marks of a significant change against M0 (FR down: fixed; up: broken): text, not colour."""
CHECK_MARK = {
    "PASS": "✅ PASS",
    "FAIL": "❌ FAIL",
    "SKIP": "⚪ SKIP",
    "WARN": "⚠️ WARN",
    "INFO": "ℹ️ INFO",
}
_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md(value: Any) -> str:
    """Escape any text for a Markdown table cell or paragraph (capped by
    :func:`harness.report_views.shown_text`)."""
    text = " ".join(shown_text(str(value)).split())
    text = html.escape(text, quote=False)
    return _SPECIAL.sub(r"\\\1", text)


def pct(value: float | None) -> str:
    """A rate in percent (``–`` when missing)."""
    return percent(value)


def points(value: float | None) -> str:
    """A signed difference in percentage points."""
    return percent(value, signed=True)


def table(head: list[str], rows: list[list[str]], right_from: int = 1) -> list[str]:
    """A GitHub table; columns from ``right_from`` on are right-aligned."""
    align = [":---" if i < right_from else "---:" for i in range(len(head))]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


class MarkdownReporter(Reporter):
    """GitHub-flavoured Markdown: leaderboard, expected-outcome check, per-spec tables."""

    name = "markdown"
    description = "GitHub-flavoured Markdown leaderboard and per-run detail"
    suffix = ".md"
    suffixes = (".markdown",)
    aliases = ("md",)
    takes_options = True

    def __init__(self) -> None:
        self.options = ReportOptions()

    def render(self, runs: list[Any]) -> str:
        """Render the merged leaderboard, then every run."""
        board = build_leaderboard(runs)
        out = [
            "# spec-harness report",
            "",
            f"{len(runs)} run{'s' if len(runs) != 1 else ''}; FR = failure rate on held-out "
            "spec cases (%, lower is better); accuracy, macro-F1 in %.",
            "",
            "## Leaderboard",
            "",
        ]
        specs = board.specs[:MAX_SPEC_COLUMNS]
        head = ["task", "model", "row", "run", "seeds", "test acc", "macro-F1", "MCC"]
        head += ["mean FR", "worst FR"] + [f"`{md(s.key)}`" for s in specs]
        rows = [
            [
                md(r.task),
                md(r.model),
                f"**{md(r.row)}**"
                + (" ⚠ COLLAPSED" if r.collapse else "")
                + "".join(f" 🔻 {md(f)}" for f in r.flags),
                md(r.run_id),
                str(r.n_seeds),
                pct(r.accuracy),
                pct(r.macro_f1),
                "–" if r.mcc is None else f"{r.mcc:.3f}",
                pct(r.mean_fr),
                pct(r.worst_fr),
                *[pct(r.spec_fr.get(s.key)) for s in specs],
            ]
            for r in board.rows
        ]
        out += table(head, rows, right_from=4)
        if len(board.specs) > MAX_SPEC_COLUMNS:
            out += [
                f"Showing {MAX_SPEC_COLUMNS} of {len(board.specs)} spec columns; every spec is "
                "in the per-run tables below and in the JSON report.",
                "",
            ]
        for run in runs:
            out += self.run_section(run)
        return "\n".join(out).rstrip() + "\n"

    def run_section(self, run: RunResult) -> list[str]:
        """Everything about one run."""
        models = shown_models(run)
        comps = vs_m0(run)
        out = [
            f"## Run {md(run.run_id)}",
            "",
            f"task **{md(run.task.name)}**, model **{md(run.config.get('model', '?'))}**, "
            f"seeds {md(', '.join(map(str, run.seeds)))}, {len(run.specs)} specs, "
            f"spec-harness {md(run.harness_version)}",
            "",
        ]
        sample = run.task.train_sample
        if sample is not None:
            counts = ", ".join(f"{md(k)} {v}" for k, v in sample.label_counts.items())
            out += [
                f"Trained on {sample.kept} of {sample.available} train rows "
                f"({md(sample.method)}, seed {sample.seed}: {counts}).",
                "",
            ]
        out += [
            "### Expected-outcome check",
            "",
        ]
        out += [
            f"- {CHECK_MARK.get(str(c.get('status')), md(c.get('status')))} {md(c.get('detail'))}"
            for c in run.checks
        ] or ["- not computed"]
        out += ["", "### Models", ""]
        rows = []
        for m in run.models:
            agg = m.aggregate
            gap = (
                None
                if agg.mean_fr is None or agg.mean_train_fr is None
                else agg.mean_fr - agg.mean_train_fr
            )
            rows.append(
                [
                    f"**{md(m.id)}**",
                    pct(agg.accuracy),
                    pct(agg.macro_f1),
                    "–" if agg.mcc is None else f"{agg.mcc:.3f}",
                    pct(agg.mean_fr)
                    + (
                        f" ± {pct(agg.mean_fr_std)}"
                        if len(run.seeds) > 1 and agg.mean_fr_std
                        else ""
                    ),
                    pct(agg.worst_fr),
                    pct(agg.mean_train_fr),
                    points(gap),
                    wall_time(run, m.id, missing="–"),
                    md(model_note(run, m)) + (" 🔻" if m.id in guard_flags(run) else ""),
                ]
            )
        out += table(
            [
                "model",
                "test acc",
                "macro-F1",
                "MCC",
                "mean FR",
                "worst FR",
                "FR on D_i",
                "gap (heldout − D_i)",
                "wall s",
                "note",
            ],
            rows,
        )
        if any_loaded(run):
            out += [WALL_TIME_NOTE + ".", ""]
        out += self.collapsed(run)
        out += self.seen_unseen(run)
        out += self.leakage(run)
        ci = self.options.ci
        out += [
            "### Per-spec failure rate (%)",
            "",
            "Interventions show the change against M0 in points: ▼ fixed, ▲ broken "
            "(exact McNemar on the same cases, Holm across specs)"
            + ("; [low–high]: Wilson 95% interval pooled over seeds." if ci else "."),
            "",
        ]
        for group, specs in group_specs(run, self.options.group_by):
            out += [f"#### {md(self.options.group_by)}: {md(group)}", ""]
            rows = []
            for spec in specs:
                cells = [f"`{md(spec.id)}`", md(spec.description), md(spec.label)]
                cells.append(str(spec.n_heldout_cases))
                for m in models:
                    value = m.aggregate.heldout_fr.get(spec.id)
                    text = pct(value)
                    interval = pooled_interval(m, spec.id) if ci and value is not None else None
                    if interval:
                        text += f" [{pct(interval[0])}–{pct(interval[1])}]"
                    item = comps.get(m.id, {}).get("specs", {}).get(spec.id)
                    if item is not None:
                        mark = MARK.get(item.get("status") or "", "")
                        text += f" ({points(item.get('delta'))}){mark}"
                    cells.append(text)
                rows.append(cells)
            out += table(
                ["spec", "description", "label", "n", *[md(m.id) for m in models]], rows, 3
            )
        if len({s.label for s in run.specs}) > 1:
            out += ["### Per label (mean FR %)", ""]
            out += table(
                ["label", "specs", *[md(m.id) for m in models]],
                [
                    [md(r["label"]), str(r["n_specs"]), *[pct(r["fr"].get(m.id)) for m in models]]
                    for r in label_summary(run)
                ],
            )
        out += self.suite_section(run)
        out += self.drawn(run)
        out += self.noise(run)
        out += self.comparisons(run)
        out += self.broken(run)
        out += self.signals(run)
        out += self.examples(run)
        return out

    def suite_section(self, run: RunResult) -> list[str]:
        """Per suite and per label within it: case-weighted and spec-mean FR per model."""
        rows = suite_rows(run)
        if not rows:
            return []
        models = shown_models(run)
        multi = len(run.seeds) > 1

        def cell(row: Any, model_id: str) -> str:
            if model_id not in row.fr:
                return "–"
            values, stds = row.fr[model_id], row.std[model_id]
            texts = [
                pct(v) + (f" ± {pct(sd)}" if multi and sd is not None and v is not None else "")
                for v, sd in zip(values, stds, strict=True)
            ]
            return " / ".join(texts)

        body = []
        for row in rows:
            name = md(row.suite or "(no suite)")
            body.append(
                [
                    f"**{name}**" if row.kind != "label" else name,
                    md(row.label) if row.label else "all labels",
                    str(row.n_specs),
                    str(row.n_cases),
                    *[cell(row, m.id) for m in models],
                ]
            )
        seeds = len(run.seeds)
        return (
            ["### Per suite: held-out FR (%), case-weighted / spec-mean", ""]
            + table(["suite", "label", "specs", "cases", *[md(m.id) for m in models]], body, 2)
            + [
                f"Means over {seeds} seed{'s' if seeds != 1 else ''}"
                + (" (± standard deviation over seeds)" if multi else "")
                + f"; {md(SUITE_NOTE)}.",
                "",
            ]
        )

    def collapsed(self, run: RunResult) -> list[str]:
        """The models that collapsed (one class predicted, or near-chance test MCC)."""
        found = collapsed_models(run)
        if not found:
            return []
        lines = [f"- ⚠ **{md(model_id)} COLLAPSED** {md(text)}" for model_id, text in found]
        return ["### Collapsed models", "", *lines, "", md(COLLAPSE_NOTE), ""]

    def drawn(self, run: RunResult) -> list[str]:
        """What each intervention added to training, per source and label."""
        found = drawn_counts(run)
        if not found:
            return []
        labels = list(run.task.label_names)
        rows = []
        previous = None
        for row in found:
            rows.append(
                [
                    f"**{md(row.model)}**" if row.model != previous else "",
                    md(row.source),
                    count_text(row.n),
                    *[count_text(row.labels[label]) for label in labels],
                ]
            )
            previous = row.model
        sizes = ", ".join(f"{md(k)} {v}" for k, v in run.task.pool_sources.items())
        notes = [f"Means over {len(run.seeds)} seeds." if len(run.seeds) > 1 else ""]
        notes.append(f"Pool sources: {sizes}." if sizes else f"Pool: {run.task.n_pool} examples.")
        if any(row.source == DI_SOURCE for row in found):
            notes.append(f"{md(DI_SOURCE)}: the specs' own train-side cases.")
        return (
            ["### Added to train, per source and label", ""]
            + table(["model", "source", "added", *[md(label) for label in labels]], rows, 2)
            + [" ".join(note for note in notes if note), ""]
        )

    def noise(self, run: RunResult) -> list[str]:
        """Per relabelling scored against known label noise: precision@k of its flips."""
        found = noise_detection(run)
        if not found:
            return []
        multi = any(row.n_seeds > 1 for row in found)
        rows = [
            [
                f"**{md(row.model)}**",
                md(row.against),
                count_text(row.k),
                pct(row.precision)
                + (
                    f" ± {pct(row.precision_std)}"
                    if multi and row.precision_std is not None
                    else ""
                ),
                pct(row.random_precision),
                pct(row.recall),
            ]
            for row in found
        ]
        seeds = max(row.n_seeds for row in found)
        note = "In %" + (f", means over {seeds} seeds (± std)" if seeds > 1 else "")
        return (
            ["### Label-noise detection", ""]
            + table(["model", "against", "k", "precision@k", "random set", "recall"], rows, 2)
            + [f"{note}; {md(NOISE_NOTE)}.", ""]
        )

    def seen_unseen(self, run: RunResult) -> list[str]:
        """Per model: held-out cases it trained on, FR on them and on the rest."""
        rows = seen_unseen_rows(run)
        if not rows:
            return []
        return (
            ["### Seen / unseen held-out cases", ""]
            + table(
                ["model", "seen cases / seed", "FR seen", "unseen FR", "mean FR (all)"],
                [
                    [
                        f"**{md(r['model'])}**",
                        f"{r['per_seed']:g}",
                        pct(r["seen_fr"]),
                        pct(r["unseen_fr"]),
                        pct(r["mean_fr"]),
                    ]
                    for r in rows
                ],
            )
            + [md(SEEN_NOTE[0].upper() + SEEN_NOTE[1:]) + ".", ""]
        )

    def leakage(self, run: RunResult) -> list[str]:
        """Leakage totals per suite, the most affected specs and the method."""
        rows = leakage_table(run)
        if not rows:
            return []
        out = ["### Leakage: held-out cases found elsewhere", ""]
        out += table(
            ["suite", "specs affected", *[name for name, _ in LEAKAGE_COLUMNS]],
            [[md(r["name"]), r["specs"], *[str(v) for v in r["values"]]] for r in rows],
        )
        sources = [f"{md(r['name'])}: {md(r['sources'])}" for r in rows if r["sources"]]
        if sources:
            out += ["Per pool source: " + "; ".join(sources) + ".", ""]
        worst = [line for line in leakage_overview(run) if line.startswith("most affected")]
        out += [md(line[0].upper() + line[1:]) + "." for line in worst] + ([""] if worst else [])
        out += [md(LEAKAGE_NOTE[0].upper() + LEAKAGE_NOTE[1:]) + ".", ""]
        return out

    def comparisons(self, run: RunResult) -> list[str]:
        """Paired comparisons table."""
        comps = [c for c in run.comparisons if "specs" in c]
        if not comps:
            return []
        rows = []
        for c in comps:
            boot = c.get("bootstrap") or {}
            rows.append(
                [
                    md(c["a"]),
                    md(c["b"]),
                    str(len(c["seeds"])),
                    points(c.get("test_accuracy_delta")),
                    points(c.get("mean_fr_delta"))
                    + (
                        f" ± {pct(c.get('mean_fr_delta_std'))}"
                        if len(c["seeds"]) > 1 and c.get("mean_fr_delta_std") is not None
                        else ""
                    ),
                    f"[{points(boot['ci_low'])}, {points(boot['ci_high'])}]" if boot else "–",
                    format_p(boot["p"]) if boot else "–",
                    str(c.get("n_fixed", "–")),
                    str(c.get("n_broken", "–")),
                ]
            )
        return (
            ["### Comparisons (A vs B on the same cases and seeds)", ""]
            + table(
                ["A", "B", "seeds", "Δ test acc", "Δ mean FR", "95% CI", "p", "fixed", "broken"],
                rows,
                right_from=2,
            )
            + [
                "Points; negative Δ FR: A fails less. Method: "
                + md(" | ".join(comparison_methods(run)))
                + ".",
                "",
            ]
        )

    def broken(self, run: RunResult) -> list[str]:
        """The specs each intervention broke."""
        lines = []
        for model_id, found in broken_specs(run).items():
            for e in found["broken"]:
                lines.append(
                    f"- ▲ **{md(model_id)}** broke `{md(e['spec'])}`: FR {pct(e['fr_b'])} → "
                    f"{pct(e['fr_a'])} (Holm p = {format_p(e.get('p_holm'))})"
                )
            for e in found["worse"]:
                lines.append(
                    f"- {md(model_id)} worse on `{md(e['spec'])}` (not significant): "
                    f"FR {pct(e['fr_b'])} → {pct(e['fr_a'])}"
                )
        if not lines and not vs_m0(run):
            return []
        return ["### Specs broken by an intervention (vs M0)", ""] + (lines or ["- none"]) + [""]

    def signals(self, run: RunResult) -> list[str]:
        """Coverage-signal correlations, as a table, explained below it."""
        if not run.signals:
            return []
        rows = [
            [
                md(s["model"]),
                md(s["signal"]),
                str(s["n_specs"]),
                "undefined" if s.get("rho") is None else f"{s['rho']:+.2f}",
                "–" if s.get("rho") is None else format_p(s.get("p")),
            ]
            for s in run.signals
        ]
        note = SIGNAL_NOTE[0].upper() + SIGNAL_NOTE[1:]
        return (
            ["### Pre-training signal", ""]
            + table(["model", "signal", "specs", "ρ", "p"], rows, right_from=2)
            + [
                md(note) + "; undefined: the signal is the same for every spec, or fewer than "
                "3 specs have one.",
                "",
            ]
        )

    def examples(self, run: RunResult) -> list[str]:
        """A few failing held-out cases per spec, folded."""
        per_spec = self.options.examples.get(run.run_id) or {}
        if not per_spec:
            return []
        models = [m.id for m in shown_models(run)]
        out = ["### Failing examples (held-out cases, first seed)", ""]
        for spec in run.specs:
            cases = per_spec.get(spec.id)
            if not cases:
                continue
            out += [f"<details><summary>{html.escape(spec.id)}: {len(cases)} cases</summary>", ""]
            rows = []
            for case in cases:
                preds = case.get("predictions", {})
                cells = [md(case.get("text", "")), md(case.get("label", ""))]
                for m in models:
                    p = preds.get(m)
                    cells.append(
                        "–" if p is None else ("✔ " if p == case.get("label") else "✘ ") + md(p)
                    )
                rows.append(cells)
            out += table(["text", "expected", *[md(m) for m in models]], rows, right_from=99)
            out += ["</details>", ""]
        return out


@harness.hookimpl
def register_reporters(register: Register[type[Reporter]]) -> None:
    """Register the ``markdown`` reporter."""
    register(MarkdownReporter)
