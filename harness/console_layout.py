"""Fitting report tables to the terminal: 80 to 160 columns, without cutting a name.

Tables with one column per model (the per-spec, per-label and per-suite tables) are laid out
in the first of these ways that fits the console's width (measured, not guessed):

1. model ids as column headers, each cell on one line;
2. short keys (``1``, ``2``, ...; M0 stays ``M0``) as headers, with a legend under the table;
3. keys, each cell stacked (the FR, then its change against M0, on the next line);
4. as 3, with the models split over several tables (M0 in each).

Row names (spec ids) are never cut: an id longer than :func:`row_name_limit` is shortened with
a key (``[s3]``) and given in full under the table. Every text from users is escaped before it
reaches rich (:func:`harness.display.console_text`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from harness.display import console_text as escape

BASE = "M0"


def report_table() -> Table:
    """A table in the reports' style: a rule under the header and no vertical borders (fewer
    columns of chrome, readable when piped). Titles and notes go around it in a
    :class:`Noted`, so that they use the console's whole width rather than the table's."""
    return Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )


@dataclass
class Noted:
    """A report table with its title above and its notes below, each wrapped to the console's
    width (rich markup; escape user text first)."""

    title: str
    table: Table | None
    notes: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    """Lines after the notes, indented and not dimmed (warnings, say)."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """Title, table, notes, lines."""
        yield Text.from_markup(self.title, style="bold")
        if self.table is not None:
            yield self.table
        for note in self.notes:
            yield Text.from_markup(note, style="dim")
        for line in self.lines:
            yield Padding(Text.from_markup(line), (0, 0, 0, 2), expand=False)


def fits(console: Console, table: Table) -> bool:
    """Whether ``table`` renders within ``console``'s width without wrapping a cell."""
    wide = console.options.update(width=1_000_000)  # measure unclamped by the console's width
    return console.measure(table, options=wide).maximum <= console.width


@dataclass(frozen=True)
class ModelLayout:
    """How a table shows its model columns: headers (model id or key), one line or stacked
    cells, and which models each of the tables holds (M0 is in every one)."""

    headers: dict[str, str]
    stacked: bool
    chunks: list[list[str]]

    @property
    def keyed(self) -> bool:
        """Whether some header is a key rather than the model id."""
        return any(self.headers[m] != m for m in self.headers)


def model_keys(models: Sequence[str]) -> dict[str, str]:
    """Short headers: ``M0`` stays, every other model gets its position (``1``, ``2``, ...)."""
    keys, n = {}, 0
    for model in models:
        if model == BASE:
            keys[model] = BASE
        else:
            n += 1
            keys[model] = str(n)
    return keys


def legend(headers: dict[str, str]) -> str:
    """The legend line of keyed headers: ``1 retrain-random · 2 retrain-tfidf ...`` (rich
    markup, ids escaped)."""
    return "models: " + " · ".join(
        f"[bold]{escape(key)}[/] {escape(model)}" for model, key in headers.items() if key != model
    )


def choose_layout(
    console: Console,
    models: Sequence[str],
    build: Callable[[ModelLayout, list[str]], Table],
) -> ModelLayout:
    """The first layout (see the module docstring) whose tables all fit ``console``.
    ``build(layout, chunk)`` makes the table for the models of one chunk."""
    models = list(models)
    others = [m for m in models if m != BASE]
    names = {m: m for m in models}
    keys = model_keys(models)
    for headers, stacked in ((names, False), (keys, False), (keys, True)):
        layout = ModelLayout(headers, stacked, [models])
        if fits(console, build(layout, models)):
            return layout
    base = [BASE] if BASE in models else []
    for count in range(2, len(others) + 1):
        chunks = [base + part for part in even_split(others, count)]
        layout = ModelLayout(keys, True, chunks)
        if all(fits(console, build(layout, chunk)) for chunk in chunks):
            return layout
    return ModelLayout(keys, True, [base + [m] for m in others] or [base])


def even_split(items: list[str], count: int) -> list[list[str]]:
    """``items`` in ``count`` consecutive parts whose sizes differ by at most one."""
    size, extra = divmod(len(items), count)
    parts, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        parts.append(items[start:end])
        start = end
    return parts


def row_name_limit(console: Console) -> int:
    """The longest row name (spec id) shown whole in a table at this width."""
    return max(24, min(48, int(console.width * 0.4)))


