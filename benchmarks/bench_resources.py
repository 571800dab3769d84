"""Peak memory of spec-guided selection over a 200k-example pool.

Three measurements, each in a fresh subprocess whose peak RSS is read by a small parent process
with ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` (so each number is that one child's peak):

- ``data``: the floor: imports (including the selector's), the demo task generated with a 200k
  pool, the demo suite compiled.
- ``select``: the same, then :func:`harness_plugins.interventions.selection.select` with the
  ``tfidf`` selector at the demo budget (600), exactly as the ``retrain`` intervention calls it
  (per-spec top-k, round robin, coverage). ``select_extra_mb`` = select - data: what the
  selection itself costs.
- ``run`` (full mode only): ``harness run`` end to end with ``n_pool=200000`` and a
  ``retrain`` + ``tfidf`` intervention (M0 and the retrained model trained, a fresh cache).

Bounded memory means ``select_extra_mb`` stays well below a dense pool x cases similarity matrix
(``dense_matrix_mb``: 200k x ~500 D_i cases of the demo suite in float32 = 380 MiB; larger suites
grow it linearly) because selectors score the pool in chunks.

``python -m benchmarks.bench_resources [--quick]`` prints the JSON; the benchmark runner calls
:func:`run`. ``--quick`` uses a 20k pool and skips the end-to-end run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
BUDGET = 600
FULL_POOL = 200_000
QUICK_POOL = 20_000
TARGET = "select_extra_mb < 2048"
"""The selection may use at most 2 GiB above the data it selects from."""

_MEASURE = (
    "import json, resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(json.dumps({'rc': done.returncode, 'peak_kb': peak, 'stdout': done.stdout,"
    " 'stderr': done.stderr[-2000:]}))\n"
)
"""A parent whose only child is the measured command: its RUSAGE_CHILDREN is that child's."""


