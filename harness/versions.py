"""The versions of the packages that influence a run's numbers: recorded in ``results.json`` and
part of every cache key (a new torch or scikit-learn never serves an old model)."""

from __future__ import annotations

from harness import __version__

PACKAGES = ("torch", "transformers", "numpy", "scikit-learn", "scipy", "pydantic", "jinja2")
"""Packages whose versions a run records besides spec-harness itself."""


def package_versions() -> dict[str, str]:
    """Versions of spec-harness and :data:`PACKAGES` (read from metadata, no imports)."""
    import importlib.metadata

    versions = {"spec-harness": __version__}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
