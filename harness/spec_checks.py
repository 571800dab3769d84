"""Leakage and quality checks on loaded spec suites.

Run on every load (``flatten_specs``) and by ``harness specs validate``. Errors: a template id in
both D_i and D_i_heldout of a spec, duplicate spec ids, labels outside the task's (or suite's)
label set, specs with no cases or no held-out cases. Warnings: held-out cases whose text also
occurs in some D_i or in the task's ``train`` split (errors with ``strict``), held-out sets smaller
than ``min_heldout``, empty case texts, and held-out cases that are near-duplicates (word n-gram
Jaccard similarity >= ``near_threshold``) of a D_i case.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from harness.api import Spec, SpecSuite
from harness.errors import UserError

WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Finding:
    """One problem found in a spec: an error or a warning, located by file, line and spec id."""

    level: Literal["error", "warning"]
    message: str
    spec_id: str | None = None
    file: str | None = None
    line: int | None = None
    fix: str | None = None

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
    """The task's ``train`` texts: a held-out case with the same text is reported."""
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
    """Held-out cases whose exact text is also a D_i case (of any loaded spec)."""
    heldout_in_task_train: int = 0
    """Held-out cases whose exact text is in the task's ``train`` split."""
    near_duplicates: int = 0
    """Held-out cases (not exact copies) that are near-duplicates of a D_i case."""


@dataclass
class CheckReport:
    """Every finding and the per-spec counts."""

    findings: list[Finding] = field(default_factory=list)
    stats: list[SpecStats] = field(default_factory=list)

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
    level: Literal["error", "warning"], message: str, fix: str, suite: SpecSuite, spec: Spec
) -> Finding:
    return Finding(level, message, spec.id, suite.source or None, spec.source_line, fix)


def check_suites(suites: Iterable[SpecSuite], options: CheckOptions | None = None) -> CheckReport:
    """Check ``suites`` (as loaded together) and return every finding and per-spec counts."""
    options = options or CheckOptions()
    suites = list(suites)
    report = CheckReport()
    add = report.findings.append
    overlap_level: Literal["error", "warning"] = "error" if options.strict else "warning"
    seen: dict[str, str] = {}
    train_owner: dict[str, str] = {}
    for suite in suites:
        for spec in suite.specs:
            for case in spec.train_cases:
                train_owner.setdefault(case.text, spec.id)
    task_train = set(options.train_texts or ())
    queries = sorted(
        {c.text for suite in suites for spec in suite.specs for c in spec.heldout_cases}
        - train_owner.keys()
    )
    flags = near_duplicates(
        queries, list(train_owner), n=options.ngram, threshold=options.near_threshold
    )
    near_texts = {text for text, flag in zip(queries, flags, strict=True) if flag}
    for suite in suites:
        labels = list(options.label_names) if options.label_names is not None else suite.labels
        for spec in suite.specs:
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
            in_train = [c for c in spec.heldout_cases if c.text in train_owner]
            in_task = sum(1 for c in spec.heldout_cases if c.text in task_train)
            n_near = sum(1 for c in spec.heldout_cases if c.text in near_texts)
            if in_train:
                owners = sorted({train_owner[c.text] for c in in_train})
                add(
                    _finding(
                        overlap_level,
                        f"{len(in_train)} of {n_heldout} held-out case(s) have the same text as a "
                        f"D_i case (of {', '.join(owners[:3])}{', ...' if len(owners) > 3 else ''}"
                        f"), e.g. {in_train[0].text[:60]!r}",
                        "make D_i and D_i_heldout disjoint",
                        suite,
                        spec,
                    )
                )
            if in_task:
                add(
                    _finding(
                        overlap_level,
                        f"{in_task} of {n_heldout} held-out case(s) appear verbatim in the task's "
                        "train split",
                        "change the templates or drop those cases",
                        suite,
                        spec,
                    )
                )
            if n_near:
                add(
                    _finding(
                        "warning",
                        f"{n_near} of {n_heldout} held-out case(s) are near-duplicates of D_i "
                        f"cases (word {options.ngram}-gram Jaccard >= {options.near_threshold})",
                        "use held-out templates that differ more from the D_i templates",
                        suite,
                        spec,
                    )
                )
            report.stats.append(
                SpecStats(
                    spec_id=spec.id,
                    suite=suite.name,
                    label=spec.label,
                    train_cases=n_train,
                    heldout_cases=n_heldout,
                    train_templates=len(train_t),
                    heldout_templates=len(heldout_t),
                    heldout_in_train_cases=len(in_train),
                    heldout_in_task_train=in_task,
                    near_duplicates=n_near,
                )
            )
    return report


def print_findings(findings: Iterable[Finding], *, stderr: bool = True) -> None:
    """Print findings, one line each (``warning: ...`` in yellow, ``error: ...`` in red)."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(stderr=stderr, soft_wrap=True, highlight=False)
    for finding in findings:
        colour = "red" if finding.level == "error" else "yellow"
        console.print(f"[{colour}]{finding.level}:[/] {escape(finding.one_line())}")


def enforce(report: CheckReport) -> None:
    """Print the warnings to stderr and raise the first error as a :class:`UserError`."""
    if report.warnings:
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
