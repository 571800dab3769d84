"""Glue between spec sources and the spec format: :class:`YamlSuiteDirectory`, the source of
YAML + jinja2 suite files (a shipped suite name, a file, or a folder of them), which the
built-in ``yaml`` source and plugins shipping their own suites register (import it from the
stable path :mod:`harness.spec_sources`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from harness.api import SpecSource, SpecSuite, StrictModel
from harness.errors import UserError
from harness.specs.compiler import compile_suite_file
from harness.validation import validate

SUITE_SUFFIXES = (".yaml", ".yml")
"""The suffixes of YAML suite files."""


class YamlOptions(StrictModel):
    """Options of a YAML suite entry."""

    seed: int | None = Field(default=None, description="sampling seed (default: the file's)")
    max_cases: int | None = Field(default=None, ge=1, description="cap per spec and split")


class YamlSuiteDirectory(SpecSource):
    """Suites from YAML + jinja2 files: the name of a suite shipped in ``root`` (a folder, or an
    ``importlib.resources`` traversable), or a path to a suite file or a folder of them.

    ``suffixes`` and ``reads_folders`` (see :class:`harness.api.SpecSource`) say which files
    and folders named without ``source:`` this instance claims (default: none; the built-in
    ``yaml`` source claims ``.yaml``/``.yml`` files and folders)."""

    description = "YAML + jinja2 suite files (a file, a folder, or a shipped suite name)"
    Options = YamlOptions

    def __init__(
        self,
        root: Any = None,
        name: str = "",
        *,
        suffixes: tuple[str, ...] = (),
        reads_folders: bool = False,
    ) -> None:
        self.root = root
        if name:
            self.name = name  # type: ignore[misc]
        self.suffixes = suffixes
        self.reads_folders = reads_folders

    def _shipped(self) -> dict[str, Path]:
        if self.root is None:
            return {}
        found: dict[str, Path] = {}
        for entry in sorted(self.root.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(SUITE_SUFFIXES):
                found[entry.name.rsplit(".", 1)[0]] = Path(str(entry))
        return found

    def suites(self) -> dict[str, str]:
        """Suites shipped in ``root`` (by file stem), with their descriptions."""
        out: dict[str, str] = {}
        for name, path in self._shipped().items():
            import yaml

            try:
                head = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                out[name] = str(head.get("description", "")).strip().split("\n")[0]
            except Exception:
                out[name] = ""
        return out

    def load(self, ref: str, options: dict[str, Any], *, seed: int = 0) -> list[SpecSuite]:
        """Load the shipped suite ``ref`` or the file/folder at path ``ref``; options ``seed`` and
        ``max_cases`` override the suite files' own."""
        opts = validate(YamlOptions, options, prefix="specs.options.")
        kwargs = {"seed": opts.seed, "max_cases": opts.max_cases}
        shipped = self._shipped()
        if ref in shipped:
            return [compile_suite_file(shipped[ref], **kwargs)]
        path = Path(ref)
        if path.is_dir():
            suite_files = sorted(f for s in SUITE_SUFFIXES for f in path.glob(f"*{s}"))
            if not suite_files:
                raise UserError(
                    "folder holds no .yaml suite files",
                    file=path,
                    fix="point to a folder of suite files",
                )
            return [compile_suite_file(f, **kwargs) for f in suite_files]
        if not path.exists():
            raise UserError("no such spec file", file=path, fix="check the path")
        return [compile_suite_file(path, **kwargs)]
