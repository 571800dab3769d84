"""Rich console report printed after a run and by ``harness report`` (no ``--format``).

Tables fit the console's width (80 to 160 columns and beyond) without cutting a spec or model
id (see :mod:`harness.console_layout`). Nothing is said by colour alone: a significant change
against M0 carries ``▼`` (fixed) or ``▲`` (broken), failed guards say ``GUARD FAIL`` and
collapsed models ``COLLAPSED``, so piped output, logs and ``NO_COLOR`` terminals keep them.

Every text that comes from specs, data or configs goes through ``escape``
(:func:`harness.display.console_text`): capped, terminal control characters escaped, rich
markup escaped.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console, RenderableType
from rich.table import Table

from harness.analysis.collapse import COLLAPSE_NOTE
from harness.analysis.stats import format_p
from harness.api import DI_SOURCE
from harness.console_layout import (
    BASE,
    SECTION,
    Column,
    ModelLayout,
    Noted,
    RowNames,
    choose_layout,
    fitted_tables,
    legend,
    report_table,
    row_name_limit,
)
from harness.display import console_text as escape
from harness.display import percent
from harness.leaderboard import Leaderboard
from harness.report_views import (
    NOISE_NOTE,
    SEEN_NOTE,
    SIGNAL_NOTE,
    SUITE_NOTE,
    WALL_TIME_NOTE,
    GroupBy,
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
    model_note,
    noise_detection,
    pooled_interval,
    seen_unseen_rows,
    shown_models,
    suite_rows,
    vs_m0,
    wall_time,
)
from harness.results import ModelResult, RunResult

STATUS_STYLE = {"fixed": "green", "broken": "bold red", "unchanged": "dim"}
STATUS_MARK = {"fixed": "▼", "broken": "▲"}
"""Textual marks of a significant change against M0 (FR down: fixed; FR up: broken)."""
MARK_NOTE = (
    "▼ fixed / ▲ broken: FR change vs M0 significant (exact McNemar on the same cases, Holm "
    "across specs)"
)
CHECK_STYLE = {
    "PASS": "bold green",
    "FAIL": "bold red",
    "SKIP": "yellow",
    "WARN": "bold yellow",
    "INFO": "cyan",
}


def pct(value: float | None, digits: int = 1) -> str:
    """A rate as a percentage without the sign (``-`` for missing)."""
    return percent(value, digits, missing="-")


def points(value: float | None, digits: int = 1) -> str:
    """A difference of rates in signed percentage points (``-`` for missing)."""
    return percent(value, digits, signed=True, missing="-")


def _seeds(result: RunResult) -> str:
    n = len(result.seeds)
    return f"mean over {n} seed{'s' if n != 1 else ''}"


def _ci(model: ModelResult, spec_id: str) -> str:
    interval = pooled_interval(model, spec_id)
    return "" if interval is None else f"[{pct(interval[0], 0)}–{pct(interval[1], 0)}]"


# --------------------------------------------------------------------------------------------
# Tables with one column per model
# --------------------------------------------------------------------------------------------

Row = tuple[list[str], dict[str, list[str]], str]
"""A row of a model-column table: the leading cells (rich markup), the parts of each model's
cell (joined on one line or stacked) and the style of the row (``"section"`` starts a new
section before it)."""


def model_column_tables(
    console: Console,
    models: list[str],
    heads: list[tuple[str, str]],
    rows: list[Row],
    title: str,
    caption: str,
    styles: Callable[[str, int], str] | None = None,
) -> list[RenderableType]:
    """Tables with the leading columns ``heads`` (name, justify) and one column per model,
    laid out to fit ``console`` (:func:`harness.console_layout.choose_layout`); a legend of the
    model keys follows the notes when keys are used. ``styles(model, row)`` styles a cell."""

    def build(layout: ModelLayout, chunk: list[str]) -> Table:
        table = report_table()
        for name, justify in heads:
            table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
        for model in chunk:
            table.add_column(escape(layout.headers[model]), justify="right", no_wrap=True)
        for index, (lead, cells, kind) in enumerate(rows):
            if kind == "section" and index:
                table.add_section()
            joiner = "\n" if layout.stacked else " "
            texts = []
            for model in chunk:
                text = joiner.join(part for part in cells.get(model, []) if part)
                style = styles(model, index) if styles else ""
                texts.append(f"[{style}]{text}[/]" if style and text else text)
            table.add_row(*lead, *texts)
        return table

    layout = choose_layout(console, models, build)
    notes = [caption] + ([legend(layout.headers)] if layout.keyed else [])
    tables: list[RenderableType] = []
    for index, chunk in enumerate(layout.chunks):
        part = f" ({index + 1} of {len(layout.chunks)})" if len(layout.chunks) > 1 else ""
        last = index == len(layout.chunks) - 1
        tables.append(Noted(title + part, build(layout, chunk), notes if last else []))
    return tables


def spec_tables(
    result: RunResult, console: Console, ci: bool = False, group_by: GroupBy = "label"
) -> list[RenderableType]:
    """One row per spec, grouped; FR (%) of every model; each intervention's change against M0
    below or beside it, marked ``▼`` fixed / ``▲`` broken (exact McNemar, Holm) and coloured."""
    models = shown_models(result)
    comps = vs_m0(result)
    names = RowNames(row_name_limit(console))
    rows: list[Row] = []
    statuses: dict[tuple[str, int], str] = {}
    for group, specs in group_specs(result, group_by):
        rows.append(([f"[bold]{escape(group_by)}: {escape(group)}[/]", ""], {}, "section"))
        for spec in specs:
            cells: dict[str, list[str]] = {}
            for model in models:
                value = model.aggregate.heldout_fr.get(spec.id)
                parts = [pct(value)]
                if ci and value is not None:
                    parts.append(_ci(model, spec.id))
                item = comps.get(model.id, {}).get("specs", {}).get(spec.id)
                if item is not None:
                    status = item.get("status") or ""
                    parts.append(STATUS_MARK.get(status, "") + points(item.get("delta")))
                    statuses[(model.id, len(rows))] = status
                cells[model.id] = parts
            rows.append((["  " + names.shown(spec.id), str(spec.n_heldout_cases)], cells, ""))
    caption = f"FR in %, {_seeds(result)}; then the change vs M0 in points; {MARK_NOTE}" + (
        "; […]: Wilson 95% interval pooled over seeds" if ci else "; --ci adds intervals"
    )
    tables = model_column_tables(
        console,
        [m.id for m in models],
        [("spec", "left"), ("n", "right")],
        rows,
        f"Held-out spec failure rate (%) — run {escape(result.run_id)}",
        caption,
        lambda model, row: STATUS_STYLE.get(statuses.get((model, row), ""), ""),
    )
    if names.long and isinstance(tables[-1], Noted):
        tables[-1].notes += names.notes()
    return tables


def label_tables(result: RunResult, console: Console) -> list[RenderableType]:
    """Mean held-out FR (%) per spec label and model."""
    models = shown_models(result)
    rows: list[Row] = [
        (
            [escape(row["label"]), str(row["n_specs"])],
            {m.id: [pct(row["fr"].get(m.id))] for m in models},
            "",
        )
        for row in label_summary(result)
    ]
    return model_column_tables(
        console,
        [m.id for m in models],
        [("label", "left"), ("specs", "right")],
        rows,
        "Per label: mean held-out spec FR (%)",
        _seeds(result),
    )


def suite_tables(result: RunResult, console: Console) -> list[RenderableType]:
    """Per suite and per label within it: each model's held-out FR (%), case-weighted and
    spec-mean (means over seeds); with two or more suites a row for all specs."""
    models = shown_models(result)
    rows: list[Row] = []
    for row in suite_rows(result):
        if row.kind == "label":
            name = f"  {escape(row.label or '')}"
        else:
            name = f"[bold]{escape(row.suite or '(no suite)')}[/]"
        cells = {
            m.id: [f"{pct(row.fr[m.id][0])} /", pct(row.fr[m.id][1])] if m.id in row.fr else ["-"]
            for m in models
        }
        rows.append(([name, str(row.n_specs), str(row.n_cases)], cells, ""))
        if row.kind == "all" and len(rows) > 1:
            rows[-1] = (rows[-1][0], rows[-1][1], "section")
    return model_column_tables(
        console,
        [m.id for m in models],
        [("suite / label", "left"), ("specs", "right"), ("cases", "right")],
        rows,
        "Per suite: held-out FR (%), case-weighted / spec-mean",
        f"{_seeds(result)}; {escape(SUITE_NOTE)}",
    )


# --------------------------------------------------------------------------------------------
# Models, what they added, seen cases, comparisons
# --------------------------------------------------------------------------------------------


def summary_table(result: RunResult, console: Console) -> list[Noted]:
    """One row per model: test metrics, mean/worst spec FR, FR on D_i and the generalisation
    gap, wall time, and a short note (skipped, COLLAPSED, GUARD FAIL); below it each model's
    worst spec and the notes in full."""
    multi = len(result.seeds) > 1
    guards = guard_flags(result)
    flags = [_short_note(model, model.id in guards) for model in result.models]
    columns = [Column("model", "left", no_wrap=True)] + [
        Column(name)
        for name in ("test acc", "macro-F1", "MCC", "mean FR", "worst FR", "FR D_i", "gap")
    ]
    columns.append(Column("wall s"))
    rows = []
    for model, flag in zip(result.models, flags, strict=True):
        agg = model.aggregate
        gap = (
            agg.mean_fr - agg.mean_train_fr
            if agg.mean_fr is not None and agg.mean_train_fr is not None
            else None
        )
        rows.append(
            [
                escape(model.id) + (f"\n{flag}" if flag else ""),
                pct(agg.accuracy)
                + (f" ±{pct(agg.accuracy_std)}" if multi and agg.accuracy_std else ""),
                pct(agg.macro_f1),
                "-" if agg.mcc is None else f"{agg.mcc:.3f}",
                pct(agg.mean_fr)
                + (f" ±{pct(agg.mean_fr_std)}" if multi and agg.mean_fr_std else ""),
                pct(agg.worst_fr),
                pct(agg.mean_train_fr),
                points(gap),
                escape(wall_time(result, model.id)),
            ]
        )
    caption = [
        "rates in %; mean FR: over the specs' held-out cases (D_i_heldout); gap = mean FR minus "
        "FR on D_i (generalisation gap)"
    ]
    if any_loaded(result):
        caption.append(WALL_TIME_NOTE)
    notes = [escape("; ".join(caption), 4_000), *model_notes(result)]
    return fitted_tables(console, "Models", columns, rows, notes)


def _short_note(model: ModelResult, guard_failed: bool) -> str:
    """The note cell: short flags; their details follow the table (:func:`model_notes`)."""
    parts = []
    if model.skipped:
        parts.append("skipped")
    if collapse_mark(model):
        parts.append("[bold red]COLLAPSED[/]")
    if guard_failed:
        parts.append("[bold red]GUARD FAIL[/]")
    return ", ".join(parts)


def model_notes(result: RunResult) -> list[str]:
    """Lines under the models table: each model's worst spec, and the full note of every
    flagged or skipped model (rich markup)."""
    worst: dict[str, list[str]] = {}
    for model in result.models:
        fr = model.aggregate.heldout_fr
        if fr:
            spec = max(fr.items(), key=lambda kv: kv[1])[0]
            worst.setdefault(spec, []).append(model.id)
    lines = []
    if worst:
        lines.append(
            "worst spec: "
            + "; ".join(
                f"[bold]{escape(spec)}[/] ({', '.join(escape(m) for m in ids)})"
                for spec, ids in worst.items()
            )
        )
    guards = guard_flags(result)
    for model in result.models:
        note = model_note(result, model)
        if note:
            flagged = model.id in guards or collapse_mark(model)
            text = escape(note)
            lines.append(f"{escape(model.id)}: " + (f"[bold red]{text}[/]" if flagged else text))
    return lines


def collapse_lines(result: RunResult) -> list[str]:
    """One line per collapsed model row, then the explanation (empty when none collapsed)."""
    found = collapsed_models(result)
    if not found:
        return []
    lines = [f"[bold red]{escape(model)} COLLAPSED[/] {escape(text)}" for model, text in found]
    return lines + [f"[dim]{escape(COLLAPSE_NOTE)}[/]"]


def comparison_table(result: RunResult, console: Console) -> list[Noted]:
    """Paired comparisons: Δ test accuracy, Δ mean FR with its bootstrap interval, specs fixed
    and broken."""
    comps = [c for c in result.comparisons if "specs" in c]
    if not comps:
        return []
    seed_counts = {len(c["seeds"]) for c in comps}
    constant = len(seed_counts) == 1
    columns = [Column("A", "left", no_wrap=True), Column("B", "left", no_wrap=True)]
    if not constant:
        columns.append(Column("seeds"))
    columns += [Column(name) for name in ("Δ test acc", "Δ mean FR")]
    columns += [Column("95% CI", no_wrap=True), Column("p"), Column("▼ / ▲", no_wrap=True)]
    rows = []
    for comp in comps:
        boot = comp.get("bootstrap") or {}
        multi = len(comp["seeds"]) > 1
        acc_std = comp.get("test_accuracy_delta_std")
        fr_std = comp.get("mean_fr_delta_std")
        cells = [escape(comp["a"]), escape(comp["b"])]
        if not constant:
            cells.append(str(len(comp["seeds"])))
        cells += [
            points(comp.get("test_accuracy_delta"))
            + (f" ±{pct(acc_std)}" if multi and acc_std is not None else ""),
            points(comp.get("mean_fr_delta"))
            + (f" ±{pct(fr_std)}" if multi and fr_std is not None else ""),
            escape(f"[{points(boot['ci_low'])}, {points(boot['ci_high'])}]") if boot else "-",
            format_p(boot["p"]) if boot else "-",
            f"{comp.get('n_fixed', '-')} / {comp.get('n_broken', '-')}",
        ]
        rows.append(cells)
    count = seed_counts.pop() if constant else 0
    seeds = f"over {count} seed{'s' if count != 1 else ''}; " if constant else ""
    caption = escape(
        f"{seeds}points; negative Δ FR = A fails less; ▼ / ▲: specs A fixed / broke vs B. "
        + " | ".join(comparison_methods(result)),
        4_000,
    )
    return fitted_tables(
        console, "Comparisons (A vs B, same cases and seeds)", columns, rows, [caption], lead=2
    )


def drawn_table(result: RunResult, console: Console) -> list[Noted]:
    """Examples each intervention added to training, per source and label (means over seeds);
    nothing when no intervention records them."""
    found = drawn_counts(result)
    if not found:
        return []
    labels = list(result.task.label_names)
    columns = [Column("model", "left", no_wrap=True), Column("source", "left"), Column("added")]
    columns += [Column(escape(label)) for label in labels]
    rows: list[list[str]] = []
    previous = None
    for row in found:
        if previous is not None and row.model != previous:
            rows.append([SECTION])
        rows.append(
            [
                escape(row.model) if row.model != previous else "",
                escape(row.source),
                count_text(row.n),
                *[count_text(row.labels[label]) for label in labels],
            ]
        )
        previous = row.model
    seeds = len(result.seeds)
    sizes = ", ".join(f"{escape(k)} {v}" for k, v in result.task.pool_sources.items())
    notes = [f"mean over {seeds} seeds" if seeds > 1 else ""]
    notes.append(f"pool sources: {sizes}" if sizes else f"pool: {result.task.n_pool} examples")
    if any(row.source == DI_SOURCE for row in found):
        notes.append(f"{DI_SOURCE}: the specs' own train-side cases")
    caption = "; ".join(note for note in notes if note)
    return fitted_tables(console, "Added to train, per source and label", columns, rows, [caption])


def noise_table(result: RunResult, console: Console) -> list[Noted]:
    """Per relabelling scored against known label noise: precision@k of its flips, next to a
    same-size random set's (means over seeds); nothing when no row records it."""
    found = noise_detection(result)
    if not found:
        return []
    columns = [
        Column("model", "left", no_wrap=True),
        Column("against", "left"),
        Column("k"),
        Column("precision@k"),
        Column("random set"),
        Column("recall"),
    ]
    multi = any(row.n_seeds > 1 for row in found)
    rows = [
        [
            escape(row.model),
            escape(row.against),
            count_text(row.k),
            pct(row.precision)
            + (f" ±{pct(row.precision_std)}" if multi and row.precision_std is not None else ""),
            pct(row.random_precision),
            pct(row.recall),
        ]
        for row in found
    ]
    seeds = max(row.n_seeds for row in found)
    caption = (
        "in %" + (f", mean over {seeds} seeds (± std)" if seeds > 1 else "") + "; " + NOISE_NOTE
    )
    return fitted_tables(console, "Label-noise detection", columns, rows, [caption])


