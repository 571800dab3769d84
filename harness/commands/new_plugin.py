"""``harness new-plugin NAME``: write a ready-to-install plugin skeleton with a passing test."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

import click

from harness.errors import UserError

NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)*$")
RESERVED_MODULES = {"harness", "harness_plugins", "harness_specs", "tests", "test"}


@dataclass(frozen=True)
class PluginNames:
    """The names derived from ``NAME``: folder and distribution, import name, plugin name."""

    distribution: str
    module: str
    plugin: str


def plugin_names(name: str) -> PluginNames:
    """Derive the distribution, module and plugin (entry-point) names from ``name``; raise a
    :class:`UserError` if it cannot be a distribution and an import name."""
    if not NAME_RE.match(name):
        raise UserError(
            f"{name!r} is not a valid plugin name",
            field="NAME",
            fix="use letters, digits and single '-' or '_' between them, starting with a "
            "letter, e.g. harness-my-plugin",
        )
    distribution = name.lower().replace("_", "-")
    module = distribution.replace("-", "_")
    if keyword.iskeyword(module) or module in RESERVED_MODULES:
        raise UserError(
            f"{name!r} would shadow the module {module!r}",
            field="NAME",
            fix="choose another name, e.g. harness-" + distribution,
        )
    plugin = distribution.removeprefix("harness-") or distribution
    return PluginNames(distribution=distribution, module=module, plugin=plugin)


PYPROJECT = Template("""\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "$distribution"
version = "0.1.0"
description = "A spec-harness plugin"
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["spec-harness"]

[project.optional-dependencies]
test = ["pytest>=7.4"]

# spec-harness loads every module named in this group; "$plugin" is the plugin's name
# (items can be named $plugin/<name> when another plugin uses the same short name).
[project.entry-points.harness]
$plugin = "$module"

[tool.setuptools]
packages = ["$module"]

[tool.setuptools.package-data]
$module = ["specs/*.yaml"]

[tool.pytest.ini_options]
testpaths = ["tests"]
""")

README = Template("""\
# $distribution

A spec-harness plugin. It registers the task `$plugin` (is a fruit
mentioned?) and the spec suite `$plugin`, and comes with a first experiment, `run.yaml`.

## Install

spec-harness is installed from a checkout (a folder holding its `pyproject.toml`); install it
first, into the same environment, then this plugin:

```bash
pip install torch                          # as spec-harness's README says (CPU wheel is enough)
pip install -e /path/to/spec-harness       # your spec-harness checkout
pip install -e '.[test]'                   # this plugin, with pytest
harness list                               # shows the task and suite, plugin $plugin
pytest
```

## A first experiment

```bash
harness run --config run.yaml
```

M0 learns fruit words from a small train split; the specs' held-out cases name fruits and
furniture it has not seen, so it fails some of them. Two retrains add 200 pool examples each:
chosen at random, or guided by the specs (`tfidf`); the pool holds a few examples with the
unseen words. The report compares them on the same cases, and the expected-outcome check judges
whether the guided retrain fails fewer specs than the random one and than M0 (PASS or FAIL, on
3 seeds). Edit `run.yaml` (or pass flags, e.g. `--seeds 5`) to change the experiment.

## Next

Add more items by implementing further hooks in `$module/__init__.py`: see the hook reference
(`harness plugins --docs`).
""")

RUN_CONFIG = Template("""\
# A first experiment with the $plugin plugin: `harness run --config run.yaml`.
# M0 is trained on the task's train split; two retrains add `budget` pool examples each, drawn
# at random or guided by the specs' D_i cases (tfidf), so the expected-outcome check can judge
# whether guided retraining fails fewer specs than random retraining and than M0.
task: $plugin/$plugin
task_args: {n_train: 300, n_test: 200, n_pool: 1000}
specs: [$plugin/$plugin]
model: bow
seeds: 3                   # seed-to-seed variance is part of every interval
budget: 200                # pool examples each retrain adds (the pool holds 1000)
interventions:
  - name: retrain
    params: {selection: random}
  - name: retrain
    params: {selection: tfidf}
""")

MODULE = Template('''\
"""The $plugin plugin for spec-harness: registers a tiny task and a spec suite.

