"""Safe YAML loading with line numbers for errors and a guard against alias bombs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harness.errors import UserError

MAX_EXPANDED_NODES = 200_000
"""The most nodes a YAML document may expand to through anchors and aliases."""


def _expanded_size(node: yaml.Node, memo: dict[int, int], depth: int = 0) -> int:
    key = id(node)
    if key in memo:
        return memo[key]
    if depth > 200:
        return MAX_EXPANDED_NODES + 1
    size = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            size += _expanded_size(child, memo, depth + 1)
            if size > MAX_EXPANDED_NODES:
                break
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            size += _expanded_size(k, memo, depth + 1) + _expanded_size(v, memo, depth + 1)
            if size > MAX_EXPANDED_NODES:
                break
    memo[key] = size
    return size


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """Read a text file, turning I/O and decoding problems into one-line user errors."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError("file not found", file=path, fix="check the path") from None
    except IsADirectoryError:
        raise UserError("is a directory, expected a file", file=path, fix="name a file") from None
    except PermissionError:
        raise UserError("permission denied", file=path, fix="make the file readable") from None
    except OSError as exc:
        raise UserError(f"cannot read: {exc.strerror}", file=path, fix="check the path") from None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise UserError(
            f"not valid {encoding} (byte {exc.start})",
            file=path,
            fix="convert the file to UTF-8 or pass its encoding (e.g. encoding: latin-1)",
        ) from None
    except LookupError:
        raise UserError(
            f"unknown encoding {encoding!r}", file=path, field="encoding", fix="use e.g. utf-8"
        ) from None


def load_yaml_node(text: str, path: Path | str) -> yaml.Node | None:
    """Compose ``text`` into a node graph (no Python objects), with a bomb guard."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise UserError(
            f"YAML syntax error: {problem}", file=path, line=line, fix="fix the YAML syntax"
        ) from None
    except yaml.YAMLError as exc:
        raise UserError(f"YAML error: {exc}", file=path, fix="fix the YAML syntax") from None
    except RecursionError:
        raise UserError(
            "the document is nested too deeply", file=path, fix="flatten the nested lists/maps"
        ) from None
    if node is not None and _expanded_size(node, {}) > MAX_EXPANDED_NODES:
        raise UserError(
            f"document expands to more than {MAX_EXPANDED_NODES:,} nodes through aliases "
            "(or nests more than 200 levels deep)",
            file=path,
            fix="remove the anchor/alias expansion (possible YAML bomb)",
        )
    if node is not None:
        _check_scalars(node, path)
    return node


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
