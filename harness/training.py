"""Training and prediction with a content-hash cache, so a second identical run trains nothing.

Models are cached under ``<cache>/models/<key>/`` where ``key`` hashes the model fingerprint (class,
args), the training data (ids, texts, labels), the seed and the package versions. Predictions are
cached under ``<cache>/predictions/<model key>-<texts hash>.npy``. Every entry is written to a
temporary folder/file and renamed, so an interrupted run never leaves a half-written entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.api import Model, Spec, Split
from harness.errors import OutputError
from harness.progress import Progress, silent
from harness.results import atomic_write_text
from harness.text_column import TextColumn, hash_string_sequence

CACHE_KEY_ATTRIBUTE = "harness_cache_key"


def default_cache_dir() -> Path:
    """``$HARNESS_CACHE_DIR`` or ``~/.cache/spec-harness``."""
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


def _versions() -> dict[str, str]:
    from harness.runner import package_versions

    return package_versions()


def stored_train_seconds(entry: Path) -> float | None:
    """The training time recorded in a model cache entry's ``done.json`` (``None`` when the
    entry predates it or the file cannot be read)."""
    try:
        info = json.loads((entry / "done.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = info.get("train_seconds") if isinstance(info, dict) else None
    return float(value) if isinstance(value, (int, float)) and value >= 0 else None


class Trainer:
    """Trains and predicts through the cache (or straight through when disabled)."""

    def __init__(
        self, cache_dir: Path | None = None, enabled: bool = True, progress: Progress | None = None
    ) -> None:
        self.cache_dir = cache_dir or default_cache_dir()
        self.enabled = enabled
        self.progress = progress or silent()
        self.trained = 0
        self.loaded = 0
        self.predicted = 0
        self.predictions_cached = 0
        self.build_seconds = 0.0
        """Seconds the models trained or loaded so far took to build when they were built:
        measured now for a fresh model, read from the cache entry for a loaded one."""
        self.build_seconds_unknown = 0
        """Models loaded from cache entries that predate the stored training time."""

    def training_key(self, model: Model, split: Split, seed: int) -> str:
        """The cache key of training ``model`` on ``split`` with ``seed``."""
        return hash_json(
            {
                "fingerprint": model.fingerprint(),
                "data": hash_split(split),
                "seed": seed,
                "num_labels": model.num_labels,
                "device": model.device,
                "versions": _versions(),
            }
        )[:32]

    def train(self, model: Model, split: Split, seed: int, purpose: str) -> Model:
        """Fit ``model`` on ``split`` (or load the cached result) and return it."""
        key = self.training_key(model, split, seed)
        entry = self.cache_dir / "models" / key
        if self.enabled and (entry / "done.json").exists() and self._load_cached(model, entry):
            self.loaded += 1
            self._count_stored_seconds(entry)
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
                self._store_model(model, entry, purpose, seed, seconds=seconds)
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
        base_key = self.model_hash(base)
        if not self.enabled or base_key is None:
            return build()
        key = hash_json({"base": base_key, "recipe": recipe, "versions": _versions()})[:32]
        entry = self.cache_dir / "models" / key
        if (entry / "done.json").exists() and (entry / "changes.json").exists():
            model = fresh()
            if self._load_cached(model, entry):
                self.loaded += 1
                self._count_stored_seconds(entry)
                self.progress.log(f"{purpose}: model from cache {key[:12]}", style="dim")
                changes = json.loads((entry / "changes.json").read_text(encoding="utf-8"))
                setattr(model, CACHE_KEY_ATTRIBUTE, key)
                return model, changes
        started, before = time.perf_counter(), self.build_seconds
        model, changes = build()
        seconds = time.perf_counter() - started
        self.trained += 1
        self.build_seconds = before + seconds  # models trained inside build() are part of it
        changes_json = json.dumps(changes, sort_keys=True)
        self._store_model(
            model,
            entry,
            purpose,
            int(recipe.get("seed", 0)),
            {"changes.json": changes_json},
            seconds=seconds,
        )
        setattr(model, CACHE_KEY_ATTRIBUTE, key)
        return model, json.loads(changes_json)

    def memo(self, recipe: dict[str, Any], compute: Callable[[], Any]) -> Any:
        """A JSON-able value computed once per ``recipe`` (e.g. a selection or a set of label
        flips), stored under ``<cache>/values/``. The value always comes back through a JSON
        round trip, so a cached and a fresh run see identical objects."""
        if not self.enabled:
            return json.loads(json.dumps(compute(), sort_keys=True))
        key = hash_json({"recipe": recipe, "versions": _versions()})[:32]
        path = self.cache_dir / "values" / f"{key}.json"
        if path.exists():
            try:
                return json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                path.unlink(missing_ok=True)  # damaged: compute again
        text = json.dumps(compute(), sort_keys=True)
        atomic_write_text(path, text)
        return json.loads(text)

    def _count_stored_seconds(self, entry: Path) -> None:
        """Add the training time stored with a cache entry to :attr:`build_seconds`."""
        seconds = stored_train_seconds(entry)
        if seconds is None:
            self.build_seconds_unknown += 1
        else:
            self.build_seconds += seconds

    def _load_cached(self, model: Model, entry: Path) -> bool:
        """Load a cache entry; a broken entry is removed (and the model retrained)."""
        try:
            model.load(entry)
        except Exception as exc:  # a damaged entry must cost a retrain, not the run
            self.progress.log(f"ignoring damaged cache entry {entry.name}: {exc}", style="yellow")
            shutil.rmtree(entry, ignore_errors=True)
            return False
        return True

    def summary(self) -> str:
        """One line on what the cache saved in this run."""
        if not self.enabled:
            return (
                f"cache disabled: trained {self.trained} model(s), "
                f"computed {self.predicted} prediction set(s)"
            )
        return (
            f"cache {self.cache_dir}: {self.loaded} model(s) loaded, {self.trained} trained; "
            f"{self.predictions_cached} prediction set(s) from cache, {self.predicted} computed"
        )

    def _store_model(
        self,
        model: Model,
        entry: Path,
        purpose: str,
        seed: int,
        extra_files: dict[str, str] | None = None,
        seconds: float | None = None,
    ) -> None:
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", dir=entry.parent))
        except OSError as exc:
            raise OutputError(entry, exc) from None
        try:
            model.save(tmp)
            for name, text in (extra_files or {}).items():
                (tmp / name).write_text(text, encoding="utf-8")
            info: dict[str, Any] = {
                "model": model.name,
                "purpose": purpose,
                "seed": seed,
                "fingerprint": model.fingerprint(),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            if seconds is not None:
                info["train_seconds"] = round(seconds, 3)
            (tmp / "done.json").write_text(json.dumps(info, sort_keys=True, default=str))
            if (entry / "done.json").exists():
                # Another run sharing the cache stored the same content-addressed entry first:
                # keep it (it may be being read) and drop ours.
                shutil.rmtree(tmp, ignore_errors=True)
                return
            if entry.exists():
                shutil.rmtree(entry, ignore_errors=True)
            try:
                os.replace(tmp, entry)
            except OSError:
                if not (entry / "done.json").exists():
                    raise
                shutil.rmtree(tmp, ignore_errors=True)  # lost a race to an identical entry
        except OSError as exc:  # disk full, file-size limit: Model.save raises OSError
            shutil.rmtree(tmp, ignore_errors=True)
            raise OutputError(entry, exc) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @staticmethod
    def model_hash(model: Model) -> str | None:
        """The cache key a model was trained or loaded under, if any."""
        value = getattr(model, CACHE_KEY_ATTRIBUTE, None)
        return str(value) if value else None

    def predict(self, model: Model, texts: Sequence[str], description: str) -> np.ndarray:
        """Predicted labels for ``texts``, from the cache when the model has a key."""
        key = self.model_hash(model)
        path = None
        if self.enabled and key:
            path = self.cache_dir / "predictions" / f"{key}-{hash_texts(texts)[:32]}.npy"
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
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".npy", dir=path.parent)
            except OSError as exc:
                raise OutputError(path, exc) from None
            try:
                with os.fdopen(fd, "wb") as handle:
                    np.save(handle, predictions, allow_pickle=False)
                os.replace(tmp, path)
            except OSError as exc:
                Path(tmp).unlink(missing_ok=True)
                raise OutputError(path, exc) from None
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return predictions