def peak_rss(command: list[str], timeout: float = 3600) -> tuple[float, float, str]:
    """Run ``command`` in a fresh process; return ``(peak RSS in MiB, wall s, stdout)``."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"measuring parent failed: {done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    if report["rc"] != 0:
        raise RuntimeError(f"{' '.join(command[:4])} failed: {report['stderr']}")
    scale = 1024 if sys.platform == "darwin" else 1  # ru_maxrss: bytes on macOS, KiB on Linux
    return report["peak_kb"] / scale / 1024, wall, report["stdout"]


# ------------------------------------------------------------------------------------------
# Worker (runs inside the measured subprocess)
# ------------------------------------------------------------------------------------------


def worker(mode: str, pool_size: int) -> dict[str, Any]:
    """Build the data (and select, for ``mode == "select"``); return timings and counts."""
    t0 = time.perf_counter()
    import sklearn.feature_extraction.text  # noqa: F401

    import harness_plugins.interventions.selection  # noqa: F401  (the floor includes every import the selection needs)
    import harness_plugins.selectors.tfidf  # noqa: F401
    from harness.specs.compiler import compile_suite_file
    from harness_plugins.tasks.demo import load_demo

    task = load_demo(n_train=3000, n_test=1000, n_pool=pool_size)
    specs = compile_suite_file(REPO_ROOT / "specs" / "demo.yaml").specs
    out: dict[str, Any] = {
        "data_s": time.perf_counter() - t0,
        "pool": len(task.pool),
        "spec_cases": sum(len(spec.train_cases) for spec in specs),
    }
    if mode == "select":
        from harness_plugins.interventions.selection import select
        from harness_plugins.selectors.tfidf import TfidfArgs, TfidfSelector

        t1 = time.perf_counter()
        selection = select(
            TfidfSelector(TfidfArgs()),
            task.pool,
            specs,
            BUDGET,
            seed=0,
            label_names=task.label_names,
            model=None,
        )
        out["select_s"] = time.perf_counter() - t1
        out["n_selected"] = int(len(selection.indices))
    return out


# ------------------------------------------------------------------------------------------
# Runner entry point
# ------------------------------------------------------------------------------------------


def _worker_command(mode: str, pool: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "benchmarks.bench_resources",
        "--worker",
        mode,
        "--pool",
        str(pool),
    ]


def _run_config(folder: Path, pool: int) -> Path:
    path = folder / "run.yaml"
    path.write_text(
        "\n".join(
            [
                "task: demo",
                f"task_args: {{n_pool: {pool}}}",
                f"budget: {BUDGET}",
                "device: cpu",
                f"cache_dir: {folder / 'cache'}",
                f"output_dir: {folder / 'out'}",
                "interventions:",
                "  - {name: retrain, params: {selection: tfidf}}",
                "",
            ]
        ),
        encoding="utf-8",
    )
    return path


def _row(variant: str, seconds: float, peak_mb: float, notes: str, **extra: Any) -> dict[str, Any]:
    """A runner row (see :mod:`benchmarks.common`): one measurement, its peak RSS and notes."""
    from benchmarks.common import make_row

    return make_row(
        "resources",
        variant,
        "",
        [seconds],
        None,
        notes=notes,
        peak_rss_mb=round(peak_mb, 1),
        **extra,
    )


def run(quick: bool = False) -> dict[str, Any]:
    """Measure peak RSS of the data floor, the tfidf selection and (full mode) a whole run.

    Returns the flat measurements plus ``rows`` for the benchmark runner."""
    pool = QUICK_POOL if quick else FULL_POOL
    data_mb, _, data_out = peak_rss(_worker_command("data", pool))
    select_mb, _, select_out = peak_rss(_worker_command("select", pool))
    data = json.loads(data_out.strip().splitlines()[-1])
    selected = json.loads(select_out.strip().splitlines()[-1])
    result: dict[str, Any] = {
        "benchmark": "resources",
        "pool": pool,
        "budget": BUDGET,
        "spec_cases": data["spec_cases"],
        "data_peak_rss_mb": round(data_mb, 1),
        "select_peak_rss_mb": round(select_mb, 1),
        "select_extra_mb": round(select_mb - data_mb, 1),
        "select_seconds": round(selected["select_s"], 3),
        "n_selected": selected["n_selected"],
        "dense_matrix_mb": round(pool * data["spec_cases"] * 4 / 2**20, 1),
    }
    rows = [
        _row(f"data floor ({pool:,} pool)", data["data_s"], data_mb, "imports + task + specs"),
        _row(
            f"tfidf select ({pool:,} pool, k={BUDGET})",
            selected["select_s"],
            select_mb,
            f"+{select_mb - data_mb:.0f} MiB over the floor; a dense pool x cases matrix would "
            f"be {result['dense_matrix_mb']:.0f} MiB",
            select_extra_mb=result["select_extra_mb"],
            target=TARGET,
        ),
    ]
    if not quick:
        with tempfile.TemporaryDirectory(prefix="bench-resources-") as tmp:
            config = _run_config(Path(tmp), pool)
            command = [sys.executable, "-c", "from harness.cli import main; main()"]
            run_mb, run_wall, _ = peak_rss([*command, "run", "-q", "--config", str(config)])
        result["run_peak_rss_mb"] = round(run_mb, 1)
        result["run_wall_seconds"] = round(run_wall, 1)
        rows.append(
            _row(f"harness run ({pool:,} pool)", run_wall, run_mb, "M0 + retrain-tfidf, cold cache")
        )
    result["rows"] = rows
    return result


def main(argv: list[str] | None = None) -> int:
    """``--worker MODE --pool N`` runs inside a measured subprocess; otherwise run and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20k pool, no end-to-end run")
    parser.add_argument("--worker", choices=["data", "select"], help=argparse.SUPPRESS)
    parser.add_argument("--pool", type=int, default=FULL_POOL, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.pool)))
        return 0
    result = run(quick=args.quick)
    result.pop("rows")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
