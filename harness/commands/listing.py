"""``harness list`` and ``harness plugins``."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from harness.plugins import REGISTER_HOOKS, load_registries, plugin_infos

KINDS = ("tasks", "specs", "models", "selectors", "interventions", "reporters")


@click.command("list")
@click.argument("kind", required=False, type=click.Choice(KINDS))
def list_command(kind: str | None) -> None:
    """List registered tasks, spec suites, models, selectors, interventions and reporters,
    with the plugin that registered each."""
    from harness.spec_loading import shipped_suites

    registries = load_registries()
    console = Console()
    kinds = [kind] if kind else list(KINDS)
    for name in kinds:
        table = Table(title=name, title_justify="left")
        table.add_column("name")
        table.add_column("plugin")
        table.add_column("description")
        if name == "specs":
            for suite, (source, description) in sorted(
                shipped_suites(registries.spec_sources).items()
            ):
                plugin = registries.spec_sources.entry(source).plugin
                table.add_row(suite, plugin, description)
            for entry in registries.spec_sources:
                table.add_row(f"{entry.name}:PATH", entry.plugin, entry.description or "(source)")
        else:
            registry = registries.by_kind()[name if name in REGISTER_HOOKS else name]
            names = {e.name: 0 for e in registry}
            for entry in registry:
                names[entry.name] += 1
            for entry in registry:
                shown = entry.qualified_name if names[entry.name] > 1 else entry.name
                table.add_row(shown, entry.plugin, entry.description)
        console.print(table)


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins_command(as_json: bool) -> None:
    """List installed plugins: name, distribution, version and hooks."""
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
        table.add_row(info.name, info.distribution, info.version, ", ".join(info.hooks))
    Console().print(table)


def register(group: click.Group) -> None:
    """Add ``list`` and ``plugins`` to ``group``."""
    group.add_command(list_command)
    group.add_command(plugins_command)
