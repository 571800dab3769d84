"""Leakage and quality checks on loaded spec suites.

Run on every load (``flatten_specs``, ``harness run``) and by ``harness specs validate``. Errors:
a template id in both D_i and D_i_heldout of a spec, duplicate spec ids, labels outside the
task's (or suite's) label set, specs with no cases or no held-out cases. Warnings (errors with
``strict``): held-out cases whose text, verbatim or after normalisation
(:func:`harness.specs.normalise.normalise_text`), also occurs in some spec's D_i, in the task's
``train`` split, in a pool source or in the ``test`` split (see :mod:`harness.specs.leakage`).
Warnings: held-out sets smaller than ``min_heldout``, empty case texts, and held-out cases that
are near-duplicates (word n-gram Jaccard similarity >= ``near_threshold``) of a D_i case.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from harness.api import Spec, SpecSuite, Task
from harness.errors import UserError
from harness.results import LeakageReport
from harness.specs.leakage import (
    Corpus,
    SpecDetail,
    find_leakage,
    summary_line,
    task_corpora,
    worst_specs,
)

WORD = re.compile(r"\w+")
NORMALISATION = "case, punctuation, whitespace, URLs, @mentions"
"""How :func:`harness.specs.normalise.normalise_text` is named in one-line messages."""


@dataclass(frozen=True)
class Finding:
    """One problem found in a spec: an error or a warning, located by file, line and spec id."""

    level: Literal["error", "warning"]
    message: str
    spec_id: str | None = None
    file: str | None = None
    line: int | None = None
    fix: str | None = None
    kind: str = "check"
    """``leakage`` for held-out cases found elsewhere (and near-duplicates), else ``check``."""

    def to_error(self) -> UserError:
        """The finding as a :class:`UserError` (``file:line: spec-id: message; fix``)."""
        return UserError(
            self.message, file=self.file or None, line=self.line, field=self.spec_id, fix=self.fix
        )

    def one_line(self) -> str:
        """``file:line: spec-id: message; fix``."""
        return self.to_error().one_line()


@dataclass
class CheckOptions:
    """What to check against and how strictly."""

    label_names: Sequence[str] | None = None
    """The task's labels; ``None`` checks against each suite's own ``labels`` (if it has any)."""
    train_texts: Sequence[str] | None = None
    """The task's ``train`` texts: a held-out case with the same text is reported (ignored when
    ``task`` is given)."""
    task: Task | None = None
    """The task: held-out cases are checked against its train split, every pool source and its
    test split."""
    strict: bool = False
    """Identical texts across splits become errors instead of warnings."""
    min_heldout: int = 10
    """Fewer held-out cases than this is a warning (none at all is an error)."""
    ngram: int = 3
    """Word n-gram size for near-duplicates."""
    near_threshold: float = 0.8
    """Jaccard similarity of word n-gram sets at or above which two texts are near-duplicates."""


@dataclass
class SpecStats:
    """Counts for one spec (``harness specs stats``)."""

    spec_id: str
    suite: str
    label: str
    train_cases: int
    heldout_cases: int
    train_templates: int
    heldout_templates: int
    heldout_in_train_cases: int = 0
    """Held-out cases whose text (verbatim or normalised) is also a D_i case (of any spec)."""
    heldout_in_task_train: int = 0
    """Held-out cases whose text (verbatim or normalised) is in the task's ``train`` split."""
    near_duplicates: int = 0
    """Held-out cases (not exact copies) that are near-duplicates of a D_i case."""
    heldout_in_task_pool: int = 0
    """Held-out cases whose text (verbatim or normalised) is in some pool source."""
    heldout_in_task_test: int = 0
    """Held-out cases whose text (verbatim or normalised) is in the task's ``test`` split."""
    heldout_normalised_only: int = 0
    """Held-out cases found anywhere above only after normalisation."""


@dataclass
class CheckReport:
    """Every finding and the per-spec counts."""

    findings: list[Finding] = field(default_factory=list)
    stats: list[SpecStats] = field(default_factory=list)
    leakage: LeakageReport | None = None
    """Leakage counts per spec, per suite and in total (what ``results.json`` stores)."""

    @property
    def errors(self) -> list[Finding]:
        """Findings of level ``error``."""
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        """Findings of level ``warning``."""
        return [f for f in self.findings if f.level == "warning"]


def _shingles(text: str, n: int) -> frozenset[str]:
    words = WORD.findall(text.lower())
    if len(words) < n:
        return frozenset([" ".join(words)]) if words else frozenset()
    return frozenset(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))


