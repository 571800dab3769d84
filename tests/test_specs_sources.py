"""Spec sources: yaml, hatecheck, csv (CSV/TSV/JSONL) and hf, on small files written here."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from harness.api import SpecSuite
from harness.config import SpecRef
from harness.errors import UserError
from harness.plugins import load_registries
from harness.specs.loading import flatten_specs, load_suites

HATECHECK_COLUMNS = [
    "",
    "functionality",
    "case_id",
    "test_case",
    "label_gold",
    "target_ident",
    "direction",
    "focus_words",
    "focus_lemma",
    "ref_case_id",
    "ref_templ_id",
    "templ_id",
    "case_templ",
]
FUNCTIONALITIES = {
    "derog_neg_emote_h": "hateful",
    "ident_neutral_nh": "non-hateful",
    "counter_quote_nh": "non-hateful",
}
IDENTS = ["women", "immigrants", "gay people"]


def write_hatecheck(path: Path, templates_per_functionality: int = 7) -> Path:
    """A HateCheck-shaped CSV: every functionality has several templates, each with one case
    per identity."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HATECHECK_COLUMNS)
        n = 0
        for f_index, (functionality, label) in enumerate(FUNCTIONALITIES.items()):
            for t in range(templates_per_functionality):
                templ_id = f_index * 100 + t + 1
                template = f"[IDENTITY_P] template {templ_id} of {functionality}"
                for ident in IDENTS:
                    n += 1
                    text = template.replace("[IDENTITY_P]", ident)
                    writer.writerow(
                        [n - 1, functionality, n, text, label, ident, "general", "", "", "", "",
                         templ_id, template]
                    )  # fmt: skip
    return path


def load(ref: str, source: str | None = None, seed: int = 0, **options: Any) -> list[SpecSuite]:
    """Load ``ref`` through the registered spec sources, as a run config would."""
    sources = load_registries().spec_sources
    return load_suites([SpecRef(ref=ref, source=source, options=options)], sources, seed=seed)


def splits_by_template(suite: SpecSuite) -> dict[str, tuple[set[str], set[str]]]:
    """``{spec id: (D_i template ids, held-out template ids)}``."""
    return {
        s.id: (
            {c.template_id for c in s.train_cases if c.template_id},
            {c.template_id for c in s.heldout_cases if c.template_id},
        )
        for s in suite.specs
    }


# --- hatecheck ------------------------------------------------------------------------------


def test_hatecheck_one_spec_per_functionality_with_disjoint_template_split(
    tmp_path: Path,
) -> None:
    path = write_hatecheck(tmp_path / "hatecheck.csv")
    (suite,) = load(str(path), source="hatecheck")
    assert suite.name == "hatecheck"
    assert [s.id for s in suite.specs] == list(FUNCTIONALITIES)
    for spec in suite.specs:
        assert spec.label == FUNCTIONALITIES[spec.id]
        assert spec.description  # from the built-in functionality table
        assert len(spec.train_cases) + len(spec.heldout_cases) == 7 * len(IDENTS)
        assert spec.heldout_cases[0].slots["target_ident"] in IDENTS
        assert spec.source_line is not None
    for train_t, heldout_t in splits_by_template(suite).values():
        assert not train_t & heldout_t
        assert len(heldout_t) == 4 and len(train_t) == 3  # round(0.5 * 7) held out
    assert suite.specs[0].train_cases[0].id.isdigit()  # case_id column


def test_hatecheck_same_seed_same_split_other_seed_other_split(tmp_path: Path) -> None:
    path = write_hatecheck(tmp_path / "hc.csv", templates_per_functionality=12)
    first = splits_by_template(load(f"hatecheck:{path}", seed=1)[0])
    again = splits_by_template(load(f"hatecheck:{path}", seed=1)[0])
    assert first == again
    others = [splits_by_template(load(str(path), source="hatecheck", seed=s)[0]) for s in (2, 3)]
    assert any(other != first for other in others)
    # An explicit `seed` option pins the split whatever the run's seed is.
    assert splits_by_template(_load_with_option_seed(path)) == first


def _load_with_option_seed(path: Path) -> SpecSuite:
    sources = load_registries().spec_sources
    ref = SpecRef(ref=str(path), source="hatecheck", options={"seed": 1})
    return load_suites([ref], sources, seed=42)[0]


def test_hatecheck_fraction_label_map_and_flatten_against_task_labels(tmp_path: Path) -> None:
    path = write_hatecheck(tmp_path / "hc.csv", templates_per_functionality=10)
    (suite,) = load(
        str(path),
        source="hatecheck",
        heldout_fraction=0.3,
        label_map={"hateful": "toxic", "non-hateful": "non-toxic"},
    )
    for train_t, heldout_t in splits_by_template(suite).values():
        assert (len(train_t), len(heldout_t)) == (7, 3)
    specs = flatten_specs([suite], ["non-toxic", "toxic"])
    assert {s.label for s in specs} == {"toxic", "non-toxic"}
    with pytest.raises(UserError, match="label 'hateful' is not one of the task's labels"):
        flatten_specs(load(str(path), source="hatecheck"), ["non-toxic", "toxic"])


