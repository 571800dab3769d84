"""``harness analyse RUN_DIR``: how hard a finished run's data is under M0's model family.

Re-plans the run from its ``config.json`` (the same task, specs, model and seeds), computes a
difficulty measure that scores held-out examples (``pvi`` by default) at every seed through the
run's cache (see :mod:`harness_plugins.measures.run_difficulty`), and prints the result, or
writes it as JSON or Markdown (``--format``, ``-o FILE``). Nothing is written into the run
folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

import harness
from harness.errors import UserError

DEFAULT_MEASURE = "pvi"
FORMATS = ("console", "md", "json")
SUFFIXES = {".json": "json", ".md": "md", ".markdown": "md"}


def measure_for_analysis(registries: Any, name: str, args: dict[str, Any], model_class: Any) -> Any:
    """The measure ``name`` with ``args``, refused in one line when it cannot score held-out
    cases or cannot work with the run's model."""
    from harness.validation import validate

    cls = registries.difficulty_measures.get(name, field="--measure")
    if not cls.scores_heldout:
        able = [e.name for e in registries.difficulty_measures if e.item.scores_heldout]
        raise UserError(
            f"measure {name!r} scores only the examples its model trains on, not spec cases",
            field="--measure",
            fix=f"use a measure that scores held-out cases: {', '.join(able) or '(none)'}",
        )
    problem = cls.model_problem(model_class)
    if problem:
        raise UserError(
            f"measure {name!r} cannot work with model {model_class.name!r}, which {problem}",
            field="--measure",
            fix="analyse a run made with a model that has it (bow, hf)",
        )
    return cls(validate(cls.Args, args, prefix="--measure-args."))


def analyse_run(
    run_dir: Path,
    measure_name: str = DEFAULT_MEASURE,
    measure_args: dict[str, Any] | None = None,
    cache_dir: str | None = None,
    use_cache: bool = True,
    progress: Any = None,
) -> Any:
    """Compute the :class:`~harness_plugins.measures.run_difficulty.DifficultyAnalysis` of the
    run in ``run_dir`` (see the module docstring)."""
    import tempfile

    import numpy as np

    from harness.cache import Cache
    from harness.plan import BASE, plan_run
    from harness.plugins import load_registries
    from harness.results import read_result
    from harness.resume import recorded_config, warn_if_data_changed
    from harness.runner import torch_threads
    from harness_plugins.measures import run_difficulty as rd

    result = read_result(run_dir)
    config = recorded_config(run_dir)
    update: dict[str, Any] = {"output_dir": tempfile.gettempdir(), "cache": use_cache}
    if cache_dir is not None:
        update["cache_dir"] = cache_dir
    registries = load_registries()
    plan = plan_run(config.model_copy(update=update), registries)
    warn_if_data_changed(run_dir, plan.run_id, config)
    measure = measure_for_analysis(registries, measure_name, measure_args or {}, plan.model_class)
    task = plan.task
    cases = rd.case_set(plan.specs, task.label_names, task.train.texts)
    cache = Cache(
        root=Path(plan.config.cache_dir) if plan.config.cache_dir else None,
        enabled=use_cache,
        progress=progress,
    )

    def new_model() -> Any:
        return plan.model_class.create(plan.model_args, task.label_names, plan.device)

    base_hashes = {s.seed: s.model_hash for s in result.model(BASE).seeds}
    per_seed: list[Any] = []
    threads = plan.model_class.cpu_threads if plan.device == "cpu" else None
    with torch_threads(threads):
        for seed in result.seeds:
            family = cache.model_family(plan.model_class, new_model, seed)
            per_seed.append(rd.score_seed(measure, family, task.train, task.test, cases.split))
    known = [base_hashes.get(seed) for seed in result.seeds]
    g_is_m0 = (
        None
        if any(h is None for h in known)
        else all(s.g_key == h for s, h in zip(per_seed, known, strict=True))
    )
    case_values = np.mean([s.cases.values for s in per_seed], axis=0)
    folds = per_seed[0].train.summary.get("folds") if per_seed else None
    train_estimate = f"cross-fitted over {folds} folds" if folds else "scored by the measure"
    sets = [
        rd.set_row("train", "train", [s.train.values for s in per_seed], train_estimate),
        rd.set_row(
            "test", "test", [s.test.values for s in per_seed], "models trained on the train split"
        ),
        *rd.suite_sets(plan.specs, cases, [np.asarray(s.cases.values) for s in per_seed]),
    ]
    rows = rd.spec_rows(plan.specs, cases, case_values, rd.m0_failure_rates(result, BASE))
    notes = analysis_notes(result.seeds, cases, rows, g_is_m0)
    return rd.DifficultyAnalysis(
        run_id=result.run_id,
        task=result.task.name,
        model=plan.model_class.name,
        measure=measure_name,
        measure_args=measure.args.model_dump(mode="json"),
        unit=measure.unit,
        seeds=list(result.seeds),
        g_is_m0=g_is_m0,
        sets=sets,
        specs=rows,
        correlations=rd.correlations(rows),
        notes=notes,
    )


