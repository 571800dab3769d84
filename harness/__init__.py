"""spec-harness: evaluate and fix text classifiers against specifications.

The public plugin marker is :data:`hookimpl`; plugins decorate ``register_*`` functions with it.
"""

from __future__ import annotations

import pluggy

__version__ = "0.1.0"

PROJECT_NAME = "harness"

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marker for plugin hook implementations: ``@harness.hookimpl``."""

__all__ = ["PROJECT_NAME", "__version__", "hookimpl"]
