"""Resolve the ``specs`` entries of a run config into loaded specs, through spec-source plugins."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.api import Spec, SpecSource, SpecSuite, Task
from harness.config import SpecRef
from harness.errors import UserError
from harness.registry import Registry

if TYPE_CHECKING:
    from harness.specs.checks import CheckReport


def shipped_suites(sources: Registry[SpecSource]) -> dict[str, tuple[str, str]]:
    """``{suite name: (source name, description)}`` over every source's shipped suites."""
    found: dict[str, tuple[str, str]] = {}
    for entry in sources:
        source = entry.name if sources.find(entry.name) else entry.qualified_name
        for suite, description in entry.item.suites().items():
            found.setdefault(suite, (source, description))
    return found


def qualified_suite(ref: str, sources: Registry[SpecSource]) -> tuple[str, str] | None:
    """Resolve ``plugin/suite`` (a suite shipped by a source of that plugin) to
    ``(qualified source name, suite name)``; ``None`` when ``ref`` is not such a name."""
    if "/" not in ref or Path(ref).exists():
        return None
    plugin, _, suite = ref.rpartition("/")
    for entry in sources:
        of_plugin = entry.plugin == plugin or entry.plugin.startswith(plugin + ".")
        if of_plugin and suite in entry.item.suites():
            return entry.qualified_name, suite
    return None


def guess_source(ref: SpecRef, sources: Registry[SpecSource]) -> str:
    """Pick the spec source for ``ref``: explicit, a shipped suite's source, or by path suffix."""
    if ref.source:
        return ref.source
    if ":" in ref.ref and not Path(ref.ref).exists():
        prefix = ref.ref.split(":", 1)[0]
        if prefix in sources:
            return prefix
    suites = shipped_suites(sources)
    owners = [entry for entry in sources if ref.ref in suites and ref.ref in entry.item.suites()]
    if len(owners) > 1:
        raise UserError(
            f"spec suite {ref.ref!r} is shipped by both plugin "
            + " and ".join(repr(entry.plugin) for entry in owners),
            field="specs",
            fix="use a qualified name: " + ", ".join(f"{e.plugin}/{ref.ref}" for e in owners),
        )
    if ref.ref in suites:
        return suites[ref.ref][0]
    qualified = qualified_suite(ref.ref, sources)
    if qualified:
        return qualified[0]
    path = Path(ref.ref)
    if path.is_dir() or (path.suffix and path.exists()):
        return source_for_path(path, sources)
    if path.suffix or "/" in ref.ref:
        raise UserError(
            "no such spec file or folder",
            file=ref.ref,
            field="specs",
            fix="check the path or name a shipped suite: " + ", ".join(sorted(suites)),
        )
    import difflib

    close = difflib.get_close_matches(ref.ref, list(suites), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise UserError(
        f"unknown spec suite {ref.ref!r}",
        field="specs",
        fix=f"{hint}available: {', '.join(sorted(suites)) or '(none)'}; or give a path",
    )


def source_for_path(path: Path, sources: Registry[SpecSource]) -> str:
    """The spec source that declares it reads ``path`` (a folder:
    :attr:`~harness.api.SpecSource.reads_folders`; a file: its suffix in
    :attr:`~harness.api.SpecSource.suffixes`); none or several is a one-line error asking for
    ``source:``."""
    folder = path.is_dir()
    suffix = path.suffix.lower()

    def claims(source: SpecSource) -> bool:
        return source.reads_folders if folder else suffix in (s.lower() for s in source.suffixes)

    owners = [entry for entry in sources if claims(entry.item)]
    if len(owners) == 1:
        entry = owners[0]
        return entry.name if sources.find(entry.name) else entry.qualified_name
    what = "a folder" if folder else f"{suffix} files"
    if owners:
        names = ", ".join(entry.qualified_name for entry in owners)
        raise UserError(
            f"spec sources {names} all read {what}",
            file=path,
            field="specs",
            fix="name the one to use: source: NAME",
        )
    claimed = sorted({s for entry in sources for s in entry.item.suffixes})
    raise UserError(
        f"no spec source reads {what} without being named",
        file=path,
        field="specs",
        fix=f"set source: NAME (`harness list specs`), or use a file ending in "
        f"{', '.join(claimed) or '(none claimed)'}",
    )


def load_suites(
    refs: list[SpecRef], sources: Registry[SpecSource], seed: int = 0
) -> list[SpecSuite]:
    """Load every referenced suite."""
    suites: list[SpecSuite] = []
    for ref in refs:
        source_name = guess_source(ref, sources)
        source = sources.get(source_name, field="specs.source")
        target = ref.ref
        qualified = None if ref.source else qualified_suite(target, sources)
        if qualified:
            target = qualified[1]
        if ":" in target and target.split(":", 1)[0] == source_name and not Path(target).exists():
            target = target.split(":", 1)[1]
        suites.extend(source.load(target, dict(ref.options), seed=seed))
    return suites


def check_specs(suites: list[SpecSuite], task: Task) -> CheckReport:
    """Run the checks of :mod:`harness.specs.checks` on ``suites`` against ``task`` (its labels,
    train split, pool sources and test split): warnings go to stderr in compact form (a
    leakage summary per suite), the first error is raised. Returns the report (its
    ``leakage`` goes into ``results.json``)."""
    from harness.specs.checks import CheckOptions, check_suites, enforce

    report = check_suites(suites, CheckOptions(label_names=task.label_names, task=task))
    enforce(report, compact=True)
    return report


def flatten_specs(
    suites: list[SpecSuite],
    label_names: list[str],
    train_texts: Sequence[str] | None = None,
    *,
    check: bool = True,
) -> list[Spec]:
    """All specs of ``suites``; duplicate ids and labels outside the task's labels are errors.
    With ``check`` (default), first runs the leakage/quality checks of
    :mod:`harness.specs.checks` against the task's labels and ``train_texts``: warnings go to
    stderr, the first error is raised (:func:`check_specs` checks against a whole task)."""
    from harness.specs.checks import CheckOptions, check_suites, enforce

    if check:
        enforce(
            check_suites(suites, CheckOptions(label_names=label_names, train_texts=train_texts)),
            compact=True,
        )
    seen: dict[str, str] = {}
    specs: list[Spec] = []
    for suite in suites:
        for spec in suite.specs:
            if spec.id in seen:
                raise UserError(
                    f"duplicate spec id {spec.id!r} (suites {seen[spec.id]!r} and {suite.name!r})",
                    field="specs",
                    fix="rename one of the specs or load one suite",
                )
            if spec.label not in label_names:
                raise UserError(
                    f"spec {spec.id!r} has label {spec.label!r}, not a label of the task",
                    file=suite.source or None,
                    field=f"{spec.id}: label",
                    fix=f"use one of: {', '.join(label_names)}",
                )
            seen[spec.id] = suite.name
            specs.append(spec.model_copy(update={"suite": spec.suite or suite.name}))
    if not specs:
        raise UserError("no specs loaded", field="specs", fix="name at least one non-empty suite")
    return specs