@dataclass
class RowNames:
    """Row names as a table shows them: whole when short enough, else cut and keyed
    (``[s1]``), the full names listed under the table."""

    limit: int
    long: dict[str, str] = field(default_factory=dict)

    def shown(self, name: str) -> str:
        """``name`` (rich markup) as the row shows it."""
        if len(name) <= self.limit:
            return escape(name)
        key = self.long.setdefault(name, f"s{len(self.long) + 1}")
        keep = max(4, self.limit - len(key) - 3)
        return f"{escape(name[:keep])}… [dim]\\[{key}][/]"

    def notes(self) -> list[str]:
        """One line per keyed name: ``[s1] the-full-name`` (rich markup)."""
        return [f"[dim]\\[{key}][/] {escape(name)}" for name, key in self.long.items()]


@dataclass(frozen=True)
class Column:
    """A column of :func:`fitted_tables`: header, justification, and whether it may wrap."""

    header: str
    justify: str = "right"
    no_wrap: bool = False


def longest_word(texts: Sequence[str]) -> int:
    """The width of the longest word (text between spaces or newlines) in ``texts`` (rich
    markup): the narrowest a column can be without cutting a word."""
    widths = [
        cell_len(word) for text in texts for word in Text.from_markup(text).plain.split() if word
    ]
    return max(widths, default=1)


def longest_line(texts: Sequence[str]) -> int:
    """The width of the longest line in ``texts`` (rich markup): a column's natural width."""
    widths = [cell_len(line) for text in texts for line in Text.from_markup(text).plain.split("\n")]
    return max(widths, default=1)


SECTION = "\0section"
"""A row whose first cell is this starts a new section (a rule between groups of rows)."""


def _table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    keep: Sequence[int],
    width: int | None = None,
) -> Table:
    """The table of the columns ``keep``; with ``width``, each column's width is set so that
    the table fills at most ``width`` cells: every column at least its longest word, the space
    left shared out in proportion to what each column's longest line still needs."""
    cells = {
        i: [columns[i].header] + [row[i] for row in rows if row and row[0] != SECTION] for i in keep
    }
    low = {i: _least(columns[i], cells[i]) for i in keep}
    high = {i: max(low[i], longest_line(cells[i])) for i in keep}
    chrome = 2 * (len(keep) - 1)  # a space of padding and one of divider between columns
    widths: dict[int, int | None] = dict.fromkeys(keep)
    if width is not None and sum(high.values()) + chrome > width:
        spare = max(0, width - chrome - sum(low.values()))
        wanted = {i: high[i] - low[i] for i in keep}
        total = sum(wanted.values()) or 1
        widths = {i: low[i] + spare * wanted[i] // total for i in keep}
    table = report_table()
    for index in keep:
        column = columns[index]
        table.add_column(
            column.header,
            justify=column.justify,  # type: ignore[arg-type]
            no_wrap=column.no_wrap,
            min_width=low[index],
            width=widths[index],
        )
    for row in rows:
        if row and row[0] == SECTION:
            table.add_section()
            continue
        table.add_row(*[row[i] for i in keep])
    return table


def _least(column: Column, texts: Sequence[str]) -> int:
    """The narrowest ``column`` can be: its longest line when it may not wrap, else its longest
    word."""
    return longest_line(texts) if column.no_wrap else longest_word(texts)


def _narrowest(columns: Sequence[Column], rows: Sequence[Sequence[str]], keep: list[int]) -> int:
    """The fewest cells the columns ``keep`` need (every column at its :func:`_least`)."""
    return sum(
        _least(columns[i], [columns[i].header] + [r[i] for r in rows if r and r[0] != SECTION])
        for i in keep
    ) + 2 * (len(keep) - 1)


def fitted_tables(
    console: Console,
    title: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    notes: Sequence[str] = (),
    lead: int = 1,
) -> list[Noted]:
    """``rows`` as one table when it fits ``console`` (cells wrapped at spaces if need be, no
    word cut), else as several, each repeating the first ``lead`` columns (the row names) with
    as many of the others as fit. ``notes`` follow the last table."""
    heads = list(range(lead))
    groups: list[list[int]] = []
    current: list[int] = []
    for index in range(lead, len(columns)):
        if current and _narrowest(columns, rows, heads + current + [index]) > console.width:
            groups.append(current)
            current = [index]
        else:
            current.append(index)
    groups.append(current)
    out = []
    for number, group in enumerate(groups, start=1):
        part = f" ({number} of {len(groups)})" if len(groups) > 1 else ""
        table = _table(columns, rows, heads + group, console.width)
        out.append(Noted(title + part, table, list(notes) if number == len(groups) else []))
    return out
