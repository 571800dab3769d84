"""Values of ``harness run`` flags: ``k=v,k=v`` argument mappings and the ``--interventions``
list with parameters.

Grammar (documented in ``harness run --help``):

- ``--model-args`` / ``--task-args``: ``key=value`` items separated by commas. A value is read
  as a YAML scalar (``2`` is a number, ``true`` a boolean, ``null`` nothing, anything else a
  string); a YAML flow list or mapping in brackets keeps its commas
  (``sources=[general, policy]``, ``class_weight={hateful: 5}``); plugins also accept the
  ``a|b`` and ``a:1|b:2`` forms for lists and mappings.
- ``--interventions``: a comma-separated list; an item ``name`` or ``name:key=value`` starts an
  intervention, and a following ``key=value`` item adds another parameter to it:
  ``retrain:selection=tfidf,budget=300,patch:delta=0.01,relabel``.
"""

from __future__ import annotations

from typing import Any

import yaml

from harness.errors import UserError

OPENERS = {"[": "]", "{": "}"}


def split_items(text: str, flag: str) -> list[str]:
    """``text`` split at the commas outside ``[...]`` and ``{...}`` (empty items dropped)."""
    items: list[str] = []
    current: list[str] = []
    stack: list[str] = []
    for char in text:
        if char in OPENERS:
            stack.append(OPENERS[char])
        elif stack and char == stack[-1]:
            stack.pop()
        elif char in OPENERS.values():
            raise UserError(f"unbalanced {char!r} in {text!r}", field=flag, fix="close brackets")
        if char == "," and not stack:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    if stack:
        raise UserError(
            f"unclosed {'[' if stack[-1] == ']' else '{'} in {text!r}",
            field=flag,
            fix="close the bracket",
        )
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def parse_value(raw: str) -> Any:
    """A flag value read as YAML (a scalar, or a flow list / mapping in brackets); a value
    YAML cannot read, or reads as something else, stays the string it was."""
    text = raw.strip()
    if not text:
        return ""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, (list, dict)) and not text.startswith(tuple(OPENERS)):
        return text
    if value is not None and not isinstance(value, (str, int, float, bool, list, dict)):
        return text  # dates, timestamps: keep what was written
    return value


def key_value(item: str, flag: str, example: str = "k=v,k=v") -> tuple[str, Any]:
    """One ``key=value`` item (the one parser of every ``KEY=VALUE`` flag; ``example`` shows
    the flag's form in the error)."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise UserError(f"expected key=value, got {item!r}", field=flag, fix=f"write {example}")
    return key.strip(), parse_value(raw)


def parse_key_values(text: str, flag: str) -> dict[str, Any]:
    """Parse ``k=v,k=v`` for ``--model-args`` and friends (see the module docstring)."""
    return dict(key_value(item, flag) for item in split_items(text or "", flag))


def parse_interventions(text: str, flag: str = "--interventions") -> list[dict[str, Any]]:
    """Parse the ``--interventions`` list into ``[{"name": ..., "params": {...}}]`` (see the
    module docstring); an empty text is an empty list (no interventions)."""
    out: list[dict[str, Any]] = []
    for item in split_items(text or "", flag):
        colon, equals = item.find(":"), item.find("=")
        if equals < 0 or (0 <= colon < equals):  # ``name`` or ``name:key=value``
            name, _, rest = item.partition(":")
            if not name.strip():
                raise UserError(
                    f"an intervention has no name in {item!r}",
                    field=flag,
                    fix="write name or name:key=value, e.g. retrain:selection=tfidf",
                )
            entry: dict[str, Any] = {"name": name.strip(), "params": {}}
            if rest.strip():
                key, value = key_value(rest, flag)
                entry["params"][key] = value
            out.append(entry)
        else:
            if not out:
                raise UserError(
                    f"{item!r} comes before any intervention name",
                    field=flag,
                    fix="start with a name: retrain:selection=tfidf,budget=300",
                )
            key, value = key_value(item, flag)
            if key in out[-1]["params"]:
                raise UserError(
                    f"{key!r} is given twice for {out[-1]['name']}",
                    field=flag,
                    fix="give each parameter once",
                )
            out[-1]["params"][key] = value
    return out
