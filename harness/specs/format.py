"""The YAML spec-suite file format (validated by pydantic). See ``specs/README.md``."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from harness.api import StrictModel


def _stringify_slots(value: Any) -> Any:
    """Slot values may be written as numbers in YAML; templates see strings."""
    if isinstance(value, dict):
        return {k: [str(x) for x in v] if isinstance(v, list) else v for k, v in value.items()}
    return value


class TemplateDef(StrictModel):
    """A template with an explicit id (a bare string gets ``<spec>/train-<n>`` etc.)."""

    id: str
    text: str


class LiteralCases(StrictModel):
    """Literal cases listed in the file (no template)."""

    train: list[str] = Field(default_factory=list)
    heldout: list[str] = Field(default_factory=list)


class SpecDef(StrictModel):
    """One spec in a suite file."""

    id: str = Field(min_length=1)
    description: str = ""
    label: str
    tags: list[str] = Field(default_factory=list)
    group: str | None = None
    slots: dict[str, list[str]] = Field(default_factory=dict)
    templates: list[str | TemplateDef] = Field(default_factory=list)
    heldout_templates: list[str | TemplateDef] = Field(default_factory=list)
    cases: LiteralCases = Field(default_factory=LiteralCases)
    max_cases: int | None = Field(default=None, ge=1, description="cap per split")

    _slots_as_strings = field_validator("slots", mode="before")(lambda v: _stringify_slots(v))


class SuiteFile(StrictModel):
    """A whole suite file."""

    suite: str = Field(min_length=1)
    description: str = ""
    labels: list[str] = Field(default_factory=list)
    seed: int = 0
    max_cases: int | None = Field(default=None, ge=1, description="default cap per split")
    slots: dict[str, list[str]] = Field(default_factory=dict)
    specs: list[SpecDef] = Field(default_factory=list)

    _slots_as_strings = field_validator("slots", mode="before")(lambda v: _stringify_slots(v))
