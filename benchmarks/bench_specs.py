"""Spec compiler throughput: a generated 100-spec suite that expands to >= 100,000 cases.

Run ``python benchmarks/bench_specs.py`` (``--quick`` for a smaller suite). Compiles the suite
(YAML parse, validation, template checks, sampling, rendering) three times after a warm-up and
reports the best wall time, every wall time, the CPU time and cases per second, plus the time of
the leakage/quality checks on the compiled suite. ``ok`` means every compile took under 5 s.
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
    from harness.spec_checks import CheckOptions, check_suites
    from harness.spec_compiler import compile_suite_file

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
    cases = sum(len(s.train_cases) + len(s.heldout_cases) for s in suite.specs)
    compile_s = min(walls)
    return {
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


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv[1:]), indent=2))
