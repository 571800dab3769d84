"""Leakage and quality checks on loaded specs, and their wiring into ``flatten_specs``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.api import Spec, SpecCase, SpecSuite
from harness.errors import UserError
from harness.specs.checks import CheckOptions, check_suites, near_duplicates
from harness.specs.loading import flatten_specs


def case(spec: str, split: str, text: str, template: str | None = None) -> SpecCase:
    """A case of ``spec`` in ``split``."""
    return SpecCase(
        id=f"{spec}/{split}/{text}", text=text, spec_id=spec, split=split, template_id=template
    )  # type: ignore[arg-type]


def spec(
    spec_id: str,
    train: list[str],
    heldout: list[str],
    label: str = "pos",
    train_template: str | None = "t1",
    heldout_template: str | None = "h1",
) -> Spec:
    """A spec whose cases come from one template per split."""
    return Spec(
        id=spec_id,
        description="",
        label=label,
        train_cases=[case(spec_id, "train", t, train_template) for t in train],
        heldout_cases=[case(spec_id, "heldout", t, heldout_template) for t in heldout],
        source_line=7,
    )


def suite(*specs: Spec, labels: list[str] | None = None) -> SpecSuite:
    """A suite from ``specs`` located in ``s.yaml``."""
    return SpecSuite(name="s", labels=labels or ["neg", "pos"], source="s.yaml", specs=list(specs))


HELDOUT = [f"held out sentence number {i} about cats" for i in range(12)]


def test_clean_suite_has_no_findings_and_counts() -> None:
    report = check_suites([suite(spec("a", ["one two three", "four five six"], HELDOUT))])
    assert report.findings == []
    (stats,) = report.stats
    assert (stats.train_cases, stats.heldout_cases) == (2, 12)
    assert (stats.train_templates, stats.heldout_templates) == (1, 1)


def test_identical_text_across_splits_is_a_warning_with_counts_and_strict_error() -> None:
    s = suite(spec("a", ["shared text here", HELDOUT[0]], HELDOUT + ["shared text here"]))
    report = check_suites([s])
    (finding,) = report.warnings
    assert "2 of 13 held-out case(s) have the same text as a D_i case (of a)" in finding.message
    assert finding.one_line().startswith("s.yaml:7: a: ")
    assert report.stats[0].heldout_in_train_cases == 2
    strict = check_suites([s], CheckOptions(strict=True))
    assert [f.level for f in strict.findings] == ["error"]


def test_leak_across_specs_and_into_task_train() -> None:
    a = spec("a", ["a train text"], HELDOUT)
    b = spec("b", [HELDOUT[3]], [f"other held out {i} words" for i in range(10)])
    report = check_suites(
        [suite(a, b)], CheckOptions(train_texts=[HELDOUT[5], HELDOUT[6], "unrelated"])
    )
    messages = [f.message for f in report.warnings if f.spec_id == "a"]
    assert any(
        "1 of 12 held-out case(s) have the same text as a D_i case (of b)" in m for m in messages
    )
    assert any(
        "2 of 12 held-out case(s) appear verbatim in the task's train split" in m for m in messages
    )
    assert report.stats[0].heldout_in_task_train == 2


def test_near_duplicates_are_counted() -> None:
    train = ["the quick brown fox jumps over the lazy dog near the river bank today"]
    heldout = [
        "The quick brown fox jumps over the lazy dog near the river bank today!",
        "the quick brown fox jumps over the lazy dog near the river bank",
    ] + [f"completely different sentence {i} with other words" for i in range(10)]
    report = check_suites([suite(spec("a", train, heldout))])
    assert report.stats[0].near_duplicates == 2
    assert any("2 of 12 held-out case(s) are near-duplicates" in f.message for f in report.warnings)


def test_near_duplicates_has_no_false_positives() -> None:
    corpus = [f"sentence {i} talks about topic {i * 7} in detail" for i in range(300)]
    queries = [f"query {i} mentions subject {i * 3} briefly here" for i in range(300)]
    assert not any(near_duplicates(queries, corpus))
    flags = near_duplicates([corpus[10], "nothing like it at all really"], corpus)
    assert flags == [True, False]


def test_structural_errors_name_the_spec() -> None:
    both = spec("both", ["x y z"], HELDOUT, train_template="t", heldout_template="t")
    empty = Spec(id="empty", description="", label="pos")
    no_heldout = spec("no-heldout", ["only train"], [])
    small = spec("small", ["a b c"], HELDOUT[:3])
    bad_label = spec("bad-label", ["p q r"], HELDOUT, label="maybe")
    duplicate = spec("small", ["d e f"], [h + " again" for h in HELDOUT])
    report = check_suites([suite(both, empty, no_heldout, small, bad_label, duplicate)])
    errors = {(f.spec_id, f.message.split(" (")[0]) for f in report.errors}
    assert ("both", "1 template(s) in both D_i and D_i_heldout") in errors
    assert ("empty", "the spec has no cases") in errors
    assert ("no-heldout", "the spec has no held-out cases") in errors
    assert ("bad-label", "label 'maybe' is not one of the suite's labels") in errors
    assert ("small", "duplicate spec id 'small'") in errors
    (warning,) = [f for f in report.warnings if f.spec_id == "small"]
    assert "only 3 held-out case(s) (fewer than 10)" in warning.message


def test_task_labels_take_precedence() -> None:
    report = check_suites([suite(spec("a", [], HELDOUT))], CheckOptions(label_names=["x", "y"]))
    (error,) = report.errors
    assert error.message == "label 'pos' is not one of the task's labels"
    assert error.fix == "use one of: x, y"


def test_flatten_specs_raises_errors_and_prints_warnings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    leaky = suite(spec("a", [HELDOUT[0]], HELDOUT))
    specs = flatten_specs([leaky], ["neg", "pos"], train_texts=[HELDOUT[1]])
    assert [s.id for s in specs] == ["a"]
    err = capsys.readouterr().err
    assert "warning: s.yaml:7: a: 1 of 12 held-out case(s) have the same text" in err
    assert "appear verbatim in the task's train split" in err
    with pytest.raises(UserError) as info:
        flatten_specs([suite(spec("a", [], HELDOUT, label="maybe"))], ["neg", "pos"])
    assert info.value.one_line().startswith("s.yaml:7: a: label 'maybe'")


def test_plan_run_checks_specs_against_the_task(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.config import resolve_config
    from harness.plan import plan_run
    from harness.plugins import load_registries

    task = load_registries().tasks.get("demo").load()
    leaked = task.train.texts[0]
    path = tmp_path / "leaky.yaml"
    path.write_text(
        "suite: leaky\nlabels: [non-toxic, toxic]\nspecs:\n  - id: leak\n    label: toxic\n"
        f'    templates: ["you {{{{ x }}}}"]\n    slots: {{x: [a, b]}}\n'
        f'    cases:\n      heldout: [{json.dumps(leaked)}, "fresh one"]\n',
        encoding="utf-8",
    )
    plan = plan_run(resolve_config(None, {"specs": str(path)}))
    assert [s.id for s in plan.specs] == ["leak"]
    err = capsys.readouterr().err
    assert f"warning: {path}:4: leak: 1 of 2 held-out case(s) appear verbatim" in err
