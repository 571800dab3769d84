"""The benchmark runner: ``python -m benchmarks [--quick] [--only NAME] [--json PATH]``.

Discovers ``bench_<name>`` modules in this package, runs each (passing ``quick`` and, where the
module accepts it, ``device``), normalises what they return into rows, evaluates each row's target,
prints one rich table (every timing next to its same-run baseline, as a ratio) and writes JSON.

A module may return ``{"rows": [row, ...]}`` (or a bare list of rows), each row timed with repeats
by the module itself (see :mod:`benchmarks.common`), or a flat dict of single measurements; a flat
result is re-run ``--repeats`` times here and each ``*_s`` field becomes a row with median / min /
max. A module that cannot be imported becomes a ``not available`` row, one that raises a ``failed``
row; the run goes on either way.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import inspect
import json
import pkgutil
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks.adapters import find_adapter
from benchmarks.common import (
    REPO_ROOT,
    check_target,
    compute_ratio,
    gpu_peak_tflops,
    machine_info,
    summarize,
    unavailable_row,
)

EXPECTED: dict[str, str] = {
    "specs": "spec compilation: cases/s for a 100-spec, 100k-case suite",
    "models": "hf prediction / training throughput vs a bare torch loop and transformers.pipeline",
    "e2e": "end-to-end demo wall time, warm cache vs cold cache",
    "selection": "tfidf / bm25 / dsir selection over 10k-200k pools: time, peak RSS, growth",
    "patch": "patch clamp overhead per optimiser step vs an unclamped step",
    "resources": "peak RSS of a 200k-pool selection run",
    "hostile": "hostile inputs (10^12 slot product, filter amplification, /dev/zero, 200k specs) "
    "under a 3 GiB / 60 s cap: peak RSS, wall time, outcome",
    "data": "1M-row pool: files task load + tfidf selection, Arrow-backed vs the previous reader",
    "cache": "cache verification: SHA-256 of a MiniLM entry vs loading it; share of a warm demo",
    "executors": "demo grid wall time local vs --jobs 2 vs ray, Ray's per-unit overhead, "
    "a 3-seed MiniLM grid",
}
"""Benchmarks the suite should have; a missing one is reported as ``not available``."""

MAX_RERUN_S = 60.0
"""A module returning single timings is re-run for repeats only if one run takes less."""

DEFAULT_JSON = REPO_ROOT / "benchmarks" / "results" / "latest.json"
PREFIX = "bench_"


# ------------------------------------------------------------------------------------------
# Discovery
# ------------------------------------------------------------------------------------------


def discover(package: str = "benchmarks") -> dict[str, str]:
    """``{short name: module name}`` of every ``bench_*`` module in ``package``, sorted."""
    pkg = importlib.import_module(package)
    found = {}
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith(PREFIX) and not info.ispkg:
            found[info.name[len(PREFIX) :]] = f"{package}.{info.name}"
    return dict(sorted(found.items()))


def select_names(
    available: dict[str, str], only: Sequence[str] | None, expected: Sequence[str] = ()
) -> list[str]:
    """The benchmark names to run: ``only`` (comma lists allowed) or every available and
    expected name, expected ones first in their listed order."""
    if only:
        names: list[str] = []
        for item in only:
            names.extend(part.strip() for part in item.split(",") if part.strip())
        unknown = [n for n in names if n not in available and n not in expected]
        if unknown:
            choices = ", ".join(sorted(set(available) | set(expected)))
            raise SystemExit(
                f"error: unknown benchmark {', '.join(unknown)}; choose from {choices}"
            )
        return names
    ordered = list(expected)
    ordered += [n for n in available if n not in ordered]
    return ordered


def call_run(
    module: ModuleType, quick: bool, device: str | None, options: dict[str, Any] | None = None
) -> Any:
    """Call ``module.run(quick)``, adding ``device=`` when the function accepts it, and the
    ``options`` given for this module (``--option NAME.KEY=VALUE``; an unknown key is an error)."""
    fn = module.run
    params = inspect.signature(fn).parameters
    kwargs: dict[str, Any] = {}
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    if device is not None and ("device" in params or takes_kwargs):
        kwargs["device"] = device
    for key, value in (options or {}).items():
        if key not in params and not takes_kwargs:
            accepted = ", ".join(p for p in params if p != "quick") or "none"
            raise TypeError(f"run() takes no option {key!r} (accepted: {accepted})")
        kwargs[key] = value
    return fn(quick, **kwargs)


def parse_options(items: Sequence[str] | None) -> dict[str, dict[str, Any]]:
    """``["models.minilm=false", ...]`` -> ``{"models": {"minilm": False}}`` (values read as
    JSON when they parse, else kept as strings)."""
    out: dict[str, dict[str, Any]] = {}
    for item in items or []:
        target, sep, raw = item.partition("=")
        name, dot, key = target.partition(".")
        if not sep or not dot or not name or not key:
            raise SystemExit(f"error: --option expects NAME.KEY=VALUE, got {item!r}")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        out.setdefault(name.strip(), {})[key.strip()] = value
    return out


# ------------------------------------------------------------------------------------------
# Normalisation
# ------------------------------------------------------------------------------------------


def is_rows_result(result: Any) -> bool:
    """Whether ``result`` is already rows (a list, or a dict with ``rows``)."""
    return isinstance(result, list) or (isinstance(result, dict) and "rows" in result)


def rows_of(name: str, result: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """``(rows, extra)`` from a rows-style result; rows get ``benchmark`` defaulted to
    ``name``; ``extra`` holds the result's other keys (module-level notes)."""
    if isinstance(result, list):
        rows, extra = result, {}
    else:
        rows = list(result["rows"])
        extra = {k: v for k, v in result.items() if k != "rows"}
    out = []
    for row in rows:
        row = dict(row)
        row.setdefault("benchmark", name)
        row.setdefault("module", name)
        out.append(row)
    return out, extra


