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
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.api import SpecSource
from harness.config import InterventionConfig, RunConfig, SpecRef
from harness.local_paths import FoundPath, resolve_path, validate_resolving
from harness.plugins import Registries
from harness.registry import Registry


@dataclass(frozen=True)
class ConfigBases:
    """Where the relative paths of each top-level config key are resolved: the config file's
    folder for keys read from the file, ``cwd`` for the rest (flags, defaults); ``cwd=None``
    leaves the rest as written (to be resolved later, when the run is planned)."""

    config_folder: Path | None = None
    from_file: frozenset[str] = frozenset()
    cwd: Path | None = field(default_factory=Path.cwd)

    def folder(self, key: str) -> Path | None:
        """The folder relative paths under ``key`` are resolved against (``None``: leave)."""
        if self.config_folder is not None and key in self.from_file:
            return self.config_folder
        return self.cwd


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
        bases = _OnlyKeys(bases.config_folder, bases.from_file, bases.cwd, frozenset(keys))
    found: list[FoundPath] = []
    update: dict[str, Any] = {}
    for key in ("output_dir", "cache_dir"):
        folder, value = bases.folder(key), getattr(config, key)
        if folder is not None and value:
            update[key] = resolve_path(value, [folder])

    task_args = model_args = None
    folder = bases.folder("task_args")
    if folder is not None:
        task_def = registries.tasks.get(config.task, field="task")
        task_args, update["task_args"], paths = validate_resolving(
            task_def.args,
            config.task_args,
            [folder],
            prefix="task_args.",
            location=("task_args",),
        )
        found += paths

    folder = bases.folder("model_args")
    if folder is not None:
        model_class = registries.models.get(config.model, field="model")
        model_args, update["model_args"], paths = validate_resolving(
            model_class.Args,
            config.model_args,
            [folder],
            prefix="model_args.",
            location=("model_args",),
        )
        found += paths

    params: list[Any] = []
    folder = bases.folder("interventions")
    if folder is not None:
        interventions: list[InterventionConfig] = []
        for i, item in enumerate(config.interventions):
            cls = registries.interventions.get(item.name, field=f"interventions[{i}].name")
            validated, raw, paths = validate_resolving(
                cls.Args,
                item.params,
                [folder],
                prefix=f"interventions[{i}].params.",
                location=("interventions", i, "params"),
            )
            params.append(validated)
            interventions.append(item.model_copy(update={"params": raw}))
            found += paths
        update["interventions"] = interventions

    folder = bases.folder("specs")
    if folder is not None:
        specs: list[SpecRef] = []
        for i, ref in enumerate(config.specs):
            resolved, paths = resolve_spec_ref(
                ref, [folder], registries.spec_sources, location=("specs", i)
            )
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
    from harness.spec_loading import qualified_suite, shipped_suites

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
        accepts_names = bool(getattr(source, "accepts_names", False))
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
    from harness.spec_loading import guess_source

    try:
        name = guess_source(ref, sources)
        source = sources.get(name, field="specs.source")
    except UserError:
        return None
    return getattr(source, "Options", None)
