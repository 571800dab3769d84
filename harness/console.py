"""Rich console report printed after a run and by ``harness report`` (no ``--format``).

Every text that comes from specs, data or configs goes through ``escape``
(:func:`harness.display.console_text`): capped, terminal control characters escaped, rich
markup escaped.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from harness.api import DI_SOURCE
from harness.collapse import COLLAPSE_NOTE
from harness.display import console_text as escape
from harness.leaderboard import Leaderboard
from harness.report_views import (
    SEEN_NOTE,
    SUITE_NOTE,
    WALL_TIME_NOTE,
    GroupBy,
    any_loaded,
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
    model_note,
    pooled_interval,
    seen_unseen_rows,
    shown_models,
    suite_rows,
    vs_m0,
    wall_time,
)
from harness.results import ModelResult, RunResult
from harness.stats import format_p

STATUS_STYLE = {"fixed": "green", "broken": "bold red", "unchanged": "dim"}
CHECK_STYLE = {
    "PASS": "bold green",
    "FAIL": "bold red",
    "SKIP": "yellow",
    "WARN": "bold yellow",
    "INFO": "cyan",
}


def pct(value: float | None, digits: int = 1) -> str:
    """A rate as a percentage without the sign (``-`` for missing)."""
    return "-" if value is None else f"{100 * value:.{digits}f}"


def points(value: float | None, digits: int = 1) -> str:
    """A difference of rates in signed percentage points (``-`` for missing)."""
    return "-" if value is None else f"{100 * value:+.{digits}f}"


def _ci(model: ModelResult, spec_id: str) -> str:
    interval = pooled_interval(model, spec_id)
    return "" if interval is None else f" [{pct(interval[0], 0)}–{pct(interval[1], 0)}]"


def spec_table(result: RunResult, ci: bool = False, group_by: GroupBy = "label") -> Table:
    """One row per spec, grouped; FR (%) of every model; each intervention's change against M0
    coloured: green fixed, red broken (exact McNemar, Holm), dim unchanged."""
    models = shown_models(result)
    comps = vs_m0(result)
    table = Table(
        title=f"Held-out spec failure rate (%) — run {escape(result.run_id)}",
        title_justify="left",
    )
    table.add_column("spec")
    table.add_column("n", justify="right")
    for model in models:
        table.add_column(
            escape(model.id) + (" (Δ vs M0)" if model.id in comps else ""), justify="right"
        )
    for group, specs in group_specs(result, group_by):
        table.add_row(f"[bold]{escape(group_by)}: {escape(group)}[/]", "", *["" for _ in models])
        for spec in specs:
            cells = []
            for model in models:
                value = model.aggregate.heldout_fr.get(spec.id)
                text = pct(value) + (_ci(model, spec.id) if ci and value is not None else "")
                item = comps.get(model.id, {}).get("specs", {}).get(spec.id)
                if item is not None:
                    text += f" ({points(item.get('delta'))})"
                    style = STATUS_STYLE.get(item.get("status") or "", "")
                    if style:
                        text = f"[{style}]{text}[/]"
                cells.append(text)
            table.add_row("  " + escape(spec.id), str(spec.n_heldout_cases), *cells)
        table.add_section()
    seeds = len(result.seeds)
    table.caption = (
        f"mean over {seeds} seed{'s' if seeds != 1 else ''}; "
        + ("[…]: Wilson 95% interval, pooled over seeds; " if ci else "--ci adds intervals; ")
        + "[green]fixed[/] / [bold red]broken[/] = FR change vs M0 significant "
        "(exact McNemar, Holm across specs), [dim]dim = unchanged[/]"
    )
    return table


def label_table(result: RunResult) -> Table:
    """Mean held-out FR (%) per spec label and model."""
    models = shown_models(result)
    table = Table(title="Per label: mean held-out spec FR (%)", title_justify="left")
    table.add_column("label")
    table.add_column("specs", justify="right")
    for model in models:
        table.add_column(escape(model.id), justify="right")
    for row in label_summary(result):
        table.add_row(
            escape(row["label"]), str(row["n_specs"]), *[pct(row["fr"].get(m.id)) for m in models]
        )
    return table


def suite_table(result: RunResult) -> Table:
    """Per suite and per label within it: each model's held-out FR (%), case-weighted and
    spec-mean (means over seeds); with two or more suites a row for all specs."""
    models = shown_models(result)
    table = Table(
        title="Per suite: held-out FR (%), case-weighted / spec-mean", title_justify="left"
    )
    table.add_column("suite")
    table.add_column("specs", justify="right")
    table.add_column("cases", justify="right")
    for model in models:
        table.add_column(escape(model.id), justify="right")
    for row in suite_rows(result):
        if row.kind == "all":
            table.add_section()
        name = (
            f"  label: {escape(row.label or '')}"
            if row.kind == "label"
            else f"[bold]{escape(row.suite or '(no suite)')}[/]"
        )
        cells = [
            f"{pct(row.fr[m.id][0])} / {pct(row.fr[m.id][1])}" if m.id in row.fr else "-"
            for m in models
        ]
        table.add_row(name, str(row.n_specs), str(row.n_cases), *cells)
    seeds = len(result.seeds)
    table.caption = f"mean over {seeds} seed{'s' if seeds != 1 else ''}; {escape(SUITE_NOTE)}"
    return table


def summary_table(result: RunResult) -> Table:
    """One row per model: test metrics, mean/worst spec FR, D_i vs D_i_heldout, wall time."""
    table = Table(title="Models", title_justify="left")
    heads = (
        "model",
        "test acc",
        "macro-F1",
        "MCC",
        "mean spec FR",
        "worst spec FR",
        "FR D_i",
        "FR D_i_heldout",
        "gap",
        "wall s",
        "note",
    )
    for name in heads:
        table.add_column(name, justify="left" if name in ("model", "note") else "right")
    multi = len(result.seeds) > 1
    for model in result.models:
        agg = model.aggregate
        worst = max(agg.heldout_fr.items(), key=lambda kv: kv[1]) if agg.heldout_fr else None
        gap = (
            agg.mean_fr - agg.mean_train_fr
            if agg.mean_fr is not None and agg.mean_train_fr is not None
            else None
        )
        table.add_row(
            escape(model.id),
            pct(agg.accuracy)
            + (f" ±{pct(agg.accuracy_std)}" if multi and agg.accuracy_std else ""),
            pct(agg.macro_f1),
            "-" if agg.mcc is None else f"{agg.mcc:.3f}",
            pct(agg.mean_fr) + (f" ±{pct(agg.mean_fr_std)}" if multi and agg.mean_fr_std else ""),
            f"{pct(worst[1])} ({escape(worst[0])})" if worst else "-",
            pct(agg.mean_train_fr),
            pct(agg.mean_fr),
            points(gap),
            wall_time(result, model.id),
            _note(result, model),
        )
    table.caption = "rates in %; gap = FR on D_i_heldout minus FR on D_i (generalisation gap)"
    if any_loaded(result):
        table.caption += "; " + WALL_TIME_NOTE
    return table


def collapse_lines(result: RunResult) -> list[str]:
    """One line per collapsed model row, then the explanation (empty when none collapsed)."""
    found = collapsed_models(result)
    if not found:
        return []
    lines = [f"[bold red]{escape(model)} COLLAPSED[/] {escape(text)}" for model, text in found]
    return lines + [f"[dim]{escape(COLLAPSE_NOTE)}[/]"]


def _note(result: RunResult, model: ModelResult) -> str:
    note = escape(model_note(result, model))
    flagged = model.id in guard_flags(result) or collapse_mark(model)
    return f"[bold red]{note}[/]" if flagged else note


def comparison_table(result: RunResult) -> Table | None:
    """Paired comparisons: Δ test accuracy, Δ mean FR with its bootstrap interval, specs fixed
    and broken."""
    comps = [c for c in result.comparisons if "specs" in c]
    if not comps:
        return None
    table = Table(title="Comparisons (A vs B, same cases and seeds)", title_justify="left")
    for name in ("A", "B", "seeds", "Δ test acc", "Δ mean FR", "95% CI", "p", "fixed", "broken"):
        table.add_column(name, justify="left" if name in ("A", "B") else "right")
    for comp in comps:
        boot = comp.get("bootstrap") or {}
        multi = len(comp["seeds"]) > 1
        acc_std = comp.get("test_accuracy_delta_std")
        fr_std = comp.get("mean_fr_delta_std")
        table.add_row(
            escape(comp["a"]),
            escape(comp["b"]),
            str(len(comp["seeds"])),
            points(comp.get("test_accuracy_delta"))
            + (f" ±{pct(acc_std)}" if multi and acc_std is not None else ""),
            points(comp.get("mean_fr_delta"))
            + (f" ±{pct(fr_std)}" if multi and fr_std is not None else ""),
            f"[{points(boot['ci_low'])}, {points(boot['ci_high'])}]" if boot else "-",
            format_p(boot["p"]) if boot else "-",
            str(comp.get("n_fixed", "-")),
            str(comp.get("n_broken", "-")),
        )
    table.caption = "points; negative Δ FR = A fails less. " + escape(
        " | ".join(comparison_methods(result))
    )
    return table


def drawn_table(result: RunResult) -> Table | None:
    """Examples each intervention added to training, per source and label (means over seeds);
    ``None`` when no intervention records them."""
    rows = drawn_counts(result)
    if not rows:
        return None
    labels = list(result.task.label_names)
    table = Table(title="Added to train, per source and label", title_justify="left")
    table.add_column("model")
    table.add_column("source")
    table.add_column("added", justify="right")
    for label in labels:
        table.add_column(escape(label), justify="right")
    previous = None
    for row in rows:
        if previous is not None and row.model != previous:
            table.add_section()
        table.add_row(
            escape(row.model) if row.model != previous else "",
            escape(row.source),
            count_text(row.n),
            *[count_text(row.labels[label]) for label in labels],
        )
        previous = row.model
    seeds = len(result.seeds)
    sizes = ", ".join(f"{escape(k)} {v}" for k, v in result.task.pool_sources.items())
    notes = [f"mean over {seeds} seeds" if seeds > 1 else ""]
    notes.append(f"pool sources: {sizes}" if sizes else f"pool: {result.task.n_pool} examples")
    if any(row.source == DI_SOURCE for row in rows):
        notes.append(f"{DI_SOURCE}: the specs' own train-side cases")
    table.caption = "; ".join(note for note in notes if note)
    return table


def check_lines(result: RunResult) -> list[str]:
    """The expected-outcome check as plain PASS/FAIL lines (rich markup)."""
    lines = []
    for check in result.checks:
        status = str(check.get("status", "?"))
        style = CHECK_STYLE.get(status, "bold")
        lines.append(f"[{style}]{escape(status)}[/] {escape(str(check.get('detail', '')))}")
    return lines


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
            lines.append(f"[bold red]{escape(model_id)} BROKE[/] {items}")
        if found["worse"]:
            items = ", ".join(
                f"{escape(e['spec'])} ({pct(e['fr_b'])}% → {pct(e['fr_a'])}%)"
                for e in found["worse"]
            )
            lines.append(f"[yellow]{escape(model_id)} worse, not significant:[/] {items}")
    return lines


def signal_lines(result: RunResult) -> list[str]:
    """Spearman between pre-training coverage and the FR drop, one line per signal."""
    lines = []
    for sig in result.signals:
        rho = sig.get("rho")
        text = (
            "undefined (constant or < 3 specs)"
            if rho is None
            else f"rho={rho:+.2f} (p={format_p(sig.get('p'))})"
        )
        lines.append(
            f"{escape(sig['model'])}: Spearman({escape(sig['signal'])}, FR drop vs M0) over "
            f"{sig['n_specs']} specs: {text}"
        )
    return lines


def seen_unseen_table(result: RunResult) -> Table | None:
    """Per model: held-out cases it trained on, FR on them and mean spec FR on the rest (only
    when some model saw a held-out case)."""
    rows = seen_unseen_rows(result)
    if not rows:
        return None
    table = Table(title="Seen / unseen held-out cases", title_justify="left")
    for name in ("model", "seen cases / seed", "FR seen", "unseen FR", "mean FR (all)"):
        table.add_column(name, justify="left" if name == "model" else "right")
    for row in rows:
        table.add_row(
            escape(row["model"]),
            f"{row['per_seed']:g}",
            pct(row["seen_fr"]),
            pct(row["unseen_fr"]),
            pct(row["mean_fr"]),
        )
    table.caption = "rates in %; " + SEEN_NOTE
    return table


def leakage_lines(result: RunResult) -> list[str]:
    """The leakage totals stored with the run, one line each (rich markup escaped)."""
    return [escape(line) for line in leakage_overview(result)]


def leaderboard_table(board: Leaderboard) -> Table:
    """The merged leaderboard: one row per run x model row, ranked by mean spec FR per task."""
    table = Table(title="Leaderboard", title_justify="left")
    for name in (
        "task",
        "model",
        "row",
        "run",
        "test acc",
        "macro-F1",
        "MCC",
        "mean FR",
        "worst FR",
    ):
        table.add_column(
            name, justify="left" if name in ("task", "model", "row", "run") else "right"
        )
    for row in board.rows:
        table.add_row(
            escape(row.task),
            escape(row.model),
            escape(row.row)
            + (" [bold red]COLLAPSED[/]" if row.collapse else "")
            + "".join(f"\n[bold red]{escape(f)}[/]" for f in row.flags),
            escape(row.run_id),
            pct(row.accuracy),
            pct(row.macro_f1),
            "-" if row.mcc is None else f"{row.mcc:.3f}",
            pct(row.mean_fr),
            pct(row.worst_fr),
        )
    return table


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
    """Print the per-spec table, per-label summary, model summary, what each intervention added
    per source and label, comparisons, broken specs, the expected-outcome check and the
    coverage signals."""
    console = console or Console()
    console.print(spec_table(result, ci=ci, group_by=group_by))
    if len({s.label for s in result.specs}) > 1:
        console.print(label_table(result))
    if result.specs:
        console.print(suite_table(result))
    console.print(summary_table(result))
    sampled = train_sample_line(result)
    if sampled:
        console.print(sampled, highlight=False)
    collapsed = collapse_lines(result)
    if collapsed:
        console.print("[bold]Collapsed models[/]")
        for line in collapsed:
            console.print("  " + line)
    drawn = drawn_table(result)
    if drawn is not None:
        console.print(drawn)
    seen = seen_unseen_table(result)
    if seen is not None:
        console.print(seen)
    comps = comparison_table(result)
    if comps is not None:
        console.print(comps)
    sections: list[tuple[str, list[str]]] = [
        ("Specs broken by an intervention (vs M0)", broken_lines(result)),
        ("Expected-outcome check", check_lines(result)),
        ("Pre-training signal", signal_lines(result)),
        ("Leakage: held-out cases found in train, pool, D_i or test", leakage_lines(result)),
    ]
    for title, lines in sections:
        if lines:
            console.print(f"[bold]{title}[/]")
            for line in lines:
                console.print("  " + line)
