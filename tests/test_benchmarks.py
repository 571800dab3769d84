"""The benchmark runner's mechanics: statistics helpers, targets, subprocess RSS, discovery and
normalisation with fake benchmark modules. No speed assertions: targets live in benchmarks/."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks import __main__ as runner
from benchmarks import common


def test_summarize_median_min_max() -> None:
    assert common.summarize([3.0, 1.0, 2.0]) == {
        "median_s": 2.0,
        "min_s": 1.0,
        "max_s": 3.0,
        "repeats": 3,
    }
    assert common.summarize([4.0, 1.0])["median_s"] == 2.5
    with pytest.raises(ValueError):
        common.summarize([])


def test_measure_warms_up_then_repeats() -> None:
    calls: list[int] = []
    timing = common.measure(lambda: calls.append(1), repeats=4, warmup=2)
    assert len(calls) == 6
    assert len(timing.samples) == 4
    assert timing.min <= timing.median <= timing.max
    with pytest.raises(ValueError):
        common.measure(lambda: None, repeats=0)


def test_measure_pair_interleaves() -> None:
    order: list[str] = []
    v, b = common.measure_pair(lambda: order.append("v"), lambda: order.append("b"), repeats=2)
    assert order == ["v", "b", "v", "b", "v", "b"]
    assert len(v.samples) == len(b.samples) == 2


def test_ratio_kinds() -> None:
    assert common.compute_ratio(2.0, 4.0, "throughput") == 2.0  # twice as fast
    assert common.compute_ratio(1.0, 5.0, "time") == 0.2
    assert common.compute_ratio(0.0, 1.0) is None
    with pytest.raises(ValueError):
        common.compute_ratio(1.0, 1.0, "speedup")


def test_make_row_has_ratio_and_throughput() -> None:
    row = common.make_row(
        "pred", "harness", "bare loop", [2.0, 1.0, 3.0], [1.0, 1.0], work=100, unit="texts",
        target="ratio >= 0.95",
    )  # fmt: skip
    assert row["median_s"] == 2.0 and row["baseline_median_s"] == 1.0
    assert row["ratio"] == 0.5 and row["ratio_kind"] == "throughput"
    assert row["throughput"] == 50.0 and row["baseline_throughput"] == 100.0
    assert common.check_target(row) is False


def test_check_target_conditions() -> None:
    row = {"median_s": 30.0, "peak_rss_mb": 5000.0, "ratio": 0.15}
    assert common.check_target(row, "ratio <= 0.2") is True
    assert common.check_target(row, "median_s < 60") is True
    assert common.check_target(row, "median_s < 60 and peak_rss_mb < 4096") is False
    assert common.check_target(row, "tflops > 1") is None
    assert common.check_target({}, None) is None
    with pytest.raises(ValueError):
        common.check_target(row, "ratio is small")


def test_loglog_slope() -> None:
    xs = [10.0, 50.0, 200.0]
    assert common.loglog_slope(xs, [3 * x for x in xs]) == pytest.approx(1.0)
    assert common.loglog_slope(xs, [x * x for x in xs]) == pytest.approx(2.0)
    assert common.loglog_slope([10.0], [1.0]) is None


def test_run_measured_reports_the_child_peak_rss() -> None:
    code = "import sys; b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096]); print('ok')"
    ballast = bytearray(300 * 2**20)  # this process's size must not leak into the child's peak
    ballast[::4096] = b"y" * len(ballast[::4096])
    small = common.run_measured([sys.executable, "-c", "print('ok')"])
    assert small.peak_rss_mb < 100
    big = common.run_measured([sys.executable, "-c", code])
    assert small.returncode == big.returncode == 0
    assert big.stdout.strip() == "ok"
    assert big.peak_rss_mb > small.peak_rss_mb + 150
    failed = common.run_measured([sys.executable, "-c", "import sys; sys.exit(3)"])
    assert failed.returncode == 3
    with pytest.raises(RuntimeError):
        failed.check("child")
    slow = common.run_measured([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert slow.returncode == -9 and slow.wall_s < 10


def test_machine_info_without_gpu() -> None:
    info = common.machine_info(with_gpu=False)
    assert info["cores"] and info["python"]
    assert info["gpu"] is None
    assert common.gpu_peak_tflops("NVIDIA H100 80GB HBM3") == 989.0
    assert common.gpu_peak_tflops("Some CPU") is None


FAKE_ROWS = """
from benchmarks.common import make_row
SEEN = []
def run(quick, device=None, tag="x"):
    SEEN.append((quick, device, tag))
    return {"rows": [make_row("fake", "fast", "slow", [1.0, 2.0, 3.0], [4.0, 4.0],
                              work=10, unit="items", target="ratio >= 1.5",
                              flops=4e12, device=device)]}