def test_hatecheck_missing_column_is_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "hc.csv"
    path.write_text("functionality,test_case,label\nslur_h,hello,hateful\n", encoding="utf-8")
    with pytest.raises(UserError) as info:
        load(str(path), source="hatecheck")
    line = info.value.one_line()
    assert "hc.csv: options.label_column: column 'label_gold' not found" in line
    assert "did you mean label?" in line


# --- csv ------------------------------------------------------------------------------------


def test_csv_with_split_column_and_label_map(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    rows = [["guideline", "sentence", "labels", "part"]]
    for i in range(4):
        rows.append(["no-threats", f"threat sentence {i}", "1", "train" if i < 2 else "test"])
        rows.append(["respect", f"kind sentence {i}", "0", "train" if i % 2 else "test"])
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    (suite,) = load(
        str(path),
        spec_column="guideline",
        text_column="sentence",
        label_column="labels",
        label_map={0: "non-toxic", 1: "toxic"},  # YAML-style integer keys
        split_column="part",
        suite="policy",
    )
    assert suite.name == "policy" and suite.source == str(path)
    by_id = {s.id: s for s in suite.specs}
    assert by_id["no-threats"].label == "toxic"
    assert [c.text for c in by_id["no-threats"].train_cases] == [
        "threat sentence 0",
        "threat sentence 1",
    ]
    assert [c.text for c in by_id["respect"].heldout_cases] == [
        "kind sentence 0",
        "kind sentence 2",
    ]
    assert by_id["no-threats"].source_line == 2 and by_id["respect"].source_line == 3
    assert by_id["respect"].train_cases[0].id == "cases.csv:5"


def test_csv_train_and_heldout_files_with_descriptions(tmp_path: Path) -> None:
    header = "guideline\ttext\tlabel\n"
    (tmp_path / "train.tsv").write_text(
        header + "".join(f"g1\ttrain text {i}\thateful\n" for i in range(3)), encoding="utf-8"
    )
    (tmp_path / "test.tsv").write_text(
        header + "".join(f"g1\ttest text {i}\thateful\n" for i in range(2)), encoding="utf-8"
    )
    (tmp_path / "desc.yaml").write_text("g1: Dehumanising comparisons\n", encoding="utf-8")
    (suite,) = load(
        str(tmp_path / "train.tsv"),
        source="csv",
        spec_column="guideline",
        heldout_file="test.tsv",  # relative to the main file's folder
        descriptions="desc.yaml",
    )
    (spec,) = suite.specs
    assert spec.description == "Dehumanising comparisons"
    assert [c.text for c in spec.train_cases] == [f"train text {i}" for i in range(3)]
    assert [c.text for c in spec.heldout_cases] == ["test text 0", "test text 1"]
    (tmp_path / "desc.csv").write_text("spec,description\ng1,From CSV\n", encoding="utf-8")
    (again,) = load(
        str(tmp_path / "train.tsv"),
        spec_column="guideline",
        heldout_file=str(tmp_path / "test.tsv"),
        descriptions=str(tmp_path / "desc.csv"),
    )
    assert again.specs[0].description == "From CSV"


def test_jsonl_template_column_split_is_disjoint_and_seeded(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    lines = []
    for t in range(6):
        for k in range(3):
            lines.append(
                json.dumps({"spec": "s", "text": f"t{t} case {k}", "label": "a", "tpl": t})
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    first = splits_by_template(load(str(path), template_column="tpl", seed=4)[0])["s"]
    assert not first[0] & first[1] and len(first[0]) == 3 and len(first[1]) == 3
    assert splits_by_template(load(str(path), template_column="tpl", seed=4)[0])["s"] == first
    # Without a template column, rows are split (seeded) instead.
    (rows_split,) = load(str(path), heldout_fraction=0.25)
    assert len(rows_split.specs[0].heldout_cases) == 5  # 0.25 * 18 rounded half up


def test_csv_encoding_option(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(
        "spec,text,label,split\ns,café crème,a,train\ns,naïve,a,heldout\n".encode("latin-1")
    )
    with pytest.raises(UserError, match="not valid utf-8"):
        load(str(path), split_column="split")
    (suite,) = load(str(path), split_column="split", encoding="latin-1")
    assert suite.specs[0].train_cases[0].text == "café crème"


def test_csv_errors_are_one_line_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("spec,text,label\na,x,pos\na,y,neg\n", encoding="utf-8")
    with pytest.raises(UserError) as info:
        load(str(path))
    assert info.value.one_line().startswith(f"{path}:3: a: rows of one spec have labels 'pos'")
    (split,) = load(str(path), mixed_labels="split")
    assert sorted(s.id for s in split.specs) == ["a:neg", "a:pos"]
    path.write_text("spec,text,label,part\na,x,pos,dev\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"bad.csv:2: options.split_column: split value 'dev'"):
        load(str(path), split_column="part")
    with pytest.raises(UserError, match="label value 'pos' is not in label_map"):
        load(str(path), label_map={"1": "toxic"})
    with pytest.raises(UserError, match="unknown key 'text_col'"):
        load(str(path), text_col="text")
    bad_json = tmp_path / "bad.jsonl"
    bad_json.write_text('{"spec": "a", "text": "x", "label": "p"}\n{oops\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"bad.jsonl:2: invalid JSON"):
        load(str(bad_json))


def test_suffix_guess_and_prefix_forms(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("spec,text,label,split\ns,x,a,train\ns,y,a,heldout\n", encoding="utf-8")
    assert load(str(path), split_column="split")[0].specs[0].id == "s"  # guessed from .csv
    assert load(f"csv:{path}", split_column="split")[0].specs[0].id == "s"


# --- yaml -----------------------------------------------------------------------------------


def test_yaml_source_shipped_suite_folder_and_options(tmp_path: Path) -> None:
    (demo,) = load("demo")
    assert len(demo.specs) == 10
    (capped,) = load("demo", max_cases=5, seed=1)
    assert all(len(s.heldout_cases) <= 5 for s in capped.specs)
    suite_text = (
        "suite: {name}\nlabels: [a]\nspecs:\n  - id: {name}-s\n    label: a\n"
        '    templates: ["x {{{{ 1 }}}}"]\n    heldout_templates: ["y"]\n'
    )
    for name in ("one", "two"):
        (tmp_path / f"{name}.yaml").write_text(suite_text.format(name=name), encoding="utf-8")
    assert [s.name for s in load(str(tmp_path))] == ["one", "two"]
    with pytest.raises(UserError, match="unknown key 'cap'"):
        load("demo", cap=3)


# --- hf -------------------------------------------------------------------------------------


def test_hf_source_local_dataset_and_dataset_dict(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    records: dict[str, list[Any]] = {"functionality": [], "test_case": [], "label": [], "templ": []}
    for t in range(8):
        for k in range(2):
            records["functionality"].append("f1" if t < 4 else "f2")
            records["test_case"].append(f"case {t}-{k}")
            records["label"].append(1 if t < 4 else 0)
            records["templ"].append(f"T{t}")
    features = datasets.Features(
        {
            "functionality": datasets.Value("string"),
            "test_case": datasets.Value("string"),
            "label": datasets.ClassLabel(names=["non-toxic", "toxic"]),
            "templ": datasets.Value("string"),
        }
    )
    data = datasets.Dataset.from_dict(records, features=features)
    single = tmp_path / "single"
    data.save_to_disk(str(single))
    options = {
        "spec_column": "functionality",
        "text_column": "test_case",
        "template_column": "templ",
    }
    (suite,) = load(str(single), source="hf", seed=3, **options)
    assert {s.id: s.label for s in suite.specs} == {"f1": "toxic", "f2": "non-toxic"}
    for train_t, heldout_t in splits_by_template(suite).values():
        assert len(train_t) == 2 and len(heldout_t) == 2 and not train_t & heldout_t
    assert splits_by_template(load(str(single), source="hf", seed=3, **options)[0]) == (
        splits_by_template(suite)
    )
    both = tmp_path / "dict"
    datasets.DatasetDict(
        {"train": data.select(range(0, 16, 2)), "test": data.select(range(1, 16, 2))}
    ).save_to_disk(str(both))
    (split_suite,) = load(f"hf:{both}", heldout_split="test", **options)
    f1 = next(s for s in split_suite.specs if s.id == "f1")
    assert [c.text for c in f1.train_cases] == [f"case {t}-0" for t in range(4)]
    assert [c.text for c in f1.heldout_cases] == [f"case {t}-1" for t in range(4)]
    with pytest.raises(UserError, match="the dataset has no split 'dev'"):
        load(str(both), source="hf", heldout_split="dev", **options)
    with pytest.raises(UserError, match="cannot load the dataset|dataset not found"):
        load(str(tmp_path / "missing-folder" / "x"), source="hf", **options)


def test_csv_line_numbers_survive_blank_lines_and_quoted_newlines(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_text(
        'spec,text,label\n\na,"two\nlines",x\n\nb,second,y\nb,third,z\n', encoding="utf-8"
    )
    with pytest.raises(UserError) as info:
        load(str(path), split_column=None)
    assert info.value.one_line().startswith(f"{path}:7: b: rows of one spec have labels 'y'")
    path.write_text('spec,text,label\n\na,"two\nlines",x\n\nb,second,y\n', encoding="utf-8")
    (suite,) = load(str(path))
    assert {s.id: s.source_line for s in suite.specs} == {"a": 3, "b": 6}
    cases = {c.text: c.id for s in suite.specs for c in s.train_cases + s.heldout_cases}
    assert cases == {"two\nlines": "lines.csv:3", "second": "lines.csv:6"}
