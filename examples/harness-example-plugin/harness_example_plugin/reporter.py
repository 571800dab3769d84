"""The ``failure-csv`` reporter: one CSV row per run, model and spec."""

from __future__ import annotations

import csv
import io
from typing import Any

from harness.api import Reporter

COLUMNS = ["run_id", "model", "spec", "label", "n", "failures", "failure_rate"]


class FailureCsvReporter(Reporter):
    """Held-out failure counts and rates summed over seeds, as CSV (for spreadsheets)."""

    name = "failure-csv"
    description = "held-out failures per run, model and spec as CSV (example plugin)"
    suffix = ".csv"

    def render(self, runs: list[Any]) -> str:
        """Return the CSV text for ``runs`` (:class:`harness.results.RunResult` objects)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        for run in runs:
            labels = {spec.id: spec.label for spec in run.specs}
            for model in run.models:
                for spec_id, label in labels.items():
                    scores = [s.heldout[spec_id] for s in model.seeds if spec_id in s.heldout]
                    if not scores:
                        continue
                    n = sum(score.n for score in scores)
                    failures = sum(score.failures for score in scores)
                    rate = f"{failures / n:.4f}" if n else ""
                    writer.writerow([run.run_id, model.id, spec_id, label, n, failures, rate])
        return buffer.getvalue()
