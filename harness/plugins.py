"""The plugin manager: built-in plugins first, then the ``harness`` entry-point group.

The plugin manager is the only process-wide mutable state of the harness. Registries are built
from it on demand by calling every ``register_*`` hook implementation, one plugin at a time, so that
each item is attributed to its plugin and a failing plugin is named in the error.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pluggy

from harness import PROJECT_NAME, __version__, hookspecs
from harness.api import (
    DifficultyMeasure,
    Executor,
    Intervention,
    Model,
    Reporter,
    Selector,
    SpecSource,
    TaskDefinition,
)
from harness.errors import PluginError
from harness.kinds import KINDS, Kind
from harness.registry import Registry

ENTRY_POINT_GROUP = "harness"
BUILTIN_DISTRIBUTION = "spec-harness"

DEFAULT_PLUGINS: tuple[str, ...] = (
    "harness_plugins.tasks.demo",
    "harness_plugins.tasks.files",
    "harness_plugins.tasks.hf",
    "harness_plugins.spec_sources.yaml_source",
    "harness_plugins.spec_sources.hatecheck",
    "harness_plugins.spec_sources.csv_source",
    "harness_plugins.spec_sources.hf_source",
    "harness_plugins.models.bow",
    "harness_plugins.models.hf",
    "harness_plugins.models.sklearn_model",
    "harness_plugins.selectors.uniform",
    "harness_plugins.selectors.tfidf",
    "harness_plugins.selectors.bm25",
    "harness_plugins.selectors.embedding",
    "harness_plugins.selectors.dsir",
    "harness_plugins.interventions.retrain",
    "harness_plugins.interventions.augment",
    "harness_plugins.interventions.patch",
    "harness_plugins.interventions.relabel",
    "harness_plugins.measures.pvi",
    "harness_plugins.measures.cartography",
    "harness_plugins.measures.analyse",
    "harness_plugins.reporters.markdown",
    "harness_plugins.reporters.html",
    "harness_plugins.reporters.json_report",
    "harness_plugins.executors.local",
    "harness_plugins.executors.ray_cluster",
)
"""Built-in plugin modules, registered through the same hooks as third-party plugins."""

REGISTER_HOOKS: dict[str, str] = {kind.name: kind.hook for kind in KINDS}
"""Registry kind -> the hook that fills it (from :data:`harness.kinds.KINDS`)."""


@dataclass
class PluginInfo:
    """What ``harness plugins`` shows about one loaded plugin."""

    name: str
    distribution: str
    version: str
    hooks: list[str] = field(default_factory=list)
    builtin: bool = False


_pm: pluggy.PluginManager | None = None
_dists: dict[str, tuple[str, str]] = {}


def _env_names(variable: str) -> set[str] | None:
    value = os.environ.get(variable)
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def _builtin_name(module: str) -> str:
    return "builtin." + module.removeprefix("harness_plugins.")


def _trace_enabled() -> bool:
    return os.environ.get("HARNESS_TRACE_PLUGINS", "") not in ("", "0", "false", "no")


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    disabled = _env_names("HARNESS_DISABLE_PLUGINS") or set()
    only = _env_names("HARNESS_LOAD_PLUGINS")
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in disabled or (only is not None and ep.name not in only):
            continue
        if pm.has_plugin(ep.name):
            continue
        dist_name = ep.dist.name if ep.dist is not None else "unknown distribution"
        dist_version = ep.dist.version if ep.dist is not None else "?"
        try:
            module = ep.load()
        except Exception as exc:  # a broken third-party plugin must not crash without a name
            raise PluginError(
                f"plugin {ep.name!r} (distribution {dist_name} {dist_version}) failed to import: "
                f"{type(exc).__name__}: {exc}",
                field="entry point harness",
                fix=f"fix or uninstall it, or run with HARNESS_DISABLE_PLUGINS={ep.name}",
            ) from exc
        pm.register(module, name=ep.name)
        _dists[ep.name] = (dist_name, dist_version)


def _install_tracing(pm: pluggy.PluginManager) -> None:
    """Print every hook call (``HARNESS_TRACE_PLUGINS=1``) through pluggy's call monitoring."""

    def before(hook_name: str, impls: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        names = ", ".join(impl.plugin_name for impl in impls) or "(no plugin)"
        args = ", ".join(kwargs)
        print(f"[harness] hook {hook_name}({args}) -> {names}", file=sys.stderr)

    def after(
        outcome: Any, hook_name: str, impls: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> None:
        names = ", ".join(impl.plugin_name for impl in impls) or "(no plugin)"
        failed = outcome.exception
        status = f"raised {type(failed).__name__}" if failed is not None else "ok"
        print(f"[harness] hook {hook_name} <- {names}: {status}", file=sys.stderr)

    pm.add_hookcall_monitoring(before, after)


def get_plugin_manager() -> pluggy.PluginManager:
    """Return the process-wide plugin manager, creating and loading it on first use."""
    global _pm
    if _pm is not None:
        return _pm
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    disabled = _env_names("HARNESS_DISABLE_PLUGINS") or set()
    for module_name in DEFAULT_PLUGINS:
        name = _builtin_name(module_name)
        if name in disabled:
            continue
        pm.register(importlib.import_module(module_name), name=name)
        _dists[name] = (BUILTIN_DISTRIBUTION, __version__)
    if not os.environ.get("HARNESS_NO_ENTRY_POINTS"):
        _load_entry_points(pm)
    pm.check_pending()
    if _trace_enabled():
        _install_tracing(pm)
    _pm = pm
    return pm


def in_process_plugin_modules() -> list[tuple[str, str, str]]:
    """Plugin *modules* registered in this process beyond the built-in and installed ones (a
    test, a notebook): ``(plugin name, module name, folder to import it from)``. Worker
    processes register them too (:mod:`harness.unit_call`); plugin objects that are not modules
    cannot travel and are left out."""
    pm = get_plugin_manager()
    found = []
    for name, plugin in pm.list_name_plugin():
        if name in _dists or not isinstance(plugin, type(sys)):
            continue
        module_name = getattr(plugin, "__name__", "")
        file = getattr(plugin, "__file__", None)
        if not module_name or not file:
            continue
        root = Path(file).resolve().parent
        for _ in range(module_name.count(".")):
            root = root.parent
        found.append((name, module_name, str(root)))
    return found


def register_plugin_modules(modules: Sequence[tuple[str, str, str]]) -> None:
    """Register plugin modules listed by :func:`in_process_plugin_modules` (in a worker)."""
    pm = get_plugin_manager()
    for name, module_name, root in modules:
        if pm.has_plugin(name):
            continue
        if root not in sys.path and Path(root).is_dir():
            sys.path.append(root)
        pm.register(importlib.import_module(module_name), name=name)


def reset_plugin_manager() -> None:
    """Forget the plugin manager (tests use this after changing the environment)."""
    global _pm
    _pm = None
    _dists.clear()


def plugin_infos() -> list[PluginInfo]:
    """Describe every loaded plugin: name, distribution, version and implemented hooks."""
    pm = get_plugin_manager()
    infos = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        hooks = sorted(impl_caller.name for impl_caller in pm.get_hookcallers(plugin) or [])
        dist, version = _dists.get(name, ("(registered in-process)", "-"))
        infos.append(
            PluginInfo(
                name=name,
                distribution=dist,
                version=version,
                hooks=hooks,
                builtin=name.startswith("builtin."),
            )
        )
    return sorted(infos, key=lambda i: (not i.builtin, i.name))


def plugin_origin(name: str) -> str:
    """Where plugin ``name`` comes from: ``built-in``, ``DIST VERSION`` for an installed
    distribution, or ``(registered in-process)``."""
    if name.startswith("builtin."):
        return "built-in"
    dist, version = _dists.get(name, ("(registered in-process)", "-"))
    return dist if version == "-" else f"{dist} {version}"


def _plugin_label(plugin_name: str) -> str:
    """``plugin 'NAME' (distribution DIST VERSION)``: how errors name a plugin."""
    dist, version = _dists.get(plugin_name, ("(registered in-process)", "-"))
    return f"plugin {plugin_name!r} (distribution {dist} {version})"


def _plugin_failure(plugin_name: str, hook_name: str, exc: Exception) -> PluginError:
    return PluginError(
        f"{_plugin_label(plugin_name)} raised in hook {hook_name}: {type(exc).__name__}: {exc}",
        field=hook_name,
        fix=f"fix or uninstall it, or run with HARNESS_DISABLE_PLUGINS={plugin_name}",
    )


def _call_each(
    hook_name: str, kwargs_for: Callable[[str], dict[str, Any]]
) -> list[tuple[str, Any]]:
    """Call ``hook_name`` one plugin at a time, in pluggy's order, through pluggy itself (so
    hook-call monitoring sees every call), naming the plugin in any error it raises. Returns
    ``(plugin name, result)`` for every result that is not ``None``."""
    from harness.errors import UserError

    pm = get_plugin_manager()
    caller = getattr(pm.hook, hook_name)
    results: list[tuple[str, Any]] = []
    for impl in reversed(caller.get_hookimpls()):
        others = [p for n, p in pm.list_name_plugin() if p is not None and n != impl.plugin_name]
        one = pm.subset_hook_caller(hook_name, remove_plugins=others)
        try:
            results.extend((impl.plugin_name, r) for r in one(**kwargs_for(impl.plugin_name)))
        except UserError:
            raise
        except Exception as exc:
            raise _plugin_failure(impl.plugin_name, hook_name, exc) from exc
    return results


def call_register_hook(hook_name: str, registry: Registry[Any], kind: Kind | None = None) -> None:
    """Call every implementation of ``hook_name`` one plugin at a time, filling ``registry``.
    With ``kind``, an item that is not what the kind takes (e.g. a model class that does not
    subclass :class:`harness.api.Model`) is a one-line error naming the plugin."""

    def kwargs_for(plugin_name: str) -> dict[str, Any]:
        def register(item: Any, *args: Any, **kwargs: Any) -> None:
            if kind is not None and not kind.accepts(item):
                raise _wrong_item(plugin_name, kind, item)
            name = kwargs.pop("name", None) or getattr(item, "name", None)
            description = kwargs.pop("description", None) or getattr(item, "description", "")
            registry.add(str(name) if name else "", item, plugin_name, str(description or ""))

        return {"register": register}

    _call_each(hook_name, kwargs_for)


def _wrong_item(plugin_name: str, kind: Kind, item: Any) -> PluginError:
    """The error for a plugin that registers something its hook does not take."""
    shown = item.__qualname__ if isinstance(item, type) else type(item).__name__ + " instance"
    what = "an instance" if kind.registers == "instance" else "a subclass"
    return PluginError(
        f"{_plugin_label(plugin_name)} registered {shown}, which is "
        f"not {what} of harness.api.{kind.base.__name__}",
        field=kind.hook,
        fix=f"register {kind.item_text.replace('`', '')}, or run with "
        f"HARNESS_DISABLE_PLUGINS={plugin_name}",
    )


@dataclass
class Registries:
    """Every registry, filled from the plugin manager: one field per kind of
    :data:`harness.kinds.KINDS`, in that order (checked when this module is imported)."""

    tasks: Registry[TaskDefinition]
    spec_sources: Registry[SpecSource]
    models: Registry[type[Model[Any]]]
    selectors: Registry[type[Selector[Any]]]
    interventions: Registry[type[Intervention[Any]]]
    difficulty_measures: Registry[type[DifficultyMeasure[Any]]]
    reporters: Registry[type[Reporter]]
    executors: Registry[type[Executor[Any]]]

    def by_kind(self) -> dict[str, Registry[Any]]:
        """``{kind: registry}`` in display order."""
        return {kind.name: getattr(self, kind.name) for kind in KINDS}


if [f.name for f in fields(Registries)] != [kind.name for kind in KINDS]:
    raise ImportError("harness.plugins.Registries must have one field per harness.kinds.KINDS")


def load_registries() -> Registries:
    """Build every registry by calling the ``register_*`` hooks of all loaded plugins."""
    registries: dict[str, Registry[Any]] = {}
    for kind in KINDS:
        registry: Registry[Any] = Registry(kind.title)
        call_register_hook(kind.hook, registry, kind)
        registries[kind.name] = registry
    return Registries(**registries)


def call_hook(hook_name: str, **kwargs: Any) -> list[Any]:
    """Call a non-register hook (e.g. ``prepare_jinja2_environment``) on every plugin, one at a
    time, so that an error names the plugin, its distribution and the hook."""
    return [result for _, result in _call_each(hook_name, lambda _plugin: kwargs)]


DEFAULT_RUN_KEYS = ("task", "task_args", "specs", "model", "model_args", "interventions")
"""The run-config keys a plugin's ``default_run_config`` may declare."""


def declared_run_defaults() -> dict[str, Any]:
    """The default run a plugin declares through ``default_run_config`` (the first mapping in
    pluggy's call order, i.e. of the plugin registered last); ``{}`` when none does. A value
    that is not a mapping of :data:`DEFAULT_RUN_KEYS` is a one-line error naming the plugin."""
    import copy

    for plugin_name, value in _call_each("default_run_config", lambda _plugin: {}):
        unknown = sorted(set(value) - set(DEFAULT_RUN_KEYS)) if isinstance(value, dict) else []
        if not isinstance(value, dict) or unknown:
            problem = (
                f"keys {', '.join(map(repr, unknown))}" if unknown else f"a {type(value).__name__}"
            )
            raise PluginError(
                f"{_plugin_label(plugin_name)} declares a default run with {problem}",
                field="default_run_config",
                fix=f"return a mapping of {', '.join(DEFAULT_RUN_KEYS)}, or run with "
                f"HARNESS_DISABLE_PLUGINS={plugin_name}",
            )
        return copy.deepcopy(value)
    return {}
