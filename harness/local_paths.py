"""Local paths in plugin arguments: resolution while validating, and content fingerprints.

Plugins declare which arguments name local files or folders with :data:`harness.api.LocalPath`
(or :data:`~harness.api.LocalPathOrName`). This module

- resolves such values while the arguments are validated (so that the plugin's own validators see
  the resolved path): an absolute value stays, a relative one is looked up in the given folders in
  order (the config file's folder for values written in a config file, the current folder for
  flags; spec options add the spec file's folder) and is reported in the first one when it exists
  in none; ``~`` is expanded;
- walks the validated model (nested models, lists, tuples, dicts, optional and union fields) to
  write the resolved values back into the user's raw arguments, changing nothing else, and to
  list every local path with its location in the config;
- fingerprints what the paths name (the SHA-256 of a file's bytes, or of a folder's file names
  and bytes), so that the run id depends on the data rather than on where it lies.
"""

from __future__ import annotations

import hashlib
import os
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from harness.api import PATH_RESOLVER, PathArg
from harness.validation import user_error_from_validation

M = TypeVar("M", bound=BaseModel)
Location = tuple[str | int, ...]
CHUNK = 1 << 20


@dataclass(frozen=True)
class FoundPath:
    """A resolved local path and where it sits in the config (``("task_args", "train")``).
    ``prefix`` is text before the path in the same value (``hatecheck:`` of a spec ref)."""

    location: Location
    path: str
    prefix: str = ""


def written_as_path(value: str) -> bool:
    """Whether ``value`` is spelled as a path (``/x``, ``./x``, ``../x``, ``~/x``, ``.``)."""
    return value in (".", "..", "~") or value.startswith(("/", "./", "../", "~/", "~"))


def resolve_path(value: str, folders: Sequence[Path], or_name: bool = False) -> str:
    """``value`` made absolute: as it is when absolute (after ``~`` expansion), else joined to
    the first of ``folders`` where it exists, else to the first folder. With ``or_name``, a
    relative value that exists nowhere and is not :func:`written_as_path` is returned unchanged
    (a name, e.g. a hub id). Paths are normalised (``a/./b/../c`` -> ``a/c``), not resolved
    through symbolic links."""
    if not value.strip() or not folders:
        return value
    expanded = os.path.expanduser(value)
    if os.path.isabs(expanded):
        return os.path.normpath(expanded)
    candidates = [os.path.normpath(os.path.join(os.path.abspath(f), expanded)) for f in folders]
    for candidate in candidates:
        if os.path.exists(candidate):
            return candidate
    if or_name and not written_as_path(value):
        return value
    return candidates[0]


def path_marker(annotation: Any) -> PathArg | None:
    """The :class:`PathArg` of an ``Annotated[str, PathArg()]`` annotation, if any."""
    if typing.get_origin(annotation) is Annotated:
        for item in typing.get_args(annotation)[1:]:
            if isinstance(item, PathArg):
                return item
    return None


def field_annotation(field: FieldInfo) -> Any:
    """A model field's annotation with its metadata (pydantic keeps the top-level
    ``Annotated`` metadata apart, in ``field.metadata``)."""
    if field.metadata:
        return Annotated[(field.annotation, *field.metadata)]  # type: ignore[valid-type]
    return field.annotation


