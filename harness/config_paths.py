"""Every local path of a run config, resolved the way the user wrote it.

A relative path written in a config file means "next to this config file" (as in tox, docker
compose or lm-eval's task includes); one given as a command-line flag means "from the current
folder"; so do the defaults (``output_dir: runs``). Which values are paths is declared, never
guessed from names: ``output_dir`` and ``cache_dir``; plugin arguments typed
:data:`harness.api.LocalPath` (task arguments, model arguments, intervention parameters, spec
source options); spec ``ref`` values that are not names of shipped suites. A relative spec option
path is looked up next to the config file, then next to the spec file itself.

The resolved config holds absolute paths, so ``config.json`` (and ``harness run --resume``) does
not depend on the folder a run was started from.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.api import REGISTRIES, SpecSource
from harness.config import InterventionConfig, RunConfig, SpecRef, flag_name
from harness.errors import UserError
from harness.local_paths import FoundPath, Location, resolve_path, validate_resolving
from harness.plugins import Registries
from harness.registry import Registry
from harness.yamlio import line_of


@dataclass(frozen=True)
class ConfigBases:
    """Where the relative paths of each top-level config key are resolved: the config file's
    folder for keys read from the file, ``cwd`` for the rest (flags, defaults); ``cwd=None``
    leaves the rest as written (to be resolved later, when the run is planned).

    ``file_subkeys``: argument mappings (``task_args``, ``model_args``) that a flag merged into
    the file's mapping, with the keys that still come from the file; only those are resolved
    against the file's folder, the flag's stay as written (for ``cwd``). ``config_file`` and
    ``node`` (its YAML node) let errors in values read from the file name the file and line."""

    config_folder: Path | None = None
    from_file: frozenset[str] = frozenset()
    cwd: Path | None = field(default_factory=Path.cwd)
    file_subkeys: Mapping[str, frozenset[str]] = field(default_factory=dict)
    config_file: Path | None = None
    node: Any = None

    def folder(self, key: str) -> Path | None:
        """The folder relative paths under ``key`` are resolved against (``None``: leave)."""
        if self.config_folder is not None and key in self.from_file:
            return self.config_folder
        return self.cwd

    def in_file(self, key: str) -> bool:
        """Whether the values under ``key`` (some of them, for a merged mapping) were read from
        the config file."""
        return self.config_folder is not None and key in self.from_file

    def located(self, err: UserError, key: str, location: Location) -> UserError:
        """``err`` naming the config file and the line of ``location`` when ``key`` was read
        from the file and the error names no file yet."""
        if err.file is None and self.config_file is not None and self.in_file(key):
            err.file = str(self.config_file)
            err.line = line_of(self.node, location) if self.node is not None else None
            err.args = (err.one_line(),)
        return err


@dataclass(frozen=True)
class _OnlyKeys(ConfigBases):
    """:class:`ConfigBases` that leaves every key but ``keys`` as written."""

    keys: frozenset[str] = frozenset()

    def folder(self, key: str) -> Path | None:
        """The folder for ``key`` if it is one of ``keys``, else ``None``."""
        return super().folder(key) if key in self.keys else None


@dataclass
class ResolvedConfig:
    """A config with absolute local paths, its validated plugin arguments and every local path
    (with its location in the config) that the run reads."""

    config: RunConfig
    task_args: Any
    model_args: Any
    intervention_params: list[Any]
    local_paths: list[FoundPath]


def resolve_config_paths(
    config: RunConfig,
    registries: Registries,
    bases: ConfigBases | None = None,
    keys: Collection[str] | None = None,
) -> ResolvedConfig:
    """Resolve every local path of ``config`` (see the module docstring), validating the plugin
    arguments on the way. Already absolute paths stay as they are, so resolving twice changes
    nothing. Keys whose :meth:`ConfigBases.folder` is ``None``, or not in ``keys`` when given,
    are left as they are (and their plugin arguments are not validated: ``task_args`` and
    friends are then ``None``)."""
    bases = bases or ConfigBases()
    if keys is not None:
        bases = _OnlyKeys(
            bases.config_folder,
            bases.from_file,
            bases.cwd,
            bases.file_subkeys,
            bases.config_file,
            bases.node,
            frozenset(keys),
        )
    context = {REGISTRIES: registries}  # validators look other plugins up in these
    found: list[FoundPath] = []
    update: dict[str, Any] = {}
    for key in ("output_dir", "cache_dir"):
        folder, value = bases.folder(key), getattr(config, key)
        if folder is not None and value:
            update[key] = resolve_path(value, [folder])

    task_args = model_args = None
    folder = bases.folder("task_args")
    if folder is not None:
        try:
            task_def = registries.tasks.get(config.task, field="task")
        except UserError as err:
            raise bases.located(err, "task", ("task",)) from None
        task_args, update["task_args"], paths = _resolve_args(
            task_def.args, config.task_args, "task_args", folder, bases, context
        )
        found += paths

    folder = bases.folder("model_args")
    if folder is not None:
        try:
            model_class = registries.models.get(config.model, field="model")
        except UserError as err:
            raise bases.located(err, "model", ("model",)) from None
        model_args, update["model_args"], paths = _resolve_args(
            model_class.Args, config.model_args, "model_args", folder, bases, context
        )
        found += paths

    params: list[Any] = []
    folder = bases.folder("interventions")
    if folder is not None:
        interventions: list[InterventionConfig] = []
        for i, item in enumerate(config.interventions):
            location: Location = ("interventions", i)
            try:
                cls = registries.interventions.get(item.name, field=f"interventions[{i}].name")
                validated, raw, paths = validate_resolving(
                    cls.Args,
                    item.params,
                    [folder],
                    prefix=f"interventions[{i}].params.",
                    location=(*location, "params"),
                    context=context,
                    **_file_of(bases, "interventions"),
                )
            except UserError as err:
                raise bases.located(err, "interventions", location) from None
            params.append(validated)
            interventions.append(item.model_copy(update={"params": raw}))
            found += paths
        update["interventions"] = interventions

    folder = bases.folder("specs")
    if folder is not None:
        specs: list[SpecRef] = []
        for i, ref in enumerate(config.specs):
            try:
                resolved, paths = resolve_spec_ref(
                    ref, [folder], registries.spec_sources, location=("specs", i)
                )
            except UserError as err:
                raise bases.located(err, "specs", ("specs", i)) from None
            specs.append(resolved)
            found += paths
        update["specs"] = specs

    return ResolvedConfig(
        config=config.model_copy(update=update),
        task_args=task_args,
        model_args=model_args,
        intervention_params=params,
        local_paths=found,
    )


def _file_of(bases: ConfigBases, key: str) -> dict[str, Any]:
    """``file`` and ``node`` arguments of :func:`validate_resolving` for values of ``key``
    read from the config file (nothing for flags and defaults)."""
    if bases.config_file is None or not bases.in_file(key):
        return {}
    return {"file": bases.config_file, "node": bases.node}


def _strings(value: Any) -> set[str]:
    """Every string in ``value`` (nested lists and mappings), and the parts of each between
    the separators flag-style values use (``a.csv|b.csv``, ``train:a.csv``), so that a value a
    validator splits is still recognised."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.add(item)
            found.update(part.strip() for part in re.split(r"[|,;:=]", item) if part.strip())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return found


