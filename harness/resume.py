"""``harness run --resume RUN_DIR``: finish an interrupted run.

The runner writes ``RUN_DIR/config.json`` before any work starts. Every finished unit of work (a
model trained for a seed, a set of predictions) is stored in the content-hash cache as soon as it is
done, each entry written to a temporary name and renamed. Resuming re-reads the recorded config and
runs it again with the cache on: finished units are loaded, the rest is computed, and the result is
the same ``results.json`` an uninterrupted run writes (apart from the ``timing`` block).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.config import RunConfig
from harness.errors import OutputError, UserError
from harness.input_files import read_text
from harness.validation import validate


def remove_partial_files(run_dir: Path) -> list[Path]:
    """Delete temporary files an interrupted atomic write left in ``run_dir``; return them."""
    removed = []
    for path in sorted(run_dir.glob(".*.tmp")):
        if path.is_file():
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                raise OutputError(path, exc) from None
            removed.append(path)
    return removed


def recorded_config_data(run_dir: Path, field: str | None = None) -> dict[str, Any]:
    """The JSON object a run recorded in ``run_dir/config.json`` (``field``: the flag that named
    the folder, for errors); a folder that is not a run, or a damaged file, is a one-line
    error."""
    if not run_dir.exists():
        raise UserError("no such run folder", file=run_dir, field=field, fix="check the path")
    if not run_dir.is_dir():
        raise UserError(
            "not a folder", file=run_dir, field=field, fix="give the run folder (runs/<run-id>)"
        )
    path = run_dir / "config.json"
    if not path.exists() and not path.is_symlink():
        raise UserError(
            "not a run folder (no config.json)",
            file=run_dir,
            field=field,
            fix="give a folder written by `harness run` (runs/<run-id>)",
        )
    raw = read_text(path, field=field)
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"not valid JSON: {exc.msg}",
            file=path,
            line=exc.lineno,
            fix="restore the file or start the run again",
        ) from None
    if not isinstance(data, dict):
        raise UserError(
            "expected a JSON object", file=path, fix="restore the file or start the run again"
        )
    return data


def recorded_config(run_dir: Path, field: str | None = None) -> RunConfig:
    """The validated config a run recorded in ``run_dir/config.json`` (see
    :func:`recorded_config_data`)."""
    return validate(RunConfig, recorded_config_data(run_dir, field), file=run_dir / "config.json")


def resume_config(
    run_dir: Path,
    other_flags: list[str] | None = None,
    config_path: Path | None = None,
    cache_dir: str | None = None,
    executor: dict[str, object] | None = None,
) -> RunConfig:
    """The recorded config of ``run_dir`` with the cache switched on (``cache_dir`` may move
    the cache, ``executor`` flags (``--executor``, ``--jobs``, ``--executor-args``) choose
    where the missing units run); other flags are refused, since they would change the
    run."""
    if config_path is not None or other_flags:
        from harness.config import flag_name

        flags = (["--config"] if config_path is not None else []) + [
            flag_name(name) for name in other_flags or []
        ]
        raise UserError(
            f"{', '.join(flags)} cannot be combined with --resume",
            field="--resume",
            fix="--resume re-runs the config recorded in RUN_DIR/config.json; drop the other "
            "flags (only --cache-dir, --executor, --jobs, --executor-args and --quiet are "
            "allowed)",
        )
    data = recorded_config_data(run_dir, "--resume")
    if executor is not None:
        from harness.config import merge_executor

        data["executor"] = merge_executor(data.get("executor"), executor)
    config = validate(RunConfig, data, file=run_dir / "config.json")
    update: dict[str, object] = {"cache": True}
    if cache_dir is not None:
        update["cache_dir"] = cache_dir
    remove_partial_files(run_dir)
    return config.model_copy(update=update)


def warn_if_data_changed(run_dir: Path, run_id: str, config: RunConfig) -> None:
    """Warn (one line on stderr) when ``run_dir`` is named after a run id of this task and
    model that differs from ``run_id``: the files the run reads changed since it started (the
    run id hashes their content), so the finished results describe the current files."""
    import re

    import click

    from harness.plan import run_id_prefix

    name = run_dir.name
    pattern = re.escape(run_id_prefix(config)) + r"[0-9a-f]{10}"
    if name != run_id and re.fullmatch(pattern, name):
        click.echo(
            f"warning: {run_dir}: the files this run reads changed since it started (they now "
            f"give run id {run_id}, or an older spec-harness started it); the results written here "
            "describe the current files",
            err=True,
        )
