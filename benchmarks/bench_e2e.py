"""End-to-end demo wall time: ``harness run`` (bow model, the default interventions), cold cache
vs warm cache.

Each run is a fresh subprocess with its own output folder and ``HARNESS_CACHE_DIR`` in a temporary
folder: a *cold* run starts from an empty cache, a *warm* run re-runs the same config on the cache
a cold run filled. Target: warm <= 0.2x cold. A third row compares the warm run with the bare cost
of starting Python and importing the harness and torch, which no cache can remove.

Full: two cold runs, three warm runs of the full demo. ``--quick``: one cold and one warm run
of the demo cut to ``--limit 1000``. Run alone: ``python -m benchmarks --only e2e``.
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

QUICK_LIMIT = 1000
"""``--quick`` runs the demo with ``--limit 1000`` (each split cut to 1,000 examples)."""

IMPORT_FLOOR = (
    "import harness.cli, harness.runner, harness.plugins, torch; harness.plugins.load_registries()"
)


def _demo(
    cache: Path, output: Path, device: str | None, limit: int | None
) -> tuple[float, float, Path]:
    """One ``harness run -q`` of the demo; returns (wall s, peak RSS MiB, run folder)."""
    args = ["run", "-q", "--output-dir", str(output)]
    if limit:
        args += ["--limit", str(limit)]
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


def _summary(run_dir: Path) -> dict[str, str]:
    """``{model id: digest of its per-seed test and held-out metrics}`` (no timings)."""
    try:
        data = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {
        str(m.get("id")): json.dumps(
            [(s.get("seed"), s.get("test"), s.get("heldout")) for s in m.get("seeds", [])],
            sort_keys=True,
            default=str,
        )
        for m in data.get("models", [])
    }


def _differences(reference: dict[str, str], others: list[dict[str, str]]) -> str:
    """``identical`` or the models whose metrics differ from ``reference`` in some run."""
    differ = sorted(
        {m for o in others for m in set(reference) | set(o) if o.get(m) != reference.get(m)}
    )
    return "identical" if not differ else "DIFFERENT for " + ", ".join(differ)


def run(quick: bool, device: str | None = None) -> dict[str, Any]:
    """Time cold and warm demo runs in subprocesses; return result rows."""
    n_cold, n_warm = (1, 1) if quick else (2, 3)
    limit = QUICK_LIMIT if quick else None
    cold, warm, floor = Timing(), Timing(), Timing()
    cold_rss: list[float] = []
    warm_rss: list[float] = []
    summaries: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        root = Path(tmp)
        first_cache = None
        for i in range(n_cold):
            cache = root / f"cache-{i}"
            out = root / f"cold-{i}"
            out.mkdir()
            wall, rss, run_dir = _demo(cache, out, device, limit)
            cold.samples.append(wall)
            cold_rss.append(rss)
            summaries.append(_summary(run_dir))
            first_cache = first_cache or cache
        assert first_cache is not None
        for i in range(n_warm):
            out = root / f"warm-{i}"
            out.mkdir()
            wall, rss, run_dir = _demo(first_cache, out, device, limit)
            warm.samples.append(wall)
            warm_rss.append(rss)
            summaries.append(_summary(run_dir))
        for _ in range(max(2, n_warm)):
            floor.samples.append(
                run_measured(python_command("-c", IMPORT_FLOOR), cwd=REPO_ROOT, timeout=300)
                .check("import floor")
                .wall_s
            )
    same = _differences(summaries[0], summaries[1:])
    labels = list(summaries[0])
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
                target=None if limit else "ratio <= 0.2",
                peak_rss_mb=max(warm_rss),
                baseline_peak_rss_mb=max(cold_rss),
                notes=f"harness run{f' --limit {limit}' if limit else ''} (bow, default "
                f"interventions: {models}); metrics of all runs vs the first cold run: {same}"
                + ("; the <= 0.2x target is for the full demo" if limit else ""),
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
