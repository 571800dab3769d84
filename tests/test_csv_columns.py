"""The csv spec source on HateModerate-shaped files: a held-out file with its own columns, a
guideline file with more than two columns, and errors that list the columns a file has."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.api import SpecSuite
from harness.cli import cli
from harness.config import SpecRef
from harness.errors import UserError
from harness.plugins import load_registries
from harness.specs.loading import load_suites

GUIDELINES = {"g1": "Dehumanising comparisons", "g2": "Calls for exclusion", "g3": "Slurs"}


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def hatemoderate(folder: Path) -> Path:
    """``train.csv`` (text column ``text``), ``test.csv`` (``sentence``) and a three-column
    ``guidelines.csv``: HateModerate's layout. Each guideline has examples of both labels."""
    folder.mkdir(parents=True, exist_ok=True)
    train, test = [], []
    for g in GUIDELINES:
        for i in range(4):
            train.append([g, f"train {g} example {i}", i % 2])
        for i in range(3):
            test.append([f"{g}", f"test {g} sentence {i}", i % 2])
    write_csv(folder / "train.csv", ["guideline", "text", "labels"], train)
    write_csv(folder / "test.csv", ["guideline", "sentence", "labels"], test)
    write_csv(
        folder / "guidelines.csv",
        ["category", "guideline", "description"],
        [["hate", g, text] for g, text in GUIDELINES.items()],
    )
    return folder / "train.csv"


BASE = {
    "spec_column": "guideline",
    "text_column": "text",
    "label_column": "labels",
    "label_map": {0: "non-toxic", 1: "toxic"},
    "mixed_labels": "split",
}


def load(ref: Path, **options: Any) -> SpecSuite:
    (suite,) = load_suites(
        [SpecRef(ref=str(ref), source="csv", options=options)], load_registries().spec_sources
    )
    return suite


def test_heldout_file_with_its_own_text_column_and_a_three_column_guideline_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = hatemoderate(tmp_path)
    suite = load(
        train,
        **BASE,
        heldout={"file": "test.csv", "text_column": "sentence"},
        descriptions="guidelines.csv",
        description_id_column="guideline",
        description_text_column="description",
    )
    specs = {spec.id: spec for spec in suite.specs}
    assert sorted(specs) == sorted(f"{g}:{label}" for g in GUIDELINES for label in LABELS)
    toxic = specs["g2:toxic"]
    assert [c.text for c in toxic.train_cases] == ["train g2 example 1", "train g2 example 3"]
    assert [c.text for c in toxic.heldout_cases] == ["test g2 sentence 1"]
    assert toxic.description == "Calls for exclusion"
    assert all(spec.description == GUIDELINES[spec.id.split(":")[0]] for spec in suite.specs)
    assert "warning" not in capsys.readouterr().err

    # The guideline file's columns are found by name without the options, too: the spec
    # column's name for ids, `description` for the text.
    again = load(train, **BASE, heldout_file="test.csv", heldout={"text_column": "sentence"})
    assert not any(spec.description for spec in again.specs)
    named = load(
        train,
        **BASE,
        heldout={"file": "test.csv", "text_column": "sentence"},
        descriptions="guidelines.csv",
    )
    assert named.specs[0].description == GUIDELINES["g1"]


LABELS = ("non-toxic", "toxic")


def test_heldout_file_with_its_own_label_and_spec_columns(tmp_path: Path) -> None:
    hatemoderate(tmp_path)
    write_csv(
        tmp_path / "test.csv",
        ["policy", "sentence", "gold"],
        [[g, f"held {g} {i}", "yes" if i % 2 else "no"] for g in GUIDELINES for i in range(2)],
    )
    heldout = {
        "file": "test.csv",
        "spec_column": "policy",
        "text_column": "sentence",
        "label_column": "gold",
        "label_map": {"no": "non-toxic", "yes": "toxic"},
    }
    suite = load(tmp_path / "train.csv", **BASE, heldout=heldout)
    spec = next(s for s in suite.specs if s.id == "g3:non-toxic")
    assert [c.text for c in spec.heldout_cases] == ["held g3 0"]


def error_of(train: Path, **options: Any) -> str:
    with pytest.raises(UserError) as info:
        load(train, **options)
    return info.value.one_line()


def test_missing_columns_name_the_file_the_option_and_every_column(tmp_path: Path) -> None:
    train = hatemoderate(tmp_path)
    line = error_of(train, **BASE, heldout_file="test.csv")
    assert line.startswith(f"{tmp_path / 'test.csv'}: options.text_column: column 'text' not found")
    assert "columns: guideline, sentence, labels" in line
    assert "set heldout: {text_column: NAME}" in line

    line = error_of(train, **BASE, heldout={"file": "test.csv", "text_column": "sentnce"})
    assert "test.csv: options.heldout.text_column: column 'sentnce' not found" in line
    assert "did you mean sentence?" in line

    line = error_of(train, **{**BASE, "text_column": "txt"})
    assert "train.csv: options.text_column: column 'txt' not found" in line
    assert "columns: guideline, text, labels" in line

    line = error_of(
        train,
        **BASE,
        heldout={"file": "test.csv", "text_column": "sentence"},
        descriptions="guidelines.csv",
        description_text_column="summary",
    )
    assert "guidelines.csv: options.description_text_column: column 'summary' not found" in line
    assert "columns: category, guideline, description" in line

    line = error_of(
        train,
        **BASE,
        heldout={"file": "test.csv", "text_column": "sentence"},
        descriptions="guidelines.csv",
        description_id_column="policy",
    )
    assert "options.description_id_column: column 'policy' not found" in line


