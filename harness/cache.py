"""The content-hash cache: trained and derived models, memoised values and predictions, so a
second identical run trains nothing and an interrupted one resumes.

Layout under the cache folder (``--cache-dir``, ``$HARNESS_CACHE_DIR`` or
``~/.cache/spec-harness``), every name a content hash:

- ``models/<key>/``: a model's own files (:meth:`harness.api.Model.save`), ``done.json`` (what
  it is, when it was made, the seconds it took to train) and, for a model derived from another
  (a patch of M0), ``changes.json``. The key hashes the model's fingerprint (class, args), the
  training data (ids, texts, labels), the seed, the device and the package versions; a derived
  model's hashes its base's key and the recipe the intervention gives.
- ``values/<key>.json``: a JSON value computed once per recipe (a selection, a set of label
  flips).
- ``predictions/<model key>-<texts hash>.npy``: predicted labels.

Every entry is written through :mod:`harness.atomic`, so an interrupted run never leaves a
half-written one; a damaged entry is removed and rebuilt. :class:`Cache` is what a run uses:
:meth:`Cache.train`, :meth:`Cache.derive`, :meth:`Cache.memo` and :meth:`Cache.predict` each
return the cached result or build, store and return it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.api import Model, Spec, Split
from harness.atomic import atomic_folder, atomic_write, atomic_write_text
from harness.progress import Progress, silent
from harness.text_column import TextColumn, hash_string_sequence
from harness.versions import package_versions

FOLDERS = ("models", "predictions", "values")
"""The cache's own sub-folders (``harness cache clear`` removes these and nothing else)."""

DONE = "done.json"
"""The file that marks a model entry finished (written last)."""

CHANGES = "changes.json"
"""A derived model's changes record."""

CACHE_KEY_ATTRIBUTE = "harness_cache_key"
"""The attribute a model trained or loaded through the cache carries its key in."""


