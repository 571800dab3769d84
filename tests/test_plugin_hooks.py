"""One test per hook of :mod:`harness.hookspecs` (``test_hook_<name>``), each registering an
in-process plugin that implements the hook and checking its effect.

``tests/test_plugin_docs.py`` fails when a hook has no test here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import click
import numpy as np
import pytest
from click.testing import CliRunner

import harness
from harness.api import (
    DifficultyMeasure,
    ExampleScores,
    Executor,
    Intervention,
    InterventionContext,
    InterventionOutcome,
    Model,
    ModelFamily,
    QueryGroups,
    Rankings,
    Reporter,
    Selector,
    Spec,
    SpecCase,
    SpecSource,
    SpecSuite,
    Split,
    StrictModel,
    Task,
    TaskDefinition,
    Texts,
)
from harness.cli import cli
from harness.config import SpecRef
from harness.errors import UserError
from harness.grid import Grid
from harness.plugins import get_plugin_manager, load_registries
from harness.results import read_result
from harness.specs.compiler import compile_suite_file
from harness.specs.loading import load_suites

RegisterPlugin = Callable[[object, str], None]

TINY_SUITE = """\
suite: tiny-suite
labels: [bad, good]
specs:
  - id: tiny-good
    label: good
    templates: ["a good {{ thing }}"]
    heldout_templates: ["{{ thing }} is good"]
    slots: {thing: [pen, cup, hat]}
  - id: tiny-bad
    label: bad
    templates: ["a bad {{ thing }}"]
    heldout_templates: ["{{ thing }} is bad"]
    slots: {thing: [pen, cup, hat]}
