"""Reports: analysis (comparisons, expected-outcome check, signals), console, Markdown, HTML and
JSON reporters, the leaderboard and ``harness report``. Runs are built synthetically (no
training), so every number below follows from the failure patterns given here."""

from __future__ import annotations

import json
import math
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from rich.console import Console

from harness.aggregate import aggregate
from harness.analysis import analyse, default_pairs
from harness.analysis.stats import wilson_interval
from harness.cli import cli
from harness.console import print_result
from harness.evaluation import spec_score
from harness.leaderboard import LEADERBOARD_VERSION, Leaderboard, build_leaderboard
from harness.report_views import ReportOptions, check_row, failing_examples
from harness.results import (
    Metrics,
    ModelResult,
    RunResult,
    SeedResult,
    SpecInfo,
    TaskInfo,
    Timing,
    read_result,
    write_result,
)
from harness_plugins.reporters.html import HtmlReporter
from harness_plugins.reporters.markdown import MarkdownReporter

XSS = "<script>alert(1)</script>"
LABELS = ["non-toxic", "toxic"]
SPECS = [
    ("neutral-mention", "non-toxic", "Neutral mentions of a group are not toxic.", ["group"]),
    ("counter-speech", "non-toxic", f"Quoting {XSS} to reject it is not toxic.", ["group"]),
    ("direct-threat", "toxic", f"Threats are toxic {XSS} & <b>bold</b>", ["threat"]),
    ("insult", "toxic", "Direct insults | are [toxic](http://x).", ["insult"]),
]
FR = {
    "M0": [0.6, 0.7, 0.05, 0.25],
    "retrain-random": [0.55, 0.7, 0.05, 0.1],
    "retrain-tfidf": [0.1, 0.2, 0.5, 0.1],
}
ACC = {"M0": 0.95, "retrain-random": 0.948, "retrain-tfidf": 0.944}
PER_TEMPLATE, TEMPLATES = 10, 3