def seen_unseen_table(result: RunResult, console: Console) -> list[Noted]:
    """Per model: held-out cases it trained on, FR on them and mean spec FR on the rest (only
    when some model saw a held-out case)."""
    found = seen_unseen_rows(result)
    if not found:
        return []
    columns = [Column("model", "left", no_wrap=True)]
    columns += [Column(n) for n in ("seen cases / seed", "FR seen", "unseen FR", "mean FR (all)")]
    rows = [
        [
            escape(row["model"]),
            f"{row['per_seed']:g}",
            pct(row["seen_fr"]),
            pct(row["unseen_fr"]),
            pct(row["mean_fr"]),
        ]
        for row in found
    ]
    notes = ["rates in %; " + escape(SEEN_NOTE)]
    return fitted_tables(console, "Seen / unseen held-out cases", columns, rows, notes)


# --------------------------------------------------------------------------------------------
# Broken specs, checks, signals, leakage
# --------------------------------------------------------------------------------------------


def broken_lines(result: RunResult) -> list[str]:
    """For each intervention, the specs it broke (and made worse without significance)."""
    lines = []
    for model_id, found in broken_specs(result).items():
        if found["broken"]:
            items = ", ".join(
                f"{escape(e['spec'])} ({pct(e['fr_b'])}% → {pct(e['fr_a'])}%, "
                f"Holm p={format_p(e.get('p_holm'))})"
                for e in found["broken"]
            )
            lines.append(f"[bold red]▲ {escape(model_id)} BROKE[/] {items}")
        if found["worse"]:
            items = ", ".join(
                f"{escape(e['spec'])} ({pct(e['fr_b'])}% → {pct(e['fr_a'])}%)"
                for e in found["worse"]
            )
            lines.append(f"[yellow]{escape(model_id)} worse, not significant:[/] {items}")
    return lines


