"""The ``hf`` model trains through accelerate: ``processes: 2`` (``accelerate launch --cpu
--num_processes 2``, DDP over gloo) and gradient accumulation give the single-process update
on a tiny BERT without dropout, up to float rounding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from harness.testing import make_tiny_bert
from harness_plugins.models.hf import HfArgs, HfModel

WEIGHT_TOLERANCE = 1e-5
"""Largest weight difference allowed: float rounding of summed gradients (DDP's all-reduce,
micro-batch sums) through 10 AdamW steps, against updates of about 1e-2."""


def train(folder: Path, **args: int) -> tuple[dict[str, torch.Tensor], np.ndarray]:
    texts = [f"a {'good' if i % 3 else 'bad'} thing number {i}" for i in range(75)]
    labels = np.array([int(i % 3 != 0) for i in range(75)])
    hf_args = HfArgs(pretrained=str(folder), epochs=2, batch_size=16, lr=1e-3, **args)
    model = HfModel(hf_args, 2, "cpu", label_names=["bad", "good"])
    model.fit(texts, labels, seed=3)
    state = {k: v.detach().clone() for k, v in model.module.state_dict().items()}
    return state, model.predict_proba(texts)


@pytest.mark.slow
def test_data_parallel_and_accumulation_match_one_process(tmp_path: Path) -> None:
    folder = make_tiny_bert(tmp_path / "bert", ["good", "bad", "thing", "a", "number"], dropout=0.0)
    initial = {
        k: v for k, v in HfModel(HfArgs(pretrained=str(folder)), 2).module.state_dict().items()
    }
    one, p_one = train(folder)
    moved = max((one[k] - initial[k]).abs().max().item() for k in one if k in initial)
    assert moved > 1e-3, "training moved the weights"
    for variant in ({"processes": 2}, {"gradient_accumulation_steps": 3}):
        other, p_other = train(folder, **variant)
        diff = max((one[k] - other[k]).abs().max().item() for k in one)
        assert diff < WEIGHT_TOLERANCE, (variant, diff)
        assert np.abs(p_one - p_other).max() < 1e-4
        assert (p_one.argmax(1) == p_other.argmax(1)).all()
