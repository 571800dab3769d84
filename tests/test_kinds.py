"""The plugin kinds are declared once (:data:`harness.kinds.KINDS`); hooks, registries, ``harness
list`` and the docs' table derive from that table, and ``register`` takes only what a kind
declares."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

import harness
from harness import hookspecs
from harness.api import Model, Register, Reporter, Selector, SpecSource, TaskDefinition
from harness.cli import cli
from harness.commands.listing import KINDS as LIST_KINDS
from harness.errors import PluginError
from harness.kinds import KINDS, kind_named
from harness.plugins import REGISTER_HOOKS, Registries, get_plugin_manager, load_registries


@pytest.fixture
def in_process() -> Iterator[list[str]]:
    """Names of in-process plugins to unregister after the test."""
    names: list[str] = []
    yield names
    pm = get_plugin_manager()
    for name in names:
        if pm.has_plugin(name):
            pm.unregister(name=name)


def test_every_list_of_kinds_derives_from_the_table() -> None:
    names = [kind.name for kind in KINDS]
    assert [field.name for field in dataclasses.fields(Registries)] == names
    assert {kind.name: kind.hook for kind in KINDS} == REGISTER_HOOKS
    assert hookspecs.HOOK_NAMES[: len(KINDS)] == tuple(kind.hook for kind in KINDS)
    assert tuple(kind.listing for kind in KINDS) == LIST_KINDS
    assert list(load_registries().by_kind()) == names
    for kind in KINDS:
        assert getattr(hookspecs, kind.hook).__annotations__["register"].startswith("Register[")
        assert load_registries().by_kind()[kind.name].kind == kind.title


def test_kind_accepts_only_its_base() -> None:
    models, tasks = kind_named("models"), kind_named("tasks")
    assert models.accepts(Model) and not models.accepts(Selector) and not models.accepts(1)
    assert tasks.accepts(TaskDefinition(name="t", load=lambda: None))  # type: ignore[arg-type,return-value]
    assert not tasks.accepts(TaskDefinition)  # tasks register instances, not classes
    assert kind_named("spec_sources").base is SpecSource
    assert kind_named("reporters").item_text == "a `harness.api.Reporter` subclass"
    with pytest.raises(KeyError):
        kind_named("nope")


def test_registering_the_wrong_item_names_the_plugin(in_process: list[str]) -> None:
    class NotAModel:
        name = "not-a-model"

    class WrongPlugin:
        @harness.hookimpl
        def register_models(self, register: Register[type[Model]]) -> None:
            register(NotAModel)  # type: ignore[arg-type]

    get_plugin_manager().register(WrongPlugin(), name="wrong-kind")
    in_process.append("wrong-kind")
    with pytest.raises(PluginError) as caught:
        load_registries()
    line = caught.value.one_line()
    assert "plugin 'wrong-kind'" in line and "NotAModel" in line
    assert "not a subclass of harness.api.Model" in line
    assert "HARNESS_DISABLE_PLUGINS=wrong-kind" in line
    result = CliRunner().invoke(cli, ["list", "models"])
    assert result.exit_code == 2 and "NotAModel" in result.output


def test_registered_reporter_is_typed_and_listed(in_process: list[str]) -> None:
    class Tsv(Reporter):
        name = "tsv-kinds"
        suffix = ".tsv"

        def render(self, runs: list[object]) -> str:
            return ""

    class TsvPlugin:
        @harness.hookimpl
        def register_reporters(self, register: Register[type[Reporter]]) -> None:
            register(Tsv, description="tab-separated")

    get_plugin_manager().register(TsvPlugin(), name="tsv-plugin")
    in_process.append("tsv-plugin")
    assert load_registries().reporters.get("tsv-kinds") is Tsv
    result = CliRunner().invoke(cli, ["list", "reporters", "--json"])
    rows = {row["name"]: row for row in json.loads(result.stdout)["reporters"]}
    assert rows["tsv-kinds"]["plugin"] == "tsv-plugin"
    assert rows["tsv-kinds"]["description"] == "tab-separated"