def near_duplicates(
    queries: Sequence[str],
    corpus: Sequence[str],
    *,
    n: int = 3,
    threshold: float = 0.8,
    num_perm: int = 16,
    bands: int = 4,
) -> list[bool]:
    """For each query text, whether some corpus text has word n-gram Jaccard similarity >=
    ``threshold`` (identical texts count). Candidates come from MinHash banding (deterministic
    hashes), then each is verified exactly, so there are no false positives."""
    if not queries or not corpus:
        return [False] * len(queries)
    texts = list(corpus) + list(queries)
    sets = [_shingles(t, n) for t in texts]
    lengths = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    flat = np.fromiter(
        (zlib.crc32(g.encode()) for s in sets for g in s), dtype=np.uint64, count=int(lengths.sum())
    )
    nonempty = lengths > 0
    signatures = np.zeros((len(texts), num_perm), dtype=np.uint64)
    if flat.size:
        rng = np.random.default_rng(0)
        prime = np.uint64((1 << 61) - 1)
        a = rng.integers(1, 1 << 30, size=num_perm, dtype=np.uint64)
        b = rng.integers(0, 1 << 30, size=num_perm, dtype=np.uint64)
        hashed = (flat[:, None] * a[None, :] + b[None, :]) % prime
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])[nonempty]
        signatures[nonempty] = np.minimum.reduceat(hashed, starts, axis=0)
    rows = num_perm // bands
    buckets: dict[bytes, list[int]] = defaultdict(list)
    n_corpus = len(corpus)
    for band in range(bands):
        keys = signatures[:, band * rows : (band + 1) * rows]
        for i in range(n_corpus):
            if nonempty[i]:
                buckets[bytes([band]) + keys[i].tobytes()].append(i)
    found = [False] * len(queries)
    for q in range(len(queries)):
        i = n_corpus + q
        if not nonempty[i]:
            continue
        query_set = sets[i]
        checked: set[int] = set()
        for band in range(bands):
            key = bytes([band]) + signatures[i, band * rows : (band + 1) * rows].tobytes()
            for j in buckets.get(key, ())[:50]:
                if j in checked:
                    continue
                checked.add(j)
                inter = len(query_set & sets[j])
                if inter and inter / (len(query_set) + len(sets[j]) - inter) >= threshold:
                    found[q] = True
                    break
            if found[q]:
                break
    return found


def _finding(
    level: Literal["error", "warning"],
    message: str,
    fix: str,
    suite: SpecSuite,
    spec: Spec,
    kind: str = "check",
) -> Finding:
    return Finding(level, message, spec.id, suite.source or None, spec.source_line, fix, kind)


def _check_corpora(options: CheckOptions) -> list[Corpus]:
    if options.task is not None:
        return task_corpora(options.task)
    if options.train_texts is not None:
        return [Corpus("train", "train", options.train_texts)]
    return []


def _more(exact: int, matched: int) -> str:
    """``"; N more after normalisation"`` when normalisation found more than the verbatim
    copies."""
    return f"; {matched - exact} more after normalisation" if matched > exact else ""


def _example(detail: SpecDetail, kind: str) -> str:
    """``, e.g. 'TEXT'``: the first held-out case found in a corpus of that kind."""
    text = detail.examples.get(kind)
    if not text:
        return ""
    return f", e.g. {text if len(text) <= 60 else text[:59] + '…'!r}"


