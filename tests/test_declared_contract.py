"""The core reads what an intervention declares, never its name: an in-process intervention with
its own pairing (a ``shuffled`` baseline and a ``longest`` guided order within its own group) and
its own budget (its ``size``, whatever the run's ``budget``) gets comparisons, checks and
planning pool checks that follow its declarations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import numpy as np
import pytest
from pydantic import Field

import harness
from harness.analysis import analyse
from harness.api import (
    ComparisonRole,
    Intervention,
    InterventionContext,
    InterventionOutcome,
    Register,
    Split,
    StrictModel,
    Task,
    TaskDefinition,
)
from harness.config import resolve_config
from harness.errors import UserError
from harness.plan import plan_run
from harness.plugins import get_plugin_manager
from harness.report_views import iter_samples
from harness.results import read_result
from harness.runner import Runner

FAST_BOW = {"buckets": 512, "dim": 8, "hidden": 8, "epochs": 2}

SUITE = """\
suite: pools
labels: [calm, rude]
specs:
  - id: polite-refusal
    description: A polite refusal is calm.
    label: calm
    templates: ["no thanks, {{ who }}", "not today, {{ who }}"]
    heldout_templates: ["maybe later, {{ who }}", "I will pass, {{ who }}"]
    slots: {who: [friend, neighbour, colleague, stranger, teacher]}
  - id: name-calling
    description: Calling someone a name is rude.
    label: rude
    templates: ["you are a {{ insult }}", "what a {{ insult }}"]
    heldout_templates: ["such a {{ insult }} you are", "total {{ insult }}"]
    slots: {insult: [clown, fool, goon, dolt, creep]}
"""


def _split(prefix: str, rows: list[tuple[str, int]], source: str | None = None) -> Split:
    return Split(
        ids=[f"{prefix}{i}" for i in range(len(rows))],
        texts=[text for text, _ in rows],
        labels=np.array([label for _, label in rows]),
        sources=None if source is None else [source] * len(rows),
    )


def _rows(n: int, offset: int, short: bool = False) -> list[tuple[str, int]]:
    calm = ["thanks {}", "see you at {}", "the park is open at {}", "lunch at {} sounds good"]
    rude = ["go away {}", "you ruin everything {}", "shut it {}", "nobody likes you {}"]
    rows = []
    for i in range(n):
        label = (i + offset) % 2
        words = (rude if label else calm)[(i + offset) % 4].format(i + offset)
        rows.append((words if short else f"{words} and some more words to make it long", label))
    return rows


def load_pools(empty_pool: bool = False) -> Task:
    """Train and test, and a pool of two named sources: ``near`` (long texts) and ``far``
    (short ones)."""
    near = _split("near:", _rows(20, 100), "near")
    far = _split("far:", _rows(20, 200, short=True), "far")
    pool = near.concat(far)
    if empty_pool:
        pool = pool.subset([])
    return Task(
        name="pools",
        label_names=["calm", "rude"],
        train=_split("tr", _rows(60, 0, short=True)),
        test=_split("te", _rows(40, 50, short=True)),
        pool=pool,
    )


class SubsampleArgs(StrictModel):
    """Parameters of ``subsample``."""

    size: int = Field(ge=1, description="pool examples added (the run's budget is ignored)")
    order: Literal["shuffled", "longest"] = "shuffled"
    sources: list[str] | None = None


class Subsample(Intervention[SubsampleArgs]):
    """Adds ``size`` pool examples: a shuffled sample (the baseline) or the longest texts."""

    name = "subsample"
    Args = SubsampleArgs
    uses_pool = True

    def label(self) -> str:
        args = self.args
        return f"sub-{args.order}-{args.size}" + (
            "-" + "+".join(args.sources) if args.sources else ""
        )

    def budget_spent(self, run_budget: int) -> int | None:
        return self.args.size  # its own size, whatever the run's budget

    def pool_sources(self) -> list[str] | None:
        return self.args.sources

    def comparison_role(self, run_budget: int | None) -> ComparisonRole:
        args = self.args
        return ComparisonRole(
            group="subsample",
            role="baseline" if args.order == "shuffled" else "guided",
            budget=args.size,
            sources=None if args.sources is None else tuple(args.sources),
            comparison_kind="longest-vs-shuffled",
            baseline_name="shuffled subsample",
            baseline_hint=f"a subsample with {{order: shuffled, size: {args.size}}}",
        )

    def apply(self, ctx: InterventionContext) -> InterventionOutcome:
        pool = ctx.task.pool
        wanted = self.args.sources
        rows = [i for i, s in enumerate(pool.source_names()) if wanted is None or s in wanted]
        if self.args.order == "shuffled":
            chosen = np.random.default_rng(ctx.seed).permutation(rows)[: self.args.size]
        else:
            chosen = np.array(sorted(rows, key=lambda i: -len(pool.texts[i]))[: self.args.size])
        split = ctx.task.train.concat(pool.subset(chosen))
        model = ctx.train_model(ctx.new_model(), split, self.label())
        return InterventionOutcome(model=model, changes={"n_added": len(chosen)})


class SubsamplePlugin:
    """Registers the task and the intervention in-process."""

    @harness.hookimpl
    def register_tasks(self, register: Register[TaskDefinition]) -> None:
        register(TaskDefinition(name="pools", load=load_pools))
        register(TaskDefinition(name="no-pool", load=lambda: load_pools(empty_pool=True)))

    @harness.hookimpl
    def register_interventions(self, register: Register[type[Intervention]]) -> None:
        register(Subsample)


@pytest.fixture(autouse=True)
def subsample_plugin() -> Iterator[None]:
    pm = get_plugin_manager()
    pm.register(SubsamplePlugin(), name="subsample-plugin")
    yield
    pm.unregister(name="subsample-plugin")


def config_file(tmp_path: Path, interventions: str, task: str = "pools") -> Path:
    (tmp_path / "pools.yaml").write_text(SUITE, encoding="utf-8")
    path = tmp_path / "run.yaml"
    path.write_text(
        f"task: {task}\nspecs: [pools.yaml]\nmodel: bow\nmodel_args: {FAST_BOW}\n"
        f"seeds: 1\nbudget: 3\ndevice: cpu\noutput_dir: runs\ninterventions:\n{interventions}",
        encoding="utf-8",
    )
    return path


INTERVENTIONS = """\
  - {name: subsample, params: {size: 8, order: shuffled, sources: [near]}}
  - {name: subsample, params: {size: 8, order: longest, sources: [near]}}
  - {name: subsample, params: {size: 12, order: longest}}
  - {name: retrain, params: {selection: random}}