spec-harness finds this module through the ``harness`` entry point in ``pyproject.toml`` and
calls every ``@harness.hookimpl`` function below with a ``register`` callable. Other hooks:
``register_models``, ``register_selectors``, ``register_interventions``, ``register_reporters``,
``register_commands`` and ``prepare_jinja2_environment`` (see ``harness plugins --docs``).
"""

from __future__ import annotations

import random
from importlib.resources import files
from typing import Any

import numpy as np
from pydantic import Field

import harness
from harness.api import Split, StrictModel, Task, TaskDefinition
from harness.spec_sources import YamlSuiteDirectory

LABELS = ["other", "fruit"]
FRUIT = ["apple", "pear", "plum", "cherry", "mango", "peach"]
OTHER = ["table", "chair", "lamp", "door", "shelf", "window"]
RARE = (["sofa", "desk", "stool", "bench"], ["banana", "grape", "kiwi", "lemon"])
"""Words of each label that train never shows; the specs' cases use them, the pool has a few."""
TEMPLATES = [
    "i bought a {}",
    "the {} is on the left",
    "look at that {}",
    "where is my {}?",
    "please hand me the {}",
    "i found the {} yesterday",
    "we talked about the {}",
]
COLOURS = ["red", "dark", "pale", "small", "big", "green", "blue", "brown"]
WHEN = ["", " today", " yesterday", " again", " at last", " this morning", " for you", " too"]


class TaskArgs(StrictModel):
    """Arguments of the ``$plugin`` task (``--task-args n_train=...``)."""

    n_train: int = Field(default=300, ge=10)
    n_test: int = Field(default=200, ge=10)
    n_pool: int = Field(default=1000, ge=0)
    rare_share: float = Field(
        default=0.05, ge=0, le=1, description="share of pool examples with a word train lacks"
    )
    seed: int = 0


def load_task(
    n_train: int = 300,
    n_test: int = 200,
    n_pool: int = 1000,
    rare_share: float = 0.05,
    seed: int = 0,
) -> Task:
    """Generate the task: is a fruit mentioned? (Replace this with your own data.)"""
    rng = random.Random(seed)
    splits: dict[str, Split] = {}
    seen: set[str] = set()  # the pool stands for new data: it repeats no train or test text
    for name, size in (("train", n_train), ("test", n_test), ("pool", n_pool)):
        labels = [rng.randrange(2) for _ in range(size)]
        texts = []
        for y in labels:
            rare = name == "pool" and rng.random() < rare_share
            words = (RARE if rare else (OTHER, FRUIT))[y]
            for _ in range(100):
                word = f"{rng.choice(COLOURS)} {rng.choice(words)}"
                text = rng.choice(TEMPLATES).format(word) + rng.choice(WHEN)
                if name != "pool" or text not in seen:
                    break
            texts.append(text)
        if name != "pool":
            seen.update(texts)
        splits[name] = Split(
            ids=[f"{name}-{i}" for i in range(size)],
            texts=texts,
            labels=np.array(labels, dtype=np.int64),
        )
    return Task(name="$plugin", label_names=list(LABELS), **splits)


@harness.hookimpl
def register_tasks(register: Any) -> None:
    """Register the ``$plugin`` task."""
    register(
        TaskDefinition(
            name="$plugin",
            load=load_task,
            args=TaskArgs,
            description="a tiny generated task from the $plugin plugin",
        )
    )


@harness.hookimpl
def register_spec_sources(register: Any) -> None:
    """Register the suites in ``specs/`` (suite ``$plugin``)."""
    register(YamlSuiteDirectory(root=files("$module") / "specs", name="$plugin-suites"))
''')

SUITE = Template("""\
suite: $plugin
description: Example specs of the $plugin plugin.
labels: [other, fruit]
max_cases: 50
# the last four words of each list never occur in the task's train split (the pool has a few)
slots:
  fruit: [apple, pear, plum, cherry, mango, peach, banana, grape, kiwi, lemon]
  thing: [table, chair, lamp, door, shelf, window, sofa, desk, stool, bench]

specs:
  - id: $plugin-mentions-fruit
    description: A sentence that mentions a fruit is labelled fruit.
    label: fruit
    templates:
      - "I ate {{ fruit | a_an }} today."
      - "This {{ fruit }} is ripe."
    heldout_templates:
      - "Could you pass me the {{ fruit }}?"
      - "My favourite snack is {{ fruit | a_an }}."
      - "There is {{ fruit | a_an }} in my bag."
  - id: $plugin-no-fruit
    description: A sentence without a fruit is labelled other.
    label: other
    templates:
      - "I moved the {{ thing }} today."
      - "This {{ thing }} is new."
    heldout_templates:
      - "Could you pass me the {{ thing }}?"
      - "My favourite piece of furniture is the {{ thing }}."
      - "There is a {{ thing }} in my room."
""")

TEST = Template('''\
"""Tests of the $plugin plugin. Install the plugin first: ``pip install -e '.[test]'``."""