def check_table(result: RunResult, console: Console) -> list[Noted]:
    """The checks as a compact table, one row per FR check and guard (status, what, Δ, CI,
    Holm p), then warnings, skips and notes with their full text. The long detail of every
    check stays in ``results.json`` and the Markdown and HTML reports. Nothing when the run
    has no checks."""
    if not result.checks:
        return []
    columns = [
        Column("status", "left", no_wrap=True),
        Column("check", "left"),
        Column("Δ pt", no_wrap=True),
        Column("95% CI", no_wrap=True),
        Column("Holm p", no_wrap=True),
    ]
    lines: list[str] = []
    notes: list[str] = []
    rows: list[tuple[int, list[str]]] = []
    for check in result.checks:
        status = str(check.get("status", "?"))
        mark = f"[{CHECK_STYLE.get(status, 'bold')}]{escape(status)}[/]"
        row = check_row(check)
        if row is None:
            lines.append(f"{mark} {escape(str(check.get('detail', '')), 4_000)}")
            continue
        order = 0 if check.get("kind") == "expected-outcome" else 1
        rows.append((order, [mark, *map(escape, row)]))
        if check.get("kind") == "expected-outcome":
            if check.get("resamples"):
                notes.append(f"FR checks: p resamples {check['resamples']}")
            if check.get("n_seen_excluded"):
                notes.append("on held-out cases unseen by both models (seen ones left out)")
    alpha = (result.config.get("check") or {}).get("alpha", 0.05)
    caption = [
        "Δ in points: FR checks, mean spec FR minus the baseline's (they pass when Δ < 0 and "
        f"Holm p < {alpha:g}); guards, the test metric minus M0's",
        *dict.fromkeys(notes),
        "each check in full: harness report RUN_DIR --format md|html|json",
    ]
    title = "Expected-outcome check"
    if not rows:
        return [Noted(title, None, lines=lines)]
    ordered = [cells for _, cells in sorted(rows, key=lambda item: item[0])]  # FR, then guards
    tables = fitted_tables(console, title, columns, ordered, [escape("; ".join(caption), 4_000)])
    tables[-1].lines = lines
    return tables


