"""Sandboxing: spec templates cannot reach Python objects, YAML cannot build objects or explode,
run folders and caches hold only JSON / JSONL / safetensors / numpy files written atomically
(never pickle), and every text that reaches a report is escaped (HTML, Markdown, console)."""

from __future__ import annotations

import ast
import csv
import json
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from harness.cli import cli
from harness.errors import UserError
from harness.yamlio import load_yaml

ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------------------------------------
# Template injection
# ---------------------------------------------------------------------------------------------

INJECTIONS = [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ self.__init__.__globals__ }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ joiner.__init__.__globals__.os }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ x.__class__.__base__.__subclasses__() }}",
    "{{ x|attr('__class__') }}",
    "{% set y = x.__class__ %}{{ y }}",
    "{{ x.upper.__globals__ }}",
    "{{ ().__class__.__bases__[0].__subclasses__() }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
    "{{ config.items() }}",
    "{{ x * 100000 * 100000 }}",
]
"""Known server-side template injection payloads (and two resource bombs)."""

LEAKS = re.compile(r"<class '|<built-in |<function |<module '|<bound method |root:x:|uid=\d")
"""What would show up in the output if a payload had been evaluated."""


def suite_with(template: str, slot_value: str = "idiot") -> str:
    """A one-spec suite whose held-out template is ``template``."""
    return yaml.safe_dump(
        {
            "suite": "inj",
            "labels": ["non-toxic", "toxic"],
            "specs": [
                {
                    "id": "insult",
                    "label": "toxic",
                    "slots": {"x": [slot_value, "fool", "clown"]},
                    "templates": ["you {{ x }}"],
                    "heldout_templates": [template],
                }
            ],
        }
    )


@pytest.mark.parametrize("payload", INJECTIONS)
def test_template_injection_is_refused_by_specs_validate(payload: str, tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(suite_with(payload), encoding="utf-8")
    result = CliRunner().invoke(cli, ["specs", "validate", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "insult" in result.output and "suite.yaml" in result.output
    assert not LEAKS.search(result.output.replace(payload, "")), result.output


@pytest.mark.parametrize("payload", INJECTIONS[:4])
def test_template_injection_is_refused_by_run(payload: str, tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(suite_with(payload), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["run", "--specs", str(path), "--limit", "50", "--output-dir", str(out)]
    )
    assert result.exit_code == 2, result.output
    error = result.stderr.splitlines()[-1]
    assert error.startswith("error: ") and "suite.yaml" in error and "; " in error
    assert re.search(r"not allowed|refused|undefined|unsafe", error), error
    assert not LEAKS.search(error.replace(payload, ""))
    assert not out.exists()


def test_slot_values_are_data_not_templates(tmp_path: Path) -> None:
    from harness.specs.compiler import compile_suite_file

    path = tmp_path / "suite.yaml"
    sneaky = "{{ ''.__class__.__mro__ }}"
    path.write_text(suite_with("what {{ x }}", slot_value=sneaky), encoding="utf-8")
    suite = compile_suite_file(path)
    texts = [case.text for case in suite.specs[0].heldout_cases]
    assert f"what {sneaky}" in texts


# ---------------------------------------------------------------------------------------------
# YAML
# ---------------------------------------------------------------------------------------------

BILLION_LAUGHS = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(
            f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]"
            for p, n in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ]
)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("billion-laughs", BILLION_LAUGHS, "YAML bomb"),
        ("alias-keys", "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"k{i}: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" for i in range(3000)
        ), "YAML bomb"),
        ("deep-lists", "a: " + "[" * 5000 + "]" * 5000, "nested"),
        ("deep-maps", "".join("  " * i + f"k{i}:\n" for i in range(3000)), "nested"),
        ("python-object", "a: !!python/object/apply:os.system [echo pwned]\n", "tag"),
        ("python-name", "a: !!python/name:os.system\n", "tag"),
    ],
)  # fmt: skip
def test_hostile_yaml_is_a_one_line_error_and_fast(
    name: str, text: str, expected: str, tmp_path: Path
) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(UserError) as info:
        load_yaml(path)
    assert time.perf_counter() - start < 20
    line = info.value.one_line()
    assert "\n" not in line and str(path) in line
    assert expected.lower() in line.lower() or "yaml" in line.lower(), line


