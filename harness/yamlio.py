"""Safe YAML loading with line numbers for errors and bounds: files are read through
:mod:`harness.input_files` (size-limited, regular files only), and a document may hold at most
:data:`~harness.limits.YAML_NODES` nodes as written, nest at most
:data:`~harness.limits.YAML_DEPTH` levels and grow by at most
:data:`~harness.limits.YAML_ALIAS_NODES` nodes through anchors and aliases (YAML bombs). Each
limit is checked separately and the error says which one was hit; the node count of a large
file is taken from a fast parse before any node is built, so an oversized document is refused
in about a second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harness.errors import UserError
from harness.input_files import read_text
from harness.limits import YAML_ALIAS_NODES, YAML_DEPTH, YAML_NODES

__all__ = ["line_of", "load_yaml", "load_yaml_node", "read_text"]

Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML has it (several times faster), else the pure-Python one."""

NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)


class _TooDeep(Exception):
    """Raised by :func:`_expanded_size` past :data:`YAML_DEPTH` levels."""


def count_nodes(text: str, stop_after: int) -> tuple[int, int | None]:
    """Count the nodes of ``text`` from its parse events, stopping after ``stop_after``; return
    ``(count, line)`` with the line of the last node counted (for the error)."""
    loader = Loader(text)
    count, line = 0, None
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, NODE_EVENTS):
                count += 1
                if count > stop_after:
                    mark = event.start_mark
                    line = mark.line + 1 if mark is not None else None
                    break
    finally:
        loader.dispose()
    return count, line


def _expanded_size(node: yaml.Node, memo: dict[int, int], cap: int, depth: int = 0) -> int:
    """Nodes under ``node`` with every alias expanded (stops counting above ``cap``); ``memo``
    ends up holding one entry per distinct node visited."""
    key = id(node)
    if key in memo:
        return memo[key]
    if depth > YAML_DEPTH:
        raise _TooDeep
    size = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            size += _expanded_size(child, memo, cap, depth + 1)
            if size > cap:
                break
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            size += _expanded_size(k, memo, cap, depth + 1)
            size += _expanded_size(v, memo, cap, depth + 1)
            if size > cap:
                break
    memo[key] = size
    return size


def load_yaml_node(text: str, path: Path | str) -> yaml.Node | None:
    """Compose ``text`` into a node graph (no Python objects), within the node, depth and alias
    limits."""
    if len(text) > YAML_NODES:  # a shorter text cannot hold more nodes than characters
        count, line = _parsed(lambda: count_nodes(text, YAML_NODES), path)
        if count > YAML_NODES:
            raise UserError(
                f"the document has more than {YAML_NODES:,} YAML nodes (values, lists and "
                "mappings), the limit for one file",
                file=path,
                line=line,
                fix="split it into several files, or generate cases from templates and slots "
                "instead of listing them",
            )
    node = _parsed(lambda: yaml.compose(text, Loader=Loader), path)
    if node is None:
        return None
    memo: dict[int, int] = {}
    try:
        expanded = _expanded_size(node, memo, YAML_NODES + YAML_ALIAS_NODES)
    except _TooDeep:
        raise UserError(
            f"the document is nested more than {YAML_DEPTH} levels deep",
            file=path,
            fix="flatten the nested lists/maps",
        ) from None
    if expanded - len(memo) > YAML_ALIAS_NODES:
        raise UserError(
            f"anchors and aliases expand the document by more than {YAML_ALIAS_NODES:,} nodes "
            f"({len(memo):,} nodes as written)",
            file=path,
            fix="write the values out instead of repeating large anchors (a possible YAML bomb)",
        )
    _check_scalars(node, path)
    return node


def _parsed(parse: Any, path: Path | str) -> Any:
    """Run ``parse()`` (a libyaml/PyYAML parse of one document), turning its errors into one
    line naming the file and line."""
    try:
        return parse()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        if "nesting depth" in problem:
            raise UserError(
                f"the document is nested more than {YAML_DEPTH} levels deep",
                file=path,
                line=line,
                fix="flatten the nested lists/maps",
            ) from None
        if "invalid Unicode character escape" in problem:
            raise UserError(
                "invalid unicode escape (a lone surrogate such as \\ud800, or above \\U0010ffff)",
                file=path,
                line=line,
                fix="write the character itself or a valid escape",
            ) from None
        raise UserError(
            f"YAML syntax error: {problem}", file=path, line=line, fix="fix the YAML syntax"
        ) from None
    except yaml.YAMLError as exc:
        raise UserError(f"YAML error: {exc}", file=path, fix="fix the YAML syntax") from None
    except RecursionError:
        raise UserError(
            f"the document is nested more than {YAML_DEPTH} levels deep",
            file=path,
            fix="flatten the nested lists/maps",
        ) from None


def _check_scalars(root: yaml.Node, path: Path | str) -> None:
    """Refuse scalars that cannot be written back as UTF-8 (``"\\ud800"`` escapes decode to
    lone surrogates, which would crash the run when its results are written)."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            try:
                node.value.encode("utf-8")
            except UnicodeEncodeError:
                raise UserError(
                    "invalid unicode escape (a lone surrogate such as \\ud800)",
                    file=path,
                    line=node.start_mark.line + 1,
                    fix="write the character itself or a valid escape",
                ) from None
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(item for pair in node.value for item in pair)


def load_yaml(path: Path, encoding: str = "utf-8") -> tuple[Any, yaml.Node | None]:
    """Load a YAML file safely; return ``(data, node)`` where ``node`` locates keys for errors."""
    text = read_text(path, encoding)
    node = load_yaml_node(text, path)
    if node is None:
        return None, None
    loader = yaml.SafeLoader("")
    try:
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise UserError(
            f"YAML error: {exc.problem or exc.context or 'cannot read the value'}",
            file=path,
            line=mark.line + 1 if mark is not None else None,
            fix="use plain YAML values (tags such as !!python/... are not allowed)",
        ) from None
    except yaml.YAMLError as exc:
        raise UserError(f"YAML error: {exc}", file=path, fix="fix the YAML") from None
    finally:
        loader.dispose()
    return data, node


def line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Return the 1-based line of the value at ``loc`` (a pydantic error location) in ``node``."""
    line = node.start_mark.line + 1 if node is not None else None
    current = node
    for part in loc:
        if isinstance(current, yaml.MappingNode):
            match = None
            for key_node, value_node in current.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                    match = (key_node, value_node)
                    break
            if match is None:
                break
            line = match[0].start_mark.line + 1
            current = match[1]
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(current.value):
                break
            current = current.value[part]
            line = current.start_mark.line + 1
        else:
            break
    return line