def build_run(
    fr: dict[str, list[float]] | None = None,
    acc: dict[str, float] | None = None,
    seeds: tuple[int, ...] = (0, 1),
    model: str = "bow",
    budgets: dict[str, int] | None = None,
) -> tuple[RunResult, list[dict[str, Any]], dict[tuple[str, int, str], np.ndarray]]:
    """A run whose held-out failures are drawn (seeded) with the per-spec rates ``fr``."""
    fr = fr or FR
    acc = acc or ACC
    n = PER_TEMPLATE * TEMPLATES
    fails: dict[tuple[str, int, str], np.ndarray] = {}
    models = []
    for k, name in enumerate(fr):
        seed_results = []
        for seed in seeds:
            heldout, train_cases = {}, {}
            for j, (sid, label, _, _) in enumerate(SPECS):
                failed = np.random.default_rng([seed, j, k]).random(n) < fr[name][j]
                fails[(name, seed, sid)] = failed
                expected = LABELS.index(label)
                heldout[sid] = spec_score(np.where(failed, 1 - expected, expected), expected)
                train_cases[sid] = spec_score(np.full(n // 2, expected), expected)
            changes: dict[str, Any] = {}
            if name == "retrain-tfidf":
                changes["coverage"] = {
                    sid: {"n": 40 - 10 * j, "mean_similarity": 0.9 - 0.2 * j}
                    for j, (sid, *_rest) in enumerate(SPECS)
                }
            seed_results.append(
                SeedResult(
                    seed=seed,
                    test=Metrics(n=200, accuracy=acc[name], macro_f1=acc[name] - 0.01, mcc=0.9),
                    heldout=heldout,
                    train_cases=train_cases,
                    changes=changes,
                )
            )
        params: dict[str, Any] = {}
        if name != "M0":
            params = {"selection": name.split("-", 1)[1]}
            if budgets and name in budgets:
                params["budget"] = budgets[name]
        models.append(
            ModelResult(
                id=name,
                kind="base" if name == "M0" else "intervention",
                intervention=None if name == "M0" else "retrain",
                params=params,
                seeds=seed_results,
                aggregate=aggregate(seed_results),
            )
        )
    samples = []
    for seed in seeds:
        for sid, label, _, _ in SPECS:
            other = LABELS[1 - LABELS.index(label)]
            for i in range(n):
                samples.append(
                    {
                        "seed": seed,
                        "set": "heldout",
                        "id": f"{sid}-h{i}",
                        "spec_id": sid,
                        "template_id": f"{sid}-t{i // PER_TEMPLATE}",
                        "text": f"case {i} of {sid} {XSS}",
                        "label": label,
                        "predictions": {
                            m: other if fails[(m, seed, sid)][i] else label for m in fr
                        },
                    }
                )
    result = RunResult(
        run_id=f"demo-{model}-synthetic",
        harness_version="0.1.0",
        config={"task": "demo", "model": model, "model_args": {}, "budget": 100},
        seeds=list(seeds),
        task=TaskInfo(name="demo", label_names=LABELS, n_train=100, n_test=200, n_pool=500),
        specs=[
            SpecInfo(
                id=sid,
                suite="demo",
                description=description,
                label=label,
                tags=tags,
                n_train_cases=n // 2,
                n_heldout_cases=n,
                heldout_templates=TEMPLATES,
            )
            for sid, label, description, tags in SPECS
        ],
        models=models,
        timing=Timing(
            started="2026-01-01T00:00:00+00:00",
            finished="2026-01-01T00:01:00+00:00",
            seconds={m: 1.5 for m in fr},
        ),
    )
    return result, samples, fails


def write_run(root: Path, result: RunResult, samples: list[dict[str, Any]]) -> Path:
    """Write results.json and samples.jsonl like the runner does."""
    run_dir = root / result.run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    write_result(run_dir, result)
    (run_dir / "samples.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in samples), encoding="utf-8"
    )
    return run_dir


def reports_in_every_format(run_dir: Path, folder: Path) -> dict[str, str]:
    """``harness report RUN --format F -o FILE`` for md, html and json: ``{format: text}``."""
    reports = {}
    for fmt in ("md", "html", "json"):
        target = folder / f"report.{fmt}"
        done = CliRunner().invoke(cli, ["report", str(run_dir), "--format", fmt, "-o", str(target)])
        assert done.exit_code == 0, done.output
        reports[fmt] = target.read_text()
    return reports


@pytest.fixture()
def analysed() -> tuple[RunResult, dict[tuple[str, int, str], np.ndarray]]:
    result, samples, fails = build_run()
    return analyse(result, samples), fails


# --------------------------------------------------------------------------------------------
# analysis
# --------------------------------------------------------------------------------------------


def test_default_pairs_guided_vs_random_then_each_vs_m0() -> None:
    result, _, _ = build_run()
    assert default_pairs(result) == [
        ("retrain-tfidf", "retrain-random", "guided-vs-random"),
        ("retrain-random", "M0", "vs-M0"),
        ("retrain-tfidf", "M0", "vs-M0"),
    ]
    # a different budget: no guided/random pair, only comparisons with M0
    other, _, _ = build_run(budgets={"retrain-random": 50})
    assert [p[2] for p in default_pairs(other)] == ["vs-M0", "vs-M0"]


def test_mcnemar_per_seed_combined_by_intersection_union(analysed: Any) -> None:
    result, fails = analysed
    comp = next(c for c in result.comparisons if (c["a"], c["b"]) == ("retrain-tfidf", "M0"))
    for spec_id, item in comp["specs"].items():
        one_sided = {"fixed": [], "broken": []}
        for seed, counts in zip((0, 1), item["per_seed"], strict=True):
            a, b = fails[("retrain-tfidf", seed, spec_id)], fails[("M0", seed, spec_id)]
            assert counts == {
                "seed": seed,
                "broken": int(np.sum(a & ~b)),
                "fixed": int(np.sum(~a & b)),
                "n": len(a),
            }
            n = counts["broken"] + counts["fixed"]
            # exact one-sided McNemar: P(X >= wins), X ~ Binomial(n, 1/2)
            for side, wins in (("fixed", counts["fixed"]), ("broken", counts["broken"])):
                one_sided[side].append(sum(math.comb(n, i) for i in range(wins, n + 1)) / 2**n)
        # the seeds are combined by their largest one-sided p, never pooled as new cases
        expected = min(1.0, 2 * min(max(one_sided["fixed"]), max(one_sided["broken"])))
        assert item["p"] == pytest.approx(expected, rel=1e-3)
        assert item["broken"] == sum(c["broken"] for c in item["per_seed"])  # totals, for reading
        assert item["fr_a"] == pytest.approx(
            np.mean([fails[("retrain-tfidf", s, spec_id)].mean() for s in (0, 1)]), abs=1e-6
        )
    p = [comp["specs"][s[0]]["p"] for s in SPECS]
    smallest = min(range(4), key=lambda i: p[i])
    assert comp["specs"][SPECS[smallest][0]]["p_holm"] == pytest.approx(
        min(1.0, 4 * p[smallest]), rel=1e-3
    )
    assert comp["specs"]["neutral-mention"]["status"] == "fixed"
    assert comp["specs"]["direct-threat"]["status"] == "broken"
    assert comp["n_fixed"] == 2 and comp["n_broken"] == 1
    assert comp["seeds"] == [0, 1]
    assert comp["test_accuracy_delta"] == pytest.approx(-0.006)
    assert comp["macro_f1_delta"] == pytest.approx(-0.006)
    boot = comp["bootstrap"]
    assert boot["ci_low"] <= comp["mean_fr_delta"] <= boot["ci_high"]
    assert boot["unit"] == "template" and boot["resamples"] == "seeds and templates (2 seeds)"
    assert "intersection-union" in comp["method"] and "two-stage" in comp["method"]
    assert comp["cases"] == "all held-out cases" and comp["n_seen_excluded"] == 0


def test_expected_outcome_check_passes_with_numbers(analysed: Any) -> None:
    result, _ = analysed
    by_id = {c["id"]: c for c in result.checks}
    assert set(by_id) == {
        "test-accuracy:retrain-tfidf",
        "test-accuracy:retrain-random",
        "macro-f1:retrain-tfidf",
        "macro-f1:retrain-random",
        "fr-below:retrain-tfidf:retrain-random",
        "fr-below:retrain-tfidf:M0",
    }
    assert {c["status"] for c in result.checks} == {"PASS"}
    assert by_id["test-accuracy:retrain-tfidf"]["delta_points"] == pytest.approx(-0.6)
    below = by_id["fr-below:retrain-tfidf:retrain-random"]
    assert below["delta"] < 0 and below["p_holm"] < 0.05
    assert "23.8% vs 36.2%" in below["detail"]


def test_expected_outcome_check_fails_when_guided_is_no_better_or_costs_accuracy() -> None:
    same = dict(FR, **{"retrain-tfidf": FR["retrain-random"]})
    acc = dict(ACC, **{"retrain-tfidf": 0.90})
    result, samples, _ = build_run(fr=same, acc=acc)
    checks = {c["id"]: c["status"] for c in analyse(result, samples).checks}
    assert checks["test-accuracy:retrain-tfidf"] == "FAIL"  # 5 points below M0
    assert checks["test-accuracy:retrain-random"] == "PASS"
    assert checks["fr-below:retrain-tfidf:retrain-random"] == "FAIL"


def test_check_is_skipped_without_a_pair_and_without_samples_no_paired_test() -> None:
    result, _, _ = build_run(fr={"M0": FR["M0"]}, acc={"M0": 0.95})
    analysed = analyse(result, [])
    assert [c["status"] for c in analysed.checks] == ["SKIP"]
    assert analysed.comparisons == []
    full, _, _ = build_run()
    unpaired = analyse(full, None)
    comp = unpaired.comparisons[0]
    assert comp["paired"] is False and "bootstrap" not in comp
    assert comp["specs"]["direct-threat"]["status"] is None
    assert {c["status"] for c in unpaired.checks if c["id"].startswith("fr-below")} == {"FAIL"}


def test_coverage_signal_spearman(analysed: Any) -> None:
    result, _ = analysed
    signals = {(s["model"], s["signal"]): s for s in result.signals}
    sim = signals[("retrain-tfidf", "coverage.mean_similarity")]
    assert sim["n_specs"] == 4
    drops = [sim["points"][s[0]][1] for s in SPECS]
    sims = [sim["points"][s[0]][0] for s in SPECS]
    assert sims == pytest.approx([0.9, 0.7, 0.5, 0.3])
    from scipy.stats import spearmanr

    assert sim["rho"] == pytest.approx(spearmanr(sims, drops).statistic, abs=1e-6)
    assert ("retrain-random", "coverage.n") not in signals  # no coverage recorded


# --------------------------------------------------------------------------------------------
# reporters
# --------------------------------------------------------------------------------------------


class PageParser(HTMLParser):
    """Collects tags, attributes and the text inside script elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        (self.scripts if self._in_script else self.text).append(data)


def test_html_is_self_contained_escaped_and_structured(tmp_path: Path, analysed: Any) -> None:
    result, _ = analysed
    _, samples, _ = build_run()
    run_dir = write_run(tmp_path, result, samples)
    reporter = HtmlReporter()
    reporter.options = ReportOptions(
        examples={result.run_id: failing_examples(run_dir / "samples.jsonl", result)}
    )
    page = reporter.render([result])
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    parser = PageParser()
    parser.feed(page)
    tags = [t for t, _ in parser.tags]
    assert tags.count("script") == 1  # only the sorting script
    assert "alert" not in parser.scripts[0]
    text = "".join(parser.text)
    assert f"Quoting {XSS} to reject it" in text  # shown as text
    assert "Threats are toxic <script>alert(1)</script> & <b>bold</b>" in text
    # nothing is loaded from elsewhere
    for tag, attrs in parser.tags:
        assert "src" not in attrs and "href" not in attrs, (tag, attrs)
        assert tag not in ("link", "iframe", "img", "object", "embed")
    assert "default-src 'none'" in page
    # the chart: a lane per intervention and spec (the change against M0), with its tooltip
    lanes = [a for t, a in parser.tags if t == "div" and a.get("class") == "lane"]
    assert len(lanes) == 2 * len(SPECS)
    assert all(a.get("title", "").count(" vs M0, ") == 1 for a in lanes)
    # sortable tables: leaderboard, models, per-spec, comparisons
    sortable = [a for t, a in parser.tags if t == "table" and "sortable" in (a.get("class") or "")]
    assert len(sortable) == 4
    # coloured cells and the check
    classes = " ".join(a.get("class") or "" for _, a in parser.tags)
    assert "broken" in classes and "fixed" in classes
    assert "PASS" in text and "retrain-tfidf BROKE direct-threat" in text
    # failing examples per spec, with predictions (the other details hold each check in full)
    details = [a.get("class") for t, a in parser.tags if t == "details"]
    assert details.count("detail") == sum(check_row(c) is not None for c in result.checks)
    assert len(details) - details.count("detail") == len(SPECS)
    assert f"of neutral-mention {XSS}" in text  # case texts are shown as text too


def test_markdown_escapes_and_keeps_tables_intact(analysed: Any) -> None:
    result, _ = analysed
    reporter = MarkdownReporter()
    reporter.options = ReportOptions(ci=True)
    text = reporter.render([result])
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "Direct insults \\| are \\[toxic\\](http://x)." in text
    # every table row has as many unescaped pipes as its header
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("| :---"):
            width = lines[i - 1].replace("\\|", "").count("|")
            j = i + 1
            while j < len(lines) and lines[j].startswith("|"):
                assert lines[j].replace("\\|", "").count("|") == width, lines[j]
                j += 1
    assert "✅ PASS" in text and " ▲" in text and " ▼" in text
    assert "#### label: toxic" in text
    m0 = result.model("M0")
    scores = [s.heldout["neutral-mention"] for s in m0.seeds]
    low, high = wilson_interval(sum(x.failures for x in scores), sum(x.n for x in scores))
    assert f"[{100 * low:.1f}–{100 * high:.1f}]" in text  # Wilson interval pooled over seeds


def test_two_runs_with_different_models_merge_into_one_leaderboard(analysed: Any) -> None:
    first, _ = analysed
    second_raw, samples, _ = build_run(model="tfidf-logreg")
    second = analyse(second_raw, samples)
    board = build_leaderboard([first, second])
    assert board.schema_version == LEADERBOARD_VERSION
    assert {r.model for r in board.rows} == {"bow", "tfidf-logreg"}
    assert len(board.rows) == 6
    assert [r.run_id for r in board.runs] == [first.run_id, second.run_id]
    fr = [r.mean_fr for r in board.rows]
    assert fr == sorted(fr)  # ranked by mean FR within the task
    assert {s.key for s in board.specs} == {s[0] for s in SPECS}
    assert board.runs[0].check == "PASS"
    Leaderboard.model_validate(board.model_dump(mode="json"))
    with pytest.raises(Exception, match="given twice"):
        build_leaderboard([first, first])


def test_console_report_groups_colours_and_prints_the_check(analysed: Any) -> None:
    result, _ = analysed
    console = Console(record=True, width=200)
    print_result(result, console, ci=True, group_by="tag")
    out = console.export_text()
    assert "tag: group" in out and "tag: threat" in out
    assert any(
        line.split()[:2] == ["PASS", "mean"] and "retrain-tfidf < retrain-random" in line
        for line in out.splitlines()
    ), out
    assert "▲ retrain-tfidf BROKE direct-threat" in out
    assert "coverage.mean_similarity" in out and "Spearman correlation across specs" in out
    assert "D_i_heldout" in out and "wall s" in out
    assert "Comparisons" in out


# --------------------------------------------------------------------------------------------
# harness report
# --------------------------------------------------------------------------------------------


def test_report_command_formats_check_and_merge(tmp_path: Path) -> None:
    good, samples, _ = build_run()
    good_dir = write_run(tmp_path / "a", analyse(good, samples), samples)
    bad_raw, bad_samples, _ = build_run(
        fr=dict(FR, **{"retrain-tfidf": FR["retrain-random"]}), model="other"
    )
    bad_dir = write_run(tmp_path / "b", analyse(bad_raw, bad_samples), bad_samples)
    runner = CliRunner()
    out = tmp_path / "report.html"
    res = runner.invoke(cli, ["report", str(good_dir), str(bad_dir), "-o", str(out)])
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert "demo-other-synthetic" in page and "demo-bow-synthetic" in page
    res = runner.invoke(cli, ["report", str(good_dir), "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["kind"] == "spec-harness-leaderboard"
    res = runner.invoke(cli, ["report", str(good_dir), "--format", "md", "--check"])
    assert res.exit_code == 0, res.output
    assert "# spec-harness report" in res.output
    res = runner.invoke(cli, ["report", str(good_dir), str(bad_dir), "--check", "--format", "md"])
    assert res.exit_code == 1
    assert "expected-outcome check FAIL: demo-other-synthetic" in res.output
    res = runner.invoke(cli, ["report", str(good_dir), "--format", "nope"])
    assert res.exit_code == 2 and "error:" in res.output


def test_report_refuses_another_schema_version(tmp_path: Path) -> None:
    result, samples, _ = build_run()
    run_dir = write_run(tmp_path, analyse(result, samples), samples)
    data = json.loads((run_dir / "results.json").read_text())
    data["schema_version"] = 0
    (run_dir / "results.json").write_text(json.dumps(data))
    res = CliRunner().invoke(cli, ["report", str(run_dir)])
    assert res.exit_code == 2
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "schema version 0 is not supported" in lines[0]


def test_report_analyses_runs_written_without_analysis(tmp_path: Path) -> None:
    result, samples, _ = build_run()
    run_dir = write_run(tmp_path, result, samples)  # comparisons/checks empty on disk
    assert read_result(run_dir).checks == []
    res = CliRunner().invoke(cli, ["report", str(run_dir), "--check", "--format", "json"])
    assert res.exit_code == 0, res.output


def test_write_output_does_not_replace_a_pipe(tmp_path: Path) -> None:
    import os
    import threading

    from harness.commands.report import write_output

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_text(encoding="utf-8")))
    reader.start()
    write_output(pipe, "report text")
    reader.join(timeout=10)
    assert received == ["report text"]
    assert pipe.is_fifo()
    target = tmp_path / "out" / "report.md"
    write_output(target, "x")
    assert target.read_text(encoding="utf-8") == "x"


def test_failing_examples_prefer_distinct_templates(tmp_path: Path) -> None:
    result, samples, _ = build_run()
    run_dir = write_run(tmp_path, result, samples)
    examples = failing_examples(run_dir / "samples.jsonl", result, per_spec=3)
    cases = examples["counter-speech"]
    assert len(cases) == 3
    assert len({c["template_id"] for c in cases}) == 3
    for case in cases:
        assert any(p != case["label"] for p in case["predictions"].values())
    assert failing_examples(tmp_path / "missing.jsonl", result) == {}


SMALL_SUITE = """
suite: xss
description: two specs for the report test
labels: [non-toxic, toxic]
seed: 0
max_cases: 12
slots:
  group: [women, men, farmers, teenagers]
  insult: [idiot, fool, clown]
specs:
  - id: neutral
    description: "Neutral <script>alert(1)</script> mentions are not toxic."
    label: non-toxic
    tags: [group]
    templates:
      - "I met {{ group }} at the market."
      - "My friend works with {{ group }}."
    heldout_templates:
      - "The report counts {{ group }} in the region."
      - "Our club has {{ group }} as members."
  - id: insult
    description: Insults are toxic.
    label: toxic
    tags: [insult]
    templates:
      - "You are such {{ insult | a_an }}."
    heldout_templates:
      - "What {{ insult | a_an }} you are."
      - "Shut up, you {{ insult }}."
"""


def test_end_to_end_run_then_html_report(tmp_path: Path) -> None:
    """A small real run (bow, limited data): the runner hands its per-case rows to the analysis,
    so comparisons are paired; the HTML report escapes a hostile spec description."""
    from harness.plugins import load_registries

    if "retrain" not in load_registries().interventions:
        pytest.skip("the retrain intervention is not installed")
    (tmp_path / "xss.yaml").write_text(SMALL_SUITE, encoding="utf-8")
    config = tmp_path / "run.yaml"
    config.write_text(
        f"specs: [{tmp_path / 'xss.yaml'}]\nlimit: 80\nbudget: 20\ninterventions:\n"
        "  - {name: retrain, params: {selection: random}}\n"
        "  - {name: retrain, params: {selection: tfidf}}\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    res = runner.invoke(
        cli, ["run", "--config", str(config), "--output-dir", str(tmp_path / "runs"), "-q", "--ci"]
    )
    assert res.exit_code == 0, res.output
    assert "Expected-outcome check" in res.output
    (run_dir,) = (tmp_path / "runs").iterdir()
    result = read_result(run_dir)
    kinds = [(c["a"], c["b"], c["paired"]) for c in result.comparisons]
    assert kinds == [
        ("retrain-tfidf", "retrain-random", True),
        ("retrain-random", "M0", True),
        ("retrain-tfidf", "M0", True),
    ]
    assert {c["id"] for c in result.checks} == {
        "seeds",
        "test-accuracy:retrain-random",
        "test-accuracy:retrain-tfidf",
        "macro-f1:retrain-random",
        "macro-f1:retrain-tfidf",
        "fr-below:retrain-tfidf:retrain-random",
        "fr-below:retrain-tfidf:M0",
    }
    assert {c["status"] for c in result.checks if c["id"] != "seeds"} <= {"PASS", "FAIL"}
    assert "conclusions rest on one seed" in res.output
    out = tmp_path / "report.html"
    res = runner.invoke(cli, ["report", str(run_dir), "--format", "html", "-o", str(out)])
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    parser = PageParser()
    parser.feed(page)
    assert [t for t, _ in parser.tags].count("script") == 1
    assert "Neutral <script>alert(1)</script> mentions are not toxic." in "".join(parser.text)
    lanes = [a for t, a in parser.tags if t == "div" and a.get("class") == "lane"]
    assert len(lanes) == 2 * 2  # two interventions, two specs
