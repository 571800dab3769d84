"""Compile YAML suite files into specs: sandboxed jinja2 templates, slot expansion as a
deterministic sample of the cartesian product, template ids kept on every case."""

from __future__ import annotations

import hashlib
import random
import re
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from harness.api import Spec, SpecCase, SpecSuite
from harness.errors import UserError
from harness.spec_format import SpecDef, SuiteFile, TemplateDef
from harness.validation import validate
from harness.yamlio import line_of, load_yaml

VOWEL_SOUND = re.compile(r"^(?:[aeio]|u(?![nk]?[aeiou]|ni|s[eu]|tr))", re.IGNORECASE)


def a_an(word: str) -> str:
    """Prefix ``word`` with ``a`` or ``an``."""
    return f"{'an' if VOWEL_SOUND.match(word.strip()) else 'a'} {word}"


def pluralize(word: str) -> str:
    """A simple English plural (``fool`` -> ``fools``, ``bully`` -> ``bullies``)."""
    if re.search(r"(s|x|z|ch|sh)$", word):
        return word + "es"
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    return word + "s"


def build_environment() -> SandboxedEnvironment:
    """The sandboxed jinja2 environment with the built-in filters and plugin additions."""
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
    env.filters["a_an"] = a_an
    env.filters["plural"] = pluralize
    env.filters["capitalize_first"] = lambda s: s[:1].upper() + s[1:]
    env.filters["capitalize"] = lambda s: s[:1].upper() + s[1:]
    from harness.plugins import call_hook

    call_hook("prepare_jinja2_environment", env=env)
    return env


def _seed_for(*parts: Any) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


def _template_pairs(
    spec: SpecDef, split: str, templates: list[str | TemplateDef]
) -> list[tuple[str, str]]:
    pairs = []
    for i, template in enumerate(templates):
        if isinstance(template, TemplateDef):
            pairs.append((template.id, template.text))
        else:
            pairs.append((f"{spec.id}/{split}-{i + 1}", template))
    return pairs


