"""Per-case held-out outcomes read from ``samples.jsonl``, for the paired tests.

A :class:`CaseTable` holds, per model, seed and spec, which held-out cases the model failed
(prediction != spec label), aligned on one case order per spec, each case's template (the
bootstrap's cluster), and which models trained on each case's text (``seen_by``, written by the
runner's leakage check). Rows are matched by case id, so rows of the same case from several
files (runs paired by ``harness report``) merge into one case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class CaseTable:
    """Held-out failures per model, seed and spec, aligned on the case order of each spec.

    ``templates[spec]``: each case's template id; ``fails[model][seed][spec]``: a boolean array
    (``True`` = failed); ``seen_by[seed][spec]``: for each case the models that trained on its
    text (only kept for the seeds and specs where some case was seen).
    """

    templates: dict[str, list[str]] = field(default_factory=dict)
    fails: dict[str, dict[int, dict[str, np.ndarray]]] = field(default_factory=dict)
    seen_by: dict[int, dict[str, list[frozenset[str]]]] = field(default_factory=dict)

    def get(self, model: str, seed: int, spec: str) -> np.ndarray | None:
        """Failures of ``model`` with ``seed`` on ``spec`` (``None`` when not recorded)."""
        return self.fails.get(model, {}).get(seed, {}).get(spec)

    def unseen(self, models: Iterable[str], seed: int, spec: str) -> np.ndarray | None:
        """Mask of the cases of ``spec`` that none of ``models`` trained on at ``seed``
        (``None`` when every case is unseen by all of them)."""
        seen = self.seen_by.get(seed, {}).get(spec)
        if seen is None:
            return None
        wanted = set(models)
        mask = np.array([not (wanted & who) for who in seen], dtype=bool)
        return None if mask.all() else mask


def case_table(samples: Iterable[dict[str, Any]]) -> CaseTable:
    """Build a :class:`CaseTable` from ``samples.jsonl`` rows (only ``set == "heldout"``).

    A model's failures on a spec at a seed are kept only when it has a prediction for every case
    of that spec (so that the two sides of a comparison are scored on the same cases). A row
    without ``seen_by`` (older runs) counts as seen by nobody.
    """
    order: dict[str, dict[str, int]] = {}
    templates: dict[str, list[str]] = {}
    raw: dict[tuple[str, int, str], dict[int, bool]] = {}
    seen: dict[tuple[int, str], dict[int, set[str]]] = {}
    for row in samples:
        if row.get("set") != "heldout" or "spec_id" not in row:
            continue
        seed, spec = int(row["seed"]), str(row["spec_id"])
        index_of = order.setdefault(spec, {})
        case_id = str(row["id"])
        index = index_of.get(case_id)
        if index is None:
            index = index_of[case_id] = len(index_of)
            templates.setdefault(spec, []).append(str(row.get("template_id") or f"case:{case_id}"))
        label = row.get("label")
        for model, prediction in (row.get("predictions") or {}).items():
            raw.setdefault((str(model), seed, spec), {})[index] = prediction != label
        who = row.get("seen_by") or []
        if who:
            seen.setdefault((seed, spec), {}).setdefault(index, set()).update(map(str, who))
    table = CaseTable(templates=templates)
    for (model, seed, spec), values in raw.items():
        size = len(order[spec])
        if len(values) != size:
            continue  # predictions missing for some cases: not comparable
        arr = np.zeros(size, dtype=bool)
        arr[list(values)] = list(values.values())
        table.fails.setdefault(model, {}).setdefault(seed, {})[spec] = arr
    empty: frozenset[str] = frozenset()
    for (seed, spec), who_by_index in seen.items():
        column = [empty] * len(order[spec])
        for index, who in who_by_index.items():
            column[index] = frozenset(who)
        table.seen_by.setdefault(seed, {})[spec] = column
    return table
