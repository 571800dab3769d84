"""Running ``datasets``' packaged builders (json, parquet, arrow) on one local file, quietly.

``datasets`` converts the file into an Arrow file and memory-maps it. That Arrow file goes to a
fresh temporary folder (under ``$TMPDIR``), never to the harness cache or next to the data. On
POSIX systems the folder is removed as soon as the file is mapped (the mapping keeps the data
readable, and nothing is left behind even if the process is killed); elsewhere when the dataset
is garbage-collected or the process exits. Progress bars,
log lines and warnings of ``datasets``, ``huggingface_hub`` and pandas are silenced while a builder
runs: the harness prints its own one-line errors.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import warnings
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

QUIET_LOGGERS = ("datasets", "huggingface_hub", "fsspec", "filelock")


@contextmanager
def quiet_datasets() -> Iterator[None]:
    """Silence progress bars, logging and warnings of ``datasets`` and its helpers, and restore
    every setting afterwards."""
    import datasets

    utils = datasets.utils
    disabled_before = bool(getattr(utils, "are_progress_bars_disabled", lambda: False)())
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    datasets_level = datasets.logging.get_verbosity()
    try:
        if hasattr(datasets, "disable_progress_bars"):
            datasets.disable_progress_bars()
        datasets.logging.set_verbosity(logging.CRITICAL + 1)
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        datasets.logging.set_verbosity(datasets_level)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        if not disabled_before and hasattr(datasets, "enable_progress_bars"):
            datasets.enable_progress_bars()


def build_from_file(builder: str, path: Path, **config: Any) -> Any:
    """Run ``datasets``' ``builder`` (``csv``, ``json``, ``parquet``, ``arrow``) on ``path`` and
    return the memory-mapped ``datasets.Dataset``. Exceptions of ``datasets`` propagate (the
    caller turns them into one-line errors)."""
    import datasets

    folder = tempfile.mkdtemp(prefix="harness-table-")
    try:
        with quiet_datasets():
            dataset = datasets.load_dataset(
                builder,
                data_files={"train": str(path)},
                split="train",
                cache_dir=folder,
                **config,
            )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if os.name == "posix":  # the memory mapping keeps the data readable; nothing is left behind
        shutil.rmtree(folder, ignore_errors=True)
    else:
        weakref.finalize(dataset, shutil.rmtree, folder, ignore_errors=True)
    return dataset
