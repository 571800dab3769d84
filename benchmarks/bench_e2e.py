"""End-to-end demo wall time: ``harness run`` (bow model, the default interventions), cold cache
vs warm cache.

Each run is a fresh subprocess with its own output folder and ``HARNESS_CACHE_DIR`` in a temporary
folder: a *cold* run starts from an empty cache, a *warm* run re-runs the same config on the cache
a cold run filled. Target: warm <= 0.2x cold. A third row compares the warm run with the bare cost
of starting Python and importing the harness and torch, which no cache can remove.

Run alone: ``python -m benchmarks --only e2e`` (``--quick``: one cold run, two warm runs).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import (
    REPO_ROOT,
    Timing,
    harness_command,
    make_row,
    python_command,
    run_measured,
)

IMPORT_FLOOR = (
    "import harness.cli, harness.runner, harness.plugins, torch; harness.plugins.load_registries()"
)


def _demo(cache: Path, output: Path, device: str | None) -> tuple[float, float, Path]:
    """One ``harness run -q`` of the demo; returns (wall s, peak RSS MiB, run folder)."""
    args = ["run", "-q", "--output-dir", str(output)]
    if device and device != "auto":
        args += ["--device", device]
    result = run_measured(
        harness_command(*args),
        env={"HARNESS_CACHE_DIR": str(cache), "PYTHONPATH": str(REPO_ROOT)},
        cwd=output,
        timeout=900,
    ).check("harness run")
    runs = sorted(output.glob("*/results.json"))
    return result.wall_s, result.peak_rss_mb, runs[-1].parent if runs else output


def _summary(run_dir: Path) -> tuple[list[str], Any]:
    """The model labels of a run and a comparable digest of its metrics (no timings)."""
    try:
        data = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return [], None
    models = data.get("models", [])
    labels = [str(m.get("id") or m.get("intervention") or "?") for m in models]
    digest = [
        (
            m.get("id"),
            [(s.get("seed"), s.get("test"), s.get("heldout")) for s in m.get("seeds", [])],
        )
        for m in models
    ]
    return labels, json.dumps(digest, sort_keys=True, default=str)


def run(quick: bool, device: str | None = None) -> dict[str, Any]:
    """Time cold and warm demo runs in subprocesses; return result rows."""
    n_cold, n_warm = (1, 2) if quick else (3, 3)
    cold, warm, floor = Timing(), Timing(), Timing()
    cold_rss: list[float] = []
    warm_rss: list[float] = []
    labels: list[str] = []
    digests: set[Any] = set()
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        root = Path(tmp)
        first_cache = None
        for i in range(n_cold):
            cache = root / f"cache-{i}"
            out = root / f"cold-{i}"
            out.mkdir()
            wall, rss, run_dir = _demo(cache, out, device)
            cold.samples.append(wall)
            cold_rss.append(rss)
            labels, digest = _summary(run_dir)
            digests.add(digest)
            first_cache = first_cache or cache
        assert first_cache is not None
        for i in range(n_warm):
            out = root / f"warm-{i}"
            out.mkdir()
            wall, rss, run_dir = _demo(first_cache, out, device)
            warm.samples.append(wall)
            warm_rss.append(rss)
            digests.add(_summary(run_dir)[1])
        for _ in range(max(2, n_warm)):
            floor.samples.append(
                run_measured(python_command("-c", IMPORT_FLOOR), cwd=REPO_ROOT, timeout=300)
                .check("import floor")
                .wall_s
            )
    same = "identical" if len(digests) == 1 else f"{len(digests)} different results"
    models = ", ".join(labels) or "?"
    return {
        "rows": [
            make_row(
                "e2e demo",
                "warm cache",
                "cold cache",
                warm,
                cold,
                ratio_kind="time",
                target="ratio <= 0.2",
                peak_rss_mb=max(warm_rss),
                baseline_peak_rss_mb=max(cold_rss),
                notes=f"harness run (bow, default interventions: {models}); "
                f"warm vs cold results {same}",
            ),
            make_row(
                "e2e demo",
                "cold cache",
                "python + imports only",
                cold,
                floor,
                ratio_kind="time",
                peak_rss_mb=max(cold_rss),
                notes="how many times the bare start-up cost a cold demo run takes",
            ),
            make_row(
                "e2e demo",
                "warm cache",
                "python + imports only",
                warm,
                floor,
                ratio_kind="time",
                peak_rss_mb=max(warm_rss),
                notes="start-up (python, torch, plugins) that no cache removes",
            ),
        ],
        "models": labels,
    }
