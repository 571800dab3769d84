"""``harness report RUN_DIR...``: console tables, or a Markdown, HTML or JSON report."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from harness.api import Reporter
    from harness.registry import Registry

CONSOLE = "console"
"""``--format console``: the tables ``harness run`` prints (the core's own, not a reporter)."""


def _samples_path(run_dir: Path) -> Path:
    return (run_dir if run_dir.is_dir() else run_dir.parent) / "samples.jsonl"


def expand_run_dirs(paths: tuple[Path, ...]) -> tuple[tuple[Path, ...], bool]:
    """The run folders ``paths`` name: a folder holding ``results.json`` is a run; a folder
    without one stands for the runs directly inside it (``harness report runs/``), sorted by
    name. Returns the runs and whether some folder was expanded; a folder with no run in it is a
    one-line error."""
    from harness.errors import UserError

    out: list[Path] = []
    expanded = False
    for path in paths:
        if path.is_dir() and not (path / "results.json").exists():
            found = sorted(p for p in path.iterdir() if (p / "results.json").is_file())
            if not found:
                raise UserError(
                    "no results.json here, and no run folder inside",
                    file=path,
                    fix="give a run folder (it holds results.json) or a folder of runs, e.g. runs/",
                )
            out += found
            expanded = True
        else:
            out.append(path)
    return tuple(out), expanded


def load_runs(run_dirs: tuple[Path, ...], registries: Any = None) -> list[tuple[Path, Any]]:
    """Read every run (refusing other schema versions); analyse runs written before the
    analysis existed, from their ``samples.jsonl`` when present (``registries``: where the
    rows' interventions are found, to ask how they pair; built when needed and not given)."""
    from harness.analysis import analyse
    from harness.analysis.comparisons import declared_roles
    from harness.report_views import iter_samples
    from harness.results import read_result

    runs = []
    for run_dir in run_dirs:
        result = read_result(run_dir)
        if not result.checks:
            samples = _samples_path(run_dir)
            present = samples.exists() or samples.is_symlink()
            roles = declared_roles(result, registries)
            result = analyse(result, iter_samples(samples) if present else None, roles=roles)
        runs.append((run_dir, result))
    return runs


def pair_if_possible(
    runs: list[tuple[Path, Any]], pair: bool | None, registries: Any = None
) -> tuple[Any, Any] | None:
    """Pair the runs' rows when they share M0 (``pair`` ``None``: when possible; ``True``: or
    fail with the reason; ``False``: never). Returns ``(merged result, PairedRuns)`` or
    ``None``."""
    from harness.analysis.pairing import (
        RunFiles,
        analyse_paired,
        pairing_mismatch,
        test_fingerprint,
    )
    from harness.display import printable
    from harness.errors import UserError

    if pair is False or len(runs) < 2:
        if pair and len(runs) < 2:
            raise UserError(
                "--pair needs at least two run folders", field="--pair", fix="give RUN_A RUN_B"
            )
        return None
    first_dir, first = runs[0]

    def fingerprints(other_dir: Path) -> tuple[str, str] | None:
        paths = (_samples_path(first_dir), _samples_path(other_dir))
        if not all(p.is_file() for p in paths):
            return None
        return test_fingerprint(paths[0]), test_fingerprint(paths[1])

    for other_dir, other in runs[1:]:
        if other.run_id == first.run_id:
            raise UserError(
                f"run {other.run_id} is given twice", field="RUN_DIR", fix="give each run once"
            )
        reason = pairing_mismatch(first, other, functools.partial(fingerprints, other_dir))
        if reason is not None:
            if pair:
                raise UserError(
                    f"runs {first.run_id} and {other.run_id} cannot be paired: {reason}",
                    field="--pair",
                    fix="pair runs of the same task, specs, model and seeds whose M0 is the same "
                    "model, or leave out --pair for a plain leaderboard",
                )
            click.echo(
                printable(
                    f"not paired ({first.run_id} and {other.run_id}: {reason}): a plain "
                    "leaderboard, each run compared and checked on its own"
                ),
                err=True,
            )
            return None
    files = []
    for run_dir, result in runs:
        samples = _samples_path(run_dir)
        files.append(RunFiles(result=result, samples=samples if samples.is_file() else None))
    return analyse_paired(files, registries)


def write_output(path: Path, text: str) -> None:
    """Write a report: atomically for a regular file, directly for a device or pipe (so that
    ``-o /dev/stdout`` or ``-o /dev/null`` are never replaced by a file)."""
    from harness.atomic import atomic_write_text
    from harness.errors import UserError

    try:
        if path.exists() and not path.is_file():
            with path.open("w", encoding="utf-8") as handle:
                handle.write(text)
        else:
            atomic_write_text(path, text)
    except OSError as exc:
        raise UserError(f"cannot write: {exc.strerror or exc}", file=path, field="-o") from None


def resolve_format(
    fmt: str | None, output: Path | None, reporters: Registry[type[Reporter]]
) -> str:
    """The reporter name: ``--format`` (a reporter's name, or one of the ``aliases`` it
    declares), else the reporter that declares ``-o``'s suffix, else :data:`CONSOLE`."""
    if fmt:
        if fmt.lower() == CONSOLE or fmt in reporters:
            return CONSOLE if fmt.lower() == CONSOLE else fmt
        aliased = [e for e in reporters if fmt.lower() in (a.lower() for a in e.item.aliases)]
        if len(aliased) == 1:
            return _entry_name(aliased[0], reporters)
        return fmt  # unknown (or an alias two reporters share): the registry says which
    if output is not None:
        return reporter_for_suffix(output, reporters)
    return CONSOLE


def _entry_name(entry: Any, reporters: Registry[type[Reporter]]) -> str:
    return entry.name if reporters.find(entry.name) else entry.qualified_name


def reporter_for_suffix(output: Path, reporters: Registry[type[Reporter]]) -> str:
    """The reporter that declares ``output``'s suffix (:attr:`harness.api.Reporter.suffix` or
    ``suffixes``); a suffix no reporter or two reporters declare is a one-line error."""
    from harness.errors import UserError

    suffix = output.suffix.lower() if str(output) != "-" else ""
    owners = [e for e in reporters if suffix and suffix in e.item.claimed_suffixes()]
    if len(owners) == 1:
        return _entry_name(owners[0], reporters)
    if owners:
        names = ", ".join(_entry_name(e, reporters) for e in owners)
        raise UserError(
            f"the suffix {suffix} is declared by reporters {names}",
            file=output,
            field="-o",
            fix=f"choose one with --format ({names})",
        )
    known = sorted({s for e in reporters for s in e.item.claimed_suffixes()})
    what = f"the suffix {suffix!r}" if suffix else "a file name without a suffix"
    raise UserError(
        f"no reporter writes {what}",
        file=output if str(output) != "-" else "-o -",
        field="-o",
        fix=f"use a file name ending in {', '.join(known)}, or give --format NAME "
        "(`harness list reporters`)",
    )


@click.command("report")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    help="md, html, json or another registered reporter (`harness list reporters`); default: "
    "from -o's suffix, else tables on the terminal.",
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write to FILE."
)
@click.option(
    "--check",
    is_flag=True,
    help="Exit 1 unless the expected-outcome check passes in every run (also when it cannot be "
    "made: no guided and random retrain at the same budget).",
)
@click.option("--ci", is_flag=True, help="Show Wilson 95% intervals in every per-spec cell.")
@click.option(
    "--group-by",
    type=click.Choice(["label", "tag", "group", "none"]),
    default="label",
    show_default=True,
    help="How per-spec tables group specs.",
)
@click.option(
    "--pair/--no-pair",
    default=None,
    help="Compare the rows of runs that share M0 (same task, specs, model, seeds and M0 "
    "model_hash) case by case, as one run: comparisons and checks across the runs. Default: "
    "pair when every run shares M0; --pair fails (exit 2) when they do not; --no-pair never.",
)
@click.option(
    "--examples",
    "n_examples",
    type=click.IntRange(0, 50),
    default=3,
    show_default=True,
    help="Failing held-out cases shown per spec (md/html).",
)
def report_command(
    run_dirs: tuple[Path, ...],
    fmt: str | None,
    output: Path | None,
    check: bool,
    ci: bool,
    group_by: str,
    n_examples: int,
    pair: bool | None,
) -> None:
    """Report on one or more run folders: a leaderboard over all of them (rows: model x
    intervention) plus every run's per-spec detail, comparisons and checks.

    A folder without results.json stands for the runs inside it: `harness report runs/` shows
    the leaderboard and a list of the runs on the terminal, and every run in full with --format.

    Runs that share M0 (same task, specs, model, seeds and M0 model_hash at every seed, e.g. a
    guided retrain run and a random retrain run added later) are paired by default: their rows
    are compared case by case as one run, so the expected-outcome check can be made across them.
    Results written by another results schema version are refused with a one-line message.
    """
    from harness.display import printable, shortened
    from harness.leaderboard import check_status
    from harness.plugins import load_registries
    from harness.report_views import ReportOptions, failing_examples

    registries = load_registries()  # once for the whole command
    reporters = registries.reporters
    name = resolve_format(fmt, output, reporters)  # a bad -o suffix stops before any work
    run_dirs, expanded = expand_run_dirs(run_dirs)
    runs = load_runs(run_dirs, registries)
    results = [result for _, result in runs]
    paired = pair_if_possible(runs, pair, registries)
    if paired is not None:
        results = [paired[0]]
        click.echo(
            f"paired runs {', '.join(r.run_id for _, r in runs)} (they share M0): one merged "
            "report with comparisons and checks across them",
            err=True,
        )
    if name == CONSOLE:
        from rich.console import Console

        from harness.console import leaderboard_table, print_result, runs_table
        from harness.leaderboard import build_leaderboard

        console = Console()
        if len(results) > 1:
            for table in leaderboard_table(build_leaderboard(results), console):
                console.print(table)
        if expanded and len(results) > 1:  # a folder of runs: the list, not every run in full
            for table in runs_table(results, check_status, console):
                console.print(table)
        else:
            for result in results:
                print_result(result, console, ci=ci, group_by=group_by)  # type: ignore[arg-type]
    else:
        reporter = reporters.get(name, field="--format")()
        if reporter.takes_options:
            examples = {}
            if n_examples and paired is not None:
                merged, files = paired
                examples = {merged.run_id: failing_examples(files.samples(), merged, n_examples)}
            elif n_examples:
                examples = {
                    r.run_id: failing_examples(_samples_path(d), r, n_examples) for d, r in runs
                }
            reporter.options = ReportOptions(
                ci=ci,
                group_by=group_by,  # type: ignore[arg-type]
                examples=examples,
            )
        text = reporter.render(results)
        if output is None or str(output) == "-":
            click.echo(text, nl=False)
        else:
            write_output(output, text)
            click.echo(f"wrote {printable(output)}", err=True)
    if check:
        failed = False
        for result in results:
            status = check_status(result) or "SKIP"
            click.echo(f"expected-outcome check {status}: {printable(result.run_id)}", err=True)
            for item in result.checks:
                if item.get("status") != "PASS":
                    line = f"  {item.get('status')} {item.get('detail')}"
                    click.echo(printable(shortened(line, 4_000)), err=True)
            failed = failed or status != "PASS"
        if failed:
            click.get_current_context().exit(1)


def register(group: click.Group) -> None:
    """Add ``report`` to ``group``."""
    group.add_command(report_command)
