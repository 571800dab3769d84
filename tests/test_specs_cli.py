"""``harness specs validate|preview|stats`` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.cli import cli

GOOD = """\
suite: mini
labels: [non-toxic, toxic]
slots:
  who: [Sam, Alex, Kim, Omar, Lena]
  insult: [idiot, fool, clown]
specs:
  - id: insult
    label: toxic
    templates:
      - "You are {{ insult | a_an }}, {{ who }}."
    heldout_templates:
      - "What {{ insult | a_an }} {{ who }} is."
  - id: praise
    label: non-toxic
    templates:
      - "You are kind, {{ who }}."
    heldout_templates:
      - "{{ who }} is lovely and {{ insult }}-free."
"""


def invoke(*args: str) -> Result:
    """Run ``harness ARGS``."""
    return CliRunner().invoke(cli, list(args))


def write(tmp_path: Path, text: str, name: str = "suite.yaml") -> Path:
    """Write a suite file."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_lines(result: Result) -> list[str]:
    """Non-empty output lines."""
    return [line for line in result.output.splitlines() if line.strip()]


def test_validate_ok(tmp_path: Path) -> None:
    result = invoke("specs", "validate", str(write(tmp_path, GOOD)), "demo")
    assert result.exit_code == 0, result.output
    assert "ok: 2 suite(s), 12 spec(s)" in result.output


@pytest.mark.parametrize(
    ("change", "line", "spec_id", "message"),
    [
        (("{{ who }} is.", "{{ nobody }} is."), 12, "insult", "undefined slot 'nobody'"),
        (("{{ who }} is.", "{{ who | shout }} is."), 12, "insult", "unknown filter 'shout'"),
        (("id: praise", "id: insult"), 13, "insult", "duplicate spec id 'insult'"),
        (("label: toxic", "label: toxc"), 8, "insult", "label 'toxc' is not in the suite's labels"),
        (("who: [Sam,", "who: {Sam,"), 4, None, "YAML syntax error"),
        (
            ("What {{ insult | a_an }}", "What {{ ''.__class__.__mro__ }}"),
            12,
            "insult",
            "attribute access ('__mro__') is not allowed",
        ),
        (
            ("What {{ insult | a_an }}", "What {{ cycler.__init__.__globals__ }}"),
            12,
            "insult",
            "attribute access ('__globals__') is not allowed",
        ),
    ],
)
def test_validate_errors_one_line_with_file_line_and_spec(
    tmp_path: Path, change: tuple[str, str], line: int, spec_id: str | None, message: str
) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    result = invoke("specs", "validate", str(path))
    assert result.exit_code == 2, result.output
    (only,) = error_lines(result)
    location = f"{path}:{line}: " + (f"{spec_id}: " if spec_id else "")
    assert only.startswith(f"error: {location}"), only
    assert message in only


def test_label_not_in_task_labels(tmp_path: Path) -> None:
    text = GOOD.replace("[non-toxic, toxic]", "[spam, ham]").replace("label: toxic", "label: spam")
    path = write(tmp_path, text.replace("label: non-toxic", "label: ham"))
    assert invoke("specs", "validate", str(path)).exit_code == 0
    result = invoke("specs", "validate", str(path), "--task", "demo")
    assert result.exit_code == 2
    lines = error_lines(result)
    assert lines[0] == (
        f"error: {path}:7: insult: label 'spam' is not one of the task's labels; "
        "use one of: non-toxic, toxic"
    )
    assert lines[1].startswith(f"error: {path}:13: praise: label 'ham'")


def test_validate_reports_every_file_and_duplicate_ids_across_files(tmp_path: Path) -> None:
    good = write(tmp_path, GOOD, "a.yaml")
    same = write(tmp_path, GOOD.replace("suite: mini", "suite: other"), "b.yaml")
    broken = write(tmp_path, GOOD.replace("{{ who }} is.", "{{ x }} is."), "c.yaml")
    result = invoke("specs", "validate", str(good), str(same), str(broken))
    assert result.exit_code == 2
    lines = error_lines(result)
    assert any(
        f"{broken}:12: insult: template insult/heldout-1: undefined slot" in x for x in lines
    )
    assert any(
        f"{same}:7: insult: duplicate spec id 'insult' (also in suite 'mini')" in x for x in lines
    )


def test_strict_makes_identical_texts_errors(tmp_path: Path) -> None:
    leaky = GOOD.replace(
        '    heldout_templates:\n      - "{{ who }} is lovely',
        '    cases:\n      heldout: ["You are kind, Sam."]\n    heldout_templates:\n'
        '      - "{{ who }} is lovely',
    )
    path = write(tmp_path, leaky)
    loose = invoke("specs", "validate", str(path), "--min-heldout", "1")
    assert loose.exit_code == 0, loose.output
    assert (
        "warning:" in loose.output and "1 of 16 held-out case(s) have the same text" in loose.output
    )
    strict = invoke("specs", "validate", str(path), "--strict", "--min-heldout", "1")
    assert strict.exit_code == 2
    (only,) = error_lines(strict)
    assert only.startswith(f"error: {path}:13: praise: 1 of 16 held-out case(s)")


def test_validate_hatecheck_prefix_and_source_options(tmp_path: Path) -> None:
    path = tmp_path / "hc.csv"
    rows = ["functionality,test_case,label_gold,templ_id"]
    rows += [f"slur_h,text {t} {k},hateful,{t}" for t in range(4) for k in range(6)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = invoke("specs", "validate", f"hatecheck:{path}")
    assert result.exit_code == 0, result.output
    mapped = invoke(
        "specs", "validate", str(path), "--source", "hatecheck", "--task", "demo",
        "--option", "label_map={hateful: toxic}",
    )  # fmt: skip
    assert mapped.exit_code == 0, mapped.output
    unmapped = invoke("specs", "validate", f"hatecheck:{path}", "--task", "demo")
    assert unmapped.exit_code == 2
    assert f"{path}:2: slur_h: label 'hateful'" in unmapped.output


def test_preview_and_stats(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    preview = invoke("specs", "preview", str(path), "-n", "2", "--split", "heldout")
    assert preview.exit_code == 0, preview.output
    assert "heldout" in preview.output and "train" not in preview.output.replace("heldout", "")
    assert preview.output.count("insult/heldout-1") == 2
    stats = invoke("specs", "stats", str(path), "--json")
    assert stats.exit_code == 0, stats.output
    rows = {row["spec_id"]: row for row in json.loads(stats.output)}
    assert rows["insult"]["train_cases"] == 15 and rows["insult"]["heldout_cases"] == 15
    assert rows["praise"]["train_templates"] == 1 and rows["praise"]["heldout_in_train_cases"] == 0
    table = invoke("specs", "stats", "demo", "--task", "demo")
    assert table.exit_code == 0, table.output
    assert "negated-insult" in table.output and "total" in table.output


def test_preview_unknown_suite_is_one_line(tmp_path: Path) -> None:
    result = invoke("specs", "preview", "dmeo")
    assert result.exit_code == 2
    (only,) = error_lines(result)
    assert "unknown spec suite 'dmeo'" in only and "did you mean demo" in only
