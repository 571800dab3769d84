"""Rich console tables printed after a run."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from harness.results import ModelResult, RunResult


def _fr(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _models(result: RunResult) -> list[ModelResult]:
    return [m for m in result.models if m.aggregate.mean_fr is not None or m.id == "M0"]


def spec_table(result: RunResult) -> Table:
    """One row per spec: id, label, n held-out cases, FR (%) per model; best per row in bold."""
    models = _models(result)
    table = Table(
        title=f"Held-out spec failure rate (%) — run {result.run_id}", title_justify="left"
    )
    table.add_column("spec")
    table.add_column("label")
    table.add_column("n", justify="right")
    for model in models:
        table.add_column(model.id, justify="right")
    for spec in result.specs:
        values = [m.aggregate.heldout_fr.get(spec.id) for m in models]
        present = [v for v in values if v is not None]
        best = min(present) if present else None
        cells = []
        for value in values:
            text = _fr(value)
            cells.append(
                f"[bold green]{text}*[/]"
                if value is not None and value == best and len(present) > 1
                else text
            )
        table.add_row(spec.id, spec.label, str(spec.n_heldout_cases), *cells)
    table.caption = "* best model for the spec (lowest failure rate); mean over seeds"
    return table


def summary_table(result: RunResult) -> Table:
    """One row per model: test accuracy, macro-F1, mean and worst spec FR."""
    table = Table(title="Models", title_justify="left")
    for name in ("model", "test acc", "macro-F1", "mean spec FR", "worst spec FR", "note"):
        table.add_column(name, justify="left" if name in ("model", "note") else "right")
    for model in result.models:
        agg = model.aggregate
        table.add_row(
            model.id,
            _fr(agg.accuracy),
            _fr(agg.macro_f1),
            _fr(agg.mean_fr),
            _fr(agg.worst_fr),
            model.skipped or "",
        )
    return table


def print_result(result: RunResult, console: Console | None = None) -> None:
    """Print the per-spec table and the model summary."""
    console = console or Console()
    console.print(spec_table(result))
    console.print(summary_table(result))
