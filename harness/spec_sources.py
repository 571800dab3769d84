"""Public spec-source classes that third-party plugins may reuse.

A plugin that ships its own YAML suites registers an instance of :class:`YamlSuiteDirectory`
pointed at its package folder, under a name of its own::

    from importlib.resources import files

    import harness
    from harness.spec_sources import YamlSuiteDirectory


    @harness.hookimpl
    def register_spec_sources(register):
        register(YamlSuiteDirectory(root=files("my_plugin") / "specs", name="my-suites"))

Import these classes from here, never from ``harness_plugins`` (the built-in plugins' internal
package, whose layout may change).
"""

from __future__ import annotations

from harness_plugins.spec_sources.yaml_source import YamlSuiteDirectory

__all__ = ["YamlSuiteDirectory"]