"""
FAKE_FLAT = """
CALLS = []
def run(quick):
    CALLS.append(quick)
    return {"compile_s": float(len(CALLS)), "cases": 10, "target_compile_s": 2.5}
"""
FAKE_BROKEN = "import a_module_that_does_not_exist_anywhere\n"
FAKE_FAILS = "def run(quick):\n    raise RuntimeError('boom')\n"


@pytest.fixture()
def fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A package with four fake benchmark modules (and one non-benchmark module)."""
    name = "fakebench_pkg"
    pkg = tmp_path / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helpers.py").write_text("X = 1\n")
    for module, text in {
        "bench_rows": FAKE_ROWS,
        "bench_flat": FAKE_FLAT,
        "bench_broken": FAKE_BROKEN,
        "bench_fails": FAKE_FAILS,
    }.items():
        (pkg / f"{module}.py").write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[mod]


def test_discover_finds_bench_modules_only(fake_package: str) -> None:
    found = runner.discover(fake_package)
    assert list(found) == ["broken", "fails", "flat", "rows"]
    assert found["rows"] == f"{fake_package}.bench_rows"


def test_select_names() -> None:
    available = {"a": "p.bench_a", "z": "p.bench_z"}
    assert runner.select_names(available, None, ["b", "a"]) == ["b", "a", "z"]
    assert runner.select_names(available, ["z,a"], ["b"]) == ["z", "a"]
    with pytest.raises(SystemExit):
        runner.select_names(available, ["nope"], ["b"])


def test_run_benchmarks_normalises_every_kind_of_module(fake_package: str) -> None:
    report = runner.run_benchmarks(
        ["rows", "flat", "broken", "fails", "missing"],
        quick=True,
        device="cuda",
        repeats=3,
        package=fake_package,
    )
    by = {r["benchmark"]: r for r in report["rows"]}
    assert report["modules"]["rows"]["status"] == "ok"

    rows = by["fake"]
    assert rows["median_s"] == 2.0 and rows["ratio"] == 2.0 and rows["target_met"] is True
    assert rows["tflops"] == pytest.approx(2.0)  # 4e12 FLOPs in 2 s
    mod = sys.modules[f"{fake_package}.bench_rows"]
    assert mod.SEEN == [(True, "cuda", "x")]  # device passed to a module that accepts it

    flat = by["flat"]  # re-run 3 times: compile_s was 1, 2, 3
    assert flat["variant"] == "compile"
    assert (flat["median_s"], flat["min_s"], flat["max_s"]) == (2.0, 1.0, 3.0)
    assert flat["target"] == "median_s < 2.5" and flat["target_met"] is True
    assert "cases=10" in flat["notes"]

    assert by["broken"]["status"] == "not available"
    assert "a_module_that_does_not_exist_anywhere" in by["broken"]["notes"]
    assert by["fails"]["status"] == "failed" and "boom" in by["fails"]["notes"]
    assert by["missing"]["status"] == "not available"
    assert report["modules"]["missing"]["status"] == "not available"


def test_outputs_json_and_markdown(fake_package: str, tmp_path: Path) -> None:
    partial: list[dict] = []
    report = runner.run_benchmarks(
        ["rows", "flat"], quick=True, package=fake_package, on_progress=partial.append
    )
    assert [len(p["modules"]) for p in partial] == [1, 2] and partial[0]["partial"]
    path = tmp_path / "out" / "r.json"
    runner.write_json(report, path)
    data = json.loads(path.read_text())
    assert data["rows"][0]["ratio"] == 2.0 and data["quick"] is True
    table = runner.markdown_table(report["rows"])
    lines = table.strip().splitlines()
    assert len(lines) == 4 and "2.00x thr" in lines[2] and "yes" in lines[2]
    assert runner.fmt_timing(report["rows"][0]) == "2.00 s (1.00 s–3.00 s)"


