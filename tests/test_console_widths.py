"""The console report at 80, 100, 120 and 160 columns: every spec and model id appears whole,
no line is wider than the console, no number is cut, and marks survive without colour."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
import test_reports
from click.testing import CliRunner
from rich.console import Console
from test_reports import build_run, write_run

from harness.analysis import analyse
from harness.analysis.stats import format_p
from harness.cli import cli
from harness.console import print_result
from harness.progress import Progress
from harness.results import RunResult

LONG_SPECS = [
    ("neutral-statements-about-a-protected-group", "non-toxic", "Neutral statements.", ["g"]),
    (
        "counter-speech-that-quotes-hate-in-order-to-reject-it-explicitly",
        "non-toxic",
        "Counter-speech.",
        ["g"],
    ),
    ("direct-threat", "toxic", "Threats are toxic.", ["threat"]),
    ("insult-with-spelling-variation-and-obfuscated-slurs", "toxic", "Insults.", ["insult"]),
]
"""Spec ids of 13 to 64 characters (the longest beyond what a table shows whole at 80)."""

MODELS = {
    "M0": [0.6, 0.7, 0.05, 0.25],
    "retrain-random": [0.55, 0.7, 0.05, 0.1],
    "retrain-tfidf": [0.1, 0.2, 0.5, 0.1],
    "retrain-tfidf-general-pool-only": [0.2, 0.3, 0.1, 0.2],
    "retrain-bm25-stratified-by-label": [0.3, 0.5, 0.1, 0.2],
    "retrain-embedding-agreeing-labels": [0.5, 0.6, 0.2, 0.3],
    "retrain-dsir": [0.5, 0.6, 0.1, 0.3],
    "retrain-random-policy-source": [0.55, 0.65, 0.05, 0.2],
    "retrain-tfidf-policy-source": [0.15, 0.25, 0.3, 0.2],
}
ACCURACY = {name: 0.95 - 0.002 * i for i, name in enumerate(MODELS)}
ACCURACY["retrain-dsir"] = 0.90  # fails its guard


@pytest.fixture(scope="module")
def wide_run() -> RunResult:
    """A run of 9 model rows and 4 specs with long ids, three seeds, analysed."""
    patch = pytest.MonkeyPatch()
    patch.setattr(test_reports, "SPECS", LONG_SPECS)
    try:
        result, samples, _ = build_run(MODELS, ACCURACY, seeds=(0, 1, 2))
        return analyse(result, samples)
    finally:
        patch.undo()


def render(result: RunResult, width: int, **options: Any) -> str:
    """The console report at ``width`` columns, as plain text."""
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None, **options)
    print_result(result, console, ci=True)
    return console.export_text()


@pytest.mark.parametrize("width", [80, 100, 120, 160])
def test_every_id_appears_whole_and_nothing_is_wider_than_the_console(
    wide_run: RunResult, width: int
) -> None:
    text = render(wide_run, width)
    lines = text.splitlines()
    too_wide = [line for line in lines if len(line.rstrip()) > width]
    assert not too_wide, too_wide[:3]
    for spec_id, *_ in LONG_SPECS:
        assert spec_id in text, (width, spec_id)
    for model_id in MODELS:
        assert model_id in text, (width, model_id)
    # an ellipsis only ever shortens a long spec id that is given whole below, with its key
    for line in lines:
        for match in re.finditer("(?<!\\[)…", line):
            assert re.match(r"… \[s\d+\]", line[match.start() :]), line
    # every number is whole: the FR of M0 on each spec is in the per-spec table
    m0 = wide_run.model("M0").aggregate.heldout_fr
    for value in m0.values():
        assert f"{100 * value:.1f}" in text


def test_at_160_columns_cells_stay_on_one_line_and_at_80_the_models_are_split(
    wide_run: RunResult,
) -> None:
    wide = render(wide_run, 160)
    assert "models: 1 retrain-random · 2 retrain-tfidf" in " ".join(wide.split())
    assert "(1 of" not in wide.split("Per label")[0]
    narrow = render(wide_run, 80)
    assert "Held-out spec failure rate (%) — run demo-bow-synthetic (1 of" in narrow
    # a spec id too long for the table is keyed, and listed whole under it
    assert "  counter-speech-that-quotes-… [s2]  30" in narrow
    assert "\n[s2] counter-speech-that-quotes-hate-in-order-to-reject-it-explicitly\n" in narrow


def test_fixed_broken_and_guard_marks_survive_without_colour(
    wide_run: RunResult, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    text = render(wide_run, 100, no_color=True)
    tfidf = next(c for c in wide_run.comparisons if (c["a"], c["b"]) == ("retrain-tfidf", "M0"))
    statuses = {item["status"] for item in tfidf["specs"].values()}
    assert {"fixed", "broken"} <= statuses, statuses
    assert "▼-" in text and "▲+" in text
    assert "▼ fixed / ▲ broken" in text
    assert "GUARD FAIL" in text and "retrain-dsir: GUARD FAIL: acc" in text
    # the same through `harness report`, piped, with NO_COLOR
    run_dir = write_run(tmp_path, wide_run, [])
    monkeypatch.setenv("NO_COLOR", "1")
    done = CliRunner().invoke(cli, ["report", str(run_dir)], env={"COLUMNS": "120"})
    assert done.exit_code == 0, done.output
    assert "\x1b[" not in done.stdout
    assert "▼-" in done.stdout and "▲+" in done.stdout and "GUARD FAIL" in done.stdout


def test_the_check_table_is_compact_and_warnings_follow_it(wide_run: RunResult) -> None:
    text = render(wide_run, 100)
    section = text.split("Expected-outcome check\n", 1)[1].split("Pre-training signal")[0]
    rows = [line for line in section.splitlines() if line.split()[:1] in (["PASS"], ["FAIL"])]
    guards = [c for c in wide_run.checks if c["kind"] == "guard"]
    fr_checks = [c for c in wide_run.checks if c["kind"] == "expected-outcome"]
    assert len(rows) == len(guards) + len(fr_checks)  # one row per check
    assert all(len(line) <= 100 for line in section.splitlines())
    first = rows[0].split()
    assert first[1:4] == ["mean", "FR", "retrain-tfidf"], rows[0]  # FR checks first
    for check in fr_checks:
        p_holm = check["p_holm"]
        assert any(f"{check['model']} < {check['baseline']}" in r for r in rows)
        assert any(r.rstrip().endswith(format_p(p_holm)) for r in rows)
    assert "each check in full: harness report RUN_DIR --format md|html|json" in " ".join(
        section.split()
    )


def test_the_pre_training_signal_is_explained_and_undefined_rows_are_named_once(
    wide_run: RunResult,
) -> None:
    flat = {**wide_run.signals[0], "model": "retrain-random", "signal": "coverage.n", "rho": None}
    run = wide_run.model_copy(update={"signals": [*wide_run.signals, flat]})
    text = " ".join(render(run, 120).split())
    section = text.split("Pre-training signal", 1)[1]
    assert "Spearman correlation across specs between the signal and the spec's FR drop" in section
    defined = [s for s in run.signals if s["rho"] is not None]
    undefined = [s for s in run.signals if s["rho"] is None]
    assert defined and undefined
    assert section.count("undefined") == 1
    for sig in undefined:
        assert f"{sig['model']} {sig['signal']}" in section
    for sig in defined:
        assert f"{sig['rho']:+.2f}" in section


def test_user_text_is_never_read_as_markup_by_progress_or_listings() -> None:
    for mode in ("bars", "lines"):
        out = io.StringIO()
        progress = Progress(Console(file=out, force_terminal=True, width=100), mode=mode)
        with progress.live(), progress.task("training [/x] [bold]b[/bold]", 3) as bar:
            bar.advance(1)
            progress.log("[/x] [bold]label[/bold] (seed 0)", style="dim")
        with progress.unit("[/x]", 1, 1):
            pass
        printed = out.getvalue()
        assert "[/x] [bold]label[/bold] (seed 0)" in printed, (mode, printed)


def test_listings_show_plugin_text_literally(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.commands import listing

    row = {"name": "t[/x]", "plugin": "p", "origin": "o", "description": "the [CLS] token [/x]"}
    monkeypatch.setattr(listing, "list_rows", lambda registries, kind: [row])
    done = CliRunner().invoke(cli, ["list", "tasks"], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    assert "t[/x]" in done.stdout and "the [CLS] token [/x]" in done.stdout


def test_report_on_a_folder_of_runs_lists_and_ranks_them(tmp_path: Path) -> None:
    first, samples, _ = build_run()
    second, samples2, _ = build_run(seeds=(0,), model="sklearn")
    runs = tmp_path / "runs"
    write_run(runs, analyse(first, samples), samples)
    write_run(runs, analyse(second, samples2), samples2)
    (runs / "not-a-run").mkdir()
    done = CliRunner().invoke(cli, ["report", str(runs)], env={"COLUMNS": "100"})
    assert done.exit_code == 0, done.output
    out = done.stdout
    assert "Leaderboard" in out and "Runs (2)" in out
    assert first.run_id in out and second.run_id in out
    assert "Held-out spec failure rate" not in out  # the list, not every run in full
    page = CliRunner().invoke(cli, ["report", str(runs), "--format", "md"])
    assert page.exit_code == 0 and page.stdout.count("## Run ") == 2
    empty = CliRunner().invoke(cli, ["report", str(runs / "not-a-run")])
    assert empty.exit_code == 2
    assert "no results.json here, and no run folder inside" in empty.stderr