def leakage_findings(
    detail: SpecDetail, level: Literal["error", "warning"], options: CheckOptions
) -> list[tuple[Literal["error", "warning"], str, str]]:
    """``(level, message, fix)`` of every leakage finding of one spec."""
    found: list[tuple[Literal["error", "warning"], str, str]] = []

    def add(message: str, fix: str, severity: Literal["error", "warning"] = level) -> None:
        found.append((severity, message, fix))

    leak = detail.leakage
    n = leak.n_heldout
    d_i_more = leak.in_d_i - detail.d_i_exact
    if detail.d_i_exact:
        owners = detail.d_i_exact_owners
        add(
            f"{detail.d_i_exact} of {n} held-out case(s) have the same text as a D_i case "
            f"(of {', '.join(owners[:3])}{', ...' if len(owners) > 3 else ''}), e.g. "
            f"{(detail.d_i_example or '')[:60]!r}" + _more(detail.d_i_exact, leak.in_d_i),
            "make D_i and D_i_heldout disjoint",
        )
    elif d_i_more:
        add(
            f"{d_i_more} of {n} held-out case(s) equal a D_i case after normalisation "
            f"({NORMALISATION})",
            "make D_i and D_i_heldout disjoint",
        )
    exact, matched = detail.exact.get("train", 0), detail.matched.get("train", 0)
    if exact:
        add(
            f"{exact} of {n} held-out case(s) appear verbatim in the task's train split"
            + _more(exact, matched)
            + _example(detail, "train"),
            "change the templates or drop those cases",
        )
    elif matched:
        add(
            f"{matched} of {n} held-out case(s) appear in the task's train split after "
            f"normalisation ({NORMALISATION})" + _example(detail, "train"),
            "change the templates or drop those cases",
        )
    pool_labels = sorted(label for label in detail.matched if label.startswith("pool"))
    if pool_labels:
        verbatim = {label: detail.exact.get(label, 0) for label in pool_labels}
        if pool_labels == ["pool"]:
            exact = verbatim["pool"]
            where = f"{exact} verbatim, {leak.in_pool - exact} after normalisation"
        else:
            where = "; ".join(
                f"{label.removeprefix('pool/')} {detail.matched[label]}, {verbatim[label]} verbatim"
                for label in pool_labels
            )
        add(
            f"{leak.in_pool} of {n} held-out case(s) appear in the task's pool ({where})"
            + _example(detail, "pool")
            + ": a retrain may select them",
            "drop those rows from the pool or those cases from the spec",
        )
    exact, matched = detail.exact.get("test", 0), detail.matched.get("test", 0)
    if matched:
        add(
            f"{matched} of {n} held-out case(s) appear in the test split ({exact} verbatim, "
            f"{matched - exact} after normalisation)" + _example(detail, "test"),
            "drop them from the test split or the spec: one text should not count in both",
        )
    if leak.near:
        add(
            f"{leak.near} of {n} held-out case(s) are near-duplicates of D_i "
            f"cases (word {options.ngram}-gram Jaccard >= {options.near_threshold})",
            "use held-out templates that differ more from the D_i templates",
            "warning",
        )
    return found


def check_suites(suites: Iterable[SpecSuite], options: CheckOptions | None = None) -> CheckReport:
    """Check ``suites`` (as loaded together) and return every finding and per-spec counts."""
    options = options or CheckOptions()
    suites = list(suites)
    report = CheckReport()
    add = report.findings.append
    overlap_level: Literal["error", "warning"] = "error" if options.strict else "warning"
    seen: dict[str, str] = {}
    analysis = find_leakage(
        suites, _check_corpora(options), ngram=options.ngram, near_threshold=options.near_threshold
    )
    report.leakage = analysis.report
    details = iter(analysis.details)
    for suite in suites:
        labels = list(options.label_names) if options.label_names is not None else suite.labels
        for spec in suite.specs:
            detail = next(details)
            if spec.id in seen:
                add(
                    _finding(
                        "error",
                        f"duplicate spec id {spec.id!r} (also in suite {seen[spec.id]!r})",
                        "give every spec a unique id",
                        suite,
                        spec,
                    )
                )
            seen.setdefault(spec.id, suite.name)
            if labels and spec.label not in labels:
                whose = "task's" if options.label_names is not None else "suite's"
                add(
                    _finding(
                        "error",
                        f"label {spec.label!r} is not one of the {whose} labels",
                        f"use one of: {', '.join(labels)}",
                        suite,
                        spec,
                    )
                )
            train_t = {c.template_id for c in spec.train_cases if c.template_id}
            heldout_t = {c.template_id for c in spec.heldout_cases if c.template_id}
            both = sorted(train_t & heldout_t)
            if both:
                add(
                    _finding(
                        "error",
                        f"{len(both)} template(s) in both D_i and D_i_heldout (e.g. {both[0]!r})",
                        "D_i and D_i_heldout need disjoint templates",
                        suite,
                        spec,
                    )
                )
            n_train, n_heldout = len(spec.train_cases), len(spec.heldout_cases)
            if n_train + n_heldout == 0:
                add(
                    _finding(
                        "error", "the spec has no cases", "add templates or cases", suite, spec
                    )
                )
            elif n_heldout == 0:
                add(
                    _finding(
                        "error",
                        "the spec has no held-out cases",
                        "add held-out templates or cases",
                        suite,
                        spec,
                    )
                )
            elif n_heldout < options.min_heldout:
                add(
                    _finding(
                        "warning",
                        f"only {n_heldout} held-out case(s) (fewer than {options.min_heldout})",
                        "add held-out templates or slot values for a usable failure rate",
                        suite,
                        spec,
                    )
                )
            empty = sum(1 for c in [*spec.train_cases, *spec.heldout_cases] if not c.text.strip())
            if empty:
                add(
                    _finding(
                        "warning",
                        f"{empty} case(s) with empty text",
                        "check the templates",
                        suite,
                        spec,
                    )
                )
            for level, message, fix in leakage_findings(detail, overlap_level, options):
                add(_finding(level, message, fix, suite, spec, kind="leakage"))
            leak = detail.leakage
            report.stats.append(
                SpecStats(
                    spec_id=spec.id,
                    suite=suite.name,
                    label=spec.label,
                    train_cases=n_train,
                    heldout_cases=n_heldout,
                    train_templates=len(train_t),
                    heldout_templates=len(heldout_t),
                    heldout_in_train_cases=leak.in_d_i,
                    heldout_in_task_train=leak.in_train,
                    near_duplicates=leak.near,
                    heldout_in_task_pool=leak.in_pool,
                    heldout_in_task_test=leak.in_test,
                    heldout_normalised_only=leak.normalised,
                )
            )
    return report


