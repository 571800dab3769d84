"""Patch clamp overhead: one constrained optimiser step (forward, backward, Adam step, then the
L-infinity clamp of ``plugins/interventions/patch.py``) relative to the same step unclamped.

Two models: ``bow`` (the demo model, ~1M weights, all tuned) and a tiny random BERT built
offline (2 layers, hidden 128, a WordPiece vocabulary written to a temporary folder), run through
the ``hf`` model plugin when it is installed, else through ``BertForSequenceClassification``
directly. Bounds come from ``patch.ball_bounds`` and the clamp is the statement ``patch.apply``
runs after every step; a second variant uses an in-place ``clamp_`` for comparison. Steps of
each variant alternate, timed in CPU seconds of this process with one torch thread (the machine
may be shared); each timing sample is the median step of a block of steps.

Run alone: ``python -m benchmarks --only patch``.
"""

from __future__ import annotations

import random
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import Timing, make_row
from harness.testing import make_tiny_bert

TEXTS_SEED = 0


def demo_texts(n: int) -> tuple[list[str], list[int]]:
    """``n`` demo-task texts and labels."""
    from harness_plugins.tasks.demo import generate

    texts, labels, _ = generate(n, random.Random(TEXTS_SEED))
    return texts, labels


def _bow() -> tuple[Any, Callable[[Sequence[str]], Any], str]:
    from harness_plugins.models.bow import BowArgs, BowModel

    model = BowModel(BowArgs(), 2, "cpu")
    named = dict(model.module.named_parameters())
    return [named[n] for n in model.parameter_names("all")], model.logits, "bow (all weights)"


def _bert(folder: Path, texts: Sequence[str]) -> tuple[Any, Callable[[Sequence[str]], Any], str]:
    words = sorted({w for t in texts for w in re.findall(r"[a-z0-9']+", t.lower())})
    make_tiny_bert(folder, words, hidden=128, intermediate=512)
    try:
        from harness_plugins.models.hf import HfArgs, HfModel
    except ImportError:
        HfModel = None  # noqa: N806
    if HfModel is not None:
        model = HfModel(HfArgs(pretrained=str(folder), max_length=64), 2, "cpu")
        named = dict(model.module.named_parameters())
        params = [named[n] for n in model.parameter_names("all")]
        return params, model.logits, "tiny BERT via hf plugin (all weights)"
    from transformers import BertForSequenceClassification, BertTokenizerFast

    tok = BertTokenizerFast.from_pretrained(str(folder))
    net = BertForSequenceClassification.from_pretrained(str(folder), num_labels=2)

    def logits(batch: Sequence[str]) -> Any:
        enc = tok(list(batch), padding=True, truncation=True, max_length=64, return_tensors="pt")
        return net(**enc).logits

    return list(net.parameters()), logits, "tiny BERT via transformers (all weights)"


def _bounds(params: Sequence[Any], delta: float) -> list[tuple[Any, Any]]:
    """``[θ0 - δ, θ0 + δ]`` per tensor, with patch.py's ``ball_bounds`` when it exists."""
    try:
        from harness_plugins.interventions.patch import ball_bounds
    except ImportError:
        ball_bounds = None
    out = []
    for p in params:
        theta0 = p.detach().clone()
        if ball_bounds is not None:
            out.append(ball_bounds(theta0, delta))
        else:
            out.append((theta0 - delta, theta0 + delta))
    return out


