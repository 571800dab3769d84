"""Rendering a :class:`~harness_plugins.measures.run_difficulty.DifficultyAnalysis`: Markdown,
and console tables (rich)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.display import console_text, percent, shortened

HEADER_SETS = ("set", "n", "mean", "± seeds", "< 0 (%)", "estimate")
HEADER_SPECS = (
    "spec",
    "label",
    "n D_i",
    "D_i",
    "n held-out",
    "held-out",
    "held-out − D_i [95% CI]",
    "verdict",
    "M0 FR %",
)
HEADER_CORR = ("signal", "vs", "specs", "Spearman ρ", "p", "note")


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:+.{digits}f}"


def _plain(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def intro(found: Any) -> list[str]:
    """What was measured, in sentences."""
    seeds = ", ".join(str(s) for s in found.seeds)
    unit = f" in {found.unit}" if found.unit else ""
    args = ", ".join(f"{k}={v}" for k, v in sorted(found.measure_args.items()))
    lines = [
        f"Measure `{found.measure}`{unit}{f' ({args})' if args else ''} under model "
        f"`{found.model}` (M0's family), seeds {seeds}; higher = easier. Each spec case is "
        "scored against its spec's label.",
    ]
    if found.measure == "pvi":
        lines.append(
            "PVI(x → y) = log2 g'(y|x) − log2 g(y|∅): g' trained on the train split's texts "
            "(M0), g on the empty input; a set's mean PVI is its V-usable information."
        )
    return lines


def set_cells(row: Any) -> list[str]:
    """One row of the data-set table."""
    return [
        row.name,
        str(row.n),
        _number(row.mean),
        _plain(row.std_over_seeds),
        percent(row.share_negative, missing="-"),
        row.estimate,
    ]


def spec_cells(row: Any) -> list[str]:
    """One row of the spec table."""
    ci = ""
    if row.heldout_minus_train is not None:
        ci = f"{row.heldout_minus_train:+.3f} [{row.ci_low:+.3f}, {row.ci_high:+.3f}]"
    return [
        row.spec,
        row.label,
        str(row.n_train_cases),
        _number(row.mean_train_cases),
        str(row.n_heldout),
        _number(row.mean_heldout),
        ci or "-",
        row.verdict or "-",
        percent(row.fr_m0, missing="-"),
    ]


def correlation_cells(row: Any) -> list[str]:
    """One row of the correlation table."""
    signal = {"mean_train_cases": "mean over D_i", "mean_heldout": "mean over D_i_heldout"}
    return [
        signal.get(row.x, row.x),
        "M0 held-out FR",
        str(row.n_specs),
        _number(row.rho),
        "-" if row.p is None else f"{row.p:.3g}",
        row.note,
    ]


def hardest_first(found: Any) -> list[Any]:
    """Specs by their held-out mean, hardest first (specs without one last)."""
    return sorted(
        found.specs,
        key=lambda r: (r.mean_heldout is None, r.mean_heldout if r.mean_heldout is not None else 0),
    )


def _md_table(header: Sequence[str], rows: list[list[str]]) -> list[str]:
    def cell(text: str) -> str:
        return shortened(text).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def markdown(found: Any) -> str:
    """The analysis as a Markdown document."""
    lines = [f"# Dataset difficulty — run {found.run_id}", ""]
    for line in intro(found):
        lines += [line, ""]
    lines += ["## Data sets", ""]
    lines += _md_table(HEADER_SETS, [set_cells(r) for r in found.sets])
    lines += [
        "",
        "mean: the measure's mean over the set's cases (mean over seeds); ± seeds: its "
        "standard deviation over seeds; < 0: the share of cases scoring below 0 (for PVI: the "
        "text makes the label *less* likely than its base rate).",
        "",
        "## Specs, hardest held-out set first",
        "",
    ]
    lines += _md_table(HEADER_SPECS, [spec_cells(r) for r in hardest_first(found)])
    lines += [
        "",
        "held-out − D_i: the held-out mean minus the D_i mean, with a 95% bootstrap interval "
        "resampling templates; verdict: *easier* / *harder* when the interval excludes 0.",
        "",
        "## Does it predict failure?",
        "",
    ]
    lines += _md_table(HEADER_CORR, [correlation_cells(r) for r in found.correlations])
    if found.notes:
        lines += ["", *(f"- {note}" for note in found.notes)]
    return "\n".join(lines) + "\n"


CONSOLE_SPECS = ("spec", "D_i", "held-out", "Δ", "95% CI", "", "M0 FR %")
CONSOLE_CORR = ("M0 held-out FR vs", "specs", "Spearman ρ", "p")
SHORT_VERDICT = {"held-out easier": "easier", "held-out harder": "harder"}


def console_spec_cells(row: Any) -> list[str]:
    """One row of the console's spec table (narrower than the Markdown one: case counts and
    labels are in the Markdown and JSON output)."""
    ci = "-"
    if row.ci_low is not None and row.ci_high is not None:
        ci = f"[{row.ci_low:+.2f}, {row.ci_high:+.2f}]"
    return [
        row.spec,
        _number(row.mean_train_cases, 2),
        _number(row.mean_heldout, 2),
        _number(row.heldout_minus_train, 2),
        ci,
        SHORT_VERDICT.get(row.verdict or "", ""),
        percent(row.fr_m0, missing="-"),
    ]


def _rich_table(title: str, header: Sequence[str], rows: list[list[str]], left: int = 1) -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=None, header_style="bold", pad_edge=False)
    for i, name in enumerate(header):
        table.add_column(
            name, justify="left" if i < left else "right", overflow="fold", no_wrap=i >= left
        )
    for row in rows:
        table.add_row(*(console_text(c) for c in row))
    return table


def _render(found: Any, console: Any) -> None:
    for line in intro(found):
        console.print(console_text(line), highlight=False)
    sets = [set_cells(r) for r in found.sets]
    console.print(
        _rich_table("Data sets (mean over cases)", HEADER_SETS[:5], [r[:5] for r in sets])
    )
    estimates = dict.fromkeys(r[5] for r in sets)
    console.print(console_text("estimate: " + "; ".join(estimates)), highlight=False)
    console.print(
        _rich_table(
            "Specs, hardest held-out set first",
            CONSOLE_SPECS,
            [console_spec_cells(r) for r in hardest_first(found)],
        )
    )
    console.print(
        console_text(
            "Δ: held-out mean minus D_i mean, 95% bootstrap interval over templates; "
            "easier / harder: the interval excludes 0"
        ),
        highlight=False,
    )
    console.print(
        _rich_table(
            "Does it predict failure?",
            CONSOLE_CORR,
            [correlation_cells(r)[:1] + correlation_cells(r)[2:5] for r in found.correlations],
        )
    )
    for row in found.correlations:
        name = correlation_cells(row)[0]
        console.print(console_text(f"  {name}: {row.note}"), highlight=False)
    for note in found.notes:
        console.print(console_text(f"  note: {note}"), highlight=False)


def print_console(found: Any) -> None:
    """Print the analysis as console tables."""
    from rich.console import Console

    _render(found, Console())


def plain_text(found: Any, width: int = 120) -> str:
    """The console tables as plain text (``-o FILE`` with ``--format console``)."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    _render(found, Console(file=buffer, width=width, color_system=None, force_terminal=False))
    return buffer.getvalue()
