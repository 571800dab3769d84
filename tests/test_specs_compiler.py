"""The YAML spec compiler: expansion, sampling, filters, plugin filters and the sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
import pytest

import harness
from harness.errors import UserError
from harness.plugins import get_plugin_manager
from harness.specs.compiler import (
    a_an,
    build_environment,
    compile_suite_file,
    fast_pieces,
    pluralize,
)

DEMO = Path(__file__).resolve().parents[1] / "specs" / "demo.yaml"

BASE = """\
suite: mini
labels: [non-toxic, toxic]
seed: 3
slots:
  who: [Sam, Alex, Kim, Omar]
  insult: [idiot, fool, oaf, hour-long bore]
specs:
  - id: insult
    label: toxic
    templates:
      - "You are {{ insult | a_an }}, {{ who }}."
      - "{{ who | upper }} is {{ insult | a_an }}."
    heldout_templates:
      - "What {{ insult | a_an }} {{ who }} is."
"""


def write(tmp_path: Path, text: str, name: str = "suite.yaml") -> Path:
    """Write ``text`` to ``tmp_path/name``."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_demo_suite_compiles_deterministically_with_disjoint_templates() -> None:
    first = compile_suite_file(DEMO)
    second = compile_suite_file(DEMO)
    assert first.model_dump() == second.model_dump()
    assert len(first.specs) == 10
    for spec in first.specs:
        train_t = {c.template_id for c in spec.train_cases}
        heldout_t = {c.template_id for c in spec.heldout_cases}
        assert train_t and heldout_t and not train_t & heldout_t
        assert 0 < len(spec.heldout_cases) <= 60
        for case in spec.train_cases + spec.heldout_cases:
            assert case.spec_id == spec.id and case.text and case.slots
        assert spec.source_line is not None


def test_every_case_keeps_its_slot_values_and_renders_from_them(tmp_path: Path) -> None:
    suite = compile_suite_file(write(tmp_path, BASE))
    (spec,) = suite.specs
    assert len(spec.train_cases) == 32 and len(spec.heldout_cases) == 16  # full product
    env = jinja2.Environment()
    templates = {
        "insult/train-1": "You are {{ a }}, {{ who }}.",
        "insult/train-2": "{{ who | upper }} is {{ a }}.",
        "insult/heldout-1": "What {{ a }} {{ who }} is.",
    }
    for case in spec.train_cases + spec.heldout_cases:
        assert case.template_id is not None
        expected = env.from_string(templates[case.template_id]).render(
            a=a_an(case.slots["insult"]), who=case.slots["who"]
        )
        assert case.text == expected
    assert {c.text for c in spec.heldout_cases} >= {"What an hour-long bore Kim is."}


def test_cap_samples_deterministically_and_seed_changes_sample(tmp_path: Path) -> None:
    capped = BASE.replace("seed: 3", "seed: 3\nmax_cases: 6")
    path = write(tmp_path, capped)
    one = compile_suite_file(path).specs[0]
    two = compile_suite_file(path).specs[0]
    assert [c.id for c in one.train_cases] == [c.id for c in two.train_cases]
    assert len(one.train_cases) == 6 and len(one.heldout_cases) == 6
    assert len({c.id for c in one.train_cases}) == 6  # without replacement
    other = compile_suite_file(path, seed=99).specs[0]
    assert [c.id for c in other.train_cases] != [c.id for c in one.train_cases]
    smaller = compile_suite_file(path, max_cases=2).specs[0]
    assert len(smaller.train_cases) == 2


def test_literal_cases_and_explicit_template_ids(tmp_path: Path) -> None:
    text = """\
suite: lit
labels: [a, b]
specs:
  - id: s
    label: a
    slots: {x: [one, two]}
    templates:
      - {id: greet, text: "hello {{ x }}"}
    cases:
      train: ["a literal D_i case"]
      heldout: ["held out one", "held out two"]
"""
    spec = compile_suite_file(write(tmp_path, text)).specs[0]
    assert [c.text for c in spec.train_cases] == ["hello one", "hello two", "a literal D_i case"]
    assert {c.template_id for c in spec.train_cases} == {"greet", None}
    assert [c.text for c in spec.heldout_cases] == ["held out one", "held out two"]


