"""Opening a Hugging Face dataset as named splits of :class:`Table`: a folder written by
``save_to_disk`` (memory-mapped in place), a builder name with local data files (``csv``,
``json``, ``parquet``, ``arrow``: each file read by :func:`harness.tabular.reader.read_table`,
with its exact one-line errors), a single data file (its one split is ``train``), or a Hub id
(``datasets.load_dataset``; downloads go to the usual Hugging Face cache). Hub loading scripts
are refused unless ``trust_remote_code`` is set.
Every failure is a one-line error naming the dataset, the argument and the fix."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.arrow_memory import import_pyarrow
from harness.errors import UserError
from harness.tabular.builders import quiet_datasets
from harness.tabular.hints import TableHints
from harness.tabular.reader import SUFFIX_FORMATS, read_table
from harness.tabular.table import Table

PACKAGED_FORMATS = {"csv": "csv", "tsv": "tsv", "json": "jsonl", "jsonl": "jsonl",
                    "parquet": "parquet", "arrow": "arrow"}  # fmt: skip
"""Builder names accepted as ``path`` with ``data_files`` -> the reader's format."""

DataFiles = str | Sequence[str] | Mapping[str, str | Sequence[str]]


@dataclass
class DatasetRequest:
    """What to open, and where its arguments live in the config (for errors)."""

    path: str
    name: str | None = None
    revision: str | None = None
    data_files: DataFiles | None = None
    trust_remote_code: bool = False
    prefix: str = "task_args."
    """Config prefix of the arguments above (``task_args.`` or ``task_args.pool[1].``)."""
    name_option: str = "name"
    """The argument that holds ``name`` (the dataset configuration)."""
    path_field: str | None = "default"
    """The config field errors about ``path`` name (``default``: ``<prefix>path``; ``None``:
    errors name the dataset only)."""

    def field_of_path(self) -> str | None:
        """The field that names ``path`` in errors."""
        return f"{self.prefix}path" if self.path_field == "default" else self.path_field


@dataclass
class OpenedDataset:
    """The splits of an opened dataset, how errors name it, and its fingerprint."""

    ref: str
    splits: dict[str, Table]
    fingerprint: str | None = None
    is_dict: bool = True
    """Whether the dataset has named splits (a ``DatasetDict``), not a single ``Dataset``."""

    def split(self, name: str, field: str, fix_extra: str = "") -> Table:
        """The split ``name``, or a one-line error naming ``field`` and the splits there are."""
        if name not in self.splits:
            there = ", ".join(self.splits) or "(none)"
            raise UserError(
                f"dataset {self.ref!r} has no split {name!r}",
                field=field,
                fix=f"splits: {there}{fix_extra}",
            )
        return self.splits[name]


def is_saved_dataset(folder: Path) -> bool:
    """Whether ``folder`` was written by ``Dataset.save_to_disk`` / ``DatasetDict.save_to_disk``."""
    return folder.is_dir() and any(
        (folder / name).is_file() for name in ("dataset_dict.json", "state.json")
    )


def open_dataset(request: DatasetRequest) -> OpenedDataset:
    """Open ``request`` (see module doc)."""
    import_pyarrow()
    builder = request.path.lower()
    if request.data_files is not None:
        if builder not in PACKAGED_FORMATS:
            raise UserError(
                f"data_files are read by a builder: csv, tsv, json, parquet or arrow, not "
                f"{request.path!r}",
                field=request.field_of_path(),
                fix="set path=csv (or json, parquet, arrow) to read local data files",
            )
        return _open_files(request, PACKAGED_FORMATS[builder])
    if builder in PACKAGED_FORMATS:
        raise UserError(
            f"path={request.path} reads local data files, but no data_files are given",
            field=f"{request.prefix}data_files",
            fix="give data_files=FILE (one split, train) or data_files=train:a.csv|test:b.csv",
        )
    local = Path(request.path).expanduser()
    if is_saved_dataset(local):
        return _open_saved(local, request)
    if local.is_file() and local.suffix.lower() in SUFFIX_FORMATS:
        single = replace(request, data_files={"train": str(local)})
        return _open_files(single, SUFFIX_FORMATS[local.suffix.lower()], request.field_of_path())
    if local.exists() and not local.is_dir():
        raise UserError(
            "is a file, not a dataset folder",
            file=local,
            field=request.field_of_path(),
            fix=f"read a single file with path={_builder_for(local)},data_files={local} "
            "(or use the files task)",
        )
    if not local.exists() and looks_like_a_path(request.path):
        raise UserError(
            "dataset not found: no such folder, and not a Hub id (user/name)",
            file=local,
            field=request.field_of_path(),
            fix="check the path (relative to the current folder)",
        )
    if local.is_dir():
        raise UserError(
            "the folder holds no dataset written by save_to_disk (no dataset_dict.json or "
            "state.json)",
            file=local,
            field=request.field_of_path(),
            fix="save it with Dataset.save_to_disk, or read its files with path=csv,data_files=...",
        )
    return _open_hub(request)