def signal_table(result: RunResult, console: Console) -> list[Noted]:
    """Spearman between pre-training coverage and the FR drop, one row per defined signal,
    explained below; the undefined ones (constant across specs, or under 3 specs) are named
    once. Nothing when the run has no signals."""
    if not result.signals:
        return []
    defined = [s for s in result.signals if s.get("rho") is not None]
    undefined = [s for s in result.signals if s.get("rho") is None]
    columns = [Column("model", "left", no_wrap=True), Column("signal", "left", no_wrap=True)]
    columns += [Column("specs"), Column("ρ"), Column("p")]
    rows = [
        [
            escape(sig["model"]),
            escape(sig["signal"]),
            str(sig["n_specs"]),
            f"{sig['rho']:+.2f}",
            format_p(sig.get("p")),
        ]
        for sig in defined
    ]
    lines = []
    if undefined:
        names = ", ".join(f"{escape(s['model'])} {escape(s['signal'])}" for s in undefined)
        lines.append(
            f"undefined{'' if defined else ' for every intervention'} ({names}): the signal is "
            "the same for every spec, or fewer than 3 specs have one"
        )
    title, notes = "Pre-training signal", [escape(SIGNAL_NOTE)]
    tables = fitted_tables(console, title, columns, rows, notes) if rows else [Noted(title, None)]
    if not rows:
        tables[-1].notes = notes
    tables[-1].lines = lines
    return tables


