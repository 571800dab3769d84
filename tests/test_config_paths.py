"""Local paths: relative paths in a config file are read from the config file's folder, flags
from the current folder; config.json records absolute paths (so --resume works from any folder);
the run id hashes the data, not its location. Plugin arguments declare their paths with
``LocalPath``; the core resolves them generically (nested models, lists, dicts, optional)."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Annotated, Any

import pytest
from click.testing import CliRunner
from pydantic import field_validator

from harness.api import LocalPath, LocalPathOrName, PathArg, StrictModel
from harness.cli import cli
from harness.config import RunConfig, SpecRef, resolve_config
from harness.config_paths import resolve_spec_ref
from harness.errors import UserError
from harness.local_paths import fingerprint, resolve_path, validate_resolving
from harness.plan import plan_run, run_id_for
from harness.plugins import load_registries

OK = ["thanks for the lovely soup", "see you at the park", "what a kind neighbour"]
BAD = ["you are an idiot", "what a stupid clown", "get lost you moron"]


def write_split(path: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    lines = ["text,label"]
    for i in range(n):
        toxic = rng.random() < 0.5
        lines.append(f"{rng.choice(BAD if toxic else OK)} {seed}-{i},{int(toxic)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def make_project(root: Path) -> Path:
    """``root/data/{train,test,pool}.csv``, a one-spec YAML suite in ``root/specs`` and
    ``root/configs/run.yaml`` that names them all relative to itself."""
    (root / "data").mkdir(parents=True)
    (root / "configs").mkdir()
    (root / "specs").mkdir()
    for name, n, seed in (("train", 120, 1), ("test", 40, 2), ("pool", 80, 3)):
        write_split(root / "data" / f"{name}.csv", n, seed)
    (root / "specs" / "insults.yaml").write_text(
        "suite: insults\nlabels: [non-toxic, toxic]\n"
        "slots: {insult: [idiot, clown, moron, fool, jerk, loser]}\n"
        "specs:\n  - id: insult\n    description: insults are toxic\n    label: toxic\n"
        '    templates: ["you {{ insult }}", "what a {{ insult }}"]\n'
        '    heldout_templates: ["such a {{ insult }} you are", "hey {{ insult }}"]\n',
        encoding="utf-8",
    )
    config = root / "configs" / "run.yaml"
    config.write_text(
        "task: files\n"
        "task_args:\n"
        "  train: ../data/train.csv\n"
        "  test: ../data/test.csv\n"
        "  pool: ../data/pool.csv\n"
        "  label_map: {0: non-toxic, 1: toxic}\n"
        "specs:\n"
        "  - ref: ../specs/insults.yaml\n"
        "model: bow\n"
        "model_args: {epochs: 1}\n"
        "interventions: [retrain]\n"
        "budget: 20\n"
        "device: cpu\n"
        "output_dir: ../runs\n",
        encoding="utf-8",
    )
    return config


def invoke(args: list[str]) -> Any:
    return CliRunner().invoke(cli, args)


def without_timing(run_dir: Path) -> dict[str, Any]:
    data = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    data.pop("timing")
    return data


def test_a_config_next_to_its_data_runs_from_anywhere_and_resumes_from_a_third_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    config = make_project(project)
    for folder in ("elsewhere", "third"):
        (tmp_path / folder).mkdir()

    monkeypatch.chdir(tmp_path / "elsewhere")
    first = invoke(["run", "-q", "--config", "../project/configs/run.yaml"])
    assert first.exit_code == 0, first.output
    assert not any((tmp_path / "elsewhere").iterdir()), "nothing is written in the current folder"
    (run_dir,) = list((project / "runs").iterdir())
    recorded = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    data = project / "data"
    assert recorded["task_args"]["train"] == str(data / "train.csv")
    assert recorded["task_args"]["pool"] == str(data / "pool.csv")
    assert recorded["task_args"]["label_map"] == {"0": "non-toxic", "1": "toxic"}
    assert recorded["specs"][0]["ref"] == str(project / "specs" / "insults.yaml")
    assert recorded["output_dir"] == str(project / "runs")
    done = without_timing(run_dir)

    # The run was interrupted before it wrote its results; finish it from a third folder.
    (run_dir / "results.json").unlink()
    (run_dir / "samples.jsonl").unlink()
    monkeypatch.chdir(tmp_path / "third")
    resumed = invoke(["run", "-q", "--resume", str(Path("..") / "project" / "runs" / run_dir.name)])
    assert resumed.exit_code == 0, resumed.output
    assert "warning" not in resumed.output
    assert without_timing(run_dir) == done
    timing = json.loads((run_dir / "results.json").read_text())["timing"]
    assert timing["loaded_models"] == {"M0": 1, "retrain-random": 1}, "models came from the cache"
    assert not any((tmp_path / "third").iterdir())
    assert config.read_text().count("../") == 5, "the config file itself is left as written"


def test_the_run_id_hashes_the_data_not_its_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_project(tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    monkeypatch.chdir(tmp_path)
    plan_a = plan_run(resolve_config(config))
    plan_b = plan_run(resolve_config(tmp_path / "b" / "configs" / "run.yaml"))
    assert plan_a.config.task_args["train"] != plan_b.config.task_args["train"]
    assert run_id_for(plan_a.config, plan_a.local_paths) == run_id_for(
        plan_b.config, plan_b.local_paths
    ), "a config moved with its data keeps its run id"
    assert {p.location for p in plan_a.local_paths} == {
        ("task_args", "train"),
        ("task_args", "test"),
        ("task_args", "pool"),
        ("specs", 0, "ref"),
    }
    with (tmp_path / "b" / "data" / "pool.csv").open("a", encoding="utf-8") as handle:
        handle.write("one more row,0\n")
    edited = plan_run(resolve_config(tmp_path / "b" / "configs" / "run.yaml"))
    assert run_id_for(edited.config, edited.local_paths) != run_id_for(
        plan_a.config, plan_a.local_paths
    ), "edited data gets a new run id"
    demo = RunConfig()
    demo_plan = plan_run(demo)
    assert demo_plan.local_paths == []
    from_file = resolve_config(Path(__file__).parents[1] / "examples" / "demo.yaml")
    assert run_id_for(demo_plan.config) == run_id_for(demo) == run_id_for(from_file)


def test_command_line_flags_resolve_against_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    config = make_project(project)
    monkeypatch.chdir(project)
    # task_args from the command line (cwd) replace the file's; the file's specs stay
    # relative to the config file.
    printed = invoke(
        ["run", "--config", str(config), "--print-config", "--output-dir", "out",
         "--cache-dir", "cache", "--task-args",
         "train=data/train.csv,test=data/test.csv,label_map=0:non-toxic|1:toxic"]
    )  # fmt: skip
    assert printed.exit_code == 0, printed.output
    assert f"train: {project / 'data' / 'train.csv'}" in printed.output
    assert f"ref: {project / 'specs' / 'insults.yaml'}" in printed.output
    assert f"output_dir: {project / 'out'}" in printed.output
    assert f"cache_dir: {project / 'cache'}" in printed.output

    monkeypatch.chdir(project / "data")
    flags = invoke(
        ["run", "--print-config", "--task", "files", "--specs", "../specs/insults.yaml",
         "--task-args", "train=train.csv,test=./test.csv,pool=~/none.csv"]
    )  # fmt: skip
    assert flags.exit_code == 0, flags.output
    assert f"train: {project / 'data' / 'train.csv'}" in flags.output
    assert f"test: {project / 'data' / 'test.csv'}" in flags.output
    assert f"pool: {Path('~/none.csv').expanduser()}" in flags.output
    assert f"- ref: {project / 'specs' / 'insults.yaml'}" in flags.output
    assert f"output_dir: {project / 'data' / 'runs'}" in flags.output


def test_spec_refs_and_their_option_paths(tmp_path: Path) -> None:
    sources = load_registries().spec_sources
    config_dir, spec_dir = tmp_path / "configs", tmp_path / "suites"
    config_dir.mkdir()
    spec_dir.mkdir()
    (spec_dir / "train.csv").write_text("spec,text,label\n", encoding="utf-8")
    (spec_dir / "test.csv").write_text("spec,text,label\n", encoding="utf-8")
    (config_dir / "guidelines.yaml").write_text("a: b\n", encoding="utf-8")
    ref = SpecRef(
        ref="../suites/train.csv",
        source="csv",
        options={
            "heldout": {"file": "test.csv", "text_column": "sentence"},  # next to the spec file
            "descriptions": "guidelines.yaml",  # next to the config
            "label_map": {0: "a", 1: "b"},
        },
    )
    resolved, found = resolve_spec_ref(ref, [config_dir], sources, location=("specs", 0))
    assert resolved.ref == str(spec_dir / "train.csv")
    assert resolved.options == {
        "heldout": {"file": str(spec_dir / "test.csv"), "text_column": "sentence"},
        "descriptions": str(config_dir / "guidelines.yaml"),
        "label_map": {0: "a", 1: "b"},
    }
    assert [f.location for f in found] == [
        ("specs", 0, "ref"),
        ("specs", 0, "options", "heldout", "file"),
        ("specs", 0, "options", "descriptions"),
    ]
    # A source prefix keeps its place; shipped suite names and hub dataset names stay names.
    (config_dir / "hc.csv").write_text("x\n", encoding="utf-8")
    prefixed, _ = resolve_spec_ref(SpecRef(ref="hatecheck:hc.csv"), [config_dir], sources)
    assert prefixed.ref == f"hatecheck:{config_dir / 'hc.csv'}"
    for name in ("demo", "Paul/hatecheck"):
        kept, none = resolve_spec_ref(
            SpecRef(ref=name, source="hf" if "/" in name else None), [config_dir], sources
        )
        assert kept.ref == name and none == []
    missing, _ = resolve_spec_ref(SpecRef(ref="more/x.yaml"), [config_dir], sources)
    assert missing.ref == str(config_dir / "more" / "x.yaml"), "reported where it was looked for"


class Source(StrictModel):
    name: str
    path: LocalPath


class Nested(StrictModel):
    train: LocalPath
    pool: list[Source] | LocalPath | None = None
    extra: dict[str, LocalPath] = {}
    optional: LocalPath | None = None
    weights: Annotated[str, "not a path"] = "x.csv"
    model: LocalPathOrName = "org/model"

    @field_validator("pool", mode="before")
    @classmethod
    def _pool_from_string(cls, value: Any) -> Any:
        if isinstance(value, str) and "|" in value:
            return [{"name": f"s{i}", "path": part} for i, part in enumerate(value.split("|"))]
        return value


def test_the_walker_resolves_declared_paths_anywhere_and_nothing_else(tmp_path: Path) -> None:
    raw = {
        "train": "train.csv",
        "pool": [{"name": "general", "path": "g.csv"}, {"name": "policy", "path": "/abs/p.csv"}],
        "extra": {"notes": "~/notes.txt"},
        "optional": None,
        "weights": "w.csv",
        "model": "org/model",
    }
    model, patched, found = validate_resolving(Nested, raw, [tmp_path], location=("args",))
    assert model.pool is not None and not isinstance(model.pool, str)
    assert model.pool[0].path == str(tmp_path / "g.csv")
    assert patched == {
        **raw,
        "train": str(tmp_path / "train.csv"),
        "pool": [
            {"name": "general", "path": str(tmp_path / "g.csv")},
            {"name": "policy", "path": "/abs/p.csv"},
        ],
        "extra": {"notes": str(Path("~/notes.txt").expanduser())},
    }
    assert raw["train"] == "train.csv", "the caller's data is not modified"
    assert [f.location for f in found] == [
        ("args", "train"),
        ("args", "pool", 0, "path"),
        ("args", "pool", 1, "path"),
        ("args", "extra", "notes"),
    ]
    # A validator that reshapes a value: the validated data, paths resolved, replaces it.
    _, reshaped, _ = validate_resolving(Nested, {"train": "t", "pool": "a.csv|b.csv"}, [tmp_path])
    assert reshaped["pool"] == [
        {"name": "s0", "path": str(tmp_path / "a.csv")},
        {"name": "s1", "path": str(tmp_path / "b.csv")},
    ]
    _, single, _ = validate_resolving(Nested, {"train": "t", "pool": "a.csv"}, [tmp_path])
    assert single["pool"] == str(tmp_path / "a.csv")
    # or_name: a local folder that exists wins; a name stays a name; ./ forces a path.
    (tmp_path / "org" / "model").mkdir(parents=True)
    assert resolve_path("org/model", [tmp_path], or_name=True) == str(tmp_path / "org" / "model")
    assert resolve_path("org/other", [tmp_path], or_name=True) == "org/other"
    assert resolve_path("./ckpt", [tmp_path], or_name=True) == str(tmp_path / "ckpt")
    assert resolve_path("a/../b.csv", [tmp_path]) == str(tmp_path / "b.csv")
    assert repr(PathArg(or_name=True)) == "PathArg(or_name=True)"
    # Without the core's context, a LocalPath is a plain string.
    assert Nested.model_validate({"train": "t.csv"}).train == "t.csv"


def test_hf_pretrained_folder_next_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "models" / "tiny").mkdir(parents=True)
    (tmp_path / "models" / "tiny" / "config.json").write_text("{}", encoding="utf-8")
    config = tmp_path / "run.yaml"
    config.write_text("model: hf\nmodel_args: {pretrained: models/tiny}\n", encoding="utf-8")
    resolved = resolve_config(config)
    assert resolved.model_args["pretrained"] == str((tmp_path / "models" / "tiny").resolve())


def test_fingerprints_follow_content(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("text,label\nx,1\n")
    b.write_text("text,label\nx,1\n")
    assert fingerprint(str(a)) == fingerprint(str(b)) != fingerprint(str(tmp_path / "c.csv"))
    (tmp_path / "d1").mkdir()
    (tmp_path / "d2").mkdir()
    shutil.copy(a, tmp_path / "d1" / "a.csv")
    shutil.copy(a, tmp_path / "d2" / "a.csv")
    assert fingerprint(str(tmp_path / "d1")) == fingerprint(str(tmp_path / "d2"))
    (tmp_path / "d2" / "a.csv").write_text("changed")
    assert fingerprint(str(tmp_path / "d1")) != fingerprint(str(tmp_path / "d2"))


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda text: text.replace("../data/train.csv", "../data/trian.csv"),
            "{data}/trian.csv: task_args.train: file not found",
        ),
        (
            lambda text: text.replace("../specs/insults.yaml", "../specs/insult.yaml"),
            "{specs}/insult.yaml: specs: no such spec file or folder",
        ),
        (
            lambda text: text.replace("pool: ../data/pool.csv", "pool: [{path: ../data/pool.csv}]"),
            "task_args.pool[0].name: required key is missing",
        ),
    ],
)
def test_bad_paths_are_one_line_errors_and_write_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: Any, expected: str
) -> None:
    project = tmp_path / "project"
    config = make_project(project)
    config.write_text(edit(config.read_text()), encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    result = invoke(["run", "-q", "--config", str(Path("..") / "project" / "configs" / "run.yaml")])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    message = expected.format(data=project / "data", specs=project / "specs")
    assert message in lines[0], lines[0]
    assert not (project / "runs").exists()
    assert not any((tmp_path / "elsewhere").iterdir())


def test_resolution_errors_from_python_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="task_args.train: required key is missing"):
        plan_run(RunConfig(task="files", task_args={}))
