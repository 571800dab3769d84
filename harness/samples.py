"""The rows of ``samples.jsonl``: every test case and every spec case with each model's
prediction, per seed (held-out rows also say which models trained on their text,
``seen_by``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.api import Spec, Task
from harness.evaluation import Evaluation
from harness.specs.leakage import HeldoutIndex


def sample_rows(
    task: Task,
    specs: list[Spec],
    seeds: list[int],
    evaluations: Mapping[str, Mapping[int, Evaluation]],
    seen: Mapping[str, Mapping[int, frozenset[str]]],
    heldout_index: HeldoutIndex,
) -> list[dict[str, Any]]:
    """The rows for ``evaluations`` (row label -> seed -> evaluation, in row order) and
    ``seen`` (row label -> seed -> the normalised held-out texts that row's model trained
    on)."""
    names = task.label_names
    out: list[dict[str, Any]] = []
    for seed in seeds:
        evs = {label: by_seed[seed] for label, by_seed in evaluations.items() if seed in by_seed}

        def preds(getter: Any, index: int, _evs: dict[str, Evaluation] = evs) -> dict[str, str]:
            return {label: names[int(getter(ev)[index])] for label, ev in _evs.items()}

        for i, (case_id, text, gold) in enumerate(
            zip(task.test.ids, task.test.texts, task.test.labels, strict=True)
        ):
            out.append(
                {
                    "seed": seed,
                    "set": "test",
                    "id": case_id,
                    "text": text,
                    "label": names[int(gold)],
                    "predictions": preds(lambda ev: ev.test_predictions, i),
                }
            )
        seen_now = {label: by_seed[seed] for label, by_seed in seen.items() if seed in by_seed}
        for spec in specs:
            keys = heldout_index.keys[spec.id]
            for set_name, cases, attr in (
                ("heldout", spec.heldout_cases, "heldout_predictions"),
                ("train_case", spec.train_cases, "train_case_predictions"),
            ):
                for i, case in enumerate(cases):
                    row_out = {
                        "seed": seed,
                        "set": set_name,
                        "id": case.id,
                        "spec_id": spec.id,
                        "template_id": case.template_id,
                        "text": case.text,
                        "label": spec.label,
                        "predictions": preds(
                            lambda ev, _a=attr, _s=spec.id: getattr(ev, _a)[_s], i
                        ),
                    }
                    if set_name == "heldout":
                        key = keys[i]
                        row_out["seen_by"] = [
                            label for label, texts in seen_now.items() if key and key in texts
                        ]
                    out.append(row_out)
    return out