def measure_steps(
    params: Sequence[Any],
    logits: Callable[[Sequence[str]], Any],
    texts: Sequence[str],
    labels: Sequence[int],
    *,
    batch_size: int,
    steps: int,
    repeats: int,
    delta: float,
) -> dict[str, Timing]:
    """Per-step times (median over ``steps`` steps per block) of the unclamped step, the step
    followed by patch.py's clamp, and the step followed by an in-place ``clamp_``."""
    import torch

    for p in params:
        p.requires_grad_(True)
    optimiser = torch.optim.Adam(list(params), lr=1e-3)
    bounds = _bounds(params, delta)
    y_all = torch.as_tensor(list(labels), dtype=torch.long)
    batches = [
        (list(texts[i : i + batch_size]), y_all[i : i + batch_size])
        for i in range(0, len(texts) - batch_size + 1, batch_size)
    ]
    cursor = [0]

    def step() -> None:
        batch, y = batches[cursor[0] % len(batches)]
        cursor[0] += 1
        loss = torch.nn.functional.cross_entropy(logits(batch), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    def clamp_patch() -> None:  # the statement patch.apply runs after every step
        with torch.no_grad():
            for p, (low, high) in zip(params, bounds, strict=True):
                p.copy_(torch.clamp(p, min=low, max=high))

    def clamp_inplace() -> None:
        with torch.no_grad():
            for p, (low, high) in zip(params, bounds, strict=True):
                p.clamp_(min=low, max=high)

    variants: dict[str, Callable[[], None]] = {
        "unclamped": step,
        "clamped": lambda: (step(), clamp_patch()),
        "clamped_inplace": lambda: (step(), clamp_inplace()),
        "clamp_only": clamp_patch,
    }
    for fn in variants.values():  # warm-up
        for _ in range(3):
            fn()
    # Round-robin, one step of each variant in turn, timed in CPU seconds of this process with
    # one torch thread: on a shared machine, load from other processes then hits every variant
    # alike and barely shows in the figures.
    per_step: dict[str, list[float]] = {name: [] for name in variants}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(repeats * steps):
            for name, fn in variants.items():
                start = time.process_time()
                fn()
                per_step[name].append(time.process_time() - start)
    finally:
        torch.set_num_threads(threads)
    timings = {}
    for name, samples in per_step.items():
        blocks = [sorted(samples[i : i + steps]) for i in range(0, len(samples), steps)]
        timings[name] = Timing([b[len(b) // 2] for b in blocks])
    return timings


def _rows(model: str, timings: dict[str, Timing], n_weights: int, delta: float) -> list[dict]:
    base = timings["unclamped"]
    overhead = timings["clamped"].median / base.median - 1
    common = {"ratio_kind": "time", "work": 1, "unit": "steps", "tuned_weights": n_weights}
    return [
        make_row(
            "patch clamp",
            f"{model}: step + clamp (patch.py)",
            "unclamped step",
            timings["clamped"],
            base,
            notes=f"{n_weights:,} tuned weights, delta={delta:g}; overhead {overhead:+.1%} per "
            f"step; clamp alone {timings['clamp_only'].median * 1e3:.2f} ms",
            **common,
        ),
        make_row(
            "patch clamp",
            f"{model}: step + in-place clamp_",
            "unclamped step",
            timings["clamped_inplace"],
            base,
            notes="alternative: p.clamp_(min=low, max=high), no temporary tensor",
            **common,
        ),
    ]


def run(quick: bool) -> dict[str, Any]:
    """Clamped vs unclamped optimiser steps on bow and a tiny BERT."""
    import torch

    repeats = 3 if quick else 7
    texts, labels = demo_texts(2048)
    rows: list[dict[str, Any]] = []
    torch.manual_seed(0)
    params, logits, name = _bow()
    timings = measure_steps(
        params, logits, texts, labels, batch_size=32, steps=20, repeats=repeats, delta=0.01
    )
    rows += _rows(name, timings, sum(p.numel() for p in params), 0.01)
    with tempfile.TemporaryDirectory(prefix="bench-patch-bert-") as tmp:
        params, logits, name = _bert(Path(tmp), texts)
        timings = measure_steps(
            params,
            logits,
            texts,
            labels,
            batch_size=16,
            steps=6 if quick else 10,
            repeats=repeats,
            delta=5e-4,
        )
        rows += _rows(name, timings, sum(p.numel() for p in params), 5e-4)
    return {"rows": rows, "threads": torch.get_num_threads()}
