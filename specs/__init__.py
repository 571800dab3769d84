"""Spec suites shipped with spec-harness (YAML + jinja2), found via importlib.resources."""