def _resolve_args(
    model: Any,
    raw: dict[str, Any],
    key: str,
    folder: Path,
    bases: ConfigBases,
    context: dict[str, Any],
) -> tuple[Any, dict[str, Any], list[FoundPath]]:
    """Validate an argument mapping (``task_args`` / ``model_args``) resolving its paths
    against ``folder``. For a mapping a flag merged into the file's (``bases.file_subkeys``),
    only the keys still from the file are resolved (against the file's folder); the flag's
    stay as written, to be resolved against the current folder, and an error in one of them
    names the flag rather than the file."""
    subkeys = bases.file_subkeys.get(key)
    prefix, location = f"{key}.", (key,)
    if subkeys is None:
        return validate_resolving(
            model,
            raw,
            [folder],
            prefix=prefix,
            location=location,
            context=context,
            **_file_of(bases, key),
        )
    from_file = _strings({k: v for k, v in raw.items() if k in subkeys})
    try:
        validated, patched, paths = validate_resolving(
            model,
            raw,
            [folder],
            prefix=prefix,
            location=location,
            only=from_file.__contains__,
            context=context,
            **_file_of(bases, key),
        )
    except UserError as err:
        raise _flag_error(err, key, subkeys) from None
    merged = {k: (patched[k] if k in subkeys else v) for k, v in raw.items()}
    paths = [p for p in paths if len(p.location) > 1 and p.location[1] in subkeys]
    return validated, merged, paths


def _flag_error(err: UserError, key: str, subkeys: frozenset[str]) -> UserError:
    """An error in a merged argument mapping, attributed to the flag when it is about a key
    the flag gave (no file or line then), else left naming the file."""
    field = err.field or key
    rest = field[len(key) :].lstrip(".")
    top = re.split(r"[.\[]", rest, maxsplit=1)[0] if rest else ""
    if top and top not in subkeys:
        err.file, err.line = None, None
        err.field = f"{flag_name(key)} {rest}"
    elif not top:
        err.field = f"{key} (with {flag_name(key)})"
    err.args = (err.one_line(),)
    return err


