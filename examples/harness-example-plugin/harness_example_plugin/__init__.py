"""An example spec-harness plugin.

spec-harness finds this module through the ``harness`` entry point declared in
``pyproject.toml`` and calls the ``@harness.hookimpl`` functions below, each with a ``register``
callable. The plugin's name is the entry-point name, ``example``: every item below can also be
named ``example/<name>`` (needed only when another plugin registers the same short name).
"""

from __future__ import annotations

from importlib.resources import files

import harness
from harness.api import Register, Reporter, Selector, SpecSource, TaskDefinition
from harness.spec_sources import YamlSuiteDirectory
from harness_example_plugin.reporter import FailureCsvReporter
from harness_example_plugin.reviews import ReviewsArgs, load_reviews
from harness_example_plugin.selector import KeywordOverlapSelector

__version__ = "0.1.0"

SUITES = files("harness_example_plugin") / "specs"
"""The folder of YAML suites shipped as package data."""


@harness.hookimpl
def register_tasks(register: Register[TaskDefinition]) -> None:
    """Register the ``reviews`` task."""
    register(
        TaskDefinition(
            name="reviews",
            load=load_reviews,
            args=ReviewsArgs,
            description="generated product reviews (negative/positive, 300 train); "
            "negation is rare in train",
        )
    )


@harness.hookimpl
def register_spec_sources(register: Register[SpecSource]) -> None:
    """Register the suites in ``specs/`` (suite ``reviews``) under the source ``example-suites``."""
    register(YamlSuiteDirectory(root=SUITES, name="example-suites"))


@harness.hookimpl
def register_selectors(register: Register[type[Selector]]) -> None:
    """Register the ``keyword-overlap`` selector."""
    register(KeywordOverlapSelector)


@harness.hookimpl
def register_reporters(register: Register[type[Reporter]]) -> None:
    """Register the ``failure-csv`` reporter."""
    register(FailureCsvReporter)
