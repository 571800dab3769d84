"""Command-line errors and options: messages without pydantic's prefixes, full paths and
file:line for intervention parameters, the ``--interventions`` grammar, flag values."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from harness.cli import cli
from harness.errors import UserError
from harness.flag_values import parse_interventions, parse_key_values


def invoke(args: list[str]) -> Result:
    """Run the command line in-process."""
    return CliRunner().invoke(cli, args)


def error_line(result: Result) -> str:
    """The one ``error:`` line of a failed command (exit status 2)."""
    assert result.exit_code == 2, result.output
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("error: ")]
    return line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--seeds", "0"], "error: --seeds: seeds must be a count >= 1 or a list of seeds"),
        (
            ["--interventions", "retrain:selection=tfidff"],
            "error: --interventions retrain:selection: unknown selector 'tfidff'; did you mean "
            "tfidf?",
        ),
        (
            ["--interventions", "retrain,relabel:k=-1,relabel"],
            "error: --interventions relabel:k (item 2): Input should be greater than or equal to 0",
        ),
        (["--interventions", "retrian"], "error: --interventions: unknown intervention 'retrian'"),
        (["--model-args", "epochs=x"], "error: --model-args epochs: Input should be a valid"),
    ],
)
def test_flag_errors_name_the_flag_without_pydantic_prefixes(
    args: list[str], expected: str
) -> None:
    line = error_line(invoke(["run", "--print-config", *args]))
    assert line.startswith(expected), line
    assert "Value error" not in line and ".:" not in line


def write_config(folder: Path, text: str) -> Path:
    """A run config in ``folder``."""
    path = folder / "run.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "interventions:\n  - name: retrain\n    params: {selection: tfidff}\n",
            ":3: interventions[0].params.selection: unknown selector 'tfidff'; did you mean tfidf?",
        ),
        (
            "interventions:\n  - name: retrain\n  - name: patch\n    params:\n      delta: -3\n",
            ":5: interventions[1].params.delta: delta must be >= 0",
        ),
        (
            "interventions:\n  - name: relabel\n    params:\n      similarity_args: {x: 1}\n",
            ":4: interventions[0].params.similarity_args: x: unknown key 'x'",
        ),
        (
            "interventions:\n  - name: augment\n    params: {per_spec: 2, budget: 10}\n",
            ":3: interventions[0].params: give per_spec or budget, not both",
        ),
        ("interventions:\n  - name: retrian\n", ":2: interventions[0].name: unknown intervention"),
    ],
)
def test_intervention_params_errors_give_the_file_line_and_full_path(
    tmp_path: Path, body: str, expected: str
) -> None:
    config = write_config(tmp_path, body)
    line = error_line(invoke(["run", "--config", str(config), "--print-config"]))
    assert line.startswith(f"error: {config}{expected}"), line
    assert "Value error" not in line and "params.:" not in line


def test_the_interventions_grammar() -> None:
    assert parse_interventions("retrain,patch") == [
        {"name": "retrain", "params": {}},
        {"name": "patch", "params": {}},
    ]
    assert parse_interventions(
        "retrain:selection=tfidf,budget=300,sources=[general, policy],patch:delta=0.01,"
        "relabel:method=rrf,stratify={toxic: 0.5, non-toxic: 0.5}"
    ) == [
        {
            "name": "retrain",
            "params": {"selection": "tfidf", "budget": 300, "sources": ["general", "policy"]},
        },
        {"name": "patch", "params": {"delta": 0.01}},
        {
            "name": "relabel",
            "params": {"method": "rrf", "stratify": {"toxic": 0.5, "non-toxic": 0.5}},
        },
    ]
    # a value holding ':' after its '=' is a parameter, not an intervention
    assert parse_interventions("retrain:stratify=toxic:0.6|non-toxic:0.4,delta=null") == [
        {"name": "retrain", "params": {"stratify": "toxic:0.6|non-toxic:0.4", "delta": None}}
    ]
    assert parse_interventions("") == []
    for bad, problem in (
        ("budget=3", "comes before any intervention name"),
        ("retrain:budget=3,budget=4", "'budget' is given twice for retrain"),
        (":budget=3", "has no name"),
        ("retrain:sources=[a, b", "unclosed ["),
        ("retrain:selection", "expected key=value"),
    ):
        with pytest.raises(UserError, match=problem.replace("[", r"\[")) as caught:
            parse_interventions(bad)
        assert caught.value.field == "--interventions"


def test_interventions_flag_reaches_the_config() -> None:
    done = invoke(
        [
            "run",
            "--print-config",
            "--interventions",
            "retrain:selection=random,retrain:selection=tfidf,sources=general|policy,patch",
        ]
    )
    assert done.exit_code == 0, done.output
    printed = yaml.safe_load(done.stdout)["interventions"]
    assert [(i["name"], i["params"]) for i in printed] == [
        ("retrain", {"selection": "random"}),
        ("retrain", {"selection": "tfidf", "sources": "general|policy"}),
        ("patch", {}),
    ]
    assert "name:key=value" in invoke(["run", "--help"]).output


def test_key_values_keep_bracketed_lists_and_mappings() -> None:
    assert parse_key_values("epochs=2,class_weight={hateful: 5, other: 1},labels=[a, b]", "-x") == {
        "epochs": 2,
        "class_weight": {"hateful": 5, "other": 1},
        "labels": ["a", "b"],
    }
    # plain values stay scalars; a value that only looks like YAML stays a string
    assert parse_key_values("label_map=0:neg|1:pos,name=a: b,path=data[1].csv", "-x") == {
        "label_map": "0:neg|1:pos",
        "name": "a: b",
        "path": "data[1].csv",
    }
