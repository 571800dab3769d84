"""Selection cost: the ``tfidf``, ``bm25`` and ``dsir`` selectors over pools of 10k, 50k and 200k
generated examples against ~5,000 spec cases; wall time, peak RSS, and growth with pool size.

Pools come from the demo task's generator (``plugins/tasks/demo.py``), so texts look like the
demo's. The queries are the demo suite's D_i cases (``specs/demo.yaml``, ~500 cases in 10 specs),
repeated in 10 variants with different openers and closers: 100 query groups, ~5,000 cases.
Each selector call is ``Selector.top_k(pool, queries, k=600, seed=0)`` (600 = the demo budget).

Every (selector, size) case runs in its own subprocess, so its peak RSS is its own. The baseline
is what a user would write without the harness: scikit-learn ``TfidfVectorizer`` (1-2-grams) and,
per spec, a sparse ``pool @ cases.T`` product, row max and ``argpartition`` (same pool, same
queries, same k). A ``data only`` subprocess (imports + generating the pool, no selection) gives
the memory floor. The growth rows fit a slope of log(time) on log(pool size): ~1 is linear.

Run alone: ``python -m benchmarks --only selection`` (``--quick``: 10k and 50k only).
Worker: ``python -m benchmarks.bench_selection --worker tfidf --pool 10000``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from statistics import median
from typing import Any

from benchmarks.common import (
    REPO_ROOT,
    Timing,
    loglog_slope,
    make_row,
    python_command,
    run_measured,
)

SELECTORS = ("tfidf", "bm25", "dsir")
BASELINE = "sklearn-bruteforce"
DATA_ONLY = "data-only"
K = 600
VARIANTS = 10
FULL_SIZES = (10_000, 50_000, 200_000)
QUICK_SIZES = (10_000, 50_000)
TARGET_200K = "median_s < 60 and peak_rss_mb < 4096"
GiB = 2**30


# ------------------------------------------------------------------------------------------
# Data (in the worker)
# ------------------------------------------------------------------------------------------


def make_pool(n: int, seed: int = 0) -> list[str]:
    """``n`` demo-task texts (the realistic pool distribution)."""
    from harness_plugins.tasks.demo import generate

    texts, _, _ = generate(n, random.Random(seed))
    return texts


def make_queries(variants: int = VARIANTS, seed: int = 0) -> list[list[str]]:
    """The demo suite's D_i cases in ``variants`` variants: one query group per (spec, variant).
    Variant 0 is the suite itself; the others add a demo-style opener and closer."""
    from harness.config import SpecRef
    from harness.plugins import load_registries
    from harness.specs.loading import load_suites
    from harness_plugins.tasks.demo import CLOSERS, OPENERS

    suites = load_suites([SpecRef(ref="demo")], load_registries().spec_sources, seed=seed)
    base = [[c.text for c in spec.train_cases] for suite in suites for spec in suite.specs]
    rng = random.Random(seed)
    groups: list[list[str]] = []
    for v in range(variants):
        for cases in base:
            if v == 0:
                groups.append(list(cases))
            else:
                groups.append(
                    [
                        f"{rng.choice(OPENERS[3:])}{t.lower()}{rng.choice(CLOSERS[3:])}"
                        for t in cases
                    ]
                )
    return groups


def bruteforce_top_k(
    pool: Sequence[str], queries: Sequence[Sequence[str]], k: int
) -> list[tuple[Any, Any]]:
    """The plain scikit-learn way: TF-IDF 1-2-grams, per spec a sparse product with the whole
    pool, the max over the spec's cases, then ``argpartition`` for the top ``k``."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32)
    cases = [t for group in queries for t in group]
    matrix = vec.fit_transform(list(pool) + cases).tocsr()
    pool_m, case_m = matrix[: len(pool)], matrix[len(pool) :]
    out = []
    start = 0
    for group in queries:
        q = case_m[start : start + len(group)]
        start += len(group)
        scores = np.asarray((pool_m @ q.T).max(axis=1).toarray()).ravel()
        kk = min(k, len(scores))
        top = np.argpartition(-scores, kk - 1)[:kk]
        top = top[np.argsort(-scores[top], kind="stable")]
        out.append((top, scores[top]))
    return out


def worker(name: str, pool_size: int, repeats: int, variants: int, k: int) -> dict[str, Any]:
    """Generate the data, warm up on a small pool, then time ``repeats`` selections."""
    start = time.perf_counter()
    pool = make_pool(pool_size)
    queries = make_queries(variants)
    gen_s = time.perf_counter() - start
    n_cases = sum(len(q) for q in queries)
    if name == DATA_ONLY:
        return {"gen_s": gen_s, "times": [], "n_cases": n_cases, "n_groups": len(queries)}
    if name == BASELINE:

        def call(texts: Sequence[str]) -> Any:
            return bruteforce_top_k(texts, queries, k)
    else:
        from harness.plugins import load_registries

        cls = load_registries().selectors.get(name)
        selector = cls(cls.Args())

        def call(texts: Sequence[str]) -> Any:
            return selector.top_k(texts, queries, k, 0, None)

    call(pool[:1000])  # warm-up: imports, first-call costs
    times, cpu_times = [], []
    result: Any = None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        result = call(pool)
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    selected = len({int(i) for idx, _ in result for i in idx}) if result else 0
    return {
        "gen_s": gen_s,
        "times": times,
        "cpu_times": cpu_times,
        "n_cases": n_cases,
        "n_groups": len(queries),
        "distinct_selected": selected,
    }


