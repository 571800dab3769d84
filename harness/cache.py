"""The content-hash cache: trained and derived models, memoised values and predictions, so a
second identical run trains nothing and an interrupted one resumes.

Layout under the cache folder (``--cache-dir``, ``$HARNESS_CACHE_DIR`` or
``~/.cache/spec-harness``), every name a content hash, every entry a folder with a
``manifest.json`` (see :mod:`harness.cache_entries`):

- ``models/<key>/``: a model's own files (:meth:`harness.api.Model.save`), ``done.json`` (what
  it is, when it was made, the seconds it took to train) and, for a model derived from another
  (a patch of M0), ``changes.json``. The key hashes the model's fingerprint (class, args), the
  training data (ids, texts, labels), the seed, the device, the package versions and the
  cache's format; a derived model's hashes its base's key and the recipe the intervention gives.
- ``values/<key>/value.json``: a JSON value computed once per recipe (a selection, a set of
  label flips).
- ``predictions/<model key>-<texts hash>/predictions.npy``: predicted labels.
- ``predictions/<training key>-epochs/dynamics.npy``: the class probabilities of every
  training example after every epoch of one training (``(epochs, n, num_labels)``, float32),
  recorded by a model that declares :attr:`harness.api.Model.supports_epoch_callback`
  (:meth:`Cache.record_epochs`).

Every entry is written to a temporary folder and renamed into place, so a reader sees a whole
entry or none and, with many writers, the first finished entry wins; every read verifies the
entry against its manifest (sizes, SHA-256) and what it holds (a prediction within the label
range, a changes record that is a JSON object). A damaged entry is never used: a one-line
warning names it, it is taken away and recomputed. :class:`Cache` is what a run uses:
:meth:`Cache.train`, :meth:`Cache.derive`, :meth:`Cache.memo` and :meth:`Cache.predict` each
return the cached result or build, store and return it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
import numpy as np

from harness.api import Model, ModelFamily, Spec, Split, fit_recording_epochs
from harness.cache_entries import (
    DamagedEntry,
    Manifest,
    identity,
    quarantine,
    read_entry_file,
    read_entry_json,
    verify,
    write_entry,
)
from harness.display import printable
from harness.errors import PluginError, UserError
from harness.input_files import read_bytes
from harness.limits import CACHE_MB
from harness.progress import Progress, silent
from harness.text_column import TextColumn, hash_string_sequence
from harness.versions import package_versions

FOLDERS = ("models", "predictions", "values")
"""The cache's own sub-folders (``harness cache clear`` removes these and nothing else)."""

CACHE_FORMAT = 2
"""The layout of entries, part of every key. Entries written before entries were verified
(format 1, without a manifest) are never read; ``harness cache ls`` lists them as legacy."""

DONE = "done.json"
"""A model entry's metadata (what it is, when it was made, the seconds it took to train)."""

CHANGES = "changes.json"
"""A derived model's changes record."""

VALUE = "value.json"
"""The file of a value entry."""

PREDICTIONS = "predictions.npy"
"""The file of a prediction entry."""

DYNAMICS = "dynamics.npy"
"""The file of a training-dynamics entry."""

MODEL_KIND = "model"
DERIVED_KIND = "derived model"
VALUE_KIND = "value"
PREDICTIONS_KIND = "predictions"
DYNAMICS_KIND = "training dynamics"
KINDS = {"models": (MODEL_KIND, DERIVED_KIND), "values": (VALUE_KIND,)}
KINDS["predictions"] = (PREDICTIONS_KIND, DYNAMICS_KIND)
"""The kinds of entry each sub-folder holds (as written in their manifests)."""

CACHE_KEY_ATTRIBUTE = "harness_cache_key"
"""The attribute a model trained or loaded through the cache carries its key in."""

