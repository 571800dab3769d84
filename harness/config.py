"""The run configuration: one pydantic model, loadable from YAML, overridable from the CLI."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import Field, field_validator, model_validator

from harness.api import StrictModel
from harness.errors import UserError
from harness.flag_values import parse_interventions
from harness.flag_values import parse_key_values as parse_key_values  # re-exported
from harness.validation import validate
from harness.yamlio import load_yaml

if TYPE_CHECKING:
    from harness.plugins import Registries


class SpecRef(StrictModel):
    """Where specs come from: a shipped suite name, a path, or ``source`` + ``ref``."""

    ref: str = Field(description="suite name, path, or dataset name")
    source: str | None = Field(default=None, description="spec source plugin (default: guess)")
    options: dict[str, Any] = Field(default_factory=dict)


class InterventionConfig(StrictModel):
    """One configured intervention (the same intervention may appear several times)."""

    name: str
    label: str | None = Field(default=None, description="display name; default derived")
    params: dict[str, Any] = Field(default_factory=dict)


class CheckConfig(StrictModel):
    """Parameters of the checks: the guards on every intervention and the expected outcome."""

    test_tolerance: float = Field(
        default=1.5,
        ge=0,
        description="points of test accuracy an intervention may lose against M0 (a gain passes)",
    )
    macro_f1_tolerance: float = Field(
        default=3.0,
        ge=0,
        description="points of test macro-F1 an intervention may lose against M0 (wider than "
        "accuracy: on imbalanced data a few minority cases move macro-F1 by a point; a collapse "
        "to one class costs tens)",
    )
    alpha: float = Field(default=0.05, gt=0, lt=1)
    suites: list[str] | None = Field(
        default=None,
        description="suites whose mean FR the expected-outcome check judges separately "
        "(default: every suite, when the run has several)",
    )
    overall: bool = Field(
        default=True, description="also judge the mean FR over the specs of all suites"
    )


class ExecutorConfig(StrictModel):
    """Where and how the units of a run are executed. Neither the run id nor ``results.json``
    depends on it: the same config gives the same results on every executor.

    Written as a name (``executor: ray``) or a mapping; keys other than the ones below are the
    executor's own arguments (``executor: {name: ray, address: auto}``), kept in ``args`` and
    validated by the executor's ``Args``."""

    name: str | None = Field(
        default=None, description="executor plugin (default: the one declared default, local)"
    )
    jobs: int | None = Field(
        default=None,
        ge=1,
        description="units at once (local: worker processes; default one unit in this process)",
    )
    max_retries: int = Field(
        default=1,
        ge=0,
        le=100,
        description="times a unit that raised or whose worker died is run again",
    )
    args: dict[str, Any] = Field(default_factory=dict, description="the executor's arguments")

    @model_validator(mode="before")
    @classmethod
    def _from_name_or_flat(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"name": value}
        if isinstance(value, dict):
            own = set(cls.model_fields)
            extra = {k: v for k, v in value.items() if k not in own}
            if extra:
                data = {k: v for k, v in value.items() if k in own}
                given = data.get("args")
                data["args"] = {**(given if isinstance(given, dict) else {}), **extra}
                return data
        return value


def _named_items(value: Any, key: str) -> Any:
    """A list in which a plain string ``x`` stands for ``{key: x}`` (``specs: [demo]``)."""
    if isinstance(value, list):
        return [{key: item} if isinstance(item, str) else item for item in value]
    return value


ARGS_OWNER = {"task_args": "task", "model_args": "model"}
"""Each plugin-argument mapping and the key naming its plugin: a declared default run fills
the mapping only together with that key, and a flag merges into the config file's mapping."""