def looks_like_a_path(text: str) -> bool:
    """Whether ``text`` is a file system path rather than a Hub id (``user/name``)."""
    return (
        text.startswith(("/", "./", "../", "~"))
        or text.count("/") > 1
        or os.sep != "/"
        and os.sep in text
        or text in (".", "..")
    )


def _builder_for(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    return {"jsonl": "json", "ndjson": "json", "tab": "tsv", "pq": "parquet"}.get(suffix, suffix)


def _files_by_split(request: DatasetRequest) -> dict[str, str]:
    files = request.data_files
    field = f"{request.prefix}data_files"
    if isinstance(files, str):
        return {"train": files}
    if isinstance(files, Mapping):
        out: dict[str, str] = {}
        for split, value in files.items():
            if isinstance(value, str):
                out[str(split)] = value
            elif len(value) == 1:
                out[str(split)] = value[0]
            else:
                raise UserError(
                    f"split {split!r} names {len(value)} files; one file per split is read",
                    field=field,
                    fix="concatenate them into one file, or give each its own split",
                )
        return out
    assert files is not None
    if len(files) == 1:
        return {"train": files[0]}
    raise UserError(
        f"{len(files)} files without split names",
        field=field,
        fix="name the split of each: data_files=train:train.csv|test:test.csv",
    )


def _open_files(
    request: DatasetRequest, fmt: str, single_field: str | None = "data_files"
) -> OpenedDataset:
    """Read each split's file; ``single_field``: the field naming a single file given as
    ``path`` (``"data_files"``: the files come from ``data_files``)."""
    splits: dict[str, Table] = {}
    for split, file in _files_by_split(request).items():
        field = (
            f"{request.prefix}data_files.{split}" if single_field == "data_files" else single_field
        )
        hints = TableHints(field=field, option_prefix=request.prefix)
        splits[split] = read_table(file, hints, fmt=fmt)
    if single_field != "data_files":
        return OpenedDataset(ref=str(splits["train"].path), splits=splits)
    ref = f"{request.path}:{','.join(str(t.path) for t in splits.values())}"
    return OpenedDataset(ref=ref, splits=splits)


def _tables(data: Any, ref: str, request: DatasetRequest) -> dict[str, Table]:
    """``datasets.Dataset`` / ``DatasetDict`` -> split name -> :class:`Table`."""
    import datasets

    if isinstance(data, datasets.Dataset):
        data = {"train": data}
    out: dict[str, Table] = {}
    for split, dataset in data.items():
        if getattr(dataset, "_indices", None) is not None:
            dataset = dataset.flatten_indices(keep_in_memory=True)
        out[str(split)] = Table(
            dataset.data.table,
            f"{ref}[{split}]",
            TableHints(field=request.field_of_path(), option_prefix=request.prefix),
            features=dataset.features,
            keep=dataset,
            fingerprint=getattr(dataset, "_fingerprint", None),
        )
    return out


def _open_saved(folder: Path, request: DatasetRequest) -> OpenedDataset:
    import datasets

    for option, value in ((request.name_option, request.name), ("revision", request.revision)):
        if value:
            raise UserError(
                f"{option} is for Hub datasets; {folder} is a saved dataset",
                field=f"{request.prefix}{option}",
                fix=f"drop {option}",
            )
    try:
        with quiet_datasets():
            data = datasets.load_from_disk(str(folder))
    except Exception as exc:  # a damaged or foreign folder
        raise UserError(
            f"cannot load the saved dataset: {_first_line(exc)}",
            file=folder,
            field=request.field_of_path(),
            fix="write it again with save_to_disk",
        ) from None
    splits = _tables(data, str(folder), request)
    fingerprint = "/".join(str(t.fingerprint) for t in splits.values())
    return OpenedDataset(
        ref=str(folder),
        splits=splits,
        fingerprint=fingerprint,
        is_dict=not isinstance(data, datasets.Dataset),
    )


def hub_offline() -> bool:
    """Whether the Hugging Face Hub is switched off (``HF_HUB_OFFLINE``,
    ``HF_DATASETS_OFFLINE``)."""
    import datasets

    if getattr(datasets.config, "HF_HUB_OFFLINE", False):
        return True
    return any(
        os.environ.get(name, "").strip().upper() in {"1", "ON", "YES", "TRUE"}
        for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
    )


def _open_hub(request: DatasetRequest) -> OpenedDataset:
    import datasets

    ref = request.path
    kwargs: dict[str, Any] = {"revision": request.revision}
    if runs_scripts():
        kwargs["trust_remote_code"] = request.trust_remote_code  # False: refuse scripts
    elif request.trust_remote_code:
        raise UserError(
            f"datasets {datasets.__version__} runs no loading scripts, so trust_remote_code "
            "changes nothing",
            field=f"{request.prefix}trust_remote_code",
            fix="drop trust_remote_code (script-free datasets load without it); for a "
            "script-based dataset use its Parquet export or save it with an older datasets",
        )
    try:
        with quiet_datasets():
            data = datasets.load_dataset(ref, request.name, **kwargs)
    except Exception as exc:
        raise _hub_error(exc, request) from None
    if not isinstance(data, Mapping):
        data = {"train": data}
    splits = _tables(data, ref, request)
    revision = f"@{request.revision}" if request.revision else ""
    fingerprint = "/".join(str(t.fingerprint) for t in splits.values())
    name = f" ({request.name})" if request.name else ""
    return OpenedDataset(ref=f"{ref}{revision}{name}", splits=splits, fingerprint=fingerprint)


def runs_scripts() -> bool:
    """Whether the installed ``datasets`` can run dataset loading scripts (before 4.0)."""
    import datasets

    major = datasets.__version__.split(".", 1)[0]
    return major.isdigit() and int(major) < 4


def _hub_error(exc: Exception, request: DatasetRequest) -> UserError:
    """A one-line error for a Hub dataset that could not be loaded."""
    ref = request.path
    message = _first_line(exc)
    field = request.field_of_path()
    if hub_offline() and (isinstance(exc, ConnectionError) or "offline" in message.lower()):
        return UserError(
            f"dataset {ref!r} is not in the local Hugging Face cache and the Hub is offline "
            "(HF_HUB_OFFLINE=1)",
            field=field,
            fix="download it once with network access (or unset HF_HUB_OFFLINE), or give a "
            "local folder written by save_to_disk",
        )
    if isinstance(exc, ConnectionError):
        return UserError(
            f"cannot reach the Hugging Face Hub for dataset {ref!r}: {message}",
            field=field,
            fix="check the network, or give a local folder written by save_to_disk",
        )
    text = str(exc).lower()
    if "trust_remote_code" in text or "loading script" in text or "dataset scripts" in text:
        return UserError(
            f"dataset {ref!r} needs a loading script (remote code): {message}",
            field=f"{request.prefix}trust_remote_code",
            fix="use a script-free revision or a Parquet export of the dataset; set "
            "trust_remote_code=true only for code you have read (and a datasets version "
            "that still runs scripts)",
        )
    if "BuilderConfig" in str(exc) or "Config name is missing" in str(exc):
        return UserError(
            f"dataset {ref!r}: {message}",
            field=f"{request.prefix}{request.name_option}",
            fix=f"set {request.name_option} to one of the dataset's configurations",
        )
    if isinstance(exc, FileNotFoundError):
        return UserError(
            f"dataset {ref!r} not found (not a local folder, not on the Hub): {message}",
            field=field,
            fix="check the name (user/dataset), the revision, or the folder path",
        )
    return UserError(
        f"cannot load dataset {ref!r}: {type(exc).__name__}: {message}",
        field=field,
        fix="check the name, configuration and revision, or save the dataset to disk first",
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
