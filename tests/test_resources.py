"""The peak-memory benchmark of spec-guided selection (``benchmarks/bench_resources.py``), run on a
small pool: every measurement runs in its own subprocess and reports that process's peak RSS."""

from __future__ import annotations

import pytest

from benchmarks import bench_resources
from benchmarks.common import check_target


def test_quick_benchmark_measures_each_subprocess(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench_resources, "QUICK_POOL", 3000)
    result = bench_resources.run(quick=True)
    assert result["pool"] == 3000
    assert result["n_selected"] == bench_resources.BUDGET
    assert 0 < result["data_peak_rss_mb"] <= result["select_peak_rss_mb"] < 4096
    assert result["select_extra_mb"] == pytest.approx(
        result["select_peak_rss_mb"] - result["data_peak_rss_mb"], abs=0.2
    )
    variants = [row["variant"] for row in result["rows"]]
    assert variants[0].startswith("data floor") and variants[1].startswith("tfidf select")
    assert check_target(result["rows"][1]) is True
    assert "run_peak_rss_mb" not in result  # the end-to-end run is full mode only


def test_peak_rss_reads_only_the_measured_child() -> None:
    import sys

    small, _, _ = bench_resources.peak_rss([sys.executable, "-c", "pass"])
    big, _, _ = bench_resources.peak_rss(
        [sys.executable, "-c", "b = bytearray(300 * 2**20); b[::4096] = b'x' * len(b[::4096])"]
    )
    assert big - small > 250