def _arms(annotation: Any) -> list[Any]:
    """The alternatives of a union annotation (flattened), or the annotation itself; an
    ``Annotated`` without a :class:`PathArg` is looked through."""
    origin = typing.get_origin(annotation)
    if origin is Annotated and path_marker(annotation) is None:
        return _arms(typing.get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [arm for item in typing.get_args(annotation) for arm in _arms(item)]
    return [annotation]


def _dump(value: Any) -> Any:
    """A validated value as JSON-able data of the same shape (set fields of models only)."""
    if isinstance(value, BaseModel):
        return {
            name: _dump(getattr(value, name))
            for name in type(value).model_fields
            if name in value.model_fields_set
        }
    if isinstance(value, (list, tuple)):
        return [_dump(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _dump(item) for key, item in value.items()}
    return value


class _Walker:
    """Writes the resolved paths of a validated value back into its raw data."""

    def __init__(self) -> None:
        self.found: list[FoundPath] = []

    def walk(self, raw: Any, value: Any, annotation: Any, loc: Location) -> Any:
        """``raw`` with every :class:`PathArg` value replaced by its validated (resolved) value;
        a subtree whose raw shape differs from the validated one (a validator reshaped it) is
        replaced by the validated data when it holds a path."""
        for arm in _arms(annotation):
            if path_marker(arm) is not None and isinstance(value, str):
                if os.path.isabs(value):
                    self.found.append(FoundPath(loc, value))
                return value
            origin = typing.get_origin(arm) or arm
            if isinstance(value, BaseModel) and isinstance(arm, type) and isinstance(value, arm):
                return self._model(raw, value, loc)
            if isinstance(value, (list, tuple)) and origin in (list, tuple, Sequence):
                args = typing.get_args(arm)
                items = [args[0] if args else Any] * len(value)
                if origin is tuple and args and (len(args) != 2 or args[1] is not Ellipsis):
                    items = list(args)
                if not isinstance(raw, list) or len(raw) != len(value) or len(items) != len(raw):
                    return self._reshaped(raw, value, arm, loc)
                return [
                    self.walk(r, v, a, (*loc, i))
                    for i, (r, v, a) in enumerate(zip(raw, value, items, strict=True))
                ]
            if isinstance(value, dict) and origin in (dict, Mapping):
                args = typing.get_args(arm)
                item = args[1] if len(args) == 2 else Any
                if not isinstance(raw, dict):
                    return self._reshaped(raw, value, arm, loc)
                keys = {str(key): key for key in raw}
                if set(keys) != {str(key) for key in value}:
                    return self._reshaped(raw, value, arm, loc)
                return {
                    keys[str(k)]: self.walk(raw[keys[str(k)]], v, item, (*loc, str(k)))
                    for k, v in value.items()
                }
        return raw

    def _model(self, raw: Any, value: BaseModel, loc: Location) -> Any:
        if not isinstance(raw, dict):
            return self._reshaped(raw, value, type(value), loc)
        out = dict(raw)
        for name, field in type(value).model_fields.items():
            key = name if name in raw else field.alias if field.alias in raw else None
            if key is not None:
                annotation = field_annotation(field)
                out[key] = self.walk(raw[key], getattr(value, name), annotation, (*loc, key))
        return out

    def _reshaped(self, raw: Any, value: Any, annotation: Any, loc: Location) -> Any:
        inner = _Walker()
        rebuilt = inner.walk(_dump(value), value, annotation, loc)
        if not inner.found:
            return raw
        self.found.extend(inner.found)
        return rebuilt


def validate_resolving(
    model_cls: type[M],
    data: Any,
    folders: Sequence[Path],
    *,
    prefix: str = "",
    location: Location = (),
    file: str | Path | None = None,
    node: Any = None,
    only: Callable[[str], bool] | None = None,
    context: dict[str, Any] | None = None,
) -> tuple[M, Any, list[FoundPath]]:
    """Validate ``data`` into ``model_cls`` while resolving its :class:`PathArg` values against
    ``folders`` (see :func:`resolve_path`). Returns the validated model, ``data`` with the resolved
    paths written in (nothing else changed) and every local path found, located under
    ``location``. A validation error is a one-line :class:`~harness.errors.UserError`, naming
    ``file`` and the line of the key in ``node`` (the file's YAML node, ``data`` lying at
    ``location`` in it) when given. ``only``: resolve just the values it accepts (the others
    stay as written). ``context``: more of pydantic's validation context (e.g. the run's
    registries under :data:`harness.api.REGISTRIES`)."""

    def resolver(value: str, marker: PathArg) -> str:
        if only is not None and not only(value):
            return value
        return resolve_path(value, folders, marker.or_name)

    try:
        model = model_cls.model_validate(data, context={**(context or {}), PATH_RESOLVER: resolver})
    except ValidationError as exc:
        raise user_error_from_validation(
            exc, model_cls, prefix=prefix, file=file, node=node, loc_prefix=location
        ) from None
    walker = _Walker()
    patched = walker.walk(data if data is not None else {}, model, model_cls, location)
    return model, patched, walker.found


def fingerprint(path: str) -> str:
    """``sha256:<hex>`` of a file's bytes, or of a folder's (relative file names and each file's
    SHA-256, in sorted order, symbolic links not followed); ``missing`` when nothing is there."""
    target = Path(path)
    if target.is_file():
        return "sha256:" + _file_digest(target)
    if target.is_dir():
        digest = hashlib.sha256()
        for file in sorted(_files_under(target)):
            digest.update(file.relative_to(target).as_posix().encode("utf-8", "surrogateescape"))
            digest.update(b"\0" + _file_digest(file).encode() + b"\n")
        return "dir-sha256:" + digest.hexdigest()
    return "missing"


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files_under(folder: Path) -> Iterable[Path]:
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in files:
            candidate = Path(root) / name
            if candidate.is_file() and not candidate.is_symlink():
                yield candidate


def content_tokens(found: Iterable[FoundPath]) -> dict[Location, str]:
    """``{location: prefix + fingerprint}`` for every found path (each file read once)."""
    seen: dict[str, str] = {}
    tokens: dict[Location, str] = {}
    for item in found:
        if item.path not in seen:
            seen[item.path] = fingerprint(item.path)
        tokens[item.location] = item.prefix + seen[item.path]
    return tokens


def replace_at(data: Any, location: Location, value: Any) -> None:
    """Set ``data[location[0]][location[1]]... = value`` in nested dicts and lists, if the
    location exists."""
    current = data
    for part in location[:-1]:
        try:
            current = current[part]
        except (KeyError, IndexError, TypeError):
            return
    if location and isinstance(current, (dict, list)):
        try:
            current[location[-1]] = value  # type: ignore[index]
        except (IndexError, TypeError):
            return
