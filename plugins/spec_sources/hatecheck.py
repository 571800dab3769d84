"""``hatecheck``: HateCheck-style functional test suites from their CSV file.

Columns ``functionality, test_case, label_gold, templ_id, case_id, target_ident`` (others are
ignored). One spec per functionality, its label from ``label_gold``, and a seeded split of each
functionality's *template ids* into D_i / D_i_heldout (``heldout_fraction`` of them held out), so
no template is in both. Every option of the ``csv`` source can override the defaults, e.g.
``label_map: {hateful: toxic, non-hateful: non-toxic}`` to use the task's label names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import harness
from harness.api import Register, SpecSource, SpecSuite
from harness.tabular import read_column_names
from harness_plugins.spec_sources.tabular import (
    TableOptions,
    load_table_files,
    parse_options,
    spec_table_hints,
)

FUNCTIONALITIES: dict[str, str] = {
    "derog_neg_emote_h": "Expression of strong negative emotions (explicit) about a group",
    "derog_neg_attrib_h": "Explicit description of a group using very negative attributes",
    "derog_dehum_h": "Explicit dehumanisation of a group",
    "derog_impl_h": "Implicit derogation of a group",
    "threat_dir_h": "Direct threat against a group",
    "threat_norm_h": "Threat as normative statement",
    "slur_h": "Hate expressed using a slur",
    "slur_homonym_nh": "Non-hateful homonyms of slurs",
    "slur_reclaimed_nh": "Use of reclaimed slurs",
    "profanity_h": "Hate expressed using profanity",
    "profanity_nh": "Non-hateful use of profanity",
    "ref_subs_clause_h": "Hate expressed through reference in subsequent clauses",
    "ref_subs_sent_h": "Hate expressed through reference in subsequent sentences",
    "negate_pos_h": "Hate expressed using negated positive statement",
    "negate_neg_nh": "Non-hate expressed using negated hateful statement",
    "phrase_question_h": "Hate phrased as a question",
    "phrase_opinion_h": "Hate phrased as an opinion",
    "ident_neutral_nh": "Neutral statements using protected group identifiers",
    "ident_pos_nh": "Positive statements using protected group identifiers",
    "counter_quote_nh": "Denouncements of hate that quote it",
    "counter_ref_nh": "Denouncements of hate that make direct reference to it",
    "target_obj_nh": "Abuse targeted at objects",
    "target_indiv_nh": "Abuse targeted at individuals (not as member of a protected group)",
    "target_group_nh": "Abuse targeted at non-protected groups (e.g. professions)",
    "spell_char_swap_h": "Hate with swaps of adjacent characters",
    "spell_char_del_h": "Hate with missing characters",
    "spell_space_del_h": "Hate with missing word boundaries",
    "spell_space_add_h": "Hate with added spaces between characters",
    "spell_leet_h": "Hate with leet speak spellings",
}
"""The 29 HateCheck functional tests and their descriptions (Röttger et al., 2021)."""

DEFAULTS: dict[str, Any] = {
    "suite": "hatecheck",
    "description": "HateCheck functional tests for hate speech detection",
    "spec_column": "functionality",
    "text_column": "test_case",
    "label_column": "label_gold",
    "template_column": "templ_id",
    "slot_columns": ["target_ident"],
    "heldout_fraction": 0.5,
}


class HateCheckSource(SpecSource):
    """HateCheck CSV: one spec per functionality, template ids split into D_i / D_i_heldout."""

    name = "hatecheck"
    description = "HateCheck-style CSV (functionality, test_case, label_gold, templ_id, ...)"
    Options = TableOptions

    def load(self, ref: str, options: dict[str, Any], *, seed: int = 0) -> list[SpecSuite]:
        """Load the HateCheck CSV at path ``ref`` (``options`` override the column defaults)."""
        opts = parse_options(options, DEFAULTS)
        path = Path(ref)
        header = _header(path, opts)
        if header is not None:
            # HateCheck's optional columns are used when the file has them.
            updates: dict[str, Any] = {}
            if "id_column" not in options:
                updates["id_column"] = "case_id" if "case_id" in header else None
            if "slot_columns" not in options:
                updates["slot_columns"] = [c for c in opts.slot_columns if c in header]
            opts = opts.model_copy(update=updates)
        suite = load_table_files(path, opts, seed)
        for spec in suite.specs:
            base = spec.id.rsplit(":", 1)[0] if opts.mixed_labels == "split" else spec.id
            if not spec.description and base in FUNCTIONALITIES:
                spec.description = FUNCTIONALITIES[base]
        return [suite]


def _header(path: Path, opts: Any) -> list[str] | None:
    """The column names of the file's header row or schema (``None`` for JSON Lines or a file
    that cannot be read; loading it then reports why)."""
    return read_column_names(
        path,
        spec_table_hints(),
        fmt=opts.format,
        encoding=opts.encoding,
        delimiter=opts.delimiter,
        default_format="csv",
    )


@harness.hookimpl
def register_spec_sources(register: Register[SpecSource]) -> None:
    """Register the ``hatecheck`` source."""
    register(HateCheckSource())