def print_findings(findings: Iterable[Finding], *, stderr: bool = True) -> None:
    """Print findings, one line each (``warning: ...`` in yellow, ``error: ...`` in red)."""
    from rich.console import Console

    from harness.display import console_text

    console = Console(stderr=stderr, soft_wrap=True, highlight=False)
    for finding in findings:
        colour = "red" if finding.level == "error" else "yellow"
        console.print(f"[{colour}]{finding.level}:[/] {console_text(finding.one_line(), 8_000)}")


MAX_OTHER_WARNINGS = 10
"""At run time, at most this many non-leakage warnings are printed (``specs validate`` prints
every one)."""


def compact_warnings(report: CheckReport, worst: int = 3) -> list[str]:
    """The warnings of a run as a few ``warning: ...`` lines: per suite with leakage findings,
    one summary line and the leakage findings of its ``worst`` specs; then the other warnings, at
    most
    :data:`MAX_OTHER_WARNINGS`. Every detail stays in ``results.json`` and ``specs validate``."""
    lines: list[str] = []
    leakage = report.leakage
    leak_warnings = [f for f in report.warnings if f.kind == "leakage"]
    if leakage is not None and leak_warnings:
        for suite, counts in leakage.suites.items():
            if not counts.leaked and not counts.near:
                continue
            lines.append(f"warning: leakage in suite {summary_line(repr(suite), counts)}")
            shown = worst_specs(leakage, suite, worst)
            ids = {s.spec_id for s in shown}
            lines += [f"  warning: {f.one_line()}" for f in leak_warnings if f.spec_id in ids]
            rest = counts.n_specs_leaking - len(shown)
            if rest > 0:
                lines.append(
                    f"  ... and {rest} more spec(s): every spec is in results.json (leakage); "
                    "`harness specs validate ... --task ...` lists them"
                )
    others = [f for f in report.warnings if f.kind != "leakage"]
    lines += [f"warning: {f.one_line()}" for f in others[:MAX_OTHER_WARNINGS]]
    if len(others) > MAX_OTHER_WARNINGS:
        lines.append(
            f"... and {len(others) - MAX_OTHER_WARNINGS} more warning(s): run "
            "`harness specs validate` for every one"
        )
    return lines


def enforce(report: CheckReport, *, compact: bool = False) -> None:
    """Print the warnings to stderr (``compact``: per-suite leakage summaries, see
    :func:`compact_warnings`) and raise the first error as a :class:`UserError`."""
    if report.warnings:
        if compact:
            from rich.console import Console

            from harness.display import console_text

            console = Console(stderr=True, soft_wrap=True, highlight=False)
            for line in compact_warnings(report):
                head, sep, rest = line.partition("warning: ")
                text = (
                    f"{console_text(head, 8_000)}[yellow]warning:[/] {console_text(rest, 8_000)}"
                    if sep
                    else console_text(line, 8_000)
                )
                console.print(text)
        else:
            print_findings(report.warnings)
    errors = report.errors
    if errors:
        first = errors[0].to_error()
        if len(errors) > 1:
            first = UserError(
                f"{first.problem} (and {len(errors) - 1} more error(s): run harness specs "
                "validate)",
                file=first.file,
                line=first.line,
                field=first.field,
                fix=first.fix,
            )
        raise first
