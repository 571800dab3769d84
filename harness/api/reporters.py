"""Report formats: :class:`Reporter`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

from harness.api.items import Item

if TYPE_CHECKING:
    from harness.report_views import ReportOptions
    from harness.results import RunResult


class Reporter(Item, ABC):
    """Renders one or more run results (``harness report --format NAME``).

    ``harness report`` finds a reporter by ``--format`` (its :attr:`name` or one of its
    :attr:`aliases`), or else by the suffix of ``-o FILE`` (:attr:`suffix` or one of
    :attr:`suffixes`). It receives :class:`harness.results.RunResult` objects (the schema is
    below). Register the class.

    Example::

        import csv
        import io

        import harness
        from harness.api import Register, Reporter


        class FailureCsv(Reporter):
            name = "failure-csv"
            description = "held-out failures per run, model and spec as CSV"
            suffix = ".csv"  # harness report RUN -o fr.csv picks it

            def render(self, runs):
                out = io.StringIO()
                writer = csv.writer(out, lineterminator="\\n")
                writer.writerow(["run_id", "model", "spec", "failure_rate"])
                for run in runs:
                    for model in run.models:
                        for spec_id, fr in model.aggregate.heldout_fr.items():
                            writer.writerow([run.run_id, model.id, spec_id, f"{fr:.4f}"])
                return out.getvalue()


        @harness.hookimpl
        def register_reporters(register: Register[type[Reporter]]) -> None:
            register(FailureCsv)
    """

    suffix: ClassVar[str] = ".txt"
    """The suffix of the files it writes: ``-o FILE`` with this suffix picks it."""
    suffixes: ClassVar[tuple[str, ...]] = ()
    """Further suffixes ``-o FILE`` picks it for (e.g. ``.htm`` beside ``.html``). A suffix two
    reporters claim is refused in one line naming both (use ``--format``)."""
    aliases: ClassVar[tuple[str, ...]] = ()
    """Other names ``--format`` accepts for it (e.g. ``md`` for ``markdown``)."""
    takes_options: ClassVar[bool] = False
    """Whether it renders :attr:`options`: ``harness report`` then sets them before
    :meth:`render` (``--ci``, ``--group-by``, and ``--examples`` failing held-out cases read
    from each run's ``samples.jsonl``)."""
    options: ReportOptions
    """The ``harness report`` options (set only when :attr:`takes_options`; a reporter that
    renders them sets defaults in its ``__init__`` for use outside the command)."""

    @classmethod
    def claimed_suffixes(cls) -> tuple[str, ...]:
        """Every suffix ``-o FILE`` picks this reporter for, lower case."""
        return tuple(dict.fromkeys(s.lower() for s in (cls.suffix, *cls.suffixes) if s))

    @abstractmethod
    def render(self, runs: list[RunResult]) -> str:
        """Return the report text for ``runs``: every run's :class:`harness.results.RunResult`
        (analysed: ``comparisons`` and ``checks`` filled; runs that share M0 arrive merged
        into one)."""