class RunConfig(StrictModel):
    """Everything one run needs. ``harness run --print-config`` shows the resolved values.

    ``task``, ``specs``, ``model`` and ``interventions`` (and ``task_args`` / ``model_args``
    with their task / model) that a config leaves out come from the default run a plugin
    declares (:func:`harness.hookspecs.default_run_config`; the built-in demo plugin declares
    the embedded demo that ``examples/demo.yaml`` spells out)."""

    task: str
    task_args: dict[str, Any] = Field(default_factory=dict)
    specs: list[SpecRef]
    model: str
    model_args: dict[str, Any] = Field(default_factory=dict)
    interventions: list[InterventionConfig]
    seeds: list[int] = Field(default_factory=lambda: [0])
    budget: int = Field(default=600, ge=0)
    output_dir: str = "runs"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    cache: bool = True
    cache_dir: str | None = None
    limit: int | None = Field(default=None, ge=1)
    train_limit: int | None = Field(
        default=None,
        ge=2,
        description="train on a sample of this many train rows (stratified by label, drawn "
        "with the run's first seed); test and pool stay whole",
    )
    check: CheckConfig = Field(default_factory=CheckConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)

    @model_validator(mode="before")
    @classmethod
    def _declared_defaults(cls, data: Any) -> Any:
        """Fill the keys left out from the default run a plugin declares."""
        if not isinstance(data, dict):
            return data
        from harness.plugins import DEFAULT_RUN_KEYS, declared_run_defaults

        missing = [key for key in DEFAULT_RUN_KEYS if key not in data]
        if not missing:
            return data
        defaults = declared_run_defaults()
        filled = dict(data)
        for key in missing:
            owner = ARGS_OWNER.get(key)
            if owner is not None and owner not in missing:
                continue  # the user's own task / model: its arguments are not the default's
            if key in defaults:
                filled[key] = defaults[key]
            elif owner is None:
                raise UserError(
                    f"no {key} given, and no plugin declares a default run",
                    field=key,
                    fix=f"give {flag_name(key)} (or `{key}:` in a config file)",
                )
        return filled

    @field_validator("specs", mode="before")
    @classmethod
    def _specs_from_strings(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        return _named_items(value, "ref")

    @field_validator("interventions", mode="before")
    @classmethod
    def _interventions_from_strings(cls, value: Any) -> Any:
        if isinstance(value, str):  # the --interventions grammar (harness.flag_values)
            try:
                return parse_interventions(value)
            except UserError as err:
                raise ValueError(err.problem + (f"; {err.fix}" if err.fix else "")) from None
        return _named_items(value, "name")

    @field_validator("seeds", mode="before")
    @classmethod
    def _seeds_from_count(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            if value < 1:
                raise ValueError("seeds must be a count >= 1 or a list of seeds")
            return list(range(value))
        return value

    @field_validator("seeds")
    @classmethod
    def _seeds_not_empty(cls, value: list[int]) -> list[int]:
        if not value:
            raise ValueError("seeds is empty: give a count >= 1 (seeds: 3) or a list of seeds")
        repeated = sorted({seed for seed in value if value.count(seed) > 1})
        if repeated:
            raise ValueError(f"seed {repeated[0]} is listed twice; every seed is run once")
        return value


def load_config_file(path: Path) -> tuple[dict[str, Any], yaml.Node | None]:
    """Read a YAML config file into a plain dict (validated later, after CLI overrides)."""
    data, node = load_yaml(path)
    if data is None:
        raise UserError("the config file is empty", file=path, fix="add at least `task: demo`")
    if not isinstance(data, dict):
        raise UserError(
            f"expected a mapping of keys, got {type(data).__name__}",
            file=path,
            fix="write `key: value` lines",
        )
    return data, node


FLAGS = {"cache": "--no-cache", "train_limit": "--limit-train", "executor": "--executor"}
"""Config keys whose ``harness run`` flag is not ``--`` + the key with dashes."""


def flag_name(key: str) -> str:
    """The ``harness run`` flag that sets config ``key``."""
    return FLAGS.get(key, "--" + key.replace("_", "-"))


def resolve_config(
    path: Path | None = None,
    overrides: dict[str, Any] | None = None,
    *,
    resolve_paths: bool = True,
    path_keys: Collection[str] | None = None,
    registries: Registries | None = None,
) -> RunConfig:
    """Merge the config file (if any) with CLI ``overrides`` (which win) and validate.

    ``--task-args`` / ``--model-args`` merge into the file's mapping key by key (see
    :func:`merge_overrides`); other flags replace the file's value. With ``resolve_paths`` (the
    default), relative local paths written in the file are made absolute against the file's
    folder (see :mod:`harness.config_paths`; this loads the plugins and validates the arguments
    read from the file). Those from ``overrides`` and the defaults mean "from the current
    folder" and are made absolute by :func:`harness.plan.plan_run`. ``path_keys``: resolve
    (and validate) only these top-level keys. ``registries``: the command's (built here when
    not given and needed)."""
    data: dict[str, Any] = {}
    node = None
    if path is not None:
        data, node = load_config_file(path)
    merged, file_subkeys = merge_overrides(data, overrides or {})
    from_cli = {key for key, value in (overrides or {}).items() if value is not None}
    try:
        config = validate(RunConfig, merged, file=path, node=node)
    except UserError as err:
        top = (err.field or "").split(".")[0].split("[")[0]
        if top in from_cli and top not in file_subkeys:
            err.file = None
            err.line = None
            rest = (err.field or "")[len(top) :]
            if top == "executor":  # set by --executor, --jobs or --executor-args
                sub = rest.lstrip(".")
                flags = {"name": "--executor", "jobs": "--jobs"}
                err.field = flags.get(sub, f"--executor-args {sub}".strip())
            else:
                err.field = flag_name(top) + rest.replace("_", "-")
            err.args = (err.one_line(),)
        raise
    if not resolve_paths:
        return config
    from harness.config_paths import ConfigBases, check_flag_arguments, resolve_config_paths
    from harness.plugins import load_registries

    registries = registries or load_registries()
    check_flag_arguments(config, registries, from_cli - set(file_subkeys))
    if path is None:
        return config
    # Values read from the file are resolved now, against its folder; flags and defaults are
    # resolved against the current folder when the run is planned (runner.plan_run).
    bases = ConfigBases(
        config_folder=path.absolute().parent,
        from_file=(frozenset(data) - frozenset(from_cli)) | frozenset(file_subkeys),
        cwd=None,
        file_subkeys=file_subkeys,
        config_file=path,
        node=node,
    )
    return resolve_config_paths(config, registries, bases, keys=path_keys).config


def merge_executor(written: Any, flags: dict[str, Any]) -> Any:
    """The config file's ``executor`` with the flags' keys (``--executor``, ``--jobs``,
    ``--executor-args``) merged in key by key; when ``--executor`` names another executor than
    the file's, the file's executor arguments are dropped (they belong to the other one)."""
    if isinstance(written, str):
        written = {"name": written}
    if not isinstance(written, dict):
        return flags if written is None else written
    name = flags.get("name")
    if name is not None and name != written.get("name"):
        written = {k: v for k, v in written.items() if k in ("jobs", "max_retries")}
    return {**written, **flags}


def merge_overrides(
    data: dict[str, Any], overrides: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, frozenset[str]]]:
    """The config file's ``data`` with the flags' ``overrides`` applied (``None``: not given).

    ``--task-args`` / ``--model-args`` merge into the file's ``task_args`` / ``model_args``
    key by key (a key the flag gives replaces the file's value of that key, the file's other
    keys stay), unless the flags name another task / model than the file, whose arguments the
    file's would not fit. Other keys are replaced. Returns the merged data and, for each merged
    mapping, the keys that still come from the file (their paths are read from its folder)."""
    merged = dict(data)
    file_subkeys: dict[str, frozenset[str]] = {}
    for key, value in overrides.items():
        if value is None:
            continue
        if key == "executor":
            merged[key] = merge_executor(data.get(key), value)
            continue
        written, owner = data.get(key), ARGS_OWNER.get(key)
        same_plugin = owner is not None and overrides.get(owner) in (None, data.get(owner))
        if same_plugin and isinstance(written, dict) and isinstance(value, dict):
            merged[key] = {**written, **value}
            file_subkeys[key] = frozenset(str(k) for k in written if k not in value)
        else:
            merged[key] = value
    return merged, file_subkeys