def test_cli_list_names_expected_benchmarks(capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.main(["--list"]) == 0
    out = capsys.readouterr().out
    for name in ("e2e", "selection", "patch", "specs", "models"):
        assert name in out


def test_models_adapter_rows_and_targets() -> None:
    from benchmarks.adapters import find_adapter

    result = {
        "device": "cpu",
        "results": [
            {
                "model": "tiny",
                "texts": 1000,
                "mean_tokens": 20.0,
                "batch_size": 64,
                "predict_texts_per_s": {"harness": 500.0, "bare_loop": 510.0, "pipeline": 250.0},
                "predict_ratio_vs_bare": 0.98,
                "predict_ratio_vs_pipeline": 2.0,
                "max_abs_prob_diff_vs_bare": 1e-7,
                "train_texts": 256,
                "train_batch_size": 32,
                "train_texts_per_s": {"harness": 100.0, "bare_loop": 125.0},
                "train_ratio_vs_bare": 0.8,
            }
        ],
    }
    adapter = find_adapter("models", result)
    assert adapter is not None and not adapter.repeat
    assert find_adapter("models", {"rows": []}) is None
    machine = {"gpu": None}
    rows = [runner.finish_row(r, machine, None) for r in adapter.to_rows([result], True)]
    assert [(r["baseline"], r["ratio"], r["target_met"]) for r in rows] == [
        ("bare torch loop", 0.98, True),
        ("transformers.pipeline", 2.0, True),
        ("bare torch loop", 0.8, False),
    ]
    assert rows[0]["median_s"] == pytest.approx(2.0)  # 1000 texts at 500/s
    assert "tflops" not in rows[0]  # no encoder shape known for "tiny"
    result["results"][0]["model"] = "tiny-bert (2x64)"
    row = runner.finish_row(adapter.to_rows([result], True)[0], machine, None)
    # 2 * (12 * 2 * 64**2) weights * 1000 texts * 20 tokens in 2 s
    assert row["tflops"] == pytest.approx(2 * 12 * 2 * 64**2 * 1000 * 20 / 2.0 / 1e12)


def test_specs_adapter_measures_a_jinja2_baseline() -> None:
    pytest.importorskip("benchmarks.bench_specs")
    from benchmarks.adapters import find_adapter, plain_jinja2_render

    assert plain_jinja2_render(2, 10)() == 40
    results = [
        {"specs": 2, "cases": 40, "compile_s": s, "check_s": 0.1, "target_compile_s": 5.0}
        for s in (0.3, 0.1, 0.2)
    ]
    adapter = find_adapter("specs", results[0])
    assert adapter is not None and adapter.repeat
    compile_row, check_row = adapter.to_rows(results, True)
    assert compile_row["median_s"] == 0.2 and compile_row["baseline_median_s"] > 0
    assert compile_row["ratio_kind"] == "throughput" and "target" not in compile_row  # < 100k
    assert check_row["ratio"] == pytest.approx(0.5)


def test_e2e_names_models_whose_metrics_differ() -> None:
    from benchmarks.bench_e2e import _differences

    ref = {"M0": "a", "patch": "b"}
    assert _differences(ref, [dict(ref), dict(ref)]) == "identical"
    assert _differences(ref, [{"M0": "a", "patch": "c"}]) == "DIFFERENT for patch"


def test_options_reach_the_named_module(fake_package: str) -> None:
    options = runner.parse_options(['rows.tag="y"', "flat.nope=1"])
    assert options == {"rows": {"tag": "y"}, "flat": {"nope": 1}}
    assert runner.parse_options(["models.minilm=false"]) == {"models": {"minilm": False}}
    with pytest.raises(SystemExit):
        runner.parse_options(["minilm=false"])
    report = runner.run_benchmarks(
        ["rows", "flat"], quick=False, package=fake_package, options=options
    )
    assert sys.modules[f"{fake_package}.bench_rows"].SEEN[-1] == (False, None, "y")
    flat = [r for r in report["rows"] if r["benchmark"] == "flat"][0]
    assert flat["status"] == "failed" and "no option 'nope'" in flat["notes"]
