"""``yaml``: spec suites written as YAML + jinja2 files; ships the built-in suites of ``specs/``."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from pydantic import Field

import harness
from harness.api import Register, SpecSource, SpecSuite, StrictModel
from harness.errors import UserError
from harness.spec_compiler import compile_suite_file
from harness.validation import validate


class YamlOptions(StrictModel):
    """Options of a ``yaml`` spec entry."""

    seed: int | None = Field(default=None, description="sampling seed (default: the file's)")
    max_cases: int | None = Field(default=None, ge=1, description="cap per spec and split")


class YamlSuiteDirectory(SpecSource):
    """Suites from YAML files: a path to a file or folder, or the name of a suite in ``root``."""

    name = "yaml"
    description = "YAML + jinja2 suite files (a file, a folder, or a shipped suite name)"
    Options = YamlOptions

    def __init__(self, root: Any = None, name: str | None = None) -> None:
        self.root = root
        if name:
            self.name = name  # type: ignore[misc]

    def _shipped(self) -> dict[str, Path]:
        if self.root is None:
            return {}
        found: dict[str, Path] = {}
        for entry in sorted(self.root.iterdir(), key=lambda e: e.name):
            if entry.name.endswith((".yaml", ".yml")):
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
            suite_files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
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


@harness.hookimpl
def register_spec_sources(register: Register[SpecSource]) -> None:
    """Register the ``yaml`` source with the suites shipped in ``harness_specs``."""
    register(YamlSuiteDirectory(root=files("harness_specs")))
