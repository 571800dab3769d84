"""Many processes sharing one cache folder: processes started with ``spawn`` train, derive,
memoise and predict the same recipes at the same moment (each waits at a barrier until all have
computed, so every one of them writes). All finish; the first finished entry wins and every
process goes on with it (each computes something different here, so a process that kept its
own result would show); one entry per key, no temporary folder left."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
from typing import Any

import numpy as np

PROCESSES = 3
TIMEOUT_S = 240


def _split() -> Any:
    from harness.api import Split

    return Split(
        ids=[str(i) for i in range(40)],
        texts=["you fool" if i % 2 else "nice day" for i in range(40)],
        labels=np.arange(40) % 2,
    )


def make_model_class(index: int, together: Any) -> Any:
    """A light model (numpy only, so that spawned processes start fast): random weights over
    hashed characters, drawn from a seed of its own process, so each process trains a
    different model; ``fit`` and ``predict`` wait for the other processes."""
    from harness.api import Model, NoArgs

    class RacingModel(Model[NoArgs]):
        name = "racing"
        Args = NoArgs

        def _features(self, texts: Any) -> np.ndarray:
            rows = np.zeros((len(texts), 64))
            for row, text in enumerate(texts):
                for char in text:
                    rows[row, ord(char) % 64] += 1
            return rows

        def fit(self, texts: Any, labels: Any, seed: int, progress: Any = None) -> None:
            rng = np.random.default_rng(seed + 1000 * index)
            self.weights = rng.normal(size=(64, self.num_labels))
            together()

        def predict_proba(self, texts: Any, progress: Any = None) -> np.ndarray:
            scores = self._features(texts) @ self.weights
            scores = np.exp(scores - scores.max(axis=1, keepdims=True))
            return np.asarray(scores / scores.sum(axis=1, keepdims=True))

        def predict(self, texts: Any, progress: Any = None) -> np.ndarray:
            predictions = super().predict(texts, progress)
            together()
            return predictions

        def save(self, directory: Path) -> None:
            np.save(directory / "weights.npy", self.weights, allow_pickle=False)

        def load(self, directory: Path) -> None:
            self.weights = np.load(directory / "weights.npy", allow_pickle=False)

    return RacingModel


def racer(index: int, root: str, out: str, barrier: Any) -> None:
    """One process: everything through the shared cache, waiting for the others after each
    computation so that all of them store the same keys at once."""
    from harness.api import NoArgs
    from harness.cache import Cache, model_hash

    def together() -> None:
        barrier.wait(timeout=TIMEOUT_S)

    RacingModel = make_model_class(index, together)

    split = _split()
    warnings: list[str] = []
    cache = Cache(root=Path(root), warn=warnings.append)

    def new() -> Any:
        return RacingModel(NoArgs(), 2)

    together()
    m0 = cache.train(new(), split, 0, "M0")

    def choose() -> dict[str, Any]:
        together()
        return {"indices": [index, 2 * index], "who": index}

    chosen = cache.memo({"step": "race-selection"}, choose)

    def build() -> tuple[Any, dict[str, Any]]:
        model = new()
        model.fit(split.texts, split.labels, 7)
        return model, {"who": index}

    derived, changes = cache.derive(m0, {"method": "race", "seed": 0}, new, build, "derived")
    result = {
        "m0": model_hash(m0),
        "m0_predictions": cache.predict(m0, split.texts, "m0").tolist(),
        "m0_probabilities": np.round(m0.predict_proba(split.texts), 6).tolist(),
        "value": chosen,
        "derived": model_hash(derived),
        "changes": changes,
        "derived_predictions": cache.predict(derived, split.texts, "derived").tolist(),
        "derived_probabilities": np.round(derived.predict_proba(split.texts), 6).tolist(),
        "trained": cache.trained,
        "warnings": warnings,
    }
    Path(out, f"{index}.json").write_text(json.dumps(result))


def test_processes_racing_on_the_same_keys_agree_on_one_entry_each(tmp_path: Path) -> None:
    from harness.cache_entries import verify

    root, out = tmp_path / "cache", tmp_path / "out"
    out.mkdir()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    processes = [
        context.Process(target=racer, args=(i, str(root), str(out), barrier))
        for i in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(TIMEOUT_S)
    codes = [process.exitcode for process in processes]
    for process in processes:
        if process.is_alive():
            process.kill()
    assert codes == [0] * PROCESSES

    results = [json.loads((out / f"{i}.json").read_text()) for i in range(PROCESSES)]
    assert all(r["trained"] == 2 for r in results)  # every process computed everything ...
    assert all(not r["warnings"] for r in results)
    for field in results[0]:
        if field not in ("trained", "warnings"):  # ... and all go on with the same entries
            assert all(r[field] == results[0][field] for r in results), field

    kinds = {"models": 2, "values": 1, "predictions": 2}
    for folder, count in kinds.items():
        items = sorted((root / folder).iterdir())
        assert not [p.name for p in items if p.name.startswith(".")], "temporary items left"
        assert len(items) == count, (folder, [p.name for p in items])
        for entry in items:
            manifest = json.loads((entry / "manifest.json").read_text())
            verify(entry, manifest["kind"], entry.name)
