"""``harness specs validate|preview|stats``: check, look at and count spec suites."""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click

from harness.display import console_text
from harness.errors import UserError

SPLITS = ("train", "heldout")


def _parse_options(items: tuple[str, ...]) -> dict[str, Any]:
    """``--option KEY=VALUE`` items (values read as the run flags' are: YAML scalars, or a
    flow list / mapping in brackets such as ``label_map={0: a, 1: b}``)."""
    from harness.flag_values import key_value

    return dict(key_value(item, "--option", example="--option seed=1") for item in items)


def _task_context(task: str | None, task_args: str | None) -> tuple[Any, list[str] | None]:
    """Load ``task`` (if given): return ``(task, its label names)``."""
    if not task:
        return None, None
    from harness.config import parse_key_values
    from harness.plugins import load_registries
    from harness.validation import validate

    definition = load_registries().tasks.get(task, field="--task")
    args = parse_key_values(task_args, "--task-args") if task_args else {}
    loaded = definition.load(**validate(definition.args, args, prefix="task_args.").model_dump())
    return loaded, list(loaded.label_names)


def _load(refs: tuple[str, ...], source: str | None, options: dict[str, Any], seed: int) -> Any:
    from harness.config import SpecRef
    from harness.plugins import load_registries
    from harness.specs.loading import load_suites

    sources = load_registries().spec_sources
    specs = [SpecRef(ref=ref, source=source, options=options) for ref in refs]
    return load_suites(specs, sources, seed=seed)


def _load_one(ref: str, source: str | None, options: dict[str, Any], seed: int) -> Any:
    suites = _load((ref,), source, options, seed)
    if not suites:
        raise UserError("no suites found", file=ref, fix="check the path or name")
    return suites


common_load_options = [
    click.option("--source", help="Spec source (yaml, hatecheck, csv, hf); default: guessed."),
    click.option(
        "--option",
        "option_items",
        multiple=True,
        metavar="KEY=VALUE",
        help="Source option (repeatable); VALUE is YAML, e.g. 'label_map={0: ok, 1: hateful}'.",
    ),
    click.option("--seed", type=int, default=0, show_default=True, help="Seed for splits."),
]


def _with_load_options(func: Any) -> Any:
    for decorator in reversed(common_load_options):
        func = decorator(func)
    return func


@click.group("specs")
def specs_group() -> None:
    """Validate, preview and count specification suites."""


@dataclass
class RunSuites:
    """The suites of a run config, loaded as the run loads them, with its task."""

    task: Any
    suites: list[Any]
    errors: list[UserError]
    config: Any


def _run_suites(config_path: Path) -> RunSuites:
    """Load the task and the spec suites of a run config exactly as ``harness run`` does: paths
    resolved next to the config, the task with its arguments, ``limit`` and ``train_limit``, and
    every spec entry with its source, options and the run's first seed. A suite that fails to
    load is kept as an error (the others are still checked)."""
    from harness.config import resolve_config
    from harness.config_paths import resolve_config_paths
    from harness.plan import load_task
    from harness.plugins import load_registries
    from harness.specs.loading import load_suites

    keys = ("task_args", "specs")
    config = resolve_config(config_path, {}, path_keys=keys)
    registries = load_registries()
    resolved = resolve_config_paths(config, registries, keys=keys)
    config = resolved.config
    task, _ = load_task(config, registries, resolved.task_args)
    suites: list[Any] = []
    errors: list[UserError] = []
    for ref in config.specs:
        try:
            suites.extend(load_suites([ref], registries.spec_sources, seed=config.seeds[0]))
        except UserError as err:
            errors.append(err)
    return RunSuites(task=task, suites=suites, errors=errors, config=config)


def _run_level_errors(run: RunSuites, label_names: list[str]) -> list[UserError]:
    """What the run checks once its suites load: specs flattened against the task's labels
    (duplicate ids, labels) and the suites the expected-outcome check names."""
    from harness.analysis.checks import check_suite_names
    from harness.specs.loading import flatten_specs

    try:
        specs = flatten_specs(run.suites, label_names, check=False)
        check_suite_names(run.config.check, [spec.suite for spec in specs])
    except UserError as err:
        return [err]
    return []