def test_moderate_aliases_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("base: &b {x: 1}\nitems: [*b, *b, *b]\n", encoding="utf-8")
    data, _ = load_yaml(path)
    assert data["items"] == [{"x": 1}] * 3


# ---------------------------------------------------------------------------------------------
# No pickle, anywhere
# ---------------------------------------------------------------------------------------------

UNSAFE_CALLS = {
    "pickle",
    "cPickle",
    "dill",
    "cloudpickle",
    "joblib",
    "shelve",
    "marshal",
}


def _python_files() -> list[Path]:
    files = []
    for folder in ("harness", "plugins", "benchmarks", "specs"):
        files.extend(sorted((ROOT / folder).rglob("*.py")))
    return files


def test_no_pickle_in_the_source() -> None:
    problems = []
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [(node.module or "").split(".")[0]]
            else:
                names = []
            bad = UNSAFE_CALLS.intersection(names)
            if bad:
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: imports {bad}")
            if isinstance(node, ast.Call):
                func = ast.unparse(node.func)
                keywords = {k.arg: ast.unparse(k.value) for k in node.keywords}
                if func.endswith(("np.load", "numpy.load")) and keywords.get(
                    "allow_pickle"
                ) not in (
                    None,
                    "False",
                ):
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: {func} with pickle")
                if func == "torch.load" and keywords.get("weights_only") != "True":
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: torch.load unsafe")
                if func.endswith("read_pickle") or func.endswith("to_pickle"):
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: {func}")
                if func.endswith("from_pretrained") and keywords.get("trust_remote_code") == "True":
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: remote code")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# One run with hostile text everywhere: artefacts, atomic writes, escaped reports
# ---------------------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
MARKUP = "[/bold][link=http://x]y[/link]"
PAYLOAD = f"{SCRIPT}{IMG}"
BAD = f"bad{SCRIPT}"
ROWS = [
    ("you are a lovely person", "ok"),
    ("what a kind thing to say", "ok"),
    ("have a great day", "ok"),
    ("you are an idiot", BAD),
    ("what a stupid clown", BAD),
    ("get lost you moron", BAD),
]
ALLOWED_SUFFIXES = {".json", ".jsonl", ".safetensors", ".npy", ".txt"}