def test_filters() -> None:
    assert a_an("idiot") == "an idiot"
    assert a_an("user") == "a user"
    assert a_an("hour") == "an hour"
    assert a_an("one-off") == "a one-off"
    assert a_an("euro") == "a euro"
    assert a_an("umbrella") == "an umbrella"
    assert pluralize("bully") == "bullies"
    assert pluralize("box") == "boxes"
    assert pluralize("day") == "days"
    assert pluralize("gay man") == "gay men"
    assert pluralize("Woman") == "Women"
    env = build_environment()
    assert env.from_string("{{ x | capitalize }}").render(x="new York") == "New York"
    assert env.from_string("{{ x | plural_if(n) }}").render(x="cat", n=1) == "cat"
    assert env.from_string("{{ x | plural_if(n) }}").render(x="cat", n=3) == "cats"


@pytest.mark.parametrize(
    "template",
    [
        "plain text only",
        "{{ x }} and {{ y | upper }}!",
        "{{ x | a_an | capitalize }}  spaced {{ y|plural }}",
        "{{ x | lower | trim }}{{ y }}\n",
    ],
)
def test_fast_path_matches_jinja_rendering(template: str) -> None:
    env = build_environment()
    ast = env.parse(template)
    pieces = fast_pieces(ast, env)
    assert pieces is not None
    for x, y in [("Idiot", "bully"), (" Owl ", "box")]:
        fast = "".join(p if isinstance(p, str) else p[1]({"x": x, "y": y}[p[0]]) for p in pieces)
        assert fast == env.from_string(template).render(x=x, y=y)


def test_slow_path_if_blocks_and_arguments(tmp_path: Path) -> None:
    text = BASE.replace(
        '"What {{ insult | a_an }} {{ who }} is."',
        "\"{% if who == 'Sam' %}SAM{% else %}{{ who | replace('a', '4') }}{% endif %} "
        "{{ insult ~ '!' }}\"",
    )
    spec = compile_suite_file(write(tmp_path, text)).specs[0]
    texts = {c.text for c in spec.heldout_cases}
    assert {"SAM idiot!", "Kim oaf!", "Om4r fool!", "Alex idiot!"} <= texts
    assert not any(t.startswith("Sam") or t.startswith("Omar") for t in texts)


def test_plugin_filter_through_prepare_jinja2_environment(tmp_path: Path) -> None:
    class ShoutPlugin:
        @harness.hookimpl
        def prepare_jinja2_environment(self, env: Any) -> None:
            env.filters["shout"] = lambda s: s.upper() + "!"

    get_plugin_manager().register(ShoutPlugin(), name="shout-plugin")
    text = BASE.replace("{{ who }} is.", "{{ who | shout }}")
    spec = compile_suite_file(write(tmp_path, text)).specs[0]
    assert any(c.text.endswith("SAM!") for c in spec.heldout_cases)


ESCAPES = [
    ("{{ ''.__class__.__mro__ }}", "attribute access ('__mro__')"),
    ("{{ cycler.__init__.__globals__ }}", "attribute access ('__globals__')"),
    ("{{ who.__class__ }}", "attribute access"),
    ("{{ who['__class__'] }}", "item access"),
    ("{{ who.upper() }}", "function and method calls"),
    ("{{ range(10) }}", "function and method calls"),
    ("{% for c in who %}{{ c }}{% endfor %}", "{% for %} loops"),
    ("{% macro m() %}x{% endmacro %}", "macros"),
    ("{{ 2 ** 100 }}", "** operator"),
    ("{{ 'a' * 99999999 }}", "too large"),
    ("{{ who * 10000 * 10000 }}", "repetition ('*') would build a value"),
    ("{% include 'x.txt' %}", "{% include %}"),
    ("{{ who | attr('__class__') }}", "unknown filter 'attr'"),
    ("{{ [who] | map(attribute='__class__') | list }}", "unknown filter 'map'"),
]