@specs_group.command("validate")
@click.argument("paths", nargs=-1)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Check the suites of this run config as the run loads them: every spec entry with its "
    "source and options, against the config's task (labels, train, pool, test) and seed.",
)
@click.option("--strict", is_flag=True, help="Identical texts across splits are errors.")
@click.option("--task", help="Check labels (and held-out texts) against this task.")
@click.option("--task-args", help="Task arguments as k=v,k=v.")
@click.option(
    "--min-heldout", type=int, default=10, show_default=True, help="Warn below this many."
)
@_with_load_options
def validate_command(
    paths: tuple[str, ...],
    config_path: Path | None,
    strict: bool,
    task: str | None,
    task_args: str | None,
    min_heldout: int,
    source: str | None,
    option_items: tuple[str, ...],
    seed: int,
) -> None:
    """Check spec files (or shipped suite names): syntax, templates, ids, labels, leakage.

    With --config RUN.yaml, check the suites of a run config exactly as `harness run` loads
    them (PATHS, if given, are checked with them, with --source/--option). Every problem is
    printed as `file:line: spec-id: message`; exits 2 if there are errors.
    """
    from harness.specs.checks import CheckOptions, Finding, check_suites, print_findings

    if not paths and config_path is None:
        raise UserError(
            "nothing to check",
            field="PATHS",
            fix="give spec files or suite names, or --config RUN.yaml",
        )
    if config_path is not None and (task or task_args):
        raise UserError(
            "--task and --task-args cannot be combined with --config",
            field="--config",
            fix="the run config names the task; drop --task/--task-args",
        )
    options = _parse_options(option_items)
    suites: list[Any] = []
    findings: list[Finding] = []

    def as_finding(err: UserError) -> Finding:
        return Finding("error", err.problem, err.field, err.file, err.line, err.fix)

    run: RunSuites | None = None
    label_names: list[str] | None
    if config_path is not None:
        run = _run_suites(config_path)
        loaded_task, label_names = run.task, list(run.task.label_names)
        suites.extend(run.suites)
        findings.extend(as_finding(err) for err in run.errors)
    else:
        loaded_task, label_names = _task_context(task, task_args)
    for path in paths:
        try:
            suites.extend(_load_one(path, source, options, seed))
        except UserError as err:
            findings.append(as_finding(err))
    report = check_suites(
        suites,
        CheckOptions(
            label_names=label_names,
            task=loaded_task,
            strict=strict,
            min_heldout=min_heldout,
        ),
    )
    findings.extend(report.findings)
    if run is not None and not any(f.level == "error" for f in findings):
        findings.extend(as_finding(err) for err in _run_level_errors(run, run.task.label_names))
    findings.sort(key=lambda f: f.level != "error")
    print_findings(findings)
    errors = sum(1 for f in findings if f.level == "error")
    if errors:
        raise click.exceptions.Exit(2)
    if report.leakage is not None and report.stats:
        print_leakage_summary(report.leakage, against_task=loaded_task is not None)
    cases = sum(s.train_cases + s.heldout_cases for s in report.stats)
    warnings = len(findings)
    click.echo(
        f"ok: {len(suites)} suite(s), {len(report.stats)} spec(s), {cases} case(s), "
        f"{warnings} warning(s)"
    )


def print_leakage_summary(leakage: Any, against_task: bool) -> None:
    """One leakage line per suite (and a total over several suites) on stderr, next to the
    findings."""
    from rich.console import Console

    from harness.specs.leakage import summary_line

    console = Console(stderr=True, soft_wrap=True, highlight=False)
    where = "" if against_task else " (against D_i only; --task adds train, pool and test)"
    checked = list(leakage.corpora)
    lines = [
        summary_line(f"suite {name!r}", counts, checked) for name, counts in leakage.suites.items()
    ]
    if len(leakage.suites) > 1:
        lines.append(summary_line("all suites", leakage.total, checked))
    for line in lines:
        console.print(f"[bold]leakage[/]{console_text(where)}: {console_text(line, 8_000)}")