def leakage_lines(result: RunResult) -> list[str]:
    """The leakage totals stored with the run, one line each (rich markup escaped)."""
    return [escape(line) for line in leakage_overview(result)]


# --------------------------------------------------------------------------------------------
# Several runs
# --------------------------------------------------------------------------------------------


def leaderboard_table(board: Leaderboard, console: Console) -> list[Noted]:
    """The merged leaderboard: one row per run x model row, ranked by mean spec FR per task.
    Columns whose value is the same in every row (task, model, run) move to a note."""
    columns = {
        "task": [row.task for row in board.rows],
        "model": [row.model for row in board.rows],
        "run": [row.run_id for row in board.rows],
    }
    constant = {name: values[0] for name, values in columns.items() if len(set(values)) == 1}
    varying = [name for name in columns if name not in constant]
    heads = [Column(name, "left", no_wrap=True) for name in [*varying, "row"]]
    heads += [Column(n) for n in ("seeds", "test acc", "macro-F1", "MCC", "mean FR", "worst FR")]
    rows = []
    for row in board.rows:
        flags = (["COLLAPSED"] if row.collapse else []) + list(row.flags)
        rows.append(
            [
                *[escape(getattr(row, "run_id" if name == "run" else name)) for name in varying],
                escape(row.row) + "".join(f"\n[bold red]{escape(flag)}[/]" for flag in flags),
                str(row.n_seeds),
                pct(row.accuracy),
                pct(row.macro_f1),
                "-" if row.mcc is None else f"{row.mcc:.3f}",
                pct(row.mean_fr),
                pct(row.worst_fr),
            ]
        )
    notes = ["rates in %; ranked by mean spec FR within each task"]
    if constant:
        notes.insert(0, "; ".join(f"{name}: {escape(value)}" for name, value in constant.items()))
    return fitted_tables(console, "Leaderboard", heads, rows, notes, lead=len(varying) + 1)