def _write_inputs(tmp: Path) -> Path:
    for split, rows in (("train", ROWS * 10), ("test", ROWS * 2), ("pool", ROWS * 10)):
        with (tmp / f"{split}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            writer.writerows((f"{text} {PAYLOAD} {MARKUP}", label) for text, label in rows)
    suite = {
        "suite": f"suite{SCRIPT}",
        "description": f"about {PAYLOAD}",
        "labels": ["ok", BAD],
        "specs": [
            {
                "id": f"insult{SCRIPT}",
                "description": f"insults {PAYLOAD} {MARKUP}",
                "label": BAD,
                "tags": [SCRIPT, MARKUP],
                "group": IMG,
                "slots": {
                    "x": [f"idiot{SCRIPT}", f"fool{IMG}", f"clown{MARKUP}"]
                    + ["loser", "moron", "creep", "jerk", "pest", "weirdo", "nitwit", "slob"]
                },
                "templates": ["you {{ x }}"],
                "heldout_templates": ["what {{ x | a_an }}"],
            }
        ],
    }
    (tmp / "suite.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    run = {
        "task": "files",
        "task_args": {
            "train": str(tmp / "train.csv"),
            "test": str(tmp / "test.csv"),
            "pool": str(tmp / "pool.csv"),
            "name": f"task{SCRIPT}",
        },
        "specs": [str(tmp / "suite.yaml")],
        "budget": 10,
        "device": "cpu",
        "seeds": 1,
        "model_args": {"epochs": 2},
        "interventions": [
            {"name": "retrain", "label": f"fix{SCRIPT}{MARKUP}", "params": {"selection": "tfidf"}}
        ],
    }
    (tmp / "run.yaml").write_text(yaml.safe_dump(run), encoding="utf-8")
    return tmp / "run.yaml"


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Run once with hostile text in every field, recording every rename and every file opened
    for writing, and render each report format."""
    tmp = tmp_path_factory.mktemp("hostile")
    cache = tmp / "cache"
    config = _write_inputs(tmp)
    renamed: list[Path] = []
    real_replace, real_rename = os.replace, os.rename

    def replace(src: os.PathLike, dst: os.PathLike, *args: object, **kwargs: object) -> None:
        renamed.append(Path(dst).resolve())
        real_replace(src, dst, *args, **kwargs)

    def rename(src: os.PathLike, dst: os.PathLike, *args: object, **kwargs: object) -> None:
        renamed.append(Path(dst).resolve())
        real_rename(src, dst, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HARNESS_CACHE_DIR", str(cache))
        mp.setattr(os, "replace", replace)
        mp.setattr(os, "rename", rename)
        result = CliRunner().invoke(
            cli, ["run", "--config", str(config), "--output-dir", str(tmp / "out")]
        )
        assert result.exit_code == 0, result.output
        (run_dir,) = list((tmp / "out").iterdir())
        reports = {}
        for fmt, suffix in (("html", ".html"), ("md", ".md"), ("json", ".json")):
            target = tmp / f"report{suffix}"
            rendered = CliRunner().invoke(
                cli, ["report", str(run_dir), "--format", fmt, "-o", str(target)]
            )
            if rendered.exit_code == 0:
                reports[fmt] = target.read_text(encoding="utf-8")
            else:
                reports[fmt] = rendered
        console = CliRunner().invoke(cli, ["report", str(run_dir)])
    return {
        "run_dir": run_dir,
        "cache": cache,
        "renamed": renamed,
        "console": result.output + console.output,
        "reports": reports,
        "tmp": tmp,
    }


def test_run_folder_and_cache_hold_only_safe_formats(hostile_run: dict) -> None:
    files = [p for root in (hostile_run["run_dir"], hostile_run["cache"]) for p in root.rglob("*")]
    files = [p for p in files if p.is_file()]
    assert any(p.suffix == ".safetensors" for p in files)
    for path in files:
        assert path.suffix in ALLOWED_SUFFIXES, f"unexpected artefact {path}"
        assert not path.name.startswith("."), f"left-over temporary file {path}"
        head = path.read_bytes()[:2]
        assert head not in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05"), f"pickle {path}"
        if path.suffix == ".npy":
            np.load(path, allow_pickle=False)
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix == ".jsonl":
            for line in path.read_text(encoding="utf-8").splitlines():
                json.loads(line)


def test_every_artefact_was_written_atomically(hostile_run: dict) -> None:
    renamed = hostile_run["renamed"]
    for root in (hostile_run["run_dir"], hostile_run["cache"]):
        for path in root.rglob("*"):
            if not path.is_file():
                continue
            resolved = path.resolve()
            assert any(resolved == target or target in resolved.parents for target in renamed), (
                f"{path} was written in place (not through a temporary file and a rename)"
            )


def test_html_report_escapes_every_text(hostile_run: dict) -> None:
    html = hostile_run["reports"]["html"]
    assert isinstance(html, str), html.output
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for text in ("insult", "task", "fix", "bad"):
        assert f"{text}&lt;script&gt;" in html, f"{text}+payload missing (escaped) from report"


def test_markdown_report_has_no_raw_html(hostile_run: dict) -> None:
    markdown = hostile_run["reports"]["md"]
    assert isinstance(markdown, str), markdown.output
    assert "<script>alert" not in markdown and "<img src=x" not in markdown


def test_json_report_round_trips_the_text(hostile_run: dict) -> None:
    report = hostile_run["reports"]["json"]
    assert isinstance(report, str), report.output
    assert f"insult{SCRIPT}" in json.dumps(json.loads(report), ensure_ascii=False)


def test_console_output_shows_markup_literally(hostile_run: dict) -> None:
    console = hostile_run["console"]
    assert "Traceback" not in console
    assert f"fix{SCRIPT}[/bold]" in console


def test_run_artefacts_follow_the_umask(hostile_run: dict) -> None:
    mask = os.umask(0o022)
    os.umask(mask)
    for name in ("results.json", "samples.jsonl", "config.json"):
        mode = (hostile_run["run_dir"] / name).stat().st_mode & 0o777
        assert mode == 0o666 & ~mask, f"{name} has mode {oct(mode)}"
