"""Third-party plugins: installed distributions found through the ``harness`` entry-point group.

Fast tests build fake distributions (a ``*.dist-info`` folder with ``METADATA`` and
``entry_points.txt`` next to the plugin module) on ``sys.path``. Slow tests build and install the
real example plugin and a ``harness new-plugin`` skeleton into a temporary target folder with pip
and drive them in subprocesses.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import tomllib
import yaml
from click.testing import CliRunner

from harness.cli import cli, main
from harness.plugins import reset_plugin_manager
from harness.results import read_result

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "harness-example-plugin"

AddDistribution = Callable[..., None]

TASK_PLUGIN = """
import numpy as np

import harness
from harness.api import Split, Task, TaskDefinition


def load(**_):
    words = ["good", "bad"] * 20
    split = Split(
        ids=[f"t{{i}}" for i in range(40)],
        texts=[f"a {{w}} thing {{i}}" for i, w in enumerate(words)],
        labels=np.array([1 if w == "good" else 0 for w in words]),
    )
    return Task(name="{task}", label_names=["bad", "good"], train=split, test=split, pool=split)


@harness.hookimpl
def register_tasks(register):
    register(TaskDefinition(name="{task}", load=load, description="{description}"))
"""

SUITE = """\
suite: {suite}
labels: [bad, good]
specs:
  - id: {spec}
    label: good
    templates: ["a good {{{{ thing }}}}"]
    heldout_templates: ["{{{{ thing }}}} is good"]
    slots: {{thing: [pen, cup, hat]}}
"""

SUITE_PLUGIN = """
from pathlib import Path

import harness
from harness.spec_sources import YamlSuiteDirectory


@harness.hookimpl
def register_spec_sources(register):
    register(YamlSuiteDirectory(root=Path({root!r}), name="{source}"))
