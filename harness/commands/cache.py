"""``harness cache ls``, ``harness cache verify`` and ``harness cache clear``: inspect, check
or empty the cache (see :mod:`harness.cache_inventory` for the states an item can be in)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from harness.cache_inventory import Inventory, Item


def human_size(size: float) -> str:
    """``1536`` -> ``1.5 KiB``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def human_age(seconds: float) -> str:
    """``7300`` -> ``2.0 h``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


def _cache_dir(value: str | None) -> Path:
    from harness.cache import default_cache_dir

    return Path(value).expanduser() if value else default_cache_dir()


def _created(item: Item) -> str:
    created = item.info.get("created")
    if created:
        return str(created)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - item.age_seconds))


def model_rows(inventory: Inventory) -> list[dict[str, Any]]:
    """One row per model entry (finished or legacy, newest first) with its prediction sets."""
    predictions: dict[str, list[Item]] = {}
    for item in inventory.items:
        if item.folder == "predictions" and item.state != "temporary":
            predictions.setdefault(item.model_key, []).append(item)
    rows: list[dict[str, Any]] = []
    for item in inventory.items:
        if item.folder != "models" or item.state == "temporary":
            continue
        preds = predictions.get(item.name, [])
        seed = item.info.get("seed")
        rows.append(
            {
                "key": item.name,
                "model": str(item.info.get("model", "?")),
                "purpose": str(item.info.get("purpose", "?")),
                "seed": seed if isinstance(seed, int) else None,
                "size": item.size,
                "created": _created(item),
                "predictions": len(preds),
                "prediction_bytes": sum(p.size for p in preds),
                "state": item.state,
                "problem": item.problem,
            }
        )
    rows.sort(key=lambda row: str(row["created"]), reverse=True)
    return rows


def _problem_line(item: Item) -> str:
    where = f"{item.folder}/{item.name}"
    if item.state == "damaged":
        return f"damaged    {where}: {item.problem}"
    if item.state == "legacy":
        return f"legacy     {where}: written before entries were verified; never read"
    return f"temporary  {where}: {human_age(item.age_seconds)} old ({human_size(item.size)})"


def _counts(inventory: Inventory) -> str:
    parts = [
        f"{len(inventory.of(state))} {state}"
        for state in ("damaged", "legacy", "temporary")
        if inventory.of(state)
    ]
    return ", ".join(parts)


@click.group("cache")
def cache_group() -> None:
    """Inspect, verify or empty the cache of trained models, predictions and values."""


@cache_group.command("ls")
@click.option("--cache-dir", help="Cache folder (default: $HARNESS_CACHE_DIR or ~/.cache).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def cache_ls(cache_dir: str | None, as_json: bool) -> None:
    """List cached models (key, state, model, purpose, seed, size, prediction sets, created).

    The state is a cheap check (every file of the entry present with its recorded size);
    ``harness cache verify`` hashes everything."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from harness.cache_inventory import scan
    from harness.display import console_text

    root = _cache_dir(cache_dir)
    inventory = scan(root, full=False)
    rows = model_rows(inventory)
    models = {row["key"] for row in rows}
    orphans = [
        i
        for i in inventory.items
        if i.folder == "predictions" and i.state != "temporary" and i.model_key not in models
    ]
    values = [i for i in inventory.items if i.folder == "values" and i.state in ("ok", "damaged")]
    if as_json:
        data = {
            "cache_dir": str(root),
            "total_bytes": inventory.total_bytes,
            "entries": rows,
            "orphan_predictions": len(orphans),
            "values": len(values),
            "damaged": len(inventory.of("damaged")),
            "legacy": len(inventory.of("legacy")),
            "temporary": len(inventory.of("temporary")),
        }
        click.echo(json.dumps(data, indent=2))
        return
    console = Console()
    if not inventory.items:
        console.print(f"cache {console_text(root)} is empty", highlight=False)
        return
    table = Table(title=f"cache {console_text(root)}", box=box.SIMPLE_HEAD, pad_edge=False)
    columns = ("key", "state", "model", "purpose", "seed", "size", "preds", "created")
    for column in columns:
        table.add_column(
            column,
            justify="right" if column in ("seed", "size") else "left",
            no_wrap=column in ("key", "state", "seed", "size"),
            min_width=10 if column == "purpose" else None,
        )
    for row in rows:
        table.add_row(
            console_text(row["key"][:10]),
            row["state"],
            console_text(row["model"]),
            console_text(row["purpose"]),
            "" if row["seed"] is None else str(row["seed"]),
            human_size(row["size"]),
            f"{row['predictions']}: {human_size(row['prediction_bytes'])}",
            console_text(row["created"][5:16].replace("T", " ")),
        )
    console.print(table)
    extra = f", {len(orphans)} orphan prediction set(s)" if orphans else ""
    extra += f", {len(values)} memoised value(s)" if values else ""
    console.print(
        f"{len(rows)} model(s), {human_size(inventory.total_bytes)} in total{extra}",
        highlight=False,
    )
    counts = _counts(inventory)
    if counts:
        console.print(
            f"{counts}: `harness cache verify` shows them, `--remove` removes them",
            highlight=False,
            markup=False,
        )


