"""Helpers shared by the benchmark modules and the runner.

Timing (warm-up then repeats, median / min / max), result rows with a ratio against a baseline
measured in the same run, peak RSS of a subprocess, log-log growth slopes, target checks and a
description of the machine. Nothing here imports torch at module level.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The repository root (the folder that holds ``benchmarks/``)."""

RATIO_KINDS = ("throughput", "time")
"""``throughput``: variant throughput / baseline throughput (> 1: the variant is faster);
``time``: variant time / baseline time (< 1: the variant is faster)."""

# Dense bf16 tensor-core peaks (TFLOP/s) of common cards, for the achieved-share column.
GPU_PEAK_BF16_TFLOPS: dict[str, float] = {
    "H200": 989.0,
    "H100 SXM": 989.0,
    "H100 80GB HBM3": 989.0,
    "H100 PCIe": 756.0,
    "H100": 756.0,
    "A100": 312.0,
    "L40S": 362.0,
    "L4": 121.0,
    "A10G": 70.0,
    "A10": 125.0,
    "T4": 65.0,
}


@dataclass
class Timing:
    """Wall times of repeated runs of the same work (after warm-up), in seconds."""

    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        """Median of the samples."""
        return float(statistics.median(self.samples))

    @property
    def min(self) -> float:
        """Fastest sample."""
        return float(min(self.samples))

    @property
    def max(self) -> float:
        """Slowest sample."""
        return float(max(self.samples))

    def summary(self, prefix: str = "") -> dict[str, float | int]:
        """``{median_s, min_s, max_s, repeats}`` (keys prefixed with ``prefix``)."""
        return {f"{prefix}{key}": value for key, value in summarize(self.samples).items()}


def summarize(samples: Sequence[float]) -> dict[str, float | int]:
    """Median, min and max of ``samples`` (seconds) and their count."""
    if not samples:
        raise ValueError("no samples to summarise")
    return {
        "median_s": float(statistics.median(samples)),
        "min_s": float(min(samples)),
        "max_s": float(max(samples)),
        "repeats": len(samples),
    }


def measure(fn: Callable[[], Any], *, repeats: int = 5, warmup: int = 1) -> Timing:
    """Call ``fn`` ``warmup`` times untimed, then ``repeats`` times timed."""
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return Timing(samples)


def measure_pair(
    variant: Callable[[], Any],
    baseline: Callable[[], Any],
    *,
    repeats: int = 5,
    warmup: int = 1,
) -> tuple[Timing, Timing]:
    """Time ``variant`` and ``baseline`` interleaved (v, b, v, b, ...), so that load from other
    processes on a shared machine hits both alike. Returns ``(variant, baseline)`` timings."""
    for _ in range(warmup):
        variant()
        baseline()
    v, b = Timing(), Timing()
    for _ in range(repeats):
        for fn, timing in ((variant, v), (baseline, b)):
            start = time.perf_counter()
            fn()
            timing.samples.append(time.perf_counter() - start)
    return v, b


def compute_ratio(variant_s: float, baseline_s: float, kind: str = "throughput") -> float | None:
    """The ratio of a variant to its baseline for the same work (see :data:`RATIO_KINDS`)."""
    if kind not in RATIO_KINDS:
        raise ValueError(f"unknown ratio kind {kind!r}")
    if variant_s <= 0 or baseline_s <= 0:
        return None
    return baseline_s / variant_s if kind == "throughput" else variant_s / baseline_s


def make_row(
    benchmark: str,
    variant: str,
    baseline: str,
    timing: Timing | Sequence[float],
    baseline_timing: Timing | Sequence[float] | None,
    *,
    ratio_kind: str = "throughput",
    work: float | None = None,
    unit: str = "",
    target: str | None = None,
    notes: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """One result row: the variant's timing, its baseline's timing and their ratio.

    ``work`` is the amount done per timed call (texts, steps, cases...) in ``unit``; it gives the
    throughput columns. ``target`` is a condition such as ``"ratio >= 0.95"`` or
    ``"median_s < 60 and peak_rss_mb < 4096"`` that the runner evaluates.
    """
    samples = timing.samples if isinstance(timing, Timing) else list(timing)
    row: dict[str, Any] = {"benchmark": benchmark, "variant": variant, "baseline": baseline}
    row.update(summarize(samples))
    if baseline_timing is not None:
        base = (
            baseline_timing.samples
            if isinstance(baseline_timing, Timing)
            else list(baseline_timing)
        )
        row.update({f"baseline_{k}": v for k, v in summarize(base).items()})
        row["ratio"] = compute_ratio(row["median_s"], row["baseline_median_s"], ratio_kind)
        row["ratio_kind"] = ratio_kind
    if work is not None:
        row["work"] = work
        row["unit"] = unit
        row["throughput"] = work / row["median_s"] if row["median_s"] > 0 else None
        if baseline_timing is not None and row["baseline_median_s"] > 0:
            row["baseline_throughput"] = work / row["baseline_median_s"]
    if target:
        row["target"] = target
    row["notes"] = notes
    row.update(extra)
    return row


def unavailable_row(benchmark: str, reason: str, status: str = "not available") -> dict[str, Any]:
    """A row saying that a benchmark could not run, and why."""
    return {
        "benchmark": benchmark,
        "variant": status,
        "baseline": "",
        "status": status,
        "notes": reason,
    }


# ------------------------------------------------------------------------------------------
# Targets
# ------------------------------------------------------------------------------------------

_CONDITION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|<|>|==)\s*([-+0-9.eE]+)\s*$")