class SuiteCompiler:
    """Compiles :class:`SuiteFile` objects; one instance per load (it holds the environment)."""

    def __init__(self, file: Path | str, node: Any = None) -> None:
        self.file = str(file)
        self.node = node
        self.env = build_environment()

    def _error(
        self,
        message: str,
        spec_index: int | None,
        spec_id: str | None,
        fix: str,
        key: str | None = None,
    ) -> UserError:
        loc: tuple[Any, ...] = ("specs", spec_index) if spec_index is not None else ()
        if key:
            loc += (key,)
        line = line_of(self.node, loc) if self.node is not None else None
        return UserError(message, file=self.file, line=line, field=spec_id, fix=fix)

    def render(
        self,
        spec: SpecDef,
        index: int,
        slots: dict[str, list[str]],
        template_id: str,
        text: str,
        split: str,
        cap: int | None,
        seed: int,
    ) -> list[SpecCase]:
        """Render one template over a deterministic sample of its slots' cartesian product."""
        key = "templates" if split == "train" else "heldout_templates"
        try:
            parsed = self.env.parse(text)
            names = sorted(jinja2.meta.find_undeclared_variables(parsed))
            compiled = self.env.from_string(text)
        except jinja2.TemplateSyntaxError as exc:
            raise self._error(
                f"template {template_id}: syntax error: {exc.message}",
                index,
                spec.id,
                "fix the jinja2 syntax",
                key,
            ) from None
        except AssertionError as exc:  # jinja2 raises this for unknown filters at compile time
            raise self._error(
                f"template {template_id}: {exc}", index, spec.id, "use a known filter", key
            ) from None
        missing = [n for n in names if n not in slots]
        if missing:
            raise self._error(
                f"template {template_id}: undefined slot {missing[0]!r}",
                index,
                spec.id,
                f"define it under slots (known: {', '.join(sorted(slots)) or 'none'})",
                key,
            )
        sizes = [len(slots[n]) for n in names]
        total = 1
        for size in sizes:
            total *= size
        if total == 0:
            raise self._error(
                f"template {template_id}: a slot it uses is empty",
                index,
                spec.id,
                "give every slot at least one value",
                key,
            )
        rng = random.Random(_seed_for(seed, spec.id, template_id))
        chosen = (
            range(total) if cap is None or cap >= total else sorted(rng.sample(range(total), cap))
        )
        cases = []
        for number in chosen:
            values: dict[str, str] = {}
            rest = number
            for name, size in zip(reversed(names), reversed(sizes), strict=True):
                rest, digit = divmod(rest, size)
                values[name] = slots[name][digit]
            try:
                rendered = compiled.render(**values)
            except SecurityError as exc:
                raise self._error(
                    f"template {template_id}: unsafe operation refused: {exc}",
                    index,
                    spec.id,
                    "templates may only use slots and filters",
                    key,
                ) from None
            except jinja2.TemplateError as exc:
                raise self._error(
                    f"template {template_id}: {exc}", index, spec.id, "fix the template", key
                ) from None
            rendered = " ".join(rendered.split())
            cases.append(
                SpecCase(
                    id=f"{template_id}#{number}",
                    text=rendered,
                    spec_id=spec.id,
                    split="train" if split == "train" else "heldout",
                    template_id=template_id,
                    slots=dict(sorted(values.items())),
                )
            )
        return cases

    def compile(self, suite: SuiteFile) -> SpecSuite:
        """Expand every spec of ``suite``."""
        specs: list[Spec] = []
        seen: set[str] = set()
        for index, spec in enumerate(suite.specs):
            if spec.id in seen:
                raise self._error(
                    f"duplicate spec id {spec.id!r}",
                    index,
                    spec.id,
                    "give every spec a unique id",
                    "id",
                )
            seen.add(spec.id)
            if suite.labels and spec.label not in suite.labels:
                raise self._error(
                    f"label {spec.label!r} is not in the suite's labels",
                    index,
                    spec.id,
                    f"use one of: {', '.join(suite.labels)}",
                    "label",
                )
            slots = {**suite.slots, **spec.slots}
            cap = spec.max_cases or suite.max_cases
            train_pairs = _template_pairs(spec, "train", spec.templates)
            heldout_pairs = _template_pairs(spec, "heldout", spec.heldout_templates)
            shared = {t for _, t in train_pairs} & {t for _, t in heldout_pairs}
            shared_ids = {i for i, _ in train_pairs} & {i for i, _ in heldout_pairs}
            if shared or shared_ids:
                raise self._error(
                    "a template is used in both templates and heldout_templates",
                    index,
                    spec.id,
                    "D_i and D_i_heldout need disjoint templates",
                    "heldout_templates",
                )
            split_cases: dict[str, list[SpecCase]] = {"train": [], "heldout": []}
            for split, pairs in (("train", train_pairs), ("heldout", heldout_pairs)):
                per_template = None
                if cap is not None and pairs:
                    per_template = max(1, -(-cap // len(pairs)))
                for template_id, text in pairs:
                    split_cases[split].extend(
                        self.render(
                            spec, index, slots, template_id, text, split, per_template, suite.seed
                        )
                    )
                literal = spec.cases.train if split == "train" else spec.cases.heldout
                for i, text in enumerate(literal):
                    split_cases[split].append(
                        SpecCase(
                            id=f"{spec.id}/{split}-literal#{i}",
                            text=text,
                            spec_id=spec.id,
                            split="train" if split == "train" else "heldout",
                        )
                    )
                if cap is not None and len(split_cases[split]) > cap:
                    rng = random.Random(_seed_for(suite.seed, spec.id, split, "cap"))
                    keep = sorted(rng.sample(range(len(split_cases[split])), cap))
                    split_cases[split] = [split_cases[split][i] for i in keep]
            if not split_cases["heldout"]:
                raise self._error(
                    "the spec has no held-out cases",
                    index,
                    spec.id,
                    "add heldout_templates or cases.heldout",
                    "heldout_templates",
                )
            specs.append(
                Spec(
                    id=spec.id,
                    description=spec.description,
                    label=spec.label,
                    suite=suite.suite,
                    tags=spec.tags,
                    group=spec.group,
                    train_cases=split_cases["train"],
                    heldout_cases=split_cases["heldout"],
                )
            )
        return SpecSuite(
            name=suite.suite,
            description=suite.description,
            labels=suite.labels,
            source=self.file,
            specs=specs,
        )


def compile_suite_file(path: Path) -> SpecSuite:
    """Load, validate and compile one YAML suite file."""
    data, node = load_yaml(path)
    if data is None:
        raise UserError("the spec file is empty", file=path, fix="add `suite:` and `specs:`")
    if not isinstance(data, dict):
        raise UserError(
            "expected a mapping with `suite` and `specs`", file=path, fix="see specs/README.md"
        )
    suite = validate(SuiteFile, data, file=path, node=node)
    return SuiteCompiler(path, node).compile(suite)