@pytest.mark.parametrize(("template", "expected"), ESCAPES)
def test_sandbox_refuses_internals_with_one_line_error(
    tmp_path: Path, template: str, expected: str
) -> None:
    text = BASE.replace('"What {{ insult | a_an }} {{ who }} is."', json.dumps(template))
    path = write(tmp_path, text)
    with pytest.raises(UserError) as info:
        compile_suite_file(path)
    line = info.value.one_line()
    assert "\n" not in line
    assert f"{path}:14: insult: template insult/heldout-1: " in line
    assert expected in line


def test_sandbox_executes_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    attacks = [
        "{{ cycler.__init__.__globals__.os.system('touch " + str(marker) + "') }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ lipsum.__globals__['os'].popen('touch " + str(marker) + "').read() }}",
        "{{ namespace.__init__.__globals__ }}",
        "{% set x = joiner.__init__.__globals__ %}{{ x }}",
    ]
    for attack in attacks:
        text = BASE.replace('"What {{ insult | a_an }} {{ who }} is."', json.dumps(attack))
        with pytest.raises(UserError):
            compile_suite_file(write(tmp_path, text))
    assert not marker.exists()
    env = build_environment()
    assert env.globals == {}


def test_globals_are_not_slots(tmp_path: Path) -> None:
    text = BASE.replace('"What {{ insult | a_an }} {{ who }} is."', '"{{ cycler }}"')
    with pytest.raises(UserError, match="undefined slot 'cycler'"):
        compile_suite_file(write(tmp_path, text))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("{{ who }} is.", "{{ nobody }} is."), ["suite.yaml:14", "insult", "undefined slot"]),
        (("{{ who }} is.", "{{ who | shout }} is."), ["suite.yaml:14", "unknown filter 'shout'"]),
        (("{{ who }} is.", "{{ who }"), ["suite.yaml:14", "insult", "syntax error"]),
        (("label: toxic", "label: toxc"), ["suite.yaml:9", "insult", "'toxc'"]),
        (("\n    heldout_templates:", "\n    heldout_templates: ["), ["suite.yaml:", "YAML"]),
        (
            (
                '"What {{ insult | a_an }} {{ who }} is."',
                '"You are {{ insult | a_an }}, {{ who }}."',
            ),
            ["suite.yaml:13", "insult", "both templates and heldout_templates"],
        ),
    ],
)
def test_compile_errors_name_file_line_and_spec(
    tmp_path: Path, change: tuple[str, str], expected: list[str]
) -> None:
    path = write(tmp_path, BASE.replace(*change))
    with pytest.raises(UserError) as info:
        compile_suite_file(path)
    line = info.value.one_line()
    for part in expected:
        assert part in line


def test_duplicate_spec_id_points_at_second_spec(tmp_path: Path) -> None:
    text = BASE + BASE.split("specs:\n")[1]
    with pytest.raises(UserError) as info:
        compile_suite_file(write(tmp_path, text))
    assert info.value.line == 15
    assert "duplicate spec id 'insult'" in info.value.one_line()


def test_percent_signs_in_templates_and_slots(tmp_path: Path) -> None:
    text = """\
suite: pct
specs:
  - id: p
    label: a
    slots: {x: ["50%", "%s", "%%"]}
    templates: ["100% sure: {{ x }} %d"]
    heldout_templates: ["{{ x | upper }}%"]
"""
    spec = compile_suite_file(write(tmp_path, text)).specs[0]
    assert [c.text for c in spec.train_cases] == [
        "100% sure: 50% %d",
        "100% sure: %s %d",
        "100% sure: %% %d",
    ]
    assert [c.text for c in spec.heldout_cases] == ["50%%", "%S%", "%%%"]
