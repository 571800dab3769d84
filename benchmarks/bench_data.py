"""Loading a 1,000,000-row pool and selecting from it: the ``files`` task on the tabular layer
(pyarrow's CSV reader into a memory-mapped Arrow column) against the ``files`` task as it was
before (Python's csv module into lists).

The pool is generated here, in a temporary folder: tweet-length texts (the demo task's generator
plus Zipf-distributed filler words, @mentions and hashtags; ~80 characters on average) written
as CSV with a 3,000-row train and a 1,000-row test file. Each measurement runs in a fresh
subprocess (peak RSS of that process alone, see :func:`benchmarks.common.run_measured`):

- ``load``: import the task plugin and ``load_files(train, test, pool)``;
- ``load + select``: the same, then
  :func:`harness_plugins.interventions.selection.select` with the ``tfidf`` selector at budget
  1,500 against the demo suite's D_i cases, as ``retrain`` calls it.

"Before" is the code of the commit just before ``harness/text_column.py`` was added (the files
task with its own csv-module reader, pools as lists), extracted with
``git archive`` into a temporary folder and imported from there (same interpreter, same
libraries, same files); without git history the baseline rows say so. Load times are medians of
interleaved runs (new, old, new, old, ...); ``load + select`` runs once per side.

Targets: loading takes at most half the time it took before; the whole load + select process
stays under 2 GiB peak RSS.

Run alone: ``python -m benchmarks --only data`` (``--quick``: a 100,000-row pool).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import REPO_ROOT, make_row, run_measured, unavailable_row

FULL_ROWS = 1_000_000
QUICK_ROWS = 100_000
BUDGET = 1_500
LOAD_REPEATS = 3
LOAD_TARGET = "ratio <= 0.5"
RSS_TARGET = "peak_rss_mb < 2048"
INTRODUCED = "harness/text_column.py"
"""The file whose first commit starts the Arrow-backed data path; its parent is "before"."""

WORKER = r"""
import json, sys, time
mode, train, test, pool, suite = sys.argv[1:6]
out = {}
t0 = time.perf_counter()
from harness_plugins.tasks.files import load_files
task = load_files(train=train, test=test, pool=pool)
out["load_s"] = time.perf_counter() - t0
out["pool"] = len(task.pool)
out["pool_type"] = type(task.pool.texts).__name__
if mode == "select":
    from harness_plugins.selectors.tfidf import TfidfArgs, TfidfSelector
    from harness_plugins.interventions.selection import select
    from harness.specs.compiler import compile_suite_file
    specs = compile_suite_file(suite).specs
    t1 = time.perf_counter()
    selection = select(TfidfSelector(TfidfArgs()), task.pool, specs, int(sys.argv[6]), seed=0,
                       label_names=task.label_names)
    out["select_s"] = time.perf_counter() - t1
    out["n_selected"] = int(len(selection.indices))
    out["first_ids"] = [task.pool.ids[int(i)] for i in selection.indices[:20]]
