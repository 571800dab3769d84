"""Hostile inputs: peak RSS and wall time of the worst small files a user (or an attacker handing
over a spec file) can give the harness.

Every case is generated into a temporary folder and run through the ``harness`` CLI in its own
subprocess, with its address space capped (``RLIMIT_AS``, default 3 GiB) and killed after a
timeout (default 60 s), so an unbounded case ends at the cap instead of taking the machine down.
Each row reports the wall time, the process's own peak RSS and the outcome: ``refused`` (exit 2,
one ``error:`` line, quoted in the notes), ``accepted`` (exit 0), ``hit the cap`` (MemoryError or
killed by a signal under the cap) or ``timed out``.

Cases:

- ``product``: one spec whose six slots of 100 values make 10^12 combinations, no ``max_cases``
  (``specs validate``).
- ``replace``: a template ``('x'*10000)|replace('x', 'y'*10000*10)`` that would render a 1 GB case
  (``specs validate``).
- ``devzero-spec`` / ``devzero-config``: a spec file (``specs validate``) and a run config
  (``run --config``) that are symlinks to ``/dev/zero``.
- ``specs-20k`` / ``specs-200k``: 20,000 / 200,000 honest specs in one file (one template per
  split over a ten-value slot: 400,000 / 4,000,000 cases), ``specs validate``; the 200k file only
  in full mode.

``python -m benchmarks --only hostile`` runs it through the runner; ``python -m
benchmarks.bench_hostile [--quick] [--timeout S] [--cap-gib G] [--case NAME]`` prints JSON. The
commands run in the case's folder with the installed ``harness``; to measure another checkout
(e.g. before a change), put a folder holding ``harness``, ``harness_plugins`` and
``harness_specs`` (links to its ``harness/``, ``plugins/``, ``specs/``) first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import CappedResult, harness_command, make_row, run_capped

CAP_GIB = 3.0
TIMEOUT_S = 60.0
FULL_SPECS = 200_000
QUICK_SPECS = 20_000
WORDS = ", ".join(f"word{i}" for i in range(10))
"""The slot of the many-specs suite: ten values, so every spec has ten cases per split."""
TARGET = "median_s < 10 and peak_rss_mb < 1024"
"""Every hostile case should be refused (or accepted) within seconds and well under 1 GiB."""


def product_suite(folder: Path) -> list[str]:
    """A spec with a 10^12 slot product and no ``max_cases``."""
    names = "abcdef"
    lines = ["suite: product", "labels: [neg, pos]", "slots:"]
    for name in names:
        values = ", ".join(f"{name}{i}" for i in range(100))
        lines.append(f"  {name}: [{values}]")
    slots = " ".join(f"{{{{ {n} }}}}" for n in names)
    reverse = " ".join(f"{{{{ {n} }}}}" for n in reversed(names))
    lines += [
        "specs:",
        "  - id: huge",
        "    label: pos",
        f'    templates: ["train {slots}"]',
        f'    heldout_templates: ["heldout {reverse}"]',
        "",
    ]
    path = folder / "product.yaml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return ["specs", "validate", str(path)]


def replace_suite(folder: Path) -> list[str]:
    """A template whose filters amplify 10,000 characters into 10^9."""
    text = (
        "suite: amplify\n"
        "labels: [neg, pos]\n"
        "specs:\n"
        "  - id: amplify\n"
        "    label: pos\n"
        "    templates: [\"{{ ('x'*10000)|replace('x', 'y'*10000*10) }}\"]\n"
        "    heldout_templates: [\"held {{ ('x'*10000)|replace('x', 'z'*10000*10) }}\"]\n"
    )
    path = folder / "replace.yaml"
    path.write_text(text, encoding="utf-8")
    return ["specs", "validate", str(path)]


def devzero_spec(folder: Path) -> list[str]:
    """A spec file that is a symlink to ``/dev/zero``."""
    path = folder / "zero.yaml"
    path.symlink_to("/dev/zero")
    return ["specs", "validate", str(path)]


def devzero_config(folder: Path) -> list[str]:
    """A run config that is a symlink to ``/dev/zero``."""
    path = folder / "zero-run.yaml"
    path.symlink_to("/dev/zero")
    return ["run", "--config", str(path), "--output-dir", str(folder / "out")]


def many_specs(n_specs: int) -> Callable[[Path], list[str]]:
    """``n_specs`` honest specs in one file, ten cases per split each."""

    def build(folder: Path) -> list[str]:
        path = folder / "many.yaml"
        with path.open("w", encoding="utf-8") as handle:
            handle.write(f"suite: many\nlabels: [neg, pos]\nslots:\n  x: [{WORDS}]\nspecs:\n")
            for i in range(n_specs):
                handle.write(
                    f"  - id: spec-{i:06d}\n"
                    f"    label: {'pos' if i % 2 else 'neg'}\n"
                    f'    templates: ["train {i} says {{{{ x }}}}"]\n'
                    f'    heldout_templates: ["heldout {i} says {{{{ x }}}}"]\n'
                )
        return ["specs", "validate", str(path)]

    return build


def cases(quick: bool) -> dict[str, Callable[[Path], list[str]]]:
    """``{name: build}``: ``build(folder)`` writes the input and returns the CLI arguments."""
    chosen = {
        "product": product_suite,
        "replace": replace_suite,
        "devzero-spec": devzero_spec,
        "devzero-config": devzero_config,
        f"specs-{QUICK_SPECS // 1000}k": many_specs(QUICK_SPECS),
    }
    if not quick:
        chosen[f"specs-{FULL_SPECS // 1000}k"] = many_specs(FULL_SPECS)
    return chosen


def outcome(result: CappedResult, cap_gib: float) -> str:
    """A short description of how the capped process ended."""
    if result.timed_out:
        return f"did not finish in {result.wall_s:.0f} s (killed)"
    if result.out_of_memory:
        return f"hit the {cap_gib:g} GiB cap after {result.wall_s:.1f} s"
    if result.returncode == 2 and result.last_line().startswith("error: "):
        return "refused in one line (exit 2)"
    if result.returncode == 0:
        return "accepted (exit 0)"
    return f"exit {result.returncode}"


HONEST = {f"specs-{QUICK_SPECS // 1000}k"}
"""Cases that are not hostile (a large suite that passes the limits): measured, no target."""


def measure_case(
    name: str, build: Callable[[Path], list[str]], *, cap_gib: float, timeout: float
) -> dict[str, Any]:
    """Build one hostile input and run it capped; return its row."""
    with tempfile.TemporaryDirectory(prefix=f"bench-hostile-{name}-") as tmp:
        folder = Path(tmp)
        args = build(folder)
        result = run_capped(
            harness_command(*args),
            address_space_bytes=int(cap_gib * 2**30),
            timeout=timeout,
            env={"HARNESS_CACHE_DIR": str(folder / "cache")},
            cwd=folder,  # the harness imported is the installed one (or PYTHONPATH's)
        )
    what = outcome(result, cap_gib)
    line = result.last_line()
    return make_row(
        "hostile",
        f"{name}: harness {' '.join(args[:2])}",
        "",
        [result.wall_s],
        None,
        target=None if name in HONEST else TARGET,
        notes=f"{what}; {line[:200]}",
        peak_rss_mb=round(result.peak_rss_mb, 1),
        outcome=what,
        returncode=result.returncode,
        last_line=line[:500],
        cap_gib=cap_gib,
        timeout_s=timeout,
    )


def run(
    quick: bool = False,
    timeout: float = TIMEOUT_S,
    cap_gib: float = CAP_GIB,
    only: str | None = None,
) -> dict[str, Any]:
    """Run every hostile case (or the comma-separated ``only``) capped at ``cap_gib`` GiB of
    address space and ``timeout`` seconds each."""
    chosen = cases(quick)
    if only:
        wanted = [n.strip() for n in only.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in chosen]
        if unknown:
            raise ValueError(f"unknown case {', '.join(unknown)}; choose from {', '.join(chosen)}")
        chosen = {n: chosen[n] for n in wanted}
    rows = [
        measure_case(name, build, cap_gib=cap_gib, timeout=timeout)
        for name, build in chosen.items()
    ]
    return {"rows": rows, "cap_gib": cap_gib, "timeout_s": timeout}


def main(argv: list[str] | None = None) -> int:
    """Run the cases and print their rows as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="without the 200k-spec case")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds per case")
    parser.add_argument("--cap-gib", type=float, default=CAP_GIB, help="address-space cap")
    parser.add_argument("--case", help="comma-separated case names")
    args = parser.parse_args(argv)
    result = run(args.quick, timeout=args.timeout, cap_gib=args.cap_gib, only=args.case)
    keep = ("variant", "median_s", "peak_rss_mb", "outcome", "last_line")
    print(json.dumps([{k: row[k] for k in keep} for row in result["rows"]], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