FLAG_ARGUMENTS = ("task_args", "model_args", "interventions")
"""Plugin arguments that flags can give (``--task-args``, ``--model-args``,
``--interventions``)."""


def check_flag_arguments(config: RunConfig, registries: Registries, keys: Collection[str]) -> None:
    """Validate the plugin arguments under ``keys`` (given by flags) without resolving paths,
    so that a mistake is reported naming the flag (``--interventions retrain:selection: ...``)
    before anything is loaded."""
    for key in (k for k in FLAG_ARGUMENTS if k in keys):
        try:
            if key == "interventions":
                for i, item in enumerate(config.interventions):
                    _check_intervention(item, i, config.interventions, registries)
                continue
            if key == "task_args":
                model: Any = registries.tasks.get(config.task, field="task").args
            else:
                model = registries.models.get(config.model, field="model").Args
            validate_resolving(
                model,
                getattr(config, key),
                [],
                prefix=f"{key}.",
                only=lambda _: False,
                context={REGISTRIES: registries},
            )
        except UserError as err:
            if err.field and err.field.startswith(f"{key}."):
                err.field = f"{flag_name(key)} {err.field[len(key) + 1 :]}"
                err.args = (err.one_line(),)
            raise


def _check_intervention(
    item: InterventionConfig, index: int, items: list[InterventionConfig], registries: Registries
) -> None:
    """Validate one intervention given by ``--interventions``; an error names it as written
    there (``--interventions retrain:selection``, with its position when the name repeats)."""
    flag = flag_name("interventions")
    cls = registries.interventions.get(item.name, field=flag)
    try:
        validate_resolving(
            cls.Args, item.params, [], only=lambda _: False, context={REGISTRIES: registries}
        )
    except UserError as err:
        repeated = sum(other.name == item.name for other in items) > 1
        where = item.name + (f":{err.field}" if err.field else "")
        err.field = f"{flag} {where}" + (f" (item {index + 1})" if repeated else "")
        err.args = (err.one_line(),)
        raise


def _looks_like_spec_path(ref: str) -> bool:
    """A ref spelled as a file or folder path (the way :func:`guess_source` tells paths from
    suite names): a suffix, a separator, or a leading ``.`` or ``~``."""
    return bool(Path(ref).suffix) or "/" in ref or os.sep in ref or ref.startswith((".", "~"))


def resolve_spec_ref(
    ref: SpecRef,
    folders: Sequence[Path],
    sources: Registry[SpecSource],
    location: tuple[str | int, ...] = (),
) -> tuple[SpecRef, list[FoundPath]]:
    """``ref`` with a path ``ref`` made absolute (shipped suite names, ``plugin/suite`` names and
    names a source accepts, e.g. hub datasets, stay as written) and its source's
    :data:`~harness.api.LocalPath` options resolved next to the config, then next to the spec
    file."""
    from harness.specs.loading import qualified_suite, shipped_suites

    text, prefix, source_name = ref.ref, "", ref.source
    if source_name is None and (text in shipped_suites(sources) or qualified_suite(text, sources)):
        return ref, []
    if source_name is None and ":" in text:
        head, _, rest = text.partition(":")
        exists = any((Path(folder) / text).exists() for folder in folders)
        if head in sources and not exists:
            prefix, text, source_name = head + ":", rest, head
    entry = sources.find(source_name) if source_name else None
    source = entry.item if entry is not None else None
    if source is not None and text in source.suites():
        resolved = text
    elif source_name is None:
        resolved = resolve_path(text, folders, or_name=not _looks_like_spec_path(text))
    else:
        accepts_names = source is not None and source.accepts_names  # unknown: loading says so
        resolved = resolve_path(text, folders, or_name=accepts_names)
    found: list[FoundPath] = []
    if os.path.isabs(resolved):
        found.append(FoundPath((*location, "ref"), resolved, prefix))
    new_ref = ref.model_copy(update={"ref": prefix + resolved})
    options_model = _options_model(new_ref, sources)
    if options_model is None or not ref.options:
        return new_ref, found
    near_spec = [Path(resolved) if Path(resolved).is_dir() else Path(resolved).parent]
    _, options, paths = validate_resolving(
        options_model,
        ref.options,
        [*folders, *(near_spec if os.path.isabs(resolved) else [])],
        prefix="specs.options.",
        location=(*location, "options"),
    )
    return new_ref.model_copy(update={"options": options}), found + paths


def _options_model(ref: SpecRef, sources: Registry[SpecSource]) -> Any:
    """The declared ``Options`` model of the source that will load ``ref`` (``None`` when the
    source is unknown here, which loading reports, or declares none)."""
    from harness.errors import UserError
    from harness.specs.loading import guess_source

    try:
        name = guess_source(ref, sources)
        source = sources.get(name, field="specs.source")
    except UserError:
        return None
    return source.Options