print(json.dumps(out))
"""
"""Runs in the measured process, with the code under test first on ``sys.path`` (its cwd)."""


# ------------------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------------------


def write_data(folder: Path, rows: int, seed: int = 0) -> dict[str, Path]:
    """Train (3,000), test (1,000) and pool (``rows``) CSV files of tweet-length texts."""
    import csv

    from harness_plugins.tasks.demo import LABELS, generate

    rng = random.Random(seed)
    lexicon = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
        for _ in range(30_000)
    ]
    weights = [1.0 / (i + 1) for i in range(len(lexicon))]
    paths = {}
    for name, size in (("train", 3_000), ("test", 1_000), ("pool", rows)):
        texts, labels, _ = generate(size, rng)
        filler = rng.choices(lexicon, weights=weights, k=size * 6)
        path = folder / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
                words = filler[i * 6 : i * 6 + rng.randint(0, 6)]
                if rng.random() < 0.3:
                    words.append(f"@user{rng.randint(0, 200_000)}")
                if rng.random() < 0.2:
                    words.append(f"#{rng.choice(lexicon)}")
                writer.writerow([" ".join([text, *words]), LABELS[label]])
        paths[name] = path
    return paths


def baseline_code(folder: Path) -> tuple[Path | None, str]:
    """Extract the code from before the tabular layer into ``folder``; ``(path, commit)`` or
    ``(None, reason)``."""
    try:
        first = subprocess.run(
            ["git", "log", "--diff-filter=A", "--format=%H", "--", INTRODUCED],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        if not first:
            return None, f"{INTRODUCED} is not in the git history"
        commit = f"{first[-1]}^"
        resolved = subprocess.run(
            ["git", "rev-parse", "--short", commit],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        archive = subprocess.run(
            ["git", "archive", commit, "harness", "plugins", "specs"],
            cwd=REPO_ROOT,
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        return None, f"no git history to extract the previous code from ({exc})"
    (folder / "harness_plugins").symlink_to("plugins")
    (folder / "harness_specs").symlink_to("specs")
    return folder, resolved


# ------------------------------------------------------------------------------------------
# Measurement
# ------------------------------------------------------------------------------------------


def measure(code: Path, mode: str, paths: dict[str, Path], suite: Path) -> dict[str, Any]:
    """One worker process on the code in ``code``: its JSON output, wall time and peak RSS."""
    args = [sys.executable, "-c", WORKER, mode]
    args += [str(paths["train"]), str(paths["test"]), str(paths["pool"]), str(suite), str(BUDGET)]
    result = run_measured(args, cwd=code, timeout=3600).check(f"{mode} worker in {code}")
    out = json.loads(result.stdout.strip().splitlines()[-1])
    out["wall_s"] = result.wall_s
    out["peak_rss_mb"] = round(result.peak_rss_mb, 1)
    return out


def run(quick: bool = False) -> dict[str, Any]:
    """Generate the pool, measure both reading paths, return the runner's rows."""
    import os

    rows_count = QUICK_ROWS if quick else FULL_ROWS
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryDirectory(prefix="bench-data-") as tmp:
        folder = Path(tmp)
        (folder / "data").mkdir()
        (folder / "before").mkdir()
        paths = write_data(folder / "data", rows_count)
        size_mb = paths["pool"].stat().st_size / 2**20
        suite = REPO_ROOT / "specs" / "demo.yaml"
        old_code, commit = baseline_code(folder / "before")
        new_loads, old_loads = [], []
        for _ in range(LOAD_REPEATS):
            new_loads.append(measure(REPO_ROOT, "load", paths, suite))
            if old_code is not None:
                old_loads.append(measure(old_code, "load", paths, suite))
        new_select = measure(REPO_ROOT, "select", paths, suite)
        old_select = measure(old_code, "select", paths, suite) if old_code is not None else None
    pool = f"{rows_count:,}-row pool, {size_mb:.0f} MiB CSV"
    rows = []
    peak_new = max(r["peak_rss_mb"] for r in new_loads)
    if old_code is None:
        rows.append(unavailable_row("data", commit))
        rows.append(
            make_row(
                "data",
                f"files task, Arrow-backed: load ({pool})",
                "",
                [r["load_s"] for r in new_loads],
                None,
                peak_rss_mb=peak_new,
                notes=f"pool held as {new_loads[0]['pool_type']}",
            )
        )
    else:
        peak_old = max(r["peak_rss_mb"] for r in old_loads)
        rows.append(
            make_row(
                "data",
                f"files task, Arrow-backed: load ({pool})",
                f"files task before ({commit}: csv module, lists)",
                [r["load_s"] for r in new_loads],
                [r["load_s"] for r in old_loads],
                ratio_kind="time",
                target=LOAD_TARGET,
                peak_rss_mb=peak_new,
                baseline_peak_rss_mb=peak_old,
                notes=f"peak RSS {peak_new:.0f} MiB vs {peak_old:.0f} MiB before; pool held as "
                f"{new_loads[0]['pool_type']} vs {old_loads[0]['pool_type']}; load includes "
                "importing the reader (pyarrow)",
            )
        )
    select_notes = (
        f"tfidf, budget {BUDGET:,}, demo suite D_i; load {new_select['load_s']:.1f} s + select "
        f"{new_select['select_s']:.1f} s"
    )
    baseline_timing = None
    extra: dict[str, Any] = {}
    if old_select is not None:
        same = old_select["first_ids"] == new_select["first_ids"]
        select_notes += (
            f"; before: load {old_select['load_s']:.1f} s + select {old_select['select_s']:.1f} s, "
            f"peak {old_select['peak_rss_mb']:.0f} MiB; "
            f"{'same' if same else 'DIFFERENT'} first 20 selected ids"
        )
        baseline_timing = [old_select["load_s"] + old_select["select_s"]]
        extra["baseline_peak_rss_mb"] = old_select["peak_rss_mb"]
    rows.append(
        make_row(
            "data",
            f"files task, Arrow-backed: load + tfidf select ({pool})",
            f"files task before ({commit})" if old_select is not None else "",
            [new_select["load_s"] + new_select["select_s"]],
            baseline_timing,
            ratio_kind="time",
            target=RSS_TARGET,
            peak_rss_mb=new_select["peak_rss_mb"],
            notes=select_notes,
            **extra,
        )
    )
    return {"rows": rows, "pool_rows": rows_count, "load_average_at_start": load}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its rows as JSON."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 100,000-row pool")
    args = parser.parse_args(argv)
    print(json.dumps(run(quick=args.quick), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