def default_cache_dir() -> Path:
    """``$HARNESS_CACHE_DIR`` or ``~/.cache/spec-harness`` (``$XDG_CACHE_HOME`` respected)."""
    env = os.environ.get("HARNESS_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "spec-harness"


def hash_json(data: Any) -> str:
    """SHA-256 of the canonical JSON of ``data``."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def hash_texts(texts: Sequence[str]) -> str:
    """SHA-256 over a sequence of texts (length-prefixed, so boundaries count). A list and a
    :class:`~harness.text_column.TextColumn` with the same strings hash alike; a column's hash
    is computed once and kept."""
    if isinstance(texts, TextColumn):
        return texts.content_hash()
    return hash_string_sequence(texts)


def hash_split(split: Split) -> str:
    """SHA-256 of a split's ids, texts and labels."""
    digest = hashlib.sha256()
    digest.update(hash_texts(split.ids).encode())
    digest.update(hash_texts(split.texts).encode())
    digest.update(np.ascontiguousarray(split.labels, dtype=np.int64).tobytes())
    return digest.hexdigest()


def hash_spec_train_cases(specs: Sequence[Spec]) -> str:
    """SHA-256 over every spec's id, label and D_i case texts (never the held-out cases)."""
    digest = hashlib.sha256()
    for spec in specs:
        digest.update(
            hash_texts([spec.id, spec.label, *(c.text for c in spec.train_cases)]).encode()
        )
    return digest.hexdigest()


def model_hash(model: Model) -> str | None:
    """The cache key a model was trained or loaded under, if any (an intervention puts its base
    model's into its recipes)."""
    value = getattr(model, CACHE_KEY_ATTRIBUTE, None)
    return str(value) if value else None


def entry_info(entry: Path) -> dict[str, Any]:
    """A model entry's ``done.json`` (``{}`` when it cannot be read)."""
    try:
        info = json.loads((entry / DONE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def stored_train_seconds(entry: Path) -> float | None:
    """The training time recorded in a model entry's ``done.json`` (``None`` when the entry
    predates it or the file cannot be read)."""
    value = entry_info(entry).get("train_seconds")
    return float(value) if isinstance(value, (int, float)) and value >= 0 else None


class Cache:
    """Trains, derives, memoises and predicts through the cache (or straight through when
    disabled), counting what it built and what it loaded."""

    def __init__(
        self, root: Path | None = None, enabled: bool = True, progress: Progress | None = None
    ) -> None:
        self.root = root or default_cache_dir()
        self.enabled = enabled
        self.progress = progress or silent()
        self.versions = package_versions()
        """Part of every key: another version of torch or scikit-learn is another model."""
        self.trained = 0
        self.loaded = 0
        self.predicted = 0
        self.predictions_cached = 0
        self.build_seconds = 0.0
        """Seconds the models trained or loaded so far took to build when they were built:
        measured now for a fresh model, read from the cache entry for a loaded one."""
        self.build_seconds_unknown = 0
        """Models loaded from cache entries that predate the stored training time."""

    # -- keys -----------------------------------------------------------------------------------

    def training_key(self, model: Model, split: Split, seed: int) -> str:
        """The key of training ``model`` on ``split`` with ``seed``."""
        return hash_json(
            {
                "fingerprint": model.fingerprint(),
                "data": hash_split(split),
                "seed": seed,
                "num_labels": model.num_labels,
                "device": model.device,
                "versions": self.versions,
            }
        )[:32]

    def derived_key(self, base_key: str, recipe: dict[str, Any]) -> str:
        """The key of a model derived from the model cached under ``base_key`` by ``recipe``."""
        return hash_json({"base": base_key, "recipe": recipe, "versions": self.versions})[:32]

    def value_key(self, recipe: dict[str, Any]) -> str:
        """The key of a value memoised for ``recipe``."""
        return hash_json({"recipe": recipe, "versions": self.versions})[:32]

    # -- models ---------------------------------------------------------------------------------

    def train(self, model: Model, split: Split, seed: int, purpose: str) -> Model:
        """Fit ``model`` on ``split`` (or load the cached result) and return it."""
        key = self.training_key(model, split, seed)
        entry = self.root / "models" / key
        if self.enabled and (entry / DONE).exists() and self._load(model, entry):
            self.progress.log(f"{purpose} (seed {seed}): model from cache {key[:12]}", style="dim")
        else:
            self.progress.log(
                f"training {purpose} (seed {seed}, {len(split)} examples)", style="dim"
            )
            started = time.perf_counter()
            model.fit(split.texts, split.labels, seed, self.progress)
            seconds = time.perf_counter() - started
            self.trained += 1
            self.build_seconds += seconds
            if self.enabled:
                self._store(model, entry, purpose, seed, seconds=seconds)
        setattr(model, CACHE_KEY_ATTRIBUTE, key)
        return model

    def derive(
        self,
        base: Model,
        recipe: dict[str, Any],
        fresh: Callable[[], Model],
        build: Callable[[], tuple[Model, dict[str, Any]]],
        purpose: str,
    ) -> tuple[Model, dict[str, Any]]:
        """A model derived from the trained ``base`` (e.g. patched), cached like a trained one.

        ``recipe`` holds everything besides ``base`` that determines the result (method, args,
        data hashes, seed). On a hit, ``fresh()`` is loaded from the cache and the stored changes
        record is returned; otherwise ``build()`` returns the new model and its changes record
        (JSON-able), and both are stored.
        """
        base_key = model_hash(base)
        if not self.enabled or base_key is None:
            return build()
        key = self.derived_key(base_key, recipe)
        entry = self.root / "models" / key
        if (entry / DONE).exists() and (entry / CHANGES).exists():
            model = fresh()
            if self._load(model, entry):
                self.progress.log(f"{purpose}: model from cache {key[:12]}", style="dim")
                changes = json.loads((entry / CHANGES).read_text(encoding="utf-8"))
                setattr(model, CACHE_KEY_ATTRIBUTE, key)
                return model, changes
        started, before = time.perf_counter(), self.build_seconds
        model, changes = build()
        seconds = time.perf_counter() - started
        self.trained += 1
        self.build_seconds = before + seconds  # models trained inside build() are part of it
        changes_json = json.dumps(changes, sort_keys=True)
        seed = int(recipe.get("seed", 0))
        self._store(model, entry, purpose, seed, {CHANGES: changes_json}, seconds=seconds)
        setattr(model, CACHE_KEY_ATTRIBUTE, key)
        return model, json.loads(changes_json)

    def _load(self, model: Model, entry: Path) -> bool:
        """Load a model entry into ``model``, counting it and its stored training time; a
        damaged entry is removed (and the model rebuilt)."""
        try:
            model.load(entry)
        except Exception as exc:  # a damaged entry must cost a retrain, not the run
            self.progress.log(f"ignoring damaged cache entry {entry.name}: {exc}", style="yellow")
            shutil.rmtree(entry, ignore_errors=True)
            return False
        self.loaded += 1
        seconds = stored_train_seconds(entry)
        if seconds is None:
            self.build_seconds_unknown += 1
        else:
            self.build_seconds += seconds
        return True

    def _store(
        self,
        model: Model,
        entry: Path,
        purpose: str,
        seed: int,
        extra_files: dict[str, str] | None = None,
        seconds: float | None = None,
    ) -> None:
        """Write a model entry: the model's files, ``extra_files``, then ``done.json``."""
        with atomic_folder(entry, DONE) as folder:
            model.save(folder)
            for name, text in (extra_files or {}).items():
                (folder / name).write_text(text, encoding="utf-8")
            info: dict[str, Any] = {
                "model": model.name,
                "purpose": purpose,
                "seed": seed,
                "fingerprint": model.fingerprint(),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            if seconds is not None:
                info["train_seconds"] = round(seconds, 3)
            (folder / DONE).write_text(json.dumps(info, sort_keys=True, default=str))

    # -- values and predictions -----------------------------------------------------------------

    def memo(self, recipe: dict[str, Any], compute: Callable[[], Any]) -> Any:
        """A JSON-able value computed once per ``recipe`` (e.g. a selection or a set of label
        flips). The value always comes back through a JSON round trip, so a cached and a fresh
        run see identical objects."""
        if not self.enabled:
            return json.loads(json.dumps(compute(), sort_keys=True))
        path = self.root / "values" / f"{self.value_key(recipe)}.json"
        if path.exists():
            try:
                return json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                path.unlink(missing_ok=True)  # damaged: compute again
        text = json.dumps(compute(), sort_keys=True)
        atomic_write_text(path, text)
        return json.loads(text)

    def predict(self, model: Model, texts: Sequence[str], description: str) -> np.ndarray:
        """Predicted labels for ``texts``, from the cache when the model has a key."""
        key = model_hash(model)
        path = None
        if self.enabled and key:
            path = self.root / "predictions" / f"{key}-{hash_texts(texts)[:32]}.npy"
            if path.exists():
                try:
                    cached = np.load(path, allow_pickle=False)
                except (OSError, ValueError):
                    path.unlink(missing_ok=True)
                else:
                    if cached.shape == (len(texts),):
                        self.predictions_cached += 1
                        return cached
        self.progress.log(f"{description} ({len(texts)} texts)", style="dim")
        predictions = model.predict(list(texts), self.progress)
        self.predicted += 1
        if path is not None:
            atomic_write(path, lambda handle: np.save(handle, predictions, allow_pickle=False))
        return predictions

    def summary(self) -> str:
        """One line on what the cache saved in this run."""
        if not self.enabled:
            return (
                f"cache disabled: trained {self.trained} model(s), "
                f"computed {self.predicted} prediction set(s)"
            )
        return (
            f"cache {self.root}: {self.loaded} model(s) loaded, {self.trained} trained; "
            f"{self.predictions_cached} prediction set(s) from cache, {self.predicted} computed"
        )