def test_jsonl_heldout_file_missing_a_key_lists_the_keys(tmp_path: Path) -> None:
    train = hatemoderate(tmp_path)
    rows = [{"guideline": "g1", "sentence": "held", "labels": 1}]
    (tmp_path / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    heldout = {"file": "test.jsonl", "text_column": "sentence", "label_column": "label"}
    line = error_of(train, **BASE, heldout=heldout)
    assert "test.jsonl: options.heldout.label_column: column 'label' not found" in line
    assert "columns: guideline, labels, sentence" in line


def test_conflicting_heldout_options_are_one_line_errors(tmp_path: Path) -> None:
    train = hatemoderate(tmp_path)
    both = error_of(train, **BASE, heldout_file="test.csv", heldout={"file": "test.csv"})
    assert "give either heldout_file or heldout.file, not both" in both
    no_file = error_of(train, **BASE, heldout={"text_column": "sentence"})
    assert "options.heldout: the heldout block names no file" in no_file
    typo = error_of(train, **BASE, heldout={"file": "test.csv", "text_colum": "sentence"})
    assert "specs.options.heldout.text_colum: unknown key 'text_colum'; did you mean" in typo


def test_descriptions_that_match_no_spec_warn_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = hatemoderate(tmp_path)
    write_csv(
        tmp_path / "guidelines.csv",
        ["number", "title", "text"],
        [[i, f"Guideline {g}", text] for i, (g, text) in enumerate(GUIDELINES.items(), 1)],
    )
    options = {**BASE, "heldout": {"file": "test.csv", "text_column": "sentence"}}
    suite = load(train, **options, descriptions="guidelines.csv")
    assert not any(spec.description for spec in suite.specs)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"warning: {tmp_path / 'guidelines.csv'} (columns 1 and 2, no header)")
    assert "no description matched any of the 6 specs" in err[0]

    load(
        train,
        **options,
        descriptions="guidelines.csv",
        description_id_column="title",
        description_text_column="text",
    )
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "(id column 'title', description column 'text')" in line
    assert "no description matched any of the 6 specs" in line
    assert "ids in the file: 'Guideline g1'" in line

    (tmp_path / "partial.yaml").write_text("g1: One\n", encoding="utf-8")
    load(train, **options, descriptions="partial.yaml")
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "partial.yaml: 4 of 6 specs got no description" in line


def test_specs_validate_cli_with_a_heldout_block(tmp_path: Path) -> None:
    train = hatemoderate(tmp_path)
    common = [
        "specs", "validate", str(train), "--source", "csv", "--option", "spec_column=guideline",
        "--option", "label_column=labels", "--option", "label_map={0: non-toxic, 1: toxic}",
        "--option", "mixed_labels=split", "--option", "descriptions=guidelines.csv",
    ]  # fmt: skip
    good = CliRunner().invoke(
        cli, [*common, "--option", "heldout={file: test.csv, text_column: sentence}"]
    )
    assert good.exit_code == 0, good.output
    assert "ok: 1 suite(s), 6 spec(s), 21 case(s)" in good.output
    bad = CliRunner().invoke(cli, [*common, "--option", "heldout={file: test.csv}"])
    assert bad.exit_code == 2
    assert "options.text_column: column 'text' not found" in bad.output
    assert "columns: guideline, sentence, labels" in bad.output


def test_hf_heldout_split_with_its_own_text_column(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    train = datasets.Dataset.from_dict(
        {"guideline": ["g1"] * 3, "text": [f"train {i}" for i in range(3)], "labels": [1] * 3}
    )
    test = datasets.Dataset.from_dict(
        {"guideline": ["g1"] * 2, "sentence": [f"test {i}" for i in range(2)], "labels": [1] * 2}
    )
    folder = tmp_path / "hm"
    datasets.DatasetDict({"train": train, "test": test}).save_to_disk(str(folder))
    options = {
        "spec_column": "guideline",
        "label_column": "labels",
        "label_map": {1: "toxic"},
        "heldout_split": "test",
    }

    def hf(**extra: Any) -> SpecSuite:
        refs = [SpecRef(ref=str(folder), source="hf", options={**options, **extra})]
        (suite,) = load_suites(refs, load_registries().spec_sources)
        return suite

    (spec,) = hf(heldout={"text_column": "sentence"}).specs
    assert [c.text for c in spec.heldout_cases] == ["test 0", "test 1"]
    with pytest.raises(UserError, match="options.text_column: column 'text' not found"):
        hf()
    with pytest.raises(UserError, match="a held-out file is for csv suites"):
        hf(heldout_file="test.csv")
    with pytest.raises(UserError, match="no heldout_split is set"):
        hf(heldout={"text_column": "sentence"}, heldout_split=None)