def check_target(row: dict[str, Any], target: str | None = None) -> bool | None:
    """Evaluate ``target`` (default ``row['target']``): conditions ``field op number`` joined by
    ``and``. Returns ``None`` when there is no target or a field is missing."""
    target = target if target is not None else row.get("target")
    if not target:
        return None
    result = True
    for part in re.split(r"\band\b", target):
        match = _CONDITION.match(part)
        if not match:
            raise ValueError(f"cannot read target condition {part.strip()!r}")
        name, op, raw = match.groups()
        value = row.get(name)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return None
        bound = float(raw)
        ok = {
            "<": value < bound,
            "<=": value <= bound,
            ">": value > bound,
            ">=": value >= bound,
            "==": value == bound,
        }[op]
        result = result and ok
    return result


# ------------------------------------------------------------------------------------------
# Subprocesses and memory
# ------------------------------------------------------------------------------------------


@dataclass
class ProcessResult:
    """What one measured subprocess did."""

    returncode: int
    wall_s: float
    peak_rss_bytes: int
    stdout: str
    stderr: str

    @property
    def peak_rss_mb(self) -> float:
        """Peak resident set size in MiB."""
        return self.peak_rss_bytes / 2**20

    def check(self, what: str) -> ProcessResult:
        """Raise ``RuntimeError`` with the stderr tail when the process failed."""
        if self.returncode != 0:
            tail = "\n".join(self.stderr.strip().splitlines()[-15:])
            raise RuntimeError(f"{what} exited {self.returncode}:\n{tail}")
        return self


_LAUNCHER = """
import json, os, sys, time
out, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
with open(out, "w") as f:
    json.dump({"code": code, "wall": wall, "maxrss": usage.ru_maxrss}, f)
"""
"""Runs the measured command from a small, fresh interpreter. Linux keeps the high-water RSS of
the process that forks across ``exec``, so a child forked straight from a big benchmark process
would report at least the parent's size; forked from this launcher (~10 MiB) it reports its own
peak (plus at most the launcher's few MiB)."""


def run_measured(
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout: float | None = None,
) -> ProcessResult:
    """Run ``args`` and return its wall time and its own peak RSS (``wait4`` rusage of that one
    process, spawned by a small launcher so that this process's size does not leak into it).
    Output is captured through temporary files; after ``timeout`` seconds the process group is
    killed and the return code is -9."""
    import signal

    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory(prefix="bench-rss-") as tmp,
    ):
        report = Path(tmp) / "rusage.json"
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(report), *args],
            stdout=out,
            stderr=err,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        outer_wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
        try:
            data = json.loads(report.read_text())
        except (OSError, ValueError):
            data = {"code": -9 if proc.returncode in (None, 0) else proc.returncode}
    scale = 1 if sys.platform == "darwin" else 1024
    return ProcessResult(
        int(data.get("code", -9)),
        float(data.get("wall", outer_wall)),
        int(data.get("maxrss", 0)) * scale,
        stdout,
        stderr,
    )


@dataclass
class CappedResult:
    """What one memory- and time-capped subprocess did (see :func:`run_capped`)."""

    returncode: int
    """Exit status, or minus the signal number that ended the process."""
    wall_s: float
    peak_rss_bytes: int
    timed_out: bool
    stdout: str
    stderr: str

    @property
    def peak_rss_mb(self) -> float:
        """Peak resident set size in MiB."""
        return self.peak_rss_bytes / 2**20

    @property
    def out_of_memory(self) -> bool:
        """Whether the process died of the address-space cap (``MemoryError`` or a signal)."""
        return not self.timed_out and (
            "MemoryError" in self.stderr
            or "std::bad_alloc" in self.stderr
            or "Cannot allocate memory" in self.stderr
            or self.returncode < 0
        )

    def last_line(self) -> str:
        """The last non-empty line of stderr (the one-line error, or a traceback's last line)."""
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else ""


