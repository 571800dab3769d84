"""Meta-tests of the plugin docs: every hook is declared in ``HOOK_NAMES``, documented in
``docs/plugins.md`` (signature, description, example) and tested in ``test_plugin_hooks.py``;
the class reference, the results schema and the built-in plugins' arguments are generated
from the code and current."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness import hookspecs
from harness.cli import cli
from harness.plugin_docs import (
    BEGIN,
    END,
    hook_parts,
    hook_signature,
    main,
    render_reference,
    rst_to_markdown,
    update_document,
)

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "plugins.md"
HOOK_TESTS = Path(__file__).resolve().parent / "test_plugin_hooks.py"
REGENERATE = "python -m harness.plugin_docs docs/plugins.md"


@pytest.fixture(scope="module")
def docs() -> str:
    return DOCS.read_text(encoding="utf-8")


def hook_section(docs: str, name: str) -> str:
    """The text of ``### name`` up to the next heading."""
    match = re.search(rf"^### {re.escape(name)}\n(.*?)(?=^#{{1,3}} |\Z)", docs, re.S | re.M)
    assert match, f"docs/plugins.md has no '### {name}' section; run {REGENERATE}"
    return match.group(1)


def test_hook_names_are_every_hookspec() -> None:
    declared = {
        name
        for name, value in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(value, "harness_spec")
    }
    assert set(hookspecs.HOOK_NAMES) == declared
    assert len(hookspecs.HOOK_NAMES) == len(set(hookspecs.HOOK_NAMES))


def test_docs_are_up_to_date(docs: str) -> None:
    assert update_document(docs) == docs, f"docs/plugins.md is out of date: run {REGENERATE}"


@pytest.mark.parametrize("name", hookspecs.HOOK_NAMES)
def test_plugin_hooks_are_documented(docs: str, name: str) -> None:
    section = hook_section(docs, name)
    assert f"```python\n{hook_signature(name)}\n```" in section
    description, example = hook_parts(name)
    assert description and example, f"the docstring of hookspec {name} needs an Example::"
    assert rst_to_markdown(description) in section
    assert f"Example:\n\n```python\n{example}\n```" in section
    assert "tests/" not in section  # an installed package has no tests/: examples are inline


@pytest.mark.parametrize("name", hookspecs.HOOK_NAMES)
def test_plugin_hooks_have_tests(name: str) -> None:
    tree = ast.parse(HOOK_TESTS.read_text(encoding="utf-8"))
    tests = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert f"test_hook_{name}" in tests, f"add test_hook_{name} to tests/test_plugin_hooks.py"


def test_signature_is_as_declared() -> None:
    # register_* hooks are typed by what they take (harness.kinds.KINDS)
    assert (
        hook_signature("register_tasks")
        == "register_tasks(register: Register[TaskDefinition]) -> None"
    )
    assert (
        hook_signature("register_models")
        == "register_models(register: Register[type[Model]]) -> None"
    )
    assert hook_signature("register_commands") == "register_commands(cli: click.Group) -> None"


def test_plugins_docs_option_prints_the_reference() -> None:
    result = CliRunner().invoke(cli, ["plugins", "--docs"])
    assert result.exit_code == 0, result.output
    assert result.output == render_reference() + "\n"


def test_check_reports_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "plugins.md"
    stale.write_text(f"# Plugins\n\n{BEGIN}\nold text\n{END}\n", encoding="utf-8")
    assert main(["--check", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().out
    assert main([str(stale)]) == 0
    assert main(["--check", str(stale)]) == 0
    text = stale.read_text(encoding="utf-8")
    assert "old text" not in text and "### prepare_jinja2_environment" in text


def test_document_without_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="marker"):
        update_document("# no markers here\n")


def test_every_generated_region_is_in_the_docs(docs: str) -> None:
    from harness.plugin_docs import REGIONS, markers

    for region in REGIONS:
        begin, end = markers(region)
        assert docs.count(begin) == 1 and docs.count(end) == 1, f"{region} markers"
    assert "](../tests/" not in docs, "links into tests/ do not exist in an installed package"


def test_class_reference_covers_every_kind_and_abstract_method(docs: str) -> None:
    from harness.kinds import KINDS

    for kind in KINDS:
        base = kind.base
        section = docs.split(f"### {base.__name__}\n", 1)[1].split("\n### ", 1)[0]
        assert "Example:\n\n```python\n" in section, f"{base.__name__} needs an Example::"
        for name in getattr(base, "__abstractmethods__", ()):
            assert f"- `{name}(" in section and "*implement*" in section, (base.__name__, name)
    intervention = docs.split("### Intervention\n", 1)[1].split("\n### ", 1)[0]
    for declared in ("uses_pool", "budget_spent(", "pool_sources(", "comparison_role(", "apply("):
        assert declared in intervention
    reporter = docs.split("### Reporter\n", 1)[1].split("\n### ", 1)[0]
    for declared in ("`suffix`", "`suffixes`", "`aliases`", "`takes_options`", "`options`"):
        assert declared in reporter
    assert "`default_patch_delta`" in docs and "### Types" in docs


def test_results_schema_lists_every_field(docs: str) -> None:
    from harness.results import ModelResult, RunResult, SeedResult

    schema = docs.split("## The results a reporter receives", 1)[1]
    for model in (RunResult, ModelResult, SeedResult):
        section = schema.split(f"### {model.__name__}\n", 1)[1].split("\n### ", 1)[0]
        for field in model.model_fields:
            assert f"| `{field}` |" in section, (model.__name__, field)


def test_builtin_arguments_include_selector_args(docs: str) -> None:
    builtins = docs.split("## Built-in plugins and their arguments", 1)[1]
    retrain = builtins.split("#### `retrain` (intervention)", 1)[1].split("####", 1)[0]
    assert "| `selector_args` |" in retrain and "| `sources` |" in retrain
    assert "#### `tfidf` (selector)" in builtins and "#### `bow` (model)" in builtins


def test_demo_yaml_mentions_every_key() -> None:
    from harness.config import RunConfig

    text = (ROOT / "examples" / "demo.yaml").read_text(encoding="utf-8")
    for key in RunConfig.model_fields:
        assert re.search(rf"^#? *{key}:", text, re.M), f"examples/demo.yaml does not mention {key}"
    assert "selector_args" in text
