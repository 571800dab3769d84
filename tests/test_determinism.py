"""Determinism: the same config and seeds give byte-identical ``results.json`` (apart from the
``timing`` block) and ``samples.jsonl`` on CPU, even across processes with different hash seeds
and thread counts, and with a fresh cache each time so that everything is really retrained."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.plugins import load_registries

HARNESS = [sys.executable, "-c", "from harness.cli import main; main()"]


CONFIG = """\
limit: 300
seeds: 2
budget: 40
device: cpu
model_args: {epochs: 3}
interventions:
  - {name: retrain, params: {selection: tfidf}}
  - {name: relabel, params: {method: rrf}}
"""
"""A small demo run with a spec-guided selection and a spec-based relabelling (where ties in
rankings would show nondeterminism)."""


def demo_args(tmp: Path) -> list[str]:
    """``run`` on :data:`CONFIG` (falls back to M0 only if the interventions are missing)."""
    path = tmp / "run.yaml"
    names = load_registries().interventions
    text = CONFIG if "retrain" in names and "relabel" in names else CONFIG.split("interv")[0]
    path.write_text(text, encoding="utf-8")
    return ["run", "-q", "--config", str(path)]


def run_in_subprocess(tmp: Path, name: str, hash_seed: str, threads: str) -> Path:
    """Run the demo in a fresh process with its own cache; return the run folder."""
    env = {
        **os.environ,
        "HARNESS_CACHE_DIR": str(tmp / f"cache-{name}"),
        "PYTHONHASHSEED": hash_seed,
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
    }
    out = tmp / f"out-{name}"
    done = subprocess.run(
        [*HARNESS, *demo_args(tmp), "--output-dir", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (run_dir,) = list(out.iterdir())
    return run_dir


def strip_timing(text: str) -> str:
    """The results file with only the ``timing`` block removed, re-serialised as written."""
    data = json.loads(text)
    assert set(data["timing"]) >= {"started", "finished"}
    data.pop("timing")
    return json.dumps(data, indent=2, sort_keys=True)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The same config run twice, in processes with different hash seeds and thread counts."""
    tmp = tmp_path_factory.mktemp("determinism")
    first = run_in_subprocess(tmp, "a", hash_seed="1", threads="1")
    second = run_in_subprocess(tmp, "b", hash_seed="2", threads="2")
    return tmp, first, second


def test_same_config_and_seed_give_identical_results(two_runs: tuple[Path, Path, Path]) -> None:
    tmp_path, first, second = two_runs
    assert first.name == second.name
    text_a = (first / "results.json").read_text(encoding="utf-8")
    text_b = (second / "results.json").read_text(encoding="utf-8")
    assert strip_timing(text_a) == strip_timing(text_b)
    assert (first / "samples.jsonl").read_bytes() == (second / "samples.jsonl").read_bytes()
    configs = [json.loads((d / "config.json").read_text(encoding="utf-8")) for d in two_runs[1:]]
    assert configs[0].pop("output_dir") != configs[1].pop("output_dir")
    assert configs[0] == configs[1]


def test_retrained_models_are_bit_identical(two_runs: tuple[Path, Path, Path]) -> None:
    tmp_path, _, _ = two_runs
    models_a = sorted(p.name for p in (tmp_path / "cache-a" / "models").iterdir())
    models_b = sorted(p.name for p in (tmp_path / "cache-b" / "models").iterdir())
    assert models_a == models_b and len(models_a) >= 2
    for key in models_a:
        weights_a = (tmp_path / "cache-a" / "models" / key / "model.safetensors").read_bytes()
        weights_b = (tmp_path / "cache-b" / "models" / key / "model.safetensors").read_bytes()
        assert weights_a == weights_b, f"model {key} differs between the two runs"


def test_results_json_is_written_canonically(two_runs: tuple[Path, Path, Path]) -> None:
    _, run_dir, _ = two_runs
    text = (run_dir / "results.json").read_text(encoding="utf-8")
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True) + "\n"
    for line in (run_dir / "samples.jsonl").read_text(encoding="utf-8").splitlines()[:50]:
        row = json.loads(line)
        assert line == json.dumps(row, ensure_ascii=False, sort_keys=True)
