"""``harness specs validate|preview|stats``: check, look at and count spec suites."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import click

from harness.errors import UserError

SPLITS = ("train", "heldout")


def _parse_options(items: tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; values are read as YAML (``label_map={0: a, 1: b}``)."""
    import yaml

    options: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(
                f"expected KEY=VALUE, got {item!r}", field="--option", fix="e.g. --option seed=1"
            )
        try:
            options[key.strip()] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            options[key.strip()] = value
    return options


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
    from harness.spec_loading import load_suites

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


@specs_group.command("validate")
@click.argument("paths", nargs=-1, required=True)
@click.option("--strict", is_flag=True, help="Identical texts across splits are errors.")
@click.option("--task", help="Check labels (and held-out texts) against this task.")
@click.option("--task-args", help="Task arguments as k=v,k=v.")
@click.option(
    "--min-heldout", type=int, default=10, show_default=True, help="Warn below this many."
)
@_with_load_options
def validate_command(
    paths: tuple[str, ...],
    strict: bool,
    task: str | None,
    task_args: str | None,
    min_heldout: int,
    source: str | None,
    option_items: tuple[str, ...],
    seed: int,
) -> None:
    """Check spec files (or shipped suite names): syntax, templates, ids, labels, leakage.

    Every problem is printed as `file:line: spec-id: message`; exits 2 if there are errors.
    """
    from harness.spec_checks import CheckOptions, Finding, check_suites, print_findings

    options = _parse_options(option_items)
    loaded_task, label_names = _task_context(task, task_args)
    suites: list[Any] = []
    findings: list[Finding] = []
    for path in paths:
        try:
            suites.extend(_load_one(path, source, options, seed))
        except UserError as err:
            findings.append(Finding("error", err.problem, err.field, err.file, err.line, err.fix))
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
    from rich.markup import escape

    from harness.leakage import summary_line

    console = Console(stderr=True, soft_wrap=True, highlight=False)
    where = "" if against_task else " (against D_i only; --task adds train, pool and test)"
    checked = list(leakage.corpora)
    lines = [
        summary_line(f"suite {name!r}", counts, checked) for name, counts in leakage.suites.items()
    ]
    if len(leakage.suites) > 1:
        lines.append(summary_line("all suites", leakage.total, checked))
    for line in lines:
        console.print(f"[bold]leakage[/]{escape(where)}: {escape(line)}")


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
    table = Table(title=f"{suite}: sample cases", title_justify="left")
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
                    table.add_row(spec.id, spec.label, name, case.template_id or "-", case.text)
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

    from harness.spec_checks import CheckOptions, check_suites

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
    table = Table(title=f"{suite}: cases and overlap", title_justify="left")
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
        table.add_row(stat.spec_id, stat.label, *(str(getattr(stat, k)) for k in keys))
    totals = [str(sum(getattr(s, k) for s in report.stats)) for k in keys]
    table.add_section()
    table.add_row(f"total ({len(report.stats)} specs)", "", *totals)
    console = Console()
    console.print(table)
    if report.findings:
        console.print(
            f"{len(report.errors)} error(s), {len(report.warnings)} warning(s): "
            f"run `harness specs validate {suite}` for details",
            highlight=False,
        )


def register(group: click.Group) -> None:
    """Add ``specs`` to ``group``."""
    group.add_command(specs_group)