def _spread(items: list[Any], n: int) -> list[Any]:
    """``n`` items spread evenly over ``items`` (deterministic)."""
    if n <= 0 or len(items) <= n:
        return items
    return [items[(i * len(items)) // n] for i in range(n)]


@specs_group.command("preview")
@click.argument("suite")
@click.option("-n", "count", type=int, default=5, show_default=True, help="Cases per spec.")
@click.option("--split", type=click.Choice(SPLITS), help="Only this split (default: both).")
@click.option("--spec", "spec_ids", multiple=True, help="Only these spec ids (repeatable).")
@_with_load_options
def preview_command(
    suite: str,
    count: int,
    split: str | None,
    spec_ids: tuple[str, ...],
    source: str | None,
    option_items: tuple[str, ...],
    seed: int,
) -> None:
    """Show sample cases of each spec of SUITE (a shipped suite name or a path)."""
    from rich.console import Console
    from rich.table import Table

    suites = _load_one(suite, source, _parse_options(option_items), seed)
    table = Table(title=f"{console_text(suite)}: sample cases", title_justify="left")
    for column in ("spec", "label", "split", "template", "text"):
        table.add_column(column, overflow="fold")
    shown = 0
    for loaded in suites:
        for spec in loaded.specs:
            if spec_ids and spec.id not in spec_ids:
                continue
            for name in [split] if split else list(SPLITS):
                cases = spec.train_cases if name == "train" else spec.heldout_cases
                for case in _spread(cases, count):
                    table.add_row(
                        *map(console_text, (spec.id, spec.label, name)),
                        console_text(case.template_id or "-"),
                        console_text(case.text),
                    )
                    shown += 1
    if spec_ids and not shown:
        raise UserError(
            f"no cases for spec(s) {', '.join(spec_ids)}", field="--spec", fix="check the ids"
        )
    Console(soft_wrap=False).print(table)


@specs_group.command("stats")
@click.argument("suite")
@click.option("--task", help="Also count held-out texts found in this task's train split.")
@click.option("--task-args", help="Task arguments as k=v,k=v.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@_with_load_options
def stats_command(
    suite: str,
    task: str | None,
    task_args: str | None,
    as_json: bool,
    source: str | None,
    option_items: tuple[str, ...],
    seed: int,
) -> None:
    """Cases per spec and split, templates per split, and overlap counts for SUITE."""
    from rich.console import Console
    from rich.table import Table

    from harness.specs.checks import CheckOptions, check_suites

    suites = _load_one(suite, source, _parse_options(option_items), seed)
    loaded_task, label_names = _task_context(task, task_args)
    report = check_suites(
        suites,
        CheckOptions(
            label_names=label_names,
            task=loaded_task,
        ),
    )
    if as_json:
        click.echo(json.dumps([asdict(s) for s in report.stats], indent=2))
        return
    table = Table(title=f"{console_text(suite)}: cases and overlap", title_justify="left")
    table.caption = (
        "D_i / held-out: cases; tmpl: templates; in D_i: held-out texts also in some D_i; "
        "near: held-out near-duplicates of D_i"
        + (
            "; train / pool / test: held-out texts in that split of the task (verbatim or "
            "normalised); norm: found only after normalisation"
            if loaded_task
            else ""
        )
    )
    headers = [
        ("spec", "left"),
        ("label", "left"),
        ("D_i", "right"),
        ("held-out", "right"),
        ("tmpl D_i", "right"),
        ("tmpl held-out", "right"),
        ("in D_i", "right"),
        ("near", "right"),
    ]
    if loaded_task is not None:
        headers += [("train", "right"), ("pool", "right"), ("test", "right"), ("norm", "right")]
    for header, justify in headers:
        table.add_column(header, justify=justify, no_wrap=header == "spec")  # type: ignore[arg-type]
    keys = [
        "train_cases",
        "heldout_cases",
        "train_templates",
        "heldout_templates",
        "heldout_in_train_cases",
        "near_duplicates",
    ]
    if loaded_task is not None:
        keys += [
            "heldout_in_task_train",
            "heldout_in_task_pool",
            "heldout_in_task_test",
            "heldout_normalised_only",
        ]
    for stat in report.stats:
        table.add_row(
            console_text(stat.spec_id),
            console_text(stat.label),
            *(str(getattr(stat, k)) for k in keys),
        )
    totals = [str(sum(getattr(s, k) for s in report.stats)) for k in keys]
    table.add_section()
    table.add_row(f"total ({len(report.stats)} specs)", "", *totals)
    console = Console()
    console.print(table)
    if report.findings:
        command = validate_command_line(suite, source, option_items, seed, task, task_args)
        console.print(
            f"{len(report.errors)} error(s), {len(report.warnings)} warning(s): "
            f"run `{console_text(command, 4_000)}` for details",
            highlight=False,
            markup=False,
        )


def validate_command_line(
    suite: str,
    source: str | None,
    option_items: tuple[str, ...],
    seed: int,
    task: str | None,
    task_args: str | None,
) -> str:
    """The ``harness specs validate`` command that loads and checks ``suite`` as ``stats`` did:
    the same source, options, seed and task, quoted for a POSIX shell."""
    parts = ["harness", "specs", "validate", suite]
    if source:
        parts += ["--source", source]
    for item in option_items:
        parts += ["--option", item]
    if seed:
        parts += ["--seed", str(seed)]
    if task:
        parts += ["--task", task]
    if task_args:
        parts += ["--task-args", task_args]
    return shlex.join(parts)


def register(group: click.Group) -> None:
    """Add ``specs`` to ``group``."""
    group.add_command(specs_group)