def analysis_notes(
    seeds: list[int], cases: Any, rows: list[Any], g_is_m0: bool | None
) -> list[str]:
    """Caveats the reader needs beside the numbers."""
    notes: list[str] = []
    excluded = int(cases.excluded.sum())
    if excluded:
        notes.append(
            f"{excluded} spec case(s) left out: their text (normalised) is in the train split, "
            "so the models trained on them"
        )
    if len(seeds) == 1:
        notes.append("one seed: seed-to-seed variation is not measured (run with --seeds 3)")
    n_specs = sum(1 for row in rows if row.fr_m0 is not None)
    if n_specs < 10:
        notes.append(f"correlations over {n_specs} specs: too few for a firm conclusion")
    if g_is_m0 is False:
        notes.append(
            "the model trained on the train split differs from the run's M0 (another cache or "
            "package version): the scores describe a retrained M0"
        )
    return notes


@click.command("analyse")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--measure",
    default=DEFAULT_MEASURE,
    show_default=True,
    help="Difficulty measure that scores held-out cases (harness list measures).",
)
@click.option("--measure-args", default="", help="Its arguments, k=v,k=v (e.g. folds=2).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="console (default), md or json; -o FILE picks it from the suffix.",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to FILE.")
@click.option("--cache-dir", default=None, help="Cache folder (default: the run's).")
@click.option("--no-cache", is_flag=True, help="Train everything again, store nothing.")
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
def analyse_command(
    run_dir: Path,
    measure: str,
    measure_args: str,
    fmt: str | None,
    output: Path | None,
    cache_dir: str | None,
    no_cache: bool,
    quiet: bool,
) -> None:
    """How hard a run's data is under M0's model family (PVI by default).

    Per spec, the mean pointwise V-usable information of its D_i and D_i_heldout cases (which
    specs are hard; which held-out sets are easier than their D_i), the V-information of the
    train split (cross-fitted), the test split and each suite, and Spearman's correlation of
    per-spec PVI with M0's failure rate. Trains the null model (and, for the train split, two
    models per fold) through the run's cache; M0 comes from the cache.
    """
    from harness.atomic import atomic_write_text
    from harness.errors import OutputError
    from harness.flag_values import parse_key_values
    from harness.progress import Progress, silent
    from harness_plugins.measures import difficulty_render

    if fmt is None:
        fmt = SUFFIXES.get(output.suffix.lower()) if output is not None else "console"
        if fmt is None:
            raise UserError(
                f"cannot tell the format of {output}",
                field="-o",
                fix=f"use a suffix {', '.join(SUFFIXES)} or give --format",
            )
    args = parse_key_values(measure_args, "--measure-args")
    progress = silent() if quiet else Progress()
    found = analyse_run(run_dir, measure, args, cache_dir, not no_cache, progress)
    if fmt == "json":
        text = found.model_dump_json(indent=2) + "\n"
    elif fmt == "md":
        text = difficulty_render.markdown(found)
    else:
        text = ""
    if output is not None:
        if fmt == "console":
            text = difficulty_render.plain_text(found)
        try:
            atomic_write_text(output, text)
        except OSError as exc:
            raise OutputError(output, exc) from None
        click.echo(f"wrote {output}", err=True)
    elif fmt == "console":
        difficulty_render.print_console(found)
    else:
        click.echo(text, nl=False)


@harness.hookimpl
def register_commands(cli: click.Group) -> None:
    """Add ``harness analyse``."""
    cli.add_command(analyse_command)
