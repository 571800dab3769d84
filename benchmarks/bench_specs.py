"""Spec compiler throughput: a generated 100-spec suite that expands to >= 100,000 cases.

Run ``python benchmarks/bench_specs.py`` (``--quick`` for a smaller suite). Compiles the suite
(YAML parse, validation, template checks, sampling, rendering) three times after a warm-up and
reports the best wall time, every wall time, the CPU time and cases per second, plus the time of
the leakage/quality checks on the compiled suite. ``ok`` means every compile took under 5 s.

The leakage rows check the same suite against a generated task (100,000 pool rows, 20,000 train,
5,000 test; ``--quick``: a tenth) with held-out texts planted verbatim and as normalised variants:
``leak_check_s`` is the whole check with the task (to compare with ``check_s`` without it),
``seen_s`` the per-model step of a run (which held-out cases do train + pool contain).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

WORDS = [
    "apple", "river", "stone", "cloud", "tiger", "maple", "ocean", "ember", "lilac", "cedar",
    "amber", "delta", "frost", "grove", "harbor", "iris", "jade", "koala", "lemon", "mango",
    "nectar", "olive", "pepper", "quartz", "raven", "sable", "thistle", "umber", "violet", "willow",
]  # fmt: skip


def make_suite(n_specs: int, cases_per_split: int) -> dict[str, Any]:
    """A suite of ``n_specs`` specs, each capped at ``cases_per_split`` cases per split."""
    slots = {
        "a": [f"{w}s" for w in WORDS],
        "b": [f"very {w}" for w in WORDS],
        "c": [f"{w}-{i}" for i, w in enumerate(WORDS)],
    }
    specs = []
    for i in range(n_specs):
        specs.append(
            {
                "id": f"spec-{i:03d}",
                "description": f"generated spec {i}",
                "label": "pos" if i % 2 else "neg",
                "slots": {"d": [f"thing{i}-{j}" for j in range(12)]},
                "templates": [
                    f"Spec {i} train {t}: the {{{{ a }}}} are {{{{ b }}}} near {{{{ c }}}} "
                    f"and {{{{ d | a_an }}}}."
                    for t in range(5)
                ],
                "heldout_templates": [
                    f"Spec {i} heldout {t}: {{{{ c | capitalize }}}} saw {{{{ a | plural }}}}, "
                    f"{{{{ b }}}} {{{{ d }}}}."
                    for t in range(5)
                ],
            }
        )
    return {
        "suite": "bench",
        "description": "generated benchmark suite",
        "labels": ["neg", "pos"],
        "seed": 0,
        "max_cases": cases_per_split,
        "slots": slots,
        "specs": specs,
    }


def run(quick: bool) -> dict[str, Any]:
    """Compile the generated suite and check it; return timings and throughput."""
    from harness.specs.checks import CheckOptions, check_suites
    from harness.specs.compiler import compile_suite_file

    n_specs, per_split = (20, 250) if quick else (100, 500)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(yaml.safe_dump(make_suite(n_specs, per_split)), encoding="utf-8")
        compile_suite_file(path)  # warm-up: imports, plugin manager, jinja2 environment
        walls, cpus = [], []
        for _ in range(1 if quick else 3):
            start, cpu = time.perf_counter(), time.process_time()
            suite = compile_suite_file(path)
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
        start = time.perf_counter()
        report = check_suites([suite], CheckOptions(label_names=["neg", "pos"]))
        check_s = time.perf_counter() - start
        leak = leakage_timings(suite, 10_000 if quick else 100_000)
    cases = sum(len(s.train_cases) + len(s.heldout_cases) for s in suite.specs)
    compile_s = min(walls)
    return {
        **leak,
        "specs": len(suite.specs),
        "cases": cases,
        "compile_s": round(compile_s, 3),
        "compile_s_all": [round(w, 3) for w in walls],
        "compile_cpu_s": round(min(cpus), 3),
        "cases_per_s": round(cases / compile_s),
        "check_s": round(check_s, 3),
        "check_errors": len(report.errors),
        "check_warnings": len(report.warnings),
        "target_compile_s": 5.0,
        "ok": max(walls) < 5.0 and cases >= (10_000 if quick else 100_000),
    }


def planted_task(suite: Any, n_pool: int) -> tuple[Any, dict[str, int]]:
    """A task with ``n_pool`` generated pool rows, ``n_pool / 5`` train and ``n_pool / 20`` test
    rows, and held-out texts of ``suite`` planted: 0.5% of the pool verbatim, 0.5% as
    normalised variants (upper case, ``!!``, an @mention and a URL), 50 in train, 50 in test."""
    import numpy as np

    from harness.api import Split, Task

    rng = np.random.default_rng(0)
    heldout = [c.text for spec in suite.specs for c in spec.heldout_cases]
    words = np.array(WORDS + [f"w{i}" for i in range(2000)])

    def generated(n: int, start: int) -> list[str]:
        picks = rng.integers(0, len(words), size=(n, 10))
        return [f"row {start + i}: " + " ".join(words[p]) for i, p in enumerate(picks)]

    n_train, n_test, n_planted = n_pool // 5, n_pool // 20, n_pool // 200
    chosen = rng.choice(len(heldout), size=2 * n_planted + 100, replace=False)
    planted = [heldout[i] for i in chosen]
    pool = generated(n_pool - 2 * n_planted, 0) + planted[:n_planted]
    variants = planted[n_planted : 2 * n_planted]
    pool += [f"@user{i} {t.upper()}!! https://t.co/{i}" for i, t in enumerate(variants)]
    train = generated(n_train - 50, n_pool) + planted[2 * n_planted : 2 * n_planted + 50]
    test = generated(n_test - 50, 2 * n_pool) + planted[2 * n_planted + 50 :]

    def split(texts: list[str], name: str) -> Split:
        return Split([f"{name}-{i}" for i in range(len(texts))], texts, np.zeros(len(texts)))

    task = Task(
        "planted", ["neg", "pos"], split(train, "train"), split(test, "test"), split(pool, "pool")
    )
    return task, {"pool": 2 * n_planted, "train": 50, "test": 50}


def leakage_timings(suite: Any, n_pool: int) -> dict[str, Any]:
    """Time the leakage check of ``suite`` against a planted task, and the seen-case lookup of
    one retrained model (train + whole pool); return the timings and what was found."""
    from harness.specs.checks import CheckOptions, check_suites
    from harness.specs.leakage import HeldoutIndex

    task, planted = planted_task(suite, n_pool)
    start = time.perf_counter()
    report = check_suites([suite], CheckOptions(label_names=["neg", "pos"], task=task))
    leak_check_s = time.perf_counter() - start
    assert report.leakage is not None
    total = report.leakage.total
    start = time.perf_counter()
    index = HeldoutIndex(suite.specs)
    seen = index.seen([*task.train.texts, *task.pool.texts])
    seen_s = time.perf_counter() - start
    return {
        "leak_pool_rows": len(task.pool),
        "leak_train_rows": len(task.train),
        "leak_test_rows": len(task.test),
        "leak_check_s": round(leak_check_s, 3),
        "seen_s": round(seen_s, 3),
        "leak_planted": planted,
        "leak_found": {"pool": total.in_pool, "train": total.in_train, "test": total.in_test},
        "seen_found": len(seen),
    }


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv[1:]), indent=2))
