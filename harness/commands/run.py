"""``harness run``: the embedded demo, a config file, or flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from harness.flag_values import parse_interventions, parse_key_values


@click.command("run")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="YAML run config; flags below override its values.",
)
@click.option("--task", help="Task name (default: the embedded demo task).")
@click.option("--specs", help="Comma-separated spec suites or paths.")
@click.option("--model", help="Model name, e.g. bow, hf, sklearn.")
@click.option(
    "--model-args",
    help="Model arguments as k=v,k=v, merged key by key into the config's model_args. Values "
    "are YAML scalars; lists and mappings as [a, b] / {k: v} or a|b / k:v|k:v.",
)
@click.option(
    "--task-args",
    help="Task arguments as k=v,k=v, merged key by key into the config's task_args (values as "
    "in --model-args).",
)
@click.option(
    "--interventions",
    help="Interventions, replacing the config's: name or name:key=value, comma-separated; a "
    "key=value item after one adds a parameter to it, e.g. "
    "retrain:selection=random,retrain:selection=tfidf,budget=300,patch:delta=0.01 "
    "(values as in --model-args; '' runs M0 only). A display label or a long list reads better "
    "in a YAML config (interventions: - name: retrain, params: {...}, label: ...).",
)
@click.option("--seeds", type=int, help="Number of seeds (0..N-1).")
@click.option("--budget", type=int, help="Pool examples each retraining may add.")
@click.option("--output-dir", help="Folder for run outputs (default: runs).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), help="Device.")
@click.option("--no-cache", is_flag=True, default=False, help="Train and predict from scratch.")
@click.option("--cache-dir", help="Cache folder (default: ~/.cache/spec-harness).")
@click.option("--limit", type=int, help="Use only the first N examples of each split.")
@click.option(
    "--limit-train",
    "limit_train",
    type=int,
    help="Train on N train rows sampled with the run's first seed (stratified by label); "
    "test and pool stay whole.",
)
@click.option(
    "--resume",
    "resume_dir",
    type=click.Path(path_type=Path),
    help="Finish an interrupted run: re-run RUN_DIR/config.json with the cache on, reusing every "
    "model and prediction set already finished.",
)
@click.option(
    "--executor",
    "executor_name",
    help="Where units run: local (default: this machine) or ray (a Ray cluster; pip install "
    "'spec-harness[ray]'); harness list executors.",
)
@click.option(
    "--jobs",
    type=int,
    help="Units at once (local: worker processes; ray: at most this many at once, and the CPUs "
    "of a Ray instance started here). Results do not depend on it.",
)
@click.option(
    "--executor-args",
    help="Executor settings as k=v,k=v (values as in --model-args), e.g. max_retries=2 or, for "
    "ray, address=auto.",
)
@click.option("--print-config", is_flag=True, help="Print the resolved config and exit.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
@click.option(
    "--ci",
    is_flag=True,
    expose_value=False,
    callback=lambda ctx, _param, value: ctx.meta.__setitem__("harness.ci", value),
    help="Show Wilson 95% intervals in every per-spec cell.",
)
def run_command(
    config_path: Path | None,
    task: str | None,
    specs: str | None,
    model: str | None,
    model_args: str | None,
    task_args: str | None,
    interventions: str | None,
    seeds: int | None,
    budget: int | None,
    output_dir: str | None,
    device: str | None,
    no_cache: bool,
    cache_dir: str | None,
    limit: int | None,
    limit_train: int | None,
    resume_dir: Path | None,
    executor_name: str | None,
    jobs: int | None,
    executor_args: str | None,
    print_config: bool,
    quiet: bool,
) -> None:
    """Train M0, evaluate it on the test split and every spec, run the interventions, and write
    OUTPUT_DIR/<run-id>/results.json and samples.jsonl.

    With no arguments, runs the embedded demo (built-in task, specs and fast model, on CPU).
    """
    from harness.config import resolve_config
    from harness.plugins import load_registries

    registries = load_registries()  # once for the whole command

    overrides: dict[str, Any] = {
        "task": task,
        "specs": specs,
        "model": model,
        "model_args": parse_key_values(model_args, "--model-args") if model_args else None,
        "task_args": parse_key_values(task_args, "--task-args") if task_args else None,
        "interventions": (
            parse_interventions(interventions, "--interventions")
            if interventions is not None
            else None
        ),
        "seeds": seeds,
        "budget": budget,
        "output_dir": output_dir,
        "device": device,
        "cache": False if no_cache else None,
        "cache_dir": cache_dir,
        "limit": limit,
        "train_limit": limit_train,
        "executor": executor_overrides(executor_name, jobs, executor_args),
    }
    if resume_dir is not None:
        from harness.resume import resume_config

        given = [
            k for k, v in overrides.items() if v is not None and k not in ("cache_dir", "executor")
        ]
        config = resume_config(resume_dir, given, config_path, cache_dir, overrides["executor"])
    else:
        config = resolve_config(config_path, overrides, registries=registries)
    if print_config:
        import yaml

        from harness.config_paths import resolve_config_paths

        config = resolve_config_paths(config, registries).config
        click.echo(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False), nl=False)
        return
    execute(config, quiet=quiet, run_dir=resume_dir, registries=registries)


def executor_overrides(
    name: str | None, jobs: int | None, args: str | None
) -> dict[str, Any] | None:
    """The ``executor`` keys the flags set (``None``: no executor flag given)."""
    if jobs is not None and jobs < 1:
        from harness.errors import UserError

        raise UserError(
            f"--jobs must be 1 or more, got {jobs}",
            field="--jobs",
            fix="give the number of units to run at once, e.g. --jobs 2",
        )
    values: dict[str, Any] = parse_key_values(args, "--executor-args") if args else {}
    if name is not None:
        values["name"] = name
    if jobs is not None:
        values["jobs"] = jobs
    return values or None


def execute(
    config: Any, quiet: bool = False, run_dir: Path | None = None, registries: Any = None
) -> None:
    """Plan (validating everything), run, and print the tables. ``registries``: the command's
    (built when not given)."""
    from rich.console import Console

    from harness.console import print_result
    from harness.display import console_text
    from harness.plan import plan_run
    from harness.progress import Progress
    from harness.runner import Runner

    plan = plan_run(config, registries)
    progress = Progress(Console(stderr=True), enabled=not quiet)
    runner = Runner(plan, progress, run_dir=run_dir, resume=run_dir is not None)
    if run_dir is not None:
        from harness.resume import warn_if_data_changed

        warn_if_data_changed(run_dir, runner.run_id, plan.config)
    result = runner.run()
    console = Console()
    ctx = click.get_current_context(silent=True)
    print_result(result, console, ci=bool(ctx and ctx.meta.get("harness.ci")))
    console.print(f"wrote {console_text(runner.run_dir / 'results.json', 4_000)}")
    console.print(f"[dim]{console_text(runner.cache.summary(), 4_000)}[/dim]")


def register(group: click.Group) -> None:
    """Add ``run`` to ``group``."""
    group.add_command(run_command)
