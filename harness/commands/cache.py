"""``harness cache ls`` and ``harness cache clear``: inspect or empty the model cache."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import click


@dataclass
class CacheEntry:
    """One trained model in the cache, with the prediction sets made by it."""

    key: str
    model: str
    purpose: str
    seed: int | None
    size: int
    created: str
    predictions: int
    prediction_bytes: int


def folder_size(path: Path) -> int:
    """Total size in bytes of the files under ``path``."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def human_size(size: float) -> str:
    """``1536`` -> ``1.5 KiB``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def cache_entries(cache_dir: Path) -> tuple[list[CacheEntry], int, int]:
    """The finished model entries (newest first), plus the count and bytes of prediction files
    whose model entry is gone (orphans)."""
    from harness.cache import DONE, entry_info

    predictions: dict[str, list[Path]] = {}
    pred_dir = cache_dir / "predictions"
    if pred_dir.is_dir():
        for path in pred_dir.glob("*.npy"):
            if not path.name.startswith("."):
                predictions.setdefault(path.name.split("-", 1)[0], []).append(path)
    entries: list[CacheEntry] = []
    model_dir = cache_dir / "models"
    if model_dir.is_dir():
        for entry in model_dir.iterdir():
            done = entry / DONE
            if entry.name.startswith(".") or not done.is_file():
                continue
            info = entry_info(entry)
            preds = predictions.pop(entry.name, [])
            created = info.get("created") or time.strftime(
                "%Y-%m-%dT%H:%M:%S", time.localtime(done.stat().st_mtime)
            )
            entries.append(
                CacheEntry(
                    key=entry.name,
                    model=str(info.get("model", "?")),
                    purpose=str(info.get("purpose", "?")),
                    seed=info.get("seed"),
                    size=folder_size(entry),
                    created=str(created),
                    predictions=len(preds),
                    prediction_bytes=sum(p.stat().st_size for p in preds),
                )
            )
    orphans = [p for paths in predictions.values() for p in paths]
    entries.sort(key=lambda e: e.created, reverse=True)
    return entries, len(orphans), sum(p.stat().st_size for p in orphans)


def _cache_dir(value: str | None) -> Path:
    from harness.cache import default_cache_dir

    return Path(value).expanduser() if value else default_cache_dir()


@click.group("cache")
def cache_group() -> None:
    """Inspect or empty the cache of trained models and predictions."""


@cache_group.command("ls")
@click.option("--cache-dir", help="Cache folder (default: $HARNESS_CACHE_DIR or ~/.cache).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def cache_ls(cache_dir: str | None, as_json: bool) -> None:
    """List cached models: key, model, purpose, seed, size, prediction sets, created."""
    from rich.console import Console
    from rich.table import Table

    from harness.display import console_text

    root = _cache_dir(cache_dir)
    entries, orphan_count, orphan_bytes = cache_entries(root)
    total = sum(e.size + e.prediction_bytes for e in entries) + orphan_bytes
    if as_json:
        data = {
            "cache_dir": str(root),
            "total_bytes": total,
            "entries": [entry.__dict__ for entry in entries],
            "orphan_predictions": orphan_count,
        }
        click.echo(json.dumps(data, indent=2))
        return
    console = Console()
    if not entries and not orphan_count:
        console.print(f"cache {console_text(root)} is empty")
        return
    table = Table(title=f"cache {console_text(root)}")
    for column in ("key", "model", "purpose", "seed", "size", "preds", "created"):
        table.add_column(
            column,
            justify="right" if column in ("seed", "size") else "left",
            no_wrap=column != "purpose",
        )
    for e in entries:
        table.add_row(
            console_text(e.key[:10]),
            console_text(e.model),
            console_text(e.purpose),
            "" if e.seed is None else str(e.seed),
            human_size(e.size),
            f"{e.predictions}: {human_size(e.prediction_bytes)}",
            e.created[5:16].replace("T", " "),
        )
    console.print(table)
    extra = f", {orphan_count} orphan prediction file(s)" if orphan_count else ""
    console.print(f"{len(entries)} model(s), {human_size(total)} in total{extra}")


@cache_group.command("clear")
@click.option("--cache-dir", help="Cache folder (default: $HARNESS_CACHE_DIR or ~/.cache).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def cache_clear(cache_dir: str | None, yes: bool) -> None:
    """Delete every cached model, prediction and memoised value (only the harness's own
    sub-folders)."""
    from harness.cache import FOLDERS

    root = _cache_dir(cache_dir)
    targets = [root / name for name in FOLDERS if (root / name).exists()]
    if not targets:
        click.echo(f"cache {root} is empty")
        return
    size = sum(folder_size(t) for t in targets)
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