"""


@pytest.fixture
def add_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AddDistribution]:
    """``add_distribution(dist, version, {entry point: module}, {module: code})`` installs a fake
    distribution on ``sys.path`` and makes the next plugin-manager use load it."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    modules: list[str] = []

    def add(dist: str, version: str, entry_points: dict[str, str], code: dict[str, str]) -> None:
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8"
        )
        lines = "".join(f"{name} = {module}\n" for name, module in entry_points.items())
        (info / "entry_points.txt").write_text(f"[harness]\n{lines}", encoding="utf-8")
        for module, source in code.items():
            (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
            modules.append(module)
        importlib.invalidate_caches()
        reset_plugin_manager()

    yield add
    for module in modules:
        sys.modules.pop(module, None)
    reset_plugin_manager()


def task_plugin(task: str, description: str = "from a fake distribution") -> str:
    """Source of a plugin module registering the tiny task ``task``."""
    return TASK_PLUGIN.format(task=task, description=description)


def suite_plugin(folder: Path, source: str, suite: str, spec: str) -> str:
    """Source of a plugin module shipping one YAML suite from ``folder``."""
    folder.mkdir(parents=True)
    (folder / f"{suite}.yaml").write_text(SUITE.format(suite=suite, spec=spec), encoding="utf-8")
    return SUITE_PLUGIN.format(root=str(folder), source=source)


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Call ``harness.cli.main(args)`` (the console script); return (status, stdout, stderr)."""
    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 1), captured.out, captured.err


# --------------------------------------------------------------------------------------------
# (a) fast, in-process: fake distributions
# --------------------------------------------------------------------------------------------


def test_installed_plugin_is_listed_with_its_distribution(
    add_distribution: AddDistribution,
) -> None:
    add_distribution(
        "harness-fake",
        "1.2.3",
        {"fake": "fake_plugin_a"},
        {"fake_plugin_a": task_plugin("fake-task")},
    )
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["fake"] == {
        "name": "fake",
        "distribution": "harness-fake",
        "version": "1.2.3",
        "hooks": ["register_tasks"],
    }
    assert rows["builtin.tasks.demo"]["distribution"] == "spec-harness"

    result = CliRunner().invoke(cli, ["list", "tasks", "--json"])
    assert result.exit_code == 0, result.output
    (row,) = [row for row in json.loads(result.stdout)["tasks"] if row["plugin"] == "fake"]
    assert row == {
        "name": "fake-task",
        "plugin": "fake",
        "origin": "harness-fake 1.2.3",
        "description": "from a fake distribution",
    }


def test_list_table_shows_plugin_and_origin(
    add_distribution: AddDistribution, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    add_distribution(
        "harness-fake",
        "1.2.3",
        {"fake": "fake_plugin_b"},
        {"fake_plugin_b": task_plugin("fake-task")},
    )
    result = CliRunner().invoke(cli, ["list", "tasks"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if "fake-task" in line)
    assert "fake" in line and "harness-fake 1.2.3" in line
    demo = next(line for line in result.output.splitlines() if " demo " in line)
    assert "builtin.tasks.demo" in demo and "built-in" in demo


def test_plugin_that_fails_to_import_is_named(
    add_distribution: AddDistribution,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_distribution(
        "harness-broken",
        "0.1",
        {"broken": "broken_plugin"},
        {"broken_plugin": "import a_module_that_is_not_installed\n"},
    )
    add_distribution(
        "harness-fine", "2.0", {"fine": "fine_plugin"}, {"fine_plugin": task_plugin("fine-task")}
    )
    status, out, err = run_main(capsys, "list", "tasks")
    assert status == 2
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    for part in (
        "plugin 'broken'",
        "distribution harness-broken 0.1",
        "failed to import",
        "ModuleNotFoundError",
        "a_module_that_is_not_installed",
        "HARNESS_DISABLE_PLUGINS=broken",
    ):
        assert part in err
    assert "Traceback" not in err

    monkeypatch.setenv("HARNESS_DISABLE_PLUGINS", "broken")
    reset_plugin_manager()
    status, out, err = run_main(capsys, "list", "tasks", "--json")
    assert status == 0, err
    assert {row["plugin"] for row in json.loads(out)["tasks"]} >= {"fine", "builtin.tasks.demo"}

    monkeypatch.delenv("HARNESS_DISABLE_PLUGINS")
    monkeypatch.setenv("HARNESS_LOAD_PLUGINS", "fine")
    reset_plugin_manager()
    status, out, err = run_main(capsys, "plugins", "--json")
    assert status == 0, err
    names = {row["name"] for row in json.loads(out)}
    assert "fine" in names and "broken" not in names and "builtin.models.bow" in names


def test_plugin_raising_in_a_hook_names_plugin_distribution_and_hook(
    add_distribution: AddDistribution,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    add_distribution(
        "harness-raiser",
        "3.1",
        {"raiser": "raiser_plugin"},
        {
            "raiser_plugin": """
            import harness

            @harness.hookimpl
            def register_tasks(register):
                raise RuntimeError("boom in the plugin")
        """
        },
    )
    status, _, err = run_main(capsys, "list")
    assert status == 2
    line = err.strip()
    assert line.startswith("error: register_tasks: plugin 'raiser' (distribution harness-raiser")
    assert "3.1) raised in hook register_tasks: RuntimeError: boom in the plugin" in line
    assert line.endswith("HARNESS_DISABLE_PLUGINS=raiser")

    runs = tmp_path / "runs"
    result = CliRunner().invoke(cli, ["run", "--interventions", "", "--output-dir", str(runs)])
    assert result.exit_code == 2 and "plugin 'raiser'" in result.output
    assert not runs.exists()

    monkeypatch.setenv("HARNESS_DISABLE_PLUGINS", "raiser")
    reset_plugin_manager()
    status, _, err = run_main(capsys, "list", "tasks")
    assert status == 0, err


def test_plugin_raising_in_register_commands_is_named(
    add_distribution: AddDistribution, capsys: pytest.CaptureFixture[str]
) -> None:
    add_distribution(
        "harness-badcli",
        "1.0",
        {"badcli": "badcli_plugin"},
        {
            "badcli_plugin": """
            import harness

            @harness.hookimpl
            def register_commands(cli):
                raise ValueError("no such group option")
        """
        },
    )
    status, _, err = run_main(capsys, "--help")
    assert status == 2
    assert "plugin 'badcli' (distribution harness-badcli 1.0) raised in hook" in err
    assert "register_commands: ValueError: no such group option" in err


def test_same_short_name_from_two_distributions_runs_qualified(
    add_distribution: AddDistribution, tmp_path: Path
) -> None:
    alpha_suites = suite_plugin(tmp_path / "alpha-specs", "alpha-suites", "shared", "alpha-spec")
    beta_suites = suite_plugin(tmp_path / "beta-specs", "beta-suites", "shared", "beta-spec")
    add_distribution(
        "harness-alpha",
        "1.0",
        {"alpha": "alpha_plugin"},
        {"alpha_plugin": task_plugin("shared", "alpha's task") + alpha_suites},
    )
    add_distribution(
        "harness-beta",
        "1.0",
        {"beta": "beta_plugin"},
        {"beta_plugin": task_plugin("shared", "beta's task") + beta_suites},
    )
    listed = json.loads(CliRunner().invoke(cli, ["list", "--json"]).stdout)
    assert {"alpha/shared", "beta/shared"} <= {row["name"] for row in listed["tasks"]}
    assert {"alpha/shared", "beta/shared"} <= {row["name"] for row in listed["specs"]}

    runs = tmp_path / "runs"
    common = ["run", "--seeds", "1", "--interventions", "", "--quiet", "--output-dir", str(runs)]
    result = CliRunner().invoke(cli, [*common, "--task", "shared", "--specs", "alpha/shared"])
    assert result.exit_code == 2
    assert "task 'shared' is registered by both plugin 'alpha' and 'beta'" in result.output
    assert "use a qualified name: alpha/shared, beta/shared" in result.output

    result = CliRunner().invoke(cli, [*common, "--task", "beta/shared", "--specs", "shared"])
    assert result.exit_code == 2
    assert "spec suite 'shared' is shipped by both plugin 'alpha' and 'beta'" in result.output

    result = CliRunner().invoke(cli, [*common, "--task", "beta/shared", "--specs", "alpha/shared"])
    assert result.exit_code == 0, result.output
    (run_dir,) = list(runs.iterdir())
    run = read_result(run_dir)
    assert run.config["task"] == "beta/shared"
    assert [spec.id for spec in run.specs] == ["alpha-spec"]
    assert run.task.n_train == 40


def test_trace_plugins_prints_every_hook_call(
    add_distribution: AddDistribution,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("HARNESS_TRACE_PLUGINS", "1")
    suites = suite_plugin(tmp_path / "specs", "traced-suites", "traced", "traced-spec")
    add_distribution(
        "harness-traced",
        "1.0",
        {"traced": "traced_plugin"},
        {"traced_plugin": task_plugin("traced-task") + suites},
    )
    result = CliRunner().invoke(cli, ["list", "--json"])
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)  # the trace goes to stderr only
    trace = result.stderr.splitlines()
    assert "[harness] hook register_tasks(register) -> traced" in trace
    assert "[harness] hook register_tasks <- traced: ok" in trace
    assert "[harness] hook register_tasks(register) -> builtin.tasks.demo" in trace
    assert "[harness] hook register_spec_sources(register) -> traced" in trace
    for hook in ("register_models", "register_selectors", "register_reporters"):
        assert any(line.startswith(f"[harness] hook {hook}") for line in trace), hook


def test_trace_shows_a_failing_hook(
    add_distribution: AddDistribution,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("HARNESS_TRACE_PLUGINS", "1")
    add_distribution(
        "harness-jinja",
        "1.0",
        {"jinja": "jinja_plugin"},
        {
            "jinja_plugin": """
            import harness

            @harness.hookimpl
            def prepare_jinja2_environment(env):
                raise KeyError("filters")
        """
        },
    )
    from harness.errors import PluginError
    from harness.specs.compiler import compile_suite_file

    path = tmp_path / "suite.yaml"
    path.write_text(SUITE.format(suite="s", spec="x"), encoding="utf-8")
    with pytest.raises(PluginError) as info:
        compile_suite_file(path)
    assert "plugin 'jinja' (distribution harness-jinja 1.0)" in info.value.one_line()
    assert "prepare_jinja2_environment" in info.value.one_line()
    err = capsys.readouterr().err.splitlines()
    assert "[harness] hook prepare_jinja2_environment(env) -> jinja" in err
    assert "[harness] hook prepare_jinja2_environment <- jinja: raised KeyError" in err


def test_no_trace_without_the_variable(add_distribution: AddDistribution) -> None:
    add_distribution(
        "harness-quiet",
        "1.0",
        {"quiet": "quiet_plugin"},
        {"quiet_plugin": task_plugin("quiet-task")},
    )
    result = CliRunner().invoke(cli, ["list", "tasks", "--json"])
    assert result.exit_code == 0 and "[harness]" not in result.stderr


# --------------------------------------------------------------------------------------------
# harness new-plugin (fast parts)
# --------------------------------------------------------------------------------------------


def test_new_plugin_writes_an_installable_skeleton(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["new-plugin", "harness-my-thing", "-d", str(tmp_path)])
    assert result.exit_code == 0, result.output
    root = tmp_path / "harness-my-thing"
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert files == [
        ".gitignore",
        "README.md",
        "harness_my_thing/__init__.py",
        "harness_my_thing/specs/my-thing.yaml",
        "pyproject.toml",
        "run.yaml",
        "tests/test_harness_my_thing.py",
    ]
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["name"] == "harness-my-thing"
    assert project["project"]["entry-points"]["harness"] == {"my-thing": "harness_my_thing"}
    for path in root.rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    assert "harness run --config run.yaml" in result.output
    config = yaml.safe_load((root / "run.yaml").read_text(encoding="utf-8"))
    assert config["task"] == "my-thing/my-thing" and config["specs"] == ["my-thing/my-thing"]


def test_new_plugin_refuses_to_overwrite(tmp_path: Path) -> None:
    existing = tmp_path / "demo-plugin"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["new-plugin", "demo-plugin", "-d", str(tmp_path)])
    assert result.exit_code == 2
    assert "already exists; not overwriting it" in result.output
    assert [p.name for p in existing.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize("name", ["9lives", "has space", "harness", "class", "a--b", "x_"])
def test_new_plugin_rejects_bad_names(tmp_path: Path, name: str) -> None:
    result = CliRunner().invoke(cli, ["new-plugin", name, "-d", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: NAME: ")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# (b), (c) slow: real pip installs into a temporary target, driven in subprocesses
# --------------------------------------------------------------------------------------------

needs_pip_build = pytest.mark.skipif(
    importlib.util.find_spec("setuptools") is None or importlib.util.find_spec("pip") is None,
    reason="needs pip and setuptools for --no-build-isolation installs",
)


def pip_install(source: Path, target: Path) -> None:
    """Build and install ``source`` into ``target`` without dependencies or network."""
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
        "--no-index", "--no-cache-dir", "--disable-pip-version-check", "--target", str(target),
        str(source),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def subprocess_env(target: Path) -> dict[str, str]:
    """The environment of a fresh process that sees the plugins installed in ``target``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_") or k.endswith("DIR")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(target), env.get("PYTHONPATH")]))
    env["COLUMNS"] = "200"
    return env


def harness_cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the ``harness`` command line in a subprocess."""
    command = [sys.executable, "-c", "from harness.cli import main; main()", *args]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
@needs_pip_build
def test_example_plugin_installs_lists_and_runs(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    target = tmp_path / "target"
    pip_install(source, target)
    assert (target / "harness_example_plugin" / "specs" / "reviews.yaml").is_file()
    env = subprocess_env(target)

    done = harness_cli(env, tmp_path, "list")
    assert done.returncode == 0, done.stderr
    for kind, name in (("tasks", "reviews"), ("specs", "reviews")):
        assert any(name in line and "harness-example-plugin 0.1.0" in line
                   for line in done.stdout.splitlines()), (kind, done.stdout)  # fmt: skip
    listed = json.loads(harness_cli(env, tmp_path, "list", "--json").stdout)
    ours = {k: {r["name"] for r in rows if r["plugin"] == "example"} for k, rows in listed.items()}
    assert ours["tasks"] == {"reviews"} and ours["selectors"] == {"keyword-overlap"}
    assert ours["reporters"] == {"failure-csv"} and "reviews" in ours["specs"]
    plugins = json.loads(harness_cli(env, tmp_path, "plugins", "--json").stdout)
    (example,) = [row for row in plugins if row["name"] == "example"]
    assert (example["distribution"], example["version"]) == ("harness-example-plugin", "0.1.0")

    runs = tmp_path / "runs"
    done = harness_cli(
        env, tmp_path, "run", "--task", "example/reviews", "--specs", "example/reviews",
        "--seeds", "1", "--interventions", "", "--quiet", "--output-dir", str(runs),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (run_dir,) = list(runs.iterdir())
    run = read_result(run_dir)
    assert run.task.name == "reviews" and len(run.specs) == 4
    assert run.model("M0").seeds[0].test is not None

    tests = source / "tests"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 passed" in done.stdout  # installed: the entry-point test runs too


def venv_on_this_environment(folder: Path) -> Path:
    """A fresh virtual environment (no pip of its own) that also sees this environment's
    packages (torch, pip, setuptools...) through a ``.pth`` file, so that installing into it
    needs no network; returns its python."""
    import sysconfig
    import venv

    venv.EnvBuilder(with_pip=False).create(folder)
    python = folder / ("Scripts" if os.name == "nt" else "bin") / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    Path(site, "_outer_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def pip_editable(python: Path, source: Path, cwd: Path) -> None:
    """``pip install -e SOURCE`` into ``python``'s environment, offline."""
    command = [
        str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
        "--no-index", "--no-cache-dir", "--disable-pip-version-check", "-e", str(source),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
@needs_pip_build
def test_new_plugin_skeleton_installs_against_a_checkout_and_its_experiment_is_judged(
    tmp_path: Path,
) -> None:
    """The skeleton's README, step by step: spec-harness from this checkout (pip install -e),
    then the plugin (pip install -e), its tests, and its first experiment (run.yaml), which
    draws less than its pool holds and gets an expected-outcome check that is judged."""
    result = CliRunner().invoke(cli, ["new-plugin", "demo-plugin", "-d", str(tmp_path)])
    assert result.exit_code == 0, result.output
    skeleton = tmp_path / "demo-plugin"
    readme = (skeleton / "README.md").read_text(encoding="utf-8")
    assert "pip install -e /path/to/spec-harness" in readme
    assert "pip install -e '.[test]'" in readme and "harness run --config run.yaml" in readme
    assert f"pip install -e {ROOT}" in result.output

    python = venv_on_this_environment(tmp_path / "venv")
    pip_editable(python, ROOT, cwd=tmp_path)
    pip_editable(python, skeleton, cwd=skeleton)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "PYTHON"))}
    env.update(HARNESS_CACHE_DIR=str(tmp_path / "cache"), COLUMNS="200")
    env["PATH"] = os.pathsep.join([str(python.parent), env.get("PATH", "")])
    done = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        env=env, cwd=skeleton, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout
    done = subprocess.run(
        [str(python.parent / "harness"), "run", "--config", "run.yaml", "--quiet"],
        env=env, cwd=skeleton, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "warning" not in done.stderr.lower(), done.stderr
    (run_dir,) = list((skeleton / "runs").iterdir())
    run = read_result(run_dir)
    assert run.task.n_pool >= 2 * run.config["budget"]
    judged = [c for c in run.checks if c["kind"] == "expected-outcome"]
    assert judged and {c["status"] for c in judged} <= {"PASS", "FAIL"}
    assert {c["baseline"] for c in judged} == {"retrain-random", "M0"}