"""


def test_comparisons_and_checks_follow_the_declared_pairing(tmp_path: Path) -> None:
    config = resolve_config(config_file(tmp_path, INTERVENTIONS))
    runner = Runner(plan_run(config))
    result = runner.run()
    rows = [m.id for m in result.models]
    assert rows == ["M0", "sub-shuffled-8-near", "sub-longest-8-near", "sub-longest-12", *rows[4:]]
    assert rows[4] == "retrain-random"
    kinds = {(c["a"], c["b"]): c["kind"] for c in result.comparisons}
    # paired within its own group, at its own size (not the run's budget of 3) and sources
    assert kinds[("sub-longest-8-near", "sub-shuffled-8-near")] == "longest-vs-shuffled"
    assert [k for k in kinds if k[1] != "M0"] == [("sub-longest-8-near", "sub-shuffled-8-near")]
    assert all(kinds[(row, "M0")] == "vs-M0" for row in rows[1:])
    checks = {c["id"]: c for c in result.checks}
    judged = checks["fr-below:sub-longest-8-near:sub-shuffled-8-near"]
    assert judged["kind"] == "expected-outcome" and judged["status"] in ("PASS", "FAIL")
    assert "fr-below:sub-longest-8-near:M0" in checks
    warn = checks["unjudged:sub-longest-12"]
    assert warn["status"] == "WARN"
    assert warn["detail"] == (
        "sub-longest-12 is not judged by the expected-outcome check: no shuffled subsample at "
        "budget 12 draws from the same candidates (every pool source); add a subsample with "
        "{order: shuffled, size: 12} to compare it"
    )
    # the retrain baseline has no guided partner: no retrain pairing, no retrain warning
    assert not any("retrain" in key for key in checks if key.startswith(("fr-below", "unjudged")))
    # a report re-analyses the written run from its recorded params, through the registries
    stored = read_result(runner.run_dir)
    again = analyse(
        stored.model_copy(update={"comparisons": [], "checks": []}),
        iter_samples(runner.run_dir / "samples.jsonl"),
    )
    assert again.comparisons == stored.comparisons and again.checks == stored.checks


def test_planning_pool_checks_follow_the_declared_budget_and_sources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = "  - {name: subsample, params: {size: 30, order: shuffled, sources: [far]}}\n"
    plan_run(resolve_config(config_file(tmp_path, big)))
    assert (
        "warning: task 'pools': the pool has 20 examples in source(s) far, fewer than the budget "
        "30: sub-shuffled-30-far adds at most 20"
    ) in capsys.readouterr().err
    fits = "  - {name: subsample, params: {size: 20, order: shuffled, sources: [far]}}\n"
    plan_run(resolve_config(config_file(tmp_path, fits)))  # the run's budget (3) is not used
    assert "warning" not in capsys.readouterr().err
    unknown = "  - {name: subsample, params: {size: 5, sources: [nowhere]}}\n"
    with pytest.raises(UserError) as caught:
        plan_run(resolve_config(config_file(tmp_path, unknown)))
    assert caught.value.field == "interventions (sub-shuffled-5-nowhere).params.sources"
    assert "unknown pool source 'nowhere'" in caught.value.one_line()
    with pytest.raises(UserError) as caught:
        plan_run(resolve_config(config_file(tmp_path, fits.replace("[far]", "null"), "no-pool")))
    assert "sub-shuffled-20 draws up to 20 examples from the pool" in caught.value.one_line()
    assert not (tmp_path / "runs").exists()


# --------------------------------------------------------------------------------------------
# Reporters and spec sources: suffixes from their declarations


class FailureTsv(harness.api.Reporter):
    """Claims ``.tsv`` and ``.tab``; ``--format tab`` is an alias."""

    name = "failure-tsv"
    suffix = ".tsv"
    suffixes = (".tab",)
    aliases = ("tab",)

    def render(self, runs: list[object]) -> str:
        return "run\tmodels\n"


class OtherTab(harness.api.Reporter):
    name = "other-tab"
    suffix = ".tab"

    def render(self, runs: list[object]) -> str:
        return "other\n"


class ReporterPlugin:
    def __init__(self, *reporters: type[harness.api.Reporter]) -> None:
        self.reporters = reporters

    @harness.hookimpl
    def register_reporters(self, register: Register[type[harness.api.Reporter]]) -> None:
        for reporter in self.reporters:
            register(reporter)


def test_report_output_suffix_picks_the_reporter_that_declares_it(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from test_reports import build_run, write_run

    from harness.cli import cli

    result, samples, _ = build_run()
    run_dir = str(write_run(tmp_path, analyse(result, samples), samples))
    pm = get_plugin_manager()
    pm.register(ReporterPlugin(FailureTsv), name="tsv-plugin")
    try:
        runner = CliRunner()
        done = runner.invoke(cli, ["report", run_dir, "-o", str(tmp_path / "fr.tsv")])
        assert done.exit_code == 0, done.output
        assert (tmp_path / "fr.tsv").read_text() == "run\tmodels\n"
        done = runner.invoke(cli, ["report", run_dir, "--format", "tab"])  # a declared alias
        assert done.exit_code == 0 and done.stdout == "run\tmodels\n"
        done = runner.invoke(cli, ["report", run_dir, "-o", str(tmp_path / "fr.htm")])
        assert done.exit_code == 0 and "<html" in (tmp_path / "fr.htm").read_text().lower()
        done = runner.invoke(cli, ["report", run_dir, "-o", str(tmp_path / "fr.txt")])
        assert done.exit_code == 2 and not (tmp_path / "fr.txt").exists()
        (line,) = done.output.strip().splitlines()
        assert "no reporter writes the suffix '.txt'" in line
        for known in (".html", ".htm", ".json", ".md", ".markdown", ".tsv", ".tab"):
            assert known in line
        assert "--format NAME" in line
        pm.register(ReporterPlugin(OtherTab), name="tab-plugin")
        done = runner.invoke(cli, ["report", run_dir, "-o", str(tmp_path / "fr.tab")])
        assert done.exit_code == 2
        assert "the suffix .tab is declared by reporters failure-tsv, other-tab" in done.output
        out = str(tmp_path / "x.tab")
        done = runner.invoke(cli, ["report", run_dir, "--format", "other-tab", "-o", out])
        assert done.exit_code == 0, done.output
    finally:
        for name in ("tsv-plugin", "tab-plugin"):
            if pm.has_plugin(name):
                pm.unregister(name=name)


def test_spec_paths_go_to_the_source_that_declares_their_suffix(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from harness.config import SpecRef
    from harness.plugins import load_registries
    from harness.specs.loading import guess_source

    sources = load_registries().spec_sources
    (tmp_path / "suites").mkdir()
    (tmp_path / "suites" / "pools.yml").write_text(SUITE, encoding="utf-8")
    table = pa.table({"spec": ["a", "a"], "text": ["x", "y"], "label": ["calm", "calm"]})
    pq.write_table(table, tmp_path / "cases.parquet")
    (tmp_path / "cases.txt").write_text("x\n", encoding="utf-8")
    assert guess_source(SpecRef(ref=str(tmp_path / "suites")), sources) == "yaml"
    assert guess_source(SpecRef(ref=str(tmp_path / "suites" / "pools.yml")), sources) == "yaml"
    assert guess_source(SpecRef(ref=str(tmp_path / "cases.parquet")), sources) == "csv"
    with pytest.raises(UserError) as caught:
        guess_source(SpecRef(ref=str(tmp_path / "cases.txt")), sources)
    line = caught.value.one_line()
    assert "no spec source reads .txt files without being named" in line
    assert "set source: NAME" in line and ".csv" in line and ".yaml" in line
