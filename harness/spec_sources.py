"""Public spec-source classes that plugins reuse (a stable import path).

A plugin that ships its own YAML suites registers an instance of :class:`YamlSuiteDirectory`
pointed at its package folder, under a name of its own::

    from importlib.resources import files

    import harness
    from harness.api import Register, SpecSource
    from harness.spec_sources import YamlSuiteDirectory


    @harness.hookimpl
    def register_spec_sources(register: Register[SpecSource]) -> None:
        register(YamlSuiteDirectory(root=files("my_plugin") / "specs", name="my-suites"))

The class lives in :mod:`harness.specs.sources`.
"""

from __future__ import annotations

from harness.specs.sources import SUITE_SUFFIXES, YamlOptions, YamlSuiteDirectory

__all__ = ["SUITE_SUFFIXES", "YamlOptions", "YamlSuiteDirectory"]