@cache_group.command("verify")
@click.option("--cache-dir", help="Cache folder (default: $HARNESS_CACHE_DIR or ~/.cache).")
@click.option(
    "--remove",
    is_flag=True,
    help="Remove damaged entries, legacy entries and temporary items older than an hour.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
def cache_verify(cache_dir: str | None, remove: bool, as_json: bool) -> None:
    """Verify every cache entry: each file against the size and SHA-256 in its manifest, and
    what runs read (metadata, changes records, values, predictions in their label range).

    Lists damaged entries (with what is wrong), legacy entries (written before entries were
    verified; never read) and temporary items (writes in progress or left by killed ones).
    Exit status 1 when damaged entries remain (a run recomputes them on its own)."""
    from harness.cache_inventory import remove as remove_item
    from harness.cache_inventory import scan
    from harness.display import printable

    root = _cache_dir(cache_dir)
    inventory = scan(root, full=True)
    problems = [i for i in inventory.items if i.state != "ok"]
    removed = [i for i in problems if remove and remove_item(i)]
    left = [i for i in inventory.of("damaged") if i not in removed]
    entries = [i for i in inventory.items if i.state in ("ok", "damaged")]
    if as_json:
        data = {
            "cache_dir": str(root),
            "seconds": round(inventory.seconds, 3),
            "verified": len(entries),
            "verified_bytes": sum(i.size for i in entries),
            "ok": len(inventory.of("ok")),
            "items": [
                {
                    "path": f"{i.folder}/{i.name}",
                    "state": i.state,
                    "kind": i.kind,
                    "problem": i.problem,
                    "bytes": i.size,
                    "age_seconds": round(i.age_seconds),
                    "removed": i in removed,
                }
                for i in problems
            ],
        }
        click.echo(json.dumps(data, indent=2))
    else:
        for item in problems:
            done = " (removed)" if item in removed else ""
            click.echo(printable(_problem_line(item) + done))
        counts = _counts(inventory)
        click.echo(
            f"verified {len(entries)} entries ({human_size(sum(i.size for i in entries))}) "
            f"in {inventory.seconds:.2f} s: {len(inventory.of('ok'))} ok"
            + (f"; {counts}" if counts else "")
        )
        if removed:
            size = human_size(sum(i.size for i in removed))
            click.echo(f"removed {len(removed)} item(s), {size}")
        elif problems and not remove:
            click.echo("`harness cache verify --remove` removes them (runs never use them)")
    if left:
        raise SystemExit(1)


@cache_group.command("clear")
@click.option("--cache-dir", help="Cache folder (default: $HARNESS_CACHE_DIR or ~/.cache).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def cache_clear(cache_dir: str | None, yes: bool) -> None:
    """Delete every cached model, prediction and memoised value (only the harness's own
    sub-folders). Not while runs use the cache: their writes in progress would fail."""
    from harness.cache import FOLDERS
    from harness.cache_inventory import item_size

    root = _cache_dir(cache_dir)
    targets = [root / name for name in FOLDERS if (root / name).exists()]
    if not targets:
        click.echo(f"cache {root} is empty")
        return
    size = sum(item_size(t) for t in targets)
    if not yes:
        click.confirm(
            f"delete {human_size(size)} of cached models and predictions in {root}?", abort=True
        )
    for target in targets:
        shutil.rmtree(target)
    click.echo(f"removed {human_size(size)} from {root}")


def register(group: click.Group) -> None:
    """Add ``cache`` to ``group``."""
    group.add_command(cache_group)
