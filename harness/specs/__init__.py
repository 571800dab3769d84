"""Specifications: the YAML suite format and its compiler, loading suites through spec sources,
and the checks every load makes.

- :mod:`~harness.specs.format`: the pydantic schema of a YAML suite file.
- :mod:`~harness.specs.compiler`: suite files -> :class:`harness.api.SpecSuite` (templates
  rendered in :mod:`~harness.specs.sandbox`, jinja2's sandbox with bounded values).
- :mod:`~harness.specs.sources`: :class:`~harness.specs.sources.YamlSuiteDirectory`, the YAML
  source class (public as :mod:`harness.spec_sources`).
- :mod:`~harness.specs.loading`: a run config's ``specs`` entries -> suites, through the
  registered spec sources (by name, shipped suite, or the suffixes sources declare).
- :mod:`~harness.specs.checks`: quality and leakage checks of loaded suites against a task;
  :mod:`~harness.specs.leakage` finds held-out cases in training data, comparing texts as
  :mod:`~harness.specs.normalise` normalises them.
"""