def _is_time_key(key: str, value: Any) -> bool:
    return (
        key.endswith("_s")
        and not key.endswith("_per_s")
        and not key.startswith(("target", "baseline"))
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
    )


def aggregate_flat(name: str, results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows from repeated flat results: one row per ``<what>_s`` field (median / min / max over
    the repeats). ``baseline_<what>_s`` gives the row's measured baseline and a ratio;
    ``target_<what>_s`` a ``median_s <`` target; other scalar fields go to the notes."""
    first = results[0]
    rows = []
    scalars = {
        k: v
        for k, v in first.items()
        if not _is_time_key(k, v)
        and not k.startswith(("target_", "baseline_"))
        and isinstance(v, (int, float, str, bool))
    }
    for key, value in first.items():
        if not _is_time_key(key, value):
            continue
        samples = [float(r[key]) for r in results if isinstance(r.get(key), (int, float))]
        row: dict[str, Any] = {"benchmark": name, "module": name, "variant": key[:-2]}
        row.update(summarize(samples))
        base_key = f"baseline_{key}"
        if base_key in first:
            base = [
                float(r[base_key]) for r in results if isinstance(r.get(base_key), (int, float))
            ]
            row.update({f"baseline_{k}": v for k, v in summarize(base).items()})
            row["baseline"] = str(first.get(f"baseline_{key[:-2]}_name", base_key))
            row["ratio_kind"] = "throughput"
        else:
            row["baseline"] = ""
        target = first.get(f"target_{key}")
        if isinstance(target, (int, float)):
            row["target"] = f"median_s < {target:g}"
        row["notes"] = ", ".join(f"{k}={v}" for k, v in scalars.items())
        rows.append(row)
    if not rows:
        rows.append(
            {
                "benchmark": name,
                "module": name,
                "variant": "result",
                "baseline": "",
                "notes": json.dumps(first, default=str)[:300],
            }
        )
    return rows


def finish_row(row: dict[str, Any], machine: dict[str, Any], device: str | None) -> dict[str, Any]:
    """Fill derived fields: ratio (when missing), TFLOP/s (from ``flops`` per timed call) and
    its share of the GPU's bf16 peak, and ``target_met``."""
    median = row.get("median_s")
    base = row.get("baseline_median_s")
    if row.get("ratio") is None and isinstance(median, (int, float)) and isinstance(base, float):
        kind = row.get("ratio_kind") or "throughput"
        row["ratio"] = compute_ratio(float(median), base, kind)
        row["ratio_kind"] = kind
    flops = row.get("flops")
    if isinstance(flops, (int, float)) and isinstance(median, (int, float)) and median > 0:
        row.setdefault("tflops", flops / median / 1e12)
    row_device = row.get("device") or device
    peak = gpu_peak_tflops(machine.get("gpu")) if row_device and "cuda" in str(row_device) else None
    if peak and isinstance(row.get("tflops"), (int, float)):
        row["peak_tflops"] = peak
        row["peak_share"] = row["tflops"] / peak
    try:
        row["target_met"] = check_target(row)
    except ValueError as err:
        row["target_met"] = None
        row["notes"] = f"{row.get('notes', '')} (target unreadable: {err})".strip()
    return row


# ------------------------------------------------------------------------------------------
# Running
# ------------------------------------------------------------------------------------------


def _cpu_seconds() -> float:
    """CPU seconds used so far by this process and its waited-for children (all threads)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_one(
    name: str,
    module_name: str | None,
    *,
    quick: bool,
    device: str | None,
    repeats: int,
    log: Any = None,
    options: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run one benchmark module; never raises. Returns ``(rows, status)``."""
    start = time.perf_counter()
    if module_name is None:
        reason = f"benchmarks/{PREFIX}{name}.py is not in this checkout"
        return [unavailable_row(name, reason)], {"status": "not available", "error": reason}
    try:
        module = importlib.import_module(module_name)
        if not callable(getattr(module, "run", None)):
            raise ImportError(f"{module_name} has no run(quick) function")
    except Exception as err:  # noqa: BLE001 - a broken module must not stop the suite
        reason = f"import failed: {type(err).__name__}: {err}"
        return [unavailable_row(name, reason)], {"status": "not available", "error": reason}
    cpu_start = _cpu_seconds()
    try:
        result = call_run(module, quick, device, options)
        first_s = time.perf_counter() - start
        adapter = find_adapter(name, result)
        extra: dict[str, Any] = {}
        if adapter is None and is_rows_result(result):
            rows, extra = rows_of(name, result)
        elif adapter is not None or isinstance(result, dict):
            results = [result]
            again = adapter.repeat if adapter is not None else True
            if again and first_s > MAX_RERUN_S:
                extra["repeats_note"] = f"not re-run: one run took {first_s:.0f} s"
                again = False
            for _ in range(max(0, repeats - 1) if again else 0):
                results.append(call_run(module, quick, device, options))
            if adapter is not None:
                rows = [{"module": name, **row} for row in adapter.to_rows(results, quick)]
            else:
                rows = aggregate_flat(name, results)
            extra["raw"] = results
        else:
            raise TypeError(f"run() returned {type(result).__name__}, expected a dict of rows")
    except Exception as err:  # noqa: BLE001
        if log is not None:
            log(traceback.format_exc())
        reason = f"{type(err).__name__}: {err}"
        return [unavailable_row(name, reason, status="failed")], {
            "status": "failed",
            "error": reason,
        }
    status: dict[str, Any] = {
        "status": "ok",
        "wall_s": time.perf_counter() - start,
        "cpu_s": _cpu_seconds() - cpu_start,
    }
    if extra:
        status["extra"] = extra
    return rows, status


def run_benchmarks(
    names: Sequence[str],
    *,
    quick: bool,
    device: str | None = None,
    repeats: int = 3,
    package: str = "benchmarks",
    log: Any = None,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
    options: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Run ``names`` and return the full report (machine, rows, per-module status);
    ``on_progress`` receives the report so far after each module (e.g. to save it)."""
    available = discover(package)
    machine = machine_info(with_gpu=device is not None and device != "cpu")
    started = _dt.datetime.now(_dt.timezone.utc)
    start = time.perf_counter()
    cpu_start = _cpu_seconds()
    rows: list[dict[str, Any]] = []
    modules: dict[str, Any] = {}

    def report() -> dict[str, Any]:
        return {
            "schema": 1,
            "command": "python -m benchmarks " + " ".join(sys.argv[1:]),
            "quick": quick,
            "device": device or "cpu",
            "options": options or {},
            "started_utc": started.isoformat(timespec="seconds"),
            "wall_s": time.perf_counter() - start,
            "cpu_s": _cpu_seconds() - cpu_start,
            "machine": machine | {"load_average_end": _load()},
            "modules": dict(modules),
            "rows": list(rows),
        }

    for name in names:
        if log is not None:
            log(f"running {name} ...")
        module_rows, status = run_one(
            name,
            available.get(name),
            quick=quick,
            device=device,
            repeats=repeats,
            log=log,
            options=(options or {}).get(name),
        )
        modules[name] = status
        rows.extend(finish_row(row, machine, device) for row in module_rows)
        if log is not None:
            log(
                f"  {name}: {status['status']} ({status.get('wall_s', 0):.1f} s wall, "
                f"{status.get('cpu_s', 0):.1f} s CPU)"
            )
        if on_progress is not None:
            on_progress(report() | {"partial": True})
    return report()


def _load() -> Any:
    from benchmarks.common import load_average

    return load_average()


# ------------------------------------------------------------------------------------------
# Output
# ------------------------------------------------------------------------------------------


def fmt_seconds(value: Any) -> str:
    """Seconds with a unit suited to their size."""
    if not isinstance(value, (int, float)):
        return ""
    if value < 1e-3:
        return f"{value * 1e6:.0f} µs"
    if value < 1:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"


def fmt_timing(row: dict[str, Any], prefix: str = "") -> str:
    """``median (min–max)`` of a row's timing (``prefix`` ``baseline_`` for the baseline)."""
    median = row.get(f"{prefix}median_s")
    if not isinstance(median, (int, float)):
        return ""
    text = fmt_seconds(median)
    lo, hi = row.get(f"{prefix}min_s"), row.get(f"{prefix}max_s")
    if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and hi > lo:
        text += f" ({fmt_seconds(lo)}–{fmt_seconds(hi)})"
    return text


def fmt_ratio(row: dict[str, Any]) -> str:
    """``0.97x thr`` (throughput ratio) or ``0.15x time`` (time ratio)."""
    ratio = row.get("ratio")
    if not isinstance(ratio, (int, float)):
        return ""
    if row.get("ratio_kind") == "slope":
        return f"slope {ratio:.2f}"
    kind = {"throughput": "thr", "time": "time"}.get(str(row.get("ratio_kind")), "")
    return f"{ratio:.2f}x {kind}".strip()


def fmt_throughput(row: dict[str, Any]) -> str:
    """Throughput with its unit, then TFLOP/s (and share of peak) where known."""
    parts = []
    thr = row.get("throughput")
    if isinstance(thr, (int, float)):
        unit = row.get("unit") or "items"
        parts.append(f"{thr:,.0f} {unit}/s" if thr >= 100 else f"{thr:.3g} {unit}/s")
    if isinstance(row.get("tflops"), (int, float)):
        text = f"{row['tflops']:.3g} TFLOP/s"
        if isinstance(row.get("peak_share"), (int, float)):
            text += f" ({row['peak_share']:.0%} of peak)"
        parts.append(text)
    return "; ".join(parts)


def fmt_met(row: dict[str, Any]) -> str:
    """``yes`` / ``NO`` / empty for a row's target."""
    met = row.get("target_met")
    return "" if met is None else ("yes" if met else "NO")


def fmt_rss(row: dict[str, Any]) -> str:
    """Peak RSS in MiB / GiB."""
    mb = row.get("peak_rss_mb")
    if not isinstance(mb, (int, float)):
        return ""
    return f"{mb / 1024:.2f} GiB" if mb >= 1024 else f"{mb:.0f} MiB"


COLUMNS = [
    ("benchmark", lambda r: str(r.get("benchmark", ""))),
    ("variant", lambda r: str(r.get("variant", ""))),
    ("time median (min–max)", fmt_timing),
    ("baseline", lambda r: str(r.get("baseline", ""))),
    ("baseline time", lambda r: fmt_timing(r, "baseline_")),
    ("ratio", fmt_ratio),
    ("throughput", fmt_throughput),
    ("peak RSS", fmt_rss),
    ("target", lambda r: str(r.get("target", "") or "")),
    ("met", fmt_met),
    ("notes", lambda r: str(r.get("notes", "") or "")),
]

RATIO_LEGEND = (
    "ratio 'thr' = variant throughput / baseline throughput (> 1: variant faster); "
    "ratio 'time' = variant time / baseline time (< 1: variant faster). "
    "Baselines are measured in the same run, interleaved where possible."
)


def render_table(report: dict[str, Any], console: Any = None) -> None:
    """Print the report's rows as a rich table."""
    from rich.console import Console
    from rich.table import Table

    if console is None:
        console = Console() if sys.stdout.isatty() else Console(width=220)
    table = Table(title="spec-harness benchmarks", show_lines=False)
    for title, _ in COLUMNS:
        table.add_column(title, overflow="fold")
    for row in report["rows"]:
        cells = [fn(row) for _, fn in COLUMNS]
        style = "red" if row.get("target_met") is False or row.get("status") else None
        table.add_row(*cells, style=style)
    console.print(table)
    console.print(RATIO_LEGEND)
    machine = report["machine"]
    console.print(
        f"machine: {machine.get('cpu')}, {machine.get('cores')} cores,"
        f" {machine.get('ram_gib')} GiB;"
        f" torch {machine.get('torch')}, transformers {machine.get('transformers')};"
        f" gpu {machine.get('gpu') or 'none'}; load {machine.get('load_average')}"
        f" -> {machine.get('load_average_end')}; total {report['wall_s']:.1f} s wall,"
        f" {report.get('cpu_s', 0):.1f} s CPU"
    )


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as a GitHub Markdown table (the same columns as the console table)."""
    lines = [
        "| " + " | ".join(title for title, _ in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in rows:
        cells = [fn(row).replace("|", "\\|").replace("\n", " ") for _, fn in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_json(report: dict[str, Any], path: Path) -> None:
    """Write the report as JSON (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Run the spec-harness benchmark suite."
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes (< 5 min on 2 cores)")
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="run only NAME (repeat or comma-separate)"
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write JSON")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown here")
    parser.add_argument(
        "--device",
        default=None,
        help="device passed to benchmarks that accept one (cpu, cuda); cuda runs models in bf16",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="re-runs of modules that return single timings"
    )
    parser.add_argument(
        "--option",
        action="append",
        metavar="NAME.KEY=VALUE",
        help="keyword passed to one module's run(), e.g. models.minilm=false (repeatable)",
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks``."""
    args = parse_args(argv)
    available = discover()
    if args.list:
        for name in select_names(available, None, list(EXPECTED)):
            state = "" if name in available else "  (not available)"
            print(f"{name:10s} {EXPECTED.get(name, available.get(name, ''))}{state}")
        return 0
    names = select_names(available, args.only, list(EXPECTED))

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    report = run_benchmarks(
        names,
        quick=args.quick,
        device=args.device,
        repeats=max(1, args.repeats),
        log=log,
        on_progress=lambda partial: write_json(partial, args.json),
        options=parse_options(args.option),
    )
    render_table(report)
    write_json(report, args.json)
    print(f"wrote {args.json}")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown_table(report["rows"]), encoding="utf-8")
        print(f"wrote {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
