"""Compile YAML suite files into specs: sandboxed jinja2 templates, slot expansion as a
deterministic sample of the cartesian product, template ids kept on every case.

Templates are parsed once and checked statically before anything renders: they may use slots,
filters, tests, literals, operators and ``{% if %}``/``{% set %}``; attribute access, calls, loops,
macros, imports and large numbers are refused with a one-line error. What passes renders in the
bounded sandbox of :mod:`harness.specs.sandbox` with ``StrictUndefined`` and no globals. Templates
that only output slots through argument-free filters (the common case) take a fast path that
joins precomputed pieces instead of calling jinja2 per case; its output is identical.

Before anything renders, the cases of every spec are counted (a product of slot sizes per
template): a split of a spec above :data:`harness.limits.SPEC_CASES` (100,000 by default) is
refused with the count and the fix (``max_cases``), as is a suite file above
:data:`harness.limits.SUITE_CASES`; a rendered case longer than
:data:`harness.limits.CASE_CHARS` is an error naming its template.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import random
import re
import sys
from collections.abc import Callable, Sequence
from operator import getitem
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.sandbox import SecurityError
from jinja2.utils import _PassArg
from pydantic import TypeAdapter

from harness.api import Spec, SpecCase, SpecSuite
from harness.errors import UserError
from harness.limits import CASE_CHARS, SPEC_CASES, SUITE_CASES
from harness.specs.format import SpecDef, SuiteFile, TemplateDef
from harness.specs.sandbox import SpecSandbox, ValueTooLarge, bound_filters, render_bounded
from harness.validation import validate
from harness.yamlio import line_of, load_yaml

VOWEL_SOUND = re.compile(
    r"^(?:[aio]|e(?!u|we)|u(?![nk]?[aeiou]|ni|s[eu]|tr)|h(?:our|onest|onou?r|eir))",
    re.IGNORECASE,
)
"""Words that take ``an``: a vowel sound at the start (``an hour``, ``a unicorn``, ``a euro``)."""

NOT_VOWEL_SOUND = re.compile(r"^(?:one\b|once\b)", re.IGNORECASE)

IRREGULAR_PLURALS = {
    "man": "men",
    "woman": "women",
    "person": "people",
    "child": "children",
    "foot": "feet",
    "tooth": "teeth",
    "mouse": "mice",
    "goose": "geese",
    "wife": "wives",
    "knife": "knives",
    "life": "lives",
    "wolf": "wolves",
    "half": "halves",
    "leaf": "leaves",
    "thief": "thieves",
    "self": "selves",
    "shelf": "shelves",
    "sheep": "sheep",
    "fish": "fish",
    "deer": "deer",
    "series": "series",
    "species": "species",
}
"""Plural forms that the suffix rules get wrong (matched on the last word, case kept)."""

MAX_NUMBER = 10_000
"""The largest number literal a template may contain."""

ALLOWED_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.Filter,
    nodes.Test,
    nodes.If,
    nodes.CondExpr,
    nodes.Assign,
    nodes.Concat,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Neg,
    nodes.Pos,
    nodes.Compare,
    nodes.Operand,
    nodes.Add,
    nodes.Sub,
    nodes.Mul,
    nodes.Div,
    nodes.FloorDiv,
    nodes.Mod,
    nodes.Getitem,
    nodes.Slice,
    nodes.List,
    nodes.Tuple,
    nodes.Dict,
    nodes.Pair,
    nodes.Keyword,
)
"""The jinja2 syntax a template may use; everything else is refused before rendering."""

ATTRIBUTE_FILTERS = ("attr", "map", "selectattr", "rejectattr", "groupby")
"""jinja2 filters that read attributes by name; removed (the sandbox would also guard them)."""

REFUSED_WHY = {
    nodes.Getattr: "attribute access",
    nodes.Call: "function and method calls",
    nodes.For: "{% for %} loops",
    nodes.Macro: "macros",
    nodes.CallBlock: "{% call %} blocks",
    nodes.Pow: "the ** operator",
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from ... import %}",
    nodes.Extends: "{% extends %}",
    nodes.Block: "{% block %}",
}


def a_an(word: str) -> str:
    """Prefix ``word`` with ``a`` or ``an`` by its first sound (``an idiot``, ``a user``)."""
    stripped = str(word).strip()
    use_an = bool(VOWEL_SOUND.match(stripped)) and not NOT_VOWEL_SOUND.match(stripped)
    return f"{'an' if use_an else 'a'} {word}"


def pluralize(word: str) -> str:
    """A simple English plural of the last word (``fool`` -> ``fools``, ``bully`` ->
    ``bullies``, ``gay man`` -> ``gay men``)."""
    word = str(word)
    head, _, last = word.rpartition(" ")
    prefix = head + " " if head else ""
    irregular = IRREGULAR_PLURALS.get(last.lower())
    if irregular is not None:
        if last[:1].isupper():
            irregular = irregular[:1].upper() + irregular[1:]
        return prefix + irregular
    if re.search(r"(s|x|z|ch|sh)$", word):
        return word + "es"
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    return word + "s"


def plural_if(word: str, count: Any) -> str:
    """``word`` in the plural unless ``count`` is 1 (``{{ thing | plural_if(n) }}``)."""
    return str(word) if str(count).strip() in ("1", "1.0") else pluralize(word)


def capitalize_first(text: str) -> str:
    """Upper-case the first character and keep the rest (unlike jinja2's ``capitalize``)."""
    text = str(text)
    return text[:1].upper() + text[1:]


def build_environment() -> SpecSandbox:
    """The sandboxed jinja2 environment with the built-in filters and plugin additions."""
    env = SpecSandbox(undefined=jinja2.StrictUndefined, autoescape=False)
    env.globals.clear()
    for name in ATTRIBUTE_FILTERS:
        env.filters.pop(name, None)
    env.filters["a_an"] = a_an
    env.filters["plural"] = pluralize
    env.filters["pluralize"] = pluralize
    env.filters["plural_if"] = plural_if
    env.filters["capitalize_first"] = capitalize_first
    env.filters["capitalize"] = capitalize_first
    from harness.plugins import call_hook

    call_hook("prepare_jinja2_environment", env=env)
    bound_filters(env)
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


def refused_syntax(ast: nodes.Template, env: jinja2.Environment) -> tuple[str, str] | None:
    """Return ``(problem, fix)`` for the first construct a template may not use, or ``None``."""
    for node in ast.find_all(nodes.Node):
        if isinstance(node, nodes.Getattr):
            return (
                f"attribute access ({node.attr!r}) is not allowed in templates",
                "templates may only use slots, filters and literals",
            )
        if isinstance(node, nodes.Getitem) and not (
            isinstance(node.arg, nodes.Slice)
            or (isinstance(node.arg, nodes.Const) and type(node.arg.value) is int)
        ):
            return (
                "item access other than [number] or [a:b] is not allowed in templates",
                "templates may only use slots, filters and literals",
            )
        if (
            isinstance(node, nodes.Const)
            and isinstance(node.value, int | float)
            and abs(node.value) > MAX_NUMBER
        ):
            return (
                f"number {node.value} is too large (at most {MAX_NUMBER:,})",
                "use smaller numbers",
            )
        if isinstance(node, nodes.Filter | nodes.Test):
            known = env.filters if isinstance(node, nodes.Filter) else env.tests
            kind = "filter" if isinstance(node, nodes.Filter) else "test"
            if node.name not in known:
                close = difflib.get_close_matches(node.name, list(known), n=3, cutoff=0.6)
                hint = f"did you mean {', '.join(close)}? " if close else ""
                return (f"unknown {kind} {node.name!r}", f"{hint}see specs/README.md")
        if not isinstance(node, ALLOWED_NODES):
            what = REFUSED_WHY.get(type(node), f"{type(node).__name__} syntax")
            return (
                f"{what} not allowed in templates",
                "templates may only use slots, filters, literals and {% if %}",
            )
    return None


def slot_names(ast: nodes.Template) -> list[str]:
    """The names a template reads and does not set itself (its slots), sorted."""
    loaded: set[str] = set()
    stored: set[str] = set()
    for name in ast.find_all(nodes.Name):
        (loaded if name.ctx == "load" else stored).add(name.name)
    return sorted(loaded - stored)


Piece = str | tuple[str, Callable[[str], str]]

CASES: TypeAdapter[list[SpecCase]] = TypeAdapter(list[SpecCase])
"""Validates a whole list of generated cases in one call (faster than one call per case)."""


def fast_pieces(ast: nodes.Template, env: jinja2.Environment) -> list[Piece] | None:
    """The template as literal strings and ``(slot, filters)`` pieces, or ``None`` when it uses
    anything beyond slots piped through argument-free, context-free filters."""
    if len(ast.body) > 1:
        return None
    output = ast.body[0] if ast.body else nodes.Output([])
    if not isinstance(output, nodes.Output):
        return None
    pieces: list[Piece] = []
    for child in output.nodes:
        if isinstance(child, nodes.TemplateData):
            pieces.append(child.data)
            continue
        chain: list[Callable[[Any], Any]] = []
        current = child
        while isinstance(current, nodes.Filter):
            if (
                current.args
                or current.kwargs
                or current.dyn_args
                or current.dyn_kwargs
                or current.node is None
            ):
                return None
            func = env.filters[current.name]
            if _PassArg.from_obj(func) is not None:
                return None
            chain.append(func)
            current = current.node
        if not isinstance(current, nodes.Name):
            return None
        funcs = tuple(reversed(chain))

        def apply(value: str, _funcs: tuple[Callable[[Any], Any], ...] = funcs) -> str:
            result: Any = value
            for func in _funcs:
                result = func(result)
            return str(result)

        pieces.append((current.name, apply))
    return pieces


def shown_slots(values: dict[str, str], width: int = 40) -> str:
    """Slot values for an error message, each cut to ``width`` characters."""
    return repr({k: v if len(v) <= width else v[: width - 1] + "…" for k, v in values.items()})


def sample_numbers(rng: random.Random, total: int, k: int) -> list[int]:
    """``k`` distinct numbers below ``total``, sorted, drawn by ``rng`` without enumerating the
    range (``random.sample`` of a ``range``, or repeated draws when ``total`` is beyond what a
    ``range`` can hold)."""
    if total <= sys.maxsize:
        return sorted(rng.sample(range(total), k))
    chosen: set[int] = set()
    while len(chosen) < k:
        chosen.add(rng.randrange(total))
    return sorted(chosen)


class SuiteCompiler:
    """Compiles :class:`SuiteFile` objects; one instance per load (it holds the environment)."""

    def __init__(self, file: Path | str, node: Any = None) -> None:
        self.file = str(file)
        self.node = node
        self.env = build_environment()
        self.max_case_chars = CASE_CHARS.value()
        self.max_spec_cases = SPEC_CASES.value()
        self.max_suite_cases = SUITE_CASES.value()
        self._parsed: dict[str, tuple[nodes.Template, list[str], list[Piece] | None]] = {}

    def _error(
        self,
        message: str,
        spec_index: int | None,
        spec_id: str | None,
        fix: str,
        *keys: str | int,
    ) -> UserError:
        loc: tuple[Any, ...] = ("specs", spec_index) if spec_index is not None else ()
        loc += tuple(keys)
        line = line_of(self.node, loc) if self.node is not None else None
        return UserError(message, file=self.file, line=line, field=spec_id, fix=fix)

    def _failer(
        self, spec: SpecDef, index: int, template_id: str, split: str, position: int | None
    ) -> Callable[[str, str], UserError]:
        """An error factory for one template of ``spec`` (names the file, line and template)."""
        key = "templates" if split == "train" else "heldout_templates"
        where: tuple[str | int, ...] = (key,) if position is None else (key, position)

        def fail(problem: str, fix: str) -> UserError:
            return self._error(f"template {template_id}: {problem}", index, spec.id, fix, *where)

        return fail

    def prepare(
        self, text: str, slots: dict[str, list[str]], fail: Callable[[str, str], UserError]
    ) -> tuple[nodes.Template, list[str], list[Piece] | None]:
        """Parse and check a template (once per text): its AST, its slot names and its fast-path
        pieces; every slot it uses must be defined."""
        if text not in self._parsed:
            limit = self.env.value_limit
            if len(text) > limit:
                raise fail(
                    f"the template is {len(text):,} characters long, more than {limit:,}",
                    "shorten it",
                )
            try:
                ast = self.env.parse(text)
            except jinja2.TemplateSyntaxError as exc:
                raise fail(f"syntax error: {exc.message}", "fix the jinja2 syntax") from None
            refused = refused_syntax(ast, self.env)
            if refused is not None:
                raise fail(*refused) from None
            self._parsed[text] = (ast, slot_names(ast), fast_pieces(ast, self.env))
        ast, names, pieces = self._parsed[text]
        missing = [n for n in names if n not in slots]
        if missing:
            raise fail(
                f"undefined slot {missing[0]!r}",
                f"define it under slots (known: {', '.join(sorted(slots)) or 'none'})",
            )
        return ast, names, pieces

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
        position: int | None = None,
    ) -> list[SpecCase]:
        """Render one template over a deterministic sample of its slots' cartesian product."""
        fail = self._failer(spec, index, template_id, split, position)
        ast, names, pieces = self.prepare(text, slots, fail)
        compiled: jinja2.Template | None = None
        if pieces is None:
            try:
                code = self.env.compile(ast, filename=self.file)
            except jinja2.TemplateError as exc:
                raise fail(str(exc), "fix the template") from None
            compiled = self.env.template_class.from_code(
                self.env, code, self.env.make_globals(None), None
            )
        sizes = [len(slots[n]) for n in names]
        total = math.prod(sizes)
        if total == 0:
            raise fail("a slot it uses is empty", "give every slot at least one value")
        rng = random.Random(_seed_for(seed, spec.id, template_id))
        chosen: Sequence[int] = (
            range(total) if cap is None or cap >= total else sample_numbers(rng, total, cap)
        )
        lists = [slots[n] for n in names]
        positions = range(len(names) - 1, -1, -1)
        rows: list[tuple[int, list[int]]] = []
        for number in chosen:
            digits = [0] * len(names)
            rest = number
            for pos in positions:
                rest, digits[pos] = divmod(rest, sizes[pos])
            rows.append((number, digits))
        split_name = "train" if split == "train" else "heldout"
        texts = self._texts(rows, names, lists, pieces, compiled, fail, self.env.value_limit)
        longest = max(map(len, texts), default=0)
        limit = self.max_case_chars
        if longest > limit:
            at = next(i for i, t in enumerate(texts) if len(t) == longest)
            values = {names[i]: lists[i][d] for i, d in enumerate(rows[at][1])}
            raise fail(
                f"renders a case of {longest:,} characters (slots {shown_slots(values)}), more "
                f"than the limit of {CASE_CHARS.shown()} per case",
                f"shorten the template or its slot values, or {CASE_CHARS.fix()}",
            )
        return CASES.validate_python(
            [
                {
                    "id": f"{template_id}#{number}",
                    "text": text,
                    "spec_id": spec.id,
                    "split": split_name,
                    "template_id": template_id,
                    "slots": dict(zip(names, map(getitem, lists, digits), strict=True)),
                }
                for (number, digits), text in zip(rows, texts, strict=True)
            ]
        )

    def count_split(
        self,
        spec: SpecDef,
        index: int,
        slots: dict[str, list[str]],
        pairs: list[tuple[str, str]],
        split: str,
        cap: int | None,
    ) -> tuple[int, tuple[str, list[int]] | None]:
        """How many cases one split of ``spec`` will have (nothing is rendered), and the template
        with the most slot combinations (its id and slot sizes)."""
        per_template = max(1, -(-cap // len(pairs))) if cap is not None and pairs else None
        total = 0
        largest: tuple[str, list[int]] | None = None
        most = -1
        for position, (template_id, text) in enumerate(pairs):
            fail = self._failer(spec, index, template_id, split, position)
            _, names, _ = self.prepare(text, slots, fail)
            sizes = [len(slots[n]) for n in names]
            combos = math.prod(sizes)
            if combos > most:
                most, largest = combos, (template_id, sizes)
            total += combos if per_template is None else min(combos, per_template)
        total += len(spec.cases.train if split == "train" else spec.cases.heldout)
        return (total if cap is None else min(total, cap)), largest

    def check_size(self, suite: SuiteFile, index: int, spec: SpecDef) -> int:
        """Count both splits of ``spec`` before rendering; refuse a split above
        :data:`~harness.limits.SPEC_CASES`. Returns the spec's total number of cases."""
        slots = {**suite.slots, **spec.slots}
        cap = spec.max_cases or suite.max_cases
        limit = self.max_spec_cases
        total = 0
        for split, templates in (("train", spec.templates), ("heldout", spec.heldout_templates)):
            pairs = _template_pairs(spec, split, templates)
            count, largest = self.count_split(spec, index, slots, pairs, split, cap)
            total += count
            if count <= limit:
                continue
            name = "D_i" if split == "train" else "D_i_heldout"
            if cap is not None:
                detail = f"max_cases is {cap:,}"
                fix = f"lower max_cases to at most {limit:,}, or {SPEC_CASES.fix()}"
            else:
                detail = "no max_cases"
                if largest is not None:
                    ways = " x ".join(f"{n:,}" for n in largest[1]) or "1"
                    detail += f"; template {largest[0]} alone combines its slots {ways} ways"
                fix = (
                    f"set max_cases (e.g. max_cases: 1000) on the spec or the suite to render a "
                    f"seeded sample of that many, or {SPEC_CASES.fix()}"
                )
            raise self._error(
                f"{name} would have {count:,} cases ({detail}), more than the limit of "
                f"{SPEC_CASES.shown()} per split of a spec",
                index,
                spec.id,
                fix,
                "max_cases" if cap is not None and spec.max_cases else "templates",
            )
        return total

    @staticmethod
    def _texts(
        rows: list[tuple[int, list[int]]],
        names: list[str],
        lists: list[list[str]],
        pieces: list[Piece] | None,
        compiled: jinja2.Template | None,
        fail: Callable[[str, str], UserError],
        limit: int,
    ) -> list[str]:
        """Render every row (a case number and its slot digits), whitespace-normalised; no
        output and no intermediate value may exceed the sandbox's bound."""
        values: dict[str, str] = {}
        try:
            if pieces is None:
                assert compiled is not None
                out = []
                for _, digits in rows:
                    values = {names[i]: lists[i][d] for i, d in enumerate(digits)}
                    out.append(" ".join(render_bounded(compiled, values).split()))
                return out
            # Fast path: each piece is a literal or a slot through filters, computed once per
            # slot value that the sample uses.
            fmt_parts: list[str] = []
            getters: list[tuple[int, list[str]]] = []
            literal = 0
            for piece in pieces:
                if isinstance(piece, str):
                    fmt_parts.append(piece.replace("%", "%%"))
                    literal += len(piece)
                    continue
                name, apply = piece
                pos = names.index(name)
                table = [""] * len(lists[pos])
                for digit in sorted({digits[pos] for _, digits in rows}):
                    values = {name: lists[pos][digit]}
                    table[digit] = apply(lists[pos][digit])
                getters.append((pos, table))
                fmt_parts.append("%s")
            fmt = "".join(fmt_parts)
            if literal + sum(max(map(len, table)) for _, table in getters) > limit:
                for _, digits in rows:  # only when some combination could be too long
                    size = literal + sum(len(table[digits[pos]]) for pos, table in getters)
                    if size > limit:
                        values = {names[i]: lists[i][d] for i, d in enumerate(digits)}
                        raise ValueTooLarge("the template's output", size, limit)
            if not getters:
                return [" ".join(fmt.replace("%%", "%").split())] * len(rows)
            return [
                " ".join((fmt % tuple([table[digits[pos]] for pos, table in getters])).split())
                for _, digits in rows
            ]
        except ValueTooLarge as exc:
            raise fail(
                f"{exc} (slots {shown_slots(values)})" if values else str(exc),
                f"templates may build values of at most {limit:,} characters; shorten the "
                "template or its slot values",
            ) from None
        except SecurityError as exc:
            raise fail(
                f"unsafe operation refused: {exc}",
                "templates may only use slots, filters and literals",
            ) from None
        except jinja2.TemplateError as exc:
            raise fail(str(exc), "fix the template") from None
        except Exception as exc:  # a filter (possibly a plugin's) raised
            raise fail(
                f"rendering failed with slots {shown_slots(values)}: {type(exc).__name__}: "
                f"{str(exc)[:200]}",
                "fix the template or the filter",
            ) from None

    def compile(self, suite: SuiteFile) -> SpecSuite:
        """Expand every spec of ``suite``: ids, labels and case counts of every spec are checked
        before anything renders."""
        seen: set[str] = set()
        total = 0
        limit = self.max_suite_cases
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
            total += self.check_size(suite, index, spec)
            if total > limit:
                raise self._error(
                    f"the suite would have more than {SUITE_CASES.shown()} cases (the limit for "
                    f"one suite file) by spec #{index + 1}",
                    index,
                    spec.id,
                    "set or lower max_cases (per spec or for the whole suite), split the suite "
                    f"into several files, or {SUITE_CASES.fix()}",
                )
        specs = [self.compile_spec(suite, index, spec) for index, spec in enumerate(suite.specs)]
        return SpecSuite(
            name=suite.suite,
            description=suite.description,
            labels=suite.labels,
            source=self.file,
            specs=specs,
        )

    def compile_spec(self, suite: SuiteFile, index: int, spec: SpecDef) -> Spec:
        """Expand one spec of ``suite`` (at position ``index``) into its D_i and D_i_heldout."""
        slots = {**suite.slots, **spec.slots}
        cap = spec.max_cases or suite.max_cases
        train_pairs = _template_pairs(spec, "train", spec.templates)
        heldout_pairs = _template_pairs(spec, "heldout", spec.heldout_templates)
        shared = {t for _, t in train_pairs} & {t for _, t in heldout_pairs}
        shared_ids = {i for i, _ in train_pairs} & {i for i, _ in heldout_pairs}
        if shared or shared_ids:
            both = sorted(shared_ids) or sorted(shared)
            raise self._error(
                f"template {both[0]!r} is used in both templates and heldout_templates",
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
            for position, (template_id, text) in enumerate(pairs):
                split_cases[split].extend(
                    self.render(
                        spec,
                        index,
                        slots,
                        template_id,
                        text,
                        split,
                        per_template,
                        suite.seed,
                        position,
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
            )
        return Spec(
            id=spec.id,
            description=spec.description,
            label=spec.label,
            suite=suite.suite,
            tags=spec.tags,
            group=spec.group,
            train_cases=split_cases["train"],
            heldout_cases=split_cases["heldout"],
            source_line=line_of(self.node, ("specs", index)) if self.node is not None else None,
        )


def compile_suite_file(
    path: Path | str, *, seed: int | None = None, max_cases: int | None = None
) -> SpecSuite:
    """Load, validate and compile one YAML suite file; ``seed``/``max_cases`` override the
    file's own values."""
    path = Path(path)
    data, node = load_yaml(path)
    if data is None:
        raise UserError("the spec file is empty", file=path, fix="add `suite:` and `specs:`")
    if not isinstance(data, dict):
        raise UserError(
            "expected a mapping with `suite` and `specs`", file=path, fix="see specs/README.md"
        )
    suite = validate(SuiteFile, data, file=path, node=node)
    updates: dict[str, Any] = {}
    if seed is not None:
        updates["seed"] = seed
    if max_cases is not None:
        updates["max_cases"] = max_cases
    if updates:
        suite = suite.model_copy(update=updates)
    return SuiteCompiler(path, node).compile(suite)