T = TypeVar("T")


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
    """A model entry's ``done.json`` (``{}`` when it cannot be read), read within the cache's
    size limit; not verified (listings use it, runs read verified entries)."""
    try:
        info = json.loads(read_bytes(entry / DONE, CACHE_MB))
    except (UserError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def train_seconds_of(info: dict[str, Any]) -> float | None:
    """The training time recorded in a model entry's ``done.json`` (``None`` when absent)."""
    value = info.get("train_seconds")
    return float(value) if isinstance(value, (int, float)) and value >= 0 else None


def prediction_problem(values: np.ndarray, count: int | None, num_labels: int | None) -> str | None:
    """What is wrong with ``values`` as the predicted labels of ``count`` texts for a model
    with ``num_labels`` labels (``None`` when nothing is; either check skipped when ``None``)."""
    if values.ndim != 1:
        return f"an array of shape {values.shape}, not one value per text"
    if count is not None and len(values) != count:
        return f"{len(values)} values for {count} texts"
    if values.dtype.kind not in "iub":
        return f"values of type {values.dtype}, expected label indices (integers)"
    if len(values):
        low, high = int(values.min()), int(values.max())
        if low < 0 or (num_labels is not None and high >= num_labels):
            bad = low if low < 0 else high
            top = "" if num_labels is None else num_labels - 1
            return f"a value {bad} outside the label range 0..{top}"
    return None


def read_model_files(
    entry: Path, manifest: Manifest, kind: str
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A verified model entry's ``done.json`` and (a derived model) ``changes.json``, each
    checked to be a JSON object (:class:`DamagedEntry` otherwise)."""
    info = read_entry_json(entry, DONE, manifest)
    if not isinstance(info, dict):
        raise DamagedEntry(f"{DONE} is not a JSON object")
    if kind != DERIVED_KIND:
        return info, None
    changes = read_entry_json(entry, CHANGES, manifest)
    if not isinstance(changes, dict):
        raise DamagedEntry(f"{CHANGES} is not a JSON object")
    return info, changes


def read_predictions(
    entry: Path, manifest: Manifest, count: int | None, num_labels: int | None
) -> np.ndarray:
    """A verified prediction entry's labels, checked to be one label index in
    ``0..num_labels-1`` per text (either check skipped when ``None``)."""
    data = read_entry_file(entry, PREDICTIONS, manifest)
    try:
        values = np.load(io.BytesIO(data), allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise DamagedEntry(f"{PREDICTIONS} is not a numpy array ({exc})") from None
    problem = prediction_problem(values, count, num_labels)
    if problem:
        raise DamagedEntry(f"{PREDICTIONS} holds {problem}")
    return np.asarray(values, dtype=np.int64)


def read_dynamics(
    entry: Path, manifest: Manifest, count: int | None, num_labels: int | None
) -> np.ndarray:
    """A verified training-dynamics entry's ``(epochs, count, num_labels)`` class
    probabilities, checked for that shape and for values in ``[0, 1]`` (either size check
    skipped when ``None``)."""
    data = read_entry_file(entry, DYNAMICS, manifest)
    try:
        values = np.load(io.BytesIO(data), allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise DamagedEntry(f"{DYNAMICS} is not a numpy array ({exc})") from None
    expected = (count, num_labels)
    if values.ndim != 3 or any(
        want is not None and got != want
        for got, want in zip(values.shape[1:], expected, strict=True)
    ):
        raise DamagedEntry(
            f"{DYNAMICS} has shape {values.shape}, expected (epochs, {count}, {num_labels})"
        )
    if values.dtype.kind != "f" or (
        values.size and not (np.isfinite(values).all() and values.min() >= 0 and values.max() <= 1)
    ):
        raise DamagedEntry(f"{DYNAMICS} holds values that are not probabilities")
    return np.asarray(values, dtype=np.float32)


def echo_warning(message: str) -> None:
    """Print ``warning: message`` on one line to stderr (control characters escaped)."""
    click.echo(f"warning: {printable(message)}", err=True)


@dataclass
class LoadedModel:
    """What reading a model entry gave besides the model: its metadata and changes record."""

    info: dict[str, Any]
    changes: dict[str, Any] | None


class Cache:
    """Trains, derives, memoises and predicts through the cache (or straight through when
    disabled), counting what it built, what it loaded and what it found damaged."""

    def __init__(
        self,
        root: Path | None = None,
        enabled: bool = True,
        progress: Progress | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.root = root or default_cache_dir()
        self.enabled = enabled
        self.progress = progress or silent()
        self.warn = warn if warn is not None else echo_warning
        """Where the one-line warning about a damaged or unreadable entry goes."""
        self.versions = package_versions()
        """Part of every key: another version of torch or scikit-learn is another model."""
        self.trained = 0
        self.loaded = 0
        self.predicted = 0
        self.predictions_cached = 0
        self.damaged = 0
        """Entries found damaged (each warned about, taken away and recomputed)."""
        self._unreadable: set[str] = set()
        """Keys of entries this process found intact but could not read (not tried again)."""
        self.verify_seconds = 0.0
        """Seconds spent verifying entries against their manifests (hashing)."""
        self.build_seconds = 0.0
        """Seconds the models trained or loaded so far took to build when they were built:
        measured now for a fresh model, read from the cache entry for a loaded one."""
        self.build_seconds_unknown = 0
        """Models loaded from cache entries that predate the stored training time."""
        self.helper_loaded = 0
        """Of :attr:`loaded`, the models a :meth:`model_family` loaded: helpers of a
        difficulty measure (e.g. M0 as PVI's ``g'``), not the model a row reports."""

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
                "cache_format": CACHE_FORMAT,
            }
        )[:32]

    def derived_key(self, base_key: str, recipe: dict[str, Any]) -> str:
        """The key of a model derived from the model cached under ``base_key`` by ``recipe``."""
        return hash_json(
            {
                "base": base_key,
                "recipe": recipe,
                "versions": self.versions,
                "cache_format": CACHE_FORMAT,
            }
        )[:32]

    def value_key(self, recipe: dict[str, Any]) -> str:
        """The key of a value memoised for ``recipe``."""
        return hash_json(
            {"recipe": recipe, "versions": self.versions, "cache_format": CACHE_FORMAT}
        )[:32]

    # -- reading and writing entries -------------------------------------------------------------

    def _read(
        self, kind: str, key: str, entry: Path, what: str, use: Callable[[Manifest], T]
    ) -> T | None:
        """``use(manifest)`` of the entry when it verifies; ``None`` when there is none, when it
        is damaged (warned about and taken away) or when it cannot be read (warned about, left
        in place). ``use`` reads the entry's files and raises :class:`DamagedEntry` for content
        that is wrong although its hashes match. An entry replaced by another process while it
        was read is read again."""
        for _ in range(3):
            seen = identity(entry)
            if seen is None:
                return None
            try:
                started = time.perf_counter()
                manifest = verify(entry, kind, key)
                self.verify_seconds += time.perf_counter() - started
                return use(manifest)
            except DamagedEntry as damage:
                if identity(entry) != seen:
                    continue
                self.damaged += 1
                self.warn(
                    f"cache entry {kind} {key[:12]} ({what}) is damaged: {damage.problem}; "
                    "recomputing it"
                )
                quarantine(entry, seen)
                return None
            except OSError as exc:
                if identity(entry) != seen:
                    continue
                self._unreadable.add(key)
                self.warn(
                    f"cannot read cache entry {kind} {key[:12]} ({what}): "
                    f"{exc.strerror or exc}; recomputing it"
                )
                return None
        return None

    def _keep(
        self,
        kind: str,
        key: str,
        entry: Path,
        what: str,
        fill: Callable[[Path], None],
        winner: Callable[[Manifest], T],
    ) -> T | None:
        """Store an entry; when another process stored it first, return ``winner(manifest)``
        of that entry (the first finished entry wins, and everyone uses it). ``None``: ours is
        the entry, or the other one could not be used (then ours is stored in its place when
        it was damaged)."""
        for _ in range(2):
            if write_entry(entry, kind, key, fill) or key in self._unreadable:
                return None
            theirs = self._read(kind, key, entry, what, winner)
            if theirs is not None:
                return theirs
            if identity(entry) is not None:
                return None  # there but unreadable here: keep ours in memory
        return None

    # -- models ---------------------------------------------------------------------------------

    def _model_loader(
        self, model: Model, kind: str, entry: Path
    ) -> Callable[[Manifest], LoadedModel]:
        """Reads a verified model entry into ``model``: its metadata, its changes record (a
        derived model) and the model's own files."""

        def load(manifest: Manifest) -> LoadedModel:
            info, changes = read_model_files(entry, manifest, kind)
            try:
                model.load(entry)
            except OSError:
                raise
            except Exception as exc:  # verified files the plugin cannot load: not used, kept
                problem = f"the model could not load it ({type(exc).__name__}: {exc})"
                raise OSError(problem) from exc
            return LoadedModel(info, changes)

        return load

    def _open_model(
        self, model: Model, kind: str, key: str, entry: Path, what: str
    ) -> LoadedModel | None:
        """Load the model entry into ``model`` after verifying it (``None``: no usable entry)."""
        return self._read(kind, key, entry, what, self._model_loader(model, kind, entry))

    def _count_loaded(self, loaded: LoadedModel) -> None:
        self.loaded += 1
        seconds = train_seconds_of(loaded.info)
        if seconds is None:
            self.build_seconds_unknown += 1
        else:
            self.build_seconds += seconds

    def _fill_model(
        self,
        model: Model,
        purpose: str,
        seed: int,
        changes: dict[str, Any] | None,
        seconds: float | None,
    ) -> Callable[[Path], None]:
        """A writer of a model entry's files: the model's own, ``changes.json``, ``done.json``."""

        def fill(folder: Path) -> None:
            model.save(folder)
            if changes is not None:
                (folder / CHANGES).write_text(json.dumps(changes, sort_keys=True), "utf-8")
            info: dict[str, Any] = {
                "model": model.name,
                "num_labels": model.num_labels,
                "purpose": purpose,
                "seed": seed,
                "fingerprint": model.fingerprint(),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            if seconds is not None:
                info["train_seconds"] = round(seconds, 3)
            (folder / DONE).write_text(json.dumps(info, sort_keys=True, default=str), "utf-8")

        return fill

    def _store(
        self,
        model: Model,
        entry: Path,
        purpose: str,
        seed: int,
        changes: dict[str, Any] | None = None,
        seconds: float | None = None,
        fresh: Callable[[], Model] | None = None,
    ) -> tuple[Model, dict[str, Any] | None]:
        """Store a model entry (with ``changes`` for a derived model) and return the model and
        changes a run goes on with: these, or the entry another process stored first (loaded
        into ``fresh()``)."""
        kind = MODEL_KIND if changes is None else DERIVED_KIND

        def winner(manifest: Manifest) -> tuple[Model, LoadedModel]:
            other = (
                fresh()
                if fresh
                else type(model).create(model.args, model.label_names, model.device)
            )
            return other, self._model_loader(other, kind, entry)(manifest)

        theirs = self._keep(
            kind,
            entry.name,
            entry,
            f"{purpose}, seed {seed}",
            self._fill_model(model, purpose, seed, changes, seconds),
            winner,
        )
        if theirs is None:
            return model, changes
        return theirs[0], theirs[1].changes

    def train(self, model: Model, split: Split, seed: int, purpose: str) -> Model:
        """Fit ``model`` on ``split`` (or load the cached result) and return it."""
        key = self.training_key(model, split, seed)
        entry = self.root / "models" / key
        loaded = None
        if self.enabled:
            loaded = self._open_model(model, MODEL_KIND, key, entry, f"{purpose}, seed {seed}")
        if loaded is not None:
            self._count_loaded(loaded)
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
                model, _ = self._store(model, entry, purpose, seed, seconds=seconds)
        setattr(model, CACHE_KEY_ATTRIBUTE, key)
        return model

    def record_epochs(self, model: Model, split: Split, seed: int, purpose: str) -> np.ndarray:
        """Train ``model`` (fresh, of a class that declares
        :attr:`~harness.api.Model.supports_epoch_callback`) on ``split`` with ``seed``, recording
        the class probabilities of every training example after every epoch; return them,
        ``(epochs, len(split), num_labels)``. The recording is cached under the training's own
        key (so it is the same training :meth:`train` caches), and the trained model is stored
        too when its entry is missing."""
        key = self.training_key(model, split, seed)
        name = f"{key}-epochs"
        entry = self.root / "predictions" / name
        count, num_labels = len(split), model.num_labels
        what = f"{purpose}, seed {seed}"

        def read(manifest: Manifest) -> np.ndarray:
            return read_dynamics(entry, manifest, count, num_labels)

        if self.enabled:
            cached = self._read(DYNAMICS_KIND, name, entry, what, read)
            if cached is not None:
                self.progress.log(
                    f"{purpose} (seed {seed}): training dynamics from cache {key[:12]}",
                    style="dim",
                )
                return cached
        self.progress.log(
            f"training {purpose} (seed {seed}, {count} examples, recording every epoch)",
            style="dim",
        )
        started = time.perf_counter()
        dynamics = fit_recording_epochs(model, split, seed, self.progress)
        seconds = time.perf_counter() - started
        self.trained += 1
        self.build_seconds += seconds
        if self.enabled:
            model_entry = self.root / "models" / key
            if identity(model_entry) is None:
                model, _ = self._store(model, model_entry, purpose, seed, seconds=seconds)

            def fill(folder: Path) -> None:
                with open(folder / DYNAMICS, "wb") as handle:
                    np.save(handle, dynamics, allow_pickle=False)

            theirs = self._keep(DYNAMICS_KIND, name, entry, what, fill, read)
            if theirs is not None:
                dynamics = theirs
        setattr(model, CACHE_KEY_ATTRIBUTE, key)
        return dynamics

    def model_family(
        self, model_class: type[Model], new_model: Callable[[], Model], seed: int
    ) -> ModelFamily:
        """Models of one family (``new_model()`` builds a fresh one of ``model_class``) for
        ``seed``, trained and recorded through this cache (what difficulty measures train)."""

        def train_model(model: Model, split: Split, purpose: str) -> Model:
            before = self.loaded
            trained = self.train(model, split, seed, purpose)
            self.helper_loaded += self.loaded - before
            return trained

        def record_epochs(split: Split, purpose: str) -> np.ndarray:
            return self.record_epochs(new_model(), split, seed, purpose)

        return ModelFamily(
            model_class=model_class,
            label_names=list(new_model().label_names),
            seed=seed,
            new_model=new_model,
            train_model=train_model,
            record_epochs=record_epochs,
            progress=self.progress,
        )

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
        if base_key is None:
            return build()
        key = self.derived_key(base_key, recipe)
        entry = self.root / "models" / key
        seed = int(recipe.get("seed", 0))
        loaded = None
        if self.enabled:
            model = fresh()
            loaded = self._open_model(model, DERIVED_KIND, key, entry, f"{purpose}, seed {seed}")
        if loaded is not None and loaded.changes is not None:
            self._count_loaded(loaded)
            self.progress.log(f"{purpose}: model from cache {key[:12]}", style="dim")
            setattr(model, CACHE_KEY_ATTRIBUTE, key)
            return model, loaded.changes
        started, before = time.perf_counter(), self.build_seconds
        model, changes = build()
        seconds = time.perf_counter() - started
        self.trained += 1
        self.build_seconds = before + seconds  # models trained inside build() are part of it
        changes = json.loads(json.dumps(changes, sort_keys=True))
        stored = None
        if self.enabled:
            model, stored = self._store(model, entry, purpose, seed, changes, seconds, fresh)
        # the key a cached run gives this model, with the cache off too (results.json records it)
        setattr(model, CACHE_KEY_ATTRIBUTE, key)
        return model, stored if stored is not None else changes

    # -- values and predictions -----------------------------------------------------------------

    def memo(self, recipe: dict[str, Any], compute: Callable[[], Any]) -> Any:
        """A JSON-able value computed once per ``recipe`` (e.g. a selection or a set of label
        flips). The value always comes back through a JSON round trip, so a cached and a fresh
        run see identical objects."""
        if not self.enabled:
            return json.loads(json.dumps(compute(), sort_keys=True))
        key = self.value_key(recipe)
        entry = self.root / "values" / key
        what = str(recipe.get("step") or "memoised value")

        def read(manifest: Manifest) -> tuple[Any]:
            return (read_entry_json(entry, VALUE, manifest),)

        cached = self._read(VALUE_KIND, key, entry, what, read)
        if cached is not None:
            return cached[0]
        text = json.dumps(compute(), sort_keys=True)

        def fill(folder: Path) -> None:
            (folder / VALUE).write_text(text, encoding="utf-8")

        theirs = self._keep(VALUE_KIND, key, entry, what, fill, read)
        return theirs[0] if theirs is not None else json.loads(text)

    def predict(self, model: Model, texts: Sequence[str], description: str) -> np.ndarray:
        """Predicted labels for ``texts``, from the cache when the model has a key. Predictions
        that are not one label index per text (from a model or a cache entry) are refused."""
        key = model_hash(model)
        entry = None
        name = ""
        count, num_labels = len(texts), model.num_labels

        def read(manifest: Manifest) -> np.ndarray:
            assert entry is not None
            return read_predictions(entry, manifest, count, num_labels)

        if self.enabled and key:
            name = f"{key}-{hash_texts(texts)[:32]}"
            entry = self.root / "predictions" / name
            cached = self._read(PREDICTIONS_KIND, name, entry, description, read)
            if cached is not None:
                self.predictions_cached += 1
                return cached
        self.progress.log(f"{description} ({count} texts)", style="dim")
        predictions = np.asarray(model.predict(list(texts), self.progress))
        self.predicted += 1
        problem = prediction_problem(predictions, count, num_labels)
        if problem:
            raise PluginError(
                f"model {model.name!r} predicted {problem} ({description})",
                fix="Model.predict must return one label index in 0..num_labels-1 per text",
            )
        if entry is not None:

            def fill(folder: Path) -> None:
                with open(folder / PREDICTIONS, "wb") as handle:
                    np.save(handle, predictions, allow_pickle=False)

            theirs = self._keep(PREDICTIONS_KIND, name, entry, description, fill, read)
            if theirs is not None:
                return theirs
        return predictions

    def summary(self) -> str:
        """One line on what the cache saved in this run."""
        if not self.enabled:
            return (
                f"cache disabled: trained {self.trained} model(s), "
                f"computed {self.predicted} prediction set(s)"
            )
        damaged = f"; {self.damaged} damaged entr(ies) recomputed" if self.damaged else ""
        return (
            f"cache {self.root}: {self.loaded} model(s) loaded, {self.trained} trained; "
            f"{self.predictions_cached} prediction set(s) from cache, {self.predicted} computed"
            f"{damaged}"
        )
