"""Core behaviour: plugin manager and registries, config validation, results schema, demo run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import harness
from harness.api import NoArgs, Split, Task, TaskDefinition
from harness.cli import cli
from harness.config import RunConfig, parse_key_values, resolve_config
from harness.errors import UserError
from harness.plugins import get_plugin_manager, load_registries
from harness.registry import Registry
from harness.results import RunResult, dump_result, read_result


def tiny_task() -> Task:
    """A four-example task used by the in-process plugin tests."""
    split = Split(
        ids=["a", "b", "c", "d"], texts=["good", "bad", "fine", "awful"], labels=[0, 1, 0, 1]
    )
    return Task(name="tiny", label_names=["ok", "bad"], train=split, test=split, pool=split)


class TinyTaskPlugin:
    """An in-process plugin registering one task."""

    @harness.hookimpl
    def register_tasks(self, register: Any) -> None:
        register(TaskDefinition(name="tiny", load=tiny_task, description="four examples"))


def test_in_process_plugin_registers_task() -> None:
    pm = get_plugin_manager()
    pm.register(TinyTaskPlugin(), name="tiny-plugin")
    registries = load_registries()
    entry = registries.tasks.entry("tiny")
    assert entry.plugin == "tiny-plugin"
    assert entry.item.load().name == "tiny"
    assert "demo" in registries.tasks


def test_same_short_name_from_two_plugins_needs_a_qualified_name() -> None:
    pm = get_plugin_manager()
    pm.register(TinyTaskPlugin(), name="first")

    class Second:
        @harness.hookimpl
        def register_tasks(self, register: Any) -> None:
            register(TaskDefinition(name="tiny", load=tiny_task))

    pm.register(Second(), name="second")
    registries = load_registries()
    with pytest.raises(UserError) as info:
        registries.tasks.get("tiny")
    message = str(info.value)
    assert "'first'" in message and "'second'" in message
    assert "first/tiny" in message
    assert registries.tasks.entry("second/tiny").plugin == "second"


def test_plugin_registering_a_name_twice_is_rejected() -> None:
    registry: Registry[int] = Registry("model")
    registry.add("x", 1, "p")
    with pytest.raises(UserError, match="registers model 'x' twice"):
        registry.add("x", 2, "p")


def test_unknown_name_suggests_close_matches() -> None:
    registries = load_registries()
    with pytest.raises(UserError) as info:
        registries.models.get("bwo")
    assert "did you mean bow" in str(info.value)
    assert "available:" in str(info.value)


def test_builtin_plugins_are_listed_with_distribution() -> None:
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    names = {row["name"]: row for row in rows}
    assert names["builtin.models.bow"]["distribution"] == "spec-harness"
    assert "register_models" in names["builtin.models.bow"]["hooks"]


def test_list_shows_items_with_their_plugin() -> None:
    result = CliRunner().invoke(cli, ["list"])
    assert result.exit_code == 0, result.output
    for text in ("demo", "bow", "builtin.models.bow", "builtin.tasks.demo"):
        assert text in result.output


def test_config_cli_overrides_file(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("task: demo\nmodel: bow\nseeds: 2\nbudget: 100\n")
    config = resolve_config(path, {"budget": 50, "model": None})
    assert config.budget == 50
    assert config.seeds == [0, 1]
    assert config.model == "bow"


def test_config_unknown_key_names_key_line_and_choices(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("task: demo\nbudgte: 10\n")
    with pytest.raises(UserError) as info:
        resolve_config(path, {})
    message = info.value.one_line()
    assert message.startswith(f"{path}:2: budgte: unknown key 'budgte'")
    assert "did you mean budget" in message


def test_config_wrong_type_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("seeds: [a, b]\n")
    with pytest.raises(UserError) as info:
        resolve_config(path, {})
    assert "seeds[0]" in info.value.one_line()
    assert "\n" not in info.value.one_line()


def test_parse_key_values_types_scalars() -> None:
    assert parse_key_values("epochs=2,lr=1e-3,name=x,flag=true", "--model-args") == {
        "epochs": 2,
        "lr": "1e-3",
        "name": "x",
        "flag": True,
    }
    with pytest.raises(UserError, match="expected key=value"):
        parse_key_values("epochs", "--model-args")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--model", "bwo"], "did you mean bow"),
        (["--task", "dmeo"], "did you mean demo"),
        (["--model-args", "nope=1"], "unknown key 'nope'"),
        (["--model-args", "epochs=many"], "--model-args epochs: Input should be a valid integer"),
        (["--specs", "demoo"], "did you mean demo"),
    ],
)
def test_bad_run_input_exits_2_and_writes_nothing(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    out = tmp_path / "runs"
    result = CliRunner().invoke(cli, ["run", "--output-dir", str(out), *args])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_print_config_shows_resolved_values() -> None:
    result = CliRunner().invoke(cli, ["run", "--print-config", "--budget", "7"])
    assert result.exit_code == 0, result.output
    assert "budget: 7" in result.output
    assert "model: bow" in result.output


def test_demo_run_end_to_end_and_schema_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    result = CliRunner().invoke(cli, ["run", "--output-dir", str(out), "--interventions", "", "-q"])
    assert result.exit_code == 0, result.output
    assert "neutral-group-mention" in result.output
    (run_dir,) = list(out.iterdir())
    loaded = read_result(run_dir)
    assert isinstance(loaded, RunResult)
    assert loaded.model("M0").aggregate.accuracy is not None
    assert loaded.model("M0").aggregate.accuracy > 0.8
    assert len(loaded.specs) >= 8
    # round trip: serialising the loaded result gives the file back
    assert dump_result(loaded) == (run_dir / "results.json").read_text()
    rows = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    sets = {row["set"] for row in rows}
    assert sets == {"test", "heldout", "train_case"}
    assert all("M0" in row["predictions"] for row in rows)
    # M0 visibly fails some spec
    assert max(loaded.model("M0").aggregate.heldout_fr.values()) > 0.3


def test_results_of_another_schema_version_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"schema_version": 999}))
    with pytest.raises(UserError, match="schema version 999 is not supported"):
        read_result(path)


def test_run_config_defaults_are_the_demo() -> None:
    config = RunConfig()
    assert config.task == "demo" and config.model == "bow"
    assert NoArgs.model_validate({}) == NoArgs()


def test_help_and_list_do_not_import_heavy_libraries() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from harness.cli import cli\n"
        "assert CliRunner().invoke(cli, ['--help']).exit_code == 0\n"
        "assert CliRunner().invoke(cli, ['list']).exit_code == 0\n"
        "heavy = [m for m in ('torch', 'transformers', 'sklearn', 'datasets')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
