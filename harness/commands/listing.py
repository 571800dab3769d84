"""``harness list`` and ``harness plugins``."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from harness.display import console_text
from harness.kinds import KINDS as ITEM_KINDS
from harness.plugins import Registries, load_registries, plugin_infos, plugin_origin
from harness.registry import Entry

KINDS = tuple(kind.listing for kind in ITEM_KINDS)
"""The kinds ``harness list`` shows (from :data:`harness.kinds.KINDS`)."""


def list_rows(registries: Registries, kind: str) -> list[dict[str, str]]:
    """Rows of ``harness list KIND``: name (qualified when two plugins share it), plugin, origin
    (``built-in`` or the distribution and version) and description."""
    if kind == "specs":
        sources = registries.spec_sources
        shipped = [
            (suite, description, entry)
            for entry in sources
            for suite, description in entry.item.suites().items()
        ]
        counts = Counter(suite for suite, _, _ in shipped)
        rows = [
            _row(suite if counts[suite] == 1 else f"{entry.plugin}/{suite}", entry, description)
            for suite, description, entry in sorted(shipped, key=lambda s: (s[0], s[2].plugin))
        ]
        for entry in sources:
            name = entry.name if sources.find(entry.name) else entry.qualified_name
            rows.append(_row(f"{name}:PATH", entry, entry.description or "(source)"))
        return rows
    (registry,) = [registries.by_kind()[item.name] for item in ITEM_KINDS if item.listing == kind]
    return [
        _row(entry.name if registry.find(entry.name) else entry.qualified_name, entry)
        for entry in registry
    ]


def _row(name: str, entry: Entry[Any], description: str | None = None) -> dict[str, str]:
    return {
        "name": name,
        "plugin": entry.plugin,
        "origin": plugin_origin(entry.plugin),
        "description": entry.description if description is None else description,
    }


@click.command("list")
@click.argument("kind", required=False, type=click.Choice(KINDS))
@click.option("--json", "as_json", is_flag=True, help="Print JSON ({kind: [rows]}) instead.")
def list_command(kind: str | None, as_json: bool) -> None:
    """List registered tasks, spec suites, models, selectors, interventions and reporters,
    with the plugin that registered each and where it comes from.

    A name registered by two plugins is shown qualified (PLUGIN/NAME); use that form with
    `harness run --task/--specs/--model`.
    """
    registries = load_registries()
    kinds = [kind] if kind else list(KINDS)
    every = {name: list_rows(registries, name) for name in kinds}
    if as_json:
        click.echo(json.dumps(every, indent=2))
        return
    console = Console()
    for name, rows in every.items():
        table = Table(title=name, title_justify="left")
        table.add_column("name", overflow="fold")
        table.add_column("plugin", overflow="fold")
        table.add_column("origin", overflow="fold")
        table.add_column("description")
        for row in rows:
            table.add_row(
                *(console_text(row[k]) for k in ("name", "plugin", "origin", "description"))
            )
        console.print(table)


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--docs", is_flag=True, help="Print the hook reference (Markdown) and exit.")
def plugins_command(as_json: bool, docs: bool) -> None:
    """List installed plugins: name, distribution, version and hooks.

    Environment: HARNESS_DISABLE_PLUGINS=a,b skips plugins, HARNESS_LOAD_PLUGINS=a,b loads only
    those installed plugins, HARNESS_TRACE_PLUGINS=1 prints every hook call.
    """
    if docs:
        from harness.plugin_docs import render_reference

        click.echo(render_reference())
        return
    infos = plugin_infos()
    if as_json:
        rows = [
            {"name": i.name, "distribution": i.distribution, "version": i.version, "hooks": i.hooks}
            for i in infos
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="plugins", title_justify="left")
    for col in ("name", "distribution", "version", "hooks"):
        table.add_column(col)
    for info in infos:
        table.add_row(
            *map(console_text, (info.name, info.distribution, info.version, ", ".join(info.hooks)))
        )
    Console().print(table)


def register(group: click.Group) -> None:
    """Add ``list`` and ``plugins`` to ``group``."""
    group.add_command(list_command)
    group.add_command(plugins_command)
