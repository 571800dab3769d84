"""How errors about a table name the user's settings: the config field that names the file, the
prefix of its per-file options and how the user sets one. Each reader of tables (a task, a spec
source) describes its own configuration with a :class:`TableHints`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def _pass_option(name: str, value: str) -> str:
    return f"pass {name}={value}"


@dataclass(frozen=True)
class TableHints:
    """Where a table's settings live, for one-line errors.

    ``field`` is the config field naming the file (e.g. ``task_args.train``; ``None``: errors
    name only the file). ``option_prefix`` is put before per-file option names
    (``task_args.``, ``task_args.pool[1].``, ``options.``). ``set_option(name, value)`` says
    how the user sets an option (``pass encoding=latin-1``, ``set encoding: latin-1 for pool
    source 'policy'``)."""

    field: str | None = None
    option_prefix: str = ""
    set_option: Callable[[str, str], str] = _pass_option

    def option(self, name: str) -> str:
        """The config field of per-file option ``name``."""
        return f"{self.option_prefix}{name}"

    def how_to_set(self, name: str, value: str) -> str:
        """The fix that sets option ``name`` to ``value``."""
        return self.set_option(name, value)