# ------------------------------------------------------------------------------------------
# Parent
# ------------------------------------------------------------------------------------------


def _case(name: str, size: int, repeats: int) -> tuple[dict[str, Any], float]:
    """Run one worker subprocess; return its JSON result and its peak RSS in MiB."""
    proc = run_measured(
        python_command(
            "-m",
            "benchmarks.bench_selection",
            "--worker",
            name,
            "--pool",
            str(size),
            "--repeats",
            str(repeats),
        ),
        cwd=REPO_ROOT,
        env={"PYTHONPATH": str(REPO_ROOT)},
        timeout=1800,
    ).check(f"selection worker {name} {size}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    return json.loads(lines[-1]), proc.peak_rss_mb


def available_selectors(names: Sequence[str] = SELECTORS) -> tuple[list[str], list[str]]:
    """``(registered, missing)`` among ``names``."""
    from harness.plugins import load_registries

    registered = load_registries().selectors
    have = [n for n in names if n in registered]
    return have, [n for n in names if n not in registered]


def run(quick: bool) -> dict[str, Any]:
    """Time every selector at every pool size against the brute-force baseline."""
    sizes = QUICK_SIZES if quick else FULL_SIZES
    have, missing = available_selectors()
    rows: list[dict[str, Any]] = []
    curves: dict[str, tuple[list[float], list[float]]] = {}
    for size in sizes:
        repeats = (2 if size <= 10_000 else 1) if quick else (3 if size <= 50_000 else 1)
        floor, floor_rss = _case(DATA_ONLY, size, 1)
        base, base_rss = _case(BASELINE, size, repeats)
        curves.setdefault(BASELINE, ([], []))
        curves[BASELINE][0].append(size)
        curves[BASELINE][1].append(min(base["times"]))
        for name in have:
            res, rss = _case(name, size, repeats)
            curves.setdefault(name, ([], []))
            curves[name][0].append(size)
            curves[name][1].append(min(res["times"]))
            target = TARGET_200K if (name == "tfidf" and size == 200_000) else None
            cpu, base_cpu = median(res["cpu_times"]), median(base["cpu_times"])
            rows.append(
                make_row(
                    "selection",
                    f"{name} pool={size // 1000}k",
                    "sklearn tfidf brute force",
                    Timing(res["times"]),
                    Timing(base["times"]),
                    ratio_kind="throughput",
                    work=size,
                    unit="pool ex",
                    target=target,
                    peak_rss_mb=rss,
                    baseline_peak_rss_mb=base_rss,
                    data_only_rss_mb=floor_rss,
                    pool=size,
                    cases=res["n_cases"],
                    cpu_median_s=cpu,
                    baseline_cpu_median_s=base_cpu,
                    notes=f"{res['n_groups']} specs, {res['n_cases']} cases, k={K}; CPU time "
                    f"{cpu:.2f} s vs baseline {base_cpu:.2f} s ({base_cpu / cpu:.2f}x thr); "
                    f"RSS: baseline {base_rss:.0f} MiB, data+imports only {floor_rss:.0f} MiB",
                )
            )
    for name, (xs, ys) in curves.items():
        slope = loglog_slope(xs, ys)
        label = "sklearn tfidf brute force" if name == BASELINE else name
        rows.append(
            {
                "benchmark": "selection growth",
                "variant": label,
                "baseline": "linear (slope 1)",
                "loglog_slope": slope,
                "ratio": slope,
                "ratio_kind": "slope",
                "target": "loglog_slope < 1.25" if name != BASELINE else None,
                "notes": "fitted slope of log(time) on log(pool size) over "
                + ", ".join(f"{x // 1000}k: {y:.2f} s" for x, y in zip(xs, ys, strict=True)),
            }
        )
    for name in missing:
        rows.append(
            {
                "benchmark": "selection",
                "variant": f"{name}: not available",
                "baseline": "",
                "status": "not available",
                "notes": f"selector {name!r} is not registered in this checkout",
            }
        )
    return {"rows": rows, "sizes": list(sizes), "k": K}


def main(argv: Sequence[str] | None = None) -> int:
    """Worker entry point (the runner calls :func:`run`)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", required=True, help="selector name, data-only or baseline")
    parser.add_argument("--pool", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--variants", type=int, default=VARIANTS)
    parser.add_argument("--k", type=int, default=K)
    args = parser.parse_args(argv)
    result = worker(args.worker, args.pool, args.repeats, args.variants, args.k)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
