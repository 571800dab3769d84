"""``yaml``: spec suites written as YAML + jinja2 files; ships the built-in suites of ``specs/``.

The source is the public :class:`harness.spec_sources.YamlSuiteDirectory` pointed at the
``harness_specs`` package, claiming ``.yaml``/``.yml`` files and folders that a run config
names without ``source:``.
"""

from __future__ import annotations

from importlib.resources import files

import harness
from harness.api import Register, SpecSource
from harness.spec_sources import SUITE_SUFFIXES, YamlSuiteDirectory


@harness.hookimpl
def register_spec_sources(register: Register[SpecSource]) -> None:
    """Register the ``yaml`` source with the suites shipped in ``harness_specs``."""
    source = YamlSuiteDirectory(
        root=files("harness_specs"), name="yaml", suffixes=SUITE_SUFFIXES, reads_folders=True
    )
    register(source)
