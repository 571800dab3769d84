"""Typed registries of plugin items (tasks, spec sources, models, ...)."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from harness.errors import UserError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered item and the plugin that registered it."""

    name: str
    item: T
    plugin: str
    description: str = ""

    @property
    def qualified_name(self) -> str:
        """``plugin/name``: unambiguous even when two plugins share a short name."""
        return f"{self.plugin}/{self.name}"


class Registry(Generic[T]):
    """Items of one kind, by name.

    Two plugins may register the same short name; looking that name up is then rejected with an
    error naming both plugins, and the qualified ``plugin/name`` picks one. A plugin registering a
    name twice is an error. A miss is answered with close names and the available ones.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, list[Entry[T]]] = {}

    def add(self, name: str, item: T, plugin: str, description: str = "") -> None:
        """Register ``item`` under ``name`` for ``plugin``."""
        if not name or not isinstance(name, str):
            raise UserError(
                f"a {self.kind} without a name",
                field=f"plugin {plugin}",
                fix="give the class a non-empty `name`",
            )
        same = self._entries.setdefault(name, [])
        if any(entry.plugin == plugin for entry in same):
            raise UserError(
                f"plugin {plugin!r} registers {self.kind} {name!r} twice",
                field=self.kind,
                fix="register each name once",
            )
        same.append(Entry(name=name, item=item, plugin=plugin, description=description))

    def names(self) -> list[str]:
        """Registered names, sorted; ambiguous short names appear qualified."""
        names: list[str] = []
        for name, entries in self._entries.items():
            if len(entries) == 1:
                names.append(name)
            else:
                names.extend(entry.qualified_name for entry in entries)
        return sorted(names)

    def entries(self) -> list[Entry[T]]:
        """Every registered entry, sorted by name then plugin."""
        every = [entry for entries in self._entries.values() for entry in entries]
        return sorted(every, key=lambda e: (e.name, e.plugin))

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(self.entries())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self._candidates(name))

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._entries.values())

    def _candidates(self, name: str) -> list[Entry[T]]:
        if name in self._entries:
            return self._entries[name]
        if "/" in name:
            plugin, _, short = name.rpartition("/")
            return [
                entry
                for entry in self._entries.get(short, [])
                if entry.plugin == plugin or entry.plugin.startswith(plugin + ".")
            ]
        return []

    def find(self, name: str) -> Entry[T] | None:
        """Return the entry for ``name`` or ``plugin/name`` when it is unambiguous, or ``None``."""
        candidates = self._candidates(name)
        return candidates[0] if len(candidates) == 1 else None

    def entry(self, name: str, *, field: str | None = None, file: str | None = None) -> Entry[T]:
        """Return the entry for ``name``; raise a :class:`UserError` on a miss (with suggestions)
        or on an ambiguous short name (naming both plugins)."""
        candidates = self._candidates(name)
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            plugins = " and ".join(repr(entry.plugin) for entry in candidates)
            choices = ", ".join(entry.qualified_name for entry in candidates)
            raise UserError(
                f"{self.kind} {name!r} is registered by both plugin {plugins}",
                file=file,
                field=field or self.kind,
                fix=f"use a qualified name: {choices}",
            )
        raise UserError(
            f"unknown {self.kind} {name!r}",
            file=file,
            field=field or self.kind,
            fix=self.suggestion(name),
        )

    def get(self, name: str, *, field: str | None = None, file: str | None = None) -> T:
        """Return the item registered as ``name`` (see :meth:`entry`)."""
        return self.entry(name, field=field, file=file).item

    def suggestion(self, name: str) -> str:
        """A 'did you mean' hint followed by the available names."""
        names = self.names()
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        available = ", ".join(names) if names else "(none registered)"
        return f"{hint}available: {available}"
