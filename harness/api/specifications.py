"""Specifications as plugins build them: :class:`SpecCase`, :class:`Spec`, :class:`SpecSuite`,
and the :class:`SpecSource` plugins that load them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field

from harness.api.arguments import StrictModel
from harness.api.items import Item


class SpecCase(StrictModel):
    """One generated (or literal) case of a specification."""

    id: str
    text: str
    spec_id: str
    split: Literal["train", "heldout"]
    template_id: str | None = None
    slots: dict[str, str] = Field(default_factory=dict)


class Spec(StrictModel):
    """A specification s_i: a capability stated in words with one expected label, with D_i
    (``train_cases``, may guide a fix) and D_i_heldout (``heldout_cases``, only measures)."""

    id: str
    description: str
    label: str
    suite: str = ""
    tags: list[str] = Field(default_factory=list)
    group: str | None = None
    train_cases: list[SpecCase] = Field(default_factory=list)
    heldout_cases: list[SpecCase] = Field(default_factory=list)
    source_line: int | None = Field(default=None, exclude=True, description="line in its file")


class SpecSuite(StrictModel):
    """A named list of specs from one source."""

    name: str
    description: str = ""
    labels: list[str] = Field(default_factory=list)
    source: str = ""
    specs: list[Spec] = Field(default_factory=list)


class SpecSource(Item, ABC):
    """A plugin that turns references (paths, names) into spec suites. Register an instance.

    Example::

        from pathlib import Path

        import harness
        from harness.api import Register, Spec, SpecCase, SpecSource, SpecSuite


        class TabbedSource(SpecSource):
            # one case per line: spec id, label, train|heldout, text (tab-separated)

            name = "tabbed"
            description = "tab-separated cases (spec, label, split, text)"
            suffixes = (".cases",)  # --specs my.cases needs no source: name

            def load(self, ref, options, *, seed=0):
                specs = {}
                for n, line in enumerate(Path(ref).read_text().splitlines()):
                    spec_id, label, split, text = line.split("\\t")
                    if spec_id not in specs:
                        specs[spec_id] = Spec(id=spec_id, description=spec_id, label=label)
                    spec = specs[spec_id]
                    case = SpecCase(id=f"{spec_id}-{n}", text=text, spec_id=spec_id, split=split)
                    (spec.train_cases if split == "train" else spec.heldout_cases).append(case)
                return [SpecSuite(name=Path(ref).stem, specs=list(specs.values()), source=ref)]


        @harness.hookimpl
        def register_spec_sources(register: Register[SpecSource]) -> None:
            register(TabbedSource())
    """

    Options: ClassVar[type[BaseModel] | None] = None
    """The pydantic model of this source's ``options`` (``None``: not declared). The core walks
    it for :data:`LocalPath` fields and resolves them like every other path of a config (a
    relative value is looked up next to the config file, then next to the spec file ``ref``)."""
    accepts_names: ClassVar[bool] = False
    """Whether ``ref`` may name something that is not a local path (e.g. a dataset on the
    Hugging Face hub): a relative ``ref`` that does not exist next to the config and is not
    written as a path (``./x``) is then passed on as it is. Otherwise a ``ref`` that is not a
    shipped suite name is a path, resolved against the config file's folder."""
    suffixes: tuple[str, ...] = ()
    """The suffixes of the spec files this source reads when a spec entry names a file and no
    ``source`` (lower case, with the dot: ``(".csv", ".tsv")``). Two sources claiming a suffix
    make such a file ambiguous: the run then asks for ``source:``. An instance may set its own
    (the built-in ``yaml`` source claims ``.yaml``/``.yml``; a plugin's suite folder, a
    :class:`harness.spec_sources.YamlSuiteDirectory` too, claims none)."""
    reads_folders: bool = False
    """Whether a folder named by a spec entry without ``source`` is this source's (the built-in
    ``yaml`` source reads every suite file in it); like :attr:`suffixes`, at most one source
    should claim folders."""

    def suites(self) -> dict[str, str]:
        """Return the named suites this source ships: ``{suite name: description}``."""
        return {}

    @abstractmethod
    def load(self, ref: str, options: dict[str, Any], *, seed: int = 0) -> list[SpecSuite]:
        """Load the suites named or located by ``ref`` with source-specific ``options``."""