def runs_table(
    results: list[RunResult], check: Callable[[RunResult], str | None], console: Console
) -> list[Noted]:
    """One row per run: id, task, model, seeds, specs, the check status and when it finished."""
    columns = [Column("run", "left", no_wrap=True), Column("task", "left"), Column("model", "left")]
    columns += [Column("seeds"), Column("specs"), Column("check", "left")]
    columns.append(Column("finished", "left", no_wrap=True))
    rows = []
    for result in results:
        status = check(result) or "-"
        rows.append(
            [
                escape(result.run_id),
                escape(result.task.name),
                escape(str(result.config.get("model", "?"))),
                str(len(result.seeds)),
                str(len(result.specs)),
                f"[{CHECK_STYLE.get(status, 'bold')}]{escape(status)}[/]",
                escape(result.timing.finished[:16].replace("T", " ")),
            ]
        )
    notes = ["each run in full: harness report RUN_DIR (or --format md|html -o FILE for all)"]
    return fitted_tables(console, f"Runs ({len(results)})", columns, rows, notes)


# --------------------------------------------------------------------------------------------
# The whole report
# --------------------------------------------------------------------------------------------


def train_sample_line(result: RunResult) -> str | None:
    """One line on the ``train_limit`` sample, if the run trained on one."""
    sample = result.task.train_sample
    if sample is None:
        return None
    counts = ", ".join(f"{escape(label)} {n}" for label, n in sample.label_counts.items())
    return (
        f"train: {sample.kept} of {sample.available} rows ({escape(sample.method)}, seed "
        f"{sample.seed}: {counts})"
    )