"""


@pytest.fixture
def register_plugin() -> Iterator[RegisterPlugin]:
    """``register_plugin(obj, name)`` registers an in-process plugin; unregistered afterwards."""
    pm = get_plugin_manager()
    names: list[str] = []

    def register(plugin: object, name: str) -> None:
        pm.register(plugin, name=name)
        names.append(name)

    yield register
    for name in names:
        if pm.has_plugin(name):
            pm.unregister(name=name)


def tiny_task() -> Task:
    """40 texts, half ``good``, half ``bad``; the same split serves as train, test and pool."""
    words = ["good", "bad"] * 20
    split = Split(
        ids=[f"t{i}" for i in range(len(words))],
        texts=[f"a {word} thing number {i}" for i, word in enumerate(words)],
        labels=np.array([1 if word == "good" else 0 for word in words]),
    )
    return Task(name="tiny", label_names=["bad", "good"], train=split, test=split, pool=split)


class TinyTaskPlugin:
    """Registers the ``tiny`` task."""

    @harness.hookimpl
    def register_tasks(self, register: Any) -> None:
        register(TaskDefinition(name="tiny", load=tiny_task, description="a tiny test task"))


def listed(kind: str) -> list[dict[str, str]]:
    """The rows of ``harness list KIND --json``."""
    result = CliRunner().invoke(cli, ["list", kind, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)[kind]


def run_cli(tmp_path: Path, *args: str) -> Any:
    """Run ``harness run`` on the tiny task and suite; return the written result."""
    suite = tmp_path / "tiny-suite.yaml"
    suite.write_text(TINY_SUITE)
    runs = tmp_path / "runs"
    base = ["run", "--task", "tiny", "--specs", str(suite), "--seeds", "1", "--quiet"]
    base += ["--interventions", ""]  # M0 only, unless args name interventions
    result = CliRunner().invoke(cli, [*base, "--output-dir", str(runs), *args])
    assert result.exit_code == 0, result.output
    (run_dir,) = list(runs.iterdir())
    return read_result(run_dir)


# --------------------------------------------------------------------------------------------


def test_hook_register_tasks(register_plugin: RegisterPlugin) -> None:
    register_plugin(TinyTaskPlugin(), "hooks-tasks")
    rows = [row for row in listed("tasks") if row["plugin"] == "hooks-tasks"]
    assert rows == [
        {
            "name": "tiny",
            "plugin": "hooks-tasks",
            "origin": "(registered in-process)",
            "description": "a tiny test task",
        }
    ]
    task = load_registries().tasks.get("hooks-tasks/tiny").load()
    assert task.label_names == ["bad", "good"] and len(task.train) == 40


class InlineSource(SpecSource):
    """A spec source that builds one suite in memory and echoes any other reference."""

    name = "inline"
    description = "suites built in code"

    def suites(self) -> dict[str, str]:
        return {"inline-suite": "one spec built in code"}

    def load(self, ref: str, options: dict[str, Any], *, seed: int = 0) -> list[SpecSuite]:
        case = SpecCase(id=f"{ref}-0", text=f"text for {ref}", spec_id=ref, split="heldout")
        spec = Spec(id=ref, description="inline", label="good", heldout_cases=[case])
        return [SpecSuite(name=ref, source="inline", specs=[spec])]


class SpecSourcePlugin:
    """Registers the ``inline`` spec source."""

    @harness.hookimpl
    def register_spec_sources(self, register: Any) -> None:
        register(InlineSource())


def test_hook_register_spec_sources(register_plugin: RegisterPlugin) -> None:
    register_plugin(SpecSourcePlugin(), "hooks-specs")
    names = {row["name"] for row in listed("specs") if row["plugin"] == "hooks-specs"}
    assert names == {"inline-suite", "inline:PATH"}
    sources = load_registries().spec_sources
    for ref in ("inline-suite", "hooks-specs/inline-suite"):
        (suite,) = load_suites([SpecRef(ref=ref)], sources)
        assert suite.name == "inline-suite"
        assert suite.specs[0].heldout_cases[0].text == "text for inline-suite"
    (other,) = load_suites([SpecRef(ref="inline:anything")], sources)
    assert other.name == "anything"


class MajorityModel(Model):
    """Predicts the class frequencies of the training labels for every text (no torch)."""

    name = "majority"
    description = "always the training label frequencies"

    def fit(
        self, texts: Sequence[str], labels: np.ndarray, seed: int, progress: Any = None
    ) -> None:
        counts = np.bincount(np.asarray(labels), minlength=self.num_labels).astype(float)
        self.prior = counts / counts.sum()

    def predict_proba(self, texts: Sequence[str], progress: Any = None) -> np.ndarray:
        return np.tile(self.prior, (len(texts), 1))

    def save(self, directory: Path) -> None:
        (directory / "prior.json").write_text(json.dumps(self.prior.tolist()))

    def load(self, directory: Path) -> None:
        self.prior = np.array(json.loads((directory / "prior.json").read_text()))


class ModelPlugin:
    """Registers the ``majority`` model."""

    @harness.hookimpl
    def register_models(self, register: Any) -> None:
        register(MajorityModel)


def test_hook_register_models(register_plugin: RegisterPlugin, tmp_path: Path) -> None:
    register_plugin(TinyTaskPlugin(), "hooks-tasks")
    register_plugin(ModelPlugin(), "hooks-models")
    assert [row["name"] for row in listed("models") if row["plugin"] == "hooks-models"] == [
        "majority"
    ]
    run = run_cli(tmp_path, "--model", "hooks-models/majority")
    assert run.config["model"] == "hooks-models/majority"
    (seed,) = run.model("M0").seeds
    assert seed.test is not None and seed.test.accuracy == pytest.approx(0.5)
    # a constant predictor fails exactly one of the two opposite-label specs
    assert sorted(score.fr for score in seed.heldout.values()) == [0.0, 1.0]


class FirstSelector(Selector):
    """Picks the first ``k`` pool examples, scoring them by position."""

    name = "first"
    description = "the first k pool examples"

    def top_k(
        self, pool_texts: Texts, queries: QueryGroups, k: int, seed: int, model: Model | None = None
    ) -> Rankings:
        indices = np.arange(min(k, len(pool_texts)), dtype=np.int64)
        return [(indices, -indices.astype(float)) for _ in queries]


class SelectorPlugin:
    """Registers the ``first`` selector."""

    @harness.hookimpl
    def register_selectors(self, register: Any) -> None:
        register(FirstSelector)


def test_hook_register_selectors(register_plugin: RegisterPlugin) -> None:
    register_plugin(SelectorPlugin(), "hooks-selectors")
    rows = [row for row in listed("selectors") if row["plugin"] == "hooks-selectors"]
    assert [row["name"] for row in rows] == ["first"]
    cls = load_registries().selectors.get("first")
    picks = cls(cls.Args()).top_k(["a", "b", "c"], [["q1"], ["q2"]], k=2, seed=0)
    assert [indices.tolist() for indices, _ in picks] == [[0, 1], [0, 1]]


class KeepIntervention(Intervention):
    """Returns M0 unchanged and records what it was given."""

    name = "keep"
    description = "keeps M0 (records the specs and budget it saw)"

    def apply(self, ctx: InterventionContext) -> InterventionOutcome:
        changes = {"specs_seen": len(ctx.specs), "budget": ctx.budget, "seed": ctx.seed}
        return InterventionOutcome(model=ctx.base_model, changes=changes)


class InterventionPlugin:
    """Registers the ``keep`` intervention."""

    @harness.hookimpl
    def register_interventions(self, register: Any) -> None:
        register(KeepIntervention)


def test_hook_register_interventions(register_plugin: RegisterPlugin, tmp_path: Path) -> None:
    register_plugin(TinyTaskPlugin(), "hooks-tasks")
    register_plugin(ModelPlugin(), "hooks-models")
    register_plugin(InterventionPlugin(), "hooks-interventions")
    run = run_cli(tmp_path, "--model", "majority", "--interventions", "keep", "--budget", "7")
    row = run.model("keep")
    assert row.kind == "intervention" and row.intervention == "keep"
    (seed,) = row.seeds
    assert seed.changes == {"specs_seen": 2, "budget": 7, "seed": 0}
    assert seed.heldout == run.model("M0").seeds[0].heldout


class HeldOutProbabilityArgs(StrictModel):
    folds: int = 2


class HeldOutProbability(DifficultyMeasure[HeldOutProbabilityArgs]):
    """The probability a model that did not train on an example gives its label (the example
    of the class reference)."""

    name = "heldout-probability"
    description = "p(label | text) from models trained without the example"
    Args = HeldOutProbabilityArgs
    unit = "probability"

    def score(self, family: ModelFamily, fit: Split, split: Split | None = None) -> ExampleScores:
        target = fit if split is None else split
        probs = np.zeros((len(target), len(family.label_names)))
        if split is not None:
            probs[:] = family.train(fit, self.name).predict_proba(split.texts)
        else:
            fold = np.arange(len(fit)) % self.args.folds
            for f in range(self.args.folds):
                model = family.train(fit.subset(np.flatnonzero(fold != f)), self.name)
                held = np.flatnonzero(fold == f)
                probs[held] = model.predict_proba(fit.subset(held).texts)
        rows = np.arange(len(target))
        values = probs[rows, target.labels]
        others = probs.copy()
        others[rows, target.labels] = -1.0
        return ExampleScores(
            values=values,
            suggested_labels=others.argmax(axis=1),
            summary={"mean": float(values.mean())},
        )


class MeasurePlugin:
    """Registers the ``heldout-probability`` difficulty measure."""

    @harness.hookimpl
    def register_difficulty_measures(self, register: Any) -> None:
        register(HeldOutProbability)


def test_hook_register_difficulty_measures(register_plugin: RegisterPlugin, tmp_path: Path) -> None:
    register_plugin(TinyTaskPlugin(), "hooks-tasks")
    register_plugin(MeasurePlugin(), "hooks-measures")
    rows = [row for row in listed("measures") if row["plugin"] == "hooks-measures"]
    assert [row["name"] for row in rows] == ["heldout-probability"]
    # a registered measure is a relabel method: it flips the k examples it scores lowest
    run = run_cli(
        tmp_path,
        "--model-args",
        "epochs=2,buckets=256,dim=8,hidden=8",
        "--interventions",
        "relabel:method=heldout-probability,k=3,method_args={folds: 4}",
    )
    (seed,) = run.model("relabel-heldout-probability").seeds
    assert seed.changes["n_flipped"] == 3
    assert seed.changes["measure"]["name"] == "heldout-probability"
    assert seed.changes["measure"]["mean_flipped"] <= seed.changes["measure"]["mean"]
    flipped = seed.changes["flip_scores"]
    assert flipped == sorted(flipped)


class LabelsOnlyModel(MajorityModel):
    """The majority model declaring that it gives no graded probabilities."""

    name = "labels-only"
    description = "the majority label, no probabilities"
    provides_probabilities = False


class LabelsOnlyPlugin:
    """Registers the ``labels-only`` model."""

    @harness.hookimpl
    def register_models(self, register: Any) -> None:
        register(LabelsOnlyModel)


@pytest.mark.parametrize("method", ["pvi", "cartography"])
def test_a_measure_refuses_a_model_without_probabilities(
    register_plugin: RegisterPlugin, tmp_path: Path, method: str
) -> None:
    register_plugin(TinyTaskPlugin(), "hooks-tasks")
    register_plugin(LabelsOnlyPlugin(), "hooks-labels-only")
    suite = tmp_path / "tiny-suite.yaml"
    suite.write_text(TINY_SUITE)
    runs = tmp_path / "runs"
    result = CliRunner().invoke(
        cli,
        ["run", "--task", "tiny", "--specs", str(suite), "--seeds", "1", "--quiet"]
        + ["--model", "labels-only", "--output-dir", str(runs)]
        + ["--interventions", f"relabel:method={method}"],
    )
    assert result.exit_code == 2, result.output
    # the tiny suite's few held-out cases give warnings first; the error is one line
    lines = [ln for ln in result.output.strip().splitlines() if not ln.startswith("warning: ")]
    (line,) = lines
    assert line.startswith("error: ") and f"relabel method {method!r} cannot work with" in line
    assert "'labels-only', which gives no class probabilities" in line
    assert not runs.exists()


class CountReporter(Reporter):
    """Renders the number of runs and models."""

    name = "count"
    description = "how many runs and models"
    suffix = ".txt"

    def render(self, runs: list[Any]) -> str:
        return f"{len(runs)} runs, {sum(len(run.models) for run in runs)} models\n"


class ReporterPlugin:
    """Registers the ``count`` reporter."""

    @harness.hookimpl
    def register_reporters(self, register: Any) -> None:
        register(CountReporter)


def test_hook_register_reporters(register_plugin: RegisterPlugin) -> None:
    register_plugin(ReporterPlugin(), "hooks-reporters")
    rows = [row for row in listed("reporters") if row["plugin"] == "hooks-reporters"]
    assert [(row["name"], row["description"]) for row in rows] == [
        ("count", "how many runs and models")
    ]
    reporter = load_registries().reporters.get("hooks-reporters/count")()
    assert reporter.suffix == ".txt"
    assert reporter.render([]) == "0 runs, 0 models\n"


class LastFirstExecutor(Executor):
    """Runs the ready units in this process, the last one first."""

    name = "last-first"
    description = "ready units in reverse plan order"
    ran: list[str] = []

    @property
    def in_process(self) -> bool:
        return True

    def execute(self, grid: Grid) -> None:
        while not grid.done and (ready := grid.ready()):
            LastFirstExecutor.ran.append(ready[-1].key)
            grid.run_here(ready[-1])


class ExecutorPlugin:
    @harness.hookimpl
    def register_executors(self, register: Callable[..., None]) -> None:
        register(LastFirstExecutor)


def test_hook_register_executors(register_plugin: RegisterPlugin, tmp_path: Path) -> None:
    register_plugin(ExecutorPlugin(), "hooks-executors")
    register_plugin(TinyTaskPlugin(), "hooks-tiny")
    rows = [row for row in listed("executors") if row["plugin"] == "hooks-executors"]
    assert [row["name"] for row in rows] == ["last-first"]
    grid = ["--seeds", "2", "--interventions", "retrain:selection=random,budget=5"]
    LastFirstExecutor.ran = []
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    reversed_run = run_cli(tmp_path / "a", *grid, "--executor", "last-first")
    assert LastFirstExecutor.ran == [
        "M0 (seed 1)",
        "retrain-random (seed 1)",
        "M0 (seed 0)",
        "retrain-random (seed 0)",
    ]
    local = run_cli(tmp_path / "b", *grid)
    # the same results whatever the order (each run read its own copy of the suite file)
    same = {"timing", "config", "run_id"}
    assert reversed_run.model_dump(exclude=same) == local.model_dump(exclude=same)


class CommandPlugin:
    """Adds ``harness hello``."""

    @harness.hookimpl
    def register_commands(self, cli: click.Group) -> None:
        @cli.command()
        @click.argument("who", default="world")
        def hello(who: str) -> None:
            """Say hello."""
            click.echo(f"hello {who}")


def test_hook_register_commands(
    register_plugin: RegisterPlugin, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.cli import main

    register_plugin(CommandPlugin(), "hooks-commands")
    try:
        with pytest.raises(SystemExit) as info:
            main(["hello", "plugins"])
        assert info.value.code == 0
        assert capsys.readouterr().out == "hello plugins\n"
        help_text = CliRunner().invoke(cli, ["--help"]).output
        assert "hello" in help_text and "Say hello." in help_text
    finally:
        cli.commands.pop("hello", None)


class FilterPlugin:
    """Adds the ``shout`` filter to spec templates."""

    @harness.hookimpl
    def prepare_jinja2_environment(self, env: Any) -> None:
        env.filters["shout"] = lambda s: s.upper() + "!"


def test_hook_prepare_jinja2_environment(register_plugin: RegisterPlugin, tmp_path: Path) -> None:
    path = tmp_path / "shout.yaml"
    path.write_text(TINY_SUITE.replace("a good {{ thing }}", "a good {{ thing | shout }}"))
    with pytest.raises(UserError, match="shout"):
        compile_suite_file(path)
    register_plugin(FilterPlugin(), "hooks-jinja")
    suite = compile_suite_file(path)
    good = next(spec for spec in suite.specs if spec.id == "tiny-good")
    assert {case.text for case in good.train_cases} == {"a good PEN!", "a good CUP!", "a good HAT!"}


class DefaultRunPlugin:
    """Declares a default run on the tiny task and suite (M0 only)."""

    def __init__(self, suite: Path) -> None:
        self.suite = suite

    @harness.hookimpl
    def register_tasks(self, register: Any) -> None:
        register(TaskDefinition(name="tiny-default", load=tiny_task))

    @harness.hookimpl
    def default_run_config(self) -> dict[str, Any]:
        return {
            "task": "tiny-default",
            "specs": [str(self.suite)],
            "model": "hooks-models/majority",
            "interventions": [],
        }


def test_hook_default_run_config(
    register_plugin: RegisterPlugin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.config import RunConfig

    demo = RunConfig()
    assert (demo.task, demo.model) == ("demo", "bow")  # the built-in demo plugin's
    suite = tmp_path / "tiny-suite.yaml"
    suite.write_text(TINY_SUITE)
    register_plugin(ModelPlugin(), "hooks-models")
    register_plugin(DefaultRunPlugin(suite), "hooks-default")  # registered last: it wins
    config = RunConfig()
    assert (config.task, config.model, config.interventions) == (
        "tiny-default",
        "hooks-models/majority",
        [],
    )
    assert RunConfig(task="demo").task_args == {}  # arguments only go with their own task
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(cli, ["run", "--quiet", "--output-dir", "runs"])  # no arguments
    assert done.exit_code == 0, done.output
    (run_dir,) = list((tmp_path / "runs").iterdir())
    result = read_result(run_dir)
    assert result.task.name == "tiny" and [m.id for m in result.models] == ["M0"]


def test_without_a_declared_default_run_the_keys_are_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from harness.config import RunConfig
    from harness.plugins import reset_plugin_manager

    monkeypatch.setenv("HARNESS_DISABLE_PLUGINS", "builtin.tasks.demo")
    reset_plugin_manager()
    try:
        with pytest.raises(UserError) as caught:
            RunConfig()
        assert caught.value.one_line() == (
            "task: no task given, and no plugin declares a default run; give --task (or "
            "`task:` in a config file)"
        )
        done = CliRunner().invoke(cli, ["run", "--task", "files"])
        assert done.exit_code == 2 and "no specs given" in done.output
    finally:
        monkeypatch.delenv("HARNESS_DISABLE_PLUGINS")
        reset_plugin_manager()