_CAPPED_LAUNCHER = """
import json, os, resource, signal, sys, time
out, limit, timeout, argv = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        if limit > 0:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        os.execvpe(argv[0], argv, os.environ)
    finally:
        os._exit(127)
timed_out = False
while True:
    done, status, usage = os.wait4(pid, os.WNOHANG)
    if done:
        break
    if time.perf_counter() - start > timeout:
        os.kill(pid, signal.SIGKILL)
        timed_out = True
        _, status, usage = os.wait4(pid, 0)
        break
    time.sleep(0.02)
wall = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
with open(out, "w") as f:
    json.dump({"code": code, "wall": wall, "maxrss": usage.ru_maxrss, "timed_out": timed_out}, f)
"""
"""Forks the measured command from a small interpreter, caps its address space
(``RLIMIT_AS``) before ``exec``, kills it after ``timeout`` seconds and reports its own
``wait4`` rusage (peak RSS) either way."""


def run_capped(
    args: Sequence[str],
    *,
    address_space_bytes: int,
    timeout: float,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
) -> CappedResult:
    """Run ``args`` with its address space capped at ``address_space_bytes`` and killed after
    ``timeout`` seconds; return its exit status, wall time, peak RSS and output. A hostile
    input that makes the command grow without bound then ends in ``MemoryError`` (or a signal)
    at the cap instead of exhausting the machine."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory(prefix="bench-capped-") as tmp,
    ):
        report = Path(tmp) / "rusage.json"
        launcher = [sys.executable, "-I", "-S", "-c", _CAPPED_LAUNCHER, str(report)]
        proc = subprocess.Popen(
            [*launcher, str(address_space_bytes), str(timeout), *args],
            stdout=out,
            stderr=err,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=timeout + 30)
        except subprocess.TimeoutExpired:
            import signal

            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
        try:
            data = json.loads(report.read_text())
        except (OSError, ValueError):
            data = {"code": -9, "wall": timeout, "maxrss": 0, "timed_out": True}
    scale = 1 if sys.platform == "darwin" else 1024
    return CappedResult(
        int(data["code"]),
        float(data["wall"]),
        int(data["maxrss"]) * scale,
        bool(data["timed_out"]),
        stdout,
        stderr,
    )


def python_command(*args: str) -> list[str]:
    """``[python, *args]`` with the interpreter running the benchmarks."""
    return [sys.executable, *args]


def harness_command(*args: str) -> list[str]:
    """The ``harness`` CLI run by this interpreter (no reliance on PATH)."""
    return [sys.executable, "-c", "from harness.cli import main; main()", *args]


# ------------------------------------------------------------------------------------------
# Growth
# ------------------------------------------------------------------------------------------


def loglog_slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Least-squares slope of log(y) against log(x): ~1 means cost grows linearly with x,
    ~2 quadratically. ``None`` with fewer than two usable points."""
    points = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    if len(points) < 2:
        return None
    mx = sum(p[0] for p in points) / len(points)
    my = sum(p[1] for p in points) / len(points)
    sxx = sum((p[0] - mx) ** 2 for p in points)
    if sxx == 0:
        return None
    return sum((p[0] - mx) * (p[1] - my) for p in points) / sxx


# ------------------------------------------------------------------------------------------
# Machine
# ------------------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def gpu_name(import_torch: bool = True) -> str | None:
    """The first CUDA device's name, or ``None`` (imports torch only if ``import_torch``)."""
    if not import_torch:
        return None
    try:
        import torch

        if torch.cuda.is_available():
            return str(torch.cuda.get_device_name(0))
    except Exception:  # noqa: BLE001 - a broken CUDA setup just means "no GPU"
        return None
    return None


def gpu_peak_tflops(name: str | None) -> float | None:
    """Dense bf16 peak TFLOP/s of a known card (by name), else ``None``."""
    if not name:
        return None
    for key, value in GPU_PEAK_BF16_TFLOPS.items():
        if key.lower() in name.lower():
            return value
    return None


def load_average() -> tuple[float, float, float] | None:
    """The 1/5/15-minute load averages (a hint that other work shared the machine)."""
    try:
        return os.getloadavg()
    except OSError:
        return None


def machine_info(with_gpu: bool = True) -> dict[str, Any]:
    """CPU model, cores, RAM, OS, Python and library versions, GPU name (if any), load."""
    ram = _ram_bytes()
    gpu = gpu_name(with_gpu)
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": round(ram / 2**30, 1) if ram else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "torch": _version("torch"),
        "transformers": _version("transformers"),
        "scikit-learn": _version("scikit-learn"),
        "numpy": _version("numpy"),
        "spec-harness": _version("spec-harness"),
        "gpu": gpu,
        "gpu_peak_bf16_tflops": gpu_peak_tflops(gpu),
        "load_average": load_average(),
    }