def print_result(
    result: RunResult,
    console: Console | None = None,
    ci: bool = False,
    group_by: GroupBy = "label",
) -> None:
    """Print the per-spec table, per-label and per-suite summaries, the models, what each
    intervention added per source and label, seen cases, comparisons, broken specs, the checks,
    the coverage signals and the leakage totals, fitted to ``console``'s width."""
    console = console or Console()
    parts: list[RenderableType | None] = [*spec_tables(result, console, ci=ci, group_by=group_by)]
    if len({s.label for s in result.specs}) > 1:
        parts += label_tables(result, console)
    if result.specs:
        parts += suite_tables(result, console)
    parts += summary_table(result, console)
    sampled = train_sample_line(result)
    collapsed = collapse_lines(result)
    broken = broken_lines(result)
    leakage = leakage_lines(result)
    parts += [
        Noted("Training sample", None, lines=[sampled]) if sampled else None,
        Noted("Collapsed models", None, lines=collapsed) if collapsed else None,
        *drawn_table(result, console),
        *noise_table(result, console),
        *seen_unseen_table(result, console),
        *comparison_table(result, console),
        Noted("Specs broken by an intervention (vs M0)", None, lines=broken) if broken else None,
        *check_table(result, console),
        *signal_table(result, console),
        Noted("Leakage: held-out cases found in train, pool, D_i or test", None, lines=leakage)
        if leakage
        else None,
    ]
    for part in parts:
        if part is not None:
            console.print(part)


__all__ = [
    "BASE",
    "check_table",
    "label_tables",
    "leaderboard_table",
    "print_result",
    "runs_table",
    "signal_table",
    "spec_tables",
    "suite_tables",
    "summary_table",
]