from __future__ import annotations

import importlib.metadata
import json

from click.testing import CliRunner

from harness.cli import cli
from harness.config import SpecRef
from harness.plugins import load_registries, reset_plugin_manager
from harness.specs.loading import load_suites


def setup_function() -> None:
    reset_plugin_manager()


def test_plugin_is_installed() -> None:
    names = {ep.name for ep in importlib.metadata.entry_points(group="harness")}
    assert "$plugin" in names, "install the plugin first: pip install -e ."
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    plugins = {row["name"]: row for row in json.loads(result.output)}
    assert plugins["$plugin"]["distribution"] == "$distribution"
    assert "register_tasks" in plugins["$plugin"]["hooks"]


def test_list_shows_the_task_and_suite() -> None:
    result = CliRunner().invoke(cli, ["list", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    ours = [row["name"] for row in listed["tasks"] if row["plugin"] == "$plugin"]
    assert ours == ["$plugin"]
    assert any(row["name"] == "$plugin" for row in listed["specs"])


def test_task_loads() -> None:
    task = load_registries().tasks.get("$plugin/$plugin").load(n_train=20, n_test=10, n_pool=0)
    assert (len(task.train), len(task.test), len(task.pool)) == (20, 10, 0)
    assert set(task.train.labels.tolist()) <= {0, 1}


def test_suite_compiles() -> None:
    sources = load_registries().spec_sources
    (suite,) = load_suites([SpecRef(ref="$plugin/$plugin")], sources)
    assert len(suite.specs) == 2
    assert all(spec.train_cases and spec.heldout_cases for spec in suite.specs)
''')

GITIGNORE = "build/\ndist/\n*.egg-info/\n__pycache__/\n.pytest_cache/\n"


def skeleton_files(names: PluginNames) -> dict[str, str]:
    """``{relative path: content}`` of the skeleton for ``names``."""
    values = {"distribution": names.distribution, "module": names.module, "plugin": names.plugin}
    return {
        "pyproject.toml": PYPROJECT.substitute(values),
        "README.md": README.substitute(values),
        "run.yaml": RUN_CONFIG.substitute(values),
        ".gitignore": GITIGNORE,
        f"{names.module}/__init__.py": MODULE.substitute(values),
        f"{names.module}/specs/{names.plugin}.yaml": SUITE.substitute(values),
        f"tests/test_{names.module}.py": TEST.substitute(values),
    }


def write_skeleton(name: str, parent: Path) -> Path:
    """Write the skeleton of plugin ``name`` into ``parent/<name>``; refuse to overwrite."""
    names = plugin_names(name)
    target = parent / names.distribution
    if target.exists():
        raise UserError(
            "already exists; not overwriting it",
            file=target,
            fix="choose another NAME or --directory, or remove the folder",
        )
    for relative, content in skeleton_files(names).items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return target


@click.command("new-plugin")
@click.argument("name")
@click.option(
    "--directory",
    "-d",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Folder to create the plugin folder in.",
)
def new_plugin_command(name: str, directory: Path) -> None:
    """Write a ready-to-install plugin skeleton into the folder NAME.

    It holds a pyproject.toml with a `harness` entry point, a module registering a tiny task and
    a spec suite, and a passing test. An existing folder is never overwritten (exit 2).
    """
    target = write_skeleton(name, directory)
    names = plugin_names(name)
    click.echo(f"wrote {target}/ (distribution {names.distribution}, plugin {names.plugin})")
    click.echo("next steps (README.md says more):")
    click.echo(f"  cd {target}")
    click.echo(f"  pip install -e {checkout_hint()}   # spec-harness, if pip does not have it yet")
    click.echo("  pip install -e '.[test]'")
    click.echo("  pytest")
    click.echo("  harness run --config run.yaml   # M0, then random vs spec-guided retraining")


def checkout_hint() -> str:
    """The spec-harness checkout this command runs from (``/path/to/spec-harness`` when it
    was not installed from one)."""
    root = Path(__file__).resolve().parents[2]
    return str(root) if (root / "pyproject.toml").is_file() else "/path/to/spec-harness"


def register(group: click.Group) -> None:
    """Add ``new-plugin`` to ``group``."""
    group.add_command(new_plugin_command)
